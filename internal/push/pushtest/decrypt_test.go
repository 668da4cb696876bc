package pushtest

import (
	"crypto/ecdh"
	"crypto/rand"
	"encoding/base64"
	"strings"
	"testing"
)

// RFC 8291 Appendix A, the independent reference for the decryption.
const (
	rfcPlaintext = "When I grow up, I want to be a watermelon"
	rfcUAPrivate = "q1dXpw3UpT5VOmu_cf_v6ih07Aems3njxI-JWgLcM94"
	rfcUAPublic  = "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4"
	rfcAuth      = "BTBZMqHH6r4Tts7J_aSIgg"
	rfcBody      = "DGv6ra1nlYgDCS1FRnbzlwAAEABBBP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A_yl95bQpu6cVPTpK4Mqgkf1CXztLVBSt2Ks3oZwbuwXPXLWyouBWLVWGNWQexSgSxsj_Qulcy4a-fN"
)

func mustB64(t *testing.T, s string) []byte {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		t.Fatalf("decode %q: %v", s, err)
	}
	return b
}

func rfcUserAgent(t *testing.T) *ecdh.PrivateKey {
	t.Helper()
	ua, err := ecdh.P256().NewPrivateKey(mustB64(t, rfcUAPrivate))
	if err != nil {
		t.Fatal(err)
	}
	if got := base64.RawURLEncoding.EncodeToString(ua.PublicKey().Bytes()); got != rfcUAPublic {
		t.Fatalf("ua_public = %s, want the RFC's %s", got, rfcUAPublic)
	}
	return ua
}

func TestDecrypt_RFC8291AppendixA(t *testing.T) {
	got, err := decrypt(mustB64(t, rfcBody), rfcUserAgent(t), mustB64(t, rfcAuth))
	if err != nil {
		t.Fatalf("decrypt: %v", err)
	}
	if string(got) != rfcPlaintext {
		t.Errorf("plaintext = %q, want %q", got, rfcPlaintext)
	}
}

func TestDecrypt_RejectsDamagedOrForeignMessages(t *testing.T) {
	body := func() []byte { return mustB64(t, rfcBody) }
	otherUA, err := ecdh.P256().GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		body    []byte
		ua      *ecdh.PrivateKey
		auth    []byte
		wantErr string
	}{
		{"flipped ciphertext byte", flip(body(), len(body())-20), nil, nil, "open record"},
		{"flipped salt byte", flip(body(), 0), nil, nil, "open record"},
		{"wrong auth secret", body(), nil, make([]byte, 16), "open record"},
		{"wrong recipient key", body(), otherUA, nil, "open record"},
		{"truncated header", body()[:10], nil, nil, "shorter than the aes128gcm header"},
		{"truncated keyid", body()[:50], nil, nil, "shorter than its keyid"},
		{"keyid not 65 bytes", setByte(body(), 20, 64), nil, nil, "65-byte"},
		{"record larger than rs", setRS(body(), 40), nil, nil, "one record"},
		{"record size too small", setRS(body(), 17), nil, nil, "minimum"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ua, auth := tt.ua, tt.auth
			if ua == nil {
				ua = rfcUserAgent(t)
			}
			if auth == nil {
				auth = mustB64(t, rfcAuth)
			}
			_, err := decrypt(tt.body, ua, auth)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("decrypt error = %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}

func flip(b []byte, i int) []byte { b[i] ^= 0x01; return b }

func setByte(b []byte, i int, v byte) []byte { b[i] = v; return b }

func setRS(b []byte, rs uint32) []byte {
	b[16], b[17], b[18], b[19] = byte(rs>>24), byte(rs>>16), byte(rs>>8), byte(rs)
	return b
}
