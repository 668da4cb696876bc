package storage_test

import (
	"context"
	"database/sql"
	"strings"
	"testing"
	"time"

	"github.com/carecircle/carecircle"
	"github.com/carecircle/carecircle/internal/storage"
	"github.com/carecircle/carecircle/internal/testdb"
)

// refuseEvents installs a trigger that makes recording any event whose type
// is listed in refused_events fail, the way a full disk or a lost
// connection would fail it, and returns a function that sets the list.
func refuseEvents(t *testing.T, d storage.Dialect, dbURL string) func(types ...string) {
	t.Helper()
	var raw *sql.DB
	var err error
	ddl := []string{`CREATE TABLE refused_events (type TEXT PRIMARY KEY)`}
	if d == storage.Postgres {
		raw, err = sql.Open("pgx", dbURL)
		ddl = append(ddl, `CREATE FUNCTION refuse_events() RETURNS trigger LANGUAGE plpgsql AS $$
			BEGIN
				IF EXISTS (SELECT 1 FROM refused_events WHERE type = NEW.type) THEN
					RAISE EXCEPTION 'event refused by the test';
				END IF;
				RETURN NEW;
			END $$`,
			`CREATE TRIGGER refuse_events BEFORE INSERT ON events FOR EACH ROW EXECUTE FUNCTION refuse_events()`)
	} else {
		raw, err = sql.Open("sqlite", "file:"+dbURL+"?_pragma=busy_timeout(10000)")
		ddl = append(ddl, `CREATE TRIGGER refuse_events BEFORE INSERT ON events
			WHEN NEW.type IN (SELECT type FROM refused_events)
			BEGIN SELECT RAISE(ABORT, 'event refused by the test'); END`)
	}
	if err != nil {
		t.Fatalf("open database: %v", err)
	}
	t.Cleanup(func() { raw.Close() })
	ctx := context.Background()
	for _, q := range ddl {
		if _, err := raw.ExecContext(ctx, q); err != nil {
			t.Fatalf("install trigger: %v", err)
		}
	}
	return func(types ...string) {
		t.Helper()
		if _, err := raw.ExecContext(ctx, `DELETE FROM refused_events`); err != nil {
			t.Fatal(err)
		}
		for _, typ := range types {
			if _, err := raw.ExecContext(ctx, `INSERT INTO refused_events (type) VALUES ($1)`, typ); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// Every state change of timeline entries, shifts and alerts fails as a
// whole when its event can't be recorded: no change exists without its
// event.
func TestCareWrites_NoChangeWithoutItsEvent(t *testing.T) {
	for _, d := range testdb.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			ctx := context.Background()
			u := testdb.URL(t, d)
			db, err := storage.Open(ctx, u)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			if err := db.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			refuse := refuseEvents(t, d, u)

			user, _, err := db.Register(ctx, storage.NewAccount{Email: "ada@example.com", PasswordHash: "x", FullName: "Ada Admin", Timezone: "UTC"}, storage.SessionMeta{})
			if err != nil {
				t.Fatal(err)
			}
			ctx = carecircle.WithActor(ctx, carecircle.Actor{UserID: user.ID, Name: user.FullName})
			fam, err := db.CreateFamily(ctx, "Outbox")
			if err != nil {
				t.Fatal(err)
			}
			cr, err := db.CreateRecipient(ctx, carecircle.CareRecipient{FamilyID: fam.ID, FirstName: "Dad", LastName: "Test", Timezone: "UTC"})
			if err != nil {
				t.Fatal(err)
			}
			start := time.Now().Add(-time.Hour).Truncate(time.Minute)

			entry, err := db.CreateTimelineEntry(ctx, cr.ID, carecircle.TimelineEntry{Type: carecircle.TimelineNote, Content: "first"})
			if err != nil {
				t.Fatal(err)
			}
			shift, err := db.CreateShift(ctx, cr.ID, carecircle.Shift{Caregiver: carecircle.MemberRef{ID: user.ID}, StartTime: start, EndTime: start.Add(4 * time.Hour)})
			if err != nil {
				t.Fatal(err)
			}
			alert, err := db.RaiseAlert(ctx, carecircle.EmergencyAlert{CareRecipientID: cr.ID, Type: carecircle.AlertFall, Description: "Fell"})
			if err != nil {
				t.Fatal(err)
			}

			entries := func() int {
				items, _, err := db.TimelineEntries(ctx, cr.ID, storage.TimelineFilter{})
				if err != nil {
					t.Fatal(err)
				}
				return len(items)
			}
			shifts := func() int {
				items, _, err := db.Shifts(ctx, cr.ID, storage.ShiftFilter{})
				if err != nil {
					t.Fatal(err)
				}
				return len(items)
			}
			steps := []struct {
				event     string
				change    func() error
				unchanged func() bool
			}{
				{carecircle.EventTimelineCreated, func() error {
					_, err := db.CreateTimelineEntry(ctx, cr.ID, carecircle.TimelineEntry{Type: carecircle.TimelineNote, Content: "second"})
					return err
				}, func() bool { return entries() == 1 }},
				{carecircle.EventTimelineUpdated, func() error {
					_, err := db.UpdateTimelineEntry(ctx, entry.ID, func(e *carecircle.TimelineEntry) error { e.Content = "edited"; return nil })
					return err
				}, func() bool { e, _ := db.TimelineEntry(ctx, entry.ID); return e.Content == "first" }},
				{carecircle.EventTimelineDeleted, func() error { return db.DeleteTimelineEntry(ctx, entry.ID) },
					func() bool { _, err := db.TimelineEntry(ctx, entry.ID); return err == nil }},
				{carecircle.EventShiftCreated, func() error {
					_, err := db.CreateShift(ctx, cr.ID, carecircle.Shift{Caregiver: carecircle.MemberRef{ID: user.ID}, StartTime: start.Add(24 * time.Hour), EndTime: start.Add(25 * time.Hour)})
					return err
				}, func() bool { return shifts() == 1 }},
				{carecircle.EventShiftUpdated, func() error {
					_, err := db.UpdateShift(ctx, shift.ID, func(s *carecircle.Shift) error { s.Notes = "edited"; return nil })
					return err
				}, func() bool { s, _ := db.Shift(ctx, shift.ID); return s.Notes == "" }},
				{carecircle.EventShiftUpdated, func() error { return db.DeleteShift(ctx, shift.ID) },
					func() bool { _, err := db.Shift(ctx, shift.ID); return err == nil }},
				{carecircle.EventShiftCheckedIn, func() error { _, err := db.CheckIn(ctx, shift.ID); return err },
					func() bool { s, _ := db.Shift(ctx, shift.ID); return s.CheckedInAt == nil }},
				{carecircle.EventAlertCreated, func() error {
					_, err := db.RaiseAlert(ctx, carecircle.EmergencyAlert{CareRecipientID: cr.ID, Type: carecircle.AlertOther, Description: "x"})
					return err
				}, func() bool { items, _, _ := db.Alerts(ctx, cr.ID, "", storage.Page{}); return len(items) == 1 }},
				{carecircle.EventAlertAcknowledged, func() error { _, err := db.AcknowledgeAlert(ctx, alert.ID); return err },
					func() bool {
						a, _ := db.Alert(ctx, alert.ID)
						return a.Status == carecircle.AlertActive && len(a.Acknowledgements) == 0
					}},
				{carecircle.EventAlertResolved, func() error { _, err := db.ResolveAlert(ctx, alert.ID, "done"); return err },
					func() bool {
						a, _ := db.Alert(ctx, alert.ID)
						return a.Status == carecircle.AlertActive && a.ResolvedAt == nil
					}},
			}
			for _, s := range steps {
				refuse(s.event)
				err := s.change()
				if err == nil || !strings.Contains(err.Error(), "refused by the test") {
					t.Errorf("%s: change with its event refused returned %v", s.event, err)
				}
				if !s.unchanged() {
					t.Errorf("%s: the change was stored without its event", s.event)
				}
				refuse()
			}
			// Check-out needs a checked-in shift; with events allowed it works.
			if _, err := db.CheckIn(ctx, shift.ID); err != nil {
				t.Fatal(err)
			}
			refuse(carecircle.EventShiftCheckedOut)
			if _, err := db.CheckOut(ctx, shift.ID, "notes"); err == nil {
				t.Errorf("check-out with its event refused succeeded")
			}
			if s, _ := db.Shift(ctx, shift.ID); s.CheckedOutAt != nil || s.HandoffNotes != "" {
				t.Errorf("check-out stored without its event: %+v", s)
			}
			refuse()
			if _, err := db.CheckOut(ctx, shift.ID, "notes"); err != nil {
				t.Fatalf("check-out: %v", err)
			}
		})
	}
}
