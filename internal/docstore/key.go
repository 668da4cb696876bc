package docstore

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// KeySize is the length in bytes of master keys and data keys (AES-256).
const KeySize = 32

// wrapVersion is the first byte of a wrapped data key; it names the wrapping
// scheme so a later scheme can be told apart.
const wrapVersion = 1

// wrapAAD binds a wrapped key to its purpose, so a ciphertext made with the
// master key for anything else never unwraps as a data key.
var wrapAAD = []byte("carecircle/docstore data key v1")

// ErrUnwrap means a wrapped data key did not open: the master key is wrong or
// the wrapped bytes were damaged.
var ErrUnwrap = errors.New("docstore: cannot unwrap data key (wrong master key or damaged)")

// NewDataKey returns a fresh random 32-byte data key, one per family. Store it
// only wrapped (WrapKey).
func NewDataKey() ([]byte, error) {
	k := make([]byte, KeySize)
	if _, err := rand.Read(k); err != nil {
		return nil, fmt.Errorf("new data key: %w", err)
	}
	return k, nil
}

// GenerateMasterKey returns a fresh random master key in its text form
// (standard base64), ready for configuration.
func GenerateMasterKey() (string, error) {
	k, err := NewDataKey()
	if err != nil {
		return "", fmt.Errorf("generate master key: %w", err)
	}
	return base64.StdEncoding.EncodeToString(k), nil
}

// ParseMasterKey decodes a 32-byte master key written as hex (64 digits) or
// base64 (standard or URL alphabet, padded or not). Surrounding space is
// ignored.
func ParseMasterKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if len(s) == 2*KeySize {
		if k, err := hex.DecodeString(s); err == nil {
			return k, nil
		}
	}
	for _, enc := range []*base64.Encoding{
		base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding,
	} {
		if k, err := enc.DecodeString(s); err == nil && len(k) == KeySize {
			return k, nil
		}
	}
	return nil, errors.New("parse master key: want 32 bytes as 64 hex digits or base64")
}

// WrapKey encrypts a data key under the master key with AES-256-GCM and a
// random nonce. The result (61 bytes) is what gets stored next to the family.
func WrapKey(master, dataKey []byte) ([]byte, error) {
	if len(dataKey) != KeySize {
		return nil, fmt.Errorf("wrap key: data key is %d bytes, want %d", len(dataKey), KeySize)
	}
	aead, err := newGCM(master)
	if err != nil {
		return nil, fmt.Errorf("wrap key: %w", err)
	}
	out := make([]byte, 1+aead.NonceSize(), 1+aead.NonceSize()+KeySize+aead.Overhead())
	out[0] = wrapVersion
	if _, err := rand.Read(out[1:]); err != nil {
		return nil, fmt.Errorf("wrap key: %w", err)
	}
	return aead.Seal(out, out[1:], dataKey, wrapAAD), nil
}

// UnwrapKey reverses WrapKey. It fails with ErrUnwrap when the master key is
// not the one used to wrap, or the wrapped bytes were altered.
func UnwrapKey(master, wrapped []byte) ([]byte, error) {
	aead, err := newGCM(master)
	if err != nil {
		return nil, fmt.Errorf("unwrap key: %w", err)
	}
	ns := aead.NonceSize()
	if len(wrapped) != 1+ns+KeySize+aead.Overhead() || wrapped[0] != wrapVersion {
		return nil, ErrUnwrap
	}
	k, err := aead.Open(nil, wrapped[1:1+ns], wrapped[1+ns:], wrapAAD)
	if err != nil {
		return nil, ErrUnwrap
	}
	return k, nil
}

// RewrapKey moves a wrapped data key from one master key to another: the
// whole of a master-key rotation. Documents are untouched because the data
// key itself does not change.
func RewrapKey(oldMaster, newMaster, wrapped []byte) ([]byte, error) {
	k, err := UnwrapKey(oldMaster, wrapped)
	if err != nil {
		return nil, fmt.Errorf("rewrap key: %w", err)
	}
	return WrapKey(newMaster, k)
}

// newGCM returns AES-256-GCM under key, refusing any other key length so a
// short key never silently selects AES-128.
func newGCM(key []byte) (cipher.AEAD, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("key is %d bytes, want %d", len(key), KeySize)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}
