package ratelimit

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/redis/go-redis/v9"
)

// slidingLog runs the whole check-and-record atomically in Redis. Times come
// from the Redis server's clock (TIME), in microseconds, so instances whose
// clocks disagree still share one consistent window. Each key is a sorted set
// of allowed attempts scored by time; it expires a window after the latest
// one, so idle keys cost nothing.
//
// KEYS[1] the key; ARGV[1] limit; ARGV[2] window in µs; ARGV[3] a random
// member name, unique per attempt. Returns {1, 0} when allowed, {0, µs until allowed} when not.
var slidingLog = redis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) < limit then
  redis.call('ZADD', KEYS[1], now, ARGV[3])
  redis.call('PEXPIRE', KEYS[1], math.ceil(window / 1000))
  return {1, 0}
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return {0, tonumber(oldest[2]) + window - now}
`)

// redisLimiter is the sliding-window log kept in Redis.
type redisLimiter struct {
	client redis.Scripter
	prefix string
	limit  int
	window time.Duration
}

// NewRedis returns a limiter allowing limit attempts per key in any span of
// window, shared by every instance using the same Redis and prefix. Keys are
// stored as prefix + a SHA-256 of key, so email addresses do not appear in
// Redis. client is usually a *redis.Client. A limit of 0 (or less) disables
// limiting; a window under a millisecond panics. It needs Redis 5 or later.
func NewRedis(client redis.Scripter, prefix string, limit int, window time.Duration) Limiter {
	if limit <= 0 {
		return unlimited{}
	}
	if window < time.Millisecond {
		panic(fmt.Sprintf("ratelimit: window must be at least 1ms, got %v", window))
	}
	return &redisLimiter{client: client, prefix: prefix, limit: limit, window: window}
}

func (r *redisLimiter) Allow(ctx context.Context, key string) (bool, time.Duration, error) {
	sum := sha256.Sum256([]byte(key))
	redisKey := r.prefix + hex.EncodeToString(sum[:16])
	member := fmt.Sprintf("%016x", rand.Uint64())
	res, err := slidingLog.Run(ctx, r.client, []string{redisKey},
		r.limit, r.window.Microseconds(), member).Int64Slice()
	if err != nil {
		return false, 0, fmt.Errorf("ratelimit: redis: %w", err)
	}
	if len(res) != 2 {
		return false, 0, fmt.Errorf("ratelimit: redis: unexpected reply %v", res)
	}
	if res[0] == 1 {
		return true, 0, nil
	}
	retry := time.Duration(res[1]) * time.Microsecond
	return false, min(max(retry, time.Microsecond), r.window), nil
}
