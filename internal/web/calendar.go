package web

import (
	"net/http"
	"time"

	"github.com/carecircle/carecircle"
	"github.com/carecircle/carecircle/internal/api"
	"github.com/carecircle/carecircle/internal/storage"
)

// calendarDay is one cell of the month grid or one day of the agenda.
type calendarDay struct {
	Date    time.Time // local midnight
	InMonth bool
	Today   bool
	Items   []carecircle.AppointmentOccurrence
}

type calendarData struct {
	View       string // "month" or "agenda"
	Month      time.Time
	Prev, Next string // YYYY-MM
	Weeks      [][]calendarDay
	Agenda     []calendarDay
	CanWrite   bool
	Subscribe  *api.CalendarToken
	Weekdays   []string
}

// calendarPage shows a recipient's appointments as a month grid or an
// agenda of the coming weeks, with the iCalendar subscribe link.
func (h *Handler) calendarPage(w http.ResponseWriter, r *http.Request, v *viewer) {
	c, ok := h.loadRecipient(w, r, v)
	if !ok {
		return
	}
	h.renderCalendar(w, r, v, c, nil)
}

func (h *Handler) renderCalendar(w http.ResponseWriter, r *http.Request, v *viewer, c *carecircle.CareRecipient, sub *api.CalendarToken) {
	loc := c.Location()
	now := h.clock.Now().In(loc)
	q := r.URL.Query()
	d := calendarData{View: q.Get("view"), CanWrite: v.CanWrite(c.FamilyID), Subscribe: sub,
		Weekdays: []string{"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"}}
	if d.View != "month" {
		d.View = "agenda"
	}
	month := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, loc)
	if m, err := time.ParseInLocation("2006-01", q.Get("month"), loc); err == nil && m.Year() >= 1970 && m.Year() <= 2199 {
		month = m
	}
	d.Month = month
	d.Prev, d.Next = month.AddDate(0, -1, 0).Format("2006-01"), month.AddDate(0, 1, 0).Format("2006-01")
	today := localDay(now, loc)

	var from, to time.Time
	if d.View == "month" {
		// The grid starts on the Monday on or before the 1st and ends on the
		// Sunday on or after the last day.
		from = month.AddDate(0, 0, -((int(month.Weekday()) + 6) % 7))
		last := month.AddDate(0, 1, -1)
		to = last.AddDate(0, 0, 7-((int(last.Weekday())+6)%7))
	} else {
		from, to = today, today.AddDate(0, 0, 60)
	}
	items, err := h.occurrences(r, c.ID, from, to)
	if err != nil {
		h.fail(w, r, v, err)
		return
	}
	byDay := map[time.Time][]carecircle.AppointmentOccurrence{}
	for _, it := range items {
		day := localDay(it.StartTime, loc)
		byDay[day] = append(byDay[day], it)
	}
	if d.View == "month" {
		for day := from; day.Before(to); {
			week := make([]calendarDay, 0, 7)
			for i := 0; i < 7; i++ {
				week = append(week, calendarDay{Date: day, InMonth: day.Month() == month.Month(), Today: day.Equal(today), Items: byDay[day]})
				day = time.Date(day.Year(), day.Month(), day.Day()+1, 0, 0, 0, 0, loc)
			}
			d.Weeks = append(d.Weeks, week)
		}
	} else {
		for day := from; day.Before(to); day = time.Date(day.Year(), day.Month(), day.Day()+1, 0, 0, 0, 0, loc) {
			if len(byDay[day]) > 0 {
				d.Agenda = append(d.Agenda, calendarDay{Date: day, Today: day.Equal(today), Items: byDay[day]})
			}
		}
	}
	p := h.carePage(w, r, v, c, "calendar", "Calendar")
	p.Data = d
	h.render(w, r, http.StatusOK, "calendar", p)
}

// occurrences reads every appointment occurrence in [from, to), following
// the pages (a month rarely has more than one).
func (h *Handler) occurrences(r *http.Request, recipientID string, from, to time.Time) ([]carecircle.AppointmentOccurrence, error) {
	var out []carecircle.AppointmentOccurrence
	q := storage.AppointmentRange{From: from, To: to, Page: pageOf(storage.MaxPageSize)}
	for i := 0; i < 10; i++ {
		items, next, err := h.db.Appointments(r.Context(), recipientID, q)
		if err != nil {
			return nil, err
		}
		out = append(out, items...)
		if next == "" {
			break
		}
		q.Page.Cursor = next
	}
	return out, nil
}

// localDay is the local midnight of t's day in loc.
func localDay(t time.Time, loc *time.Location) time.Time {
	t = t.In(loc)
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, loc)
}

// calendarSubscribe issues the viewer's secret feed URL and shows it once.
func (h *Handler) calendarSubscribe(w http.ResponseWriter, r *http.Request, v *viewer) {
	c, ok := h.loadRecipient(w, r, v)
	if !ok {
		return
	}
	tok, err := h.api.CalendarToken(r.Context(), c.ID)
	if err != nil {
		h.fail(w, r, v, err)
		return
	}
	h.renderCalendar(w, r, v, c, &tok)
}
