package web

import (
	"net/http"
	"time"

	"github.com/carecircle/carecircle"
	"github.com/carecircle/carecircle/internal/storage"
)

var shiftFields = []string{"caregiverId", "startTime", "endTime", "notes"}

type shiftDay struct {
	Date   time.Time
	Today  bool
	Shifts []carecircle.Shift
}

type shiftsData struct {
	Days       []shiftDay
	Week       time.Time
	Prev, Next string
	OnDuty     []carecircle.Shift
	Caregivers []carecircle.Member
	CanWrite   bool
	Form       *form
}

// shiftsPage shows a week of shifts (Monday to Sunday in the recipient's
// zone), who is on duty now with the previous handoff notes, check in and
// out, and the form to schedule a shift.
func (h *Handler) shiftsPage(w http.ResponseWriter, r *http.Request, v *viewer) {
	c, ok := h.loadRecipient(w, r, v)
	if !ok {
		return
	}
	f := newForm(shiftFields...)
	f.Set("caregiverId", v.ID)
	h.renderShifts(w, r, v, c, f, http.StatusOK)
}

func (h *Handler) renderShifts(w http.ResponseWriter, r *http.Request, v *viewer, c *carecircle.CareRecipient, f *form, status int) {
	ctx := r.Context()
	loc := c.Location()
	now := h.clock.Now()
	today := localDay(now, loc)
	week := today.AddDate(0, 0, -((int(today.Weekday()) + 6) % 7))
	if d, err := time.ParseInLocation("2006-01-02", r.URL.Query().Get("week"), loc); err == nil && d.Year() >= 1970 && d.Year() <= 2199 {
		week = d.AddDate(0, 0, -((int(d.Weekday()) + 6) % 7))
	}
	end := week.AddDate(0, 0, 7)
	d := shiftsData{Week: week, Prev: week.AddDate(0, 0, -7).Format("2006-01-02"), Next: end.Format("2006-01-02"),
		CanWrite: v.CanWrite(c.FamilyID), Form: f}
	var all []carecircle.Shift
	q := storage.ShiftFilter{From: week, To: end, Page: pageOf(storage.MaxPageSize)}
	for i := 0; i < 5; i++ {
		items, next, err := h.db.Shifts(ctx, c.ID, q)
		if err != nil {
			h.fail(w, r, v, err)
			return
		}
		all = append(all, items...)
		if next == "" {
			break
		}
		q.Page.Cursor = next
	}
	for day := week; day.Before(end); day = time.Date(day.Year(), day.Month(), day.Day()+1, 0, 0, 0, 0, loc) {
		sd := shiftDay{Date: day, Today: day.Equal(today)}
		next := time.Date(day.Year(), day.Month(), day.Day()+1, 0, 0, 0, 0, loc)
		for _, s := range all {
			if s.StartTime.Before(next) && !s.StartTime.Before(day) {
				sd.Shifts = append(sd.Shifts, s)
			}
		}
		d.Days = append(d.Days, sd)
	}
	var err error
	if d.OnDuty, err = h.db.OnDutyShifts(ctx, c.ID); err != nil {
		h.fail(w, r, v, err)
		return
	}
	if d.CanWrite {
		ms, err := h.db.Members(ctx, c.FamilyID)
		if err != nil {
			h.fail(w, r, v, err)
			return
		}
		for _, m := range ms {
			if m.Role.CanWriteCare() {
				d.Caregivers = append(d.Caregivers, m)
			}
		}
	}
	p := h.carePage(w, r, v, c, "shifts", "Shifts")
	p.Data = d
	h.render(w, r, status, "shifts", p)
}

// shiftCreate schedules a shift.
func (h *Handler) shiftCreate(w http.ResponseWriter, r *http.Request, v *viewer) {
	c, ok := h.loadRecipient(w, r, v)
	if !ok {
		return
	}
	f, err := parseForm(w, r, shiftFields...)
	if err != nil {
		h.fail(w, r, v, err)
		return
	}
	loc := c.Location()
	s := carecircle.Shift{Caregiver: carecircle.MemberRef{ID: f.Get("caregiverId")}, Notes: f.Get("notes"),
		StartTime: f.localTime("startTime", loc, true), EndTime: f.localTime("endTime", loc, true)}
	if err = f.validated(s.Validate); err == nil {
		if s, err = h.db.CreateShift(r.Context(), c.ID, s); err == nil {
			redirect(w, r, "/care/"+c.ID+"/shifts?week="+localDay(s.StartTime, loc).Format("2006-01-02"), "ok",
				"Shift scheduled for "+s.Caregiver.FullName+".")
			return
		}
	}
	h.renderShifts(w, r, v, c, f, f.FailOnce(err))
}

// shiftCheckIn starts the viewer's shift.
func (h *Handler) shiftCheckIn(w http.ResponseWriter, r *http.Request, v *viewer) {
	h.shiftAction(w, r, v, func(s *carecircle.Shift) (string, error) {
		_, err := h.db.CheckIn(r.Context(), s.ID)
		return "You are checked in. Thank you!", err
	})
}

// shiftCheckOut ends the viewer's shift with handoff notes for the next.
func (h *Handler) shiftCheckOut(w http.ResponseWriter, r *http.Request, v *viewer) {
	f, err := parseForm(w, r, "handoffNotes")
	if err != nil {
		h.fail(w, r, v, err)
		return
	}
	h.shiftAction(w, r, v, func(s *carecircle.Shift) (string, error) {
		_, err := h.db.CheckOut(r.Context(), s.ID, f.Get("handoffNotes"))
		return "You are checked out. Your notes are passed on.", err
	})
}

// shiftDelete cancels a shift that hasn't started (ADMIN or its creator).
func (h *Handler) shiftDelete(w http.ResponseWriter, r *http.Request, v *viewer) {
	h.shiftAction(w, r, v, func(s *carecircle.Shift) (string, error) {
		return "The shift is cancelled.", h.db.DeleteShift(r.Context(), s.ID)
	})
}

// shiftAction loads the shift in the path, runs do and goes back to its
// week with do's message or error.
func (h *Handler) shiftAction(w http.ResponseWriter, r *http.Request, v *viewer, do func(*carecircle.Shift) (string, error)) {
	c, ok := h.loadRecipient(w, r, v)
	if !ok {
		return
	}
	s, err := h.db.Shift(r.Context(), r.PathValue("sid"))
	if err != nil {
		h.fail(w, r, v, err)
		return
	}
	if !belongs(w, r, h, v, s.CareRecipientID) {
		return
	}
	back := "/care/" + c.ID + "/shifts?week=" + localDay(s.StartTime, c.Location()).Format("2006-01-02")
	msg, err := do(&s)
	if err != nil {
		redirect(w, r, back, "error", errorText(err))
		return
	}
	redirect(w, r, back, "ok", msg)
}
