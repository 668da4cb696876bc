-- +goose Up
-- The document vault. Files are stored encrypted outside the database (a
-- local directory or an S3 bucket) under storage_key; each family's data key
-- is kept here only wrapped by the server's master key, so rotating the
-- master key rewraps these rows and leaves the files alone.
CREATE TABLE family_keys (
    family_id   TEXT PRIMARY KEY REFERENCES families(id) ON DELETE CASCADE,
    wrapped_key TEXT NOT NULL, -- base64 of the AES-256 data key sealed by the master key
    created_at  BIGINT NOT NULL,
    rotated_at  BIGINT
);

CREATE TABLE documents (
    id                TEXT PRIMARY KEY,
    family_id         TEXT NOT NULL REFERENCES families(id) ON DELETE CASCADE,
    care_recipient_id TEXT NOT NULL REFERENCES care_recipients(id) ON DELETE CASCADE,
    name              TEXT NOT NULL,
    file_name         TEXT NOT NULL,
    category          TEXT NOT NULL CHECK (category IN ('INSURANCE', 'MEDICAL', 'LEGAL', 'IDENTIFICATION', 'PRESCRIPTION', 'OTHER')),
    mime_type         TEXT NOT NULL,
    size_bytes        BIGINT NOT NULL,
    sha256            TEXT NOT NULL,
    storage_key       TEXT NOT NULL UNIQUE,
    expires_at        BIGINT,
    uploaded_by       TEXT NOT NULL REFERENCES users(id),
    created_at        BIGINT NOT NULL,
    updated_at        BIGINT NOT NULL,
    -- Set when the document is deleted; the row stays (invisible) until its
    -- stored object is removed, so a failed removal can be retried.
    deleted_at        BIGINT
);
CREATE INDEX documents_recipient ON documents(care_recipient_id, created_at) WHERE deleted_at IS NULL;
CREATE INDEX documents_deleted ON documents(deleted_at) WHERE deleted_at IS NOT NULL;

-- +goose Down
DROP TABLE documents;
DROP TABLE family_keys;
