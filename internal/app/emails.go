package app

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/carecircle/carecircle"
	"github.com/carecircle/carecircle/internal/config"
	"github.com/carecircle/carecircle/internal/mail"
)

// emailer renders the account emails and queues them for background
// delivery: SMTP when SMTP_HOST is set, else the log, so a self-hoster can
// still follow the links.
type emailer struct {
	queue *mail.Queue
}

func newEmailer(cfg config.Config, logger *slog.Logger) (*emailer, error) {
	sender, err := newMailSender(cfg, logger)
	if err != nil {
		return nil, err
	}
	return &emailer{queue: mail.NewQueue(sender, logger, mail.QueueOptions{})}, nil
}

// newMailSender is SMTP when SMTP_HOST is set, else the log. Account emails
// go through the emailer's queue; notifications call it from their own
// retried delivery jobs.
func newMailSender(cfg config.Config, logger *slog.Logger) (mail.Sender, error) {
	if cfg.SMTPHost == "" {
		return mail.NewLog(logger), nil
	}
	s, err := mail.NewSMTP(mail.SMTPConfig{Host: cfg.SMTPHost, Port: cfg.SMTPPort, User: cfg.SMTPUser,
		Pass: cfg.SMTPPass, From: cfg.SMTPFrom, TLS: cfg.SMTPTLS})
	if err != nil {
		return nil, fmt.Errorf("smtp: %w", err)
	}
	return s, nil
}

// Send queues a ready message (notifications use it).
func (e *emailer) Send(m mail.Message) { e.queue.Enqueue(m) }

func (e *emailer) close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return e.queue.Close(ctx)
}

func (e *emailer) Verify(to, name, link string) {
	subject, text, html := mail.Verify(mail.VerifyData{Name: name, Link: link})
	e.queue.Enqueue(mail.Message{To: to, Subject: subject, Text: text, HTML: html})
}

func (e *emailer) Reset(to, name, link string) {
	subject, text, html := mail.Reset(mail.ResetData{Name: name, Link: link, ExpiresIn: "1 hour"})
	e.queue.Enqueue(mail.Message{To: to, Subject: subject, Text: text, HTML: html})
}

func (e *emailer) Invite(to, inviter, family string, role carecircle.Role, link string, exp time.Time) {
	r := strings.ToUpper(string(role[:1])) + strings.ToLower(string(role[1:]))
	subject, text, html := mail.Invite(mail.InviteData{InviterName: inviter, FamilyName: family, Role: r, Link: link,
		ExpiresAt: exp.UTC().Format("Monday, 2 January 2006")})
	e.queue.Enqueue(mail.Message{To: to, Subject: subject, Text: text, HTML: html})
}
