package app

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"time"

	"github.com/carecircle/carecircle"
	"github.com/carecircle/carecircle/internal/events"
	"github.com/carecircle/carecircle/internal/jobs"
	"github.com/carecircle/carecircle/internal/notify"
	"github.com/carecircle/carecircle/internal/push"
	"github.com/carecircle/carecircle/internal/storage"
)

// loadVAPIDKeys returns the Web Push key pair: VAPID_PUBLIC_KEY and
// VAPID_PRIVATE_KEY when set; otherwise, embedded, a pair generated on first
// start and kept under DATA_DIR; scaled out, a pair kept in the database so
// every instance signs with the same key browsers subscribed to.
func (a *App) loadVAPIDKeys(ctx context.Context) (push.Keys, error) {
	if !a.Cfg.ScaleOut || a.Cfg.VAPIDPublicKey != "" || a.Cfg.VAPIDPrivateKey != "" {
		k, err := push.LoadOrCreateKeys(filepath.Join(a.Cfg.SecretsDir(), "vapid.json"), a.Cfg.VAPIDPublicKey, a.Cfg.VAPIDPrivateKey)
		if err != nil {
			return k, fmt.Errorf("vapid keys: %w", err)
		}
		return k, nil
	}
	raw, err := a.DB.SharedSecret(ctx, "vapid", func() (string, error) {
		k, err := push.GenerateKeys()
		if err != nil {
			return "", err
		}
		b, err := json.Marshal(k)
		return string(b), err
	})
	if err != nil {
		return push.Keys{}, fmt.Errorf("vapid keys: %w", err)
	}
	var k push.Keys
	if err := json.Unmarshal([]byte(raw), &k); err != nil {
		return k, fmt.Errorf("vapid keys in the database: %w", err)
	}
	if err := k.Validate(); err != nil {
		return k, fmt.Errorf("vapid keys in the database: %w", err)
	}
	return k, nil
}

// setupNotifications builds the job runner and the notification pipeline
// and subscribes its two consumers. Every process runs them: the jobs table
// and the shared consumer groups split the work between instances.
func (a *App) setupNotifications(keys push.Keys, opts Options) error {
	mailer, err := newMailSender(a.Cfg, a.Logger)
	if err != nil {
		return err
	}
	a.Jobs = jobs.New(a.DB, a.Clock, jobs.Options{Logger: a.Logger, Metrics: jobs.NewMetrics(a.Registry, a.DB)})
	a.Notify = notify.New(notify.Config{
		DB: a.DB, Runner: a.Jobs, Clock: a.Clock, Logger: a.Logger,
		Push: push.NewSender(keys, a.Cfg.VAPIDSubject, opts.PushClient), Mail: mailer,
		BaseURL: a.Cfg.BaseURL, Registerer: a.Registry,
	})
	a.Bus.Subscribe("notifications", events.Shared, observe("notifications", a.Notify.HandleEvent, opts.OnEventHandled))
	a.Bus.Subscribe("reminders", events.Shared, observe("reminders", a.Notify.PlanEvent, opts.OnEventHandled))
	a.runJobs = !a.Cfg.DisableJobs && !opts.DisableJobs
	if a.Vault != nil {
		// Files of deleted documents whose removal failed are retried hourly.
		a.Jobs.Register(jobs.Kind{Name: "document-sweep", Handler: func(ctx context.Context, _ *storage.Job) error {
			n, err := a.Vault.Sweep(ctx, a.DB, 500)
			if n > 0 {
				a.Logger.Info("removed files of deleted documents", "count", n)
			}
			return err
		}})
		a.Jobs.Every("document-sweep", time.Hour, 17*time.Minute)
	}
	return nil
}

// observe reports each handled event to hook, when there is one.
func observe(group string, h events.Handler, hook func(string, carecircle.Event, error)) events.Handler {
	if hook == nil {
		return h
	}
	return func(ctx context.Context, e carecircle.Event) error {
		err := h(ctx, e)
		hook(group, e, err)
		return err
	}
}
