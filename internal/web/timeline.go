package web

import (
	"net/http"
	"time"

	"github.com/carecircle/carecircle"
	"github.com/carecircle/carecircle/internal/storage"
)

var timelineFields = []string{"type", "content", "occurredAt", "severity", "vitals.systolic", "vitals.diastolic",
	"vitals.heartRate", "vitals.temperatureC", "vitals.bloodSugar", "vitals.oxygenSaturation", "vitals.weightKg", "vitals"}

type timelineData struct {
	Type     string
	Entries  []carecircle.TimelineEntry
	Next     string // cursor of the next page
	Charts   []chart
	CanWrite bool
	Form     *form
	EntryID  string // set when editing
}

// timelinePage lists a recipient's timeline, newest first, filtered by
// type, with vitals trends and the form to add an entry.
func (h *Handler) timelinePage(w http.ResponseWriter, r *http.Request, v *viewer) {
	c, ok := h.loadRecipient(w, r, v)
	if !ok {
		return
	}
	f := newForm(timelineFields...)
	f.Set("type", string(carecircle.TimelineNote))
	h.renderTimeline(w, r, v, c, f, http.StatusOK)
}

func (h *Handler) renderTimeline(w http.ResponseWriter, r *http.Request, v *viewer, c *carecircle.CareRecipient, f *form, status int) {
	ctx := r.Context()
	q := r.URL.Query()
	d := timelineData{CanWrite: v.CanWrite(c.FamilyID), Form: f}
	filter := storage.TimelineFilter{Page: storage.Page{Limit: 30, Cursor: q.Get("cursor")}}
	if t := carecircle.TimelineType(q.Get("type")); t.Valid() {
		filter.Type, d.Type = t, string(t)
	}
	var err error
	if d.Entries, d.Next, err = h.db.TimelineEntries(ctx, c.ID, filter); err != nil {
		h.fail(w, r, v, err)
		return
	}
	if d.Type == "" || d.Type == string(carecircle.TimelineVitals) {
		now := h.clock.Now()
		vitals, _, err := h.db.TimelineEntries(ctx, c.ID, storage.TimelineFilter{Type: carecircle.TimelineVitals,
			From: now.Add(-chartWindow), Page: pageOf(storage.MaxPageSize)})
		if err != nil {
			h.fail(w, r, v, err)
			return
		}
		d.Charts = vitalsCharts(vitals, v.Loc)
	}
	p := h.carePage(w, r, v, c, "timeline", "Timeline")
	p.Data = d
	h.render(w, r, status, "timeline", p)
}

// timelineCreate adds an entry, with vitals when given.
func (h *Handler) timelineCreate(w http.ResponseWriter, r *http.Request, v *viewer) {
	c, ok := h.loadRecipient(w, r, v)
	if !ok {
		return
	}
	f, err := parseForm(w, r, timelineFields...)
	if err != nil {
		h.fail(w, r, v, err)
		return
	}
	e := carecircle.TimelineEntry{}
	now := h.clock.Now()
	f.applyTimeline(&e, c.Location(), now)
	if err = f.validated(func() error { return e.Validate(now) }); err == nil {
		if _, err = h.db.CreateTimelineEntry(r.Context(), c.ID, e); err == nil {
			redirect(w, r, "/care/"+c.ID+"/timeline", "ok", "Added to the timeline.")
			return
		}
	}
	h.renderTimeline(w, r, v, c, f, f.FailOnce(err))
}

// timelineEditPage shows an entry for editing (its author or an ADMIN).
func (h *Handler) timelineEditPage(w http.ResponseWriter, r *http.Request, v *viewer) {
	c, ok := h.loadRecipient(w, r, v)
	if !ok {
		return
	}
	e, err := h.db.TimelineEntry(r.Context(), r.PathValue("eid"))
	if err != nil {
		h.fail(w, r, v, err)
		return
	}
	if !belongs(w, r, h, v, e.CareRecipientID) {
		return
	}
	f := newForm(timelineFields...)
	fillTimeline(f, &e, c.Location())
	h.renderTimelineEdit(w, r, v, c, f, e.ID, http.StatusOK)
}

func (h *Handler) renderTimelineEdit(w http.ResponseWriter, r *http.Request, v *viewer, c *carecircle.CareRecipient, f *form, id string, status int) {
	p := h.carePage(w, r, v, c, "timeline", "Edit entry")
	p.Data = timelineData{CanWrite: true, Form: f, EntryID: id}
	h.render(w, r, status, "timeline_edit", p)
}

// timelineSave saves an edited entry.
func (h *Handler) timelineSave(w http.ResponseWriter, r *http.Request, v *viewer) {
	c, ok := h.loadRecipient(w, r, v)
	if !ok {
		return
	}
	e, err := h.db.TimelineEntry(r.Context(), r.PathValue("eid"))
	if err != nil {
		h.fail(w, r, v, err)
		return
	}
	if !belongs(w, r, h, v, e.CareRecipientID) {
		return
	}
	f, err := parseForm(w, r, timelineFields...)
	if err != nil {
		h.fail(w, r, v, err)
		return
	}
	now := h.clock.Now()
	_, err = h.db.UpdateTimelineEntry(r.Context(), e.ID, func(e *carecircle.TimelineEntry) error {
		f.applyTimeline(e, c.Location(), now)
		return f.validated(func() error { return e.Validate(now) })
	})
	if err == nil {
		redirect(w, r, "/care/"+c.ID+"/timeline", "ok", "The entry is saved.")
		return
	}
	h.renderTimelineEdit(w, r, v, c, f, e.ID, f.FailOnce(err))
}

// timelineDelete deletes an entry (its author or an ADMIN).
func (h *Handler) timelineDelete(w http.ResponseWriter, r *http.Request, v *viewer) {
	c, ok := h.loadRecipient(w, r, v)
	if !ok {
		return
	}
	e, err := h.db.TimelineEntry(r.Context(), r.PathValue("eid"))
	if err != nil {
		h.fail(w, r, v, err)
		return
	}
	if !belongs(w, r, h, v, e.CareRecipientID) {
		return
	}
	if err := h.db.DeleteTimelineEntry(r.Context(), e.ID); err != nil {
		redirect(w, r, "/care/"+c.ID+"/timeline", "error", errorText(err))
		return
	}
	redirect(w, r, "/care/"+c.ID+"/timeline", "ok", "The entry is deleted.")
}

// applyTimeline copies the form onto e. The time is a wall time in the
// recipient's zone; empty means now.
func (f *form) applyTimeline(e *carecircle.TimelineEntry, loc *time.Location, now time.Time) {
	e.Type = carecircle.TimelineType(f.Get("type"))
	e.Content = f.Get("content")
	e.OccurredAt = f.localTime("occurredAt", loc, false)
	if e.OccurredAt.IsZero() {
		e.OccurredAt = now
	}
	e.Severity = nil
	if s := carecircle.Severity(f.Get("severity")); s != "" {
		e.Severity = &s
	}
	vt := &carecircle.Vitals{
		Systolic:         f.optionalFloat("vitals.systolic", "Systolic"),
		Diastolic:        f.optionalFloat("vitals.diastolic", "Diastolic"),
		HeartRate:        f.optionalFloat("vitals.heartRate", "Heart rate"),
		TemperatureC:     f.optionalFloat("vitals.temperatureC", "Temperature"),
		BloodSugar:       f.optionalFloat("vitals.bloodSugar", "Blood sugar"),
		OxygenSaturation: f.optionalFloat("vitals.oxygenSaturation", "Oxygen saturation"),
		WeightKg:         f.optionalFloat("vitals.weightKg", "Weight"),
	}
	e.Vitals = nil
	if !vt.IsEmpty() {
		e.Vitals = vt
	}
}

// fillTimeline prefills the form from a stored entry.
func fillTimeline(f *form, e *carecircle.TimelineEntry, loc *time.Location) {
	f.Set("type", string(e.Type))
	f.Set("content", e.Content)
	f.Set("occurredAt", e.OccurredAt.In(loc).Format("2006-01-02T15:04"))
	if e.Severity != nil {
		f.Set("severity", string(*e.Severity))
	}
	if vt := e.Vitals; vt != nil {
		for name, x := range map[string]*float64{"vitals.systolic": vt.Systolic, "vitals.diastolic": vt.Diastolic,
			"vitals.heartRate": vt.HeartRate, "vitals.temperatureC": vt.TemperatureC, "vitals.bloodSugar": vt.BloodSugar,
			"vitals.oxygenSaturation": vt.OxygenSaturation, "vitals.weightKg": vt.WeightKg} {
			if x != nil {
				f.Set(name, formatNum(*x))
			}
		}
	}
}
