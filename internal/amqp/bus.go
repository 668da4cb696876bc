// Package amqp is the scale-out events.Bus on RabbitMQ. Events go to one
// durable topic exchange with routing key "<event type>.<careRecipientId>",
// as persistent CloudEvents JSON messages, under publisher confirms. Shared
// consumer groups read a durable queue each (carecircle.<group>), with a
// retry queue for backoff and a dead-letter queue (carecircle.<group>.dlq);
// broadcast groups read an exclusive, auto-delete queue per process. The Bus
// reconnects by itself after a broker restart or a network failure.
package amqp

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/carecircle/carecircle"
	"github.com/carecircle/carecircle/internal/events"
)

// ErrUnavailable is returned (wrapped) by Publish while the broker cannot be
// reached or refuses publishes; the outbox relay retries later.
var ErrUnavailable = errors.New("amqp: broker unavailable")

// ContentType is the content type of every event message (CloudEvents
// structured mode).
const ContentType = "application/cloudevents+json"

// attemptsHeader counts how many times a shared group's handler has failed
// on a message; the retry copy carries it.
const attemptsHeader = "carecircle-attempts"

// Options configures a Bus. Zero values take the defaults in brackets.
type Options struct {
	// QueuePrefix starts every queue name ["carecircle"]; deployments (or
	// tests) sharing one broker keep their queues apart with it.
	QueuePrefix string
	// Exchange is the durable topic exchange ["carecircle.events"].
	Exchange string
	// Prefetch is how many unacknowledged messages each consumer may hold [64].
	Prefetch int
	// Logger receives connection, retry and dead-letter logs [slog.Default()].
	Logger *slog.Logger
	// InstanceID names this process in broadcast queue names and consumer
	// tags [hostname plus a random suffix].
	InstanceID string

	// PublishTimeout bounds a Publish call, broker confirms included, even
	// when the caller's context has no deadline [5s].
	PublishTimeout time.Duration
	// MaxAttempts is how many times a handler is tried per message before
	// the message is dead-lettered [5].
	MaxAttempts int
	// RetryBackoff is the delay before the first redelivery after a handler
	// error; it doubles per attempt up to RetryBackoffMax [1s, 5m].
	RetryBackoff    time.Duration
	RetryBackoffMax time.Duration
	// ReconnectBackoff is the first delay before reconnecting after the
	// connection is lost; it doubles per failed attempt up to
	// ReconnectBackoffMax, with jitter [200ms, 15s].
	ReconnectBackoff    time.Duration
	ReconnectBackoffMax time.Duration
	// Heartbeat is the AMQP heartbeat interval, which bounds how long a
	// silently dead connection goes unnoticed [10s].
	Heartbeat time.Duration
	// DrainTimeout is how long Close waits for running handlers before
	// cancelling their context [5s].
	DrainTimeout time.Duration
}

func (o *Options) setDefaults() {
	if o.QueuePrefix == "" {
		o.QueuePrefix = "carecircle"
	}
	if o.Exchange == "" {
		o.Exchange = "carecircle.events"
	}
	if o.Prefetch <= 0 {
		o.Prefetch = 64
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.InstanceID == "" {
		host, err := os.Hostname()
		if err != nil || host == "" {
			host = "carecircle"
		}
		o.InstanceID = host + "-" + strconv.FormatUint(rand.Uint64()&0xffffff, 36)
	}
	setDuration(&o.PublishTimeout, 5*time.Second)
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 5
	}
	setDuration(&o.RetryBackoff, time.Second)
	setDuration(&o.RetryBackoffMax, 5*time.Minute)
	setDuration(&o.ReconnectBackoff, 200*time.Millisecond)
	setDuration(&o.ReconnectBackoffMax, 15*time.Second)
	setDuration(&o.Heartbeat, 10*time.Second)
	setDuration(&o.DrainTimeout, 5*time.Second)
}

func setDuration(d *time.Duration, def time.Duration) {
	if *d <= 0 {
		*d = def
	}
}

// Bus is an events.Bus on RabbitMQ.
type Bus struct {
	url  string
	opts Options
	log  *slog.Logger

	mu       sync.Mutex // guards subs, started, closed, sess
	subs     []*subscription
	started  bool
	closed   bool
	sess     *session // current connection; nil while down
	blocked  atomic.Bool
	stopping chan struct{}   // closed by Close
	ctx      context.Context // handlers' context, cancelled at Close
	cancel   context.CancelFunc
	wg       sync.WaitGroup // the supervisor and every consumer goroutine
}

var _ events.Bus = (*Bus)(nil)

// subscription is one consumer group of this process.
type subscription struct {
	group string
	mode  events.Mode
	h     events.Handler
}

// session is one live connection with its publisher channel and consumers.
type session struct {
	conn      *amqp.Connection
	closed    chan *amqp.Error
	pub       *amqp.Channel
	pubMu     sync.Mutex // keeps one Publish call's messages contiguous and in order
	consumers []consumer
	wg        sync.WaitGroup // this session's consumer goroutines
}

type consumer struct {
	ch  *amqp.Channel
	tag string
}

// New returns a Bus for the broker at url. It checks the URL but does not
// connect: Start does.
func New(url string, opts Options) (*Bus, error) {
	if _, err := amqp.ParseURI(url); err != nil {
		return nil, fmt.Errorf("amqp url: %w", err)
	}
	opts.setDefaults()
	return &Bus{url: url, opts: opts, log: opts.Logger, stopping: make(chan struct{})}, nil
}

// InstanceID returns the name this process uses in its broadcast queues.
func (b *Bus) InstanceID() string { return b.opts.InstanceID }

// QueueName returns the queue a consumer group reads on this Bus:
// carecircle.<group> for shared groups, carecircle.<group>.<instance> for
// broadcast ones. The dead-letter queue of a shared group is QueueName+".dlq".
func (b *Bus) QueueName(group string, mode events.Mode) string {
	if mode == events.Broadcast {
		return b.opts.QueuePrefix + "." + group + "." + b.opts.InstanceID
	}
	return b.opts.QueuePrefix + "." + group
}

// Subscribe registers h for group. It panics when called after Start or
// twice for one group, both wiring bugs.
func (b *Bus) Subscribe(group string, mode events.Mode, h events.Handler) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.started || b.closed {
		panic("amqp: Subscribe after Start")
	}
	if group == "" || h == nil {
		panic("amqp: Subscribe needs a group name and a handler")
	}
	for _, s := range b.subs {
		if s.group == group {
			panic("amqp: group " + group + " subscribed twice")
		}
	}
	b.subs = append(b.subs, &subscription{group: group, mode: mode, h: h})
}

// Start connects, declares the exchange and the groups' queues, starts the
// consumers and returns; from then on the Bus reconnects by itself. It
// fails when the first connection fails, so a misconfigured broker shows
// at startup; it may then be called again.
func (b *Bus) Start(ctx context.Context) error {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return events.ErrClosed
	}
	if b.started {
		b.mu.Unlock()
		return errors.New("amqp: bus already started")
	}
	b.started = true
	b.ctx, b.cancel = context.WithCancel(context.WithoutCancel(ctx))
	b.mu.Unlock()

	s, err := b.connect(ctx)
	if err != nil {
		b.mu.Lock()
		b.started = false // Start may be tried again
		b.mu.Unlock()
		b.cancel()
		return fmt.Errorf("start amqp bus: %w", err)
	}
	b.mu.Lock()
	if b.closed { // Close ran while connecting
		b.mu.Unlock()
		_ = s.conn.Close()
		b.cancel()
		return events.ErrClosed
	}
	b.sess = s
	b.wg.Add(1)
	b.mu.Unlock()
	go b.supervise(s)
	return nil
}

// Close stops the consumers, lets running handlers finish (up to
// DrainTimeout), closes the connection and waits for every goroutine.
func (b *Bus) Close() error {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return nil
	}
	b.closed = true
	started := b.started
	b.mu.Unlock()
	close(b.stopping)
	if started {
		b.wg.Wait()
		b.cancel()
	}
	return nil
}

func (b *Bus) setSession(s *session) {
	b.mu.Lock()
	b.sess = s
	b.mu.Unlock()
}

func (b *Bus) session() (*session, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch {
	case b.closed:
		return nil, events.ErrClosed
	case !b.started:
		return nil, errors.New("amqp: bus not started")
	case b.sess == nil:
		return nil, fmt.Errorf("%w: not connected", ErrUnavailable)
	}
	return b.sess, nil
}

// supervise owns the connection: it waits for it to fail and reconnects
// with backoff, until Close.
func (b *Bus) supervise(s *session) {
	defer b.wg.Done()
	for {
		select {
		case err := <-s.closed:
			b.setSession(nil)
			b.log.Warn("amqp connection lost, reconnecting", "err", err)
			_ = s.conn.Close()
		case <-b.stopping:
			b.setSession(nil)
			b.drain(s)
			return
		}
		if s = b.reconnect(); s == nil {
			b.cancel() // stopping while disconnected: release handlers still running
			return
		}
	}
}

// reconnect dials until it succeeds or Close is called (then it returns nil).
func (b *Bus) reconnect() *session {
	for attempt := 1; ; attempt++ {
		delay := events.Backoff(b.opts.ReconnectBackoff, b.opts.ReconnectBackoffMax, attempt)
		delay = delay/2 + rand.N(delay/2+1) // jitter, so instances don't stampede a restarted broker
		t := time.NewTimer(delay)
		select {
		case <-t.C:
		case <-b.stopping:
			t.Stop()
			return nil
		}
		s, err := b.connect(b.ctx)
		if err != nil {
			b.log.Warn("amqp reconnect failed", "attempt", attempt, "err", err)
			continue
		}
		b.setSession(s)
		b.log.Info("amqp reconnected", "attempt", attempt)
		return s
	}
}

// drain stops s's consumers, gives running handlers DrainTimeout to
// finish and acknowledge, then cancels them and closes the connection.
func (b *Bus) drain(s *session) {
	for _, c := range s.consumers {
		_ = c.ch.Cancel(c.tag, false)
	}
	done := make(chan struct{})
	go func() {
		s.wg.Wait()
		close(done)
	}()
	t := time.NewTimer(b.opts.DrainTimeout)
	defer t.Stop()
	select {
	case <-done:
	case <-t.C:
		b.log.Warn("amqp consumers still busy at close, cancelling them")
	}
	b.cancel()
	_ = s.conn.Close()
	<-done
}

// connect dials the broker and sets up the publisher channel, the
// exchange, every group's queues and the consumers.
func (b *Bus) connect(ctx context.Context) (*session, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	props := amqp.NewConnectionProperties()
	props.SetClientConnectionName("carecircle " + b.opts.InstanceID)
	conn, err := amqp.DialConfig(b.url, amqp.Config{
		Heartbeat:  b.opts.Heartbeat,
		Properties: props,
		Dial:       amqp.DefaultDial(5 * time.Second),
	})
	if err != nil {
		return nil, fmt.Errorf("dial: %w", err)
	}
	s := &session{conn: conn, closed: conn.NotifyClose(make(chan *amqp.Error, 1))}
	if err := b.setup(s); err != nil {
		_ = conn.Close()
		return nil, err
	}
	return s, nil
}

func (b *Bus) setup(s *session) error {
	blocked := s.conn.NotifyBlocked(make(chan amqp.Blocking, 1))
	go func() {
		// The broker blocks publishers when it runs out of memory or disk;
		// Publish then fails fast instead of hanging.
		for bl := range blocked {
			b.blocked.Store(bl.Active)
			if bl.Active {
				b.log.Warn("amqp broker blocked publishing", "reason", bl.Reason)
			}
		}
		b.blocked.Store(false)
	}()

	pub, err := s.conn.Channel()
	if err != nil {
		return fmt.Errorf("open publisher channel: %w", err)
	}
	if err := pub.Confirm(false); err != nil {
		return fmt.Errorf("enable publisher confirms: %w", err)
	}
	if err := pub.ExchangeDeclare(b.opts.Exchange, amqp.ExchangeTopic, true, false, false, false, nil); err != nil {
		return fmt.Errorf("declare exchange %s: %w", b.opts.Exchange, err)
	}
	s.pub = pub
	b.restartOnChannelError(s, pub)

	b.mu.Lock()
	subs := append([]*subscription(nil), b.subs...)
	b.mu.Unlock()
	for _, sub := range subs {
		if err := b.startConsumer(s, sub); err != nil {
			return fmt.Errorf("consumer group %s: %w", sub.group, err)
		}
	}
	return nil
}

// restartOnChannelError closes the connection when ch fails on its own
// (a channel-level error leaves the connection up), so the supervisor
// rebuilds everything in one well-tested path.
func (b *Bus) restartOnChannelError(s *session, ch *amqp.Channel) {
	closed := ch.NotifyClose(make(chan *amqp.Error, 1))
	go func() {
		// A connection failure closes its channels too; that one the
		// supervisor already handles.
		if err := <-closed; err != nil && !s.conn.IsClosed() {
			b.log.Warn("amqp channel failed, reconnecting", "err", err)
			_ = s.conn.Close()
		}
	}()
}

// Publish sends events in order as persistent messages and waits for the
// broker to confirm every one. It fails fast while disconnected and never
// takes longer than PublishTimeout.
func (b *Bus) Publish(ctx context.Context, evs []carecircle.Event) error {
	if len(evs) == 0 {
		return nil
	}
	s, err := b.session()
	if err != nil {
		return fmt.Errorf("publish events: %w", err)
	}
	if b.blocked.Load() {
		return fmt.Errorf("publish events: %w: broker is blocking publishers", ErrUnavailable)
	}
	ctx, cancel := context.WithTimeout(ctx, b.opts.PublishTimeout)
	defer cancel()

	confirms := make([]*amqp.DeferredConfirmation, 0, len(evs))
	s.pubMu.Lock()
	for _, e := range evs {
		dc, err := s.pub.PublishWithDeferredConfirmWithContext(ctx, b.opts.Exchange, e.RoutingKey(), false, false, message(e))
		if err != nil {
			s.pubMu.Unlock()
			return fmt.Errorf("publish event %s: %w: %w", e.ID, ErrUnavailable, err)
		}
		confirms = append(confirms, dc)
	}
	s.pubMu.Unlock()

	for i, dc := range confirms {
		acked, err := dc.WaitContext(ctx)
		if err != nil {
			return fmt.Errorf("await confirm of event %s: %w: %w", evs[i].ID, ErrUnavailable, err)
		}
		if !acked {
			return fmt.Errorf("publish event %s: %w: broker did not confirm it", evs[i].ID, ErrUnavailable)
		}
	}
	return nil
}

// message is the AMQP form of e: the CloudEvents envelope as the body, the
// id and type also as properties and ce- headers for tools that route or
// display without parsing the body.
func message(e carecircle.Event) amqp.Publishing {
	return amqp.Publishing{
		ContentType:  ContentType,
		DeliveryMode: amqp.Persistent,
		MessageId:    e.ID,
		Timestamp:    e.Time,
		Type:         e.Type,
		AppId:        "carecircle",
		Headers: amqp.Table{
			"ce-specversion": e.SpecVersion,
			"ce-id":          e.ID,
			"ce-type":        e.Type,
			"ce-source":      e.Source,
		},
		Body: e.MarshalEnvelope(),
	}
}
