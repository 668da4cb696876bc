package app

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/carecircle/carecircle/internal/api"
	"github.com/carecircle/carecircle/internal/config"
	"github.com/carecircle/carecircle/internal/docstore"
	"github.com/carecircle/carecircle/internal/storage"
)

// The document vault's master key, in embedded mode, is the file
// DATA_DIR/secrets/encryption_key. rotate-key writes the next key beside it
// first (keyFileNext), so a rotation interrupted after its commit can be
// finished at the next start.
const (
	keyFileName = "encryption_key"
	keyFileNext = "encryption_key.new"
)

// newVault builds the document vault: files in DATA_DIR/documents, or in the
// S3 bucket when AWS_S3_BUCKET is set, encrypted under data keys that the
// master key (ENCRYPTION_KEY) wraps. It refuses to start when the master key
// does not open the stored data keys: running on would lock every family out
// of its documents and wrap new families' keys under the wrong key.
func newVault(ctx context.Context, cfg config.Config, db *storage.DB, logger *slog.Logger) (*api.Vault, func() error, error) {
	master, err := docstore.ParseMasterKey(cfg.EncryptionKey)
	if err != nil {
		return nil, nil, fmt.Errorf("ENCRYPTION_KEY: %w", err)
	}
	if master, err = checkMasterKey(ctx, cfg, db, master, logger); err != nil {
		return nil, nil, err
	}
	var blobs docstore.Blobs
	closeBlobs := func() error { return nil }
	if cfg.S3Bucket != "" {
		s3, err := docstore.NewS3(ctx, docstore.S3Config{
			Bucket: cfg.S3Bucket, Region: cfg.S3Region, Endpoint: cfg.S3Endpoint,
			// A custom endpoint (MinIO and the like) almost always wants
			// path-style addressing.
			UsePathStyle:    cfg.S3ForcePath || cfg.S3Endpoint != "",
			AccessKeyID:     cfg.S3AccessKey,
			SecretAccessKey: cfg.S3SecretKey,
		})
		if err != nil {
			return nil, nil, err
		}
		blobs = s3
	} else {
		local, err := docstore.NewLocal(filepath.Join(cfg.DataDir, "documents"))
		if err != nil {
			return nil, nil, err
		}
		blobs, closeBlobs = local, local.Close
	}
	store := docstore.NewStore(blobs, docstore.Options{MaxSize: cfg.UploadLimit})
	return &api.Vault{Store: store, MasterKey: master}, closeBlobs, nil
}

// keysChecked is how many wrapped data keys the start-up check opens: one
// master key wraps them all, so a wrong key fails on the first.
const keysChecked = 20

// checkMasterKey verifies master opens the stored data keys and returns the
// key to use. In embedded mode, a rotation that committed but did not get to
// replace the key file is finished here.
func checkMasterKey(ctx context.Context, cfg config.Config, db *storage.DB, master []byte, logger *slog.Logger) ([]byte, error) {
	keys, err := db.FamilyKeys(ctx, keysChecked)
	if err != nil {
		return nil, err
	}
	if opensAll(master, keys) {
		return master, nil
	}
	if keyFromFile(cfg) {
		dir := cfg.SecretsDir()
		if b, err := os.ReadFile(filepath.Join(dir, keyFileNext)); err == nil {
			if next, err := docstore.ParseMasterKey(string(b)); err == nil && opensAll(next, keys) {
				if err := replaceKeyFile(dir, time.Now()); err != nil {
					return nil, fmt.Errorf("finish interrupted key rotation: %w", err)
				}
				logger.Warn("finished an interrupted rotate-key: the new master key is now in place", "file", filepath.Join(dir, keyFileName))
				return next, nil
			}
		}
	}
	return nil, errors.New("ENCRYPTION_KEY does not open the stored document keys: it is not the master key " +
		"they were wrapped with (after rotate-key, use the new key; an embedded server keeps old keys as " +
		"DATA_DIR/secrets/encryption_key.old-*)")
}

func opensAll(master []byte, keys map[string][]byte) bool {
	for _, w := range keys {
		if _, err := docstore.UnwrapKey(master, w); err != nil {
			return false
		}
	}
	return true
}

// keyFromFile reports whether the master key is the one embedded mode keeps
// under DATA_DIR (rather than one given in ENCRYPTION_KEY).
func keyFromFile(cfg config.Config) bool {
	if cfg.ScaleOut {
		return false
	}
	b, err := os.ReadFile(filepath.Join(cfg.SecretsDir(), keyFileName))
	return err == nil && strings.TrimSpace(string(b)) == strings.TrimSpace(cfg.EncryptionKey)
}

// RotateKey is `carecircle rotate-key`: it rewraps every family's data key
// under a new master key in one transaction, leaving the documents
// themselves untouched. The new key is newKey (NEW_ENCRYPTION_KEY) or, when
// empty, a generated one. In embedded mode the key file under DATA_DIR is
// replaced (the old one kept as encryption_key.old-<time>); otherwise the
// operator is told to set ENCRYPTION_KEY to the new key. Run it with the
// servers stopped: a running server still holds the old key.
func RotateKey(ctx context.Context, cfg config.Config, newKey string, out io.Writer) error {
	old, err := docstore.ParseMasterKey(cfg.EncryptionKey)
	if err != nil {
		return fmt.Errorf("ENCRYPTION_KEY: %w", err)
	}
	generated := newKey == ""
	if generated {
		if newKey, err = docstore.GenerateMasterKey(); err != nil {
			return err
		}
	}
	next, err := docstore.ParseMasterKey(newKey)
	if err != nil {
		return fmt.Errorf("NEW_ENCRYPTION_KEY: %w", err)
	}
	if bytes.Equal(old, next) {
		return errors.New("NEW_ENCRYPTION_KEY is the current key; nothing to rotate")
	}
	db, err := storage.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := db.Migrate(ctx); err != nil {
		return err
	}
	fileMode := keyFromFile(cfg)
	dir := cfg.SecretsDir()
	if fileMode {
		// The new key is on disk before any data key depends on it.
		if err := writeFileSynced(dir, keyFileNext, strings.TrimSpace(newKey)+"\n"); err != nil {
			return fmt.Errorf("save new key: %w", err)
		}
	}
	n, err := db.RewrapFamilyKeys(ctx, func(w []byte) ([]byte, error) { return docstore.RewrapKey(old, next, w) }, nil)
	if err != nil {
		if fileMode {
			os.Remove(filepath.Join(dir, keyFileNext))
		}
		return fmt.Errorf("rotate-key: nothing changed: %w", err)
	}
	if fileMode {
		if err := replaceKeyFile(dir, time.Now()); err != nil {
			return fmt.Errorf("rotate-key: %d keys rewrapped, but the key file was not replaced (%w); "+
				"the next start finishes it from %s", n, err, filepath.Join(dir, keyFileNext))
		}
		fmt.Fprintf(out, "Rewrapped %d family keys. The new master key is in %s; the old one was kept beside it.\n",
			n, filepath.Join(dir, keyFileName))
		return nil
	}
	fmt.Fprintf(out, "Rewrapped %d family keys under the new master key.\n", n)
	if generated {
		fmt.Fprintf(out, "Set ENCRYPTION_KEY=%s on every instance before starting them; the old key no longer opens the documents.\n", newKey)
	} else {
		fmt.Fprintln(out, "Set ENCRYPTION_KEY to the value of NEW_ENCRYPTION_KEY on every instance before starting them; the old key no longer opens the documents.")
	}
	return nil
}

// replaceKeyFile moves the current key file aside (encryption_key.old-<time>)
// and puts the next key (encryption_key.new) in its place.
func replaceKeyFile(dir string, now time.Time) error {
	cur := filepath.Join(dir, keyFileName)
	old := cur + ".old-" + now.UTC().Format("20060102T150405.000Z")
	if err := os.Link(cur, old); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("keep old key: %w", err)
	}
	if err := os.Rename(filepath.Join(dir, keyFileNext), cur); err != nil {
		return fmt.Errorf("install new key: %w", err)
	}
	return syncDir(dir)
}

// writeFileSynced writes name in dir atomically (temp file, fsync, rename,
// fsync of the directory), readable by the owner only.
func writeFileSynced(dir, name, content string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, name+".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.WriteString(content); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), filepath.Join(dir, name)); err != nil {
		return err
	}
	return syncDir(dir)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
