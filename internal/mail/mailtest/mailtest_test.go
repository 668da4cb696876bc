package mailtest

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net/smtp"
	"net/textproto"
	"strings"
	"testing"
	"time"
)

// rawAlternative is a multipart/alternative message with a quoted-printable
// text part (soft line break, escaped '=') and a wrapped base64 HTML part.
const rawAlternative = "From: CareCircle <care@example.org>\r\n" +
	"To: ana@example.org\r\n" +
	"Subject: =?UTF-8?q?Dosis_registrada_=E2=80=94_Mam=C3=A1?=\r\n" +
	"MIME-Version: 1.0\r\n" +
	"Content-Type: multipart/alternative; boundary=\"b1\"\r\n" +
	"\r\n" +
	"--b1\r\n" +
	"Content-Type: text/plain; charset=UTF-8\r\n" +
	"Content-Transfer-Encoding: quoted-printable\r\n" +
	"\r\n" +
	"Open https://care.example/verify-email?token=3Dabcdefghijklmnopqrstuvwxyz01234=\r\n" +
	"56789\r\n" +
	"Second line\r\n" +
	"--b1\r\n" +
	"Content-Type: text/html; charset=UTF-8\r\n" +
	"Content-Transfer-Encoding: base64\r\n" +
	"\r\n" +
	"PHA+SGVsbG8gPGI+QW5hPC9iPjwvcD4=\r\n" +
	"--b1--\r\n"

func TestServer_DecodesMultipartAlternative(t *testing.T) {
	s := NewServer(t)
	if err := smtp.SendMail(s.Addr(), nil, "care@example.org", []string{"ana@example.org"}, []byte(rawAlternative)); err != nil {
		t.Fatalf("send: %v", err)
	}
	got := s.WaitFor(t, func(Received) bool { return true }, 5*time.Second)

	if got.From != "care@example.org" || len(got.To) != 1 || got.To[0] != "ana@example.org" {
		t.Errorf("envelope = %q -> %q", got.From, got.To)
	}
	if got.Subject != "Dosis registrada — Mamá" {
		t.Errorf("subject = %q", got.Subject)
	}
	wantText := "Open https://care.example/verify-email?token=abcdefghijklmnopqrstuvwxyz0123456789\nSecond line"
	if strings.TrimSpace(got.Text) != wantText {
		t.Errorf("text = %q, want %q", got.Text, wantText)
	}
	if got.HTML != "<p>Hello <b>Ana</b></p>" {
		t.Errorf("html = %q", got.HTML)
	}
	if got.Header.Get("From") != "CareCircle <care@example.org>" {
		t.Errorf("From header = %q", got.Header.Get("From"))
	}
	if got.Username != "" || got.TLS {
		t.Errorf("username %q tls %v, want neither", got.Username, got.TLS)
	}
	if !strings.Contains(string(got.Raw), "boundary=\"b1\"") {
		t.Errorf("raw message not kept")
	}
}

func TestServer_FailNextGivesTransientErrors(t *testing.T) {
	s := NewServer(t)
	s.FailNext(2)
	msg := []byte("Subject: hi\r\n\r\nbody\r\n")
	for i := range 2 {
		err := smtp.SendMail(s.Addr(), nil, "a@example.org", []string{"b@example.org"}, msg)
		var tpErr *textproto.Error
		if !errors.As(err, &tpErr) || tpErr.Code != 451 {
			t.Fatalf("attempt %d: err = %v, want a 451", i+1, err)
		}
	}
	if err := smtp.SendMail(s.Addr(), nil, "a@example.org", []string{"b@example.org"}, msg); err != nil {
		t.Fatalf("third attempt: %v", err)
	}
	if n := len(s.Messages()); n != 1 {
		t.Fatalf("received %d messages, want 1", n)
	}
}

func TestServer_WithAuthChecksCredentials(t *testing.T) {
	s := NewServer(t, WithAuth("sender", "s3cret"))
	msg := []byte("Subject: hi\r\n\r\nbody\r\n")
	tests := []struct {
		name     string
		auth     smtp.Auth
		wantCode int
	}{
		{"no auth", nil, 502},
		{"wrong password", smtp.PlainAuth("", "sender", "nope", "127.0.0.1"), 535},
		{"right password", smtp.PlainAuth("", "sender", "s3cret", "127.0.0.1"), 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := smtp.SendMail(s.Addr(), tt.auth, "a@example.org", []string{"b@example.org"}, msg)
			if tt.wantCode == 0 {
				if err != nil {
					t.Fatalf("send: %v", err)
				}
				return
			}
			var tpErr *textproto.Error
			if !errors.As(err, &tpErr) || tpErr.Code != tt.wantCode {
				t.Fatalf("err = %v, want code %d", err, tt.wantCode)
			}
		})
	}
	msgs := s.Messages()
	if len(msgs) != 1 || msgs[0].Username != "sender" {
		t.Fatalf("messages = %+v, want one from user sender", msgs)
	}
}

func TestServer_STARTTLS(t *testing.T) {
	s := NewServer(t, WithSTARTTLS())
	c, err := smtp.Dial(s.Addr())
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	defer c.Close()
	if ok, _ := c.Extension("STARTTLS"); !ok {
		t.Fatal("STARTTLS not offered")
	}
	if err := c.StartTLS(&tls.Config{ServerName: s.Host(), RootCAs: s.RootCAs()}); err != nil {
		t.Fatalf("starttls: %v", err)
	}
	sendOn(t, c, "Subject: secure\r\n\r\nbody\r\n")
	if got := s.WaitFor(t, func(r Received) bool { return r.Subject == "secure" }, 5*time.Second); !got.TLS {
		t.Error("message not marked as received over TLS")
	}
}

func TestServer_ImplicitTLS(t *testing.T) {
	s := NewServer(t, WithImplicitTLS())
	conn, err := tls.Dial("tcp", s.Addr(), &tls.Config{ServerName: s.Host(), RootCAs: s.RootCAs()})
	if err != nil {
		t.Fatalf("tls dial: %v", err)
	}
	c, err := smtp.NewClient(conn, s.Host())
	if err != nil {
		t.Fatalf("client: %v", err)
	}
	defer c.Close()
	sendOn(t, c, "Subject: smtps\r\n\r\nbody\r\n")
	if got := s.WaitFor(t, func(r Received) bool { return r.Subject == "smtps" }, 5*time.Second); !got.TLS {
		t.Error("message not marked as received over TLS")
	}
}

func TestServer_RejectsMessageWithoutBody(t *testing.T) {
	s := NewServer(t)
	err := smtp.SendMail(s.Addr(), nil, "a@example.org", []string{"b@example.org"},
		[]byte("Subject: x\r\nContent-Type: image/png\r\n\r\nxx\r\n"))
	var tpErr *textproto.Error
	if !errors.As(err, &tpErr) || tpErr.Code != 554 {
		t.Fatalf("err = %v, want 554", err)
	}
	if n := len(s.Messages()); n != 0 {
		t.Fatalf("stored %d messages, want 0", n)
	}
}

// fatalRecorder stands in for *testing.T to observe WaitFor failing.
type fatalRecorder struct {
	testing.TB
	msg string
}

func (f *fatalRecorder) Helper() {}
func (f *fatalRecorder) Fatalf(format string, args ...any) {
	f.msg = fmt.Sprintf(format, args...)
}

func TestServer_WaitForFailsWhenNothingMatches(t *testing.T) {
	s := NewServer(t)
	if err := smtp.SendMail(s.Addr(), nil, "a@example.org", []string{"b@example.org"},
		[]byte("Subject: other\r\n\r\nbody\r\n")); err != nil {
		t.Fatalf("send: %v", err)
	}
	rec := &fatalRecorder{TB: t}
	s.WaitFor(rec, func(r Received) bool { return r.Subject == "never" }, 50*time.Millisecond)
	if !strings.Contains(rec.msg, "no matching message") || !strings.Contains(rec.msg, `"other"`) {
		t.Fatalf("failure message = %q", rec.msg)
	}
}

func TestServer_WaitForWakesOnArrival(t *testing.T) {
	s := NewServer(t)
	errc := make(chan error, 1)
	go func() {
		errc <- smtp.SendMail(s.Addr(), nil, "a@example.org", []string{"b@example.org"},
			[]byte("Subject: later\r\n\r\nbody\r\n"))
	}()
	got := s.WaitFor(t, func(r Received) bool { return r.Subject == "later" }, 10*time.Second)
	if err := <-errc; err != nil {
		t.Fatalf("send: %v", err)
	}
	if got.Text != "body\n" {
		t.Fatalf("text = %q", got.Text)
	}
}

func sendOn(t *testing.T, c *smtp.Client, msg string) {
	t.Helper()
	if err := c.Mail("a@example.org"); err != nil {
		t.Fatalf("mail: %v", err)
	}
	if err := c.Rcpt("b@example.org"); err != nil {
		t.Fatalf("rcpt: %v", err)
	}
	w, err := c.Data()
	if err != nil {
		t.Fatalf("data: %v", err)
	}
	if _, err := w.Write([]byte(msg)); err != nil {
		t.Fatalf("write: %v", err)
	}
	if err := w.Close(); err != nil {
		t.Fatalf("close data: %v", err)
	}
	if err := c.Quit(); err != nil {
		t.Fatalf("quit: %v", err)
	}
}
