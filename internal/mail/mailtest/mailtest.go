// Package mailtest runs an in-process SMTP server that keeps what it
// receives, for end-to-end tests of code that sends email. It speaks plain
// SMTP by default, optionally STARTTLS or implicit TLS with a throwaway
// certificate, accepts AUTH PLAIN without TLS, and can fail deliveries on
// purpose to exercise retries.
package mailtest

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"log"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Option configures a Server.
type Option func(*Server)

// WithAuth requires AUTH PLAIN with these credentials before MAIL FROM.
// Without it the server accepts mail with or without authentication, and any
// credentials.
func WithAuth(user, pass string) Option {
	return func(s *Server) { s.auth = &credentials{user: user, pass: pass} }
}

// WithSTARTTLS makes the server offer STARTTLS with a self-signed certificate
// for 127.0.0.1 and localhost; RootCAs returns the pool that trusts it.
func WithSTARTTLS() Option { return func(s *Server) { s.tlsMode = tlsStartTLS } }

// WithImplicitTLS makes the server speak TLS from the first byte (SMTPS).
func WithImplicitTLS() Option { return func(s *Server) { s.tlsMode = tlsImplicit } }

type credentials struct{ user, pass string }

type tlsMode int

const (
	tlsOff tlsMode = iota
	tlsStartTLS
	tlsImplicit
)

// Server is an SMTP sink listening on 127.0.0.1 at a random port. It is
// closed when the test that created it ends.
type Server struct {
	auth    *credentials
	tlsMode tlsMode
	roots   *x509.CertPool
	smtp    *smtp.Server
	port    int

	mu       sync.Mutex
	received []Received
	failNext int
	changed  chan struct{} // closed and replaced when a message arrives
}

// NewServer starts a sink; t's cleanup stops it.
func NewServer(t testing.TB, opts ...Option) *Server {
	t.Helper()
	s := &Server{changed: make(chan struct{})}
	for _, opt := range opts {
		opt(s)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("mailtest: listen: %v", err)
	}
	s.port = ln.Addr().(*net.TCPAddr).Port

	srv := smtp.NewServer(smtp.BackendFunc(func(conn *smtp.Conn) (smtp.Session, error) {
		return &session{srv: s, conn: conn}, nil
	}))
	srv.Domain = "localhost"
	srv.AllowInsecureAuth = true
	srv.MaxMessageBytes = 10 << 20
	srv.MaxRecipients = 100
	srv.ReadTimeout = 30 * time.Second
	srv.WriteTimeout = 30 * time.Second
	// The server logs client hang-ups; tests have nothing to learn from them.
	srv.ErrorLog = log.New(io.Discard, "", 0)
	if s.tlsMode != tlsOff {
		cert, roots, err := selfSignedCert()
		if err != nil {
			_ = ln.Close()
			t.Fatalf("mailtest: %v", err)
		}
		s.roots = roots
		cfg := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
		if s.tlsMode == tlsImplicit {
			ln = tls.NewListener(ln, cfg)
		} else {
			srv.TLSConfig = cfg
		}
	}
	s.smtp = srv
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return s
}

// Host is the address to connect to: always "127.0.0.1".
func (s *Server) Host() string { return "127.0.0.1" }

// Port is the server's TCP port.
func (s *Server) Port() int { return s.port }

// Addr is Host:Port.
func (s *Server) Addr() string { return net.JoinHostPort(s.Host(), fmt.Sprint(s.port)) }

// RootCAs trusts the server's certificate; nil when the server has no TLS.
func (s *Server) RootCAs() *x509.CertPool { return s.roots }

// FailNext makes the next n transactions fail at MAIL FROM with a 451
// transient error, as a busy or greylisting server would.
func (s *Server) FailNext(n int) {
	s.mu.Lock()
	s.failNext = n
	s.mu.Unlock()
}

// Messages returns a copy of everything received so far, oldest first.
func (s *Server) Messages() []Received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Received(nil), s.received...)
}

// WaitFor returns the first received message matching match, waiting up to
// timeout for it to arrive; it fails t when none does.
func (s *Server) WaitFor(t testing.TB, match func(Received) bool, timeout time.Duration) Received {
	t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		s.mu.Lock()
		for _, r := range s.received {
			if match(r) {
				s.mu.Unlock()
				return r
			}
		}
		changed := s.changed
		var summary []string
		for _, r := range s.received {
			summary = append(summary, fmt.Sprintf("to %v: %q", r.To, r.Subject))
		}
		s.mu.Unlock()
		select {
		case <-changed:
		case <-deadline.C:
			t.Fatalf("mailtest: no matching message within %v; received %d: %s",
				timeout, len(summary), strings.Join(summary, "; "))
			return Received{}
		}
	}
}

func (s *Server) takeFailure() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failNext > 0 {
		s.failNext--
		return true
	}
	return false
}

func (s *Server) store(r Received) {
	s.mu.Lock()
	s.received = append(s.received, r)
	close(s.changed)
	s.changed = make(chan struct{})
	s.mu.Unlock()
}

// session is one SMTP connection.
type session struct {
	srv  *Server
	conn *smtp.Conn
	user string // authenticated user, "" before AUTH
	from string
	to   []string
}

var errTransient = &smtp.SMTPError{
	Code:         451,
	EnhancedCode: smtp.EnhancedCode{4, 3, 0},
	Message:      "mailtest: temporary failure, try again later",
}

func (c *session) AuthMechanisms() []string { return []string{sasl.Plain} }

func (c *session) Auth(mech string) (sasl.Server, error) {
	if mech != sasl.Plain {
		return nil, smtp.ErrAuthUnknownMechanism
	}
	return sasl.NewPlainServer(func(_, username, password string) error {
		if want := c.srv.auth; want != nil && (username != want.user || password != want.pass) {
			return smtp.ErrAuthFailed
		}
		c.user = username
		return nil
	}), nil
}

func (c *session) Mail(from string, _ *smtp.MailOptions) error {
	if c.srv.auth != nil && c.user == "" {
		return smtp.ErrAuthRequired
	}
	if c.srv.takeFailure() {
		return errTransient
	}
	c.from, c.to = from, nil
	return nil
}

func (c *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	c.to = append(c.to, to)
	return nil
}

func (c *session) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	msg, err := parse(raw)
	if err != nil {
		// Reject rather than store half a message: the sender's test sees a
		// permanent failure naming the problem.
		return &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 6, 0},
			Message: "mailtest: cannot parse message: " + oneLine(err.Error())}
	}
	msg.From, msg.To, msg.Username = c.from, append([]string(nil), c.to...), c.user
	_, msg.TLS = c.conn.TLSConnectionState()
	c.srv.store(msg)
	return nil
}

func (c *session) Reset() { c.from, c.to = "", nil }

func (c *session) Logout() error { return nil }

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

var _ smtp.AuthSession = (*session)(nil)
