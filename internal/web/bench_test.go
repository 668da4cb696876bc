package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/carecircle/carecircle"
	"github.com/carecircle/carecircle/internal/apptest"
	"github.com/carecircle/carecircle/internal/storage"
)

// historyFamily is a family with three care recipients and six months of
// history, seeded through storage (the same scoped methods the API uses).
type historyFamily struct {
	*apptest.Family
	Recipients []string
}

// seedHistory writes, for each of three recipients over the past six
// months: five medications with every dose logged, a timeline entry a day
// (vitals every third), a shift a day, a weekly recurring appointment plus
// one-off visits, and resolved alerts.
func seedHistory(tb testing.TB, e *apptest.Env) historyFamily {
	tb.Helper()
	f := e.NewFamily("History", "America/New_York")
	h := historyFamily{Family: f, Recipients: []string{f.RecipientID,
		f.Admin.CreateRecipient(f.ID, "Nonna", "Europe/Rome"), f.Admin.CreateRecipient(f.ID, "Dada", "Asia/Kolkata")}}
	db := e.App.DB
	actor := func(c *apptest.Client) context.Context {
		return carecircle.WithActor(context.Background(), carecircle.Actor{UserID: c.UserID, Name: c.Name})
	}
	admin, carer := actor(f.Admin), actor(f.Caregiver)
	now := time.Now().UTC().Truncate(time.Minute)
	start := now.AddDate(0, -6, 0)
	must := func(err error) {
		tb.Helper()
		if err != nil {
			tb.Fatal(err)
		}
	}
	for ri, rid := range h.Recipients {
		weekly := "FREQ=WEEKLY"
		_, err := db.CreateAppointment(admin, rid, carecircle.Appointment{Title: "Physiotherapy", StartTime: start.Add(10 * time.Hour),
			Location: "Riverside clinic", AssignedTo: &carecircle.MemberRef{ID: f.Caregiver.UserID}, Recurrence: &weekly})
		must(err)
		for d := 0; d < 200; d += 9 {
			_, err := db.CreateAppointment(admin, rid, carecircle.Appointment{Title: fmt.Sprintf("Visit %d", d),
				StartTime: start.AddDate(0, 0, d).Add(14 * time.Hour), DoctorName: "Dr. Okafor"})
			must(err)
		}
		for d := 0; start.AddDate(0, 0, d).Before(now); d++ {
			day := start.AddDate(0, 0, d)
			e := carecircle.TimelineEntry{Type: carecircle.TimelineNote, Content: "Quiet day; ate well and walked in the garden.",
				OccurredAt: day.Add(18 * time.Hour)}
			if d%3 == 0 {
				sys, dia, hr := 120+float64(d%20), 78+float64(d%7), 64+float64(d%11)
				e.Type, e.Vitals = carecircle.TimelineVitals, &carecircle.Vitals{Systolic: &sys, Diastolic: &dia, HeartRate: &hr}
			}
			if e.OccurredAt.After(now) {
				continue
			}
			_, err := db.CreateTimelineEntry(carer, rid, e)
			must(err)
			// One shift a day per recipient; the caregiver covers the
			// first, the admin the others (one person can't be in two
			// places at once).
			who := f.Caregiver.UserID
			if ri > 0 {
				who = f.Admin.UserID
			}
			st := day.Add(time.Duration(8+ri*8) * time.Hour)
			_, err = db.CreateShift(admin, rid, carecircle.Shift{Caregiver: carecircle.MemberRef{ID: who}, StartTime: st, EndTime: st.Add(7 * time.Hour)})
			must(err)
		}
		for i := 0; i < 4; i++ {
			a, err := db.RaiseAlert(carer, carecircle.EmergencyAlert{CareRecipientID: rid, Type: carecircle.AlertFall, Description: "Slipped"})
			must(err)
			_, err = db.ResolveAlert(admin, a.ID, "All fine")
			must(err)
		}
	}
	seedDoses(tb, db, carer, h.Recipients, start, now)
	return h
}

// seedDoses gives each recipient five medications (fifteen in all) and
// logs six months of their doses, most given, some skipped.
func seedDoses(tb testing.TB, db *storage.DB, ctx context.Context, recipients []string, start, now time.Time) {
	tb.Helper()
	plans := []struct {
		name, freq string
		times      []string
	}{
		{"Metformin", carecircle.FrequencyTwiceDaily, []string{"08:00", "20:00"}},
		{"Lisinopril", carecircle.FrequencyOnceDaily, []string{"09:00"}},
		{"Atorvastatin", carecircle.FrequencyOnceDaily, []string{"21:00"}},
		{"Levodopa", carecircle.FrequencyThreeTimesDaily, []string{"07:00", "13:00", "19:00"}},
		{"Vitamin D", carecircle.FrequencyOnceDaily, []string{"12:00"}},
	}
	type job struct {
		med string
		at  time.Time
		n   int
	}
	jobs := make(chan job, 256)
	errs := make(chan error, 8)
	var wg sync.WaitGroup
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				status := carecircle.DoseGiven
				if j.n%17 == 0 {
					status = carecircle.DoseSkipped
				}
				at := j.at
				if _, err := db.LogDose(ctx, j.med, storage.DoseInput{Status: status, ScheduledTime: &at}); err != nil {
					select {
					case errs <- fmt.Errorf("log dose %s at %s: %w", j.med, at, err):
					default:
					}
				}
			}
		}()
	}
	n := 0
	for _, rid := range recipients {
		c, err := db.Recipient(ctx, rid)
		if err != nil {
			tb.Fatal(err)
		}
		loc := c.Location()
		first := carecircle.DateOf(start, loc)
		for _, p := range plans {
			supply, threshold := 400, 20
			m, err := db.CreateMedication(ctx, rid, carecircle.Medication{Name: p.name, Dosage: "1 tablet", Frequency: p.freq,
				Times: p.times, StartDate: &first, CurrentSupply: &supply, RefillThreshold: &threshold})
			if err != nil {
				tb.Fatal(err)
			}
			for _, at := range m.Plan().DosesBetween(start, now.Add(-2*time.Hour), loc) {
				n++
				jobs <- job{m.ID, at, n}
			}
		}
	}
	close(jobs)
	wg.Wait()
	tb.Logf("seeded %d dose logs of %d medications", n, len(recipients)*len(plans))
	select {
	case err := <-errs:
		tb.Fatal(err)
	default:
	}
}

// dashboardRequest is a signed-in GET /dashboard for the admin.
func dashboardRequest(c *apptest.Client) *http.Request {
	req := httptest.NewRequest(http.MethodGet, "/dashboard", nil)
	req.AddCookie(&http.Cookie{Name: "accessToken", Value: c.Token})
	req.Header.Set("Accept-Encoding", "gzip")
	return req
}

// renderTimes renders the dashboard n times through the real handler and
// returns each duration, sorted.
func renderTimes(tb testing.TB, e *apptest.Env, c *apptest.Client, n int) []time.Duration {
	tb.Helper()
	h := e.App.Handler()
	out := make([]time.Duration, 0, n)
	for i := 0; i < n; i++ {
		rec := httptest.NewRecorder()
		req := dashboardRequest(c)
		t0 := time.Now()
		h.ServeHTTP(rec, req)
		out = append(out, time.Since(t0))
		if rec.Code != http.StatusOK {
			tb.Fatalf("dashboard: status %d: %s", rec.Code, rec.Body)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

func percentile(d []time.Duration, p float64) time.Duration {
	return d[min(len(d)-1, int(float64(len(d))*p))]
}

// BenchmarkDashboard renders the dashboard of a family with three care
// recipients and six months of history through the real HTTP handler and
// reports p50 and p99 per render.
func BenchmarkDashboard(b *testing.B) {
	e := apptest.New(b, apptest.Options{})
	h := seedHistory(b, e)
	renderTimes(b, e, h.Admin, 20) // warm caches and prepared statements
	b.ResetTimer()
	d := renderTimes(b, e, h.Admin, b.N)
	b.StopTimer()
	b.ReportMetric(float64(percentile(d, 0.50).Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(percentile(d, 0.99).Microseconds())/1000, "p99-ms")
}
