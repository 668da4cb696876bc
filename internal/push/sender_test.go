package push_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/carecircle/carecircle"
	"github.com/carecircle/carecircle/internal/push"
	"github.com/carecircle/carecircle/internal/push/pushtest"
)

const contact = "mailto:ops@carecircle.example"

type fixture struct {
	keys     push.Keys
	srv      *pushtest.Server
	sub      *pushtest.Subscriber
	endpoint string
	sender   *push.Sender
}

func newFixture(t *testing.T) fixture {
	t.Helper()
	keys, err := push.GenerateKeys()
	if err != nil {
		t.Fatal(err)
	}
	srv := pushtest.NewServer(t, keys.Public)
	sub, err := pushtest.NewSubscriber()
	if err != nil {
		t.Fatal(err)
	}
	return fixture{
		keys:     keys,
		srv:      srv,
		sub:      sub,
		endpoint: srv.Register(sub),
		sender:   push.NewSender(keys, contact, srv.Client()),
	}
}

func (f fixture) subscription() push.Subscription { return f.sub.Subscription(f.endpoint) }

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return c
}

func TestSend_RoundTripDeliversExactJSONPayload(t *testing.T) {
	f := newFixture(t)
	msg := push.Message{
		Title: "Emergency: Ada fell",
		Body:  "Kitchen, 14:02 — \"needs help\" <now>",
		URL:   "/emergencies/alrt_01",
		Tag:   "alrt_01",
	}
	if err := f.sender.Send(ctx(t), f.subscription(), msg); err != nil {
		t.Fatalf("send: %v", err)
	}
	got := f.srv.WaitFor(t, 1, 5*time.Second)
	want := `{"title":"Emergency: Ada fell","body":"Kitchen, 14:02 — \"needs help\" \u003cnow\u003e","url":"/emergencies/alrt_01","tag":"alrt_01"}`
	if string(got[0].Payload) != want {
		t.Errorf("payload:\n got %s\nwant %s", got[0].Payload, want)
	}
	if got[0].SubscriberID != f.sub.ID {
		t.Errorf("subscriber = %q, want %q", got[0].SubscriberID, f.sub.ID)
	}
	if fs := f.srv.Failures(); len(fs) != 0 {
		t.Errorf("push service failures: %+v", fs)
	}
}

func TestSend_PayloadOfMaxSizeFitsOneRecord(t *testing.T) {
	f := newFixture(t)
	empty, _ := json.Marshal(map[string]string{"title": "", "body": "", "url": "", "tag": ""})
	msg := push.Message{Body: strings.Repeat("x", push.MaxPayloadSize-len(empty))}
	if err := f.sender.Send(ctx(t), f.subscription(), msg); err != nil {
		t.Fatalf("send of exactly MaxPayloadSize: %v", err)
	}
	got := f.srv.WaitFor(t, 1, 5*time.Second)
	if len(got[0].Payload) != push.MaxPayloadSize {
		t.Errorf("payload length = %d, want %d", len(got[0].Payload), push.MaxPayloadSize)
	}

	msg.Body += "x"
	err := f.sender.Send(ctx(t), f.subscription(), msg)
	if !errors.Is(err, push.ErrPayloadTooLarge) || push.IsRetryable(err) {
		t.Errorf("send of MaxPayloadSize+1 = %v, want permanent ErrPayloadTooLarge", err)
	}
	if n := len(f.srv.Received()); n != 1 {
		t.Errorf("push service received %d messages, want 1", n)
	}
}

func TestSend_UrgencyTTLAndTopicHeadersArrive(t *testing.T) {
	tests := []struct {
		name        string
		msg         push.Message
		wantUrgency string
		wantTTL     time.Duration
		wantTopic   string
	}{
		{"emergency", push.Message{Urgency: push.UrgencyHigh, TTL: 5 * time.Minute, Topic: "alrt_01"}, "high", 5 * time.Minute, "alrt_01"},
		{"reminder defaults", push.Message{}, "normal", push.DefaultTTL, ""},
		{"low with sub-second TTL rounds up", push.Message{Urgency: push.UrgencyLow, TTL: 1500 * time.Millisecond}, "low", 2 * time.Second, ""},
		{"very-low", push.Message{Urgency: push.UrgencyVeryLow, TTL: time.Hour}, "very-low", time.Hour, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			tt.msg.Title = "t"
			if err := f.sender.Send(ctx(t), f.subscription(), tt.msg); err != nil {
				t.Fatalf("send: %v", err)
			}
			got := f.srv.WaitFor(t, 1, 5*time.Second)[0]
			if got.Urgency != tt.wantUrgency || got.TTL != tt.wantTTL || got.Topic != tt.wantTopic {
				t.Errorf("headers: urgency %q ttl %s topic %q; want %q %s %q",
					got.Urgency, got.TTL, got.Topic, tt.wantUrgency, tt.wantTTL, tt.wantTopic)
			}
		})
	}
}

func TestSend_OtherVAPIDKeyIsRejectedByPushService(t *testing.T) {
	f := newFixture(t)
	otherKeys, err := push.GenerateKeys()
	if err != nil {
		t.Fatal(err)
	}
	err = push.NewSender(otherKeys, contact, f.srv.Client()).Send(ctx(t), f.subscription(), push.Message{Title: "t"})
	var se *push.StatusError
	if !errors.As(err, &se) || se.StatusCode != http.StatusUnauthorized {
		t.Fatalf("send with foreign key = %v, want a 401 StatusError", err)
	}
	if push.IsRetryable(err) || errors.Is(err, push.ErrGone) {
		t.Errorf("401 should be permanent, got retryable=%v gone=%v", push.IsRetryable(err), errors.Is(err, push.ErrGone))
	}
	if fs := f.srv.Failures(); len(fs) != 1 || fs[0].Status != http.StatusUnauthorized {
		t.Errorf("failures = %+v, want one 401", fs)
	}
	if n := len(f.srv.Received()); n != 0 {
		t.Errorf("received %d messages, want none", n)
	}
}

func TestSend_HTTPSContactIsAccepted(t *testing.T) {
	f := newFixture(t)
	s := push.NewSender(f.keys, "https://carecircle.example/contact", f.srv.Client())
	if err := s.Send(ctx(t), f.subscription(), push.Message{Title: "t"}); err != nil {
		t.Fatalf("send: %v", err)
	}
	f.srv.WaitFor(t, 1, 5*time.Second)
}

func TestSend_ClassifiesPushServiceStatus(t *testing.T) {
	tests := []struct {
		status        int
		wantGone      bool
		wantRetryable bool
	}{
		{http.StatusNotFound, true, false},
		{http.StatusGone, true, false},
		{http.StatusTooManyRequests, false, true},
		{http.StatusInternalServerError, false, true},
		{http.StatusServiceUnavailable, false, true},
		{http.StatusBadRequest, false, false},
		{http.StatusForbidden, false, false},
		{http.StatusRequestEntityTooLarge, false, false},
	}
	for _, tt := range tests {
		t.Run(http.StatusText(tt.status), func(t *testing.T) {
			f := newFixture(t)
			f.srv.RespondWith(f.endpoint, tt.status)
			msg := push.Message{Title: "Secret title", Body: "Secret diagnosis"}
			err := f.sender.Send(ctx(t), f.subscription(), msg)
			var se *push.StatusError
			if !errors.As(err, &se) || se.StatusCode != tt.status {
				t.Fatalf("send = %v, want a StatusError with %d", err, tt.status)
			}
			if got := errors.Is(err, push.ErrGone); got != tt.wantGone {
				t.Errorf("errors.Is(err, ErrGone) = %v, want %v", got, tt.wantGone)
			}
			if got := push.IsRetryable(err); got != tt.wantRetryable {
				t.Errorf("IsRetryable = %v, want %v", got, tt.wantRetryable)
			}
			for _, secret := range []string{msg.Title, msg.Body, f.sub.ID} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("error %q leaks %q", err, secret)
				}
			}
			if fs := f.srv.Failures(); len(fs) != 0 {
				t.Errorf("the request itself was malformed: %+v", fs)
			}
		})
	}
}

func TestSend_ExposesRetryAfter(t *testing.T) {
	now := time.Now().UTC()
	tests := []struct {
		name       string
		retryAfter string
		want       time.Duration
		wantOK     bool
	}{
		{"seconds", "120", 2 * time.Minute, true},
		{"http date", now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second, true},
		{"absent", "", 0, false},
		{"garbage", "soon", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// A push service that only throttles: no need to decrypt here.
			ts := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				if tt.retryAfter != "" {
					w.Header().Set("Retry-After", tt.retryAfter)
				}
				w.WriteHeader(http.StatusTooManyRequests)
			}))
			defer ts.Close()
			f := newFixture(t)
			s := push.NewSender(f.keys, contact, ts.Client())
			err := s.Send(ctx(t), f.sub.Subscription(ts.URL+"/push/x"), push.Message{Title: "t"})
			if !push.IsRetryable(err) {
				t.Fatalf("send = %v, want retryable", err)
			}
			got, ok := push.RetryAfter(err)
			// An HTTP date has one-second resolution and the clock moves on.
			if ok != tt.wantOK || got < tt.want-2*time.Second || got > tt.want {
				t.Errorf("RetryAfter = %s, %v; want about %s, %v", got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

func TestSend_UnreachablePushServiceIsRetryable(t *testing.T) {
	f := newFixture(t)
	ts := httptest.NewTLSServer(http.NotFoundHandler())
	endpoint := ts.URL + "/push/secret-capability"
	client := ts.Client()
	ts.Close()
	err := push.NewSender(f.keys, contact, client).Send(ctx(t), f.sub.Subscription(endpoint), push.Message{Title: "t"})
	if err == nil || !push.IsRetryable(err) || errors.Is(err, push.ErrGone) {
		t.Fatalf("send to a closed server = %v, want a retryable error", err)
	}
	if strings.Contains(err.Error(), "secret-capability") {
		t.Errorf("error %q leaks the endpoint path", err)
	}
}

func TestSend_DefaultClientRefusesInternalAddresses(t *testing.T) {
	f := newFixture(t)
	err := push.NewSender(f.keys, contact, nil).Send(ctx(t), f.subscription(), push.Message{Title: "t"})
	if !errors.Is(err, push.ErrDisallowedAddress) || push.IsRetryable(err) {
		t.Fatalf("send to 127.0.0.1 with the default client = %v, want permanent ErrDisallowedAddress", err)
	}
	if n, fs := len(f.srv.Received()), f.srv.Failures(); n != 0 || len(fs) != 0 {
		t.Errorf("the push service was reached: %d received, failures %+v", n, fs)
	}
}

func TestSend_RejectsBadInputWithoutSending(t *testing.T) {
	f := newFixture(t)
	otherKeys, err := push.GenerateKeys()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		sender *push.Sender
		sub    push.Subscription
		msg    push.Message
	}{
		{"unknown urgency", f.sender, f.subscription(), push.Message{Urgency: "urgent"}},
		{"negative TTL", f.sender, f.subscription(), push.Message{TTL: -time.Second}},
		{"topic with spaces", f.sender, f.subscription(), push.Message{Topic: "dose reminder"}},
		{"topic over 32 chars", f.sender, f.subscription(), push.Message{Topic: strings.Repeat("a", 33)}},
		{"invalid subscription", f.sender, push.Subscription{Endpoint: f.endpoint}, push.Message{}},
		{"contact without scheme", push.NewSender(f.keys, "ops@carecircle.example", f.srv.Client()), f.subscription(), push.Message{}},
		{"mismatched key pair", push.NewSender(push.Keys{Public: f.keys.Public, Private: otherKeys.Private}, contact, f.srv.Client()), f.subscription(), push.Message{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.sender.Send(ctx(t), tt.sub, tt.msg)
			if err == nil || push.IsRetryable(err) {
				t.Errorf("send = %v, want a permanent error", err)
			}
		})
	}
	if n, fs := len(f.srv.Received()), f.srv.Failures(); n != 0 || len(fs) != 0 {
		t.Errorf("the push service was reached: %d received, failures %+v", n, fs)
	}
	err = f.sender.Send(ctx(t), push.Subscription{Endpoint: f.endpoint}, push.Message{})
	if carecircle.ErrorCode(err) != carecircle.EINVALID {
		t.Errorf("invalid subscription error code = %q, want %q", carecircle.ErrorCode(err), carecircle.EINVALID)
	}
}
