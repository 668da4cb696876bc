// Command reminderbench checks DESIGN §5's reminder bar: with 100,000
// active medications (3 doses a day), every dose reminder is dispatched
// within 60 s of its time.
//
// It seeds an embedded SQLite database through package storage (families of
// an ADMIN and a CAREGIVER, each with one browser subscribed to Web Push,
// care recipients spread over eight time zones, doses at the times families
// really choose, so reminders come in bursts), runs the planner for a day,
// then runs the real job runner and notification pipeline over a window
// around the busiest minute of the day. The clock runs at real speed (or
// -speed times faster: lateness is then measured in the clock's terms, so
// the run is only harder). Every push is really encrypted (RFC 8291) and
// signed (VAPID) and sent over HTTP to an in-process push service.
//
// Usage:
//
//	go run ./cmd/reminderbench                   # 100,000 medications, 6-minute window
//	go run ./cmd/reminderbench -meds 20000 -window 3m
//
// It prints the seeding and planning times, how many reminders were due in
// the window, dispatch lateness p50/p99/max (reminder notices stored and
// push deliveries accepted by the push service, each against the dose's
// time), and memory: Go heap and the process's RSS.
package main

import (
	"context"
	"crypto/ecdh"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	_ "time/tzdata"

	"github.com/carecircle/carecircle"
	"github.com/carecircle/carecircle/internal/jobs"
	"github.com/carecircle/carecircle/internal/mail"
	"github.com/carecircle/carecircle/internal/notify"
	"github.com/carecircle/carecircle/internal/push"
	"github.com/carecircle/carecircle/internal/storage"
)

func main() {
	var o options
	flag.IntVar(&o.meds, "meds", 100_000, "active medications, 3 doses a day each")
	flag.IntVar(&o.perFamily, "per-family", 10, "medications per family (one care recipient each)")
	flag.DurationVar(&o.window, "window", 6*time.Minute, "clock time dispatched, around the busiest minute")
	flag.Float64Var(&o.speed, "speed", 1, "clock speed: 1 is real time")
	flag.IntVar(&o.workers, "workers", 64, "jobs run at once")
	flag.DurationVar(&o.grace, "grace", 90*time.Second, "wall time after the window for the last reminders to go out")
	flag.StringVar(&o.dir, "dir", "", "database directory (default: a temporary one, removed)")
	flag.StringVar(&o.cpuprofile, "cpuprofile", "", "write a CPU profile of seeding, planning and dispatch to this file")
	flag.Parse()
	if o.cpuprofile != "" {
		f, err := os.Create(o.cpuprofile)
		if err != nil {
			fmt.Fprintln(os.Stderr, "reminderbench:", err)
			os.Exit(1)
		}
		pprof.StartCPUProfile(f)
		defer pprof.StopCPUProfile()
	}
	if err := run(o, os.Stdout); err != nil {
		pprof.StopCPUProfile()
		fmt.Fprintln(os.Stderr, "reminderbench:", err)
		os.Exit(1)
	}
}

type options struct {
	meds, perFamily, workers int
	window, grace            time.Duration
	speed                    float64
	dir, cpuprofile          string
}

// zones and their share of families.
var zones = []struct {
	name   string
	weight int
}{
	{"America/New_York", 30}, {"America/Chicago", 15}, {"America/Denver", 5}, {"America/Los_Angeles", 15},
	{"Europe/London", 15}, {"Europe/Berlin", 10}, {"Asia/Tokyo", 5}, {"Australia/Sydney", 5},
}

// Dose times people choose: mostly on the hour, mostly at breakfast,
// lunch and bedtime.
var (
	mornings = []string{"07:00", "07:30", "08:00", "08:00", "08:00", "08:30", "09:00"}
	middays  = []string{"12:00", "13:00", "13:00", "14:00", "15:00"}
	evenings = []string{"18:00", "19:00", "20:00", "20:00", "21:00", "22:00"}
)

func pick[T any](r *mrand.Rand, xs []T) T { return xs[r.IntN(len(xs))] }

func run(o options, out io.Writer) error {
	ctx := context.Background()
	dir := o.dir
	if dir == "" {
		d, err := os.MkdirTemp("", "reminderbench-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(d)
		dir = d
	}
	db, err := storage.Open(ctx, filepath.Join(dir, "bench.db"))
	if err != nil {
		return err
	}
	defer db.Close()
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	db.Logger = logger
	if err := db.Migrate(ctx); err != nil {
		return err
	}
	sink, err := startSink()
	if err != nil {
		return err
	}
	defer sink.close()

	fmt.Fprintf(out, "seeding %d medications (%d families, %d per family, 3 doses a day) on SQLite...\n",
		o.meds, (o.meds+o.perFamily-1)/o.perFamily, o.perFamily)
	t0 := time.Now()
	doses, err := seed(ctx, db, o, sink.url)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "seeded in %s\n", time.Since(t0).Round(time.Millisecond))

	// The window: around the busiest instant of the day.
	peak, peakN := busiest(doses)
	from := peak.Add(-o.window / 4).Truncate(time.Second)
	to := from.Add(o.window)
	due := 0
	for at, n := range doses {
		if !at.Before(from) && at.Before(to) {
			due += n
		}
	}
	fmt.Fprintf(out, "window %s – %s UTC: %d doses due, %d of them at %s\n", from.Format("15:04"), to.Format("15:04"),
		due, peakN, peak.Format("15:04"))

	clock := &benchClock{}
	clock.stop(from.Add(-10 * time.Minute))
	db.Clock = clock
	keys, err := push.GenerateKeys()
	if err != nil {
		return err
	}
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 256, MaxIdleConns: 256}}
	runner := jobs.New(db, clock, jobs.Options{Workers: o.workers, Logger: logger})
	svc := notify.New(notify.Config{DB: db, Runner: runner, Clock: clock, Logger: logger,
		Push: push.NewSender(keys, "mailto:bench@carecircle.local", client), Mail: discard{}, BaseURL: "http://localhost"})

	var heapPeak atomic.Uint64
	stopSampling := sampleHeap(&heapPeak)
	t0 = time.Now()
	if err := svc.PlanDoses(ctx, clock.Now(), clock.Now().Add(notify.PlanAhead)); err != nil {
		return err
	}
	planning := time.Since(t0)
	counts, _ := db.JobCounts(ctx)
	fmt.Fprintf(out, "planned a day (%s ahead) of reminders in %s: %d jobs\n", notify.PlanAhead, planning.Round(time.Millisecond),
		counts[storage.JobAvailable])
	// The periodic planner has just run: keep the runner from planning again
	// in the window (it would only find the horizon already there).
	runtime.GC()

	// Dispatch: the clock runs from just before the window.
	clock.run(from.Add(-5*time.Second), o.speed)
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { runner.Run(rctx); close(done) }()
	wall := time.Duration(float64(o.window)/o.speed) + o.grace
	fmt.Fprintf(out, "dispatching for %s of wall time (window %s at speed %g, then %s to finish)...\n",
		wall.Round(time.Second), o.window, o.speed, o.grace)
	time.Sleep(wall)
	cancel()
	<-done
	stopSampling()

	rem, err := lateness(ctx, db, from, to)
	if err != nil {
		return err
	}
	if !report(out, due, rem, sink, &heapPeak) {
		return errors.New("the bar was not met")
	}
	return nil
}

// benchClock is stopped while seeding and planning, then runs at a speed.
type benchClock struct {
	mu      sync.Mutex
	base    time.Time
	started time.Time
	speed   float64
}

func (c *benchClock) stop(at time.Time) {
	c.mu.Lock()
	c.base, c.speed = at, 0
	c.mu.Unlock()
}

func (c *benchClock) run(from time.Time, speed float64) {
	c.mu.Lock()
	c.base, c.started, c.speed = from, time.Now(), speed
	c.mu.Unlock()
}

func (c *benchClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.speed == 0 {
		return c.base
	}
	return c.base.Add(time.Duration(float64(time.Since(c.started)) * c.speed)).UTC()
}

// discard is the mail sender: dose reminders go by push, not email.
type discard struct{}

func (discard) Send(context.Context, mail.Message) error { return nil }

// sink is a push service that accepts every message.
type sink struct {
	srv      *http.Server
	url      string
	received atomic.Int64
}

func startSink() (*sink, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &sink{url: "http://" + ln.Addr().String()}
	s.srv = &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		if r.Header.Get("Authorization") == "" || r.Header.Get("Content-Encoding") != "aes128gcm" {
			http.Error(w, "not a Web Push request", http.StatusBadRequest)
			return
		}
		s.received.Add(1)
		w.WriteHeader(http.StatusCreated)
	})}
	go s.srv.Serve(ln)
	return s, nil
}

func (s *sink) close() { s.srv.Close() }

// seed writes families, members, browsers, recipients and medications, and
// returns how many doses fall at each instant around tomorrow.
func seed(ctx context.Context, db *storage.DB, o options, sinkURL string) (map[time.Time]int, error) {
	r := mrand.New(mrand.NewPCG(1, 2))
	browser, err := ecdh.P256().GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	p256dh := base64.RawURLEncoding.EncodeToString(browser.PublicKey().Bytes())
	auth := base64.RawURLEncoding.EncodeToString([]byte("bench-auth-16byt"))
	day := carecircle.DateOf(time.Now(), time.UTC).AddDays(1)
	now := time.Now().UnixMilli()
	var weights []string
	for _, z := range zones {
		for range z.weight {
			weights = append(weights, z.name)
		}
	}
	doses := map[time.Time]int{}
	families := (o.meds + o.perFamily - 1) / o.perFamily
	const batch = 250
	for start := 0; start < families; start += batch {
		n := min(batch, families-start)
		var users, fams, members, recips, meds, subs [][]any
		for i := start; i < start+n; i++ {
			fam := carecircle.NewID(carecircle.PrefixFamily)
			cr := carecircle.NewID(carecircle.PrefixRecipient)
			tz := pick(r, weights)
			admin, carer := carecircle.NewID(carecircle.PrefixUser), carecircle.NewID(carecircle.PrefixUser)
			for k, u := range []string{admin, carer} {
				users = append(users, []any{u, fmt.Sprintf("u%d.%d@bench.local", i, k), "-", fmt.Sprintf("Member %d", k), tz, now})
				subs = append(subs, []any{carecircle.NewID("psub_"), u, fmt.Sprintf("%s/push/%s", sinkURL, u), p256dh, auth, now})
			}
			fams = append(fams, []any{fam, fmt.Sprintf("Family %d", i), admin, now})
			members = append(members, []any{fam, admin, "ADMIN", now}, []any{fam, carer, "CAREGIVER", now})
			recips = append(recips, []any{cr, fam, "Dad", fmt.Sprint(i), tz, now})
			loc, _ := time.LoadLocation(tz)
			for m := 0; m < o.perFamily && i*o.perFamily+m < o.meds; m++ {
				times := []string{pick(r, mornings), pick(r, middays), pick(r, evenings)}
				meds = append(meds, []any{carecircle.NewID(carecircle.PrefixMedication), fam, cr, fmt.Sprintf("Med %d", m),
					"1 tablet", carecircle.FrequencyThreeTimesDaily, `["` + strings.Join(times, `","`) + `"]`, admin, now})
				plan := carecircle.DosePlan{Frequency: carecircle.FrequencyThreeTimesDaily, Times: times}
				for d := -1; d <= 1; d++ {
					for _, at := range plan.DosesOn(day.AddDays(d), loc) {
						doses[at.UTC()]++
					}
				}
			}
		}
		err := db.Write(ctx, func(tx *storage.Tx) error {
			for _, ins := range []struct {
				sql  string
				rows [][]any
			}{
				{`INSERT INTO users (id, email, password_hash, full_name, timezone, created_at, updated_at) VALUES `, users},
				{`INSERT INTO families (id, name, created_by, created_at, updated_at) VALUES `, fams},
				{`INSERT INTO family_members (family_id, user_id, role, added_at) VALUES `, members},
				{`INSERT INTO care_recipients (id, family_id, first_name, last_name, timezone, created_at, updated_at) VALUES `, recips},
				{`INSERT INTO medications (id, family_id, care_recipient_id, name, dosage, frequency, times, created_by, created_at, updated_at) VALUES `, meds},
				{`INSERT INTO push_subscriptions (id, user_id, endpoint, p256dh, auth, created_at, updated_at) VALUES `, subs},
			} {
				if err := insertRows(ctx, tx, ins.sql, ins.rows); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return doses, nil
}

// insertRows inserts rows with multi-row INSERTs of up to 50 rows (SQLite
// looks numbered parameters up linearly, so huge statements cost more than
// they save); a trailing created_at in each row also fills updated_at where
// the statement names one more column.
func insertRows(ctx context.Context, tx *storage.Tx, head string, rows [][]any) error {
	for len(rows) > 50 {
		if err := insertRows(ctx, tx, head, rows[:50]); err != nil {
			return err
		}
		rows = rows[50:]
	}
	if len(rows) == 0 {
		return nil
	}
	cols := strings.Count(head[:strings.Index(head, ")")], ",") + 1
	var sb strings.Builder
	sb.WriteString(head)
	var args []any
	for i, row := range rows {
		if i > 0 {
			sb.WriteByte(',')
		}
		sb.WriteByte('(')
		vals := append([]any(nil), row...)
		for len(vals) < cols {
			vals = append(vals, row[len(row)-1])
		}
		for j, v := range vals {
			if j > 0 {
				sb.WriteByte(',')
			}
			args = append(args, v)
			fmt.Fprintf(&sb, "$%d", len(args))
		}
		sb.WriteByte(')')
	}
	if _, err := tx.ExecContext(ctx, sb.String(), args...); err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	return nil
}

// busiest returns the instant with the most doses.
func busiest(doses map[time.Time]int) (time.Time, int) {
	var best time.Time
	n := -1
	for at, c := range doses {
		if c > n || c == n && at.Before(best) {
			best, n = at, c
		}
	}
	return best, n
}

// results are the window's measured latenesses.
type results struct {
	dueJobs  int             // dose jobs due in the window
	notified int             // of those, how many produced their notices
	notice   []time.Duration // notice stored - dose time
	pushed   []time.Duration // push accepted and recorded - dose time
	pushSent int
	pending  int // push deliveries not sent
}

func lateness(ctx context.Context, db *storage.DB, from, to time.Time) (results, error) {
	var r results
	inWindow := func(key string) (time.Time, bool) {
		i := strings.LastIndexByte(key, ':')
		var ms int64
		if _, err := fmt.Sscan(key[i+1:], &ms); err != nil {
			return time.Time{}, false
		}
		at := time.UnixMilli(ms)
		return at, !at.Before(from) && at.Before(to)
	}
	err := db.Write(ctx, func(tx *storage.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT unique_key FROM jobs WHERE kind = 'dose'`)
		if err != nil {
			return err
		}
		for rows.Next() {
			var key string
			rows.Scan(&key)
			if _, ok := inWindow(key); ok {
				r.dueJobs++
			}
		}
		rows.Close()
		// A dose's reminder notices share its job's key as their source.
		rows, err = tx.QueryContext(ctx, `SELECT n.source_key, MIN(n.created_at) FROM notifications n
			WHERE n.category = 'DOSE_REMINDER' GROUP BY n.source_key`)
		if err != nil {
			return err
		}
		for rows.Next() {
			var key string
			var created int64
			rows.Scan(&key, &created)
			if due, ok := inWindow(key); ok {
				r.notice = append(r.notice, time.UnixMilli(created).Sub(due))
			}
		}
		rows.Close()
		r.notified = len(r.notice)
		rows, err = tx.QueryContext(ctx, `SELECT n.source_key, d.status, d.updated_at FROM notifications n
			JOIN notification_deliveries d ON d.notification_id = n.id WHERE n.category = 'DOSE_REMINDER'`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var key, status string
			var at int64
			rows.Scan(&key, &status, &at)
			due, ok := inWindow(key)
			switch {
			case !ok:
			case status == storage.DeliverySent:
				r.pushed = append(r.pushed, time.UnixMilli(at).Sub(due))
			default:
				r.pending++
			}
		}
		r.pushSent = len(r.pushed)
		return rows.Err()
	})
	return r, err
}

func pct(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	slices.Sort(ds)
	i := int(math.Ceil(p*float64(len(ds)))) - 1
	return ds[max(0, min(i, len(ds)-1))]
}

// report prints the results and whether every reminder made the bar.
func report(out io.Writer, due int, r results, s *sink, heapPeak *atomic.Uint64) bool {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	rss, hwm := procStatus("VmRSS"), procStatus("VmHWM")
	fmt.Fprintln(out)
	fmt.Fprintf(out, "reminders due in window:     %d doses (%d dose jobs)\n", due, r.dueJobs)
	fmt.Fprintf(out, "reminders dispatched:        %d (%d missing)\n", r.notified, r.dueJobs-r.notified)
	fmt.Fprintf(out, "notice lateness:             p50 %s  p99 %s  max %s\n", pct(r.notice, .5), pct(r.notice, .99), pct(r.notice, 1))
	fmt.Fprintf(out, "push deliveries:             %d sent (%d received by the push service), %d not sent\n", r.pushSent, s.received.Load(), r.pending)
	fmt.Fprintf(out, "push delivery lateness:      p50 %s  p99 %s  max %s\n", pct(r.pushed, .5), pct(r.pushed, .99), pct(r.pushed, 1))
	fmt.Fprintf(out, "memory:                      heap peak %.1f MiB, heap after GC %.1f MiB, RSS %s (peak %s)\n",
		float64(heapPeak.Load())/(1<<20), float64(ms.HeapInuse)/(1<<20), rss, hwm)
	late := 0
	for _, d := range r.pushed {
		if d > time.Minute {
			late++
		}
	}
	for _, d := range r.notice {
		if d > time.Minute {
			late++
		}
	}
	verdict := "PASS"
	if late > 0 || r.notified < r.dueJobs || r.pending > 0 {
		verdict = "FAIL"
	}
	fmt.Fprintf(out, "bar (every reminder within 60 s): %s (%d late)\n", verdict, late)
	return verdict == "PASS"
}

// sampleHeap records the peak heap in use until the returned func is called.
func sampleHeap(peak *atomic.Uint64) func() {
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(250 * time.Millisecond)
		defer t.Stop()
		for {
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > peak.Load() {
				peak.Store(ms.HeapInuse)
			}
			select {
			case <-stop:
				return
			case <-t.C:
			}
		}
	}()
	return func() { close(stop); <-done }
}

// procStatus reads a memory line of /proc/self/status ("123456 kB").
func procStatus(key string) string {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return "n/a"
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, key+":"); ok {
			var kb int
			fmt.Sscanf(strings.TrimSpace(v), "%d", &kb)
			return fmt.Sprintf("%.1f MiB", float64(kb)/1024)
		}
	}
	return "n/a"
}
