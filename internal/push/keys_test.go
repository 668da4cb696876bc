package push_test

import (
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/carecircle/carecircle/internal/push"
)

func TestGenerateKeys_ReturnsBrowserReadyPair(t *testing.T) {
	k, err := push.GenerateKeys()
	if err != nil {
		t.Fatal(err)
	}
	pub, err := base64.RawURLEncoding.DecodeString(k.Public)
	if err != nil || len(pub) != 65 || pub[0] != 0x04 {
		t.Errorf("public key should be 65 bytes of unpadded base64url uncompressed point; got %d bytes, err %v", len(pub), err)
	}
	priv, err := base64.RawURLEncoding.DecodeString(k.Private)
	if err != nil || len(priv) != 32 {
		t.Errorf("private key should be 32 bytes of unpadded base64url; got %d bytes, err %v", len(priv), err)
	}
	if err := k.Validate(); err != nil {
		t.Errorf("Validate: %v", err)
	}
	k2, err := push.GenerateKeys()
	if err != nil {
		t.Fatal(err)
	}
	if k2 == k {
		t.Error("two calls returned the same keys")
	}
}

func TestLoadOrCreateKeys_PersistsAndReloads(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data") // does not exist yet
	path := filepath.Join(dir, "vapid.json")

	first, err := push.LoadOrCreateKeys(path, "", "")
	if err != nil {
		t.Fatalf("first start: %v", err)
	}
	if err := first.Validate(); err != nil {
		t.Fatalf("generated keys invalid: %v", err)
	}
	info, err := os.Stat(path)
	if err != nil {
		t.Fatalf("key file not written: %v", err)
	}
	if mode := info.Mode().Perm(); mode != 0o600 {
		t.Errorf("key file mode = %o, want 600", mode)
	}
	var onDisk push.Keys
	data, _ := os.ReadFile(path)
	if err := json.Unmarshal(data, &onDisk); err != nil || onDisk != first {
		t.Errorf("file holds %+v (err %v), want the returned keys", onDisk, err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("directory holds %d entries, want only the key file (no temp files left)", len(entries))
	}

	second, err := push.LoadOrCreateKeys(path, "", "")
	if err != nil {
		t.Fatalf("second start: %v", err)
	}
	if second != first {
		t.Errorf("second start returned %+v, want the persisted %+v", second, first)
	}
}

func TestLoadOrCreateKeys_ConcurrentFirstStartsAgree(t *testing.T) {
	path := filepath.Join(t.TempDir(), "vapid.json")
	const n = 8
	got := make([]push.Keys, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { got[i], errs[i] = push.LoadOrCreateKeys(path, "", "") })
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("start %d: %v", i, errs[i])
		}
		if got[i] != got[0] {
			t.Errorf("start %d got different keys than start 0", i)
		}
	}
	onDisk, err := push.LoadOrCreateKeys(path, "", "")
	if err != nil || onDisk != got[0] {
		t.Errorf("file holds %+v (err %v), want the keys every start returned", onDisk, err)
	}
}

func TestLoadOrCreateKeys_EnvironmentOverridesFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "vapid.json")
	env, err := push.GenerateKeys()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		pub, priv string
	}{
		{"unpadded base64url", env.Public, env.Private},
		{"padded base64url", env.Public + "=", env.Private + "="},
		{"standard base64", base64.StdEncoding.EncodeToString(mustDecode(t, env.Public)), base64.StdEncoding.EncodeToString(mustDecode(t, env.Private))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := push.LoadOrCreateKeys(path, tt.pub, tt.priv)
			if err != nil {
				t.Fatalf("load: %v", err)
			}
			if got != env {
				t.Errorf("got %+v, want the environment's keys in canonical form %+v", got, env)
			}
		})
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("a key file was written although the environment supplied keys (stat err %v)", err)
	}
}

func TestLoadOrCreateKeys_RejectsBadEnvironment(t *testing.T) {
	a, err := push.GenerateKeys()
	if err != nil {
		t.Fatal(err)
	}
	b, err := push.GenerateKeys()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		pub, priv string
		wantErr   string
	}{
		{"mismatched pair", a.Public, b.Private, "does not match"},
		{"only public", a.Public, "", "both"},
		{"only private", "", a.Private, "both"},
		{"public not base64", "not base64!", a.Private, "public key"},
		{"public off the curve", base64.RawURLEncoding.EncodeToString(append([]byte{4}, make([]byte, 64)...)), a.Private, "P-256 point"},
		{"private wrong length", a.Public, base64.RawURLEncoding.EncodeToString(make([]byte, 31)), "private key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "vapid.json")
			_, err := push.LoadOrCreateKeys(path, tt.pub, tt.priv)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("error = %v, want one containing %q", err, tt.wantErr)
			}
			if _, err := os.Stat(path); !os.IsNotExist(err) {
				t.Error("a key file was written despite the bad environment")
			}
		})
	}
}

func TestLoadOrCreateKeys_DamagedFileFailsAndIsKept(t *testing.T) {
	a, _ := push.GenerateKeys()
	b, _ := push.GenerateKeys()
	mismatched, _ := json.Marshal(push.Keys{Public: a.Public, Private: b.Private})
	tests := []struct {
		name    string
		content []byte
	}{
		{"not json", []byte("{truncated")},
		{"mismatched pair", mismatched},
		{"empty", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "vapid.json")
			if err := os.WriteFile(path, tt.content, 0o600); err != nil {
				t.Fatal(err)
			}
			if _, err := push.LoadOrCreateKeys(path, "", ""); err == nil {
				t.Fatal("a damaged key file was accepted")
			}
			// Regenerating would silently break every subscription.
			if data, _ := os.ReadFile(path); string(data) != string(tt.content) {
				t.Error("the damaged key file was overwritten")
			}
		})
	}
}

func mustDecode(t *testing.T, s string) []byte {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
