package carecircle

import (
	"strings"
	"time"
	"unicode/utf8"
)

// TimelineType is the kind of a health timeline entry.
type TimelineType string

// Timeline entry types, as in the API contract.
const (
	TimelineNote               TimelineType = "NOTE"
	TimelineVitals             TimelineType = "VITALS"
	TimelineSymptom            TimelineType = "SYMPTOM"
	TimelineIncident           TimelineType = "INCIDENT"
	TimelineMood               TimelineType = "MOOD"
	TimelineMeal               TimelineType = "MEAL"
	TimelineActivity           TimelineType = "ACTIVITY"
	TimelineSleep              TimelineType = "SLEEP"
	TimelineMedicationChange   TimelineType = "MEDICATION_CHANGE"
	TimelineAppointmentSummary TimelineType = "APPOINTMENT_SUMMARY"
)

// TimelineTypes lists every entry type in the contract's order.
var TimelineTypes = []TimelineType{TimelineNote, TimelineVitals, TimelineSymptom, TimelineIncident, TimelineMood,
	TimelineMeal, TimelineActivity, TimelineSleep, TimelineMedicationChange, TimelineAppointmentSummary}

// Valid reports whether t is one of the contract's entry types.
func (t TimelineType) Valid() bool {
	for _, v := range TimelineTypes {
		if t == v {
			return true
		}
	}
	return false
}

// Severity grades how serious a timeline entry is.
type Severity string

// Severities, from least to most serious.
const (
	SeverityLow      Severity = "LOW"
	SeverityMedium   Severity = "MEDIUM"
	SeverityHigh     Severity = "HIGH"
	SeverityCritical Severity = "CRITICAL"
)

// Valid reports whether s is one of the four severities.
func (s Severity) Valid() bool {
	return s == SeverityLow || s == SeverityMedium || s == SeverityHigh || s == SeverityCritical
}

// Vitals are measurements taken at one moment. Every field is optional;
// absent fields were not measured.
type Vitals struct {
	Systolic         *float64 `json:"systolic,omitempty" doc:"mmHg, 50–300"`
	Diastolic        *float64 `json:"diastolic,omitempty" doc:"mmHg, 20–200, below systolic"`
	HeartRate        *float64 `json:"heartRate,omitempty" doc:"beats per minute, 20–250"`
	TemperatureC     *float64 `json:"temperatureC,omitempty" doc:"degrees Celsius, 30–45"`
	BloodSugar       *float64 `json:"bloodSugar,omitempty" doc:"mg/dL, 10–1000"`
	OxygenSaturation *float64 `json:"oxygenSaturation,omitempty" doc:"SpO2 percent, 50–100"`
	WeightKg         *float64 `json:"weightKg,omitempty" doc:"kilograms, 1–500"`
}

// vitalRanges are the plausible bounds of each measurement. They catch typos
// (a temperature of 375, a weight in grams) before they enter the record.
var vitalRanges = []struct {
	field  string
	get    func(*Vitals) *float64
	lo, hi float64
}{
	{"systolic", func(v *Vitals) *float64 { return v.Systolic }, 50, 300},
	{"diastolic", func(v *Vitals) *float64 { return v.Diastolic }, 20, 200},
	{"heartRate", func(v *Vitals) *float64 { return v.HeartRate }, 20, 250},
	{"temperatureC", func(v *Vitals) *float64 { return v.TemperatureC }, 30, 45},
	{"bloodSugar", func(v *Vitals) *float64 { return v.BloodSugar }, 10, 1000},
	{"oxygenSaturation", func(v *Vitals) *float64 { return v.OxygenSaturation }, 50, 100},
	{"weightKg", func(v *Vitals) *float64 { return v.WeightKg }, 1, 500},
}

// IsEmpty reports whether no measurement is set.
func (v *Vitals) IsEmpty() bool {
	if v == nil {
		return true
	}
	for _, r := range vitalRanges {
		if r.get(v) != nil {
			return false
		}
	}
	return true
}

// validate adds one message per out-of-range measurement.
func (v *Vitals) validate(p *Problems) {
	for _, r := range vitalRanges {
		x := r.get(v)
		p.Add(x != nil && !(*x >= r.lo && *x <= r.hi), "vitals.%s must be between %g and %g", r.field, r.lo, r.hi)
	}
	p.Add(v.Systolic != nil && v.Diastolic != nil && *v.Diastolic >= *v.Systolic,
		"vitals.diastolic must be less than vitals.systolic")
}

// TimelineEntry is one event in a care recipient's health history.
type TimelineEntry struct {
	ID              string       `json:"id"`
	CareRecipientID string       `json:"careRecipientId"`
	Type            TimelineType `json:"type"`
	Content         string       `json:"content"`
	Severity        *Severity    `json:"severity"`
	OccurredAt      time.Time    `json:"occurredAt"`
	Vitals          *Vitals      `json:"vitals"`
	Author          MemberRef    `json:"author"`
	CreatedAt       time.Time    `json:"createdAt"`
	UpdatedAt       time.Time    `json:"updatedAt"`
}

// Timeline limits.
const (
	// TimelineFutureSkew is how far in the future occurredAt may be: enough
	// for a phone whose clock runs a little fast, not enough to post-date.
	TimelineFutureSkew = 5 * time.Minute
	// MaxTimelineContent is the longest entry text, in characters.
	MaxTimelineContent = 10000
)

var earliestOccurrence = time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC)

// Validate normalizes the entry (trimmed content, empty vitals as none) and
// checks it against now, reporting each problem by field name.
func (e *TimelineEntry) Validate(now time.Time) error {
	var p Problems
	e.Content = strings.TrimSpace(e.Content)
	p.Add(!e.Type.Valid(), "type must be one of %s", joinTimelineTypes())
	// A vitals reading speaks for itself; every other entry needs words.
	p.Add(e.Content == "" && e.Type != TimelineVitals, "content should not be empty")
	p.Add(utf8.RuneCountInString(e.Content) > MaxTimelineContent, "content must be at most %d characters", MaxTimelineContent)
	if e.Severity != nil && *e.Severity == "" {
		e.Severity = nil
	}
	p.Add(e.Severity != nil && !e.Severity.Valid(), "severity must be one of LOW, MEDIUM, HIGH, CRITICAL")
	p.Add(e.OccurredAt.IsZero(), "occurredAt should not be empty")
	p.Add(e.OccurredAt.After(now.Add(TimelineFutureSkew)), "occurredAt must not be more than 5 minutes in the future")
	p.Add(!e.OccurredAt.IsZero() && e.OccurredAt.Before(earliestOccurrence), "occurredAt must be after 1900-01-01")
	if e.Vitals.IsEmpty() {
		e.Vitals = nil
	}
	p.Add(e.Type == TimelineVitals && e.Vitals == nil, "vitals must have at least one measurement for a VITALS entry")
	if e.Vitals != nil {
		e.Vitals.validate(&p)
	}
	return p.Err()
}

func joinTimelineTypes() string {
	s := make([]string, len(TimelineTypes))
	for i, t := range TimelineTypes {
		s[i] = string(t)
	}
	return strings.Join(s, ", ")
}
