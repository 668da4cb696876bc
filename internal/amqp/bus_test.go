package amqp_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/url"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	amqp091 "github.com/rabbitmq/amqp091-go"

	"github.com/carecircle/carecircle"
	"github.com/carecircle/carecircle/internal/amqp"
	"github.com/carecircle/carecircle/internal/apptest"
	"github.com/carecircle/carecircle/internal/events"
)

// brokerURL returns the test broker's URL, skipping the test when unset.
func brokerURL(t *testing.T) string {
	t.Helper()
	u := os.Getenv("CARECIRCLE_TEST_AMQP_URL")
	if u == "" {
		t.Skip("CARECIRCLE_TEST_AMQP_URL not set")
	}
	return u
}

// fixture is one test's isolated slice of the broker: its own exchange
// and group names, and an admin channel to inspect and clean up with.
type fixture struct {
	t        *testing.T
	url      string
	exchange string
	suffix   string
	admin    *amqp091.Channel
	queues   []string
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	u := brokerURL(t)
	conn, err := amqp091.Dial(u)
	if err != nil {
		t.Fatalf("admin dial: %v", err)
	}
	ch, err := conn.Channel()
	if err != nil {
		t.Fatalf("admin channel: %v", err)
	}
	suffix := fmt.Sprintf("%x", rand.Uint64())
	f := &fixture{t: t, url: u, exchange: "cctest." + suffix, suffix: suffix, admin: ch}
	// Registered first, so it runs after every bus of the test is closed.
	t.Cleanup(func() {
		for _, q := range f.queues {
			if _, err := ch.QueueDelete(q, false, false, false); err != nil {
				t.Errorf("delete queue %s: %v", q, err)
			}
		}
		if err := ch.ExchangeDelete(f.exchange, false, false); err != nil {
			t.Errorf("delete exchange %s: %v", f.exchange, err)
		}
		conn.Close()
	})
	return f
}

// group returns a unique shared group name and schedules its queues for
// deletion.
func (f *fixture) group(name string) string {
	g := name + "-" + f.suffix
	q := "carecircle." + g
	f.queues = append(f.queues, q, q+".dlq", q+".retry")
	return g
}

// bus returns an unstarted Bus on the fixture's exchange, closed at cleanup.
func (f *fixture) bus(instance string, opts amqp.Options, brokerURL string) *amqp.Bus {
	f.t.Helper()
	if brokerURL == "" {
		brokerURL = f.url
	}
	opts.Exchange = f.exchange
	opts.InstanceID = instance + "-" + f.suffix
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(testWriter{f.t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	b, err := amqp.New(brokerURL, opts)
	if err != nil {
		f.t.Fatalf("new bus: %v", err)
	}
	f.t.Cleanup(func() { b.Close() })
	return b
}

func (f *fixture) start(b *amqp.Bus) {
	f.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := b.Start(ctx); err != nil {
		f.t.Fatalf("start bus: %v", err)
	}
}

// getOne polls queue for a message until the deadline.
func (f *fixture) getOne(queue string) amqp091.Delivery {
	f.t.Helper()
	var msg amqp091.Delivery
	eventually(f.t, 10*time.Second, "a message in "+queue, func() bool {
		m, ok, err := f.admin.Get(queue, true)
		if err != nil {
			f.t.Fatalf("get from %s: %v", queue, err)
		}
		msg = m
		return ok
	})
	return msg
}

func (f *fixture) ready(queue string) int {
	f.t.Helper()
	q, err := f.admin.QueueDeclarePassive(queue, true, false, false, false, nil)
	if err != nil {
		f.t.Fatalf("inspect %s: %v", queue, err)
	}
	return q.Messages
}

// logWatch is a slog handler that logs to the test and signals each
// record whose message is msg.
type logWatch struct {
	t    *testing.T
	msg  string
	seen chan struct{}
}

func (w *logWatch) Enabled(context.Context, slog.Level) bool { return true }

func (w *logWatch) Handle(_ context.Context, r slog.Record) error {
	line := r.Level.String() + " " + r.Message
	r.Attrs(func(a slog.Attr) bool {
		line += " " + a.String()
		return true
	})
	w.t.Log(line)
	if r.Message == w.msg {
		select {
		case w.seen <- struct{}{}:
		default:
		}
	}
	return nil
}

func (w *logWatch) WithAttrs([]slog.Attr) slog.Handler { return w }
func (w *logWatch) WithGroup(string) slog.Handler      { return w }

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(string(p[:len(p)-1]))
	return len(p), nil
}

// eventually polls cond every 20 ms until it holds or timeout passes.
func eventually(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// collector records handled event ids and wakes waiters.
type collector struct {
	mu   sync.Mutex
	ids  []string
	wake chan struct{}
}

func newCollector() *collector { return &collector{wake: make(chan struct{}, 1)} }

func (c *collector) handle(_ context.Context, e carecircle.Event) error {
	c.mu.Lock()
	c.ids = append(c.ids, e.ID)
	c.mu.Unlock()
	select {
	case c.wake <- struct{}{}:
	default:
	}
	return nil
}

func (c *collector) snapshot() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.ids)
}

func (c *collector) has(id string) bool { return slices.Contains(c.snapshot(), id) }

// waitN waits until at least n events were handled.
func (c *collector) waitN(t *testing.T, n int) []string {
	t.Helper()
	deadline := time.After(15 * time.Second)
	for {
		if ids := c.snapshot(); len(ids) >= n {
			return ids
		}
		select {
		case <-c.wake:
		case <-deadline:
			t.Fatalf("handled %d events, want %d", len(c.snapshot()), n)
		}
	}
}

// waitAll waits until n events were handled by the collectors together.
func waitAll(t *testing.T, n int, cs ...*collector) {
	t.Helper()
	eventually(t, 15*time.Second, fmt.Sprintf("%d events handled", n), func() bool {
		total := 0
		for _, c := range cs {
			total += len(c.snapshot())
		}
		return total >= n
	})
}

func newEvents(n int, typ string) []carecircle.Event {
	out := make([]carecircle.Event, n)
	for i := range out {
		out[i] = carecircle.NewEvent(typ, "/api/v1/test", time.Now(),
			carecircle.EventData{FamilyID: "fam_t", CareRecipientID: "cr_t"}, map[string]any{"seq": i})
	}
	return out
}

func idsOf(evs []carecircle.Event) []string {
	out := make([]string, len(evs))
	for i, e := range evs {
		out[i] = e.ID
	}
	return out
}

func publish(t *testing.T, b *amqp.Bus, evs []carecircle.Event) {
	t.Helper()
	if err := b.Publish(context.Background(), evs); err != nil {
		t.Fatalf("publish: %v", err)
	}
}

func TestBroadcast_EveryInstanceSeesEveryEventInOrder(t *testing.T) {
	f := newFixture(t)
	a, b := f.bus("a", amqp.Options{}, ""), f.bus("b", amqp.Options{}, "")
	ca, cb := newCollector(), newCollector()
	a.Subscribe("realtime", events.Broadcast, ca.handle)
	b.Subscribe("realtime", events.Broadcast, cb.handle)
	f.start(a)
	f.start(b)

	evs := newEvents(20, carecircle.EventMedicationLogged)
	publish(t, a, evs[:10])
	publish(t, b, evs[10:])
	want := idsOf(evs)
	for name, c := range map[string]*collector{"a": ca, "b": cb} {
		if got := c.waitN(t, len(evs)); !slices.Equal(got, want) {
			t.Errorf("instance %s saw %v, want %v", name, got, want)
		}
	}
}

func TestShared_EachEventHandledOnceAcrossInstances(t *testing.T) {
	f := newFixture(t)
	group := f.group("audit")
	a, b := f.bus("a", amqp.Options{}, ""), f.bus("b", amqp.Options{}, "")
	ca, cb := newCollector(), newCollector()
	a.Subscribe(group, events.Shared, ca.handle)
	b.Subscribe(group, events.Shared, cb.handle)
	f.start(a)
	f.start(b)

	evs := newEvents(200, carecircle.EventShiftCreated)
	for i := 0; i < len(evs); i += 20 {
		publish(t, a, evs[i:i+20])
	}
	waitAll(t, len(evs), ca, cb)
	// Closing acknowledges everything handled; anything handled twice or
	// left unacknowledged would show up as a count or as ready messages.
	a.Close()
	b.Close()
	got := append(ca.snapshot(), cb.snapshot()...)
	slices.Sort(got)
	want := idsOf(evs)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("handled %d events (%d unique), want each of %d exactly once", len(got), len(slices.Compact(slices.Clone(got))), len(want))
	}
	if len(ca.snapshot()) == 0 || len(cb.snapshot()) == 0 {
		t.Errorf("work not shared: a handled %d, b handled %d", len(ca.snapshot()), len(cb.snapshot()))
	}
	q := "carecircle." + group
	if n := f.ready(q); n != 0 {
		t.Errorf("%d messages left in %s", n, q)
	}
	if n := f.ready(q + ".dlq"); n != 0 {
		t.Errorf("%d messages in the DLQ", n)
	}
}

func TestPublish_MessagesAreConfirmedPersistentCloudEventsInOrder(t *testing.T) {
	f := newFixture(t)
	b := f.bus("a", amqp.Options{}, "")
	f.start(b) // declares the exchange

	probe, err := f.admin.QueueDeclare("", false, true, true, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	// Topic routing on "<type>.<careRecipientId>".
	if err := f.admin.QueueBind(probe.Name, "medication.logged.*", f.exchange, false, nil); err != nil {
		t.Fatal(err)
	}
	logged := newEvents(10, carecircle.EventMedicationLogged)
	other := newEvents(1, carecircle.EventAppointmentCreated)
	publish(t, b, append(slices.Clone(logged[:5]), append(other, logged[5:]...)...))

	if n := f.ready(probe.Name); n != len(logged) {
		t.Fatalf("probe queue holds %d messages right after Publish returned, want %d", n, len(logged))
	}
	for i, want := range logged {
		m, ok, err := f.admin.Get(probe.Name, true)
		if err != nil || !ok {
			t.Fatalf("get message %d: ok=%v err=%v", i, ok, err)
		}
		if m.MessageId != want.ID {
			t.Fatalf("message %d is %s, want %s (order lost)", i, m.MessageId, want.ID)
		}
		if m.RoutingKey != "medication.logged.cr_t" || m.ContentType != "application/cloudevents+json" ||
			m.DeliveryMode != amqp091.Persistent || m.Headers["ce-type"] != carecircle.EventMedicationLogged {
			t.Errorf("message %d: routing key %q, content type %q, delivery mode %d, ce-type %v",
				i, m.RoutingKey, m.ContentType, m.DeliveryMode, m.Headers["ce-type"])
		}
		got, err := carecircle.ParseEvent(m.Body)
		if err != nil || got.ID != want.ID || got.FamilyID != "fam_t" || got.CareRecipientID != "cr_t" {
			t.Errorf("message %d body does not parse back: %v %+v", i, err, got)
		}
	}
}

func TestPublish_FailsWithinTimeoutWhenBrokerStopsAnswering(t *testing.T) {
	f := newFixture(t)
	target, err := url.Parse(f.url)
	if err != nil {
		t.Fatal(err)
	}
	proxy := apptest.NewProxy(t, target.Host)
	viaProxy := *target
	viaProxy.Host = proxy.Addr()
	b := f.bus("a", amqp.Options{PublishTimeout: 300 * time.Millisecond}, viaProxy.String())
	f.start(b)
	publish(t, b, newEvents(1, carecircle.EventShiftCreated))

	proxy.Pause() // the network path dies silently: no confirm ever comes
	start := time.Now()
	err = b.Publish(context.Background(), newEvents(3, carecircle.EventShiftCreated))
	took := time.Since(start)
	proxy.Unpause()
	if !errors.Is(err, amqp.ErrUnavailable) {
		t.Fatalf("publish without confirms: got %v, want ErrUnavailable", err)
	}
	if took > 2*time.Second {
		t.Errorf("publish took %v, want about the 300ms PublishTimeout", took)
	}
}

func TestShared_FailingHandlerIsRedeliveredWithBackoffUntilItSucceeds(t *testing.T) {
	f := newFixture(t)
	group := f.group("notify")
	b := f.bus("a", amqp.Options{MaxAttempts: 5, RetryBackoff: 20 * time.Millisecond}, "")
	var mu sync.Mutex
	calls := map[string]int{}
	var stamps []time.Time
	done := newCollector()
	b.Subscribe(group, events.Shared, func(ctx context.Context, e carecircle.Event) error {
		mu.Lock()
		calls[e.ID]++
		n := calls[e.ID]
		stamps = append(stamps, time.Now())
		mu.Unlock()
		if n <= 3 {
			return errors.New("push service down")
		}
		return done.handle(ctx, e)
	})
	f.start(b)
	evs := newEvents(1, carecircle.EventAlertCreated)
	publish(t, b, evs)
	done.waitN(t, 1)
	b.Close()

	mu.Lock()
	defer mu.Unlock()
	if calls[evs[0].ID] != 4 {
		t.Errorf("handler called %d times, want 4 (3 failures, then success)", calls[evs[0].ID])
	}
	// Backoff doubles: 20ms, 40ms, 80ms between the attempts.
	for i, min := range []time.Duration{20, 40, 80} {
		if gap := stamps[i+1].Sub(stamps[i]); gap < min*time.Millisecond {
			t.Errorf("retry %d came after %v, want at least %v", i+1, gap, min*time.Millisecond)
		}
	}
	if n := f.ready("carecircle." + group + ".dlq"); n != 0 {
		t.Errorf("%d messages in the DLQ", n)
	}
}

func TestShared_AlwaysFailingMessageLandsInDeadLetterQueue(t *testing.T) {
	f := newFixture(t)
	group := f.group("notify")
	b := f.bus("a", amqp.Options{MaxAttempts: 3, RetryBackoff: 10 * time.Millisecond}, "")
	var mu sync.Mutex
	calls := 0
	b.Subscribe(group, events.Shared, func(ctx context.Context, e carecircle.Event) error {
		mu.Lock()
		calls++
		mu.Unlock()
		return errors.New("cannot render template")
	})
	f.start(b)
	evs := newEvents(1, carecircle.EventAppointmentCreated)
	publish(t, b, evs)

	m := f.getOne("carecircle." + group + ".dlq")
	if m.MessageId != evs[0].ID {
		t.Errorf("DLQ holds %s, want %s", m.MessageId, evs[0].ID)
	}
	if e, err := carecircle.ParseEvent(m.Body); err != nil || e.ID != evs[0].ID {
		t.Errorf("DLQ message body: %v %+v", err, e)
	}
	mu.Lock()
	defer mu.Unlock()
	if calls != 3 {
		t.Errorf("handler called %d times before dead-lettering, want MaxAttempts=3", calls)
	}
}

func TestShared_PoisonMessageGoesStraightToDeadLetterQueue(t *testing.T) {
	f := newFixture(t)
	group := f.group("audit")
	b := f.bus("a", amqp.Options{}, "")
	c := newCollector()
	b.Subscribe(group, events.Shared, c.handle)
	f.start(b)

	err := f.admin.PublishWithContext(context.Background(), f.exchange, "medication.logged.cr_t", false, false,
		amqp091.Publishing{ContentType: amqp.ContentType, MessageId: "poison-1", Body: []byte("{not json")})
	if err != nil {
		t.Fatal(err)
	}
	good := newEvents(1, carecircle.EventMedicationLogged)
	publish(t, b, good)

	m := f.getOne("carecircle." + group + ".dlq")
	if m.MessageId != "poison-1" || string(m.Body) != "{not json" {
		t.Errorf("DLQ holds %q %q, want the poison message", m.MessageId, m.Body)
	}
	if got := c.waitN(t, 1); !slices.Equal(got, idsOf(good)) {
		t.Errorf("handler saw %v, want only the good event", got)
	}
}

func TestStart_FailsWhenBrokerUnreachable(t *testing.T) {
	f := newFixture(t)
	target, _ := url.Parse(f.url)
	proxy := apptest.NewProxy(t, target.Host)
	proxy.Cut()
	viaProxy := *target
	viaProxy.Host = proxy.Addr()
	b := f.bus("a", amqp.Options{}, viaProxy.String())
	if err := b.Start(context.Background()); err == nil {
		t.Fatal("Start succeeded with the broker unreachable")
	}
	if err := b.Publish(context.Background(), newEvents(1, carecircle.EventShiftCreated)); err == nil {
		t.Fatal("Publish succeeded on a bus that never connected")
	}
	// The broker comes back: Start may be tried again.
	proxy.Restore()
	f.start(b)
	publish(t, b, newEvents(1, carecircle.EventShiftCreated))
}

func TestOutage_PublishFailsThenBusReconnectsAndResumes(t *testing.T) {
	f := newFixture(t)
	target, err := url.Parse(f.url)
	if err != nil {
		t.Fatal(err)
	}
	proxy := apptest.NewProxy(t, target.Host)
	viaProxy := *target
	viaProxy.Host = proxy.Addr()

	group := f.group("audit")
	logs := &logWatch{t: t, msg: "amqp reconnect failed", seen: make(chan struct{}, 16)}
	opts := amqp.Options{ReconnectBackoff: 50 * time.Millisecond, ReconnectBackoffMax: 400 * time.Millisecond,
		Logger: slog.New(logs)}
	b := f.bus("a", opts, viaProxy.String())
	shared, live := newCollector(), newCollector()
	b.Subscribe(group, events.Shared, shared.handle)
	b.Subscribe("realtime", events.Broadcast, live.handle)
	f.start(b)
	// A second process talks to the broker directly and keeps publishing.
	direct := f.bus("direct", amqp.Options{}, "")
	f.start(direct)

	before := newEvents(1, carecircle.EventAlertCreated)
	publish(t, b, before)
	shared.waitN(t, 1)
	live.waitN(t, 1)

	proxy.Cut()
	// Within moments the Bus notices; from then on Publish fails at once.
	eventually(t, 5*time.Second, "Publish to fail during the outage", func() bool {
		return b.Publish(context.Background(), newEvents(1, carecircle.EventAlertCreated)) != nil
	})
	for range 3 {
		start := time.Now()
		err := b.Publish(context.Background(), newEvents(1, carecircle.EventAlertCreated))
		if !errors.Is(err, amqp.ErrUnavailable) {
			t.Fatalf("publish during outage: got %v, want ErrUnavailable", err)
		}
		if took := time.Since(start); took > 500*time.Millisecond {
			t.Fatalf("publish during outage took %v, want a prompt error", took)
		}
	}
	// Written elsewhere while this instance is cut off: the durable shared
	// queue keeps it for this instance's consumer.
	during := newEvents(1, carecircle.EventAlertAcknowledged)
	publish(t, direct, during)

	// Let the Bus fail to reconnect a couple of times before the broker
	// is reachable again.
	for range 2 {
		select {
		case <-logs.seen:
		case <-time.After(10 * time.Second):
			t.Fatal("no reconnect attempt logged during the outage")
		}
	}
	proxy.Restore()
	after := newEvents(1, carecircle.EventAlertResolved)
	eventually(t, 20*time.Second, "Publish to succeed after the broker came back", func() bool {
		return b.Publish(context.Background(), after) == nil
	})
	eventually(t, 15*time.Second, "shared consumer to resume", func() bool {
		return shared.has(during[0].ID) && shared.has(after[0].ID)
	})
	eventually(t, 15*time.Second, "broadcast consumer to resume", func() bool {
		return live.has(after[0].ID)
	})
}
