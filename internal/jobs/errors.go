package jobs

import (
	"errors"
	"time"
)

// permanentError marks a failure retrying cannot fix.
type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

// Permanent marks err as not worth retrying: the job goes to the dead state
// at once. It returns nil for a nil err.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return &permanentError{err: err}
}

// IsPermanent reports whether err was marked Permanent.
func IsPermanent(err error) bool {
	var p *permanentError
	return errors.As(err, &p)
}

// retryAfterError asks for the next attempt no sooner than a delay (a push
// service's Retry-After).
type retryAfterError struct {
	err   error
	delay time.Duration
}

func (e *retryAfterError) Error() string { return e.err.Error() }
func (e *retryAfterError) Unwrap() error { return e.err }

// RetryAfter wraps err so the next attempt waits at least d (instead of the
// kind's backoff, when that is shorter).
func RetryAfter(d time.Duration, err error) error {
	if err == nil {
		return nil
	}
	return &retryAfterError{err: err, delay: d}
}

// againError reschedules a job for its next phase.
type againError struct {
	at      time.Time
	payload any
}

func (e *againError) Error() string { return "run again at " + e.at.Format(time.RFC3339) }

// Again tells the runner the job succeeded and must run again at at with
// payload (a multi-phase job: a dose reminder that comes back as the
// missed-dose check). Its attempts start over.
func Again(at time.Time, payload any) error { return &againError{at: at, payload: payload} }
