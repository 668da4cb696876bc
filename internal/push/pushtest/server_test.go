package pushtest

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/carecircle/carecircle/internal/push"
)

// tamper rewrites requests between the sender and the server, the way a
// broken proxy or a buggy encoder would.
type tamper struct {
	next http.RoundTripper
	edit func(r *http.Request, body []byte) []byte
}

func (tp tamper) RoundTrip(r *http.Request) (*http.Response, error) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return nil, err
	}
	r = r.Clone(r.Context())
	body = tp.edit(r, body)
	r.Body = io.NopCloser(bytes.NewReader(body))
	r.ContentLength = int64(len(body))
	return tp.next.RoundTrip(r)
}

type fixture struct {
	srv      *Server
	keys     push.Keys
	sub      *Subscriber
	endpoint string
}

func newFixture(t *testing.T) fixture {
	t.Helper()
	keys, err := push.GenerateKeys()
	if err != nil {
		t.Fatal(err)
	}
	srv := NewServer(t, keys.Public)
	sub, err := NewSubscriber()
	if err != nil {
		t.Fatal(err)
	}
	return fixture{srv: srv, keys: keys, sub: sub, endpoint: srv.Register(sub)}
}

func (f fixture) send(t *testing.T, client *http.Client, endpoint string) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s := push.NewSender(f.keys, "mailto:ops@carecircle.example", client)
	return s.Send(ctx, f.sub.Subscription(endpoint), push.Message{Title: "Dose due", Body: "Metformin 500 mg"})
}

func TestServer_AcceptsAndRecordsAValidMessage(t *testing.T) {
	f := newFixture(t)
	if err := f.send(t, f.srv.Client(), f.endpoint); err != nil {
		t.Fatalf("send: %v", err)
	}
	got := f.srv.WaitFor(t, 1, 5*time.Second)
	if got[0].SubscriberID != f.sub.ID || !strings.Contains(string(got[0].Payload), "Metformin 500 mg") {
		t.Errorf("received %+v", got[0])
	}
	if fs := f.srv.Failures(); len(fs) != 0 {
		t.Errorf("failures: %+v", fs)
	}
}

func TestServer_RefusesMalformedRequestsAndRecordsFailures(t *testing.T) {
	tests := []struct {
		name       string
		edit       func(r *http.Request, body []byte) []byte
		endpoint   func(f fixture) string
		wantStatus int
		wantReason string
	}{
		{
			name:       "ciphertext corrupted in transit",
			edit:       func(_ *http.Request, b []byte) []byte { b[len(b)-1] ^= 0xff; return b },
			wantStatus: http.StatusBadRequest,
			wantReason: "decrypt",
		},
		{
			name: "legacy aesgcm encoding",
			edit: func(r *http.Request, b []byte) []byte {
				r.Header.Set("Content-Encoding", "aesgcm")
				return b
			},
			wantStatus: http.StatusBadRequest,
			wantReason: "Content-Encoding",
		},
		{
			name: "missing TTL",
			edit: func(r *http.Request, b []byte) []byte {
				r.Header.Del("TTL")
				return b
			},
			wantStatus: http.StatusBadRequest,
			wantReason: "TTL",
		},
		{
			name: "Authorization stripped",
			edit: func(r *http.Request, b []byte) []byte {
				r.Header.Del("Authorization")
				return b
			},
			wantStatus: http.StatusUnauthorized,
			wantReason: "vapid",
		},
		{
			name:       "body over 4096 bytes",
			edit:       func(_ *http.Request, b []byte) []byte { return append(b, make([]byte, 10)...) },
			wantStatus: http.StatusRequestEntityTooLarge,
			wantReason: "4096",
		},
		{
			name:       "unknown subscriber",
			endpoint:   func(f fixture) string { return f.srv.URL() + "/push/psub_nobody" },
			wantStatus: http.StatusNotFound,
			wantReason: "no subscriber",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			client := f.srv.Client()
			if tt.edit != nil {
				client.Transport = tamper{next: client.Transport, edit: tt.edit}
			}
			endpoint := f.endpoint
			if tt.endpoint != nil {
				endpoint = tt.endpoint(f)
			}
			err := f.send(t, client, endpoint)
			var se *push.StatusError
			if !errors.As(err, &se) || se.StatusCode != tt.wantStatus {
				t.Fatalf("send error = %v, want status %d", err, tt.wantStatus)
			}
			fs := f.srv.Failures()
			if len(fs) != 1 || fs[0].Status != tt.wantStatus || !strings.Contains(fs[0].Reason, tt.wantReason) {
				t.Errorf("failures = %+v, want one %d mentioning %q", fs, tt.wantStatus, tt.wantReason)
			}
			if got := f.srv.Received(); len(got) != 0 {
				t.Errorf("received %d messages, want none", len(got))
			}
		})
	}
}

func TestServer_RespondWithOverridesUntilReset(t *testing.T) {
	f := newFixture(t)
	f.srv.RespondWith(f.endpoint, http.StatusGone)
	if err := f.send(t, f.srv.Client(), f.endpoint); !errors.Is(err, push.ErrGone) {
		t.Fatalf("send with 410 forced = %v, want ErrGone", err)
	}
	if got := f.srv.Received(); len(got) != 0 {
		t.Fatalf("a refused message was recorded: %+v", got)
	}
	f.srv.RespondWith(f.endpoint, 0)
	if err := f.send(t, f.srv.Client(), f.endpoint); err != nil {
		t.Fatalf("send after reset: %v", err)
	}
	f.srv.WaitFor(t, 1, 5*time.Second)
	if fs := f.srv.Failures(); len(fs) != 0 {
		t.Errorf("failures: %+v", fs)
	}
}
