package api_test

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/carecircle/carecircle"
	"github.com/carecircle/carecircle/internal/apptest"
)

func init() {
	isolationSetups = append(isolationSetups, func(t *testing.T, f *apptest.Family, ids map[string]string) {
		now := time.Now()
		ids["shift"] = f.Admin.Must(201, "POST", "/api/v1/care-recipients/"+f.RecipientID+"/shifts", map[string]any{
			"caregiverId": f.Caregiver.UserID, "startTime": rfc(now.Add(-time.Hour)), "endTime": rfc(now.Add(time.Hour))})["id"].(string)
	})
	isolationCases = append(isolationCases,
		isoCase{"GET", "/api/v1/care-recipients/{recipient}/shifts", nil, 200},
		isoCase{"GET", "/api/v1/care-recipients/{recipient}/shifts/current", nil, 200},
		isoCase{"POST", "/api/v1/care-recipients/{recipient}/shifts", map[string]any{"caregiverId": "{member}",
			"startTime": "2030-01-01T08:00:00Z", "endTime": "2030-01-01T16:00:00Z"}, 0},
		isoCase{"GET", "/api/v1/shifts/{shift}", nil, 200},
		isoCase{"PATCH", "/api/v1/shifts/{shift}", map[string]any{"notes": "hijacked"}, 0},
		isoCase{"POST", "/api/v1/shifts/{shift}/check-in", nil, 0},
		isoCase{"POST", "/api/v1/shifts/{shift}/check-out", map[string]any{"handoffNotes": "x"}, 0},
		isoCase{"DELETE", "/api/v1/shifts/{shift}", nil, 0},
	)
}

func shiftBody(caregiverID string, start, end time.Time) map[string]any {
	return map[string]any{"caregiverId": caregiverID, "startTime": rfc(start), "endTime": rfc(end)}
}

func TestShifts_CreateListAndWhoIsOnDuty(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		f := e.NewFamily("Duty", "Europe/Berlin")
		base := "/api/v1/care-recipients/" + f.RecipientID + "/shifts"
		now := time.Now().Truncate(time.Second)

		empty := f.Viewer.Must(200, "GET", base+"/current", nil)
		if sh, ok := empty["shift"]; !ok || sh != nil || len(empty["shifts"].([]any)) != 0 {
			t.Fatalf("nobody on duty: %v", empty)
		}

		body := shiftBody(f.Caregiver.UserID, now.Add(-time.Hour), now.Add(7*time.Hour))
		body["notes"] = "  Morning meds at 8  "
		cur := f.Admin.Must(201, "POST", base, body)
		cg, _ := cur["caregiver"].(map[string]any)
		if !strings.HasPrefix(cur["id"].(string), "shf_") || cur["careRecipientId"] != f.RecipientID || cg["id"] != f.Caregiver.UserID ||
			cg["fullName"] != f.Caregiver.Name || cur["startTime"] != rfc(now.Add(-time.Hour)) || cur["endTime"] != rfc(now.Add(7*time.Hour)) ||
			cur["notes"] != "Morning meds at 8" || cur["checkedInAt"] != nil || cur["checkedOutAt"] != nil || cur["handoffNotes"] != "" ||
			cur["status"] != "SCHEDULED" || cur["onDuty"] != true || cur["previousHandoff"] != nil ||
			cur["createdBy"].(map[string]any)["id"] != f.Admin.UserID {
			t.Fatalf("created = %v", cur)
		}
		later := f.Caregiver.Must(201, "POST", base, shiftBody(f.Admin.UserID, now.Add(24*time.Hour), now.Add(32*time.Hour)))
		if later["onDuty"] != false || later["status"] != "SCHEDULED" || later["createdBy"].(map[string]any)["id"] != f.Caregiver.UserID {
			t.Fatalf("later = %v", later)
		}
		f.Admin.Must(201, "POST", base, shiftBody(f.Caregiver.UserID, now.Add(-20*24*time.Hour), now.Add(-20*24*time.Hour+time.Hour)))

		duty := f.Viewer.Must(200, "GET", base+"/current", nil)
		if duty["shift"].(map[string]any)["id"] != cur["id"] || len(duty["shifts"].([]any)) != 1 {
			t.Fatalf("on duty = %v", duty)
		}

		ids := func(path string) []string {
			var out []string
			for _, it := range f.Viewer.Must(200, "GET", path, nil)["items"].([]any) {
				out = append(out, it.(map[string]any)["id"].(string))
			}
			return out
		}
		if got := ids(base); len(got) != 2 || got[0] != cur["id"] || got[1] != later["id"] {
			t.Fatalf("default window = %v", got)
		}
		if got := ids(base + "?caregiverId=" + f.Admin.UserID); len(got) != 1 || got[0] != later["id"] {
			t.Fatalf("caregiverId filter = %v", got)
		}
		if got := ids(base + "?from=" + rfc(now.Add(-30*24*time.Hour)) + "&to=" + rfc(now.Add(-time.Hour))); len(got) != 1 {
			t.Fatalf("past window = %v", got)
		}
		if got := ids(base + "?from=" + rfc(now.Add(-30*24*time.Hour))); len(got) != 3 {
			t.Fatalf("from only = %v", got)
		}
		// A window that only touches a shift's end doesn't include it.
		if got := ids(base + "?from=" + rfc(now.Add(7*time.Hour)) + "&to=" + rfc(now.Add(8*time.Hour))); len(got) != 0 {
			t.Fatalf("touching window = %v", got)
		}
		page := f.Viewer.Must(200, "GET", base+"?limit=1", nil)
		next := f.Viewer.Must(200, "GET", base+"?limit=1&cursor="+page["nextCursor"].(string), nil)
		if page["items"].([]any)[0].(map[string]any)["id"] != cur["id"] || next["items"].([]any)[0].(map[string]any)["id"] != later["id"] || next["nextCursor"] != nil {
			t.Fatalf("pages = %v / %v", page, next)
		}
		got := f.Viewer.Must(200, "GET", "/api/v1/shifts/"+later["id"].(string), nil)
		if got["id"] != later["id"] || got["caregiver"].(map[string]any)["id"] != f.Admin.UserID {
			t.Fatalf("get = %v", got)
		}
		wantStatus(t, f.Viewer.Do("POST", base, shiftBody(f.Caregiver.UserID, now.Add(48*time.Hour), now.Add(50*time.Hour))), 403)

		created := eventsOfType(t, e, f.ID, carecircle.EventShiftCreated)
		if len(created) != 3 || created[0]["shiftId"] != cur["id"] || created[0]["caregiverId"] != f.Caregiver.UserID ||
			created[0]["caregiverName"] != f.Caregiver.Name || created[0]["timezone"] != "Europe/Berlin" || created[0]["startTime"] != cur["startTime"] {
			t.Fatalf("shift.created = %v", created)
		}
	})
}

func TestShifts_CaregiverMustBeAnAdminOrCaregiverMember(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		f := e.NewFamily("Who", "UTC")
		stranger := e.NewFamily("Stranger", "UTC")
		base := "/api/v1/care-recipients/" + f.RecipientID + "/shifts"
		start := time.Now().Add(24 * time.Hour).Truncate(time.Hour)
		for _, id := range []string{f.Viewer.UserID, stranger.Caregiver.UserID, "usr_00000000000000000000000000", "nobody", ""} {
			r := f.Admin.Do("POST", base, shiftBody(id, start, start.Add(8*time.Hour)))
			wantStatus(t, r, 400)
			if !strings.Contains(strings.Join(messages(r), "|"), "caregiverId") {
				t.Errorf("caregiver %q: messages %v", id, messages(r))
			}
		}
		f.Admin.Must(201, "POST", base, shiftBody(f.Admin.UserID, start, start.Add(8*time.Hour)))
		f.Admin.Must(201, "POST", base, shiftBody(f.Caregiver.UserID, start, start.Add(8*time.Hour)))
	})
}

func TestShifts_TimesValidated(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	f := e.NewFamily("Times", "UTC")
	base := "/api/v1/care-recipients/" + f.RecipientID + "/shifts"
	start := time.Now().Add(24 * time.Hour).Truncate(time.Hour)
	cases := []struct {
		body map[string]any
		want string
	}{
		{shiftBody(f.Caregiver.UserID, start, start), "endTime must be after startTime"},
		{shiftBody(f.Caregiver.UserID, start, start.Add(-time.Hour)), "endTime must be after startTime"},
		{shiftBody(f.Caregiver.UserID, start, start.Add(7*24*time.Hour+time.Minute)), "endTime must be at most 7 days after startTime"},
		{map[string]any{"caregiverId": f.Caregiver.UserID, "startTime": "tomorrow 8am", "endTime": rfc(start)}, "startTime must be an RFC 3339 time such as 2026-03-01T14:30:00Z"},
		{map[string]any{"caregiverId": f.Caregiver.UserID, "startTime": rfc(start), "endTime": "2026-02-30T10:00:00Z"}, "endTime must be an RFC 3339 time such as 2026-03-01T14:30:00Z"},
		{map[string]any{"caregiverId": f.Caregiver.UserID, "startTime": rfc(start)}, "endTime should not be empty"},
		{map[string]any{"caregiverId": f.Caregiver.UserID, "startTime": "", "endTime": rfc(start)}, "startTime should not be empty"},
	}
	for _, c := range cases {
		r := f.Admin.Do("POST", base, c.body)
		wantStatus(t, r, 400)
		if m := messages(r); len(m) != 1 || m[0] != c.want {
			t.Errorf("%v: messages %v, want [%s]", c.body, m, c.want)
		}
	}
	f.Admin.Must(201, "POST", base, shiftBody(f.Caregiver.UserID, start, start.Add(7*24*time.Hour)))
}

func TestShifts_OverlapForTheSameCaregiverConflicts(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		f := e.NewFamily("Overlap", "UTC")
		base := "/api/v1/care-recipients/" + f.RecipientID + "/shifts"
		otherRecipient := f.Admin.CreateRecipient(f.ID, "Mum", "UTC")
		start := time.Now().Add(24 * time.Hour).Truncate(time.Hour)
		first := f.Admin.Must(201, "POST", base, shiftBody(f.Caregiver.UserID, start, start.Add(8*time.Hour)))

		for _, c := range []struct {
			path       string
			start, end time.Time
		}{
			{base, start.Add(7 * time.Hour), start.Add(9 * time.Hour)},
			{base, start.Add(-time.Hour), start.Add(time.Minute)},
			{base, start.Add(time.Hour), start.Add(2 * time.Hour)},
			{base, start.Add(-time.Hour), start.Add(9 * time.Hour)},
			// The same person can't be with two recipients of the family at once.
			{"/api/v1/care-recipients/" + otherRecipient + "/shifts", start.Add(2 * time.Hour), start.Add(3 * time.Hour)},
		} {
			r := f.Admin.Do("POST", c.path, shiftBody(f.Caregiver.UserID, c.start, c.end))
			wantStatus(t, r, 409)
			m := r.Map()
			msg, _ := m["message"].(string)
			over, _ := m["overlappingShift"].(map[string]any)
			if !strings.Contains(msg, first["id"].(string)) || over["id"] != first["id"] {
				t.Errorf("%v–%v: conflict does not name shift %s: %s", c.start, c.end, first["id"], r.Body)
			}
		}
		// Back-to-back shifts and other caregivers are fine.
		f.Admin.Must(201, "POST", base, shiftBody(f.Caregiver.UserID, start.Add(8*time.Hour), start.Add(16*time.Hour)))
		f.Admin.Must(201, "POST", base, shiftBody(f.Caregiver.UserID, start.Add(-8*time.Hour), start))
		f.Admin.Must(201, "POST", base, shiftBody(f.Admin.UserID, start.Add(time.Hour), start.Add(3*time.Hour)))
		// A removed recipient's shifts no longer hold the caregiver.
		gone := f.Admin.CreateRecipient(f.ID, "Uncle", "UTC")
		later := start.Add(10 * 24 * time.Hour)
		f.Admin.Must(201, "POST", "/api/v1/care-recipients/"+gone+"/shifts", shiftBody(f.Caregiver.UserID, later, later.Add(time.Hour)))
		wantStatus(t, f.Admin.Do("POST", base, shiftBody(f.Caregiver.UserID, later, later.Add(time.Hour))), 409)
		wantStatus(t, f.Admin.Do("DELETE", "/api/v1/care-recipients/"+gone, nil), 204)
		f.Admin.Must(201, "POST", base, shiftBody(f.Caregiver.UserID, later, later.Add(time.Hour)))
		// A week-long shift blocks its last hour as well as its first.
		week := start.Add(30 * 24 * time.Hour)
		f.Admin.Must(201, "POST", base, shiftBody(f.Admin.UserID, week, week.Add(7*24*time.Hour)))
		wantStatus(t, f.Admin.Do("POST", base, shiftBody(f.Admin.UserID, week.Add(7*24*time.Hour-time.Hour), week.Add(7*24*time.Hour+time.Hour))), 409)
		f.Admin.Must(201, "POST", base, shiftBody(f.Admin.UserID, week.Add(7*24*time.Hour), week.Add(7*24*time.Hour+time.Hour)))
		// Moving a shift onto another of the caregiver's conflicts too; moving it within its own time doesn't.
		id := first["id"].(string)
		r := f.Admin.Do("PATCH", "/api/v1/shifts/"+id, map[string]any{"endTime": rfc(start.Add(9 * time.Hour))})
		wantStatus(t, r, 409)
		f.Admin.Must(200, "PATCH", "/api/v1/shifts/"+id, map[string]any{"startTime": rfc(start.Add(time.Hour))})
	})
}

func TestShifts_SimultaneousOverlappingCreatesOneWins(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		f := e.NewFamily("Race", "UTC")
		second := f.Admin.CreateRecipient(f.ID, "Mum", "UTC")
		paths := []string{"/api/v1/care-recipients/" + f.RecipientID + "/shifts", "/api/v1/care-recipients/" + second + "/shifts"}
		const rounds, racers = 4, 6
		for round := range rounds {
			start := time.Now().Add(time.Duration(24*(round+1)) * time.Hour).Truncate(time.Hour)
			statuses := make([]int, racers)
			bodies := make([]string, racers)
			var wg sync.WaitGroup
			gate := make(chan struct{})
			for i := range racers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-gate
					// Each racer asks for a slightly different, overlapping slot.
					s := start.Add(time.Duration(i) * time.Minute)
					r := f.Admin.Do("POST", paths[i%2], shiftBody(f.Caregiver.UserID, s, s.Add(4*time.Hour)))
					statuses[i], bodies[i] = r.Status, r.String()
				}()
			}
			close(gate)
			wg.Wait()
			created := 0
			for i, st := range statuses {
				switch st {
				case 201:
					created++
				case 409:
				default:
					t.Errorf("round %d racer %d: status %d: %s", round, i, st, bodies[i])
				}
			}
			if created != 1 {
				t.Fatalf("round %d: %d shifts created for one caregiver at once, want 1: %v", round, created, statuses)
			}
		}
		var n int
		for _, p := range paths {
			n += len(f.Admin.Must(200, "GET", p+"?caregiverId="+f.Caregiver.UserID, nil)["items"].([]any))
		}
		if n != rounds {
			t.Fatalf("%d shifts stored, want %d", n, rounds)
		}
		if got := len(eventsOfType(t, e, f.ID, carecircle.EventShiftCreated)); got != rounds {
			t.Fatalf("%d shift.created events, want %d", got, rounds)
		}
	})
}

func TestShifts_CheckInAndOutInOrderByTheCaregiverOnly(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		f := e.NewFamily("Check", "UTC")
		base := "/api/v1/care-recipients/" + f.RecipientID + "/shifts"
		now := time.Now().Truncate(time.Second)
		sh := f.Admin.Must(201, "POST", base, shiftBody(f.Caregiver.UserID, now.Add(-time.Hour), now.Add(7*time.Hour)))
		next := f.Caregiver.Must(201, "POST", base, shiftBody(f.Admin.UserID, now.Add(7*time.Hour), now.Add(15*time.Hour)))
		id := sh["id"].(string)
		in, out := "/api/v1/shifts/"+id+"/check-in", "/api/v1/shifts/"+id+"/check-out"

		for _, c := range []*apptest.Client{f.Admin, f.Viewer} {
			wantStatus(t, c.Do("POST", in, nil), 403)
			wantStatus(t, c.Do("POST", out, nil), 403)
		}
		r := f.Caregiver.Do("POST", out, map[string]any{"handoffNotes": "too early"})
		wantStatus(t, r, 409)

		got := f.Caregiver.Must(200, "POST", in, nil)
		if got["status"] != "IN_PROGRESS" || got["checkedInAt"] == nil || got["onDuty"] != true {
			t.Fatalf("checked in = %v", got)
		}
		wantStatus(t, f.Caregiver.Do("POST", in, nil), 409)
		duty := f.Viewer.Must(200, "GET", base+"/current", nil)
		if duty["shift"].(map[string]any)["status"] != "IN_PROGRESS" {
			t.Fatalf("on duty = %v", duty)
		}
		wantStatus(t, f.Admin.Do("DELETE", "/api/v1/shifts/"+id, nil), 409)
		wantStatus(t, f.Admin.Do("PATCH", "/api/v1/shifts/"+id, map[string]any{"caregiverId": f.Admin.UserID}), 409)

		r = f.Caregiver.Do("POST", out, map[string]any{"handoffNotes": strings.Repeat("x", 5001)})
		wantStatus(t, r, 400)
		got = f.Caregiver.Must(200, "POST", out, map[string]any{"handoffNotes": " Ate little at dinner; BP 150/90 at 18:00. "})
		if got["status"] != "COMPLETED" || got["checkedOutAt"] == nil || got["handoffNotes"] != "Ate little at dinner; BP 150/90 at 18:00." || got["onDuty"] != false {
			t.Fatalf("checked out = %v", got)
		}
		wantStatus(t, f.Caregiver.Do("POST", out, nil), 409)
		wantStatus(t, f.Caregiver.Do("POST", in, nil), 409)
		if duty := f.Viewer.Must(200, "GET", base+"/current", nil); duty["shift"] != nil {
			t.Fatalf("nobody is on duty after check-out: %v", duty)
		}

		// The next shift sees the handoff.
		nx := f.Viewer.Must(200, "GET", "/api/v1/shifts/"+next["id"].(string), nil)
		ph, _ := nx["previousHandoff"].(map[string]any)
		if ph["shiftId"] != id || ph["notes"] != "Ate little at dinner; BP 150/90 at 18:00." || ph["checkedOutAt"] != got["checkedOutAt"] ||
			ph["caregiver"].(map[string]any)["id"] != f.Caregiver.UserID {
			t.Fatalf("next shift's previousHandoff = %v", nx["previousHandoff"])
		}
		if self := f.Viewer.Must(200, "GET", "/api/v1/shifts/"+id, nil); self["previousHandoff"] != nil {
			t.Fatalf("a shift is not its own previous handoff: %v", self["previousHandoff"])
		}

		ins := eventsOfType(t, e, f.ID, carecircle.EventShiftCheckedIn)
		outs := eventsOfType(t, e, f.ID, carecircle.EventShiftCheckedOut)
		if len(ins) != 1 || ins[0]["shiftId"] != id || ins[0]["actorId"] != f.Caregiver.UserID {
			t.Fatalf("shift.checked_in = %v", ins)
		}
		if len(outs) != 1 || outs[0]["handoffNotes"] != "Ate little at dinner; BP 150/90 at 18:00." ||
			outs[0]["nextCaregiverId"] != f.Admin.UserID || outs[0]["nextShiftId"] != next["id"] || outs[0]["caregiverName"] != f.Caregiver.Name {
			t.Fatalf("shift.checked_out = %v", outs)
		}

		// Check-out of the last shift names no next caregiver.
		f.Admin.Must(200, "POST", "/api/v1/shifts/"+next["id"].(string)+"/check-in", nil)
		f.Admin.Must(200, "POST", "/api/v1/shifts/"+next["id"].(string)+"/check-out", nil)
		outs = eventsOfType(t, e, f.ID, carecircle.EventShiftCheckedOut)
		if v, ok := outs[1]["nextCaregiverId"]; len(outs) != 2 || !ok || v != nil || outs[1]["handoffNotes"] != "" {
			t.Fatalf("last check-out = %v", outs[1])
		}

		// A caregiver demoted to VIEWER can't start their shift.
		later := f.Admin.Must(201, "POST", base, shiftBody(f.Caregiver.UserID, now.Add(30*time.Hour), now.Add(31*time.Hour)))
		f.Admin.Must(200, "PATCH", "/api/v1/families/"+f.ID+"/members/"+f.Caregiver.UserID, map[string]any{"role": "VIEWER"})
		wantStatus(t, f.Caregiver.Do("POST", "/api/v1/shifts/"+later["id"].(string)+"/check-in", nil), 403)
	})
}

func TestShifts_PatchAndDeleteByAdminOrCreator(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		f := e.NewFamily("Manage", "UTC")
		other := joinInFamily(e, f, "Other Caregiver", carecircle.RoleCaregiver)
		base := "/api/v1/care-recipients/" + f.RecipientID + "/shifts"
		start := time.Now().Add(48 * time.Hour).Truncate(time.Hour)
		sh := f.Caregiver.Must(201, "POST", base, shiftBody(f.Caregiver.UserID, start, start.Add(8*time.Hour)))
		path := "/api/v1/shifts/" + sh["id"].(string)

		wantStatus(t, other.Do("PATCH", path, map[string]any{"notes": "mine now"}), 403)
		wantStatus(t, f.Viewer.Do("PATCH", path, map[string]any{"notes": "mine now"}), 403)
		wantStatus(t, other.Do("DELETE", path, nil), 403)
		wantStatus(t, f.Viewer.Do("DELETE", path, nil), 403)

		up := f.Caregiver.Must(200, "PATCH", path, map[string]any{"notes": "Bring groceries", "endTime": rfc(start.Add(6 * time.Hour))})
		if up["notes"] != "Bring groceries" || up["endTime"] != rfc(start.Add(6*time.Hour)) || up["startTime"] != sh["startTime"] {
			t.Fatalf("creator's patch = %v", up)
		}
		up = f.Admin.Must(200, "PATCH", path, map[string]any{"caregiverId": other.UserID})
		if up["caregiver"].(map[string]any)["id"] != other.UserID {
			t.Fatalf("admin's patch = %v", up)
		}
		for _, body := range []map[string]any{
			{"caregiverId": f.Viewer.UserID},
			{"endTime": rfc(start.Add(-time.Hour))},
			{"startTime": "soon"},
		} {
			wantStatus(t, f.Admin.Do("PATCH", path, body), 400)
		}
		if got := f.Viewer.Must(200, "GET", path, nil); got["caregiver"].(map[string]any)["id"] != other.UserID || got["endTime"] != rfc(start.Add(6*time.Hour)) {
			t.Fatalf("refused patches changed the shift: %v", got)
		}
		updated := eventsOfType(t, e, f.ID, carecircle.EventShiftUpdated)
		if len(updated) != 2 || updated[1]["caregiverId"] != other.UserID || updated[1]["previousCaregiverId"] != f.Caregiver.UserID {
			t.Fatalf("shift.updated = %v", updated)
		}

		wantStatus(t, f.Caregiver.Do("DELETE", path, nil), 204)
		wantStatus(t, f.Viewer.Do("GET", path, nil), 404)
		wantStatus(t, f.Caregiver.Do("DELETE", path, nil), 404)
		updated = eventsOfType(t, e, f.ID, carecircle.EventShiftUpdated)
		if len(updated) != 3 || updated[2]["status"] != "CANCELLED" || updated[2]["cancelled"] != true || updated[2]["caregiverId"] != other.UserID {
			t.Fatalf("deletion event = %v", updated)
		}
		byOther := f.Caregiver.Must(201, "POST", base, shiftBody(other.UserID, start, start.Add(time.Hour)))
		wantStatus(t, f.Admin.Do("DELETE", "/api/v1/shifts/"+byOther["id"].(string), nil), 204)
	})
}

func TestShifts_HostileInputNamesTheField(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		f := e.NewFamily("Hostile", "UTC")
		base := "/api/v1/care-recipients/" + f.RecipientID + "/shifts"
		start := time.Now().Add(24 * time.Hour).Truncate(time.Hour)
		sh := f.Caregiver.Must(201, "POST", base, shiftBody(f.Caregiver.UserID, start, start.Add(time.Hour)))["id"].(string)
		ok := shiftBody(f.Caregiver.UserID, start.Add(2*time.Hour), start.Add(3*time.Hour))
		with := func(k string, v any) map[string]any {
			m := map[string]any{}
			for a, b := range ok {
				m[a] = b
			}
			m[k] = v
			return m
		}
		cases := []struct {
			method, path string
			body         any
			field        string
		}{
			{"POST", base, `{"caregiverId":`, "body"},
			{"POST", base, `"a string"`, "body"},
			{"POST", base, map[string]any{"startTime": rfc(start), "endTime": rfc(start.Add(time.Hour))}, "caregiverId"},
			{"POST", base, with("caregiverId", 42), "caregiverId"},
			{"POST", base, with("caregiverId", strings.Repeat("u", 1000)), "caregiverId"},
			{"POST", base, with("caregiverId", "usr_' OR 1=1 --"), "caregiverId"},
			{"POST", base, with("startTime", []int{1}), "startTime"},
			{"POST", base, with("endTime", "9999-99-99T99:99:99Z"), "endTime"},
			{"POST", base, with("startTime", "1800-01-01T00:00:00Z"), "startTime"},
			{"POST", base, with("notes", strings.Repeat("n", 5001)), "notes"},
			{"PATCH", "/api/v1/shifts/" + sh, map[string]any{"caregiverId": true}, "caregiverId"},
			{"PATCH", "/api/v1/shifts/" + sh, map[string]any{"endTime": "later"}, "endTime"},
			{"POST", "/api/v1/shifts/" + sh + "/check-out", map[string]any{"handoffNotes": 7}, "handoffNotes"},
			{"POST", "/api/v1/shifts/" + sh + "/check-out", `{"handoffNotes":`, "body"},
			{"GET", base + "?from=noon", nil, "from"},
			{"GET", base + "?to=" + rfc(start) + "&from=" + rfc(start.Add(time.Hour)), nil, "to"},
			{"GET", base + "?cursor=%25%25", nil, "cursor"},
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
		if n := len(f.Admin.Must(200, "GET", base, nil)["items"].([]any)); n != 1 {
			t.Fatalf("hostile input created shifts: %d listed", n)
		}
		// Check-in and check-out take no body or an empty one.
		f.Caregiver.Must(200, "POST", "/api/v1/shifts/"+sh+"/check-in", nil)
		f.Caregiver.Must(200, "POST", "/api/v1/shifts/"+sh+"/check-out", map[string]any{})
	})
}

func FuzzShiftBodies(f *testing.F) {
	fuzzBodies(f, []fuzzRoute{{"POST", "/api/v1/care-recipients/{recipient}/shifts"}},
		`{"caregiverId":"usr_x","startTime":"2030-01-01T08:00:00Z","endTime":"2030-01-01T16:00:00Z"}`,
		`{"caregiverId":"","startTime":"9999-12-31T23:59:59Z","endTime":"0001-01-01T00:00:00Z","notes":"x"}`,
		`{"startTime":"2030-01-01T08:00:00.999999999-23:59","endTime":"2030-01-08T08:00:00+14:00"}`)
}
