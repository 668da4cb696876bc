package push

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// ErrGone means the push service no longer knows the subscription (404 or
// 410): the browser unsubscribed or the subscription expired. The caller
// deletes it.
var ErrGone = errors.New("push subscription is gone")

// ErrPayloadTooLarge means the message does not fit one Web Push record
// (MaxPayloadSize bytes of JSON). Shorten the body.
var ErrPayloadTooLarge = errors.New("push payload too large")

// ErrDisallowedAddress means the default client refused to connect because
// the endpoint resolved to a loopback, private or otherwise internal address.
var ErrDisallowedAddress = errors.New("push endpoint resolves to a disallowed address")

// StatusError is a push service's refusal of a message.
type StatusError struct {
	Host       string        // push service host, e.g. fcm.googleapis.com
	StatusCode int           // HTTP status the push service answered
	RetryAfter time.Duration // from the Retry-After header; 0 when absent
	Reason     string        // start of the response body, for diagnostics
}

func (e *StatusError) Error() string {
	msg := fmt.Sprintf("push service %s answered %d %s", e.Host, e.StatusCode, http.StatusText(e.StatusCode))
	if e.RetryAfter > 0 {
		msg += fmt.Sprintf(" (retry after %s)", e.RetryAfter)
	}
	if e.Reason != "" {
		msg += ": " + e.Reason
	}
	return msg
}

// Is makes errors.Is(err, ErrGone) true for 404 and 410.
func (e *StatusError) Is(target error) bool {
	return target == ErrGone && (e.StatusCode == http.StatusNotFound || e.StatusCode == http.StatusGone)
}

// Retryable reports whether the push service asked us to come back later
// (429) or failed itself (5xx).
func (e *StatusError) Retryable() bool {
	return e.StatusCode == http.StatusTooManyRequests || e.StatusCode >= 500
}

// transportError is a failure to get any answer from the push service
// (DNS, connection, TLS, timeout); the message may still be deliverable.
type transportError struct {
	host string
	err  error
}

func (e *transportError) Error() string {
	return fmt.Sprintf("send push to %s: %v", e.host, e.err)
}

func (e *transportError) Unwrap() error   { return e.err }
func (e *transportError) Retryable() bool { return true }

// IsRetryable reports whether sending the same message again later may
// succeed: the push service answered 429 or 5xx, or could not be reached
// (including a cancelled context, since the message was not delivered).
func IsRetryable(err error) bool {
	var r interface{ Retryable() bool }
	return errors.As(err, &r) && r.Retryable()
}

// RetryAfter returns how long the push service asked us to wait before
// retrying, and whether it said so at all.
func RetryAfter(err error) (time.Duration, bool) {
	var se *StatusError
	if errors.As(err, &se) && se.RetryAfter > 0 {
		return se.RetryAfter, true
	}
	return 0, false
}

// maxReason bounds how much of a push service's error body we keep.
const maxReason = 256

// classify turns a push service response into Send's result and drains the
// body so the connection can be reused.
func classify(host string, resp *http.Response, now time.Time) error {
	defer io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	switch resp.StatusCode {
	case http.StatusOK, http.StatusCreated, http.StatusAccepted:
		return nil
	}
	reason, _ := io.ReadAll(io.LimitReader(resp.Body, maxReason))
	return &StatusError{
		Host:       host,
		StatusCode: resp.StatusCode,
		RetryAfter: parseRetryAfter(resp.Header.Get("Retry-After"), now),
		Reason:     printable(string(reason)),
	}
}

// parseRetryAfter reads delta-seconds or an HTTP date (RFC 9110 §10.2.3).
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs <= 0 {
			return 0
		}
		// Cap before multiplying so a huge value cannot overflow.
		return time.Duration(min(secs, int64(365*24*time.Hour/time.Second))) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now).Round(time.Second)
	}
	return 0
}

// printable keeps an untrusted response body safe to put in a log line.
func printable(s string) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsPrint(r) {
			return r
		}
		return ' '
	}, s)
	return strings.TrimSpace(s)
}
