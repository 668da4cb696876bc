package app

import (
	"context"
	"log/slog"
	"time"

	"github.com/carecircle/carecircle"
	"github.com/carecircle/carecircle/internal/config"
)

// emailer renders and queues the account emails (interim: logs them).
type emailer struct {
	logger *slog.Logger
}

func newEmailer(cfg config.Config, logger *slog.Logger) *emailer {
	return &emailer{logger: logger}
}

func (e *emailer) run(ctx context.Context) error { <-ctx.Done(); return nil }

func (e *emailer) Verify(to, name, link string) {
	e.logger.Info("email", "to", to, "subject", "Confirm your email", "link", link)
}

func (e *emailer) Reset(to, name, link string) {
	e.logger.Info("email", "to", to, "subject", "Reset your password", "link", link)
}

func (e *emailer) Invite(to, inviter, family string, role carecircle.Role, link string, exp time.Time) {
	e.logger.Info("email", "to", to, "subject", "Invitation to "+family, "link", link)
}
