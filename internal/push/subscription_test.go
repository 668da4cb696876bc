package push_test

import (
	"crypto/ecdh"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"strings"
	"testing"

	"github.com/carecircle/carecircle"
	"github.com/carecircle/carecircle/internal/push"
)

func TestSubscriptionValidate(t *testing.T) {
	ua, err := ecdh.P256().GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	point := ua.PublicKey().Bytes()
	p256dh := base64.RawURLEncoding.EncodeToString(point)
	auth := base64.RawURLEncoding.EncodeToString([]byte("0123456789abcdef"))
	compressed := append([]byte{2 + point[64]&1}, point[1:33]...)
	offCurve := append([]byte{4}, make([]byte, 64)...)
	offCurve[64] = 1

	valid := push.Subscription{Endpoint: "https://fcm.googleapis.com/fcm/send/abc:def", P256dh: p256dh, Auth: auth}
	with := func(edit func(*push.Subscription)) push.Subscription {
		s := valid
		edit(&s)
		return s
	}
	tests := []struct {
		name       string
		sub        push.Subscription
		wantFields []string // prefixes of the expected field messages, in order
	}{
		{"valid", valid, nil},
		{"http loopback ip", with(func(s *push.Subscription) { s.Endpoint = "http://127.0.0.1:8080/push/1" }), nil},
		{"http localhost", with(func(s *push.Subscription) { s.Endpoint = "http://localhost:8080/push/1" }), nil},
		{"http ipv6 loopback", with(func(s *push.Subscription) { s.Endpoint = "http://[::1]:8080/push/1" }), nil},
		{"padded standard base64 keys", with(func(s *push.Subscription) {
			s.P256dh = base64.StdEncoding.EncodeToString(point)
			s.Auth = base64.StdEncoding.EncodeToString([]byte("0123456789abcdef"))
		}), nil},
		{"empty endpoint", with(func(s *push.Subscription) { s.Endpoint = "" }), []string{"endpoint should not be empty"}},
		{"http public host", with(func(s *push.Subscription) { s.Endpoint = "http://updates.push.services.mozilla.com/wpush/v2/x" }), []string{"endpoint should be an https URL"}},
		{"http loopback lookalike", with(func(s *push.Subscription) { s.Endpoint = "http://localhost.evil.example/push" }), []string{"endpoint should be an https URL"}},
		{"other scheme", with(func(s *push.Subscription) { s.Endpoint = "ftp://push.example/x" }), []string{"endpoint should be an https URL"}},
		{"relative", with(func(s *push.Subscription) { s.Endpoint = "/push/1" }), []string{"endpoint should be an absolute https URL"}},
		{"no host", with(func(s *push.Subscription) { s.Endpoint = "https:///push" }), []string{"endpoint should be an absolute https URL"}},
		{"user info", with(func(s *push.Subscription) { s.Endpoint = "https://user:pw@push.example/x" }), []string{"endpoint should not contain user credentials"}},
		{"too long", with(func(s *push.Subscription) { s.Endpoint = "https://push.example/" + strings.Repeat("a", 2048) }), []string{"endpoint should be at most"}},
		{"p256dh empty", with(func(s *push.Subscription) { s.P256dh = "" }), []string{"keys.p256dh"}},
		{"p256dh not base64", with(func(s *push.Subscription) { s.P256dh = "!!!" }), []string{"keys.p256dh"}},
		{"p256dh compressed point", with(func(s *push.Subscription) { s.P256dh = base64.RawURLEncoding.EncodeToString(compressed) }), []string{"keys.p256dh"}},
		{"p256dh off the curve", with(func(s *push.Subscription) { s.P256dh = base64.RawURLEncoding.EncodeToString(offCurve) }), []string{"keys.p256dh"}},
		{"auth 15 bytes", with(func(s *push.Subscription) { s.Auth = base64.RawURLEncoding.EncodeToString(make([]byte, 15)) }), []string{"keys.auth"}},
		{"auth 32 bytes", with(func(s *push.Subscription) { s.Auth = base64.RawURLEncoding.EncodeToString(make([]byte, 32)) }), []string{"keys.auth"}},
		{"everything wrong", push.Subscription{Endpoint: "http://push.example", P256dh: "x", Auth: ""}, []string{"endpoint", "keys.p256dh", "keys.auth"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.sub.Validate()
			if tt.wantFields == nil {
				if err != nil {
					t.Fatalf("Validate rejected a valid subscription: %v", err)
				}
				return
			}
			var e *carecircle.Error
			if !errors.As(err, &e) || e.Code != carecircle.EINVALID {
				t.Fatalf("Validate = %v, want an EINVALID *carecircle.Error", err)
			}
			if len(e.Fields) != len(tt.wantFields) {
				t.Fatalf("fields = %q, want %d starting with %q", e.Fields, len(tt.wantFields), tt.wantFields)
			}
			for i, want := range tt.wantFields {
				if !strings.HasPrefix(e.Fields[i], want) {
					t.Errorf("field %d = %q, want it to start with %q", i, e.Fields[i], want)
				}
			}
		})
	}
}
