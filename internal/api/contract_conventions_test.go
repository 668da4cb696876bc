package api_test

import (
	"strings"
	"testing"
	"time"

	"github.com/carecircle/carecircle/internal/apptest"
)

// DESIGN §3 Conventions, checked on every response a populated family's
// members can read:
//   - "JSON, camelCase."
//   - "IDs are opaque strings with a type prefix (usr_, fam_, cr_, med_, mlog_,
//     apt_, doc_, tl_, alrt_, shf_, inv_, ntf_)."
//   - "Times are RFC 3339 UTC; wall-clock dose times are "HH:MM" in the care
//     recipient's IANA timezone."

// populated is a family with one of everything.
type populated struct {
	*apptest.Family
	ids map[string]string
}

// populate creates one resource of every kind in a family whose recipient
// lives in New York, so that a time not converted to UTC would show.
func populate(t *testing.T, e *apptest.Env) populated {
	t.Helper()
	f := e.NewFamily("Conventions", "America/New_York")
	rid := f.RecipientID
	ids := map[string]string{"family": f.ID, "recipient": rid}
	f.Admin.Must(200, "PATCH", "/api/v1/care-recipients/"+rid, map[string]any{
		"dateOfBirth": "1941-05-02", "insurance": map[string]any{"provider": "Medicare", "policyNumber": "1EG4-TE5-MK72"},
		"emergencyContacts": []any{map[string]any{"name": "Ann", "relationship": "daughter", "phone": "+1 555 0100"}},
		"doctors":           []any{map[string]any{"name": "Dr. Patel", "specialty": "Cardiology", "phone": "+1 555 0101"}},
		"primaryHospital":   "Mercy General",
	})
	med := f.Caregiver.Must(201, "POST", "/api/v1/care-recipients/"+rid+"/medications", map[string]any{
		"name": "Metformin", "dosage": "500mg", "frequency": "TWICE_DAILY", "times": []string{"08:00", "20:00"},
		"currentSupply": 30, "refillThreshold": 5})
	ids["medication"] = med["id"].(string)
	sched := f.Caregiver.Must(200, "GET", "/api/v1/care-recipients/"+rid+"/medications/schedule", nil)
	dose := sched["items"].([]any)[0].(map[string]any)
	lg := f.Caregiver.Must(201, "POST", "/api/v1/medications/"+ids["medication"]+"/log",
		map[string]any{"status": "GIVEN", "scheduledTime": dose["scheduledTime"]})
	ids["log"] = lg["id"].(string)
	start := time.Now().Add(48 * time.Hour).UTC().Truncate(time.Hour)
	apt := f.Caregiver.Must(201, "POST", "/api/v1/care-recipients/"+rid+"/appointments", map[string]any{
		"title": "Cardiology", "startTime": start.Format(time.RFC3339), "endTime": start.Add(time.Hour).Format(time.RFC3339),
		"assignedTo": f.Caregiver.UserID, "recurrence": "FREQ=WEEKLY;COUNT=3", "reminders": []int{60}})
	ids["appointment"] = apt["id"].(string)
	tl := f.Caregiver.Must(201, "POST", "/api/v1/care-recipients/"+rid+"/timeline", map[string]any{
		"type": "VITALS", "content": "Morning check", "severity": "LOW", "vitals": map[string]any{"systolic": 120, "diastolic": 80}})
	ids["timeline"] = tl["id"].(string)
	alert := f.Caregiver.Must(201, "POST", "/api/v1/emergency/alert", map[string]any{
		"careRecipientId": rid, "type": "FALL", "description": "Fell in the kitchen"})
	ids["alert"] = alert["id"].(string)
	f.Viewer.Must(200, "POST", "/api/v1/emergency/alerts/"+ids["alert"]+"/acknowledge", nil)
	sh := f.Admin.Must(201, "POST", "/api/v1/care-recipients/"+rid+"/shifts", map[string]any{
		"caregiverId": f.Caregiver.UserID, "startTime": time.Now().Add(-time.Hour).UTC().Format(time.RFC3339),
		"endTime": time.Now().Add(7 * time.Hour).UTC().Format(time.RFC3339)})
	ids["shift"] = sh["id"].(string)
	f.Caregiver.Must(200, "POST", "/api/v1/shifts/"+ids["shift"]+"/check-in", nil)
	up := sendUpload(t, f.Caregiver, rid, upload{fields: [][2]string{{"category", "INSURANCE"}, {"expiresAt", "2030-01-31"}},
		file: "card.pdf", content: strings.NewReader("%PDF-1.7\ninsurance card\n")})
	if up.Status != 201 {
		t.Fatalf("upload: %d %s", up.Status, up.Body)
	}
	ids["document"] = up.Map()["id"].(string)
	inv := f.Admin.Must(201, "POST", "/api/v1/families/"+f.ID+"/invites", map[string]any{"email": "cousin@example.com", "role": "VIEWER"})
	ids["invite"] = inv["id"].(string)
	return populated{Family: f, ids: ids}
}

func TestContract_EveryResponseFollowsTheConventions(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		p := populate(t, e)
		reads := []string{
			"/api/v1/auth/me",
			"/api/v1/auth/sessions",
			"/api/v1/families",
			"/api/v1/families/{family}",
			"/api/v1/families/{family}/members",
			"/api/v1/families/{family}/invites",
			"/api/v1/families/{family}/audit",
			"/api/v1/care-recipients",
			"/api/v1/care-recipients/{recipient}",
			"/api/v1/care-recipients/{recipient}/medications",
			"/api/v1/care-recipients/{recipient}/medications/schedule",
			"/api/v1/medications/{medication}",
			"/api/v1/medications/{medication}/history",
			"/api/v1/care-recipients/{recipient}/appointments",
			"/api/v1/appointments/{appointment}",
			"/api/v1/care-recipients/{recipient}/timeline",
			"/api/v1/timeline/{timeline}",
			"/api/v1/care-recipients/{recipient}/emergency-alerts",
			"/api/v1/emergency/alerts/{alert}",
			"/api/v1/care-recipients/{recipient}/emergency-info",
			"/api/v1/care-recipients/{recipient}/shifts",
			"/api/v1/care-recipients/{recipient}/shifts/current",
			"/api/v1/shifts/{shift}",
			"/api/v1/care-recipients/{recipient}/documents",
			"/api/v1/documents/{document}/info",
		}
		for _, path := range reads {
			path = fill(path, p.ids)
			r := p.Admin.Do("GET", path, nil)
			if r.Status != 200 {
				t.Errorf("GET %s: %d %s", path, r.Status, r.Body)
				continue
			}
			checkConventions(t, "GET "+path, decodeAny(t, r))
		}
		// Writes answer in the same conventions.
		for _, w := range []struct {
			method, path string
			body         any
		}{
			{"PATCH", "/api/v1/medications/{medication}", map[string]any{"instructions": "with food"}},
			{"PATCH", "/api/v1/appointments/{appointment}", map[string]any{"location": "Room 4"}},
			{"PATCH", "/api/v1/timeline/{timeline}", map[string]any{"content": "Evening check"}},
			{"PATCH", "/api/v1/shifts/{shift}", map[string]any{"notes": "bring keys"}},
			{"POST", "/api/v1/emergency/alerts/{alert}/resolve", map[string]any{"notes": "ok"}},
			{"POST", "/api/v1/shifts/{shift}/check-out", map[string]any{"handoffNotes": "slept well"}},
			{"PATCH", "/api/v1/auth/me", map[string]any{"phone": "+1 555 0199"}},
		} {
			path := fill(w.path, p.ids)
			who := p.Admin
			if strings.Contains(path, "/shifts/") && strings.HasSuffix(path, "check-out") {
				who = p.Caregiver
			}
			r := who.Do(w.method, path, w.body)
			if r.Status != 200 {
				t.Errorf("%s %s: %d %s", w.method, path, r.Status, r.Body)
				continue
			}
			checkConventions(t, w.method+" "+path, decodeAny(t, r))
		}
		// Each id carries its kind's prefix.
		for key, prefix := range map[string]string{"family": "fam_", "recipient": "cr_", "medication": "med_", "log": "mlog_",
			"appointment": "apt_", "timeline": "tl_", "alert": "alrt_", "shift": "shf_", "document": "doc_", "invite": "inv_"} {
			if !strings.HasPrefix(p.ids[key], prefix) {
				t.Errorf("%s id %q, want prefix %s", key, p.ids[key], prefix)
			}
		}
		if !strings.HasPrefix(p.Admin.UserID, "usr_") {
			t.Errorf("user id %q, want prefix usr_", p.Admin.UserID)
		}
	})
}

// "wall-clock dose times are "HH:MM" in the care recipient's IANA timezone":
// a recipient in Tokyo takes the 08:00 dose at 23:00 UTC the day before.
func TestContract_DoseTimesAreWallClockInTheRecipientsZone(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		f := e.NewFamily("Tokyo", "Asia/Tokyo")
		med := f.Caregiver.Must(201, "POST", "/api/v1/care-recipients/"+f.RecipientID+"/medications", map[string]any{
			"name": "Donepezil", "dosage": "5mg", "frequency": "ONCE_DAILY", "times": []string{"08:00"}})
		if times := med["times"].([]any); len(times) != 1 || times[0] != "08:00" {
			t.Fatalf("times = %v", med["times"])
		}
		s := f.Viewer.Must(200, "GET", "/api/v1/care-recipients/"+f.RecipientID+"/medications/schedule?date=2026-06-15", nil)
		if s["date"] != "2026-06-15" || s["timezone"] != "Asia/Tokyo" {
			t.Fatalf("schedule = %v", s)
		}
		items := s["items"].([]any)
		if len(items) != 1 {
			t.Fatalf("items = %v", items)
		}
		it := items[0].(map[string]any)
		if it["localTime"] != "08:00" || it["scheduledTime"] != "2026-06-14T23:00:00Z" {
			t.Fatalf("dose = %v, want localTime 08:00 at 2026-06-14T23:00:00Z", it)
		}
	})
}
