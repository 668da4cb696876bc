// Command fanoutbench measures emergency-alert fan-out on one embedded
// CareCircle server (DESIGN §5): how long from the POST of an alert until
// every connected member of the family has it on their WebSocket, with
// 10,000 sockets open, and how much memory the server holds meanwhile.
//
// Run it from the module root:
//
//	go run ./cmd/fanoutbench                    # 1,000 families × 10 members, 200 alerts at 20/s
//	go run ./cmd/fanoutbench -families 100 -alerts 50 -keep
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
}

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
	flag.Parse()
	if c.families < 1 || c.members < 1 || c.alerts < 1 || c.rate <= 0 || c.dial < 1 {
		fmt.Fprintln(os.Stderr, "fanoutbench: -families, -members, -alerts, -rate and -dial must be positive")
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

// report is everything the summary prints.
type report struct {
	cfg                     config
	loadStart, loadEnd      string
	fileLimit               uint64
	seedTime                time.Duration
	ready                   time.Duration
	idleRSS, openRSS        uint64
	alertRSS, afterRSS, hwm uint64
	connectTime             time.Duration
	connectCPU, alertCPU    time.Duration
	alertWall               time.Duration
	sockets, droppedBefore  int
	dialRetries             int64
	out                     outcome
	serverWarnings          int
	serverWarningSample     string
	openGo                  goMemory
	openSplit               string
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
	dataDir := filepath.Join(tmp, "data")
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
	logf("seeding %d families × %d members", c.families, c.members)
	t := time.Now()
	fams, err := seedInto(ctx, dataDir, signer, c.families, c.members)
	if err != nil {
		<-built
		return false, err
	}
	r.seedTime = time.Since(t)
	logf("seeded %d users in %s", c.families*c.members, r.seedTime.Round(time.Millisecond))
	if err := <-built; err != nil {
		return false, err
	}

	port, err := freePort()
	if err != nil {
		return false, err
	}
	srv, err := startServer(ctx, bin, dataDir, port, secret)
	if err != nil {
		return false, err
	}
	defer srv.stop()
	r.ready = srv.ready
	r.idleRSS = srv.peakRSS(time.Second, 100*time.Millisecond)
	logf("server pid %d ready in %s, idle RSS %s", srv.cmd.Process.Pid, r.ready.Round(time.Millisecond), mb(r.idleRSS))

	wsURL := strings.Replace(srv.base, "http://", "ws://", 1) + "/api/v1/ws"
	cpu0 := srv.cpuTime()
	t = time.Now()
	fl, err := dialAll(ctx, wsURL, fams, c.dial)
	if err != nil {
		return false, fmt.Errorf("%w\nserver log:\n%s", err, srv.logTail(20))
	}
	defer fl.closeAll()
	r.connectTime = time.Since(t)
	r.connectCPU = srv.cpuTime() - cpu0
	r.sockets = len(fl.sockets)
	r.dialRetries = fl.retries.Load()
	logf("%d sockets open in %s", r.sockets, r.connectTime.Round(time.Millisecond))
	r.openRSS = srv.peakRSS(c.settle, 250*time.Millisecond)
	r.droppedBefore = int(fl.dropped.Load())
	if r.openGo, err = srv.goMemory(ctx); err != nil {
		logf("%v", err)
	}
	r.openSplit = srv.rssSplit()
	logf("RSS with all sockets open: %s (%s); Go: %s", mb(r.openRSS), r.openSplit, r.openGo)

	logf("raising %d alerts at %g/s", c.alerts, c.rate)
	sampling := make(chan uint64, 1)
	stopSampling := make(chan struct{})
	go func() {
		var peak uint64
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			if v := srv.rss(); v > peak {
				peak = v
			}
			select {
			case <-stopSampling:
				sampling <- peak
				return
			case <-tick.C:
			}
		}
	}()
	cpu0 = srv.cpuTime()
	t = time.Now()
	shots := fireAlerts(ctx, srv.base, fams, c.alerts, c.rate, mrand.New(mrand.NewPCG(c.seed, 0x66616e6f7574)))
	expected := 0
	for _, s := range shots {
		if s.err == nil {
			expected += len(fams[s.family].members)
		}
	}
	waitDeliveries(ctx, fl, int64(expected), c.drain)
	r.alertWall = time.Since(t)
	r.alertCPU = srv.cpuTime() - cpu0
	close(stopSampling)
	r.alertRSS = <-sampling
	dropped := fl.dropped.Load()
	r.afterRSS, r.hwm, _ = srv.memory()
	if c.hold > 0 {
		logf("holding %d sockets open for %s (server pid %d, %s)", len(fl.sockets), c.hold, srv.cmd.Process.Pid, srv.base)
		select {
		case <-ctx.Done():
		case <-time.After(c.hold):
		}
	}
	fl.closeAll()
	r.out = tally(fams, shots, fl)
	r.droppedBefore = int(dropped)
	r.serverWarnings, r.serverWarningSample = countWarnings(srv.logTail(1 << 20))
	r.loadEnd = loadAvg()
	writeSummary(stdout, r)
	return !r.out.failed() && r.droppedBefore == 0, nil
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
	fmt.Fprintf(w, "\n== fanoutbench: emergency alert fan-out, embedded server (SQLite) ==\n")
	fmt.Fprintf(w, "command     go run ./cmd/fanoutbench %s\n", args)
	fmt.Fprintf(w, "machine     %d CPUs, %s/%s, %s, load avg %s at start, %s at end, RLIMIT_NOFILE %d\n",
		runtime.NumCPU(), runtime.GOOS, runtime.GOARCH, runtime.Version(), r.loadStart, r.loadEnd, r.fileLimit)
	fmt.Fprintf(w, "setup       %d families × %d members = %d sockets; seeded in %s\n",
		c.families, c.members, c.families*c.members, r.seedTime.Round(100*time.Millisecond))
	fmt.Fprintf(w, "startup     ready %s after exec; idle RSS %s\n", r.ready.Round(time.Millisecond), mb(r.idleRSS))
	fmt.Fprintf(w, "sockets     %d open in %s (%d at a time, %d dial retries, server CPU %s); RSS %s with all open\n",
		r.sockets, r.connectTime.Round(time.Millisecond), c.dial, r.dialRetries, r.connectCPU.Round(10*time.Millisecond), mb(r.openRSS))
	fmt.Fprintf(w, "alerts      %d raised at %g/s open-loop (%d failed); server CPU %s over %s\n",
		o.alertsOK+o.alertsFailed, c.rate, o.alertsFailed, r.alertCPU.Round(10*time.Millisecond), r.alertWall.Round(100*time.Millisecond))
	fmt.Fprintf(w, "delivery    %d/%d (alert, member) deliveries; missing %d, other family %d, wrong familyId %d, unknown %d, duplicates %d, sockets dropped %d\n",
		len(o.latencies), o.expected, o.missing, o.misdelivered, o.wrongFamilyData, o.unknown, o.duplicates, r.droppedBefore)
	fmt.Fprintf(w, "latency     POST → socket: p50 %s  p90 %s  p99 %s  max %s\n", ms(p50), ms(p90), ms(p99), ms(worst))
	fmt.Fprintf(w, "POST        201 in p50 %s  p99 %s; spread first → last member of a family p50 %s  p99 %s\n",
		ms(percentile(o.postLatencies, 0.5)), ms(percentile(o.postLatencies, 0.99)),
		ms(percentile(o.spreads, 0.5)), ms(percentile(o.spreads, 0.99)))
	fmt.Fprintf(w, "server RSS  idle %s; all open %s; during alerts max %s; after %s; peak (VmHWM) %s\n",
		mb(r.idleRSS), mb(r.openRSS), mb(r.alertRSS), mb(r.afterRSS), mb(r.hwm))
	fmt.Fprintf(w, "server mem  with all open: RSS %s; Go: %s\n", r.openSplit, r.openGo)
	if r.serverWarnings > 0 {
		fmt.Fprintf(w, "server log  %d warnings/errors, first: %s\n", r.serverWarnings, r.serverWarningSample)
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
	fmt.Fprintf(w, "  alert p99 ≤ 100 ms with 10,000 sockets   %s (%s)\n", verdict(len(o.latencies) > 0 && p99 <= 100*time.Millisecond), ms(p99))
	fmt.Fprintf(w, "  10,000 sockets in ≤ 300 MB RSS           %s (%s)\n", verdict(max(r.openRSS, r.alertRSS) <= 300<<20), mb(max(r.openRSS, r.alertRSS)))
	fmt.Fprintf(w, "  idle server ≤ 50 MB                      %s (%s)\n", verdict(r.idleRSS <= 50<<20), mb(r.idleRSS))
	fmt.Fprintf(w, "  ready ≤ 1 s after start                  %s (%s)\n", verdict(r.ready <= time.Second), r.ready.Round(time.Millisecond))
	if o.failed() || r.droppedBefore > 0 {
		fmt.Fprintf(w, "RESULT: FAIL — alerts were lost, misdelivered or not raised\n")
	} else {
		fmt.Fprintf(w, "RESULT: every alert reached every member of its family and no one else\n")
	}
}
