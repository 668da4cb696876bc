package storage_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/carecircle/carecircle/internal/storage"
	"github.com/carecircle/carecircle/internal/testdb"
)

func TestWriteEach_AFailingWriteLeavesTheOthersCommitted(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		boom := errors.New("lease lost")
		var fns []func(tx *storage.Tx) error
		for i := range 4 {
			fns = append(fns, func(tx *storage.Tx) error {
				if _, err := tx.EnqueueJobs(ctx, storage.JobSpec{Kind: "k", Key: fmt.Sprintf("k:%d", i), RunAt: time.Now()}); err != nil {
					return err
				}
				if i == 2 {
					return boom
				}
				return nil
			})
		}
		errs, err := db.WriteEach(ctx, fns)
		if err != nil {
			t.Fatal(err)
		}
		for i := range 4 {
			_, jerr := db.JobByKey(ctx, fmt.Sprintf("k:%d", i))
			switch {
			case i == 2 && (!errors.Is(errs[i], boom) || jerr == nil):
				t.Errorf("failed write: err %v, job found %v", errs[i], jerr == nil)
			case i != 2 && (errs[i] != nil || jerr != nil):
				t.Errorf("write %d: err %v, job err %v", i, errs[i], jerr)
			}
		}
		// All succeed: one transaction.
		errs, err = db.WriteEach(ctx, fns[:2])
		if err != nil || errs[0] != nil || errs[1] != nil {
			t.Fatalf("again: %v %v", errs, err)
		}
	})
}
