package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/carecircle/carecircle"
)

// Record stores e in the outbox as part of tx, so the event exists if and
// only if the change it describes commits.
func (tx *Tx) Record(e carecircle.Event) error {
	_, err := tx.ExecContext(context.Background(), `INSERT INTO events
		(id, type, source, family_id, care_recipient_id, actor_id, session_id, occurred_at, data)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		e.ID, e.Type, e.Source, e.FamilyID, e.CareRecipientID, e.ActorID, e.SessionID, ms(e.Time), string(e.Data))
	if err != nil {
		return fmt.Errorf("record event %s: %w", e.Type, err)
	}
	tx.events = append(tx.events, e)
	return nil
}

// emit builds an event caused by the actor in ctx and records it. An event
// about the family as a whole carries "careRecipientId": null, so every
// event's data has both routing keys (DESIGN §4).
func (tx *Tx) emit(ctx context.Context, typ, source, familyID, recipientID string, data map[string]any) error {
	if _, ok := data["careRecipientId"]; !ok && recipientID == "" {
		if data == nil {
			data = map[string]any{}
		}
		data["careRecipientId"] = nil
	}
	return tx.Record(carecircle.NewEvent(typ, source, tx.nowT, carecircle.EventBase(ctx, familyID, recipientID), data))
}

// OutboxEntry is an event waiting in the outbox with its sequence number.
type OutboxEntry struct {
	Seq   int64
	Event carecircle.Event
}

// Unrelayed returns up to limit events not yet published, oldest first.
// olderThan, when positive, skips events younger than that so the relay's
// sweep leaves fresh events to the instance that wrote them.
func (db *DB) Unrelayed(ctx context.Context, limit int, olderThan time.Duration) ([]OutboxEntry, error) {
	cutoff := ms(db.Clock.Now().Add(-olderThan))
	return db.scanOutbox(ctx, `SELECT seq, id, type, source, family_id, care_recipient_id,
		actor_id, session_id, occurred_at, data FROM events
		WHERE relayed_at IS NULL AND occurred_at <= $1 ORDER BY seq LIMIT $2`, cutoff, limit)
}

// EventsAfter returns up to limit events with seq greater than after, in
// order. In embedded mode the outbox is the event log consumers read: SQLite
// commits one writer at a time, so seq order is commit order and a reader
// never skips an event that commits later.
func (db *DB) EventsAfter(ctx context.Context, after int64, limit int) ([]OutboxEntry, error) {
	return db.scanOutbox(ctx, `SELECT seq, id, type, source, family_id, care_recipient_id,
		actor_id, session_id, occurred_at, data FROM events WHERE seq > $1 ORDER BY seq LIMIT $2`, after, limit)
}

func (db *DB) scanOutbox(ctx context.Context, query string, args ...any) ([]OutboxEntry, error) {
	rows, err := db.r.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("read outbox: %w", err)
	}
	defer rows.Close()
	var out []OutboxEntry
	for rows.Next() {
		var e carecircle.Event
		var seq, at int64
		var data string
		if err := rows.Scan(&seq, &e.ID, &e.Type, &e.Source, &e.FamilyID, &e.CareRecipientID,
			&e.ActorID, &e.SessionID, &at, &data); err != nil {
			return nil, fmt.Errorf("read outbox: %w", err)
		}
		e.SpecVersion, e.DataContentType = "1.0", "application/json"
		e.Time, e.Data = fromMS(at), []byte(data)
		out = append(out, OutboxEntry{Seq: seq, Event: e})
	}
	return out, rows.Err()
}

// LastEventSeq returns the newest event's sequence number (0 when empty).
func (db *DB) LastEventSeq(ctx context.Context) (int64, error) {
	var seq sql.NullInt64
	err := db.r.QueryRowContext(ctx, `SELECT MAX(seq) FROM events`).Scan(&seq)
	return seq.Int64, err
}

// ConsumerOffset returns how far a durable consumer has read the log.
func (db *DB) ConsumerOffset(ctx context.Context, consumer string) (seq int64, found bool, err error) {
	err = db.r.QueryRowContext(ctx, `SELECT seq FROM consumer_offsets WHERE consumer = $1`, consumer).Scan(&seq)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, false, nil
	}
	return seq, err == nil, err
}

// SetConsumerOffset records that a consumer handled every event up to seq.
func (db *DB) SetConsumerOffset(ctx context.Context, consumer string, seq int64) error {
	// A background write: on SQLite it shares a group commit with requests'.
	err := db.writeBackground(ctx, func(tx *Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO consumer_offsets (consumer, seq, updated_at) VALUES ($1, $2, $3)
			ON CONFLICT (consumer) DO UPDATE SET seq = excluded.seq, updated_at = excluded.updated_at`, consumer, seq, tx.now)
		return err
	})
	if err != nil {
		return fmt.Errorf("consumer offset: %w", err)
	}
	return nil
}

// PruneConsumed deletes events older than the cutoff that every durable
// consumer has read (embedded mode).
func (db *DB) PruneConsumed(ctx context.Context, before time.Time) (int64, error) {
	res, err := db.w.ExecContext(ctx, `DELETE FROM events WHERE occurred_at < $1
		AND seq <= (SELECT COALESCE(MIN(seq), 0) FROM consumer_offsets)`, ms(before))
	if err != nil {
		return 0, fmt.Errorf("prune outbox: %w", err)
	}
	return res.RowsAffected()
}

// MarkRelayed records that the events with these ids reached the bus.
func (db *DB) MarkRelayed(ctx context.Context, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	now, _ := db.now()
	args := make([]any, 0, len(ids)+1)
	args = append(args, now)
	ph := make([]string, len(ids))
	for i, id := range ids {
		args = append(args, id)
		ph[i] = fmt.Sprintf("$%d", i+2)
	}
	_, err := db.w.ExecContext(ctx, `UPDATE events SET relayed_at = $1
		WHERE relayed_at IS NULL AND id IN (`+strings.Join(ph, ",")+`)`, args...)
	if err != nil {
		return fmt.Errorf("mark relayed: %w", err)
	}
	return nil
}

// PruneRelayed deletes events relayed before the cutoff and returns how many.
func (db *DB) PruneRelayed(ctx context.Context, before time.Time) (int64, error) {
	res, err := db.w.ExecContext(ctx, `DELETE FROM events WHERE relayed_at IS NOT NULL AND relayed_at < $1`, ms(before))
	if err != nil {
		return 0, fmt.Errorf("prune outbox: %w", err)
	}
	return res.RowsAffected()
}

// EventsFor returns recorded events of a family in order (tests and the
// audit backfill use it).
func (db *DB) EventsFor(ctx context.Context, familyID string) ([]carecircle.Event, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT id, type, source, family_id, care_recipient_id,
		actor_id, session_id, occurred_at, data FROM events WHERE family_id = $1 ORDER BY seq`, familyID)
	if err != nil {
		return nil, fmt.Errorf("read events: %w", err)
	}
	defer rows.Close()
	var out []carecircle.Event
	for rows.Next() {
		var e carecircle.Event
		var at int64
		var data string
		if err := rows.Scan(&e.ID, &e.Type, &e.Source, &e.FamilyID, &e.CareRecipientID,
			&e.ActorID, &e.SessionID, &at, &data); err != nil {
			return nil, err
		}
		e.SpecVersion, e.DataContentType = "1.0", "application/json"
		e.Time, e.Data = fromMS(at), []byte(data)
		out = append(out, e)
	}
	return out, rows.Err()
}
