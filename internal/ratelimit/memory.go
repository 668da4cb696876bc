package ratelimit

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/carecircle/carecircle"
)

// memory is the in-process sliding-window log.
type memory struct {
	limit  int
	window time.Duration
	clock  carecircle.Clock

	mu sync.Mutex
	// hits holds, per key, the times (Unix ns) of allowed attempts still
	// inside the window, oldest first; at most limit entries each.
	hits      map[string][]int64
	nextSweep time.Time
}

// NewMemory returns a limiter allowing limit attempts per key in any span of
// window, kept in this process. Memory stays bounded: each key keeps at most
// limit timestamps, and keys whose attempts have all left the window are
// evicted by a sweep that runs at most once per window. A limit of 0 (or
// less) disables limiting. It panics when window is not positive, a wiring
// mistake rather than a runtime condition.
func NewMemory(limit int, window time.Duration, clock carecircle.Clock) Limiter {
	if limit <= 0 {
		return unlimited{}
	}
	if window <= 0 {
		panic(fmt.Sprintf("ratelimit: window must be positive, got %v", window))
	}
	return &memory{limit: limit, window: window, clock: clock, hits: make(map[string][]int64)}
}

func (m *memory) Allow(_ context.Context, key string) (bool, time.Duration, error) {
	now := m.clock.Now()
	cut := now.Add(-m.window).UnixNano()

	m.mu.Lock()
	defer m.mu.Unlock()
	m.sweep(now, cut)

	h := m.hits[key]
	expired := 0
	for expired < len(h) && h[expired] <= cut {
		expired++
	}
	if expired > 0 {
		h = append(h[:0], h[expired:]...)
	}
	if len(h) >= m.limit {
		m.hits[key] = h
		retry := time.Duration(h[0] - cut)
		// A clock stepped backwards could make this exceed the window.
		return false, min(max(retry, 1), m.window), nil
	}
	m.hits[key] = append(h, now.UnixNano())
	return true, 0, nil
}

// sweep drops keys with no attempt left in the window. Running it once per
// window keeps its cost at one pass over the keys per window.
func (m *memory) sweep(now time.Time, cut int64) {
	if now.Before(m.nextSweep) {
		return
	}
	for k, h := range m.hits {
		if len(h) == 0 || h[len(h)-1] <= cut {
			delete(m.hits, k)
		}
	}
	m.nextSweep = now.Add(m.window)
}
