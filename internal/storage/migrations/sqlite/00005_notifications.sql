-- +goose Up
-- Background jobs (reminders, planners, notification deliveries). unique_key
-- makes scheduling idempotent: INSERT ... ON CONFLICT (unique_key) DO NOTHING
-- from any number of workers schedules a reminder once. Finished rows stay
-- until pruned (well after their run_at) so a key is never scheduled twice.
CREATE TABLE jobs (
    id           TEXT PRIMARY KEY,
    kind         TEXT NOT NULL,
    unique_key   TEXT NOT NULL UNIQUE,
    run_at       INTEGER NOT NULL,
    payload      TEXT NOT NULL DEFAULT '{}',
    state        TEXT NOT NULL CHECK (state IN ('available', 'running', 'done', 'dead')),
    attempts     INTEGER NOT NULL DEFAULT 0,
    max_attempts INTEGER NOT NULL,
    last_error   TEXT NOT NULL DEFAULT '',
    locked_by    TEXT,
    locked_until INTEGER,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
);
CREATE INDEX jobs_due ON jobs(run_at) WHERE state = 'available';
CREATE INDEX jobs_running ON jobs(locked_until) WHERE state = 'running';
CREATE INDEX jobs_finished ON jobs(run_at) WHERE state IN ('done', 'dead');
CREATE INDEX jobs_dead ON jobs(run_at) WHERE state = 'dead';

-- How far ahead the periodic planners have scheduled, so each run only
-- plans the slice after the previous one.
CREATE TABLE planner_horizons (
    name       TEXT PRIMARY KEY,
    horizon_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);

-- The in-app inbox and the record of every notice sent. source_key is the
-- event id or the job key that caused the notice: one notice per source and
-- user, so a redelivered event or a re-run job creates nothing new. Notices
-- not shown in the inbox (in_app = 0: the in-app channel is off, or an
-- emergency repeat) still carry their deliveries.
CREATE TABLE notifications (
    id                TEXT PRIMARY KEY,
    user_id           TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    family_id         TEXT NOT NULL DEFAULT '',
    care_recipient_id TEXT NOT NULL DEFAULT '',
    category          TEXT NOT NULL,
    title             TEXT NOT NULL,
    body              TEXT NOT NULL,
    url               TEXT NOT NULL DEFAULT '',
    tag               TEXT NOT NULL DEFAULT '',
    source_key        TEXT NOT NULL,
    event_id          TEXT NOT NULL DEFAULT '',
    in_app            INTEGER NOT NULL,
    urgent            INTEGER NOT NULL DEFAULT 0,
    read_at           INTEGER,
    created_at        INTEGER NOT NULL,
    UNIQUE (source_key, user_id)
);
CREATE INDEX notifications_inbox ON notifications(user_id, created_at, id) WHERE in_app = 1;
CREATE INDEX notifications_unread ON notifications(user_id) WHERE in_app = 1 AND read_at IS NULL;

-- One row per channel a notice went out on (push: one per device), with
-- its outcome: PENDING, SENT, RETRYING, DEAD (gave up after retries), GONE
-- (the device unsubscribed), SKIPPED (quiet hours).
CREATE TABLE notification_deliveries (
    id              TEXT PRIMARY KEY,
    notification_id TEXT NOT NULL REFERENCES notifications(id) ON DELETE CASCADE,
    channel         TEXT NOT NULL CHECK (channel IN ('push', 'email')),
    subscription_id TEXT NOT NULL DEFAULT '',
    status          TEXT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT NOT NULL DEFAULT '',
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);
CREATE INDEX notification_deliveries_notification ON notification_deliveries(notification_id);

-- Browsers' Web Push subscriptions. The endpoint is a capability URL: one
-- row per endpoint, owned by the user who last subscribed it.
CREATE TABLE push_subscriptions (
    id         TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    endpoint   TEXT NOT NULL UNIQUE,
    p256dh     TEXT NOT NULL,
    auth       TEXT NOT NULL,
    user_agent TEXT NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX push_subscriptions_user ON push_subscriptions(user_id);

-- A member's choices; no row means the defaults.
CREATE TABLE notification_preferences (
    user_id     TEXT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    preferences TEXT NOT NULL, -- JSON, see internal/notify/preferences.go
    updated_at  INTEGER NOT NULL
);

-- Secrets every instance must share, created by the first one that needs
-- them (the VAPID key pair in scale-out mode, when not set in the
-- environment).
CREATE TABLE app_secrets (
    name       TEXT PRIMARY KEY,
    value      TEXT NOT NULL,
    created_at INTEGER NOT NULL
);

-- +goose Down
DROP TABLE app_secrets;
DROP TABLE notification_preferences;
DROP TABLE push_subscriptions;
DROP TABLE notification_deliveries;
DROP TABLE notifications;
DROP TABLE planner_horizons;
DROP TABLE jobs;
