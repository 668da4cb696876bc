package mail

import (
	"context"
	"log/slog"
)

// Log is the sender used when no SMTP server is configured: it writes each
// message, full text body included, to the log at INFO, so a self-hoster can
// still copy a verification, reset or invite link and finish the flow.
type Log struct {
	logger *slog.Logger
}

// NewLog returns a sender writing to logger (slog.Default when nil).
func NewLog(logger *slog.Logger) *Log {
	if logger == nil {
		logger = slog.Default()
	}
	return &Log{logger: logger}
}

// Send logs m and never fails.
func (l *Log) Send(ctx context.Context, m Message) error {
	l.logger.InfoContext(ctx, "email not sent (SMTP_HOST is not set); message follows",
		slog.String("to", m.To),
		slog.String("subject", m.Subject),
		slog.String("text", m.Text))
	return nil
}
