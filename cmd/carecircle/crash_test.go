package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/carecircle/carecircle/internal/apptest"
	"github.com/carecircle/carecircle/internal/storage"
	"github.com/carecircle/carecircle/internal/testdb"
)

type apiClient struct {
	t     *testing.T
	base  string
	token string
}

func (c *apiClient) do(method, path string, body any) (int, map[string]any, error) {
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, c.base+path, rd)
	req.Header.Set("Content-Type", "application/json")
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	res, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer res.Body.Close()
	var m map[string]any
	json.NewDecoder(res.Body).Decode(&m)
	return res.StatusCode, m, nil
}

func (c *apiClient) must(status int, method, path string, body any) map[string]any {
	c.t.Helper()
	got, m, err := c.do(method, path, body)
	if err != nil || got != status {
		c.t.Fatalf("%s %s: %d %v (want %d): %v", method, path, got, err, status, m)
	}
	return m
}

// crashDuringWrites kills the server with SIGKILL in the middle of a stream
// of writes, restarts it, and checks every acknowledged write is there and
// its event reached the audit log exactly once.
func crashDuringWrites(t *testing.T, env ...string) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := buildBinary(t)
	dir := t.TempDir()
	p, _ := start(t, bin, dir, env...)
	anon := &apiClient{t: t, base: p.url}
	reg := anon.must(201, "POST", "/api/v1/auth/register", map[string]any{"email": "crash@example.com", "password": "crash test passphrase", "fullName": "Crash Tester"})
	c := &apiClient{t: t, base: p.url, token: reg["accessToken"].(string)}
	fam := c.must(201, "POST", "/api/v1/families", map[string]any{"name": "Crash"})["id"].(string)
	cr := c.must(201, "POST", "/api/v1/care-recipients", map[string]any{"familyId": fam, "firstName": "Dad", "lastName": "Crash", "timezone": "UTC"})["id"].(string)

	var mu sync.Mutex
	var acked []string
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				status, m, err := c.do("POST", "/api/v1/care-recipients/"+cr+"/timeline", map[string]any{"type": "NOTE", "content": fmt.Sprintf("writer %d entry %d", w, i)})
				if err != nil {
					return // the server is gone
				}
				if status == 201 {
					mu.Lock()
					acked = append(acked, m["id"].(string))
					mu.Unlock()
				}
			}
		}(w)
	}
	// Kill once a good number of writes have been acknowledged.
	deadline := time.Now().Add(30 * time.Second)
	for {
		mu.Lock()
		n := len(acked)
		mu.Unlock()
		if n >= 150 || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	p.cmd.Process.Signal(syscall.SIGKILL)
	p.cmd.Wait()
	close(stop)
	wg.Wait()
	if len(acked) < 50 {
		t.Fatalf("only %d writes acknowledged before the kill", len(acked))
	}
	t.Logf("%d writes acknowledged before SIGKILL", len(acked))

	p, _ = start(t, bin, dir, env...)
	c.base = p.url
	for _, id := range acked {
		c.must(200, "GET", "/api/v1/timeline/"+id, nil)
	}
	// Every acknowledged write's event is delivered: the audit consumer
	// records each exactly once.
	want := map[string]bool{}
	for _, id := range acked {
		want[id] = true
	}
	deadline = time.Now().Add(60 * time.Second)
	for {
		counts := map[string]int{}
		cursor := ""
		for {
			q := "/api/v1/families/" + fam + "/audit?limit=200"
			if cursor != "" {
				q += "&cursor=" + url.QueryEscape(cursor)
			}
			page := c.must(200, "GET", q, nil)
			for _, it := range page["items"].([]any) {
				m := it.(map[string]any)
				if m["action"] == "timeline.entry.created" {
					counts[m["resourceId"].(string)]++
				}
			}
			next, _ := page["nextCursor"].(string)
			if next == "" {
				break
			}
			cursor = next
		}
		missing := 0
		for id := range want {
			if counts[id] == 0 {
				missing++
			}
			if counts[id] > 1 {
				t.Fatalf("entry %s audited %d times", id, counts[id])
			}
		}
		if missing == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d acknowledged writes never reached the audit log", missing, len(want))
		}
		time.Sleep(100 * time.Millisecond)
	}
	p.stop(t)
}

func TestCrash_EmbeddedKillLosesNoWriteOrEvent(t *testing.T) {
	crashDuringWrites(t)
}

func TestCrash_ScaleOutKillLosesNoWriteOrEvent(t *testing.T) {
	if os.Getenv(testdb.PostgresEnv) == "" {
		t.Skip(testdb.PostgresEnv + " is not set")
	}
	amqp := apptest.AMQPEnv(t)
	env := []string{"DATABASE_URL=" + testdb.URL(t, storage.Postgres), "JWT_SECRET=crash-test-secret-crash-test-secret-0123",
		"ENCRYPTION_KEY=MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="}
	for k, v := range amqp {
		env = append(env, k+"="+v)
	}
	crashDuringWrites(t, env...)
}
