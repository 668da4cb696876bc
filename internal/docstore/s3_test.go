package docstore

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"
)

func TestS3_MultipartPutRoundTripsAndFailureAborts(t *testing.T) {
	be := newS3Backend(t)
	ctx := context.Background()
	data := pdfBytes(t, 12<<20+3, 4) // three parts
	if err := be.blobs.Put(ctx, "fam_1/raw", strings.NewReader(string(data))); err != nil {
		t.Fatal(err)
	}
	rc, err := be.blobs.Get(ctx, "fam_1/raw")
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(rc)
	rc.Close()
	if err != nil || string(got) != string(data) {
		t.Fatalf("Get = %d bytes, %v; want %d identical bytes", len(got), err, len(data))
	}
	if err := be.blobs.Delete(ctx, "fam_1/raw"); err != nil {
		t.Fatal(err)
	}

	boom := errors.New("boom")
	src := io.MultiReader(strings.NewReader(string(data[:11<<20])), &failingReader{err: boom})
	if err := be.blobs.Put(ctx, "fam_1/raw", src); !errors.Is(err, boom) {
		t.Fatalf("Put err = %v, want %v", err, boom)
	}
	assertEmpty(t, be)
}

func TestS3_MissingObjects(t *testing.T) {
	be := newS3Backend(t)
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
	if err := be.blobs.Put(ctx, "../x", strings.NewReader("x")); !errors.Is(err, ErrInvalidKey) {
		t.Errorf("Put(../x): err = %v, want ErrInvalidKey", err)
	}
}

func TestNewS3_RequiresBucket(t *testing.T) {
	if _, err := NewS3(context.Background(), S3Config{}); err == nil {
		t.Error("NewS3 without a bucket succeeded")
	}
}
