package api

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"net/http"
	"reflect"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/carecircle/carecircle"
	"github.com/carecircle/carecircle/internal/storage"
)

// Optional is a body field that tells "absent" (keep the value) from null
// (clear it) and a value (set it), which PATCH needs for optional numbers and
// dates.
type Optional[T any] struct {
	Set   bool // the field was in the body
	Null  bool // ... as null
	Value T
}

// UnmarshalJSON records that the field was present.
func (o *Optional[T]) UnmarshalJSON(b []byte) error {
	o.Set = true
	if bytes.Equal(b, []byte("null")) {
		o.Null = true
		return nil
	}
	return json.Unmarshal(b, &o.Value)
}

// Schema documents the field as T or null.
func (Optional[T]) Schema(r huma.Registry) *huma.Schema {
	s := huma.SchemaFromType(r, reflect.TypeFor[T]())
	s.Nullable = true
	return s
}

// applyTo applies the field to an optional (pointer) value.
func (o Optional[T]) applyTo(dst **T) {
	switch {
	case !o.Set:
	case o.Null:
		*dst = nil
	default:
		v := o.Value
		*dst = &v
	}
}

// MedicationPlanFields are the optional writable fields of a medication. In
// PATCH, absent fields keep their value and null clears an optional one.
type MedicationPlanFields struct {
	Times        []string         `json:"times,omitempty" maxItems:"24" doc:"Dose times \"HH:MM\" in the care recipient's time zone: 1, 2, 3 or 4 for the daily frequencies, 1 to 4 for WEEKLY, none for AS_NEEDED"`
	DaysOfWeek   []any            `json:"daysOfWeek,omitempty" maxItems:"7" doc:"WEEKLY only: integers 0-6 (Sunday = 0) and/or day names (\"MON\", \"Monday\"); returned as integers"`
	Instructions Optional[string] `json:"instructions,omitempty" maxLength:"2000"`
	PrescribedBy Optional[string] `json:"prescribedBy,omitempty" maxLength:"200"`
	// Supply counts are doses on hand; GIVEN takes one.
	CurrentSupply      Optional[int]    `json:"currentSupply,omitempty" minimum:"0" maximum:"100000"`
	RefillThreshold    Optional[int]    `json:"refillThreshold,omitempty" minimum:"0" maximum:"100000" doc:"medication.refill_needed is recorded once when currentSupply reaches this or less"`
	StartDate          Optional[string] `json:"startDate,omitempty" maxLength:"10" doc:"YYYY-MM-DD in the recipient's zone; no doses before"`
	EndDate            Optional[string] `json:"endDate,omitempty" maxLength:"10" doc:"YYYY-MM-DD; no doses after"`
	MinIntervalMinutes Optional[int]    `json:"minIntervalMinutes,omitempty" minimum:"1" maximum:"10080" doc:"AS_NEEDED only: least time between GIVEN doses"`
	MaxDosesPer24h     Optional[int]    `json:"maxDosesPer24h,omitempty" minimum:"1" maximum:"48" doc:"AS_NEEDED only: most GIVEN doses in any 24 hours"`
}

// NewMedicationFields is the body of POST /care-recipients/{id}/medications.
type NewMedicationFields struct {
	Name      string `json:"name" maxLength:"200"`
	Dosage    string `json:"dosage" maxLength:"100"`
	Frequency string `json:"frequency" enum:"ONCE_DAILY,TWICE_DAILY,THREE_TIMES_DAILY,FOUR_TIMES_DAILY,WEEKLY,AS_NEEDED"`
	MedicationPlanFields
}

// MedicationFields is the body of PATCH /medications/{id}.
type MedicationFields struct {
	Name      *string `json:"name,omitempty" maxLength:"200"`
	Dosage    *string `json:"dosage,omitempty" maxLength:"100"`
	Frequency *string `json:"frequency,omitempty" enum:"ONCE_DAILY,TWICE_DAILY,THREE_TIMES_DAILY,FOUR_TIMES_DAILY,WEEKLY,AS_NEEDED"`
	IsActive  *bool   `json:"isActive,omitempty" doc:"false deactivates (like DELETE), true reactivates"`
	MedicationPlanFields
}

// apply copies the set fields onto m and reports malformed days and dates.
func (f *MedicationFields) apply(m *carecircle.Medication, p *carecircle.Problems) {
	if f.Name != nil {
		m.Name = *f.Name
	}
	if f.Dosage != nil {
		m.Dosage = *f.Dosage
	}
	if f.Frequency != nil && *f.Frequency != m.Frequency {
		// Fields that only make sense for the old frequency go with it,
		// unless the request sets them (and validation then judges them).
		m.Frequency = *f.Frequency
		if m.Frequency == carecircle.FrequencyAsNeeded {
			m.Times = nil
		}
		if m.Frequency != carecircle.FrequencyWeekly {
			m.DaysOfWeek = nil
		}
		if m.Frequency != carecircle.FrequencyAsNeeded {
			m.MinIntervalMinutes, m.MaxDosesPer24h = nil, nil
		}
	}
	if f.IsActive != nil {
		m.IsActive = *f.IsActive
	}
	f.MedicationPlanFields.apply(m, p)
}

// apply copies the set fields onto m.
func (f *MedicationPlanFields) apply(m *carecircle.Medication, p *carecircle.Problems) {
	if f.Times != nil {
		m.Times = f.Times
	}
	if f.DaysOfWeek != nil {
		m.DaysOfWeek = parseDaysOfWeek(f.DaysOfWeek, p)
	}
	if f.Instructions.Set {
		m.Instructions = f.Instructions.Value
	}
	if f.PrescribedBy.Set {
		m.PrescribedBy = f.PrescribedBy.Value
	}
	f.CurrentSupply.applyTo(&m.CurrentSupply)
	f.RefillThreshold.applyTo(&m.RefillThreshold)
	f.MinIntervalMinutes.applyTo(&m.MinIntervalMinutes)
	f.MaxDosesPer24h.applyTo(&m.MaxDosesPer24h)
	applyDate("startDate", f.StartDate, &m.StartDate, p)
	applyDate("endDate", f.EndDate, &m.EndDate, p)
}

// applyDate sets a date field; null or "" clears it.
func applyDate(field string, o Optional[string], dst **carecircle.Date, p *carecircle.Problems) {
	if !o.Set {
		return
	}
	if o.Null || o.Value == "" {
		*dst = nil
		return
	}
	d, err := carecircle.ParseDate(o.Value)
	if err != nil {
		p.Add(true, "%s must be a date (YYYY-MM-DD)", field)
		return
	}
	*dst = &d
}

// parseDaysOfWeek reads days given as integers 0-6 (Sunday = 0) or names.
func parseDaysOfWeek(in []any, p *carecircle.Problems) []time.Weekday {
	out := make([]time.Weekday, 0, len(in))
	for i, v := range in {
		switch x := v.(type) {
		case float64:
			if x == math.Trunc(x) && x >= 0 && x <= 6 {
				out = append(out, time.Weekday(x))
				continue
			}
		case string:
			if d, ok := carecircle.ParseWeekday(x); ok {
				out = append(out, d)
				continue
			}
		}
		p.Add(true, "daysOfWeek[%d] must be an integer 0-6 (Sunday = 0) or a day name such as MON or Monday", i)
	}
	return out
}

type createMedicationInput struct {
	ID   string `path:"id" maxLength:"64"`
	Body NewMedicationFields
}

type patchMedicationInput struct {
	ID   string `path:"id" maxLength:"64"`
	Body MedicationFields
}

type listMedicationsInput struct {
	ID              string `path:"id" maxLength:"64"`
	IncludeInactive bool   `query:"includeInactive" doc:"also list deactivated medications"`
	PageQuery
}

type medicationIDInput struct {
	ID string `path:"id" maxLength:"64"`
}

type scheduleInput struct {
	ID   string `path:"id" maxLength:"64"`
	Date string `query:"date" maxLength:"10" doc:"YYYY-MM-DD; default: today in the care recipient's time zone"`
}

type logDoseInput struct {
	ID   string `path:"id" maxLength:"64"`
	Body struct {
		Status        string  `json:"status" enum:"GIVEN,SKIPPED,MISSED"`
		ScheduledTime *string `json:"scheduledTime,omitempty" maxLength:"40" doc:"RFC 3339 instant of the dose, as in the schedule; AS_NEEDED: omit for now"`
		Notes         *string `json:"notes,omitempty" maxLength:"2000"`
	}
}

type historyInput struct {
	ID string `path:"id" maxLength:"64"`
	PageQuery
}

type correctLogInput struct {
	ID   string `path:"id" maxLength:"64"`
	Body struct {
		Status *string `json:"status,omitempty" enum:"GIVEN,SKIPPED,MISSED"`
		Notes  *string `json:"notes,omitempty" maxLength:"2000"`
	}
}

func (s *Server) registerMedications() {
	const tag = "Medications"
	huma.Register(s.api, op("listMedications", http.MethodGet, "/care-recipients/{id}/medications", "A care recipient's medications", tag, 200, true), s.listMedications)
	huma.Register(s.api, op("createMedication", http.MethodPost, "/care-recipients/{id}/medications", "Add a medication (ADMIN, CAREGIVER)", tag, 201, true), s.createMedication)
	huma.Register(s.api, op("medicationSchedule", http.MethodGet, "/care-recipients/{id}/medications/schedule", "A day's doses in the care recipient's time zone", tag, 200, true), s.medicationSchedule)
	huma.Register(s.api, op("getMedication", http.MethodGet, "/medications/{id}", "A medication", tag, 200, true), s.getMedication)
	huma.Register(s.api, op("updateMedication", http.MethodPatch, "/medications/{id}", "Update a medication (ADMIN, CAREGIVER)", tag, 200, true), s.updateMedication)
	huma.Register(s.api, op("deactivateMedication", http.MethodDelete, "/medications/{id}", "Deactivate a medication (ADMIN, CAREGIVER; history is kept)", tag, 204, true), s.deactivateMedication)
	logOp := op("logDose", http.MethodPost, "/medications/{id}/log", "Log a dose: GIVEN, SKIPPED or MISSED (ADMIN, CAREGIVER); 409 if it was already logged", tag, 201, true)
	logOp.Errors = append(logOp.Errors, 409)
	huma.Register(s.api, logOp, s.logDose)
	huma.Register(s.api, op("doseHistory", http.MethodGet, "/medications/{id}/history", "A medication's dose logs, newest dose first", tag, 200, true), s.doseHistory)
	huma.Register(s.api, op("correctDoseLog", http.MethodPatch, "/medication-logs/{id}", "Correct a dose log's status or notes (who logged it, or an ADMIN)", tag, 200, true), s.correctDoseLog)
}

func (s *Server) listMedications(ctx context.Context, in *listMedicationsInput) (*Body[List[carecircle.Medication]], error) {
	ms, err := s.db.Medications(ctx, in.ID, in.IncludeInactive)
	if err != nil {
		return nil, err
	}
	l, err := pageOf(ms, func(m carecircle.Medication) string { return m.ID }, in.PageQuery)
	return &Body[List[carecircle.Medication]]{Body: l}, err
}

func (s *Server) createMedication(ctx context.Context, in *createMedicationInput) (*Body[carecircle.Medication], error) {
	m := carecircle.Medication{Name: in.Body.Name, Dosage: in.Body.Dosage, Frequency: in.Body.Frequency}
	var p carecircle.Problems
	in.Body.MedicationPlanFields.apply(&m, &p)
	if err := p.Err(); err != nil {
		return nil, err
	}
	m, err := s.db.CreateMedication(ctx, in.ID, m)
	return &Body[carecircle.Medication]{Body: m}, err
}

func (s *Server) getMedication(ctx context.Context, in *medicationIDInput) (*Body[carecircle.Medication], error) {
	m, err := s.db.Medication(ctx, in.ID)
	return &Body[carecircle.Medication]{Body: m}, err
}

func (s *Server) updateMedication(ctx context.Context, in *patchMedicationInput) (*Body[carecircle.Medication], error) {
	m, err := s.db.UpdateMedication(ctx, in.ID, func(m *carecircle.Medication) error {
		var p carecircle.Problems
		in.Body.apply(m, &p)
		return p.Err()
	})
	return &Body[carecircle.Medication]{Body: m}, err
}

func (s *Server) deactivateMedication(ctx context.Context, in *medicationIDInput) (*NoContent, error) {
	return nil, s.db.DeactivateMedication(ctx, in.ID)
}

func (s *Server) medicationSchedule(ctx context.Context, in *scheduleInput) (*Body[carecircle.DaySchedule], error) {
	var day *carecircle.Date
	if in.Date != "" {
		d, err := carecircle.ParseDate(in.Date)
		if err != nil {
			return nil, carecircle.Invalid("date must be a date (YYYY-MM-DD)")
		}
		day = &d
	}
	sch, err := s.db.ScheduleForDay(ctx, in.ID, day)
	return &Body[carecircle.DaySchedule]{Body: sch}, err
}

func (s *Server) logDose(ctx context.Context, in *logDoseInput) (*Body[carecircle.DoseLog], error) {
	d := storage.DoseInput{Status: in.Body.Status}
	if in.Body.Notes != nil {
		d.Notes = *in.Body.Notes
	}
	if in.Body.ScheduledTime != nil {
		var p carecircle.Problems
		t := parseInstant(&p, "scheduledTime", strings.TrimSpace(*in.Body.ScheduledTime))
		if err := p.Err(); err != nil {
			return nil, err
		}
		d.ScheduledTime = &t
	}
	l, err := s.db.LogDose(ctx, in.ID, d)
	return &Body[carecircle.DoseLog]{Body: l}, err
}

func (s *Server) doseHistory(ctx context.Context, in *historyInput) (*Body[List[carecircle.DoseLog]], error) {
	logs, next, err := s.db.DoseHistory(ctx, in.ID, in.page())
	return &Body[List[carecircle.DoseLog]]{Body: List[carecircle.DoseLog]{Items: logs, NextCursor: next}}, err
}

func (s *Server) correctDoseLog(ctx context.Context, in *correctLogInput) (*Body[carecircle.DoseLog], error) {
	l, err := s.db.CorrectDoseLog(ctx, in.ID, in.Body.Status, in.Body.Notes)
	return &Body[carecircle.DoseLog]{Body: l}, err
}
