package storage

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/carecircle/carecircle"
)

// TimelineFilter narrows a timeline listing. Zero fields don't filter; From
// is inclusive and To exclusive.
type TimelineFilter struct {
	Type     carecircle.TimelineType
	From, To time.Time
	Page     Page
}

const timelineColumns = `t.id, t.care_recipient_id, t.type, t.content, t.severity, t.occurred_at, t.vitals,
	t.author_id, u.full_name, t.created_at, t.updated_at`

const timelineFrom = ` FROM timeline_entries t JOIN users u ON u.id = t.author_id`

func scanTimelineEntry(row rowScanner) (carecircle.TimelineEntry, error) {
	var e carecircle.TimelineEntry
	var severity, vitals sql.NullString
	var occurred, created, updated int64
	err := row.Scan(&e.ID, &e.CareRecipientID, &e.Type, &e.Content, &severity, &occurred, &vitals,
		&e.Author.ID, &e.Author.FullName, &created, &updated)
	if err != nil {
		return e, err
	}
	e.OccurredAt, e.CreatedAt, e.UpdatedAt = fromMS(occurred), fromMS(created), fromMS(updated)
	if severity.Valid && severity.String != "" {
		s := carecircle.Severity(severity.String)
		e.Severity = &s
	}
	if vitals.Valid && vitals.String != "" {
		e.Vitals = new(carecircle.Vitals)
		if err := json.Unmarshal([]byte(vitals.String), e.Vitals); err != nil {
			return e, fmt.Errorf("decode timeline entry %s vitals: %w", e.ID, err)
		}
	}
	return e, nil
}

// timelineStored returns the stored forms of the nullable columns.
func timelineStored(e *carecircle.TimelineEntry) (severity, vitals any) {
	if e.Severity != nil {
		severity = string(*e.Severity)
	}
	if e.Vitals != nil {
		b, _ := json.Marshal(e.Vitals)
		vitals = string(b)
	}
	return severity, vitals
}

// timelineEventData is what a notification about an entry needs.
func timelineEventData(s Scope, e carecircle.TimelineEntry) map[string]any {
	var severity any
	if e.Severity != nil {
		severity = *e.Severity
	}
	return map[string]any{
		"entryId": e.ID, "type": e.Type, "severity": severity, "content": e.Content,
		"occurredAt": e.OccurredAt, "vitals": e.Vitals, "authorId": e.Author.ID, "authorName": e.Author.FullName,
		"careRecipientName": s.Name, "timezone": s.Timezone,
	}
}

// CreateTimelineEntry adds an entry to a care recipient's timeline (ADMIN,
// CAREGIVER). A zero OccurredAt means now.
func (db *DB) CreateTimelineEntry(ctx context.Context, recipientID string, e carecircle.TimelineEntry) (carecircle.TimelineEntry, error) {
	err := db.write(ctx, func(tx *Tx) error {
		var err error
		e, err = createTimelineEntry(ctx, tx, recipientID, e)
		return err
	})
	return e, err
}

func createTimelineEntry(ctx context.Context, tx *Tx, recipientID string, e carecircle.TimelineEntry) (carecircle.TimelineEntry, error) {
	a, err := actor(ctx)
	if err != nil {
		return e, err
	}
	s, err := recipientScope(ctx, tx, recipientID)
	if err != nil {
		return e, err
	}
	if err := s.Role.Require(carecircle.RoleCaregiver); err != nil {
		return e, err
	}
	if e.OccurredAt.IsZero() {
		e.OccurredAt = tx.nowT
	}
	e.OccurredAt = e.OccurredAt.UTC().Truncate(time.Millisecond)
	if err := e.Validate(tx.nowT); err != nil {
		return e, err
	}
	e.ID, e.CareRecipientID = carecircle.NewID(carecircle.PrefixTimeline), recipientID
	e.Author = carecircle.MemberRef{ID: a.UserID, FullName: a.Name}
	e.CreatedAt, e.UpdatedAt = tx.nowT, tx.nowT
	severity, vitals := timelineStored(&e)
	if _, err := tx.ExecContext(ctx, `INSERT INTO timeline_entries (id, family_id, care_recipient_id, type, content,
		severity, occurred_at, vitals, author_id, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10)`,
		e.ID, s.FamilyID, recipientID, e.Type, e.Content, severity, ms(e.OccurredAt), vitals, a.UserID, tx.now); err != nil {
		return e, fmt.Errorf("create timeline entry: %w", err)
	}
	return e, tx.emit(ctx, carecircle.EventTimelineCreated, "/api/v1/timeline/"+e.ID, s.FamilyID, recipientID,
		timelineEventData(s, e))
}

// TimelineEntries lists a care recipient's timeline, newest occurrence
// first, one page at a time. It returns the cursor of the next page, or "".
func (db *DB) TimelineEntries(ctx context.Context, recipientID string, f TimelineFilter) ([]carecircle.TimelineEntry, string, error) {
	if _, err := recipientScope(ctx, db.r, recipientID); err != nil {
		return nil, "", err
	}
	if f.Type != "" && !f.Type.Valid() {
		return nil, "", carecircle.Invalid("type must be one of NOTE, VITALS, SYMPTOM, INCIDENT, MOOD, MEAL, ACTIVITY, SLEEP, MEDICATION_CHANGE, APPOINTMENT_SUMMARY")
	}
	from, to := int64(math.MinInt64), int64(math.MaxInt64)
	if !f.From.IsZero() {
		from = ms(f.From)
	}
	if !f.To.IsZero() {
		to = ms(f.To)
	}
	afterKey, afterID := int64(math.MaxInt64), ""
	if f.Page.Cursor != "" {
		var err error
		if afterKey, afterID, err = DecodeCursor(f.Page.Cursor); err != nil {
			return nil, "", err
		}
	}
	limit := f.Page.size()
	rows, err := db.r.QueryContext(ctx, `SELECT `+timelineColumns+timelineFrom+`
		WHERE t.care_recipient_id = $1 AND ($2 = '' OR t.type = $2)
		AND t.occurred_at >= $3 AND t.occurred_at < $4
		AND (t.occurred_at < $5 OR (t.occurred_at = $5 AND t.id < $6))
		ORDER BY t.occurred_at DESC, t.id DESC LIMIT $7`,
		recipientID, string(f.Type), from, to, afterKey, afterID, limit+1)
	if err != nil {
		return nil, "", fmt.Errorf("list timeline: %w", err)
	}
	out, err := collect(rows, scanTimelineEntry)
	if err != nil {
		return nil, "", fmt.Errorf("list timeline: %w", err)
	}
	out, next := cutPage(out, limit, func(e *carecircle.TimelineEntry) (time.Time, string) { return e.OccurredAt, e.ID })
	return out, next, nil
}

// TimelineEntry returns one entry of the caller's families.
func (db *DB) TimelineEntry(ctx context.Context, id string) (carecircle.TimelineEntry, error) {
	if _, err := timelineScope(ctx, db.r, id); err != nil {
		return carecircle.TimelineEntry{}, err
	}
	return timelineEntry(ctx, db.r, id)
}

func timelineScope(ctx context.Context, q querier, id string) (Scope, error) {
	if !carecircle.HasPrefix(id, carecircle.PrefixTimeline) {
		return Scope{}, notFound("timeline entry")
	}
	return childScope(ctx, q, "timeline_entries", id, "timeline entry")
}

// timelineEntry reads an entry by id; the caller has scoped it already.
func timelineEntry(ctx context.Context, q querier, id string) (carecircle.TimelineEntry, error) {
	e, err := scanTimelineEntry(q.QueryRowContext(ctx, `SELECT `+timelineColumns+timelineFrom+` WHERE t.id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return e, notFound("timeline entry")
	}
	if err != nil {
		return e, fmt.Errorf("read timeline entry: %w", err)
	}
	return e, nil
}

// UpdateTimelineEntry loads an entry, lets apply change it, validates and
// saves it (its author or an ADMIN).
func (db *DB) UpdateTimelineEntry(ctx context.Context, id string, apply func(*carecircle.TimelineEntry) error) (carecircle.TimelineEntry, error) {
	var e carecircle.TimelineEntry
	err := db.write(ctx, func(tx *Tx) error {
		s, err := timelineScope(ctx, tx, id)
		if err != nil {
			return err
		}
		if e, err = timelineEntry(ctx, tx, id); err != nil {
			return err
		}
		if err := s.requireMakerOrAdmin(ctx, e.Author.ID, "entry's author"); err != nil {
			return err
		}
		if err := apply(&e); err != nil {
			return err
		}
		e.OccurredAt = e.OccurredAt.UTC().Truncate(time.Millisecond)
		if err := e.Validate(tx.nowT); err != nil {
			return err
		}
		e.UpdatedAt = tx.nowT
		severity, vitals := timelineStored(&e)
		if _, err := tx.ExecContext(ctx, `UPDATE timeline_entries SET type = $1, content = $2, severity = $3,
			occurred_at = $4, vitals = $5, updated_at = $6 WHERE id = $7`,
			e.Type, e.Content, severity, ms(e.OccurredAt), vitals, tx.now, id); err != nil {
			return fmt.Errorf("update timeline entry: %w", err)
		}
		data := timelineEventData(s, e)
		a, _ := actor(ctx)
		data["editedById"], data["editedByName"] = a.UserID, a.Name
		return tx.emit(ctx, carecircle.EventTimelineUpdated, "/api/v1/timeline/"+id, s.FamilyID, s.RecipientID, data)
	})
	return e, err
}

// DeleteTimelineEntry removes an entry (its author or an ADMIN).
func (db *DB) DeleteTimelineEntry(ctx context.Context, id string) error {
	return db.write(ctx, func(tx *Tx) error {
		s, err := timelineScope(ctx, tx, id)
		if err != nil {
			return err
		}
		e, err := timelineEntry(ctx, tx, id)
		if err != nil {
			return err
		}
		if err := s.requireMakerOrAdmin(ctx, e.Author.ID, "entry's author"); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM timeline_entries WHERE id = $1`, id); err != nil {
			return fmt.Errorf("delete timeline entry: %w", err)
		}
		data := timelineEventData(s, e)
		a, _ := actor(ctx)
		data["deletedById"], data["deletedByName"] = a.UserID, a.Name
		return tx.emit(ctx, carecircle.EventTimelineDeleted, "/api/v1/timeline/"+id, s.FamilyID, s.RecipientID, data)
	})
}
