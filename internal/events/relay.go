package events

import (
	"context"
	"log/slog"
	"time"

	"github.com/carecircle/carecircle"
	"github.com/carecircle/carecircle/internal/storage"
)

// Relay moves events from the outbox to a Bus (RabbitMQ, or the in-process
// Memory bus on PostgreSQL without a broker). Every event committed in a
// transaction reaches the bus at least once:
//   - fast path: storage hands each commit's events to Notify, and the relay
//     publishes them at once and marks them relayed;
//   - sweep: every SweepInterval it publishes, in sequence order, whatever is
//     still unrelayed after SweepAge (a failed fast path, a broker outage, a
//     process killed between commit and publish — any instance's leftovers).
//
// Duplicates are possible (a publish that succeeded but whose mark failed);
// consumers are idempotent by event id.
type Relay struct {
	db     *storage.DB
	bus    Bus
	logger *slog.Logger

	SweepInterval time.Duration
	SweepAge      time.Duration
	Retention     time.Duration // relayed events are kept this long
	BatchSize     int

	fast chan []carecircle.Event
}

// NewRelay returns a relay from db's outbox to bus.
func NewRelay(db *storage.DB, bus Bus, logger *slog.Logger) *Relay {
	if logger == nil {
		logger = slog.Default()
	}
	return &Relay{db: db, bus: bus, logger: logger, SweepInterval: time.Second, SweepAge: 2 * time.Second,
		Retention: 7 * 24 * time.Hour, BatchSize: 500, fast: make(chan []carecircle.Event, 4096)}
}

// Notify queues freshly committed events for the fast path. It never
// blocks: when the queue is full the sweep picks the events up.
func (r *Relay) Notify(evs []carecircle.Event) {
	select {
	case r.fast <- evs:
	default:
	}
}

// Run relays until ctx ends.
func (r *Relay) Run(ctx context.Context) error {
	sweep := time.NewTicker(r.SweepInterval)
	defer sweep.Stop()
	prune := time.NewTicker(time.Hour)
	defer prune.Stop()
	failing := false
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case evs := <-r.fast:
			batch := append([]carecircle.Event(nil), evs...)
		drain:
			for len(batch) < r.BatchSize {
				select {
				case more := <-r.fast:
					batch = append(batch, more...)
				default:
					break drain
				}
			}
			r.publish(ctx, batch, &failing)
		case <-sweep.C:
			for {
				entries, err := r.db.Unrelayed(ctx, r.BatchSize, r.SweepAge)
				if err != nil {
					if ctx.Err() == nil {
						r.logger.Warn("outbox sweep failed", "err", err)
					}
					break
				}
				if len(entries) == 0 {
					break
				}
				batch := make([]carecircle.Event, len(entries))
				for i, e := range entries {
					batch[i] = e.Event
				}
				if !r.publish(ctx, batch, &failing) || len(entries) < r.BatchSize {
					break
				}
			}
		case <-prune.C:
			if n, err := r.db.PruneRelayed(ctx, time.Now().Add(-r.Retention)); err != nil {
				r.logger.Warn("outbox prune failed", "err", err)
			} else if n > 0 {
				r.logger.Info("outbox pruned", "events", n)
			}
		}
	}
}

// publish sends one batch and marks it relayed; it logs a broker outage once
// when it starts and once when it ends.
func (r *Relay) publish(ctx context.Context, batch []carecircle.Event, failing *bool) bool {
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := r.bus.Publish(pctx, batch); err != nil {
		if !*failing && ctx.Err() == nil {
			r.logger.Warn("event bus unavailable; events wait in the outbox", "err", err)
		}
		*failing = true
		return false
	}
	if *failing {
		r.logger.Info("event bus is back; relaying the outbox")
		*failing = false
	}
	ids := make([]string, len(batch))
	for i, e := range batch {
		ids[i] = e.ID
	}
	if err := r.db.MarkRelayed(ctx, ids); err != nil && ctx.Err() == nil {
		r.logger.Warn("relayed events not marked; they will be sent again", "err", err)
	}
	return true
}
