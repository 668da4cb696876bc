package carecircle

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func validAppointment() Appointment {
	return Appointment{Title: "Cardiology check-up", StartTime: time.Date(2026, 10, 5, 14, 0, 0, 0, time.UTC)}
}

func TestAppointmentValidate_NamesEachField(t *testing.T) {
	ptr := func(s string) *string { return &s }
	at := func(s string) *time.Time { v, _ := time.Parse(time.RFC3339, s); return &v }
	cases := []struct {
		name  string
		edit  func(a *Appointment)
		field string
	}{
		{"empty title", func(a *Appointment) { a.Title = "  " }, "title should not be empty"},
		{"long title", func(a *Appointment) { a.Title = strings.Repeat("x", 201) }, "title must be at most 200"},
		{"NUL in title", func(a *Appointment) { a.Title = "a\x00b" }, "title must not contain"},
		{"newline in title", func(a *Appointment) { a.Title = "a\nb" }, "title must not contain"},
		{"no start", func(a *Appointment) { a.StartTime = time.Time{} }, "startTime should not be empty"},
		{"ancient start", func(a *Appointment) { a.StartTime = time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC) }, "startTime must be between"},
		{"end before start", func(a *Appointment) { a.EndTime = at("2026-10-05T13:00:00Z") }, "endTime must be after startTime"},
		{"end equals start", func(a *Appointment) { a.EndTime = at("2026-10-05T14:00:00Z") }, "endTime must be after startTime"},
		{"end far away", func(a *Appointment) { a.EndTime = at("2026-12-05T14:00:00Z") }, "endTime must be at most 31 days"},
		{"bad rule", func(a *Appointment) { a.Recurrence = ptr("FREQ=HOURLY") }, "recurrence"},
		{"rule with DTSTART", func(a *Appointment) { a.Recurrence = ptr("DTSTART:20260101T000000Z\nRRULE:FREQ=DAILY") }, "recurrence"},
		{"too many reminders", func(a *Appointment) { a.Reminders = []int{1, 2, 3, 4, 5, 6} }, "reminders must have at most 5"},
		{"negative reminder", func(a *Appointment) { a.Reminders = []int{-5} }, "reminders[0] must be between 0 and 40320"},
		{"reminder too early", func(a *Appointment) { a.Reminders = []int{40321} }, "reminders[0] must be between"},
		{"repeated reminder", func(a *Appointment) { a.Reminders = []int{60, 30, 60} }, "reminders[2] repeats 60"},
		{"long location", func(a *Appointment) { a.Location = strings.Repeat("x", 501) }, "location must be at most 500"},
		{"escape in notes", func(a *Appointment) { a.Notes = "\x1b[31m" }, "notes must not contain"},
		{"long doctor", func(a *Appointment) { a.DoctorName = strings.Repeat("x", 201) }, "doctorName must be at most 200"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a := validAppointment()
			c.edit(&a)
			err := a.Validate()
			e, ok := err.(*Error)
			if !ok || e.Code != EINVALID {
				t.Fatalf("Validate() = %v, want EINVALID", err)
			}
			if !strings.Contains(strings.Join(e.Fields, "|"), c.field) {
				t.Fatalf("messages %q lack %q", e.Fields, c.field)
			}
		})
	}
}

func TestAppointmentValidate_Normalizes(t *testing.T) {
	a := validAppointment()
	a.Title = "  Dentist "
	a.StartTime = time.Date(2026, 10, 5, 10, 0, 0, 999, time.FixedZone("EDT", -4*3600))
	rule := "rrule:freq=weekly;byday=mo"
	a.Recurrence = &rule
	a.Notes = "Bring the\nmedication list"
	if err := a.Validate(); err != nil {
		t.Fatal(err)
	}
	if a.Title != "Dentist" || !a.StartTime.Equal(time.Date(2026, 10, 5, 14, 0, 0, 0, time.UTC)) || a.StartTime.Location() != time.UTC {
		t.Errorf("title %q start %v", a.Title, a.StartTime)
	}
	if *a.Recurrence != "FREQ=WEEKLY;BYDAY=MO" || !a.IsRecurring {
		t.Errorf("recurrence %q recurring %v", *a.Recurrence, a.IsRecurring)
	}
	if !slices.Equal(a.Reminders, []int{1440, 60}) || a.Status != AppointmentScheduled {
		t.Errorf("reminders %v status %s", a.Reminders, a.Status)
	}
	b := validAppointment()
	b.Reminders = []int{}
	if err := b.Validate(); err != nil || len(b.Reminders) != 0 {
		t.Errorf("explicitly no reminders: %v %v", b.Reminders, err)
	}
	b.Reminders = []int{0, 60, 10080}
	if err := b.Validate(); err != nil || !slices.Equal(b.Reminders, []int{10080, 60, 0}) {
		t.Errorf("reminders sorted: %v %v", b.Reminders, err)
	}
}

func TestAppointmentOccurrencesIn_KeepsWallTimeAndDuration(t *testing.T) {
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	rule := "FREQ=WEEKLY"
	end := time.Date(2026, 10, 5, 15, 30, 0, 0, time.UTC)
	a := Appointment{ID: "apt_x", Title: "Physio", StartTime: time.Date(2026, 10, 5, 14, 0, 0, 0, time.UTC), EndTime: &end, Recurrence: &rule}
	got := a.OccurrencesIn(ny, time.Date(2026, 10, 20, 0, 0, 0, 0, time.UTC), time.Date(2026, 11, 10, 0, 0, 0, 0, time.UTC), 0)
	want := []string{"2026-10-26T14:00:00Z", "2026-11-02T15:00:00Z", "2026-11-09T15:00:00Z"}
	if len(got) != len(want) {
		t.Fatalf("%d occurrences, want %d", len(got), len(want))
	}
	for i, o := range got {
		if o.StartTime.Format(time.RFC3339) != want[i] || !o.OccurrenceStart.Equal(o.StartTime) ||
			o.EndTime.Sub(o.StartTime) != 90*time.Minute || !o.SeriesStart.Equal(a.StartTime) {
			t.Errorf("occurrence %d: start %v end %v series %v", i, o.StartTime, o.EndTime, o.SeriesStart)
		}
		if o.StartTime.In(ny).Hour() != 10 {
			t.Errorf("occurrence %d at %v local, want 10:00", i, o.StartTime.In(ny))
		}
	}
	if a.EndTime != &end || !a.StartTime.Equal(time.Date(2026, 10, 5, 14, 0, 0, 0, time.UTC)) {
		t.Error("expansion changed the series")
	}

	once := Appointment{ID: "apt_y", StartTime: time.Date(2026, 10, 5, 14, 0, 0, 0, time.UTC)}
	if n := len(once.OccurrencesIn(ny, once.StartTime, once.StartTime.Add(time.Hour), 0)); n != 1 {
		t.Errorf("one-off in range: %d items", n)
	}
	if n := len(once.OccurrencesIn(ny, once.StartTime.Add(time.Second), once.StartTime.Add(time.Hour), 0)); n != 0 {
		t.Errorf("one-off before range: %d items", n)
	}
}
