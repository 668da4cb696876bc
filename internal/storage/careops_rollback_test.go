package storage

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/carecircle/carecircle"
)

// This file is an internal test (it calls the transaction-level writers), so
// it can't use internal/testdb, which imports this package; careopsDB is the
// same recipe: a SQLite file, or a fresh PostgreSQL database dropped after.

func careopsDialects() []Dialect {
	if os.Getenv("CARECIRCLE_TEST_POSTGRES_URL") != "" {
		return []Dialect{SQLite, Postgres}
	}
	return []Dialect{SQLite}
}

func careopsDB(t *testing.T, d Dialect) *DB {
	t.Helper()
	ctx := context.Background()
	u := filepath.Join(t.TempDir(), "carecircle.db")
	if d == Postgres {
		base := os.Getenv("CARECIRCLE_TEST_POSTGRES_URL")
		b := make([]byte, 6)
		rand.Read(b)
		name := "cc_test_" + hex.EncodeToString(b)
		admin, err := sql.Open("pgx", base)
		if err != nil {
			t.Fatalf("postgres: %v", err)
		}
		defer admin.Close()
		if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
			t.Fatalf("create test database: %v", err)
		}
		t.Cleanup(func() {
			a, err := sql.Open("pgx", base)
			if err != nil {
				return
			}
			defer a.Close()
			if _, err := a.ExecContext(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
				t.Logf("drop test database %s: %v", name, err)
			}
		})
		pu, err := url.Parse(base)
		if err != nil {
			t.Fatalf("postgres url: %v", err)
		}
		pu.Path = "/" + name
		u = pu.String()
	}
	db, err := Open(ctx, u)
	if err != nil {
		t.Fatalf("open %s: %v", d, err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Migrate(ctx); err != nil {
		t.Fatalf("migrate %s: %v", d, err)
	}
	return db
}

// careopsFamily creates a user, their family and a care recipient, and
// returns a context acting as that user (the family's ADMIN).
func careopsFamily(t *testing.T, db *DB) (ctx context.Context, familyID, recipientID, userID string) {
	t.Helper()
	ctx = context.Background()
	u, _, err := db.Register(ctx, NewAccount{Email: carecircle.NewID("") + "@example.com", PasswordHash: "x", FullName: "Ada Admin", Timezone: "UTC"}, SessionMeta{})
	if err != nil {
		t.Fatalf("register: %v", err)
	}
	ctx = carecircle.WithActor(ctx, carecircle.Actor{UserID: u.ID, Name: u.FullName})
	f, err := db.CreateFamily(ctx, "Rollback family")
	if err != nil {
		t.Fatalf("create family: %v", err)
	}
	cr, err := db.CreateRecipient(ctx, carecircle.CareRecipient{FamilyID: f.ID, FirstName: "Dad", LastName: "Test", Timezone: "UTC"})
	if err != nil {
		t.Fatalf("create recipient: %v", err)
	}
	return ctx, f.ID, cr.ID, u.ID
}

func TestCareWrites_FailingWriteLeavesNoRowAndNoEvent(t *testing.T) {
	for _, d := range careopsDialects() {
		t.Run(string(d), func(t *testing.T) {
			db := careopsDB(t, d)
			ctx, familyID, rid, uid := careopsFamily(t, db)
			start := time.Now().Add(time.Hour).Truncate(time.Hour)
			cases := []struct {
				name, event, table string
				write              func(tx *Tx) error
			}{
				{"timeline entry", carecircle.EventTimelineCreated, "timeline_entries", func(tx *Tx) error {
					_, err := createTimelineEntry(ctx, tx, rid, carecircle.TimelineEntry{Type: carecircle.TimelineNote, Content: "Slept well"})
					return err
				}},
				{"shift", carecircle.EventShiftCreated, "shifts", func(tx *Tx) error {
					_, err := createShift(ctx, tx, rid, carecircle.Shift{Caregiver: carecircle.MemberRef{ID: uid}, StartTime: start, EndTime: start.Add(8 * time.Hour)})
					return err
				}},
				{"emergency alert", carecircle.EventAlertCreated, "emergency_alerts", func(tx *Tx) error {
					_, err := raiseAlert(ctx, tx, carecircle.EmergencyAlert{CareRecipientID: rid, Type: carecircle.AlertFall, Description: "Fell"})
					return err
				}},
			}
			count := func(table, event string) (rows, events int) {
				t.Helper()
				if err := db.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM `+table).Scan(&rows); err != nil {
					t.Fatalf("count %s: %v", table, err)
				}
				evs, err := db.EventsFor(ctx, familyID)
				if err != nil {
					t.Fatalf("events: %v", err)
				}
				for _, e := range evs {
					if e.Type == event {
						events++
					}
				}
				return rows, events
			}
			for _, c := range cases {
				boom := errors.New("injected failure after the change and its event were written")
				err := db.write(ctx, func(tx *Tx) error {
					if err := c.write(tx); err != nil {
						return err
					}
					if len(tx.events) != 1 || tx.events[0].Type != c.event {
						t.Errorf("%s: transaction recorded %v, want one %s", c.name, tx.events, c.event)
					}
					return boom
				})
				if !errors.Is(err, boom) {
					t.Fatalf("%s: write returned %v, want the injected failure", c.name, err)
				}
				if rows, events := count(c.table, c.event); rows != 0 || events != 0 {
					t.Errorf("%s: after a failed write %d rows and %d %s events remain, want none", c.name, rows, events, c.event)
				}
				if err := db.write(ctx, c.write); err != nil {
					t.Fatalf("%s: %v", c.name, err)
				}
				if rows, events := count(c.table, c.event); rows != 1 || events != 1 {
					t.Errorf("%s: after a successful write %d rows and %d %s events, want 1 and 1", c.name, rows, events, c.event)
				}
			}
		})
	}
}
