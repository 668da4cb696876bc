package main

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/carecircle/carecircle"
	"github.com/carecircle/carecircle/internal/auth"
	"github.com/carecircle/carecircle/internal/storage"
)

// benchPassword is every seeded account's password. Nobody signs in with it
// (tokens are minted directly); it only makes the rows real.
const benchPassword = "fanoutbench-password-2026"

// member is one seeded account with the access token its socket uses.
type member struct {
	userID string
	token  string
}

// family is one seeded family: members[0] is its ADMIN, who raises alerts.
type family struct {
	id          string
	recipientID string
	members     []member
}

// seedInto seeds the database the server will open in dataDir. SQLite
// commits durably (synchronous=FULL), and 30,000 fsynced transactions take
// minutes on a VM disk, so when /dev/shm is there the database is built in
// memory and then copied: the same rows, without the wait. The server then
// runs on the real disk, where its commits cost what they cost in production.
func seedInto(ctx context.Context, dataDir string, signer *auth.Signer, nFamilies, nMembers int) ([]family, error) {
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, err
	}
	final := filepath.Join(dataDir, "carecircle.db")
	shm, err := os.MkdirTemp("/dev/shm", "fanoutbench-")
	if err != nil {
		return seed(ctx, final, signer, nFamilies, nMembers, 4)
	}
	defer os.RemoveAll(shm)
	fams, err := seed(ctx, filepath.Join(shm, "carecircle.db"), signer, nFamilies, nMembers, 4)
	if err != nil {
		return nil, err
	}
	// Closing the last connection checkpointed the WAL into the main file;
	// copy whatever is left of it anyway, so nothing committed is lost.
	ents, err := os.ReadDir(shm)
	if err != nil {
		return nil, err
	}
	for _, e := range ents {
		if !strings.HasPrefix(e.Name(), "carecircle.db") || strings.HasSuffix(e.Name(), "-shm") {
			continue
		}
		if err := copyFile(filepath.Join(shm, e.Name()), filepath.Join(dataDir, e.Name())); err != nil {
			return nil, err
		}
	}
	return fams, nil
}

// copyFile copies src to dst and syncs it.
func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return fmt.Errorf("copy %s: %w", src, err)
	}
	if err := out.Sync(); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// seedPostgres seeds the PostgreSQL database at dbURL, which the servers
// will share. The seeding connections alone run with synchronous_commit=off
// (a runtime parameter in their URL): a crash during seeding would only
// cost the run, and the servers later commit with the database's own
// setting. PostgreSQL takes concurrent writers, so more workers help here.
func seedPostgres(ctx context.Context, dbURL string, signer *auth.Signer, nFamilies, nMembers int) ([]family, error) {
	u, err := url.Parse(dbURL)
	if err != nil {
		return nil, fmt.Errorf("postgres url: %w", err)
	}
	q := u.Query()
	q.Set("synchronous_commit", "off")
	u.RawQuery = q.Encode()
	return seed(ctx, u.String(), signer, nFamilies, nMembers, 16)
}

// seed fills a fresh database at dbURL (a SQLite path or a postgres:// URL)
// with nFamilies families of nMembers each, through the storage layer so
// every row and outbox event is what the app itself writes. On SQLite the
// store serializes writes on one connection, so workers only overlap Go-side
// work with the previous commit's fsync.
func seed(ctx context.Context, dbURL string, signer *auth.Signer, nFamilies, nMembers, workers int) ([]family, error) {
	db, err := storage.Open(ctx, dbURL)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	if err := db.Migrate(ctx); err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	// One argon2 hash for everyone: hashing 10,000 passwords would take minutes.
	hash, err := auth.HashPassword(benchPassword)
	if err != nil {
		return nil, fmt.Errorf("hash password: %w", err)
	}
	fams := make([]family, nFamilies)
	jobs := make(chan int)
	errc := make(chan error, workers)
	var wg sync.WaitGroup
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				f, err := seedFamily(ctx, db, signer, hash, i, nMembers)
				if err != nil {
					errc <- fmt.Errorf("seed family %d: %w", i, err)
					cancel()
					return
				}
				fams[i] = f
			}
		}()
	}
feed:
	for i := range nFamilies {
		select {
		case jobs <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(jobs)
	wg.Wait()
	select {
	case err := <-errc:
		return nil, err
	default:
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return fams, nil
}

// seedFamily registers the family's accounts (each with a session), creates
// the family as the first, invites and admits the others (alternately
// CAREGIVER and VIEWER), and adds one care recipient: the same calls the API
// makes, in the same order.
func seedFamily(ctx context.Context, db *storage.DB, signer *auth.Signer, hash string, fi, nMembers int) (family, error) {
	type account struct {
		user    carecircle.User
		session storage.NewSession
	}
	accts := make([]account, nMembers)
	for m := range nMembers {
		u, s, err := db.Register(ctx, storage.NewAccount{
			Email:        fmt.Sprintf("fanout-f%05d-m%02d@bench.example.com", fi, m),
			PasswordHash: hash,
			FullName:     fmt.Sprintf("Member %d of Family %d", m, fi),
			Timezone:     "UTC",
		}, storage.SessionMeta{IP: "127.0.0.1", UserAgent: "fanoutbench"})
		if err != nil {
			return family{}, fmt.Errorf("register: %w", err)
		}
		accts[m] = account{u, s}
	}
	actorOf := func(a account) context.Context {
		return carecircle.WithActor(ctx, carecircle.Actor{UserID: a.user.ID, SessionID: a.session.Session.ID, Name: a.user.FullName})
	}
	admin := actorOf(accts[0])
	fam, err := db.CreateFamily(admin, fmt.Sprintf("Bench Family %d", fi))
	if err != nil {
		return family{}, fmt.Errorf("create family: %w", err)
	}
	for m := 1; m < nMembers; m++ {
		role := carecircle.RoleCaregiver
		if m%2 == 0 {
			role = carecircle.RoleViewer
		}
		inv, err := db.CreateInvite(admin, fam.ID, accts[m].user.Email, role)
		if err != nil {
			return family{}, fmt.Errorf("invite: %w", err)
		}
		if _, _, err := db.AcceptInvite(actorOf(accts[m]), inv.Token); err != nil {
			return family{}, fmt.Errorf("accept invite: %w", err)
		}
	}
	cr, err := db.CreateRecipient(admin, carecircle.CareRecipient{
		FamilyID: fam.ID, FirstName: "Recipient", LastName: fmt.Sprintf("Family%d", fi),
		Timezone: "UTC", BloodType: "UNKNOWN",
	})
	if err != nil {
		return family{}, fmt.Errorf("create care recipient: %w", err)
	}
	f := family{id: fam.ID, recipientID: cr.ID, members: make([]member, nMembers)}
	now := time.Now()
	for m, a := range accts {
		tok, _, err := signer.Issue(a.user.ID, a.session.Session.ID, now, 24*time.Hour)
		if err != nil {
			return family{}, err
		}
		f.members[m] = member{userID: a.user.ID, token: tok}
	}
	return f, nil
}
