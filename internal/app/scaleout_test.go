package app_test

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/carecircle/carecircle/internal/apptest"
	"github.com/carecircle/carecircle/internal/storage"
	"github.com/carecircle/carecircle/internal/testdb"
)

// TestScaleOut_SocketOnBSeesPostOnA runs two servers and a worker on one
// PostgreSQL database and one RabbitMQ exchange: a write on A reaches a
// socket on B, and the audit log records it once.
func TestScaleOut_SocketOnBSeesPostOnA(t *testing.T) {
	amqpEnv := apptest.AMQPEnv(t)
	pg := testdb.URL(t, storage.Postgres)
	opts := apptest.Options{Dialect: storage.Postgres, DatabaseURL: pg, Env: amqpEnv}
	a := apptest.New(t, opts)
	b := apptest.New(t, opts)
	worker := opts
	worker.Worker = true
	apptest.New(t, worker)

	f := a.NewFamily("Scale", "America/Chicago")
	onB := &apptest.Client{Env: b, Token: f.Viewer.Token}
	conn := dial(t, b, onB)
	entry := f.Caregiver.Must(201, "POST", "/api/v1/care-recipients/"+f.RecipientID+"/timeline", map[string]any{"type": "INCIDENT", "content": "Fell in the garden", "severity": "HIGH"})
	ev := next(t, conn, "timeline.entry.created")
	if ev.Data["entryId"] != entry["id"] {
		t.Fatalf("socket on B got %+v, want entry %v", ev, entry["id"])
	}
	waitAudit(t, pg, f.ID, ev.ID)
}

// countAudit returns how many audit rows an event has.
func countAudit(t *testing.T, dbURL, eventID string) int {
	t.Helper()
	db, err := sql.Open("pgx", dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow(`SELECT COUNT(*) FROM audit_log WHERE event_id = $1`, eventID).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func waitAudit(t *testing.T, dbURL, familyID, eventID string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for countAudit(t, dbURL, eventID) == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("event %s never reached the audit log", eventID)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if n := countAudit(t, dbURL, eventID); n != 1 {
		t.Fatalf("event %s is in the audit log %d times", eventID, n)
	}
}

// TestBrokerOutage_WritesContinueAndEveryEventArrivesOnce cuts the
// connection to RabbitMQ: writes still succeed (their events wait in the
// outbox), and once the broker is reachable again every event reaches the
// audit log exactly once and live sockets again.
func TestBrokerOutage_WritesContinueAndEveryEventArrivesOnce(t *testing.T) {
	amqpEnv := apptest.AMQPEnv(t)
	u, err := url.Parse(os.Getenv("CARECIRCLE_TEST_AMQP_URL"))
	if err != nil {
		t.Fatal(err)
	}
	proxy := apptest.NewProxy(t, u.Host)
	u.Host = proxy.Addr()
	amqpEnv["AMQP_URL"] = u.String()
	pg := testdb.URL(t, storage.Postgres)
	e := apptest.New(t, apptest.Options{Dialect: storage.Postgres, DatabaseURL: pg, Env: amqpEnv})
	f := e.NewFamily("Outage", "Europe/Berlin")
	conn := dial(t, e, f.Viewer)

	proxy.Cut()
	var ids []string
	for i := 0; i < 20; i++ {
		r := f.Caregiver.Do("POST", "/api/v1/care-recipients/"+f.RecipientID+"/timeline", map[string]any{"type": "NOTE", "content": fmt.Sprintf("written during the outage #%d", i)})
		if r.Status != 201 {
			t.Fatalf("write during outage: %d %s", r.Status, r.Body)
		}
		ids = append(ids, r.Map()["id"].(string))
	}
	proxy.Restore()

	// Every entry's event reaches the socket (after the bus reconnects)...
	seen := map[string]bool{}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for len(seen) < len(ids) {
		_, b, err := conn.Read(ctx)
		if err != nil {
			// The socket itself survives; only the broker link was cut.
			t.Fatalf("socket: %v after %d of %d events", err, len(seen), len(ids))
		}
		for _, id := range ids {
			if strings.Contains(string(b), id) && strings.Contains(string(b), "timeline.entry.created") {
				seen[id] = true
			}
		}
	}
	// ...and the audit log exactly once each.
	db, err := sql.Open("pgx", pg)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	deadline := time.Now().Add(30 * time.Second)
	for {
		var n, distinct int
		if err := db.QueryRow(`SELECT COUNT(*), COUNT(DISTINCT resource_id) FROM audit_log
			WHERE family_id = $1 AND action = 'timeline.entry.created'`, f.ID).Scan(&n, &distinct); err != nil {
			t.Fatal(err)
		}
		if n == len(ids) && distinct == len(ids) {
			break
		}
		if n > len(ids) {
			t.Fatalf("audit has %d entries for %d writes", n, len(ids))
		}
		if time.Now().After(deadline) {
			t.Fatalf("audit has %d of %d entries", n, len(ids))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestScaleOut_RateLimitIsSharedThroughRedis: attempts on two instances
// count against one budget.
func TestScaleOut_RateLimitIsSharedThroughRedis(t *testing.T) {
	redisURL := os.Getenv("CARECIRCLE_TEST_REDIS_URL")
	if redisURL == "" {
		t.Skip("CARECIRCLE_TEST_REDIS_URL is not set")
	}
	env := map[string]string{"REDIS_URL": redisURL, "AUTH_RATE_LIMIT": "4",
		"REDIS_KEY_PREFIX": fmt.Sprintf("cctest:%d:", time.Now().UnixNano())}
	a := apptest.New(t, apptest.Options{Env: env})
	b := apptest.New(t, apptest.Options{Env: env})
	body := map[string]any{"email": "limited@example.com", "password": "wrong password here"}
	for i, e := range []*apptest.Env{a, b, a, b} {
		if r := e.Anon().Do("POST", "/api/v1/auth/login", body); r.Status != 401 {
			t.Fatalf("attempt %d: status %d", i+1, r.Status)
		}
	}
	r := a.Anon().Do("POST", "/api/v1/auth/login", body)
	if r.Status != 429 || r.Header.Get("Retry-After") == "" {
		t.Fatalf("fifth attempt across instances: status %d, Retry-After %q", r.Status, r.Header.Get("Retry-After"))
	}
}
