package carecircle

import (
	"strings"
	"time"
	"unicode/utf8"
)

// ShiftStatus is where a shift stands, derived from its check-in and
// check-out.
type ShiftStatus string

// Shift statuses. A deleted shift is gone; its shift.updated event carries
// ShiftCancelled so consumers can tell the caregiver.
const (
	ShiftScheduled  ShiftStatus = "SCHEDULED"   // not checked in yet
	ShiftInProgress ShiftStatus = "IN_PROGRESS" // checked in, not out
	ShiftCompleted  ShiftStatus = "COMPLETED"   // checked out
	ShiftCancelled  ShiftStatus = "CANCELLED"   // deleted (events only)
)

// Shift limits.
const (
	// MaxShiftLength is the longest a shift may be scheduled for.
	MaxShiftLength = 7 * 24 * time.Hour
	// ShiftOvertimeGrace is how long after its scheduled end a checked-in
	// shift still counts as on duty. Caregivers stay late; a forgotten
	// check-out must not show someone on duty for days.
	ShiftOvertimeGrace = 12 * time.Hour
	// MaxShiftNotes bounds notes and handoff notes, in characters.
	MaxShiftNotes = 5000
)

// Shift is a caregiver's scheduled time with a care recipient.
type Shift struct {
	ID              string    `json:"id"`
	CareRecipientID string    `json:"careRecipientId"`
	Caregiver       MemberRef `json:"caregiver"`
	// CaregiverID repeats Caregiver.ID under the name the request uses.
	CaregiverID  string      `json:"caregiverId"`
	StartTime    time.Time   `json:"startTime"`
	EndTime      time.Time   `json:"endTime"`
	Notes        string      `json:"notes"`
	CheckedInAt  *time.Time  `json:"checkedInAt"`
	CheckedOutAt *time.Time  `json:"checkedOutAt"`
	HandoffNotes string      `json:"handoffNotes"`
	Status       ShiftStatus `json:"status"`
	// OnDuty: the caregiver is responsible for the recipient right now (see
	// OnDutyAt).
	OnDuty bool `json:"onDuty"`
	// PreviousHandoff is what the caregiver of the shift before this one left
	// for it at check-out, or null.
	PreviousHandoff *Handoff  `json:"previousHandoff"`
	CreatedBy       MemberRef `json:"createdBy"`
	CreatedAt       time.Time `json:"createdAt"`
	UpdatedAt       time.Time `json:"updatedAt"`
}

// Handoff is the note a caregiver leaves for the next shift.
type Handoff struct {
	ShiftID      string    `json:"shiftId"`
	Caregiver    MemberRef `json:"caregiver"`
	Notes        string    `json:"notes"`
	CheckedOutAt time.Time `json:"checkedOutAt"`
}

// DeriveStatus sets Status and OnDuty from the check-in, check-out and
// schedule as of now.
func (s *Shift) DeriveStatus(now time.Time) {
	switch {
	case s.CheckedOutAt != nil:
		s.Status = ShiftCompleted
	case s.CheckedInAt != nil:
		s.Status = ShiftInProgress
	default:
		s.Status = ShiftScheduled
	}
	s.OnDuty = s.OnDutyAt(now)
}

// OnDutyAt reports whether the shift's caregiver is on duty at t: checked
// in and not out (until ShiftOvertimeGrace after the scheduled end), or not
// yet checked in while the scheduled window covers t. A checked-out shift is
// never on duty.
func (s *Shift) OnDutyAt(t time.Time) bool {
	if s.CheckedOutAt != nil {
		return false
	}
	if s.CheckedInAt != nil {
		return t.Before(s.EndTime.Add(ShiftOvertimeGrace))
	}
	return !t.Before(s.StartTime) && t.Before(s.EndTime)
}

// Validate normalizes the notes and checks the schedule, reporting each
// problem by field name.
func (s *Shift) Validate() error {
	var p Problems
	s.Notes = strings.TrimSpace(s.Notes)
	p.Add(s.Caregiver.ID == "", "caregiverId should not be empty")
	p.Add(s.StartTime.IsZero(), "startTime should not be empty")
	p.Add(s.EndTime.IsZero(), "endTime should not be empty")
	if !s.StartTime.IsZero() && !s.EndTime.IsZero() {
		p.Add(!s.EndTime.After(s.StartTime), "endTime must be after startTime")
		p.Add(s.EndTime.Sub(s.StartTime) > MaxShiftLength, "endTime must be at most 7 days after startTime")
	}
	p.Add(!s.StartTime.IsZero() && s.StartTime.Before(earliestOccurrence), "startTime must be after 1900-01-01")
	p.Add(utf8.RuneCountInString(s.Notes) > MaxShiftNotes, "notes must be at most %d characters", MaxShiftNotes)
	return p.Err()
}

// ValidateHandoffNotes checks the notes a caregiver leaves at check-out.
func ValidateHandoffNotes(notes string) error {
	var p Problems
	p.Add(utf8.RuneCountInString(notes) > MaxShiftNotes, "handoffNotes must be at most %d characters", MaxShiftNotes)
	return p.Err()
}
