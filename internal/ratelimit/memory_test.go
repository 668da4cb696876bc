package ratelimit

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/carecircle/carecircle"
)

var t0 = time.Date(2026, 3, 9, 8, 0, 0, 0, time.UTC)

// allow calls l.Allow and fails the test on error.
func allow(t *testing.T, l Limiter, key string) (bool, time.Duration) {
	t.Helper()
	ok, retry, err := l.Allow(t.Context(), key)
	if err != nil {
		t.Fatalf("Allow(%q): %v", key, err)
	}
	return ok, retry
}

func TestMemory_AllowsLimitThenDeniesUntilWindowPasses(t *testing.T) {
	clock := carecircle.NewManualClock(t0)
	l := NewMemory(3, time.Minute, clock)

	for i := range 3 {
		if ok, _ := allow(t, l, "login:ip:203.0.113.7"); !ok {
			t.Fatalf("attempt %d denied", i+1)
		}
		clock.Advance(time.Second)
	}
	ok, retry := allow(t, l, "login:ip:203.0.113.7")
	if ok {
		t.Fatal("attempt 4 allowed")
	}
	// The first attempt was 3s ago; it leaves the window in 57s.
	if retry != 57*time.Second {
		t.Fatalf("retryAfter = %v, want 57s", retry)
	}

	clock.Advance(retry - time.Nanosecond)
	if ok, _ := allow(t, l, "login:ip:203.0.113.7"); ok {
		t.Fatal("allowed a nanosecond before retryAfter")
	}
	clock.Advance(time.Nanosecond)
	if ok, _ := allow(t, l, "login:ip:203.0.113.7"); !ok {
		t.Fatal("denied once retryAfter passed")
	}
}

func TestMemory_WindowSlides(t *testing.T) {
	clock := carecircle.NewManualClock(t0)
	l := NewMemory(3, time.Minute, clock)
	for range 3 {
		allow(t, l, "k") // at 0s, 10s, 20s
		clock.Advance(10 * time.Second)
	}
	clock.Set(t0.Add(time.Minute)) // the 0s attempt has left; 10s and 20s remain
	if ok, _ := allow(t, l, "k"); !ok {
		t.Fatal("denied after the oldest attempt left the window")
	}
	ok, retry := allow(t, l, "k")
	if ok || retry != 10*time.Second {
		t.Fatalf("got ok=%v retry=%v, want denied for 10s (until the 10s attempt leaves)", ok, retry)
	}
}

func TestMemory_DeniedAttemptsDoNotExtendTheWait(t *testing.T) {
	clock := carecircle.NewManualClock(t0)
	l := NewMemory(1, time.Minute, clock)
	allow(t, l, "k")
	for range 30 {
		clock.Advance(time.Second)
		if ok, _ := allow(t, l, "k"); ok {
			t.Fatal("allowed within the window")
		}
	}
	clock.Set(t0.Add(time.Minute))
	if ok, _ := allow(t, l, "k"); !ok {
		t.Fatal("denied attempts pushed the reset out")
	}
}

func TestMemory_KeysAreIndependent(t *testing.T) {
	l := NewMemory(1, time.Minute, carecircle.NewManualClock(t0))
	if ok, _ := allow(t, l, "email:ana@example.org"); !ok {
		t.Fatal("first key denied")
	}
	if ok, _ := allow(t, l, "email:bo@example.org"); !ok {
		t.Fatal("second key denied because of the first")
	}
}

func TestMemory_EvictsExpiredKeys(t *testing.T) {
	clock := carecircle.NewManualClock(t0)
	l := NewMemory(5, time.Minute, clock).(*memory)
	for i := range 1000 {
		allow(t, l, fmt.Sprint("ip:", i))
	}
	clock.Advance(30 * time.Second)
	allow(t, l, "recent")
	if n := len(l.hits); n != 1001 {
		t.Fatalf("keys = %d, want 1001 while all are inside the window", n)
	}

	clock.Advance(30 * time.Second) // the 1000 have left the window; "recent" has not
	allow(t, l, "trigger")
	if n := len(l.hits); n != 2 {
		t.Fatalf("keys after the window = %d, want 2 (recent, trigger)", n)
	}
}

func TestMemory_LimitZeroDisables(t *testing.T) {
	l := NewMemory(0, time.Minute, carecircle.NewManualClock(t0))
	for range 1000 {
		if ok, _ := allow(t, l, "k"); !ok {
			t.Fatal("denied with limit 0")
		}
	}
}

func TestMemory_ConcurrentAttemptsRespectTheLimit(t *testing.T) {
	l := NewMemory(10, time.Minute, carecircle.NewManualClock(t0))
	var allowed atomic.Int64
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() {
			if ok, _, _ := l.Allow(context.Background(), "k"); ok {
				allowed.Add(1)
			}
		})
	}
	wg.Wait()
	if n := allowed.Load(); n != 10 {
		t.Fatalf("allowed %d of 50 concurrent attempts, want 10", n)
	}
}

func TestMemory_ClockSteppedBackKeepsRetryWithinWindow(t *testing.T) {
	clock := carecircle.NewManualClock(t0)
	l := NewMemory(1, time.Minute, clock)
	allow(t, l, "k")
	clock.Set(t0.Add(-time.Hour))
	ok, retry := allow(t, l, "k")
	if ok || retry <= 0 || retry > time.Minute {
		t.Fatalf("got ok=%v retry=%v, want denied with 0 < retry <= 1m", ok, retry)
	}
}

func TestRetryAfterSeconds(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want int
	}{
		{time.Microsecond, 1},
		{time.Second, 1},
		{time.Second + time.Millisecond, 2},
		{57 * time.Second, 57},
		{time.Minute, 60},
	}
	for _, tt := range tests {
		if got := RetryAfterSeconds(tt.d); got != tt.want {
			t.Errorf("RetryAfterSeconds(%v) = %d, want %d", tt.d, got, tt.want)
		}
	}
}
