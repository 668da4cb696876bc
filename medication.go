package carecircle

import (
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// Medication is a medicine a care recipient takes, with its dose plan. Times
// are "HH:MM" wall-clock times in the recipient's zone (see schedule.go for
// how they become instants).
type Medication struct {
	ID                 string         `json:"id"`
	CareRecipientID    string         `json:"careRecipientId"`
	FamilyID           string         `json:"-"`
	Name               string         `json:"name"`
	Dosage             string         `json:"dosage"`
	Frequency          string         `json:"frequency"`
	Times              []string       `json:"times"`
	DaysOfWeek         []time.Weekday `json:"daysOfWeek" doc:"WEEKLY only: days as integers, Sunday = 0"`
	Instructions       string         `json:"instructions"`
	PrescribedBy       string         `json:"prescribedBy"`
	CurrentSupply      *int           `json:"currentSupply"`
	RefillThreshold    *int           `json:"refillThreshold"`
	StartDate          *Date          `json:"startDate"`
	EndDate            *Date          `json:"endDate"`
	MinIntervalMinutes *int           `json:"minIntervalMinutes"`
	MaxDosesPer24h     *int           `json:"maxDosesPer24h"`
	IsActive           bool           `json:"isActive"`
	CreatedAt          time.Time      `json:"createdAt"`
	UpdatedAt          time.Time      `json:"updatedAt"`
}

// Limits of a medication's fields.
const (
	MaxSupply           = 100000
	MaxIntervalMinutes  = 7 * 24 * 60
	MaxDosesPerDayLimit = 48
)

// Plan returns the medication's dose plan.
func (m *Medication) Plan() DosePlan {
	return DosePlan{Frequency: m.Frequency, Times: m.Times, DaysOfWeek: m.DaysOfWeek,
		StartDate: m.StartDate, EndDate: m.EndDate}
}

// Normalize trims text, sorts times and days, and replaces nil lists with
// empty ones, so stored and returned medications look the same.
func (m *Medication) Normalize() {
	m.Name, m.Dosage = strings.TrimSpace(m.Name), strings.TrimSpace(m.Dosage)
	m.Instructions, m.PrescribedBy = strings.TrimSpace(m.Instructions), strings.TrimSpace(m.PrescribedBy)
	if m.Times == nil {
		m.Times = []string{}
	}
	if m.DaysOfWeek == nil {
		m.DaysOfWeek = []time.Weekday{}
	}
	slices.Sort(m.Times)
	slices.Sort(m.DaysOfWeek)
}

// Validate checks every field and reports each problem by name.
func (m *Medication) Validate() error {
	// The plan is judged as sent, before Normalize sorts the times, so
	// "times[1]" names the entry the client wrote second.
	asSent := m.Plan()
	asSent.Times, asSent.DaysOfWeek = slices.Clone(m.Times), slices.Clone(m.DaysOfWeek)
	m.Normalize()
	var p Problems
	p.Add(m.Name == "", "name should not be empty")
	p.Add(utf8.RuneCountInString(m.Name) > 200, "name must be at most 200 characters")
	p.Add(m.Dosage == "", "dosage should not be empty")
	p.Add(utf8.RuneCountInString(m.Dosage) > 100, "dosage must be at most 100 characters")
	p.Add(utf8.RuneCountInString(m.Instructions) > 2000, "instructions must be at most 2000 characters")
	p.Add(utf8.RuneCountInString(m.PrescribedBy) > 200, "prescribedBy must be at most 200 characters")
	p = append(p, asSent.Validate()...)
	checkCount := func(field string, v *int, lo, hi int) {
		p.Add(v != nil && (*v < lo || *v > hi), "%s must be between %d and %d", field, lo, hi)
	}
	checkCount("currentSupply", m.CurrentSupply, 0, MaxSupply)
	checkCount("refillThreshold", m.RefillThreshold, 0, MaxSupply)
	checkCount("minIntervalMinutes", m.MinIntervalMinutes, 1, MaxIntervalMinutes)
	checkCount("maxDosesPer24h", m.MaxDosesPer24h, 1, MaxDosesPerDayLimit)
	if m.Frequency != FrequencyAsNeeded {
		p.Add(m.MinIntervalMinutes != nil, "minIntervalMinutes applies only to frequency %s", FrequencyAsNeeded)
		p.Add(m.MaxDosesPer24h != nil, "maxDosesPer24h applies only to frequency %s", FrequencyAsNeeded)
	}
	return p.Err()
}

// NeedsRefill reports whether the supply is at or below the refill
// threshold. A medication without either number never needs a refill alert.
func (m *Medication) NeedsRefill() bool {
	return m.CurrentSupply != nil && m.RefillThreshold != nil && *m.CurrentSupply <= *m.RefillThreshold
}

// ParseWeekday reads a day of the week given as a name ("MON", "Monday",
// "mo", case-insensitive). Numbers are handled by the caller (0 = Sunday).
func ParseWeekday(s string) (time.Weekday, bool) {
	s = strings.ToLower(strings.TrimSpace(s))
	if len(s) < 2 {
		return 0, false
	}
	for d := time.Sunday; d <= time.Saturday; d++ {
		full := strings.ToLower(d.String())
		if s == full || s == full[:3] || s == full[:2] {
			return d, true
		}
	}
	return 0, false
}

// Dose statuses. PENDING is never stored: it is a scheduled dose without a
// log whose time has not yet passed by the recipient's missed-dose delay.
const (
	DoseGiven   = "GIVEN"
	DoseSkipped = "SKIPPED"
	DoseMissed  = "MISSED"
	DosePending = "PENDING"
)

// ValidDoseStatus reports whether s is a status a caregiver may log.
func ValidDoseStatus(s string) bool {
	return s == DoseGiven || s == DoseSkipped || s == DoseMissed
}

// DoseLog records what happened to one dose: a medication at one scheduled
// instant. There is at most one log per dose.
type DoseLog struct {
	ID            string    `json:"id"`
	MedicationID  string    `json:"medicationId"`
	Status        string    `json:"status"`
	ScheduledTime time.Time `json:"scheduledTime"`
	LoggedAt      time.Time `json:"loggedAt"`
	LoggedBy      MemberRef `json:"loggedBy"`
	Notes         string    `json:"notes"`
	// CorrectedAt and CorrectedBy are set once the log has been corrected.
	CorrectedAt *time.Time `json:"correctedAt,omitempty"`
	CorrectedBy *MemberRef `json:"correctedBy,omitempty"`
}

// MaxDoseNotes is the longest note a dose log may carry.
const MaxDoseNotes = 2000

// MaxGivenAhead is how long before a dose's time it may already be logged
// GIVEN. Logging tomorrow's dose by mistake would hide it from tomorrow's
// caregiver, so a GIVEN log far ahead of its dose is refused.
const MaxGivenAhead = 12 * time.Hour

// ScheduledDose is one dose of a day's schedule.
type ScheduledDose struct {
	MedicationID  string    `json:"medicationId"`
	Name          string    `json:"name"`
	Dosage        string    `json:"dosage"`
	LocalTime     string    `json:"localTime" doc:"HH:MM of the dose's instant in the recipient's zone"`
	ScheduledTime time.Time `json:"scheduledTime"`
	Status        string    `json:"status" enum:"PENDING,GIVEN,SKIPPED,MISSED"`
	Log           *DoseLog  `json:"log,omitempty"`
}

// DaySchedule is a care recipient's doses of one local day, ordered by time.
type DaySchedule struct {
	Date     Date            `json:"date"`
	Timezone string          `json:"timezone"`
	Items    []ScheduledDose `json:"items"`
}

// DoseStatus is the status of a scheduled dose at now: its log's status, or
// MISSED once missedAfter has passed since its time with no log, or PENDING.
func DoseStatus(scheduled, now time.Time, missedAfter time.Duration, log *DoseLog) string {
	switch {
	case log != nil:
		return log.Status
	case !now.Before(scheduled.Add(missedAfter)):
		return DoseMissed
	}
	return DosePending
}

// AsNeededRule names the AS_NEEDED limit a dose would break.
type AsNeededRule string

// AS_NEEDED limits.
const (
	RuleMinInterval AsNeededRule = "minIntervalMinutes"
	RuleMaxPer24h   AsNeededRule = "maxDosesPer24h"
)

// AsNeededVerdict says whether an AS_NEEDED dose may be given at a time and,
// if not, which rule it breaks, the dose that makes it break (the last dose
// given too recently, or the oldest dose in the full 24-hour window), and the
// earliest time from then on when a dose is allowed.
type AsNeededVerdict struct {
	Allowed       bool
	Rule          AsNeededRule
	Because       time.Time
	NextAllowedAt time.Time
}

// CheckAsNeeded applies minIntervalMinutes and maxDosesPer24h to a dose
// given at t, where given holds the other GIVEN doses of the medication (at
// least those within 24 hours either side of t). The 24-hour limit is a
// rolling window: no 24 hours may contain more than max doses, counting
// backfilled doses whose window reaches past t.
func CheckAsNeeded(given []time.Time, t time.Time, minInterval, maxPer24h *int) AsNeededVerdict {
	given = slices.Clone(given)
	slices.SortFunc(given, time.Time.Compare)
	v := asNeededAt(given, t, minInterval, maxPer24h)
	if v.Allowed {
		return v
	}
	// The earliest allowed time is t, or just where an interval or a window
	// ends after one of the given doses.
	var candidates []time.Time
	for _, g := range given {
		if minInterval != nil {
			candidates = append(candidates, g.Add(time.Duration(*minInterval)*time.Minute))
		}
		candidates = append(candidates, g.Add(24*time.Hour))
	}
	slices.SortFunc(candidates, time.Time.Compare)
	if len(given) > 0 {
		v.NextAllowedAt = given[len(given)-1].Add(24 * time.Hour)
	}
	for _, c := range candidates {
		if c.After(t) && asNeededAt(given, c, minInterval, maxPer24h).Allowed {
			v.NextAllowedAt = c
			break
		}
	}
	return v
}

// asNeededAt checks one time against sorted given doses.
func asNeededAt(given []time.Time, t time.Time, minInterval, maxPer24h *int) AsNeededVerdict {
	if minInterval != nil {
		iv := time.Duration(*minInterval) * time.Minute
		for i := len(given) - 1; i >= 0; i-- {
			g := given[i]
			if d := t.Sub(g); d < iv && d > -iv {
				return AsNeededVerdict{Rule: RuleMinInterval, Because: g}
			}
		}
	}
	if maxPer24h != nil {
		// Every window (e-24h, e] that contains t ends at t or at a later dose.
		ends := []time.Time{t}
		for _, g := range given {
			if g.After(t) && g.Before(t.Add(24*time.Hour)) {
				ends = append(ends, g)
			}
		}
		for _, e := range ends {
			n, oldest := 1, time.Time{}
			for _, g := range given {
				if g.After(e.Add(-24*time.Hour)) && !g.After(e) {
					if n++; oldest.IsZero() {
						oldest = g
					}
				}
			}
			if n > *maxPer24h {
				return AsNeededVerdict{Rule: RuleMaxPer24h, Because: oldest}
			}
		}
	}
	return AsNeededVerdict{Allowed: true}
}

// ClockOf formats the wall-clock time of t in loc as "HH:MM".
func ClockOf(t time.Time, loc *time.Location) string {
	return t.In(loc).Format("15:04")
}

// WhenIn describes t for a person in loc: "08:04" when it is on the same
// local day as now, else "2026-03-07 22:04".
func WhenIn(t, now time.Time, loc *time.Location) string {
	if DateOf(t, loc) == DateOf(now, loc) {
		return ClockOf(t, loc)
	}
	return t.In(loc).Format("2006-01-02 15:04")
}
