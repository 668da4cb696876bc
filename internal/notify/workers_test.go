package notify_test

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/carecircle/carecircle"
	"github.com/carecircle/carecircle/internal/app"
	"github.com/carecircle/carecircle/internal/apptest"
	"github.com/carecircle/carecircle/internal/push"
	"github.com/carecircle/carecircle/internal/push/pushtest"
	"github.com/carecircle/carecircle/internal/storage"
	"github.com/carecircle/carecircle/internal/testdb"
)

// TestTwoWorkers_EveryDueReminderOnceAcrossARestart runs two processes on
// one PostgreSQL database (and one RabbitMQ exchange when
// CARECIRCLE_TEST_AMQP_URL is set), each with its own job runner polling in
// the background, through a morning of doses under a shared manual clock.
// One process is stopped while reminders are due and a new one started
// later. Every reminder and missed-dose notice must reach each browser and
// mailbox exactly once, counted at the push service and the SMTP sinks.
func TestTwoWorkers_EveryDueReminderOnceAcrossARestart(t *testing.T) {
	pg := testdb.URL(t, storage.Postgres)
	keys, err := push.GenerateKeys()
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"VAPID_PUBLIC_KEY": keys.Public, "VAPID_PRIVATE_KEY": keys.Private}
	if os.Getenv("CARECIRCLE_TEST_AMQP_URL") != "" {
		maps.Copy(env, apptest.AMQPEnv(t))
	}
	start := local(t, ny, day, 7, 55)
	clock := carecircle.NewManualClock(start)
	ps := pushtest.NewServer(t, keys.Public)
	h := &harness{t: t, clock: clock, seen: map[string]map[string]bool{"notifications": {}, "reminders": {}},
		signed: map[*apptest.Client]time.Time{}}
	hook := h.handled
	var procs []*apptest.Env
	spawn := func() *apptest.Env {
		e := apptest.New(t, apptest.Options{Dialect: storage.Postgres, DatabaseURL: pg, Clock: clock, Env: env,
			App: app.Options{PushClient: ps.Client(), OnEventHandled: hook}})
		procs = append(procs, e)
		return e
	}
	a, b := spawn(), spawn()
	db := rawDB(t, pg)
	h.e, h.db = a, db
	live := []*apptest.Env{a, b}

	// settled: nothing due or running, and both consumers handled every event.
	settled := func() bool {
		var busy int
		if err := db.QueryRow(`SELECT COUNT(*) FROM jobs WHERE (state = 'available' AND run_at <= $1) OR state = 'running'`,
			clock.Now().UnixMilli()).Scan(&busy); err != nil {
			t.Fatal(err)
		}
		if busy > 0 {
			return false
		}
		rows, err := db.Query(`SELECT id FROM events`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		h.mu.Lock()
		defer h.mu.Unlock()
		for rows.Next() {
			var id string
			rows.Scan(&id)
			if !h.seen["notifications"][id] || !h.seen["reminders"][id] {
				return false
			}
		}
		return true
	}
	wait := func() {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for !settled() {
			if time.Now().After(deadline) {
				counts, _ := a.App.DB.JobCounts(context.Background())
				t.Fatalf("not settled at %s after 30 s; jobs %v", clock.Now(), counts)
			}
			for _, p := range live {
				p.App.Jobs.Wake()
			}
			time.Sleep(10 * time.Millisecond)
		}
	}

	f := a.NewFamily("Scale", ny)
	subOf := map[string]string{} // subscriber id -> member
	for i, c := range []*apptest.Client{f.Admin, f.Caregiver, f.Viewer} {
		sub, err := pushtest.NewSubscriber()
		if err != nil {
			t.Fatal(err)
		}
		subOf[sub.ID] = []string{"admin", "caregiver", "viewer"}[i]
		s := sub.Subscription(ps.Register(sub))
		c.Must(201, "POST", "/api/v1/notifications/subscribe", map[string]any{"endpoint": s.Endpoint,
			"keys": map[string]any{"p256dh": s.P256dh, "auth": s.Auth}})
	}
	// Ten medications, three doses each between 08:00 and 10:45; the
	// 09:xx dose of every other one is given ahead of time.
	type dose struct {
		med string
		at  time.Time
	}
	var due []dose
	var given []dose
	for i := range 10 {
		var times []string
		for hour := 8; hour <= 10; hour++ {
			times = append(times, fmt.Sprintf("%02d:%02d", hour, 5*i))
		}
		med := h.medication(f, f.RecipientID, fmt.Sprintf("Med%d", i), "1 tablet", "THREE_TIMES_DAILY", times, nil, nil)
		for hour := 8; hour <= 10; hour++ {
			d := dose{med, local(t, ny, day, hour, 5*i)}
			if hour == 9 && i%2 == 0 {
				given = append(given, d)
			} else {
				due = append(due, d)
			}
		}
	}
	wait()
	for _, d := range given {
		h.logDose(f, f.RecipientID, d.med, f.Caregiver, d.at, "GIVEN")
	}

	step := func(to time.Time) {
		for clock.Now().Before(to) {
			clock.Advance(time.Minute)
			wait()
		}
	}
	step(local(t, ny, day, 9, 12))
	// Stop B while doses are due (09:15 and 09:20 reminders, 08:15 missed).
	clock.Advance(3 * time.Minute)
	for _, p := range live {
		p.App.Jobs.Wake()
	}
	b.Server.Close()
	b.App.Close()
	live = []*apptest.Env{a}
	wait()
	step(local(t, ny, day, 9, 40))
	live = append(live, spawn()) // B comes back
	step(local(t, ny, day, 12, 0))

	// Count at the sinks: each (browser, message) once.
	want := map[string]int{}
	for _, d := range due {
		for _, who := range []string{"admin", "caregiver"} {
			want[fmt.Sprintf("%s reminder %s %d", who, d.med, d.at.Unix())] = 1
			want[fmt.Sprintf("%s missed %s %d", who, d.med, d.at.Unix())] = 1
		}
	}
	got := map[string]int{}
	for _, r := range ps.Received() {
		var m pushMessage
		if err := json.Unmarshal(r.Payload, &m); err != nil {
			t.Fatal(err)
		}
		kind := "reminder"
		switch {
		case strings.HasPrefix(m.Title, "Missed dose"):
			kind = "missed"
		case !strings.HasPrefix(m.Title, "Time for"):
			continue
		}
		var med string
		var unix int64
		fmt.Sscanf(strings.ReplaceAll(m.Tag, "-", " "), "dose %s %d", &med, &unix)
		got[fmt.Sprintf("%s %s %s %d", subOf[r.SubscriberID], kind, med, unix)]++
	}
	if len(ps.Failures()) > 0 {
		t.Fatalf("push failures: %+v", ps.Failures())
	}
	for k, n := range want {
		if got[k] != n {
			t.Errorf("%s: received %d times, want %d", k, got[k], n)
		}
	}
	for k, n := range got {
		if want[k] == 0 {
			t.Errorf("%s: received %d times, want none", k, n)
		}
	}
	emails := map[string]int{}
	for _, p := range procs {
		for _, m := range p.SMTP.Messages() {
			if strings.HasPrefix(m.Subject, "Missed dose") {
				emails[m.To[0]+" "+m.Text]++
			}
		}
	}
	if len(emails) != 2*len(due) {
		t.Errorf("%d distinct missed-dose emails, want %d", len(emails), 2*len(due))
	}
	for k, n := range emails {
		if n != 1 {
			t.Errorf("email sent %d times: %.80q", n, k)
		}
	}
	// The work was shared: every process ran jobs.
	for i, p := range procs {
		ran := 0.0
		mfs, _ := p.App.Registry.Gather()
		for _, mf := range mfs {
			if mf.GetName() == "carecircle_job_runs_total" {
				for _, m := range mf.GetMetric() {
					ran += m.GetCounter().GetValue()
				}
			}
		}
		if ran == 0 {
			t.Errorf("process %d ran no jobs", i)
		}
		t.Logf("process %d ran %v jobs", i, ran)
	}
	t.Logf("%d reminders and missed-dose notices delivered once each by push (%d) and email (%d) across %d processes",
		2*len(due), len(ps.Received()), len(emails), len(procs))
}
