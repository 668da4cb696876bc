package api_test

import (
	"testing"

	"github.com/carecircle/carecircle/internal/apptest"
)

// fuzzRoute is one JSON endpoint; {family} and {recipient} are filled with
// the fuzzing family's ids.
type fuzzRoute struct{ method, path string }

// fuzzBodies fuzzes the bodies of a group of endpoints as a signed-in ADMIN:
// whatever the bytes, the answer is never a 5xx and the server stays healthy.
// `go test -fuzz=FuzzAuthBodies ./internal/api/` explores further; plain
// `go test` runs the seeds.
func fuzzBodies(f *testing.F, routes []fuzzRoute, seeds ...string) {
	e := apptest.New(f, apptest.Options{})
	fam := e.NewFamily("Fuzz", "Europe/London")
	ids := map[string]string{"family": fam.ID, "recipient": fam.RecipientID, "member": fam.Viewer.UserID}
	for i := range routes {
		for _, s := range append(seeds, `{}`, `{"a":1}`, `[`, `null`) {
			f.Add(uint8(i), []byte(s))
		}
	}
	f.Fuzz(func(t *testing.T, route uint8, body []byte) {
		r := routes[int(route)%len(routes)]
		admin := fam.Admin.For(t)
		res := admin.Do(r.method, fill(r.path, ids), body)
		if res.Status >= 500 {
			t.Fatalf("%s %s with %q: status %d: %s", r.method, r.path, body, res.Status, res.Body)
		}
		if res.Status == 401 { // a fuzzed body signed the admin out (logout, password change): sign in again
			admin.Login()
			fam.Admin.Token = admin.Token
		}
	})
}

func FuzzAuthBodies(f *testing.F) {
	fuzzBodies(f, []fuzzRoute{
		{"POST", "/api/v1/auth/register"}, {"POST", "/api/v1/auth/login"}, {"POST", "/api/v1/auth/refresh"},
		{"POST", "/api/v1/auth/forgot-password"}, {"POST", "/api/v1/auth/reset-password"},
		{"POST", "/api/v1/auth/verify-email"}, {"PATCH", "/api/v1/auth/me"}, {"POST", "/api/v1/auth/change-password"},
	},
		`{"email":"a@b.co","password":"0123456789abc","fullName":"A B","timezone":"Europe/London"}`,
		`{"email":"A@B.CO","password":"x"}`, `{"refreshToken":"ses_x.y"}`, `{"token":"abc","password":"0123456789abc"}`,
		`{"fullName":"","timezone":"Mars/Base","phone":"++++"}`)
}

func FuzzFamilyBodies(f *testing.F) {
	fuzzBodies(f, []fuzzRoute{
		{"POST", "/api/v1/families"}, {"PATCH", "/api/v1/families/{family}"},
		{"PATCH", "/api/v1/families/{family}/members/{member}"}, {"POST", "/api/v1/families/{family}/invites"},
	},
		`{"name":"Thompson Family"}`, `{"role":"ADMIN"}`, `{"email":"x@example.com","role":"VIEWER"}`, `{"name":"\u202e"}`)
}

func FuzzRecipientBodies(f *testing.F) {
	fuzzBodies(f, []fuzzRoute{
		{"POST", "/api/v1/care-recipients"}, {"PATCH", "/api/v1/care-recipients/{recipient}"},
	},
		`{"familyId":"fam_x","firstName":"A","lastName":"B","timezone":"Asia/Tokyo","dateOfBirth":"1941-02-30"}`,
		`{"insurance":{"provider":"X","policyNumber":"1"},"emergencyContacts":[{"name":"A","phone":"1"}],"missedDoseMinutes":0}`,
		`{"doctors":[{}],"allergies":[""],"bloodType":"AB-"}`)
}
