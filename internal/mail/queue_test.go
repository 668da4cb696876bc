package mail

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/carecircle/carecircle/internal/mail/mailtest"
)

// logRecorder collects JSON log records; it is safe for concurrent use.
type logRecorder struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func newLogRecorder() (*slog.Logger, *logRecorder) {
	rec := &logRecorder{}
	return slog.New(slog.NewJSONHandler(rec, &slog.HandlerOptions{Level: slog.LevelDebug})), rec
}

func (l *logRecorder) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

// with returns the records whose message is msg.
func (l *logRecorder) with(t *testing.T, msg string) []map[string]any {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []map[string]any
	for line := range strings.Lines(l.buf.String()) {
		var r map[string]any
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		if r["msg"] == msg {
			out = append(out, r)
		}
	}
	return out
}

// countingSender counts the attempts made through a real sender.
type countingSender struct {
	Sender
	attempts atomic.Int64
}

func (c *countingSender) Send(ctx context.Context, m Message) error {
	c.attempts.Add(1)
	return c.Sender.Send(ctx, m)
}

// sleepRecorder replaces the backoff timer: it returns at once and keeps the
// waits it was asked for.
type sleepRecorder struct {
	mu    sync.Mutex
	waits []time.Duration
}

func (s *sleepRecorder) Sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	s.waits = append(s.waits, d)
	s.mu.Unlock()
	return ctx.Err()
}

func closeQueue(t *testing.T, q *Queue) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	if err := q.Close(ctx); err != nil {
		t.Fatalf("Close: %v", err)
	}
}

func TestQueue_RetriesTransientFailuresAndDeliversOnce(t *testing.T) {
	sink := mailtest.NewServer(t)
	sink.FailNext(3)
	sender := &countingSender{Sender: newTestSMTP(t, sink, SMTPConfig{})}
	logger, logs := newLogRecorder()
	sleeps := &sleepRecorder{}
	q := NewQueue(sender, logger, QueueOptions{Workers: 2, BaseBackoff: time.Second, Sleep: sleeps.Sleep})

	q.Enqueue(Message{To: "ana@example.org", Subject: "Your invite", Text: "hello"})
	got := sink.WaitFor(t, func(r mailtest.Received) bool { return r.Subject == "Your invite" }, 10*time.Second)
	closeQueue(t, q)

	if got.To[0] != "ana@example.org" {
		t.Errorf("recipient = %q", got.To)
	}
	if n := len(sink.Messages()); n != 1 {
		t.Errorf("delivered %d times, want exactly once", n)
	}
	if n := sender.attempts.Load(); n != 4 {
		t.Errorf("attempts = %d, want 4 (3 failures + 1 success)", n)
	}
	if len(sleeps.waits) != 3 {
		t.Fatalf("waited %d times, want 3: %v", len(sleeps.waits), sleeps.waits)
	}
	for i, d := range sleeps.waits {
		full := time.Second << i
		if d < full/2 || d >= full {
			t.Errorf("wait %d = %v, want within [%v, %v)", i+1, d, full/2, full)
		}
	}
	if recs := logs.with(t, "mail send failed; will retry"); len(recs) != 3 {
		t.Errorf("logged %d retry warnings, want 3", len(recs))
	}
	if recs := logs.with(t, "mail sent after retries"); len(recs) != 1 || recs[0]["attempts"] != 4.0 {
		t.Errorf("success-after-retries records = %v", recs)
	}
}

func TestQueue_GivesUpAfterMaxAttemptsAndLogs(t *testing.T) {
	sink := mailtest.NewServer(t)
	sink.FailNext(1000)
	sender := &countingSender{Sender: newTestSMTP(t, sink, SMTPConfig{})}
	logger, logs := newLogRecorder()
	q := NewQueue(sender, logger, QueueOptions{MaxAttempts: 3, Sleep: (&sleepRecorder{}).Sleep})

	q.Enqueue(Message{To: "ana@example.org", Subject: "Reset your password", Text: "hello"})
	closeQueue(t, q)

	if n := sender.attempts.Load(); n != 3 {
		t.Errorf("attempts = %d, want 3", n)
	}
	if n := len(sink.Messages()); n != 0 {
		t.Errorf("delivered %d messages, want none", n)
	}
	recs := logs.with(t, "mail undeliverable: giving up")
	if len(recs) != 1 {
		t.Fatalf("dead-letter records = %d, want 1", len(recs))
	}
	r := recs[0]
	if r["level"] != "ERROR" || r["to"] != "ana@example.org" || r["subject"] != "Reset your password" ||
		r["attempts"] != 3.0 || r["permanent"] != false {
		t.Errorf("dead-letter record = %v", r)
	}
}

func TestQueue_PermanentFailureIsNotRetried(t *testing.T) {
	sink := mailtest.NewServer(t)
	sender := &countingSender{Sender: newTestSMTP(t, sink, SMTPConfig{})}
	logger, logs := newLogRecorder()
	q := NewQueue(sender, logger, QueueOptions{Sleep: (&sleepRecorder{}).Sleep})

	q.Enqueue(Message{To: "not an address", Subject: "x", Text: "hello"})
	closeQueue(t, q)

	if n := sender.attempts.Load(); n != 1 {
		t.Errorf("attempts = %d, want 1", n)
	}
	if recs := logs.with(t, "mail undeliverable: giving up"); len(recs) != 1 || recs[0]["permanent"] != true {
		t.Errorf("dead-letter records = %v", recs)
	}
}

func TestQueue_EnqueueDoesNotBlockWhenServerIsUnreachable(t *testing.T) {
	// A server that accepts and never answers is the worst case: the worker
	// is stuck in its first send for the whole SMTP timeout.
	addr, accepted := hangingServer(t)
	s, err := NewSMTP(SMTPConfig{Host: "127.0.0.1", Port: addr.Port, From: testFrom, Timeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	logger, logs := newLogRecorder()
	q := NewQueue(s, logger, QueueOptions{Workers: 1, Buffer: 4})

	q.Enqueue(Message{To: "ana@example.org", Subject: "first", Text: "hello"})
	<-accepted // the only worker now holds "first" and waits on the server

	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range 49 {
			q.Enqueue(Message{To: "ana@example.org", Subject: fmt.Sprint("msg ", i), Text: "hello"})
		}
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Enqueue blocked while the mail server was unreachable")
	}
	if n := len(logs.with(t, "mail dropped: queue is full")); n != 45 {
		t.Errorf("dropped %d messages for a full buffer, want 45 (49 - buffer of 4)", n)
	}

	// Close gives up when its context ends, aborting the hanging send.
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	closed := make(chan error, 1)
	go func() { closed <- q.Close(ctx) }()
	select {
	case err := <-closed:
		if err == nil {
			t.Error("Close reported success with undelivered mail")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Close did not return after its context ended")
	}
	if n := len(logs.with(t, "mail dropped: queue closed before it was sent")); n != 5 {
		t.Errorf("logged %d messages dropped at close, want 5 (1 in flight + 4 buffered)", n)
	}

	q.Enqueue(Message{To: "ana@example.org", Subject: "late", Text: "hello"})
	if n := len(logs.with(t, "mail dropped: queue is closed")); n != 1 {
		t.Errorf("Enqueue after Close logged %d drops, want 1", n)
	}
}

func TestQueue_CloseSendsEverythingQueued(t *testing.T) {
	sink := mailtest.NewServer(t)
	logger, _ := newLogRecorder()
	q := NewQueue(newTestSMTP(t, sink, SMTPConfig{}), logger, QueueOptions{Workers: 1})
	for i := range 10 {
		q.Enqueue(Message{To: "ana@example.org", Subject: fmt.Sprint("n", i), Text: "hello"})
	}
	closeQueue(t, q)

	seen := map[string]int{}
	for _, r := range sink.Messages() {
		seen[r.Subject]++
	}
	for i := range 10 {
		if n := seen[fmt.Sprint("n", i)]; n != 1 {
			t.Errorf("message n%d delivered %d times", i, n)
		}
	}
}

func TestQueue_SendsRenderedInvite(t *testing.T) {
	sink := mailtest.NewServer(t)
	logger, _ := newLogRecorder()
	q := NewQueue(newTestSMTP(t, sink, SMTPConfig{}), logger, QueueOptions{})
	defer closeQueue(t, q)

	link := "https://care.example/accept-invite/" + strings.Repeat("tok3n", 12)
	subject, text, html := Invite(InviteData{InviterName: "Ana", FamilyName: "The <b>García</b> family",
		Role: "Caregiver", Link: link, ExpiresAt: "Monday, 9 March 2026"})
	q.Enqueue(Message{To: "bo@example.org", Subject: subject, Text: text, HTML: html})

	got := sink.WaitFor(t, func(r mailtest.Received) bool { return r.To[0] == "bo@example.org" }, 10*time.Second)
	if got.Subject != "Ana invited you to The <b>García</b> family on CareCircle" {
		t.Errorf("subject = %q", got.Subject)
	}
	if !strings.Contains(got.Text, "\n"+link+"\n") {
		t.Errorf("text lacks the full link on its own line: %q", got.Text)
	}
	if !strings.Contains(got.HTML, `href="`+link+`"`) || !strings.Contains(got.HTML, "The &lt;b&gt;García&lt;/b&gt; family") {
		t.Errorf("html = %q", got.HTML)
	}
}

func TestBackoff_DoublesWithJitterUpToTheCap(t *testing.T) {
	base, limit := 2*time.Second, 10*time.Minute
	tests := []struct {
		attempt int
		full    time.Duration
	}{
		{1, 2 * time.Second},
		{2, 4 * time.Second},
		{3, 8 * time.Second},
		{8, 256 * time.Second},
		{9, 512 * time.Second},
		{10, limit},
		{500, limit},
	}
	for _, tt := range tests {
		for range 100 {
			if d := backoff(base, limit, tt.attempt); d < tt.full/2 || d >= tt.full {
				t.Fatalf("backoff(attempt %d) = %v, want within [%v, %v)", tt.attempt, d, tt.full/2, tt.full)
			}
		}
	}
}
