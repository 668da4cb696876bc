package web

import (
	"net/http"
	"time"

	"github.com/carecircle/carecircle"
)

type medicationsData struct {
	Schedule    carecircle.DaySchedule
	Day         time.Time // local midnight of the schedule's day
	Prev, Next  string    // YYYY-MM-DD
	IsToday     bool
	Medications []carecircle.Medication
	Inactive    []carecircle.Medication
	CanWrite    bool
}

// medicationsPage shows a day's doses in the recipient's zone (with the
// viewer's own time alongside when it differs) with one-tap Given and
// Skipped, and the medications with their supply.
func (h *Handler) medicationsPage(w http.ResponseWriter, r *http.Request, v *viewer) {
	c, ok := h.loadRecipient(w, r, v)
	if !ok {
		return
	}
	ctx := r.Context()
	loc := c.Location()
	var day *carecircle.Date
	if s := r.URL.Query().Get("date"); s != "" {
		if d, err := carecircle.ParseDate(s); err == nil && d.Year >= 1970 && d.Year <= 2199 {
			day = &d
		}
	}
	sch, err := h.db.ScheduleForDay(ctx, c.ID, day)
	if err != nil {
		h.fail(w, r, v, err)
		return
	}
	all, err := h.db.Medications(ctx, c.ID, true)
	if err != nil {
		h.fail(w, r, v, err)
		return
	}
	d := medicationsData{Schedule: sch, CanWrite: v.CanWrite(c.FamilyID)}
	d.Day = time.Date(sch.Date.Year, sch.Date.Month, sch.Date.Day, 0, 0, 0, 0, loc)
	d.Prev, d.Next = sch.Date.AddDays(-1).String(), sch.Date.AddDays(1).String()
	d.IsToday = sch.Date == carecircle.DateOf(h.clock.Now(), loc)
	for _, m := range all {
		if m.IsActive {
			d.Medications = append(d.Medications, m)
		} else {
			d.Inactive = append(d.Inactive, m)
		}
	}
	p := h.carePage(w, r, v, c, "medications", "Medications")
	p.Data = d
	h.render(w, r, http.StatusOK, "medications", p)
}
