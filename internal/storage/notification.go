package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/carecircle/carecircle"
)

// This file is the notification inbox, its deliveries, members'
// preferences and their browsers' push subscriptions. A member reads and
// changes only their own (every query is keyed by the actor's user id); the
// notification pipeline writes them through CreateNotifications and the
// delivery functions, which run without a user.

// Delivery channels besides the inbox.
const (
	ChannelPush  = "push"
	ChannelEmail = "email"
)

// Delivery statuses.
const (
	DeliveryPending  = "PENDING"
	DeliverySent     = "SENT"
	DeliveryRetrying = "RETRYING"
	DeliveryDead     = "DEAD"    // gave up after its retries
	DeliveryGone     = "GONE"    // the browser unsubscribed (push service said 404/410)
	DeliverySkipped  = "SKIPPED" // held back by the member's quiet hours
)

// Job kinds of the deliveries CreateNotifications schedules; package notify
// registers their handlers.
const (
	JobDeliverPush  = "deliver-push"
	JobDeliverEmail = "deliver-email"
)

// DeliveryAttempts is how often a delivery is tried before it is dead.
const DeliveryAttempts = 8

// Notification is one notice in a member's inbox.
type Notification struct {
	ID              string     `json:"id"`
	Category        string     `json:"category" enum:"DOSE_REMINDER,MISSED_DOSE,REFILL,APPOINTMENT,SHIFT,EMERGENCY,FAMILY_ACTIVITY,DOCUMENT_EXPIRY"`
	Title           string     `json:"title"`
	Body            string     `json:"body"`
	URL             string     `json:"url" doc:"path of the page to open, relative to the web app"`
	FamilyID        string     `json:"familyId,omitempty"`
	CareRecipientID string     `json:"careRecipientId,omitempty"`
	EventID         string     `json:"eventId,omitempty" doc:"the domain event that caused it, if any"`
	ReadAt          *time.Time `json:"readAt"`
	CreatedAt       time.Time  `json:"createdAt"`
	Deliveries      []Delivery `json:"deliveries" doc:"how the notice went out besides the inbox"`
}

// Delivery is how one notice went out on one channel (push: per device).
type Delivery struct {
	Channel   string    `json:"channel" enum:"push,email"`
	Status    string    `json:"status" enum:"PENDING,SENT,RETRYING,DEAD,GONE,SKIPPED"`
	Attempts  int       `json:"attempts"`
	LastError string    `json:"lastError,omitempty"`
	UpdatedAt time.Time `json:"updatedAt"`
}

// NewNotification is a notice the pipeline decided to send one member, with
// the channels their preferences allow.
type NewNotification struct {
	UserID      string
	FamilyID    string
	RecipientID string
	Category    string
	Title       string
	Body        string
	URL         string
	Tag         string // replaces an earlier notice with the same tag on the device
	// SourceKey is the event id or job key behind the notice: a member gets
	// one notice per source, however often it is processed.
	SourceKey string
	EventID   string
	InApp     bool // shown in the inbox
	Push      bool // sent to each of the member's browsers
	Email     bool
	Urgent    bool     // emergency: high urgency, short TTL
	Held      []string // channels the member's quiet hours hold back (recorded as SKIPPED)
	// Subscriptions are the member's push subscription ids (SubscriptionIDs).
	Subscriptions []string
}

// CreateNotifications stores notices and schedules their deliveries in one
// transaction and returns how many were new.
func (db *DB) CreateNotifications(ctx context.Context, notes []NewNotification, jobs ...JobSpec) (int, error) {
	var n int
	err := db.write(ctx, func(tx *Tx) error {
		var err error
		if n, err = tx.CreateNotifications(ctx, notes); err != nil {
			return err
		}
		_, err = tx.EnqueueJobs(ctx, jobs...)
		return err
	})
	return n, err
}

// CreateNotifications is DB.CreateNotifications as part of tx. A notice
// whose (source, member) exists already is skipped with its deliveries.
func (tx *Tx) CreateNotifications(ctx context.Context, notes []NewNotification) (int, error) {
	created := 0
	var jobs []JobSpec
	var deliveries [][]any
	for _, n := range notes {
		id := carecircle.NewID(carecircle.PrefixNotification)
		res, err := tx.ExecContext(ctx, `INSERT INTO notifications (id, user_id, family_id, care_recipient_id, category,
			title, body, url, tag, source_key, event_id, in_app, urgent, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
			ON CONFLICT (source_key, user_id) DO NOTHING`,
			id, n.UserID, n.FamilyID, n.RecipientID, n.Category, n.Title, n.Body, n.URL, n.Tag, n.SourceKey, n.EventID,
			boolToInt(n.InApp), boolToInt(n.Urgent), tx.now)
		if err != nil {
			return created, fmt.Errorf("create notification: %w", err)
		}
		if k, err := res.RowsAffected(); err != nil || k == 0 {
			continue // this member was told about this source already
		}
		created++
		addDelivery := func(channel, subscriptionID, status, kind string) {
			did := carecircle.NewID("dlv_")
			deliveries = append(deliveries, []any{did, id, channel, subscriptionID, status})
			if kind != "" {
				jobs = append(jobs, JobSpec{Kind: kind, Key: "deliver:" + did, RunAt: tx.nowT,
					Payload: map[string]string{"deliveryId": did}, MaxAttempts: DeliveryAttempts})
			}
		}
		held := func(c string) bool { return slices.Contains(n.Held, c) }
		for _, sid := range n.Subscriptions {
			switch {
			case n.Push:
				addDelivery(ChannelPush, sid, DeliveryPending, JobDeliverPush)
			case held(ChannelPush):
				addDelivery(ChannelPush, sid, DeliverySkipped, "")
			}
		}
		switch {
		case n.Email:
			addDelivery(ChannelEmail, "", DeliveryPending, JobDeliverEmail)
		case held(ChannelEmail):
			addDelivery(ChannelEmail, "", DeliverySkipped, "")
		}
	}
	perStatement := 50 // see EnqueueJobs
	if tx.db.Dialect == SQLite {
		perStatement = 1
	}
	for len(deliveries) > 0 {
		batch := deliveries[:min(len(deliveries), perStatement)]
		deliveries = deliveries[len(batch):]
		var sb strings.Builder
		sb.WriteString(`INSERT INTO notification_deliveries (id, notification_id, channel, subscription_id, status,
			created_at, updated_at) VALUES `)
		args := []any{tx.now}
		for i, d := range batch {
			if i > 0 {
				sb.WriteByte(',')
			}
			p := len(args)
			fmt.Fprintf(&sb, "($%d, $%d, $%d, $%d, $%d, $1, $1)", p+1, p+2, p+3, p+4, p+5)
			args = append(args, d...)
		}
		if _, err := tx.ExecContext(ctx, sb.String(), args...); err != nil {
			return created, fmt.Errorf("create deliveries: %w", err)
		}
	}
	if _, err := tx.EnqueueJobs(ctx, jobs...); err != nil {
		return created, err
	}
	return created, nil
}

// SubscriptionIDs returns the push subscription ids of each user.
func (db *DB) SubscriptionIDs(ctx context.Context, userIDs []string) (map[string][]string, error) {
	args := make([]any, len(userIDs))
	ph := make([]string, len(userIDs))
	for i, u := range userIDs {
		args[i], ph[i] = u, fmt.Sprintf("$%d", i+1)
	}
	rows, err := db.r.QueryContext(ctx, `SELECT user_id, id FROM push_subscriptions WHERE user_id IN (`+strings.Join(ph, ",")+`)
		ORDER BY user_id, id`, args...)
	if err != nil {
		return nil, fmt.Errorf("read push subscriptions: %w", err)
	}
	defer rows.Close()
	out := map[string][]string{}
	for rows.Next() {
		var user, id string
		if err := rows.Scan(&user, &id); err != nil {
			return nil, fmt.Errorf("read push subscriptions: %w", err)
		}
		out[user] = append(out[user], id)
	}
	return out, rows.Err()
}

func boolToInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// AudienceMember is a family member as the notification pipeline sees them.
type AudienceMember struct {
	UserID      string
	FullName    string
	Email       string
	Timezone    string
	Role        carecircle.Role
	Preferences string // stored JSON, "" for the defaults
}

// NoticeAudience lists a family's members with what notices need. It runs
// for the notification pipeline, never for a request.
func (db *DB) NoticeAudience(ctx context.Context, familyID string) ([]AudienceMember, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT u.id, u.full_name, u.email, u.timezone, m.role, COALESCE(p.preferences, '')
		FROM family_members m JOIN users u ON u.id = m.user_id
		LEFT JOIN notification_preferences p ON p.user_id = u.id
		WHERE m.family_id = $1 ORDER BY m.added_at, u.id`, familyID)
	if err != nil {
		return nil, fmt.Errorf("read audience: %w", err)
	}
	defer rows.Close()
	var out []AudienceMember
	for rows.Next() {
		var m AudienceMember
		if err := rows.Scan(&m.UserID, &m.FullName, &m.Email, &m.Timezone, &m.Role, &m.Preferences); err != nil {
			return nil, fmt.Errorf("read audience: %w", err)
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// DeliveryTarget is everything one delivery needs to go out.
type DeliveryTarget struct {
	DeliveryID     string
	Channel        string
	Status         string
	NotificationID string
	UserID         string
	Category       string
	Title          string
	Body           string
	URL            string
	Tag            string
	Urgent         bool
	Email          string
	FullName       string
	// Push only; empty when the subscription was removed meanwhile.
	SubscriptionID string
	Endpoint       string
	P256dh         string
	Auth           string
}

// DeliveryTarget reads a delivery for its job.
func (db *DB) DeliveryTarget(ctx context.Context, deliveryID string) (DeliveryTarget, error) {
	var t DeliveryTarget
	var urgent int
	var endpoint, p256dh, auth sql.NullString
	err := db.r.QueryRowContext(ctx, `SELECT d.id, d.channel, d.status, d.subscription_id, n.id, n.user_id, n.category,
		n.title, n.body, n.url, n.tag, n.urgent, u.email, u.full_name, s.endpoint, s.p256dh, s.auth
		FROM notification_deliveries d JOIN notifications n ON n.id = d.notification_id
		JOIN users u ON u.id = n.user_id
		LEFT JOIN push_subscriptions s ON s.id = d.subscription_id AND s.user_id = n.user_id
		WHERE d.id = $1`, deliveryID).Scan(&t.DeliveryID, &t.Channel, &t.Status, &t.SubscriptionID, &t.NotificationID,
		&t.UserID, &t.Category, &t.Title, &t.Body, &t.URL, &t.Tag, &urgent, &t.Email, &t.FullName, &endpoint, &p256dh, &auth)
	if errors.Is(err, sql.ErrNoRows) {
		return t, notFound("delivery")
	}
	if err != nil {
		return t, fmt.Errorf("read delivery: %w", err)
	}
	t.Urgent, t.Endpoint, t.P256dh, t.Auth = urgent != 0, endpoint.String, p256dh.String, auth.String
	return t, nil
}

// DeliveryOutcome is the result of one delivery attempt.
type DeliveryOutcome struct {
	Status   string
	Attempts int
	Error    string
	// RemoveSubscription deletes the push subscription (the push service
	// no longer knows it).
	RemoveSubscription string
}

// RecordDelivery stores an attempt's outcome. With a lock, the job is
// finished in the same transaction, so a delivery is recorded sent once.
func (db *DB) RecordDelivery(ctx context.Context, deliveryID string, o DeliveryOutcome, lock *JobLock) error {
	return db.write(ctx, func(tx *Tx) error { return tx.RecordDelivery(ctx, deliveryID, o, lock) })
}

// RecordDelivery is DB.RecordDelivery as part of tx.
func (tx *Tx) RecordDelivery(ctx context.Context, deliveryID string, o DeliveryOutcome, lock *JobLock) error {
	if _, err := tx.ExecContext(ctx, `UPDATE notification_deliveries SET status = $1, attempts = $2, last_error = $3,
		updated_at = $4 WHERE id = $5`, o.Status, o.Attempts, truncate(o.Error, 500), tx.now, deliveryID); err != nil {
		return fmt.Errorf("record delivery: %w", err)
	}
	if o.RemoveSubscription != "" {
		if _, err := tx.ExecContext(ctx, `DELETE FROM push_subscriptions WHERE id = $1`, o.RemoveSubscription); err != nil {
			return fmt.Errorf("remove push subscription: %w", err)
		}
	}
	if lock != nil {
		return tx.FinishJob(ctx, *lock)
	}
	return nil
}

const notificationColumns = `n.id, n.category, n.title, n.body, n.url, n.family_id, n.care_recipient_id, n.event_id, n.read_at, n.created_at`

func scanNotification(row rowScanner) (Notification, error) {
	var n Notification
	var read sql.NullInt64
	var created int64
	if err := row.Scan(&n.ID, &n.Category, &n.Title, &n.Body, &n.URL, &n.FamilyID, &n.CareRecipientID, &n.EventID,
		&read, &created); err != nil {
		return n, err
	}
	n.ReadAt, n.CreatedAt, n.Deliveries = fromNullMS(read), fromMS(created), []Delivery{}
	return n, nil
}

// Notifications lists the caller's inbox, newest first, one page at a time,
// optionally only unread notices. It returns the next page's cursor or "".
func (db *DB) Notifications(ctx context.Context, unreadOnly bool, p Page) ([]Notification, string, error) {
	a, err := actor(ctx)
	if err != nil {
		return nil, "", err
	}
	beforeKey, beforeID := int64(0), ""
	if p.Cursor != "" {
		if beforeKey, beforeID, err = DecodeCursor(p.Cursor); err != nil {
			return nil, "", err
		}
	}
	limit := p.size()
	rows, err := db.r.QueryContext(ctx, `SELECT `+notificationColumns+` FROM notifications n
		WHERE n.user_id = $1 AND n.in_app = 1 AND ($2 = 0 OR n.read_at IS NULL)
		AND ($4 = '' OR n.created_at < $3 OR (n.created_at = $3 AND n.id < $4))
		ORDER BY n.created_at DESC, n.id DESC LIMIT $5`, a.UserID, boolToInt(unreadOnly), beforeKey, beforeID, limit+1)
	if err != nil {
		return nil, "", fmt.Errorf("list notifications: %w", err)
	}
	out, err := collect(rows, scanNotification)
	if err != nil {
		return nil, "", fmt.Errorf("list notifications: %w", err)
	}
	out, next := cutPage(out, limit, func(n *Notification) (time.Time, string) { return n.CreatedAt, n.ID })
	return out, next, db.withDeliveries(ctx, out)
}

// withDeliveries fills in each notice's deliveries.
func (db *DB) withDeliveries(ctx context.Context, ns []Notification) error {
	if len(ns) == 0 {
		return nil
	}
	byID := make(map[string]*Notification, len(ns))
	args := make([]any, len(ns))
	ph := make([]string, len(ns))
	for i := range ns {
		byID[ns[i].ID] = &ns[i]
		args[i] = ns[i].ID
		ph[i] = fmt.Sprintf("$%d", i+1)
	}
	rows, err := db.r.QueryContext(ctx, `SELECT notification_id, channel, status, attempts, last_error, updated_at
		FROM notification_deliveries WHERE notification_id IN (`+strings.Join(ph, ",")+`) ORDER BY channel, id`, args...)
	if err != nil {
		return fmt.Errorf("list deliveries: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var nid string
		var d Delivery
		var updated int64
		if err := rows.Scan(&nid, &d.Channel, &d.Status, &d.Attempts, &d.LastError, &updated); err != nil {
			return fmt.Errorf("list deliveries: %w", err)
		}
		d.UpdatedAt = fromMS(updated)
		n := byID[nid]
		n.Deliveries = append(n.Deliveries, d)
	}
	return rows.Err()
}

// UnreadNotifications counts the caller's unread inbox notices.
func (db *DB) UnreadNotifications(ctx context.Context) (int, error) {
	a, err := actor(ctx)
	if err != nil {
		return 0, err
	}
	var n int
	if err := db.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM notifications WHERE user_id = $1 AND in_app = 1 AND read_at IS NULL`,
		a.UserID).Scan(&n); err != nil {
		return 0, fmt.Errorf("count unread: %w", err)
	}
	return n, nil
}

// ReadNotification marks one of the caller's notices read (reading it again
// keeps the first time) and returns it. Anyone else's notice is not found.
func (db *DB) ReadNotification(ctx context.Context, id string) (Notification, error) {
	a, err := actor(ctx)
	if err != nil {
		return Notification{}, err
	}
	if !carecircle.HasPrefix(id, carecircle.PrefixNotification) {
		return Notification{}, notFound("notification")
	}
	var n Notification
	err = db.write(ctx, func(tx *Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE notifications SET read_at = $1
			WHERE id = $2 AND user_id = $3 AND in_app = 1 AND read_at IS NULL`, tx.now, id, a.UserID); err != nil {
			return fmt.Errorf("read notification: %w", err)
		}
		var err error
		n, err = scanNotification(tx.QueryRowContext(ctx, `SELECT `+notificationColumns+` FROM notifications n
			WHERE n.id = $1 AND n.user_id = $2 AND n.in_app = 1`, id, a.UserID))
		if errors.Is(err, sql.ErrNoRows) {
			return notFound("notification")
		}
		return err
	})
	if err != nil {
		return n, err
	}
	ns := []Notification{n}
	err = db.withDeliveries(ctx, ns)
	return ns[0], err
}

// ReadAllNotifications marks every unread notice of the caller read and
// returns how many changed.
func (db *DB) ReadAllNotifications(ctx context.Context) (int, error) {
	a, err := actor(ctx)
	if err != nil {
		return 0, err
	}
	var n int64
	err = db.write(ctx, func(tx *Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE notifications SET read_at = $1 WHERE user_id = $2 AND in_app = 1 AND read_at IS NULL`,
			tx.now, a.UserID)
		if err != nil {
			return fmt.Errorf("read all notifications: %w", err)
		}
		n, err = res.RowsAffected()
		return err
	})
	return int(n), err
}

// NotificationPreferences returns the caller's stored preferences ("" for
// the defaults) and time zone.
func (db *DB) NotificationPreferences(ctx context.Context) (prefs, timezone string, err error) {
	a, err := actor(ctx)
	if err != nil {
		return "", "", err
	}
	err = db.r.QueryRowContext(ctx, `SELECT COALESCE(p.preferences, ''), u.timezone FROM users u
		LEFT JOIN notification_preferences p ON p.user_id = u.id WHERE u.id = $1`, a.UserID).Scan(&prefs, &timezone)
	if errors.Is(err, sql.ErrNoRows) {
		return "", "", carecircle.Errorf(carecircle.EUNAUTHORIZED, "sign in required")
	}
	if err != nil {
		return "", "", fmt.Errorf("read preferences: %w", err)
	}
	return prefs, timezone, nil
}

// SaveNotificationPreferences replaces the caller's preferences (JSON that
// package notify validated).
func (db *DB) SaveNotificationPreferences(ctx context.Context, prefs string) error {
	a, err := actor(ctx)
	if err != nil {
		return err
	}
	return db.write(ctx, func(tx *Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO notification_preferences (user_id, preferences, updated_at) VALUES ($1, $2, $3)
			ON CONFLICT (user_id) DO UPDATE SET preferences = excluded.preferences, updated_at = excluded.updated_at`,
			a.UserID, prefs, tx.now)
		if err != nil {
			return fmt.Errorf("save preferences: %w", err)
		}
		return nil
	})
}

// PushSubscription is a browser's Web Push subscription.
type PushSubscription struct {
	ID        string    `json:"id"`
	Endpoint  string    `json:"endpoint"`
	P256dh    string    `json:"-"`
	Auth      string    `json:"-"`
	UserAgent string    `json:"-"`
	CreatedAt time.Time `json:"createdAt"`
}

// MaxPushSubscriptions bounds a member's browsers; subscribing one more
// drops the one subscribed longest ago.
const MaxPushSubscriptions = 20

// SubscribePush stores the caller's browser subscription. An endpoint
// already stored (the same browser subscribing again, or a browser that
// changed accounts) is updated and moves to the caller. created reports a
// new row.
func (db *DB) SubscribePush(ctx context.Context, s PushSubscription) (out PushSubscription, created bool, err error) {
	a, err := actor(ctx)
	if err != nil {
		return s, false, err
	}
	err = db.write(ctx, func(tx *Tx) error {
		var existing string
		err := tx.QueryRowContext(ctx, `SELECT id FROM push_subscriptions WHERE endpoint = $1`, s.Endpoint).Scan(&existing)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			s.ID, s.CreatedAt, created = carecircle.NewID("psub_"), tx.nowT, true
			if _, err := tx.ExecContext(ctx, `INSERT INTO push_subscriptions (id, user_id, endpoint, p256dh, auth, user_agent,
				created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $7)`,
				s.ID, a.UserID, s.Endpoint, s.P256dh, s.Auth, truncate(s.UserAgent, 300), tx.now); err != nil {
				return fmt.Errorf("subscribe: %w", err)
			}
		case err != nil:
			return fmt.Errorf("subscribe: %w", err)
		default:
			s.ID = existing
			var createdAt int64
			if err := tx.QueryRowContext(ctx, `UPDATE push_subscriptions SET user_id = $1, p256dh = $2, auth = $3,
				user_agent = $4, updated_at = $5 WHERE id = $6 RETURNING created_at`,
				a.UserID, s.P256dh, s.Auth, truncate(s.UserAgent, 300), tx.now, existing).Scan(&createdAt); err != nil {
				return fmt.Errorf("subscribe: %w", err)
			}
			s.CreatedAt = fromMS(createdAt)
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM push_subscriptions WHERE user_id = $1 AND id NOT IN
			(SELECT id FROM push_subscriptions WHERE user_id = $1 ORDER BY updated_at DESC, id DESC LIMIT $2)`,
			a.UserID, MaxPushSubscriptions)
		if err != nil {
			return fmt.Errorf("subscribe: %w", err)
		}
		return nil
	})
	return s, created, err
}

// UnsubscribePush removes the caller's subscription for endpoint; removing
// one that is not there (or is someone else's) changes nothing.
func (db *DB) UnsubscribePush(ctx context.Context, endpoint string) error {
	a, err := actor(ctx)
	if err != nil {
		return err
	}
	return db.write(ctx, func(tx *Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM push_subscriptions WHERE endpoint = $1 AND user_id = $2`, endpoint, a.UserID); err != nil {
			return fmt.Errorf("unsubscribe: %w", err)
		}
		return nil
	})
}

// PushSubscriptions lists the caller's subscribed browsers.
func (db *DB) PushSubscriptions(ctx context.Context) ([]PushSubscription, error) {
	a, err := actor(ctx)
	if err != nil {
		return nil, err
	}
	rows, err := db.r.QueryContext(ctx, `SELECT id, endpoint, created_at FROM push_subscriptions WHERE user_id = $1
		ORDER BY created_at, id`, a.UserID)
	if err != nil {
		return nil, fmt.Errorf("list push subscriptions: %w", err)
	}
	defer rows.Close()
	out := []PushSubscription{}
	for rows.Next() {
		var s PushSubscription
		var created int64
		if err := rows.Scan(&s.ID, &s.Endpoint, &created); err != nil {
			return nil, fmt.Errorf("list push subscriptions: %w", err)
		}
		s.CreatedAt = fromMS(created)
		out = append(out, s)
	}
	return out, rows.Err()
}

// PruneNotifications deletes notices (and their deliveries) created before
// the cutoff and returns how many.
func (db *DB) PruneNotifications(ctx context.Context, before time.Time) (int64, error) {
	var n int64
	err := db.write(ctx, func(tx *Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM notifications WHERE created_at < $1`, ms(before))
		if err != nil {
			return fmt.Errorf("prune notifications: %w", err)
		}
		n, err = res.RowsAffected()
		return err
	})
	return n, err
}
