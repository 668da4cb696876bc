package main

import (
	"strings"
	"testing"
	"time"
)

// TestRun_SmallWindowMeetsTheBar runs the whole benchmark at a small size:
// seeding, planning, a real-time window around the busiest dose time, and
// the report.
func TestRun_SmallWindowMeetsTheBar(t *testing.T) {
	var out strings.Builder
	err := run(options{meds: 300, perFamily: 10, window: 3 * time.Second, grace: 5 * time.Second, speed: 1, workers: 8,
		dir: t.TempDir()}, &out)
	t.Log(out.String())
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"reminders dispatched:", "(0 missing)", "push delivery lateness:", "RSS", "PASS"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q", want)
		}
	}
}
