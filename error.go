// Package carecircle holds the domain of CareCircle: the types a family works
// with, their validation rules, and the error codes every layer shares. It
// imports no driver; storage, HTTP, events and jobs live in sub-packages that
// point inward to this one.
package carecircle

import (
	"errors"
	"fmt"
)

// Error codes. The HTTP layer maps each to one status code.
const (
	EINVALID      = "invalid"      // 400: bad input; Fields names each problem
	EUNAUTHORIZED = "unauthorized" // 401: not signed in, or session revoked
	EFORBIDDEN    = "forbidden"    // 403: signed in, role too low
	ENOTFOUND     = "not_found"    // 404: missing, or in a family the caller is not in
	ECONFLICT     = "conflict"     // 409: state forbids it (already logged, last admin, ...)
	EGONE         = "gone"         // 410: expired (invite, reset token)
	ETOOLARGE     = "too_large"    // 413
	EUNSUPPORTED  = "unsupported"  // 415: media type not allowed
	ERATELIMITED  = "rate_limited" // 429
	EUNAVAILABLE  = "unavailable"  // 503: a dependency is down
	EINTERNAL     = "internal"     // 500: a bug or an outage; never for bad input
)

// Error is the application error. Message is safe to show a user; Fields,
// when set, holds one message per invalid field ("dosage should not be empty").
// Detail carries a structured payload some conflicts return (the existing dose
// log, when the next dose is allowed).
type Error struct {
	Code    string
	Message string
	Fields  []string
	Detail  any
}

func (e *Error) Error() string {
	if len(e.Fields) > 0 {
		return fmt.Sprintf("carecircle: %s: %v", e.Code, e.Fields)
	}
	return fmt.Sprintf("carecircle: %s: %s", e.Code, e.Message)
}

// Errorf returns an *Error with the given code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Invalid returns an EINVALID error listing per-field messages.
func Invalid(fields ...string) *Error {
	return &Error{Code: EINVALID, Message: "validation failed", Fields: fields}
}

// ErrorCode returns the code of err when it is (or wraps) an *Error, and
// EINTERNAL otherwise.
func ErrorCode(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the user-facing message of err, hiding internal details.
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "internal error"
}

// Problems collects per-field validation messages; Err returns nil when there
// are none.
type Problems []string

// Add records a message for a field when cond is true.
func (p *Problems) Add(cond bool, format string, args ...any) {
	if cond {
		*p = append(*p, fmt.Sprintf(format, args...))
	}
}

// Err returns an EINVALID error carrying the collected messages, or nil.
func (p Problems) Err() error {
	if len(p) == 0 {
		return nil
	}
	return Invalid(p...)
}
