package pushtest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// maxBody is the message size every push service must accept (RFC 8030
// §7.2); larger bodies are refused with 413 as a real service may.
const maxBody = 4096

var topicPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,32}$`)

// Received is one message the server accepted and decrypted.
type Received struct {
	SubscriberID string
	Payload      []byte        // decrypted plaintext, padding removed
	Urgency      string        // Urgency header as sent; "" when absent
	TTL          time.Duration // TTL header, in whole seconds
	Topic        string        // Topic header; "" when absent
	At           time.Time
}

// Failure is a request the server refused because it was malformed: bad
// VAPID, bad headers, undecryptable body or unknown subscriber. A healthy
// test ends with none.
type Failure struct {
	Path   string
	Status int
	Reason string
	At     time.Time
}

// Server is an HTTPS push service on 127.0.0.1. Send through Client(): it
// trusts the server's test certificate. It is safe for concurrent use.
type Server struct {
	srv   *httptest.Server
	vapid vapidVerifier

	mu       sync.Mutex
	subs     map[string]*Subscriber
	respond  map[string]int
	received []Received
	failures []Failure
	changed  chan struct{} // closed and replaced whenever received grows
}

// NewServer starts a push service that accepts messages signed with the
// VAPID key vapidPublic (unpadded URL-safe base64 of the uncompressed P-256
// point) and stops it when the test ends.
func NewServer(t testing.TB, vapidPublic string) *Server {
	t.Helper()
	key, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(vapidPublic, "="))
	if err != nil {
		t.Fatalf("pushtest: vapid public key is not base64url: %v", err)
	}
	pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), key)
	if err != nil {
		t.Fatalf("pushtest: vapid public key is not a P-256 point: %v", err)
	}
	s := &Server{
		subs:    make(map[string]*Subscriber),
		respond: make(map[string]int),
		changed: make(chan struct{}),
	}
	s.srv = httptest.NewTLSServer(http.HandlerFunc(s.handle))
	s.vapid = vapidVerifier{key: key, pub: pub, origin: s.srv.URL}
	t.Cleanup(s.srv.Close)
	return s
}

// URL is the server's origin, e.g. https://127.0.0.1:41234.
func (s *Server) URL() string { return s.srv.URL }

// Client returns an HTTP client that trusts the server's certificate; give
// it to push.NewSender.
func (s *Server) Client() *http.Client { return s.srv.Client() }

// Register makes sub reachable and returns its push endpoint,
// <URL>/push/<sub.ID>. Registering the same subscriber again is harmless.
func (s *Server) Register(sub *Subscriber) (endpoint string) {
	s.mu.Lock()
	s.subs[sub.ID] = sub
	s.mu.Unlock()
	return s.srv.URL + "/push/" + sub.ID
}

// RespondWith makes the server answer every valid message for endpoint with
// status instead of accepting it (410 to test subscription removal, 503 or
// 429 to test retries); such messages are not recorded as Received. Status 0
// restores normal delivery. It panics on an endpoint of another server, a
// test bug that would otherwise pass silently.
func (s *Server) RespondWith(endpoint string, status int) {
	id, ok := strings.CutPrefix(endpoint, s.srv.URL+"/push/")
	if !ok {
		panic(fmt.Sprintf("pushtest: %q is not an endpoint of this server", endpoint))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if status == 0 {
		delete(s.respond, id)
		return
	}
	s.respond[id] = status
}

// Received returns the messages accepted so far, oldest first.
func (s *Server) Received() []Received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Received(nil), s.received...)
}

// Failures returns the requests refused as malformed, oldest first.
func (s *Server) Failures() []Failure {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Failure(nil), s.failures...)
}

// WaitFor waits until at least n messages have been accepted and returns
// all accepted so far. It fails the test, listing any failures, if that
// does not happen within timeout.
func (s *Server) WaitFor(t testing.TB, n int, timeout time.Duration) []Received {
	t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		s.mu.Lock()
		if len(s.received) >= n {
			out := append([]Received(nil), s.received...)
			s.mu.Unlock()
			return out
		}
		changed := s.changed
		s.mu.Unlock()
		select {
		case <-changed:
		case <-deadline.C:
			t.Fatalf("pushtest: %d of %d messages arrived within %s; failures: %+v",
				len(s.Received()), n, timeout, s.Failures())
			return nil
		}
	}
}

func (s *Server) handle(w http.ResponseWriter, r *http.Request) {
	id, ok := strings.CutPrefix(r.URL.Path, "/push/")
	if !ok || r.Method != http.MethodPost {
		s.fail(w, r, http.StatusMethodNotAllowed, "only POST /push/<id> is served")
		return
	}
	s.mu.Lock()
	sub := s.subs[id]
	forced := s.respond[id]
	s.mu.Unlock()
	if sub == nil {
		s.fail(w, r, http.StatusNotFound, "no subscriber registered as "+id)
		return
	}
	if _, err := s.vapid.verify(r.Header.Get("Authorization"), time.Now()); err != nil {
		s.fail(w, r, http.StatusUnauthorized, "vapid: "+err.Error())
		return
	}
	if ce := r.Header.Get("Content-Encoding"); ce != "aes128gcm" {
		s.fail(w, r, http.StatusBadRequest, fmt.Sprintf("Content-Encoding is %q, want aes128gcm", ce))
		return
	}
	ttl, err := strconv.ParseUint(r.Header.Get("TTL"), 10, 31)
	if err != nil {
		s.fail(w, r, http.StatusBadRequest, fmt.Sprintf("TTL header %q should be a non-negative integer", r.Header.Get("TTL")))
		return
	}
	urgency := r.Header.Get("Urgency")
	switch urgency {
	case "", "very-low", "low", "normal", "high":
	default:
		s.fail(w, r, http.StatusBadRequest, fmt.Sprintf("Urgency %q is not very-low, low, normal or high", urgency))
		return
	}
	topic := r.Header.Get("Topic")
	if topic != "" && !topicPattern.MatchString(topic) {
		s.fail(w, r, http.StatusBadRequest, fmt.Sprintf("Topic %q should be at most 32 base64url characters", topic))
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		s.fail(w, r, http.StatusBadRequest, "read body: "+err.Error())
		return
	}
	if len(body) > maxBody {
		s.fail(w, r, http.StatusRequestEntityTooLarge, "body exceeds 4096 bytes")
		return
	}
	plain, err := decrypt(body, sub.key, sub.auth)
	if err != nil {
		s.fail(w, r, http.StatusBadRequest, "decrypt: "+err.Error())
		return
	}
	if forced != 0 {
		w.WriteHeader(forced)
		return
	}

	s.mu.Lock()
	s.received = append(s.received, Received{
		SubscriberID: id,
		Payload:      plain,
		Urgency:      urgency,
		TTL:          time.Duration(ttl) * time.Second,
		Topic:        topic,
		At:           time.Now(),
	})
	n := len(s.received)
	close(s.changed)
	s.changed = make(chan struct{})
	s.mu.Unlock()
	w.Header().Set("Location", s.srv.URL+"/message/"+strconv.Itoa(n))
	w.WriteHeader(http.StatusCreated)
}

func (s *Server) fail(w http.ResponseWriter, r *http.Request, status int, reason string) {
	s.mu.Lock()
	s.failures = append(s.failures, Failure{Path: r.URL.Path, Status: status, Reason: reason, At: time.Now()})
	s.mu.Unlock()
	http.Error(w, reason, status)
}
