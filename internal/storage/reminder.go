package storage

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/carecircle/carecircle"
)

// This file holds the reads and writes of the reminder jobs (package
// notify). They run for the system, not for a request, so they are not
// scoped by a caller's membership: nothing here is reachable from the API.

// ReminderMedication is a medication with what its reminders need.
type ReminderMedication struct {
	ID                string
	FamilyID          string
	RecipientID       string
	Name              string
	Dosage            string
	Instructions      string
	Plan              carecircle.DosePlan
	Active            bool // not deactivated, and its recipient not removed
	CurrentSupply     *int
	RefillThreshold   *int
	RecipientName     string
	Timezone          string
	MissedDoseMinutes int
}

// NeedsRefill reports whether the supply is at or below the threshold.
func (m ReminderMedication) NeedsRefill() bool {
	return m.CurrentSupply != nil && m.RefillThreshold != nil && *m.CurrentSupply <= *m.RefillThreshold
}

const reminderMedicationColumns = `x.id, x.family_id, x.care_recipient_id, x.name, x.dosage, x.instructions, x.frequency,
	x.times, x.days_of_week, x.start_date, x.end_date, x.current_supply, x.refill_threshold,
	CASE WHEN x.deactivated_at IS NULL AND cr.deleted_at IS NULL THEN 1 ELSE 0 END,
	cr.first_name, cr.preferred_name, cr.timezone, cr.missed_dose_minutes`

const reminderMedicationFrom = ` FROM medications x JOIN care_recipients cr ON cr.id = x.care_recipient_id`

func scanReminderMedication(row rowScanner) (ReminderMedication, error) {
	var m ReminderMedication
	var times, days string
	var start, end sql.NullString
	var supply, threshold sql.NullInt64
	var active int
	var first, preferred string
	if err := row.Scan(&m.ID, &m.FamilyID, &m.RecipientID, &m.Name, &m.Dosage, &m.Instructions, &m.Plan.Frequency,
		&times, &days, &start, &end, &supply, &threshold, &active, &first, &preferred, &m.Timezone, &m.MissedDoseMinutes); err != nil {
		return m, err
	}
	if err := json.Unmarshal([]byte(times), &m.Plan.Times); err != nil {
		return m, fmt.Errorf("medication %s times: %w", m.ID, err)
	}
	if err := json.Unmarshal([]byte(days), &m.Plan.DaysOfWeek); err != nil {
		return m, fmt.Errorf("medication %s days: %w", m.ID, err)
	}
	for _, d := range []struct {
		s   sql.NullString
		dst **carecircle.Date
	}{{start, &m.Plan.StartDate}, {end, &m.Plan.EndDate}} {
		if d.s.Valid && d.s.String != "" {
			v, err := carecircle.ParseDate(d.s.String)
			if err != nil {
				return m, fmt.Errorf("medication %s dates: %w", m.ID, err)
			}
			*d.dst = &v
		}
	}
	if supply.Valid {
		v := int(supply.Int64)
		m.CurrentSupply = &v
	}
	if threshold.Valid {
		v := int(threshold.Int64)
		m.RefillThreshold = &v
	}
	m.Active = active == 1
	m.RecipientName = preferred
	if m.RecipientName == "" {
		m.RecipientName = first
	}
	if m.MissedDoseMinutes <= 0 {
		m.MissedDoseMinutes = carecircle.DefaultMissedDoseMinutes
	}
	return m, nil
}

func collectReminderMedications(rows *sql.Rows) ([]ReminderMedication, error) {
	out, err := collect(rows, scanReminderMedication)
	if err != nil {
		return nil, fmt.Errorf("read medications: %w", err)
	}
	return out, nil
}

// ActiveMedications returns up to limit active scheduled medications (not
// AS_NEEDED) with ids after afterID, in id order: the planner's pages.
func (db *DB) ActiveMedications(ctx context.Context, afterID string, limit int) ([]ReminderMedication, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT `+reminderMedicationColumns+reminderMedicationFrom+`
		WHERE x.id > $1 AND x.deactivated_at IS NULL AND cr.deleted_at IS NULL AND x.frequency <> 'AS_NEEDED'
		ORDER BY x.id LIMIT $2`, afterID, limit)
	if err != nil {
		return nil, fmt.Errorf("read medications: %w", err)
	}
	return collectReminderMedications(rows)
}

// RecipientMedications returns a care recipient's active scheduled
// medications.
func (db *DB) RecipientMedications(ctx context.Context, recipientID string) ([]ReminderMedication, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT `+reminderMedicationColumns+reminderMedicationFrom+`
		WHERE x.care_recipient_id = $1 AND x.deactivated_at IS NULL AND cr.deleted_at IS NULL AND x.frequency <> 'AS_NEEDED'
		ORDER BY x.id`, recipientID)
	if err != nil {
		return nil, fmt.Errorf("read medications: %w", err)
	}
	return collectReminderMedications(rows)
}

// MedicationForReminder reads one medication, active or not.
func (db *DB) MedicationForReminder(ctx context.Context, id string) (ReminderMedication, error) {
	m, err := scanReminderMedication(db.r.QueryRowContext(ctx, `SELECT `+reminderMedicationColumns+reminderMedicationFrom+`
		WHERE x.id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return m, notFound("medication")
	}
	if err != nil {
		return m, fmt.Errorf("read medication: %w", err)
	}
	return m, nil
}

// DoseForReminder reads a medication and whether its dose at `at` has a
// log, in one query: the dose reminder's whole check.
func (db *DB) DoseForReminder(ctx context.Context, medicationID string, at time.Time) (ReminderMedication, bool, error) {
	var logged int
	m, err := scanReminderMedication(scanWith{db.r.QueryRowContext(ctx, `SELECT `+reminderMedicationColumns+`,
		CASE WHEN EXISTS (SELECT 1 FROM medication_logs l WHERE l.medication_id = x.id AND l.scheduled_at = $2) THEN 1 ELSE 0 END
		`+reminderMedicationFrom+` WHERE x.id = $1`, medicationID, ms(at)), []any{&logged}})
	if errors.Is(err, sql.ErrNoRows) {
		return m, false, notFound("medication")
	}
	if err != nil {
		return m, false, fmt.Errorf("read medication: %w", err)
	}
	return m, logged == 1, nil
}

// RecordMissedDose records medication.missed for the dose, in one
// transaction with finishing the job that checks it, if the dose is still
// unlogged and its medication still active. It reports whether the event
// was recorded. The event carries what a notice needs.
func (db *DB) RecordMissedDose(ctx context.Context, lock JobLock, m ReminderMedication, at time.Time, localTime string) (bool, error) {
	var recorded bool
	err := db.write(ctx, func(tx *Tx) error {
		var err error
		recorded, err = tx.RecordMissedDose(ctx, lock, m, at, localTime)
		return err
	})
	return recorded, err
}

// RecordMissedDose is DB.RecordMissedDose as part of tx.
func (tx *Tx) RecordMissedDose(ctx context.Context, lock JobLock, m ReminderMedication, at time.Time, localTime string) (bool, error) {
	var logged, active int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM medication_logs WHERE medication_id = $1 AND scheduled_at = $2`,
		m.ID, ms(at)).Scan(&logged); err != nil {
		return false, fmt.Errorf("read dose log: %w", err)
	}
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM medications x JOIN care_recipients cr ON cr.id = x.care_recipient_id
		WHERE x.id = $1 AND x.deactivated_at IS NULL AND cr.deleted_at IS NULL`, m.ID).Scan(&active); err != nil {
		return false, fmt.Errorf("read medication: %w", err)
	}
	recorded := logged == 0 && active == 1
	if recorded {
		err := tx.Record(carecircle.NewEvent(carecircle.EventMedicationMissed, "/api/v1/medications/"+m.ID, tx.nowT,
			carecircle.EventData{FamilyID: m.FamilyID, CareRecipientID: m.RecipientID}, map[string]any{
				"medicationId": m.ID, "medicationName": m.Name, "dosage": m.Dosage,
				"careRecipientName": m.RecipientName, "timezone": m.Timezone,
				"scheduledTime": at.UTC().Format(time.RFC3339), "scheduledLocalTime": localTime,
				"missedAfterMinutes": m.MissedDoseMinutes,
			}))
		if err != nil {
			return false, err
		}
	}
	return recorded, tx.FinishJob(ctx, lock)
}

// PlannerHorizon returns how far the named planner has scheduled.
func (db *DB) PlannerHorizon(ctx context.Context, name string) (time.Time, bool, error) {
	var at int64
	err := db.r.QueryRowContext(ctx, `SELECT horizon_at FROM planner_horizons WHERE name = $1`, name).Scan(&at)
	if errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, false, nil
	}
	if err != nil {
		return time.Time{}, false, fmt.Errorf("read planner horizon: %w", err)
	}
	return fromMS(at), true, nil
}

// SetPlannerHorizon records how far the named planner has scheduled; it
// never moves a horizon back.
func (db *DB) SetPlannerHorizon(ctx context.Context, name string, at time.Time) error {
	return db.write(ctx, func(tx *Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO planner_horizons (name, horizon_at, updated_at) VALUES ($1, $2, $3)
			ON CONFLICT (name) DO UPDATE SET horizon_at = excluded.horizon_at, updated_at = excluded.updated_at
			WHERE planner_horizons.horizon_at < excluded.horizon_at`, name, ms(at), tx.now)
		if err != nil {
			return fmt.Errorf("set planner horizon: %w", err)
		}
		return nil
	})
}

// ReminderAppointment is an appointment with its recipient's zone and name.
type ReminderAppointment struct {
	carecircle.Appointment
	RecipientName string
	Timezone      string
	Active        bool // scheduled, and its recipient not removed
}

func (db *DB) reminderAppointments(ctx context.Context, where string, args ...any) ([]ReminderAppointment, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT `+appointmentColumns+`, cr.first_name, cr.preferred_name, cr.timezone,
		CASE WHEN cr.deleted_at IS NULL THEN 1 ELSE 0 END
		FROM `+appointmentFrom+` JOIN care_recipients cr ON cr.id = a.care_recipient_id WHERE `+where, args...)
	if err != nil {
		return nil, fmt.Errorf("read appointments: %w", err)
	}
	defer rows.Close()
	var out []ReminderAppointment
	for rows.Next() {
		var r ReminderAppointment
		var first, preferred string
		var live int
		a, err := scanAppointment(scanWith{rows, []any{&first, &preferred, &r.Timezone, &live}})
		if err != nil {
			return nil, fmt.Errorf("read appointments: %w", err)
		}
		r.Appointment, r.RecipientName = a, preferred
		if r.RecipientName == "" {
			r.RecipientName = first
		}
		r.Active = live == 1 && a.Status == carecircle.AppointmentScheduled
		out = append(out, r)
	}
	return out, rows.Err()
}

// scanWith appends extra destinations to a row scan, so an entity's scan
// function can read a query with more columns after its own.
type scanWith struct {
	row   rowScanner
	extra []any
}

func (s scanWith) Scan(dest ...any) error { return s.row.Scan(append(dest, s.extra...)...) }

// AppointmentsStartingBefore returns scheduled appointments of live
// recipients that may have an occurrence in [from, to): recurring ones, and
// single ones starting in the window.
func (db *DB) AppointmentsStartingBefore(ctx context.Context, from, to time.Time) ([]ReminderAppointment, error) {
	return db.reminderAppointments(ctx, `a.status = 'SCHEDULED' AND cr.deleted_at IS NULL AND a.start_at < $1
		AND (a.recurrence <> '' OR a.start_at >= $2) ORDER BY a.id`, ms(to), ms(from))
}

// AppointmentForReminder reads one appointment, whatever its state.
func (db *DB) AppointmentForReminder(ctx context.Context, id string) (ReminderAppointment, error) {
	out, err := db.reminderAppointments(ctx, `a.id = $1`, id)
	if err != nil {
		return ReminderAppointment{}, err
	}
	if len(out) == 0 {
		return ReminderAppointment{}, notFound("appointment")
	}
	return out[0], nil
}

// ReminderShift is a shift with its recipient's zone and name.
type ReminderShift struct {
	carecircle.Shift
	FamilyID      string
	RecipientName string
	Timezone      string
	Live          bool // its recipient is not removed
}

func (db *DB) reminderShifts(ctx context.Context, where string, args ...any) ([]ReminderShift, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT `+shiftColumns+`, s.family_id, cr.first_name, cr.preferred_name, cr.timezone,
		CASE WHEN cr.deleted_at IS NULL THEN 1 ELSE 0 END`+shiftFrom+`
		JOIN care_recipients cr ON cr.id = s.care_recipient_id WHERE `+where, args...)
	if err != nil {
		return nil, fmt.Errorf("read shifts: %w", err)
	}
	defer rows.Close()
	var out []ReminderShift
	now := db.Clock.Now()
	for rows.Next() {
		var r ReminderShift
		var first, preferred string
		var live int
		s, err := scanShift(scanWith{rows, []any{&r.FamilyID, &first, &preferred, &r.Timezone, &live}}, now)
		if err != nil {
			return nil, fmt.Errorf("read shifts: %w", err)
		}
		r.Shift, r.RecipientName, r.Live = s, preferred, live == 1
		if r.RecipientName == "" {
			r.RecipientName = first
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// ShiftsStartingBetween returns shifts of live recipients, not checked in,
// starting in [from, to).
func (db *DB) ShiftsStartingBetween(ctx context.Context, from, to time.Time) ([]ReminderShift, error) {
	return db.reminderShifts(ctx, `s.start_at >= $1 AND s.start_at < $2 AND s.checked_in_at IS NULL AND cr.deleted_at IS NULL
		ORDER BY s.start_at, s.id`, ms(from), ms(to))
}

// ShiftForReminder reads one shift.
func (db *DB) ShiftForReminder(ctx context.Context, id string) (ReminderShift, error) {
	out, err := db.reminderShifts(ctx, `s.id = $1`, id)
	if err != nil {
		return ReminderShift{}, err
	}
	if len(out) == 0 {
		return ReminderShift{}, notFound("shift")
	}
	return out[0], nil
}

// CaregiversOnDuty returns the caregivers of a recipient's shifts that are
// on duty at t (carecircle.Shift.OnDutyAt), checked-in ones first.
func (db *DB) CaregiversOnDuty(ctx context.Context, recipientID string, at time.Time) ([]string, error) {
	// Only shifts that could cover t (the conditions of OnDutyAt, bounded by
	// the longest shift so the index scan stays short).
	rows, err := db.r.QueryContext(ctx, `SELECT caregiver_id, start_at, end_at, checked_in_at FROM shifts
		WHERE care_recipient_id = $1 AND checked_out_at IS NULL AND start_at > $4
		AND ((checked_in_at IS NOT NULL AND end_at > $3) OR (start_at <= $2 AND end_at > $2))
		ORDER BY CASE WHEN checked_in_at IS NULL THEN 1 ELSE 0 END, start_at, id`,
		recipientID, ms(at), ms(at.Add(-carecircle.ShiftOvertimeGrace)), ms(at.Add(-carecircle.MaxShiftLength)))
	if err != nil {
		return nil, fmt.Errorf("read shifts on duty: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s carecircle.Shift
		var start, end int64
		var in sql.NullInt64
		if err := rows.Scan(&s.Caregiver.ID, &start, &end, &in); err != nil {
			return nil, fmt.Errorf("read shifts on duty: %w", err)
		}
		s.StartTime, s.EndTime, s.CheckedInAt = fromMS(start), fromMS(end), fromNullMS(in)
		if s.OnDutyAt(at) {
			out = append(out, s.Caregiver.ID)
		}
	}
	return out, rows.Err()
}

// AlertForReminder reads an emergency alert for its repeat job, with its
// family and its recipient's zone.
func (db *DB) AlertForReminder(ctx context.Context, id string) (a carecircle.EmergencyAlert, familyID, timezone string, err error) {
	if a, err = alertByID(ctx, db.r, id); err != nil {
		return a, "", "", err
	}
	err = db.r.QueryRowContext(ctx, `SELECT a.family_id, cr.timezone FROM emergency_alerts a
		JOIN care_recipients cr ON cr.id = a.care_recipient_id WHERE a.id = $1`, id).Scan(&familyID, &timezone)
	if err != nil {
		return a, "", "", fmt.Errorf("read emergency alert: %w", err)
	}
	return a, familyID, timezone, nil
}

// RecipientAppointments returns a live care recipient's scheduled
// appointments that may still occur after from.
func (db *DB) RecipientAppointments(ctx context.Context, recipientID string, from time.Time) ([]ReminderAppointment, error) {
	return db.reminderAppointments(ctx, `a.care_recipient_id = $1 AND a.status = 'SCHEDULED' AND cr.deleted_at IS NULL
		AND (a.recurrence <> '' OR a.start_at >= $2) ORDER BY a.id`, recipientID, ms(from))
}

// ReminderDocument is an expiring document with its recipient's zone.
type ReminderDocument struct {
	ID            string
	FamilyID      string
	RecipientID   string
	Name          string
	Category      string
	ExpiresAt     time.Time
	RecipientName string
	Timezone      string
	Live          bool // not deleted, and its recipient not removed
}

func (db *DB) reminderDocuments(ctx context.Context, where string, args ...any) ([]ReminderDocument, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT d.id, d.family_id, d.care_recipient_id, d.name, d.category, d.expires_at,
		cr.first_name, cr.preferred_name, cr.timezone,
		CASE WHEN d.deleted_at IS NULL AND cr.deleted_at IS NULL THEN 1 ELSE 0 END
		FROM documents d JOIN care_recipients cr ON cr.id = d.care_recipient_id
		WHERE d.expires_at IS NOT NULL AND `+where, args...)
	if err != nil {
		return nil, fmt.Errorf("read documents: %w", err)
	}
	defer rows.Close()
	var out []ReminderDocument
	for rows.Next() {
		var d ReminderDocument
		var expires int64
		var first, preferred string
		var live int
		if err := rows.Scan(&d.ID, &d.FamilyID, &d.RecipientID, &d.Name, &d.Category, &expires, &first, &preferred,
			&d.Timezone, &live); err != nil {
			return nil, fmt.Errorf("read documents: %w", err)
		}
		d.ExpiresAt, d.Live, d.RecipientName = fromMS(expires), live == 1, preferred
		if d.RecipientName == "" {
			d.RecipientName = first
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// DocumentsExpiringBetween returns live documents expiring in [from, to).
func (db *DB) DocumentsExpiringBetween(ctx context.Context, from, to time.Time) ([]ReminderDocument, error) {
	return db.reminderDocuments(ctx, `d.deleted_at IS NULL AND cr.deleted_at IS NULL AND d.expires_at >= $1 AND d.expires_at < $2
		ORDER BY d.expires_at, d.id`, ms(from), ms(to))
}

// DocumentForReminder reads one document; a document without an expiry is
// not found.
func (db *DB) DocumentForReminder(ctx context.Context, id string) (ReminderDocument, error) {
	out, err := db.reminderDocuments(ctx, `d.id = $1`, id)
	if err != nil {
		return ReminderDocument{}, err
	}
	if len(out) == 0 {
		return ReminderDocument{}, notFound("document")
	}
	return out[0], nil
}
