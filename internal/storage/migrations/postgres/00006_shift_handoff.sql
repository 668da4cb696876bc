-- +goose Up
-- A shift shows the handoff of the latest check-out among its recipient's
-- earlier shifts; this index finds it without reading the recipient's whole
-- shift history for every listed shift.
CREATE INDEX shifts_handoff ON shifts(care_recipient_id, checked_out_at) WHERE checked_out_at IS NOT NULL;

-- +goose Down
DROP INDEX shifts_handoff;
