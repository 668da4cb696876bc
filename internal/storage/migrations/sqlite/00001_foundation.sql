-- +goose Up
-- Times are epoch milliseconds (INTEGER) in both dialects so the same SQL and
-- the same comparisons work everywhere; calendar dates are 'YYYY-MM-DD' text.
CREATE TABLE users (
    id                TEXT PRIMARY KEY,
    email             TEXT NOT NULL UNIQUE, -- stored lower-cased
    password_hash     TEXT NOT NULL,
    full_name         TEXT NOT NULL,
    phone             TEXT NOT NULL DEFAULT '',
    timezone          TEXT NOT NULL DEFAULT 'UTC',
    email_verified_at INTEGER,
    created_at        INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL
);

CREATE TABLE sessions (
    id             TEXT PRIMARY KEY,
    user_id        TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    refresh_hash   TEXT NOT NULL UNIQUE,
    created_at     INTEGER NOT NULL,
    last_used_at   INTEGER NOT NULL,
    expires_at     INTEGER NOT NULL,
    revoked_at     INTEGER,
    revoked_reason TEXT NOT NULL DEFAULT '',
    ip_address     TEXT NOT NULL DEFAULT '',
    user_agent     TEXT NOT NULL DEFAULT ''
);
CREATE INDEX sessions_user ON sessions(user_id);

-- Refresh tokens already rotated away: presenting one again means it leaked,
-- and the session is revoked.
CREATE TABLE refresh_rotations (
    token_hash TEXT PRIMARY KEY,
    session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    rotated_at INTEGER NOT NULL
);

-- Single-use email tokens (verify, reset), stored only as hashes.
CREATE TABLE user_tokens (
    token_hash TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    purpose    TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at    INTEGER
);
CREATE INDEX user_tokens_user ON user_tokens(user_id, purpose);

CREATE TABLE families (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    created_by TEXT NOT NULL REFERENCES users(id),
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);

CREATE TABLE family_members (
    family_id TEXT NOT NULL REFERENCES families(id) ON DELETE CASCADE,
    user_id   TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    role      TEXT NOT NULL CHECK (role IN ('ADMIN', 'CAREGIVER', 'VIEWER')),
    added_at  INTEGER NOT NULL,
    PRIMARY KEY (family_id, user_id)
);
CREATE INDEX family_members_user ON family_members(user_id);

CREATE TABLE family_invites (
    id          TEXT PRIMARY KEY,
    family_id   TEXT NOT NULL REFERENCES families(id) ON DELETE CASCADE,
    email       TEXT NOT NULL,
    role        TEXT NOT NULL CHECK (role IN ('ADMIN', 'CAREGIVER', 'VIEWER')),
    token_hash  TEXT NOT NULL UNIQUE,
    invited_by  TEXT NOT NULL REFERENCES users(id),
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    accepted_at INTEGER,
    accepted_by TEXT REFERENCES users(id),
    revoked_at  INTEGER
);
CREATE INDEX family_invites_family ON family_invites(family_id);

CREATE TABLE care_recipients (
    id                  TEXT PRIMARY KEY,
    family_id           TEXT NOT NULL REFERENCES families(id) ON DELETE CASCADE,
    first_name          TEXT NOT NULL,
    last_name           TEXT NOT NULL,
    preferred_name      TEXT NOT NULL DEFAULT '',
    date_of_birth       TEXT,
    blood_type          TEXT NOT NULL DEFAULT '',
    allergies           TEXT NOT NULL DEFAULT '[]',
    conditions          TEXT NOT NULL DEFAULT '[]',
    timezone            TEXT NOT NULL,
    notes               TEXT NOT NULL DEFAULT '',
    primary_hospital    TEXT NOT NULL DEFAULT '',
    insurance           TEXT, -- JSON object or NULL
    emergency_contacts  TEXT NOT NULL DEFAULT '[]',
    doctors             TEXT NOT NULL DEFAULT '[]',
    missed_dose_minutes INTEGER NOT NULL DEFAULT 60,
    created_at          INTEGER NOT NULL,
    updated_at          INTEGER NOT NULL,
    deleted_at          INTEGER
);
CREATE INDEX care_recipients_family ON care_recipients(family_id);

-- The transactional outbox: every state change inserts its CloudEvent here in
-- the same transaction; the relay publishes rows in seq order and marks them.
CREATE TABLE events (
    seq               INTEGER PRIMARY KEY AUTOINCREMENT,
    id                TEXT NOT NULL UNIQUE,
    type              TEXT NOT NULL,
    source            TEXT NOT NULL,
    family_id         TEXT NOT NULL DEFAULT '',
    care_recipient_id TEXT NOT NULL DEFAULT '',
    actor_id          TEXT NOT NULL DEFAULT '',
    session_id        TEXT NOT NULL DEFAULT '',
    occurred_at       INTEGER NOT NULL,
    data              TEXT NOT NULL,
    relayed_at        INTEGER
);
CREATE INDEX events_unrelayed ON events(seq) WHERE relayed_at IS NULL;
CREATE INDEX events_relayed_at ON events(relayed_at);

-- +goose Down
DROP TABLE events;
DROP TABLE care_recipients;
DROP TABLE family_invites;
DROP TABLE family_members;
DROP TABLE families;
DROP TABLE user_tokens;
DROP TABLE refresh_rotations;
DROP TABLE sessions;
DROP TABLE users;
