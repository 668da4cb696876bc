package docstore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
)

// Local keeps objects as files under one directory. All access goes through
// an os.Root, so neither a key nor a symlink planted in the directory can
// reach outside it.
type Local struct {
	root *os.Root
}

var _ Blobs = (*Local)(nil)

// NewLocal opens (creating it, mode 0700, if needed) the directory dir.
// Close releases it.
func NewLocal(dir string) (*Local, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("local blobs: %w", err)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("local blobs: %w", err)
	}
	return &Local{root: root}, nil
}

// Close releases the directory handle.
func (l *Local) Close() error { return l.root.Close() }

// Put writes r to a temporary file beside the target, syncs it, and renames
// it into place, so a reader or a crash sees the old object or the whole new
// one, never a part. On any failure the temporary file is removed.
func (l *Local) Put(ctx context.Context, key string, r io.Reader) (err error) {
	if err := checkKey(key); err != nil {
		return fmt.Errorf("local put: %w", err)
	}
	dir := path.Dir(key)
	if dir != "." {
		if err := l.root.MkdirAll(dir, 0o700); err != nil {
			return fmt.Errorf("local put %s: %w", key, err)
		}
	}
	tmp := path.Join(dir, ".tmp-"+randomSuffix())
	f, err := l.root.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("local put %s: %w", key, err)
	}
	defer func() {
		if err != nil {
			f.Close()
			l.root.Remove(tmp)
		}
	}()
	if _, err := io.Copy(f, ctxReader{ctx, r}); err != nil {
		return fmt.Errorf("local put %s: %w", key, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("local put %s: sync: %w", key, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("local put %s: %w", key, err)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("local put %s: %w", key, err)
	}
	if err := l.root.Rename(tmp, key); err != nil {
		return fmt.Errorf("local put %s: %w", key, err)
	}
	// The rename is durable only once the directory entry is synced.
	if d, err := l.root.Open(dir); err == nil {
		err = d.Sync()
		d.Close()
		if err != nil {
			return fmt.Errorf("local put %s: sync dir: %w", key, err)
		}
	}
	return nil
}

// Get opens the object for reading.
func (l *Local) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	if err := checkKey(key); err != nil {
		return nil, fmt.Errorf("local get: %w", err)
	}
	f, err := l.root.Open(key)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("local get %s: %w", key, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("local get %s: %w", key, err)
	}
	if st, err := f.Stat(); err != nil || !st.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("local get %s: %w", key, ErrNotFound)
	}
	return f, nil
}

// Delete removes the object; a missing object is not an error.
func (l *Local) Delete(ctx context.Context, key string) error {
	if err := checkKey(key); err != nil {
		return fmt.Errorf("local delete: %w", err)
	}
	if err := l.root.Remove(key); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("local delete %s: %w", key, err)
	}
	return nil
}

// Exists reports whether an object is stored under key.
func (l *Local) Exists(ctx context.Context, key string) (bool, error) {
	if err := checkKey(key); err != nil {
		return false, fmt.Errorf("local exists: %w", err)
	}
	st, err := l.root.Stat(key)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("local exists %s: %w", key, err)
	}
	return st.Mode().IsRegular(), nil
}

// randomSuffix names a temporary file; collisions are refused by O_EXCL.
func randomSuffix() string {
	b := make([]byte, 12)
	rand.Read(b)
	return hex.EncodeToString(b)
}
