package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/carecircle/carecircle/internal/auth"
)

// sharedGroups are the app's shared consumer groups: each has a durable
// queue (and .retry and .dlq) that outlives the servers. The broadcast
// group's queues ("realtime") are exclusive and go away with each server.
var sharedGroups = []string{"audit", "notifications", "reminders"}

// serverPool is the most connections one server opens to PostgreSQL
// (storage.Open's pool).
const serverPool = 32

// deployment is what a scale-out run creates and must remove: a database on
// the PostgreSQL server, an exchange and queues on the broker, two servers.
type deployment struct {
	adminURL string // the -postgres URL, for CREATE and DROP DATABASE
	dbName   string
	amqpURL  string
	topology string // the exchange is topology+".events"; queue names start topology+"."
	created  bool
	fams     []family
	servers  []*server
}

// deployScaleOut creates the database, seeds it, and starts servers A and B
// on it and the broker, recording them in r.instances. It returns the
// deployment even on failure, so the caller can tear down what was made.
func deployScaleOut(ctx context.Context, c config, tmp string, signer *auth.Signer, secret string,
	waitBuilt func() (string, error), r *report, logf func(string, ...any)) (*deployment, error) {
	suffix := make([]byte, 6)
	_, _ = rand.Read(suffix)
	d := &deployment{adminURL: c.postgres, dbName: "cc_bench_" + hex.EncodeToString(suffix), amqpURL: c.amqp,
		topology: "fanoutbench." + hex.EncodeToString(suffix)}
	dbURL, err := d.createDatabase(ctx, logf)
	if err != nil {
		_, _ = waitBuilt()
		return d, err
	}
	logf("seeding %d families × %d members into PostgreSQL database %s", c.families, c.members, d.dbName)
	t := time.Now()
	d.fams, err = seedPostgres(ctx, dbURL, signer, c.families, c.members)
	if err != nil {
		_, _ = waitBuilt()
		return d, err
	}
	r.seedTime = time.Since(t)
	logf("seeded %d users in %s", c.families*c.members, r.seedTime.Round(time.Millisecond))
	bin, err := waitBuilt()
	if err != nil {
		return d, err
	}

	key := make([]byte, 32)
	_, _ = rand.Read(key)
	env := map[string]string{
		"DATABASE_URL": dbURL, "AMQP_URL": c.amqp,
		"AMQP_EXCHANGE": d.topology + ".events", "AMQP_QUEUE_PREFIX": d.topology,
		"JWT_SECRET": secret, "ENCRYPTION_KEY": base64.StdEncoding.EncodeToString(key),
		"AUTH_RATE_LIMIT": "0", "LOG_LEVEL": "warn",
	}
	// One after the other: both would run the (already applied) migrations.
	for _, name := range []string{"A", "B"} {
		dir := filepath.Join(tmp, "server-"+name)
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return d, err
		}
		port, err := freePort()
		if err != nil {
			return d, err
		}
		env["DATA_DIR"], env["PORT"] = dir, strconv.Itoa(port)
		srv, err := startProcess(ctx, bin, filepath.Join(dir, "server.log"), env)
		if err != nil {
			return d, fmt.Errorf("server %s: %w", name, err)
		}
		d.servers = append(d.servers, srv)
		r.instances = append(r.instances, &instance{name: name, srv: srv})
	}

	logf("waiting for the servers to relay and consume the seeding's events")
	t = time.Now()
	if r.backlogEvents, err = d.waitBacklog(ctx, dbURL, len(d.servers), 10*time.Minute); err != nil {
		return d, err
	}
	r.backlogTime = time.Since(t)
	logf("%d events relayed and consumed in %s", r.backlogEvents, r.backlogTime.Round(time.Millisecond))
	return d, nil
}

// createDatabase creates the run's database and returns its URL. It warns
// when the server has too few free connections for two servers' pools.
func (d *deployment) createDatabase(ctx context.Context, logf func(string, ...any)) (string, error) {
	admin, err := sql.Open("pgx", d.adminURL)
	if err != nil {
		return "", fmt.Errorf("postgres: %w", err)
	}
	defer admin.Close()
	var maxConns, inUse int
	if err := admin.QueryRowContext(ctx, `SELECT current_setting('max_connections')::int,
		(SELECT COUNT(*) FROM pg_stat_activity WHERE backend_type = 'client backend')`).Scan(&maxConns, &inUse); err != nil {
		return "", fmt.Errorf("postgres: %w", err)
	}
	if free := maxConns - inUse; free < 2*serverPool+2 {
		logf("warning: PostgreSQL allows %d connections and %d are in use; two servers may open %d each",
			maxConns, inUse, serverPool)
	}
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+d.dbName); err != nil {
		return "", fmt.Errorf("create database %s: %w", d.dbName, err)
	}
	d.created = true
	u, err := url.Parse(d.adminURL)
	if err != nil {
		return "", fmt.Errorf("postgres url: %w", err)
	}
	u.Path = "/" + d.dbName
	return u.String(), nil
}

// waitBacklog waits until the outbox has no unrelayed event and every
// shared group's queue is empty, with servers consumers each, twice in a row
// half a second apart. Seeding wrote an event per change, and the servers
// relay and consume them all on start; the run should measure alerts, not
// that. It returns how many events the outbox holds.
func (d *deployment) waitBacklog(ctx context.Context, dbURL string, servers int, limit time.Duration) (int, error) {
	db, err := sql.Open("pgx", dbURL)
	if err != nil {
		return 0, err
	}
	defer db.Close()
	conn, err := amqp.Dial(d.amqpURL)
	if err != nil {
		return 0, fmt.Errorf("amqp: %w", err)
	}
	defer conn.Close()
	var total int
	if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM events`).Scan(&total); err != nil {
		return 0, fmt.Errorf("count events: %w", err)
	}
	deadline := time.Now().Add(limit)
	quiet := 0
	var last string
	for quiet < 2 {
		if time.Now().After(deadline) {
			return total, fmt.Errorf("the seeding's events were not consumed after %s (%s)", limit, last)
		}
		select {
		case <-ctx.Done():
			return total, ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
		var unrelayed int
		if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM events WHERE relayed_at IS NULL`).Scan(&unrelayed); err != nil {
			return total, fmt.Errorf("count unrelayed events: %w", err)
		}
		idle := unrelayed == 0
		last = fmt.Sprintf("%d unrelayed", unrelayed)
		for _, g := range sharedGroups {
			q, err := inspectQueue(conn, d.topology+"."+g)
			if err != nil {
				idle = false
				last += fmt.Sprintf(", %s: %v", g, err)
				continue
			}
			last += fmt.Sprintf(", %s %d waiting, %d consumers", g, q.Messages, q.Consumers)
			idle = idle && q.Messages == 0 && q.Consumers >= servers
		}
		if idle {
			quiet++
		} else {
			quiet = 0
		}
	}
	return total, nil
}

// inspectQueue reads a queue's depth and consumers on a channel of its own
// (a missing queue closes the channel).
func inspectQueue(conn *amqp.Connection, name string) (amqp.Queue, error) {
	ch, err := conn.Channel()
	if err != nil {
		return amqp.Queue{}, err
	}
	defer ch.Close()
	return ch.QueueDeclarePassive(name, true, false, false, false, nil)
}

// teardown stops the servers (together: each drains for a while), drops the
// database and deletes the exchange and the shared queues.
func (d *deployment) teardown(logf func(string, ...any)) {
	var wg sync.WaitGroup
	for _, s := range d.servers {
		wg.Go(s.stop)
	}
	wg.Wait()
	if d.created {
		if err := d.dropDatabase(); err != nil {
			logf("warning: %v", err)
		}
	}
	if err := d.deleteTopology(); err != nil {
		logf("warning: delete exchange and queues %s.*: %v", d.topology, err)
	}
}

func (d *deployment) dropDatabase() error {
	admin, err := sql.Open("pgx", d.adminURL)
	if err != nil {
		return err
	}
	defer admin.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := admin.ExecContext(ctx, "DROP DATABASE IF EXISTS "+d.dbName+" WITH (FORCE)"); err != nil {
		return fmt.Errorf("drop database %s: %w", d.dbName, err)
	}
	return nil
}

func (d *deployment) deleteTopology() error {
	conn, err := amqp.Dial(d.amqpURL)
	if err != nil {
		return err
	}
	defer conn.Close()
	// A channel per deletion: a failed one closes its channel.
	onChannel := func(f func(ch *amqp.Channel) error) error {
		ch, err := conn.Channel()
		if err != nil {
			return err
		}
		defer ch.Close()
		return f(ch)
	}
	var errs []error
	for _, g := range sharedGroups {
		for _, suffix := range []string{"", ".retry", ".dlq"} {
			errs = append(errs, onChannel(func(ch *amqp.Channel) error {
				_, err := ch.QueueDelete(d.topology+"."+g+suffix, false, false, false)
				return err
			}))
		}
	}
	errs = append(errs, onChannel(func(ch *amqp.Channel) error { return ch.ExchangeDelete(d.topology+".events", false, false) }))
	return errors.Join(errs...)
}
