package mail

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/carecircle/carecircle/internal/mail/mailtest"
)

const testFrom = "CareCircle <care@example.org>"

// newTestSMTP returns a sender for sink, trusting its certificate if any.
func newTestSMTP(t *testing.T, sink *mailtest.Server, cfg SMTPConfig) *SMTP {
	t.Helper()
	cfg.Host, cfg.Port = sink.Host(), sink.Port()
	if cfg.From == "" {
		cfg.From = testFrom
	}
	s, err := NewSMTP(cfg)
	if err != nil {
		t.Fatalf("NewSMTP: %v", err)
	}
	s.tlsConfig.RootCAs = sink.RootCAs()
	return s
}

func TestSMTP_SendsTextAndHTMLToSink(t *testing.T) {
	sink := mailtest.NewServer(t)
	s := newTestSMTP(t, sink, SMTPConfig{})
	// A long link crosses the 76-column quoted-printable limit, so it only
	// survives if soft line breaks are encoded and decoded correctly.
	link := "https://care.example/verify-email?token=" + strings.Repeat("Ab3-", 20)
	m := Message{
		To:      "ana@example.org",
		Subject: "Dosis registrada — Mamá",
		Text:    "Hola Ana,\n\nConfirm here:\n" + link + "\n",
		HTML:    `<p>Hola <b>Ana</b>, <a href="` + link + `">confirm</a></p>`,
	}
	if err := s.Send(t.Context(), m); err != nil {
		t.Fatalf("Send: %v", err)
	}
	got := sink.WaitFor(t, func(r mailtest.Received) bool { return true }, 5*time.Second)

	if got.From != "care@example.org" {
		t.Errorf("envelope from = %q", got.From)
	}
	if len(got.To) != 1 || got.To[0] != "ana@example.org" {
		t.Errorf("envelope to = %q", got.To)
	}
	if h := got.Header.Get("From"); !strings.Contains(h, "CareCircle") || !strings.Contains(h, "<care@example.org>") {
		t.Errorf("From header = %q", h)
	}
	if got.Subject != m.Subject {
		t.Errorf("subject = %q, want %q", got.Subject, m.Subject)
	}
	if !strings.Contains(got.Text, link) || !strings.HasPrefix(got.Text, "Hola Ana,") {
		t.Errorf("text = %q, want it to contain %q", got.Text, link)
	}
	if !strings.Contains(got.HTML, `<a href="`+link+`">`) {
		t.Errorf("html = %q", got.HTML)
	}
	if ct := got.Header.Get("Content-Type"); !strings.HasPrefix(ct, "multipart/alternative") {
		t.Errorf("Content-Type = %q, want multipart/alternative", ct)
	}
	if got.Header.Get("Auto-Submitted") != "auto-generated" {
		t.Errorf("Auto-Submitted = %q", got.Header.Get("Auto-Submitted"))
	}
	if id := got.Header.Get("Message-Id"); !strings.HasSuffix(id, "@example.org>") {
		t.Errorf("Message-Id = %q, want one in the sender's domain", id)
	}
	if got.Username != "" {
		t.Errorf("authenticated as %q without a configured user", got.Username)
	}
}

func TestSMTP_TextOnlyMessageHasNoHTMLPart(t *testing.T) {
	sink := mailtest.NewServer(t)
	s := newTestSMTP(t, sink, SMTPConfig{})
	if err := s.Send(t.Context(), Message{To: "ana@example.org", Subject: "s", Text: "only text"}); err != nil {
		t.Fatalf("Send: %v", err)
	}
	got := sink.WaitFor(t, func(mailtest.Received) bool { return true }, 5*time.Second)
	if strings.TrimSpace(got.Text) != "only text" || got.HTML != "" {
		t.Fatalf("text %q html %q", got.Text, got.HTML)
	}
}

func TestSMTP_AuthenticatesWithPlainWhenUserSet(t *testing.T) {
	sink := mailtest.NewServer(t, mailtest.WithAuth("mailer", "pa55"))
	s := newTestSMTP(t, sink, SMTPConfig{User: "mailer", Pass: "pa55", TLS: TLSNone})
	if err := s.Send(t.Context(), Message{To: "ana@example.org", Subject: "auth", Text: "hi"}); err != nil {
		t.Fatalf("Send: %v", err)
	}
	if got := sink.WaitFor(t, func(mailtest.Received) bool { return true }, 5*time.Second); got.Username != "mailer" {
		t.Fatalf("username = %q", got.Username)
	}

	wrong := newTestSMTP(t, sink, SMTPConfig{User: "mailer", Pass: "wrong", TLS: TLSNone})
	if err := wrong.Send(t.Context(), Message{To: "ana@example.org", Subject: "auth", Text: "hi"}); err == nil {
		t.Fatal("Send with a wrong password succeeded")
	}
}

func TestSMTP_ServerRejectionIsPermanent(t *testing.T) {
	// The sink requires AUTH; sending without it gets a 5xx at MAIL FROM.
	sink := mailtest.NewServer(t, mailtest.WithAuth("mailer", "pa55"))
	s := newTestSMTP(t, sink, SMTPConfig{})
	err := s.Send(t.Context(), Message{To: "ana@example.org", Subject: "x", Text: "hi"})
	if err == nil || !IsPermanent(err) {
		t.Fatalf("err = %v, want a permanent error", err)
	}
}

func TestSMTP_TransientFailureIsNotPermanent(t *testing.T) {
	sink := mailtest.NewServer(t)
	sink.FailNext(1)
	s := newTestSMTP(t, sink, SMTPConfig{})
	err := s.Send(t.Context(), Message{To: "ana@example.org", Subject: "x", Text: "hi"})
	if err == nil || IsPermanent(err) {
		t.Fatalf("err = %v, want a transient error", err)
	}
}

func TestSMTP_MalformedMessageIsPermanent(t *testing.T) {
	sink := mailtest.NewServer(t)
	s := newTestSMTP(t, sink, SMTPConfig{})
	for _, m := range []Message{
		{To: "not an address", Subject: "x", Text: "hi"},
		{To: "ana@example.org", Subject: "x", Text: "  "},
	} {
		if err := s.Send(t.Context(), m); err == nil || !IsPermanent(err) {
			t.Errorf("Send(%+v) = %v, want a permanent error", m, err)
		}
	}
}

func TestSMTP_TLSModes(t *testing.T) {
	tests := []struct {
		name    string
		sink    []mailtest.Option
		tls     string
		wantTLS bool
		wantErr bool
		// untrusted leaves the sink's certificate out of the trusted roots.
		untrusted bool
	}{
		{"auto upgrades with STARTTLS when offered", []mailtest.Option{mailtest.WithSTARTTLS()}, TLSAuto, true, false, false},
		{"auto stays plain when STARTTLS is not offered", nil, TLSAuto, false, false, false},
		{"starttls required and offered", []mailtest.Option{mailtest.WithSTARTTLS()}, TLSStartTLS, true, false, false},
		{"starttls required but not offered fails", nil, TLSStartTLS, false, true, false},
		{"implicit TLS", []mailtest.Option{mailtest.WithImplicitTLS()}, TLSImplicit, true, false, false},
		{"implicit TLS against a plain server fails", nil, TLSImplicit, false, true, false},
		{"none never upgrades", []mailtest.Option{mailtest.WithSTARTTLS()}, TLSNone, false, false, false},
		{"starttls with an untrusted certificate fails", []mailtest.Option{mailtest.WithSTARTTLS()}, TLSStartTLS, false, true, true},
		{"implicit TLS with an untrusted certificate fails", []mailtest.Option{mailtest.WithImplicitTLS()}, TLSImplicit, false, true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sink := mailtest.NewServer(t, tt.sink...)
			s := newTestSMTP(t, sink, SMTPConfig{TLS: tt.tls, Timeout: 5 * time.Second, User: "mailer", Pass: "pa55"})
			if tt.untrusted {
				s.tlsConfig.RootCAs = nil
			}
			err := s.Send(t.Context(), Message{To: "ana@example.org", Subject: tt.name, Text: "hi"})
			if tt.wantErr {
				if err == nil {
					t.Fatal("Send succeeded, want an error")
				}
				if n := len(sink.Messages()); n != 0 {
					t.Fatalf("sink received %d messages", n)
				}
				return
			}
			if err != nil {
				t.Fatalf("Send: %v", err)
			}
			got := sink.WaitFor(t, func(mailtest.Received) bool { return true }, 5*time.Second)
			if got.TLS != tt.wantTLS {
				t.Errorf("received over TLS = %v, want %v", got.TLS, tt.wantTLS)
			}
			if got.Username != "mailer" {
				t.Errorf("username = %q", got.Username)
			}
		})
	}
}

// hangingServer accepts connections and never says a word, like a
// firewalled or overloaded mail server. It reports each accepted connection.
func hangingServer(t *testing.T) (addr *net.TCPAddr, accepted <-chan struct{}) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ch := make(chan struct{}, 100)
	var conns []net.Conn
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns = append(conns, c)
			select {
			case ch <- struct{}{}:
			default:
			}
		}
	}()
	t.Cleanup(func() {
		_ = ln.Close()
		<-done
		for _, c := range conns {
			_ = c.Close()
		}
	})
	return ln.Addr().(*net.TCPAddr), ch
}

func TestSMTP_CancelAbortsAHangingConversation(t *testing.T) {
	addr, accepted := hangingServer(t)
	s, err := NewSMTP(SMTPConfig{Host: "127.0.0.1", Port: addr.Port, From: testFrom, Timeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	errc := make(chan error, 1)
	go func() { errc <- s.Send(ctx, Message{To: "ana@example.org", Subject: "x", Text: "hi"}) }()
	<-accepted
	cancel()
	select {
	case err := <-errc:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v, want context.Canceled", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Send kept waiting on the server after its context was cancelled")
	}
}

func TestNewSMTP_Config(t *testing.T) {
	tests := []struct {
		name         string
		cfg          SMTPConfig
		wantErr      string
		wantPort     int
		wantImplicit bool
	}{
		{name: "defaults to 587 with STARTTLS", cfg: SMTPConfig{Host: "smtp.example.org", From: "a@example.org"}, wantPort: 587},
		{name: "auto on 465 is implicit TLS", cfg: SMTPConfig{Host: "smtp.example.org", Port: 465, From: "a@example.org"}, wantPort: 465, wantImplicit: true},
		{name: "tls defaults to 465", cfg: SMTPConfig{Host: "smtp.example.org", TLS: "tls", From: "a@example.org"}, wantPort: 465, wantImplicit: true},
		{name: "starttls on a custom port", cfg: SMTPConfig{Host: "smtp.example.org", Port: 2525, TLS: "STARTTLS", From: "a@example.org"}, wantPort: 2525},
		{name: "none with a password to localhost", cfg: SMTPConfig{Host: "localhost", TLS: "none", User: "u", From: "a@example.org"}, wantPort: 587},
		{name: "none with a password to a remote host", cfg: SMTPConfig{Host: "smtp.example.org", TLS: "none", User: "u", From: "a@example.org"}, wantErr: "clear text"},
		{name: "missing host", cfg: SMTPConfig{From: "a@example.org"}, wantErr: "host is required"},
		{name: "bad from", cfg: SMTPConfig{Host: "smtp.example.org", From: "nobody"}, wantErr: "from address"},
		{name: "unknown TLS mode", cfg: SMTPConfig{Host: "smtp.example.org", From: "a@example.org", TLS: "ssl3"}, wantErr: "unknown TLS mode"},
		{name: "port out of range", cfg: SMTPConfig{Host: "smtp.example.org", From: "a@example.org", Port: 70000}, wantErr: "out of range"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := NewSMTP(tt.cfg)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("NewSMTP: %v", err)
			}
			if s.port != tt.wantPort || s.implicitTLS != tt.wantImplicit {
				t.Fatalf("port %d implicit %v, want %d %v", s.port, s.implicitTLS, tt.wantPort, tt.wantImplicit)
			}
		})
	}
}
