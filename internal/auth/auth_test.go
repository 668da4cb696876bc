package auth

import (
	"strings"
	"testing"
	"time"
)

func TestCheckPassword_RoundTripAndWrong(t *testing.T) {
	h, err := HashPassword("correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$") {
		t.Fatalf("hash %q is not argon2id", h)
	}
	if !CheckPassword(h, "correct horse battery") {
		t.Error("right password refused")
	}
	if CheckPassword(h, "correct horse batterY") {
		t.Error("wrong password accepted")
	}
	if CheckPassword("garbage", "x") {
		t.Error("garbage hash accepted")
	}
}

func TestCheckPasswordPolicy(t *testing.T) {
	tests := []struct {
		pw   string
		want string // substring of the message; "" = accepted
	}{
		{"", "should not be empty"},
		{"short", "at least 10"},
		{strings.Repeat("a", 129), "at most 128"},
		{"1234567890", "too common"},
		{"PASSWORD123", "too common"}, // case-insensitive
		{"qwertyuiop", "too common"},
		{"Grandma's pills at 8", ""},
		{strings.Repeat("é", 10), ""}, // counted in characters, not bytes
	}
	for _, tt := range tests {
		got := CheckPasswordPolicy("password", tt.pw)
		if tt.want == "" && got != "" || tt.want != "" && !strings.Contains(got, tt.want) {
			t.Errorf("policy(%q) = %q, want %q", tt.pw, got, tt.want)
		}
		if got != "" && !strings.HasPrefix(got, "password ") {
			t.Errorf("message %q does not name its field", got)
		}
	}
	if n := len(commonPasswords()); n < 9000 {
		t.Errorf("common password list has %d entries, want about 10,000", n)
	}
}

func TestSigner_VerifyRejectsTamperingAndExpiry(t *testing.T) {
	s, err := NewSigner([]byte(strings.Repeat("k", 32)))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	tok, exp, err := s.Issue("usr_1", "ses_1", now, 15*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if !exp.Equal(now.Add(15 * time.Minute)) {
		t.Errorf("expiry %v", exp)
	}
	c, err := s.Verify(tok, now.Add(time.Minute))
	if err != nil || c.Subject != "usr_1" || c.SessionID != "ses_1" {
		t.Fatalf("verify: %v %+v", err, c)
	}
	if _, err := s.Verify(tok, now.Add(16*time.Minute)); err == nil {
		t.Error("expired token accepted")
	}
	other, _ := NewSigner([]byte(strings.Repeat("x", 32)))
	if _, err := other.Verify(tok, now); err == nil {
		t.Error("token signed with another key accepted")
	}
	if _, err := s.Verify(tok[:len(tok)-2]+"AA", now); err == nil {
		t.Error("tampered token accepted")
	}
}

// TestSigner_ExpiryIsTheTokensOwn checks the expiry Issue reports (the
// expiresAt clients time their refresh by) is the one in the token: a JWT
// expiry has whole seconds, so a sub-second now must not report it later.
func TestSigner_ExpiryIsTheTokensOwn(t *testing.T) {
	s, err := NewSigner([]byte(strings.Repeat("k", 32)))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 3, 1, 12, 0, 0, 605840594, time.UTC)
	tok, exp, err := s.Issue("usr_1", "ses_1", now, 15*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	c, err := s.Verify(tok, now)
	if err != nil {
		t.Fatal(err)
	}
	if !exp.Equal(c.ExpiresAt.Time) {
		t.Errorf("reported expiry %v, token expires at %v", exp, c.ExpiresAt.Time)
	}
}

func TestRefreshToken_CarriesSession(t *testing.T) {
	tok := NewRefreshToken("ses_abc")
	sid, ok := SplitRefreshToken(tok)
	if !ok || sid != "ses_abc" {
		t.Fatalf("split = %q %v", sid, ok)
	}
	if HashToken(tok) == HashToken(NewRefreshToken("ses_abc")) {
		t.Error("two refresh tokens hash alike")
	}
}
