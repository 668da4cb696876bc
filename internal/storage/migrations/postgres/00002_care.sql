-- +goose Up
-- Care data. Every row carries family_id and care_recipient_id so scoping by
-- the caller's membership is one join (see storage/access.go).
CREATE TABLE medications (
    id                   TEXT PRIMARY KEY,
    family_id            TEXT NOT NULL REFERENCES families(id) ON DELETE CASCADE,
    care_recipient_id    TEXT NOT NULL REFERENCES care_recipients(id) ON DELETE CASCADE,
    name                 TEXT NOT NULL,
    dosage               TEXT NOT NULL,
    frequency            TEXT NOT NULL,
    times                TEXT NOT NULL DEFAULT '[]', -- JSON ["08:00", ...] in the recipient's zone
    days_of_week         TEXT NOT NULL DEFAULT '[]', -- JSON [0..6], Sunday = 0 (WEEKLY)
    instructions         TEXT NOT NULL DEFAULT '',
    prescribed_by        TEXT NOT NULL DEFAULT '',
    current_supply       INTEGER,
    refill_threshold     INTEGER,
    refill_alerted       INTEGER NOT NULL DEFAULT 0, -- 1 once refill_needed fired, until supply rises above the threshold
    start_date           TEXT,
    end_date             TEXT,
    min_interval_minutes INTEGER,
    max_doses_per_24h    INTEGER,
    deactivated_at       BIGINT,
    created_by           TEXT NOT NULL REFERENCES users(id),
    created_at           BIGINT NOT NULL,
    updated_at           BIGINT NOT NULL
);
CREATE INDEX medications_recipient ON medications(care_recipient_id);

-- A dose is a medication plus its scheduled instant, and it is logged at most
-- once: the unique constraint is what stops a double dose when two
-- caregivers press "Given" together.
CREATE TABLE medication_logs (
    id                TEXT PRIMARY KEY,
    family_id         TEXT NOT NULL REFERENCES families(id) ON DELETE CASCADE,
    care_recipient_id TEXT NOT NULL REFERENCES care_recipients(id) ON DELETE CASCADE,
    medication_id     TEXT NOT NULL REFERENCES medications(id) ON DELETE CASCADE,
    status            TEXT NOT NULL CHECK (status IN ('GIVEN', 'SKIPPED', 'MISSED')),
    scheduled_at      BIGINT NOT NULL,
    logged_at         BIGINT NOT NULL,
    logged_by         TEXT NOT NULL REFERENCES users(id),
    notes             TEXT NOT NULL DEFAULT '',
    updated_at        BIGINT NOT NULL,
    updated_by        TEXT REFERENCES users(id),
    UNIQUE (medication_id, scheduled_at)
);
CREATE INDEX medication_logs_recipient ON medication_logs(care_recipient_id, scheduled_at);

CREATE TABLE appointments (
    id                TEXT PRIMARY KEY,
    family_id         TEXT NOT NULL REFERENCES families(id) ON DELETE CASCADE,
    care_recipient_id TEXT NOT NULL REFERENCES care_recipients(id) ON DELETE CASCADE,
    title             TEXT NOT NULL,
    start_at          BIGINT NOT NULL,
    end_at            BIGINT,
    location          TEXT NOT NULL DEFAULT '',
    doctor_name       TEXT NOT NULL DEFAULT '',
    notes             TEXT NOT NULL DEFAULT '',
    assigned_to       TEXT REFERENCES users(id),
    recurrence        TEXT NOT NULL DEFAULT '', -- RRULE, expanded in the recipient's zone
    reminders         TEXT NOT NULL DEFAULT '[1440,60]', -- JSON minutes before start
    status            TEXT NOT NULL DEFAULT 'SCHEDULED' CHECK (status IN ('SCHEDULED', 'CANCELLED')),
    cancelled_at      BIGINT,
    sequence          INTEGER NOT NULL DEFAULT 0, -- iCalendar SEQUENCE
    created_by        TEXT NOT NULL REFERENCES users(id),
    created_at        BIGINT NOT NULL,
    updated_at        BIGINT NOT NULL
);
CREATE INDEX appointments_recipient ON appointments(care_recipient_id, start_at);

-- Secret tokens for subscribable iCalendar feeds, per user and recipient,
-- stored as hashes.
CREATE TABLE calendar_tokens (
    token_hash        TEXT PRIMARY KEY,
    user_id           TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    care_recipient_id TEXT NOT NULL REFERENCES care_recipients(id) ON DELETE CASCADE,
    created_at        BIGINT NOT NULL,
    revoked_at        BIGINT
);
CREATE INDEX calendar_tokens_user ON calendar_tokens(user_id, care_recipient_id);

CREATE TABLE timeline_entries (
    id                TEXT PRIMARY KEY,
    family_id         TEXT NOT NULL REFERENCES families(id) ON DELETE CASCADE,
    care_recipient_id TEXT NOT NULL REFERENCES care_recipients(id) ON DELETE CASCADE,
    type              TEXT NOT NULL,
    content           TEXT NOT NULL,
    severity          TEXT,
    occurred_at       BIGINT NOT NULL,
    vitals            TEXT, -- JSON object or NULL
    author_id         TEXT NOT NULL REFERENCES users(id),
    created_at        BIGINT NOT NULL,
    updated_at        BIGINT NOT NULL
);
CREATE INDEX timeline_recipient ON timeline_entries(care_recipient_id, occurred_at);

CREATE TABLE shifts (
    id                TEXT PRIMARY KEY,
    family_id         TEXT NOT NULL REFERENCES families(id) ON DELETE CASCADE,
    care_recipient_id TEXT NOT NULL REFERENCES care_recipients(id) ON DELETE CASCADE,
    caregiver_id      TEXT NOT NULL REFERENCES users(id),
    start_at          BIGINT NOT NULL,
    end_at            BIGINT NOT NULL,
    notes             TEXT NOT NULL DEFAULT '',
    checked_in_at     BIGINT,
    checked_out_at    BIGINT,
    handoff_notes     TEXT NOT NULL DEFAULT '',
    created_by        TEXT NOT NULL REFERENCES users(id),
    created_at        BIGINT NOT NULL,
    updated_at        BIGINT NOT NULL
);
CREATE INDEX shifts_recipient ON shifts(care_recipient_id, start_at);
CREATE INDEX shifts_caregiver ON shifts(caregiver_id, start_at);

CREATE TABLE emergency_alerts (
    id                TEXT PRIMARY KEY,
    family_id         TEXT NOT NULL REFERENCES families(id) ON DELETE CASCADE,
    care_recipient_id TEXT NOT NULL REFERENCES care_recipients(id) ON DELETE CASCADE,
    type              TEXT NOT NULL,
    description       TEXT NOT NULL,
    location          TEXT NOT NULL DEFAULT '',
    status            TEXT NOT NULL CHECK (status IN ('ACTIVE', 'ACKNOWLEDGED', 'RESOLVED')),
    triggered_by      TEXT NOT NULL REFERENCES users(id),
    created_at        BIGINT NOT NULL,
    acknowledged_at   BIGINT,
    acknowledged_by   TEXT REFERENCES users(id),
    resolved_at       BIGINT,
    resolved_by       TEXT REFERENCES users(id),
    resolution_notes  TEXT NOT NULL DEFAULT '',
    updated_at        BIGINT NOT NULL
);
CREATE INDEX emergency_alerts_recipient ON emergency_alerts(care_recipient_id, created_at);

-- Everyone who acknowledged an alert, and when (the first one also sets the
-- alert's acknowledged_at/by).
CREATE TABLE alert_acknowledgements (
    alert_id        TEXT NOT NULL REFERENCES emergency_alerts(id) ON DELETE CASCADE,
    user_id         TEXT NOT NULL REFERENCES users(id),
    acknowledged_at BIGINT NOT NULL,
    PRIMARY KEY (alert_id, user_id)
);

-- +goose Down
DROP TABLE alert_acknowledgements;
DROP TABLE emergency_alerts;
DROP TABLE shifts;
DROP TABLE timeline_entries;
DROP TABLE calendar_tokens;
DROP TABLE appointments;
DROP TABLE medication_logs;
DROP TABLE medications;
