// Command loadtest measures CareCircle's two hottest paths, logging a dose
// and reading today's schedule, through the real HTTP stack of a real
// embedded server that it starts in-process on a temporary DATA_DIR (SQLite,
// WAL, synchronous=FULL: every acknowledged log is on disk).
//
// Usage:
//
//	go run ./cmd/loadtest                       # all three scenarios, 10 s each
//	go run ./cmd/loadtest -duration 30s -scenarios open,closed
//	go run ./cmd/loadtest -repeat 3             # each scenario three times, every run reported
//	go run ./cmd/loadtest -cpuprofile cpu.out   # then: go tool pprof cpu.out
//
// Scenarios (DESIGN §5 targets in brackets):
//
//	open      log fresh doses open-loop at -log-rate req/s        [p99 ≤ 10 ms at 500 req/s]
//	closed    log fresh doses with -conns connections, flat out   [≥ 2,000 req/s with 32]
//	schedule  read today's schedule open-loop at -schedule-rate   [p99 ≤ 5 ms at 1,000 req/s]
//
// Open-loop means requests leave on a fixed timetable whether or not earlier
// ones have finished, and each latency is measured from the request's
// scheduled send time, so a stalled server shows up in the numbers
// (no coordinated omission). Every logged dose is a distinct real dose of a
// FOUR_TIMES_DAILY medication on a past day, so none collide. The load
// generator shares the machine's cores with the server.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime"
	"runtime/pprof"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	_ "time/tzdata"

	"github.com/carecircle/carecircle"
	"github.com/carecircle/carecircle/internal/app"
	"github.com/carecircle/carecircle/internal/config"
	"github.com/carecircle/carecircle/internal/storage"
)

func main() {
	var o options
	flag.DurationVar(&o.duration, "duration", 10*time.Second, "measured length of each scenario")
	flag.DurationVar(&o.warmup, "warmup", 2*time.Second, "unmeasured load before each scenario")
	flag.IntVar(&o.logRate, "log-rate", 500, "open-loop dose logs per second")
	flag.IntVar(&o.conns, "conns", 32, "connections of the closed-loop scenario")
	flag.IntVar(&o.scheduleRate, "schedule-rate", 1000, "open-loop schedule reads per second")
	flag.StringVar(&o.scenarios, "scenarios", "open,closed,schedule", "comma-separated scenarios to run")
	flag.IntVar(&o.repeat, "repeat", 1, "run the scenarios this many times (each run is reported)")
	flag.StringVar(&o.cpuProfile, "cpuprofile", "", "write a CPU profile of the measured phases to this file")
	flag.StringVar(&o.dir, "dir", "", "empty DATA_DIR to use and keep (default: a fresh temporary directory, removed afterwards)")
	flag.Parse()
	if err := run(context.Background(), o, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "loadtest:", err)
		os.Exit(1)
	}
}

type options struct {
	duration, warmup             time.Duration
	logRate, conns, scheduleRate int
	repeat                       int
	scenarios, cpuProfile, dir   string
}

func run(ctx context.Context, o options, w io.Writer) error {
	dir := o.dir
	if dir == "" {
		d, err := os.MkdirTemp("", "carecircle-loadtest-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(d)
		dir = d
	}
	env := map[string]string{"DATA_DIR": dir, "AUTH_RATE_LIMIT": "0", "BASE_URL": "http://127.0.0.1"}
	cfg, err := config.Load(func(k string) string { return env[k] })
	if err != nil {
		return err
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	a, err := app.New(ctx, cfg, app.Options{QuietLogs: true, Logger: logger})
	if err != nil {
		return err
	}
	defer a.Close()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	a.Start(ctx)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	served := make(chan error, 1)
	go func() { served <- a.Serve(ctx, ln) }()
	defer func() { cancel(); <-served }()

	c := &client{base: "http://" + ln.Addr().String() + "/api/v1", http: &http.Client{Transport: &http.Transport{
		MaxIdleConns: 4096, MaxIdleConnsPerHost: 4096, IdleConnTimeout: time.Minute}}}
	fx, err := setUp(c, o, w)
	if err != nil {
		return fmt.Errorf("set up: %w", err)
	}

	if o.cpuProfile != "" {
		f, err := os.Create(o.cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}

	fmt.Fprintf(w, "CareCircle load test — %s, GOMAXPROCS=%d, %d CPUs, embedded SQLite (WAL, synchronous=FULL) in %s\n",
		time.Now().UTC().Format("2006-01-02"), runtime.GOMAXPROCS(0), runtime.NumCPU(), dir)
	fmt.Fprintf(w, "each scenario: %s warm-up, then %s measured\n", o.warmup, o.duration)
	if p50, p99, worst, err := fsyncProbe(dir); err == nil {
		// Every acknowledged log waits for one fsync; a slow or shared disk
		// shows up in the log latencies, so say how this one behaves.
		fmt.Fprintf(w, "disk: 16 KiB write+fsync in DATA_DIR p50 %.2f ms, p99 %.2f ms, max %.2f ms (200 samples)\n",
			ms(p50), ms(p99), ms(worst))
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| scenario | offered | achieved | p50 | p90 | p99 | max | errors | CPU/req | disk fsync p99 / max meanwhile | target |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|---|---|---|")
	var failed []string
	var drains []string
	var runs []string
	for range max(o.repeat, 1) {
		runs = append(runs, strings.Split(o.scenarios, ",")...)
	}
	for i, s := range runs {
		if i > 0 {
			// Start each scenario with the event consumers caught up, so it
			// doesn't pay for the previous one's backlog.
			d, err := settle(ctx, a.DB)
			if err != nil {
				return err
			}
			drains = append(drains, fmt.Sprintf("%.1f s", d.Seconds()))
		}
		var r result
		var cpu0 time.Duration
		var disk *diskWatch
		measure := func() { cpu0, disk = cpuTime(), watchDisk(dir) }
		switch strings.TrimSpace(s) {
		case "open":
			openLoop(o.logRate, o.warmup, 201, fx.logDose)
			measure()
			r = openLoop(o.logRate, o.duration, 201, fx.logDose)
			r.name, r.offered = "log dose, open loop", fmt.Sprintf("%d req/s", o.logRate)
			r.target, r.ok = "p99 ≤ 10 ms", r.p(0.99) <= 10*time.Millisecond && r.errors() == 0
		case "closed":
			closedLoop(o.conns, o.warmup, 201, fx.logDose)
			measure()
			r = closedLoop(o.conns, o.duration, 201, fx.logDose)
			r.name, r.offered = "log dose, closed loop", fmt.Sprintf("%d conns", o.conns)
			r.target, r.ok = "≥ 2,000 req/s", r.rate() >= 2000 && r.errors() == 0
		case "schedule":
			openLoop(o.scheduleRate, o.warmup, 200, fx.readSchedule)
			measure()
			r = openLoop(o.scheduleRate, o.duration, 200, fx.readSchedule)
			r.name, r.offered = "today's schedule, open loop", fmt.Sprintf("%d req/s", o.scheduleRate)
			r.target, r.ok = "p99 ≤ 5 ms", r.p(0.99) <= 5*time.Millisecond && r.errors() == 0
		default:
			return fmt.Errorf("unknown scenario %q", s)
		}
		if n := len(r.latencies); n > 0 {
			r.cpuPerReq = (cpuTime() - cpu0) / time.Duration(n)
		}
		r.diskP99, r.diskMax = disk.finish()
		fmt.Fprintln(w, r.row())
		if !r.ok {
			failed = append(failed, r.name)
		}
		for status, n := range r.byStatus {
			if status != r.wantStatus {
				fmt.Fprintf(w, "    %s: %d responses with status %d\n", r.name, n, status)
			}
		}
	}
	if len(drains) > 0 {
		fmt.Fprintf(w, "\nbetween scenarios, the event consumers (audit log, real-time) caught up with the backlog in %s\n",
			strings.Join(drains, ", "))
	}
	if err := fx.verify(); err != nil {
		return fmt.Errorf("verify: %w", err)
	}
	fmt.Fprintf(w, "\nverified: %d doses logged through the API are all stored, each exactly once, and each took one unit of supply\n", fx.logged.Load())
	if len(failed) > 0 {
		counts := map[string]int{}
		var names []string
		for _, f := range failed {
			if counts[f]++; counts[f] == 1 {
				names = append(names, f)
			}
		}
		for i, n := range names {
			names[i] = fmt.Sprintf("%s (%d of %d runs)", n, counts[n], max(o.repeat, 1))
		}
		fmt.Fprintf(w, "targets missed: %s\n", strings.Join(names, "; "))
	}
	return nil
}

// client speaks the JSON API with a bearer token.
type client struct {
	base  string
	token string
	http  *http.Client
}

// do sends a request and decodes a JSON answer into out (when not nil).
func (c *client) do(method, path string, body any, out any) (int, error) {
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		rd = bytes.NewReader(b)
	default:
		buf, err := json.Marshal(b)
		if err != nil {
			return 0, err
		}
		rd = bytes.NewReader(buf)
	}
	req, err := http.NewRequest(method, c.base+path, rd)
	if err != nil {
		return 0, err
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	res, err := c.http.Do(req)
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	if out != nil && res.StatusCode < 300 {
		if err := json.NewDecoder(res.Body).Decode(out); err != nil {
			return res.StatusCode, err
		}
	} else {
		_, _ = io.Copy(io.Discard, res.Body)
	}
	return res.StatusCode, nil
}

func (c *client) must(want int, method, path string, body any, out any) error {
	status, err := c.do(method, path, body, out)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	if status != want {
		return fmt.Errorf("%s %s: status %d, want %d", method, path, status, want)
	}
	return nil
}

// fixture is the family the load runs against: many FOUR_TIMES_DAILY
// medications whose past doses are logged one by one, and a recipient with a
// realistic day for the schedule reads.
type fixture struct {
	c           *client
	doses       []dose
	next        atomic.Int64 // index of the next unlogged dose
	logged      atomic.Int64 // 201s
	meds        []string
	supply      int
	scheduleReq string
}

type dose struct {
	path string // /medications/{id}/log
	body []byte
	med  int
}

const (
	minMeds    = 60
	daysBack   = 400
	zone       = "America/New_York"
	initSupply = 100000
)

func setUp(c *client, o options, w io.Writer) (*fixture, error) {
	var reg struct {
		AccessToken string `json:"accessToken"`
	}
	if err := c.must(201, "POST", "/auth/register", map[string]any{"email": "load@example.com",
		"password": "a sturdy load test passphrase", "fullName": "Load Tester"}, &reg); err != nil {
		return nil, err
	}
	c.token = reg.AccessToken
	var fam, logCR, schedCR struct {
		ID string `json:"id"`
	}
	if err := c.must(201, "POST", "/families", map[string]any{"name": "Load"}, &fam); err != nil {
		return nil, err
	}
	for _, cr := range []*struct {
		ID string `json:"id"`
	}{&logCR, &schedCR} {
		if err := c.must(201, "POST", "/care-recipients", map[string]any{"familyId": fam.ID, "firstName": "Robert",
			"lastName": "Load", "timezone": zone}, cr); err != nil {
			return nil, err
		}
	}
	loc, err := time.LoadLocation(zone)
	if err != nil {
		return nil, err
	}
	today := carecircle.DateOf(time.Now(), loc)
	first := today.AddDays(-daysBack)
	times := []string{"08:00", "12:00", "16:00", "20:00"}
	fx := &fixture{c: c, supply: initSupply}
	// Enough fresh doses for the most any run could log (the closed loop
	// is bounded by what the machine does; 5,000 req/s is far above it).
	need := (o.logRate + 5000) * int((o.duration+o.warmup)/time.Second+1) * max(o.repeat, 1)
	logMeds := max(minMeds, need/(4*daysBack)+1)
	perMed := make([][]dose, logMeds)
	for i := range logMeds {
		var med struct {
			ID string `json:"id"`
		}
		if err := c.must(201, "POST", "/care-recipients/"+logCR.ID+"/medications", map[string]any{
			"name": fmt.Sprintf("Load medication %02d", i), "dosage": "1 tablet", "frequency": "FOUR_TIMES_DAILY",
			"times": times, "startDate": first.String(), "currentSupply": initSupply, "refillThreshold": 10,
		}, &med); err != nil {
			return nil, err
		}
		fx.meds = append(fx.meds, med.ID)
		plan := carecircle.DosePlan{Frequency: carecircle.FrequencyFourTimesDaily, Times: times, StartDate: &first}
		for d := first; d.Before(today); d = d.AddDays(1) {
			for _, t := range plan.DosesOn(d, loc) {
				perMed[i] = append(perMed[i], dose{path: "/medications/" + med.ID + "/log", med: i,
					body: []byte(`{"status":"GIVEN","scheduledTime":"` + t.UTC().Format(time.RFC3339) + `"}`)})
			}
		}
	}
	// Interleave medications so consecutive requests touch different rows.
	for j := 0; ; j++ {
		added := false
		for i := range perMed {
			if j < len(perMed[i]) {
				fx.doses = append(fx.doses, perMed[i][j])
				added = true
			}
		}
		if !added {
			break
		}
	}

	// The schedule recipient: eight medications, the morning's doses logged.
	for i, m := range []map[string]any{
		{"name": "Metformin", "dosage": "500mg", "frequency": "THREE_TIMES_DAILY", "times": []string{"08:00", "14:00", "20:00"}, "currentSupply": 90, "refillThreshold": 15},
		{"name": "Lisinopril", "dosage": "10mg", "frequency": "ONCE_DAILY", "times": []string{"08:00"}},
		{"name": "Atorvastatin", "dosage": "20mg", "frequency": "ONCE_DAILY", "times": []string{"21:00"}},
		{"name": "Levothyroxine", "dosage": "50mcg", "frequency": "ONCE_DAILY", "times": []string{"06:30"}},
		{"name": "Donepezil", "dosage": "5mg", "frequency": "ONCE_DAILY", "times": []string{"21:00"}},
		{"name": "Furosemide", "dosage": "20mg", "frequency": "TWICE_DAILY", "times": []string{"08:00", "14:00"}},
		{"name": "Alendronate", "dosage": "70mg", "frequency": "WEEKLY", "times": []string{"07:00"}, "daysOfWeek": []int{0, 1, 2, 3, 4, 5, 6}},
		{"name": "Paracetamol", "dosage": "1g", "frequency": "AS_NEEDED", "minIntervalMinutes": 240, "maxDosesPer24h": 4},
	} {
		var med struct {
			ID string `json:"id"`
		}
		if err := c.must(201, "POST", "/care-recipients/"+schedCR.ID+"/medications", m, &med); err != nil {
			return nil, err
		}
		if i < 2 {
			t := carecircle.LocalInstant(today, 8, 0, loc)
			if t.Before(time.Now()) {
				if err := c.must(201, "POST", "/medications/"+med.ID+"/log", map[string]any{"status": "GIVEN",
					"scheduledTime": t.UTC().Format(time.RFC3339)}, nil); err != nil {
					return nil, err
				}
			}
		}
	}
	fx.scheduleReq = "/care-recipients/" + schedCR.ID + "/medications/schedule"
	var sch struct {
		Items []json.RawMessage `json:"items"`
	}
	if err := c.must(200, "GET", fx.scheduleReq, nil, &sch); err != nil {
		return nil, err
	}
	fmt.Fprintf(w, "fixture: %d medications × 4 doses × %d days = %d fresh doses to log; schedule of %d doses over 8 medications\n",
		logMeds, daysBack, len(fx.doses), len(sch.Items))
	return fx, nil
}

// logDose logs the next fresh dose; it returns the HTTP status.
func (fx *fixture) logDose() (int, error) {
	i := fx.next.Add(1) - 1
	if int(i) >= len(fx.doses) {
		return 0, errors.New("ran out of fresh doses")
	}
	d := fx.doses[i]
	status, err := fx.c.do("POST", d.path, d.body, nil)
	if status == 201 {
		fx.logged.Add(1)
	}
	return status, err
}

func (fx *fixture) readSchedule() (int, error) {
	return fx.c.do("GET", fx.scheduleReq, nil, nil)
}

// verify checks the database agrees with what the API acknowledged: each
// 201 is a stored log, and the supplies went down by exactly that many.
func (fx *fixture) verify() error {
	taken := 0
	for _, id := range fx.meds {
		var m struct {
			CurrentSupply int `json:"currentSupply"`
		}
		if err := fx.c.must(200, "GET", "/medications/"+id, nil, &m); err != nil {
			return err
		}
		taken += fx.supply - m.CurrentSupply
	}
	if int64(taken) != fx.logged.Load() {
		return fmt.Errorf("supplies fell by %d, but %d doses were acknowledged", taken, fx.logged.Load())
	}
	return nil
}

// result is one scenario's measurements.
type result struct {
	name, offered, target string
	ok                    bool
	latencies             []time.Duration
	byStatus              map[int]int
	wantStatus            int
	transportErrors       int
	elapsed               time.Duration
	cpuPerReq             time.Duration // process CPU (server and load generator) per request
	diskP99, diskMax      time.Duration // an independent small fsync, sampled during the scenario
}

func (r *result) p(q float64) time.Duration {
	if len(r.latencies) == 0 {
		return 0
	}
	return r.latencies[min(len(r.latencies)-1, int(q*float64(len(r.latencies))))]
}

func (r *result) rate() float64 { return float64(len(r.latencies)) / r.elapsed.Seconds() }

func (r *result) errors() int {
	n := r.transportErrors
	for status, c := range r.byStatus {
		if status != r.wantStatus {
			n += c
		}
	}
	return n
}

func (r *result) row() string {
	ms := func(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond)) }
	verdict := "met"
	if !r.ok {
		verdict = "MISSED"
	}
	return fmt.Sprintf("| %s | %s | %.0f req/s | %s | %s | %s | %s | %d | %d µs | %s / %s | %s: %s |", r.name, r.offered, r.rate(),
		ms(r.p(0.50)), ms(r.p(0.90)), ms(r.p(0.99)), ms(r.p(1)), r.errors(), r.cpuPerReq.Microseconds(),
		ms(r.diskP99), ms(r.diskMax), r.target, verdict)
}

// collector gathers latencies and statuses from many goroutines.
type collector struct {
	mu  sync.Mutex
	res result
}

func (c *collector) add(lat time.Duration, status int, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err != nil {
		c.res.transportErrors++
		return
	}
	c.res.latencies = append(c.res.latencies, lat)
	c.res.byStatus[status]++
}

func (c *collector) finish(elapsed time.Duration, want int) result {
	c.mu.Lock()
	defer c.mu.Unlock()
	r := c.res
	slices.Sort(r.latencies)
	r.elapsed, r.wantStatus = elapsed, want
	return r
}

func newCollector(n int) *collector {
	return &collector{res: result{latencies: make([]time.Duration, 0, n), byStatus: map[int]int{}}}
}

// openLoop sends rate requests per second for d on a fixed timetable and
// measures each from its scheduled send time.
func openLoop(rate int, d time.Duration, want int, send func() (int, error)) result {
	n := int(d.Seconds() * float64(rate))
	interval := time.Second / time.Duration(rate)
	col := newCollector(n)
	var wg sync.WaitGroup
	start := time.Now()
	for i := range n {
		due := start.Add(time.Duration(i) * interval)
		if wait := time.Until(due); wait > 0 {
			time.Sleep(wait)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			status, err := send()
			col.add(time.Since(due), status, err)
		}()
	}
	wg.Wait()
	return col.finish(d, want)
}

// closedLoop keeps conns requests in flight for d and counts completions.
func closedLoop(conns int, d time.Duration, want int, send func() (int, error)) result {
	col := newCollector(1 << 16)
	deadline := time.Now().Add(d)
	start := time.Now()
	var wg sync.WaitGroup
	for range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(deadline) {
				t := time.Now()
				status, err := send()
				col.add(time.Since(t), status, err)
			}
		}()
	}
	wg.Wait()
	return col.finish(time.Since(start), want)
}

// cpuTime is the CPU time (user and system) the process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// fsyncProbe times small durable writes in dir, the cost every commit pays.
func fsyncProbe(dir string) (p50, p99, worst time.Duration, err error) {
	f, err := os.CreateTemp(dir, "fsync-probe-")
	if err != nil {
		return 0, 0, 0, err
	}
	defer os.Remove(f.Name())
	defer f.Close()
	buf := make([]byte, 16<<10)
	ds := make([]time.Duration, 0, 200)
	for range 200 {
		t := time.Now()
		if _, err := f.Write(buf); err != nil {
			return 0, 0, 0, err
		}
		if err := f.Sync(); err != nil {
			return 0, 0, 0, err
		}
		ds = append(ds, time.Since(t))
	}
	slices.Sort(ds)
	return ds[len(ds)/2], ds[len(ds)*99/100], ds[len(ds)-1], nil
}

// diskWatch samples the latency of a small write+fsync in DATA_DIR every
// 20 ms while a scenario runs, so a latency tail caused by the disk (shared
// with other work on the machine) can be told from one caused by the server.
type diskWatch struct {
	stop chan struct{}
	done chan []time.Duration
}

func watchDisk(dir string) *diskWatch {
	d := &diskWatch{stop: make(chan struct{}), done: make(chan []time.Duration, 1)}
	go func() {
		var ds []time.Duration
		defer func() { d.done <- ds }()
		f, err := os.CreateTemp(dir, "fsync-watch-")
		if err != nil {
			return
		}
		defer os.Remove(f.Name())
		defer f.Close()
		buf := make([]byte, 4<<10)
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-d.stop:
				return
			case <-tick.C:
			}
			t := time.Now()
			if _, err := f.WriteAt(buf, 0); err != nil {
				return
			}
			if err := f.Sync(); err != nil {
				return
			}
			ds = append(ds, time.Since(t))
		}
	}()
	return d
}

// finish stops sampling and returns the p99 and the worst fsync seen.
func (d *diskWatch) finish() (p99, worst time.Duration) {
	close(d.stop)
	ds := <-d.done
	if len(ds) == 0 {
		return 0, 0
	}
	slices.Sort(ds)
	return ds[len(ds)*99/100], ds[len(ds)-1]
}

// settle waits until the durable event consumers (the audit log) have
// handled every recorded event, and says how long that took.
func settle(ctx context.Context, db *storage.DB) (time.Duration, error) {
	start := time.Now()
	deadline := start.Add(5 * time.Minute)
	for {
		head, err := db.LastEventSeq(ctx)
		if err != nil {
			return 0, err
		}
		at, found, err := db.ConsumerOffset(ctx, "audit")
		if err != nil {
			return 0, err
		}
		if !found || at >= head {
			return time.Since(start), nil
		}
		if time.Now().After(deadline) {
			return 0, fmt.Errorf("the audit consumer is still %d events behind after 5 minutes", head-at)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
