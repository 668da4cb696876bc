package web_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/carecircle/carecircle/internal/apptest"
)

func TestRecipientForm_CreateEditAndFieldMessages(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	c := e.Register("Maya Form")
	fid := c.CreateFamily("Form family")
	b := signIn(t, c)

	// Problems are reported next to their fields, with what was typed kept.
	p := b.post("/care", url.Values{"familyId": {fid}, "firstName": {""}, "lastName": {"Lopez"}, "timezone": {"Mars/Olympus"},
		"dateOfBirth": {"1950-02-30"}, "emergencyContacts[0].name": {"Luis"}, "emergencyContacts[0].phone": {"call me"},
		"missedDoseMinutes": {"60"}, "allergies": {"Peanuts\n\nShellfish"}})
	if p.Status != http.StatusBadRequest {
		t.Fatalf("invalid recipient: status %d", p.Status)
	}
	for id, msg := range map[string]string{"f-firstName-error": "First name should not be empty",
		"f-timezone-error": "Timezone must be a valid IANA time zone", "f-dateOfBirth-error": "Date of birth must be a date",
		"f-emergencyContacts-0-phone-error": "Phone must be a phone number"} {
		if !strings.Contains(p.Body, `id="`+id+`">`+msg) {
			t.Errorf("no %q at %s", msg, id)
		}
	}
	if !strings.Contains(p.Body, `value="Lopez"`) || !strings.Contains(p.Body, "Peanuts\n\nShellfish</textarea>") {
		t.Errorf("typed values not kept")
	}

	loc := b.mustPost("/care", url.Values{"familyId": {fid}, "firstName": {"Ana"}, "lastName": {"Lopez"}, "timezone": {"America/Mexico_City"},
		"dateOfBirth": {"1948-05-17"}, "emergencyContacts[0].name": {"Luis"}, "emergencyContacts[0].phone": {"+52 55 1234 5678"},
		"emergencyContacts[1].name": {""}, "doctors[0].name": {"Dr. Ruiz"}, "missedDoseMinutes": {"45"}, "allergies": {"Peanuts\n\nShellfish"},
		"insurance.provider": {"IMSS"}, "insurance.policyNumber": {"A-1"}})
	if !strings.HasPrefix(loc, "/care/cr_") {
		t.Fatalf("created: redirected to %s", loc)
	}
	rid := strings.TrimPrefix(loc, "/care/")
	got := c.Must(200, "GET", "/api/v1/care-recipients/"+rid, nil)
	if got["missedDoseMinutes"].(float64) != 45 || len(got["allergies"].([]any)) != 2 || len(got["emergencyContacts"].([]any)) != 1 ||
		got["insurance"].(map[string]any)["provider"] != "IMSS" || got["dateOfBirth"] != "1948-05-17" {
		t.Errorf("stored recipient: %v", got)
	}
	edit := b.mustGet("/care/" + rid + "/edit")
	if !strings.Contains(edit, `55 1234 5678"`) || !strings.Contains(edit, "Peanuts\nShellfish</textarea>") {
		t.Errorf("edit form not prefilled")
	}
	b.mustPost("/care/"+rid+"/edit", url.Values{"firstName": {"Ana"}, "lastName": {"Lopez"}, "preferredName": {"Abuela"},
		"timezone": {"America/Mexico_City"}, "missedDoseMinutes": {"45"}})
	got = c.Must(200, "GET", "/api/v1/care-recipients/"+rid, nil)
	if got["preferredName"] != "Abuela" || got["insurance"] != nil || len(got["emergencyContacts"].([]any)) != 0 {
		t.Errorf("after edit: %v", got)
	}
	// Removal needs the confirmation box.
	if loc := b.mustPost("/care/"+rid+"/delete", nil); loc != "/care/"+rid+"/edit" {
		t.Errorf("unconfirmed removal went to %s", loc)
	}
	b.mustPost("/care/"+rid+"/delete", url.Values{"confirm": {"1"}})
	c.Must(404, "GET", "/api/v1/care-recipients/"+rid, nil)
}

func TestAppointmentForm_WallTimesAreInTheRecipientsZone(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	f := e.NewFamily("Clock", "America/New_York")
	b := signIn(t, f.Caregiver)
	rid := f.RecipientID
	// 02:30 doesn't exist in New York on 2026-03-08: it means 03:30 EDT.
	b.mustPost("/care/"+rid+"/calendar", url.Values{"title": {"Dentist"}, "startTime": {"2026-03-08T02:30"}, "endTime": {"2026-03-08T04:30"},
		"assignedTo": {f.Caregiver.UserID}, "repeat": {"FREQ=WEEKLY"}, "reminders": {"1440", "60"}})
	items := f.Admin.Must(200, "GET", "/api/v1/care-recipients/"+rid+"/appointments?from=2026-03-01T00:00:00Z&to=2026-03-20T00:00:00Z", nil)["items"].([]any)
	if len(items) != 2 {
		t.Fatalf("occurrences: %v", items)
	}
	a := items[0].(map[string]any)
	if a["startTime"] != "2026-03-08T07:30:00Z" || a["recurrence"] != "FREQ=WEEKLY" || a["assignedTo"].(map[string]any)["id"] != f.Caregiver.UserID {
		t.Errorf("stored: %v", a)
	}
	// A custom rule that doesn't parse is told next to its field.
	p := b.post("/care/"+rid+"/calendar", url.Values{"title": {"Bad"}, "startTime": {"2026-04-01T10:00"}, "repeat": {"custom"}, "recurrence": {"FREQ=HOURLY"}})
	if p.Status != http.StatusBadRequest || !strings.Contains(p.Body, `id="f-recurrence-error"`) {
		t.Errorf("bad rule: %d", p.Status)
	}
	// Edit shows the wall time back and keeps it through a save; cancel.
	id := a["id"].(string)
	edit := b.mustGet("/care/" + rid + "/calendar/" + id + "/edit")
	if !strings.Contains(edit, `value="2026-03-08T03:30"`) {
		t.Errorf("edit form start time not in the recipient's zone")
	}
	b.mustPost("/care/"+rid+"/calendar/"+id+"/edit", url.Values{"title": {"Dentist (Dr. Paz)"}, "startTime": {"2026-03-08T03:30"},
		"repeat": {""}, "reminders": {"60"}})
	got := f.Admin.Must(200, "GET", "/api/v1/appointments/"+id, nil)
	if got["title"] != "Dentist (Dr. Paz)" || got["recurrence"] != nil || got["startTime"] != "2026-03-08T07:30:00Z" {
		t.Errorf("after edit: %v", got)
	}
	b.mustPost("/care/"+rid+"/calendar/"+id+"/cancel", nil)
	if got := f.Admin.Must(200, "GET", "/api/v1/appointments/"+id, nil); got["status"] != "CANCELLED" {
		t.Errorf("after cancel: %v", got["status"])
	}
	// A viewer can't add one.
	if p := signIn(t, f.Viewer).post("/care/"+rid+"/calendar", url.Values{"title": {"X"}, "startTime": {"2026-04-01T10:00"}}); p.Status != http.StatusForbidden {
		t.Errorf("viewer adding an appointment: %d", p.Status)
	}
}

func TestShiftForms_ScheduleCheckInAndOutWithHandoff(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	f := e.NewFamily("Shift", "Europe/Berlin")
	rid := f.RecipientID
	admin, carer := signIn(t, f.Admin), signIn(t, f.Caregiver)
	loc, _ := time.LoadLocation("Europe/Berlin")
	start := time.Now().In(loc).Add(-time.Hour).Format("2006-01-02T15:04")
	end := time.Now().In(loc).Add(3 * time.Hour).Format("2006-01-02T15:04")
	p := admin.post("/care/"+rid+"/shifts", url.Values{"caregiverId": {f.Caregiver.UserID}, "startTime": {end}, "endTime": {start}})
	if p.Status != http.StatusBadRequest || !strings.Contains(p.Body, "End time must be after start time") {
		t.Fatalf("end before start: %d", p.Status)
	}
	admin.mustPost("/care/"+rid+"/shifts", url.Values{"caregiverId": {f.Caregiver.UserID}, "startTime": {start}, "endTime": {end}, "notes": {"Bring groceries"}})
	page := carer.mustGet("/care/" + rid + "/shifts")
	if !strings.Contains(page, "Bring groceries") || !strings.Contains(page, ">Check in</button>") {
		t.Fatalf("shifts page has no check-in for the caregiver")
	}
	sid := f.Admin.Must(200, "GET", "/api/v1/care-recipients/"+rid+"/shifts", nil)["items"].([]any)[0].(map[string]any)["id"].(string)
	// Only the assigned caregiver checks in.
	if loc := admin.mustPost("/care/"+rid+"/shifts/"+sid+"/check-in", nil); !strings.Contains(loc, "/shifts?week=") {
		t.Errorf("admin check-in redirected to %s", loc)
	}
	if s := f.Admin.Must(200, "GET", "/api/v1/shifts/"+sid, nil); s["checkedInAt"] != nil {
		t.Errorf("the admin checked the caregiver in")
	}
	carer.mustPost("/care/"+rid+"/shifts/"+sid+"/check-in", nil)
	carer.mustPost("/care/"+rid+"/shifts/"+sid+"/check-out", url.Values{"handoffNotes": {"Slept well; low appetite"}})
	s := f.Admin.Must(200, "GET", "/api/v1/shifts/"+sid, nil)
	if s["status"] != "COMPLETED" || s["handoffNotes"] != "Slept well; low appetite" {
		t.Errorf("after check-out: %v", s)
	}
}

func TestEmergencyForms_RaiseAcknowledgeResolve(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	f := e.NewFamily("Alarm", "UTC")
	rid := f.RecipientID
	carer, viewer := signIn(t, f.Caregiver), signIn(t, f.Viewer)
	// Viewers don't get the form and can't raise.
	if strings.Contains(viewer.mustGet("/care/"+rid+"/emergency"), "Send emergency alert") {
		t.Errorf("a viewer sees the raise form")
	}
	if p := viewer.post("/care/"+rid+"/emergency", url.Values{"type": {"FALL"}}); p.Status != http.StatusForbidden {
		t.Errorf("viewer raising: %d", p.Status)
	}
	// An empty description is filled in from the kind.
	loc := carer.mustPost("/care/"+rid+"/emergency", url.Values{"type": {"FALL"}, "location": {"Garden"}})
	aid := strings.TrimPrefix(loc, "/alerts/")
	a := f.Admin.Must(200, "GET", "/api/v1/emergency/alerts/"+aid, nil)
	if a["description"] != "Fall — raised by Alarm Caregiver" || a["location"] != "Garden" || a["status"] != "ACTIVE" {
		t.Fatalf("raised: %v", a)
	}
	// Every page of the family shows the banner; the viewer acknowledges.
	if !strings.Contains(viewer.mustGet("/family"), `data-alert="`+aid+`"`) {
		t.Errorf("no alert banner")
	}
	viewer.mustPost("/alerts/"+aid+"/acknowledge", nil)
	if !strings.Contains(viewer.mustGet("/alerts/"+aid), "You acknowledged it") {
		t.Errorf("alert page after acknowledging")
	}
	if p := viewer.post("/alerts/"+aid+"/resolve", nil); p.Status != http.StatusSeeOther {
		t.Errorf("viewer resolving: %d", p.Status)
	}
	if a := f.Admin.Must(200, "GET", "/api/v1/emergency/alerts/"+aid, nil); a["status"] != "ACKNOWLEDGED" {
		t.Errorf("a viewer resolved it: %v", a["status"])
	}
	carer.mustPost("/alerts/"+aid+"/resolve", url.Values{"notes": {"Bruised knee, fine"}})
	a = f.Admin.Must(200, "GET", "/api/v1/emergency/alerts/"+aid, nil)
	if a["status"] != "RESOLVED" || a["resolutionNotes"] != "Bruised knee, fine" {
		t.Errorf("resolved: %v", a)
	}
	if strings.Contains(viewer.mustGet("/family"), `data-alert="`+aid+`"`) {
		t.Errorf("resolved alert still in the banner")
	}
}

func TestFamilyForms_InviteRolesRemoveLeave(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	f := e.NewFamily("Clan", "UTC")
	admin := signIn(t, f.Admin)
	p := admin.post("/family/"+f.ID+"/invites", url.Values{"email": {"not an address"}, "role": {"VIEWER"}})
	if p.Status != http.StatusBadRequest || !strings.Contains(p.Body, "Email must be an email") || !strings.Contains(p.Body, `value="not an address"`) {
		t.Fatalf("bad invite: %d", p.Status)
	}
	admin.mustPost("/family/"+f.ID+"/invites", url.Values{"email": {"cousin@example.com"}, "role": {"VIEWER"}})
	if e.InviteToken("cousin@example.com") == "" {
		t.Fatal("no invite email")
	}
	if !strings.Contains(admin.mustGet("/family"), "cousin@example.com") {
		t.Errorf("pending invitation not listed")
	}
	admin.mustPost("/family/"+f.ID+"/members/"+f.Viewer.UserID+"/role", url.Values{"role": {"CAREGIVER"}})
	admin.mustPost("/family/"+f.ID+"/members/"+f.Caregiver.UserID+"/remove", nil)
	ms := f.Admin.Must(200, "GET", "/api/v1/families/"+f.ID+"/members", nil)["items"].([]any)
	roles := map[string]string{}
	for _, m := range ms {
		roles[m.(map[string]any)["userId"].(string)] = m.(map[string]any)["role"].(string)
	}
	if roles[f.Viewer.UserID] != "CAREGIVER" || roles[f.Caregiver.UserID] != "" {
		t.Errorf("members: %v", roles)
	}
	// The last admin can't leave; a member can.
	admin.mustPost("/family/"+f.ID+"/members/"+f.Admin.UserID+"/remove", nil)
	if !strings.Contains(admin.mustGet("/family"), "flash-error") {
		t.Errorf("the last admin left without a message")
	}
	if loc := signIn(t, f.Viewer).mustPost("/family/"+f.ID+"/members/"+f.Viewer.UserID+"/remove", nil); loc != "/dashboard" {
		t.Errorf("leaving went to %s", loc)
	}
	// A caregiver can't invite.
	f2 := e.NewFamily("Second", "UTC")
	if p := signIn(t, f2.Caregiver).post("/family/"+f2.ID+"/invites", url.Values{"email": {"x@example.com"}, "role": {"ADMIN"}}); p.Status != http.StatusForbidden {
		t.Errorf("caregiver inviting: %d", p.Status)
	}
}

func TestSettingsForms_ProfilePasswordSessions(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	c := e.Register("Sam Settings")
	b := signIn(t, c)
	other := signIn(t, c)
	p := b.post("/settings/profile", url.Values{"fullName": {"Sam S."}, "phone": {"+1 (555) 010-2000"}, "timezone": {"Nowhere/City"}})
	if p.Status != http.StatusBadRequest || !strings.Contains(p.Body, "Timezone must be a valid IANA time zone") || !strings.Contains(p.Body, `value="Sam S."`) {
		t.Fatalf("bad profile: %d", p.Status)
	}
	b.mustPost("/settings/profile", url.Values{"fullName": {"Sam S."}, "phone": {"+1 (555) 010-2000"}, "timezone": {"Pacific/Auckland"}})
	if me := c.Must(200, "GET", "/api/v1/auth/me", nil); me["timezone"] != "Pacific/Auckland" || me["fullName"] != "Sam S." {
		t.Errorf("profile: %v", me)
	}
	p = b.post("/settings/password", url.Values{"currentPassword": {"wrong"}, "newPassword": {"a new long passphrase"}})
	if p.Status != http.StatusBadRequest || !strings.Contains(p.Body, "Current password is incorrect") {
		t.Errorf("wrong current password: %d", p.Status)
	}
	b.mustPost("/settings/password", url.Values{"currentPassword": {c.Password}, "newPassword": {"a new long passphrase"}})
	// The other device is signed out; this one stays.
	if p := other.get("/settings"); p.Status != http.StatusSeeOther {
		t.Errorf("other device after password change: %d", p.Status)
	}
	page := b.mustGet("/settings")
	if !strings.Contains(page, "this device") {
		t.Errorf("current session not marked")
	}
	c.Password = "a new long passphrase"
	third := signIn(t, c)
	third.mustGet("/settings")
	// This device signs the others out from its list.
	for _, li := range regexp.MustCompile(`(?s)<li class="row">.*?</li>`).FindAllString(b.mustGet("/settings"), -1) {
		if strings.Contains(li, "this device") {
			continue
		}
		m := regexp.MustCompile(`/settings/sessions/(ses_[a-z0-9]+)/revoke`).FindStringSubmatch(li)
		if m == nil {
			t.Fatalf("session without a sign-out button: %s", li)
		}
		b.mustPost("/settings/sessions/"+m[1]+"/revoke", nil)
	}
	b.mustGet("/settings")
	if p := third.get("/settings"); p.Status != http.StatusSeeOther {
		t.Errorf("revoked device: %d", p.Status)
	}
}
