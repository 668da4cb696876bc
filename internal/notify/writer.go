package notify

import (
	"context"
	"sync"
	"time"

	"github.com/carecircle/carecircle/internal/storage"
)

// writer combines the writes of jobs running at the same time into one
// transaction (storage.DB.WriteEach: a savepoint each, one commit). SQLite
// has one writer and every commit waits for the disk, so a burst of
// reminders (a whole time zone's 08:00 doses) would otherwise queue for one
// fsync each. The first caller waiting becomes the leader and commits what
// the others queued meanwhile; under light load a batch is one write and
// nothing waits. PostgreSQL runs writes side by side and gets them as is.
type writer struct {
	db *storage.DB

	mu      sync.Mutex
	pending []*writeReq
	leading bool
}

type writeReq struct {
	fn   func(tx *storage.Tx) error
	done chan error
}

// maxCombined bounds one transaction.
const maxCombined = 128

func (w *writer) write(ctx context.Context, fn func(tx *storage.Tx) error) error {
	if w.db.Dialect != storage.SQLite {
		return w.db.Write(ctx, fn)
	}
	r := &writeReq{fn: fn, done: make(chan error, 1)}
	w.mu.Lock()
	w.pending = append(w.pending, r)
	lead := !w.leading
	w.leading = true
	w.mu.Unlock()
	if lead {
		w.lead()
	}
	return <-r.done
}

// lead commits batches until nothing is queued.
func (w *writer) lead() {
	for {
		w.mu.Lock()
		batch := w.pending[:min(len(w.pending), maxCombined)]
		w.pending = w.pending[len(batch):]
		if len(batch) == 0 {
			w.pending, w.leading = nil, false
			w.mu.Unlock()
			return
		}
		w.mu.Unlock()
		fns := make([]func(tx *storage.Tx) error, len(batch))
		for i, r := range batch {
			fns[i] = r.fn
		}
		// The batch belongs to several jobs: no one caller's context bounds it.
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		errs, err := w.db.WriteEach(ctx, fns)
		cancel()
		for i, r := range batch {
			if err != nil {
				r.done <- err
			} else {
				r.done <- errs[i]
			}
		}
	}
}
