package events

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/carecircle/carecircle"
	"github.com/carecircle/carecircle/internal/storage"
)

// Log is the embedded mode's bus: the outbox table itself is the event log.
// Each consumer group tails it by sequence number; Shared groups persist
// their position in the database, so after a crash (even kill -9) they resume
// where they stopped and no committed event goes unhandled. Broadcast groups
// (real-time) start at the newest event and keep their position in memory.
// SQLite commits one writer at a time, so sequence order is commit order and
// a reader can't skip an event that commits later; that is why Log is for
// SQLite only (PostgreSQL deployments use Relay with RabbitMQ).
type Log struct {
	db     *storage.DB
	logger *slog.Logger

	// PollInterval bounds how long an event waits when a wake-up is missed.
	PollInterval time.Duration
	// BatchSize is how many events a group reads at a time.
	BatchSize int
	// MaxAttempts is how often a failing handler is retried before the event
	// is dead-lettered (logged) and the group moves on.
	MaxAttempts  int
	RetryBackoff time.Duration

	mu      sync.Mutex
	subs    []*logSub
	started bool
	cancel  context.CancelFunc
	wg      sync.WaitGroup
}

type logSub struct {
	group string
	mode  Mode
	h     Handler
	wake  chan struct{}
}

// NewLog returns a bus that reads db's outbox.
func NewLog(db *storage.DB, logger *slog.Logger) *Log {
	if logger == nil {
		logger = slog.Default()
	}
	return &Log{db: db, logger: logger, PollInterval: time.Second, BatchSize: 256, MaxAttempts: 5, RetryBackoff: 100 * time.Millisecond}
}

var _ Bus = (*Log)(nil)

// Subscribe registers a consumer group. It panics after Start or on a
// duplicate group, both wiring bugs.
func (l *Log) Subscribe(group string, mode Mode, h Handler) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.started {
		panic("events: Subscribe after Start")
	}
	for _, s := range l.subs {
		if s.group == group {
			panic("events: duplicate group " + group)
		}
	}
	l.subs = append(l.subs, &logSub{group: group, mode: mode, h: h, wake: make(chan struct{}, 1)})
}

// Publish has nothing to do: the events are in the log once their
// transaction commits. It wakes the consumers.
func (l *Log) Publish(ctx context.Context, _ []carecircle.Event) error {
	l.Notify()
	return nil
}

// Notify wakes every group to read new events; storage calls it after each
// commit that recorded events. It never blocks.
func (l *Log) Notify() {
	for _, s := range l.subs {
		select {
		case s.wake <- struct{}{}:
		default:
		}
	}
}

// Start positions each group and starts consuming.
func (l *Log) Start(ctx context.Context) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.started {
		return errors.New("events: log already started")
	}
	l.started = true
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	l.cancel = cancel
	head, err := l.db.LastEventSeq(ctx)
	if err != nil {
		cancel()
		return err
	}
	for _, s := range l.subs {
		pos := head
		if s.mode == Shared {
			seq, found, err := l.db.ConsumerOffset(ctx, s.group)
			if err != nil {
				cancel()
				return err
			}
			if found {
				pos = seq
			} else if err := l.db.SetConsumerOffset(ctx, s.group, head); err != nil {
				// A new consumer starts at the head: history before it
				// existed is not replayed into audit or notifications.
				cancel()
				return err
			}
		}
		l.wg.Add(1)
		go l.run(runCtx, s, pos)
	}
	return nil
}

func (l *Log) run(ctx context.Context, s *logSub, pos int64) {
	defer l.wg.Done()
	tick := time.NewTicker(l.PollInterval)
	defer tick.Stop()
	for {
		for {
			batch, err := l.db.EventsAfter(ctx, pos, l.BatchSize)
			if err != nil {
				if ctx.Err() != nil {
					return
				}
				l.logger.Warn("event log read failed", "group", s.group, "err", err)
				break
			}
			if len(batch) == 0 {
				break
			}
			for _, e := range batch {
				l.handle(ctx, s, e.Event)
				if ctx.Err() != nil {
					return
				}
			}
			pos = batch[len(batch)-1].Seq
			if s.mode == Shared {
				if err := l.db.SetConsumerOffset(ctx, s.group, pos); err != nil && ctx.Err() == nil {
					l.logger.Warn("consumer offset not saved; events may be handled again", "group", s.group, "err", err)
				}
			}
			if len(batch) < l.BatchSize {
				break
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-s.wake:
		case <-tick.C:
		}
	}
}

// handle runs the handler with retries; an event that keeps failing is
// dead-lettered in the log so one poison event can't stall the group.
func (l *Log) handle(ctx context.Context, s *logSub, e carecircle.Event) {
	for attempt := 1; ; attempt++ {
		err := CallHandler(ctx, s.h, e)
		if err == nil {
			return
		}
		if ctx.Err() != nil {
			return // shutting down: the offset stays before this event, so it is handled after restart
		}
		if attempt >= l.MaxAttempts {
			l.logger.Error("event dead-lettered", "group", s.group, "event", e.ID, "type", e.Type, "attempts", attempt, "err", err)
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(Backoff(l.RetryBackoff, 10*time.Second, attempt)):
		}
	}
}

// Close stops the consumers after their current event.
func (l *Log) Close() error {
	l.mu.Lock()
	cancel := l.cancel
	l.mu.Unlock()
	if cancel != nil {
		cancel()
	}
	l.wg.Wait()
	return nil
}
