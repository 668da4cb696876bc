package api_test

import (
	"context"
	"encoding/json"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/carecircle/carecircle/internal/apptest"
)

func init() {
	isolationSetups = append(isolationSetups, func(t *testing.T, f *apptest.Family, ids map[string]string) {
		ids["appointment"] = f.Admin.Must(201, "POST", "/api/v1/care-recipients/"+f.RecipientID+"/appointments",
			map[string]any{"title": "Cardiology", "startTime": "2026-10-05T14:00:00Z", "assignedTo": f.Caregiver.UserID})["id"].(string)
	})
	isolationCases = append(isolationCases,
		isoCase{"GET", "/api/v1/care-recipients/{recipient}/appointments?from=2026-10-01T00:00:00Z&to=2026-11-01T00:00:00Z", nil, 200},
		isoCase{"POST", "/api/v1/care-recipients/{recipient}/appointments", map[string]any{"title": "Spy", "startTime": "2026-10-05T14:00:00Z"}, 0},
		isoCase{"GET", "/api/v1/appointments/{appointment}", nil, 200},
		isoCase{"PATCH", "/api/v1/appointments/{appointment}", map[string]any{"title": "Hijacked"}, 0},
		isoCase{"DELETE", "/api/v1/appointments/{appointment}", nil, 0},
		isoCase{"GET", "/api/v1/care-recipients/{recipient}/calendar.ics?token=guess", nil, 0},
		isoCase{"DELETE", "/api/v1/care-recipients/{recipient}/calendar-token", nil, 204},
		isoCase{"POST", "/api/v1/care-recipients/{recipient}/calendar-token", nil, 201},
	)
}

func aptsPath(recipientID string) string {
	return "/api/v1/care-recipients/" + recipientID + "/appointments"
}

// appointmentEvents returns the appointment.* events recorded for a family,
// in order.
func appointmentEvents(t *testing.T, e *apptest.Env, familyID string) []map[string]any {
	t.Helper()
	evs, err := e.App.DB.EventsFor(context.Background(), familyID)
	if err != nil {
		t.Fatal(err)
	}
	var out []map[string]any
	for _, ev := range evs {
		if !strings.HasPrefix(ev.Type, "appointment.") {
			continue
		}
		var d map[string]any
		if err := json.Unmarshal(ev.Data, &d); err != nil {
			t.Fatal(err)
		}
		d["type"] = ev.Type
		out = append(out, d)
	}
	return out
}

func TestAppointments_CreateReadUpdateCancel(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		f := e.NewFamily("Apt", "America/New_York")
		body := map[string]any{
			"title": "Cardiology check-up", "startTime": "2026-10-05T10:00:00-04:00", "endTime": "2026-10-05T15:00:00Z",
			"location": "Mercy General, 2nd floor", "doctorName": "Dr. Patel", "notes": "Bring the medication list",
			"assignedTo": f.Caregiver.UserID,
		}
		a := f.Caregiver.Must(201, "POST", aptsPath(f.RecipientID), body)
		id, _ := a["id"].(string)
		as, _ := a["assignedTo"].(map[string]any)
		if !strings.HasPrefix(id, "apt_") || a["careRecipientId"] != f.RecipientID || a["title"] != "Cardiology check-up" ||
			a["startTime"] != "2026-10-05T14:00:00Z" || a["endTime"] != "2026-10-05T15:00:00Z" || a["status"] != "SCHEDULED" ||
			as["id"] != f.Caregiver.UserID || as["fullName"] != "Apt Caregiver" || a["recurrence"] != nil || a["isRecurring"] != false ||
			a["createdBy"] != f.Caregiver.UserID || a["createdAt"] == nil || a["sequence"] != 0.0 {
			t.Fatalf("created = %v", a)
		}
		if r := a["reminders"].([]any); len(r) != 2 || r[0] != 1440.0 || r[1] != 60.0 {
			t.Fatalf("default reminders = %v", r)
		}
		got := f.Viewer.Must(200, "GET", "/api/v1/appointments/"+id, nil)
		if got["title"] != a["title"] || got["doctorName"] != "Dr. Patel" || got["location"] != "Mercy General, 2nd floor" {
			t.Fatalf("read = %v", got)
		}

		// VIEWERs read but don't write; nothing they try is recorded.
		wantStatus(t, f.Viewer.Do("POST", aptsPath(f.RecipientID), body), 403)
		wantStatus(t, f.Viewer.Do("PATCH", "/api/v1/appointments/"+id, map[string]any{"title": "x"}), 403)
		wantStatus(t, f.Viewer.Do("DELETE", "/api/v1/appointments/"+id, nil), 403)

		up := f.Admin.Must(200, "PATCH", "/api/v1/appointments/"+id, map[string]any{
			"title": "Cardiology follow-up", "assignedTo": "", "endTime": "", "reminders": []int{120}, "recurrence": "FREQ=MONTHLY;COUNT=3"})
		if up["title"] != "Cardiology follow-up" || up["assignedTo"] != nil || up["endTime"] != nil || up["sequence"] != 1.0 ||
			up["recurrence"] != "FREQ=MONTHLY;COUNT=3" || up["isRecurring"] != true || up["notes"] != "Bring the medication list" {
			t.Fatalf("patched = %v", up)
		}
		// A PATCH that changes nothing records nothing and keeps SEQUENCE.
		same := f.Admin.Must(200, "PATCH", "/api/v1/appointments/"+id, map[string]any{"title": "Cardiology follow-up"})
		if same["sequence"] != 1.0 {
			t.Fatalf("no-op patch bumped sequence: %v", same)
		}

		wantStatus(t, f.Caregiver.Do("DELETE", "/api/v1/appointments/"+id, nil), 204)
		c := f.Viewer.Must(200, "GET", "/api/v1/appointments/"+id, nil)
		if c["status"] != "CANCELLED" || c["cancelledAt"] == nil || c["sequence"] != 2.0 {
			t.Fatalf("cancelled = %v", c)
		}
		r := f.Admin.Do("PATCH", "/api/v1/appointments/"+id, map[string]any{"title": "Revived"})
		wantStatus(t, r, 409)
		wantStatus(t, f.Admin.Do("DELETE", "/api/v1/appointments/"+id, nil), 204) // already cancelled: no change

		rng := "?from=2026-10-01T00:00:00Z&to=2027-01-01T00:00:00Z"
		if items := f.Viewer.Must(200, "GET", aptsPath(f.RecipientID)+rng, nil)["items"].([]any); len(items) != 0 {
			t.Fatalf("cancelled appointment listed: %v", items)
		}
		items := f.Viewer.Must(200, "GET", aptsPath(f.RecipientID)+rng+"&includeCancelled=true", nil)["items"].([]any)
		if len(items) != 3 || items[0].(map[string]any)["status"] != "CANCELLED" {
			t.Fatalf("with includeCancelled: %v", items)
		}

		evs := appointmentEvents(t, e, f.ID)
		var types []string
		for _, ev := range evs {
			types = append(types, ev["type"].(string))
		}
		if !slices.Equal(types, []string{"appointment.created", "appointment.updated", "appointment.cancelled"}) {
			t.Fatalf("events = %v", types)
		}
		cr := evs[0]
		eas, _ := cr["assignedTo"].(map[string]any)
		if cr["appointmentId"] != id || cr["title"] != "Cardiology check-up" || cr["startTime"] != "2026-10-05T14:00:00Z" ||
			cr["endTime"] != "2026-10-05T15:00:00Z" || cr["location"] != "Mercy General, 2nd floor" ||
			eas["id"] != f.Caregiver.UserID || eas["fullName"] != "Apt Caregiver" || cr["recurrence"] != nil ||
			len(cr["reminders"].([]any)) != 2 || cr["careRecipientName"] != "Apt's Dad" || cr["timezone"] != "America/New_York" ||
			cr["familyId"] != f.ID || cr["careRecipientId"] != f.RecipientID || cr["actorId"] != f.Caregiver.UserID {
			t.Errorf("created event data = %v", cr)
		}
		upd := evs[1]
		if upd["recurrence"] != "FREQ=MONTHLY;COUNT=3" || upd["assignedTo"] != nil || upd["title"] != "Cardiology follow-up" ||
			upd["previousAssignedTo"] == nil || len(upd["changed"].([]any)) != 5 {
			t.Errorf("updated event data = %v", upd)
		}
		if evs[2]["status"] != "CANCELLED" || evs[2]["title"] != "Cardiology follow-up" {
			t.Errorf("cancelled event data = %v", evs[2])
		}
	})
}

func TestAppointments_HostileInputIs400NamingTheFieldAndRecordsNothing(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		f := e.NewFamily("Val", "Europe/Berlin")
		other := e.NewFamily("Other", "UTC")
		ok := map[string]any{"title": "Dentist", "startTime": "2026-10-05T14:00:00Z"}
		with := func(kv ...any) map[string]any {
			m := map[string]any{}
			for k, v := range ok {
				m[k] = v
			}
			for i := 0; i < len(kv); i += 2 {
				if kv[i+1] == nil {
					delete(m, kv[i].(string))
				} else {
					m[kv[i].(string)] = kv[i+1]
				}
			}
			return m
		}
		existing := f.Admin.Must(201, "POST", aptsPath(f.RecipientID), ok)["id"].(string)
		before := len(appointmentEvents(t, e, f.ID))

		cases := []struct {
			name  string
			body  any
			field string
		}{
			{"no title", with("title", nil), "title"},
			{"blank title", with("title", "   "), "title"},
			{"title not a string", with("title", 42), "title"},
			{"long title", with("title", strings.Repeat("x", 201)), "title"},
			{"NUL in title", with("title", "a\x00b"), "title"},
			{"no start", with("startTime", nil), "startTime"},
			{"start not a time", with("startTime", "tomorrow at ten"), "startTime"},
			{"start without zone", with("startTime", "2026-10-05T14:00:00"), "startTime"},
			{"start year 0", with("startTime", "0000-01-01T00:00:00Z"), "startTime"},
			{"start year 9999", with("startTime", "9999-12-31T23:59:59Z"), "startTime"},
			{"end before start", with("endTime", "2026-10-05T13:00:00Z"), "endTime"},
			{"end garbage", with("endTime", "soon"), "endTime"},
			{"location too long", with("location", strings.Repeat("x", 501)), "location"},
			{"notes with escape", with("notes", "\x1b]0;pwn\x07"), "notes"},
			{"doctor NUL", with("doctorName", "\x00"), "doctorName"},
			{"sub-daily rule", with("recurrence", "FREQ=MINUTELY"), "recurrence"},
			{"rule injection", with("recurrence", "FREQ=WEEKLY\r\nATTENDEE:mailto:x@example.com"), "recurrence"},
			{"rule garbage", with("recurrence", "';DROP TABLE appointments;--"), "recurrence"},
			{"rule never", with("recurrence", "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30"), "recurrence"},
			{"rule too long", with("recurrence", "FREQ=DAILY;"+strings.Repeat("INTERVAL=1;", 60)), "recurrence"},
			{"reminders not ints", with("reminders", []any{"soon"}), "reminders"},
			{"reminders floats", with("reminders", []any{1.5}), "reminders"},
			{"reminder huge", with("reminders", []any{1e18}), "reminders"},
			{"reminder beyond 28 days", with("reminders", []int{40321}), "reminders[0]"},
			{"reminder negative", with("reminders", []int{-1}), "reminders[0]"},
			{"reminder repeated", with("reminders", []int{60, 60}), "reminders[1]"},
			{"six reminders", with("reminders", []int{1, 2, 3, 4, 5, 6}), "reminders"},
			{"assignee not a member", with("assignedTo", other.Admin.UserID), "assignedTo must be a member of the family"},
			{"assignee unknown", with("assignedTo", "usr_00000000000000000000000000"), "assignedTo must be a member of the family"},
			{"assignee garbage", with("assignedTo", "' OR 1=1 --"), "assignedTo must be a member of the family"},
			{"assignee not a string", with("assignedTo", []int{1}), "assignedTo"},
			{"not json", "{title:", "body"},
			{"array body", "[]", "body"},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				for _, req := range []struct{ method, path string }{
					{"POST", aptsPath(f.RecipientID)},
					{"PATCH", "/api/v1/appointments/" + existing},
				} {
					body := c.body
					if req.method == "PATCH" && (c.name == "no title" || c.name == "no start") {
						continue // PATCH keeps absent fields
					}
					r := f.Admin.Do(req.method, req.path, body)
					wantStatus(t, r, 400)
					if msgs := strings.Join(messages(r), "|"); !strings.Contains(msgs, c.field) {
						t.Errorf("%s: messages %q do not name %q", req.method, msgs, c.field)
					}
				}
			})
		}
		// The two unknown assignees give the same answer, revealing nothing.
		a := f.Admin.Do("POST", aptsPath(f.RecipientID), with("assignedTo", other.Admin.UserID))
		b := f.Admin.Do("POST", aptsPath(f.RecipientID), with("assignedTo", "usr_00000000000000000000000000"))
		if string(a.Body) != string(b.Body) {
			t.Errorf("another family's member and a missing user answer differently:\n%s\n%s", a.Body, b.Body)
		}

		queries := []struct{ query, field string }{
			{"from=yesterday", "from"},
			{"to=2026-13-01T00:00:00Z", "to"},
			{"from=2026-10-01T00:00:00Z&to=2026-09-01T00:00:00Z", "to"},
			{"from=2026-01-01T00:00:00Z&to=2027-01-03T00:00:00Z", "366 days"},
			{"limit=1000", "limit"},
			{"limit=-1", "limit"},
			{"cursor=%00%01garbage", "cursor"},
			{"includeCancelled=perhaps", "includeCancelled"},
		}
		for _, q := range queries {
			r := f.Viewer.Do("GET", aptsPath(f.RecipientID)+"?"+q.query, nil)
			wantStatus(t, r, 400)
			if msgs := strings.Join(messages(r), "|"); !strings.Contains(msgs, q.field) {
				t.Errorf("?%s: messages %q do not name %q", q.query, msgs, q.field)
			}
		}
		wantStatus(t, f.Admin.Do("GET", "/api/v1/appointments/apt_doesnotexist", nil), 404)
		wantStatus(t, f.Admin.Do("PATCH", "/api/v1/appointments/apt_doesnotexist", map[string]any{"title": "x"}), 404)
		wantStatus(t, f.Admin.Do("DELETE", "/api/v1/appointments/"+strings.Repeat("x", 65), nil), 404) // no id that long exists

		if n := len(appointmentEvents(t, e, f.ID)); n != before {
			t.Errorf("rejected writes recorded %d events", n-before)
		}
		got := f.Admin.Must(200, "GET", "/api/v1/appointments/"+existing, nil)
		if got["title"] != "Dentist" || got["sequence"] != 0.0 {
			t.Errorf("rejected patches changed the appointment: %v", got)
		}
	})
}

func TestAppointments_AssigneeMustBeAMember(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		f := e.NewFamily("Drive", "UTC")
		other := e.NewFamily("Else", "UTC")
		// Any member may drive, VIEWERs included.
		a := f.Caregiver.Must(201, "POST", aptsPath(f.RecipientID),
			map[string]any{"title": "Eye exam", "startTime": "2026-10-05T14:00:00Z", "assignedTo": f.Viewer.UserID})
		if a["assignedTo"].(map[string]any)["fullName"] != "Drive Viewer" {
			t.Fatalf("assignedTo = %v", a["assignedTo"])
		}
		id := a["id"].(string)
		r := f.Caregiver.Do("PATCH", "/api/v1/appointments/"+id, map[string]any{"assignedTo": other.Caregiver.UserID})
		wantStatus(t, r, 400)
		if m := messages(r); len(m) != 1 || m[0] != "assignedTo must be a member of the family" {
			t.Fatalf("messages = %v", m)
		}
		// Another family can neither see nor change it, and gets no hint.
		wantStatus(t, other.Admin.Do("PATCH", "/api/v1/appointments/"+id, map[string]any{"assignedTo": other.Admin.UserID}), 404)
		got := f.Viewer.Must(200, "GET", "/api/v1/appointments/"+id, nil)
		if got["assignedTo"].(map[string]any)["id"] != f.Viewer.UserID || got["sequence"] != 0.0 {
			t.Fatalf("appointment changed: %v", got)
		}
		// A member who left stays named on what they were assigned to, but
		// can't be newly assigned.
		f.Admin.Must(204, "DELETE", "/api/v1/families/"+f.ID+"/members/"+f.Viewer.UserID, nil)
		got = f.Admin.Must(200, "PATCH", "/api/v1/appointments/"+id, map[string]any{"title": "Eye exam (dilated)"})
		if got["assignedTo"].(map[string]any)["id"] != f.Viewer.UserID {
			t.Fatalf("unrelated patch dropped the assignee: %v", got)
		}
		wantStatus(t, f.Admin.Do("POST", aptsPath(f.RecipientID),
			map[string]any{"title": "X", "startTime": "2026-10-05T14:00:00Z", "assignedTo": f.Viewer.UserID}), 400)
	})
}

func occurrenceStarts(items []any) []string {
	var out []string
	for _, it := range items {
		m := it.(map[string]any)
		out = append(out, m["startTime"].(string)+" "+m["title"].(string))
	}
	return out
}

func TestAppointments_WeeklyRecurrenceKeepsLocalTimeAcrossDST(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		f := e.NewFamily("DST", "America/New_York")
		weekly := f.Caregiver.Must(201, "POST", aptsPath(f.RecipientID), map[string]any{
			"title": "Physio", "startTime": "2026-10-05T10:00:00-04:00", "endTime": "2026-10-05T11:00:00-04:00",
			"recurrence": "RRULE:FREQ=WEEKLY;BYDAY=MO",
		})
		if weekly["recurrence"] != "FREQ=WEEKLY;BYDAY=MO" || weekly["isRecurring"] != true {
			t.Fatalf("created = %v", weekly)
		}
		f.Caregiver.Must(201, "POST", aptsPath(f.RecipientID), map[string]any{"title": "Dentist", "startTime": "2026-10-26T14:00:00Z"})
		f.Caregiver.Must(201, "POST", aptsPath(f.RecipientID), map[string]any{"title": "Before", "startTime": "2026-09-30T23:59:59Z"})

		q := "?from=" + url.QueryEscape("2026-10-01T00:00:00Z") + "&to=" + url.QueryEscape("2026-11-17T00:00:00Z")
		items := f.Viewer.Must(200, "GET", aptsPath(f.RecipientID)+q, nil)["items"].([]any)
		want := []string{
			"2026-10-05T14:00:00Z Physio", "2026-10-12T14:00:00Z Physio", "2026-10-19T14:00:00Z Physio",
			"2026-10-26T14:00:00Z Dentist", "2026-10-26T14:00:00Z Physio",
			"2026-11-02T15:00:00Z Physio", "2026-11-09T15:00:00Z Physio", "2026-11-16T15:00:00Z Physio",
		}
		got := occurrenceStarts(items)
		// Two items at the same instant are ordered by id, which follows creation.
		if !slices.Equal(got, want) && !slices.Equal(got, append(append(append([]string{}, want[:3]...), want[4], want[3]), want[5:]...)) {
			t.Fatalf("occurrences:\n got %v\nwant %v", got, want)
		}
		for _, it := range items {
			m := it.(map[string]any)
			if m["title"] != "Physio" {
				continue
			}
			start, _ := time.Parse(time.RFC3339, m["startTime"].(string))
			end, _ := time.Parse(time.RFC3339, m["endTime"].(string))
			if m["id"] != weekly["id"] || m["occurrenceStart"] != m["startTime"] || m["seriesStart"] != "2026-10-05T14:00:00Z" ||
				end.Sub(start) != time.Hour || m["recurrence"] != "FREQ=WEEKLY;BYDAY=MO" || m["isRecurring"] != true {
				t.Errorf("occurrence = %v", m)
			}
		}

		// Pages of two walk the same list without gaps or repeats, also
		// through the two items that share an instant.
		var paged []any
		cursor := ""
		for range 10 {
			page := f.Viewer.Must(200, "GET", aptsPath(f.RecipientID)+q+"&limit=2&cursor="+url.QueryEscape(cursor), nil)
			paged = append(paged, page["items"].([]any)...)
			next, _ := page["nextCursor"].(string)
			if next == "" {
				break
			}
			cursor = next
		}
		if p := occurrenceStarts(paged); !slices.Equal(p, got) {
			t.Fatalf("paged:\n got %v\nwant %v", p, got)
		}

		// A range after the change still shows 10:00 local, at 15:00Z.
		q = "?from=" + url.QueryEscape("2026-11-01T00:00:00-04:00") + "&to=" + url.QueryEscape("2026-11-10T00:00:00-05:00")
		items = f.Viewer.Must(200, "GET", aptsPath(f.RecipientID)+q, nil)["items"].([]any)
		if p := occurrenceStarts(items); !slices.Equal(p, []string{"2026-11-02T15:00:00Z Physio", "2026-11-09T15:00:00Z Physio"}) {
			t.Fatalf("November: %v", p)
		}
		// Offsets east of UTC work even when the client forgets to escape "+".
		items = f.Viewer.Must(200, "GET", aptsPath(f.RecipientID)+"?from=2026-11-09T16:00:00+01:00&to=2026-11-09T17:00:00+01:00", nil)["items"].([]any)
		if p := occurrenceStarts(items); !slices.Equal(p, []string{"2026-11-09T15:00:00Z Physio"}) {
			t.Fatalf("unescaped offset: %v", p)
		}
	})
}

func TestAppointments_DefaultRangeStartsToday(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	f := e.NewFamily("Soon", "Asia/Tokyo")
	now := time.Now().UTC().Truncate(time.Second)
	f.Admin.Must(201, "POST", aptsPath(f.RecipientID), map[string]any{"title": "Soon", "startTime": now.Add(time.Hour).Format(time.RFC3339)})
	f.Admin.Must(201, "POST", aptsPath(f.RecipientID), map[string]any{"title": "Later", "startTime": now.Add(100 * 24 * time.Hour).Format(time.RFC3339)})
	f.Admin.Must(201, "POST", aptsPath(f.RecipientID), map[string]any{"title": "Past", "startTime": now.Add(-48 * time.Hour).Format(time.RFC3339)})
	items := f.Admin.Must(200, "GET", aptsPath(f.RecipientID), nil)["items"].([]any)
	if p := occurrenceStarts(items); len(p) != 1 || !strings.HasSuffix(p[0], " Soon") {
		t.Fatalf("default range: %v", p)
	}
}
