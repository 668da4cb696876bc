package storage

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/carecircle/carecircle"
)

// Group commit for SQLite. With synchronous=FULL every commit waits for the
// disk (an fsync of the WAL, about a millisecond here), and SQLite has one
// writer, so committing each request on its own caps writes near a thousand
// a second however fast the rest is. Instead one goroutine runs the write
// transactions: it takes every request waiting, runs each in its own
// SAVEPOINT of one transaction (a request that fails rolls back to its
// savepoint and leaves the others alone), commits once, and only then
// answers each request. A request is acknowledged only after the commit
// that holds it is on disk: durability is unchanged, one fsync is shared.
// Under light load a batch is a single request and nothing changes.

// maxBatch bounds how many requests share one transaction.
const maxBatch = 64

// Background writes (the audit consumer's) are acknowledged to nobody in a
// hurry. While requests are writing (one seen within piggybackWindow), a
// background write waits up to piggybackWait for the next request's commit
// to share its fsync, rather than costing the disk a commit of its own;
// when the store is quiet it commits at once, so a backlog drains fast.
const (
	piggybackWindow = 20 * time.Millisecond
	piggybackWait   = 3 * time.Millisecond
)

type groupCommitter struct {
	db         *DB
	reqs       chan *writeReq
	background chan *writeReq
	stop       chan struct{}
	done       sync.WaitGroup
	close      sync.Once
	lastEager  time.Time // when the loop last took a request's write
}

type writeReq struct {
	ctx      context.Context
	fn       func(tx *Tx) error
	err      error
	panicked any // fn panicked: re-raised in the caller's goroutine
	events   []carecircle.Event
	answer   chan struct{}
}

func newGroupCommitter(db *DB) *groupCommitter {
	g := &groupCommitter{db: db, reqs: make(chan *writeReq), background: make(chan *writeReq), stop: make(chan struct{})}
	g.done.Add(1)
	go g.loop()
	return g
}

// errClosed answers writes after Close.
var errClosed = errors.New("database is closed")

// write queues fn and waits for the commit that holds it. Once queued, a
// request is always answered: the wait is bounded by one batch. background
// marks work no request waits on (see piggybackWait).
func (g *groupCommitter) write(ctx context.Context, fn func(tx *Tx) error, background bool) error {
	r := &writeReq{ctx: ctx, fn: fn, answer: make(chan struct{})}
	queue := g.reqs
	if background {
		queue = g.background
	}
	select {
	case queue <- r:
	case <-ctx.Done():
		return ctx.Err()
	case <-g.stop:
		return errClosed
	}
	<-r.answer
	if r.panicked != nil {
		panic(r.panicked)
	}
	if r.err == nil && len(r.events) > 0 && g.db.OnCommit != nil {
		g.db.OnCommit(r.events)
	}
	return r.err
}

func (g *groupCommitter) shutdown() {
	g.close.Do(func() { close(g.stop) })
	g.done.Wait()
}

func (g *groupCommitter) loop() {
	defer g.done.Done()
	batch := make([]*writeReq, 0, maxBatch)
	for {
		select {
		case r := <-g.reqs:
			batch = append(batch[:0], r)
			g.lastEager = time.Now()
		case r := <-g.background:
			batch = append(batch[:0], r)
			if time.Since(g.lastEager) < piggybackWindow {
				wait := time.NewTimer(piggybackWait)
				select {
				case r := <-g.reqs:
					batch = append(batch, r)
					g.lastEager = time.Now()
				case <-wait.C:
				case <-g.stop:
				}
				wait.Stop()
			}
		case <-g.stop:
			return
		}
	more:
		for len(batch) < maxBatch {
			select {
			case r := <-g.reqs:
				batch = append(batch, r)
				g.lastEager = time.Now()
			case r := <-g.background:
				batch = append(batch, r)
			default:
				break more
			}
		}
		g.run(batch)
		for _, r := range batch {
			close(r.answer)
		}
	}
}

// run executes a batch in one transaction and sets each request's result.
func (g *groupCommitter) run(batch []*writeReq) {
	fail := func(err error) {
		for _, r := range batch {
			if r.err == nil {
				r.err, r.events = err, nil
			}
		}
	}
	sqlTx, err := g.db.w.BeginTx(context.Background(), nil)
	if err != nil {
		fail(fmt.Errorf("begin: %w", err))
		return
	}
	alone := len(batch) == 1
	for _, r := range batch {
		if r.err = r.ctx.Err(); r.err != nil {
			continue
		}
		if !alone {
			if _, err := sqlTx.ExecContext(context.Background(), "SAVEPOINT request"); err != nil {
				_ = sqlTx.Rollback()
				fail(fmt.Errorf("savepoint: %w", err))
				return
			}
		}
		tx := &Tx{Tx: sqlTx, db: g.db}
		tx.now, tx.nowT = g.db.now()
		r.err = r.call(tx)
		switch {
		case r.err != nil && alone:
			_ = sqlTx.Rollback()
			return
		case r.err != nil:
			// Undo this request only. If SQLite already rolled the whole
			// transaction back (an I/O error), the savepoint is gone and
			// nothing in the batch can be trusted.
			if _, err := sqlTx.ExecContext(context.Background(), "ROLLBACK TO request"); err != nil {
				_ = sqlTx.Rollback()
				fail(fmt.Errorf("roll back to savepoint: %w", err))
				return
			}
			if _, err := sqlTx.ExecContext(context.Background(), "RELEASE request"); err != nil {
				_ = sqlTx.Rollback()
				fail(fmt.Errorf("release savepoint: %w", err))
				return
			}
		default:
			if !alone {
				if _, err := sqlTx.ExecContext(context.Background(), "RELEASE request"); err != nil {
					_ = sqlTx.Rollback()
					fail(fmt.Errorf("release savepoint: %w", err))
					return
				}
			}
			r.events = tx.events
		}
	}
	if err := sqlTx.Commit(); err != nil {
		fail(fmt.Errorf("commit: %w", err))
	}
}

// call runs the request's fn, turning a panic into an error for the batch
// (the committer must survive it) and keeping the value for the caller.
func (r *writeReq) call(tx *Tx) (err error) {
	defer func() {
		if v := recover(); v != nil {
			r.panicked = v
			err = fmt.Errorf("write panicked: %v", v)
		}
	}()
	return r.fn(tx)
}
