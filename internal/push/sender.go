// Package push sends Web Push notifications: payloads encrypted for one
// browser (RFC 8291, aes128gcm) and signed with the server's VAPID key
// (RFC 8292), POSTed to the browser's push service (RFC 8030).
package push

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	webpush "github.com/SherClockHolmes/webpush-go"
)

// Urgency values (RFC 8030 §5.3). Emergencies use UrgencyHigh so the device
// wakes even on low battery; reminders use UrgencyNormal.
const (
	UrgencyVeryLow = "very-low"
	UrgencyLow     = "low"
	UrgencyNormal  = "normal"
	UrgencyHigh    = "high"
)

// DefaultTTL is how long the push service keeps a message for an offline
// device when Message.TTL is zero.
const DefaultTTL = 24 * time.Hour

// MaxPayloadSize is the largest JSON payload that fits the single 4096-byte
// record push services must accept (4096 minus the 86-byte header, the
// 16-byte tag and the padding delimiter).
const MaxPayloadSize = 4096 - 86 - 16 - 1

// Message is one notification. Title, Body, URL and Tag reach the service
// worker as the JSON object {"title","body","url","tag"}.
type Message struct {
	Title string
	Body  string
	URL   string // page to open when the notification is clicked
	Tag   string // notifications with the same tag replace each other on the device
	// Urgency is one of the Urgency constants; empty means UrgencyNormal.
	Urgency string
	// TTL is how long the push service may hold the message for an offline
	// device; zero means DefaultTTL. It is sent in whole seconds, rounded up.
	TTL time.Duration
	// Topic, when set, makes a newer message replace an undelivered one with
	// the same topic at the push service: at most 32 characters of URL-safe
	// base64 (A-Z a-z 0-9 - _).
	Topic string
}

type payload struct {
	Title string `json:"title"`
	Body  string `json:"body"`
	URL   string `json:"url"`
	Tag   string `json:"tag"`
}

var topicPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,32}$`)

// Sender delivers messages to push subscriptions. It is safe for concurrent
// use. It never logs; errors name the push service host but neither the full
// endpoint (a capability URL) nor the payload.
type Sender struct {
	keys       Keys
	subscriber string // contact in the form webpush-go expects
	client     *http.Client
	configErr  error
	now        func() time.Time
}

// NewSender returns a Sender signing with keys. subscriber is the contact
// push service operators can reach us at: "mailto:ops@example.org" or an
// https URL. client nil means a client with timeouts that refuses to connect
// to loopback, private and link-local addresses, because subscription
// endpoints come from users and must not let them aim our server at internal
// services; pass your own client (such as pushtest's) to reach a local push
// service in tests. A bad key pair or subscriber makes every Send fail.
func NewSender(keys Keys, subscriber string, client *http.Client) *Sender {
	s := &Sender{client: client, now: time.Now}
	if s.client == nil {
		s.client = newGuardedClient()
	}
	k, err := parseKeys(keys)
	if err != nil {
		s.configErr = err
		return s
	}
	s.keys = k
	switch {
	case strings.HasPrefix(subscriber, "mailto:") && strings.Contains(subscriber, "@"):
		// webpush-go adds "mailto:" to anything that is not https, so
		// passing it through would sign "mailto:mailto:...".
		s.subscriber = strings.TrimPrefix(subscriber, "mailto:")
	case strings.HasPrefix(subscriber, "https://") && len(subscriber) > len("https://"):
		s.subscriber = subscriber
	default:
		s.configErr = fmt.Errorf("vapid subscriber %q should be a mailto: address or an https URL", subscriber)
	}
	return s
}

// Send encrypts msg for sub and hands it to sub's push service. A nil error
// means the push service accepted it (200, 201 or 202). Otherwise:
// errors.Is(err, ErrGone) means the subscription no longer exists (404, 410)
// and should be deleted; IsRetryable(err) means try again later (429, 5xx,
// network failure), no sooner than RetryAfter(err) when the service said so;
// any other error is permanent for this message.
func (s *Sender) Send(ctx context.Context, sub Subscription, msg Message) error {
	if s.configErr != nil {
		return fmt.Errorf("send push: %w", s.configErr)
	}
	if err := sub.Validate(); err != nil {
		return fmt.Errorf("send push: %w", err)
	}
	opts, err := s.options(msg)
	if err != nil {
		return fmt.Errorf("send push: %w", err)
	}
	body, err := json.Marshal(payload{Title: msg.Title, Body: msg.Body, URL: msg.URL, Tag: msg.Tag})
	if err != nil {
		return fmt.Errorf("send push: encode payload: %w", err)
	}
	if len(body) > MaxPayloadSize {
		return fmt.Errorf("send push: %w (%d bytes)", ErrPayloadTooLarge, len(body))
	}

	host := endpointHost(sub.Endpoint)
	resp, err := webpush.SendNotificationWithContext(ctx, body, &webpush.Subscription{
		Endpoint: sub.Endpoint,
		Keys:     webpush.Keys{P256dh: canonicalBase64(sub.P256dh), Auth: canonicalBase64(sub.Auth)},
	}, opts)
	if err != nil {
		return requestError(host, err)
	}
	defer resp.Body.Close()
	return classify(host, resp, s.now())
}

func (s *Sender) options(msg Message) (*webpush.Options, error) {
	urgency := msg.Urgency
	if urgency == "" {
		urgency = UrgencyNormal
	}
	switch urgency {
	case UrgencyVeryLow, UrgencyLow, UrgencyNormal, UrgencyHigh:
	default:
		return nil, fmt.Errorf("urgency %q should be very-low, low, normal or high", msg.Urgency)
	}
	ttl := msg.TTL
	switch {
	case ttl < 0:
		return nil, fmt.Errorf("ttl %s should not be negative", msg.TTL)
	case ttl == 0:
		ttl = DefaultTTL
	}
	if msg.Topic != "" && !topicPattern.MatchString(msg.Topic) {
		return nil, fmt.Errorf("topic %q should be at most 32 characters of A-Z a-z 0-9 - _", msg.Topic)
	}
	return &webpush.Options{
		HTTPClient:      s.client,
		Subscriber:      s.subscriber,
		Topic:           msg.Topic,
		TTL:             int((ttl + time.Second - 1) / time.Second),
		Urgency:         webpush.Urgency(urgency),
		VAPIDPublicKey:  s.keys.Public,
		VAPIDPrivateKey: s.keys.Private,
	}, nil
}

// requestError classifies a failure before any response arrived.
func requestError(host string, err error) error {
	if errors.Is(err, webpush.ErrMaxPadExceeded) {
		return fmt.Errorf("send push: %w", ErrPayloadTooLarge)
	}
	var ue *url.Error
	if !errors.As(err, &ue) {
		return fmt.Errorf("send push to %s: %w", host, err)
	}
	// Unwrap the *url.Error: its message quotes the full endpoint.
	if errors.Is(ue.Err, ErrDisallowedAddress) {
		return fmt.Errorf("send push to %s: %w", host, ue.Err)
	}
	return &transportError{host: host, err: ue.Err}
}

func endpointHost(endpoint string) string {
	u, err := url.Parse(endpoint)
	if err != nil {
		return "push service"
	}
	return u.Host
}

// canonicalBase64 re-encodes a key Validate accepted as unpadded URL-safe
// base64, the one form every decoder in the chain agrees on.
func canonicalBase64(s string) string {
	b, err := decodeBase64(s)
	if err != nil {
		return s
	}
	return base64.RawURLEncoding.EncodeToString(b)
}
