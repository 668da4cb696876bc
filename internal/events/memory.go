package events

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync"
	"time"

	"github.com/carecircle/carecircle"
)

// ErrClosed is returned by Publish after Close.
var ErrClosed = errors.New("events: bus closed")

// Memory is the in-process bus of the embedded mode. Each group has its own
// queue and goroutine, so a slow consumer never blocks Publish or another
// group. Broadcast and Shared behave alike here: there is one process.
//
// The exported fields tune it; set them before Start.
type Memory struct {
	// MaxQueue bounds each group's backlog. When a group is that far
	// behind, Publish fails instead of growing memory without limit: the
	// relay keeps the events in the outbox and retries. Default 100,000.
	MaxQueue int
	// MaxAttempts is how many times a handler is tried per event before the
	// event is dead-lettered (logged and dropped). Default 5.
	MaxAttempts int
	// RetryBackoff is the delay before the first retry; it doubles on each
	// further retry, up to 30 s. Default 200 ms.
	RetryBackoff time.Duration
	// DrainTimeout is how long Close lets the groups work off their
	// backlog before cancelling the handlers. Default 5 s.
	DrainTimeout time.Duration

	logger *slog.Logger

	mu       sync.Mutex // guards subs, started, closed and the queues' admission
	subs     []*memSub
	started  bool
	closed   bool
	ctx      context.Context
	cancel   context.CancelFunc
	draining chan struct{}
	wg       sync.WaitGroup
}

// memSub is one group's queue. Its goroutine takes events from the front.
type memSub struct {
	group  string
	mode   Mode
	h      Handler
	mu     sync.Mutex
	queue  []carecircle.Event
	wake   chan struct{} // capacity 1: "the queue may be non-empty"
	warned bool          // a high-water warning was logged and not yet cleared
}

// NewMemory returns an in-process bus that logs to logger (slog.Default when
// nil).
func NewMemory(logger *slog.Logger) *Memory {
	if logger == nil {
		logger = slog.Default()
	}
	return &Memory{logger: logger, draining: make(chan struct{})}
}

var _ Bus = (*Memory)(nil)

// Subscribe registers h for group. It panics when called after Start or
// twice for one group, both wiring bugs.
func (m *Memory) Subscribe(group string, mode Mode, h Handler) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.started || m.closed {
		panic("events: Subscribe after Start")
	}
	for _, s := range m.subs {
		if s.group == group {
			panic("events: group " + group + " subscribed twice")
		}
	}
	if h == nil {
		panic("events: nil handler for group " + group)
	}
	m.subs = append(m.subs, &memSub{group: group, mode: mode, h: h, wake: make(chan struct{}, 1)})
}

// Start launches one goroutine per group. Events published before Start
// are kept and handled once it runs.
func (m *Memory) Start(ctx context.Context) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return ErrClosed
	}
	if m.started {
		return errors.New("events: bus already started")
	}
	m.started = true
	m.ctx, m.cancel = context.WithCancel(context.WithoutCancel(ctx))
	for _, s := range m.subs {
		m.wg.Add(1)
		go func() {
			defer m.wg.Done()
			m.run(s)
		}()
	}
	return nil
}

// Publish appends events to every group's queue, all or nothing: when any
// group's backlog would exceed MaxQueue it returns an error and queues none.
func (m *Memory) Publish(ctx context.Context, events []carecircle.Event) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("publish events: %w", err)
	}
	if len(events) == 0 {
		return nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return ErrClosed
	}
	limit := m.maxQueue()
	for _, s := range m.subs {
		s.mu.Lock()
		n := len(s.queue)
		s.mu.Unlock()
		if n+len(events) > limit {
			m.logger.Warn("event queue full, publish refused", "group", s.group, "queued", n, "limit", limit)
			return fmt.Errorf("publish events: group %s has %d events queued (limit %d)", s.group, n, limit)
		}
	}
	for _, s := range m.subs {
		s.mu.Lock()
		s.queue = append(s.queue, events...)
		n := len(s.queue)
		if !s.warned && n >= limit/2 {
			s.warned = true
			m.logger.Warn("event consumer falling behind", "group", s.group, "queued", n, "limit", limit)
		}
		s.mu.Unlock()
		select {
		case s.wake <- struct{}{}:
		default:
		}
	}
	return nil
}

// Close refuses further publishes, lets each group work off its backlog
// for up to DrainTimeout, then cancels the handlers and waits for them.
func (m *Memory) Close() error {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return nil
	}
	m.closed = true
	started := m.started
	m.mu.Unlock()
	if !started {
		return nil
	}
	close(m.draining)
	done := make(chan struct{})
	go func() {
		m.wg.Wait()
		close(done)
	}()
	timer := time.NewTimer(m.drainTimeout())
	defer timer.Stop()
	select {
	case <-done:
	case <-timer.C:
		m.logger.Warn("event consumers still busy at close, cancelling them")
	}
	m.cancel()
	<-done
	return nil
}

// run is one group's goroutine.
func (m *Memory) run(s *memSub) {
	for {
		if m.ctx.Err() != nil {
			if n := s.len(); n > 0 {
				m.logger.Error("events dropped at close", "group", s.group, "count", n)
			}
			return
		}
		e, ok := s.pop()
		if !ok {
			select {
			case <-s.wake:
			case <-m.draining:
				if s.len() == 0 {
					return
				}
			case <-m.ctx.Done():
			}
			continue
		}
		m.deliver(s, e)
	}
}

// deliver calls the handler until it succeeds or MaxAttempts is reached.
func (m *Memory) deliver(s *memSub, e carecircle.Event) {
	maxAttempts := m.maxAttempts()
	for attempt := 1; ; attempt++ {
		err := CallHandler(m.ctx, s.h, e)
		if err == nil {
			return
		}
		if attempt >= maxAttempts || m.ctx.Err() != nil {
			m.logger.Error("event dead-lettered", "group", s.group, "event_id", e.ID,
				"event_type", e.Type, "attempts", attempt, "err", err)
			return
		}
		delay := Backoff(m.retryBackoff(), 30*time.Second, attempt)
		m.logger.Warn("event handler failed, will retry", "group", s.group, "event_id", e.ID,
			"event_type", e.Type, "attempt", attempt, "retry_in", delay, "err", err)
		t := time.NewTimer(delay)
		select {
		case <-t.C:
		case <-m.ctx.Done():
			t.Stop()
		}
	}
}

func (s *memSub) pop() (carecircle.Event, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.queue) == 0 {
		return carecircle.Event{}, false
	}
	e := s.queue[0]
	s.queue[0] = carecircle.Event{} // let the payload be collected
	s.queue = s.queue[1:]
	if len(s.queue) == 0 {
		s.queue = nil // release the backing array
		s.warned = false
	}
	return e, true
}

func (s *memSub) len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.queue)
}

// CallHandler runs h, turning a panic into an error so one bad event cannot
// take the consumer (and the process) down. Bus implementations use it.
func CallHandler(ctx context.Context, h Handler, e carecircle.Event) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("handler panic: %v\n%s", r, debug.Stack())
		}
	}()
	return h(ctx, e)
}

// Backoff returns the delay before retry number attempt (1-based): base
// doubled per attempt, capped at limit.
func Backoff(base, limit time.Duration, attempt int) time.Duration {
	d := base
	for i := 1; i < attempt && d < limit; i++ {
		d *= 2
	}
	return min(d, limit)
}

func (m *Memory) maxQueue() int {
	if m.MaxQueue > 0 {
		return m.MaxQueue
	}
	return 100_000
}

func (m *Memory) maxAttempts() int {
	if m.MaxAttempts > 0 {
		return m.MaxAttempts
	}
	return 5
}

func (m *Memory) retryBackoff() time.Duration {
	if m.RetryBackoff > 0 {
		return m.RetryBackoff
	}
	return 200 * time.Millisecond
}

func (m *Memory) drainTimeout() time.Duration {
	if m.DrainTimeout > 0 {
		return m.DrainTimeout
	}
	return 5 * time.Second
}
