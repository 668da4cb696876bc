package storage

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/carecircle/carecircle"
)

const appointmentColumns = `a.id, a.family_id, a.care_recipient_id, a.title, a.start_at, a.end_at, a.location,
	a.doctor_name, a.notes, a.assigned_to, COALESCE(u.full_name, ''), a.recurrence, a.reminders, a.status,
	a.cancelled_at, a.sequence, a.created_by, a.created_at, a.updated_at`

// appointmentFrom names the assigned member alongside each appointment.
const appointmentFrom = `appointments a LEFT JOIN users u ON u.id = a.assigned_to`

func scanAppointment(row rowScanner) (carecircle.Appointment, error) {
	var a carecircle.Appointment
	var start, created, updated int64
	var end, cancelled sql.NullInt64
	var assigned sql.NullString
	var assignedName, recurrence, reminders string
	err := row.Scan(&a.ID, &a.FamilyID, &a.CareRecipientID, &a.Title, &start, &end, &a.Location, &a.DoctorName,
		&a.Notes, &assigned, &assignedName, &recurrence, &reminders, &a.Status, &cancelled, &a.Sequence,
		&a.CreatedBy, &created, &updated)
	if err != nil {
		return a, err
	}
	a.StartTime, a.EndTime, a.CancelledAt = fromMS(start), fromNullMS(end), fromNullMS(cancelled)
	a.CreatedAt, a.UpdatedAt = fromMS(created), fromMS(updated)
	if assigned.Valid {
		a.AssignedTo = &carecircle.MemberRef{ID: assigned.String, FullName: assignedName}
	}
	if recurrence != "" {
		a.Recurrence, a.IsRecurring = &recurrence, true
	}
	if err := json.Unmarshal([]byte(reminders), &a.Reminders); err != nil {
		return a, fmt.Errorf("decode appointment %s reminders: %w", a.ID, err)
	}
	if a.Reminders == nil {
		a.Reminders = []int{}
	}
	return a, nil
}

// appointmentArgs are the stored forms of the editable fields, in column
// order title .. reminders.
func appointmentArgs(a *carecircle.Appointment) []any {
	var end, assigned any
	if a.EndTime != nil {
		end = ms(*a.EndTime)
	}
	if a.AssignedTo != nil {
		assigned = a.AssignedTo.ID
	}
	recurrence := ""
	if a.Recurrence != nil {
		recurrence = *a.Recurrence
	}
	reminders, _ := json.Marshal(a.Reminders)
	return []any{a.Title, ms(a.StartTime), end, a.Location, a.DoctorName, a.Notes, assigned, recurrence, string(reminders)}
}

// appointment reads one appointment by id; callers have resolved its scope.
func appointment(ctx context.Context, q querier, id string) (carecircle.Appointment, error) {
	a, err := scanAppointment(q.QueryRowContext(ctx, `SELECT `+appointmentColumns+` FROM `+appointmentFrom+` WHERE a.id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return a, notFound("appointment")
	}
	if err != nil {
		return a, fmt.Errorf("read appointment: %w", err)
	}
	return a, nil
}

// resolveAssignee fills in the assigned member's name, or reports that the
// id is not a member of the family. The message is the same for an unknown
// user and for a user of another family, so it reveals nothing.
func resolveAssignee(ctx context.Context, q querier, familyID string, as *carecircle.MemberRef) (string, error) {
	const msg = "assignedTo must be a member of the family"
	if !carecircle.HasPrefix(as.ID, carecircle.PrefixUser) {
		return msg, nil
	}
	err := q.QueryRowContext(ctx, `SELECT u.full_name FROM family_members m JOIN users u ON u.id = m.user_id
		WHERE m.family_id = $1 AND m.user_id = $2`, familyID, as.ID).Scan(&as.FullName)
	if errors.Is(err, sql.ErrNoRows) {
		return msg, nil
	}
	if err != nil {
		return "", fmt.Errorf("check assignee: %w", err)
	}
	return "", nil
}

// validateAppointment runs the domain checks and, when assigneeChanged, the
// membership check, returning every problem at once.
func validateAppointment(ctx context.Context, tx *Tx, familyID string, a *carecircle.Appointment, assigneeChanged bool) error {
	var p carecircle.Problems
	if err := a.Validate(); err != nil {
		var ce *carecircle.Error
		if !errors.As(err, &ce) {
			return err
		}
		p = append(p, ce.Fields...)
	}
	if a.AssignedTo != nil && assigneeChanged {
		msg, err := resolveAssignee(ctx, tx, familyID, a.AssignedTo)
		if err != nil {
			return err
		}
		p.Add(msg != "", "%s", msg)
	}
	return p.Err()
}

// appointmentEvent is the data of appointment.* events: everything the
// notifications need to word a message and plan reminders without reading
// the appointment again.
func appointmentEvent(a *carecircle.Appointment, s Scope, extra map[string]any) map[string]any {
	d := map[string]any{
		"appointmentId":     a.ID,
		"title":             a.Title,
		"startTime":         a.StartTime,
		"endTime":           a.EndTime,
		"location":          a.Location,
		"doctorName":        a.DoctorName,
		"assignedTo":        a.AssignedTo,
		"recurrence":        a.Recurrence,
		"reminders":         a.Reminders,
		"status":            a.Status,
		"sequence":          a.Sequence,
		"careRecipientName": s.Name,
		"timezone":          s.Timezone,
	}
	for k, v := range extra {
		d[k] = v
	}
	return d
}

// CreateAppointment adds an appointment for a care recipient (ADMIN or
// CAREGIVER). a.AssignedTo, when set, carries only the member's user id.
func (db *DB) CreateAppointment(ctx context.Context, recipientID string, a carecircle.Appointment) (carecircle.Appointment, error) {
	u, err := actor(ctx)
	if err != nil {
		return a, err
	}
	err = db.write(ctx, func(tx *Tx) error {
		s, err := recipientScope(ctx, tx, recipientID)
		if err != nil {
			return err
		}
		if err := s.Role.Require(carecircle.RoleCaregiver); err != nil {
			return err
		}
		a.Status = carecircle.AppointmentScheduled
		if err := validateAppointment(ctx, tx, s.FamilyID, &a, true); err != nil {
			return err
		}
		a.ID, a.FamilyID, a.CareRecipientID = carecircle.NewID(carecircle.PrefixAppointment), s.FamilyID, recipientID
		a.CreatedBy, a.CreatedAt, a.UpdatedAt, a.Sequence, a.CancelledAt = u.UserID, tx.nowT, tx.nowT, 0, nil
		args := append([]any{a.ID, a.FamilyID, a.CareRecipientID}, appointmentArgs(&a)...)
		args = append(args, a.Status, a.CreatedBy, tx.now)
		if _, err := tx.ExecContext(ctx, `INSERT INTO appointments (id, family_id, care_recipient_id, title, start_at,
			end_at, location, doctor_name, notes, assigned_to, recurrence, reminders, status, sequence, created_by,
			created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, 0, $14, $15, $15)`,
			args...); err != nil {
			return fmt.Errorf("create appointment: %w", err)
		}
		return tx.emit(ctx, carecircle.EventAppointmentCreated, "/api/v1/appointments/"+a.ID, s.FamilyID, recipientID,
			appointmentEvent(&a, s, nil))
	})
	return a, err
}

// Appointment returns one appointment of the caller's families.
func (db *DB) Appointment(ctx context.Context, id string) (carecircle.Appointment, error) {
	if _, err := childScope(ctx, db.r, "appointments", id, "appointment"); err != nil {
		return carecircle.Appointment{}, err
	}
	return appointment(ctx, db.r, id)
}

// lockAppointment takes PostgreSQL's row lock on an appointment before it
// is read for a change (SQLite serializes writers already), so two edits at
// once can't both build on the same old row and SEQUENCE never repeats.
func lockAppointment(ctx context.Context, tx *Tx, id string) error {
	if _, err := tx.ExecContext(ctx, `UPDATE appointments SET sequence = sequence WHERE id = $1`, id); err != nil {
		return fmt.Errorf("lock appointment: %w", err)
	}
	return nil
}

// UpdateAppointment loads an appointment, lets apply change it, validates
// and saves it (ADMIN or CAREGIVER). A cancelled appointment can't be
// changed (ECONFLICT). A change that leaves every field as it was records
// nothing; any other bumps the iCalendar SEQUENCE.
func (db *DB) UpdateAppointment(ctx context.Context, id string, apply func(*carecircle.Appointment) error) (carecircle.Appointment, error) {
	var a carecircle.Appointment
	err := db.write(ctx, func(tx *Tx) error {
		s, err := childScope(ctx, tx, "appointments", id, "appointment")
		if err != nil {
			return err
		}
		if err := s.Role.Require(carecircle.RoleCaregiver); err != nil {
			return err
		}
		if err := lockAppointment(ctx, tx, id); err != nil {
			return err
		}
		if a, err = appointment(ctx, tx, id); err != nil {
			return err
		}
		if a.Status == carecircle.AppointmentCancelled {
			return carecircle.Errorf(carecircle.ECONFLICT, "this appointment is cancelled and can't be changed; create a new one")
		}
		old := a
		if err := apply(&a); err != nil {
			return err
		}
		a.ID, a.FamilyID, a.CareRecipientID, a.Status = old.ID, old.FamilyID, old.CareRecipientID, old.Status
		assigneeChanged := assigneeID(a.AssignedTo) != assigneeID(old.AssignedTo)
		if err := validateAppointment(ctx, tx, s.FamilyID, &a, assigneeChanged); err != nil {
			return err
		}
		changed := changedFields(&old, &a)
		if len(changed) == 0 {
			return nil
		}
		a.Sequence, a.UpdatedAt = old.Sequence+1, tx.nowT
		args := append(appointmentArgs(&a), a.Sequence, tx.now, id)
		if _, err := tx.ExecContext(ctx, `UPDATE appointments SET title = $1, start_at = $2, end_at = $3, location = $4,
			doctor_name = $5, notes = $6, assigned_to = $7, recurrence = $8, reminders = $9, sequence = $10,
			updated_at = $11 WHERE id = $12`, args...); err != nil {
			return fmt.Errorf("update appointment: %w", err)
		}
		extra := map[string]any{"changed": changed}
		if !old.StartTime.Equal(a.StartTime) {
			extra["previousStartTime"] = old.StartTime
		}
		if assigneeChanged {
			extra["previousAssignedTo"] = old.AssignedTo
		}
		return tx.emit(ctx, carecircle.EventAppointmentUpdated, "/api/v1/appointments/"+id, s.FamilyID, s.RecipientID,
			appointmentEvent(&a, s, extra))
	})
	return a, err
}

func assigneeID(as *carecircle.MemberRef) string {
	if as == nil {
		return ""
	}
	return as.ID
}

func optionalString(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func optionalMS(t *time.Time) int64 {
	if t == nil {
		return -1
	}
	return ms(*t)
}

// changedFields names the fields that differ between two versions of an
// appointment, in the API's spelling.
func changedFields(old, cur *carecircle.Appointment) []string {
	var out []string
	add := func(differs bool, name string) {
		if differs {
			out = append(out, name)
		}
	}
	add(old.Title != cur.Title, "title")
	add(!old.StartTime.Equal(cur.StartTime), "startTime")
	add(optionalMS(old.EndTime) != optionalMS(cur.EndTime), "endTime")
	add(old.Location != cur.Location, "location")
	add(old.DoctorName != cur.DoctorName, "doctorName")
	add(old.Notes != cur.Notes, "notes")
	add(assigneeID(old.AssignedTo) != assigneeID(cur.AssignedTo), "assignedTo")
	add(optionalString(old.Recurrence) != optionalString(cur.Recurrence), "recurrence")
	add(!slices.Equal(old.Reminders, cur.Reminders), "reminders")
	return out
}

// CancelAppointment cancels an appointment (ADMIN or CAREGIVER). The row is
// kept with status CANCELLED so calendar feeds tell subscribed clients to
// drop it. Cancelling a cancelled appointment changes nothing.
func (db *DB) CancelAppointment(ctx context.Context, id string) (carecircle.Appointment, error) {
	var a carecircle.Appointment
	err := db.write(ctx, func(tx *Tx) error {
		s, err := childScope(ctx, tx, "appointments", id, "appointment")
		if err != nil {
			return err
		}
		if err := s.Role.Require(carecircle.RoleCaregiver); err != nil {
			return err
		}
		if err := lockAppointment(ctx, tx, id); err != nil {
			return err
		}
		if a, err = appointment(ctx, tx, id); err != nil {
			return err
		}
		if a.Status == carecircle.AppointmentCancelled {
			return nil
		}
		now := tx.nowT
		a.Status, a.CancelledAt, a.Sequence, a.UpdatedAt = carecircle.AppointmentCancelled, &now, a.Sequence+1, now
		if _, err := tx.ExecContext(ctx, `UPDATE appointments SET status = $1, cancelled_at = $2, sequence = $3,
			updated_at = $2 WHERE id = $4`, a.Status, tx.now, a.Sequence, id); err != nil {
			return fmt.Errorf("cancel appointment: %w", err)
		}
		return tx.emit(ctx, carecircle.EventAppointmentCancelled, "/api/v1/appointments/"+id, s.FamilyID, s.RecipientID,
			appointmentEvent(&a, s, nil))
	})
	return a, err
}

// AppointmentRange asks for the occurrences of a recipient's appointments
// that start in [From, To). A zero From means the start of today in the
// recipient's zone; a zero To means DefaultAppointmentRange after From.
type AppointmentRange struct {
	From, To         time.Time
	IncludeCancelled bool
	Page             Page
}

// DefaultAppointmentRange is the window of a range query without "to".
const DefaultAppointmentRange = 90 * 24 * time.Hour

// maxAppointmentRows bounds how many series one range query expands.
const maxAppointmentRows = 5000

// Appointments lists the occurrences of a care recipient's appointments in
// a range, sorted by start then id: a recurring appointment yields one item
// per occurrence, expanded in the recipient's zone. Pages are keyset pages
// on (occurrence start, id).
func (db *DB) Appointments(ctx context.Context, recipientID string, q AppointmentRange) ([]carecircle.AppointmentOccurrence, string, error) {
	s, err := recipientScope(ctx, db.r, recipientID)
	if err != nil {
		return nil, "", err
	}
	loc := s.Location()
	if q.From.IsZero() {
		_, now := db.now()
		q.From = localMidnight(now, loc)
	}
	if q.To.IsZero() {
		q.To = q.From.Add(DefaultAppointmentRange)
	}
	var p carecircle.Problems
	p.Add(!q.To.After(q.From), "to must be after from")
	p.Add(q.To.Sub(q.From) > carecircle.MaxAppointmentRange, "to must be at most 366 days after from")
	if err := p.Err(); err != nil {
		return nil, "", err
	}

	// Resume after the cursor: occurrences at the cursor's instant are
	// re-expanded and those with an id at or before the cursor's dropped.
	from, afterKey, afterID := q.From, int64(0), ""
	if q.Page.Cursor != "" {
		if afterKey, afterID, err = DecodeCursor(q.Page.Cursor); err != nil {
			return nil, "", err
		}
		if c := fromMS(afterKey); c.After(from) {
			from = c
		}
	}
	limit := q.Page.size()
	if !from.Before(q.To) {
		return []carecircle.AppointmentOccurrence{}, "", nil
	}

	status := "SCHEDULED"
	if q.IncludeCancelled {
		status = "CANCELLED"
	}
	rows, err := db.r.QueryContext(ctx, `SELECT `+appointmentColumns+` FROM `+appointmentFrom+`
		WHERE a.care_recipient_id = $1 AND (a.status = 'SCHEDULED' OR a.status = $2)
		AND a.start_at < $3 AND (a.recurrence <> '' OR a.start_at >= $4)
		ORDER BY a.start_at, a.id LIMIT $5`, recipientID, status, ms(q.To), ms(from), maxAppointmentRows)
	if err != nil {
		return nil, "", fmt.Errorf("list appointments: %w", err)
	}
	defer rows.Close()
	var out []carecircle.AppointmentOccurrence
	for rows.Next() {
		a, err := scanAppointment(rows)
		if err != nil {
			return nil, "", err
		}
		// One more than a page per series is enough to know whether a
		// next page exists; one extra covers the cursor's own item.
		for _, o := range a.OccurrencesIn(loc, from, q.To, limit+2) {
			if afterID != "" && ms(o.OccurrenceStart) == afterKey && o.ID <= afterID {
				continue
			}
			out = append(out, o)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, "", fmt.Errorf("list appointments: %w", err)
	}
	slices.SortFunc(out, func(x, y carecircle.AppointmentOccurrence) int {
		if c := x.OccurrenceStart.Compare(y.OccurrenceStart); c != 0 {
			return c
		}
		return strings.Compare(x.ID, y.ID)
	})
	out, next := cutPage(out, limit, func(o *carecircle.AppointmentOccurrence) (time.Time, string) { return o.OccurrenceStart, o.ID })
	if out == nil {
		out = []carecircle.AppointmentOccurrence{}
	}
	return out, next, nil
}

// localMidnight returns the instant the day of t begins in loc (00:00, or
// the instant a gap at midnight resolves to).
func localMidnight(t time.Time, loc *time.Location) time.Time {
	return carecircle.LocalInstant(carecircle.DateOf(t, loc), 0, 0, loc).UTC()
}
