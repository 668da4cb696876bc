// Package events defines the domain event bus: the outbox relay publishes
// recorded carecircle.Events on it, and the real-time, audit and notification
// consumers subscribe to it. Memory is the in-process bus of the embedded
// mode; package amqp provides the RabbitMQ bus of the scale-out mode.
//
// Delivery is at least once: a consumer may see an event again (after a
// handler error, a crash or a broker outage) and must be idempotent by
// event id.
package events

import (
	"context"
	"fmt"

	"github.com/carecircle/carecircle"
)

// Handler handles one event. A non-nil error means "retry later": the bus
// redelivers the event with backoff and, after a bounded number of failures,
// dead-letters it (logged; the AMQP bus also keeps it in a dead-letter queue).
type Handler func(ctx context.Context, e carecircle.Event) error

// Mode says how a consumer group shares events across processes.
type Mode int

const (
	// Shared groups form a work queue: each event is handled once per group
	// across all processes subscribed to that group (audit, notifications).
	Shared Mode = iota
	// Broadcast groups fan out per process: every process's handler sees
	// every event (real-time WebSocket delivery).
	Broadcast
)

// String names the mode for logs.
func (m Mode) String() string {
	switch m {
	case Shared:
		return "shared"
	case Broadcast:
		return "broadcast"
	default:
		return fmt.Sprintf("Mode(%d)", int(m))
	}
}

// Bus carries domain events from the outbox relay to the consumers.
type Bus interface {
	// Publish returns nil only when every event is durably accepted (for
	// RabbitMQ: confirmed by the broker). Order within the slice is
	// preserved. On error some events may have been accepted already; the
	// caller retries the whole slice and consumers drop the duplicates.
	Publish(ctx context.Context, events []carecircle.Event) error
	// Subscribe registers h for a consumer group. It must be called before
	// Start, once per group name; it panics otherwise (a wiring bug).
	// Handlers of one group run one event at a time, in publish order except
	// around retries.
	Subscribe(group string, mode Mode, h Handler)
	// Start begins consuming and returns once set up. ctx bounds the setup;
	// its values (not its cancellation) are passed to handlers, which run
	// until Close.
	Start(ctx context.Context) error
	// Close stops consuming, waits for running handlers and releases the
	// bus. Publish fails after Close.
	Close() error
}
