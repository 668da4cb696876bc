// Package auth holds the cryptography of accounts: argon2id password hashes,
// the password policy, signed access tokens and opaque random tokens.
package auth

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/trustelem/zxcvbn/frequency"
	"golang.org/x/crypto/argon2"

	"github.com/carecircle/carecircle"
)

// Argon2id parameters: OWASP's recommended minimum (19 MiB, 2 passes, 1
// lane) keeps a login under ~50 ms on a small server while staying costly to
// crack offline.
const (
	argonMemory  = 19 * 1024
	argonTime    = 2
	argonThreads = 1
	argonKeyLen  = 32
	argonSaltLen = 16
)

// HashPassword returns an encoded argon2id hash of pw in the PHC string
// format, so parameters can be raised later without breaking old hashes.
func HashPassword(pw string) (string, error) {
	salt := make([]byte, argonSaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	key := argon2.IDKey([]byte(pw), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemory, argonTime,
		argonThreads, b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// CheckPassword reports whether pw matches the encoded hash.
func CheckPassword(encoded, pw string) bool {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false
	}
	var m, t uint32
	var p uint8
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil {
		return false
	}
	b64 := base64.RawStdEncoding
	salt, err1 := b64.DecodeString(parts[4])
	want, err2 := b64.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(want) == 0 {
		return false
	}
	got := argon2.IDKey([]byte(pw), salt, t, m, p, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1
}

// dummyHash is checked when an email is unknown so that a login for a missing
// account takes as long as one with a wrong password.
var dummyHash = sync.OnceValue(func() string {
	h, _ := HashPassword("not-a-real-password-0000")
	return h
})

// BurnPasswordCheck spends the time of one password check.
func BurnPasswordCheck(pw string) { CheckPassword(dummyHash(), pw) }

// Password length bounds, in characters.
const (
	MinPasswordLen = 10
	MaxPasswordLen = 128
)

// commonPasswords is the 10,000 most common passwords from the frequency list
// zxcvbn ships (ranked from real password leaks), lower-cased.
var commonPasswords = sync.OnceValue(func() map[string]struct{} {
	list := frequency.FrequencyLists["passwords"]
	if len(list) > 10000 {
		list = list[:10000]
	}
	set := make(map[string]struct{}, len(list))
	for _, pw := range list {
		set[strings.ToLower(pw)] = struct{}{}
	}
	return set
})

// IsCommonPassword reports whether pw is among the 10,000 most common.
func IsCommonPassword(pw string) bool {
	_, ok := commonPasswords()[strings.ToLower(pw)]
	return ok
}

// CheckPasswordPolicy returns the problem with pw for the named field, or "".
func CheckPasswordPolicy(field, pw string) string {
	n := utf8.RuneCountInString(pw)
	switch {
	case pw == "":
		return field + " should not be empty"
	case n < MinPasswordLen:
		return fmt.Sprintf("%s must be at least %d characters", field, MinPasswordLen)
	case n > MaxPasswordLen:
		return fmt.Sprintf("%s must be at most %d characters", field, MaxPasswordLen)
	case IsCommonPassword(pw):
		return field + " is too common; choose a less guessable password"
	}
	return ""
}

// ValidatePassword wraps CheckPasswordPolicy as a validation error.
func ValidatePassword(field, pw string) error {
	if msg := CheckPasswordPolicy(field, pw); msg != "" {
		return carecircle.Invalid(msg)
	}
	return nil
}
