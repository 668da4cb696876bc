// Package testdb gives each test a fresh, migrated database of either
// dialect: a SQLite file in the test's temp dir, or a new PostgreSQL database
// (CREATE DATABASE cc_test_<random>, dropped afterwards) when
// CARECIRCLE_TEST_POSTGRES_URL is set, so runs never see each other's data.
package testdb

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/carecircle/carecircle/internal/storage"
)

// PostgresEnv names the variable holding the server URL for PostgreSQL tests.
const PostgresEnv = "CARECIRCLE_TEST_POSTGRES_URL"

// Dialects returns the dialects this run covers: SQLite always, PostgreSQL
// when its URL is set.
func Dialects() []storage.Dialect {
	d := []storage.Dialect{storage.SQLite}
	if os.Getenv(PostgresEnv) != "" {
		d = append(d, storage.Postgres)
	}
	return d
}

// Each runs fn as a subtest once per dialect, each with its own database.
func Each(t *testing.T, fn func(t *testing.T, db *storage.DB)) {
	t.Helper()
	for _, d := range Dialects() {
		t.Run(string(d), func(t *testing.T) { fn(t, Open(t, d)) })
	}
}

// Open returns a fresh migrated database of the dialect, closed and (for
// PostgreSQL) dropped when the test ends.
func Open(t testing.TB, d storage.Dialect) *storage.DB {
	t.Helper()
	u := URL(t, d)
	ctx := context.Background()
	db, err := storage.Open(ctx, u)
	if err != nil {
		t.Fatalf("open %s: %v", d, err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Migrate(ctx); err != nil {
		t.Fatalf("migrate %s: %v", d, err)
	}
	return db
}

// URL creates an empty database of the dialect and returns its URL, for
// tests that start whole servers against it.
func URL(t testing.TB, d storage.Dialect) string {
	t.Helper()
	if d == storage.SQLite {
		return filepath.Join(t.TempDir(), "carecircle.db")
	}
	base := os.Getenv(PostgresEnv)
	if base == "" {
		t.Skip(PostgresEnv + " is not set")
	}
	b := make([]byte, 6)
	rand.Read(b)
	name := "cc_test_" + hex.EncodeToString(b)
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatalf("postgres: %v", err)
	}
	defer admin.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("create test database: %v", err)
	}
	t.Cleanup(func() {
		a, err := sql.Open("pgx", base)
		if err != nil {
			return
		}
		defer a.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := a.ExecContext(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Logf("drop test database %s: %v", name, err)
		}
	})
	pu, err := url.Parse(base)
	if err != nil {
		t.Fatalf("postgres url: %v", err)
	}
	pu.Path = "/" + name
	return pu.String()
}
