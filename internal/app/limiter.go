package app

import (
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/carecircle/carecircle"
	"github.com/carecircle/carecircle/internal/config"
	"github.com/carecircle/carecircle/internal/ratelimit"
)

// newLimiter returns the auth rate limiter: AUTH_RATE_LIMIT attempts per
// minute per key, shared through Redis when REDIS_URL is set.
func newLimiter(cfg config.Config, clock carecircle.Clock) (ratelimit.Limiter, func() error, error) {
	if cfg.RedisURL == "" {
		return ratelimit.NewMemory(cfg.AuthRateLimit, time.Minute, clock), func() error { return nil }, nil
	}
	opt, err := redis.ParseURL(cfg.RedisURL)
	if err != nil {
		return nil, nil, fmt.Errorf("REDIS_URL: %w", err)
	}
	client := redis.NewClient(opt)
	return ratelimit.NewRedis(client, cfg.RedisPrefix+"rl:", cfg.AuthRateLimit, time.Minute), client.Close, nil
}
