package storage_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/carecircle/carecircle"
	"github.com/carecircle/carecircle/internal/storage"
	"github.com/carecircle/carecircle/internal/testdb"
)

// signedIn registers a user and returns a context acting as them.
func signedIn(t *testing.T, db *storage.DB, name string) context.Context {
	t.Helper()
	u, ns, err := db.Register(context.Background(), storage.NewAccount{
		Email: fmt.Sprintf("%s.%d@example.com", name, time.Now().UnixNano()), PasswordHash: "x", FullName: name, Timezone: "UTC",
	}, storage.SessionMeta{})
	if err != nil {
		t.Fatal(err)
	}
	return carecircle.WithActor(context.Background(), carecircle.Actor{UserID: u.ID, SessionID: ns.Session.ID, Name: name})
}

func TestUpdateAppointment_ConcurrentEditsGetDistinctSequences(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := signedIn(t, db, "admin")
		fam, err := db.CreateFamily(ctx, "Seq family")
		if err != nil {
			t.Fatal(err)
		}
		cr, err := db.CreateRecipient(ctx, carecircle.CareRecipient{FamilyID: fam.ID, FirstName: "Rose", LastName: "Lee", Timezone: "America/Chicago"})
		if err != nil {
			t.Fatal(err)
		}
		a, err := db.CreateAppointment(ctx, cr.ID, carecircle.Appointment{Title: "GP", StartTime: time.Date(2026, 10, 5, 15, 0, 0, 0, time.UTC)})
		if err != nil {
			t.Fatal(err)
		}

		const n = 8
		var wg sync.WaitGroup
		errs := make(chan error, n)
		for i := range n {
			wg.Go(func() {
				_, err := db.UpdateAppointment(ctx, a.ID, func(a *carecircle.Appointment) error {
					a.Notes += fmt.Sprintf("[%d]", i)
					return nil
				})
				errs <- err
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}

		got, err := db.Appointment(ctx, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Sequence != n || len(got.Notes) != 3*n {
			t.Fatalf("after %d concurrent edits: sequence %d, notes %q (an edit was lost)", n, got.Sequence, got.Notes)
		}
		evs, err := db.EventsFor(ctx, fam.ID)
		if err != nil {
			t.Fatal(err)
		}
		var seqs []int
		for _, ev := range evs {
			if ev.Type != carecircle.EventAppointmentUpdated {
				continue
			}
			var d struct{ Sequence int }
			if err := json.Unmarshal(ev.Data, &d); err != nil {
				t.Fatal(err)
			}
			seqs = append(seqs, d.Sequence)
		}
		slices.Sort(seqs)
		if !slices.Equal(seqs, []int{1, 2, 3, 4, 5, 6, 7, 8}) {
			t.Fatalf("updated events carry sequences %v", seqs)
		}
	})
}
