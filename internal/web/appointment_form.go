package web

import (
	"net/http"
	"strconv"
	"time"

	"github.com/carecircle/carecircle"
)

var appointmentFields = []string{"title", "startTime", "endTime", "location", "doctorName", "notes", "assignedTo",
	"repeat", "recurrence", "reminders"}

// repeatChoices are the common rules offered in a select; "custom" takes
// any RRULE.
var repeatChoices = []string{
	"", "Does not repeat",
	"FREQ=DAILY", "Every day",
	"FREQ=WEEKLY", "Every week",
	"FREQ=WEEKLY;INTERVAL=2", "Every two weeks",
	"FREQ=MONTHLY", "Every month",
	"custom", "Custom rule (RRULE)",
}

// reminderChoices are minutes before an appointment.
var reminderChoices = []option{{"10080", "1 week before"}, {"1440", "1 day before"}, {"120", "2 hours before"},
	{"60", "1 hour before"}, {"30", "30 minutes before"}}

type appointmentFormData struct {
	ID        string
	Members   []carecircle.Member
	Repeat    []string
	Reminders []option
	Cancelled bool
}

// appointmentNewPage shows the form to add an appointment.
func (h *Handler) appointmentNewPage(w http.ResponseWriter, r *http.Request, v *viewer) {
	c, ok := h.loadRecipient(w, r, v)
	if !ok {
		return
	}
	f := newForm(appointmentFields...)
	for _, m := range carecircle.DefaultReminders() {
		f.Values["reminders"] = append(f.Values["reminders"], strconv.Itoa(m))
	}
	h.renderAppointmentForm(w, r, v, c, f, nil, http.StatusOK)
}

// appointmentCreate adds the appointment.
func (h *Handler) appointmentCreate(w http.ResponseWriter, r *http.Request, v *viewer) {
	c, ok := h.loadRecipient(w, r, v)
	if !ok {
		return
	}
	f, err := parseForm(w, r, appointmentFields...)
	if err != nil {
		h.fail(w, r, v, err)
		return
	}
	a := carecircle.Appointment{}
	f.applyAppointment(&a, c.Location())
	if err = f.validated(a.Validate); err == nil {
		if a, err = h.db.CreateAppointment(r.Context(), c.ID, a); err == nil {
			redirect(w, r, "/care/"+c.ID+"/calendar", "ok", a.Title+" is on the calendar.")
			return
		}
	}
	h.renderAppointmentForm(w, r, v, c, f, nil, f.FailOnce(err))
}

// appointmentEditPage shows an appointment for editing (the whole series
// when it repeats).
func (h *Handler) appointmentEditPage(w http.ResponseWriter, r *http.Request, v *viewer) {
	c, ok := h.loadRecipient(w, r, v)
	if !ok {
		return
	}
	a, err := h.db.Appointment(r.Context(), r.PathValue("aid"))
	if err != nil {
		h.fail(w, r, v, err)
		return
	}
	if !belongs(w, r, h, v, a.CareRecipientID) {
		return
	}
	f := newForm(appointmentFields...)
	loc := c.Location()
	f.Set("title", a.Title)
	f.Set("startTime", a.StartTime.In(loc).Format("2006-01-02T15:04"))
	if a.EndTime != nil {
		f.Set("endTime", a.EndTime.In(loc).Format("2006-01-02T15:04"))
	}
	f.Set("location", a.Location)
	f.Set("doctorName", a.DoctorName)
	f.Set("notes", a.Notes)
	if a.AssignedTo != nil {
		f.Set("assignedTo", a.AssignedTo.ID)
	}
	if a.Recurrence != nil {
		f.Set("repeat", "custom")
		for i := 0; i+1 < len(repeatChoices); i += 2 {
			if repeatChoices[i] == *a.Recurrence {
				f.Set("repeat", *a.Recurrence)
			}
		}
		f.Set("recurrence", *a.Recurrence)
	}
	f.Values["reminders"] = nil
	for _, m := range a.Reminders {
		f.Values["reminders"] = append(f.Values["reminders"], strconv.Itoa(m))
	}
	h.renderAppointmentForm(w, r, v, c, f, &a, http.StatusOK)
}

// appointmentSave saves the changes.
func (h *Handler) appointmentSave(w http.ResponseWriter, r *http.Request, v *viewer) {
	c, ok := h.loadRecipient(w, r, v)
	if !ok {
		return
	}
	a, err := h.db.Appointment(r.Context(), r.PathValue("aid"))
	if err != nil {
		h.fail(w, r, v, err)
		return
	}
	if !belongs(w, r, h, v, a.CareRecipientID) {
		return
	}
	f, err := parseForm(w, r, appointmentFields...)
	if err != nil {
		h.fail(w, r, v, err)
		return
	}
	saved, err := h.db.UpdateAppointment(r.Context(), a.ID, func(a *carecircle.Appointment) error {
		f.applyAppointment(a, c.Location())
		return f.validated(a.Validate)
	})
	if err == nil {
		redirect(w, r, "/care/"+c.ID+"/calendar", "ok", saved.Title+" is saved.")
		return
	}
	h.renderAppointmentForm(w, r, v, c, f, &a, f.FailOnce(err))
}

// appointmentCancel cancels an appointment (kept, marked cancelled).
func (h *Handler) appointmentCancel(w http.ResponseWriter, r *http.Request, v *viewer) {
	c, ok := h.loadRecipient(w, r, v)
	if !ok {
		return
	}
	a, err := h.db.Appointment(r.Context(), r.PathValue("aid"))
	if err != nil {
		h.fail(w, r, v, err)
		return
	}
	if !belongs(w, r, h, v, a.CareRecipientID) {
		return
	}
	if _, err := h.db.CancelAppointment(r.Context(), a.ID); err != nil {
		redirect(w, r, "/care/"+c.ID+"/calendar", "error", errorText(err))
		return
	}
	redirect(w, r, "/care/"+c.ID+"/calendar", "ok", a.Title+" is cancelled.")
}

func (h *Handler) renderAppointmentForm(w http.ResponseWriter, r *http.Request, v *viewer, c *carecircle.CareRecipient, f *form, a *carecircle.Appointment, status int) {
	ms, err := h.db.Members(r.Context(), c.FamilyID)
	if err != nil {
		h.fail(w, r, v, err)
		return
	}
	d := appointmentFormData{Members: ms, Repeat: repeatChoices, Reminders: reminderChoices}
	title := "New appointment"
	if a != nil {
		d.ID, d.Cancelled, title = a.ID, a.Status == carecircle.AppointmentCancelled, "Edit appointment"
	}
	p := h.carePage(w, r, v, c, "calendar", title)
	p.Form, p.Data = f, d
	h.render(w, r, status, "appointment_form", p)
}

// applyAppointment copies the form onto a; times are wall times in the
// recipient's zone.
func (f *form) applyAppointment(a *carecircle.Appointment, loc *time.Location) {
	a.Title = f.Get("title")
	a.StartTime = f.localTime("startTime", loc, true)
	a.EndTime = nil
	if end := f.localTime("endTime", loc, false); !end.IsZero() {
		a.EndTime = &end
	}
	a.Location, a.DoctorName, a.Notes = f.Get("location"), f.Get("doctorName"), f.Get("notes")
	a.AssignedTo = nil
	if id := f.Get("assignedTo"); id != "" {
		a.AssignedTo = &carecircle.MemberRef{ID: id}
	}
	a.Recurrence = nil
	rule := f.Get("repeat")
	if rule == "custom" {
		rule = f.Get("recurrence")
		if rule == "" {
			f.Add("recurrence", "Recurrence should not be empty: write a rule such as FREQ=WEEKLY;BYDAY=MO")
		}
	}
	if rule != "" {
		a.Recurrence = &rule
	}
	a.Reminders = []int{}
	for _, s := range f.Values["reminders"] {
		if n, err := strconv.Atoi(s); err == nil {
			a.Reminders = append(a.Reminders, n)
		}
	}
}
