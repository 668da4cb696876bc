// Package jobs runs CareCircle's background jobs from the jobs table
// (storage/job.go): reminders, planners and notification deliveries. Every
// process runs a Runner; they share the table, so any number of workers on
// PostgreSQL split the work, and a job runs on one of them at a time.
//
// A job is scheduled with a unique key (scheduling it again does nothing),
// claimed atomically with a lease, retried with exponential backoff when
// its handler fails, and moved to the dead state — logged, counted in
// /metrics and handed to the kind's OnDead — after its last attempt. A
// worker that dies mid-job leaves a lease that expires; the job then runs
// again elsewhere, so handlers must be idempotent, or finish the job inside
// their own transaction (storage.Tx.FinishJob) to make their effect and the
// completion one commit.
//
// Time comes from a carecircle.Clock: tests drive a ManualClock and call
// RunDue instead of sleeping.
package jobs

import (
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"runtime/debug"
	"sync"
	"time"

	"github.com/carecircle/carecircle"
	"github.com/carecircle/carecircle/internal/storage"
)

// Handler runs one job. nil means done (a handler that finished or
// rescheduled the job in its own transaction returns nil too, having set
// j.Finished so the runner doesn't record it again). Any other
// error is retried with backoff, except Permanent errors, which kill the job
// at once; Again reschedules it.
type Handler func(ctx context.Context, j *storage.Job) error

// Kind is a kind of job and how to run it.
type Kind struct {
	Name    string
	Handler Handler
	// Backoff is the wait before attempt n+1 after attempt n failed;
	// default: 5 s doubling per attempt up to 15 min, with jitter.
	Backoff func(attempt int) time.Duration
	// Timeout bounds one run (default 1 min).
	Timeout time.Duration
	// OnDead is called after the job's last attempt failed (err is nil when
	// its worker died during the last attempt). It lets the owner record
	// the failure where users see it.
	OnDead func(ctx context.Context, j *storage.Job, err error)
}

// Options tune a Runner. Zero values take the defaults noted.
type Options struct {
	// Workers is how many jobs run at once in this process (64): jobs
	// mostly wait, on the database or a push service.
	Workers int
	// BatchSize is how many jobs one claim takes at most (64).
	BatchSize int
	// PollInterval is how often the runner looks for due jobs when nothing
	// woke it (1 s): the bound on a reminder's lateness from polling.
	PollInterval time.Duration
	// Lease is how long a claimed job stays with its worker before another
	// may take it over (5 min, in clock time).
	Lease time.Duration
	// RecoverInterval is how often expired leases are released (15 s).
	RecoverInterval time.Duration
	// Retention is how long finished jobs are kept after their run time
	// (7 days). Planners never schedule that far back, so keys stay unique.
	Retention time.Duration
	// WorkerID names this worker in leases (hostname, pid and random).
	WorkerID string
	Logger   *slog.Logger
	Metrics  *Metrics
}

func (o *Options) setDefaults() {
	if o.Workers <= 0 {
		o.Workers = 64
	}
	if o.BatchSize <= 0 {
		o.BatchSize = 64
	}
	if o.PollInterval <= 0 {
		o.PollInterval = time.Second
	}
	if o.Lease <= 0 {
		o.Lease = 5 * time.Minute
	}
	if o.RecoverInterval <= 0 {
		o.RecoverInterval = 15 * time.Second
	}
	if o.Retention <= 0 {
		o.Retention = 7 * 24 * time.Hour
	}
	if o.WorkerID == "" {
		host, _ := os.Hostname()
		b := make([]byte, 4)
		crand.Read(b)
		o.WorkerID = fmt.Sprintf("%s-%d-%s", host, os.Getpid(), hex.EncodeToString(b))
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
}

// Runner claims and runs due jobs.
type Runner struct {
	db    *storage.DB
	clock carecircle.Clock
	opts  Options
	log   *slog.Logger

	mu       sync.Mutex
	kinds    map[string]Kind
	periodic []*periodic

	wake chan struct{}
	// housekeeping state, touched only by the loop or RunDue under hkMu
	hkMu        sync.Mutex
	lastRecover time.Time
	lastPrune   time.Time
}

// periodic is a job the runner schedules itself once per slot of every,
// offset into the slot.
type periodic struct {
	kind     string
	every    time.Duration
	offset   time.Duration
	lastSlot time.Time
}

// slot returns the start of the slot now falls in.
func (p *periodic) slot(now time.Time) time.Time {
	return now.Add(-p.offset).Truncate(p.every).Add(p.offset)
}

// New returns a Runner over db's jobs table.
func New(db *storage.DB, clock carecircle.Clock, opts Options) *Runner {
	opts.setDefaults()
	if clock == nil {
		clock = carecircle.SystemClock{}
	}
	return &Runner{db: db, clock: clock, opts: opts, log: opts.Logger, kinds: map[string]Kind{}, wake: make(chan struct{}, 1)}
}

// WorkerID is the name this runner's leases carry.
func (r *Runner) WorkerID() string { return r.opts.WorkerID }

// Register adds a kind of job. Register every kind before running.
func (r *Runner) Register(k Kind) {
	if k.Name == "" || k.Handler == nil {
		panic("jobs: a kind needs a name and a handler")
	}
	if k.Timeout <= 0 {
		k.Timeout = time.Minute
	}
	if k.Backoff == nil {
		k.Backoff = ExponentialBackoff(5*time.Second, 15*time.Minute)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, dup := r.kinds[k.Name]; dup {
		panic("jobs: kind " + k.Name + " registered twice")
	}
	r.kinds[k.Name] = k
}

// Every schedules a job of kind once per interval, at offset into each
// slot (slots are clock time truncated to every, so a 15-minute job with a
// 7-minute offset runs at :07, :22, :37 and :52), keyed "<kind>:<slot>" so
// every worker schedules the same one. After downtime only the current slot
// runs.
func (r *Runner) Every(kind string, every, offset time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.periodic = append(r.periodic, &periodic{kind: kind, every: every, offset: offset})
}

// Wake makes a running loop look for due jobs now (call it after
// scheduling a job that is due at once). It never blocks.
func (r *Runner) Wake() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// ExponentialBackoff returns base·2^(n-1), capped at max, jittered into
// [d/2, d) so jobs failing together do not retry together.
func ExponentialBackoff(base, max time.Duration) func(int) time.Duration {
	return func(n int) time.Duration {
		d := base
		for i := 1; i < n && d < max; i++ {
			d *= 2
		}
		d = min(d, max)
		if d < 2 {
			return d
		}
		return d/2 + rand.N(d-d/2)
	}
}

// Run claims and runs jobs until ctx ends, then waits for the jobs it
// started (they run on a context that outlives ctx, bounded by their
// kind's Timeout, so a graceful stop never abandons a half-sent message).
func (r *Runner) Run(ctx context.Context) error {
	jobCtx := context.WithoutCancel(ctx)
	sem := make(chan struct{}, r.opts.Workers)
	freed := make(chan struct{}, 1)
	done := newCompleter(r)
	var wg sync.WaitGroup
	defer func() {
		wg.Wait()
		done.close()
	}()
	poll := time.NewTicker(r.opts.PollInterval)
	defer poll.Stop()
	failing := false
	for ctx.Err() == nil {
		r.housekeeping(ctx, false)
		free := cap(sem) - len(sem)
		var claimed []storage.Job
		if free > 0 {
			var err error
			claimed, err = r.db.ClaimJobs(ctx, r.opts.WorkerID, min(free, r.opts.BatchSize), r.opts.Lease)
			switch {
			case err != nil && ctx.Err() == nil && !failing:
				r.log.Warn("claiming jobs failed; will retry", "err", err)
				failing = true
			case err == nil && failing:
				r.log.Info("claiming jobs works again")
				failing = false
			}
		}
		for _, j := range claimed {
			sem <- struct{}{}
			wg.Add(1)
			go func() {
				defer wg.Done()
				if r.execute(jobCtx, &j) {
					done.add(j.ID)
				}
				<-sem
				select {
				case freed <- struct{}{}:
				default:
				}
			}()
		}
		if free > 0 && len(claimed) == min(free, r.opts.BatchSize) {
			continue // there may be more due
		}
		var more <-chan struct{}
		if free == 0 {
			more = freed // every worker was busy: look again when one is free
		}
		select {
		case <-ctx.Done():
		case <-r.wake:
		case <-poll.C:
		case <-more:
		}
	}
	return ctx.Err()
}

// RunDue runs every job that is due now, including those that become due
// while it runs (a delivery scheduled by a reminder), and returns how many
// ran. Tests call it after moving their clock instead of waiting for the
// poll.
func (r *Runner) RunDue(ctx context.Context) (int, error) {
	r.housekeeping(ctx, true)
	total := 0
	for {
		claimed, err := r.db.ClaimJobs(ctx, r.opts.WorkerID, r.opts.BatchSize, r.opts.Lease)
		if err != nil {
			return total, err
		}
		if len(claimed) == 0 {
			return total, nil
		}
		sem := make(chan struct{}, r.opts.Workers)
		var wg sync.WaitGroup
		var mu sync.Mutex
		var finished []string
		for _, j := range claimed {
			sem <- struct{}{}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer func() { <-sem }()
				if r.execute(ctx, &j) {
					mu.Lock()
					finished = append(finished, j.ID)
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		if err := r.db.CompleteJobs(ctx, r.opts.WorkerID, finished); err != nil {
			return total, err
		}
		total += len(claimed)
	}
}

// execute runs one claimed job and records a failure; it reports whether
// the job succeeded and is to be marked done.
func (r *Runner) execute(ctx context.Context, j *storage.Job) bool {
	r.mu.Lock()
	k, ok := r.kinds[j.Kind]
	r.mu.Unlock()
	m := r.opts.Metrics
	m.started(j.Kind, r.clock.Now().Sub(j.RunAt))
	var err error
	if !ok {
		// A newer worker may know this kind (a rolling upgrade): retry.
		err = fmt.Errorf("no handler for job kind %q in this worker", j.Kind)
		k = Kind{Name: j.Kind, Backoff: ExponentialBackoff(time.Minute, time.Hour)}
	} else {
		hctx, cancel := context.WithTimeout(ctx, k.Timeout)
		err = call(hctx, k.Handler, j)
		cancel()
	}
	var again *againError
	switch {
	case err == nil:
		m.finished(j.Kind, "done")
		return !j.Finished
	case errors.As(err, &again):
		m.finished(j.Kind, "rescheduled")
		if err := r.db.RescheduleJob(ctx, j.Lock, again.at, again.payload); err != nil && !errors.Is(err, storage.ErrJobLost) {
			r.log.Error("job not rescheduled; it will run again when its lease expires", "kind", j.Kind, "key", j.Key, "err", err)
		}
		if !again.at.After(r.clock.Now()) {
			r.Wake()
		}
		return false
	case errors.Is(err, storage.ErrJobLost):
		r.log.Warn("job lease lost while running; another worker has it", "kind", j.Kind, "key", j.Key)
		return false
	case IsPermanent(err) || j.Attempt >= j.MaxAttempts:
		m.finished(j.Kind, "dead")
		r.log.Error("job failed for good (dead letter)", "kind", j.Kind, "key", j.Key, "attempts", j.Attempt,
			"permanent", IsPermanent(err), "err", err)
		if kerr := r.db.KillJob(ctx, j.Lock, err.Error()); kerr != nil && !errors.Is(kerr, storage.ErrJobLost) {
			r.log.Error("dead job not recorded", "kind", j.Kind, "key", j.Key, "err", kerr)
		}
		if k.OnDead != nil {
			k.OnDead(ctx, j, err)
		}
		return false
	default:
		m.finished(j.Kind, "retry")
		wait := k.Backoff(j.Attempt)
		var ra *retryAfterError
		if errors.As(err, &ra) && ra.delay > wait {
			wait = ra.delay
		}
		r.log.Warn("job failed; will retry", "kind", j.Kind, "key", j.Key, "attempt", j.Attempt,
			"of", j.MaxAttempts, "retry_in", wait, "err", err)
		if rerr := r.db.RetryJob(ctx, j.Lock, r.clock.Now().Add(wait), err.Error()); rerr != nil && !errors.Is(rerr, storage.ErrJobLost) {
			r.log.Error("job retry not recorded; it will run again when its lease expires", "kind", j.Kind, "key", j.Key, "err", rerr)
		}
		return false
	}
}

// call runs h, turning a panic into an error so one bad job can't take the
// worker down.
func call(ctx context.Context, h Handler, j *storage.Job) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("job handler panic: %v\n%s", p, debug.Stack())
		}
	}()
	return h(ctx, j)
}

// housekeeping schedules the periodic jobs of the current slot, releases
// expired leases and prunes old finished jobs. force skips the intervals.
func (r *Runner) housekeeping(ctx context.Context, force bool) {
	r.hkMu.Lock()
	defer r.hkMu.Unlock()
	now := r.clock.Now()
	r.mu.Lock()
	var specs []storage.JobSpec
	for _, p := range r.periodic {
		slot := p.slot(now)
		if !slot.Equal(p.lastSlot) {
			specs = append(specs, storage.JobSpec{Kind: p.kind, Key: p.kind + ":" + slot.UTC().Format(time.RFC3339),
				RunAt: slot, MaxAttempts: 3})
		}
	}
	r.mu.Unlock()
	if len(specs) > 0 {
		if _, err := r.db.EnqueueJobs(ctx, specs...); err != nil {
			r.log.Warn("periodic jobs not scheduled; will retry", "err", err)
		} else {
			r.mu.Lock()
			for _, p := range r.periodic {
				p.lastSlot = p.slot(now)
			}
			r.mu.Unlock()
		}
	}
	wall := time.Now()
	if force || wall.Sub(r.lastRecover) >= r.opts.RecoverInterval {
		r.lastRecover = wall
		expired, err := r.db.RecoverExpiredJobs(ctx, r.opts.WorkerID)
		if err != nil {
			r.log.Warn("expired job leases not released", "err", err)
		}
		for _, e := range expired {
			if !e.Dead {
				r.log.Warn("job released after its worker stopped", "kind", e.Kind, "key", e.Key)
				continue
			}
			r.opts.Metrics.finished(e.Kind, "dead")
			r.log.Error("job failed for good: its worker stopped during the last attempt", "kind", e.Kind, "key", e.Key)
			r.mu.Lock()
			k := r.kinds[e.Kind]
			r.mu.Unlock()
			if k.OnDead != nil {
				k.OnDead(ctx, &storage.Job{ID: e.ID, Kind: e.Kind, Key: e.Key}, nil)
			}
		}
	}
	if force || wall.Sub(r.lastPrune) >= time.Hour {
		r.lastPrune = wall
		if n, err := r.db.PruneJobs(ctx, now.Add(-r.opts.Retention)); err != nil {
			r.log.Warn("finished jobs not pruned", "err", err)
		} else if n > 0 {
			r.log.Info("finished jobs pruned", "jobs", n)
		}
	}
}

// completer marks finished jobs done in batches, off the jobs' goroutines:
// one write for many jobs keeps SQLite's single writer free for the work.
type completer struct {
	r    *Runner
	ids  chan string
	done chan struct{}
}

func newCompleter(r *Runner) *completer {
	c := &completer{r: r, ids: make(chan string, 1024), done: make(chan struct{})}
	go c.loop()
	return c
}

func (c *completer) add(id string) { c.ids <- id }

func (c *completer) close() {
	close(c.ids)
	<-c.done
}

func (c *completer) loop() {
	defer close(c.done)
	for id := range c.ids {
		batch := []string{id}
	drain:
		for len(batch) < 256 {
			select {
			case more, ok := <-c.ids:
				if !ok {
					break drain
				}
				batch = append(batch, more)
			default:
				break drain
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		if err := c.r.db.CompleteJobs(ctx, c.r.opts.WorkerID, batch); err != nil {
			c.r.log.Error("finished jobs not marked done; they will run again when their lease expires", "jobs", len(batch), "err", err)
		}
		cancel()
	}
}
