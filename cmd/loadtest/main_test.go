package main

import (
	"bytes"
	"context"
	"regexp"
	"strings"
	"testing"
	"time"
)

// The load tool runs end to end at a gentle rate: it starts the server,
// builds its fixture, drives all three scenarios without errors and checks
// the stored doses against the acknowledged ones.
func TestRun_AllScenariosAtLowRate(t *testing.T) {
	var out bytes.Buffer
	o := options{duration: 500 * time.Millisecond, warmup: 100 * time.Millisecond, logRate: 40, conns: 4,
		scheduleRate: 40, scenarios: "open,closed,schedule", dir: t.TempDir()}
	if err := run(context.Background(), o, &out); err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	text := out.String()
	for _, want := range []string{"| log dose, open loop | 40 req/s |", "| log dose, closed loop | 4 conns |",
		"| today's schedule, open loop | 40 req/s |", "verified: "} {
		if !strings.Contains(text, want) {
			t.Errorf("output lacks %q:\n%s", want, text)
		}
	}
	// No scenario may report an error, whatever its latency.
	for _, row := range regexp.MustCompile(`(?m)^\| (log|today).*$`).FindAllString(text, -1) {
		if cols := strings.Split(row, "|"); strings.TrimSpace(cols[8]) != "0" {
			t.Errorf("errors in %s", row)
		}
	}
	if strings.Contains(text, "responses with status") {
		t.Errorf("unexpected statuses:\n%s", text)
	}
}
