package api_test

import (
	"strings"
	"testing"
	"time"

	"github.com/carecircle/carecircle"
	"github.com/carecircle/carecircle/internal/apptest"
	"github.com/carecircle/carecircle/internal/mail/mailtest"
)

// TestFlow_InviteAcceptAndRoles walks the foundation end to end: register,
// create a family, invite by email (caught by the in-process SMTP server),
// accept, and roles enforced.
func TestFlow_InviteAcceptAndRoles(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		sarah := e.RegisterEmail("Sarah Thompson", "sarah@example.com", "America/New_York")
		famID := sarah.CreateFamily("Thompson Family")
		inv := sarah.Must(201, "POST", "/api/v1/families/"+famID+"/invites", map[string]any{"email": "Jennifer@Example.com", "role": "VIEWER"})
		if inv["email"] != "jennifer@example.com" || inv["role"] != "VIEWER" || !strings.HasPrefix(inv["id"].(string), "inv_") || inv["token"] != nil {
			t.Fatalf("invite response %v", inv)
		}
		exp, _ := time.Parse(time.RFC3339, inv["expiresAt"].(string))
		if d := time.Until(exp); d < 6*24*time.Hour || d > 7*24*time.Hour+time.Minute {
			t.Fatalf("invite expires in %v, want 7 days", d)
		}
		msg := e.SMTP.WaitFor(t, func(r mailtest.Received) bool { return r.To[0] == "jennifer@example.com" }, 10*time.Second)
		if !strings.Contains(msg.Text, e.URL+"/accept-invite/") || !strings.Contains(msg.Text, "Thompson Family") {
			t.Fatalf("invite email: %s", msg.Text)
		}
		tok := e.InviteToken("jennifer@example.com")
		info := e.Anon().Must(200, "GET", "/api/v1/invites/"+tok, nil)
		if info["familyName"] != "Thompson Family" || info["role"] != "VIEWER" || info["email"] != "jennifer@example.com" {
			t.Fatalf("invite info %v", info)
		}
		// Someone else can't accept it.
		mallory := e.Register("Mallory Other")
		wantStatus(t, mallory.Do("POST", "/api/v1/invites/"+tok+"/accept", nil), 403)
		wantStatus(t, e.Anon().Do("POST", "/api/v1/invites/"+tok+"/accept", nil), 401)

		jen := e.RegisterEmail("Jennifer Thompson", "JENNIFER@example.com", "America/Los_Angeles")
		acc := jen.Must(200, "POST", "/api/v1/invites/"+tok+"/accept", nil)
		if acc["familyId"] != famID || acc["role"] != "VIEWER" {
			t.Fatalf("accept = %v", acc)
		}
		wantStatus(t, jen.Do("POST", "/api/v1/invites/"+tok+"/accept", nil), 409)
		wantStatus(t, e.Anon().Do("GET", "/api/v1/invites/"+tok, nil), 409)
		me := jen.Must(200, "GET", "/api/v1/auth/me", nil)
		if fams := me["families"].([]any); len(fams) != 1 || fams[0].(map[string]any)["role"] != "VIEWER" || me["emailVerified"] != true {
			t.Fatalf("me = %v", me)
		}
		// Roles: the VIEWER reads but can't write.
		crID := sarah.CreateRecipient(famID, "Margaret", "America/New_York")
		jen.Must(200, "GET", "/api/v1/care-recipients/"+crID, nil)
		wantStatus(t, jen.Do("PATCH", "/api/v1/care-recipients/"+crID, map[string]any{"notes": "x"}), 403)
		wantStatus(t, jen.Do("POST", "/api/v1/care-recipients", map[string]any{"familyId": famID, "firstName": "A", "lastName": "B", "timezone": "UTC"}), 403)
		wantStatus(t, jen.Do("POST", "/api/v1/families/"+famID+"/invites", map[string]any{"email": "x@example.com", "role": "ADMIN"}), 403)
		wantStatus(t, jen.Do("PATCH", "/api/v1/families/"+famID, map[string]any{"name": "Mine"}), 403)
		members := jen.Must(200, "GET", "/api/v1/families/"+famID+"/members", nil)["items"].([]any)
		if len(members) != 2 {
			t.Fatalf("members = %v", members)
		}
		m0 := members[0].(map[string]any)
		for _, k := range []string{"userId", "fullName", "email", "phone", "role", "addedAt"} {
			if _, ok := m0[k]; !ok {
				t.Errorf("member lacks %s: %v", k, m0)
			}
		}
	})
}

func TestInvite_ExpiredIsGone(t *testing.T) {
	clock := carecircle.NewManualClock(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	e := apptest.New(t, apptest.Options{Clock: clock})
	admin := e.Register("Admin Person")
	fam := admin.CreateFamily("Family")
	admin.Must(201, "POST", "/api/v1/families/"+fam+"/invites", map[string]any{"email": "late@example.com", "role": "CAREGIVER"})
	tok := e.InviteToken("late@example.com")
	clock.Advance(7*24*time.Hour + time.Minute)
	late := e.RegisterEmail("Late Person", "late@example.com", "UTC")
	wantStatus(t, late.Do("POST", "/api/v1/invites/"+tok+"/accept", nil), 410)
	wantStatus(t, e.Anon().Do("GET", "/api/v1/invites/"+tok, nil), 410)
	wantStatus(t, e.Anon().Do("GET", "/api/v1/invites/no-such-token", nil), 404)
}

func TestInvite_ValidationAndExistingMember(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	f := e.NewFamily("Val", "UTC")
	r := f.Admin.Do("POST", "/api/v1/families/"+f.ID+"/invites", map[string]any{"email": "nope", "role": "KING"})
	wantStatus(t, r, 400)
	if msgs := strings.Join(messages(r), "|"); !strings.Contains(msgs, "role") {
		t.Errorf("messages %v", msgs)
	}
	wantStatus(t, f.Admin.Do("POST", "/api/v1/families/"+f.ID+"/invites", map[string]any{"email": "nope", "role": "VIEWER"}), 400)
	wantStatus(t, f.Admin.Do("POST", "/api/v1/families/"+f.ID+"/invites", map[string]any{"email": strings.ToUpper(f.Viewer.Email), "role": "VIEWER"}), 409)
}

func TestMembers_LastAdminIsProtected(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		f := e.NewFamily("Guard", "UTC")
		base := "/api/v1/families/" + f.ID + "/members/"
		wantStatus(t, f.Admin.Do("PATCH", base+f.Admin.UserID, map[string]any{"role": "VIEWER"}), 409)
		wantStatus(t, f.Admin.Do("DELETE", base+f.Admin.UserID, nil), 409)
		wantStatus(t, f.Caregiver.Do("PATCH", base+f.Viewer.UserID, map[string]any{"role": "ADMIN"}), 403)
		wantStatus(t, f.Caregiver.Do("DELETE", base+f.Viewer.UserID, nil), 403)
		wantStatus(t, f.Admin.Do("PATCH", base+f.Admin.UserID, map[string]any{"role": "OWNER"}), 400)
		m := f.Admin.Must(200, "PATCH", base+f.Caregiver.UserID, map[string]any{"role": "ADMIN"})
		if m["role"] != "ADMIN" || m["userId"] != f.Caregiver.UserID {
			t.Fatalf("role change = %v", m)
		}
		// With two ADMINs, the first may step down.
		f.Admin.Must(200, "PATCH", base+f.Admin.UserID, map[string]any{"role": "CAREGIVER"})
		wantStatus(t, f.Caregiver.Do("DELETE", base+f.Caregiver.UserID, nil), 409)
		wantStatus(t, f.Caregiver.Do("DELETE", base+"usr_nobody", nil), 404)
	})
}

func TestMembers_RemovedMemberLosesAccessAtOnce(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		f := e.NewFamily("Remove", "UTC")
		f.Caregiver.Must(200, "GET", "/api/v1/care-recipients/"+f.RecipientID, nil)
		wantStatus(t, f.Admin.Do("DELETE", "/api/v1/families/"+f.ID+"/members/"+f.Caregiver.UserID, nil), 204)
		wantStatus(t, f.Caregiver.Do("GET", "/api/v1/care-recipients/"+f.RecipientID, nil), 404)
		wantStatus(t, f.Caregiver.Do("GET", "/api/v1/families/"+f.ID, nil), 404)
		if items := f.Caregiver.Must(200, "GET", "/api/v1/care-recipients", nil)["items"].([]any); len(items) != 0 {
			t.Fatalf("removed member still lists recipients: %v", items)
		}
		// A member may leave on their own.
		wantStatus(t, f.Viewer.Do("DELETE", "/api/v1/families/"+f.ID+"/members/"+f.Viewer.UserID, nil), 204)
		wantStatus(t, f.Viewer.Do("GET", "/api/v1/families/"+f.ID, nil), 404)
	})
}

func TestFamilies_CreateListRename(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	c := e.Register("Multi Family")
	a := c.CreateFamily("First")
	b := c.CreateFamily("Second")
	items := c.Must(200, "GET", "/api/v1/families", nil)["items"].([]any)
	if len(items) != 2 || items[0].(map[string]any)["id"] != a || items[1].(map[string]any)["id"] != b || items[0].(map[string]any)["role"] != "ADMIN" {
		t.Fatalf("families = %v", items)
	}
	if got := c.Must(200, "PATCH", "/api/v1/families/"+a, map[string]any{"name": "  Renamed  "}); got["name"] != "Renamed" {
		t.Fatalf("rename = %v", got)
	}
	r := c.Do("POST", "/api/v1/families", map[string]any{"name": "   "})
	wantStatus(t, r, 400)
	if msgs := messages(r); len(msgs) != 1 || msgs[0] != "name should not be empty" {
		t.Fatalf("messages = %v", msgs)
	}
	wantStatus(t, e.Anon().Do("GET", "/api/v1/families", nil), 401)
}
