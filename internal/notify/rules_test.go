package notify_test

import (
	"strings"
	"testing"
	"time"

	"github.com/carecircle/carecircle/internal/storage"
)

const (
	ny     = "America/New_York"
	london = "Europe/London"
	tokyo  = "Asia/Tokyo"
	day    = "2026-04-14"
)

func TestDoseReminder_TellsEveryCaregiverAtTheDoseTimeInTheirOwnZone(t *testing.T) {
	eachDialect(t, func(t *testing.T, d storage.Dialect) {
		h := newHarness(t, d, local(t, ny, day, 6, 0))
		f := h.family("Dose", ny, london, ny, tokyo)
		med := h.medication(f, f.RecipientID, "Metformin", "500mg", "TWICE_DAILY", []string{"08:00", "20:00"}, nil, nil)
		eight := local(t, ny, day, 8, 0)
		if j := h.job(doseKey(med, eight)); !j.RunAt.Equal(eight) || j.State != storage.JobAvailable {
			t.Fatalf("08:00 dose job = %+v", j)
		}

		h.at(eight.Add(-time.Minute))
		h.expect("07:59", f.Admin, "DOSE_REMINDER", "Time for", counts{})

		h.at(eight)
		h.expect("08:00", f.Admin, "DOSE_REMINDER", "Time for", counts{1, 1, 0})
		h.expect("08:00", f.Caregiver, "DOSE_REMINDER", "Time for", counts{1, 1, 0})
		h.expect("08:00 (viewers are not asked to give doses)", f.Viewer, "DOSE_REMINDER", "Time for", counts{})
		n := h.inbox(f.Admin, "DOSE_REMINDER")[0]
		if !n.CreatedAt.Equal(eight) || n.Title != "Time for Dose's Dad's Metformin 500mg" ||
			!strings.Contains(n.Body, "08:00 (your time 13:00) dose of Metformin 500mg is due now") || n.ReadAt != nil {
			t.Errorf("admin's notice = %+v", n)
		}
		if c := h.inbox(f.Caregiver, "DOSE_REMINDER")[0]; strings.Contains(c.Body, "your time") {
			t.Errorf("caregiver shares the recipient's zone, yet: %q", c.Body)
		}
		p := h.pushes(f.Admin, "Time for")[0]
		if p.Body != n.Body || p.URL != "/medications/"+med || p.Urgency != "normal" || p.TTL != time.Hour || p.Tag == "" {
			t.Errorf("admin's push = %+v", p)
		}
		if got := n.delivery("push"); got != "SENT" {
			t.Errorf("push delivery = %q, want SENT", got)
		}

		// Nothing more until 20:00, then the evening dose.
		h.at(local(t, ny, day, 19, 59))
		h.expect("19:59", f.Caregiver, "DOSE_REMINDER", "Time for", counts{1, 1, 0})
		h.at(local(t, ny, day, 20, 0))
		h.expect("20:00", f.Caregiver, "DOSE_REMINDER", "Time for", counts{2, 2, 0})
	})
}

func TestDoseReminder_OnlyTheCaregiverOnShiftIsTold(t *testing.T) {
	eachDialect(t, func(t *testing.T, d storage.Dialect) {
		h := newHarness(t, d, local(t, ny, day, 6, 0))
		f := h.family("Shift", ny, london, ny, tokyo)
		h.as(f.Admin).Must(201, "POST", "/api/v1/care-recipients/"+f.RecipientID+"/shifts", map[string]any{
			"caregiverId": f.Caregiver.UserID, "startTime": local(t, ny, day, 7, 0), "endTime": local(t, ny, day, 15, 0)})
		h.medication(f, f.RecipientID, "Lisinopril", "10mg", "TWICE_DAILY", []string{"08:00", "20:00"}, nil, nil)

		h.at(local(t, ny, day, 8, 0))
		h.expect("on shift", f.Caregiver, "DOSE_REMINDER", "Time for", counts{1, 1, 0})
		h.expect("admin while a caregiver is on shift", f.Admin, "DOSE_REMINDER", "Time for", counts{})

		h.at(local(t, ny, day, 20, 0))
		h.expect("no shift at 20:00", f.Caregiver, "DOSE_REMINDER", "Time for", counts{2, 2, 0})
		h.expect("no shift at 20:00", f.Admin, "DOSE_REMINDER", "Time for", counts{1, 1, 0})
	})
}

func TestDoseReminder_NeverForALoggedDose(t *testing.T) {
	eachDialect(t, func(t *testing.T, d storage.Dialect) {
		h := newHarness(t, d, local(t, ny, day, 6, 0))
		f := h.family("Logged", ny, london, ny, tokyo)
		med := h.medication(f, f.RecipientID, "Aspirin", "81mg", "ONCE_DAILY", []string{"08:00"}, nil, nil)
		eight := local(t, ny, day, 8, 0)
		h.at(local(t, ny, day, 7, 50))
		h.logDose(f, f.RecipientID, med, f.Caregiver, eight, "GIVEN")

		h.at(eight)
		h.at(local(t, ny, day, 10, 0))
		for _, c := range []string{"DOSE_REMINDER", "MISSED_DOSE"} {
			h.expect("logged dose", f.Caregiver, c, "Aspirin", counts{})
			h.expect("logged dose", f.Admin, c, "Aspirin", counts{})
		}
		if j := h.job(doseKey(med, eight)); j.State != storage.JobDone {
			t.Fatalf("dose job = %+v", j)
		}
	})
}

func TestMissedDose_EscalatesToAdminsAndCaregiversAfterTheRecipientsDelay(t *testing.T) {
	eachDialect(t, func(t *testing.T, d storage.Dialect) {
		h := newHarness(t, d, local(t, ny, day, 6, 0))
		f := h.family("Missed", ny, london, ny, tokyo)
		// The family wants to know after 30 minutes, not the default hour.
		h.as(f.Admin).Must(200, "PATCH", "/api/v1/care-recipients/"+f.RecipientID, map[string]any{"missedDoseMinutes": 30})
		med := h.medication(f, f.RecipientID, "Warfarin", "5mg", "ONCE_DAILY", []string{"08:00"}, nil, nil)
		eight := local(t, ny, day, 8, 0)

		h.at(eight)
		h.at(eight.Add(29 * time.Minute))
		h.expect("after 29 minutes", f.Admin, "MISSED_DOSE", "Missed dose", counts{})

		h.at(eight.Add(30 * time.Minute))
		var missed int
		h.db.QueryRow(`SELECT COUNT(*) FROM events WHERE type = 'medication.missed' AND family_id = $1`, f.ID).Scan(&missed)
		if missed != 1 {
			t.Fatalf("medication.missed events = %d, want 1", missed)
		}
		h.expect("after 30 minutes", f.Admin, "MISSED_DOSE", "Missed dose", counts{1, 1, 1})
		h.expect("after 30 minutes", f.Caregiver, "MISSED_DOSE", "Missed dose", counts{1, 1, 1})
		h.expect("after 30 minutes", f.Viewer, "MISSED_DOSE", "Missed dose", counts{})
		n := h.inbox(f.Admin, "MISSED_DOSE")[0]
		if !strings.Contains(n.Body, "08:00 (your time 13:00) dose of Warfarin 5mg") || !strings.Contains(n.Body, "30 minutes overdue") ||
			n.EventID == "" {
			t.Errorf("missed notice = %+v", n)
		}
		mail := h.emails(f.Caregiver, "Missed dose")[0]
		if !strings.Contains(mail.Text, h.inbox(f.Caregiver, "MISSED_DOSE")[0].Body) || !strings.Contains(mail.Text, h.e.URL+"/medications/"+med) {
			t.Errorf("email text = %q", mail.Text)
		}
		// Logging the dose late changes nothing already sent and nothing
		// more is sent.
		h.logDose(f, f.RecipientID, med, f.Caregiver, eight, "GIVEN")
		h.at(eight.Add(3 * time.Hour))
		h.expect("later", f.Admin, "MISSED_DOSE", "Missed dose", counts{1, 1, 1})
	})
}

func TestDoseReminder_ReplannedWhenTheMedicationOrTheRecipientsZoneChanges(t *testing.T) {
	eachDialect(t, func(t *testing.T, d storage.Dialect) {
		h := newHarness(t, d, local(t, ny, day, 6, 0))
		f := h.family("Replan", ny, london, ny, tokyo)
		med := h.medication(f, f.RecipientID, "Metformin", "500mg", "ONCE_DAILY", []string{"08:00"}, nil, nil)
		// Moved to 09:00: the 08:00 job finds it is no longer a dose.
		h.as(f.Admin).Must(200, "PATCH", "/api/v1/medications/"+med, map[string]any{"times": []string{"09:00"}})
		h.settle()
		h.at(local(t, ny, day, 8, 0))
		h.expect("08:00 after the move", f.Caregiver, "DOSE_REMINDER", "Time for", counts{})
		h.at(local(t, ny, day, 9, 0))
		h.expect("09:00", f.Caregiver, "DOSE_REMINDER", "Time for", counts{1, 1, 0})

		// Dad moves to Chicago: tomorrow's 09:00 is an hour later in UTC.
		h.as(f.Admin).Must(200, "PATCH", "/api/v1/care-recipients/"+f.RecipientID, map[string]any{"timezone": "America/Chicago"})
		h.settle()
		h.at(local(t, ny, "2026-04-15", 9, 0))
		h.expect("09:00 New York", f.Caregiver, "DOSE_REMINDER", "Time for", counts{1, 1, 0})
		h.at(local(t, "America/Chicago", "2026-04-15", 9, 0))
		h.expect("09:00 Chicago", f.Caregiver, "DOSE_REMINDER", "Time for", counts{2, 2, 0})
		if n := h.inbox(f.Caregiver, "DOSE_REMINDER")[1]; !strings.Contains(n.Body, "09:00 (your time 10:00)") {
			t.Errorf("reminder in the new zone = %q", n.Body)
		}

		// Stopped: nothing more.
		h.as(f.Admin).Must(204, "DELETE", "/api/v1/medications/"+med, nil)
		h.settle()
		h.at(local(t, "America/Chicago", "2026-04-16", 9, 0))
		h.at(local(t, "America/Chicago", "2026-04-16", 11, 0))
		h.expect("deactivated", f.Caregiver, "DOSE_REMINDER", "Time for", counts{2, 2, 0})
		// Day one's 09:00 dose was missed; day two's was due when the
		// medication was stopped, so its missed-dose check stays quiet.
		h.expect("deactivated: no missed dose either", f.Caregiver, "MISSED_DOSE", "Missed dose", counts{1, 1, 1})
	})
}
