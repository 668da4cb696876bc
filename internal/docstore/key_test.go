package docstore

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
)

func mustKey(t testing.TB) []byte {
	t.Helper()
	k, err := NewDataKey()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestWrapKey_RoundTripsAndRefusesWrongMaster(t *testing.T) {
	master, other, dataKey := mustKey(t), mustKey(t), mustKey(t)
	wrapped, err := WrapKey(master, dataKey)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(wrapped, dataKey) {
		t.Fatal("wrapped key contains the data key in clear")
	}
	got, err := UnwrapKey(master, wrapped)
	if err != nil || !bytes.Equal(got, dataKey) {
		t.Fatalf("UnwrapKey = %x, %v; want %x", got, err, dataKey)
	}
	if _, err := UnwrapKey(other, wrapped); !errors.Is(err, ErrUnwrap) {
		t.Errorf("unwrap with another master: err = %v, want ErrUnwrap", err)
	}
	for i := range wrapped {
		bad := bytes.Clone(wrapped)
		bad[i] ^= 0x01
		if _, err := UnwrapKey(master, bad); !errors.Is(err, ErrUnwrap) {
			t.Errorf("flipped byte %d: err = %v, want ErrUnwrap", i, err)
		}
	}
	if _, err := UnwrapKey(master, wrapped[:len(wrapped)-1]); !errors.Is(err, ErrUnwrap) {
		t.Errorf("truncated: err = %v, want ErrUnwrap", err)
	}
	again, _ := WrapKey(master, dataKey)
	if bytes.Equal(again, wrapped) {
		t.Error("two wraps of the same key are identical; the nonce is not random")
	}
}

func TestWrapKey_RefusesWrongKeyLengths(t *testing.T) {
	if _, err := WrapKey(make([]byte, 16), mustKey(t)); err == nil {
		t.Error("16-byte master accepted")
	}
	if _, err := WrapKey(mustKey(t), make([]byte, 16)); err == nil {
		t.Error("16-byte data key accepted")
	}
}

func TestRewrapKey_OnlyTheNewMasterOpensTheResult(t *testing.T) {
	oldMaster, newMaster, dataKey := mustKey(t), mustKey(t), mustKey(t)
	wrapped, _ := WrapKey(oldMaster, dataKey)
	rewrapped, err := RewrapKey(oldMaster, newMaster, wrapped)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := UnwrapKey(newMaster, rewrapped); err != nil || !bytes.Equal(got, dataKey) {
		t.Fatalf("unwrap rewrapped = %x, %v", got, err)
	}
	if _, err := UnwrapKey(oldMaster, rewrapped); !errors.Is(err, ErrUnwrap) {
		t.Errorf("old master opens the rewrapped key: %v", err)
	}
	if _, err := RewrapKey(newMaster, oldMaster, wrapped); !errors.Is(err, ErrUnwrap) {
		t.Errorf("rewrap with the wrong old master: err = %v, want ErrUnwrap", err)
	}
}

func TestParseMasterKey_AcceptsHexAndBase64(t *testing.T) {
	k := mustKey(t)
	for name, s := range map[string]string{
		"hex":             hex.EncodeToString(k),
		"hex upper":       strings.ToUpper(hex.EncodeToString(k)),
		"base64":          base64.StdEncoding.EncodeToString(k),
		"base64 raw":      base64.RawStdEncoding.EncodeToString(k),
		"base64 url":      base64.URLEncoding.EncodeToString(k),
		"base64 raw url":  base64.RawURLEncoding.EncodeToString(k),
		"with whitespace": "  " + base64.StdEncoding.EncodeToString(k) + "\n",
	} {
		t.Run(name, func(t *testing.T) {
			got, err := ParseMasterKey(s)
			if err != nil || !bytes.Equal(got, k) {
				t.Errorf("ParseMasterKey(%q) = %x, %v; want %x", s, got, err, k)
			}
		})
	}
	for _, bad := range []string{"", "short", hex.EncodeToString(k[:16]), base64.StdEncoding.EncodeToString(append(k, 1)), "zz" + hex.EncodeToString(k)[2:]} {
		if _, err := ParseMasterKey(bad); err == nil {
			t.Errorf("ParseMasterKey(%q) accepted", bad)
		}
	}
}

func TestGenerateMasterKey_ParsesBackToFreshKeys(t *testing.T) {
	a, err := GenerateMasterKey()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := GenerateMasterKey()
	ka, err := ParseMasterKey(a)
	if err != nil || len(ka) != KeySize {
		t.Fatalf("ParseMasterKey(%q) = %x, %v", a, ka, err)
	}
	if a == b {
		t.Error("two generated master keys are equal")
	}
}
