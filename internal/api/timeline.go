package api

import (
	"context"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/carecircle/carecircle"
	"github.com/carecircle/carecircle/internal/storage"
)

type createTimelineInput struct {
	ID   string `path:"id" maxLength:"64"`
	Body struct {
		Type       string             `json:"type" enum:"NOTE,VITALS,SYMPTOM,INCIDENT,MOOD,MEAL,ACTIVITY,SLEEP,MEDICATION_CHANGE,APPOINTMENT_SUMMARY"`
		Content    string             `json:"content,omitempty" maxLength:"10000" doc:"required except for VITALS entries"`
		OccurredAt string             `json:"occurredAt,omitempty" maxLength:"40" doc:"RFC 3339; default now; at most 5 minutes ahead"`
		Severity   string             `json:"severity,omitempty" enum:"LOW,MEDIUM,HIGH,CRITICAL"`
		Vitals     *carecircle.Vitals `json:"vitals,omitempty" doc:"required with at least one measurement for VITALS"`
	}
}

type patchTimelineInput struct {
	ID   string `path:"id" maxLength:"64"`
	Body struct {
		Type       *string            `json:"type,omitempty" enum:"NOTE,VITALS,SYMPTOM,INCIDENT,MOOD,MEAL,ACTIVITY,SLEEP,MEDICATION_CHANGE,APPOINTMENT_SUMMARY"`
		Content    *string            `json:"content,omitempty" maxLength:"10000"`
		OccurredAt *string            `json:"occurredAt,omitempty" maxLength:"40" doc:"RFC 3339"`
		Severity   *string            `json:"severity,omitempty" maxLength:"20" doc:"LOW, MEDIUM, HIGH or CRITICAL; empty clears"`
		Vitals     *carecircle.Vitals `json:"vitals,omitempty" doc:"replaces every measurement; {} clears"`
	}
}

type listTimelineInput struct {
	ID   string `path:"id" maxLength:"64"`
	Type string `query:"type" enum:"NOTE,VITALS,SYMPTOM,INCIDENT,MOOD,MEAL,ACTIVITY,SLEEP,MEDICATION_CHANGE,APPOINTMENT_SUMMARY"`
	From string `query:"from" maxLength:"40" doc:"RFC 3339, or YYYY-MM-DD in the care recipient's zone; entries at or after"`
	To   string `query:"to" maxLength:"40" doc:"RFC 3339, or YYYY-MM-DD for the end of that day; entries before"`
	PageQuery
}

type timelineIDInput struct {
	ID string `path:"id" maxLength:"64"`
}

func (s *Server) registerTimeline() {
	const tag = "Timeline"
	huma.Register(s.api, op("listTimeline", http.MethodGet, "/care-recipients/{id}/timeline", "Health timeline, newest first", tag, 200, true), s.listTimeline)
	huma.Register(s.api, op("createTimelineEntry", http.MethodPost, "/care-recipients/{id}/timeline", "Add a timeline entry (ADMIN, CAREGIVER)", tag, 201, true), s.createTimelineEntry)
	huma.Register(s.api, op("getTimelineEntry", http.MethodGet, "/timeline/{id}", "A timeline entry", tag, 200, true), s.getTimelineEntry)
	huma.Register(s.api, op("updateTimelineEntry", http.MethodPatch, "/timeline/{id}", "Edit a timeline entry (its author or an ADMIN)", tag, 200, true), s.updateTimelineEntry)
	huma.Register(s.api, op("deleteTimelineEntry", http.MethodDelete, "/timeline/{id}", "Delete a timeline entry (its author or an ADMIN)", tag, 204, true), s.deleteTimelineEntry)
}

// parseInstant reads an RFC 3339 time for the named field, recording a
// problem when it is malformed.
func parseInstant(p *carecircle.Problems, field, s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		p.Add(true, "%s must be an RFC 3339 time such as 2026-03-01T14:30:00Z", field)
		return time.Time{}
	}
	return t.UTC()
}

func (s *Server) listTimeline(ctx context.Context, in *listTimelineInput) (*Body[List[carecircle.TimelineEntry]], error) {
	f := storage.TimelineFilter{Type: carecircle.TimelineType(in.Type), Page: in.page()}
	var p carecircle.Problems
	var err error
	if f.From, f.To, err = s.rangeBounds(ctx, in.ID, in.From, in.To, &p); err != nil {
		return nil, err
	}
	p.Add(!f.From.IsZero() && !f.To.IsZero() && !f.To.After(f.From), "to must be after from")
	if err := p.Err(); err != nil {
		return nil, err
	}
	items, next, err := s.db.TimelineEntries(ctx, in.ID, f)
	return &Body[List[carecircle.TimelineEntry]]{Body: List[carecircle.TimelineEntry]{Items: items, NextCursor: next}}, err
}

func (s *Server) createTimelineEntry(ctx context.Context, in *createTimelineInput) (*Body[carecircle.TimelineEntry], error) {
	b := in.Body
	e := carecircle.TimelineEntry{Type: carecircle.TimelineType(b.Type), Content: b.Content, Vitals: b.Vitals}
	var p carecircle.Problems
	if b.OccurredAt != "" {
		e.OccurredAt = parseInstant(&p, "occurredAt", b.OccurredAt)
	}
	if b.Severity != "" {
		sev := carecircle.Severity(b.Severity)
		e.Severity = &sev
	}
	if err := p.Err(); err != nil {
		return nil, err
	}
	e, err := s.db.CreateTimelineEntry(ctx, in.ID, e)
	return &Body[carecircle.TimelineEntry]{Body: e}, err
}

func (s *Server) getTimelineEntry(ctx context.Context, in *timelineIDInput) (*Body[carecircle.TimelineEntry], error) {
	e, err := s.db.TimelineEntry(ctx, in.ID)
	return &Body[carecircle.TimelineEntry]{Body: e}, err
}

func (s *Server) updateTimelineEntry(ctx context.Context, in *patchTimelineInput) (*Body[carecircle.TimelineEntry], error) {
	b := in.Body
	e, err := s.db.UpdateTimelineEntry(ctx, in.ID, func(e *carecircle.TimelineEntry) error {
		var p carecircle.Problems
		if b.Type != nil {
			e.Type = carecircle.TimelineType(*b.Type)
		}
		if b.Content != nil {
			e.Content = *b.Content
		}
		if b.OccurredAt != nil {
			e.OccurredAt = parseInstant(&p, "occurredAt", *b.OccurredAt)
		}
		if b.Severity != nil {
			sev := carecircle.Severity(*b.Severity)
			e.Severity = &sev // "" clears; Validate turns it into none
		}
		if b.Vitals != nil {
			e.Vitals = b.Vitals
		}
		return p.Err()
	})
	return &Body[carecircle.TimelineEntry]{Body: e}, err
}

func (s *Server) deleteTimelineEntry(ctx context.Context, in *timelineIDInput) (*NoContent, error) {
	return nil, s.db.DeleteTimelineEntry(ctx, in.ID)
}
