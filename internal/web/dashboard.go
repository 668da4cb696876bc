package web

import (
	"net/http"
	"time"

	"github.com/carecircle/carecircle"
	"github.com/carecircle/carecircle/internal/storage"
)

// dashboardCard is one care recipient on the dashboard.
type dashboardCard struct {
	R        carecircle.CareRecipient
	Loc      *time.Location
	CanWrite bool
	Alerts   []carecircle.EmergencyAlert
	Doses    []carecircle.ScheduledDose
	Refills  []carecircle.Medication
	OnDuty   []carecircle.Shift
	Upcoming []carecircle.AppointmentOccurrence
	Timeline []carecircle.TimelineEntry
}

type dashboardData struct {
	Cards []dashboardCard
	// Families without any care recipient yet, where the viewer may add one.
	EmptyFamilies []carecircle.MyFamily
	Form          *form
}

// dashboardPage is the signed-in home: for each care recipient, active
// alerts, today's doses with one-tap Given and Skipped, who is on shift,
// the next appointments and who drives, the latest timeline entries and
// the medications to refill.
func (h *Handler) dashboardPage(w http.ResponseWriter, r *http.Request, v *viewer) {
	d, err := h.dashboard(r, v)
	if err != nil {
		h.fail(w, r, v, err)
		return
	}
	p := h.newPage(w, r, v, "Dashboard")
	p.Tab = "dashboard"
	p.Alerts = h.openAlerts(r.Context(), v)
	for i := range d.Cards {
		for _, a := range p.Alerts {
			if a.CareRecipientID == d.Cards[i].R.ID {
				d.Cards[i].Alerts = append(d.Cards[i].Alerts, a)
			}
		}
	}
	d.Form = newForm("name")
	p.Data = d
	h.render(w, r, http.StatusOK, "dashboard", p)
}

func (h *Handler) dashboard(r *http.Request, v *viewer) (dashboardData, error) {
	ctx := r.Context()
	now := h.clock.Now()
	d := dashboardData{}
	has := map[string]bool{}
	for _, c := range v.Recipients {
		has[c.FamilyID] = true
		card := dashboardCard{R: c, Loc: c.Location(), CanWrite: v.CanWrite(c.FamilyID)}
		sch, err := h.db.ScheduleForDay(ctx, c.ID, nil)
		if err != nil {
			return d, err
		}
		card.Doses = sch.Items
		meds, err := h.db.Medications(ctx, c.ID, false)
		if err != nil {
			return d, err
		}
		for _, m := range meds {
			if m.NeedsRefill() {
				card.Refills = append(card.Refills, m)
			}
		}
		if card.OnDuty, err = h.db.OnDutyShifts(ctx, c.ID); err != nil {
			return d, err
		}
		if card.Upcoming, _, err = h.db.Appointments(ctx, c.ID, appointmentsFrom(now, 7*24*time.Hour, 3)); err != nil {
			return d, err
		}
		if card.Timeline, _, err = h.db.TimelineEntries(ctx, c.ID, storage.TimelineFilter{Page: pageOf(3)}); err != nil {
			return d, err
		}
		d.Cards = append(d.Cards, card)
	}
	for _, f := range v.Families {
		if !has[f.ID] && f.Role.CanWriteCare() {
			d.EmptyFamilies = append(d.EmptyFamilies, f)
		}
	}
	return d, nil
}

// appointmentsFrom asks for up to n appointment occurrences starting from
// an hour ago (one under way still matters) to window ahead.
func appointmentsFrom(now time.Time, window time.Duration, n int) storage.AppointmentRange {
	return storage.AppointmentRange{From: now.Add(-time.Hour), To: now.Add(window), Page: pageOf(n)}
}
