package notify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/carecircle/carecircle/internal/jobs"
	"github.com/carecircle/carecircle/internal/mail"
	"github.com/carecircle/carecircle/internal/push"
	"github.com/carecircle/carecircle/internal/storage"
)

// Each delivery (one notice on one channel, one device for push) is a job
// of its own, so a failing channel never holds up the others: it retries
// with backoff and, after its last attempt, is marked DEAD on the notice,
// where the member (and /metrics) can see it. A delivery is recorded SENT
// in the same transaction that finishes its job.

// pushTTL is how long a push service may hold a notice for an offline
// device: an emergency is repeated every few minutes, and a dose reminder
// is stale once the dose is late.
func pushTTL(category string, urgent bool) time.Duration {
	switch {
	case urgent:
		return 10 * time.Minute
	case category == string(DoseReminder):
		return time.Hour
	case category == string(MissedDose):
		return 6 * time.Hour
	default:
		return 24 * time.Hour
	}
}

var topicSafe = regexp.MustCompile(`^[A-Za-z0-9_-]{1,32}$`)

type deliveryPayload struct {
	DeliveryID string `json:"deliveryId"`
}

// delivery reads a delivery job's target; done reports one with nothing
// left to do.
func (s *Service) delivery(ctx context.Context, j *storage.Job) (t storage.DeliveryTarget, done bool, err error) {
	var p deliveryPayload
	if err := json.Unmarshal(j.Payload, &p); err != nil {
		return t, true, jobs.Permanent(fmt.Errorf("delivery payload: %w", err))
	}
	t, err = s.db.DeliveryTarget(ctx, p.DeliveryID)
	if gone(err) {
		return t, true, nil
	}
	if err != nil {
		return t, true, err
	}
	switch t.Status {
	case storage.DeliveryPending, storage.DeliveryRetrying:
		return t, false, nil
	}
	return t, true, nil
}

// record stores a delivery's outcome; with j, it finishes the job in the
// same transaction.
func (s *Service) record(ctx context.Context, t storage.DeliveryTarget, o storage.DeliveryOutcome, j *storage.Job) error {
	s.deliveries.WithLabelValues(t.Channel, o.Status).Inc()
	var lock *storage.JobLock
	if j != nil {
		lock = &j.Lock
	}
	err := s.db.RecordDelivery(ctx, t.DeliveryID, o, lock)
	if err == nil && j != nil {
		j.Finished = true
	}
	return lost(err)
}

func (s *Service) deliverPush(ctx context.Context, j *storage.Job) error {
	t, done, err := s.delivery(ctx, j)
	if done {
		return err
	}
	if t.Endpoint == "" {
		return s.record(ctx, t, storage.DeliveryOutcome{Status: storage.DeliveryGone, Attempts: j.Attempt,
			Error: "the browser unsubscribed"}, j)
	}
	if s.push == nil {
		return jobs.Permanent(errors.New("web push is not configured"))
	}
	msg := push.Message{Title: t.Title, Body: t.Body, URL: t.URL, Tag: t.Tag, Urgency: push.UrgencyNormal,
		TTL: pushTTL(t.Category, t.Urgent)}
	if t.Urgent {
		msg.Urgency = push.UrgencyHigh
		if topicSafe.MatchString(t.Tag) {
			msg.Topic = t.Tag // a newer repeat replaces one still waiting at the push service
		}
	}
	err = s.push.Send(ctx, push.Subscription{Endpoint: t.Endpoint, P256dh: t.P256dh, Auth: t.Auth}, msg)
	switch {
	case err == nil:
		return s.record(ctx, t, storage.DeliveryOutcome{Status: storage.DeliverySent, Attempts: j.Attempt}, j)
	case errors.Is(err, push.ErrGone):
		return s.record(ctx, t, storage.DeliveryOutcome{Status: storage.DeliveryGone, Attempts: j.Attempt, Error: err.Error(),
			RemoveSubscription: t.SubscriptionID}, j)
	case push.IsRetryable(err):
		if rerr := s.record(ctx, t, storage.DeliveryOutcome{Status: storage.DeliveryRetrying, Attempts: j.Attempt, Error: err.Error()}, nil); rerr != nil {
			s.log.Warn("delivery state not recorded", "delivery", t.DeliveryID, "err", rerr)
		}
		if d, ok := push.RetryAfter(err); ok {
			return jobs.RetryAfter(d, err)
		}
		return err
	default:
		return jobs.Permanent(err)
	}
}

func (s *Service) deliverEmail(ctx context.Context, j *storage.Job) error {
	t, done, err := s.delivery(ctx, j)
	if done {
		return err
	}
	link := ""
	if t.URL != "" {
		link = strings.TrimRight(s.baseURL, "/") + t.URL
	}
	subject, text, html := mail.Notification(mail.NotificationData{Name: t.FullName, Title: t.Title, Body: t.Body, Link: link})
	err = s.mail.Send(ctx, mail.Message{To: t.Email, Subject: subject, Text: text, HTML: html})
	switch {
	case err == nil:
		return s.record(ctx, t, storage.DeliveryOutcome{Status: storage.DeliverySent, Attempts: j.Attempt}, j)
	case mail.IsPermanent(err):
		return jobs.Permanent(err)
	default:
		if rerr := s.record(ctx, t, storage.DeliveryOutcome{Status: storage.DeliveryRetrying, Attempts: j.Attempt, Error: err.Error()}, nil); rerr != nil {
			s.log.Warn("delivery state not recorded", "delivery", t.DeliveryID, "err", rerr)
		}
		return err
	}
}

// deliveryDead marks a delivery whose job gave up: the dead letter the
// member sees on the notice.
func (s *Service) deliveryDead(ctx context.Context, j *storage.Job, cause error) {
	id, ok := strings.CutPrefix(j.Key, "deliver:")
	if !ok {
		return
	}
	reason := "its worker stopped during the last attempt"
	if cause != nil {
		reason = cause.Error()
	}
	channel := "push"
	if j.Kind == storage.JobDeliverEmail {
		channel = "email"
	}
	s.deliveries.WithLabelValues(channel, storage.DeliveryDead).Inc()
	if err := s.db.RecordDelivery(ctx, id, storage.DeliveryOutcome{Status: storage.DeliveryDead, Attempts: j.Attempt,
		Error: reason}, nil); err != nil {
		s.log.Error("dead delivery not recorded", "delivery", id, "err", err)
	}
}
