package carecircle

import (
	"strings"
	"testing"
	"time"
)

func TestShiftValidate_ReportsEachFieldByName(t *testing.T) {
	start := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
	cg := MemberRef{ID: "usr_x"}
	cases := []struct {
		name string
		s    Shift
		want []string
	}{
		{"ok", Shift{Caregiver: cg, StartTime: start, EndTime: start.Add(8 * time.Hour)}, nil},
		{"exactly seven days", Shift{Caregiver: cg, StartTime: start, EndTime: start.Add(MaxShiftLength)}, nil},
		{"longer than seven days", Shift{Caregiver: cg, StartTime: start, EndTime: start.Add(MaxShiftLength + time.Second)},
			[]string{"endTime must be at most 7 days after startTime"}},
		{"ends when it starts", Shift{Caregiver: cg, StartTime: start, EndTime: start}, []string{"endTime must be after startTime"}},
		{"ends before it starts", Shift{Caregiver: cg, StartTime: start, EndTime: start.Add(-time.Hour)}, []string{"endTime must be after startTime"}},
		{"nothing given", Shift{}, []string{"caregiverId should not be empty", "startTime should not be empty", "endTime should not be empty"}},
		{"long notes", Shift{Caregiver: cg, StartTime: start, EndTime: start.Add(time.Hour), Notes: strings.Repeat("ü", MaxShiftNotes+1)},
			[]string{"notes must be at most 5000 characters"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var got []string
			if err := c.s.Validate(); err != nil {
				got = err.(*Error).Fields
			}
			if strings.Join(got, "|") != strings.Join(c.want, "|") {
				t.Errorf("Validate = %q, want %q", got, c.want)
			}
		})
	}
}

func TestShiftDeriveStatus_OnDutyFollowsScheduleAndCheckIns(t *testing.T) {
	start := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
	end := start.Add(8 * time.Hour)
	at := func(d time.Duration) *time.Time { t := start.Add(d); return &t }
	cases := []struct {
		name    string
		in, out *time.Time
		now     time.Time
		status  ShiftStatus
		onDuty  bool
	}{
		{"before the shift", nil, nil, start.Add(-time.Minute), ShiftScheduled, false},
		{"at its start", nil, nil, start, ShiftScheduled, true},
		{"during, not checked in", nil, nil, start.Add(4 * time.Hour), ShiftScheduled, true},
		{"at its end, never checked in", nil, nil, end, ShiftScheduled, false},
		{"checked in early", at(-30 * time.Minute), nil, start.Add(-20 * time.Minute), ShiftInProgress, true},
		{"staying late", at(0), nil, end.Add(2 * time.Hour), ShiftInProgress, true},
		{"forgot to check out", at(0), nil, end.Add(ShiftOvertimeGrace), ShiftInProgress, false},
		{"checked out early", at(0), at(time.Hour), start.Add(2 * time.Hour), ShiftCompleted, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := Shift{StartTime: start, EndTime: end, CheckedInAt: c.in, CheckedOutAt: c.out}
			s.DeriveStatus(c.now)
			if s.Status != c.status || s.OnDuty != c.onDuty {
				t.Errorf("status %s onDuty %v, want %s %v", s.Status, s.OnDuty, c.status, c.onDuty)
			}
		})
	}
}
