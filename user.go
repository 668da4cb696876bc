package carecircle

import (
	"net/mail"
	"strings"
	"time"
)

// User is a person with an account. A user may belong to several families.
type User struct {
	ID            string    `json:"id"`
	Email         string    `json:"email"`
	FullName      string    `json:"fullName"`
	Phone         string    `json:"phone"`
	Timezone      string    `json:"timezone"`
	EmailVerified bool      `json:"emailVerified"`
	CreatedAt     time.Time `json:"createdAt"`
}

// Me is the signed-in user with their families, as GET /auth/me returns it.
type Me struct {
	User
	Families []MyFamily `json:"families"`
}

// MyFamily is one of the caller's families and their role in it.
type MyFamily struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	Role Role   `json:"role"`
}

// Session is one signed-in device.
type Session struct {
	ID         string    `json:"id"`
	UserID     string    `json:"-"`
	CreatedAt  time.Time `json:"createdAt"`
	LastUsedAt time.Time `json:"lastUsedAt"`
	ExpiresAt  time.Time `json:"expiresAt"`
	IP         string    `json:"ipAddress"`
	UserAgent  string    `json:"userAgent"`
	Current    bool      `json:"current"`
}

// Token lifetimes.
const (
	AccessTokenTTL  = 15 * time.Minute
	RefreshTokenTTL = 30 * 24 * time.Hour
	ResetTokenTTL   = time.Hour
	VerifyTokenTTL  = 48 * time.Hour
)

// NormalizeEmail lower-cases and trims an address; emails compare
// case-insensitively everywhere.
func NormalizeEmail(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// ValidateEmail checks an address for the named field.
func ValidateEmail(field, s string) string {
	e := NormalizeEmail(s)
	if e == "" {
		return field + " should not be empty"
	}
	addr, err := mail.ParseAddress(e)
	if err != nil || addr.Address != e || len(e) > 254 || !strings.Contains(e[strings.LastIndex(e, "@")+1:], ".") {
		return field + " must be an email"
	}
	return ""
}

// ValidateTimezone checks an IANA time zone name for the named field and
// returns the location.
func ValidateTimezone(field, name string) (*time.Location, string) {
	if name == "" {
		return nil, field + " should not be empty"
	}
	if name == "Local" || strings.ContainsAny(name, " \\") || len(name) > 64 {
		return nil, field + " must be a valid IANA time zone"
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, field + " must be a valid IANA time zone"
	}
	return loc, ""
}

// ValidateFullName checks a person's display name.
func ValidateFullName(field, s string) string {
	n := strings.TrimSpace(s)
	switch {
	case n == "":
		return field + " should not be empty"
	case len(n) > 100:
		return field + " must be at most 100 characters"
	}
	return ""
}

// ValidatePhone accepts an empty value or a phone number of digits, spaces
// and + ( ) - . separators.
func ValidatePhone(field, s string) string {
	if s == "" {
		return ""
	}
	digits := 0
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			digits++
		case strings.ContainsRune("+()-. ", r):
		default:
			return field + " must be a phone number"
		}
	}
	if digits < 3 || digits > 20 || len(s) > 32 {
		return field + " must be a phone number"
	}
	return ""
}
