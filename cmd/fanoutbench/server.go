package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"maps"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// raiseFileLimit lifts the soft RLIMIT_NOFILE to the hard limit. Setting it
// explicitly (rather than relying on the Go runtime's own raise) is what
// makes child processes inherit it too.
func raiseFileLimit() (uint64, error) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 0, fmt.Errorf("get RLIMIT_NOFILE: %w", err)
	}
	lim.Cur = lim.Max
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 0, fmt.Errorf("set RLIMIT_NOFILE: %w", err)
	}
	return lim.Cur, nil
}

// buildServer compiles ./cmd/carecircle of the module the tool runs in.
func buildServer(ctx context.Context, outDir string) (string, error) {
	gomod, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("find module root: %w", err)
	}
	root := filepath.Dir(strings.TrimSpace(string(gomod)))
	if root == "." || root == "" {
		return "", errors.New("run fanoutbench inside the carecircle module, or pass -server-bin")
	}
	bin := filepath.Join(outDir, "carecircle")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/carecircle")
	cmd.Dir = root
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("build server: %w", err)
	}
	return bin, nil
}

// freePort asks the kernel for an unused TCP port.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// server is the CareCircle process under test.
type server struct {
	cmd     *exec.Cmd
	base    string
	logPath string
	exited  chan struct{}
	ready   time.Duration // from exec to the first healthy /healthz
}

// startServer runs `bin serve` in embedded mode on dataDir. Deployment
// variables that would point it elsewhere (PostgreSQL, Redis, RabbitMQ) are
// dropped from the inherited environment.
func startServer(ctx context.Context, bin, dataDir string, port int, jwtSecret string) (*server, error) {
	return startProcess(ctx, bin, filepath.Join(dataDir, "server.log"), map[string]string{
		"DATA_DIR": dataDir, "PORT": strconv.Itoa(port), "JWT_SECRET": jwtSecret,
		"AUTH_RATE_LIMIT": "0", "LOG_LEVEL": "warn",
	})
}

// startProcess runs `bin serve` with env on top of the inherited environment,
// less the deployment variables (which only env may set), logging to
// logPath, and waits until it answers /healthz on env's PORT.
func startProcess(ctx context.Context, bin, logPath string, env map[string]string) (*server, error) {
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	defer logf.Close()
	cmd := exec.Command(bin, "serve")
	drop := map[string]bool{"DATABASE_URL": true, "REDIS_URL": true, "AMQP_URL": true, "RABBITMQ_URL": true,
		"BASE_URL": true, "DATA_DIR": true, "PORT": true, "JWT_SECRET": true, "AUTH_RATE_LIMIT": true, "LOG_LEVEL": true}
	for k := range env {
		drop[k] = true
	}
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); !drop[k] {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	// Sorted, so a server's environment is the same from run to run.
	for _, k := range slices.Sorted(maps.Keys(env)) {
		cmd.Env = append(cmd.Env, k+"="+env[k])
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start server: %w", err)
	}
	s := &server{cmd: cmd, base: "http://127.0.0.1:" + env["PORT"], logPath: logPath, exited: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(s.exited) }()
	if err := s.waitHealthy(ctx, 30*time.Second); err != nil {
		s.stop()
		return nil, fmt.Errorf("%w\n%s", err, s.logTail(20))
	}
	s.ready = time.Since(start)
	return s, nil
}

// waitHealthy polls /healthz until it answers 200.
func (s *server) waitHealthy(ctx context.Context, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	client := &http.Client{Timeout: time.Second}
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for {
		resp, err := client.Get(s.base + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("server not healthy after %s", limit)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-s.exited:
			return errors.New("server exited during startup")
		case <-tick.C:
		}
	}
}

// stop sends SIGTERM and waits up to 25 s (the server drains for 20 s) before
// killing it.
func (s *server) stop() {
	select {
	case <-s.exited:
		return
	default:
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
	case <-time.After(25 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.exited
	}
}

// logTail returns the last n lines the server logged.
func (s *server) logTail(n int) string {
	b, err := os.ReadFile(s.logPath)
	if err != nil {
		return ""
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// memory reads the server's resident set and its peak from /proc.
func (s *server) memory() (rss, hwm uint64, err error) {
	m, err := s.status()
	return m["VmRSS"], m["VmHWM"], err
}

// status reads the kB figures of /proc/<pid>/status, in bytes.
func (s *server) status() (map[string]uint64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", s.cmd.Process.Pid))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	m := map[string]uint64{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.HasSuffix(v, " kB") {
			m[k] = parseKB(v)
		}
	}
	return m, sc.Err()
}

// rssSplit says how much of the resident set is anonymous memory (heap,
// stacks, SQLite's page caches) and how much is mapped files (the binary).
func (s *server) rssSplit() string {
	m, err := s.status()
	if err != nil {
		return "?"
	}
	return fmt.Sprintf("anon %s, file %s", mb(m["RssAnon"]), mb(m["RssFile"]))
}

func parseKB(v string) uint64 {
	n, _ := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
	return n << 10
}

// rss returns the current resident set, 0 if it can't be read.
func (s *server) rss() uint64 {
	r, _, _ := s.memory()
	return r
}

// cpuTime returns the server's user+system CPU time so far.
func (s *server) cpuTime() time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", s.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	// Fields after the parenthesized command name; utime and stime are
	// fields 14 and 15 of the whole line.
	i := strings.LastIndexByte(string(b), ')')
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0
	}
	ut, _ := strconv.ParseUint(f[11], 10, 64)
	st, _ := strconv.ParseUint(f[12], 10, 64)
	const clockTicks = 100 // USER_HZ on Linux
	return time.Duration(ut+st) * time.Second / clockTicks
}

// peakRSS samples the resident set every interval for d and returns the
// highest reading.
func (s *server) peakRSS(d, interval time.Duration) uint64 {
	var peak uint64
	tick := time.NewTicker(interval)
	defer tick.Stop()
	end := time.After(d)
	for {
		if r := s.rss(); r > peak {
			peak = r
		}
		select {
		case <-end:
			return peak
		case <-tick.C:
		}
	}
}

// goMemory is the server's own account of its memory, from /metrics.
type goMemory struct {
	goroutines                   int
	heapAlloc, heapInuse, stacks uint64
	sys, nextGC                  uint64
}

// goMemory scrapes the Go runtime figures the server exports on /metrics:
// they split the RSS into live heap, goroutine stacks and slack.
func (s *server) goMemory(ctx context.Context) (goMemory, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.base+"/metrics", nil)
	if err != nil {
		return goMemory{}, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return goMemory{}, fmt.Errorf("scrape metrics: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return goMemory{}, fmt.Errorf("scrape metrics: %s", resp.Status)
	}
	var m goMemory
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		name, val, ok := strings.Cut(sc.Text(), " ")
		if !ok || strings.HasPrefix(name, "#") {
			continue
		}
		f, err := strconv.ParseFloat(strings.TrimSpace(val), 64)
		if err != nil {
			continue
		}
		switch name {
		case "go_goroutines":
			m.goroutines = int(f)
		case "go_memstats_heap_alloc_bytes":
			m.heapAlloc = uint64(f)
		case "go_memstats_heap_inuse_bytes":
			m.heapInuse = uint64(f)
		case "go_memstats_stack_inuse_bytes":
			m.stacks = uint64(f)
		case "go_memstats_sys_bytes":
			m.sys = uint64(f)
		case "go_memstats_next_gc_bytes":
			m.nextGC = uint64(f)
		}
	}
	return m, sc.Err()
}

func (m goMemory) String() string {
	return fmt.Sprintf("%d goroutines, heap alloc %s (in use %s, next GC at %s), stacks %s, Go sys %s",
		m.goroutines, mb(m.heapAlloc), mb(m.heapInuse), mb(m.nextGC), mb(m.stacks), mb(m.sys))
}
