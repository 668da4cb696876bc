package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// SharedSecret returns the secret stored under name, creating it with
// generate if no instance has yet. Instances starting together agree on the
// first one stored.
func (db *DB) SharedSecret(ctx context.Context, name string, generate func() (string, error)) (string, error) {
	read := func() (string, error) {
		var v string
		err := db.w.QueryRowContext(ctx, `SELECT value FROM app_secrets WHERE name = $1`, name).Scan(&v)
		return v, err
	}
	v, err := read()
	if err == nil {
		return v, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("read secret %s: %w", name, err)
	}
	fresh, err := generate()
	if err != nil {
		return "", err
	}
	now, _ := db.now()
	if _, err := db.w.ExecContext(ctx, `INSERT INTO app_secrets (name, value, created_at) VALUES ($1, $2, $3)
		ON CONFLICT (name) DO NOTHING`, name, fresh, now); err != nil {
		return "", fmt.Errorf("store secret %s: %w", name, err)
	}
	if v, err = read(); err != nil {
		return "", fmt.Errorf("read secret %s: %w", name, err)
	}
	return v, nil
}
