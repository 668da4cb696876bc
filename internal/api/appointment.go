package api

import (
	"context"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/carecircle/carecircle"
	"github.com/carecircle/carecircle/internal/storage"
)

// AppointmentFields are the writable fields of an appointment. In PATCH,
// absent (or null) fields keep their value and an empty string clears
// endTime, assignedTo and recurrence.
type AppointmentFields struct {
	EndTime    *string `json:"endTime,omitempty" maxLength:"64" doc:"RFC 3339; after startTime; empty clears"`
	Location   *string `json:"location,omitempty" maxLength:"500"`
	DoctorName *string `json:"doctorName,omitempty" maxLength:"200"`
	Notes      *string `json:"notes,omitempty" maxLength:"5000"`
	AssignedTo *string `json:"assignedTo,omitempty" maxLength:"64" doc:"user id of the family member who drives or accompanies; empty clears"`
	Recurrence *string `json:"recurrence,omitempty" maxLength:"500" doc:"RFC 5545 RRULE such as FREQ=WEEKLY;BYDAY=MO, repeating startTime's wall-clock time in the care recipient's zone; empty clears"`
	Reminders  []int   `json:"reminders,omitempty" doc:"minutes before each occurrence (0..40320, distinct); default [1440, 60]; [] for none"`
}

// apply copies the set fields onto a and reports malformed times.
func (f *AppointmentFields) apply(a *carecircle.Appointment, p *carecircle.Problems) {
	if f.EndTime != nil {
		a.EndTime = nil
		if *f.EndTime != "" {
			if t, ok := parseTime(p, "endTime", *f.EndTime); ok {
				a.EndTime = &t
			}
		}
	}
	for _, s := range []struct {
		dst *string
		src *string
	}{{&a.Location, f.Location}, {&a.DoctorName, f.DoctorName}, {&a.Notes, f.Notes}} {
		if s.src != nil {
			*s.dst = *s.src
		}
	}
	if f.AssignedTo != nil {
		a.AssignedTo = nil
		if *f.AssignedTo != "" {
			a.AssignedTo = &carecircle.MemberRef{ID: *f.AssignedTo}
		}
	}
	if f.Recurrence != nil {
		a.Recurrence = nil
		if *f.Recurrence != "" {
			r := *f.Recurrence
			a.Recurrence = &r
		}
	}
	if f.Reminders != nil {
		a.Reminders = f.Reminders
	}
}

// parseTime reads an RFC 3339 time or records a message naming field.
func parseTime(p *carecircle.Problems, field, s string) (time.Time, bool) {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		p.Add(true, "%s must be an RFC 3339 time such as 2026-10-05T14:00:00Z", field)
		return time.Time{}, false
	}
	return t, true
}

type createAppointmentInput struct {
	ID   string `path:"id" maxLength:"64"`
	Body struct {
		Title     string `json:"title" maxLength:"200"`
		StartTime string `json:"startTime" maxLength:"64" doc:"RFC 3339; the first occurrence of a recurring appointment"`
		AppointmentFields
	}
}

type patchAppointmentInput struct {
	ID   string `path:"id" maxLength:"64"`
	Body struct {
		Title     *string `json:"title,omitempty" maxLength:"200"`
		StartTime *string `json:"startTime,omitempty" maxLength:"64" doc:"RFC 3339"`
		AppointmentFields
	}
}

type appointmentIDInput struct {
	ID string `path:"id" maxLength:"64"`
}

type listAppointmentsInput struct {
	ID               string `path:"id" maxLength:"64"`
	From             string `query:"from" maxLength:"64" doc:"RFC 3339, or YYYY-MM-DD for the start of that day in the care recipient's zone; default: the start of today there"`
	To               string `query:"to" maxLength:"64" doc:"RFC 3339, exclusive, or YYYY-MM-DD for the end of that day; default: 90 days after from; at most 366 days after from"`
	IncludeCancelled bool   `query:"includeCancelled" doc:"also list cancelled appointments (status CANCELLED)"`
	PageQuery
}

func (s *Server) registerAppointments() {
	const tag = "Appointments"
	huma.Register(s.api, op("listAppointments", http.MethodGet, "/care-recipients/{id}/appointments",
		"Appointments starting in a range; a recurring one yields one item per occurrence", tag, 200, true), s.listAppointments)
	huma.Register(s.api, op("createAppointment", http.MethodPost, "/care-recipients/{id}/appointments",
		"Add an appointment (ADMIN, CAREGIVER)", tag, 201, true), s.createAppointment)
	huma.Register(s.api, op("getAppointment", http.MethodGet, "/appointments/{id}", "An appointment", tag, 200, true), s.getAppointment)
	huma.Register(s.api, op("updateAppointment", http.MethodPatch, "/appointments/{id}",
		"Change an appointment (ADMIN, CAREGIVER); a cancelled one can't be changed (409)", tag, 200, true), s.updateAppointment)
	huma.Register(s.api, op("cancelAppointment", http.MethodDelete, "/appointments/{id}",
		"Cancel an appointment (ADMIN, CAREGIVER); it is kept with status CANCELLED", tag, 204, true), s.cancelAppointment)
	s.registerCalendar()
}

func (s *Server) listAppointments(ctx context.Context, in *listAppointmentsInput) (*Body[List[carecircle.AppointmentOccurrence]], error) {
	q := storage.AppointmentRange{IncludeCancelled: in.IncludeCancelled, Page: in.page()}
	var p carecircle.Problems
	var err error
	if q.From, q.To, err = s.rangeBounds(ctx, in.ID, in.From, in.To, &p); err != nil {
		return nil, err
	}
	if err := p.Err(); err != nil {
		return nil, err
	}
	items, next, err := s.db.Appointments(ctx, in.ID, q)
	if err != nil {
		return nil, err
	}
	return &Body[List[carecircle.AppointmentOccurrence]]{Body: List[carecircle.AppointmentOccurrence]{Items: items, NextCursor: next}}, nil
}

func (s *Server) createAppointment(ctx context.Context, in *createAppointmentInput) (*Body[carecircle.Appointment], error) {
	a := carecircle.Appointment{Title: in.Body.Title}
	var p carecircle.Problems
	if in.Body.StartTime != "" {
		a.StartTime, _ = parseTime(&p, "startTime", in.Body.StartTime)
	}
	in.Body.AppointmentFields.apply(&a, &p)
	if err := p.Err(); err != nil {
		return nil, err
	}
	a, err := s.db.CreateAppointment(ctx, in.ID, a)
	return &Body[carecircle.Appointment]{Body: a}, err
}

func (s *Server) getAppointment(ctx context.Context, in *appointmentIDInput) (*Body[carecircle.Appointment], error) {
	a, err := s.db.Appointment(ctx, in.ID)
	return &Body[carecircle.Appointment]{Body: a}, err
}

func (s *Server) updateAppointment(ctx context.Context, in *patchAppointmentInput) (*Body[carecircle.Appointment], error) {
	a, err := s.db.UpdateAppointment(ctx, in.ID, func(a *carecircle.Appointment) error {
		var p carecircle.Problems
		if in.Body.Title != nil {
			a.Title = *in.Body.Title
		}
		if in.Body.StartTime != nil {
			if t, ok := parseTime(&p, "startTime", *in.Body.StartTime); ok {
				a.StartTime = t
			}
		}
		in.Body.AppointmentFields.apply(a, &p)
		return p.Err()
	})
	return &Body[carecircle.Appointment]{Body: a}, err
}

func (s *Server) cancelAppointment(ctx context.Context, in *appointmentIDInput) (*NoContent, error) {
	_, err := s.db.CancelAppointment(ctx, in.ID)
	return nil, err
}
