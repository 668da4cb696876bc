package storage

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/carecircle/carecircle"
)

const medicationColumns = `x.id, x.family_id, x.care_recipient_id, x.name, x.dosage, x.frequency, x.times,
	x.days_of_week, x.instructions, x.prescribed_by, x.current_supply, x.refill_threshold, x.refill_alerted,
	x.start_date, x.end_date, x.min_interval_minutes, x.max_doses_per_24h, x.deactivated_at, x.created_at, x.updated_at`

// medRow is a stored medication with the bookkeeping the API does not show.
type medRow struct {
	carecircle.Medication
	refillAlerted bool
}

// scanMedication reads medicationColumns, then any extra destinations.
func scanMedication(row rowScanner, extra ...any) (medRow, error) {
	var m medRow
	var times, days string
	var supply, threshold, interval, maxDoses, deactivated sql.NullInt64
	var start, end sql.NullString
	var alerted, created, updated int64
	dest := []any{&m.ID, &m.FamilyID, &m.CareRecipientID, &m.Name, &m.Dosage, &m.Frequency, &times, &days,
		&m.Instructions, &m.PrescribedBy, &supply, &threshold, &alerted, &start, &end, &interval, &maxDoses,
		&deactivated, &created, &updated}
	if err := row.Scan(append(dest, extra...)...); err != nil {
		return m, err
	}
	m.CurrentSupply, m.RefillThreshold = intPtr(supply), intPtr(threshold)
	m.MinIntervalMinutes, m.MaxDosesPer24h = intPtr(interval), intPtr(maxDoses)
	m.refillAlerted, m.IsActive = alerted != 0, !deactivated.Valid
	m.CreatedAt, m.UpdatedAt = fromMS(created), fromMS(updated)
	if err := decodePlanLists(&m.Medication, times, days); err != nil {
		return m, err
	}
	m.StartDate, m.EndDate = datePtr(start), datePtr(end)
	m.Normalize()
	return m, nil
}

// decodePlanLists decodes the stored JSON lists of times and days. The
// stored forms are always the simple ones medicationArgs writes
// (["08:00","20:00"], [1,3]), which are split by hand: the schedule reads
// them on every request. Anything else goes through encoding/json.
func decodePlanLists(m *carecircle.Medication, times, days string) error {
	if !splitJSONList(times, func(item string) bool {
		if len(item) < 2 || item[0] != '"' || item[len(item)-1] != '"' || strings.ContainsAny(item[1:len(item)-1], `"\`) {
			return false
		}
		m.Times = append(m.Times, item[1:len(item)-1])
		return true
	}) {
		m.Times = nil
		if err := json.Unmarshal([]byte(times), &m.Times); err != nil {
			return fmt.Errorf("decode medication %s times: %w", m.ID, err)
		}
	}
	if !splitJSONList(days, func(item string) bool {
		if len(item) != 1 || item[0] < '0' || item[0] > '6' {
			return false
		}
		m.DaysOfWeek = append(m.DaysOfWeek, time.Weekday(item[0]-'0'))
		return true
	}) {
		m.DaysOfWeek = nil
		if err := json.Unmarshal([]byte(days), &m.DaysOfWeek); err != nil {
			return fmt.Errorf("decode medication %s days: %w", m.ID, err)
		}
	}
	return nil
}

// splitJSONList calls item for each element of a flat JSON array without
// nested commas and reports whether the list had that form and every item
// was accepted.
func splitJSONList(s string, item func(string) bool) bool {
	if len(s) < 2 || s[0] != '[' || s[len(s)-1] != ']' {
		return false
	}
	body := strings.TrimSpace(s[1 : len(s)-1])
	if body == "" {
		return true
	}
	for part := range strings.SplitSeq(body, ",") {
		if !item(strings.TrimSpace(part)) {
			return false
		}
	}
	return true
}

func intPtr(v sql.NullInt64) *int {
	if !v.Valid {
		return nil
	}
	i := int(v.Int64)
	return &i
}

func nullInt(p *int) any {
	if p == nil {
		return nil
	}
	return int64(*p)
}

func datePtr(v sql.NullString) *carecircle.Date {
	if !v.Valid {
		return nil
	}
	d, err := carecircle.ParseDate(v.String)
	if err != nil {
		return nil
	}
	return &d
}

func nullDate(d *carecircle.Date) any {
	if d == nil {
		return nil
	}
	return d.String()
}

// medicationArgs are the stored forms of the editable columns, in the order
// name .. max_doses_per_24h.
func medicationArgs(m *carecircle.Medication) []any {
	times, _ := json.Marshal(m.Times)
	days, _ := json.Marshal(m.DaysOfWeek)
	return []any{m.Name, m.Dosage, m.Frequency, string(times), string(days), m.Instructions, m.PrescribedBy,
		nullInt(m.CurrentSupply), nullInt(m.RefillThreshold), nullDate(m.StartDate), nullDate(m.EndDate),
		nullInt(m.MinIntervalMinutes), nullInt(m.MaxDosesPer24h)}
}

// zones caches loaded time zones: loading one parses zone data, and the
// schedule and dose paths need the recipient's zone on every request.
// Locations are immutable, so sharing them is safe.
var zones sync.Map

// loadZone returns the named zone, or UTC for a name that cannot be loaded
// (recipient time zones are validated when stored).
func loadZone(name string) *time.Location {
	if loc, ok := zones.Load(name); ok {
		return loc.(*time.Location)
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return time.UTC
	}
	zones.Store(name, loc)
	return loc
}

// medScope is a medication read with the caller's membership and what texts
// about it need from its care recipient.
type medScope struct {
	Scope
	missedAfter time.Duration
}

// medicationInScope loads a medication through the caller's membership in
// one query: a medication of another family is not found.
func medicationInScope(ctx context.Context, q querier, id string) (medRow, medScope, error) {
	a, err := actor(ctx)
	if err != nil {
		return medRow{}, medScope{}, err
	}
	if !carecircle.HasPrefix(id, carecircle.PrefixMedication) {
		return medRow{}, medScope{}, notFound("medication")
	}
	var s medScope
	var first, preferred string
	var missed int64
	m, err := scanMedication(q.QueryRowContext(ctx, `SELECT `+medicationColumns+`,
			m.role, cr.timezone, cr.first_name, cr.preferred_name, cr.missed_dose_minutes
		FROM medications x
		JOIN care_recipients cr ON cr.id = x.care_recipient_id AND cr.deleted_at IS NULL
		JOIN family_members m ON m.family_id = cr.family_id AND m.user_id = $2
		WHERE x.id = $1`, id, a.UserID), &s.Role, &s.Timezone, &first, &preferred, &missed)
	if errors.Is(err, sql.ErrNoRows) {
		return m, s, notFound("medication")
	}
	if err != nil {
		return m, s, fmt.Errorf("read medication: %w", err)
	}
	s.FamilyID, s.RecipientID, s.Name = m.FamilyID, m.CareRecipientID, preferred
	if s.Name == "" {
		s.Name = first
	}
	s.missedAfter = time.Duration(missed) * time.Minute
	return m, s, nil
}

// lockMedication makes concurrent writes to one medication (dose logs,
// corrections, edits) take turns. In PostgreSQL the no-op UPDATE takes the
// row lock for the rest of the transaction, so the AS_NEEDED checks and the
// supply arithmetic read what the previous writer committed. SQLite write
// transactions are already serialized (one writer, BEGIN IMMEDIATE).
func (tx *Tx) lockMedication(ctx context.Context, id string) error {
	if tx.db.Dialect != Postgres {
		return nil
	}
	if _, err := tx.ExecContext(ctx, `UPDATE medications SET updated_at = updated_at WHERE id = $1`, id); err != nil {
		return fmt.Errorf("lock medication: %w", err)
	}
	return nil
}

// medicationEventData is what every medication event carries so
// notifications need no further lookups.
func medicationEventData(m *carecircle.Medication, s Scope, extra map[string]any) map[string]any {
	data := map[string]any{
		"medicationId":      m.ID,
		"medicationName":    m.Name,
		"dosage":            m.Dosage,
		"frequency":         m.Frequency,
		"careRecipientName": s.Name,
		"timezone":          s.Timezone,
	}
	for k, v := range extra {
		data[k] = v
	}
	return data
}

// refillState decides refill_alerted for the medication's current supply
// and records medication.refill_needed when the supply has just reached the
// threshold: once per low-supply episode, until the supply rises above it
// again. It returns the flag to store.
func (tx *Tx) refillState(ctx context.Context, m *medRow, s Scope) (bool, error) {
	switch {
	case !m.NeedsRefill():
		return false, nil
	case m.IsActive && !m.refillAlerted:
		return true, tx.emit(ctx, carecircle.EventMedicationRefill, "/api/v1/medications/"+m.ID, s.FamilyID, s.RecipientID,
			medicationEventData(&m.Medication, s, map[string]any{
				"currentSupply": *m.CurrentSupply, "refillThreshold": *m.RefillThreshold,
			}))
	}
	return m.refillAlerted, nil
}

// syncRefillAlert applies refillState to a medication just written.
func (tx *Tx) syncRefillAlert(ctx context.Context, m *medRow, s Scope) error {
	want, err := tx.refillState(ctx, m, s)
	if err != nil || want == m.refillAlerted {
		return err
	}
	m.refillAlerted = want
	if _, err := tx.ExecContext(ctx, `UPDATE medications SET refill_alerted = $1 WHERE id = $2`, boolInt(want), m.ID); err != nil {
		return fmt.Errorf("update refill alert: %w", err)
	}
	return nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// CreateMedication adds a medication to a care recipient (ADMIN or
// CAREGIVER).
func (db *DB) CreateMedication(ctx context.Context, recipientID string, m carecircle.Medication) (carecircle.Medication, error) {
	a, err := actor(ctx)
	if err != nil {
		return m, err
	}
	err = db.write(ctx, func(tx *Tx) error {
		s, err := recipientScope(ctx, tx, recipientID)
		if err != nil {
			return err
		}
		if err := s.Role.Require(carecircle.RoleCaregiver); err != nil {
			return err
		}
		if err := m.Validate(); err != nil {
			return err
		}
		m.ID, m.CareRecipientID, m.FamilyID = carecircle.NewID(carecircle.PrefixMedication), recipientID, s.FamilyID
		m.IsActive, m.CreatedAt, m.UpdatedAt = true, tx.nowT, tx.nowT
		args := append([]any{m.ID, m.FamilyID, m.CareRecipientID}, medicationArgs(&m)...)
		args = append(args, a.UserID, tx.now)
		if _, err := tx.ExecContext(ctx, `INSERT INTO medications (id, family_id, care_recipient_id, name, dosage,
			frequency, times, days_of_week, instructions, prescribed_by, current_supply, refill_threshold, start_date,
			end_date, min_interval_minutes, max_doses_per_24h, created_by, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $18)`, args...); err != nil {
			return fmt.Errorf("create medication: %w", err)
		}
		if err := tx.emit(ctx, carecircle.EventMedicationCreated, "/api/v1/care-recipients/"+recipientID+"/medications",
			s.FamilyID, recipientID, medicationEventData(&m, s, map[string]any{"times": m.Times})); err != nil {
			return err
		}
		return tx.syncRefillAlert(ctx, &medRow{Medication: m}, s)
	})
	return m, err
}

// Medications lists a care recipient's medications, oldest first; inactive
// ones only when includeInactive is set.
func (db *DB) Medications(ctx context.Context, recipientID string, includeInactive bool) ([]carecircle.Medication, error) {
	if _, err := recipientScope(ctx, db.r, recipientID); err != nil {
		return nil, err
	}
	rows, err := db.r.QueryContext(ctx, `SELECT `+medicationColumns+` FROM medications x
		WHERE x.care_recipient_id = $1 AND ($2 OR x.deactivated_at IS NULL)
		ORDER BY x.created_at, x.id LIMIT 1000`, recipientID, includeInactive)
	if err != nil {
		return nil, fmt.Errorf("list medications: %w", err)
	}
	defer rows.Close()
	out := []carecircle.Medication{}
	for rows.Next() {
		m, err := scanMedication(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, m.Medication)
	}
	return out, rows.Err()
}

// Medication returns one medication of the caller's families, active or not.
func (db *DB) Medication(ctx context.Context, id string) (carecircle.Medication, error) {
	m, _, err := medicationInScope(ctx, db.r, id)
	return m.Medication, err
}

// UpdateMedication loads the medication, lets apply change it, validates and
// saves it (ADMIN or CAREGIVER). Setting IsActive to false deactivates it and
// to true reactivates it.
func (db *DB) UpdateMedication(ctx context.Context, id string, apply func(*carecircle.Medication) error) (carecircle.Medication, error) {
	var out carecircle.Medication
	err := db.write(ctx, func(tx *Tx) error {
		if err := tx.lockMedication(ctx, id); err != nil {
			return err
		}
		m, s, err := medicationInScope(ctx, tx, id)
		if err != nil {
			return err
		}
		if err := s.Role.Require(carecircle.RoleCaregiver); err != nil {
			return err
		}
		before := cloneMedication(m.Medication)
		if err := apply(&m.Medication); err != nil {
			return err
		}
		m.ID, m.CareRecipientID, m.FamilyID, m.CreatedAt = before.ID, before.CareRecipientID, before.FamilyID, before.CreatedAt
		if err := m.Validate(); err != nil {
			return err
		}
		changes := medicationChanges(&before, &m.Medication)
		if len(changes) == 0 {
			out = m.Medication
			return nil
		}
		m.UpdatedAt = tx.nowT
		args := append(medicationArgs(&m.Medication), tx.now, id, boolInt(m.IsActive))
		if _, err := tx.ExecContext(ctx, `UPDATE medications SET name = $1, dosage = $2, frequency = $3, times = $4,
			days_of_week = $5, instructions = $6, prescribed_by = $7, current_supply = $8, refill_threshold = $9,
			start_date = $10, end_date = $11, min_interval_minutes = $12, max_doses_per_24h = $13, updated_at = $14,
			deactivated_at = CASE WHEN $16 = 1 THEN NULL ELSE COALESCE(deactivated_at, $14) END
			WHERE id = $15`, args...); err != nil {
			return fmt.Errorf("update medication: %w", err)
		}
		source := "/api/v1/medications/" + id
		reactivated := !before.IsActive && m.IsActive
		if fields := slices.DeleteFunc(slices.Clone(changes), func(f string) bool { return f == "isActive" }); len(fields) > 0 || reactivated {
			if err := tx.emit(ctx, carecircle.EventMedicationUpdated, source, s.FamilyID, s.RecipientID,
				medicationEventData(&m.Medication, s.Scope, map[string]any{"changes": changes, "times": m.Times, "isActive": m.IsActive})); err != nil {
				return err
			}
		}
		if before.IsActive && !m.IsActive {
			if err := tx.emit(ctx, carecircle.EventMedicationDeactivated, source, s.FamilyID, s.RecipientID,
				medicationEventData(&m.Medication, s.Scope, nil)); err != nil {
				return err
			}
		}
		if err := tx.syncRefillAlert(ctx, &m, s.Scope); err != nil {
			return err
		}
		out = m.Medication
		return nil
	})
	return out, err
}

// DeactivateMedication stops scheduling a medication (ADMIN or CAREGIVER);
// its history stays. Deactivating an inactive medication changes nothing.
func (db *DB) DeactivateMedication(ctx context.Context, id string) error {
	_, err := db.UpdateMedication(ctx, id, func(m *carecircle.Medication) error {
		m.IsActive = false
		return nil
	})
	return err
}

// medicationChanges names the JSON fields that differ between two medications.
func medicationChanges(a, b *carecircle.Medication) []string {
	var out []string
	va, vb := reflect.ValueOf(*a), reflect.ValueOf(*b)
	t := va.Type()
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "" || name == "-" || name == "updatedAt" || name == "createdAt" {
			continue
		}
		if !reflect.DeepEqual(va.Field(i).Interface(), vb.Field(i).Interface()) {
			out = append(out, name)
		}
	}
	return out
}

// cloneMedication copies m deeply, so apply cannot change the "before"
// picture through shared slices or pointers.
func cloneMedication(m carecircle.Medication) carecircle.Medication {
	c := m
	c.Times, c.DaysOfWeek = slices.Clone(m.Times), slices.Clone(m.DaysOfWeek)
	for _, p := range []**int{&c.CurrentSupply, &c.RefillThreshold, &c.MinIntervalMinutes, &c.MaxDosesPer24h} {
		if *p != nil {
			v := **p
			*p = &v
		}
	}
	for _, p := range []**carecircle.Date{&c.StartDate, &c.EndDate} {
		if *p != nil {
			v := **p
			*p = &v
		}
	}
	return c
}
