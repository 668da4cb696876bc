package web

import (
	"net/http"
	"strconv"
	"time"

	"github.com/carecircle/carecircle"
	"github.com/carecircle/carecircle/internal/storage"
)

var medicationFields = []string{"name", "dosage", "frequency", "times", "daysOfWeek", "instructions", "prescribedBy",
	"currentSupply", "refillThreshold", "startDate", "endDate", "minIntervalMinutes", "maxDosesPer24h"}

var weekdayChoices = []option{{"1", "Mon"}, {"2", "Tue"}, {"3", "Wed"}, {"4", "Thu"}, {"5", "Fri"}, {"6", "Sat"}, {"0", "Sun"}}

type medicationFormData struct {
	ID       string
	Active   bool
	Weekdays []option
	Times    []string // four time inputs
}

// medicationNewPage shows the form to add a medication.
func (h *Handler) medicationNewPage(w http.ResponseWriter, r *http.Request, v *viewer) {
	c, ok := h.loadRecipient(w, r, v)
	if !ok {
		return
	}
	f := newForm(medicationFields...)
	f.Set("frequency", carecircle.FrequencyOnceDaily)
	f.Values["times"] = []string{"08:00"}
	h.renderMedicationForm(w, r, v, c, f, nil, http.StatusOK)
}

// medicationCreate adds the medication.
func (h *Handler) medicationCreate(w http.ResponseWriter, r *http.Request, v *viewer) {
	c, ok := h.loadRecipient(w, r, v)
	if !ok {
		return
	}
	f, err := parseForm(w, r, medicationFields...)
	if err != nil {
		h.fail(w, r, v, err)
		return
	}
	m := carecircle.Medication{IsActive: true}
	f.applyMedication(&m)
	if err = f.validated(m.Validate); err == nil {
		if m, err = h.db.CreateMedication(r.Context(), c.ID, m); err == nil {
			redirect(w, r, "/care/"+c.ID+"/medications", "ok", m.Name+" "+m.Dosage+" is added to the schedule.")
			return
		}
	}
	h.renderMedicationForm(w, r, v, c, f, nil, f.FailOnce(err))
}

// medicationEditPage shows a medication for editing.
func (h *Handler) medicationEditPage(w http.ResponseWriter, r *http.Request, v *viewer) {
	c, m, ok := h.loadMedication(w, r, v)
	if !ok {
		return
	}
	f := newForm(medicationFields...)
	fillMedication(f, m)
	h.renderMedicationForm(w, r, v, c, f, m, http.StatusOK)
}

// medicationSave saves the changes.
func (h *Handler) medicationSave(w http.ResponseWriter, r *http.Request, v *viewer) {
	c, m, ok := h.loadMedication(w, r, v)
	if !ok {
		return
	}
	f, err := parseForm(w, r, medicationFields...)
	if err != nil {
		h.fail(w, r, v, err)
		return
	}
	saved, err := h.db.UpdateMedication(r.Context(), m.ID, func(m *carecircle.Medication) error {
		f.applyMedication(m)
		return f.validated(m.Validate)
	})
	if err == nil {
		redirect(w, r, "/care/"+c.ID+"/medications", "ok", saved.Name+" is saved.")
		return
	}
	h.renderMedicationForm(w, r, v, c, f, m, f.FailOnce(err))
}

// medicationDeactivate stops a medication; its history stays.
func (h *Handler) medicationDeactivate(w http.ResponseWriter, r *http.Request, v *viewer) {
	c, m, ok := h.loadMedication(w, r, v)
	if !ok {
		return
	}
	if err := h.db.DeactivateMedication(r.Context(), m.ID); err != nil {
		redirect(w, r, "/care/"+c.ID+"/medications", "error", errorText(err))
		return
	}
	redirect(w, r, "/care/"+c.ID+"/medications", "ok", m.Name+" is stopped. Its history is kept.")
}

// medicationReactivate puts a stopped medication back on the schedule.
func (h *Handler) medicationReactivate(w http.ResponseWriter, r *http.Request, v *viewer) {
	c, m, ok := h.loadMedication(w, r, v)
	if !ok {
		return
	}
	if _, err := h.db.UpdateMedication(r.Context(), m.ID, func(m *carecircle.Medication) error {
		m.IsActive = true
		return nil
	}); err != nil {
		redirect(w, r, "/care/"+c.ID+"/medications", "error", errorText(err))
		return
	}
	redirect(w, r, "/care/"+c.ID+"/medications", "ok", m.Name+" is back on the schedule.")
}

type medicationHistoryData struct {
	Medication *carecircle.Medication
	Logs       []carecircle.DoseLog
	Next       string
}

// medicationHistoryPage lists a medication's dose logs, newest first.
func (h *Handler) medicationHistoryPage(w http.ResponseWriter, r *http.Request, v *viewer) {
	c, m, ok := h.loadMedication(w, r, v)
	if !ok {
		return
	}
	logs, next, err := h.db.DoseHistory(r.Context(), m.ID, storage.Page{Limit: 50, Cursor: r.URL.Query().Get("cursor")})
	if err != nil {
		h.fail(w, r, v, err)
		return
	}
	p := h.carePage(w, r, v, c, "medications", m.Name+" history")
	p.Data = medicationHistoryData{Medication: m, Logs: logs, Next: next}
	h.render(w, r, http.StatusOK, "medication_history", p)
}

// loadMedication reads the recipient and the medication ({mid}) of the
// path, which must be theirs.
func (h *Handler) loadMedication(w http.ResponseWriter, r *http.Request, v *viewer) (*carecircle.CareRecipient, *carecircle.Medication, bool) {
	c, ok := h.loadRecipient(w, r, v)
	if !ok {
		return nil, nil, false
	}
	m, err := h.db.Medication(r.Context(), r.PathValue("mid"))
	if err != nil {
		h.fail(w, r, v, err)
		return nil, nil, false
	}
	if !belongs(w, r, h, v, m.CareRecipientID) {
		return nil, nil, false
	}
	return c, &m, true
}

func (h *Handler) renderMedicationForm(w http.ResponseWriter, r *http.Request, v *viewer, c *carecircle.CareRecipient, f *form, m *carecircle.Medication, status int) {
	d := medicationFormData{Weekdays: weekdayChoices, Active: true}
	d.Times = append(d.Times, f.Values["times"]...)
	for len(d.Times) < 4 {
		d.Times = append(d.Times, "")
	}
	title := "Add a medication"
	if m != nil {
		d.ID, d.Active, title = m.ID, m.IsActive, "Edit "+m.Name
	}
	p := h.carePage(w, r, v, c, "medications", title)
	p.Form, p.Data = f, d
	h.render(w, r, status, "medication_form", p)
}

// applyMedication copies the form onto m, recording malformed numbers and
// dates. Fields that don't apply to the chosen frequency are cleared.
func (f *form) applyMedication(m *carecircle.Medication) {
	m.Name, m.Dosage, m.Frequency = f.Get("name"), f.Get("dosage"), f.Get("frequency")
	m.Instructions, m.PrescribedBy = f.Get("instructions"), f.Get("prescribedBy")
	m.Times = []string{}
	for _, t := range f.Values["times"] {
		if t != "" {
			m.Times = append(m.Times, t)
		}
	}
	m.DaysOfWeek = []time.Weekday{}
	for _, d := range f.Values["daysOfWeek"] {
		if n, err := strconv.Atoi(d); err == nil && n >= 0 && n <= 6 {
			m.DaysOfWeek = append(m.DaysOfWeek, time.Weekday(n))
		}
	}
	m.CurrentSupply, m.RefillThreshold = f.optionalInt("currentSupply"), f.optionalInt("refillThreshold")
	m.MinIntervalMinutes, m.MaxDosesPer24h = f.optionalInt("minIntervalMinutes"), f.optionalInt("maxDosesPer24h")
	if m.Frequency != carecircle.FrequencyAsNeeded {
		m.MinIntervalMinutes, m.MaxDosesPer24h = nil, nil
	} else {
		m.Times = []string{}
	}
	if m.Frequency != carecircle.FrequencyWeekly {
		m.DaysOfWeek = []time.Weekday{}
	}
	m.StartDate, m.EndDate = f.optionalDate("startDate"), f.optionalDate("endDate")
}

// optionalDate parses an optional YYYY-MM-DD field.
func (f *form) optionalDate(name string) *carecircle.Date {
	s := f.Get(name)
	if s == "" {
		return nil
	}
	d, err := carecircle.ParseDate(s)
	if err != nil {
		f.Add(name, upperFirst(words(name))+" must be a date (YYYY-MM-DD)")
		return nil
	}
	return &d
}

// fillMedication prefills the form from a stored medication.
func fillMedication(f *form, m *carecircle.Medication) {
	f.Set("name", m.Name)
	f.Set("dosage", m.Dosage)
	f.Set("frequency", m.Frequency)
	f.Values["times"] = append([]string{}, m.Times...)
	for _, d := range m.DaysOfWeek {
		f.Values["daysOfWeek"] = append(f.Values["daysOfWeek"], strconv.Itoa(int(d)))
	}
	f.Set("instructions", m.Instructions)
	f.Set("prescribedBy", m.PrescribedBy)
	for name, x := range map[string]*int{"currentSupply": m.CurrentSupply, "refillThreshold": m.RefillThreshold,
		"minIntervalMinutes": m.MinIntervalMinutes, "maxDosesPer24h": m.MaxDosesPer24h} {
		if x != nil {
			f.Set(name, strconv.Itoa(*x))
		}
	}
	if m.StartDate != nil {
		f.Set("startDate", m.StartDate.String())
	}
	if m.EndDate != nil {
		f.Set("endDate", m.EndDate.String())
	}
}
