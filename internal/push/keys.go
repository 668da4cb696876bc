package push

import (
	"bytes"
	"crypto/ecdh"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Keys is the VAPID key pair (RFC 8292) the server signs push requests with.
// Public is the 65-byte uncompressed P-256 point and Private the 32-byte
// scalar, both URL-safe base64 without padding: the form browsers expect as
// applicationServerKey.
type Keys struct {
	Public  string `json:"publicKey"`
	Private string `json:"privateKey"`
}

// GenerateKeys returns a fresh VAPID key pair.
func GenerateKeys() (Keys, error) {
	priv, err := ecdh.P256().GenerateKey(rand.Reader)
	if err != nil {
		return Keys{}, fmt.Errorf("generate vapid keys: %w", err)
	}
	return Keys{
		Public:  base64.RawURLEncoding.EncodeToString(priv.PublicKey().Bytes()),
		Private: base64.RawURLEncoding.EncodeToString(priv.Bytes()),
	}, nil
}

// Validate reports whether k is a P-256 key pair whose public half matches
// its private half. Keys from GenerateKeys and LoadOrCreateKeys are valid.
func (k Keys) Validate() error {
	_, err := parseKeys(k)
	return err
}

// parseKeys decodes both halves, checks that they belong together and returns
// the pair in canonical form (unpadded URL-safe base64).
func parseKeys(k Keys) (Keys, error) {
	privBytes, err := decodeBase64(k.Private)
	if err != nil {
		return Keys{}, fmt.Errorf("vapid private key: %w", err)
	}
	priv, err := ecdh.P256().NewPrivateKey(privBytes)
	if err != nil {
		return Keys{}, fmt.Errorf("vapid private key is not a P-256 scalar: %w", err)
	}
	pubBytes, err := decodeBase64(k.Public)
	if err != nil {
		return Keys{}, fmt.Errorf("vapid public key: %w", err)
	}
	if _, err := ecdh.P256().NewPublicKey(pubBytes); err != nil {
		return Keys{}, fmt.Errorf("vapid public key is not an uncompressed P-256 point: %w", err)
	}
	if !bytes.Equal(priv.PublicKey().Bytes(), pubBytes) {
		return Keys{}, errors.New("vapid public key does not match the private key")
	}
	return Keys{
		Public:  base64.RawURLEncoding.EncodeToString(pubBytes),
		Private: base64.RawURLEncoding.EncodeToString(privBytes),
	}, nil
}

// LoadOrCreateKeys returns the server's VAPID keys. When both env values are
// set they win (and must form a P-256 pair); setting only one is an error
// because silently falling back to the file would sign with keys the operator
// did not choose. Otherwise the keys are read from the JSON file at path, or
// generated and written there on first start. Changing keys invalidates every
// browser subscription, so the file is created once and never overwritten.
func LoadOrCreateKeys(path string, fromEnvPublic, fromEnvPrivate string) (Keys, error) {
	switch {
	case fromEnvPublic != "" && fromEnvPrivate != "":
		k, err := parseKeys(Keys{Public: fromEnvPublic, Private: fromEnvPrivate})
		if err != nil {
			return Keys{}, fmt.Errorf("vapid keys from environment: %w", err)
		}
		return k, nil
	case fromEnvPublic != "" || fromEnvPrivate != "":
		return Keys{}, errors.New("vapid keys from environment: set both the public and the private key, or neither")
	}

	k, err := readKeyFile(path)
	if err == nil {
		return k, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return Keys{}, err
	}
	k, err = GenerateKeys()
	if err != nil {
		return Keys{}, err
	}
	created, err := createKeyFile(path, k)
	if err != nil {
		return Keys{}, err
	}
	if !created {
		// Another process created the file between our read and our write;
		// its keys are the ones browsers will subscribe with.
		return readKeyFile(path)
	}
	return k, nil
}

func readKeyFile(path string) (Keys, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Keys{}, fmt.Errorf("read vapid key file: %w", err)
	}
	var k Keys
	if err := json.Unmarshal(data, &k); err != nil {
		return Keys{}, fmt.Errorf("read vapid key file %s: %w", path, err)
	}
	k, err = parseKeys(k)
	if err != nil {
		return Keys{}, fmt.Errorf("read vapid key file %s: %w", path, err)
	}
	return k, nil
}

// createKeyFile writes k to path with mode 0600 without ever exposing a
// partial file: it writes a temporary file in the same directory, syncs it,
// then hard-links it into place, which fails instead of overwriting when
// path already exists. It reports false when path already existed.
func createKeyFile(path string, k Keys) (created bool, err error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return false, fmt.Errorf("create vapid key directory: %w", err)
	}
	data, err := json.MarshalIndent(k, "", "  ")
	if err != nil {
		return false, fmt.Errorf("encode vapid keys: %w", err)
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return false, fmt.Errorf("create vapid key file: %w", err)
	}
	defer os.Remove(tmp.Name())
	// CreateTemp already uses 0600; Chmod guards against a future change there.
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return false, fmt.Errorf("create vapid key file: %w", err)
	}
	if _, err := tmp.Write(append(data, '\n')); err != nil {
		tmp.Close()
		return false, fmt.Errorf("write vapid key file: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return false, fmt.Errorf("sync vapid key file: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return false, fmt.Errorf("close vapid key file: %w", err)
	}
	if err := os.Link(tmp.Name(), path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return false, nil
		}
		return false, fmt.Errorf("install vapid key file: %w", err)
	}
	syncDir(dir)
	return true, nil
}

// syncDir makes the new directory entry durable. Failure only risks losing a
// freshly generated key file on power loss, so it is not reported.
func syncDir(dir string) {
	d, err := os.Open(dir)
	if err != nil {
		return
	}
	_ = d.Sync()
	_ = d.Close()
}

// decodeBase64 accepts URL-safe or standard base64, padded or not: browsers
// send unpadded URL-safe, but keys pasted into configuration or encoded by
// other libraries often use the other forms.
func decodeBase64(s string) ([]byte, error) {
	s = strings.TrimRight(strings.TrimSpace(s), "=")
	if s == "" {
		return nil, errors.New("empty")
	}
	if strings.ContainsAny(s, "+/") {
		return base64.RawStdEncoding.DecodeString(s)
	}
	return base64.RawURLEncoding.DecodeString(s)
}
