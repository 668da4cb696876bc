package storage

import (
	"context"
)

// WriteEach runs fns, which must each be safe to run again, in one write
// transaction: one commit (on SQLite, one fsync) for all of them. errs
// holds each fn's error. When one fails, the transaction is rolled back,
// that fn keeps its error and the others are run again, each in a
// transaction of its own; failures are rare (a job whose lease was taken
// over), so the common case pays for nothing else. err is set when the
// batch could not be committed at all.
func (db *DB) WriteEach(ctx context.Context, fns []func(tx *Tx) error) (errs []error, err error) {
	errs = make([]error, len(fns))
	failed := -1
	err = db.write(ctx, func(tx *Tx) error {
		for i, fn := range fns {
			if err := fn(tx); err != nil {
				failed, errs[i] = i, err
				return err
			}
		}
		return nil
	})
	switch {
	case err == nil:
		return errs, nil
	case failed < 0:
		return nil, err
	}
	for i, fn := range fns {
		if i != failed {
			errs[i] = db.write(ctx, fn)
		}
	}
	return errs, nil
}
