package notify_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/carecircle/carecircle"
	"github.com/carecircle/carecircle/internal/app"
	"github.com/carecircle/carecircle/internal/apptest"
	"github.com/carecircle/carecircle/internal/mail/mailtest"
	"github.com/carecircle/carecircle/internal/push"
	"github.com/carecircle/carecircle/internal/push/pushtest"
	"github.com/carecircle/carecircle/internal/storage"
	"github.com/carecircle/carecircle/internal/testdb"
)

// harness is one CareCircle process under a manual clock, with a Web Push
// service and an SMTP sink, whose job runner the test drives: settle runs
// every due job and waits for the event consumers, so a test moves the
// clock and then checks the inbox, the push service and the mailbox.
type harness struct {
	t      *testing.T
	e      *apptest.Env
	clock  *carecircle.ManualClock
	push   *pushtest.Server
	keys   push.Keys
	db     *sql.DB
	mu     sync.Mutex
	seen   map[string]map[string]bool // consumer group -> handled event ids
	subs   map[string][]*pushtest.Subscriber
	byUser map[string]*apptest.Client
	signed map[*apptest.Client]time.Time // when each client's access token was issued
}

// eachDialect runs fn on SQLite and, when configured, PostgreSQL.
func eachDialect(t *testing.T, fn func(t *testing.T, d storage.Dialect)) {
	for _, d := range testdb.Dialects() {
		t.Run(string(d), func(t *testing.T) { fn(t, d) })
	}
}

func newHarness(t *testing.T, d storage.Dialect, start time.Time) *harness {
	t.Helper()
	keys, err := push.GenerateKeys()
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, clock: carecircle.NewManualClock(start), keys: keys,
		seen: map[string]map[string]bool{"notifications": {}, "reminders": {}},
		subs: map[string][]*pushtest.Subscriber{}, byUser: map[string]*apptest.Client{}, signed: map[*apptest.Client]time.Time{}}
	h.push = pushtest.NewServer(t, keys.Public)
	h.e = apptest.New(t, apptest.Options{Dialect: d, Clock: h.clock,
		Env: map[string]string{"VAPID_PUBLIC_KEY": keys.Public, "VAPID_PRIVATE_KEY": keys.Private},
		App: app.Options{PushClient: h.push.Client(), DisableJobs: true, OnEventHandled: h.handled}})
	h.db = rawDB(t, h.e.DBURL)
	return h
}

func (h *harness) handled(group string, e carecircle.Event, err error) {
	if err != nil {
		return
	}
	h.mu.Lock()
	h.seen[group][e.ID] = true
	h.mu.Unlock()
}

// rawDB opens a process's database directly, for checks.
func rawDB(t *testing.T, url string) *sql.DB {
	t.Helper()
	var db *sql.DB
	var err error
	if strings.HasPrefix(url, "postgres") {
		db, err = sql.Open("pgx", url)
	} else {
		db, err = sql.Open("sqlite", "file:"+url+"?_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)")
	}
	if err != nil {
		t.Fatalf("open database: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// waitEvents waits until both consumers have handled every recorded event.
func (h *harness) waitEvents() {
	h.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		rows, err := h.db.Query(`SELECT id FROM events`)
		if err != nil {
			h.t.Fatal(err)
		}
		var missing []string
		h.mu.Lock()
		for rows.Next() {
			var id string
			rows.Scan(&id)
			if !h.seen["notifications"][id] || !h.seen["reminders"][id] {
				missing = append(missing, id)
			}
		}
		h.mu.Unlock()
		rows.Close()
		if len(missing) == 0 {
			return
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("events not handled within 20 s: %v", missing)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// settle runs the job runner until nothing is due and every event is
// handled: the state a family would see at this moment.
func (h *harness) settle() {
	h.t.Helper()
	for range 100 {
		h.waitEvents()
		n, err := h.e.App.Jobs.RunDue(context.Background())
		if err != nil {
			h.t.Fatalf("run jobs: %v", err)
		}
		if n == 0 {
			return
		}
	}
	h.t.Fatal("jobs keep becoming due")
}

// at moves the clock and settles.
func (h *harness) at(t time.Time) {
	h.t.Helper()
	if t.Before(h.clock.Now()) {
		h.t.Fatalf("clock can't go back from %s to %s", h.clock.Now(), t)
	}
	h.clock.Set(t)
	h.settle()
}

// family builds a family whose members each use one browser subscribed to
// push and live in the given zones (admin, caregiver, viewer).
func (h *harness) family(name, recipientTZ string, memberTZ ...string) *apptest.Family {
	h.t.Helper()
	f := h.e.NewFamily(name, recipientTZ)
	for i, c := range []*apptest.Client{f.Admin, f.Caregiver, f.Viewer} {
		h.signed[c] = h.clock.Now()
		if i < len(memberTZ) {
			c.Must(200, "PATCH", "/api/v1/auth/me", map[string]any{"timezone": memberTZ[i]})
		}
		h.subscribe(c)
	}
	h.settle()
	return f
}

// as returns c with an access token that is valid at the clock's time:
// tests move the clock past the tokens' 15 minutes.
func (h *harness) as(c *apptest.Client) *apptest.Client {
	h.t.Helper()
	at, ok := h.signed[c]
	if !ok {
		h.signed[c] = h.clock.Now()
		return c
	}
	if h.clock.Now().Sub(at) >= 10*time.Minute || h.clock.Now().Before(at) {
		c.Login()
		h.signed[c] = h.clock.Now()
	}
	return c
}

// subscribe gives the member a browser subscribed to push.
func (h *harness) subscribe(c *apptest.Client) *pushtest.Subscriber {
	h.t.Helper()
	sub, err := pushtest.NewSubscriber()
	if err != nil {
		h.t.Fatal(err)
	}
	s := sub.Subscription(h.push.Register(sub))
	c.Must(201, "POST", "/api/v1/notifications/subscribe", map[string]any{"endpoint": s.Endpoint,
		"keys": map[string]any{"p256dh": s.P256dh, "auth": s.Auth}})
	h.subs[c.UserID] = append(h.subs[c.UserID], sub)
	h.byUser[c.UserID] = c
	return sub
}

// note is an inbox item as the API returns it.
type note struct {
	ID         string     `json:"id"`
	Category   string     `json:"category"`
	Title      string     `json:"title"`
	Body       string     `json:"body"`
	URL        string     `json:"url"`
	EventID    string     `json:"eventId"`
	ReadAt     *time.Time `json:"readAt"`
	CreatedAt  time.Time  `json:"createdAt"`
	Deliveries []struct {
		Channel  string `json:"channel"`
		Status   string `json:"status"`
		Attempts int    `json:"attempts"`
	} `json:"deliveries"`
}

func (n note) delivery(channel string) string {
	var out []string
	for _, d := range n.Deliveries {
		if d.Channel == channel {
			out = append(out, d.Status)
		}
	}
	return strings.Join(out, ",")
}

// inbox returns the member's notices of a category, oldest first.
func (h *harness) inbox(c *apptest.Client, category string) []note {
	h.t.Helper()
	r := h.as(c).Do("GET", "/api/v1/notifications?limit=200", nil)
	if r.Status != 200 {
		h.t.Fatalf("inbox: %d %s", r.Status, r.Body)
	}
	var page struct {
		Items []note `json:"items"`
	}
	r.Decode(h.t, &page)
	var out []note
	for _, n := range page.Items {
		if n.Category == category {
			out = append(out, n)
		}
	}
	slices.Reverse(out)
	return out
}

// pushMessage is a decrypted push payload.
type pushMessage struct {
	Title   string `json:"title"`
	Body    string `json:"body"`
	URL     string `json:"url"`
	Tag     string `json:"tag"`
	Urgency string `json:"-"`
	TTL     time.Duration
}

// pushes returns what the member's browsers received, oldest first,
// optionally only messages whose title contains match.
func (h *harness) pushes(c *apptest.Client, match string) []pushMessage {
	h.t.Helper()
	var ids []string
	for _, s := range h.subs[c.UserID] {
		ids = append(ids, s.ID)
	}
	var out []pushMessage
	for _, r := range h.push.Received() {
		if !slices.Contains(ids, r.SubscriberID) {
			continue
		}
		var m pushMessage
		if err := json.Unmarshal(r.Payload, &m); err != nil {
			h.t.Fatalf("push payload is not JSON: %q", r.Payload)
		}
		m.Urgency, m.TTL = r.Urgency, r.TTL
		if strings.Contains(m.Title, match) {
			out = append(out, m)
		}
	}
	if f := h.push.Failures(); len(f) > 0 {
		h.t.Fatalf("push service refused requests (bad VAPID or encryption?): %+v", f)
	}
	return out
}

// emails returns the notification emails the member received whose
// subject contains match.
func (h *harness) emails(c *apptest.Client, match string) []mailtest.Received {
	var out []mailtest.Received
	for _, m := range h.e.SMTP.Messages() {
		if len(m.To) == 1 && strings.EqualFold(m.To[0], c.Email) && strings.Contains(m.Text, "notification settings") &&
			strings.Contains(m.Subject, match) {
			out = append(out, m)
		}
	}
	return out
}

// expect checks how many notices of a category whose title contains match
// the member has in the inbox, and how many such pushes and emails they got.
type counts struct{ inbox, push, email int }

func (h *harness) expect(what string, c *apptest.Client, category, match string, want counts) {
	h.t.Helper()
	inbox := 0
	for _, n := range h.inbox(c, category) {
		if strings.Contains(n.Title, match) {
			inbox++
		}
	}
	got := counts{inbox, len(h.pushes(c, match)), len(h.emails(c, match))}
	if got != want {
		h.t.Errorf("%s: %s has inbox/push/email %+v, want %+v", what, c.Name, got, want)
	}
}

// local returns the wall time hh:mm on day in zone.
func local(t *testing.T, zone string, day string, hh, mm int) time.Time {
	t.Helper()
	loc, err := time.LoadLocation(zone)
	if err != nil {
		t.Fatal(err)
	}
	d, err := carecircle.ParseDate(day)
	if err != nil {
		t.Fatal(err)
	}
	return carecircle.LocalInstant(d, hh, mm, loc)
}

// medication adds a scheduled medication through the API, as the admin.
func (h *harness) medication(f *apptest.Family, recipientID, name, dosage, frequency string, times []string, supply, threshold *int) string {
	h.t.Helper()
	body := map[string]any{"name": name, "dosage": dosage, "frequency": frequency, "times": times}
	if supply != nil {
		body["currentSupply"] = *supply
	}
	if threshold != nil {
		body["refillThreshold"] = *threshold
	}
	m := h.as(f.Admin).Must(201, "POST", "/api/v1/care-recipients/"+recipientID+"/medications", body)
	h.settle()
	return m["id"].(string)
}

// logDose logs a dose through the API.
func (h *harness) logDose(f *apptest.Family, recipientID, medID string, by *apptest.Client, at time.Time, status string) {
	h.t.Helper()
	h.as(by).Must(201, "POST", "/api/v1/medications/"+medID+"/log", map[string]any{"status": status,
		"scheduledTime": at.UTC().Format(time.RFC3339)})
	h.settle()
}

// job returns the state of the job with key.
func (h *harness) job(key string) storage.JobInfo {
	h.t.Helper()
	j, err := h.e.App.DB.JobByKey(context.Background(), key)
	if err != nil {
		h.t.Fatalf("job %s: %v", key, err)
	}
	return j
}

func ptr[T any](v T) *T { return &v }

func doseKey(medID string, at time.Time) string {
	return fmt.Sprintf("dose:%s:%d", medID, at.UnixMilli())
}
