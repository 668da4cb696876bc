package api_test

import (
	"strings"
	"testing"

	"github.com/carecircle/carecircle/internal/apptest"
)

// An isolation case is one family-scoped endpoint. Placeholders in path
// ({family}, {recipient}, {member}, and any id a setup stores) are filled from
// the victim family. A member of another family must get 404 for every case:
// another family's data is indistinguishable from missing data.
type isoCase struct {
	method, path string
	body         any
	// ownerStatus, when set, is what the victim family's ADMIN gets for the
	// same request, proving the path is right and the 404 means isolation.
	ownerStatus int
}

// isolationSetups create resources in the victim family and record their
// ids; isolationCases list the endpoints. Each feature's test file appends
// its own in init, so new endpoints extend the same table.
var (
	isolationSetups []func(t *testing.T, f *apptest.Family, ids map[string]string)
	isolationCases  []isoCase
)

func init() {
	isolationCases = append(isolationCases,
		isoCase{"GET", "/api/v1/families/{family}", nil, 200},
		isoCase{"PATCH", "/api/v1/families/{family}", map[string]any{"name": "Hijacked"}, 0},
		isoCase{"GET", "/api/v1/families/{family}/members", nil, 200},
		isoCase{"PATCH", "/api/v1/families/{family}/members/{member}", map[string]any{"role": "ADMIN"}, 0},
		isoCase{"DELETE", "/api/v1/families/{family}/members/{member}", nil, 0},
		isoCase{"POST", "/api/v1/families/{family}/invites", map[string]any{"email": "spy@example.com", "role": "ADMIN"}, 0},
		isoCase{"GET", "/api/v1/families/{family}/invites", nil, 200},
		isoCase{"GET", "/api/v1/families/{family}/audit", nil, 200},
		isoCase{"DELETE", "/api/v1/families/{family}/invites/{invite}", nil, 0},
		isoCase{"GET", "/api/v1/care-recipients/{recipient}", nil, 200},
		isoCase{"PATCH", "/api/v1/care-recipients/{recipient}", map[string]any{"notes": "hijacked"}, 0},
		isoCase{"DELETE", "/api/v1/care-recipients/{recipient}", nil, 0},
		isoCase{"POST", "/api/v1/care-recipients", map[string]any{"familyId": "{family}", "firstName": "X", "lastName": "Y", "timezone": "UTC"}, 0},
	)
	isolationSetups = append(isolationSetups, func(t *testing.T, f *apptest.Family, ids map[string]string) {
		ids["invite"] = f.Admin.Must(201, "POST", "/api/v1/families/"+f.ID+"/invites",
			map[string]any{"email": "pending@example.com", "role": "VIEWER"})["id"].(string)
	})
}

func fill(s string, ids map[string]string) string {
	for k, v := range ids {
		s = strings.ReplaceAll(s, "{"+k+"}", v)
	}
	return s
}

func fillBody(b any, ids map[string]string) any {
	m, ok := b.(map[string]any)
	if !ok {
		return b
	}
	out := map[string]any{}
	for k, v := range m {
		if s, ok := v.(string); ok {
			v = fill(s, ids)
		}
		out[k] = v
	}
	return out
}

func TestIsolation_OtherFamilyGets404Everywhere(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		victim := e.NewFamily("Victim", "America/New_York")
		ids := map[string]string{"family": victim.ID, "recipient": victim.RecipientID, "member": victim.Caregiver.UserID}
		for _, setup := range isolationSetups {
			setup(t, victim, ids)
		}
		attacker := e.NewFamily("Attacker", "Europe/London")
		for _, c := range isolationCases {
			path := fill(c.path, ids)
			if strings.Contains(path, "{") {
				t.Fatalf("%s %s: unfilled placeholder", c.method, path)
			}
			for _, who := range []*apptest.Client{attacker.Admin, attacker.Caregiver, attacker.Viewer} {
				r := who.Do(c.method, path, fillBody(c.body, ids))
				if r.Status != 404 {
					t.Errorf("%s %s as another family's member: status %d, want 404: %s", c.method, path, r.Status, r.Body)
				}
			}
		}
		for _, c := range isolationCases {
			if c.ownerStatus == 0 {
				continue
			}
			path := fill(c.path, ids)
			if r := victim.Admin.Do(c.method, path, fillBody(c.body, ids)); r.Status != c.ownerStatus {
				t.Errorf("%s %s as the family's ADMIN: status %d, want %d: %s", c.method, path, r.Status, c.ownerStatus, r.Body)
			}
		}
		// Nothing the attacker sent changed the victim's data.
		fam := victim.Admin.Must(200, "GET", "/api/v1/families/"+victim.ID, nil)
		if fam["name"] != "Victim family" || len(fam["members"].([]any)) != 3 {
			t.Errorf("victim family changed: %v", fam)
		}
	})
}
