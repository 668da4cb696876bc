package docstore

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLocal_RefusesKeysThatCouldEscape(t *testing.T) {
	be := newLocalBackend(t)
	ctx := context.Background()
	for _, key := range []string{
		"", "../x", "a/../../x", "/etc/passwd", "a//b", "a/", ".hidden", "a/.tmp-x",
		`a\b`, "a b", "doc\x00", "ü", strings.Repeat("a", maxKeyLen+1),
	} {
		if err := be.blobs.Put(ctx, key, strings.NewReader("x")); !errors.Is(err, ErrInvalidKey) {
			t.Errorf("Put(%q): err = %v, want ErrInvalidKey", key, err)
		}
		if _, err := be.blobs.Get(ctx, key); !errors.Is(err, ErrInvalidKey) {
			t.Errorf("Get(%q): err = %v, want ErrInvalidKey", key, err)
		}
		if err := be.blobs.Delete(ctx, key); !errors.Is(err, ErrInvalidKey) {
			t.Errorf("Delete(%q): err = %v, want ErrInvalidKey", key, err)
		}
		if _, err := be.blobs.Exists(ctx, key); !errors.Is(err, ErrInvalidKey) {
			t.Errorf("Exists(%q): err = %v, want ErrInvalidKey", key, err)
		}
	}
	assertEmpty(t, be)
}

func TestLocal_SymlinkOutOfTheDirectoryIsNotFollowed(t *testing.T) {
	dir, outside := t.TempDir(), t.TempDir()
	if err := os.Symlink(outside, filepath.Join(dir, "evil")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(outside, "secret"), []byte("outside"), 0o600); err != nil {
		t.Fatal(err)
	}
	l, err := NewLocal(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	ctx := context.Background()
	if err := l.Put(ctx, "evil/x", strings.NewReader("data")); err == nil {
		t.Error("Put through a symlink out of the directory succeeded")
	}
	if _, err := l.Get(ctx, "evil/secret"); err == nil {
		t.Error("Get through a symlink out of the directory succeeded")
	}
	entries, _ := os.ReadDir(outside)
	if len(entries) != 1 {
		t.Errorf("outside directory has %d entries, want only the original", len(entries))
	}
}

func TestLocal_FailedPutKeepsThePreviousObject(t *testing.T) {
	be := newLocalBackend(t)
	ctx := context.Background()
	if err := be.blobs.Put(ctx, "a/doc", strings.NewReader("version one")); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	src := io.MultiReader(strings.NewReader("partial version two"), &failingReader{err: boom})
	if err := be.blobs.Put(ctx, "a/doc", src); !errors.Is(err, boom) {
		t.Fatalf("Put err = %v, want %v", err, boom)
	}
	raw := be.raw(t)
	if len(raw) != 1 || string(raw["/a/doc"]) != "version one" {
		t.Errorf("after a failed overwrite the directory holds %q", raw)
	}
}

func TestLocal_MissingObjects(t *testing.T) {
	be := newLocalBackend(t)
	ctx := context.Background()
	if _, err := be.blobs.Get(ctx, "nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Get missing: err = %v, want ErrNotFound", err)
	}
	if ok, err := be.blobs.Exists(ctx, "nope"); ok || err != nil {
		t.Errorf("Exists missing = %v, %v", ok, err)
	}
	if err := be.blobs.Delete(ctx, "nope"); err != nil {
		t.Errorf("Delete missing: %v", err)
	}
	if err := be.blobs.Put(ctx, "dir/doc", strings.NewReader("x")); err != nil {
		t.Fatal(err)
	}
	if _, err := be.blobs.Get(ctx, "dir"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Get of a directory: err = %v, want ErrNotFound", err)
	}
}
