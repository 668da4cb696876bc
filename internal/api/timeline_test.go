package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/carecircle/carecircle"
	"github.com/carecircle/carecircle/internal/apptest"
)

func init() {
	isolationSetups = append(isolationSetups, func(t *testing.T, f *apptest.Family, ids map[string]string) {
		ids["timeline"] = f.Caregiver.Must(201, "POST", "/api/v1/care-recipients/"+f.RecipientID+"/timeline",
			map[string]any{"type": "NOTE", "content": "Slept well"})["id"].(string)
	})
	isolationCases = append(isolationCases,
		isoCase{"GET", "/api/v1/care-recipients/{recipient}/timeline", nil, 200},
		isoCase{"POST", "/api/v1/care-recipients/{recipient}/timeline", map[string]any{"type": "NOTE", "content": "spy"}, 0},
		isoCase{"GET", "/api/v1/timeline/{timeline}", nil, 200},
		isoCase{"PATCH", "/api/v1/timeline/{timeline}", map[string]any{"content": "hijacked"}, 0},
		isoCase{"DELETE", "/api/v1/timeline/{timeline}", nil, 0},
	)
}

// eventsOfType returns the data of the family's recorded events of one type,
// in order.
func eventsOfType(t *testing.T, e *apptest.Env, familyID, typ string) []map[string]any {
	t.Helper()
	evs, err := e.App.DB.EventsFor(context.Background(), familyID)
	if err != nil {
		t.Fatalf("read events: %v", err)
	}
	var out []map[string]any
	for _, ev := range evs {
		if ev.Type != typ {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal(ev.Data, &m); err != nil {
			t.Fatalf("event %s data: %v", ev.ID, err)
		}
		if m["familyId"] != familyID {
			t.Errorf("event %s familyId = %v", ev.Type, m["familyId"])
		}
		out = append(out, m)
	}
	return out
}

// joinInFamily registers a new member with a role.
func joinInFamily(e *apptest.Env, f *apptest.Family, name string, role carecircle.Role) *apptest.Client {
	c := e.Register(name)
	f.Admin.Invite(f.ID, c, role)
	return c
}

func rfc(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func TestTimeline_CreateReadShape(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		f := e.NewFamily("Tl", "America/New_York")
		base := "/api/v1/care-recipients/" + f.RecipientID + "/timeline"
		before := time.Now().Add(-time.Second)
		note := f.Caregiver.Must(201, "POST", base, map[string]any{"type": "NOTE", "content": "  Ate all of lunch  "})
		after := time.Now().Add(time.Second)
		id, _ := note["id"].(string)
		author, _ := note["author"].(map[string]any)
		if !strings.HasPrefix(id, "tl_") || note["careRecipientId"] != f.RecipientID || note["type"] != "NOTE" ||
			note["content"] != "Ate all of lunch" || note["severity"] != nil || note["vitals"] != nil ||
			author["id"] != f.Caregiver.UserID || author["fullName"] != f.Caregiver.Name {
			t.Fatalf("created = %v", note)
		}
		for _, k := range []string{"id", "careRecipientId", "type", "content", "severity", "occurredAt", "vitals", "author", "createdAt", "updatedAt"} {
			if _, ok := note[k]; !ok {
				t.Errorf("entry has no %q: %v", k, note)
			}
		}
		occurred, err := time.Parse(time.RFC3339, note["occurredAt"].(string))
		if err != nil || occurred.Before(before) || occurred.After(after) {
			t.Errorf("occurredAt defaulted to %v, want now", note["occurredAt"])
		}
		vit := f.Admin.Must(201, "POST", base, map[string]any{"type": "VITALS", "severity": "HIGH",
			"vitals": map[string]any{"systolic": 182, "diastolic": 95, "heartRate": 88, "temperatureC": 37.2,
				"bloodSugar": 140, "oxygenSaturation": 96, "weightKg": 71.5}})
		v, _ := vit["vitals"].(map[string]any)
		if vit["severity"] != "HIGH" || vit["content"] != "" || v["systolic"] != 182.0 || v["temperatureC"] != 37.2 || v["weightKg"] != 71.5 {
			t.Fatalf("vitals entry = %v", vit)
		}
		got := f.Viewer.Must(200, "GET", "/api/v1/timeline/"+vit["id"].(string), nil)
		if got["id"] != vit["id"] || got["vitals"].(map[string]any)["oxygenSaturation"] != 96.0 {
			t.Fatalf("read = %v", got)
		}
		wantStatus(t, f.Viewer.Do("POST", base, map[string]any{"type": "NOTE", "content": "x"}), 403)
		wantStatus(t, f.Viewer.Do("GET", "/api/v1/timeline/tl_00000000000000000000000000", nil), 404)
		wantStatus(t, f.Viewer.Do("GET", "/api/v1/care-recipients/cr_00000000000000000000000000/timeline", nil), 404)

		created := eventsOfType(t, e, f.ID, carecircle.EventTimelineCreated)
		if len(created) != 2 || created[1]["entryId"] != vit["id"] || created[1]["type"] != "VITALS" ||
			created[1]["severity"] != "HIGH" || created[1]["careRecipientId"] != f.RecipientID ||
			created[1]["authorName"] != f.Admin.Name || created[1]["careRecipientName"] == "" {
			t.Fatalf("timeline.entry.created events = %v", created)
		}
	})
}

func TestTimeline_OccurredAtAtMostFiveMinutesAhead(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	f := e.NewFamily("Future", "UTC")
	base := "/api/v1/care-recipients/" + f.RecipientID + "/timeline"
	r := f.Caregiver.Do("POST", base, map[string]any{"type": "NOTE", "content": "x", "occurredAt": rfc(time.Now().Add(10 * time.Minute))})
	wantStatus(t, r, 400)
	if m := messages(r); len(m) != 1 || m[0] != "occurredAt must not be more than 5 minutes in the future" {
		t.Fatalf("messages = %v", m)
	}
	f.Caregiver.Must(201, "POST", base, map[string]any{"type": "NOTE", "content": "x", "occurredAt": rfc(time.Now().Add(3 * time.Minute))})
	f.Caregiver.Must(201, "POST", base, map[string]any{"type": "NOTE", "content": "x", "occurredAt": "2020-02-29T23:15:00+02:00"})
	r = f.Caregiver.Do("POST", base, map[string]any{"type": "NOTE", "content": "x", "occurredAt": "yesterday"})
	wantStatus(t, r, 400)
	if !strings.Contains(strings.Join(messages(r), "|"), "occurredAt") {
		t.Fatalf("messages = %v", messages(r))
	}
}

func TestTimeline_VitalsRangeChecked(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	f := e.NewFamily("Vitals", "UTC")
	base := "/api/v1/care-recipients/" + f.RecipientID + "/timeline"
	cases := []struct {
		vitals map[string]any
		want   string
	}{
		{map[string]any{"systolic": 49}, "vitals.systolic must be between 50 and 300"},
		{map[string]any{"systolic": 301}, "vitals.systolic must be between 50 and 300"},
		{map[string]any{"diastolic": 19}, "vitals.diastolic must be between 20 and 200"},
		{map[string]any{"diastolic": 201}, "vitals.diastolic must be between 20 and 200"},
		{map[string]any{"systolic": 120, "diastolic": 120}, "vitals.diastolic must be less than vitals.systolic"},
		{map[string]any{"heartRate": 19}, "vitals.heartRate must be between 20 and 250"},
		{map[string]any{"heartRate": 251}, "vitals.heartRate must be between 20 and 250"},
		{map[string]any{"temperatureC": 29.9}, "vitals.temperatureC must be between 30 and 45"},
		{map[string]any{"temperatureC": 375}, "vitals.temperatureC must be between 30 and 45"},
		{map[string]any{"bloodSugar": 9}, "vitals.bloodSugar must be between 10 and 1000"},
		{map[string]any{"bloodSugar": 1001}, "vitals.bloodSugar must be between 10 and 1000"},
		{map[string]any{"oxygenSaturation": 49}, "vitals.oxygenSaturation must be between 50 and 100"},
		{map[string]any{"oxygenSaturation": 101}, "vitals.oxygenSaturation must be between 50 and 100"},
		{map[string]any{"weightKg": 0.5}, "vitals.weightKg must be between 1 and 500"},
		{map[string]any{"weightKg": 700}, "vitals.weightKg must be between 1 and 500"},
		{map[string]any{}, "vitals must have at least one measurement for a VITALS entry"},
		{nil, "vitals must have at least one measurement for a VITALS entry"},
	}
	for _, c := range cases {
		body := map[string]any{"type": "VITALS"}
		if c.vitals != nil {
			body["vitals"] = c.vitals
		}
		r := f.Caregiver.Do("POST", base, body)
		wantStatus(t, r, 400)
		if m := messages(r); len(m) != 1 || m[0] != c.want {
			t.Errorf("vitals %v: messages %v, want [%s]", c.vitals, m, c.want)
		}
	}
	// Every problem is reported at once, each by its field.
	r := f.Caregiver.Do("POST", base, map[string]any{"type": "VITALS", "vitals": map[string]any{"systolic": 10, "heartRate": 900}})
	wantStatus(t, r, 400)
	if m := strings.Join(messages(r), "|"); !strings.Contains(m, "vitals.systolic") || !strings.Contains(m, "vitals.heartRate") {
		t.Errorf("messages = %s", m)
	}
	// The bounds themselves are plausible readings.
	f.Caregiver.Must(201, "POST", base, map[string]any{"type": "VITALS", "vitals": map[string]any{"systolic": 300, "diastolic": 200,
		"heartRate": 20, "temperatureC": 45, "bloodSugar": 10, "oxygenSaturation": 100, "weightKg": 1}})
	f.Caregiver.Must(201, "POST", base, map[string]any{"type": "VITALS", "vitals": map[string]any{"systolic": 50, "diastolic": 20}})
	// Vitals may accompany other entries and are checked there too.
	wantStatus(t, f.Caregiver.Do("POST", base, map[string]any{"type": "INCIDENT", "content": "Fainted", "vitals": map[string]any{"heartRate": 5}}), 400)
	f.Caregiver.Must(201, "POST", base, map[string]any{"type": "INCIDENT", "content": "Fainted", "severity": "CRITICAL", "vitals": map[string]any{"heartRate": 40}})
}

func TestTimeline_FiltersAndCursorPagination(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		f := e.NewFamily("Pages", "UTC")
		base := "/api/v1/care-recipients/" + f.RecipientID + "/timeline"
		t0 := time.Now().Add(-48 * time.Hour).Truncate(time.Second)
		var want []string // newest first
		types := []string{"NOTE", "VITALS", "MOOD", "VITALS", "MEAL", "NOTE", "VITALS"}
		for i, typ := range types {
			body := map[string]any{"type": typ, "content": fmt.Sprintf("entry %d", i), "occurredAt": rfc(t0.Add(time.Duration(i) * time.Hour))}
			if typ == "VITALS" {
				body["vitals"] = map[string]any{"heartRate": 60 + i}
			}
			id := f.Caregiver.Must(201, "POST", base, body)["id"].(string)
			want = append([]string{id}, want...)
		}
		// Two entries at the same instant are both listed, in a stable order.
		same := rfc(t0.Add(-time.Hour))
		a := f.Caregiver.Must(201, "POST", base, map[string]any{"type": "NOTE", "content": "same a", "occurredAt": same})["id"].(string)
		b := f.Caregiver.Must(201, "POST", base, map[string]any{"type": "NOTE", "content": "same b", "occurredAt": same})["id"].(string)
		if a < b {
			a, b = b, a
		}
		want = append(want, a, b)

		var got []string
		cursor, pages := "", 0
		for {
			path := base + "?limit=3"
			if cursor != "" {
				path += "&cursor=" + cursor
			}
			var page struct {
				Items []struct {
					ID string `json:"id"`
				} `json:"items"`
				NextCursor *string `json:"nextCursor"`
			}
			f.Viewer.Do("GET", path, nil).Decode(t, &page)
			pages++
			for _, it := range page.Items {
				got = append(got, it.ID)
			}
			if page.NextCursor == nil {
				break
			}
			if pages > 10 {
				t.Fatal("pagination does not end")
			}
			cursor = *page.NextCursor
		}
		if strings.Join(got, ",") != strings.Join(want, ",") || pages != 3 {
			t.Fatalf("paged ids (%d pages):\n got %v\nwant %v", pages, got, want)
		}

		vit := f.Viewer.Must(200, "GET", base+"?type=VITALS", nil)["items"].([]any)
		if len(vit) != 3 || vit[0].(map[string]any)["id"] != want[0] {
			t.Fatalf("type=VITALS: %v", vit)
		}
		for _, it := range vit {
			if it.(map[string]any)["type"] != "VITALS" {
				t.Fatalf("type=VITALS listed %v", it)
			}
		}
		// from is inclusive, to exclusive: hours 2, 3, 4.
		win := f.Viewer.Must(200, "GET", base+"?from="+rfc(t0.Add(2*time.Hour))+"&to="+rfc(t0.Add(5*time.Hour)), nil)["items"].([]any)
		if len(win) != 3 || win[0].(map[string]any)["content"] != "entry 4" || win[2].(map[string]any)["content"] != "entry 2" {
			t.Fatalf("from/to window: %v", win)
		}
		both := f.Viewer.Must(200, "GET", base+"?type=VITALS&from="+rfc(t0.Add(2*time.Hour))+"&to="+rfc(t0.Add(5*time.Hour)), nil)["items"].([]any)
		if len(both) != 1 || both[0].(map[string]any)["content"] != "entry 3" {
			t.Fatalf("type and window: %v", both)
		}
		for _, q := range []string{"?type=BLOOD", "?from=yesterday", "?to=2026-13-01T00:00:00Z", "?cursor=!!", "?cursor=bm90LWEtY3Vyc29y",
			"?limit=abc", "?from=" + rfc(t0) + "&to=" + rfc(t0.Add(-time.Hour))} {
			r := f.Viewer.Do("GET", base+q, nil)
			wantStatus(t, r, 400)
			name := strings.TrimPrefix(strings.SplitN(q, "=", 2)[0], "?")
			if !strings.Contains(strings.Join(messages(r), "|"), name) {
				t.Errorf("%s: messages %v do not name %s", q, messages(r), name)
			}
		}
	})
}

func TestTimeline_AuthorOrAdminEditsAndDeletes(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		f := e.NewFamily("Edit", "UTC")
		other := joinInFamily(e, f, "Other Caregiver", carecircle.RoleCaregiver)
		base := "/api/v1/care-recipients/" + f.RecipientID + "/timeline"
		entry := f.Caregiver.Must(201, "POST", base, map[string]any{"type": "SYMPTOM", "content": "Cough", "severity": "LOW"})
		path := "/api/v1/timeline/" + entry["id"].(string)

		wantStatus(t, other.Do("PATCH", path, map[string]any{"content": "Not mine"}), 403)
		wantStatus(t, f.Viewer.Do("PATCH", path, map[string]any{"content": "Not mine"}), 403)
		wantStatus(t, other.Do("DELETE", path, nil), 403)
		wantStatus(t, f.Viewer.Do("DELETE", path, nil), 403)

		up := f.Caregiver.Must(200, "PATCH", path, map[string]any{"content": "Dry cough, worse at night", "severity": "MEDIUM"})
		if up["content"] != "Dry cough, worse at night" || up["severity"] != "MEDIUM" || up["type"] != "SYMPTOM" || up["occurredAt"] != entry["occurredAt"] {
			t.Fatalf("author's patch = %v", up)
		}
		up = f.Admin.Must(200, "PATCH", path, map[string]any{"severity": "", "type": "VITALS", "vitals": map[string]any{"temperatureC": 38.4}})
		if up["severity"] != nil || up["type"] != "VITALS" || up["vitals"].(map[string]any)["temperatureC"] != 38.4 ||
			up["author"].(map[string]any)["id"] != f.Caregiver.UserID {
			t.Fatalf("admin's patch = %v", up)
		}
		r := f.Admin.Do("PATCH", path, map[string]any{"vitals": map[string]any{}})
		wantStatus(t, r, 400)
		if !strings.Contains(strings.Join(messages(r), "|"), "vitals") {
			t.Fatalf("clearing the vitals of a VITALS entry: %v", messages(r))
		}
		wantStatus(t, f.Admin.Do("PATCH", path, map[string]any{"occurredAt": rfc(time.Now().Add(time.Hour))}), 400)
		if got := f.Viewer.Must(200, "GET", path, nil); got["type"] != "VITALS" || got["severity"] != nil {
			t.Fatalf("a refused patch changed the entry: %v", got)
		}

		// An author who is no longer allowed to write can't edit either.
		f.Admin.Must(200, "PATCH", "/api/v1/families/"+f.ID+"/members/"+f.Caregiver.UserID, map[string]any{"role": "VIEWER"})
		wantStatus(t, f.Caregiver.Do("PATCH", path, map[string]any{"content": "x"}), 403)
		f.Admin.Must(200, "PATCH", "/api/v1/families/"+f.ID+"/members/"+f.Caregiver.UserID, map[string]any{"role": "CAREGIVER"})

		wantStatus(t, f.Caregiver.Do("DELETE", path, nil), 204)
		wantStatus(t, f.Caregiver.Do("GET", path, nil), 404)
		wantStatus(t, f.Caregiver.Do("DELETE", path, nil), 404)
		second := f.Caregiver.Must(201, "POST", base, map[string]any{"type": "NOTE", "content": "x"})["id"].(string)
		wantStatus(t, f.Admin.Do("DELETE", "/api/v1/timeline/"+second, nil), 204)

		updated := eventsOfType(t, e, f.ID, carecircle.EventTimelineUpdated)
		deleted := eventsOfType(t, e, f.ID, carecircle.EventTimelineDeleted)
		if len(updated) != 2 || updated[1]["editedById"] != f.Admin.UserID || updated[1]["type"] != "VITALS" {
			t.Fatalf("timeline.entry.updated = %v", updated)
		}
		if len(deleted) != 2 || deleted[0]["entryId"] != entry["id"] || deleted[1]["deletedById"] != f.Admin.UserID {
			t.Fatalf("timeline.entry.deleted = %v", deleted)
		}
	})
}

func TestTimeline_HostileInputNamesTheField(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		f := e.NewFamily("Hostile", "UTC")
		base := "/api/v1/care-recipients/" + f.RecipientID + "/timeline"
		entry := f.Caregiver.Must(201, "POST", base, map[string]any{"type": "NOTE", "content": "ok"})["id"].(string)
		cases := []struct {
			method, path string
			body         any
			field        string
		}{
			{"POST", base, `{"type":"NOTE","content":`, "body"},
			{"POST", base, `[1,2,3]`, "body"},
			{"POST", base, map[string]any{"content": "no type"}, "type"},
			{"POST", base, map[string]any{"type": "DIARY", "content": "x"}, "type"},
			{"POST", base, map[string]any{"type": 7, "content": "x"}, "type"},
			{"POST", base, map[string]any{"type": "NOTE"}, "content"},
			{"POST", base, map[string]any{"type": "NOTE", "content": "   "}, "content"},
			{"POST", base, map[string]any{"type": "NOTE", "content": strings.Repeat("x", 10001)}, "content"},
			{"POST", base, map[string]any{"type": "NOTE", "content": map[string]any{"$ne": 1}}, "content"},
			{"POST", base, map[string]any{"type": "NOTE", "content": "x", "severity": "URGENT"}, "severity"},
			{"POST", base, map[string]any{"type": "NOTE", "content": "x", "occurredAt": 1700000000}, "occurredAt"},
			{"POST", base, map[string]any{"type": "NOTE", "content": "x", "occurredAt": "1850-01-01T00:00:00Z"}, "occurredAt"},
			{"POST", base, map[string]any{"type": "VITALS", "vitals": "120/80"}, "vitals"},
			{"POST", base, map[string]any{"type": "VITALS", "vitals": map[string]any{"systolic": "120"}}, "vitals.systolic"},
			{"POST", base, map[string]any{"type": "VITALS", "vitals": map[string]any{"pulse": 70}}, "vitals"},
			{"POST", base, map[string]any{"type": "VITALS", "vitals": map[string]any{"systolic": 1e308}}, "vitals.systolic"},
			{"PATCH", "/api/v1/timeline/" + entry, map[string]any{"type": "DIARY"}, "type"},
			{"PATCH", "/api/v1/timeline/" + entry, map[string]any{"severity": "URGENT"}, "severity"},
			{"PATCH", "/api/v1/timeline/" + entry, map[string]any{"content": ""}, "content"},
			{"PATCH", "/api/v1/timeline/" + entry, map[string]any{"occurredAt": ""}, "occurredAt"},
			{"PATCH", "/api/v1/timeline/" + entry, map[string]any{"vitals": map[string]any{"weightKg": -1}}, "vitals.weightKg"},
			{"PATCH", "/api/v1/timeline/" + entry, `{"content": 5}`, "content"},
		}
		for _, c := range cases {
			r := f.Caregiver.Do(c.method, c.path, c.body)
			if r.Status != 400 {
				t.Errorf("%s %s %v: status %d, want 400: %s", c.method, c.path, c.body, r.Status, r.Body)
				continue
			}
			wantStatus(t, r, 400)
			if !strings.Contains(strings.Join(messages(r), "|"), c.field) {
				t.Errorf("%s %v: messages %v do not name %s", c.method, c.body, messages(r), c.field)
			}
		}
		if got := f.Caregiver.Must(200, "GET", "/api/v1/timeline/"+entry, nil); got["content"] != "ok" {
			t.Fatalf("hostile patches changed the entry: %v", got)
		}
		if n := len(f.Caregiver.Must(200, "GET", base, nil)["items"].([]any)); n != 1 {
			t.Fatalf("hostile posts created entries: %d listed", n)
		}
	})
}

func FuzzTimelineBodies(f *testing.F) {
	fuzzBodies(f, []fuzzRoute{{"POST", "/api/v1/care-recipients/{recipient}/timeline"}},
		`{"type":"VITALS","vitals":{"systolic":120,"diastolic":80,"temperatureC":36.6}}`,
		`{"type":"NOTE","content":"x","occurredAt":"2026-03-01T10:00:00+01:00","severity":"LOW"}`,
		`{"type":"VITALS","vitals":{"weightKg":1e400}}`, `{"type":"MOOD","content":"\u0000","occurredAt":"0001-01-01T00:00:00Z"}`)
}
