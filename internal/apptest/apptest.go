// Package apptest runs a whole CareCircle process in a test: a fresh
// database of either dialect, the real HTTP stack on a loopback port, and an
// in-process SMTP server catching its email. Helpers speak the JSON API the
// way a client would.
package apptest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	amqp091 "github.com/rabbitmq/amqp091-go"
	"time"

	"github.com/carecircle/carecircle"
	"github.com/carecircle/carecircle/internal/app"
	"github.com/carecircle/carecircle/internal/config"
	"github.com/carecircle/carecircle/internal/mail/mailtest"
	"github.com/carecircle/carecircle/internal/storage"
	"github.com/carecircle/carecircle/internal/testdb"
)

// Options adjust the process under test.
type Options struct {
	Dialect storage.Dialect   // default SQLite
	Env     map[string]string // extra environment (AUTH_RATE_LIMIT, ...)
	Clock   carecircle.Clock
	// DatabaseURL reuses an existing database (restart tests).
	DatabaseURL string
	DataDir     string
	NoStart     bool // don't start background work
	Worker      bool // a worker process (no WebSocket fan-out)
	// App passes further process options through (the push client of a
	// pushtest server, jobs driven by hand); Clock, Logger and Worker are
	// set from this Options.
	App app.Options
}

// Env is a running process.
type Env struct {
	T      testing.TB
	App    *app.App
	Server *httptest.Server
	URL    string
	SMTP   *mailtest.Server
	DBURL  string
	Dir    string
}

// Each runs fn once per dialect under test, each with its own process.
func Each(t *testing.T, fn func(t *testing.T, e *Env)) {
	t.Helper()
	for _, d := range testdb.Dialects() {
		t.Run(string(d), func(t *testing.T) { fn(t, New(t, Options{Dialect: d})) })
	}
}

var counter atomic.Int64

// New starts a process.
func New(t testing.TB, o Options) *Env {
	t.Helper()
	if o.Dialect == "" {
		o.Dialect = storage.SQLite
	}
	e := &Env{T: t, SMTP: mailtest.NewServer(t), Dir: o.DataDir}
	if e.Dir == "" {
		e.Dir = t.TempDir()
	}
	e.DBURL = o.DatabaseURL
	if e.DBURL == "" {
		e.DBURL = testdb.URL(t, o.Dialect)
	}
	e.Server = httptest.NewUnstartedServer(nil)
	e.URL = "http://" + e.Server.Listener.Addr().String()
	env := map[string]string{
		"DATA_DIR":        e.Dir,
		"DATABASE_URL":    e.DBURL,
		"BASE_URL":        e.URL,
		"JWT_SECRET":      "test-secret-test-secret-test-secret-0123456789",
		"ENCRYPTION_KEY":  "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
		"SMTP_HOST":       e.SMTP.Host(),
		"SMTP_PORT":       strconv.Itoa(e.SMTP.Port()),
		"SMTP_TLS":        "none",
		"AUTH_RATE_LIMIT": "0",
		"PORT":            "3000",
	}
	if strings.HasPrefix(e.DBURL, "/") || !strings.Contains(e.DBURL, "://") {
		env["DATABASE_URL"] = e.DBURL
	}
	for k, v := range o.Env {
		env[k] = v
	}
	cfg, err := config.Load(func(k string) string { return env[k] })
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	logger := slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	ao := o.App
	ao.Clock, ao.Logger, ao.Worker = o.Clock, logger, o.Worker
	a, err := app.New(context.Background(), cfg, ao)
	if err != nil {
		t.Fatalf("start app: %v", err)
	}
	e.App = a
	if !o.NoStart {
		a.Start(context.Background())
		select {
		case <-a.EventsReady():
		case <-time.After(30 * time.Second):
			t.Fatal("event bus did not start within 30 s")
		}
	}
	e.Server.Config.Handler = a.Handler()
	e.Server.Start()
	t.Cleanup(func() {
		e.Server.CloseClientConnections()
		e.Server.Close()
		a.Close()
	})
	return e
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// AMQPEnv returns environment for a process on the test RabbitMQ with an
// exchange and queue prefix of its own, so concurrent test runs never see
// each other's events. Pass the same map to every process of one test. It
// skips the test when CARECIRCLE_TEST_AMQP_URL is unset.
func AMQPEnv(t testing.TB) map[string]string {
	t.Helper()
	u := os.Getenv("CARECIRCLE_TEST_AMQP_URL")
	if u == "" {
		t.Skip("CARECIRCLE_TEST_AMQP_URL is not set")
	}
	name := fmt.Sprintf("cctest.%d.%d", time.Now().UnixNano(), counter.Add(1))
	t.Cleanup(func() { deleteTopology(u, name) })
	return map[string]string{"AMQP_URL": u, "AMQP_EXCHANGE": name + ".events", "AMQP_QUEUE_PREFIX": name}
}

// Response is an HTTP answer.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// Map decodes the body as a JSON object.
func (r *Response) Map() map[string]any {
	var m map[string]any
	_ = json.Unmarshal(r.Body, &m)
	return m
}

// Decode decodes the body into v.
func (r *Response) Decode(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("decode %s: %v", r.Body, err)
	}
}

// String returns the body.
func (r *Response) String() string { return string(r.Body) }

// Client is a signed-in (or anonymous) API client.
type Client struct {
	Env          *Env
	Token        string
	RefreshToken string
	UserID       string
	Email        string
	Name         string
	Password     string
}

// Anon is a client without credentials.
func (e *Env) Anon() *Client { return &Client{Env: e} }

// Do sends a JSON request. body may be nil, a string (sent raw) or a value
// (encoded as JSON).
func (c *Client) Do(method, path string, body any) *Response {
	c.Env.T.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		buf, err := json.Marshal(b)
		if err != nil {
			c.Env.T.Fatalf("encode body: %v", err)
		}
		rd = bytes.NewReader(buf)
	}
	req, err := http.NewRequest(method, c.Env.URL+path, rd)
	if err != nil {
		c.Env.T.Fatalf("request: %v", err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	return c.Env.Send(req)
}

// Send performs any request.
func (e *Env) Send(req *http.Request) *Response {
	e.T.Helper()
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.T.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		e.T.Fatalf("read body: %v", err)
	}
	return &Response{Status: res.StatusCode, Header: res.Header, Body: b}
}

// Must sends a request and fails the test unless the status is want; it
// returns the decoded JSON object.
func (c *Client) Must(want int, method, path string, body any) map[string]any {
	c.Env.T.Helper()
	r := c.Do(method, path, body)
	if r.Status != want {
		c.Env.T.Fatalf("%s %s: status %d, want %d: %s", method, path, r.Status, want, r.Body)
	}
	return r.Map()
}

// Register creates an account and returns its signed-in client.
func (e *Env) Register(name string) *Client {
	e.T.Helper()
	n := counter.Add(1)
	email := fmt.Sprintf("%s.%d@example.com", strings.ToLower(strings.Fields(name)[0]), n)
	return e.RegisterEmail(name, email, "Timezone/UTC")
}

// RegisterEmail creates an account with a given address and time zone
// ("Timezone/UTC" means none given).
func (e *Env) RegisterEmail(name, email, tz string) *Client {
	e.T.Helper()
	c := &Client{Env: e, Email: email, Name: name, Password: "a sturdy passphrase " + name}
	body := map[string]any{"email": email, "password": c.Password, "fullName": name}
	if tz != "Timezone/UTC" {
		body["timezone"] = tz
	}
	m := c.Must(201, "POST", "/api/v1/auth/register", body)
	c.adopt(m)
	return c
}

func (c *Client) adopt(m map[string]any) {
	c.Token, _ = m["accessToken"].(string)
	c.RefreshToken, _ = m["refreshToken"].(string)
	if u, ok := m["user"].(map[string]any); ok {
		c.UserID, _ = u["id"].(string)
	}
}

// Login signs in again with the client's password, replacing its tokens.
func (c *Client) Login() {
	c.Env.T.Helper()
	c.adopt(c.Must(200, "POST", "/api/v1/auth/login", map[string]any{"email": c.Email, "password": c.Password}))
}

// CreateFamily creates a family and returns its id.
func (c *Client) CreateFamily(name string) string {
	c.Env.T.Helper()
	return c.Must(201, "POST", "/api/v1/families", map[string]any{"name": name})["id"].(string)
}

var inviteLink = regexp.MustCompile(`/accept-invite/([A-Za-z0-9_\-%]+)`)

// Invite invites the other client into the family with a role and has them
// accept through the link in the email.
func (c *Client) Invite(familyID string, other *Client, role carecircle.Role) {
	c.Env.T.Helper()
	c.Must(201, "POST", "/api/v1/families/"+familyID+"/invites", map[string]any{"email": other.Email, "role": role})
	tok := c.Env.InviteToken(other.Email)
	other.Must(200, "POST", "/api/v1/invites/"+tok+"/accept", nil)
}

// InviteToken waits for the newest invite email to addr and returns its token.
func (e *Env) InviteToken(addr string) string {
	e.T.Helper()
	m := e.SMTP.WaitFor(e.T, func(r mailtest.Received) bool {
		return len(r.To) > 0 && strings.EqualFold(r.To[0], addr) && inviteLink.MatchString(r.Text)
	}, 10*time.Second)
	all := inviteLink.FindAllStringSubmatch(m.Text, -1)
	return all[len(all)-1][1]
}

// CreateRecipient adds a care recipient in the given zone and returns its id.
func (c *Client) CreateRecipient(familyID, firstName, tz string) string {
	c.Env.T.Helper()
	return c.Must(201, "POST", "/api/v1/care-recipients", map[string]any{
		"familyId": familyID, "firstName": firstName, "lastName": "Test", "timezone": tz,
		"allergies": []string{"Penicillin"}, "conditions": []string{}, "bloodType": "O+",
	})["id"].(string)
}

// Family is a family with an ADMIN, a CAREGIVER, a VIEWER and one recipient.
type Family struct {
	ID          string
	RecipientID string
	Admin       *Client
	Caregiver   *Client
	Viewer      *Client
}

// NewFamily builds a family with three members and one care recipient in tz.
func (e *Env) NewFamily(name, tz string) *Family {
	e.T.Helper()
	f := &Family{Admin: e.Register(name + " Admin"), Caregiver: e.Register(name + " Caregiver"), Viewer: e.Register(name + " Viewer")}
	f.ID = f.Admin.CreateFamily(name + " family")
	f.Admin.Invite(f.ID, f.Caregiver, carecircle.RoleCaregiver)
	f.Admin.Invite(f.ID, f.Viewer, carecircle.RoleViewer)
	f.RecipientID = f.Admin.CreateRecipient(f.ID, name+"'s Dad", tz)
	return f
}

// For returns a copy of the client that reports to t (fuzz targets and
// subtests must not report to their parent).
func (c *Client) For(t testing.TB) *Client {
	e := *c.Env
	e.T = t
	cc := *c
	cc.Env = &e
	return &cc
}

// deleteTopology removes a test's exchange and durable queues from the
// broker.
func deleteTopology(url, prefix string) {
	conn, err := amqp091.Dial(url)
	if err != nil {
		return
	}
	defer conn.Close()
	ch, err := conn.Channel()
	if err != nil {
		return
	}
	defer ch.Close()
	for _, g := range []string{"audit", "notifications", "reminders"} {
		for _, suffix := range []string{"", ".retry", ".dlq"} {
			_, _ = ch.QueueDelete(prefix+"."+g+suffix, false, false, false)
		}
	}
	_ = ch.ExchangeDelete(prefix+".events", false, false)
}
