package api_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/carecircle/carecircle"
	"github.com/carecircle/carecircle/internal/apptest"
	"github.com/carecircle/carecircle/internal/testdb"
)

func init() {
	isolationSetups = append(isolationSetups, func(t *testing.T, f *apptest.Family, ids map[string]string) {
		med := f.Caregiver.Must(201, "POST", "/api/v1/care-recipients/"+f.RecipientID+"/medications", map[string]any{
			"name": "Metformin", "dosage": "500mg", "frequency": "ONCE_DAILY", "times": []string{"08:00"}, "currentSupply": 30,
		})
		ids["medication"] = med["id"].(string)
		sch := f.Caregiver.Must(200, "GET", "/api/v1/care-recipients/"+f.RecipientID+"/medications/schedule", nil)
		dose := sch["items"].([]any)[0].(map[string]any)["scheduledTime"].(string)
		ids["dose"] = dose
		ids["medlog"] = f.Caregiver.Must(201, "POST", "/api/v1/medications/"+ids["medication"]+"/log",
			map[string]any{"status": "SKIPPED", "scheduledTime": dose})["id"].(string)
	})
	isolationCases = append(isolationCases,
		isoCase{"GET", "/api/v1/care-recipients/{recipient}/medications", nil, 200},
		isoCase{"GET", "/api/v1/care-recipients/{recipient}/medications?includeInactive=true", nil, 200},
		isoCase{"POST", "/api/v1/care-recipients/{recipient}/medications", map[string]any{"name": "Spy", "dosage": "1", "frequency": "AS_NEEDED"}, 0},
		isoCase{"GET", "/api/v1/care-recipients/{recipient}/medications/schedule", nil, 200},
		isoCase{"GET", "/api/v1/care-recipients/{recipient}/medications/schedule?date=2026-03-08", nil, 200},
		isoCase{"GET", "/api/v1/medications/{medication}", nil, 200},
		isoCase{"PATCH", "/api/v1/medications/{medication}", map[string]any{"currentSupply": 0}, 0},
		isoCase{"GET", "/api/v1/medications/{medication}/history", nil, 200},
		isoCase{"POST", "/api/v1/medications/{medication}/log", map[string]any{"status": "GIVEN", "scheduledTime": "{dose}"}, 0},
		isoCase{"PATCH", "/api/v1/medication-logs/{medlog}", map[string]any{"status": "GIVEN"}, 0},
		isoCase{"DELETE", "/api/v1/medications/{medication}", nil, 0},
	)
}

// medEnv starts a process per dialect on a clock the test controls.
func eachAt(t *testing.T, start string, fn func(t *testing.T, e *apptest.Env, clk *carecircle.ManualClock)) {
	t.Helper()
	for _, d := range testdb.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			clk := carecircle.NewManualClock(mustTime(t, start))
			fn(t, apptest.New(t, apptest.Options{Dialect: d, Clock: clk}), clk)
		})
	}
}

func mustTime(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatalf("parse %q: %v", s, err)
	}
	return v
}

func medsPath(recipientID string) string {
	return "/api/v1/care-recipients/" + recipientID + "/medications"
}

func TestMedications_CreateReadUpdateDeactivate(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		f := e.NewFamily("Meds", "America/New_York")
		created := f.Caregiver.Must(201, "POST", medsPath(f.RecipientID), map[string]any{
			"name": "Metformin", "dosage": "500mg", "frequency": "THREE_TIMES_DAILY",
			"times": []string{"20:00", "08:00", "14:00"}, "instructions": "Take with food",
			"currentSupply": 90, "refillThreshold": 15,
		})
		id, _ := created["id"].(string)
		if !strings.HasPrefix(id, "med_") || created["careRecipientId"] != f.RecipientID || created["name"] != "Metformin" ||
			created["dosage"] != "500mg" || created["frequency"] != "THREE_TIMES_DAILY" || created["instructions"] != "Take with food" ||
			created["currentSupply"] != 90.0 || created["refillThreshold"] != 15.0 || created["isActive"] != true ||
			fmt.Sprint(created["times"]) != "[08:00 14:00 20:00]" || created["createdAt"] == nil || created["updatedAt"] == nil {
			t.Fatalf("created = %v", created)
		}
		got := f.Viewer.Must(200, "GET", "/api/v1/medications/"+id, nil)
		if got["name"] != "Metformin" || got["id"] != id {
			t.Fatalf("read = %v", got)
		}
		weekly := f.Admin.Must(201, "POST", medsPath(f.RecipientID), map[string]any{
			"name": "Alendronate", "dosage": "70mg", "frequency": "WEEKLY", "times": []string{"07:00"},
			"daysOfWeek": []any{"Monday", 3, "fri"},
		})
		if fmt.Sprint(weekly["daysOfWeek"]) != "[1 3 5]" {
			t.Fatalf("daysOfWeek = %v", weekly["daysOfWeek"])
		}
		prn := f.Admin.Must(201, "POST", medsPath(f.RecipientID), map[string]any{
			"name": "Acetaminophen", "dosage": "500mg", "frequency": "AS_NEEDED", "minIntervalMinutes": 240, "maxDosesPer24h": 4,
		})
		if prn["minIntervalMinutes"] != 240.0 || prn["maxDosesPer24h"] != 4.0 || len(prn["times"].([]any)) != 0 {
			t.Fatalf("as needed = %v", prn)
		}

		up := f.Caregiver.Must(200, "PATCH", "/api/v1/medications/"+id, map[string]any{
			"dosage": "850mg", "frequency": "TWICE_DAILY", "times": []string{"09:00", "21:00"}, "refillThreshold": nil,
			"startDate": "2026-01-01", "endDate": "2026-12-31",
		})
		if up["dosage"] != "850mg" || fmt.Sprint(up["times"]) != "[09:00 21:00]" || up["refillThreshold"] != nil ||
			up["currentSupply"] != 90.0 || up["startDate"] != "2026-01-01" || up["endDate"] != "2026-12-31" || up["name"] != "Metformin" {
			t.Fatalf("patched = %v", up)
		}
		// Switching to AS_NEEDED drops the times; switching back needs them.
		sw := f.Caregiver.Must(200, "PATCH", "/api/v1/medications/"+weekly["id"].(string), map[string]any{"frequency": "AS_NEEDED"})
		if len(sw["times"].([]any)) != 0 || len(sw["daysOfWeek"].([]any)) != 0 {
			t.Fatalf("switched to AS_NEEDED = %v", sw)
		}
		r := f.Caregiver.Do("PATCH", "/api/v1/medications/"+weekly["id"].(string), map[string]any{"frequency": "ONCE_DAILY"})
		wantStatus(t, r, 400)
		if !strings.Contains(strings.Join(messages(r), "|"), "times") {
			t.Fatalf("messages = %v", messages(r))
		}

		for _, c := range []struct {
			method, path string
			body         any
		}{
			{"POST", medsPath(f.RecipientID), map[string]any{"name": "X", "dosage": "1", "frequency": "AS_NEEDED"}},
			{"PATCH", "/api/v1/medications/" + id, map[string]any{"dosage": "1g"}},
			{"DELETE", "/api/v1/medications/" + id, nil},
		} {
			wantStatus(t, f.Viewer.Do(c.method, c.path, c.body), 403)
		}

		wantStatus(t, f.Caregiver.Do("DELETE", "/api/v1/medications/"+id, nil), 204)
		wantStatus(t, f.Caregiver.Do("DELETE", "/api/v1/medications/"+id, nil), 204) // idempotent
		list := f.Viewer.Must(200, "GET", medsPath(f.RecipientID), nil)["items"].([]any)
		if len(list) != 2 {
			t.Fatalf("active list = %v", list)
		}
		all := f.Viewer.Must(200, "GET", medsPath(f.RecipientID)+"?includeInactive=true", nil)["items"].([]any)
		if len(all) != 3 || all[0].(map[string]any)["isActive"] != false {
			t.Fatalf("full list = %v", all)
		}
		if got := f.Viewer.Must(200, "GET", "/api/v1/medications/"+id, nil); got["isActive"] != false {
			t.Fatalf("deactivated = %v", got)
		}
		re := f.Caregiver.Must(200, "PATCH", "/api/v1/medications/"+id, map[string]any{"isActive": true})
		if re["isActive"] != true {
			t.Fatalf("reactivated = %v", re)
		}

		if n := len(events(t, e, f.ID, carecircle.EventMedicationCreated)); n != 3 {
			t.Errorf("%d medication.created events, want 3", n)
		}
		updated := events(t, e, f.ID, carecircle.EventMedicationUpdated)
		if len(updated) != 3 || updated[0]["medicationId"] != id || updated[0]["careRecipientName"] == "" {
			t.Errorf("medication.updated events = %v", updated)
		}
		if d := events(t, e, f.ID, carecircle.EventMedicationDeactivated); len(d) != 1 || d[0]["medicationName"] != "Metformin" {
			t.Errorf("medication.deactivated events = %v", d)
		}
		// A PATCH that changes nothing records nothing.
		f.Caregiver.Must(200, "PATCH", "/api/v1/medications/"+id, map[string]any{"dosage": "850mg"})
		if n := len(events(t, e, f.ID, carecircle.EventMedicationUpdated)); n != 3 {
			t.Errorf("%d medication.updated events after a no-op PATCH, want 3", n)
		}
	})
}

func TestMedications_HostileInputNamesTheField(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		f := e.NewFamily("Hostile", "Europe/London")
		base := func(kv ...any) map[string]any {
			m := map[string]any{"name": "Metformin", "dosage": "500mg", "frequency": "ONCE_DAILY", "times": []string{"08:00"}}
			for i := 0; i < len(kv); i += 2 {
				if kv[i+1] == nil {
					delete(m, kv[i].(string))
				} else {
					m[kv[i].(string)] = kv[i+1]
				}
			}
			return m
		}
		huge := strings.Repeat("x", 5000)
		createCases := []struct {
			name  string
			body  any
			field string
		}{
			{"missing name", base("name", nil), "name"},
			{"empty name", base("name", "  "), "name"},
			{"name not a string", base("name", 5), "name"},
			{"huge name", base("name", huge), "name"},
			{"missing dosage", base("dosage", nil), "dosage"},
			{"unknown frequency", base("frequency", "HOURLY"), "frequency"},
			{"missing frequency", base("frequency", nil), "frequency"},
			{"hour 25", base("times", []string{"25:00"}), "times[0]"},
			{"minute 60", base("times", []string{"08:60"}), "times[0]"},
			{"not a clock", base("times", []string{"8am"}), "times[0]"},
			{"times not an array", base("times", "08:00"), "times"},
			{"time not a string", base("times", []any{800}), "times[0]"},
			{"duplicate times", base("frequency", "TWICE_DAILY", "times", []string{"08:00", "08:00"}), "times must be unique"},
			{"too few times", base("frequency", "TWICE_DAILY"), "times"},
			{"too many times", base("times", []string{"08:00", "09:00"}), "times"},
			{"thousands of times", base("times", slices.Repeat([]string{"08:00"}, 1000)), "times"},
			{"weekly without days", base("frequency", "WEEKLY"), "daysOfWeek"},
			{"day 7", base("frequency", "WEEKLY", "daysOfWeek", []any{7}), "daysOfWeek[0]"},
			{"day -1", base("frequency", "WEEKLY", "daysOfWeek", []any{-1}), "daysOfWeek[0]"},
			{"day 1.5", base("frequency", "WEEKLY", "daysOfWeek", []any{1.5}), "daysOfWeek[0]"},
			{"day Funday", base("frequency", "WEEKLY", "daysOfWeek", []any{"MON", "Funday"}), "daysOfWeek[1]"},
			{"day object", base("frequency", "WEEKLY", "daysOfWeek", []any{map[string]any{}}), "daysOfWeek[0]"},
			{"duplicate days", base("frequency", "WEEKLY", "daysOfWeek", []any{1, "MON"}), "daysOfWeek must be unique"},
			{"days on a daily", base("daysOfWeek", []any{1}), "daysOfWeek"},
			{"as needed with times", base("frequency", "AS_NEEDED"), "times"},
			{"negative supply", base("currentSupply", -1), "currentSupply"},
			{"supply as text", base("currentSupply", "ten"), "currentSupply"},
			{"fractional supply", base("currentSupply", 1.5), "currentSupply"},
			{"astronomical supply", base("currentSupply", 1e20), "currentSupply"},
			{"negative threshold", base("refillThreshold", -5), "refillThreshold"},
			{"impossible start", base("startDate", "2026-02-30"), "startDate"},
			{"start not a date", base("startDate", "tomorrow"), "startDate"},
			{"start a number", base("startDate", 20260101), "startDate"},
			{"end before start", base("startDate", "2026-05-01", "endDate", "2026-04-30"), "endDate"},
			{"interval on a daily", base("minIntervalMinutes", 60), "minIntervalMinutes"},
			{"zero interval", base("frequency", "AS_NEEDED", "times", nil, "minIntervalMinutes", 0), "minIntervalMinutes"},
			{"max doses 1000", base("frequency", "AS_NEEDED", "times", nil, "maxDosesPer24h", 1000), "maxDosesPer24h"},
			{"huge instructions", base("instructions", huge), "instructions"},
			{"body is an array", []any{1, 2}, "body"},
		}
		for _, c := range createCases {
			r := f.Caregiver.Do("POST", medsPath(f.RecipientID), c.body)
			if r.Status != 400 {
				t.Errorf("%s: status %d, want 400: %s", c.name, r.Status, r.Body)
				continue
			}
			wantStatus(t, r, 400)
			if msgs := strings.Join(messages(r), " | "); !strings.Contains(msgs, c.field) {
				t.Errorf("%s: no message names %q: %s", c.name, c.field, msgs)
			}
		}
		for _, raw := range []string{`{"name":`, `not json`, `{"name":"a","dosage":"b","frequency":"ONCE_DAILY","times":["08:00"],}`} {
			if r := f.Caregiver.Do("POST", medsPath(f.RecipientID), raw); r.Status != 400 {
				t.Errorf("body %q: status %d, want 400: %s", raw, r.Status, r.Body)
			}
		}
		if r := f.Caregiver.Do("POST", medsPath(f.RecipientID), `{"name":"`+strings.Repeat("x", 2<<20)+`"}`); r.Status != 413 {
			t.Errorf("2 MiB body: status %d, want 413", r.Status)
		}

		med := f.Caregiver.Must(201, "POST", medsPath(f.RecipientID), base())
		id := med["id"].(string)
		dose := f.Caregiver.Must(200, "GET", medsPath(f.RecipientID)+"/schedule", nil)["items"].([]any)[0].(map[string]any)["scheduledTime"].(string)
		logPath := "/api/v1/medications/" + id + "/log"
		otherCases := []struct {
			name         string
			method, path string
			body         any
			field        string
		}{
			{"patch 25:00", "PATCH", "/api/v1/medications/" + id, map[string]any{"times": []string{"25:00"}}, "times[0]"},
			{"patch negative supply", "PATCH", "/api/v1/medications/" + id, map[string]any{"currentSupply": -3}, "currentSupply"},
			{"patch bad end", "PATCH", "/api/v1/medications/" + id, map[string]any{"endDate": "2026-13-01"}, "endDate"},
			{"patch isActive text", "PATCH", "/api/v1/medications/" + id, map[string]any{"isActive": "no"}, "isActive"},
			{"log bad status", "POST", logPath, map[string]any{"status": "TAKEN", "scheduledTime": dose}, "status"},
			{"log no status", "POST", logPath, map[string]any{"scheduledTime": dose}, "status"},
			{"log bad time", "POST", logPath, map[string]any{"status": "GIVEN", "scheduledTime": "yesterday at 8"}, "scheduledTime"},
			{"log time as number", "POST", logPath, map[string]any{"status": "GIVEN", "scheduledTime": 1700000000}, "scheduledTime"},
			{"log year 0001", "POST", logPath, map[string]any{"status": "GIVEN", "scheduledTime": "0001-01-01T00:00:00Z"}, "scheduledTime"},
			{"log not a dose", "POST", logPath, map[string]any{"status": "SKIPPED", "scheduledTime": "2026-03-08T08:01:00Z"}, "scheduledTime"},
			{"log without time", "POST", logPath, map[string]any{"status": "SKIPPED"}, "scheduledTime"},
			{"log huge notes", "POST", logPath, map[string]any{"status": "SKIPPED", "scheduledTime": dose, "notes": huge}, "notes"},
			{"schedule bad date", "GET", medsPath(f.RecipientID) + "/schedule?date=2026-13-01", nil, "date"},
			{"schedule date words", "GET", medsPath(f.RecipientID) + "/schedule?date=today", nil, "date"},
			{"list includeInactive", "GET", medsPath(f.RecipientID) + "?includeInactive=maybe", nil, "includeInactive"},
			{"history limit", "GET", "/api/v1/medications/" + id + "/history?limit=500", nil, "limit"},
			{"history negative limit", "GET", "/api/v1/medications/" + id + "/history?limit=-1", nil, "limit"},
			{"history cursor", "GET", "/api/v1/medications/" + id + "/history?cursor=%25%25garbage", nil, "cursor"},
			{"history cursor b64", "GET", "/api/v1/medications/" + id + "/history?cursor=bm9waXBl", nil, "cursor"},
		}
		for _, c := range otherCases {
			r := f.Caregiver.Do(c.method, c.path, c.body)
			if r.Status != 400 {
				t.Errorf("%s: status %d, want 400: %s", c.name, r.Status, r.Body)
				continue
			}
			wantStatus(t, r, 400)
			if msgs := strings.Join(messages(r), " | "); !strings.Contains(msgs, c.field) {
				t.Errorf("%s: no message names %q: %s", c.name, c.field, msgs)
			}
		}
		for _, p := range []string{"/api/v1/medications/med_nope", "/api/v1/medications/" + strings.Repeat("m", 60),
			"/api/v1/medications/%00", "/api/v1/medications/med_0000000000000000000000000/history"} {
			if r := f.Caregiver.Do("GET", p, nil); r.Status != 404 && r.Status != 400 {
				t.Errorf("GET %s: status %d, want 404 or 400", p, r.Status)
			}
		}
		if r := f.Caregiver.Do("PATCH", "/api/v1/medication-logs/mlog_x", map[string]any{"status": "GIVEN"}); r.Status != 404 {
			t.Errorf("correct unknown log: status %d, want 404", r.Status)
		}
		// Far-away days are computed, not refused.
		for _, d := range []string{"0001-01-01", "9999-12-31", "2026-02-28"} {
			f.Caregiver.Must(200, "GET", medsPath(f.RecipientID)+"/schedule?date="+d, nil)
		}
		// Nothing hostile changed the medication.
		if got := f.Caregiver.Must(200, "GET", "/api/v1/medications/"+id, nil); fmt.Sprint(got["times"]) != "[08:00]" || got["currentSupply"] != nil {
			t.Fatalf("medication changed by refused requests: %v", got)
		}
	})
}

// scheduleCase is one day of one zone: a medication taken at times, only on
// that day, and the doses the schedule must list, literally.
type scheduleCase struct {
	zone, date string
	times      []string
	want       []string // "scheduledTime localTime"
}

// The DST transitions (see schedule_test.go in the root package for the
// full table):
//
//	America/New_York  2026-03-08 02:00 EST -> 03:00 EDT (07:00Z); 2026-11-01 02:00 EDT -> 01:00 EST (06:00Z)
//	                  2027-03-14 (07:00Z);                        2027-11-07 (06:00Z)
//	Europe/London     2026-03-29 01:00 GMT -> 02:00 BST (01:00Z); 2026-10-25 02:00 BST -> 01:00 GMT (01:00Z)
//	                  2027-03-28 (01:00Z);                        2027-10-31 (01:00Z)
//	Australia/Lord_Howe 2026-04-05 02:00 +11 -> 01:30 +1030 (04-04 15:00Z); 2026-10-04 02:00 +1030 -> 02:30 +11 (10-03 15:30Z)
//	                  2027-04-04 (04-03 15:00Z);                  2027-10-03 (10-02 15:30Z)
//	Asia/Tokyo        +09:00 all year
var scheduleCases = []scheduleCase{
	// New York, spring forward: 02:30 does not exist and is 03:30 EDT; 02:00,
	// the instant of the transition, is 03:00 EDT.
	{"America/New_York", "2026-03-08", []string{"01:30", "02:30", "08:00"},
		[]string{"2026-03-08T06:30:00Z 01:30", "2026-03-08T07:30:00Z 03:30", "2026-03-08T12:00:00Z 08:00"}},
	{"America/New_York", "2026-03-08", []string{"02:00"}, []string{"2026-03-08T07:00:00Z 03:00"}},
	// 02:30 and 03:30 are the same instant that day: one dose.
	{"America/New_York", "2026-03-08", []string{"02:30", "03:30"}, []string{"2026-03-08T07:30:00Z 03:30"}},
	{"America/New_York", "2026-03-07", []string{"02:30", "08:00"}, []string{"2026-03-07T07:30:00Z 02:30", "2026-03-07T13:00:00Z 08:00"}},
	// Fall back: 01:30 happens twice and means the first (EDT).
	{"America/New_York", "2026-11-01", []string{"01:30", "08:00"}, []string{"2026-11-01T05:30:00Z 01:30", "2026-11-01T13:00:00Z 08:00"}},
	{"America/New_York", "2026-11-01", []string{"01:00", "02:00"}, []string{"2026-11-01T05:00:00Z 01:00", "2026-11-01T07:00:00Z 02:00"}},
	{"America/New_York", "2027-03-14", []string{"02:30", "08:00"}, []string{"2027-03-14T07:30:00Z 03:30", "2027-03-14T12:00:00Z 08:00"}},
	{"America/New_York", "2027-11-07", []string{"01:30", "08:00"}, []string{"2027-11-07T05:30:00Z 01:30", "2027-11-07T13:00:00Z 08:00"}},
	// London: 01:30 falls in the March gap (01:30 GMT, shown 02:30 BST) and
	// in the October overlap (first: 01:30 BST).
	{"Europe/London", "2026-03-29", []string{"01:30", "09:00"}, []string{"2026-03-29T01:30:00Z 02:30", "2026-03-29T08:00:00Z 09:00"}},
	{"Europe/London", "2026-03-29", []string{"01:00"}, []string{"2026-03-29T01:00:00Z 02:00"}},
	{"Europe/London", "2026-10-25", []string{"01:30", "09:00"}, []string{"2026-10-25T00:30:00Z 01:30", "2026-10-25T09:00:00Z 09:00"}},
	{"Europe/London", "2026-10-25", []string{"01:00", "02:00"}, []string{"2026-10-25T00:00:00Z 01:00", "2026-10-25T02:00:00Z 02:00"}},
	{"Europe/London", "2027-03-28", []string{"01:30", "09:00"}, []string{"2027-03-28T01:30:00Z 02:30", "2027-03-28T08:00:00Z 09:00"}},
	{"Europe/London", "2027-10-31", []string{"01:30", "09:00"}, []string{"2027-10-31T00:30:00Z 01:30", "2027-10-31T09:00:00Z 09:00"}},
	// Tokyo has no DST; its morning is the previous UTC day.
	{"Asia/Tokyo", "2026-03-08", []string{"00:30", "08:00"}, []string{"2026-03-07T15:30:00Z 00:30", "2026-03-07T23:00:00Z 08:00"}},
	{"Asia/Tokyo", "2026-11-01", []string{"01:30", "20:00"}, []string{"2026-10-31T16:30:00Z 01:30", "2026-11-01T11:00:00Z 20:00"}},
	{"Asia/Tokyo", "2027-03-14", []string{"02:30"}, []string{"2027-03-13T17:30:00Z 02:30"}},
	{"Asia/Tokyo", "2027-11-07", []string{"01:30"}, []string{"2027-11-06T16:30:00Z 01:30"}},
	// Lord Howe moves by 30 minutes: in April 01:30-02:00 happens twice
	// (first: +11), in October 02:00-02:30 does not exist (+10:30 before).
	{"Australia/Lord_Howe", "2026-04-05", []string{"01:45", "08:00"}, []string{"2026-04-04T14:45:00Z 01:45", "2026-04-04T21:30:00Z 08:00"}},
	{"Australia/Lord_Howe", "2026-04-05", []string{"01:30"}, []string{"2026-04-04T14:30:00Z 01:30"}},
	{"Australia/Lord_Howe", "2026-10-04", []string{"02:15", "08:00"}, []string{"2026-10-03T15:45:00Z 02:45", "2026-10-03T21:00:00Z 08:00"}},
	{"Australia/Lord_Howe", "2026-10-04", []string{"02:00"}, []string{"2026-10-03T15:30:00Z 02:30"}},
	{"Australia/Lord_Howe", "2027-04-04", []string{"01:45", "08:00"}, []string{"2027-04-03T14:45:00Z 01:45", "2027-04-03T21:30:00Z 08:00"}},
	{"Australia/Lord_Howe", "2027-10-03", []string{"02:15", "08:00"}, []string{"2027-10-02T15:45:00Z 02:45", "2027-10-02T21:00:00Z 08:00"}},
}

var frequencyFor = map[int]string{1: "ONCE_DAILY", 2: "TWICE_DAILY", 3: "THREE_TIMES_DAILY", 4: "FOUR_TIMES_DAILY"}

func TestSchedule_DSTDaysInFourZones(t *testing.T) {
	eachAt(t, "2026-01-01T00:00:00Z", func(t *testing.T, e *apptest.Env, clk *carecircle.ManualClock) {
		c := e.Register("Zone Keeper")
		fam := c.CreateFamily("Zones")
		recipients := map[string]string{}
		for _, sc := range scheduleCases {
			cr, ok := recipients[sc.zone]
			if !ok {
				cr = c.CreateRecipient(fam, "Zone", sc.zone)
				recipients[sc.zone] = cr
			}
			// Each medication is taken on its case's day only, so days don't
			// see each other's medications.
			c.Must(201, "POST", medsPath(cr), map[string]any{"name": sc.zone + " " + sc.date + " " + strings.Join(sc.times, ","),
				"dosage": "1 tablet", "frequency": frequencyFor[len(sc.times)], "times": sc.times, "startDate": sc.date, "endDate": sc.date})
		}
		// The day's schedule is every case of that zone and day, in order.
		type day struct{ zone, date string }
		want := map[day][]string{}
		for _, sc := range scheduleCases {
			k := day{sc.zone, sc.date}
			want[k] = append(want[k], sc.want...)
		}
		for k, w := range want {
			slices.Sort(w)
			w = slices.Compact(w) // two cases of one day may share an instant only across medications
			sch := c.Must(200, "GET", medsPath(recipients[k.zone])+"/schedule?date="+k.date, nil)
			if sch["date"] != k.date || sch["timezone"] != k.zone {
				t.Errorf("%s %s: header = %v %v", k.zone, k.date, sch["date"], sch["timezone"])
			}
			var got []string
			for _, it := range sch["items"].([]any) {
				m := it.(map[string]any)
				got = append(got, m["scheduledTime"].(string)+" "+m["localTime"].(string))
				if m["status"] != "PENDING" || m["log"] != nil {
					t.Errorf("%s %s: item %v, want PENDING without log", k.zone, k.date, m)
				}
			}
			if !slices.IsSorted(got) {
				t.Errorf("%s %s: items not ordered by time: %v", k.zone, k.date, got)
			}
			gotSet := slices.Compact(slices.Clone(got))
			if !slices.Equal(gotSet, w) {
				t.Errorf("%s %s: schedule\n got  %v\n want %v", k.zone, k.date, got, w)
			}
		}
		// Each case on its own: its medication's doses exactly (no
		// duplicates), and a dose at a shifted instant can be logged there.
		clk.Set(mustTime(t, "2028-01-01T00:00:00Z"))
		c.Login()
		for _, sc := range scheduleCases {
			sch := c.Must(200, "GET", medsPath(recipients[sc.zone])+"/schedule?date="+sc.date, nil)
			name := sc.zone + " " + sc.date + " " + strings.Join(sc.times, ",")
			var got []string
			var medID string
			for _, it := range sch["items"].([]any) {
				m := it.(map[string]any)
				if m["name"] == name {
					got = append(got, m["scheduledTime"].(string)+" "+m["localTime"].(string))
					medID = m["medicationId"].(string)
					if m["status"] != "MISSED" {
						t.Errorf("%s: past dose %v, want MISSED", name, m)
					}
				}
			}
			if !slices.Equal(got, sc.want) {
				t.Errorf("%s: doses\n got  %v\n want %v", name, got, sc.want)
				continue
			}
			first := strings.Fields(sc.want[0])[0]
			l := c.Must(201, "POST", "/api/v1/medications/"+medID+"/log", map[string]any{"status": "GIVEN", "scheduledTime": first})
			if l["scheduledTime"] != first {
				t.Errorf("%s: logged %v, want %s", name, l["scheduledTime"], first)
			}
			// The day before and after hold none of this medication's doses.
			for _, other := range []int{-1, 1} {
				d, _ := carecircle.ParseDate(sc.date)
				o := c.Must(200, "GET", medsPath(recipients[sc.zone])+"/schedule?date="+d.AddDays(other).String(), nil)
				for _, it := range o["items"].([]any) {
					if it.(map[string]any)["name"] == name {
						t.Errorf("%s: dose also listed on %s: %v", name, d.AddDays(other), it)
					}
				}
			}
		}
	})
}

func TestSchedule_StatusesAndDefaultDay(t *testing.T) {
	// 2026-01-15 10:00 in New York (15:00Z).
	eachAt(t, "2026-01-15T15:00:00Z", func(t *testing.T, e *apptest.Env, clk *carecircle.ManualClock) {
		f := e.NewFamily("Status", "America/New_York")
		med := f.Caregiver.Must(201, "POST", medsPath(f.RecipientID), map[string]any{"name": "Metformin", "dosage": "500mg",
			"frequency": "FOUR_TIMES_DAILY", "times": []string{"08:00", "09:30", "14:00", "20:00"}, "currentSupply": 10})
		id := med["id"].(string)
		f.Caregiver.Must(201, "POST", medsPath(f.RecipientID), map[string]any{"name": "Later", "dosage": "1",
			"frequency": "ONCE_DAILY", "times": []string{"09:00"}, "startDate": "2026-01-16"})
		f.Caregiver.Must(201, "POST", "/api/v1/medications/"+id+"/log", map[string]any{"status": "SKIPPED",
			"scheduledTime": "2026-01-15T13:00:00Z", "notes": "asleep"})
		sch := f.Viewer.Must(200, "GET", medsPath(f.RecipientID)+"/schedule", nil)
		if sch["date"] != "2026-01-15" || sch["timezone"] != "America/New_York" {
			t.Fatalf("default day = %v %v", sch["date"], sch["timezone"])
		}
		type row struct{ at, local, status string }
		var got []row
		for _, it := range sch["items"].([]any) {
			m := it.(map[string]any)
			got = append(got, row{m["scheduledTime"].(string), m["localTime"].(string), m["status"].(string)})
			if m["name"] != "Metformin" || m["dosage"] != "500mg" || m["medicationId"] != id {
				t.Errorf("item = %v", m)
			}
		}
		// 08:00 was logged; 09:30 is 30 minutes past (PENDING until 60);
		// later doses are ahead. "Later" starts tomorrow.
		want := []row{{"2026-01-15T13:00:00Z", "08:00", "SKIPPED"}, {"2026-01-15T14:30:00Z", "09:30", "PENDING"},
			{"2026-01-15T19:00:00Z", "14:00", "PENDING"}, {"2026-01-16T01:00:00Z", "20:00", "PENDING"}}
		if !slices.Equal(got, want) {
			t.Fatalf("schedule\n got  %v\n want %v", got, want)
		}
		if l := sch["items"].([]any)[0].(map[string]any)["log"].(map[string]any); l["notes"] != "asleep" ||
			l["loggedBy"].(map[string]any)["fullName"] != f.Caregiver.Name {
			t.Fatalf("log = %v", l)
		}
		// 60 minutes after 09:30 the dose is MISSED ...
		clk.Set(mustTime(t, "2026-01-15T15:30:00Z"))
		for _, c := range []*apptest.Client{f.Admin, f.Caregiver, f.Viewer} {
			c.Login()
		}
		if st := f.Viewer.Must(200, "GET", medsPath(f.RecipientID)+"/schedule", nil)["items"].([]any)[1].(map[string]any)["status"]; st != "MISSED" {
			t.Fatalf("09:30 at 10:30 = %v, want MISSED", st)
		}
		// ... unless the recipient's missed-dose delay is longer.
		f.Admin.Must(200, "PATCH", "/api/v1/care-recipients/"+f.RecipientID, map[string]any{"missedDoseMinutes": 90})
		if st := f.Viewer.Must(200, "GET", medsPath(f.RecipientID)+"/schedule", nil)["items"].([]any)[1].(map[string]any)["status"]; st != "PENDING" {
			t.Fatalf("09:30 at 10:30 with a 90-minute delay = %v, want PENDING", st)
		}
		// Deactivated medications are not scheduled, but their logged doses
		// stay in the day's record.
		wantStatus(t, f.Caregiver.Do("DELETE", "/api/v1/medications/"+id, nil), 204)
		items := f.Viewer.Must(200, "GET", medsPath(f.RecipientID)+"/schedule", nil)["items"].([]any)
		if len(items) != 1 || items[0].(map[string]any)["status"] != "SKIPPED" {
			t.Fatalf("after deactivation = %v", items)
		}
		tomorrow := f.Viewer.Must(200, "GET", medsPath(f.RecipientID)+"/schedule?date=2026-01-16", nil)["items"].([]any)
		if len(tomorrow) != 1 || tomorrow[0].(map[string]any)["name"] != "Later" {
			t.Fatalf("tomorrow = %v", tomorrow)
		}
		wantStatus(t, f.Caregiver.Do("POST", "/api/v1/medications/"+id+"/log", map[string]any{"status": "GIVEN",
			"scheduledTime": "2026-01-15T19:00:00Z"}), 409)
	})
}

func TestLogDose_GivenOnceSupplyAndRefill(t *testing.T) {
	// 2026-01-15 10:00 in New York.
	eachAt(t, "2026-01-15T15:00:00Z", func(t *testing.T, e *apptest.Env, clk *carecircle.ManualClock) {
		f := e.NewFamily("Log", "America/New_York")
		med := f.Caregiver.Must(201, "POST", medsPath(f.RecipientID), map[string]any{"name": "Metformin", "dosage": "500mg",
			"frequency": "THREE_TIMES_DAILY", "times": []string{"08:00", "14:00", "20:00"}, "currentSupply": 3, "refillThreshold": 2})
		id := med["id"].(string)
		logPath := "/api/v1/medications/" + id + "/log"

		wantStatus(t, f.Viewer.Do("POST", logPath, map[string]any{"status": "GIVEN", "scheduledTime": "2026-01-15T13:00:00Z"}), 403)
		l := f.Caregiver.Must(201, "POST", logPath, map[string]any{"status": "GIVEN", "scheduledTime": "2026-01-15T13:00:00Z", "notes": " with breakfast "})
		by := l["loggedBy"].(map[string]any)
		if !strings.HasPrefix(l["id"].(string), "mlog_") || l["medicationId"] != id || l["status"] != "GIVEN" ||
			l["scheduledTime"] != "2026-01-15T13:00:00Z" || l["loggedAt"] != "2026-01-15T15:00:00Z" || l["notes"] != "with breakfast" ||
			by["id"] != f.Caregiver.UserID || by["fullName"] != f.Caregiver.Name {
			t.Fatalf("log = %v", l)
		}
		// A second log of the dose, by anyone, with any status, is a 409
		// carrying the first.
		clk.Advance(4 * time.Minute)
		for _, who := range []*apptest.Client{f.Admin, f.Caregiver} {
			r := who.Do("POST", logPath, map[string]any{"status": "SKIPPED", "scheduledTime": "2026-01-15T13:00:00Z"})
			wantStatus(t, r, 409)
			m := r.Map()
			want := "this dose was already logged: GIVEN by " + f.Caregiver.Name + " at 10:00"
			if m["message"] != want {
				t.Errorf("message = %q, want %q", m["message"], want)
			}
			if ex, _ := m["existingLog"].(map[string]any); ex == nil || ex["id"] != l["id"] || ex["status"] != "GIVEN" ||
				ex["loggedBy"].(map[string]any)["fullName"] != f.Caregiver.Name || ex["scheduledTime"] != "2026-01-15T13:00:00Z" {
				t.Errorf("existingLog = %v", m["existingLog"])
			}
		}
		if got := f.Viewer.Must(200, "GET", "/api/v1/medications/"+id, nil)["currentSupply"]; got != 2.0 {
			t.Fatalf("supply after one GIVEN = %v, want 2", got)
		}
		refills := events(t, e, f.ID, carecircle.EventMedicationRefill)
		if len(refills) != 1 || refills[0]["currentSupply"] != 2.0 || refills[0]["refillThreshold"] != 2.0 || refills[0]["medicationName"] != "Metformin" {
			t.Fatalf("refill events = %v", refills)
		}
		// Below the threshold again: no second alert.
		f.Caregiver.Must(201, "POST", logPath, map[string]any{"status": "GIVEN", "scheduledTime": "2026-01-15T19:00:00Z"})
		f.Caregiver.Must(201, "POST", logPath, map[string]any{"status": "SKIPPED", "scheduledTime": "2026-01-16T01:00:00Z"})
		if got := f.Viewer.Must(200, "GET", "/api/v1/medications/"+id, nil)["currentSupply"]; got != 1.0 {
			t.Fatalf("supply = %v, want 1 (SKIPPED takes none)", got)
		}
		if n := len(events(t, e, f.ID, carecircle.EventMedicationRefill)); n != 1 {
			t.Fatalf("%d refill events, want 1", n)
		}
		// Refilled above the threshold, then down to it: a second alert.
		clk.Set(mustTime(t, "2026-01-16T15:00:00Z"))
		f.Caregiver.Login()
		f.Viewer.Login()
		f.Caregiver.Must(200, "PATCH", "/api/v1/medications/"+id, map[string]any{"currentSupply": 3})
		f.Caregiver.Must(201, "POST", logPath, map[string]any{"status": "GIVEN", "scheduledTime": "2026-01-16T13:00:00Z"})
		if n := len(events(t, e, f.ID, carecircle.EventMedicationRefill)); n != 2 {
			t.Fatalf("%d refill events after a refill and a dose, want 2", n)
		}
		// The supply never goes below zero.
		f.Caregiver.Must(200, "PATCH", "/api/v1/medications/"+id, map[string]any{"currentSupply": 0})
		f.Caregiver.Must(201, "POST", logPath, map[string]any{"status": "GIVEN", "scheduledTime": "2026-01-16T19:00:00Z"})
		if got := f.Viewer.Must(200, "GET", "/api/v1/medications/"+id, nil)["currentSupply"]; got != 0.0 {
			t.Fatalf("supply = %v, want 0", got)
		}

		// Doses must be real, and statuses must fit the time.
		for _, c := range []struct {
			body any
			want string
		}{
			{map[string]any{"status": "GIVEN", "scheduledTime": "2026-01-16T13:01:00Z"}, "not a scheduled dose"},
			{map[string]any{"status": "GIVEN", "scheduledTime": "2026-01-16T08:00:00-05:00"}, "already logged"},
			{map[string]any{"status": "GIVEN"}, "scheduledTime should not be empty"},
			{map[string]any{"status": "GIVEN", "scheduledTime": "2026-01-17T13:00:00Z"}, "at most 12 hours before"},
			{map[string]any{"status": "MISSED", "scheduledTime": "2026-01-17T01:00:00Z"}, "only after its time"},
		} {
			r := f.Caregiver.Do("POST", logPath, c.body)
			if r.Status != 400 && r.Status != 409 {
				t.Errorf("%v: status %d: %s", c.body, r.Status, r.Body)
			}
			if !strings.Contains(strings.Join(messages(r), "|"), c.want) {
				t.Errorf("%v: %s, want a message with %q", c.body, r.Body, c.want)
			}
		}
		// A dose 12 hours ahead may be SKIPPED; a past dose may be MISSED.
		f.Caregiver.Must(201, "POST", logPath, map[string]any{"status": "SKIPPED", "scheduledTime": "2026-01-17T19:00:00Z"})
		f.Caregiver.Must(201, "POST", logPath, map[string]any{"status": "MISSED", "scheduledTime": "2026-01-14T13:00:00Z"})

		logged := events(t, e, f.ID, carecircle.EventMedicationLogged)
		if len(logged) != 7 {
			t.Fatalf("%d medication.logged events, want 7", len(logged))
		}
		first := logged[0]
		for k, v := range map[string]any{"medicationId": id, "medicationName": "Metformin", "dosage": "500mg", "status": "GIVEN",
			"scheduledTime": "2026-01-15T13:00:00Z", "scheduledLocalTime": "08:00", "loggedLocalTime": "10:00",
			"loggedById": f.Caregiver.UserID, "loggedByName": f.Caregiver.Name, "careRecipientName": "Log's Dad",
			"timezone": "America/New_York", "familyId": f.ID, "careRecipientId": f.RecipientID, "logId": l["id"]} {
			if first[k] != v {
				t.Errorf("medication.logged data[%s] = %v, want %v", k, first[k], v)
			}
		}
	})
}

func TestLogDose_AsNeededLimits(t *testing.T) {
	eachAt(t, "2026-01-15T12:00:20Z", func(t *testing.T, e *apptest.Env, clk *carecircle.ManualClock) {
		f := e.NewFamily("PRN", "Europe/London")
		med := f.Caregiver.Must(201, "POST", medsPath(f.RecipientID), map[string]any{"name": "Paracetamol", "dosage": "1g",
			"frequency": "AS_NEEDED", "minIntervalMinutes": 240, "maxDosesPer24h": 3, "currentSupply": 20})
		logPath := "/api/v1/medications/" + med["id"].(string) + "/log"
		at := func(ts string) {
			t.Helper()
			clk.Set(mustTime(t, ts))
			f.Caregiver.Login()
		}
		give := func(want int) map[string]any {
			t.Helper()
			r := f.Caregiver.Do("POST", logPath, map[string]any{"status": "GIVEN"})
			wantStatus(t, r, want)
			return r.Map()
		}
		if l := give(201); l["scheduledTime"] != "2026-01-15T12:00:00Z" {
			t.Fatalf("as-needed dose at %v, want now to the minute", l["scheduledTime"])
		}
		// A second press in the same minute is the same dose.
		if m := give(409); !strings.Contains(m["message"].(string), "already logged") || m["existingLog"] == nil {
			t.Fatalf("same minute = %v", m)
		}
		at("2026-01-15T13:00:00Z")
		m := give(409)
		if m["nextAllowedAt"] != "2026-01-15T16:00:00Z" || m["rule"] != "minIntervalMinutes" ||
			m["message"] != "too soon: Paracetamol was given at 12:00 and needs 240 minutes between doses; the next dose is allowed at 16:00" {
			t.Fatalf("interval 409 = %v", m)
		}
		// SKIPPED is not a dose taken: no limit applies.
		f.Caregiver.Must(201, "POST", logPath, map[string]any{"status": "SKIPPED", "notes": "refused"})
		wantStatus(t, f.Caregiver.Do("POST", logPath, map[string]any{"status": "MISSED"}), 400)
		at("2026-01-15T16:00:00Z")
		give(201)
		at("2026-01-15T20:30:00Z")
		give(201)
		at("2026-01-16T08:00:00Z")
		m = give(409)
		if m["nextAllowedAt"] != "2026-01-16T12:00:00Z" || m["rule"] != "maxDosesPer24h" ||
			m["message"] != "daily limit reached: Paracetamol allows 3 doses in 24 hours; the next dose is allowed at 12:00" {
			t.Fatalf("daily limit 409 = %v", m)
		}
		// A backfilled dose between two given ones breaks the interval too.
		r := f.Caregiver.Do("POST", logPath, map[string]any{"status": "GIVEN", "scheduledTime": "2026-01-15T18:00:00Z"})
		wantStatus(t, r, 409)
		wantStatus(t, f.Caregiver.Do("POST", logPath, map[string]any{"status": "GIVEN", "scheduledTime": "2026-01-16T09:00:00Z"}), 400)
		at("2026-01-16T12:00:00Z")
		give(201)
		if got := f.Caregiver.Must(200, "GET", "/api/v1/medications/"+med["id"].(string), nil)["currentSupply"]; got != 16.0 {
			t.Fatalf("supply = %v, want 16", got)
		}
		// Logged as-needed doses show in the day's schedule.
		f.Viewer.Login()
		items := f.Viewer.Must(200, "GET", medsPath(f.RecipientID)+"/schedule?date=2026-01-15", nil)["items"].([]any)
		if len(items) != 4 || items[0].(map[string]any)["localTime"] != "12:00" || items[0].(map[string]any)["status"] != "GIVEN" {
			t.Fatalf("as-needed schedule = %v", items)
		}
	})
}

func TestLogDose_TwentyConcurrentGivenOneWins(t *testing.T) {
	eachAt(t, "2026-01-15T13:05:00Z", func(t *testing.T, e *apptest.Env, clk *carecircle.ManualClock) {
		f := e.NewFamily("Race", "America/New_York")
		med := f.Caregiver.Must(201, "POST", medsPath(f.RecipientID), map[string]any{"name": "Warfarin", "dosage": "5mg",
			"frequency": "ONCE_DAILY", "times": []string{"08:00"}, "currentSupply": 30})
		url := e.URL + "/api/v1/medications/" + med["id"].(string) + "/log"
		body := `{"status":"GIVEN","scheduledTime":"2026-01-15T13:00:00Z"}`
		type result struct {
			status int
			body   map[string]any
			err    error
		}
		const n = 20
		results := make(chan result, n)
		start := make(chan struct{})
		for i := range n {
			who := []*apptest.Client{f.Caregiver, f.Admin}[i%2]
			go func() {
				req, _ := http.NewRequest("POST", url, strings.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Authorization", "Bearer "+who.Token)
				<-start
				res, err := http.DefaultClient.Do(req)
				if err != nil {
					results <- result{err: err}
					return
				}
				defer res.Body.Close()
				var m map[string]any
				err = json.NewDecoder(res.Body).Decode(&m)
				results <- result{status: res.StatusCode, body: m, err: err}
			}()
		}
		close(start)
		var created []map[string]any
		var conflicts []map[string]any
		for range n {
			r := <-results
			switch {
			case r.err != nil:
				t.Fatalf("request: %v", r.err)
			case r.status == 201:
				created = append(created, r.body)
			case r.status == 409:
				conflicts = append(conflicts, r.body)
			default:
				t.Errorf("status %d: %v", r.status, r.body)
			}
		}
		if len(created) != 1 || len(conflicts) != n-1 {
			t.Fatalf("%d created, %d conflicts; want 1 and %d", len(created), len(conflicts), n-1)
		}
		for _, c := range conflicts {
			if ex, _ := c["existingLog"].(map[string]any); ex == nil || ex["id"] != created[0]["id"] {
				t.Fatalf("conflict without the winning log: %v", c)
			}
		}
		if got := f.Viewer.Must(200, "GET", "/api/v1/medications/"+med["id"].(string), nil)["currentSupply"]; got != 29.0 {
			t.Fatalf("supply = %v, want 29", got)
		}
		if n := len(events(t, e, f.ID, carecircle.EventMedicationLogged)); n != 1 {
			t.Fatalf("%d medication.logged events, want 1", n)
		}
		if h := f.Viewer.Must(200, "GET", "/api/v1/medications/"+med["id"].(string)+"/history", nil)["items"].([]any); len(h) != 1 {
			t.Fatalf("history = %v", h)
		}
	})
}

func TestCorrectDoseLog_LoggerOrAdminOnly(t *testing.T) {
	eachAt(t, "2026-01-15T15:00:00Z", func(t *testing.T, e *apptest.Env, clk *carecircle.ManualClock) {
		f := e.NewFamily("Fix", "America/New_York")
		other := e.Register("Other Caregiver")
		f.Admin.Invite(f.ID, other, carecircle.RoleCaregiver)
		med := f.Caregiver.Must(201, "POST", medsPath(f.RecipientID), map[string]any{"name": "Lisinopril", "dosage": "10mg",
			"frequency": "ONCE_DAILY", "times": []string{"08:00"}, "currentSupply": 10, "refillThreshold": 9})
		id := med["id"].(string)
		l := f.Caregiver.Must(201, "POST", "/api/v1/medications/"+id+"/log", map[string]any{"status": "GIVEN", "scheduledTime": "2026-01-15T13:00:00Z"})
		path := "/api/v1/medication-logs/" + l["id"].(string)
		if n := len(events(t, e, f.ID, carecircle.EventMedicationRefill)); n != 1 {
			t.Fatalf("%d refill events, want 1", n)
		}
		wantStatus(t, f.Viewer.Do("PATCH", path, map[string]any{"status": "SKIPPED"}), 403)
		wantStatus(t, other.Do("PATCH", path, map[string]any{"status": "SKIPPED"}), 403)
		clk.Advance(5 * time.Minute)
		fixed := f.Caregiver.Must(200, "PATCH", path, map[string]any{"status": "SKIPPED", "notes": "spat it out"})
		if fixed["status"] != "SKIPPED" || fixed["notes"] != "spat it out" || fixed["scheduledTime"] != "2026-01-15T13:00:00Z" ||
			fixed["correctedBy"].(map[string]any)["id"] != f.Caregiver.UserID || fixed["correctedAt"] != "2026-01-15T15:05:00Z" ||
			fixed["loggedBy"].(map[string]any)["id"] != f.Caregiver.UserID {
			t.Fatalf("corrected = %v", fixed)
		}
		// The pill was not taken after all: the supply gets it back, which
		// lifts it above the threshold and re-arms the refill alert.
		if got := f.Viewer.Must(200, "GET", "/api/v1/medications/"+id, nil)["currentSupply"]; got != 10.0 {
			t.Fatalf("supply after GIVEN -> SKIPPED = %v, want 10", got)
		}
		f.Admin.Must(200, "PATCH", path, map[string]any{"status": "GIVEN"})
		if got := f.Viewer.Must(200, "GET", "/api/v1/medications/"+id, nil)["currentSupply"]; got != 9.0 {
			t.Fatalf("supply after SKIPPED -> GIVEN = %v, want 9", got)
		}
		if n := len(events(t, e, f.ID, carecircle.EventMedicationRefill)); n != 2 {
			t.Fatalf("%d refill events, want 2", n)
		}
		wantStatus(t, f.Admin.Do("PATCH", path, map[string]any{"status": "BOGUS"}), 400)
		wantStatus(t, f.Admin.Do("PATCH", path, map[string]any{"notes": strings.Repeat("n", 2001)}), 400)
		logged := events(t, e, f.ID, carecircle.EventMedicationLogged)
		if len(logged) != 3 || logged[1]["corrected"] != true || logged[1]["previousStatus"] != "GIVEN" || logged[1]["status"] != "SKIPPED" ||
			logged[2]["correctedByName"] != f.Admin.Name {
			t.Fatalf("medication.logged events = %v", logged)
		}
		// A correction that changes nothing records nothing.
		f.Admin.Must(200, "PATCH", path, map[string]any{"status": "GIVEN"})
		if n := len(events(t, e, f.ID, carecircle.EventMedicationLogged)); n != 3 {
			t.Fatalf("%d medication.logged events after a no-op correction, want 3", n)
		}
		h := f.Viewer.Must(200, "GET", "/api/v1/medications/"+id+"/history", nil)["items"].([]any)
		if len(h) != 1 || h[0].(map[string]any)["status"] != "GIVEN" || h[0].(map[string]any)["notes"] != "spat it out" {
			t.Fatalf("history = %v", h)
		}
	})
}

func TestDoseHistory_PaginatesNewestFirst(t *testing.T) {
	eachAt(t, "2026-01-20T12:00:00Z", func(t *testing.T, e *apptest.Env, clk *carecircle.ManualClock) {
		f := e.NewFamily("Hist", "UTC")
		med := f.Caregiver.Must(201, "POST", medsPath(f.RecipientID), map[string]any{"name": "Aspirin", "dosage": "81mg",
			"frequency": "TWICE_DAILY", "times": []string{"08:00", "20:00"}})
		id := med["id"].(string)
		var want []string
		for d := 10; d <= 12; d++ {
			for _, hh := range []string{"08", "20"} {
				at := fmt.Sprintf("2026-01-%02dT%s:00:00Z", d, hh)
				f.Caregiver.Must(201, "POST", "/api/v1/medications/"+id+"/log", map[string]any{"status": "GIVEN", "scheduledTime": at})
				want = append([]string{at}, want...)
			}
		}
		wantStatus(t, f.Caregiver.Do("DELETE", "/api/v1/medications/"+id, nil), 204) // history stays
		var got []string
		cursor := ""
		pages := 0
		for {
			page := f.Viewer.Must(200, "GET", "/api/v1/medications/"+id+"/history?limit=4&cursor="+cursor, nil)
			pages++
			for _, it := range page["items"].([]any) {
				got = append(got, it.(map[string]any)["scheduledTime"].(string))
			}
			next, ok := page["nextCursor"].(string)
			if !ok {
				break
			}
			cursor = next
		}
		if pages != 2 || !slices.Equal(got, want) {
			t.Fatalf("%d pages: %v, want 2 pages: %v", pages, got, want)
		}
	})
}
