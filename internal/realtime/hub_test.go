package realtime_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/carecircle/carecircle"
	"github.com/carecircle/carecircle/internal/realtime"
)

// bearerAuth reads "Bearer <user>:<session>:<fam1,fam2>", standing in for
// the real token check.
func bearerAuth(r *http.Request) (string, string, []string, error) {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	parts := strings.Split(tok, ":")
	if !ok || len(parts) != 3 || parts[0] == "" {
		return "", "", nil, errors.New("no valid token")
	}
	var fams []string
	if parts[2] != "" {
		fams = strings.Split(parts[2], ",")
	}
	return parts[0], parts[1], fams, nil
}

type server struct {
	hub *realtime.Hub
	url string
}

func newServer(t *testing.T, opts realtime.Options) *server {
	return newServerAuth(t, opts, bearerAuth)
}

func newServerAuth(t *testing.T, opts realtime.Options, auth realtime.Authenticator) *server {
	t.Helper()
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	hub := realtime.NewHub(opts)
	mux := http.NewServeMux()
	mux.Handle("GET /api/v1/ws", hub.Handler(auth))
	srv := httptest.NewServer(mux)
	t.Cleanup(func() {
		hub.Close()
		srv.Close()
	})
	return &server{hub: hub, url: "ws" + strings.TrimPrefix(srv.URL, "http") + "/api/v1/ws"}
}

func (s *server) dialHeader(t *testing.T, h http.Header) (*websocket.Conn, *http.Response, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, resp, err := websocket.Dial(ctx, s.url, &websocket.DialOptions{HTTPHeader: h})
	if c != nil {
		c.SetReadLimit(-1)
		t.Cleanup(func() { c.CloseNow() })
	}
	return c, resp, err
}

// dial opens a socket as user/session in families and waits until the hub
// has registered it.
func (s *server) dial(t *testing.T, user, session string, families ...string) *websocket.Conn {
	t.Helper()
	before := s.hub.Count()
	c, _, err := s.dialHeader(t, http.Header{"Authorization": {"Bearer " + user + ":" + session + ":" + strings.Join(families, ",")}})
	if err != nil {
		t.Fatalf("dial as %s: %v", user, err)
	}
	eventually(t, "socket registered", func() bool { return s.hub.Count() > before })
	return c
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

var seq atomic.Int64

func event(typ, family string, data map[string]any) carecircle.Event {
	if data == nil {
		data = map[string]any{}
	}
	data["n"] = seq.Add(1)
	return carecircle.NewEvent(typ, "/api/v1/test", time.Now(), carecircle.EventData{FamilyID: family}, data)
}

// next reads the next message as an event.
func next(t *testing.T, c *websocket.Conn) carecircle.Event {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	typ, msg, err := c.Read(ctx)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	if typ != websocket.MessageText {
		t.Fatalf("message type %v, want text", typ)
	}
	e, err := carecircle.ParseEvent(msg)
	if err != nil {
		t.Fatalf("message is no CloudEvent: %v: %s", err, msg)
	}
	return e
}

// expect reads the next event and checks it is want.
func expect(t *testing.T, c *websocket.Conn, who string, want carecircle.Event) {
	t.Helper()
	if got := next(t, c); got.ID != want.ID {
		t.Fatalf("%s got %s %s (family %s), want %s %s", who, got.Type, got.ID, got.FamilyID, want.Type, want.ID)
	}
}

// closeStatus reads until the socket ends and returns its close status.
func closeStatus(t *testing.T, c *websocket.Conn) websocket.StatusCode {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for {
		if _, _, err := c.Read(ctx); err != nil {
			if ctx.Err() != nil {
				t.Fatal("socket still open")
			}
			return websocket.CloseStatus(err)
		}
	}
}

func TestDeliver_ReachesOnlyMembersOfTheFamily(t *testing.T) {
	s := newServer(t, realtime.Options{})
	alice := s.dial(t, "usr_a", "ses_a", "fam_1")
	bob := s.dial(t, "usr_b", "ses_b", "fam_1", "fam_2")
	carol := s.dial(t, "usr_c", "ses_c", "fam_2")

	e1 := event(carecircle.EventAlertCreated, "fam_1", nil)
	s.hub.Deliver(e1)
	expect(t, alice, "alice", e1)
	expect(t, bob, "bob", e1)

	e2 := event(carecircle.EventMedicationLogged, "fam_2", nil)
	s.hub.Deliver(e2)
	expect(t, bob, "bob", e2)
	expect(t, carol, "carol (not in fam_1)", e2) // first message: nothing of fam_1 came before

	e3 := event(carecircle.EventShiftCreated, "fam_1", nil)
	s.hub.Deliver(e3)
	expect(t, alice, "alice (not in fam_2)", e3)
}

func TestDeliver_SendsTheCloudEventsEnvelope(t *testing.T) {
	s := newServer(t, realtime.Options{})
	c := s.dial(t, "usr_a", "ses_a", "fam_1")
	e := carecircle.NewEvent(carecircle.EventMedicationLogged, "/api/v1/medications/med_1/log", time.Now(),
		carecircle.EventData{FamilyID: "fam_1", CareRecipientID: "cr_1", ActorID: "usr_b", ActorName: "Bob"},
		map[string]any{"medicationId": "med_1"})
	s.hub.Deliver(e)
	_, msg, err := c.Read(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if string(msg) != string(e.MarshalEnvelope()) {
		t.Errorf("socket got %s, want the envelope %s", msg, e.MarshalEnvelope())
	}
}

func TestDeliver_InternalEventsAreNotForwarded(t *testing.T) {
	s := newServer(t, realtime.Options{})
	c := s.dial(t, "usr_a", "ses_a", "fam_1")
	s.hub.Deliver(event(carecircle.EventFamilyUpdated, "fam_1", nil))
	s.hub.Deliver(event(carecircle.EventDocumentRead, "fam_1", nil))
	visible := event(carecircle.EventDocumentUploaded, "fam_1", nil)
	s.hub.Deliver(visible)
	expect(t, c, "member", visible)
}

func TestHandler_RefusesUnauthenticatedWith401AndNoUpgrade(t *testing.T) {
	s := newServer(t, realtime.Options{})
	for _, h := range []http.Header{{}, {"Authorization": {"Bearer garbage"}}} {
		c, resp, err := s.dialHeader(t, h)
		if err == nil {
			c.CloseNow()
			t.Fatalf("dial with %v succeeded", h)
		}
		if resp == nil || resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("dial with %v: response %v, want 401", h, resp)
		}
		if resp.Header.Get("Upgrade") != "" || resp.Header.Get("Sec-WebSocket-Accept") != "" {
			t.Errorf("401 response carries upgrade headers: %v", resp.Header)
		}
	}
	if n := s.hub.Count(); n != 0 {
		t.Errorf("hub counts %d sockets", n)
	}
}

func TestHandler_AppliesSameOriginRuleToBrowsers(t *testing.T) {
	s := newServer(t, realtime.Options{AllowedOrigins: []string{"app.example.com", "https://*.carecircle.test"}})
	host := strings.TrimPrefix(strings.TrimSuffix(s.url, "/api/v1/ws"), "ws://")
	tests := []struct {
		origin string
		ok     bool
	}{
		{"", true}, // not a browser
		{"http://" + host, true},
		{"http://app.example.com", true},
		{"https://eu.carecircle.test", true},
		{"http://eu.carecircle.test", false}, // scheme is part of that pattern
		{"https://evil.example", false},
		{"null", false},
		{"http://" + host + ".evil.example", false},
	}
	for _, tt := range tests {
		t.Run(tt.origin, func(t *testing.T) {
			h := http.Header{"Authorization": {"Bearer usr_a:ses_a:fam_1"}}
			if tt.origin != "" {
				h.Set("Origin", tt.origin)
			}
			c, resp, err := s.dialHeader(t, h)
			if tt.ok {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				c.Close(websocket.StatusNormalClosure, "")
				return
			}
			if err == nil {
				t.Fatal("cross-origin socket accepted")
			}
			if resp == nil || resp.StatusCode != http.StatusForbidden {
				t.Fatalf("response %v, want 403", resp)
			}
		})
	}
}

func TestLeaveFamily_StopsDeliveryAtOnce(t *testing.T) {
	tests := []struct {
		name  string
		leave func(h *realtime.Hub)
	}{
		{"LeaveFamily", func(h *realtime.Hub) { h.LeaveFamily("usr_a", "fam_1") }},
		{"member removed event", func(h *realtime.Hub) {
			h.Deliver(event(carecircle.EventMemberRemoved, "fam_1", map[string]any{"userId": "usr_a"}))
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newServer(t, realtime.Options{})
			a1 := s.dial(t, "usr_a", "ses_a1", "fam_1", "fam_2")
			a2 := s.dial(t, "usr_a", "ses_a2", "fam_1", "fam_2") // a second device
			b := s.dial(t, "usr_b", "ses_b", "fam_1")

			tt.leave(s.hub)
			if tt.name != "LeaveFamily" {
				// The removed member learns of the removal, then nothing more.
				for _, c := range []*websocket.Conn{a1, a2, b} {
					if got := next(t, c); got.Type != carecircle.EventMemberRemoved {
						t.Fatalf("got %s, want the removal event", got.Type)
					}
				}
			}
			hidden := event(carecircle.EventAlertCreated, "fam_1", nil)
			s.hub.Deliver(hidden)
			expect(t, b, "remaining member", hidden)
			still := event(carecircle.EventShiftCreated, "fam_2", nil)
			s.hub.Deliver(still)
			expect(t, a1, "removed member, first device", still)
			expect(t, a2, "removed member, second device", still)
		})
	}
}

func TestJoinFamily_StartsDeliveryAtOnce(t *testing.T) {
	tests := []struct {
		name string
		join func(h *realtime.Hub) *carecircle.Event
	}{
		{"JoinFamily", func(h *realtime.Hub) *carecircle.Event { h.JoinFamily("usr_a", "fam_2"); return nil }},
		{"member joined event", func(h *realtime.Hub) *carecircle.Event {
			e := event(carecircle.EventMemberJoined, "fam_2", map[string]any{"userId": "usr_a"})
			h.Deliver(e)
			return &e
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newServer(t, realtime.Options{})
			a := s.dial(t, "usr_a", "ses_a", "fam_1")
			if joined := tt.join(s.hub); joined != nil {
				expect(t, a, "new member", *joined) // the join event itself reaches the new member
			}
			e := event(carecircle.EventAppointmentCreated, "fam_2", nil)
			s.hub.Deliver(e)
			expect(t, a, "new member", e)
		})
	}
}

func TestCloseSession_ClosesThatSessionsSockets(t *testing.T) {
	tests := []struct {
		name   string
		revoke func(h *realtime.Hub)
	}{
		{"CloseSession", func(h *realtime.Hub) { h.CloseSession("ses_old") }},
		{"session revoked event", func(h *realtime.Hub) {
			h.Deliver(event(carecircle.EventSessionRevoked, "", map[string]any{"sessionId": "ses_old"}))
		}},
		{"sessions revoked event", func(h *realtime.Hub) {
			h.Deliver(event(carecircle.EventSessionRevoked, "fam_1", map[string]any{"sessionIds": []string{"ses_x", "ses_old"}}))
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newServer(t, realtime.Options{})
			old := s.dial(t, "usr_a", "ses_old", "fam_1")
			current := s.dial(t, "usr_a", "ses_new", "fam_1")
			tt.revoke(s.hub)
			if got := s.hub.Count(); got != 1 {
				t.Errorf("hub counts %d sockets right after the revocation, want 1", got)
			}
			if code := closeStatus(t, old); code != realtime.StatusSessionRevoked {
				t.Errorf("revoked socket closed with %v, want 4001", code)
			}
			e := event(carecircle.EventAlertCreated, "fam_1", nil)
			s.hub.Deliver(e)
			expect(t, current, "other session", e)
		})
	}
}

func TestHandler_ChangesDuringAuthenticationStillApply(t *testing.T) {
	// The authenticator read the membership before the change; the change
	// reached the hub before the socket registered.
	var hub *realtime.Hub
	auth := func(r *http.Request) (string, string, []string, error) {
		user, session, fams, err := bearerAuth(r)
		hub.LeaveFamily(user, "fam_1")
		hub.CloseSession("ses_revoked")
		return user, session, fams, err
	}
	s := newServerAuth(t, realtime.Options{}, auth)
	hub = s.hub

	removed := s.dial(t, "usr_a", "ses_a", "fam_1", "fam_2")
	hidden := event(carecircle.EventAlertCreated, "fam_1", nil)
	s.hub.Deliver(hidden)
	visible := event(carecircle.EventAlertCreated, "fam_2", nil)
	s.hub.Deliver(visible)
	expect(t, removed, "member removed while authenticating", visible)

	c, _, err := s.dialHeader(t, http.Header{"Authorization": {"Bearer usr_b:ses_revoked:fam_2"}})
	if err != nil {
		t.Fatal(err)
	}
	if code := closeStatus(t, c); code != realtime.StatusSessionRevoked {
		t.Errorf("socket of a session revoked while authenticating closed with %v, want 4001", code)
	}
}

func TestSlowClient_IsDisconnectedWhileFastClientKeepsReceiving(t *testing.T) {
	s := newServer(t, realtime.Options{SendBuffer: 4})
	slow := s.dial(t, "usr_slow", "ses_slow", "fam_1")
	fast := s.dial(t, "usr_fast", "ses_fast", "fam_1")
	blob := strings.Repeat("x", 256<<10)

	// The slow client never reads: the kernel's socket buffers fill, then its
	// send buffer, and the hub must drop it rather than stall anyone.
	kicked := false
	for i := 0; i < 2000 && !kicked; i++ {
		e := event(carecircle.EventTimelineCreated, "fam_1", map[string]any{"blob": blob})
		start := time.Now()
		s.hub.Deliver(e)
		if d := time.Since(start); d > 50*time.Millisecond {
			t.Fatalf("Deliver blocked for %v", d)
		}
		expect(t, fast, "fast client", e)
		kicked = s.hub.Count() == 1
	}
	if !kicked {
		t.Fatal("slow client never disconnected")
	}
	after := event(carecircle.EventAlertCreated, "fam_1", nil)
	s.hub.Deliver(after)
	expect(t, fast, "fast client after the slow one left", after)

	// Once the slow client reads again it finds the close frame behind
	// what was already in flight.
	if code := closeStatus(t, slow); code != realtime.StatusTooSlow {
		t.Errorf("slow client closed with %v, want %v", code, realtime.StatusTooSlow)
	}
}

func TestKeepAlive_PingsLiveClientsAndDropsDeadOnes(t *testing.T) {
	s := newServer(t, realtime.Options{PingInterval: 20 * time.Millisecond, WriteTimeout: 200 * time.Millisecond})
	var pings atomic.Int32
	dial := func(answer bool) *websocket.Conn {
		c, _, err := websocket.Dial(context.Background(), s.url, &websocket.DialOptions{
			HTTPHeader: http.Header{"Authorization": {"Bearer usr_a:ses_a:fam_1"}},
			OnPingReceived: func(context.Context, []byte) bool {
				if answer {
					pings.Add(1)
				}
				return answer // false: no pong, like a peer that vanished
			},
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.CloseNow() })
		return c
	}
	live := dial(true)
	liveCtx := live.CloseRead(context.Background())
	dead := dial(false)

	if code := closeStatus(t, dead); code != -1 {
		t.Logf("unresponsive client closed with status %v", code)
	}
	eventually(t, "the unresponsive socket to be unregistered", func() bool { return s.hub.Count() == 1 })
	eventually(t, "several pings answered", func() bool { return pings.Load() >= 5 })
	if liveCtx.Err() != nil || s.hub.Count() != 1 {
		t.Fatal("live client was disconnected")
	}
}

func TestHandler_ClientMessagesAreDiscardedAndOversizedOnesClose(t *testing.T) {
	s := newServer(t, realtime.Options{})
	c := s.dial(t, "usr_a", "ses_a", "fam_1")
	ctx := context.Background()
	if err := c.Write(ctx, websocket.MessageText, []byte(`{"hello":"server"}`)); err != nil {
		t.Fatal(err)
	}
	e := event(carecircle.EventAlertCreated, "fam_1", nil)
	s.hub.Deliver(e)
	expect(t, c, "client that spoke", e) // still connected

	// The server may close before the client has finished writing, so the
	// write may fail and the close frame may be lost to a reset.
	_ = c.Write(ctx, websocket.MessageText, []byte(strings.Repeat("x", 4<<10)))
	if code := closeStatus(t, c); code != websocket.StatusMessageTooBig && code != -1 {
		t.Errorf("oversized client message: closed with %v, want 1009", code)
	}
	eventually(t, "socket unregistered", func() bool { return s.hub.Count() == 0 })
}

func TestHub_UnregistersClosedSocketsAndClosesAllOnShutdown(t *testing.T) {
	s := newServer(t, realtime.Options{})
	a := s.dial(t, "usr_a", "ses_a", "fam_1")
	b := s.dial(t, "usr_b", "ses_b", "fam_1")
	a.Close(websocket.StatusNormalClosure, "bye")
	eventually(t, "closed socket unregistered", func() bool { return s.hub.Count() == 1 })

	done := make(chan struct{})
	go func() {
		s.hub.Close()
		close(done)
	}()
	if code := closeStatus(t, b); code != websocket.StatusGoingAway {
		t.Errorf("on shutdown socket closed with %v, want 1001", code)
	}
	<-done
	// A socket opened after Close is upgraded, then closed at once.
	c, _, err := s.dialHeader(t, http.Header{"Authorization": {"Bearer usr_c:ses_c:fam_1"}})
	if err != nil {
		t.Fatal(err)
	}
	if code := closeStatus(t, c); code != websocket.StatusGoingAway {
		t.Errorf("socket opened after Close closed with %v, want 1001", code)
	}
	if n := s.hub.Count(); n != 0 {
		t.Errorf("hub counts %d sockets after Close", n)
	}
}

func ExampleHub_Deliver() {
	hub := realtime.NewHub(realtime.Options{})
	defer hub.Close()
	// The real-time consumer of the event bus feeds the hub; membership
	// events adjust the open sockets on every instance.
	e := carecircle.NewEvent(carecircle.EventMemberRemoved, "/api/v1", time.Now(),
		carecircle.EventData{FamilyID: "fam_1"}, map[string]any{"userId": "usr_2"})
	hub.Deliver(e)
	fmt.Println(hub.Count())
	// Output: 0
}
