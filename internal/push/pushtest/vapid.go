package pushtest

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"net/mail"
	"net/url"
	"strings"
	"time"
)

// maxVAPIDLifetime is RFC 8292 §2's upper bound on exp.
const maxVAPIDLifetime = 24 * time.Hour

// vapidVerifier checks Authorization headers against one application server
// key, as a push service does for subscriptions made with that key.
type vapidVerifier struct {
	key    []byte // uncompressed point, as sent in k=
	pub    *ecdsa.PublicKey
	origin string // expected aud: scheme://host[:port] of the push service
}

// verify checks "vapid t=<JWT>, k=<key>" (RFC 8292 §3) and returns the
// JWT's sub claim.
func (v vapidVerifier) verify(header string, now time.Time) (string, error) {
	scheme, params, ok := strings.Cut(strings.TrimSpace(header), " ")
	if !ok || !strings.EqualFold(scheme, "vapid") {
		return "", errors.New(`authorization scheme should be "vapid"`)
	}
	var token, key string
	for part := range strings.SplitSeq(params, ",") {
		name, value, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch strings.ToLower(name) {
		case "t":
			token = value
		case "k":
			key = value
		}
	}
	if token == "" || key == "" {
		return "", errors.New("authorization should carry both t= and k=")
	}
	k, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(key, "="))
	if err != nil {
		return "", fmt.Errorf("k is not base64url: %w", err)
	}
	if !bytes.Equal(k, v.key) {
		return "", errors.New("k is not the application server key the subscription was made with")
	}
	return v.verifyJWT(token, now)
}

func (v vapidVerifier) verifyJWT(token string, now time.Time) (string, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return "", errors.New("jwt should have three parts")
	}
	var header struct {
		Alg string `json:"alg"`
	}
	if err := decodeSegment(parts[0], &header); err != nil {
		return "", fmt.Errorf("jwt header: %w", err)
	}
	if header.Alg != "ES256" {
		return "", fmt.Errorf("jwt alg is %q, want ES256", header.Alg)
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil || len(sig) != 64 {
		return "", errors.New("jwt signature should be 64 bytes of base64url (r || s)")
	}
	// JWS ES256 (RFC 7518 §3.4): the signature is SHA-256 over
	// "header.payload", encoded as fixed-width r || s.
	digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	r := new(big.Int).SetBytes(sig[:32])
	s := new(big.Int).SetBytes(sig[32:])
	if !ecdsa.Verify(v.pub, digest[:], r, s) {
		return "", errors.New("jwt signature does not verify with the vapid public key")
	}

	var claims struct {
		Aud string      `json:"aud"`
		Exp json.Number `json:"exp"`
		Sub string      `json:"sub"`
	}
	if err := decodeSegment(parts[1], &claims); err != nil {
		return "", fmt.Errorf("jwt claims: %w", err)
	}
	if claims.Aud != v.origin {
		return "", fmt.Errorf("jwt aud is %q, want %q", claims.Aud, v.origin)
	}
	exp, err := claims.Exp.Int64()
	if err != nil {
		return "", errors.New("jwt exp should be an integer")
	}
	switch {
	case exp <= now.Unix():
		return "", errors.New("jwt has expired")
	case exp > now.Add(maxVAPIDLifetime).Unix():
		return "", errors.New("jwt exp is more than 24 hours ahead")
	}
	if err := checkContact(claims.Sub); err != nil {
		return "", err
	}
	return claims.Sub, nil
}

func decodeSegment(seg string, into any) error {
	b, err := base64.RawURLEncoding.DecodeString(seg)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, into)
}

// checkContact requires sub to be a mailto: address or an https URL
// (RFC 8292 §2.1), so a malformed contact such as "mailto:mailto:x@y" fails.
func checkContact(sub string) error {
	if sub == "" {
		return errors.New("jwt sub is missing")
	}
	if addr, ok := strings.CutPrefix(sub, "mailto:"); ok {
		if _, err := mail.ParseAddress(addr); err != nil || strings.Contains(addr, ":") {
			return fmt.Errorf("jwt sub %q is not a valid mailto: contact", sub)
		}
		return nil
	}
	if u, err := url.Parse(sub); err == nil && u.Scheme == "https" && u.Host != "" {
		return nil
	}
	return fmt.Errorf("jwt sub %q should be a mailto: or https: contact", sub)
}
