package notify_test

import (
	"strings"
	"testing"
	"time"

	"github.com/carecircle/carecircle/internal/storage"
)

// TestDST_DailyDoseRemindsAtEightLocalAroundEveryTransition walks a daily
// 08:00 dose through the days before, of and after each 2026 transition in
// New York and London, with the periodic planner extending its horizon as
// the clock jumps a day at a time. Each day the reminder must come exactly
// at 08:00 on the recipient's wall clock: not at 07:59, once at 08:00.
func TestDST_DailyDoseRemindsAtEightLocalAroundEveryTransition(t *testing.T) {
	cases := []struct {
		zone        string
		transitions []string
	}{
		{"America/New_York", []string{"2026-03-08", "2026-11-01"}},
		{"Europe/London", []string{"2026-03-29", "2026-10-25"}},
	}
	eachDialect(t, func(t *testing.T, d storage.Dialect) {
		for _, tc := range cases {
			for _, transition := range tc.transitions {
				t.Run(tc.zone+"/"+transition, func(t *testing.T) {
					loc, _ := time.LoadLocation(tc.zone)
					first := local(t, tc.zone, transition, 0, 0).AddDate(0, 0, -1)
					h := newHarness(t, d, first.Add(-2*time.Hour)) // the evening before the day before
					f := h.family("DST", tc.zone, "UTC", tc.zone, "Asia/Tokyo")
					med := h.medication(f, f.RecipientID, "Levothyroxine", "50mcg", "ONCE_DAILY", []string{"08:00"}, nil, nil)
					for i := -1; i <= 1; i++ {
						dayStr := first.In(loc).AddDate(0, 0, i+1).Format("2006-01-02")
						eight := local(t, tc.zone, dayStr, 8, 0)
						if got := eight.In(loc).Format("15:04"); got != "08:00" {
							t.Fatalf("%s: 08:00 resolves to %s", dayStr, got)
						}
						h.at(eight.Add(-time.Minute))
						want := i + 1
						if got := len(h.inbox(f.Caregiver, "DOSE_REMINDER")); got != want {
							t.Fatalf("%s 07:59: %d reminders, want %d", dayStr, got, want)
						}
						if j := h.job(doseKey(med, eight)); !j.RunAt.Equal(eight) {
							t.Fatalf("%s: the dose job runs at %s, want %s", dayStr, j.RunAt.In(loc), eight.In(loc))
						}
						h.at(eight)
						got := h.inbox(f.Caregiver, "DOSE_REMINDER")
						if len(got) != want+1 {
							t.Fatalf("%s 08:00: %d reminders, want %d", dayStr, len(got), want+1)
						}
						last := got[len(got)-1]
						if at := last.CreatedAt.In(loc); at.Format("2006-01-02 15:04") != dayStr+" 08:00" {
							t.Fatalf("%s: reminded at %s local", dayStr, at)
						}
						if p := h.pushes(f.Caregiver, "Time for"); len(p) != want+1 {
							t.Fatalf("%s: %d pushes, want %d", dayStr, len(p), want+1)
						}
						// The admin lives in UTC: the text gives both clocks when
						// they differ (London in winter is UTC).
						a := h.inbox(f.Admin, "DOSE_REMINDER")
						body := a[len(a)-1].Body
						_, off := eight.In(loc).Zone()
						wantText := "08:00 (your time " + eight.UTC().Format("15:04") + ")"
						if off == 0 {
							wantText = "08:00 dose"
						}
						if !strings.Contains(body, wantText) {
							t.Fatalf("%s: admin's text %q lacks %q", dayStr, body, wantText)
						}
					}
				})
			}
		}
	})
}
