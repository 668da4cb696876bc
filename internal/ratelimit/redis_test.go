package ratelimit

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// testRedis connects to CARECIRCLE_TEST_REDIS_URL and returns a fresh key
// prefix whose keys are deleted when the test ends.
func testRedis(t *testing.T) (*redis.Client, string) {
	t.Helper()
	url := os.Getenv("CARECIRCLE_TEST_REDIS_URL")
	if url == "" {
		t.Skip("CARECIRCLE_TEST_REDIS_URL is not set")
	}
	opts, err := redis.ParseURL(url)
	if err != nil {
		t.Fatalf("parse CARECIRCLE_TEST_REDIS_URL: %v", err)
	}
	client := redis.NewClient(opts)
	prefix := fmt.Sprintf("carecircle-test:ratelimit:%016x:", rand.Uint64())
	t.Cleanup(func() {
		ctx := context.Background()
		keys, err := client.Keys(ctx, prefix+"*").Result()
		if err == nil && len(keys) > 0 {
			err = client.Del(ctx, keys...).Err()
		}
		if err != nil {
			t.Errorf("clean up %s*: %v", prefix, err)
		}
		_ = client.Close()
	})
	if err := client.Ping(t.Context()).Err(); err != nil {
		t.Fatalf("ping redis: %v", err)
	}
	return client, prefix
}

func TestRedis_InstancesShareTheCount(t *testing.T) {
	client, prefix := testRedis(t)
	// Two limiters, as two server instances would build them, each with its
	// own connection pool to the same Redis.
	other := redis.NewClient(client.Options())
	t.Cleanup(func() { _ = other.Close() })
	a := NewRedis(client, prefix, 3, time.Minute)
	b := NewRedis(other, prefix, 3, time.Minute)

	for i, l := range []Limiter{a, b, a} {
		if ok, _ := allow(t, l, "login:email:ana@example.org"); !ok {
			t.Fatalf("attempt %d denied", i+1)
		}
	}
	for name, l := range map[string]Limiter{"a": a, "b": b} {
		ok, retry := allow(t, l, "login:email:ana@example.org")
		if ok {
			t.Fatalf("instance %s allowed attempt 4", name)
		}
		// Three attempts were made just now: the wait is close to a full
		// minute and never more.
		if retry <= 50*time.Second || retry > time.Minute {
			t.Errorf("instance %s retryAfter = %v, want just under 1m", name, retry)
		}
	}
	if ok, _ := allow(t, b, "login:email:bo@example.org"); !ok {
		t.Error("another key was denied")
	}
}

func TestRedis_AllowsAgainAfterRetryAfter(t *testing.T) {
	client, prefix := testRedis(t)
	const window = 300 * time.Millisecond
	l := NewRedis(client, prefix, 2, window)
	allow(t, l, "k")
	allow(t, l, "k")
	start := time.Now()
	ok, retry := allow(t, l, "k")
	if ok || retry <= 0 || retry > window {
		t.Fatalf("got ok=%v retry=%v, want denied with 0 < retry <= %v", ok, retry, window)
	}
	// Poll until Redis's clock has moved the window past the first attempt.
	deadline := time.Now().Add(5 * time.Second)
	for {
		if ok, _ := allow(t, l, "k"); ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("still denied long after the window")
		}
		time.Sleep(10 * time.Millisecond)
	}
	// Allowed no earlier than promised (a little slack for the round trip).
	if waited := time.Since(start); waited < retry-20*time.Millisecond {
		t.Errorf("allowed after %v, before retryAfter %v", waited, retry)
	}
}

func TestRedis_ConcurrentAttemptsRespectTheLimit(t *testing.T) {
	client, prefix := testRedis(t)
	other := redis.NewClient(client.Options())
	t.Cleanup(func() { _ = other.Close() })
	limiters := []Limiter{NewRedis(client, prefix, 10, time.Minute), NewRedis(other, prefix, 10, time.Minute)}
	var allowed atomic.Int64
	var wg sync.WaitGroup
	for i := range 40 {
		wg.Go(func() {
			ok, _, err := limiters[i%2].Allow(t.Context(), "k")
			if err != nil {
				t.Error(err)
			}
			if ok {
				allowed.Add(1)
			}
		})
	}
	wg.Wait()
	if n := allowed.Load(); n != 10 {
		t.Fatalf("allowed %d of 40 concurrent attempts, want 10", n)
	}
}

func TestRedis_KeysExpireAndHideTheEmail(t *testing.T) {
	client, prefix := testRedis(t)
	l := NewRedis(client, prefix, 5, time.Minute)
	allow(t, l, "forgot:email:ana@example.org")
	keys, err := client.Keys(t.Context(), prefix+"*").Result()
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 1 {
		t.Fatalf("keys = %v, want one", keys)
	}
	if ttl := client.PTTL(t.Context(), keys[0]).Val(); ttl <= 0 || ttl > time.Minute {
		t.Errorf("TTL = %v, want within (0, 1m]", ttl)
	}
	for _, k := range keys {
		if len(k) != len(prefix)+32 {
			t.Errorf("key %q is not prefix + 32 hex characters", k)
		}
	}
}

func TestRedis_LimitZeroDisables(t *testing.T) {
	client, prefix := testRedis(t)
	l := NewRedis(client, prefix, 0, time.Minute)
	for range 100 {
		if ok, _ := allow(t, l, "k"); !ok {
			t.Fatal("denied with limit 0")
		}
	}
	if keys := client.Keys(t.Context(), prefix+"*").Val(); len(keys) != 0 {
		t.Fatalf("limit 0 wrote keys %v", keys)
	}
}

func TestRedis_UnreachableReturnsError(t *testing.T) {
	client := redis.NewClient(&redis.Options{Addr: unusedAddr(t), MaxRetries: -1, DialTimeout: time.Second})
	t.Cleanup(func() { _ = client.Close() })
	ok, _, err := NewRedis(client, "x:", 5, time.Minute).Allow(t.Context(), "k")
	if err == nil {
		t.Fatal("Allow succeeded without Redis")
	}
	if ok {
		t.Fatal("Allow returned ok together with an error")
	}
}
