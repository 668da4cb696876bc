package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/carecircle/carecircle"
)

// ShiftFilter narrows a shift listing to shifts overlapping [From, To) and,
// when set, to one caregiver. Zero From and To mean a window from
// DefaultShiftsBefore ago to DefaultShiftsAfter ahead; with only one of them
// set, the window is that long from (or up to) it.
type ShiftFilter struct {
	From, To    time.Time
	CaregiverID string
	Page        Page
}

// The default shift listing window around now.
const (
	DefaultShiftsBefore = 7 * 24 * time.Hour
	DefaultShiftsAfter  = 30 * 24 * time.Hour
)

// The previous handoff of a shift is the last check-out of the same
// recipient's shifts that started before it.
const shiftColumns = `s.id, s.care_recipient_id, s.caregiver_id, cu.full_name, s.start_at, s.end_at, s.notes,
	s.checked_in_at, s.checked_out_at, s.handoff_notes, s.created_by, bu.full_name, s.created_at, s.updated_at,
	p.id, p.caregiver_id, pu.full_name, p.handoff_notes, p.checked_out_at`

const shiftFrom = ` FROM shifts s
	JOIN users cu ON cu.id = s.caregiver_id
	JOIN users bu ON bu.id = s.created_by
	LEFT JOIN shifts p ON p.id = (SELECT p2.id FROM shifts p2
		WHERE p2.care_recipient_id = s.care_recipient_id AND p2.checked_out_at IS NOT NULL AND p2.start_at < s.start_at
		ORDER BY p2.checked_out_at DESC, p2.id DESC LIMIT 1)
	LEFT JOIN users pu ON pu.id = p.caregiver_id`

func scanShift(row rowScanner, now time.Time) (carecircle.Shift, error) {
	var s carecircle.Shift
	var start, end, created, updated int64
	var in, out, prevOut sql.NullInt64
	var prevID, prevCaregiver, prevName, prevNotes sql.NullString
	err := row.Scan(&s.ID, &s.CareRecipientID, &s.Caregiver.ID, &s.Caregiver.FullName, &start, &end, &s.Notes,
		&in, &out, &s.HandoffNotes, &s.CreatedBy.ID, &s.CreatedBy.FullName, &created, &updated,
		&prevID, &prevCaregiver, &prevName, &prevNotes, &prevOut)
	if err != nil {
		return s, err
	}
	s.StartTime, s.EndTime, s.CreatedAt, s.UpdatedAt = fromMS(start), fromMS(end), fromMS(created), fromMS(updated)
	s.CheckedInAt, s.CheckedOutAt = fromNullMS(in), fromNullMS(out)
	s.CaregiverID = s.Caregiver.ID
	if prevID.Valid && prevOut.Valid {
		s.PreviousHandoff = &carecircle.Handoff{ShiftID: prevID.String,
			Caregiver: carecircle.MemberRef{ID: prevCaregiver.String, FullName: prevName.String},
			Notes:     prevNotes.String, CheckedOutAt: fromMS(prevOut.Int64)}
	}
	s.DeriveStatus(now)
	return s, nil
}

func shiftScope(ctx context.Context, q querier, id string) (Scope, error) {
	if !carecircle.HasPrefix(id, carecircle.PrefixShift) {
		return Scope{}, notFound("shift")
	}
	return childScope(ctx, q, "shifts", id, "shift")
}

// shiftByID reads a shift; the caller has scoped it already.
func shiftByID(ctx context.Context, q querier, id string, now time.Time) (carecircle.Shift, error) {
	s, err := scanShift(q.QueryRowContext(ctx, `SELECT `+shiftColumns+shiftFrom+` WHERE s.id = $1`, id), now)
	if errors.Is(err, sql.ErrNoRows) {
		return s, notFound("shift")
	}
	if err != nil {
		return s, fmt.Errorf("read shift: %w", err)
	}
	return s, nil
}

// shiftEventData is what a notification about a shift needs.
func shiftEventData(sc Scope, s carecircle.Shift) map[string]any {
	return map[string]any{
		"shiftId": s.ID, "caregiverId": s.Caregiver.ID, "caregiverName": s.Caregiver.FullName,
		"startTime": s.StartTime, "endTime": s.EndTime, "notes": s.Notes, "status": s.Status,
		"careRecipientName": sc.Name, "timezone": sc.Timezone,
	}
}

// lockShiftCaregiver checks that userID may be scheduled in the family (an
// ADMIN or CAREGIVER member) and locks their membership row for the rest of
// the transaction. The lock is what makes the overlap check safe on
// PostgreSQL: a second transaction scheduling the same caregiver waits here
// until the first commits, then sees its shift (SQLite serializes writers
// already).
func lockShiftCaregiver(ctx context.Context, tx *Tx, familyID, userID string) (carecircle.MemberRef, error) {
	bad := carecircle.Invalid("caregiverId must be an ADMIN or CAREGIVER member of the family")
	if !carecircle.HasPrefix(userID, carecircle.PrefixUser) {
		return carecircle.MemberRef{}, bad
	}
	res, err := tx.ExecContext(ctx, `UPDATE family_members SET role = role WHERE family_id = $1 AND user_id = $2`, familyID, userID)
	if err != nil {
		return carecircle.MemberRef{}, fmt.Errorf("lock caregiver: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return carecircle.MemberRef{}, bad
	}
	ref := carecircle.MemberRef{ID: userID}
	var role carecircle.Role
	if err := tx.QueryRowContext(ctx, `SELECT m.role, u.full_name FROM family_members m JOIN users u ON u.id = m.user_id
		WHERE m.family_id = $1 AND m.user_id = $2`, familyID, userID).Scan(&role, &ref.FullName); err != nil {
		return ref, fmt.Errorf("read caregiver: %w", err)
	}
	if !role.CanWriteCare() {
		return ref, bad
	}
	return ref, nil
}

// checkShiftOverlap returns ECONFLICT naming the caregiver's shift (for any
// recipient of the family) that overlaps [start, end), if there is one.
func checkShiftOverlap(ctx context.Context, tx *Tx, familyID string, s carecircle.Shift) error {
	var id string
	// No shift is longer than MaxShiftLength, so one that overlaps starts
	// less than that before this one: the bound keeps the index scan short.
	// Shifts of a removed recipient no longer hold the caregiver.
	err := tx.QueryRowContext(ctx, `SELECT s.id FROM shifts s
		JOIN care_recipients cr ON cr.id = s.care_recipient_id AND cr.deleted_at IS NULL
		WHERE s.caregiver_id = $1 AND s.family_id = $2 AND s.start_at < $3 AND s.start_at > $4 AND s.end_at > $5
		AND s.id <> $6 ORDER BY s.start_at, s.id LIMIT 1`,
		s.Caregiver.ID, familyID, ms(s.EndTime), ms(s.StartTime.Add(-carecircle.MaxShiftLength)), ms(s.StartTime), s.ID).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("check shift overlap: %w", err)
	}
	other, err := shiftByID(ctx, tx, id, tx.nowT)
	if err != nil {
		return err
	}
	return &carecircle.Error{Code: carecircle.ECONFLICT,
		Message: fmt.Sprintf("%s already has shift %s from %s to %s, which overlaps this one", other.Caregiver.FullName,
			other.ID, other.StartTime.Format(time.RFC3339), other.EndTime.Format(time.RFC3339)),
		Detail: map[string]any{"overlappingShift": other}}
}

// CreateShift schedules a caregiver's shift with a care recipient (ADMIN,
// CAREGIVER). s.Caregiver.ID names the caregiver.
func (db *DB) CreateShift(ctx context.Context, recipientID string, s carecircle.Shift) (carecircle.Shift, error) {
	err := db.write(ctx, func(tx *Tx) error {
		var err error
		s, err = createShift(ctx, tx, recipientID, s)
		return err
	})
	return s, err
}

func createShift(ctx context.Context, tx *Tx, recipientID string, s carecircle.Shift) (carecircle.Shift, error) {
	a, err := actor(ctx)
	if err != nil {
		return s, err
	}
	sc, err := recipientScope(ctx, tx, recipientID)
	if err != nil {
		return s, err
	}
	if err := sc.Role.Require(carecircle.RoleCaregiver); err != nil {
		return s, err
	}
	s.StartTime, s.EndTime = s.StartTime.UTC().Truncate(time.Millisecond), s.EndTime.UTC().Truncate(time.Millisecond)
	if err := s.Validate(); err != nil {
		return s, err
	}
	if s.Caregiver, err = lockShiftCaregiver(ctx, tx, sc.FamilyID, s.Caregiver.ID); err != nil {
		return s, err
	}
	s.ID = carecircle.NewID(carecircle.PrefixShift)
	if err := checkShiftOverlap(ctx, tx, sc.FamilyID, s); err != nil {
		return s, err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO shifts (id, family_id, care_recipient_id, caregiver_id, start_at, end_at,
		notes, created_by, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)`,
		s.ID, sc.FamilyID, recipientID, s.Caregiver.ID, ms(s.StartTime), ms(s.EndTime), s.Notes, a.UserID, tx.now); err != nil {
		return s, fmt.Errorf("create shift: %w", err)
	}
	if s, err = shiftByID(ctx, tx, s.ID, tx.nowT); err != nil {
		return s, err
	}
	data := shiftEventData(sc, s)
	data["createdById"], data["createdByName"] = a.UserID, a.Name
	return s, tx.emit(ctx, carecircle.EventShiftCreated, "/api/v1/shifts/"+s.ID, sc.FamilyID, recipientID, data)
}

// Shifts lists a care recipient's shifts overlapping the filter's window,
// earliest start first, one page at a time. It returns the cursor of the
// next page, or "".
func (db *DB) Shifts(ctx context.Context, recipientID string, f ShiftFilter) ([]carecircle.Shift, string, error) {
	if _, err := recipientScope(ctx, db.r, recipientID); err != nil {
		return nil, "", err
	}
	now := db.Clock.Now()
	switch {
	case f.From.IsZero() && f.To.IsZero():
		f.From, f.To = now.Add(-DefaultShiftsBefore), now.Add(DefaultShiftsAfter)
	case f.To.IsZero():
		f.To = f.From.Add(DefaultShiftsBefore + DefaultShiftsAfter)
	case f.From.IsZero():
		f.From = f.To.Add(-DefaultShiftsBefore - DefaultShiftsAfter)
	}
	if !f.To.After(f.From) {
		return nil, "", carecircle.Invalid("to must be after from")
	}
	afterKey, afterID := int64(math.MinInt64), ""
	if f.Page.Cursor != "" {
		var err error
		if afterKey, afterID, err = DecodeCursor(f.Page.Cursor); err != nil {
			return nil, "", err
		}
	}
	limit := f.Page.size()
	rows, err := db.r.QueryContext(ctx, `SELECT `+shiftColumns+shiftFrom+`
		WHERE s.care_recipient_id = $1 AND s.start_at < $2 AND s.end_at > $3 AND ($4 = '' OR s.caregiver_id = $4)
		AND (s.start_at > $5 OR (s.start_at = $5 AND s.id > $6)) AND s.start_at > $8
		ORDER BY s.start_at, s.id LIMIT $7`,
		recipientID, ms(f.To), ms(f.From), f.CaregiverID, afterKey, afterID, limit+1,
		ms(f.From.Add(-carecircle.MaxShiftLength)))
	if err != nil {
		return nil, "", fmt.Errorf("list shifts: %w", err)
	}
	out, err := collectShifts(rows, now)
	if err != nil {
		return nil, "", err
	}
	out, next := cutPage(out, limit, func(s *carecircle.Shift) (time.Time, string) { return s.StartTime, s.ID })
	return out, next, nil
}

func collectShifts(rows *sql.Rows, now time.Time) ([]carecircle.Shift, error) {
	out, err := collect(rows, func(r rowScanner) (carecircle.Shift, error) { return scanShift(r, now) })
	if err != nil {
		return nil, fmt.Errorf("list shifts: %w", err)
	}
	return out, nil
}

// OnDutyShifts returns the shifts of a care recipient whose caregiver is on
// duty now (see carecircle.Shift.OnDutyAt): checked-in shifts first, then by
// start.
func (db *DB) OnDutyShifts(ctx context.Context, recipientID string) ([]carecircle.Shift, error) {
	if _, err := recipientScope(ctx, db.r, recipientID); err != nil {
		return nil, err
	}
	now := db.Clock.Now()
	rows, err := db.r.QueryContext(ctx, `SELECT `+shiftColumns+shiftFrom+`
		WHERE s.care_recipient_id = $1 AND s.checked_out_at IS NULL
		AND ((s.checked_in_at IS NOT NULL AND s.end_at > $2) OR (s.start_at <= $3 AND s.end_at > $3))
		ORDER BY CASE WHEN s.checked_in_at IS NULL THEN 1 ELSE 0 END, s.start_at, s.id LIMIT 50`,
		recipientID, ms(now.Add(-carecircle.ShiftOvertimeGrace)), ms(now))
	if err != nil {
		return nil, fmt.Errorf("list shifts on duty: %w", err)
	}
	all, err := collectShifts(rows, now)
	if err != nil {
		return nil, err
	}
	out := all[:0]
	for _, s := range all {
		if s.OnDuty {
			out = append(out, s)
		}
	}
	return out, nil
}

// Shift returns one shift of the caller's families.
func (db *DB) Shift(ctx context.Context, id string) (carecircle.Shift, error) {
	if _, err := shiftScope(ctx, db.r, id); err != nil {
		return carecircle.Shift{}, err
	}
	return shiftByID(ctx, db.r, id, db.Clock.Now())
}

// UpdateShift loads a shift, lets apply change it, validates and saves it
// (ADMIN or the shift's creator). A checked-in shift keeps its caregiver.
func (db *DB) UpdateShift(ctx context.Context, id string, apply func(*carecircle.Shift) error) (carecircle.Shift, error) {
	var s carecircle.Shift
	err := db.write(ctx, func(tx *Tx) error {
		sc, err := shiftScope(ctx, tx, id)
		if err != nil {
			return err
		}
		old, err := shiftByID(ctx, tx, id, tx.nowT)
		if err != nil {
			return err
		}
		if err := sc.requireMakerOrAdmin(ctx, old.CreatedBy.ID, "shift's creator"); err != nil {
			return err
		}
		s = old
		if err := apply(&s); err != nil {
			return err
		}
		s.ID, s.StartTime, s.EndTime = id, s.StartTime.UTC().Truncate(time.Millisecond), s.EndTime.UTC().Truncate(time.Millisecond)
		if err := s.Validate(); err != nil {
			return err
		}
		if s.Caregiver.ID != old.Caregiver.ID && old.CheckedInAt != nil {
			return carecircle.Errorf(carecircle.ECONFLICT, "the caregiver of a shift that was checked in can't be changed")
		}
		if s.Caregiver, err = lockShiftCaregiver(ctx, tx, sc.FamilyID, s.Caregiver.ID); err != nil {
			return err
		}
		if err := checkShiftOverlap(ctx, tx, sc.FamilyID, s); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE shifts SET caregiver_id = $1, start_at = $2, end_at = $3, notes = $4,
			updated_at = $5 WHERE id = $6`, s.Caregiver.ID, ms(s.StartTime), ms(s.EndTime), s.Notes, tx.now, id); err != nil {
			return fmt.Errorf("update shift: %w", err)
		}
		if s, err = shiftByID(ctx, tx, id, tx.nowT); err != nil {
			return err
		}
		data := shiftEventData(sc, s)
		if old.Caregiver.ID != s.Caregiver.ID {
			data["previousCaregiverId"], data["previousCaregiverName"] = old.Caregiver.ID, old.Caregiver.FullName
		}
		return tx.emit(ctx, carecircle.EventShiftUpdated, "/api/v1/shifts/"+id, sc.FamilyID, sc.RecipientID, data)
	})
	return s, err
}

// DeleteShift cancels a shift that was not checked in (ADMIN or the shift's
// creator). It records shift.updated with status CANCELLED, so consumers
// tell the caregiver without a separate event type.
func (db *DB) DeleteShift(ctx context.Context, id string) error {
	return db.write(ctx, func(tx *Tx) error {
		sc, err := shiftScope(ctx, tx, id)
		if err != nil {
			return err
		}
		s, err := shiftByID(ctx, tx, id, tx.nowT)
		if err != nil {
			return err
		}
		if err := sc.requireMakerOrAdmin(ctx, s.CreatedBy.ID, "shift's creator"); err != nil {
			return err
		}
		if s.CheckedInAt != nil {
			return carecircle.Errorf(carecircle.ECONFLICT, "a shift that was checked in can't be deleted; it is part of the care record")
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM shifts WHERE id = $1 AND checked_in_at IS NULL`, id)
		if err != nil {
			return fmt.Errorf("delete shift: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return carecircle.Errorf(carecircle.ECONFLICT, "a shift that was checked in can't be deleted; it is part of the care record")
		}
		s.Status = carecircle.ShiftCancelled
		data := shiftEventData(sc, s)
		data["cancelled"] = true
		return tx.emit(ctx, carecircle.EventShiftUpdated, "/api/v1/shifts/"+id, sc.FamilyID, sc.RecipientID, data)
	})
}

// shiftForCaregiver loads a shift for its own caregiver's check-in or
// check-out; anyone else gets EFORBIDDEN.
func shiftForCaregiver(ctx context.Context, tx *Tx, id, action string) (Scope, carecircle.Shift, error) {
	a, err := actor(ctx)
	if err != nil {
		return Scope{}, carecircle.Shift{}, err
	}
	sc, err := shiftScope(ctx, tx, id)
	if err != nil {
		return sc, carecircle.Shift{}, err
	}
	s, err := shiftByID(ctx, tx, id, tx.nowT)
	if err != nil {
		return sc, s, err
	}
	if s.Caregiver.ID != a.UserID {
		return sc, s, carecircle.Errorf(carecircle.EFORBIDDEN, "only the shift's caregiver may %s", action)
	}
	return sc, s, sc.Role.Require(carecircle.RoleCaregiver)
}

// CheckIn starts a shift (its caregiver only). A shift is checked in once,
// before it is checked out.
func (db *DB) CheckIn(ctx context.Context, id string) (carecircle.Shift, error) {
	var s carecircle.Shift
	err := db.write(ctx, func(tx *Tx) error {
		sc, old, err := shiftForCaregiver(ctx, tx, id, "check in")
		if err != nil {
			return err
		}
		if old.CheckedOutAt != nil {
			return carecircle.Errorf(carecircle.ECONFLICT, "this shift was checked out at %s; it can't be checked in again",
				old.CheckedOutAt.Format(time.RFC3339))
		}
		if old.CheckedInAt != nil {
			return carecircle.Errorf(carecircle.ECONFLICT, "this shift was already checked in at %s", old.CheckedInAt.Format(time.RFC3339))
		}
		// The conditions make a concurrent second check-in (a double tap) a
		// no-op that the row lock orders after the first.
		res, err := tx.ExecContext(ctx, `UPDATE shifts SET checked_in_at = $1, updated_at = $1
			WHERE id = $2 AND checked_in_at IS NULL AND checked_out_at IS NULL`, tx.now, id)
		if err != nil {
			return fmt.Errorf("check in: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return carecircle.Errorf(carecircle.ECONFLICT, "this shift was already checked in")
		}
		if s, err = shiftByID(ctx, tx, id, tx.nowT); err != nil {
			return err
		}
		data := shiftEventData(sc, s)
		data["checkedInAt"] = s.CheckedInAt
		data["lateMinutes"] = max(0, int(s.CheckedInAt.Sub(s.StartTime)/time.Minute))
		return tx.emit(ctx, carecircle.EventShiftCheckedIn, "/api/v1/shifts/"+id, sc.FamilyID, sc.RecipientID, data)
	})
	return s, err
}

// CheckOut ends a checked-in shift (its caregiver only) and stores the
// handoff notes the next shift sees. The event names the next shift's
// caregiver so they can be told.
func (db *DB) CheckOut(ctx context.Context, id, handoffNotes string) (carecircle.Shift, error) {
	handoffNotes = strings.TrimSpace(handoffNotes)
	if err := carecircle.ValidateHandoffNotes(handoffNotes); err != nil {
		return carecircle.Shift{}, err
	}
	var s carecircle.Shift
	err := db.write(ctx, func(tx *Tx) error {
		sc, old, err := shiftForCaregiver(ctx, tx, id, "check out")
		if err != nil {
			return err
		}
		if old.CheckedOutAt != nil {
			return carecircle.Errorf(carecircle.ECONFLICT, "this shift was already checked out at %s", old.CheckedOutAt.Format(time.RFC3339))
		}
		if old.CheckedInAt == nil {
			return carecircle.Errorf(carecircle.ECONFLICT, "this shift was not checked in; check in before checking out")
		}
		res, err := tx.ExecContext(ctx, `UPDATE shifts SET checked_out_at = $1, handoff_notes = $2, updated_at = $1
			WHERE id = $3 AND checked_in_at IS NOT NULL AND checked_out_at IS NULL`, tx.now, handoffNotes, id)
		if err != nil {
			return fmt.Errorf("check out: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return carecircle.Errorf(carecircle.ECONFLICT, "this shift was already checked out")
		}
		if s, err = shiftByID(ctx, tx, id, tx.nowT); err != nil {
			return err
		}
		data := shiftEventData(sc, s)
		data["checkedOutAt"], data["handoffNotes"] = s.CheckedOutAt, s.HandoffNotes
		data["nextShiftId"], data["nextCaregiverId"], data["nextCaregiverName"], data["nextShiftStart"] = nil, nil, nil, nil
		var nextID, nextCaregiver, nextName string
		var nextStart int64
		err = tx.QueryRowContext(ctx, `SELECT s.id, s.caregiver_id, u.full_name, s.start_at FROM shifts s
			JOIN users u ON u.id = s.caregiver_id
			WHERE s.care_recipient_id = $1 AND s.id <> $2 AND s.checked_out_at IS NULL AND s.start_at > $3 AND s.end_at > $4
			ORDER BY s.start_at, s.id LIMIT 1`, sc.RecipientID, id, ms(s.StartTime), tx.now).
			Scan(&nextID, &nextCaregiver, &nextName, &nextStart)
		switch {
		case err == nil:
			data["nextShiftId"], data["nextCaregiverId"], data["nextCaregiverName"], data["nextShiftStart"] =
				nextID, nextCaregiver, nextName, fromMS(nextStart)
		case !errors.Is(err, sql.ErrNoRows):
			return fmt.Errorf("find next shift: %w", err)
		}
		return tx.emit(ctx, carecircle.EventShiftCheckedOut, "/api/v1/shifts/"+id, sc.FamilyID, sc.RecipientID, data)
	})
	return s, err
}
