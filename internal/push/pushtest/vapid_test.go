package pushtest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

const testOrigin = "https://push.example:8443"

func newVAPIDKey(t *testing.T) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func publicBytes(t *testing.T, k *ecdsa.PrivateKey) []byte {
	t.Helper()
	b, err := k.PublicKey.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// signJWT builds an ES256 JWS by hand so the tests do not lean on the
// library the verifier is meant to check.
func signJWT(t *testing.T, k *ecdsa.PrivateKey, header, claims map[string]any) string {
	t.Helper()
	enc := func(v any) string {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return base64.RawURLEncoding.EncodeToString(b)
	}
	signingInput := enc(header) + "." + enc(claims)
	digest := sha256.Sum256([]byte(signingInput))
	r, s, err := ecdsa.Sign(rand.Reader, k, digest[:])
	if err != nil {
		t.Fatal(err)
	}
	sig := make([]byte, 64)
	r.FillBytes(sig[:32])
	s.FillBytes(sig[32:])
	return signingInput + "." + base64.RawURLEncoding.EncodeToString(sig)
}

func TestVAPIDVerify(t *testing.T) {
	now := time.Now()
	key := newVAPIDKey(t)
	other := newVAPIDKey(t)
	v := vapidVerifier{key: publicBytes(t, key), pub: &key.PublicKey, origin: testOrigin}
	k := base64.RawURLEncoding.EncodeToString(v.key)
	es256 := map[string]any{"typ": "JWT", "alg": "ES256"}
	claims := func(edit func(map[string]any)) map[string]any {
		c := map[string]any{"aud": testOrigin, "exp": now.Add(12 * time.Hour).Unix(), "sub": "mailto:ops@carecircle.example"}
		if edit != nil {
			edit(c)
		}
		return c
	}
	good := signJWT(t, key, es256, claims(nil))

	tests := []struct {
		name    string
		header  string
		wantErr string // "" means accepted
	}{
		{"valid", "vapid t=" + good + ", k=" + k, ""},
		{"valid with https contact", "vapid t=" + signJWT(t, key, es256, claims(func(c map[string]any) { c["sub"] = "https://carecircle.example/contact" })) + ", k=" + k, ""},
		{"scheme is case-insensitive", "VAPID t=" + good + ",k=" + k, ""},
		{"signed by another key", "vapid t=" + signJWT(t, other, es256, claims(nil)) + ", k=" + k, "does not verify"},
		{"k names another key", "vapid t=" + good + ", k=" + base64.RawURLEncoding.EncodeToString(publicBytes(t, other)), "not the application server key"},
		{"tampered claims", "vapid t=" + tamperClaims(t, good) + ", k=" + k, "does not verify"},
		{"wrong audience", "vapid t=" + signJWT(t, key, es256, claims(func(c map[string]any) { c["aud"] = "https://fcm.googleapis.com" })) + ", k=" + k, "aud"},
		{"expired", "vapid t=" + signJWT(t, key, es256, claims(func(c map[string]any) { c["exp"] = now.Add(-time.Minute).Unix() })) + ", k=" + k, "expired"},
		{"exp beyond 24h", "vapid t=" + signJWT(t, key, es256, claims(func(c map[string]any) { c["exp"] = now.Add(25 * time.Hour).Unix() })) + ", k=" + k, "24 hours"},
		{"sub missing", "vapid t=" + signJWT(t, key, es256, claims(func(c map[string]any) { delete(c, "sub") })) + ", k=" + k, "sub is missing"},
		{"sub doubled mailto", "vapid t=" + signJWT(t, key, es256, claims(func(c map[string]any) { c["sub"] = "mailto:mailto:ops@carecircle.example" })) + ", k=" + k, "mailto"},
		{"alg none", "vapid t=" + signJWT(t, key, map[string]any{"alg": "none"}, claims(nil)) + ", k=" + k, "ES256"},
		{"bearer scheme", "Bearer " + good, "scheme"},
		{"missing k", "vapid t=" + good, "both t= and k="},
		{"empty header", "", "scheme"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := v.verify(tt.header, now)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("verify rejected a valid header: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("verify error = %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}

// tamperClaims swaps in different claims while keeping the old signature.
func tamperClaims(t *testing.T, token string) string {
	t.Helper()
	parts := strings.Split(token, ".")
	claims, _ := json.Marshal(map[string]any{"aud": testOrigin, "exp": time.Now().Add(time.Hour).Unix(), "sub": "mailto:attacker@evil.example"})
	return parts[0] + "." + base64.RawURLEncoding.EncodeToString(claims) + "." + parts[2]
}
