// Package pushtest is an in-process Web Push service for tests. It does what a
// real push service and browser do together: it verifies the VAPID signature
// (RFC 8292) and decrypts each message (RFC 8291, RFC 8188) with the
// subscriber's private key, so a test sees the exact payload a service worker
// would receive.
package pushtest

import (
	"crypto/ecdh"
	"crypto/rand"
	"encoding/base64"
	"fmt"

	"github.com/carecircle/carecircle"
	"github.com/carecircle/carecircle/internal/push"
)

// Subscriber plays the browser: it holds the P-256 key pair and auth secret a
// PushSubscription is made of.
type Subscriber struct {
	// ID names the subscriber in endpoints (/push/<ID>) and in Received.
	ID   string
	key  *ecdh.PrivateKey
	auth []byte
}

// NewSubscriber returns a subscriber with a fresh key pair and a 16-byte
// auth secret.
func NewSubscriber() (*Subscriber, error) {
	key, err := ecdh.P256().GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate subscriber key: %w", err)
	}
	auth := make([]byte, 16)
	if _, err := rand.Read(auth); err != nil {
		return nil, fmt.Errorf("generate auth secret: %w", err)
	}
	return &Subscriber{ID: carecircle.NewID("psub_"), key: key, auth: auth}, nil
}

// Subscription returns what the browser would hand the server: endpoint plus
// the public key and auth secret as unpadded URL-safe base64.
func (s *Subscriber) Subscription(endpoint string) push.Subscription {
	return push.Subscription{
		Endpoint: endpoint,
		P256dh:   base64.RawURLEncoding.EncodeToString(s.key.PublicKey().Bytes()),
		Auth:     base64.RawURLEncoding.EncodeToString(s.auth),
	}
}
