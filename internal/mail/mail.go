// Package mail sends CareCircle's email: account verification, password
// reset, family invites and notifications. A Sender delivers one Message; SMTP
// talks to a real server and Log writes the message to the log for self-hosters
// without SMTP. Queue wraps a Sender so requests never wait on, or fail
// because of, a mail server: messages are sent in the background with retries.
package mail

import (
	"context"
	"errors"
)

// Message is one email to one recipient. Text is required; HTML is optional
// and, when set, is sent as the multipart/alternative companion of Text.
type Message struct {
	To      string
	Subject string
	Text    string
	HTML    string
}

// Sender delivers a message. Implementations honour ctx and return an error
// wrapped with Permanent when retrying cannot help (a rejected recipient, a
// malformed address).
type Sender interface {
	Send(ctx context.Context, m Message) error
}

// permanentError marks a failure that will not go away by retrying.
type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

// Permanent marks err as not worth retrying; Queue gives up on it at once.
// It returns nil for a nil err.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return &permanentError{err: err}
}

// IsPermanent reports whether err (or an error it wraps) was marked Permanent.
func IsPermanent(err error) bool {
	var p *permanentError
	return errors.As(err, &p)
}
