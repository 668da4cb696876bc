package main

import (
	"bytes"
	"context"
	"database/sql"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestScaleOut_EveryAlertReachesMembersOnBothInstances runs the scale-out
// mode small: 5 families of 3 members, each family split over servers A and
// B, 5 alerts. Every member must get its family's alerts and no other, and
// the run's database must be gone afterwards.
func TestScaleOut_EveryAlertReachesMembersOnBothInstances(t *testing.T) {
	pg, mq := os.Getenv("CARECIRCLE_TEST_POSTGRES_URL"), os.Getenv("CARECIRCLE_TEST_AMQP_URL")
	if pg == "" || mq == "" {
		t.Skip("CARECIRCLE_TEST_POSTGRES_URL and CARECIRCLE_TEST_AMQP_URL are not both set")
	}
	c := config{families: 5, members: 3, alerts: 5, rate: 10, dial: 10, settle: 200 * time.Millisecond,
		drain: 15 * time.Second, seed: 1, postgres: pg, amqp: mq}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	var out, progress bytes.Buffer
	ok, err := run(ctx, c, &out, &progress)
	if err != nil {
		t.Fatalf("run: %v\n%s", err, progress.String())
	}
	if !ok {
		t.Fatalf("alerts were lost or misdelivered:\n%s", out.String())
	}
	for _, want := range []string{
		"each family's members alternating over 2 servers (A 10, B 5)",
		"delivery    15/15 (alert, member) deliveries; missing 0, other family 0, wrong familyId 0, unknown 0, duplicates 0, sockets dropped 0",
		"of which socket on the other server than the POST (",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("summary lacks %q:\n%s", want, out.String())
		}
	}

	m := regexp.MustCompile(`PostgreSQL database (cc_bench_[0-9a-f]+)`).FindStringSubmatch(progress.String())
	if m == nil {
		t.Fatalf("no database name in the progress log:\n%s", progress.String())
	}
	db, err := sql.Open("pgx", pg)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow(`SELECT COUNT(*) FROM pg_database WHERE datname = $1`, m[1]).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Errorf("database %s was not dropped", m[1])
	}
}
