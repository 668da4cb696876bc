package api

import (
	"context"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"github.com/carecircle/carecircle"
	"github.com/carecircle/carecircle/internal/storage"
)

type createShiftInput struct {
	ID   string `path:"id" maxLength:"64"`
	Body struct {
		CaregiverID string `json:"caregiverId" maxLength:"64" doc:"user id of an ADMIN or CAREGIVER member"`
		StartTime   string `json:"startTime" maxLength:"40" doc:"RFC 3339"`
		EndTime     string `json:"endTime" maxLength:"40" doc:"RFC 3339; after startTime, at most 7 days later"`
		Notes       string `json:"notes,omitempty" maxLength:"5000"`
	}
}

type patchShiftInput struct {
	ID   string `path:"id" maxLength:"64"`
	Body struct {
		CaregiverID *string `json:"caregiverId,omitempty" maxLength:"64"`
		StartTime   *string `json:"startTime,omitempty" maxLength:"40"`
		EndTime     *string `json:"endTime,omitempty" maxLength:"40"`
		Notes       *string `json:"notes,omitempty" maxLength:"5000"`
	}
}

type listShiftsInput struct {
	ID          string `path:"id" maxLength:"64"`
	From        string `query:"from" maxLength:"40" doc:"RFC 3339, or YYYY-MM-DD in the care recipient's zone; default 7 days ago"`
	To          string `query:"to" maxLength:"40" doc:"RFC 3339, or YYYY-MM-DD for the end of that day; default 30 days ahead"`
	CaregiverID string `query:"caregiverId" maxLength:"64"`
	PageQuery
}

type shiftIDInput struct {
	ID string `path:"id" maxLength:"64"`
}

type checkOutInput struct {
	ID   string `path:"id" maxLength:"64"`
	Body *struct {
		HandoffNotes string `json:"handoffNotes,omitempty" maxLength:"5000" doc:"shown to the next shift"`
	}
}

// ShiftsNow answers "who is on duty now": Shift is the one to show (a
// checked-in shift before a merely scheduled one), or null when nobody is;
// Shifts lists every shift on duty, when several caregivers overlap.
type ShiftsNow struct {
	Shift  *carecircle.Shift  `json:"shift"`
	Shifts []carecircle.Shift `json:"shifts"`
}

func (s *Server) registerShifts() {
	const tag = "Shifts"
	huma.Register(s.api, op("listShifts", http.MethodGet, "/care-recipients/{id}/shifts", "Shifts in a window (default: a week back to 30 days ahead)", tag, 200, true), s.listShifts)
	huma.Register(s.api, op("createShift", http.MethodPost, "/care-recipients/{id}/shifts", "Schedule a shift (ADMIN, CAREGIVER)", tag, 201, true), s.createShift)
	huma.Register(s.api, op("currentShift", http.MethodGet, "/care-recipients/{id}/shifts/current", "Who is on duty now", tag, 200, true), s.currentShift)
	huma.Register(s.api, op("getShift", http.MethodGet, "/shifts/{id}", "A shift", tag, 200, true), s.getShift)
	huma.Register(s.api, op("updateShift", http.MethodPatch, "/shifts/{id}", "Change a shift (ADMIN or its creator)", tag, 200, true), s.updateShift)
	huma.Register(s.api, op("deleteShift", http.MethodDelete, "/shifts/{id}", "Cancel a shift not checked in (ADMIN or its creator)", tag, 204, true), s.deleteShift)
	huma.Register(s.api, op("checkInShift", http.MethodPost, "/shifts/{id}/check-in", "Start your shift", tag, 200, true), s.checkIn)
	huma.Register(s.api, op("checkOutShift", http.MethodPost, "/shifts/{id}/check-out", "End your shift with handoff notes", tag, 200, true), s.checkOut)
}

func (s *Server) listShifts(ctx context.Context, in *listShiftsInput) (*Body[List[carecircle.Shift]], error) {
	f := storage.ShiftFilter{CaregiverID: in.CaregiverID, Page: in.page()}
	var p carecircle.Problems
	var err error
	if f.From, f.To, err = s.rangeBounds(ctx, in.ID, in.From, in.To, &p); err != nil {
		return nil, err
	}
	if err := p.Err(); err != nil {
		return nil, err
	}
	items, next, err := s.db.Shifts(ctx, in.ID, f)
	return &Body[List[carecircle.Shift]]{Body: List[carecircle.Shift]{Items: items, NextCursor: next}}, err
}

func (s *Server) createShift(ctx context.Context, in *createShiftInput) (*Body[carecircle.Shift], error) {
	b := in.Body
	sh := carecircle.Shift{Caregiver: carecircle.MemberRef{ID: b.CaregiverID}, Notes: b.Notes}
	var p carecircle.Problems
	if b.StartTime != "" {
		sh.StartTime = parseInstant(&p, "startTime", b.StartTime)
	}
	if b.EndTime != "" {
		sh.EndTime = parseInstant(&p, "endTime", b.EndTime)
	}
	if err := p.Err(); err != nil {
		return nil, err
	}
	sh, err := s.db.CreateShift(ctx, in.ID, sh)
	return &Body[carecircle.Shift]{Body: sh}, err
}

func (s *Server) currentShift(ctx context.Context, in *recipientIDInput) (*Body[ShiftsNow], error) {
	on, err := s.db.OnDutyShifts(ctx, in.ID)
	if err != nil {
		return nil, err
	}
	now := ShiftsNow{Shifts: on}
	if len(on) > 0 {
		now.Shift = &on[0]
	}
	return &Body[ShiftsNow]{Body: now}, nil
}

func (s *Server) getShift(ctx context.Context, in *shiftIDInput) (*Body[carecircle.Shift], error) {
	sh, err := s.db.Shift(ctx, in.ID)
	return &Body[carecircle.Shift]{Body: sh}, err
}

func (s *Server) updateShift(ctx context.Context, in *patchShiftInput) (*Body[carecircle.Shift], error) {
	b := in.Body
	sh, err := s.db.UpdateShift(ctx, in.ID, func(sh *carecircle.Shift) error {
		var p carecircle.Problems
		if b.CaregiverID != nil {
			sh.Caregiver = carecircle.MemberRef{ID: *b.CaregiverID}
		}
		if b.StartTime != nil {
			sh.StartTime = parseInstant(&p, "startTime", *b.StartTime)
		}
		if b.EndTime != nil {
			sh.EndTime = parseInstant(&p, "endTime", *b.EndTime)
		}
		if b.Notes != nil {
			sh.Notes = *b.Notes
		}
		return p.Err()
	})
	return &Body[carecircle.Shift]{Body: sh}, err
}

func (s *Server) deleteShift(ctx context.Context, in *shiftIDInput) (*NoContent, error) {
	return nil, s.db.DeleteShift(ctx, in.ID)
}

func (s *Server) checkIn(ctx context.Context, in *shiftIDInput) (*Body[carecircle.Shift], error) {
	sh, err := s.db.CheckIn(ctx, in.ID)
	return &Body[carecircle.Shift]{Body: sh}, err
}

func (s *Server) checkOut(ctx context.Context, in *checkOutInput) (*Body[carecircle.Shift], error) {
	notes := ""
	if in.Body != nil {
		notes = in.Body.HandoffNotes
	}
	sh, err := s.db.CheckOut(ctx, in.ID, notes)
	return &Body[carecircle.Shift]{Body: sh}, err
}
