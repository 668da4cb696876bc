package events_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/carecircle/carecircle"
	"github.com/carecircle/carecircle/internal/events"
)

// recorder collects the ids a handler saw and lets a test wait for a count.
type recorder struct {
	mu     sync.Mutex
	ids    []string
	notify chan struct{}
}

func newRecorder() *recorder { return &recorder{notify: make(chan struct{}, 1)} }

func (r *recorder) handle(_ context.Context, e carecircle.Event) error {
	r.mu.Lock()
	r.ids = append(r.ids, e.ID)
	r.mu.Unlock()
	select {
	case r.notify <- struct{}{}:
	default:
	}
	return nil
}

func (r *recorder) snapshot() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.ids...)
}

// waitFor waits until the recorder holds n ids or the deadline passes.
func (r *recorder) waitFor(t *testing.T, n int) []string {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		if ids := r.snapshot(); len(ids) >= n {
			return ids
		}
		select {
		case <-r.notify:
		case <-deadline:
			t.Fatalf("got %d events, want %d", len(r.snapshot()), n)
		}
	}
}

func testEvents(n int) []carecircle.Event {
	out := make([]carecircle.Event, n)
	for i := range out {
		out[i] = carecircle.NewEvent(carecircle.EventMedicationLogged, "test", time.Now(),
			carecircle.EventData{FamilyID: "fam_1", CareRecipientID: "cr_1"}, map[string]any{"seq": i})
	}
	return out
}

func ids(events []carecircle.Event) []string {
	out := make([]string, len(events))
	for i, e := range events {
		out[i] = e.ID
	}
	return out
}

func startMemory(t *testing.T, m *events.Memory) {
	t.Helper()
	if err := m.Start(context.Background()); err != nil {
		t.Fatalf("start: %v", err)
	}
	t.Cleanup(func() { m.Close() })
}

// syncBuffer is a log sink the handlers' goroutines may write concurrently.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestMemory_EveryGroupGetsEveryEventInOrder(t *testing.T) {
	m := events.NewMemory(nil)
	audit, rt := newRecorder(), newRecorder()
	m.Subscribe("audit", events.Shared, audit.handle)
	m.Subscribe("realtime", events.Broadcast, rt.handle)
	startMemory(t, m)

	evs := testEvents(100)
	for i := 0; i < len(evs); i += 10 {
		if err := m.Publish(context.Background(), evs[i:i+10]); err != nil {
			t.Fatalf("publish: %v", err)
		}
	}
	want := strings.Join(ids(evs), ",")
	for name, r := range map[string]*recorder{"audit": audit, "realtime": rt} {
		if got := strings.Join(r.waitFor(t, len(evs)), ","); got != want {
			t.Errorf("%s saw events out of order or wrong:\n got %s\nwant %s", name, got, want)
		}
	}
}

func TestMemory_SlowGroupDoesNotBlockPublishOrOthers(t *testing.T) {
	m := events.NewMemory(nil)
	release := make(chan struct{})
	slow, fast := newRecorder(), newRecorder()
	m.Subscribe("slow", events.Shared, func(ctx context.Context, e carecircle.Event) error {
		<-release
		return slow.handle(ctx, e)
	})
	m.Subscribe("fast", events.Shared, fast.handle)
	startMemory(t, m)

	evs := testEvents(50)
	for _, e := range evs {
		if err := m.Publish(context.Background(), []carecircle.Event{e}); err != nil {
			t.Fatalf("publish: %v", err)
		}
	}
	fast.waitFor(t, len(evs))
	if n := len(slow.snapshot()); n != 0 {
		t.Fatalf("slow group handled %d events while blocked", n)
	}
	close(release)
	slow.waitFor(t, len(evs))
}

func TestMemory_FailingHandlerIsRetriedUntilItSucceeds(t *testing.T) {
	m := events.NewMemory(nil)
	m.RetryBackoff = time.Millisecond
	var mu sync.Mutex
	calls := map[string]int{}
	done := newRecorder()
	m.Subscribe("notify", events.Shared, func(ctx context.Context, e carecircle.Event) error {
		mu.Lock()
		calls[e.ID]++
		n := calls[e.ID]
		mu.Unlock()
		if n <= 2 {
			return errors.New("smtp down")
		}
		return done.handle(ctx, e)
	})
	startMemory(t, m)

	evs := testEvents(1)
	if err := m.Publish(context.Background(), evs); err != nil {
		t.Fatal(err)
	}
	done.waitFor(t, 1)
	mu.Lock()
	defer mu.Unlock()
	if calls[evs[0].ID] != 3 {
		t.Fatalf("handler called %d times, want 3 (2 failures + success)", calls[evs[0].ID])
	}
}

func TestMemory_PanickingHandlerIsRetried(t *testing.T) {
	m := events.NewMemory(slog.New(slog.DiscardHandler))
	m.RetryBackoff = time.Millisecond
	var once sync.Once
	done := newRecorder()
	m.Subscribe("audit", events.Shared, func(ctx context.Context, e carecircle.Event) error {
		once.Do(func() { panic("bug") })
		return done.handle(ctx, e)
	})
	startMemory(t, m)
	if err := m.Publish(context.Background(), testEvents(1)); err != nil {
		t.Fatal(err)
	}
	done.waitFor(t, 1)
}

func TestMemory_AlwaysFailingEventIsDeadLetteredAndQueueMovesOn(t *testing.T) {
	logs := &syncBuffer{}
	m := events.NewMemory(slog.New(slog.NewTextHandler(logs, nil)))
	m.RetryBackoff = time.Millisecond
	m.MaxAttempts = 3
	evs := testEvents(2)
	var mu sync.Mutex
	poisonCalls := 0
	after := newRecorder()
	m.Subscribe("audit", events.Shared, func(ctx context.Context, e carecircle.Event) error {
		if e.ID == evs[0].ID {
			mu.Lock()
			poisonCalls++
			mu.Unlock()
			return errors.New("cannot handle")
		}
		return after.handle(ctx, e)
	})
	startMemory(t, m)
	if err := m.Publish(context.Background(), evs); err != nil {
		t.Fatal(err)
	}
	after.waitFor(t, 1) // the second event is handled after the first gave up
	mu.Lock()
	defer mu.Unlock()
	if poisonCalls != 3 {
		t.Errorf("failing handler called %d times, want MaxAttempts=3", poisonCalls)
	}
	if !strings.Contains(logs.String(), "event dead-lettered") || !strings.Contains(logs.String(), evs[0].ID) {
		t.Errorf("dead-letter not logged with the event id; logs:\n%s", logs.String())
	}
}

func TestMemory_PublishRefusedWholeWhenAGroupIsFull(t *testing.T) {
	m := events.NewMemory(slog.New(slog.DiscardHandler))
	m.MaxQueue = 10
	a, b := newRecorder(), newRecorder()
	m.Subscribe("a", events.Shared, a.handle)
	m.Subscribe("b", events.Shared, b.handle)

	// Not started yet, so nothing drains: the backlog is exact.
	first := testEvents(8)
	if err := m.Publish(context.Background(), first); err != nil {
		t.Fatalf("publish within limit: %v", err)
	}
	if err := m.Publish(context.Background(), testEvents(3)); err == nil {
		t.Fatal("publish over the limit succeeded")
	}
	last := testEvents(2)
	if err := m.Publish(context.Background(), last); err != nil {
		t.Fatalf("publish up to the limit: %v", err)
	}
	startMemory(t, m)
	want := strings.Join(append(ids(first), ids(last)...), ",")
	for name, r := range map[string]*recorder{"a": a, "b": b} {
		if got := strings.Join(r.waitFor(t, 10), ","); got != want {
			t.Errorf("group %s got %s, want %s (refused batch must not be queued in part)", name, got, want)
		}
	}
}

func TestMemory_CloseDrainsBacklogThenRefusesPublish(t *testing.T) {
	m := events.NewMemory(nil)
	r := newRecorder()
	m.Subscribe("audit", events.Shared, func(ctx context.Context, e carecircle.Event) error {
		time.Sleep(time.Millisecond) // a consumer with real work to do
		return r.handle(ctx, e)
	})
	if err := m.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := m.Publish(context.Background(), testEvents(30)); err != nil {
		t.Fatal(err)
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	if n := len(r.snapshot()); n != 30 {
		t.Errorf("handled %d events before Close returned, want 30", n)
	}
	if err := m.Publish(context.Background(), testEvents(1)); !errors.Is(err, events.ErrClosed) {
		t.Errorf("publish after close: got %v, want ErrClosed", err)
	}
}

func TestMemory_SubscribeWiringBugsPanic(t *testing.T) {
	tests := []struct {
		name string
		do   func(m *events.Memory)
	}{
		{"twice for one group", func(m *events.Memory) {
			m.Subscribe("g", events.Shared, newRecorder().handle)
			m.Subscribe("g", events.Broadcast, newRecorder().handle)
		}},
		{"after start", func(m *events.Memory) {
			m.Start(context.Background())
			defer m.Close()
			m.Subscribe("g", events.Shared, newRecorder().handle)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Error("no panic")
				}
			}()
			tt.do(events.NewMemory(nil))
		})
	}
}

func TestBackoff_DoublesUpToLimit(t *testing.T) {
	for i, want := range []time.Duration{100, 200, 400, 800, 1000, 1000} {
		if got := events.Backoff(100, 1000, i+1); got != want {
			t.Errorf("attempt %d: got %v, want %v", i+1, got, want)
		}
	}
}

func ExampleMemory() {
	bus := events.NewMemory(nil)
	done := make(chan struct{})
	bus.Subscribe("audit", events.Shared, func(ctx context.Context, e carecircle.Event) error {
		fmt.Println(e.Type, e.FamilyID)
		close(done)
		return nil
	})
	bus.Start(context.Background())
	defer bus.Close()
	e := carecircle.NewEvent(carecircle.EventAlertCreated, "/api/v1", time.Now(), carecircle.EventData{FamilyID: "fam_1"}, nil)
	bus.Publish(context.Background(), []carecircle.Event{e})
	<-done
	// Output: emergency.alert.created fam_1
}
