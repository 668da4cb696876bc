package docstore

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"runtime"
	"sync"
	"testing"
	"time"
)

// TestWrite_ConcurrentLargeUploadsKeepMemoryBounded writes eight 25 MiB
// documents at once to a local directory and samples the heap meanwhile: the
// pipeline must stream, never buffer a file.
func TestWrite_ConcurrentLargeUploadsKeepMemoryBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 200 MiB")
	}
	const (
		writers = 8
		size    = DefaultMaxSize
		bound   = 64 << 20
	)
	be := newLocalBackend(t)
	s := NewStore(be.blobs, Options{})
	dataKey := mustKey(t)

	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)

	stop := make(chan struct{})
	peak := make(chan uint64)
	go func() {
		var m runtime.MemStats
		var max uint64
		tick := time.NewTicker(2 * time.Millisecond)
		defer tick.Stop()
		for {
			runtime.ReadMemStats(&m)
			if m.HeapInuse > max {
				max = m.HeapInuse
			}
			select {
			case <-stop:
				peak <- max
				return
			case <-tick.C:
			}
		}
	}()

	var wg sync.WaitGroup
	errs := make([]error, writers)
	start := time.Now()
	for i := range writers {
		wg.Go(func() {
			w, err := s.Write(context.Background(), fmt.Sprintf("fam_1/big_%d", i), dataKey,
				newGenReader("%PDF-1.7\n", size, byte(i)))
			if err == nil && w.Size != size {
				err = fmt.Errorf("stored %d bytes, want %d", w.Size, size)
			}
			errs[i] = err
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	close(stop)
	maxInuse := <-peak
	var after runtime.MemStats
	runtime.ReadMemStats(&after)

	for i, err := range errs {
		if err != nil {
			t.Fatalf("writer %d: %v", i, err)
		}
	}
	growth := int64(maxInuse) - int64(before.HeapInuse)
	t.Logf("8 × 25 MiB writes in %v: HeapInuse before %.1f MiB, peak %.1f MiB, growth %.1f MiB; TotalAlloc during %.1f MiB",
		elapsed.Round(time.Millisecond), mib(before.HeapInuse), mib(maxInuse), float64(growth)/(1<<20),
		mib(after.TotalAlloc-before.TotalAlloc))
	if growth > bound {
		t.Errorf("heap grew by %.1f MiB during the writes, want < %d MiB", float64(growth)/(1<<20), bound>>20)
	}

	// Reading back streams too: the verify pass and the decrypting pass.
	rc, n, err := s.Open(context.Background(), "fam_1/big_0", dataKey)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	if got, err := io.Copy(io.Discard, rc); err != nil || got != n || n != size {
		t.Errorf("read back %d of %d bytes: %v", got, n, err)
	}
}

func mib(n uint64) float64 { return float64(n) / (1 << 20) }

func BenchmarkStoreWrite(b *testing.B) {
	const size = 8 << 20
	l, err := NewLocal(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	s := NewStore(l, Options{})
	dataKey := mustKey(b)
	doc := pdfBytes(b, size, 1)
	b.SetBytes(size)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Write(context.Background(), "doc", dataKey, bytes.NewReader(doc)); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkStoreOpen(b *testing.B) {
	const size = 8 << 20
	l, err := NewLocal(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	s := NewStore(l, Options{})
	dataKey := mustKey(b)
	if _, err := s.Write(context.Background(), "doc", dataKey, bytes.NewReader(pdfBytes(b, size, 1))); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(size)
	b.ReportAllocs()
	for b.Loop() {
		rc, _, err := s.Open(context.Background(), "doc", dataKey)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := io.Copy(io.Discard, rc); err != nil {
			b.Fatal(err)
		}
		rc.Close()
	}
}
