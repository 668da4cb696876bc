package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// buildBinary compiles the command once for the process tests.
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "carecircle")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	return bin
}

func freePort(t *testing.T) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

type proc struct {
	cmd    *exec.Cmd
	stderr *bytes.Buffer
	url    string
}

// start launches the binary in embedded mode on dataDir and returns once
// /healthz answers, with the time that took from exec.
func start(t *testing.T, bin, dataDir string, env ...string) (*proc, time.Duration) {
	t.Helper()
	port := freePort(t)
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(), "DATA_DIR="+dataDir, fmt.Sprintf("PORT=%d", port), "DATABASE_URL=", "AMQP_URL=", "REDIS_URL=", "SMTP_HOST=")
	cmd.Env = append(cmd.Env, env...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	p := &proc{cmd: cmd, stderr: &stderr, url: fmt.Sprintf("http://127.0.0.1:%d", port)}
	began := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	client := &http.Client{Timeout: 200 * time.Millisecond}
	deadline := began.Add(15 * time.Second)
	for time.Now().Before(deadline) {
		res, err := client.Get(p.url + "/healthz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == 200 {
				return p, time.Since(began)
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("server never became healthy:\n%s", stderr.String())
	return nil, 0
}

func (p *proc) stop(t *testing.T) {
	t.Helper()
	p.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- p.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("exit after SIGTERM: %v\n%s", err, p.stderr.String())
		}
	case <-time.After(25 * time.Second):
		t.Fatal("did not stop within 25 s of SIGTERM")
	}
}

func post(t *testing.T, url, body string) int {
	t.Helper()
	res, err := http.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res.StatusCode
}

// TestServe_HealthyFastAndDataSurvivesRestart runs the real binary on its
// embedded defaults: healthy within a second, a graceful exit on SIGTERM, and
// an account made before the restart still signs in after it (the secrets it
// generated under DATA_DIR are reused).
func TestServe_HealthyFastAndDataSurvivesRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := buildBinary(t)
	dir := t.TempDir()
	p, took := start(t, bin, dir)
	if took > time.Second {
		t.Errorf("healthy after %v, want within 1 s of starting", took)
	}
	t.Logf("first start: healthy after %v", took)
	creds := `{"email":"persist@example.com","password":"a persistent passphrase","fullName":"Persistent Person"}`
	if s := post(t, p.url+"/api/v1/auth/register", creds); s != 201 {
		t.Fatalf("register: %d", s)
	}
	p.stop(t)
	if _, err := os.Stat(filepath.Join(dir, "secrets", "jwt_secret")); err != nil {
		t.Fatalf("JWT secret not persisted: %v", err)
	}
	p, took = start(t, bin, dir)
	t.Logf("restart: healthy after %v", took)
	if s := post(t, p.url+"/api/v1/auth/login", `{"email":"persist@example.com","password":"a persistent passphrase"}`); s != 200 {
		t.Fatalf("login after restart: %d", s)
	}
	p.stop(t)
}

// TestServe_ScaleOutNeedsSecret refuses to start on PostgreSQL without a
// shared JWT secret.
func TestServe_ScaleOutNeedsSecret(t *testing.T) {
	t.Setenv("DATABASE_URL", "postgres://nobody@127.0.0.1:1/none")
	t.Setenv("JWT_SECRET", "")
	err := run(context.Background(), "migrate", nil)
	if err == nil || !strings.Contains(err.Error(), "JWT_SECRET") {
		t.Fatalf("err = %v, want a JWT_SECRET error", err)
	}
}
