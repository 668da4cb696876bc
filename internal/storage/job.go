package storage

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/carecircle/carecircle"
)

// This file is the job table behind internal/jobs: reminders, planners and
// notification deliveries. Scheduling is idempotent by unique key; claiming
// is atomic, so two workers never run the same job at once; a worker that
// dies leaves a lease that expires and the job runs again.

// Job states.
const (
	JobAvailable = "available"
	JobRunning   = "running"
	JobDone      = "done"
	JobDead      = "dead"
)

// DefaultJobAttempts is how often a job is tried when its spec says nothing.
const DefaultJobAttempts = 10

// JobSpec is a job to schedule.
type JobSpec struct {
	Kind string
	// Key identifies the job: scheduling a key that exists (in any state)
	// does nothing, which is what makes a reminder fire once however many
	// workers plan it.
	Key         string
	RunAt       time.Time
	Payload     any // encoded as JSON; nil means {}
	MaxAttempts int // DefaultJobAttempts when 0
}

// Job is a job a worker has claimed.
type Job struct {
	ID          string
	Kind        string
	Key         string
	RunAt       time.Time
	Payload     json.RawMessage
	Attempt     int // 1 on the first run
	MaxAttempts int
	Lock        JobLock
	// Finished is set by a handler that finished or rescheduled the job in
	// its own committed transaction, so the runner has nothing to record.
	Finished bool
}

// JobLock names a claimed job and its worker, so a handler can finish the
// job inside its own transaction: the change and the job's completion then
// commit together, and a job whose lease another worker took over can't
// commit its effect twice.
type JobLock struct {
	ID     string
	Worker string
}

// ErrJobLost means the worker no longer holds the job: its lease expired
// and another worker took it, or it was finished already.
var ErrJobLost = errors.New("job lease lost")

// JobInfo is a job's stored state, for diagnostics and tests.
type JobInfo struct {
	ID          string
	Kind        string
	Key         string
	State       string
	RunAt       time.Time
	Payload     json.RawMessage
	Attempts    int
	MaxAttempts int
	LastError   string
}

// Write runs fn in a write transaction; the job runner's handlers use it to
// combine their effect with FinishJob. Everything fn does must go through tx.
func (db *DB) Write(ctx context.Context, fn func(tx *Tx) error) error { return db.write(ctx, fn) }

// EnqueueJobs schedules jobs, skipping keys that exist, and returns how
// many were new.
func (db *DB) EnqueueJobs(ctx context.Context, specs ...JobSpec) (int, error) {
	var n int
	err := db.write(ctx, func(tx *Tx) error {
		var err error
		n, err = tx.EnqueueJobs(ctx, specs...)
		return err
	})
	return n, err
}

// jobInsertBatch bounds the rows of one INSERT on PostgreSQL, where a
// round trip per row would dominate.
const jobInsertBatch = 64

// EnqueueJobs schedules jobs as part of tx (see DB.EnqueueJobs). SQLite
// gets one single-row statement per job: its text never changes, so the
// connection's statement cache parses it once, where multi-row statements
// of every length would each be parsed (and SQLite resolves numbered
// parameters by a linear search). PostgreSQL gets multi-row statements.
func (tx *Tx) EnqueueJobs(ctx context.Context, specs ...JobSpec) (int, error) {
	rows := make([][]any, 0, len(specs))
	for _, s := range specs {
		if s.Kind == "" || s.Key == "" {
			return 0, fmt.Errorf("enqueue job: kind and key are required (%q, %q)", s.Kind, s.Key)
		}
		payload := []byte("{}")
		if s.Payload != nil {
			var err error
			if payload, err = json.Marshal(s.Payload); err != nil {
				return 0, fmt.Errorf("enqueue job %s: encode payload: %w", s.Key, err)
			}
		}
		attempts := s.MaxAttempts
		if attempts <= 0 {
			attempts = DefaultJobAttempts
		}
		rows = append(rows, []any{carecircle.NewID(carecircle.PrefixJob), s.Kind, s.Key, ms(s.RunAt), string(payload), attempts})
	}
	const head = `INSERT INTO jobs (id, kind, unique_key, run_at, payload, state, max_attempts, created_at, updated_at) VALUES `
	const tail = ` ON CONFLICT (unique_key) DO NOTHING`
	perStatement := jobInsertBatch
	if tx.db.Dialect == SQLite {
		perStatement = 1
	}
	total := 0
	for len(rows) > 0 {
		batch := rows[:min(len(rows), perStatement)]
		rows = rows[len(batch):]
		var sb strings.Builder
		sb.WriteString(head)
		args := make([]any, 0, len(batch)*6+1)
		args = append(args, tx.now)
		for i, r := range batch {
			if i > 0 {
				sb.WriteByte(',')
			}
			p := len(args)
			fmt.Fprintf(&sb, "($%d, $%d, $%d, $%d, $%d, 'available', $%d, $1, $1)", p+1, p+2, p+3, p+4, p+5, p+6)
			args = append(args, r...)
		}
		sb.WriteString(tail)
		res, err := tx.ExecContext(ctx, sb.String(), args...)
		if err != nil {
			return total, fmt.Errorf("enqueue jobs: %w", err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return total, fmt.Errorf("enqueue jobs: %w", err)
		}
		total += int(n)
	}
	return total, nil
}

// ClaimJobs takes up to limit jobs that are due, oldest first, for worker
// and leases them until now+lease. On PostgreSQL, SKIP LOCKED lets several
// workers claim side by side, and the outer state check (re-evaluated on the
// locked row) guarantees no job is claimed twice; SQLite runs one writer at
// a time.
func (db *DB) ClaimJobs(ctx context.Context, worker string, limit int, lease time.Duration) ([]Job, error) {
	skipLocked := ""
	if db.Dialect == Postgres {
		skipLocked = " FOR UPDATE SKIP LOCKED"
	}
	var out []Job
	err := db.write(ctx, func(tx *Tx) error {
		out = out[:0]
		rows, err := tx.QueryContext(ctx, `UPDATE jobs SET state = 'running', locked_by = $1, locked_until = $2,
			attempts = attempts + 1, updated_at = $3
			WHERE id IN (SELECT id FROM jobs WHERE state = 'available' AND run_at <= $3 ORDER BY run_at LIMIT $4`+skipLocked+`)
			AND state = 'available'
			RETURNING id, kind, unique_key, run_at, payload, attempts, max_attempts`,
			worker, tx.now+lease.Milliseconds(), tx.now, limit)
		if err != nil {
			return fmt.Errorf("claim jobs: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			j := Job{Lock: JobLock{Worker: worker}}
			var runAt int64
			var payload string
			if err := rows.Scan(&j.ID, &j.Kind, &j.Key, &runAt, &payload, &j.Attempt, &j.MaxAttempts); err != nil {
				return fmt.Errorf("claim jobs: %w", err)
			}
			j.RunAt, j.Payload, j.Lock.ID = fromMS(runAt), json.RawMessage(payload), j.ID
			out = append(out, j)
		}
		return rows.Err()
	})
	return out, err
}

// CompleteJobs marks jobs the worker ran as done. Jobs it no longer holds
// (finished already inside their handler's transaction, or taken over) are
// left alone.
func (db *DB) CompleteJobs(ctx context.Context, worker string, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	return db.write(ctx, func(tx *Tx) error {
		args := []any{tx.now, worker}
		ph := make([]string, len(ids))
		for i, id := range ids {
			args = append(args, id)
			ph[i] = fmt.Sprintf("$%d", i+3)
		}
		_, err := tx.ExecContext(ctx, `UPDATE jobs SET state = 'done', locked_by = NULL, locked_until = NULL, updated_at = $1
			WHERE state = 'running' AND locked_by = $2 AND id IN (`+strings.Join(ph, ",")+`)`, args...)
		if err != nil {
			return fmt.Errorf("complete jobs: %w", err)
		}
		return nil
	})
}

// FinishJob marks the claimed job done as part of tx, or returns ErrJobLost
// when the worker no longer holds it (the caller then rolls back).
func (tx *Tx) FinishJob(ctx context.Context, lock JobLock) error {
	res, err := tx.ExecContext(ctx, `UPDATE jobs SET state = 'done', locked_by = NULL, locked_until = NULL, updated_at = $1
		WHERE id = $2 AND state = 'running' AND locked_by = $3`, tx.now, lock.ID, lock.Worker)
	return heldJob(res, err, "finish job")
}

// RescheduleJob puts the claimed job back to run again at runAt with a new
// payload (the next phase of a multi-step job), as part of tx. Its attempts
// start over: the phase before succeeded.
func (tx *Tx) RescheduleJob(ctx context.Context, lock JobLock, runAt time.Time, payload any) error {
	b, err := json.Marshal(payload)
	if err != nil {
		return fmt.Errorf("reschedule job: encode payload: %w", err)
	}
	res, err := tx.ExecContext(ctx, `UPDATE jobs SET state = 'available', run_at = $1, payload = $2, attempts = 0,
		last_error = '', locked_by = NULL, locked_until = NULL, updated_at = $3
		WHERE id = $4 AND state = 'running' AND locked_by = $5`, ms(runAt), string(b), tx.now, lock.ID, lock.Worker)
	return heldJob(res, err, "reschedule job")
}

// RescheduleJob is Tx.RescheduleJob in a transaction of its own.
func (db *DB) RescheduleJob(ctx context.Context, lock JobLock, runAt time.Time, payload any) error {
	return db.write(ctx, func(tx *Tx) error { return tx.RescheduleJob(ctx, lock, runAt, payload) })
}

func heldJob(res sql.Result, err error, what string) error {
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if n == 0 {
		return ErrJobLost
	}
	return nil
}

// RetryJob records a failed run and makes the job available again at runAt.
func (db *DB) RetryJob(ctx context.Context, lock JobLock, runAt time.Time, reason string) error {
	return db.write(ctx, func(tx *Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE jobs SET state = 'available', run_at = $1, last_error = $2,
			locked_by = NULL, locked_until = NULL, updated_at = $3
			WHERE id = $4 AND state = 'running' AND locked_by = $5`, ms(runAt), truncate(reason, 1000), tx.now, lock.ID, lock.Worker)
		return heldJob(res, err, "retry job")
	})
}

// KillJob records a failed run after which the job is not tried again: the
// dead-letter state, visible in JobCounts and /metrics.
func (db *DB) KillJob(ctx context.Context, lock JobLock, reason string) error {
	return db.write(ctx, func(tx *Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE jobs SET state = 'dead', last_error = $1, locked_by = NULL,
			locked_until = NULL, updated_at = $2 WHERE id = $3 AND state = 'running' AND locked_by = $4`,
			truncate(reason, 1000), tx.now, lock.ID, lock.Worker)
		return heldJob(res, err, "kill job")
	})
}

// ExpiredJob is a job whose worker stopped before finishing it.
type ExpiredJob struct {
	ID, Kind, Key string
	Dead          bool // it had used its attempts: now dead
}

// RecoverExpiredJobs releases jobs whose lease ran out (their worker died or
// hung): available again, or dead when they have used all their attempts.
// A worker never takes back its own leases: it is alive and may still be
// running them.
func (db *DB) RecoverExpiredJobs(ctx context.Context, worker string) ([]ExpiredJob, error) {
	var out []ExpiredJob
	err := db.write(ctx, func(tx *Tx) error {
		out = out[:0]
		rows, err := tx.QueryContext(ctx, `UPDATE jobs SET
			state = CASE WHEN attempts >= max_attempts THEN 'dead' ELSE 'available' END,
			last_error = 'worker ' || COALESCE(locked_by, '') || ' stopped before finishing',
			locked_by = NULL, locked_until = NULL, updated_at = $1
			WHERE state = 'running' AND locked_until < $1 AND locked_by <> $2
			RETURNING id, kind, unique_key, state`, tx.now, worker)
		if err != nil {
			return fmt.Errorf("recover jobs: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var j ExpiredJob
			var state string
			if err := rows.Scan(&j.ID, &j.Kind, &j.Key, &state); err != nil {
				return fmt.Errorf("recover jobs: %w", err)
			}
			j.Dead = state == JobDead
			out = append(out, j)
		}
		return rows.Err()
	})
	return out, err
}

// PruneJobs deletes finished jobs that were due before the cutoff. The
// cutoff must lie before anything a planner may schedule again, or a key
// could be reused.
func (db *DB) PruneJobs(ctx context.Context, before time.Time) (int64, error) {
	var n int64
	err := db.write(ctx, func(tx *Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM jobs WHERE state IN ('done', 'dead') AND run_at < $1`, ms(before))
		if err != nil {
			return fmt.Errorf("prune jobs: %w", err)
		}
		n, err = res.RowsAffected()
		return err
	})
	return n, err
}

// JobCounts returns how many jobs are waiting (available), running and
// dead. Done jobs, by far the most, are not counted: each count reads only
// its state's partial index, so /metrics stays cheap on a big table.
func (db *DB) JobCounts(ctx context.Context) (map[string]int, error) {
	out := map[string]int{}
	for _, state := range []string{JobAvailable, JobRunning, JobDead} {
		var n int
		if err := db.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM jobs WHERE state = '`+state+`'`).Scan(&n); err != nil {
			return nil, fmt.Errorf("count jobs: %w", err)
		}
		out[state] = n
	}
	return out, nil
}

// JobByKey returns the job scheduled under key.
func (db *DB) JobByKey(ctx context.Context, key string) (JobInfo, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT id, kind, unique_key, state, run_at, payload, attempts, max_attempts, last_error
		FROM jobs WHERE unique_key = $1`, key)
	if err != nil {
		return JobInfo{}, fmt.Errorf("read job: %w", err)
	}
	jobs, err := scanJobInfos(rows)
	if err != nil {
		return JobInfo{}, err
	}
	if len(jobs) == 0 {
		return JobInfo{}, notFound("job")
	}
	return jobs[0], nil
}

func scanJobInfos(rows *sql.Rows) ([]JobInfo, error) {
	defer rows.Close()
	var out []JobInfo
	for rows.Next() {
		var j JobInfo
		var runAt int64
		var payload string
		if err := rows.Scan(&j.ID, &j.Kind, &j.Key, &j.State, &runAt, &payload, &j.Attempts, &j.MaxAttempts, &j.LastError); err != nil {
			return nil, fmt.Errorf("read jobs: %w", err)
		}
		j.RunAt, j.Payload = fromMS(runAt), json.RawMessage(payload)
		out = append(out, j)
	}
	return out, rows.Err()
}
