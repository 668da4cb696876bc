package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRotateKey_CommandReplacesTheEmbeddedKeyFile runs `carecircle
// rotate-key` in embedded mode: the key file under DATA_DIR gets a new key
// and the old one is kept beside it.
func TestRotateKey_CommandReplacesTheEmbeddedKeyFile(t *testing.T) {
	dir := t.TempDir()
	for k, v := range map[string]string{"DATA_DIR": dir, "DATABASE_URL": "", "ENCRYPTION_KEY": "", "NEW_ENCRYPTION_KEY": "",
		"JWT_SECRET": "", "AMQP_URL": "", "REDIS_URL": "", "SMTP_HOST": "", "AWS_S3_BUCKET": ""} {
		t.Setenv(k, v)
	}
	if err := run(context.Background(), "migrate", nil); err != nil {
		t.Fatal(err)
	}
	keyFile := filepath.Join(dir, "secrets", "encryption_key")
	before, err := os.ReadFile(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	if err := run(context.Background(), "rotate-key", nil); err != nil {
		t.Fatalf("rotate-key: %v", err)
	}
	after, _ := os.ReadFile(keyFile)
	olds, _ := filepath.Glob(keyFile + ".old-*")
	if strings.TrimSpace(string(after)) == strings.TrimSpace(string(before)) || len(olds) != 1 {
		t.Fatalf("key file not rotated (old kept: %v)", olds)
	}
	if kept, _ := os.ReadFile(olds[0]); string(kept) != string(before) {
		t.Errorf("kept key = %q, want the previous key", kept)
	}
}
