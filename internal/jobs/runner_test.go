package jobs_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/carecircle/carecircle"
	"github.com/carecircle/carecircle/internal/jobs"
	"github.com/carecircle/carecircle/internal/storage"
	"github.com/carecircle/carecircle/internal/testdb"
)

var t0 = time.Date(2026, 3, 7, 12, 0, 0, 0, time.UTC)

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func setup(t *testing.T, db *storage.DB) *carecircle.ManualClock {
	clock := carecircle.NewManualClock(t0)
	db.Clock = clock
	return clock
}

func newRunner(db *storage.DB, clock carecircle.Clock, id string) *jobs.Runner {
	return jobs.New(db, clock, jobs.Options{WorkerID: id, Logger: quiet(), Workers: 8})
}

func runDue(t *testing.T, r *jobs.Runner) int {
	t.Helper()
	n, err := r.RunDue(context.Background())
	if err != nil {
		t.Fatalf("RunDue: %v", err)
	}
	return n
}

func enqueue(t *testing.T, db *storage.DB, specs ...storage.JobSpec) int {
	t.Helper()
	n, err := db.EnqueueJobs(context.Background(), specs...)
	if err != nil {
		t.Fatalf("enqueue: %v", err)
	}
	return n
}

func job(t *testing.T, db *storage.DB, key string) storage.JobInfo {
	t.Helper()
	j, err := db.JobByKey(context.Background(), key)
	if err != nil {
		t.Fatalf("job %s: %v", key, err)
	}
	return j
}

func TestEnqueue_SameKeyIsScheduledOnce(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *storage.DB) {
		clock := setup(t, db)
		if n := enqueue(t, db, storage.JobSpec{Kind: "k", Key: "k:1", RunAt: t0.Add(time.Minute)}); n != 1 {
			t.Fatalf("first enqueue inserted %d", n)
		}
		// A second planner run, with a different time and payload, changes nothing.
		if n := enqueue(t, db, storage.JobSpec{Kind: "k", Key: "k:1", RunAt: t0, Payload: map[string]int{"x": 1}},
			storage.JobSpec{Kind: "k", Key: "k:2", RunAt: t0.Add(time.Hour)}); n != 1 {
			t.Fatalf("second enqueue inserted %d, want 1 (only k:2)", n)
		}
		var calls atomic.Int32
		r := newRunner(db, clock, "w1")
		r.Register(jobs.Kind{Name: "k", Handler: func(ctx context.Context, j *storage.Job) error {
			calls.Add(1)
			return nil
		}})
		if n := runDue(t, r); n != 0 {
			t.Fatalf("ran %d jobs before they were due", n)
		}
		clock.Advance(time.Minute)
		if n := runDue(t, r); n != 1 || calls.Load() != 1 {
			t.Fatalf("ran %d jobs, %d calls; want 1", n, calls.Load())
		}
		if j := job(t, db, "k:1"); j.State != storage.JobDone || j.Attempts != 1 || string(j.Payload) != "{}" {
			t.Fatalf("job = %+v", j)
		}
		// Done jobs keep their key: scheduling it again is still a no-op.
		if n := enqueue(t, db, storage.JobSpec{Kind: "k", Key: "k:1", RunAt: t0.Add(2 * time.Minute)}); n != 0 {
			t.Fatalf("re-enqueue of a finished key inserted %d", n)
		}
		clock.Advance(2 * time.Hour)
		runDue(t, r)
		if calls.Load() != 2 {
			t.Fatalf("calls = %d, want 2", calls.Load())
		}
	})
}

func TestRunner_RetriesWithBackoffThenDeadLetters(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *storage.DB) {
		clock := setup(t, db)
		reg := prometheus.NewRegistry()
		r := jobs.New(db, clock, jobs.Options{WorkerID: "w1", Logger: quiet(), Metrics: jobs.NewMetrics(reg, db)})
		var attempts []int
		var dead atomic.Int32
		var deadErr error
		r.Register(jobs.Kind{Name: "flaky", Backoff: func(n int) time.Duration { return time.Duration(n) * time.Minute },
			Handler: func(ctx context.Context, j *storage.Job) error {
				attempts = append(attempts, j.Attempt)
				return fmt.Errorf("push service answered 503 (attempt %d)", j.Attempt)
			},
			OnDead: func(ctx context.Context, j *storage.Job, err error) { dead.Add(1); deadErr = err }})
		enqueue(t, db, storage.JobSpec{Kind: "flaky", Key: "flaky:1", RunAt: t0, MaxAttempts: 3})

		runDue(t, r)
		j := job(t, db, "flaky:1")
		if j.State != storage.JobAvailable || !j.RunAt.Equal(t0.Add(time.Minute)) || j.LastError == "" {
			t.Fatalf("after attempt 1: %+v", j)
		}
		clock.Advance(59 * time.Second)
		if n := runDue(t, r); n != 0 {
			t.Fatal("retried before its backoff")
		}
		clock.Advance(time.Second)
		runDue(t, r) // attempt 2, next in 2 min
		clock.Advance(2 * time.Minute)
		runDue(t, r) // attempt 3: the last
		if want := []int{1, 2, 3}; fmt.Sprint(attempts) != fmt.Sprint(want) {
			t.Fatalf("attempts = %v, want %v", attempts, want)
		}
		j = job(t, db, "flaky:1")
		if j.State != storage.JobDead || j.Attempts != 3 || dead.Load() != 1 || deadErr == nil {
			t.Fatalf("after the last attempt: %+v, OnDead calls %d (%v)", j, dead.Load(), deadErr)
		}
		clock.Advance(time.Hour)
		if n := runDue(t, r); n != 0 {
			t.Fatal("a dead job ran again")
		}
		if got := gauge(t, reg, "carecircle_jobs", "state", "dead"); got != 1 {
			t.Fatalf("carecircle_jobs{state=dead} = %v, want 1", got)
		}
	})
}

// gauge reads one labelled gauge from a registry.
func gauge(t *testing.T, reg *prometheus.Registry, name, label, value string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == label && l.GetValue() == value {
					return m.GetGauge().GetValue()
				}
			}
		}
	}
	t.Fatalf("no series %s{%s=%q}", name, label, value)
	return 0
}

func TestRunner_PermanentErrorIsDeadAtOnce(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *storage.DB) {
		clock := setup(t, db)
		r := newRunner(db, clock, "w1")
		r.Register(jobs.Kind{Name: "bad", Handler: func(ctx context.Context, j *storage.Job) error {
			return jobs.Permanent(errors.New("recipient address rejected"))
		}})
		enqueue(t, db, storage.JobSpec{Kind: "bad", Key: "bad:1", RunAt: t0})
		runDue(t, r)
		if j := job(t, db, "bad:1"); j.State != storage.JobDead || j.Attempts != 1 || j.LastError != "recipient address rejected" {
			t.Fatalf("job = %+v", j)
		}
	})
}

func TestRunner_AgainRunsTheNextPhaseWithItsPayload(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *storage.DB) {
		clock := setup(t, db)
		r := newRunner(db, clock, "w1")
		var phases []string
		r.Register(jobs.Kind{Name: "dose", Handler: func(ctx context.Context, j *storage.Job) error {
			var p struct{ Phase string }
			json.Unmarshal(j.Payload, &p)
			phases = append(phases, fmt.Sprintf("%s@%s#%d", p.Phase, clock.Now().Format("15:04"), j.Attempt))
			if p.Phase == "remind" {
				return jobs.Again(t0.Add(time.Hour), map[string]string{"phase": "missed"})
			}
			return nil
		}})
		enqueue(t, db, storage.JobSpec{Kind: "dose", Key: "dose:1", RunAt: t0, Payload: map[string]string{"phase": "remind"}})
		runDue(t, r)
		if j := job(t, db, "dose:1"); j.State != storage.JobAvailable || !j.RunAt.Equal(t0.Add(time.Hour)) || j.Attempts != 0 {
			t.Fatalf("after phase 1: %+v", j)
		}
		clock.Advance(time.Hour)
		runDue(t, r)
		if want := "[remind@12:00#1 missed@13:00#1]"; fmt.Sprint(phases) != want {
			t.Fatalf("phases = %v, want %s", phases, want)
		}
		if j := job(t, db, "dose:1"); j.State != storage.JobDone {
			t.Fatalf("after phase 2: %+v", j)
		}
	})
}

func TestRunner_ExpiredLeaseOfADeadWorkerRunsElsewhere(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *storage.DB) {
		clock := setup(t, db)
		ctx := context.Background()
		enqueue(t, db, storage.JobSpec{Kind: "k", Key: "k:1", RunAt: t0, MaxAttempts: 2},
			storage.JobSpec{Kind: "k", Key: "k:2", RunAt: t0, MaxAttempts: 1})
		// A worker claims both and dies (kill -9): nothing finishes them.
		claimed, err := db.ClaimJobs(ctx, "crashed", 10, 5*time.Minute)
		if err != nil || len(claimed) != 2 {
			t.Fatalf("claim: %v, %d jobs", err, len(claimed))
		}
		var ran sync.Map
		var dead atomic.Int32
		r := newRunner(db, clock, "w2")
		r.Register(jobs.Kind{Name: "k", Handler: func(ctx context.Context, j *storage.Job) error {
			ran.Store(j.Key, j.Attempt)
			return nil
		}, OnDead: func(ctx context.Context, j *storage.Job, err error) { dead.Add(1) }})
		if n := runDue(t, r); n != 0 {
			t.Fatal("took over a lease that had not expired")
		}
		clock.Advance(5*time.Minute + time.Millisecond)
		runDue(t, r)
		if a, ok := ran.Load("k:1"); !ok || a != 2 {
			t.Fatalf("k:1 ran = %v (attempt %v), want its second attempt", ok, a)
		}
		if _, ok := ran.Load("k:2"); ok {
			t.Fatal("k:2 had used its only attempt and must not run again")
		}
		if j := job(t, db, "k:2"); j.State != storage.JobDead || dead.Load() != 1 {
			t.Fatalf("k:2 = %+v, OnDead calls %d", j, dead.Load())
		}
		// The crashed worker's late completion must not touch the jobs.
		if err := db.CompleteJobs(ctx, "crashed", []string{claimed[0].ID, claimed[1].ID}); err != nil {
			t.Fatal(err)
		}
		if j := job(t, db, "k:2"); j.State != storage.JobDead {
			t.Fatalf("late completion changed k:2: %+v", j)
		}
	})
}

func TestFinishJob_InTransactionFailsOnceTheLeaseIsLost(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *storage.DB) {
		clock := setup(t, db)
		ctx := context.Background()
		enqueue(t, db, storage.JobSpec{Kind: "k", Key: "k:1", RunAt: t0})
		a, _ := db.ClaimJobs(ctx, "a", 1, time.Minute)
		clock.Advance(2 * time.Minute)
		if _, err := db.RecoverExpiredJobs(ctx, "b"); err != nil {
			t.Fatal(err)
		}
		b, _ := db.ClaimJobs(ctx, "b", 1, time.Minute)
		if len(a) != 1 || len(b) != 1 || a[0].ID != b[0].ID {
			t.Fatalf("claims: %v %v", a, b)
		}
		err := db.Write(ctx, func(tx *storage.Tx) error { return tx.FinishJob(ctx, a[0].Lock) })
		if !errors.Is(err, storage.ErrJobLost) {
			t.Fatalf("finish by the worker that lost the lease: %v, want ErrJobLost", err)
		}
		if err := db.Write(ctx, func(tx *storage.Tx) error { return tx.FinishJob(ctx, b[0].Lock) }); err != nil {
			t.Fatalf("finish by the holder: %v", err)
		}
	})
}

func TestRunner_TwoWorkersRunEveryJobExactlyOnce(t *testing.T) {
	for _, d := range testdb.Dialects() {
		t.Run(string(d), func(t *testing.T) { twoWorkers(t, d) })
	}
}

// openTwice opens one fresh database through two pools, as two processes
// would (SQLite: one embedded process, so the same pool twice).
func openTwice(t *testing.T, d storage.Dialect) (*storage.DB, *storage.DB) {
	t.Helper()
	u := testdb.URL(t, d)
	ctx := context.Background()
	var dbs []*storage.DB
	for range 2 {
		db, err := storage.Open(ctx, u)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		if err := db.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		dbs = append(dbs, db)
		if d == storage.SQLite {
			return db, db
		}
	}
	return dbs[0], dbs[1]
}

func twoWorkers(t *testing.T, d storage.Dialect) {
	{
		db, db2 := openTwice(t, d)
		clock := setup(t, db)
		db2.Clock = clock
		const n = 300
		var specs []storage.JobSpec
		for i := range n {
			specs = append(specs, storage.JobSpec{Kind: "k", Key: fmt.Sprintf("k:%d", i), RunAt: t0.Add(time.Duration(i%3) * time.Second)})
		}
		enqueue(t, db, specs...)
		var mu sync.Mutex
		runs := map[string]int{}
		allDone := make(chan struct{})
		handler := func(ctx context.Context, j *storage.Job) error {
			mu.Lock()
			defer mu.Unlock()
			runs[j.Key]++
			if len(runs) == n {
				close(allDone)
			}
			return nil
		}
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		for i, id := range []string{"w1", "w2"} {
			wdb := db
			if i == 1 {
				wdb = db2
			}
			r := jobs.New(wdb, clock, jobs.Options{WorkerID: id, Logger: quiet(), Workers: 4, BatchSize: 7, PollInterval: 10 * time.Millisecond})
			r.Register(jobs.Kind{Name: "k", Handler: handler})
			wg.Add(1)
			go func() { defer wg.Done(); r.Run(ctx) }()
		}
		clock.Advance(3 * time.Second)
		select {
		case <-allDone:
		case <-time.After(30 * time.Second):
			t.Fatalf("only %d of %d jobs ran", len(runs), n)
		}
		cancel()
		wg.Wait()
		for k, c := range runs {
			if c != 1 {
				t.Errorf("%s ran %d times", k, c)
			}
		}
		counts, _ := db.JobCounts(context.Background())
		if counts[storage.JobAvailable] != 0 || counts[storage.JobRunning] != 0 || counts[storage.JobDead] != 0 {
			t.Fatalf("counts = %v, want every job done", counts)
		}
	}
}

func TestRunner_PeriodicJobOncePerSlotAcrossWorkers(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *storage.DB) {
		clock := setup(t, db)
		var calls atomic.Int32
		var runners []*jobs.Runner
		for _, id := range []string{"w1", "w2"} {
			r := newRunner(db, clock, id)
			r.Register(jobs.Kind{Name: "plan", Handler: func(ctx context.Context, j *storage.Job) error { calls.Add(1); return nil }})
			r.Every("plan", 15*time.Minute, 0)
			runners = append(runners, r)
		}
		for range 3 {
			for _, r := range runners {
				runDue(t, r)
			}
		}
		if calls.Load() != 1 {
			t.Fatalf("slot 12:00 ran %d times, want 1", calls.Load())
		}
		clock.Advance(14 * time.Minute)
		runDue(t, runners[0])
		clock.Advance(time.Minute)
		runDue(t, runners[1])
		runDue(t, runners[0])
		if calls.Load() != 2 {
			t.Fatalf("after 12:15: %d runs, want 2", calls.Load())
		}
		// After a long stop only the current slot runs, not every missed one.
		clock.Advance(10 * time.Hour)
		runDue(t, runners[0])
		if calls.Load() != 3 {
			t.Fatalf("after downtime: %d runs, want 3", calls.Load())
		}
	})
}

func TestRunner_StopLetsRunningJobsFinish(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *storage.DB) {
		clock := setup(t, db)
		r := jobs.New(db, clock, jobs.Options{WorkerID: "w1", Logger: quiet(), PollInterval: 10 * time.Millisecond})
		started, release := make(chan struct{}), make(chan struct{})
		var handlerErr atomic.Value
		r.Register(jobs.Kind{Name: "slow", Handler: func(ctx context.Context, j *storage.Job) error {
			close(started)
			<-release
			if err := ctx.Err(); err != nil {
				handlerErr.Store(err)
			}
			return nil
		}})
		enqueue(t, db, storage.JobSpec{Kind: "slow", Key: "slow:1", RunAt: t0})
		ctx, cancel := context.WithCancel(context.Background())
		stopped := make(chan struct{})
		go func() { r.Run(ctx); close(stopped) }()
		<-started
		cancel()
		select {
		case <-stopped:
			t.Fatal("Run returned while a job was still running")
		case <-time.After(50 * time.Millisecond):
		}
		close(release)
		<-stopped
		if v := handlerErr.Load(); v != nil {
			t.Fatalf("the job's context was cancelled by the stop: %v", v)
		}
		if j := job(t, db, "slow:1"); j.State != storage.JobDone {
			t.Fatalf("job after stop = %+v, want done", j)
		}
	})
}

func TestRunner_UnknownKindIsRetriedNotLost(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *storage.DB) {
		clock := setup(t, db)
		r := newRunner(db, clock, "w1")
		enqueue(t, db, storage.JobSpec{Kind: "future", Key: "future:1", RunAt: t0})
		runDue(t, r)
		if j := job(t, db, "future:1"); j.State != storage.JobAvailable || !j.RunAt.After(t0) {
			t.Fatalf("job = %+v, want available later", j)
		}
	})
}
