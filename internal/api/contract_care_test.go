package api_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/carecircle/carecircle"
	"github.com/carecircle/carecircle/internal/apptest"
)

// DESIGN §3 endpoints for care data, one test per area.

// "POST /care-recipients {familyId,firstName,lastName,dateOfBirth?,bloodType?,
// allergies[],conditions[],timezone,notes?,primaryHospital?,insurance?{provider,
// policyNumber},emergencyContacts[]{name,relationship,phone},doctors[]{name,
// specialty,phone}} · GET|PATCH|DELETE /care-recipients/:id (DELETE: ADMIN,
// soft)".
func TestContract_CareRecipients(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		f := e.NewFamily("Recipients", "UTC")
		body := map[string]any{
			"familyId": f.ID, "firstName": "Margaret", "lastName": "Thompson", "dateOfBirth": "1942-03-15", "bloodType": "A+",
			"allergies": []string{"Penicillin"}, "conditions": []string{"Type 2 diabetes"}, "timezone": "America/New_York",
			"notes": "Hard of hearing", "primaryHospital": "Mercy General",
			"insurance":         map[string]any{"provider": "Medicare", "policyNumber": "1EG4-TE5"},
			"emergencyContacts": []any{map[string]any{"name": "Sarah", "relationship": "daughter", "phone": "+1 555 0100"}},
			"doctors":           []any{map[string]any{"name": "Dr. Lee", "specialty": "Cardiology", "phone": "+1 555 0101"}},
		}
		r := f.Caregiver.Do("POST", "/api/v1/care-recipients", body)
		if r.Status != 201 {
			t.Fatalf("create: %d %s", r.Status, r.Body)
		}
		c := r.Map()
		id := c["id"].(string)
		if !strings.HasPrefix(id, "cr_") || c["familyId"] != f.ID {
			t.Errorf("created = %v", c)
		}
		for k, want := range body {
			if k == "familyId" {
				continue
			}
			if fmt.Sprint(c[k]) != fmt.Sprint(want) {
				t.Errorf("%s = %v, want %v", k, c[k], want)
			}
		}
		wantKeys(t, "care recipient", c, map[string]string{"createdAt": "string", "updatedAt": "string"})

		bad := func(field string, v any) {
			t.Helper()
			b := map[string]any{"familyId": f.ID, "firstName": "A", "lastName": "B", "timezone": "UTC"}
			b[field] = v
			wantError(t, f.Admin.Do("POST", "/api/v1/care-recipients", b), 400, field)
		}
		bad("timezone", "Mars/Olympus")
		bad("timezone", "")
		bad("dateOfBirth", "15/03/1942")
		bad("bloodType", "Z")
		bad("firstName", "")
		bad("allergies", "Penicillin")
		wantError(t, f.Admin.Do("POST", "/api/v1/care-recipients", map[string]any{}), 400, "familyId", "firstName", "lastName", "timezone")
		wantError(t, f.Admin.Do("POST", "/api/v1/care-recipients", map[string]any{"familyId": "fam_00000000000000000000000000",
			"firstName": "A", "lastName": "B", "timezone": "UTC"}), 404)

		list := f.Viewer.Must(200, "GET", "/api/v1/care-recipients?familyId="+f.ID, nil)["items"].([]any)
		if len(list) != 2 {
			t.Errorf("list = %d items, want 2", len(list))
		}
		other := e.Register("Other Family").CreateFamily("Other")
		if l := f.Viewer.Do("GET", "/api/v1/care-recipients?familyId="+other, nil); l.Status != 404 && (l.Status != 200 || len(l.Map()["items"].([]any)) != 0) {
			t.Errorf("list for another family: %d %s", l.Status, l.Body)
		}
		p := f.Caregiver.Must(200, "PATCH", "/api/v1/care-recipients/"+id, map[string]any{"notes": "Uses a walker", "timezone": "Europe/London"})
		if p["notes"] != "Uses a walker" || p["timezone"] != "Europe/London" || p["firstName"] != "Margaret" {
			t.Errorf("patched = %v", p)
		}
		wantError(t, f.Caregiver.Do("PATCH", "/api/v1/care-recipients/"+id, map[string]any{"timezone": "Nowhere/Town"}), 400, "timezone")
		wantError(t, f.Caregiver.Do("DELETE", "/api/v1/care-recipients/"+id, nil), 403)
		r = f.Admin.Do("DELETE", "/api/v1/care-recipients/"+id, nil)
		if r.Status != 204 {
			t.Fatalf("delete: %d %s", r.Status, r.Body)
		}
		wantError(t, f.Admin.Do("GET", "/api/v1/care-recipients/"+id, nil), 404)
		if l := f.Admin.Must(200, "GET", "/api/v1/care-recipients", nil)["items"].([]any); len(l) != 1 {
			t.Errorf("deleted recipient still listed: %v", l)
		}
		// Soft: the history (audit) still names it.
		eventually(t, "the deletion in the audit log", func() bool {
			for _, it := range f.Admin.Must(200, "GET", "/api/v1/families/"+f.ID+"/audit", nil)["items"].([]any) {
				if it.(map[string]any)["action"] == "care_recipient.deleted" && it.(map[string]any)["resourceId"] == id {
					return true
				}
			}
			return false
		})
	})
}

var medicationKeys = map[string]string{"id": "string", "careRecipientId": "string", "name": "string", "dosage": "string",
	"frequency": "string", "times": "array", "instructions": "string|null", "currentSupply": "number|null",
	"refillThreshold": "number|null", "isActive": "bool", "createdAt": "string", "updatedAt": "string"}

var doseLogKeys = map[string]string{"id": "string", "medicationId": "string", "status": "string", "scheduledTime": "string",
	"loggedAt": "string", "loggedBy": "object", "notes": "string|null"}

// "POST /care-recipients/:id/medications {...} → 201 as in the seed's
// example" · frequencies · "GET|PATCH /medications/:id" · "DELETE
// /medications/:id (deactivate; history stays)".
func TestContract_Medications(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		f := e.NewFamily("Meds", "America/New_York")
		base := "/api/v1/care-recipients/" + f.RecipientID + "/medications"
		r := f.Caregiver.Do("POST", base, map[string]any{"name": "Metformin", "dosage": "500mg", "frequency": "THREE_TIMES_DAILY",
			"times": []string{"08:00", "14:00", "20:00"}, "instructions": "Take with food", "currentSupply": 90, "refillThreshold": 15})
		if r.Status != 201 {
			t.Fatalf("create: %d %s", r.Status, r.Body)
		}
		m := r.Map()
		wantKeys(t, "medication", m, medicationKeys)
		if !strings.HasPrefix(m["id"].(string), "med_") || m["careRecipientId"] != f.RecipientID || m["name"] != "Metformin" ||
			m["dosage"] != "500mg" || m["frequency"] != "THREE_TIMES_DAILY" || fmt.Sprint(m["times"]) != "[08:00 14:00 20:00]" ||
			m["instructions"] != "Take with food" || m["currentSupply"] != 90.0 || m["refillThreshold"] != 15.0 || m["isActive"] != true {
			t.Errorf("created = %v", m)
		}
		id := m["id"].(string)
		for _, ok := range []map[string]any{
			{"name": "A", "dosage": "1", "frequency": "ONCE_DAILY", "times": []string{"09:00"}},
			{"name": "B", "dosage": "1", "frequency": "TWICE_DAILY", "times": []string{"09:00", "21:00"}},
			{"name": "C", "dosage": "1", "frequency": "FOUR_TIMES_DAILY", "times": []string{"06:00", "12:00", "18:00", "22:00"}},
			{"name": "D", "dosage": "1", "frequency": "WEEKLY", "times": []string{"09:00"}, "daysOfWeek": []int{1, 4}},
			{"name": "E", "dosage": "1", "frequency": "AS_NEEDED", "minIntervalMinutes": 240, "maxDosesPer24h": 4},
			{"name": "F", "dosage": "1", "frequency": "ONCE_DAILY", "times": []string{"09:00"}, "startDate": "2026-01-01", "endDate": "2026-12-31"},
		} {
			if r := f.Caregiver.Do("POST", base, ok); r.Status != 201 {
				t.Errorf("create %v: %d %s", ok, r.Status, r.Body)
			}
		}
		wantError(t, f.Caregiver.Do("POST", base, map[string]any{}), 400, "name", "dosage", "frequency")
		wantError(t, f.Caregiver.Do("POST", base, map[string]any{"name": "X", "dosage": "1", "frequency": "TWICE_DAILY", "times": []string{"8am", "20:00"}}), 400, "times[0]")
		wantError(t, f.Caregiver.Do("POST", base, map[string]any{"name": "X", "dosage": "1", "frequency": "ONCE_DAILY", "times": []string{"08:00"}, "currentSupply": -1}), 400, "currentSupply")
		wantError(t, f.Caregiver.Do("POST", base, map[string]any{"name": "X", "dosage": "1", "frequency": "ONCE_DAILY", "times": []string{"08:00"}, "startDate": "tomorrow"}), 400, "startDate")

		got := f.Viewer.Must(200, "GET", "/api/v1/medications/"+id, nil)
		wantKeys(t, "GET medication", got, medicationKeys)
		p := f.Caregiver.Must(200, "PATCH", "/api/v1/medications/"+id, map[string]any{"dosage": "850mg", "times": []string{"07:00", "13:00", "19:00"}})
		if p["dosage"] != "850mg" || fmt.Sprint(p["times"]) != "[07:00 13:00 19:00]" {
			t.Errorf("patched = %v", p)
		}
		if list := f.Viewer.Must(200, "GET", base, nil)["items"].([]any); len(list) != 7 {
			t.Errorf("list = %d medications, want 7", len(list))
		}
		// A dose logged, then the medication deactivated: history stays.
		day := time.Now().In(mustZone(t, "America/New_York")).AddDate(0, 0, -1).Format("2006-01-02")
		dose := f.Caregiver.Must(200, "GET", base+"/schedule?date="+day, nil)["items"].([]any)[0].(map[string]any)
		f.Caregiver.Must(201, "POST", "/api/v1/medications/"+dose["medicationId"].(string)+"/log", map[string]any{"status": "GIVEN", "scheduledTime": dose["scheduledTime"]})
		mid := dose["medicationId"].(string)
		r = f.Caregiver.Do("DELETE", "/api/v1/medications/"+mid, nil)
		if r.Status != 204 {
			t.Fatalf("deactivate: %d %s", r.Status, r.Body)
		}
		if g := f.Viewer.Must(200, "GET", "/api/v1/medications/"+mid, nil); g["isActive"] != false {
			t.Errorf("deactivated medication = %v", g)
		}
		if h := f.Viewer.Must(200, "GET", "/api/v1/medications/"+mid+"/history", nil)["items"].([]any); len(h) != 1 {
			t.Errorf("history after deactivation = %v", h)
		}
		for _, it := range f.Viewer.Must(200, "GET", base, nil)["items"].([]any) {
			if it.(map[string]any)["id"] == mid {
				t.Errorf("a deactivated medication is still listed as active")
			}
		}
	})
}

// The schedule: "{date,timezone,items:[{medicationId,name,dosage,localTime,
// scheduledTime,status,log?}]} ordered by time", default today in the
// recipient's zone, RFC 5545 DST rules, every dose once per day, "A PENDING
// dose becomes MISSED 60 minutes after its time".
func TestContract_ScheduleShapeDSTAndMissed(t *testing.T) {
	eachAt(t, "2026-03-08T11:30:00Z", func(t *testing.T, e *apptest.Env, clock *carecircle.ManualClock) { // 07:30 EDT
		f := e.NewFamily("Schedule", "America/New_York")
		base := "/api/v1/care-recipients/" + f.RecipientID + "/medications"
		evening := f.Caregiver.Must(201, "POST", base, map[string]any{"name": "Zeta", "dosage": "1", "frequency": "ONCE_DAILY", "times": []string{"21:00"}})
		night := f.Caregiver.Must(201, "POST", base, map[string]any{"name": "Alpha", "dosage": "2", "frequency": "TWICE_DAILY", "times": []string{"02:30", "07:00"}})
		// Today (2026-03-08, spring forward in New York): 02:30 does not
		// exist and is taken with the offset before the gap (03:30 EDT).
		s := f.Viewer.Must(200, "GET", base+"/schedule", nil)
		wantKeys(t, "schedule", s, map[string]string{"date": "string", "timezone": "string", "items": "array"})
		if s["date"] != "2026-03-08" || s["timezone"] != "America/New_York" {
			t.Fatalf("schedule = %v", s)
		}
		items := s["items"].([]any)
		want := []struct{ id, local, at, status string }{
			{night["id"].(string), "03:30", "2026-03-08T07:30:00Z", "MISSED"},
			{night["id"].(string), "07:00", "2026-03-08T11:00:00Z", "PENDING"},
			{evening["id"].(string), "21:00", "2026-03-09T01:00:00Z", "PENDING"},
		}
		if len(items) != len(want) {
			t.Fatalf("items = %v", items)
		}
		for i, w := range want {
			it := items[i].(map[string]any)
			wantKeys(t, "dose", it, map[string]string{"medicationId": "string", "name": "string", "dosage": "string",
				"localTime": "string", "scheduledTime": "string", "status": "string"})
			if it["medicationId"] != w.id || it["localTime"] != w.local || it["scheduledTime"] != w.at || it["status"] != w.status {
				t.Errorf("item %d = %v, want %+v", i, it, w)
			}
			if _, has := it["log"]; has && it["log"] != nil {
				t.Errorf("item %d has a log before any was made: %v", i, it)
			}
		}
		// 07:00 is still PENDING 59 minutes later and MISSED at 60.
		clock.Set(time.Date(2026, 3, 8, 11, 59, 0, 0, time.UTC))
		f.Viewer.Login() // the access tokens of 11:30 expired
		f.Caregiver.Login()
		if st := f.Viewer.Must(200, "GET", base+"/schedule", nil)["items"].([]any)[1].(map[string]any)["status"]; st != "PENDING" {
			t.Errorf("59 minutes after: %v", st)
		}
		clock.Set(time.Date(2026, 3, 8, 12, 0, 0, 0, time.UTC))
		if st := f.Viewer.Must(200, "GET", base+"/schedule", nil)["items"].([]any)[1].(map[string]any)["status"]; st != "MISSED" {
			t.Errorf("60 minutes after: %v", st)
		}
		// A logged dose carries its log and status.
		lg := f.Caregiver.Must(201, "POST", "/api/v1/medications/"+night["id"].(string)+"/log", map[string]any{"status": "GIVEN", "scheduledTime": "2026-03-08T11:00:00Z"})
		it := f.Viewer.Must(200, "GET", base+"/schedule", nil)["items"].([]any)[1].(map[string]any)
		if it["status"] != "GIVEN" || it["log"].(map[string]any)["id"] != lg["id"] {
			t.Errorf("logged dose = %v", it)
		}
		// Fall back (2026-11-01): 01:30 happens twice and means the
		// first (EDT); each dose appears once.
		fb := f.Viewer.Must(200, "GET", base+"/schedule?date=2026-11-01", nil)["items"].([]any)
		f.Caregiver.Must(200, "PATCH", "/api/v1/medications/"+night["id"].(string), map[string]any{"times": []string{"01:30", "07:00"}})
		fb = f.Viewer.Must(200, "GET", base+"/schedule?date=2026-11-01", nil)["items"].([]any)
		if len(fb) != 3 || fb[0].(map[string]any)["scheduledTime"] != "2026-11-01T05:30:00Z" || fb[0].(map[string]any)["localTime"] != "01:30" {
			t.Errorf("fall-back day = %v", fb)
		}
		wantError(t, f.Viewer.Do("GET", base+"/schedule?date=2026-02-30", nil), 400, "date")
		wantError(t, f.Viewer.Do("GET", base+"/schedule?date=03/08/2026", nil), 400, "date")
	})
}

// "POST /medications/:id/log {status,scheduledTime?,notes?} → 201
// {id,medicationId,status,scheduledTime,loggedAt,loggedBy:{id,fullName},notes}"
// · a second log is 409 with the existing log · scheduledTime must be a
// scheduled dose · AS_NEEDED limits are 409 saying why · GIVEN decrements
// currentSupply, never below 0 · "GET /medications/:id/history".
func TestContract_LogDose(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		f := e.NewFamily("Log", "UTC")
		base := "/api/v1/care-recipients/" + f.RecipientID + "/medications"
		med := f.Caregiver.Must(201, "POST", base, map[string]any{"name": "Lisinopril", "dosage": "10mg", "frequency": "ONCE_DAILY",
			"times": []string{"08:00"}, "currentSupply": 1, "refillThreshold": 0})
		id := med["id"].(string)
		yesterday := time.Now().UTC().AddDate(0, 0, -1).Format("2006-01-02")
		at := yesterday + "T08:00:00Z"
		r := f.Caregiver.Do("POST", "/api/v1/medications/"+id+"/log", map[string]any{"status": "GIVEN", "scheduledTime": at, "notes": "with breakfast"})
		if r.Status != 201 {
			t.Fatalf("log: %d %s", r.Status, r.Body)
		}
		l := r.Map()
		wantKeys(t, "dose log", l, doseLogKeys)
		by := l["loggedBy"].(map[string]any)
		if !strings.HasPrefix(l["id"].(string), "mlog_") || l["medicationId"] != id || l["status"] != "GIVEN" || l["scheduledTime"] != at ||
			l["notes"] != "with breakfast" || by["id"] != f.Caregiver.UserID || by["fullName"] != f.Caregiver.Name {
			t.Errorf("log = %v", l)
		}
		// The second log of the same dose: 409 carrying the existing log.
		r = f.Admin.Do("POST", "/api/v1/medications/"+id+"/log", map[string]any{"status": "SKIPPED", "scheduledTime": at})
		wantError(t, r, 409)
		if ex, _ := r.Map()["existingLog"].(map[string]any); ex == nil || ex["id"] != l["id"] {
			t.Errorf("409 body does not carry the existing log: %s", r.Body)
		}
		wantError(t, f.Caregiver.Do("POST", "/api/v1/medications/"+id+"/log", map[string]any{"status": "GIVEN", "scheduledTime": yesterday + "T09:00:00Z"}), 400, "scheduledTime")
		wantError(t, f.Caregiver.Do("POST", "/api/v1/medications/"+id+"/log", map[string]any{"status": "TAKEN", "scheduledTime": at}), 400, "status")
		wantError(t, f.Caregiver.Do("POST", "/api/v1/medications/"+id+"/log", map[string]any{"scheduledTime": at}), 400, "status")
		wantError(t, f.Caregiver.Do("POST", "/api/v1/medications/"+id+"/log", map[string]any{"status": "GIVEN", "scheduledTime": "08:00"}), 400, "scheduledTime")
		// Supply went 1 → 0 and stays at 0.
		before := time.Now().UTC().AddDate(0, 0, -2).Format("2006-01-02")
		f.Caregiver.Must(201, "POST", "/api/v1/medications/"+id+"/log", map[string]any{"status": "GIVEN", "scheduledTime": before + "T08:00:00Z"})
		if g := f.Viewer.Must(200, "GET", "/api/v1/medications/"+id, nil); g["currentSupply"] != 0.0 {
			t.Errorf("currentSupply = %v, want 0", g["currentSupply"])
		}
		h := f.Viewer.Must(200, "GET", "/api/v1/medications/"+id+"/history", nil)["items"].([]any)
		if len(h) != 2 {
			t.Fatalf("history = %v", h)
		}
		wantKeys(t, "history item", h[0].(map[string]any), doseLogKeys)

		// AS_NEEDED: scheduledTime omitted means now; a dose inside the
		// interval is 409 saying why.
		prn := f.Caregiver.Must(201, "POST", base, map[string]any{"name": "Paracetamol", "dosage": "500mg", "frequency": "AS_NEEDED", "minIntervalMinutes": 240})
		other := f.Caregiver.Must(201, "POST", base, map[string]any{"name": "Ibuprofen", "dosage": "200mg", "frequency": "AS_NEEDED"})
		now := time.Now().UTC()
		g := f.Caregiver.Must(201, "POST", "/api/v1/medications/"+other["id"].(string)+"/log", map[string]any{"status": "GIVEN"})
		if st, _ := time.Parse(time.RFC3339, g["scheduledTime"].(string)); st.Sub(now) > time.Minute || now.Sub(st) > time.Minute {
			t.Errorf("AS_NEEDED scheduledTime = %v, want now", g["scheduledTime"])
		}
		f.Caregiver.Must(201, "POST", "/api/v1/medications/"+prn["id"].(string)+"/log", map[string]any{"status": "GIVEN",
			"scheduledTime": now.Add(-time.Hour).Format(time.RFC3339)})
		r = f.Caregiver.Do("POST", "/api/v1/medications/"+prn["id"].(string)+"/log", map[string]any{"status": "GIVEN"})
		wantError(t, r, 409)
		if msg, _ := r.Map()["message"].(string); !strings.Contains(msg, "next dose") && !strings.Contains(msg, "minutes") {
			t.Errorf("409 does not say why: %s", r.Body)
		}
	})
}

// "GET /care-recipients/:id/appointments?from&to · POST {title,startTime,
// endTime?,location?,doctorName?,notes?,assignedTo?(member userId),
// recurrence?(RRULE),reminders?[minutes]} · GET|PATCH /appointments/:id ·
// DELETE /appointments/:id (cancels) · GET .../calendar.ics?token=".
func TestContract_Appointments(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		f := e.NewFamily("Appointments", "America/Chicago")
		base := "/api/v1/care-recipients/" + f.RecipientID + "/appointments"
		start := time.Now().UTC().Add(72 * time.Hour).Truncate(time.Hour)
		body := map[string]any{"title": "Cardiology follow-up", "startTime": start.Format(time.RFC3339),
			"endTime": start.Add(time.Hour).Format(time.RFC3339), "location": "Mercy General, Suite 300", "doctorName": "Dr. Patel",
			"notes": "Bring the glucose log", "assignedTo": f.Caregiver.UserID, "recurrence": "FREQ=WEEKLY;COUNT=4", "reminders": []int{1440, 60}}
		r := f.Caregiver.Do("POST", base, body)
		if r.Status != 201 {
			t.Fatalf("create: %d %s", r.Status, r.Body)
		}
		a := r.Map()
		id := a["id"].(string)
		if !strings.HasPrefix(id, "apt_") || a["title"] != body["title"] || a["startTime"] != body["startTime"] || a["endTime"] != body["endTime"] ||
			a["location"] != body["location"] || a["doctorName"] != body["doctorName"] || a["notes"] != body["notes"] ||
			a["recurrence"] != body["recurrence"] || fmt.Sprint(a["reminders"]) != "[1440 60]" {
			t.Errorf("created = %v", a)
		}
		switch as := a["assignedTo"].(type) {
		case string:
			if as != f.Caregiver.UserID {
				t.Errorf("assignedTo = %v", as)
			}
		case map[string]any:
			if as["id"] != f.Caregiver.UserID {
				t.Errorf("assignedTo = %v", as)
			}
		default:
			t.Errorf("assignedTo = %#v", a["assignedTo"])
		}
		wantError(t, f.Caregiver.Do("POST", base, map[string]any{}), 400, "title", "startTime")
		wantError(t, f.Caregiver.Do("POST", base, map[string]any{"title": "x", "startTime": "next tuesday"}), 400, "startTime")
		wantError(t, f.Caregiver.Do("POST", base, map[string]any{"title": "x", "startTime": start.Format(time.RFC3339), "endTime": start.Add(-time.Hour).Format(time.RFC3339)}), 400, "endTime")
		wantError(t, f.Caregiver.Do("POST", base, map[string]any{"title": "x", "startTime": start.Format(time.RFC3339), "assignedTo": "usr_00000000000000000000000000"}), 400, "assignedTo")
		wantError(t, f.Caregiver.Do("POST", base, map[string]any{"title": "x", "startTime": start.Format(time.RFC3339), "recurrence": "EVERY TUESDAY"}), 400, "recurrence")
		wantError(t, f.Caregiver.Do("POST", base, map[string]any{"title": "x", "startTime": start.Format(time.RFC3339), "reminders": []int{-5}}), 400, "reminders")

		// ?from&to: the weekly series yields its occurrences in the window,
		// in RFC 3339 or as plain dates.
		from, to := start.Add(-time.Hour), start.Add(15*24*time.Hour)
		l := f.Viewer.Must(200, "GET", base+"?from="+url.QueryEscape(from.Format(time.RFC3339))+"&to="+url.QueryEscape(to.Format(time.RFC3339)), nil)["items"].([]any)
		if len(l) != 3 {
			t.Errorf("occurrences in 15 days = %d, want 3: %v", len(l), l)
		}
		l = f.Viewer.Must(200, "GET", base+"?from="+from.Format("2006-01-02")+"&to="+to.Format("2006-01-02"), nil)["items"].([]any)
		if len(l) != 3 {
			t.Errorf("occurrences with plain dates = %d, want 3", len(l))
		}
		wantError(t, f.Viewer.Do("GET", base+"?from=yesterday", nil), 400, "from")
		wantError(t, f.Viewer.Do("GET", base+"?from="+url.QueryEscape(to.Format(time.RFC3339))+"&to="+url.QueryEscape(from.Format(time.RFC3339)), nil), 400, "to")

		g := f.Viewer.Must(200, "GET", "/api/v1/appointments/"+id, nil)
		if g["id"] != id {
			t.Errorf("GET = %v", g)
		}
		if p := f.Caregiver.Must(200, "PATCH", "/api/v1/appointments/"+id, map[string]any{"location": "Room 12"}); p["location"] != "Room 12" {
			t.Errorf("patched = %v", p)
		}
		// The feed: with the token from calendar-token, or signed in.
		tok := f.Viewer.Must(201, "POST", "/api/v1/care-recipients/"+f.RecipientID+"/calendar-token", nil)["token"].(string)
		for _, feed := range []*apptest.Response{
			e.Anon().Do("GET", "/api/v1/care-recipients/"+f.RecipientID+"/calendar.ics?token="+url.QueryEscape(tok), nil),
			e.Anon().Do("GET", "/api/v1/care-recipients/"+f.RecipientID+"/calendar.ics?token="+url.QueryEscape(f.Viewer.Token), nil),
			f.Viewer.Do("GET", "/api/v1/care-recipients/"+f.RecipientID+"/calendar.ics", nil),
		} {
			if feed.Status != 200 || !strings.HasPrefix(feed.Header.Get("Content-Type"), "text/calendar") ||
				!strings.Contains(feed.String(), "BEGIN:VCALENDAR") || !strings.Contains(feed.String(), "Cardiology follow-up") {
				t.Errorf("feed: %d %s %.200s", feed.Status, feed.Header.Get("Content-Type"), feed.Body)
			}
		}
		wantError(t, e.Anon().Do("GET", "/api/v1/care-recipients/"+f.RecipientID+"/calendar.ics?token=wrong", nil), 404)
		wantError(t, e.Anon().Do("GET", "/api/v1/care-recipients/"+f.RecipientID+"/calendar.ics", nil), 404)

		// DELETE cancels: kept with status CANCELLED, gone from the list.
		if r := f.Caregiver.Do("DELETE", "/api/v1/appointments/"+id, nil); r.Status != 204 {
			t.Fatalf("cancel: %d %s", r.Status, r.Body)
		}
		if g := f.Viewer.Must(200, "GET", "/api/v1/appointments/"+id, nil); g["status"] != "CANCELLED" {
			t.Errorf("cancelled = %v", g)
		}
		if l := f.Viewer.Must(200, "GET", base+"?from="+from.Format("2006-01-02")+"&to="+to.Format("2006-01-02"), nil)["items"].([]any); len(l) != 0 {
			t.Errorf("cancelled appointment still listed: %v", l)
		}
	})
}

// "GET /care-recipients/:id/timeline?type&from&to · POST {type,content,
// occurredAt?,severity?,vitals?{...}} (vitals range-checked) · GET|PATCH|DELETE
// /timeline/:id (author or ADMIN edits/deletes)".
func TestContract_Timeline(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		f := e.NewFamily("Timeline", "UTC")
		other := joinInFamily(e, f, "Second Caregiver", carecircle.RoleCaregiver)
		base := "/api/v1/care-recipients/" + f.RecipientID + "/timeline"
		at := time.Now().UTC().Add(-2 * time.Hour).Truncate(time.Second).Format(time.RFC3339)
		vitals := map[string]any{"systolic": 128, "diastolic": 82, "heartRate": 72, "temperatureC": 36.8, "bloodSugar": 110, "oxygenSaturation": 97, "weightKg": 61.5}
		r := f.Caregiver.Do("POST", base, map[string]any{"type": "VITALS", "content": "Morning vitals", "occurredAt": at, "severity": "LOW", "vitals": vitals})
		if r.Status != 201 {
			t.Fatalf("create: %d %s", r.Status, r.Body)
		}
		en := r.Map()
		id := en["id"].(string)
		if !strings.HasPrefix(id, "tl_") || en["type"] != "VITALS" || en["content"] != "Morning vitals" || en["occurredAt"] != at || en["severity"] != "LOW" {
			t.Errorf("created = %v", en)
		}
		for k, v := range vitals {
			if fmt.Sprint(en["vitals"].(map[string]any)[k]) != fmt.Sprint(v) {
				t.Errorf("vitals.%s = %v, want %v", k, en["vitals"].(map[string]any)[k], v)
			}
		}
		for field, v := range map[string]any{"systolic": 400, "diastolic": 5, "heartRate": 0, "temperatureC": 50, "bloodSugar": -1, "oxygenSaturation": 101, "weightKg": 900} {
			wantError(t, f.Caregiver.Do("POST", base, map[string]any{"type": "VITALS", "content": "x", "vitals": map[string]any{field: v}}), 400, "vitals."+field)
		}
		wantError(t, f.Caregiver.Do("POST", base, map[string]any{"type": "DIARY", "content": "x"}), 400, "type")
		wantError(t, f.Caregiver.Do("POST", base, map[string]any{"type": "NOTE", "content": "x", "severity": "EXTREME"}), 400, "severity")
		wantError(t, f.Caregiver.Do("POST", base, map[string]any{"type": "NOTE", "content": "x", "occurredAt": "noon"}), 400, "occurredAt")
		f.Caregiver.Must(201, "POST", base, map[string]any{"type": "NOTE", "content": "Ate well"})
		f.Caregiver.Must(201, "POST", base, map[string]any{"type": "MOOD", "content": "Cheerful"})

		if l := f.Viewer.Must(200, "GET", base+"?type=VITALS", nil)["items"].([]any); len(l) != 1 {
			t.Errorf("?type=VITALS = %v", l)
		}
		from := time.Now().UTC().Add(-3 * time.Hour).Format(time.RFC3339)
		to := time.Now().UTC().Add(-time.Hour).Format(time.RFC3339)
		if l := f.Viewer.Must(200, "GET", base+"?from="+url.QueryEscape(from)+"&to="+url.QueryEscape(to), nil)["items"].([]any); len(l) != 1 {
			t.Errorf("?from&to = %v", l)
		}
		today := time.Now().UTC().Format("2006-01-02")
		if l := f.Viewer.Must(200, "GET", base+"?from="+today+"&to="+today, nil)["items"].([]any); len(l) < 2 {
			t.Errorf("?from&to as dates = %v", l)
		}
		wantError(t, f.Viewer.Do("GET", base+"?type=DIARY", nil), 400, "type")
		wantError(t, f.Viewer.Do("GET", base+"?from=noon", nil), 400, "from")

		f.Viewer.Must(200, "GET", "/api/v1/timeline/"+id, nil)
		wantError(t, other.Do("PATCH", "/api/v1/timeline/"+id, map[string]any{"content": "not mine"}), 403)
		wantError(t, other.Do("DELETE", "/api/v1/timeline/"+id, nil), 403)
		if p := f.Caregiver.Must(200, "PATCH", "/api/v1/timeline/"+id, map[string]any{"content": "Corrected"}); p["content"] != "Corrected" {
			t.Errorf("patched = %v", p)
		}
		f.Admin.Must(200, "PATCH", "/api/v1/timeline/"+id, map[string]any{"severity": "MEDIUM"})
		if r := f.Admin.Do("DELETE", "/api/v1/timeline/"+id, nil); r.Status != 204 {
			t.Fatalf("delete: %d %s", r.Status, r.Body)
		}
		wantError(t, f.Viewer.Do("GET", "/api/v1/timeline/"+id, nil), 404)
	})
}

// "POST /emergency/alert {careRecipientId,type,description,location?} → 201
// {id,status:"ACTIVE",…} · POST /emergency/alerts/:id/acknowledge · POST
// /emergency/alerts/:id/resolve {notes?} · GET .../emergency-alerts · GET
// .../emergency-info (everything a paramedic or ER needs ...)".
func TestContract_Emergency(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		p := populate(t, e)
		r := p.Caregiver.Do("POST", "/api/v1/emergency/alert", map[string]any{"careRecipientId": p.RecipientID, "type": "MEDICAL",
			"description": "Chest pain", "location": "Living room"})
		if r.Status != 201 {
			t.Fatalf("raise: %d %s", r.Status, r.Body)
		}
		a := r.Map()
		id := a["id"].(string)
		if !strings.HasPrefix(id, "alrt_") || a["status"] != "ACTIVE" || a["type"] != "MEDICAL" || a["description"] != "Chest pain" ||
			a["location"] != "Living room" || a["careRecipientId"] != p.RecipientID {
			t.Errorf("raised = %v", a)
		}
		for _, typ := range []string{"FALL", "MISSING", "HOSPITALIZATION", "OTHER"} {
			p.Admin.Must(201, "POST", "/api/v1/emergency/alert", map[string]any{"careRecipientId": p.RecipientID, "type": typ, "description": typ})
		}
		wantError(t, p.Caregiver.Do("POST", "/api/v1/emergency/alert", map[string]any{}), 400, "careRecipientId", "type", "description")
		wantError(t, p.Caregiver.Do("POST", "/api/v1/emergency/alert", map[string]any{"careRecipientId": p.RecipientID, "type": "FIRE", "description": "x"}), 400, "type")
		wantError(t, p.Caregiver.Do("POST", "/api/v1/emergency/alert", map[string]any{"careRecipientId": "cr_00000000000000000000000000", "type": "FALL", "description": "x"}), 404)

		ack := p.Viewer.Do("POST", "/api/v1/emergency/alerts/"+id+"/acknowledge", nil)
		if ack.Status != 200 && ack.Status != 201 {
			t.Fatalf("acknowledge: %d %s", ack.Status, ack.Body)
		}
		if s := ack.Map()["status"]; s != "ACKNOWLEDGED" {
			t.Errorf("acknowledged status = %v", s)
		}
		res := p.Caregiver.Do("POST", "/api/v1/emergency/alerts/"+id+"/resolve", map[string]any{"notes": "Paramedics came; stable"})
		if res.Status != 200 && res.Status != 201 {
			t.Fatalf("resolve: %d %s", res.Status, res.Body)
		}
		if m := res.Map(); m["status"] != "RESOLVED" {
			t.Errorf("resolved = %v", m)
		}
		// Resolve without a body at all.
		other := p.Admin.Must(201, "POST", "/api/v1/emergency/alert", map[string]any{"careRecipientId": p.RecipientID, "type": "FALL", "description": "again"})
		if r := p.Admin.Do("POST", "/api/v1/emergency/alerts/"+other["id"].(string)+"/resolve", nil); r.Status != 200 && r.Status != 201 {
			t.Errorf("resolve without body: %d %s", r.Status, r.Body)
		}
		wantError(t, p.Admin.Do("POST", "/api/v1/emergency/alerts/alrt_00000000000000000000000000/acknowledge", nil), 404)
		list := p.Viewer.Must(200, "GET", "/api/v1/care-recipients/"+p.RecipientID+"/emergency-alerts", nil)["items"].([]any)
		if len(list) != 7 || list[0].(map[string]any)["id"] != other["id"] {
			t.Errorf("alerts (newest first) = %d items, first %v", len(list), list[0])
		}

		info := p.Viewer.Must(200, "GET", "/api/v1/care-recipients/"+p.RecipientID+"/emergency-info", nil)
		text := string(p.Viewer.Do("GET", "/api/v1/care-recipients/"+p.RecipientID+"/emergency-info", nil).Body)
		for _, want := range []string{"O+", "Penicillin", "Metformin", "500mg", "Ann", "daughter", "+1 555 0100", "Dr. Patel", "Cardiology",
			"Medicare", "1EG4-TE5-MK72", "Mercy General", "1941-05-02", p.Caregiver.Email, "card.pdf"} {
			if !strings.Contains(text, want) {
				t.Errorf("emergency-info lacks %q", want)
			}
		}
		fm, _ := info["familyMembers"].([]any)
		if len(fm) != 3 {
			t.Errorf("familyMembers = %v", info["familyMembers"])
		}
		for _, m := range fm {
			wantKeys(t, "family member", m.(map[string]any), map[string]string{"fullName": "string", "phone": "string|null"})
		}
	})
}

// "GET|POST /care-recipients/:id/shifts {caregiverId,startTime,endTime,notes?}
// (caregiver must be an ADMIN/CAREGIVER member; end after start; overlapping
// shift of the same caregiver 409) · POST /shifts/:id/check-in · POST
// /shifts/:id/check-out {handoffNotes?} (assigned caregiver only) ·
// PATCH|DELETE /shifts/:id".
func TestContract_Shifts(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		f := e.NewFamily("Shifts", "UTC")
		base := "/api/v1/care-recipients/" + f.RecipientID + "/shifts"
		start := time.Now().UTC().Add(-30 * time.Minute).Truncate(time.Minute)
		body := map[string]any{"caregiverId": f.Caregiver.UserID, "startTime": start.Format(time.RFC3339),
			"endTime": start.Add(8 * time.Hour).Format(time.RFC3339), "notes": "Morning shift"}
		r := f.Admin.Do("POST", base, body)
		if r.Status != 201 {
			t.Fatalf("create: %d %s", r.Status, r.Body)
		}
		s := r.Map()
		id := s["id"].(string)
		cg, _ := s["caregiver"].(map[string]any)
		if !strings.HasPrefix(id, "shf_") || s["startTime"] != body["startTime"] || s["endTime"] != body["endTime"] || s["notes"] != "Morning shift" ||
			s["caregiverId"] != f.Caregiver.UserID || cg == nil || cg["id"] != f.Caregiver.UserID {
			t.Errorf("created = %v", s)
		}
		wantError(t, f.Admin.Do("POST", base, map[string]any{}), 400, "caregiverId", "startTime", "endTime")
		wantError(t, f.Admin.Do("POST", base, map[string]any{"caregiverId": f.Viewer.UserID, "startTime": body["startTime"], "endTime": body["endTime"]}), 400, "caregiverId")
		wantError(t, f.Admin.Do("POST", base, map[string]any{"caregiverId": f.Caregiver.UserID, "startTime": body["endTime"], "endTime": body["startTime"]}), 400, "endTime")
		r = f.Admin.Do("POST", base, map[string]any{"caregiverId": f.Caregiver.UserID, "startTime": start.Add(time.Hour).Format(time.RFC3339),
			"endTime": start.Add(10 * time.Hour).Format(time.RFC3339)})
		wantError(t, r, 409)
		// Another caregiver may overlap.
		f.Admin.Must(201, "POST", base, map[string]any{"caregiverId": f.Admin.UserID, "startTime": body["startTime"], "endTime": body["endTime"]})
		if l := f.Viewer.Must(200, "GET", base, nil)["items"].([]any); len(l) != 2 {
			t.Errorf("list = %v", l)
		}
		wantError(t, f.Admin.Do("POST", "/api/v1/shifts/"+id+"/check-in", nil), 403)
		wantError(t, f.Viewer.Do("POST", "/api/v1/shifts/"+id+"/check-in", nil), 403)
		in := f.Caregiver.Must(200, "POST", "/api/v1/shifts/"+id+"/check-in", nil)
		if in["checkedInAt"] == nil {
			t.Errorf("checked in = %v", in)
		}
		wantError(t, f.Caregiver.Do("POST", "/api/v1/shifts/"+id+"/check-in", nil), 409)
		wantError(t, f.Admin.Do("POST", "/api/v1/shifts/"+id+"/check-out", map[string]any{"handoffNotes": "x"}), 403)
		out := f.Caregiver.Must(200, "POST", "/api/v1/shifts/"+id+"/check-out", map[string]any{"handoffNotes": "Slept well; BP normal"})
		if out["checkedOutAt"] == nil || out["handoffNotes"] != "Slept well; BP normal" {
			t.Errorf("checked out = %v", out)
		}
		// PATCH and DELETE.
		later := time.Now().UTC().Add(48 * time.Hour).Truncate(time.Minute)
		s2 := f.Admin.Must(201, "POST", base, map[string]any{"caregiverId": f.Caregiver.UserID, "startTime": later.Format(time.RFC3339), "endTime": later.Add(4 * time.Hour).Format(time.RFC3339)})
		p := f.Admin.Must(200, "PATCH", "/api/v1/shifts/"+s2["id"].(string), map[string]any{"endTime": later.Add(6 * time.Hour).Format(time.RFC3339)})
		if p["endTime"] != later.Add(6*time.Hour).Format(time.RFC3339) {
			t.Errorf("patched = %v", p)
		}
		wantError(t, f.Admin.Do("PATCH", "/api/v1/shifts/"+s2["id"].(string), map[string]any{"endTime": later.Add(-time.Hour).Format(time.RFC3339)}), 400, "endTime")
		if r := f.Admin.Do("DELETE", "/api/v1/shifts/"+s2["id"].(string), nil); r.Status != 204 {
			t.Fatalf("delete: %d %s", r.Status, r.Body)
		}
		wantError(t, f.Viewer.Do("GET", "/api/v1/shifts/"+s2["id"].(string), nil), 404)
	})
}

// "GET|POST /care-recipients/:id/documents (multipart: file, category, name?,
// expiresAt?) → 201 {id,fileName,category,mimeType,sizeBytes,sha256,
// uploadedBy,createdAt} · GET /documents/:id (download: exact bytes, stored
// type, Content-Disposition: attachment) · DELETE /documents/:id. Limit 25 MiB
// (413); type sniffed from content, allow-list ... (415 otherwise)".
func TestContract_Documents(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		f := e.NewFamily("Docs", "UTC")
		content := append([]byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), bytes.Repeat([]byte{7}, 5000)...)
		r := sendUpload(t, f.Caregiver, f.RecipientID, upload{fields: [][2]string{{"category", "MEDICAL"}, {"name", "X-ray"}, {"expiresAt", "2030-06-30"}},
			file: "xray.png", content: bytes.NewReader(content)})
		if r.Status != 201 {
			t.Fatalf("upload: %d %s", r.Status, r.Body)
		}
		d := r.Map()
		wantKeys(t, "document", d, map[string]string{"id": "string", "fileName": "string", "category": "string", "mimeType": "string",
			"sizeBytes": "number", "sha256": "string", "uploadedBy": "any", "createdAt": "string"})
		sum := sha256.Sum256(content)
		if !strings.HasPrefix(d["id"].(string), "doc_") || d["fileName"] != "xray.png" || d["category"] != "MEDICAL" || d["mimeType"] != "image/png" ||
			d["sizeBytes"] != float64(len(content)) || d["sha256"] != hex.EncodeToString(sum[:]) {
			t.Errorf("uploaded = %v", d)
		}
		id := d["id"].(string)
		dl := f.Viewer.Do("GET", "/api/v1/documents/"+id, nil)
		if dl.Status != 200 || !bytes.Equal(dl.Body, content) || dl.Header.Get("Content-Type") != "image/png" ||
			!strings.HasPrefix(dl.Header.Get("Content-Disposition"), "attachment") || !strings.Contains(dl.Header.Get("Content-Disposition"), "xray.png") {
			t.Errorf("download: %d %q %q, %d bytes", dl.Status, dl.Header.Get("Content-Type"), dl.Header.Get("Content-Disposition"), len(dl.Body))
		}
		sendUpload(t, f.Caregiver, f.RecipientID, upload{fields: [][2]string{{"category", "LEGAL"}}, file: "will.txt", content: strings.NewReader("Last will")})
		if l := f.Viewer.Must(200, "GET", "/api/v1/care-recipients/"+f.RecipientID+"/documents?category=LEGAL", nil)["items"].([]any); len(l) != 1 {
			t.Errorf("?category=LEGAL = %v", l)
		}
		wantError(t, f.Viewer.Do("GET", "/api/v1/care-recipients/"+f.RecipientID+"/documents?category=SECRET", nil), 400, "category")

		exe := sendUpload(t, f.Caregiver, f.RecipientID, upload{fields: [][2]string{{"category", "OTHER"}}, file: "setup.pdf",
			content: bytes.NewReader(append([]byte("MZ\x90\x00\x03\x00\x00\x00\x04\x00"), make([]byte, 200)...))})
		wantError(t, exe, 415)
		big := sendUpload(t, f.Caregiver, f.RecipientID, upload{fields: [][2]string{{"category", "OTHER"}}, file: "big.pdf",
			content: io.MultiReader(strings.NewReader("%PDF-1.7\n"), io.LimitReader(zeros{}, 25<<20))})
		wantError(t, big, 413)
		wantError(t, sendUpload(t, f.Caregiver, f.RecipientID, upload{file: "a.txt", content: strings.NewReader("x")}), 400, "category")
		wantError(t, sendUpload(t, f.Caregiver, f.RecipientID, upload{fields: [][2]string{{"category", "OTHER"}}, noFile: true}), 400, "file")
		// Exactly 25 MiB is accepted.
		exact := sendUpload(t, f.Caregiver, f.RecipientID, upload{fields: [][2]string{{"category", "OTHER"}}, file: "exact.pdf",
			content: io.MultiReader(strings.NewReader("%PDF-1.7\n"), io.LimitReader(zeros{}, 25<<20-9))})
		if exact.Status != 201 {
			t.Errorf("25 MiB upload: %d %s", exact.Status, exact.Body)
		}

		if r := f.Caregiver.Do("DELETE", "/api/v1/documents/"+id, nil); r.Status != 204 {
			t.Fatalf("delete: %d %s", r.Status, r.Body)
		}
		wantError(t, f.Viewer.Do("GET", "/api/v1/documents/"+id, nil), 404)
	})
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// "Audit: GET /families/:id/audit (ADMIN)".
func TestContract_Audit(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		p := populate(t, e)
		// The audit log is written by an event consumer: it catches up.
		eventually(t, "every action in the audit log", func() bool {
			actions := map[string]bool{}
			for _, it := range p.Admin.Must(200, "GET", "/api/v1/families/"+p.ID+"/audit?limit=200", nil)["items"].([]any) {
				actions[fmt.Sprint(it.(map[string]any)["action"])] = true
			}
			for _, want := range []string{"medication.created", "medication.logged", "emergency.alert.created",
				"emergency.alert.acknowledged", "shift.created", "shift.checked_in", "document.uploaded"} {
				if !actions[want] {
					return false
				}
			}
			return true
		})
		wantError(t, p.Caregiver.Do("GET", "/api/v1/families/"+p.ID+"/audit", nil), 403)
		wantError(t, p.Viewer.Do("GET", "/api/v1/families/"+p.ID+"/audit", nil), 403)
	})
}
