package web

import (
	"net/http"
	"time"

	"github.com/carecircle/carecircle"
)

type recipientData struct {
	Age      *int
	OnDuty   []carecircle.Shift
	Upcoming []carecircle.AppointmentOccurrence
}

// recipientPage is a care recipient's overview: profile, allergies,
// conditions, contacts, doctors, insurance; who is on shift and what's next.
func (h *Handler) recipientPage(w http.ResponseWriter, r *http.Request, v *viewer) {
	c, ok := h.loadRecipient(w, r, v)
	if !ok {
		return
	}
	ctx := r.Context()
	now := h.clock.Now()
	d := recipientData{}
	if c.DateOfBirth != nil {
		age := carecircle.AgeOn(*c.DateOfBirth, carecircle.DateOf(now, c.Location()))
		d.Age = &age
	}
	var err error
	if d.OnDuty, err = h.db.OnDutyShifts(ctx, c.ID); err != nil {
		h.fail(w, r, v, err)
		return
	}
	if d.Upcoming, _, err = h.db.Appointments(ctx, c.ID, appointmentsFrom(now, 14*24*time.Hour, 3)); err != nil {
		h.fail(w, r, v, err)
		return
	}
	p := h.carePage(w, r, v, c, "overview", "Overview")
	p.Data = d
	h.render(w, r, http.StatusOK, "recipient", p)
}
