package notify_test

import (
	"strings"
	"testing"
	"time"

	"github.com/carecircle/carecircle/internal/storage"
)

func TestQuietHours_HoldPushAndEmailInTheMembersZoneButKeepTheInbox(t *testing.T) {
	eachDialect(t, func(t *testing.T, d storage.Dialect) {
		h := newHarness(t, d, local(t, ny, day, 6, 0))
		f := h.family("Quiet", ny, london, ny, tokyo)
		// 22:00–07:00 in London: the 20:00 New York dose is 01:00 there.
		h.as(f.Admin).Must(200, "PUT", "/api/v1/notifications/preferences", map[string]any{
			"quietHours": map[string]any{"enabled": true, "start": "22:00", "end": "07:00"}})
		med := h.medication(f, f.RecipientID, "Metformin", "500mg", "TWICE_DAILY", []string{"08:00", "20:00"}, nil, nil)

		h.at(local(t, ny, day, 8, 0)) // 13:00 in London: not quiet
		h.expect("13:00 London", f.Admin, "DOSE_REMINDER", "Time for", counts{1, 1, 0})
		h.at(local(t, ny, day, 9, 0)) // the morning dose is missed at 14:00 London

		h.at(local(t, ny, day, 20, 0))
		h.expect("01:00 London", f.Admin, "DOSE_REMINDER", "Time for", counts{2, 1, 0})
		h.expect("the caregiver has no quiet hours", f.Caregiver, "DOSE_REMINDER", "Time for", counts{2, 2, 0})
		if n := h.inbox(f.Admin, "DOSE_REMINDER")[1]; n.delivery("push") != "SKIPPED" {
			t.Errorf("held push delivery = %q, want SKIPPED", n.delivery("push"))
		}
		// Of the two missed doses (09:00 and 21:00 New York, 14:00 and
		// 02:00 London), the second is held, push and email; the caregiver
		// gets all of both.
		h.at(local(t, ny, day, 21, 0))
		h.expect("02:00 London", f.Admin, "MISSED_DOSE", "Missed dose", counts{2, 1, 1})
		h.expect("no quiet hours", f.Caregiver, "MISSED_DOSE", "Missed dose", counts{2, 2, 2})
		n := h.inbox(f.Admin, "MISSED_DOSE")[1]
		if n.delivery("push") != "SKIPPED" || n.delivery("email") != "SKIPPED" {
			t.Errorf("held missed-dose deliveries = %+v", n.Deliveries)
		}
		if h.job(doseKey(med, local(t, ny, day, 20, 0))).State != storage.JobDone {
			t.Error("the 20:00 dose job is not done")
		}
	})
}

func TestPreferences_ChannelsPerCategoryAreHonoured(t *testing.T) {
	eachDialect(t, func(t *testing.T, d storage.Dialect) {
		h := newHarness(t, d, local(t, ny, day, 6, 0))
		f := h.family("Prefs", ny, london, ny, tokyo)
		h.as(f.Caregiver).Must(200, "PUT", "/api/v1/notifications/preferences", map[string]any{"categories": map[string]any{
			"doseReminders": map[string]any{"push": false, "email": true},
			"missedDoses":   map[string]any{"inApp": false, "email": false},
		}})
		h.as(f.Admin).Must(200, "PUT", "/api/v1/notifications/preferences", map[string]any{"categories": map[string]any{
			"doseReminders": map[string]any{"inApp": false, "push": false},
		}})
		h.medication(f, f.RecipientID, "Metformin", "500mg", "ONCE_DAILY", []string{"08:00"}, nil, nil)
		h.at(local(t, ny, day, 8, 0))
		h.expect("caregiver: in-app and email", f.Caregiver, "DOSE_REMINDER", "Time for", counts{1, 0, 1})
		h.expect("admin: everything off", f.Admin, "DOSE_REMINDER", "Time for", counts{})
		h.at(local(t, ny, day, 9, 0))
		h.expect("caregiver: missed by push only", f.Caregiver, "MISSED_DOSE", "Missed dose", counts{0, 1, 0})
		h.expect("admin: defaults", f.Admin, "MISSED_DOSE", "Missed dose", counts{1, 1, 1})
	})
}

func TestRefill_OnceWhenSupplyCrossesThenDailyWhileLow(t *testing.T) {
	eachDialect(t, func(t *testing.T, d storage.Dialect) {
		h := newHarness(t, d, local(t, ny, day, 6, 0))
		f := h.family("Refill", ny, london, ny, tokyo)
		med := h.medication(f, f.RecipientID, "Metformin", "500mg", "ONCE_DAILY", []string{"08:00"}, ptr(6), ptr(5))
		// Giving the 08:00 dose takes the supply from 6 to the threshold.
		h.at(local(t, ny, day, 8, 0))
		h.logDose(f, f.RecipientID, med, f.Caregiver, local(t, ny, day, 8, 0), "GIVEN")
		h.expect("crossing", f.Admin, "REFILL", "Refill needed", counts{1, 1, 0})
		h.expect("crossing", f.Caregiver, "REFILL", "Refill needed", counts{1, 1, 0})
		h.expect("crossing", f.Viewer, "REFILL", "Refill needed", counts{})
		if n := h.inbox(f.Caregiver, "REFILL")[0]; !strings.Contains(n.Body, "5 doses left (refill at 5)") {
			t.Errorf("refill notice = %+v", n)
		}

		next := local(t, ny, "2026-04-15", 9, 0)
		h.at(next.Add(-time.Minute))
		h.expect("before the daily reminder", f.Caregiver, "REFILL", "Still low", counts{})
		h.at(next)
		h.expect("daily reminder", f.Caregiver, "REFILL", "Still low", counts{1, 1, 0})
		h.at(local(t, ny, "2026-04-16", 9, 0))
		h.expect("second day", f.Caregiver, "REFILL", "Still low", counts{2, 2, 0})

		// Refilled: the reminders stop.
		h.as(f.Admin).Must(200, "PATCH", "/api/v1/medications/"+med, map[string]any{"currentSupply": 60})
		h.at(local(t, ny, "2026-04-17", 9, 0))
		h.at(local(t, ny, "2026-04-18", 9, 0))
		h.expect("after the refill", f.Caregiver, "REFILL", "Still low", counts{2, 2, 0})
	})
}

func TestAppointment_RemindsTheAssigneeAndAdminsAtEachOffset(t *testing.T) {
	eachDialect(t, func(t *testing.T, d storage.Dialect) {
		h := newHarness(t, d, local(t, ny, day, 6, 0))
		f := h.family("Appt", ny, london, ny, tokyo)
		start := local(t, ny, "2026-04-16", 10, 30)
		apt := h.as(f.Admin).Must(201, "POST", "/api/v1/care-recipients/"+f.RecipientID+"/appointments", map[string]any{
			"title": "Cardiology check-up", "startTime": start, "doctorName": "Dr. Patel", "location": "Mercy Hospital",
			"assignedTo": f.Caregiver.UserID})
		h.settle()

		h.at(start.Add(-24*time.Hour - time.Minute))
		h.expect("before 24 h", f.Caregiver, "APPOINTMENT", "Cardiology", counts{})
		h.at(start.Add(-24 * time.Hour))
		h.expect("24 h before", f.Caregiver, "APPOINTMENT", "Cardiology", counts{1, 1, 0})
		h.expect("24 h before", f.Admin, "APPOINTMENT", "Cardiology", counts{1, 1, 0})
		h.expect("24 h before: viewers are not told", f.Viewer, "APPOINTMENT", "Cardiology", counts{})
		n := h.inbox(f.Caregiver, "APPOINTMENT")[0]
		if n.Title != "Cardiology check-up for Appt's Dad in 24 hours" ||
			n.Body != "Appt's Dad has Cardiology check-up on Thu 16 Apr at 10:30 with Dr. Patel at Mercy Hospital. You are going with Appt's Dad." ||
			n.URL != "/appointments/"+apt["id"].(string) {
			t.Errorf("caregiver's notice = %+v", n)
		}
		if a := h.inbox(f.Admin, "APPOINTMENT")[0]; !strings.Contains(a.Body, "10:30 (your time 15:30)") ||
			!strings.Contains(a.Body, "Appt Caregiver is going with") {
			t.Errorf("admin's notice = %q", a.Body)
		}
		h.at(start.Add(-time.Hour))
		h.expect("1 h before", f.Caregiver, "APPOINTMENT", "Cardiology", counts{2, 2, 0})
		h.expect("1 h before", f.Admin, "APPOINTMENT", "Cardiology", counts{2, 2, 0})

		// A moved appointment reminds at its new time only.
		moved := start.Add(48 * time.Hour)
		h.as(f.Admin).Must(200, "PATCH", "/api/v1/appointments/"+apt["id"].(string), map[string]any{"startTime": moved})
		h.settle()
		h.at(moved.Add(-time.Hour))
		h.expect("moved", f.Caregiver, "APPOINTMENT", "Cardiology", counts{4, 4, 0})
	})
}

func TestShift_ReminderAnHourBeforeAndHandoffNotesToTheNextCaregiver(t *testing.T) {
	eachDialect(t, func(t *testing.T, d storage.Dialect) {
		h := newHarness(t, d, local(t, ny, day, 6, 0))
		f := h.family("Handoff", ny, london, ny, tokyo)
		start := local(t, ny, day, 9, 0)
		shift := h.as(f.Admin).Must(201, "POST", "/api/v1/care-recipients/"+f.RecipientID+"/shifts", map[string]any{
			"caregiverId": f.Caregiver.UserID, "startTime": start, "endTime": local(t, ny, day, 17, 0)})
		next := h.as(f.Admin).Must(201, "POST", "/api/v1/care-recipients/"+f.RecipientID+"/shifts", map[string]any{
			"caregiverId": f.Admin.UserID, "startTime": local(t, ny, day, 17, 0), "endTime": local(t, ny, day, 23, 0)})
		h.settle()
		h.expect("scheduled by the admin", f.Caregiver, "SHIFT", "New shift", counts{1, 1, 0})
		h.expect("scheduled themself", f.Admin, "SHIFT", "New shift", counts{})

		h.at(start.Add(-61 * time.Minute))
		h.expect("before the reminder", f.Caregiver, "SHIFT", "starts in 1 hour", counts{})
		h.at(start.Add(-time.Hour))
		h.expect("an hour before", f.Caregiver, "SHIFT", "starts in 1 hour", counts{1, 1, 0})
		h.expect("not their shift", f.Viewer, "SHIFT", "", counts{})

		h.at(start)
		h.as(f.Caregiver).Must(200, "POST", "/api/v1/shifts/"+shift["id"].(string)+"/check-in", nil)
		h.at(local(t, ny, day, 17, 2))
		h.as(f.Caregiver).Must(200, "POST", "/api/v1/shifts/"+shift["id"].(string)+"/check-out", map[string]any{
			"handoffNotes": "Dad ate lunch; evening pills are on the counter."})
		h.settle()
		h.expect("handoff", f.Admin, "SHIFT", "Handoff from", counts{1, 1, 0})
		h.expect("handoff is for the next caregiver", f.Viewer, "SHIFT", "Handoff from", counts{})
		n := h.inbox(f.Admin, "SHIFT")
		last := n[len(n)-1]
		if last.Body != "Handoff Caregiver checked out of their shift with Handoff's Dad at 17:02 (your time 22:02). Notes: Dad ate lunch; evening pills are on the counter." ||
			last.URL != "/shifts/"+next["id"].(string) {
			t.Errorf("handoff notice = %+v", last)
		}
	})
}
