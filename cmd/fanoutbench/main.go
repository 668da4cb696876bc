// Command fanoutbench measures emergency-alert fan-out (DESIGN §5): how long
// from the POST of an alert until every connected member of the family has
// it on their WebSocket, with 10,000 sockets open, and how much memory the
// server holds meanwhile. By default it measures one embedded server; with
// -postgres and -amqp, two instances scaled out on PostgreSQL and RabbitMQ.
//
// Run it from the module root:
//
//	go run ./cmd/fanoutbench                    # 1,000 families × 10 members, 200 alerts at 20/s
//	go run ./cmd/fanoutbench -families 100 -alerts 50 -keep
//	go run ./cmd/fanoutbench -postgres 'postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable' \
//	    -amqp amqp://guest:guest@127.0.0.1:5672/
//
// It seeds a fresh SQLite database in a temporary DATA_DIR through
// internal/storage (one password hash shared by every account; tokens minted
// with the JWT secret it gives the server; built in /dev/shm when there is
// one, then copied, because 30,000 fsynced commits are slow), raises
// RLIMIT_NOFILE to the hard limit for itself and the server, builds ./cmd/carecircle (or uses
// -server-bin) and runs it as a separate process so that the RSS it reads
// from /proc is the server's alone. It then opens one socket per member,
// raises alerts open-loop, each as the ADMIN of a random family, and checks
// that every alert reached every member of its family and no one else.
// Latency is POST sent → message read, both on this process's monotonic
// clock; the tool shares the machine's CPUs with the server it measures.
//
// Scale-out mode (-postgres and -amqp) creates a database cc_bench_<random>
// on the PostgreSQL server, seeds it the same way (the seeding connections
// alone with synchronous_commit=off), and starts two `carecircle serve`
// processes, A and B, on it and on the broker, sharing JWT_SECRET and
// ENCRYPTION_KEY, with an exchange and queue prefix of their own
// (fanoutbench.<random>). Each server also runs the relay, consumers and
// jobs, as a lone server does, so no separate worker is started. It waits
// until the seeding's events have been relayed and consumed, then splits
// every family's members between A and B (alternately), POSTs the alerts to
// A and B in turn, and times each alert to every member on both. Afterwards
// it drops the database and deletes the exchange and the shared queues.
//
// It prints a summary for the README's Performance section and exits 1 if
// any alert failed, went missing or reached the wrong family. Performance
// targets are reported, not enforced. Flags:
//
//	-families N      families to seed (1000)
//	-members N       members per family, ADMIN included (10)
//	-alerts N        alerts to raise (200)
//	-rate R          alerts per second (20)
//	-dial N          sockets dialled at once (100)
//	-settle D        how long RSS is sampled once all sockets are open (3s)
//	-drain D         how long to wait for late deliveries after the last POST (15s)
//	-seed N          random seed for the family picks (1)
//	-server-bin P    use this carecircle binary instead of building one
//	-postgres URL    scale out: a PostgreSQL server (the tool creates and
//	                 drops its own database on it); needs -amqp
//	-amqp URL        scale out: the RabbitMQ broker; needs -postgres
//	-keep            keep the DATA_DIR (database, server.log) afterwards
//	-hold D          keep the sockets open for D after the alerts, e.g. to
//	                 profile the server (its environment is passed through)
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"log/slog"
	mrand "math/rand/v2"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"

	"github.com/carecircle/carecircle/internal/auth"
)

// config is the command line.
type config struct {
	families, members, alerts, dial int
	rate                            float64
	settle, drain, hold             time.Duration
	seed                            uint64
	serverBin                       string
	keep                            bool
	postgres, amqp                  string // scale-out mode when set
}

// scaleOut reports whether the run measures two instances on PostgreSQL
// and RabbitMQ.
func (c config) scaleOut() bool { return c.postgres != "" }

func main() {
	var c config
	flag.IntVar(&c.families, "families", 1000, "families to seed")
	flag.IntVar(&c.members, "members", 10, "members per family, ADMIN included")
	flag.IntVar(&c.alerts, "alerts", 200, "alerts to raise")
	flag.Float64Var(&c.rate, "rate", 20, "alerts per second (open loop)")
	flag.IntVar(&c.dial, "dial", 100, "sockets dialled concurrently")
	flag.DurationVar(&c.settle, "settle", 3*time.Second, "RSS sampling time with all sockets open")
	flag.DurationVar(&c.drain, "drain", 15*time.Second, "wait for late deliveries after the last POST")
	flag.Uint64Var(&c.seed, "seed", 1, "random seed for the family picks")
	flag.StringVar(&c.serverBin, "server-bin", "", "carecircle binary to run (default: build ./cmd/carecircle)")
	flag.BoolVar(&c.keep, "keep", false, "keep the temporary DATA_DIR")
	flag.DurationVar(&c.hold, "hold", 0, "keep the sockets open this long after the alerts (to profile the server)")
	flag.StringVar(&c.postgres, "postgres", "", "scale out: PostgreSQL server URL (a database cc_bench_<random> is created and dropped); needs -amqp")
	flag.StringVar(&c.amqp, "amqp", "", "scale out: RabbitMQ URL; needs -postgres")
	flag.Parse()
	if c.families < 1 || c.members < 1 || c.alerts < 1 || c.rate <= 0 || c.dial < 1 {
		fmt.Fprintln(os.Stderr, "fanoutbench: -families, -members, -alerts, -rate and -dial must be positive")
		os.Exit(2)
	}
	if (c.postgres == "") != (c.amqp == "") {
		fmt.Fprintln(os.Stderr, "fanoutbench: scale-out mode needs both -postgres and -amqp")
		os.Exit(2)
	}
	// The storage layer's migration notes are not the benchmark's business.
	slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	ok, err := run(ctx, c, os.Stdout, os.Stderr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "fanoutbench:", err)
		os.Exit(1)
	}
	if !ok {
		os.Exit(1)
	}
}

// instance is one server under test and what was measured of it.
type instance struct {
	name                                      string // "A", "B" when scaled out; "" for the embedded server
	srv                                       *server
	sockets                                   int
	idleRSS, openRSS, alertRSS, afterRSS, hwm uint64
	connectCPU, alertCPU                      time.Duration
	openGo                                    goMemory
	openSplit                                 string
	warnings                                  int
	warningSample                             string
}

// label names the instance in progress lines.
func (in *instance) label() string {
	if in.name == "" {
		return "server"
	}
	return "server " + in.name
}

// report is everything the summary prints.
type report struct {
	cfg                    config
	loadStart, loadEnd     string
	fileLimit              uint64
	seedTime               time.Duration
	instances              []*instance
	backlogTime            time.Duration // scale-out: relaying and consuming the seeding's events
	backlogEvents          int
	connectTime            time.Duration
	alertWall              time.Duration
	sockets, droppedBefore int
	dialRetries            int64
	out                    outcome
}

// run is the whole benchmark; it reports false when alerts were lost or
// misdelivered.
func run(ctx context.Context, c config, stdout, progress io.Writer) (bool, error) {
	r := report{cfg: c, loadStart: loadAvg()}
	logf := func(format string, args ...any) { fmt.Fprintf(progress, "fanoutbench: "+format+"\n", args...) }
	var err error
	if r.fileLimit, err = raiseFileLimit(); err != nil {
		return false, err
	}
	if need := uint64(c.families*c.members + 256); r.fileLimit < need {
		return false, fmt.Errorf("RLIMIT_NOFILE is %d, %d sockets need at least %d", r.fileLimit, c.families*c.members, need)
	}
	tmp, err := os.MkdirTemp("", "fanoutbench-")
	if err != nil {
		return false, err
	}
	if c.keep {
		logf("keeping %s", tmp)
	} else {
		defer os.RemoveAll(tmp)
	}
	secretBytes := make([]byte, 32)
	_, _ = rand.Read(secretBytes)
	secret := hex.EncodeToString(secretBytes)
	signer, err := auth.NewSigner([]byte(secret))
	if err != nil {
		return false, err
	}

	// Build and seed at once: one is the compiler, the other mostly fsync.
	bin := c.serverBin
	built := make(chan error, 1)
	if bin == "" {
		go func() {
			var err error
			bin, err = buildServer(ctx, tmp)
			built <- err
		}()
	} else {
		built <- nil
	}
	waitBuilt := func() (string, error) { return bin, <-built }

	var fams []family
	if c.scaleOut() {
		var d *deployment
		d, err = deployScaleOut(ctx, c, tmp, signer, secret, waitBuilt, &r, logf)
		if d != nil {
			defer d.teardown(logf)
		}
		if err != nil {
			return false, err
		}
		fams = d.fams
	} else {
		fams, err = deployEmbedded(ctx, c, tmp, signer, secret, waitBuilt, &r, logf)
		for _, in := range r.instances {
			defer in.srv.stop()
		}
		if err != nil {
			return false, err
		}
	}
	ins := r.instances
	for i, rss := range sampleRSS(ins, time.Second, 100*time.Millisecond) {
		ins[i].idleRSS = rss
		logf("%s pid %d ready in %s, idle RSS %s", ins[i].label(), ins[i].srv.cmd.Process.Pid,
			ins[i].srv.ready.Round(time.Millisecond), mb(rss))
	}

	var wsURLs, bases []string
	for _, in := range ins {
		bases = append(bases, in.srv.base)
		wsURLs = append(wsURLs, strings.Replace(in.srv.base, "http://", "ws://", 1)+"/api/v1/ws")
	}
	cpu0 := cpuTimes(ins)
	t := time.Now()
	fl, err := dialAll(ctx, wsURLs, fams, c.dial)
	if err != nil {
		for _, in := range ins {
			err = fmt.Errorf("%w\n%s log:\n%s", err, in.label(), in.srv.logTail(20))
		}
		return false, err
	}
	defer fl.closeAll()
	r.connectTime = time.Since(t)
	for i, d := range cpuTimes(ins) {
		ins[i].connectCPU = d - cpu0[i]
	}
	r.sockets = len(fl.sockets)
	for _, s := range fl.sockets {
		ins[s.instance].sockets++
	}
	r.dialRetries = fl.retries.Load()
	logf("%d sockets open in %s", r.sockets, r.connectTime.Round(time.Millisecond))
	for i, rss := range sampleRSS(ins, c.settle, 250*time.Millisecond) {
		ins[i].openRSS = rss
	}
	r.droppedBefore = int(fl.dropped.Load())
	for _, in := range ins {
		if in.openGo, err = in.srv.goMemory(ctx); err != nil {
			logf("%v", err)
		}
		in.openSplit = in.srv.rssSplit()
		prefix := ""
		if in.name != "" {
			prefix = in.label() + ": "
		}
		logf("%sRSS with all sockets open: %s (%s); Go: %s", prefix, mb(in.openRSS), in.openSplit, in.openGo)
	}

	logf("raising %d alerts at %g/s", c.alerts, c.rate)
	sampling := make(chan []uint64, 1)
	stopSampling := make(chan struct{})
	go func() {
		peak := make([]uint64, len(ins))
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			for i, in := range ins {
				peak[i] = max(peak[i], in.srv.rss())
			}
			select {
			case <-stopSampling:
				sampling <- peak
				return
			case <-tick.C:
			}
		}
	}()
	cpu0 = cpuTimes(ins)
	t = time.Now()
	shots := fireAlerts(ctx, bases, fams, c.alerts, c.rate, mrand.New(mrand.NewPCG(c.seed, 0x66616e6f7574)))
	expected := 0
	for _, s := range shots {
		if s.err == nil {
			expected += len(fams[s.family].members)
		}
	}
	waitDeliveries(ctx, fl, int64(expected), c.drain)
	r.alertWall = time.Since(t)
	for i, d := range cpuTimes(ins) {
		ins[i].alertCPU = d - cpu0[i]
	}
	close(stopSampling)
	for i, peak := range <-sampling {
		ins[i].alertRSS = peak
	}
	dropped := fl.dropped.Load()
	for _, in := range ins {
		in.afterRSS, in.hwm, _ = in.srv.memory()
	}
	if c.hold > 0 {
		for _, in := range ins {
			logf("holding %d sockets open for %s (%s pid %d, %s)", in.sockets, c.hold, in.label(), in.srv.cmd.Process.Pid, in.srv.base)
		}
		select {
		case <-ctx.Done():
		case <-time.After(c.hold):
		}
	}
	fl.closeAll()
	r.out = tally(fams, shots, fl)
	r.droppedBefore = int(dropped)
	for _, in := range ins {
		in.warnings, in.warningSample = countWarnings(in.srv.logTail(1 << 20))
	}
	r.loadEnd = loadAvg()
	writeSummary(stdout, r)
	return !r.out.failed() && r.droppedBefore == 0, nil
}

// deployEmbedded seeds a SQLite database in a DATA_DIR under tmp and starts
// one server on it. The server it started, if any, is in r.instances even
// when it fails.
func deployEmbedded(ctx context.Context, c config, tmp string, signer *auth.Signer, secret string,
	waitBuilt func() (string, error), r *report, logf func(string, ...any)) ([]family, error) {
	dataDir := filepath.Join(tmp, "data")
	logf("seeding %d families × %d members", c.families, c.members)
	t := time.Now()
	fams, err := seedInto(ctx, dataDir, signer, c.families, c.members)
	if err != nil {
		_, _ = waitBuilt()
		return nil, err
	}
	r.seedTime = time.Since(t)
	logf("seeded %d users in %s", c.families*c.members, r.seedTime.Round(time.Millisecond))
	bin, err := waitBuilt()
	if err != nil {
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	srv, err := startServer(ctx, bin, dataDir, port, secret)
	if err != nil {
		return nil, err
	}
	r.instances = []*instance{{srv: srv}}
	return fams, nil
}

// sampleRSS samples every instance's resident set every interval for d and
// returns each one's highest reading.
func sampleRSS(ins []*instance, d, interval time.Duration) []uint64 {
	peak := make([]uint64, len(ins))
	tick := time.NewTicker(interval)
	defer tick.Stop()
	end := time.After(d)
	for {
		for i, in := range ins {
			peak[i] = max(peak[i], in.srv.rss())
		}
		select {
		case <-end:
			return peak
		case <-tick.C:
		}
	}
}

// cpuTimes returns each instance's CPU time so far.
func cpuTimes(ins []*instance) []time.Duration {
	d := make([]time.Duration, len(ins))
	for i, in := range ins {
		d[i] = in.srv.cpuTime()
	}
	return d
}

// waitDeliveries waits until the sockets have received expected alert
// deliveries, then a little longer to catch any that should not arrive (to
// another family, or twice); at most limit in all.
func waitDeliveries(ctx context.Context, fl *fleet, expected int64, limit time.Duration) {
	deadline := time.Now().Add(limit)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for fl.received.Load() < expected && time.Now().Before(deadline) {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
	grace := time.NewTimer(min(time.Second, max(0, time.Until(deadline))))
	defer grace.Stop()
	select {
	case <-ctx.Done():
	case <-grace.C:
	}
}

// countWarnings counts the WARN and ERROR lines the server logged.
func countWarnings(log string) (int, string) {
	n, first := 0, ""
	for line := range strings.SplitSeq(log, "\n") {
		if strings.Contains(line, "level=WARN") || strings.Contains(line, "level=ERROR") {
			if n == 0 {
				first = line
			}
			n++
		}
	}
	return n, first
}

// loadAvg returns the 1, 5 and 15 minute load averages.
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

func mb(b uint64) string { return fmt.Sprintf("%.1f MB", float64(b)/(1<<20)) }

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond)) }

func verdict(ok bool) string {
	if ok {
		return "met"
	}
	return "MISSED"
}

// writeSummary prints the block the README's Performance section quotes.
func writeSummary(w io.Writer, r report) {
	c, o := r.cfg, r.out
	args := strings.Join(os.Args[1:], " ")
	if args == "" {
		args = "(defaults)"
	}
	p50, p90, p99 := percentile(o.latencies, 0.50), percentile(o.latencies, 0.90), percentile(o.latencies, 0.99)
	var worst time.Duration
	if len(o.latencies) > 0 {
		worst = o.latencies[len(o.latencies)-1]
	}
	ins := r.instances
	scaled := c.scaleOut()
	// per formats one figure of every instance: "A 12 ms, B 14 ms".
	per := func(f func(in *instance) string) string {
		parts := make([]string, len(ins))
		for i, in := range ins {
			parts[i] = in.name + " " + f(in)
		}
		return strings.Join(parts, ", ")
	}
	if scaled {
		fmt.Fprintf(w, "\n== fanoutbench: emergency alert fan-out, two instances (PostgreSQL + RabbitMQ) ==\n")
	} else {
		fmt.Fprintf(w, "\n== fanoutbench: emergency alert fan-out, embedded server (SQLite) ==\n")
	}
	fmt.Fprintf(w, "command     go run ./cmd/fanoutbench %s\n", args)
	fmt.Fprintf(w, "machine     %d CPUs, %s/%s, %s, load avg %s at start, %s at end, RLIMIT_NOFILE %d\n",
		runtime.NumCPU(), runtime.GOOS, runtime.GOARCH, runtime.Version(), r.loadStart, r.loadEnd, r.fileLimit)
	if scaled {
		fmt.Fprintf(w, "setup       %d families × %d members = %d sockets, each family's members alternating over %d servers (%s); seeded into PostgreSQL in %s; the seeding's %d events relayed and consumed in %s before the run\n",
			c.families, c.members, c.families*c.members, len(ins), per(func(in *instance) string { return fmt.Sprint(in.sockets) }),
			r.seedTime.Round(100*time.Millisecond), r.backlogEvents, r.backlogTime.Round(100*time.Millisecond))
		fmt.Fprintf(w, "startup     %s (idle: once the backlog is consumed)\n", per(func(in *instance) string {
			return fmt.Sprintf("ready %s after exec, idle RSS %s", in.srv.ready.Round(time.Millisecond), mb(in.idleRSS))
		}))
		fmt.Fprintf(w, "sockets     %d open in %s (%d at a time, %d dial retries, server CPU %s); RSS with all open %s\n",
			r.sockets, r.connectTime.Round(time.Millisecond), c.dial, r.dialRetries,
			per(func(in *instance) string { return in.connectCPU.Round(10 * time.Millisecond).String() }),
			per(func(in *instance) string { return mb(in.openRSS) }))
		fmt.Fprintf(w, "alerts      %d raised at %g/s open-loop, POSTed to the servers in turn (%d failed); server CPU %s over %s\n",
			o.alertsOK+o.alertsFailed, c.rate, o.alertsFailed,
			per(func(in *instance) string { return in.alertCPU.Round(10 * time.Millisecond).String() }), r.alertWall.Round(100*time.Millisecond))
	} else {
		in := ins[0]
		fmt.Fprintf(w, "setup       %d families × %d members = %d sockets; seeded in %s\n",
			c.families, c.members, c.families*c.members, r.seedTime.Round(100*time.Millisecond))
		fmt.Fprintf(w, "startup     ready %s after exec; idle RSS %s\n", in.srv.ready.Round(time.Millisecond), mb(in.idleRSS))
		fmt.Fprintf(w, "sockets     %d open in %s (%d at a time, %d dial retries, server CPU %s); RSS %s with all open\n",
			r.sockets, r.connectTime.Round(time.Millisecond), c.dial, r.dialRetries, in.connectCPU.Round(10*time.Millisecond), mb(in.openRSS))
		fmt.Fprintf(w, "alerts      %d raised at %g/s open-loop (%d failed); server CPU %s over %s\n",
			o.alertsOK+o.alertsFailed, c.rate, o.alertsFailed, in.alertCPU.Round(10*time.Millisecond), r.alertWall.Round(100*time.Millisecond))
	}
	fmt.Fprintf(w, "delivery    %d/%d (alert, member) deliveries; missing %d, other family %d, wrong familyId %d, unknown %d, duplicates %d, sockets dropped %d\n",
		len(o.latencies), o.expected, o.missing, o.misdelivered, o.wrongFamilyData, o.unknown, o.duplicates, r.droppedBefore)
	fmt.Fprintf(w, "latency     POST → socket: p50 %s  p90 %s  p99 %s  max %s\n", ms(p50), ms(p90), ms(p99), ms(worst))
	if scaled {
		cl := o.crossLatencies
		var cworst time.Duration
		if len(cl) > 0 {
			cworst = cl[len(cl)-1]
		}
		fmt.Fprintf(w, "            of which socket on the other server than the POST (%d): p50 %s  p99 %s  max %s\n",
			len(cl), ms(percentile(cl, 0.5)), ms(percentile(cl, 0.99)), ms(cworst))
	}
	fmt.Fprintf(w, "POST        201 in p50 %s  p99 %s; spread first → last member of a family p50 %s  p99 %s\n",
		ms(percentile(o.postLatencies, 0.5)), ms(percentile(o.postLatencies, 0.99)),
		ms(percentile(o.spreads, 0.5)), ms(percentile(o.spreads, 0.99)))
	for _, in := range ins {
		name := "server"
		if scaled {
			name = "server " + in.name
		}
		fmt.Fprintf(w, "%-11s %sidle %s; all open %s; during alerts max %s; after %s; peak (VmHWM) %s\n",
			name+" RSS", socketsNote(scaled, in), mb(in.idleRSS), mb(in.openRSS), mb(in.alertRSS), mb(in.afterRSS), mb(in.hwm))
		fmt.Fprintf(w, "%-11s with all open: RSS %s; Go: %s\n", name+" mem", in.openSplit, in.openGo)
		if in.warnings > 0 {
			fmt.Fprintf(w, "%-11s %d warnings/errors, first: %s\n", name+" log", in.warnings, in.warningSample)
		}
	}
	if o.firstPostErr != nil {
		fmt.Fprintf(w, "first POST error: %v\n", o.firstPostErr)
	}
	fullSize := c.families*c.members >= 10000
	note := ""
	if !fullSize {
		note = " (fewer than 10,000 sockets: not the DESIGN load)"
	}
	fmt.Fprintf(w, "targets%s (DESIGN §5):\n", note)
	if scaled {
		fmt.Fprintf(w, "  alert p99 ≤ 100 ms with 10,000 sockets, two instances   %s (%s)\n", verdict(len(o.latencies) > 0 && p99 <= 100*time.Millisecond), ms(p99))
		for _, in := range ins {
			fmt.Fprintf(w, "  server %s idle ≤ 50 MB (after the backlog)              %s (%s)\n", in.name, verdict(in.idleRSS <= 50<<20), mb(in.idleRSS))
			fmt.Fprintf(w, "  server %s ready ≤ 1 s after start                       %s (%s)\n", in.name, verdict(in.srv.ready <= time.Second), in.srv.ready.Round(time.Millisecond))
		}
		fmt.Fprintf(w, "  (the 300 MB bar is for 10,000 sockets on one server; here each holds its share, RSS above)\n")
	} else {
		in := ins[0]
		fmt.Fprintf(w, "  alert p99 ≤ 100 ms with 10,000 sockets   %s (%s)\n", verdict(len(o.latencies) > 0 && p99 <= 100*time.Millisecond), ms(p99))
		fmt.Fprintf(w, "  10,000 sockets in ≤ 300 MB RSS           %s (%s)\n", verdict(max(in.openRSS, in.alertRSS) <= 300<<20), mb(max(in.openRSS, in.alertRSS)))
		fmt.Fprintf(w, "  idle server ≤ 50 MB                      %s (%s)\n", verdict(in.idleRSS <= 50<<20), mb(in.idleRSS))
		fmt.Fprintf(w, "  ready ≤ 1 s after start                  %s (%s)\n", verdict(in.srv.ready <= time.Second), in.srv.ready.Round(time.Millisecond))
	}
	if o.failed() || r.droppedBefore > 0 {
		fmt.Fprintf(w, "RESULT: FAIL — alerts were lost, misdelivered or not raised\n")
	} else {
		fmt.Fprintf(w, "RESULT: every alert reached every member of its family and no one else\n")
	}
}

// socketsNote says, scaled out, how many sockets the instance's figures are for.
func socketsNote(scaled bool, in *instance) string {
	if !scaled {
		return ""
	}
	return fmt.Sprintf("(%d sockets) ", in.sockets)
}
