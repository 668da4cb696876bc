-- +goose Up
-- How far each durable consumer has read the outbox (embedded mode, where
-- the outbox itself is the event log and SQLite commits in seq order).
CREATE TABLE consumer_offsets (
    consumer   TEXT PRIMARY KEY,
    seq        BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- The append-only audit log: who did what to which resource, when, and from
-- which session. One row per event (event_id is unique), so a redelivered
-- event changes nothing.
CREATE TABLE audit_log (
    id                TEXT PRIMARY KEY,
    event_id          TEXT NOT NULL UNIQUE,
    family_id         TEXT NOT NULL,
    care_recipient_id TEXT NOT NULL DEFAULT '',
    actor_id          TEXT NOT NULL DEFAULT '',
    actor_name        TEXT NOT NULL DEFAULT '',
    session_id        TEXT NOT NULL DEFAULT '',
    action            TEXT NOT NULL,
    resource_type     TEXT NOT NULL,
    resource_id       TEXT NOT NULL DEFAULT '',
    summary           TEXT NOT NULL DEFAULT '',
    data              TEXT NOT NULL,
    occurred_at       BIGINT NOT NULL,
    recorded_at       BIGINT NOT NULL
);
CREATE INDEX audit_log_family ON audit_log(family_id, occurred_at);

-- +goose Down
DROP TABLE audit_log;
DROP TABLE consumer_offsets;
