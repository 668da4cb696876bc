package storage

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
)

// openSQLiteTest opens a bare SQLite store with one table, t(n), for tests of
// the connection machinery (no migrations needed).
func openSQLiteTest(t *testing.T) *DB {
	t.Helper()
	db, err := Open(context.Background(), filepath.Join(t.TempDir(), "gc.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.w.Exec(`CREATE TABLE t (n INTEGER PRIMARY KEY)`); err != nil {
		t.Fatal(err)
	}
	return db
}

func count(t *testing.T, db *DB) (n int) {
	t.Helper()
	if err := db.r.QueryRow(`SELECT COUNT(*) FROM t`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

var errRefused = errors.New("refused")

func TestGroupCommit_FailedWriteLeavesItsBatchIntact(t *testing.T) {
	db := openSQLiteTest(t)
	const n = 300
	var wg sync.WaitGroup
	start := make(chan struct{})
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			errs[i] = db.write(context.Background(), func(tx *Tx) error {
				// Every third write fails after it has written: its row
				// must go, and only its row.
				if _, err := tx.ExecContext(context.Background(), `INSERT INTO t (n) VALUES ($1)`, i); err != nil {
					return err
				}
				if i%3 == 0 {
					return errRefused
				}
				return nil
			})
		}()
	}
	close(start)
	wg.Wait()
	want := 0
	for i, err := range errs {
		switch {
		case i%3 == 0 && !errors.Is(err, errRefused):
			t.Fatalf("write %d: %v, want its own error", i, err)
		case i%3 != 0 && err != nil:
			t.Fatalf("write %d: %v", i, err)
		case i%3 != 0:
			want++
		}
	}
	if got := count(t, db); got != want {
		t.Fatalf("%d rows, want %d", got, want)
	}
	var bad int
	if err := db.r.QueryRow(`SELECT COUNT(*) FROM t WHERE n % 3 = 0`).Scan(&bad); err != nil || bad != 0 {
		t.Fatalf("%d rows of failed writes survived (%v)", bad, err)
	}
}

func TestGroupCommit_WritesSeeEarlierWritesOfTheirBatch(t *testing.T) {
	db := openSQLiteTest(t)
	// Each write reads the row count and inserts it: run concurrently, the
	// result is 0..n-1 only if every write saw all earlier ones, batched or
	// not.
	const n = 100
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := db.write(context.Background(), func(tx *Tx) error {
				var c int
				if err := tx.QueryRowContext(context.Background(), `SELECT COUNT(*) FROM t`).Scan(&c); err != nil {
					return err
				}
				_, err := tx.ExecContext(context.Background(), `INSERT INTO t (n) VALUES ($1)`, c)
				return err
			})
			if err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	var max int
	if err := db.r.QueryRow(`SELECT MAX(n) FROM t`).Scan(&max); err != nil || max != n-1 || count(t, db) != n {
		t.Fatalf("max %d of %d rows (%v): writes did not serialize", max, count(t, db), err)
	}
}

func TestGroupCommit_CanceledWriteDoesNothing(t *testing.T) {
	db := openSQLiteTest(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	ran := false
	err := db.write(ctx, func(tx *Tx) error {
		ran = true
		_, err := tx.ExecContext(ctx, `INSERT INTO t (n) VALUES (1)`)
		return err
	})
	if !errors.Is(err, context.Canceled) || ran || count(t, db) != 0 {
		t.Fatalf("canceled write: err %v, ran %v, rows %d", err, ran, count(t, db))
	}
}

func TestGroupCommit_PanicReachesTheCallerAndTheStoreGoesOn(t *testing.T) {
	db := openSQLiteTest(t)
	func() {
		defer func() {
			if v := recover(); v != "boom" {
				t.Fatalf("recovered %v, want the write's panic", v)
			}
		}()
		_ = db.write(context.Background(), func(tx *Tx) error {
			if _, err := tx.ExecContext(context.Background(), `INSERT INTO t (n) VALUES (1)`); err != nil {
				return err
			}
			panic("boom")
		})
	}()
	if err := db.write(context.Background(), func(tx *Tx) error {
		_, err := tx.ExecContext(context.Background(), `INSERT INTO t (n) VALUES (2)`)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if got := count(t, db); got != 1 {
		t.Fatalf("%d rows, want only the second write's", got)
	}
}

func TestGroupCommit_ClosedStoreRefusesWrites(t *testing.T) {
	db := openSQLiteTest(t)
	db.Close()
	if err := db.write(context.Background(), func(tx *Tx) error { return nil }); err == nil {
		t.Fatal("write after Close succeeded")
	}
}

func TestStatementCache_SameQueryNestedInItsOwnRows(t *testing.T) {
	db := openSQLiteTest(t)
	ctx := context.Background()
	for i := range 3 {
		if _, err := db.w.Exec(`INSERT INTO t (n) VALUES ($1)`, i); err != nil {
			t.Fatal(err)
		}
	}
	// One connection: the inner query cannot share the outer's statement
	// while the outer rows are open.
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	const q = `SELECT n FROM t ORDER BY n`
	outer, err := tx.QueryContext(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for outer.Next() {
		var a int
		if err := outer.Scan(&a); err != nil {
			t.Fatal(err)
		}
		inner, err := tx.QueryContext(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		for inner.Next() {
			var b int
			if err := inner.Scan(&b); err != nil {
				t.Fatal(err)
			}
			got = append(got, fmt.Sprint(a, b))
		}
		inner.Close()
	}
	if err := outer.Err(); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(got) != "[0 0 0 1 0 2 1 0 1 1 1 2 2 0 2 1 2 2]" {
		t.Fatalf("nested reads = %v", got)
	}
}

func TestStatementCache_ReadersSeeNewWritesAndSchema(t *testing.T) {
	db := openSQLiteTest(t)
	read := func() int { return count(t, db) }
	for i := range 5 {
		if got := read(); got != i {
			t.Fatalf("reader saw %d rows, want %d: a cached statement kept an old snapshot", got, i)
		}
		if _, err := db.w.Exec(`INSERT INTO t (n) VALUES ($1)`, i); err != nil {
			t.Fatal(err)
		}
	}
	// A schema change under cached statements: SQLite re-prepares them.
	if _, err := db.w.Exec(`ALTER TABLE t ADD COLUMN label TEXT NOT NULL DEFAULT 'x'`); err != nil {
		t.Fatal(err)
	}
	var label string
	if err := db.r.QueryRow(`SELECT COUNT(*) FROM t`).Scan(new(int)); err != nil {
		t.Fatal(err)
	}
	if err := db.r.QueryRow(`SELECT label FROM t WHERE n = $1`, 3).Scan(&label); err != nil || label != "x" {
		t.Fatalf("after ALTER TABLE: %q, %v", label, err)
	}
}

func TestGroupCommit_BackgroundWritesCommitAlongsideRequests(t *testing.T) {
	db := openSQLiteTest(t)
	const n = 100
	var wg sync.WaitGroup
	for i := range 2 * n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			insert := func(tx *Tx) error {
				_, err := tx.ExecContext(context.Background(), `INSERT INTO t (n) VALUES ($1)`, i)
				return err
			}
			write := db.write
			if i%2 == 1 {
				write = db.writeBackground
			}
			if err := write(context.Background(), insert); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if got := count(t, db); got != 2*n {
		t.Fatalf("%d rows, want %d", got, 2*n)
	}
	// On a quiet store a background write commits by itself.
	if err := db.writeBackground(context.Background(), func(tx *Tx) error {
		_, err := tx.ExecContext(context.Background(), `INSERT INTO t (n) VALUES (-1)`)
		return err
	}); err != nil || count(t, db) != 2*n+1 {
		t.Fatalf("quiet background write: %v", err)
	}
}
