// Package storage is CareCircle's data layer: portable SQL over database/sql
// for both SQLite (embedded) and PostgreSQL (scale-out). Every family-scoped
// query joins the caller's membership in SQL (see access.go), and every state
// change records its domain event in the same transaction (see outbox.go).
package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // PostgreSQL driver "pgx"
	_ "modernc.org/sqlite"             // SQLite driver "sqlite"

	"github.com/carecircle/carecircle"
)

// Dialect names the SQL engine behind a DB.
type Dialect string

// Supported dialects.
const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// DB is the database. SQLite gets one writer connection (SQLite allows one
// writer at a time; queuing in Go is cheaper than SQLITE_BUSY retries) and a
// pool of readers; PostgreSQL uses one pool for both.
type DB struct {
	Dialect Dialect
	w       *sql.DB
	r       *sql.DB
	Clock   carecircle.Clock
	Logger  *slog.Logger

	// OnCommit is called after a write transaction that recorded events
	// commits, so the outbox relay can publish them without waiting for its
	// next poll. It must not block.
	OnCommit func(events []carecircle.Event)

	commits *groupCommitter // SQLite: batches write transactions (groupcommit.go)
}

// Open connects to url: a postgres:// URL, or a SQLite file path (optionally
// prefixed sqlite: or file:). SQLite files are created with their directory.
func Open(ctx context.Context, url string) (*DB, error) {
	db := &DB{Clock: carecircle.SystemClock{}, Logger: slog.Default()}
	switch {
	case strings.HasPrefix(url, "postgres://") || strings.HasPrefix(url, "postgresql://"):
		p, err := sql.Open("pgx", url)
		if err != nil {
			return nil, fmt.Errorf("open postgres: %w", err)
		}
		p.SetMaxOpenConns(32)
		p.SetMaxIdleConns(32)
		p.SetConnMaxIdleTime(5 * time.Minute)
		db.Dialect, db.w, db.r = Postgres, p, p
	default:
		path := strings.TrimPrefix(strings.TrimPrefix(url, "sqlite:"), "file:")
		if i := strings.IndexByte(path, '?'); i >= 0 {
			path = path[:i]
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return nil, fmt.Errorf("create database directory: %w", err)
		}
		// synchronous(FULL): a commit is on disk before we answer, so an
		// acknowledged dose log survives a power cut, not only a crash.
		// The page cache is per connection: the writer's is 16 MB, each of
		// the eight readers' 4 MB (they hit the same hot pages, and the OS
		// caches the file for all of them; 16 MB each cost 40 MB of RSS with
		// 10,000 sockets signed in).
		const pragmas = "_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_pragma=foreign_keys(1)" +
			"&_pragma=busy_timeout(10000)&_pragma=temp_store(MEMORY)"
		w, err := openSQLite("file:" + path + "?" + pragmas + "&_pragma=cache_size(-16000)&_txlock=immediate")
		if err != nil {
			return nil, fmt.Errorf("open sqlite: %w", err)
		}
		w.SetMaxOpenConns(1)
		w.SetMaxIdleConns(1)
		w.SetConnMaxLifetime(0)
		r, err := openSQLite("file:" + path + "?" + pragmas + "&_pragma=cache_size(-4000)&_pragma=query_only(1)")
		if err != nil {
			w.Close()
			return nil, fmt.Errorf("open sqlite: %w", err)
		}
		r.SetMaxOpenConns(8)
		r.SetMaxIdleConns(8)
		r.SetConnMaxLifetime(0)
		db.Dialect, db.w, db.r = SQLite, w, r
		db.commits = newGroupCommitter(db)
	}
	if err := db.w.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("connect to database: %w", err)
	}
	return db, nil
}

// Close closes the connection pools.
func (db *DB) Close() error {
	if db.commits != nil {
		db.commits.shutdown()
	}
	err := db.w.Close()
	if db.r != db.w {
		err = errors.Join(err, db.r.Close())
	}
	return err
}

// Ping checks the database answers; /readyz uses it.
func (db *DB) Ping(ctx context.Context) error {
	var one int
	return db.r.QueryRowContext(ctx, "SELECT 1").Scan(&one)
}

// now returns the store's current time in epoch milliseconds and as a time.
func (db *DB) now() (int64, time.Time) {
	t := db.Clock.Now().UTC().Truncate(time.Millisecond)
	return t.UnixMilli(), t
}

// querier is what both *sql.DB and *sql.Tx offer.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// Tx is a write transaction that also collects the events it records.
type Tx struct {
	*sql.Tx
	db     *DB
	events []carecircle.Event
	now    int64
	nowT   time.Time
}

// Now is the transaction's clock reading, the same for every row it writes.
func (tx *Tx) Now() time.Time { return tx.nowT }

// write runs fn in a write transaction and commits it when fn returns nil.
// Events recorded by fn are committed atomically with the change and then
// handed to OnCommit. On SQLite the transaction may be shared with other
// requests (group commit, see groupcommit.go): fn's changes still commit or
// roll back as a unit, and write returns only once they are durable.
func (db *DB) write(ctx context.Context, fn func(tx *Tx) error) error {
	if db.commits != nil {
		return db.commits.write(ctx, fn, false)
	}
	sqlTx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	tx := &Tx{Tx: sqlTx, db: db}
	tx.now, tx.nowT = db.now()
	if err := fn(tx); err != nil {
		_ = sqlTx.Rollback()
		return err
	}
	if err := sqlTx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	if len(tx.events) > 0 && db.OnCommit != nil {
		db.OnCommit(tx.events)
	}
	return nil
}

// writeBackground is write for work no request is waiting on (event
// consumers): on SQLite it may wait a few milliseconds to share a request's
// commit instead of paying for its own (see groupcommit.go).
func (db *DB) writeBackground(ctx context.Context, fn func(tx *Tx) error) error {
	if db.commits != nil {
		return db.commits.write(ctx, fn, true)
	}
	return db.write(ctx, fn)
}

// isUniqueViolation reports whether err is a unique-constraint failure in
// either dialect.
func isUniqueViolation(err error) bool {
	if err == nil {
		return false
	}
	msg := err.Error()
	return strings.Contains(msg, "UNIQUE constraint failed") || // SQLite
		strings.Contains(msg, "SQLSTATE 23505") // PostgreSQL (pgconn)
}

// ms converts a time to epoch milliseconds for storage.
func ms(t time.Time) int64 { return t.UTC().UnixMilli() }

// msPtr converts an optional time.
func msPtr(t *time.Time) any {
	if t == nil || t.IsZero() {
		return nil
	}
	return t.UTC().UnixMilli()
}

// fromMS converts stored epoch milliseconds back to UTC time.
func fromMS(v int64) time.Time { return time.UnixMilli(v).UTC() }

// fromNullMS converts a nullable column.
func fromNullMS(v sql.NullInt64) *time.Time {
	if !v.Valid {
		return nil
	}
	t := fromMS(v.Int64)
	return &t
}

// notFound is the one answer for missing rows and rows in other families.
func notFound(what string) error {
	return carecircle.Errorf(carecircle.ENOTFOUND, "%s not found", what)
}
