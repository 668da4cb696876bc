package api_test

import (
	"strings"
	"testing"
	"time"

	"github.com/carecircle/carecircle"
	"github.com/carecircle/carecircle/internal/apptest"
	"github.com/carecircle/carecircle/internal/mail/mailtest"
)

// DESIGN §3 Families, members and invites.

var memberKeys = map[string]string{"userId": "string", "fullName": "string", "email": "string", "phone": "string|null",
	"role": "string", "addedAt": "string"}

// "POST /families {name} (creator becomes ADMIN) · GET /families · GET
// /families/:id · PATCH /families/:id · GET /families/:id/members → items
// {userId,fullName,email,phone,role,addedAt}".
func TestContract_FamiliesAndMembersShapes(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		c := e.Register("Carla Creator")
		r := c.Do("POST", "/api/v1/families", map[string]any{"name": "The Creators"})
		if r.Status != 201 {
			t.Fatalf("create family: %d %s", r.Status, r.Body)
		}
		fam := r.Map()
		wantKeys(t, "family", fam, map[string]string{"id": "string", "name": "string"})
		if !strings.HasPrefix(fam["id"].(string), "fam_") || fam["name"] != "The Creators" {
			t.Errorf("family = %v", fam)
		}
		id := fam["id"].(string)
		wantError(t, c.Do("POST", "/api/v1/families", map[string]any{"name": ""}), 400, "name")
		me := c.Must(200, "GET", "/api/v1/auth/me", nil)
		if fs := me["families"].([]any); len(fs) != 1 || fs[0].(map[string]any)["role"] != "ADMIN" {
			t.Errorf("the creator is not ADMIN: %v", me["families"])
		}
		list := c.Must(200, "GET", "/api/v1/families", nil)["items"].([]any)
		if len(list) != 1 || list[0].(map[string]any)["id"] != id {
			t.Errorf("families = %v", list)
		}
		got := c.Must(200, "GET", "/api/v1/families/"+id, nil)
		if got["id"] != id || got["name"] != "The Creators" {
			t.Errorf("GET family = %v", got)
		}
		if p := c.Must(200, "PATCH", "/api/v1/families/"+id, map[string]any{"name": "Renamed"}); p["name"] != "Renamed" {
			t.Errorf("PATCH family = %v", p)
		}
		members := c.Must(200, "GET", "/api/v1/families/"+id+"/members", nil)["items"].([]any)
		if len(members) != 1 {
			t.Fatalf("members = %v", members)
		}
		m := members[0].(map[string]any)
		wantKeys(t, "member", m, memberKeys)
		if m["userId"] != c.UserID || m["role"] != "ADMIN" || m["email"] != c.Email || m["fullName"] != "Carla Creator" {
			t.Errorf("member = %v", m)
		}
		wantError(t, c.Do("GET", "/api/v1/families/fam_00000000000000000000000000", nil), 404)
	})
}

// "PATCH /families/:id/members/:uid {role} · DELETE /families/:id/members/:uid
// (a member may remove themself; the last ADMIN can't be removed or demoted:
// 409)".
func TestContract_MemberRolesAndRemoval(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		f := e.NewFamily("Members", "UTC")
		base := "/api/v1/families/" + f.ID + "/members/"
		wantError(t, f.Admin.Do("PATCH", base+f.Admin.UserID, map[string]any{"role": "CAREGIVER"}), 409)
		wantError(t, f.Admin.Do("DELETE", base+f.Admin.UserID, nil), 409)
		wantError(t, f.Admin.Do("PATCH", base+f.Viewer.UserID, map[string]any{"role": "OWNER"}), 400, "role")
		wantError(t, f.Admin.Do("PATCH", base+f.Viewer.UserID, map[string]any{}), 400, "role")
		m := f.Admin.Must(200, "PATCH", base+f.Viewer.UserID, map[string]any{"role": "CAREGIVER"})
		wantKeys(t, "role change", m, memberKeys)
		if m["role"] != "CAREGIVER" {
			t.Errorf("role change = %v", m)
		}
		wantError(t, f.Admin.Do("PATCH", base+"usr_00000000000000000000000000", map[string]any{"role": "VIEWER"}), 404)
		// A member removes themself.
		r := f.Viewer.Do("DELETE", base+f.Viewer.UserID, nil)
		if r.Status != 204 || len(r.Body) != 0 {
			t.Fatalf("leave: %d %s", r.Status, r.Body)
		}
		r = f.Admin.Do("DELETE", base+f.Caregiver.UserID, nil)
		if r.Status != 204 {
			t.Fatalf("remove: %d %s", r.Status, r.Body)
		}
		members := f.Admin.Must(200, "GET", "/api/v1/families/"+f.ID+"/members", nil)["items"].([]any)
		if len(members) != 1 {
			t.Errorf("members after removals = %v", members)
		}
	})
}

// "member removal take[s] effect at once": a removed member's next request
// for any of the family's resources is a 404, as for a stranger.
func TestContract_RemovedMemberGets404OnTheFamilysResources(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		p := populate(t, e)
		paths := []string{
			"/api/v1/families/{family}", "/api/v1/families/{family}/members",
			"/api/v1/care-recipients/{recipient}", "/api/v1/care-recipients/{recipient}/medications",
			"/api/v1/care-recipients/{recipient}/medications/schedule", "/api/v1/medications/{medication}",
			"/api/v1/medications/{medication}/history", "/api/v1/care-recipients/{recipient}/appointments",
			"/api/v1/appointments/{appointment}", "/api/v1/care-recipients/{recipient}/timeline", "/api/v1/timeline/{timeline}",
			"/api/v1/care-recipients/{recipient}/emergency-alerts", "/api/v1/emergency/alerts/{alert}",
			"/api/v1/care-recipients/{recipient}/emergency-info", "/api/v1/care-recipients/{recipient}/shifts",
			"/api/v1/shifts/{shift}", "/api/v1/care-recipients/{recipient}/documents", "/api/v1/documents/{document}",
		}
		for _, path := range paths {
			p.Viewer.Must(200, "GET", fill(path, p.ids), nil)
		}
		p.Admin.Must(204, "DELETE", "/api/v1/families/"+p.ID+"/members/"+p.Viewer.UserID, nil)
		for _, path := range paths {
			wantError(t, p.Viewer.Do("GET", fill(path, p.ids), nil), 404)
		}
		wantError(t, p.Viewer.Do("POST", "/api/v1/emergency/alert", map[string]any{"careRecipientId": p.RecipientID, "type": "FALL", "description": "x"}), 404)
		if me := p.Viewer.Must(200, "GET", "/api/v1/auth/me", nil); len(me["families"].([]any)) != 0 {
			t.Errorf("removed member's families = %v", me["families"])
		}
	})
}

// "POST /families/:id/invites {email,role} → 201 {id,email,role,expiresAt}
// (the token is only in the email, link BASE_URL/accept-invite/<token>; valid
// 7 days) · GET /invites/:token (public: {familyName,role,email,expiresAt}) ·
// POST /invites/:token/accept (signed in, email must match → 200
// {familyId,role}; expired 410; used 409)".
func TestContract_InviteLifecycle(t *testing.T) {
	clock := carecircle.NewManualClock(time.Now().UTC().Truncate(time.Second))
	e := apptest.New(t, apptest.Options{Clock: clock})
	admin := e.Register("Ines Inviter")
	fam := admin.CreateFamily("Inviters")
	r := admin.Do("POST", "/api/v1/families/"+fam+"/invites", map[string]any{"email": "New.Person@Example.com", "role": "CAREGIVER"})
	if r.Status != 201 {
		t.Fatalf("invite: %d %s", r.Status, r.Body)
	}
	inv := r.Map()
	wantKeys(t, "invite", inv, map[string]string{"id": "string", "email": "string", "role": "string", "expiresAt": "string"})
	if !strings.HasPrefix(inv["id"].(string), "inv_") || inv["email"] != "new.person@example.com" || inv["role"] != "CAREGIVER" {
		t.Errorf("invite = %v", inv)
	}
	for k := range inv {
		if strings.Contains(strings.ToLower(k), "token") {
			t.Errorf("invite response carries %q: the token must be only in the email", k)
		}
	}
	exp, _ := time.Parse(time.RFC3339, inv["expiresAt"].(string))
	if d := exp.Sub(clock.Now()); d < 7*24*time.Hour-time.Minute || d > 7*24*time.Hour+time.Minute {
		t.Errorf("expiresAt %v is %v after now, want 7 days", exp, d)
	}
	msg := e.SMTP.WaitFor(t, func(m mailtest.Received) bool { return strings.EqualFold(m.To[0], "new.person@example.com") }, 10*time.Second)
	if !strings.Contains(msg.Text, e.URL+"/accept-invite/") {
		t.Errorf("invite email has no BASE_URL/accept-invite/ link: %s", msg.Text)
	}
	tok := e.InviteToken("new.person@example.com")

	info := e.Anon().Must(200, "GET", "/api/v1/invites/"+tok, nil)
	wantKeys(t, "invite info", info, map[string]string{"familyName": "string", "role": "string", "email": "string", "expiresAt": "string"})
	if info["familyName"] != "Inviters" || info["role"] != "CAREGIVER" || info["email"] != "new.person@example.com" || info["expiresAt"] != inv["expiresAt"] {
		t.Errorf("invite info = %v", info)
	}
	wantError(t, e.Anon().Do("GET", "/api/v1/invites/not-a-token", nil), 404)
	wantError(t, e.Anon().Do("POST", "/api/v1/invites/"+tok+"/accept", nil), 401)
	wantError(t, e.Register("Wrong Person").Do("POST", "/api/v1/invites/"+tok+"/accept", nil), 403)

	joiner := e.RegisterEmail("New Person", "NEW.PERSON@example.com", "UTC")
	acc := joiner.Do("POST", "/api/v1/invites/"+tok+"/accept", nil)
	if acc.Status != 200 {
		t.Fatalf("accept: %d %s", acc.Status, acc.Body)
	}
	if m := acc.Map(); m["familyId"] != fam || m["role"] != "CAREGIVER" {
		t.Errorf("accept = %v", m)
	}
	wantError(t, joiner.Do("POST", "/api/v1/invites/"+tok+"/accept", nil), 409)
	// Inviting someone who is already a member is a conflict too.
	wantError(t, admin.Do("POST", "/api/v1/families/"+fam+"/invites", map[string]any{"email": joiner.Email, "role": "VIEWER"}), 409)
	wantError(t, admin.Do("POST", "/api/v1/families/"+fam+"/invites", map[string]any{"email": "not-an-email", "role": "VIEWER"}), 400, "email")

	// Expired after 7 days: 410 for the public page and for accepting.
	admin.Must(201, "POST", "/api/v1/families/"+fam+"/invites", map[string]any{"email": "late@example.com", "role": "VIEWER"})
	late := e.InviteToken("late@example.com")
	clock.Advance(7*24*time.Hour + time.Minute)
	wantError(t, e.Anon().Do("GET", "/api/v1/invites/"+late, nil), 410)
	wantError(t, e.RegisterEmail("Late", "late@example.com", "UTC").Do("POST", "/api/v1/invites/"+late+"/accept", nil), 410)
}
