package carecircle

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func intp(v int) *int { return &v }

func TestMedicationValidate_NamesEachField(t *testing.T) {
	start, end := Date{2026, 5, 1}, Date{2026, 4, 30}
	tests := []struct {
		name  string
		m     Medication
		field string // "" means valid
	}{
		{"seed example", Medication{Name: "Metformin", Dosage: "500mg", Frequency: FrequencyThreeTimesDaily,
			Times: []string{"08:00", "14:00", "20:00"}, CurrentSupply: intp(90), RefillThreshold: intp(15)}, ""},
		{"as needed with limits", Medication{Name: "Paracetamol", Dosage: "1g", Frequency: FrequencyAsNeeded,
			MinIntervalMinutes: intp(240), MaxDosesPer24h: intp(4)}, ""},
		{"weekly", Medication{Name: "Alendronate", Dosage: "70mg", Frequency: FrequencyWeekly, Times: []string{"07:00"},
			DaysOfWeek: []time.Weekday{time.Monday}}, ""},
		{"blank name", Medication{Name: "  ", Dosage: "1", Frequency: FrequencyOnceDaily, Times: []string{"08:00"}}, "name should not be empty"},
		{"long dosage", Medication{Name: "a", Dosage: strings.Repeat("é", 101), Frequency: FrequencyOnceDaily, Times: []string{"08:00"}}, "dosage must be at most"},
		{"25:00", Medication{Name: "a", Dosage: "1", Frequency: FrequencyOnceDaily, Times: []string{"25:00"}}, "times[0]"},
		{"negative supply", Medication{Name: "a", Dosage: "1", Frequency: FrequencyOnceDaily, Times: []string{"08:00"}, CurrentSupply: intp(-1)}, "currentSupply"},
		{"huge threshold", Medication{Name: "a", Dosage: "1", Frequency: FrequencyOnceDaily, Times: []string{"08:00"}, RefillThreshold: intp(MaxSupply + 1)}, "refillThreshold"},
		{"interval on a daily", Medication{Name: "a", Dosage: "1", Frequency: FrequencyOnceDaily, Times: []string{"08:00"}, MinIntervalMinutes: intp(60)}, "minIntervalMinutes applies only"},
		{"max doses zero", Medication{Name: "a", Dosage: "1", Frequency: FrequencyAsNeeded, MaxDosesPer24h: intp(0)}, "maxDosesPer24h"},
		{"end before start", Medication{Name: "a", Dosage: "1", Frequency: FrequencyOnceDaily, Times: []string{"08:00"}, StartDate: &start, EndDate: &end}, "endDate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.m.Validate()
			if tt.field == "" {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			if err == nil || !strings.Contains(strings.Join(err.(*Error).Fields, "|"), tt.field) {
				t.Fatalf("Validate() = %v, want a message with %q", err, tt.field)
			}
		})
	}
}

func TestMedicationNormalize_SortsAndFillsLists(t *testing.T) {
	m := Medication{Name: " Metformin ", Times: []string{"20:00", "08:00"}, DaysOfWeek: []time.Weekday{5, 1}}
	m.Normalize()
	if m.Name != "Metformin" || !slices.Equal(m.Times, []string{"08:00", "20:00"}) || !slices.Equal(m.DaysOfWeek, []time.Weekday{1, 5}) {
		t.Fatalf("normalized = %+v", m)
	}
	var empty Medication
	empty.Normalize()
	if empty.Times == nil || empty.DaysOfWeek == nil {
		t.Fatal("nil lists stay nil; they must encode as []")
	}
}

func TestParseWeekday_NamesInAnyCase(t *testing.T) {
	for in, want := range map[string]time.Weekday{"MON": time.Monday, "monday": time.Monday, "Mo": time.Monday,
		"sun": time.Sunday, "SATURDAY": time.Saturday, " Thu ": time.Thursday} {
		if got, ok := ParseWeekday(in); !ok || got != want {
			t.Errorf("ParseWeekday(%q) = %v, %v; want %v", in, got, ok, want)
		}
	}
	for _, in := range []string{"", "M", "Mond", "Funday", "1", "Montag"} {
		if _, ok := ParseWeekday(in); ok {
			t.Errorf("ParseWeekday(%q) accepted", in)
		}
	}
}

func TestNeedsRefill_AtOrBelowThreshold(t *testing.T) {
	for _, tt := range []struct {
		supply, threshold *int
		want              bool
	}{{intp(16), intp(15), false}, {intp(15), intp(15), true}, {intp(0), intp(0), true}, {nil, intp(15), false}, {intp(3), nil, false}} {
		m := Medication{CurrentSupply: tt.supply, RefillThreshold: tt.threshold}
		if got := m.NeedsRefill(); got != tt.want {
			t.Errorf("NeedsRefill(%v, %v) = %v", tt.supply, tt.threshold, got)
		}
	}
}

func TestDoseStatus_MissedAfterDelay(t *testing.T) {
	at := time.Date(2026, 1, 15, 13, 0, 0, 0, time.UTC)
	hour := time.Hour
	for _, tt := range []struct {
		now  time.Time
		log  *DoseLog
		want string
	}{
		{at.Add(-time.Hour), nil, DosePending},
		{at.Add(59 * time.Minute), nil, DosePending},
		{at.Add(60 * time.Minute), nil, DoseMissed},
		{at.Add(-time.Hour), &DoseLog{Status: DoseGiven}, DoseGiven},
		{at.Add(5 * time.Hour), &DoseLog{Status: DoseSkipped}, DoseSkipped},
	} {
		if got := DoseStatus(at, tt.now, hour, tt.log); got != tt.want {
			t.Errorf("DoseStatus at %v = %s, want %s", tt.now, got, tt.want)
		}
	}
}

func TestCheckAsNeeded_IntervalAndRollingDay(t *testing.T) {
	ts := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	list := func(ss ...string) []time.Time {
		var out []time.Time
		for _, s := range ss {
			out = append(out, ts(s))
		}
		return out
	}
	tests := []struct {
		name        string
		given       []time.Time
		at          string
		interval    *int
		max         *int
		allowed     bool
		rule        AsNeededRule
		nextAllowed string
	}{
		{"first dose", nil, "2026-01-15T12:00:00Z", intp(240), intp(3), true, "", ""},
		{"no limits", list("2026-01-15T11:59:00Z"), "2026-01-15T12:00:00Z", nil, nil, true, "", ""},
		{"too soon", list("2026-01-15T12:00:00Z"), "2026-01-15T13:00:00Z", intp(240), nil, false, RuleMinInterval, "2026-01-15T16:00:00Z"},
		{"interval exactly over", list("2026-01-15T12:00:00Z"), "2026-01-15T16:00:00Z", intp(240), nil, true, "", ""},
		{"fourth in a day", list("2026-01-15T12:00:00Z", "2026-01-15T16:00:00Z", "2026-01-15T20:30:00Z"), "2026-01-16T08:00:00Z",
			intp(240), intp(3), false, RuleMaxPer24h, "2026-01-16T12:00:00Z"},
		{"window rolled", list("2026-01-15T12:00:00Z", "2026-01-15T16:00:00Z", "2026-01-15T20:30:00Z"), "2026-01-16T12:00:00Z",
			intp(240), intp(3), true, "", ""},
		// A backfilled dose must not break the limit of a later window.
		{"backfill crowds a later window", list("2026-01-15T18:00:00Z", "2026-01-16T06:00:00Z"), "2026-01-15T08:00:00Z",
			nil, intp(2), false, RuleMaxPer24h, "2026-01-16T18:00:00Z"},
		{"backfill before a later dose", list("2026-01-15T12:00:00Z"), "2026-01-15T10:00:00Z", intp(240), nil, false, RuleMinInterval, "2026-01-15T16:00:00Z"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := CheckAsNeeded(tt.given, ts(tt.at), tt.interval, tt.max)
			if v.Allowed != tt.allowed || v.Rule != tt.rule {
				t.Fatalf("CheckAsNeeded = %+v, want allowed=%v rule=%q", v, tt.allowed, tt.rule)
			}
			if !tt.allowed && !v.NextAllowedAt.Equal(ts(tt.nextAllowed)) {
				t.Fatalf("nextAllowedAt = %v, want %s", v.NextAllowedAt, tt.nextAllowed)
			}
			if !tt.allowed && !CheckAsNeeded(tt.given, v.NextAllowedAt, tt.interval, tt.max).Allowed {
				t.Fatalf("nextAllowedAt %v is not allowed itself", v.NextAllowedAt)
			}
		})
	}
}

func TestWhenIn_ShowsDateOnlyForOtherDays(t *testing.T) {
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 1, 15, 15, 0, 0, 0, time.UTC) // 10:00 EST
	if got := WhenIn(time.Date(2026, 1, 15, 13, 4, 0, 0, time.UTC), now, ny); got != "08:04" {
		t.Errorf("same day = %q", got)
	}
	if got := WhenIn(time.Date(2026, 1, 15, 3, 4, 0, 0, time.UTC), now, ny); got != "2026-01-14 22:04" {
		t.Errorf("previous local day = %q", got)
	}
}
