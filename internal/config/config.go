// Package config reads CareCircle's settings from environment variables and
// provides the secrets: taken from the environment, or in embedded mode
// generated once and kept under DATA_DIR.
package config

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Config is every setting of one process.
type Config struct {
	Port          int
	BaseURL       string
	DataDir       string
	DatabaseURL   string // postgres://… in scale-out mode; else a SQLite file under DataDir
	ScaleOut      bool   // DATABASE_URL is PostgreSQL
	RedisURL      string
	RedisPrefix   string // key prefix, to share one Redis between deployments [carecircle:]
	AMQPURL       string
	AMQPExchange  string // topic exchange [carecircle.events]
	AMQPPrefix    string // queue name prefix [carecircle]
	JWTSecret     []byte
	AuthRateLimit int // attempts per minute per client and per email; 0 disables
	TrustProxy    bool
	LogLevel      string
	LogFormat     string // "text" or "json"

	SMTPHost string
	SMTPPort int
	SMTPUser string
	SMTPPass string
	SMTPFrom string
	SMTPTLS  string

	VAPIDPublicKey  string
	VAPIDPrivateKey string
	VAPIDSubject    string

	EncryptionKey  string // master key for documents (base64 or hex, 32 bytes)
	UploadLimit    int64  // bytes
	S3Bucket       string
	S3Region       string
	S3Endpoint     string
	S3AccessKey    string
	S3SecretKey    string
	S3ForcePath    bool
	EventRetention int // days a relayed event stays in the outbox
	DisableJobs    bool
}

// Getenv reads a variable; tests pass a map's lookup instead of os.Getenv.
type Getenv func(string) string

// Load reads the configuration. Secrets missing in embedded mode are created
// under DATA_DIR; missing in scale-out mode they are an error, because every
// instance must share them.
func Load(env Getenv) (Config, error) {
	c := Config{
		Port:          intOr(env("PORT"), 3000),
		DataDir:       or(env("DATA_DIR"), "./data"),
		DatabaseURL:   env("DATABASE_URL"),
		RedisURL:      env("REDIS_URL"),
		RedisPrefix:   or(env("REDIS_KEY_PREFIX"), "carecircle:"),
		AMQPURL:       or(env("AMQP_URL"), env("RABBITMQ_URL")),
		AMQPExchange:  or(env("AMQP_EXCHANGE"), "carecircle.events"),
		AMQPPrefix:    or(env("AMQP_QUEUE_PREFIX"), "carecircle"),
		AuthRateLimit: intOr(env("AUTH_RATE_LIMIT"), 20),
		TrustProxy:    boolOr(env("TRUST_PROXY")),
		LogLevel:      or(env("LOG_LEVEL"), "info"),
		LogFormat:     or(env("LOG_FORMAT"), "text"),
		SMTPHost:      env("SMTP_HOST"),
		SMTPPort:      intOr(env("SMTP_PORT"), 587),
		SMTPUser:      env("SMTP_USER"),
		SMTPPass:      env("SMTP_PASS"),
		SMTPFrom:      or(env("SMTP_FROM"), "CareCircle <no-reply@carecircle.local>"),
		SMTPTLS:       or(env("SMTP_TLS"), "auto"),

		VAPIDPublicKey:  env("VAPID_PUBLIC_KEY"),
		VAPIDPrivateKey: env("VAPID_PRIVATE_KEY"),
		VAPIDSubject:    env("VAPID_SUBJECT"),

		EncryptionKey:  env("ENCRYPTION_KEY"),
		UploadLimit:    int64(intOr(env("UPLOAD_LIMIT_MB"), 25)) << 20,
		S3Bucket:       env("AWS_S3_BUCKET"),
		S3Region:       or(env("AWS_REGION"), "us-east-1"),
		S3Endpoint:     env("AWS_S3_ENDPOINT"),
		S3AccessKey:    env("AWS_ACCESS_KEY_ID"),
		S3SecretKey:    env("AWS_SECRET_ACCESS_KEY"),
		S3ForcePath:    boolOr(env("AWS_S3_FORCE_PATH_STYLE")),
		EventRetention: intOr(env("EVENT_RETENTION_DAYS"), 7),
		DisableJobs:    boolOr(env("DISABLE_JOBS")),
	}
	c.BaseURL = strings.TrimRight(or(env("BASE_URL"), fmt.Sprintf("http://localhost:%d", c.Port)), "/")
	if u, err := url.Parse(c.BaseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return c, fmt.Errorf("BASE_URL must be an http(s) URL, got %q", c.BaseURL)
	}
	if c.Port <= 0 || c.Port > 65535 {
		return c, fmt.Errorf("PORT must be 1-65535")
	}
	if c.AuthRateLimit < 0 {
		return c, fmt.Errorf("AUTH_RATE_LIMIT must be 0 (off) or a positive number")
	}
	c.ScaleOut = strings.HasPrefix(c.DatabaseURL, "postgres://") || strings.HasPrefix(c.DatabaseURL, "postgresql://")
	if c.DatabaseURL == "" {
		c.DatabaseURL = filepath.Join(c.DataDir, "carecircle.db")
	}
	if c.VAPIDSubject == "" {
		c.VAPIDSubject = "mailto:admin@" + hostOf(c.BaseURL)
	}
	secret := env("JWT_SECRET")
	switch {
	case secret != "":
		if len(secret) < 32 {
			return c, errors.New("JWT_SECRET must be at least 32 characters")
		}
		c.JWTSecret = []byte(secret)
	case c.ScaleOut:
		return c, errors.New("JWT_SECRET is required when DATABASE_URL points at PostgreSQL: every instance must share it")
	default:
		s, err := c.persistedSecret("jwt_secret")
		if err != nil {
			return c, err
		}
		c.JWTSecret = []byte(s)
	}
	if c.EncryptionKey == "" {
		if c.ScaleOut {
			return c, errors.New("ENCRYPTION_KEY is required when DATABASE_URL points at PostgreSQL: every instance must share it")
		}
		k, err := c.persistedSecret("encryption_key")
		if err != nil {
			return c, err
		}
		c.EncryptionKey = k
	}
	return c, nil
}

// SecretsDir is where embedded mode keeps generated secrets.
func (c Config) SecretsDir() string { return filepath.Join(c.DataDir, "secrets") }

// persistedSecret returns the named 32-byte secret (base64) from DATA_DIR,
// generating it on first use. The file is created exclusively so two
// processes starting together agree on one value.
func (c Config) persistedSecret(name string) (string, error) {
	dir := c.SecretsDir()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("secrets dir: %w", err)
	}
	path := filepath.Join(dir, name)
	if b, err := os.ReadFile(path); err == nil {
		s := strings.TrimSpace(string(b))
		if len(s) < 32 {
			return "", fmt.Errorf("%s is damaged (too short); restore it from a backup", path)
		}
		return s, nil
	}
	buf := make([]byte, 32)
	if _, err := rand.Read(buf); err != nil {
		return "", err
	}
	s := base64.StdEncoding.EncodeToString(buf)
	// Write a temp file, then hard-link it into place: the link fails if a
	// concurrent first start won, and a crash never leaves a half-written
	// secret behind.
	tmp, err := os.CreateTemp(dir, name+".tmp-*")
	if err != nil {
		return "", fmt.Errorf("write %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.WriteString(s + "\n"); err != nil {
		tmp.Close()
		return "", err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return "", err
	}
	if err := tmp.Close(); err != nil {
		return "", err
	}
	if err := os.Link(tmp.Name(), path); err != nil {
		if errors.Is(err, os.ErrExist) {
			return c.persistedSecret(name)
		}
		return "", fmt.Errorf("write %s: %w", path, err)
	}
	return s, nil
}

// SecureCookies reports whether cookies get the Secure flag.
func (c Config) SecureCookies() bool { return strings.HasPrefix(c.BaseURL, "https://") }

func or(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

func intOr(v string, def int) int {
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil {
		return -1
	}
	return n
}

func boolOr(v string) bool {
	b, _ := strconv.ParseBool(strings.TrimSpace(v))
	return b
}

func hostOf(u string) string {
	p, err := url.Parse(u)
	if err != nil || p.Hostname() == "" || p.Hostname() == "localhost" {
		return "carecircle.local"
	}
	return p.Hostname()
}
