package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// NewToken returns 32 random bytes, URL-safe. Used for refresh, reset, verify
// and invite tokens; only HashToken of it is ever stored.
func NewToken() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// HashToken returns the hex SHA-256 of a token. Tokens carry 256 bits of
// entropy, so a fast hash is enough to make a stolen table useless.
func HashToken(tok string) string {
	sum := sha256.Sum256([]byte(tok))
	return hex.EncodeToString(sum[:])
}

// NewRefreshToken returns a refresh token bound to a session: the session id
// lets a replayed, already-rotated token revoke exactly that session.
func NewRefreshToken(sessionID string) string { return sessionID + "." + NewToken() }

// SplitRefreshToken returns the session id a refresh token names.
func SplitRefreshToken(tok string) (sessionID string, ok bool) {
	sid, _, found := strings.Cut(tok, ".")
	return sid, found && sid != ""
}

// Claims are the access token's claims: the user and the session it belongs
// to, so a revoked session is refused at once.
type Claims struct {
	SessionID string `json:"sid"`
	jwt.RegisteredClaims
}

// Signer issues and verifies access tokens (HS256).
type Signer struct {
	key []byte
}

// NewSigner returns a signer for the given secret (at least 32 bytes).
func NewSigner(secret []byte) (*Signer, error) {
	if len(secret) < 32 {
		return nil, errors.New("JWT secret must be at least 32 bytes")
	}
	return &Signer{key: secret}, nil
}

const issuer = "carecircle"

// Issue returns an access token for the user's session valid for ttl.
func (s *Signer) Issue(userID, sessionID string, now time.Time, ttl time.Duration) (string, time.Time, error) {
	// A JWT expiry has whole seconds; report the one the token carries.
	exp := now.Add(ttl).Truncate(time.Second)
	tok := jwt.NewWithClaims(jwt.SigningMethodHS256, Claims{
		SessionID: sessionID,
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    issuer,
			Subject:   userID,
			IssuedAt:  jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(exp),
		},
	})
	signed, err := tok.SignedString(s.key)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("sign access token: %w", err)
	}
	return signed, exp, nil
}

// Verify checks the token's signature and expiry at now and returns its
// claims.
func (s *Signer) Verify(tok string, now time.Time) (*Claims, error) {
	var c Claims
	_, err := jwt.ParseWithClaims(tok, &c, func(*jwt.Token) (any, error) { return s.key, nil },
		jwt.WithValidMethods([]string{"HS256"}), jwt.WithIssuer(issuer),
		jwt.WithTimeFunc(func() time.Time { return now }), jwt.WithExpirationRequired())
	if err != nil {
		return nil, err
	}
	if c.Subject == "" || c.SessionID == "" {
		return nil, errors.New("token lacks subject or session")
	}
	return &c, nil
}
