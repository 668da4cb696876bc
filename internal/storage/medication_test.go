package storage_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/carecircle/carecircle"
	"github.com/carecircle/carecircle/internal/storage"
	"github.com/carecircle/carecircle/internal/testdb"
)

// careFixture is a family with one caregiver and one recipient, opened on a
// database that a second, raw connection can also reach (for fault
// injection).
type careFixture struct {
	db          *storage.DB
	raw         *sql.DB
	ctx         context.Context // signed in as the caregiver
	familyID    string
	recipientID string
}

func newCareFixture(t *testing.T, d storage.Dialect, clock carecircle.Clock) *careFixture {
	t.Helper()
	url := testdb.URL(t, d)
	ctx := context.Background()
	db, err := storage.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	db.Clock = clock
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	var raw *sql.DB
	if d == storage.Postgres {
		raw, err = sql.Open("pgx", url)
	} else {
		raw, err = sql.Open("sqlite", "file:"+url+"?_pragma=busy_timeout(10000)")
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { raw.Close() })
	u, _, err := db.Register(ctx, storage.NewAccount{Email: fmt.Sprintf("sarah.%d@example.com", time.Now().UnixNano()),
		PasswordHash: "x", FullName: "Sarah Thompson", Timezone: "UTC"}, storage.SessionMeta{})
	if err != nil {
		t.Fatal(err)
	}
	f := &careFixture{db: db, raw: raw, ctx: carecircle.WithActor(ctx, carecircle.Actor{UserID: u.ID, Name: u.FullName})}
	fam, err := db.CreateFamily(f.ctx, "Thompsons")
	if err != nil {
		t.Fatal(err)
	}
	f.familyID = fam.ID
	cr, err := db.CreateRecipient(f.ctx, carecircle.CareRecipient{FamilyID: fam.ID, FirstName: "Robert", LastName: "Thompson",
		PreferredName: "Dad", Timezone: "America/New_York"})
	if err != nil {
		t.Fatal(err)
	}
	f.recipientID = cr.ID
	return f
}

func (f *careFixture) eventCount(t *testing.T, typ string) int {
	t.Helper()
	evs, err := f.db.EventsFor(context.Background(), f.familyID)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range evs {
		if typ == "" || e.Type == typ {
			n++
		}
	}
	return n
}

// failSupplyUpdates makes every UPDATE that sets current_supply fail, as a
// disk or constraint failure in the middle of a dose log would.
func (f *careFixture) failSupplyUpdates(t *testing.T) (restore func()) {
	t.Helper()
	var install, remove []string
	if f.db.Dialect == storage.Postgres {
		install = []string{
			`CREATE FUNCTION fail_supply() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'injected supply failure'; END $$ LANGUAGE plpgsql`,
			`CREATE TRIGGER fail_supply BEFORE UPDATE OF current_supply ON medications FOR EACH ROW EXECUTE FUNCTION fail_supply()`,
		}
		remove = []string{`DROP TRIGGER fail_supply ON medications`, `DROP FUNCTION fail_supply()`}
	} else {
		install = []string{`CREATE TRIGGER fail_supply BEFORE UPDATE OF current_supply ON medications
			BEGIN SELECT RAISE(ABORT, 'injected supply failure'); END`}
		remove = []string{`DROP TRIGGER fail_supply`}
	}
	for _, q := range install {
		if _, err := f.raw.Exec(q); err != nil {
			t.Fatalf("install fault: %v", err)
		}
	}
	return func() {
		for _, q := range remove {
			if _, err := f.raw.Exec(q); err != nil {
				t.Fatalf("remove fault: %v", err)
			}
		}
	}
}

func intp(v int) *int { return &v }

func TestMedicationWrites_FailureRollsBackChangeAndEvent(t *testing.T) {
	for _, d := range testdb.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			f := newCareFixture(t, d, carecircle.NewManualClock(time.Date(2026, 1, 15, 15, 0, 0, 0, time.UTC)))
			med, err := f.db.CreateMedication(f.ctx, f.recipientID, carecircle.Medication{Name: "Metformin", Dosage: "500mg",
				Frequency: carecircle.FrequencyOnceDaily, Times: []string{"08:00"}, CurrentSupply: intp(11), RefillThreshold: intp(10)})
			if err != nil {
				t.Fatal(err)
			}
			before := f.eventCount(t, "")
			dose := time.Date(2026, 1, 15, 13, 0, 0, 0, time.UTC)
			restore := f.failSupplyUpdates(t)

			// The log row is inserted before the supply update fails: all of
			// it, and its events, must go.
			_, err = f.db.LogDose(f.ctx, med.ID, storage.DoseInput{Status: carecircle.DoseGiven, ScheduledTime: &dose})
			if err == nil || !strings.Contains(err.Error(), "injected supply failure") {
				t.Fatalf("LogDose with a failing supply update: %v", err)
			}
			// A PATCH whose UPDATE fails, and one that fails validation
			// after apply changed the medication in memory.
			if _, err := f.db.UpdateMedication(f.ctx, med.ID, func(m *carecircle.Medication) error {
				m.CurrentSupply, m.Dosage = intp(50), "850mg"
				return nil
			}); err == nil {
				t.Fatal("PATCH with a failing UPDATE succeeded")
			}
			_, err = f.db.UpdateMedication(f.ctx, med.ID, func(m *carecircle.Medication) error {
				m.Dosage, m.Times = "850mg", []string{"25:00"}
				return nil
			})
			if carecircle.ErrorCode(err) != carecircle.EINVALID {
				t.Fatalf("invalid PATCH: %v", err)
			}
			if n := f.eventCount(t, ""); n != before {
				t.Fatalf("%d events after failed writes, want %d", n, before)
			}
			got, err := f.db.Medication(f.ctx, med.ID)
			if err != nil {
				t.Fatal(err)
			}
			if *got.CurrentSupply != 11 || got.Dosage != "500mg" || got.Times[0] != "08:00" || !got.UpdatedAt.Equal(med.UpdatedAt) {
				t.Fatalf("medication changed by failed writes: %+v", got)
			}
			if h, _, err := f.db.DoseHistory(f.ctx, med.ID, storage.Page{}); err != nil || len(h) != 0 {
				t.Fatalf("history after a failed log = %v, %v", h, err)
			}

			// Without the fault the same log goes through, with its events:
			// the test can tell the difference.
			restore()
			if _, err := f.db.LogDose(f.ctx, med.ID, storage.DoseInput{Status: carecircle.DoseGiven, ScheduledTime: &dose}); err != nil {
				t.Fatal(err)
			}
			if n := f.eventCount(t, carecircle.EventMedicationLogged); n != 1 {
				t.Fatalf("%d medication.logged events, want 1", n)
			}
			if n := f.eventCount(t, carecircle.EventMedicationRefill); n != 1 {
				t.Fatalf("%d refill events, want 1", n)
			}
		})
	}
}

// Concurrent logs of different doses must not lose supply decrements, and
// concurrent as-needed doses must see each other: in PostgreSQL that is the
// medication row lock each log takes first.
func TestLogDose_ConcurrentLogsSerializePerMedication(t *testing.T) {
	for _, d := range testdb.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			f := newCareFixture(t, d, carecircle.NewManualClock(time.Date(2026, 1, 31, 12, 0, 0, 0, time.UTC)))
			daily, err := f.db.CreateMedication(f.ctx, f.recipientID, carecircle.Medication{Name: "Metformin", Dosage: "500mg",
				Frequency: carecircle.FrequencyOnceDaily, Times: []string{"08:00"}, CurrentSupply: intp(100)})
			if err != nil {
				t.Fatal(err)
			}
			prn, err := f.db.CreateMedication(f.ctx, f.recipientID, carecircle.Medication{Name: "Oxycodone", Dosage: "5mg",
				Frequency: carecircle.FrequencyAsNeeded, MinIntervalMinutes: intp(240)})
			if err != nil {
				t.Fatal(err)
			}
			const n = 20
			var wg sync.WaitGroup
			start := make(chan struct{})
			errs := make(chan error, 2*n)
			for i := range n {
				day := time.Date(2026, 1, 1+i, 13, 0, 0, 0, time.UTC) // 08:00 EST on 20 different days
				backfill := time.Date(2026, 1, 31, 11, i, 0, 0, time.UTC)
				wg.Add(2)
				go func() {
					defer wg.Done()
					<-start
					_, err := f.db.LogDose(f.ctx, daily.ID, storage.DoseInput{Status: carecircle.DoseGiven, ScheduledTime: &day})
					errs <- err
				}()
				go func() {
					defer wg.Done()
					<-start
					_, err := f.db.LogDose(f.ctx, prn.ID, storage.DoseInput{Status: carecircle.DoseGiven, ScheduledTime: &backfill})
					if carecircle.ErrorCode(err) == carecircle.ECONFLICT {
						err = nil
					}
					errs <- err
				}()
			}
			close(start)
			wg.Wait()
			close(errs)
			for err := range errs {
				if err != nil {
					t.Fatal(err)
				}
			}
			got, err := f.db.Medication(f.ctx, daily.ID)
			if err != nil {
				t.Fatal(err)
			}
			if *got.CurrentSupply != 100-n {
				t.Fatalf("supply after %d concurrent doses = %d, want %d", n, *got.CurrentSupply, 100-n)
			}
			h, _, err := f.db.DoseHistory(f.ctx, prn.ID, storage.Page{})
			if err != nil {
				t.Fatal(err)
			}
			if len(h) != 1 {
				t.Fatalf("%d as-needed doses given within 20 minutes despite a 240-minute interval, want 1", len(h))
			}
		})
	}
}

func TestLogDose_NeedsSignInAndMembership(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		_, err := db.LogDose(ctx, "med_01m8p6zkz15zba50stp1yd3d7s", storage.DoseInput{Status: carecircle.DoseGiven})
		if carecircle.ErrorCode(err) != carecircle.EUNAUTHORIZED {
			t.Fatalf("anonymous log: %v", err)
		}
		var ce *carecircle.Error
		_, err = db.LogDose(carecircle.WithActor(ctx, carecircle.Actor{UserID: "usr_x"}), "med_01m8p6zkz15zba50stp1yd3d7s",
			storage.DoseInput{Status: carecircle.DoseGiven})
		if !errors.As(err, &ce) || ce.Code != carecircle.ENOTFOUND {
			t.Fatalf("unknown medication: %v", err)
		}
	})
}
