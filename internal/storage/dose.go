package storage

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/carecircle/carecircle"
)

// A dose is a medication plus its scheduled instant. This file logs doses
// (at most once each, enforced by UNIQUE (medication_id, scheduled_at)),
// corrects logs and lists a medication's history (a day's schedule is in
// schedule.go).

// DoseInput is a request to log one dose.
type DoseInput struct {
	Status string
	// ScheduledTime is the dose's instant; nil means "now" for an AS_NEEDED
	// medication and is refused for a scheduled one.
	ScheduledTime *time.Time
	Notes         string
}

// doseLogColumns reads a log with its logger's and corrector's names.
const doseLogColumns = `l.id, l.medication_id, l.status, l.scheduled_at, l.logged_at, l.logged_by, u.full_name,
	l.notes, l.updated_at, l.updated_by, COALESCE(uu.full_name, '')`

const doseLogJoins = ` JOIN users u ON u.id = l.logged_by LEFT JOIN users uu ON uu.id = l.updated_by`

func scanDoseLog(row rowScanner, extra ...any) (carecircle.DoseLog, error) {
	var l carecircle.DoseLog
	var scheduled, logged, updated int64
	var updatedBy sql.NullString
	var updaterName string
	dest := []any{&l.ID, &l.MedicationID, &l.Status, &scheduled, &logged, &l.LoggedBy.ID, &l.LoggedBy.FullName,
		&l.Notes, &updated, &updatedBy, &updaterName}
	if err := row.Scan(append(dest, extra...)...); err != nil {
		return l, err
	}
	l.ScheduledTime, l.LoggedAt = fromMS(scheduled), fromMS(logged)
	if updatedBy.Valid {
		at := fromMS(updated)
		l.CorrectedAt, l.CorrectedBy = &at, &carecircle.MemberRef{ID: updatedBy.String, FullName: updaterName}
	}
	return l, nil
}

// doseLogByDose reads the log of one dose, if any.
func doseLogByDose(ctx context.Context, q querier, medID string, at time.Time) (carecircle.DoseLog, error) {
	return scanDoseLog(q.QueryRowContext(ctx, `SELECT `+doseLogColumns+` FROM medication_logs l`+doseLogJoins+`
		WHERE l.medication_id = $1 AND l.scheduled_at = $2`, medID, ms(at)))
}

// LogDose records what happened to one dose of a medication (ADMIN or
// CAREGIVER). A dose is logged at most once: a second log, even one racing
// the first, gets ECONFLICT carrying the existing log. GIVEN decrements the
// supply in the same transaction and may record medication.refill_needed;
// for AS_NEEDED medications GIVEN must respect minIntervalMinutes and
// maxDosesPer24h (ECONFLICT with nextAllowedAt otherwise).
func (db *DB) LogDose(ctx context.Context, medID string, in DoseInput) (carecircle.DoseLog, error) {
	a, err := actor(ctx)
	if err != nil {
		return carecircle.DoseLog{}, err
	}
	var out carecircle.DoseLog
	err = db.write(ctx, func(tx *Tx) error {
		if err := tx.lockMedication(ctx, medID); err != nil {
			return err
		}
		m, s, err := medicationInScope(ctx, tx, medID)
		if err != nil {
			return err
		}
		if err := s.Role.Require(carecircle.RoleCaregiver); err != nil {
			return err
		}
		loc := loadZone(s.Timezone)
		at, err := doseInstant(&m.Medication, in, tx.nowT, loc)
		if err != nil {
			return err
		}
		if !m.IsActive {
			return carecircle.Errorf(carecircle.ECONFLICT, "%s is deactivated; reactivate it to log doses", m.Name)
		}
		out = carecircle.DoseLog{ID: carecircle.NewID(carecircle.PrefixDoseLog), MedicationID: medID, Status: in.Status,
			ScheduledTime: at, LoggedAt: tx.nowT, LoggedBy: carecircle.MemberRef{ID: a.UserID, FullName: a.Name},
			Notes: strings.TrimSpace(in.Notes)}
		// The unique constraint decides who logged the dose first; DO
		// NOTHING keeps the transaction usable to read the winner's log.
		res, err := tx.ExecContext(ctx, `INSERT INTO medication_logs (id, family_id, care_recipient_id, medication_id,
			status, scheduled_at, logged_at, logged_by, notes, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $7)
			ON CONFLICT (medication_id, scheduled_at) DO NOTHING`,
			out.ID, s.FamilyID, s.RecipientID, medID, out.Status, ms(at), tx.now, a.UserID, out.Notes)
		if err != nil {
			return fmt.Errorf("log dose: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return fmt.Errorf("log dose: %w", err)
		} else if n == 0 {
			return alreadyLogged(ctx, tx, medID, at, loc)
		}
		if out.Status == carecircle.DoseGiven && m.Frequency == carecircle.FrequencyAsNeeded {
			if err := checkAsNeeded(ctx, tx, &m.Medication, at, out.ID, loc); err != nil {
				return err
			}
		}
		if out.Status == carecircle.DoseGiven {
			if err := tx.changeSupply(ctx, &m, s.Scope, -1); err != nil {
				return err
			}
		}
		return tx.emit(ctx, carecircle.EventMedicationLogged, "/api/v1/medications/"+medID+"/log", s.FamilyID, s.RecipientID,
			doseEventData(&m.Medication, s.Scope, &out, loc, nil))
	})
	return out, err
}

// doseInstant validates a log request against the medication's plan and
// returns the dose's instant.
func doseInstant(m *carecircle.Medication, in DoseInput, now time.Time, loc *time.Location) (time.Time, error) {
	var p carecircle.Problems
	p.Add(!carecircle.ValidDoseStatus(in.Status), "status must be one of GIVEN, SKIPPED, MISSED")
	p.Add(len([]rune(in.Notes)) > carecircle.MaxDoseNotes, "notes must be at most %d characters", carecircle.MaxDoseNotes)
	if err := p.Err(); err != nil {
		return time.Time{}, err
	}
	if m.Frequency == carecircle.FrequencyAsNeeded {
		if err := statusFits(m, in.Status, now, now); err != nil {
			return time.Time{}, err
		}
		// "Now" is taken to the minute: two presses of "Given" in the same
		// minute are the same dose, and the second gets the first's log.
		at := now.Truncate(time.Minute)
		if in.ScheduledTime != nil {
			at = in.ScheduledTime.UTC().Truncate(time.Millisecond)
			if at.After(now.Add(time.Minute)) {
				return time.Time{}, carecircle.Invalid("scheduledTime must not be in the future for AS_NEEDED medications")
			}
		}
		d := carecircle.DateOf(at, loc)
		if m.StartDate != nil && d.Before(*m.StartDate) || m.EndDate != nil && d.After(*m.EndDate) {
			return time.Time{}, carecircle.Invalid("scheduledTime must be within the medication's startDate and endDate")
		}
		return at, nil
	}
	if in.ScheduledTime == nil {
		return time.Time{}, carecircle.Invalid("scheduledTime should not be empty: give the dose's time from the schedule " +
			"(only AS_NEEDED medications may omit it)")
	}
	at := in.ScheduledTime.UTC()
	plan := m.Plan()
	if !plan.IsDose(at, loc) {
		day := carecircle.DateOf(at, loc)
		var doses []string
		for _, t := range plan.DosesOn(day, loc) {
			doses = append(doses, t.Format(time.RFC3339))
		}
		msg := fmt.Sprintf("scheduledTime %s is not a scheduled dose of %s", at.Format(time.RFC3339), m.Name)
		if len(doses) > 0 {
			msg += fmt.Sprintf("; its doses on %s are at %s", day, strings.Join(doses, ", "))
		} else {
			msg += fmt.Sprintf("; it has no doses on %s", day)
		}
		return time.Time{}, carecircle.Invalid(msg)
	}
	if err := statusFits(m, in.Status, at, now); err != nil {
		return time.Time{}, err
	}
	return at, nil
}

// statusFits checks that a status makes sense for a dose at `at`: MISSED
// only after the dose's time and never for AS_NEEDED, GIVEN at most
// MaxGivenAhead early.
func statusFits(m *carecircle.Medication, status string, at, now time.Time) error {
	hours := int(carecircle.MaxGivenAhead.Hours())
	switch {
	case status == carecircle.DoseMissed && m.Frequency == carecircle.FrequencyAsNeeded:
		return carecircle.Invalid("status MISSED does not apply to AS_NEEDED medications")
	case status == carecircle.DoseGiven && at.After(now.Add(carecircle.MaxGivenAhead)):
		return carecircle.Invalid(fmt.Sprintf("scheduledTime is more than %d hours ahead: a dose can be logged GIVEN at most %d hours before its time", hours, hours))
	case status == carecircle.DoseMissed && at.After(now):
		return carecircle.Invalid("scheduledTime is in the future: a dose can be logged MISSED only after its time")
	}
	return nil
}

// alreadyLogged builds the 409 for a dose that has a log.
func alreadyLogged(ctx context.Context, tx *Tx, medID string, at time.Time, loc *time.Location) error {
	existing, err := doseLogByDose(ctx, tx, medID, at)
	if err != nil {
		return fmt.Errorf("read existing dose log: %w", err)
	}
	return &carecircle.Error{Code: carecircle.ECONFLICT,
		Message: fmt.Sprintf("this dose was already logged: %s by %s at %s", existing.Status, existing.LoggedBy.FullName,
			carecircle.WhenIn(existing.LoggedAt, tx.nowT, loc)),
		Detail: map[string]any{"existingLog": existing}}
}

// checkAsNeeded refuses a GIVEN dose of an AS_NEEDED medication at t that
// breaks its interval or daily limit. self is the log being written, left
// out of the count.
func checkAsNeeded(ctx context.Context, tx *Tx, m *carecircle.Medication, t time.Time, self string, loc *time.Location) error {
	if m.MinIntervalMinutes == nil && m.MaxDosesPer24h == nil {
		return nil
	}
	rows, err := tx.QueryContext(ctx, `SELECT scheduled_at FROM medication_logs
		WHERE medication_id = $1 AND status = 'GIVEN' AND id <> $2 AND scheduled_at > $3 AND scheduled_at < $4`,
		m.ID, self, ms(t.Add(-24*time.Hour)), ms(t.Add(24*time.Hour)))
	if err != nil {
		return fmt.Errorf("read recent doses: %w", err)
	}
	defer rows.Close()
	var given []time.Time
	for rows.Next() {
		var v int64
		if err := rows.Scan(&v); err != nil {
			return fmt.Errorf("read recent doses: %w", err)
		}
		given = append(given, fromMS(v))
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read recent doses: %w", err)
	}
	v := carecircle.CheckAsNeeded(given, t, m.MinIntervalMinutes, m.MaxDosesPer24h)
	if v.Allowed {
		return nil
	}
	next := carecircle.WhenIn(v.NextAllowedAt, tx.nowT, loc)
	var msg string
	if v.Rule == carecircle.RuleMinInterval {
		msg = fmt.Sprintf("too soon: %s was given at %s and needs %d minutes between doses; the next dose is allowed at %s",
			m.Name, carecircle.WhenIn(v.Because, tx.nowT, loc), *m.MinIntervalMinutes, next)
	} else {
		msg = fmt.Sprintf("daily limit reached: %s allows %d doses in 24 hours; the next dose is allowed at %s",
			m.Name, *m.MaxDosesPer24h, next)
	}
	return &carecircle.Error{Code: carecircle.ECONFLICT, Message: msg,
		Detail: map[string]any{"nextAllowedAt": v.NextAllowedAt, "rule": string(v.Rule)}}
}

// changeSupply adds delta to a tracked supply (never below zero) and keeps
// the refill alert in step.
func (tx *Tx) changeSupply(ctx context.Context, m *medRow, s Scope, delta int) error {
	if m.CurrentSupply == nil {
		return nil
	}
	v := max(*m.CurrentSupply+delta, 0)
	m.CurrentSupply = &v
	alerted, err := tx.refillState(ctx, m, s)
	if err != nil {
		return err
	}
	m.refillAlerted = alerted
	if _, err := tx.ExecContext(ctx, `UPDATE medications SET current_supply = $1, refill_alerted = $2, updated_at = $3
		WHERE id = $4`, v, boolInt(alerted), tx.now, m.ID); err != nil {
		return fmt.Errorf("update supply: %w", err)
	}
	return nil
}

// doseEventData is medication.logged's payload: everything a notification
// ("Sarah gave Dad his Metformin 500mg at 08:04") needs.
func doseEventData(m *carecircle.Medication, s Scope, l *carecircle.DoseLog, loc *time.Location, extra map[string]any) map[string]any {
	data := medicationEventData(m, s, map[string]any{
		"logId":              l.ID,
		"status":             l.Status,
		"scheduledTime":      l.ScheduledTime.Format(time.RFC3339),
		"scheduledLocalTime": carecircle.ClockOf(l.ScheduledTime, loc),
		"loggedAt":           l.LoggedAt.Format(time.RFC3339Nano),
		"loggedLocalTime":    carecircle.ClockOf(l.LoggedAt, loc),
		"loggedById":         l.LoggedBy.ID,
		"loggedByName":       l.LoggedBy.FullName,
		"notes":              l.Notes,
	})
	if m.CurrentSupply != nil {
		data["currentSupply"] = *m.CurrentSupply
	}
	for k, v := range extra {
		data[k] = v
	}
	return data
}

// CorrectDoseLog changes the status or notes of a dose log. Only the person
// who logged it or an ADMIN may; a change to or from GIVEN gives back or
// takes a unit of supply, and the correction is recorded as a
// medication.logged event with "corrected": true.
func (db *DB) CorrectDoseLog(ctx context.Context, logID string, status, notes *string) (carecircle.DoseLog, error) {
	a, err := actor(ctx)
	if err != nil {
		return carecircle.DoseLog{}, err
	}
	if !carecircle.HasPrefix(logID, carecircle.PrefixDoseLog) {
		return carecircle.DoseLog{}, notFound("medication log")
	}
	var out carecircle.DoseLog
	err = db.write(ctx, func(tx *Tx) error {
		if tx.db.Dialect == Postgres {
			if _, err := tx.ExecContext(ctx, `UPDATE medications SET updated_at = updated_at
				WHERE id = (SELECT medication_id FROM medication_logs WHERE id = $1)`, logID); err != nil {
				return fmt.Errorf("lock medication: %w", err)
			}
		}
		if _, err := childScope(ctx, tx, "medication_logs", logID, "medication log"); err != nil {
			return err
		}
		l, err := scanDoseLog(tx.QueryRowContext(ctx, `SELECT `+doseLogColumns+` FROM medication_logs l`+doseLogJoins+`
			WHERE l.id = $1`, logID))
		if err != nil {
			return fmt.Errorf("read medication log: %w", err)
		}
		m, s, err := medicationInScope(ctx, tx, l.MedicationID)
		if err != nil {
			return err
		}
		if err := s.Role.Require(carecircle.RoleCaregiver); err != nil {
			return err
		}
		if l.LoggedBy.ID != a.UserID && s.Role != carecircle.RoleAdmin {
			return carecircle.Errorf(carecircle.EFORBIDDEN, "only the person who logged this dose or an ADMIN can correct it")
		}
		loc := loadZone(s.Timezone)
		next := l
		if status != nil {
			next.Status = *status
		}
		if notes != nil {
			next.Notes = strings.TrimSpace(*notes)
		}
		var p carecircle.Problems
		p.Add(!carecircle.ValidDoseStatus(next.Status), "status must be one of GIVEN, SKIPPED, MISSED")
		p.Add(len([]rune(next.Notes)) > carecircle.MaxDoseNotes, "notes must be at most %d characters", carecircle.MaxDoseNotes)
		if err := p.Err(); err != nil {
			return err
		}
		at := l.ScheduledTime
		if next.Status != l.Status {
			if err := statusFits(&m.Medication, next.Status, at, tx.nowT); err != nil {
				return err
			}
		}
		if next.Status == l.Status && next.Notes == l.Notes {
			out = l
			return nil
		}
		if next.Status == carecircle.DoseGiven && l.Status != carecircle.DoseGiven && m.Frequency == carecircle.FrequencyAsNeeded {
			if err := checkAsNeeded(ctx, tx, &m.Medication, at, l.ID, loc); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE medication_logs SET status = $1, notes = $2, updated_at = $3, updated_by = $4
			WHERE id = $5`, next.Status, next.Notes, tx.now, a.UserID, logID); err != nil {
			return fmt.Errorf("correct medication log: %w", err)
		}
		switch {
		case l.Status != carecircle.DoseGiven && next.Status == carecircle.DoseGiven:
			err = tx.changeSupply(ctx, &m, s.Scope, -1)
		case l.Status == carecircle.DoseGiven && next.Status != carecircle.DoseGiven:
			err = tx.changeSupply(ctx, &m, s.Scope, +1)
		}
		if err != nil {
			return err
		}
		now := tx.nowT
		next.CorrectedAt, next.CorrectedBy = &now, &carecircle.MemberRef{ID: a.UserID, FullName: a.Name}
		out = next
		return tx.emit(ctx, carecircle.EventMedicationLogged, "/api/v1/medication-logs/"+logID, s.FamilyID, s.RecipientID,
			doseEventData(&m.Medication, s.Scope, &next, loc, map[string]any{
				"corrected": true, "previousStatus": l.Status, "correctedById": a.UserID, "correctedByName": a.Name,
			}))
	})
	return out, err
}

// DoseHistory lists a medication's dose logs, newest dose first, one page
// at a time; it returns the cursor of the next page ("" on the last).
func (db *DB) DoseHistory(ctx context.Context, medID string, page Page) ([]carecircle.DoseLog, string, error) {
	if _, _, err := medicationInScope(ctx, db.r, medID); err != nil {
		return nil, "", err
	}
	key, after := int64(math.MaxInt64), ""
	if page.Cursor != "" {
		var err error
		if key, after, err = DecodeCursor(page.Cursor); err != nil {
			return nil, "", err
		}
	}
	n := page.size()
	rows, err := db.r.QueryContext(ctx, `SELECT `+doseLogColumns+` FROM medication_logs l`+doseLogJoins+`
		WHERE l.medication_id = $1 AND (l.scheduled_at < $2 OR (l.scheduled_at = $2 AND l.id < $3))
		ORDER BY l.scheduled_at DESC, l.id DESC LIMIT $4`, medID, key, after, n+1)
	if err != nil {
		return nil, "", fmt.Errorf("dose history: %w", err)
	}
	out, err := collect(rows, func(r rowScanner) (carecircle.DoseLog, error) { return scanDoseLog(r) })
	if err != nil {
		return nil, "", fmt.Errorf("dose history: %w", err)
	}
	out, next := cutPage(out, n, func(l *carecircle.DoseLog) (time.Time, string) { return l.ScheduledTime, l.ID })
	return out, next, nil
}
