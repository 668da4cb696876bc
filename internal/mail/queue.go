package mail

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"
)

// QueueOptions tunes a Queue. Zero values take the defaults noted.
type QueueOptions struct {
	// Workers is how many messages are sent at once (default 2).
	Workers int
	// MaxAttempts is how many times a message is tried before it is logged
	// as undeliverable (default 8: two to four minutes of retries with
	// the default backoff).
	MaxAttempts int
	// BaseBackoff is the wait after the first failure (default 2s); it
	// doubles after each further failure, with jitter, up to MaxBackoff.
	BaseBackoff time.Duration
	// MaxBackoff caps the wait between attempts (default 10 minutes).
	MaxBackoff time.Duration
	// Buffer is how many messages may wait for a worker (default 1024).
	Buffer int
	// AttemptTimeout bounds one Send (default 2 minutes).
	AttemptTimeout time.Duration
	// Sleep waits d or until ctx ends, returning ctx's error then. Tests
	// replace it so retries happen at once; the default uses a timer.
	Sleep func(ctx context.Context, d time.Duration) error
}

func (o QueueOptions) withDefaults() QueueOptions {
	if o.Workers <= 0 {
		o.Workers = 2
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 8
	}
	if o.BaseBackoff <= 0 {
		o.BaseBackoff = 2 * time.Second
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = 10 * time.Minute
	}
	if o.Buffer <= 0 {
		o.Buffer = 1024
	}
	if o.AttemptTimeout <= 0 {
		o.AttemptTimeout = 2 * time.Minute
	}
	if o.Sleep == nil {
		o.Sleep = sleep
	}
	return o
}

// Queue sends messages in the background so the request that caused an
// email never waits on, or fails because of, the mail server. Messages live
// in memory only: a message still queued when the process stops is lost
// (and logged as dropped by Close), which is acceptable for mail a user can
// ask for again (verification, reset) and for notifications already shown in
// the app.
type Queue struct {
	sender Sender
	logger *slog.Logger
	opts   QueueOptions
	jobs   chan Message

	mu     sync.RWMutex // guards closed and the close of jobs against Enqueue
	closed bool

	// ctx is cancelled when Close runs out of time: it aborts sends and
	// backoff waits so the workers can exit.
	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{} // closed when every worker has returned
}

// NewQueue starts opts.Workers background workers sending through sender.
// Call Close to stop them.
func NewQueue(sender Sender, logger *slog.Logger, opts QueueOptions) *Queue {
	if logger == nil {
		logger = slog.Default()
	}
	opts = opts.withDefaults()
	ctx, cancel := context.WithCancel(context.Background())
	q := &Queue{
		sender: sender,
		logger: logger,
		opts:   opts,
		jobs:   make(chan Message, opts.Buffer),
		ctx:    ctx,
		cancel: cancel,
		done:   make(chan struct{}),
	}
	var wg sync.WaitGroup
	for range opts.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			q.work()
		}()
	}
	go func() {
		wg.Wait()
		close(q.done)
	}()
	return q
}

// Enqueue hands m to the background workers and returns at once. It never
// blocks: when the buffer is full (the mail server has been failing for a
// while, or mail arrives faster than it can be sent) or the queue is closed,
// m is dropped and an error is logged with its recipient and subject. A
// dropped verification or reset email can be requested again; blocking the
// request instead would turn a mail outage into an application outage.
func (q *Queue) Enqueue(m Message) {
	q.mu.RLock()
	defer q.mu.RUnlock()
	if q.closed {
		q.logger.Error("mail dropped: queue is closed", slog.String("to", m.To), slog.String("subject", m.Subject))
		return
	}
	select {
	case q.jobs <- m:
	default:
		q.logger.Error("mail dropped: queue is full", slog.String("to", m.To), slog.String("subject", m.Subject),
			slog.Int("buffer", q.opts.Buffer))
	}
}

// Close stops accepting messages and waits for the queued ones to be sent
// (retries included) until ctx ends. Then it aborts the remaining sends and
// backoff waits, logs each undelivered message as dropped, and returns ctx's
// error once the workers have stopped. Senders must honour ctx for that last
// step to be quick.
func (q *Queue) Close(ctx context.Context) error {
	q.mu.Lock()
	if !q.closed {
		q.closed = true
		close(q.jobs)
	}
	q.mu.Unlock()
	select {
	case <-q.done:
		q.cancel()
		return nil
	case <-ctx.Done():
		q.cancel()
		<-q.done
		return errors.Join(errors.New("mail queue: closed before every message was sent"), ctx.Err())
	}
}

func (q *Queue) work() {
	for m := range q.jobs {
		if q.ctx.Err() != nil {
			q.dropped(m, 0, nil)
			continue
		}
		q.deliver(m)
	}
}

// deliver tries m until it is sent, fails permanently, runs out of attempts
// or the queue is aborted.
func (q *Queue) deliver(m Message) {
	for attempt := 1; ; attempt++ {
		ctx, cancel := context.WithTimeout(q.ctx, q.opts.AttemptTimeout)
		err := q.sender.Send(ctx, m)
		cancel()
		if err == nil {
			if attempt > 1 {
				q.logger.Info("mail sent after retries", slog.String("to", m.To), slog.String("subject", m.Subject),
					slog.Int("attempts", attempt))
			}
			return
		}
		if q.ctx.Err() != nil {
			q.dropped(m, attempt, err)
			return
		}
		if IsPermanent(err) || attempt >= q.opts.MaxAttempts {
			// The dead letter: nothing else keeps this message, so the log
			// line must say who missed what.
			q.logger.Error("mail undeliverable: giving up", slog.String("to", m.To), slog.String("subject", m.Subject),
				slog.Int("attempts", attempt), slog.Bool("permanent", IsPermanent(err)), slog.Any("err", err))
			return
		}
		wait := backoff(q.opts.BaseBackoff, q.opts.MaxBackoff, attempt)
		q.logger.Warn("mail send failed; will retry", slog.String("to", m.To), slog.String("subject", m.Subject),
			slog.Int("attempt", attempt), slog.Duration("retry_in", wait), slog.Any("err", err))
		if q.opts.Sleep(q.ctx, wait) != nil {
			q.dropped(m, attempt, err)
			return
		}
	}
}

func (q *Queue) dropped(m Message, attempts int, err error) {
	q.logger.Error("mail dropped: queue closed before it was sent", slog.String("to", m.To),
		slog.String("subject", m.Subject), slog.Int("attempts", attempts), slog.Any("err", err))
}

// backoff returns the wait after the given failed attempt (1-based): base
// doubled per attempt, capped at limit, then jittered into [d/2, d) so many
// messages failing together do not retry in lockstep.
func backoff(base, limit time.Duration, attempt int) time.Duration {
	d := base
	for i := 1; i < attempt && d < limit; i++ {
		d *= 2
	}
	d = min(d, limit)
	half := d / 2
	if half <= 0 {
		return d
	}
	return half + rand.N(d-half)
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
