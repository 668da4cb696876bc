package app

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/carecircle/carecircle"
	"github.com/carecircle/carecircle/internal/amqp"
	"github.com/carecircle/carecircle/internal/events"
	"github.com/carecircle/carecircle/internal/realtime"
	"github.com/carecircle/carecircle/internal/storage"
)

// setupEvents builds the event backbone for the deployment:
//   - SQLite (embedded): the outbox is the log (events.Log); consumers tail
//     it and durable ones resume after a crash.
//   - PostgreSQL with AMQP_URL: the relay publishes the outbox to RabbitMQ.
//   - PostgreSQL without a broker: the relay feeds the in-process bus (one
//     instance only: nothing crosses processes).
//
// Every process consumes audit (and notifications); servers also fan events
// out to their WebSocket clients.
func (a *App) setupEvents(worker bool) error {
	if a.DB.Dialect == storage.SQLite {
		l := events.NewLog(a.DB, a.Logger)
		a.Bus = l
		a.DB.OnCommit = func([]carecircle.Event) { l.Notify() }
	} else {
		var bus events.Bus
		if a.Cfg.AMQPURL != "" {
			b, err := amqp.New(a.Cfg.AMQPURL, amqp.Options{Logger: a.Logger,
				Exchange: a.Cfg.AMQPExchange, QueuePrefix: a.Cfg.AMQPPrefix})
			if err != nil {
				return err
			}
			bus = b
		} else {
			bus = events.NewMemory(a.Logger)
		}
		a.Bus = bus
		a.relay = events.NewRelay(a.DB, bus, a.Logger)
		a.relay.Retention = time.Duration(a.Cfg.EventRetention) * 24 * time.Hour
		a.DB.OnCommit = a.relay.Notify
	}
	if !worker {
		a.Hub = realtime.NewHub(realtime.Options{Logger: a.Logger})
		a.Bus.Subscribe("realtime", events.Broadcast, func(_ context.Context, e carecircle.Event) error {
			a.Hub.Deliver(e)
			return nil
		})
		a.mux.Handle("GET /api/v1/ws", a.Hub.Handler(a.socketAuth))
	}
	a.Bus.Subscribe("audit", events.Shared, a.DB.RecordAudit)
	return nil
}

// socketAuth authenticates a WebSocket like any API request (bearer token
// or the accessToken cookie) and lists the user's families.
func (a *App) socketAuth(r *http.Request) (userID, sessionID string, familyIDs []string, err error) {
	tok := ""
	if h := r.Header.Get("Authorization"); len(h) > 7 && strings.EqualFold(h[:7], "bearer ") {
		tok = strings.TrimSpace(h[7:])
	} else if c, cerr := r.Cookie("accessToken"); cerr == nil {
		tok = c.Value
	}
	if tok == "" {
		return "", "", nil, carecircle.Errorf(carecircle.EUNAUTHORIZED, "sign in required")
	}
	ctx, err := a.API.SignIn(r.Context(), tok)
	if err != nil {
		return "", "", nil, err
	}
	me, err := a.DB.Me(ctx)
	if err != nil {
		return "", "", nil, err
	}
	act, _ := carecircle.ActorFrom(ctx)
	for _, f := range me.Families {
		familyIDs = append(familyIDs, f.ID)
	}
	return me.ID, act.SessionID, familyIDs, nil
}

// runEvents starts the bus (retrying while the broker is down: writes keep
// landing in the outbox meanwhile), the relay and outbox pruning.
func (a *App) runEvents(ctx context.Context) error {
	for attempt := 1; ; attempt++ {
		err := a.Bus.Start(ctx)
		if err == nil {
			break
		}
		a.Logger.Warn("event bus not reachable; retrying", "err", err, "attempt", attempt)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(events.Backoff(500*time.Millisecond, 15*time.Second, attempt)):
		}
	}
	a.closers = append(a.closers, a.Bus.Close)
	close(a.eventsReady)
	if a.relay != nil {
		a.goBackground(ctx, "relay", a.relay.Run)
		return nil
	}
	// Embedded: prune events every consumer has read, after the retention.
	tick := time.NewTicker(time.Hour)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
			cutoff := a.Clock.Now().Add(-time.Duration(a.Cfg.EventRetention) * 24 * time.Hour)
			if n, err := a.DB.PruneConsumed(ctx, cutoff); err != nil {
				a.Logger.Warn("outbox prune failed", "err", err)
			} else if n > 0 {
				a.Logger.Info("outbox pruned", "events", n)
			}
		}
	}
}
