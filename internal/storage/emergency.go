package storage

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/carecircle/carecircle"
)

const alertColumns = `a.id, a.status, a.care_recipient_id, cr.first_name, cr.last_name, cr.preferred_name, a.type,
	a.description, a.location, a.triggered_by, tu.full_name, a.created_at, a.acknowledged_at, a.acknowledged_by,
	au.full_name, a.resolved_at, a.resolved_by, ru.full_name, a.resolution_notes, a.updated_at`

const alertFrom = ` FROM emergency_alerts a
	JOIN care_recipients cr ON cr.id = a.care_recipient_id
	JOIN users tu ON tu.id = a.triggered_by
	LEFT JOIN users au ON au.id = a.acknowledged_by
	LEFT JOIN users ru ON ru.id = a.resolved_by`

func scanAlert(row rowScanner) (carecircle.EmergencyAlert, error) {
	var a carecircle.EmergencyAlert
	var first, last, preferred string
	var created, updated int64
	var ackAt, resAt sql.NullInt64
	var ackBy, ackName, resBy, resName sql.NullString
	err := row.Scan(&a.ID, &a.Status, &a.CareRecipientID, &first, &last, &preferred, &a.Type, &a.Description, &a.Location,
		&a.TriggeredBy.ID, &a.TriggeredBy.FullName, &created, &ackAt, &ackBy, &ackName, &resAt, &resBy, &resName,
		&a.ResolutionNotes, &updated)
	if err != nil {
		return a, err
	}
	a.CareRecipientName = (&carecircle.CareRecipient{FirstName: first, LastName: last, PreferredName: preferred}).DisplayName()
	a.CreatedAt, a.UpdatedAt = fromMS(created), fromMS(updated)
	a.AcknowledgedAt, a.ResolvedAt = fromNullMS(ackAt), fromNullMS(resAt)
	if ackBy.Valid {
		a.AcknowledgedBy = &carecircle.MemberRef{ID: ackBy.String, FullName: ackName.String}
	}
	if resBy.Valid {
		a.ResolvedBy = &carecircle.MemberRef{ID: resBy.String, FullName: resName.String}
	}
	a.Acknowledgements = []carecircle.Acknowledgement{}
	return a, nil
}

// withAcknowledgements fills in who acknowledged each alert, in order.
func withAcknowledgements(ctx context.Context, q querier, alerts []carecircle.EmergencyAlert) error {
	if len(alerts) == 0 {
		return nil
	}
	at := make(map[string]int, len(alerts))
	args := make([]any, len(alerts))
	ph := make([]string, len(alerts))
	for i, a := range alerts {
		at[a.ID] = i
		args[i] = a.ID
		ph[i] = fmt.Sprintf("$%d", i+1)
	}
	rows, err := q.QueryContext(ctx, `SELECT k.alert_id, k.user_id, u.full_name, k.acknowledged_at
		FROM alert_acknowledgements k JOIN users u ON u.id = k.user_id
		WHERE k.alert_id IN (`+strings.Join(ph, ",")+`) ORDER BY k.acknowledged_at, k.user_id`, args...)
	if err != nil {
		return fmt.Errorf("read acknowledgements: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var alertID string
		var k carecircle.Acknowledgement
		var when int64
		if err := rows.Scan(&alertID, &k.User.ID, &k.User.FullName, &when); err != nil {
			return fmt.Errorf("read acknowledgements: %w", err)
		}
		k.AcknowledgedAt = fromMS(when)
		i := at[alertID]
		alerts[i].Acknowledgements = append(alerts[i].Acknowledgements, k)
	}
	return rows.Err()
}

func alertScope(ctx context.Context, q querier, id string) (Scope, error) {
	if !carecircle.HasPrefix(id, carecircle.PrefixAlert) {
		return Scope{}, notFound("emergency alert")
	}
	return childScope(ctx, q, "emergency_alerts", id, "emergency alert")
}

// alertByID reads an alert with its acknowledgements; the caller has scoped
// it already.
func alertByID(ctx context.Context, q querier, id string) (carecircle.EmergencyAlert, error) {
	a, err := scanAlert(q.QueryRowContext(ctx, `SELECT `+alertColumns+alertFrom+` WHERE a.id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return a, notFound("emergency alert")
	}
	if err != nil {
		return a, fmt.Errorf("read emergency alert: %w", err)
	}
	list := []carecircle.EmergencyAlert{a}
	if err := withAcknowledgements(ctx, q, list); err != nil {
		return a, err
	}
	return list[0], nil
}

// alertEventData is the part of every alert event a notification needs.
func alertEventData(sc Scope, a carecircle.EmergencyAlert) map[string]any {
	return map[string]any{
		"alertId": a.ID, "type": a.Type, "status": a.Status, "description": a.Description, "location": a.Location,
		"triggeredById": a.TriggeredBy.ID, "triggeredByName": a.TriggeredBy.FullName,
		"careRecipientName": a.CareRecipientName, "timezone": sc.Timezone, "createdAt": a.CreatedAt,
	}
}

// RaiseAlert raises an emergency for a care recipient (ADMIN, CAREGIVER).
func (db *DB) RaiseAlert(ctx context.Context, a carecircle.EmergencyAlert) (carecircle.EmergencyAlert, error) {
	err := db.write(ctx, func(tx *Tx) error {
		var err error
		a, err = raiseAlert(ctx, tx, a)
		return err
	})
	return a, err
}

func raiseAlert(ctx context.Context, tx *Tx, a carecircle.EmergencyAlert) (carecircle.EmergencyAlert, error) {
	act, err := actor(ctx)
	if err != nil {
		return a, err
	}
	// The body is checked before the recipient is looked up: its messages
	// depend on nothing stored, and a bad body is best told as a 400.
	if err := a.Validate(); err != nil {
		return a, err
	}
	sc, err := recipientScope(ctx, tx, a.CareRecipientID)
	if err != nil {
		return a, err
	}
	if err := sc.Role.Require(carecircle.RoleCaregiver); err != nil {
		return a, err
	}
	a.ID = carecircle.NewID(carecircle.PrefixAlert)
	if _, err := tx.ExecContext(ctx, `INSERT INTO emergency_alerts (id, family_id, care_recipient_id, type, description,
		location, status, triggered_by, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)`,
		a.ID, sc.FamilyID, sc.RecipientID, a.Type, a.Description, a.Location, carecircle.AlertActive, act.UserID, tx.now); err != nil {
		return a, fmt.Errorf("raise emergency alert: %w", err)
	}
	if a, err = alertByID(ctx, tx, a.ID); err != nil {
		return a, err
	}
	return a, tx.emit(ctx, carecircle.EventAlertCreated, "/api/v1/emergency/alerts/"+a.ID, sc.FamilyID, sc.RecipientID,
		alertEventData(sc, a))
}

// Alert returns one emergency alert of the caller's families.
func (db *DB) Alert(ctx context.Context, id string) (carecircle.EmergencyAlert, error) {
	if _, err := alertScope(ctx, db.r, id); err != nil {
		return carecircle.EmergencyAlert{}, err
	}
	return alertByID(ctx, db.r, id)
}

// Alerts lists a care recipient's alerts, newest first, optionally only
// those with one status, one page at a time. It returns the cursor of the
// next page, or "".
func (db *DB) Alerts(ctx context.Context, recipientID string, status carecircle.AlertStatus, p Page) ([]carecircle.EmergencyAlert, string, error) {
	if _, err := recipientScope(ctx, db.r, recipientID); err != nil {
		return nil, "", err
	}
	if status != "" && !status.Valid() {
		return nil, "", carecircle.Invalid("status must be one of ACTIVE, ACKNOWLEDGED, RESOLVED")
	}
	afterKey, afterID := int64(math.MaxInt64), ""
	if p.Cursor != "" {
		var err error
		if afterKey, afterID, err = DecodeCursor(p.Cursor); err != nil {
			return nil, "", err
		}
	}
	limit := p.size()
	rows, err := db.r.QueryContext(ctx, `SELECT `+alertColumns+alertFrom+`
		WHERE a.care_recipient_id = $1 AND ($2 = '' OR a.status = $2)
		AND (a.created_at < $3 OR (a.created_at = $3 AND a.id < $4))
		ORDER BY a.created_at DESC, a.id DESC LIMIT $5`, recipientID, string(status), afterKey, afterID, limit+1)
	if err != nil {
		return nil, "", fmt.Errorf("list emergency alerts: %w", err)
	}
	out, err := collectAlerts(rows)
	if err != nil {
		return nil, "", err
	}
	out, next := cutPage(out, limit, func(a *carecircle.EmergencyAlert) (time.Time, string) { return a.CreatedAt, a.ID })
	return out, next, withAcknowledgements(ctx, db.r, out)
}

func collectAlerts(rows *sql.Rows) ([]carecircle.EmergencyAlert, error) {
	out, err := collect(rows, scanAlert)
	if err != nil {
		return nil, fmt.Errorf("list emergency alerts: %w", err)
	}
	return out, nil
}

// lockAlert takes PostgreSQL's row lock on the alert (SQLite serializes
// writers already) and returns its status, so acknowledge and resolve decide
// on the state no concurrent change can alter before commit.
func lockAlert(ctx context.Context, tx *Tx, id string) (carecircle.AlertStatus, error) {
	if _, err := tx.ExecContext(ctx, `UPDATE emergency_alerts SET status = status WHERE id = $1`, id); err != nil {
		return "", fmt.Errorf("lock emergency alert: %w", err)
	}
	var st carecircle.AlertStatus
	if err := tx.QueryRowContext(ctx, `SELECT status FROM emergency_alerts WHERE id = $1`, id).Scan(&st); err != nil {
		return "", fmt.Errorf("lock emergency alert: %w", err)
	}
	return st, nil
}

func alreadyResolved(a carecircle.EmergencyAlert, what string) error {
	by, at := "", ""
	if a.ResolvedBy != nil {
		by = " by " + a.ResolvedBy.FullName
	}
	if a.ResolvedAt != nil {
		at = " at " + a.ResolvedAt.Format(time.RFC3339)
	}
	return carecircle.Errorf(carecircle.ECONFLICT, "this alert was resolved%s%s; it can't be %s", at, by, what)
}

// AcknowledgeAlert records that the caller saw an alert (any member). The
// first acknowledgement moves it to ACKNOWLEDGED; acknowledging again
// changes nothing; a resolved alert can't be acknowledged.
func (db *DB) AcknowledgeAlert(ctx context.Context, id string) (carecircle.EmergencyAlert, error) {
	var a carecircle.EmergencyAlert
	err := db.write(ctx, func(tx *Tx) error {
		act, err := actor(ctx)
		if err != nil {
			return err
		}
		sc, err := alertScope(ctx, tx, id)
		if err != nil {
			return err
		}
		st, err := lockAlert(ctx, tx, id)
		if err != nil {
			return err
		}
		if st == carecircle.AlertResolved {
			if a, err = alertByID(ctx, tx, id); err != nil {
				return err
			}
			return alreadyResolved(a, "acknowledged")
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO alert_acknowledgements (alert_id, user_id, acknowledged_at)
			VALUES ($1, $2, $3) ON CONFLICT (alert_id, user_id) DO NOTHING`, id, act.UserID, tx.now)
		if err != nil {
			return fmt.Errorf("acknowledge alert: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			a, err = alertByID(ctx, tx, id) // already acknowledged by the caller: nothing changes
			return err
		}
		first := st == carecircle.AlertActive
		if first {
			_, err = tx.ExecContext(ctx, `UPDATE emergency_alerts SET status = $1, acknowledged_at = $2, acknowledged_by = $3,
				updated_at = $2 WHERE id = $4`, carecircle.AlertAcknowledged, tx.now, act.UserID, id)
		} else {
			_, err = tx.ExecContext(ctx, `UPDATE emergency_alerts SET updated_at = $1 WHERE id = $2`, tx.now, id)
		}
		if err != nil {
			return fmt.Errorf("acknowledge alert: %w", err)
		}
		if a, err = alertByID(ctx, tx, id); err != nil {
			return err
		}
		data := alertEventData(sc, a)
		data["acknowledgedById"], data["acknowledgedByName"], data["acknowledgedAt"] = act.UserID, act.Name, tx.nowT
		data["first"] = first
		return tx.emit(ctx, carecircle.EventAlertAcknowledged, "/api/v1/emergency/alerts/"+id, sc.FamilyID, sc.RecipientID, data)
	})
	return a, err
}

// ResolveAlert closes an alert (ADMIN, CAREGIVER) with optional notes. An
// alert is resolved once.
func (db *DB) ResolveAlert(ctx context.Context, id, notes string) (carecircle.EmergencyAlert, error) {
	notes = strings.TrimSpace(notes)
	if err := carecircle.ValidateResolutionNotes(notes); err != nil {
		return carecircle.EmergencyAlert{}, err
	}
	var a carecircle.EmergencyAlert
	err := db.write(ctx, func(tx *Tx) error {
		act, err := actor(ctx)
		if err != nil {
			return err
		}
		sc, err := alertScope(ctx, tx, id)
		if err != nil {
			return err
		}
		if err := sc.Role.Require(carecircle.RoleCaregiver); err != nil {
			return err
		}
		st, err := lockAlert(ctx, tx, id)
		if err != nil {
			return err
		}
		if st == carecircle.AlertResolved {
			if a, err = alertByID(ctx, tx, id); err != nil {
				return err
			}
			return alreadyResolved(a, "resolved again")
		}
		if _, err := tx.ExecContext(ctx, `UPDATE emergency_alerts SET status = $1, resolved_at = $2, resolved_by = $3,
			resolution_notes = $4, updated_at = $2 WHERE id = $5`, carecircle.AlertResolved, tx.now, act.UserID, notes, id); err != nil {
			return fmt.Errorf("resolve alert: %w", err)
		}
		if a, err = alertByID(ctx, tx, id); err != nil {
			return err
		}
		data := alertEventData(sc, a)
		data["resolvedById"], data["resolvedByName"], data["resolvedAt"], data["notes"] = act.UserID, act.Name, tx.nowT, notes
		return tx.emit(ctx, carecircle.EventAlertResolved, "/api/v1/emergency/alerts/"+id, sc.FamilyID, sc.RecipientID, data)
	})
	return a, err
}

// EmergencyInfo gathers everything a paramedic or an emergency room needs
// about a care recipient (any member, VIEWER included).
func (db *DB) EmergencyInfo(ctx context.Context, recipientID string) (carecircle.EmergencyInfo, error) {
	var info carecircle.EmergencyInfo
	sc, err := recipientScope(ctx, db.r, recipientID)
	if err != nil {
		return info, err
	}
	cr, err := recipient(ctx, db.r, recipientID)
	if err != nil {
		return info, err
	}
	now := db.Clock.Now().UTC()
	info.GeneratedAt = now.Truncate(time.Second)
	info.CareRecipient = carecircle.EmergencyPatient{ID: cr.ID, FirstName: cr.FirstName, LastName: cr.LastName,
		PreferredName: cr.PreferredName, DateOfBirth: cr.DateOfBirth, BloodType: cr.BloodType, Allergies: cr.Allergies,
		Conditions: cr.Conditions, Notes: cr.Notes, Timezone: cr.Timezone}
	if cr.DateOfBirth != nil {
		age := carecircle.AgeOn(*cr.DateOfBirth, carecircle.DateOf(now, cr.Location()))
		info.CareRecipient.Age = &age
	}
	info.EmergencyContacts, info.Doctors, info.Insurance, info.PrimaryHospital = cr.EmergencyContacts, cr.Doctors, cr.Insurance, cr.PrimaryHospital
	if info.Medications, err = db.emergencyMedications(ctx, recipientID); err != nil {
		return info, err
	}
	fam, err := members(ctx, db.r, sc.FamilyID)
	if err != nil {
		return info, err
	}
	info.FamilyMembers = make([]carecircle.EmergencyMember, len(fam))
	for i, m := range fam {
		info.FamilyMembers[i] = carecircle.EmergencyMember{UserID: m.UserID, FullName: m.FullName, Role: m.Role, Phone: m.Phone, Email: m.Email}
	}
	rows, err := db.r.QueryContext(ctx, `SELECT `+alertColumns+alertFrom+`
		WHERE a.care_recipient_id = $1 AND a.status <> $2 ORDER BY a.created_at DESC, a.id DESC LIMIT 50`,
		recipientID, carecircle.AlertResolved)
	if err != nil {
		return info, fmt.Errorf("read active alerts: %w", err)
	}
	if info.ActiveAlerts, err = collectAlerts(rows); err != nil {
		return info, err
	}
	if err := withAcknowledgements(ctx, db.r, info.ActiveAlerts); err != nil {
		return info, err
	}
	// Key documents come from the document vault, flagged when they expire
	// within 30 days or have expired.
	if info.Documents, err = db.emergencyDocuments(ctx, recipientID, now, cr.Location()); err != nil {
		return info, err
	}
	return info, nil
}

// emergencyMedications lists the medications not deactivated, by name. A
// malformed row is shown with what could be read rather than failing the
// page: in an emergency, partial information beats none.
func (db *DB) emergencyMedications(ctx context.Context, recipientID string) ([]carecircle.EmergencyMedication, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT id, name, dosage, frequency, times, instructions, prescribed_by,
		start_date, end_date FROM medications WHERE care_recipient_id = $1 AND deactivated_at IS NULL
		ORDER BY name, id`, recipientID)
	if err != nil {
		return nil, fmt.Errorf("read medications: %w", err)
	}
	defer rows.Close()
	out := []carecircle.EmergencyMedication{}
	for rows.Next() {
		var m carecircle.EmergencyMedication
		var times string
		var start, end sql.NullString
		if err := rows.Scan(&m.ID, &m.Name, &m.Dosage, &m.Frequency, &times, &m.Instructions, &m.PrescribedBy,
			&start, &end); err != nil {
			return nil, fmt.Errorf("read medications: %w", err)
		}
		if err := json.Unmarshal([]byte(times), &m.Times); err != nil {
			db.Logger.WarnContext(ctx, "medication times unreadable", "medication", m.ID, "err", err)
		}
		if m.Times == nil {
			m.Times = []string{}
		}
		m.StartDate, m.EndDate = emergencyDate(start), emergencyDate(end)
		out = append(out, m)
	}
	return out, rows.Err()
}

func emergencyDate(s sql.NullString) *carecircle.Date {
	if !s.Valid || s.String == "" {
		return nil
	}
	d, err := carecircle.ParseDate(s.String)
	if err != nil {
		return nil
	}
	return &d
}
