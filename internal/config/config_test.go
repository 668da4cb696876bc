package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func env(m map[string]string) Getenv { return func(k string) string { return m[k] } }

func TestLoad_EmbeddedGeneratesSecretsOnceAndReusesThem(t *testing.T) {
	dir := t.TempDir()
	a, err := Load(env(map[string]string{"DATA_DIR": dir}))
	if err != nil {
		t.Fatal(err)
	}
	if a.ScaleOut || a.Port != 3000 || a.BaseURL != "http://localhost:3000" || a.AuthRateLimit != 20 ||
		a.DatabaseURL != filepath.Join(dir, "carecircle.db") {
		t.Fatalf("defaults = %+v", a)
	}
	if len(a.JWTSecret) < 32 || a.EncryptionKey == "" {
		t.Fatal("secrets not generated")
	}
	info, err := os.Stat(filepath.Join(dir, "secrets", "jwt_secret"))
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("secret file: %v %v", err, info)
	}
	b, err := Load(env(map[string]string{"DATA_DIR": dir}))
	if err != nil {
		t.Fatal(err)
	}
	if string(a.JWTSecret) != string(b.JWTSecret) || a.EncryptionKey != b.EncryptionKey {
		t.Fatal("a second start generated new secrets")
	}
}

func TestLoad_ScaleOutRequiresSharedSecrets(t *testing.T) {
	base := map[string]string{"DATA_DIR": t.TempDir(), "DATABASE_URL": "postgres://db/carecircle"}
	if _, err := Load(env(base)); err == nil || !strings.Contains(err.Error(), "JWT_SECRET") {
		t.Fatalf("err = %v, want JWT_SECRET required", err)
	}
	base["JWT_SECRET"] = strings.Repeat("s", 40)
	if _, err := Load(env(base)); err == nil || !strings.Contains(err.Error(), "ENCRYPTION_KEY") {
		t.Fatalf("err = %v, want ENCRYPTION_KEY required", err)
	}
	base["ENCRYPTION_KEY"] = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="
	c, err := Load(env(base))
	if err != nil || !c.ScaleOut {
		t.Fatalf("scale-out config: %v %+v", err, c)
	}
}

func TestLoad_RejectsBadValues(t *testing.T) {
	for name, m := range map[string]map[string]string{
		"short secret":   {"JWT_SECRET": "short"},
		"bad base url":   {"BASE_URL": "ftp://x"},
		"bad port":       {"PORT": "70000"},
		"bad rate limit": {"AUTH_RATE_LIMIT": "-3"},
	} {
		m["DATA_DIR"] = t.TempDir()
		if _, err := Load(env(m)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	c, err := Load(env(map[string]string{"DATA_DIR": t.TempDir(), "BASE_URL": "https://care.example.org/", "RABBITMQ_URL": "amqp://x"}))
	if err != nil || !c.SecureCookies() || c.BaseURL != "https://care.example.org" || c.AMQPURL != "amqp://x" {
		t.Fatalf("config %+v %v", c, err)
	}
}
