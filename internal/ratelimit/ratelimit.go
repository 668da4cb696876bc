// Package ratelimit caps how often something may happen per key: sign-in,
// registration and password-reset attempts per client address and per email.
// Both limiters use a sliding-window log: a key may make at most limit
// attempts in any span of one window, and a denied attempt is told exactly
// when the oldest counted attempt leaves the window. Memory keeps the log in
// the process (embedded mode); Redis keeps it in Redis so every instance
// shares one count (scale-out mode).
package ratelimit

import (
	"context"
	"time"
)

// Limiter decides whether one more attempt for key is allowed now. Allowed
// attempts are counted; denied ones are not, so someone hammering a key
// does not push its reset further out.
//
// When denied, retryAfter is how long until the next attempt would be
// allowed: greater than zero and at most the window.
//
// When the backing store is unreachable Allow returns an error and the
// caller decides. CareCircle's HTTP layer fails open: it logs the error and
// lets the request through, because locking every family out of sign-in
// during a Redis outage is worse than briefly losing throttling, and each
// password guess still costs an argon2 hash.
type Limiter interface {
	Allow(ctx context.Context, key string) (ok bool, retryAfter time.Duration, err error)
}

// unlimited allows everything; it is what a limit of 0 builds.
type unlimited struct{}

func (unlimited) Allow(context.Context, string) (bool, time.Duration, error) { return true, 0, nil }

// RetryAfterSeconds rounds d up to whole seconds, at least 1, for a
// Retry-After header.
func RetryAfterSeconds(d time.Duration) int {
	s := int((d + time.Second - 1) / time.Second)
	return max(s, 1)
}
