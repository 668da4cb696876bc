package carecircle

import (
	"slices"
	"strings"
	"time"
	"unicode"
)

// AppointmentStatus is where an appointment stands. Cancelling keeps the row
// (calendar feeds must show STATUS:CANCELLED so subscribed clients drop it).
type AppointmentStatus string

// Appointment statuses.
const (
	AppointmentScheduled AppointmentStatus = "SCHEDULED"
	AppointmentCancelled AppointmentStatus = "CANCELLED"
)

// Limits on an appointment's fields.
const (
	MaxAppointmentReminders = 5
	// MaxReminderMinutes is the earliest a reminder may come: 28 days ahead.
	MaxReminderMinutes = 28 * 24 * 60
	// MaxAppointmentDuration bounds endTime - startTime; longer stays are
	// not appointments.
	MaxAppointmentDuration = 31 * 24 * time.Hour
)

// DefaultReminders are the reminder offsets of an appointment created
// without any: a day before and an hour before.
func DefaultReminders() []int { return []int{1440, 60} }

// Appointment is a (possibly recurring) medical appointment of a care
// recipient. StartTime is the first occurrence; a Recurrence repeats it at
// the same wall-clock time in the recipient's zone.
type Appointment struct {
	ID              string     `json:"id"`
	FamilyID        string     `json:"familyId"`
	CareRecipientID string     `json:"careRecipientId"`
	Title           string     `json:"title"`
	StartTime       time.Time  `json:"startTime"`
	EndTime         *time.Time `json:"endTime"`
	Location        string     `json:"location"`
	DoctorName      string     `json:"doctorName"`
	Notes           string     `json:"notes"`
	AssignedTo      *MemberRef `json:"assignedTo"`
	// Recurrence is the RRULE as normalized by ParseRecurrence; nil when
	// the appointment does not repeat.
	Recurrence  *string           `json:"recurrence"`
	IsRecurring bool              `json:"isRecurring"`
	Reminders   []int             `json:"reminders" doc:"minutes before each occurrence"`
	Status      AppointmentStatus `json:"status"`
	// Sequence is the iCalendar SEQUENCE: it grows with every change so
	// subscribed calendars replace their copy.
	Sequence    int        `json:"sequence"`
	CancelledAt *time.Time `json:"cancelledAt"`
	CreatedBy   string     `json:"createdBy"`
	CreatedAt   time.Time  `json:"createdAt"`
	UpdatedAt   time.Time  `json:"updatedAt"`
}

// Rule returns the appointment's parsed recurrence (the zero Recurrence
// when it does not repeat or, for a row that somehow no longer parses, so
// that a bad row shows its first occurrence rather than failing a list).
func (a *Appointment) Rule() Recurrence {
	if a.Recurrence == nil {
		return Recurrence{}
	}
	r, err := ParseRecurrence(*a.Recurrence)
	if err != nil {
		return Recurrence{}
	}
	return r
}

// Duration is EndTime - StartTime, zero without an end.
func (a *Appointment) Duration() time.Duration {
	if a.EndTime == nil {
		return 0
	}
	return a.EndTime.Sub(a.StartTime)
}

// Validate checks every field, reports each problem by name, and normalizes
// what it accepts: trimmed text, whole-second times, the canonical RRULE,
// sorted reminders.
func (a *Appointment) Validate() error {
	var p Problems
	a.Title = strings.TrimSpace(a.Title)
	p.Add(a.Title == "", "title should not be empty")
	p.Add(len(a.Title) > 200, "title must be at most 200 characters")
	p.Add(hasControl(a.Title, false), "title must not contain control characters")
	a.Location, a.DoctorName = strings.TrimSpace(a.Location), strings.TrimSpace(a.DoctorName)
	p.Add(len(a.Location) > 500, "location must be at most 500 characters")
	p.Add(hasControl(a.Location, true), "location must not contain control characters")
	p.Add(len(a.DoctorName) > 200, "doctorName must be at most 200 characters")
	p.Add(hasControl(a.DoctorName, false), "doctorName must not contain control characters")
	p.Add(len(a.Notes) > 5000, "notes must be at most 5000 characters")
	p.Add(hasControl(a.Notes, true), "notes must not contain control characters other than line breaks and tabs")

	a.StartTime = a.StartTime.UTC().Truncate(time.Second)
	switch {
	case a.StartTime.IsZero():
		p.Add(true, "startTime should not be empty")
	case a.StartTime.Year() < 1970 || a.StartTime.Year() > 2199:
		p.Add(true, "startTime must be between 1970 and 2199")
	}
	if a.EndTime != nil {
		end := a.EndTime.UTC().Truncate(time.Second)
		a.EndTime = &end
		p.Add(!end.After(a.StartTime), "endTime must be after startTime")
		p.Add(end.Sub(a.StartTime) > MaxAppointmentDuration, "endTime must be at most 31 days after startTime")
	}

	if a.Recurrence != nil {
		r, err := ParseRecurrence(*a.Recurrence)
		if err != nil {
			p = append(p, problemsOf(err)...)
		} else {
			s := r.String()
			a.Recurrence = &s
		}
	}
	a.IsRecurring = a.Recurrence != nil

	if a.Reminders == nil {
		a.Reminders = DefaultReminders()
	}
	p.Add(len(a.Reminders) > MaxAppointmentReminders, "reminders must have at most %d entries", MaxAppointmentReminders)
	for i, m := range a.Reminders {
		p.Add(m < 0 || m > MaxReminderMinutes, "reminders[%d] must be between 0 and %d minutes", i, MaxReminderMinutes)
		p.Add(slices.Index(a.Reminders, m) < i, "reminders[%d] repeats %d", i, m)
	}
	// Largest offset first: the order reminders go out.
	a.Reminders = slices.Clone(a.Reminders)
	slices.SortFunc(a.Reminders, func(x, y int) int { return y - x })

	if a.Status == "" {
		a.Status = AppointmentScheduled
	}
	p.Add(a.Status != AppointmentScheduled && a.Status != AppointmentCancelled, "status must be SCHEDULED or CANCELLED")
	return p.Err()
}

// problemsOf returns the per-field messages of an EINVALID error.
func problemsOf(err error) []string {
	if e, ok := err.(*Error); ok && len(e.Fields) > 0 {
		return e.Fields
	}
	return []string{err.Error()}
}

// hasControl reports whether s holds a control character (NUL, escape, ...)
// that no text field should carry; PostgreSQL refuses NUL outright.
// multiline allows line breaks and tabs.
func hasControl(s string, multiline bool) bool {
	return strings.IndexFunc(s, func(r rune) bool {
		if multiline && (r == '\n' || r == '\r' || r == '\t') {
			return false
		}
		return unicode.IsControl(r)
	}) >= 0
}

// AppointmentOccurrence is one occurrence of an appointment in a range
// query: the appointment with StartTime and EndTime moved to this
// occurrence. SeriesStart is the first occurrence of a recurring series.
type AppointmentOccurrence struct {
	Appointment
	OccurrenceStart time.Time `json:"occurrenceStart"`
	SeriesStart     time.Time `json:"seriesStart"`
}

// MaxAppointmentRange is the longest from..to window a range query may ask
// for.
const MaxAppointmentRange = 366 * 24 * time.Hour

// OccurrencesIn expands the appointment in [from, to) in loc, the care
// recipient's zone: at most max items (DefaultMaxOccurrences when max <= 0),
// one per occurrence, each keeping the series' wall time and duration.
func (a *Appointment) OccurrencesIn(loc *time.Location, from, to time.Time, max int) []AppointmentOccurrence {
	var starts []time.Time
	if a.Recurrence == nil {
		if !a.StartTime.Before(from) && a.StartTime.Before(to) {
			starts = []time.Time{a.StartTime}
		}
	} else {
		starts = a.Rule().Occurrences(a.StartTime, loc, from, to, max)
	}
	out := make([]AppointmentOccurrence, 0, len(starts))
	d := a.Duration()
	for _, s := range starts {
		o := AppointmentOccurrence{Appointment: *a, OccurrenceStart: s.UTC(), SeriesStart: a.StartTime}
		o.StartTime = s.UTC()
		if a.EndTime != nil {
			end := s.UTC().Add(d)
			o.EndTime = &end
		}
		out = append(out, o)
	}
	return out
}
