package amqp

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/carecircle/carecircle"
	"github.com/carecircle/carecircle/internal/events"
)

// startConsumer declares sub's queues, binds them and starts its consumer
// goroutine on a channel of its own.
func (b *Bus) startConsumer(s *session, sub *subscription) error {
	ch, err := s.conn.Channel()
	if err != nil {
		return fmt.Errorf("open channel: %w", err)
	}
	if err := ch.Qos(b.opts.Prefetch, 0, false); err != nil {
		return fmt.Errorf("set prefetch: %w", err)
	}
	queue := b.QueueName(sub.group, sub.mode)
	if sub.mode == events.Broadcast {
		// One queue per process, gone with its connection: real-time
		// fan-out needs no backlog across restarts.
		if _, err := ch.QueueDeclare(queue, false, true, true, false, nil); err != nil {
			return fmt.Errorf("declare queue %s: %w", queue, err)
		}
	} else {
		if err := declareShared(ch, queue); err != nil {
			return err
		}
		// The retry copy of a failed message is published on this channel;
		// confirms make "retry stored" certain before the original is acked.
		if err := ch.Confirm(false); err != nil {
			return fmt.Errorf("enable confirms: %w", err)
		}
	}
	if err := ch.QueueBind(queue, "#", b.opts.Exchange, false, nil); err != nil {
		return fmt.Errorf("bind queue %s: %w", queue, err)
	}
	tag := b.opts.InstanceID + "." + sub.group
	deliveries, err := ch.Consume(queue, tag, false, false, false, false, nil)
	if err != nil {
		return fmt.Errorf("consume %s: %w", queue, err)
	}
	b.restartOnChannelError(s, ch)
	s.consumers = append(s.consumers, consumer{ch: ch, tag: tag})
	s.wg.Add(1)
	b.wg.Add(1)
	go b.consume(s, ch, sub, queue, deliveries)
	return nil
}

// declareShared declares a shared group's three durable queues. Both the
// dead-letter and the retry routes go through the default exchange, which
// delivers straight to the queue named by the routing key.
func declareShared(ch *amqp.Channel, queue string) error {
	dlq, retry := queue+".dlq", queue+".retry"
	if _, err := ch.QueueDeclare(dlq, true, false, false, false, nil); err != nil {
		return fmt.Errorf("declare queue %s: %w", dlq, err)
	}
	// A message waits in the retry queue for its own expiration, then is
	// dead-lettered back to the group's queue.
	if _, err := ch.QueueDeclare(retry, true, false, false, false, amqp.Table{
		"x-dead-letter-exchange":    "",
		"x-dead-letter-routing-key": queue,
	}); err != nil {
		return fmt.Errorf("declare queue %s: %w", retry, err)
	}
	// Rejected messages (poison, or out of attempts) go to the DLQ.
	if _, err := ch.QueueDeclare(queue, true, false, false, false, amqp.Table{
		"x-dead-letter-exchange":    "",
		"x-dead-letter-routing-key": dlq,
	}); err != nil {
		return fmt.Errorf("declare queue %s: %w", queue, err)
	}
	return nil
}

// consume handles sub's deliveries one at a time until the channel closes.
func (b *Bus) consume(s *session, ch *amqp.Channel, sub *subscription, queue string, deliveries <-chan amqp.Delivery) {
	defer b.wg.Done()
	defer s.wg.Done()
	for d := range deliveries {
		var err error
		if sub.mode == events.Broadcast {
			b.handleBroadcast(sub, d)
		} else {
			err = b.handleShared(ch, sub, queue, d)
		}
		if err != nil {
			// The channel can no longer be trusted with acks or retries;
			// a fresh connection redelivers what was not acked.
			if !s.conn.IsClosed() {
				b.log.Error("amqp consumer failed, reconnecting", "group", sub.group, "err", err)
				_ = s.conn.Close()
			}
			return
		}
	}
	select {
	case <-b.stopping:
	default:
		if !s.conn.IsClosed() {
			// The broker cancelled the consumer (its queue was deleted):
			// reconnecting declares the queue again.
			b.log.Warn("amqp consumer cancelled by the broker, reconnecting", "group", sub.group, "queue", queue)
			_ = s.conn.Close()
		}
	}
}

// handleShared runs the handler on one message of a shared group. On
// handler error the message is republished to the retry queue with a
// growing expiration and an attempt count; once the count reaches
// MaxAttempts, or when the body is no event at all, the message is
// rejected into the dead-letter queue. It returns an error only when the
// channel failed.
func (b *Bus) handleShared(ch *amqp.Channel, sub *subscription, queue string, d amqp.Delivery) error {
	e, err := parse(d.Body)
	if err != nil {
		b.log.Error("poison message sent to the dead-letter queue", "group", sub.group,
			"queue", queue+".dlq", "message_id", d.MessageId, "err", err)
		return ackErr(d.Nack(false, false))
	}
	herr := events.CallHandler(b.ctx, sub.h, e)
	if herr == nil {
		return ackErr(d.Ack(false))
	}
	if b.ctx.Err() != nil {
		return nil // closing: left unacked, the broker redelivers it
	}
	attempt := attempts(d.Headers) + 1
	if attempt >= b.opts.MaxAttempts {
		b.log.Error("event dead-lettered after repeated handler failures", "group", sub.group,
			"queue", queue+".dlq", "event_id", e.ID, "event_type", e.Type, "attempts", attempt, "err", herr)
		return ackErr(d.Nack(false, false))
	}
	delay := events.Backoff(b.opts.RetryBackoff, b.opts.RetryBackoffMax, attempt)
	b.log.Warn("event handler failed, will retry", "group", sub.group, "event_id", e.ID,
		"event_type", e.Type, "attempt", attempt, "retry_in", delay, "err", herr)
	if err := b.publishRetry(ch, queue+".retry", d, attempt, delay); err != nil {
		return fmt.Errorf("schedule retry of event %s: %w", e.ID, err)
	}
	return ackErr(d.Ack(false))
}

// publishRetry stores a copy of d in the retry queue and waits for the
// broker's confirm, so acknowledging d afterwards cannot lose it.
func (b *Bus) publishRetry(ch *amqp.Channel, retryQueue string, d amqp.Delivery, attempt int, delay time.Duration) error {
	headers := amqp.Table{}
	for k, v := range d.Headers {
		// x-death and friends belong to the broker's own bookkeeping.
		if len(k) < 2 || k[:2] != "x-" {
			headers[k] = v
		}
	}
	headers[attemptsHeader] = int32(attempt)
	ctx, cancel := context.WithTimeout(b.ctx, b.opts.PublishTimeout)
	defer cancel()
	dc, err := ch.PublishWithDeferredConfirmWithContext(ctx, "", retryQueue, false, false, amqp.Publishing{
		Headers:      headers,
		ContentType:  d.ContentType,
		DeliveryMode: amqp.Persistent,
		MessageId:    d.MessageId,
		Timestamp:    d.Timestamp,
		Type:         d.Type,
		AppId:        d.AppId,
		Expiration:   strconv.FormatInt(max(delay.Milliseconds(), 1), 10),
		Body:         d.Body,
	})
	if err != nil {
		return err
	}
	acked, err := dc.WaitContext(ctx)
	if err != nil {
		return err
	}
	if !acked {
		return errors.New("broker did not confirm the retry copy")
	}
	return nil
}

// handleBroadcast runs the handler of a broadcast group. Its queue is this
// process's alone and holds no retry or dead-letter route, so failures are
// retried in place with backoff and, past MaxAttempts, logged and dropped.
func (b *Bus) handleBroadcast(sub *subscription, d amqp.Delivery) {
	e, err := parse(d.Body)
	if err != nil {
		b.log.Error("poison message dropped", "group", sub.group, "message_id", d.MessageId, "err", err)
		_ = d.Nack(false, false)
		return
	}
	for attempt := 1; ; attempt++ {
		herr := events.CallHandler(b.ctx, sub.h, e)
		if herr == nil {
			_ = d.Ack(false)
			return
		}
		if b.ctx.Err() != nil {
			return
		}
		if attempt >= b.opts.MaxAttempts {
			b.log.Error("event dropped after repeated handler failures", "group", sub.group,
				"event_id", e.ID, "event_type", e.Type, "attempts", attempt, "err", herr)
			_ = d.Nack(false, false)
			return
		}
		delay := events.Backoff(b.opts.RetryBackoff, b.opts.RetryBackoffMax, attempt)
		b.log.Warn("event handler failed, will retry", "group", sub.group, "event_id", e.ID,
			"attempt", attempt, "retry_in", delay, "err", herr)
		t := time.NewTimer(delay)
		select {
		case <-t.C:
		case <-b.ctx.Done():
			t.Stop()
			return
		}
	}
}

// parse decodes a message body into an event; a body that is not a
// CloudEvents envelope with an id is poison.
func parse(body []byte) (carecircle.Event, error) {
	e, err := carecircle.ParseEvent(body)
	if err != nil {
		return carecircle.Event{}, fmt.Errorf("parse event: %w", err)
	}
	if e.ID == "" || e.Type == "" {
		return carecircle.Event{}, errors.New("parse event: missing id or type")
	}
	return e, nil
}

// attempts reads the failure count a retry copy carries (0 when absent).
func attempts(h amqp.Table) int {
	switch v := h[attemptsHeader].(type) {
	case int8:
		return int(v)
	case int16:
		return int(v)
	case int32:
		return int(v)
	case int64:
		return int(v)
	case int:
		return v
	case uint8:
		return int(v)
	case uint16:
		return int(v)
	case uint32:
		return int(v)
	}
	return 0
}

func ackErr(err error) error {
	if err != nil {
		return fmt.Errorf("acknowledge: %w", err)
	}
	return nil
}
