package ical

import (
	"bytes"
	"fmt"
	"slices"
	"testing"
	"time"
	_ "time/tzdata" // tests must not depend on the machine's zone database

	ics "github.com/arran4/golang-ical"
	"github.com/teambition/rrule-go"
)

// tzModel is a VTIMEZONE read back from a parsed feed, independent of Go's
// zone data: the onset instants of its sub-components, each expanded from
// DTSTART (a wall time on the TZOFFSETFROM clock) and its RRULE.
type tzModel struct {
	onsets []onset
	ruled  bool // some sub-component has an RRULE
}

type onset struct {
	at       time.Time
	from, to int
	name     string
	daylight bool
}

func parseFeed(t *testing.T, b []byte) *ics.Calendar {
	t.Helper()
	cal, err := ics.ParseCalendar(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("parse feed: %v\n%s", err, b)
	}
	return cal
}

func propValue(cb *ics.ComponentBase, name string) string {
	if p := cb.GetProperty(ics.ComponentProperty(name)); p != nil {
		return p.Value
	}
	return ""
}

func parseUTCOffset(t *testing.T, s string) int {
	t.Helper()
	var h, m, sec int
	if len(s) != 5 && len(s) != 7 || (s[0] != '+' && s[0] != '-') {
		t.Fatalf("bad UTC offset %q", s)
	}
	if _, err := fmt.Sscanf(s[1:5], "%02d%02d", &h, &m); err != nil {
		t.Fatalf("bad UTC offset %q: %v", s, err)
	}
	if len(s) == 7 {
		if _, err := fmt.Sscanf(s[5:], "%02d", &sec); err != nil {
			t.Fatalf("bad UTC offset %q: %v", s, err)
		}
	}
	off := h*3600 + m*60 + sec
	if s[0] == '-' {
		off = -off
	}
	return off
}

// modelOf reads the single VTIMEZONE of cal, expanding RRULEs to until.
func modelOf(t *testing.T, cal *ics.Calendar, until time.Time) (tzModel, *ics.VTimezone) {
	t.Helper()
	tzs := cal.Timezones()
	if len(tzs) != 1 {
		t.Fatalf("feed has %d VTIMEZONEs, want 1", len(tzs))
	}
	var m tzModel
	for _, c := range tzs[0].Components {
		var cb *ics.ComponentBase
		daylight := false
		switch v := c.(type) {
		case *ics.Standard:
			cb = &v.ComponentBase
		case *ics.Daylight:
			cb, daylight = &v.ComponentBase, true
		default:
			t.Fatalf("unexpected VTIMEZONE sub-component %T", c)
		}
		wall, err := time.Parse(localLayout, propValue(cb, "DTSTART"))
		if err != nil {
			t.Fatalf("sub-component DTSTART: %v", err)
		}
		from := parseUTCOffset(t, propValue(cb, "TZOFFSETFROM"))
		to := parseUTCOffset(t, propValue(cb, "TZOFFSETTO"))
		walls := []time.Time{wall}
		if rule := propValue(cb, "RRULE"); rule != "" {
			m.ruled = true
			opt, err := rrule.StrToROption(rule)
			if err != nil {
				t.Fatalf("sub-component RRULE %q: %v", rule, err)
			}
			opt.Dtstart = wall
			rr, err := rrule.NewRRule(*opt)
			if err != nil {
				t.Fatal(err)
			}
			walls = rr.Between(wall, until, true)
		}
		for _, w := range walls {
			m.onsets = append(m.onsets, onset{
				at: w.Add(-time.Duration(from) * time.Second), from: from, to: to,
				name: propValue(cb, "TZNAME"), daylight: daylight,
			})
		}
	}
	slices.SortFunc(m.onsets, func(a, b onset) int { return a.at.Compare(b.at) })
	return m, tzs[0]
}

// offsetAt is the offset the VTIMEZONE gives at instant t: that of the last
// onset at or before t, or the first onset's TZOFFSETFROM before them all.
func (m tzModel) offsetAt(t time.Time) int {
	i, _ := slices.BinarySearchFunc(m.onsets, t, func(o onset, t time.Time) int {
		if o.at.After(t) {
			return 1
		}
		return -1
	})
	if i == 0 {
		return m.onsets[0].from
	}
	return m.onsets[i-1].to
}

// resolve turns a DTSTART;TZID wall time into an instant through the
// VTIMEZONE alone: the earliest instant whose offset shows that wall time.
func (m tzModel) resolve(t *testing.T, value string) time.Time {
	t.Helper()
	wall, err := time.Parse(localLayout, value)
	if err != nil {
		t.Fatalf("wall time %q: %v", value, err)
	}
	var best time.Time
	for _, o := range m.onsets {
		for _, off := range []int{o.from, o.to} {
			c := wall.Add(-time.Duration(off) * time.Second)
			if m.offsetAt(c) == off && (best.IsZero() || c.Before(best)) {
				best = c
			}
		}
	}
	if best.IsZero() {
		t.Fatalf("wall time %s does not exist in the VTIMEZONE", value)
	}
	return best
}

func load(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// TestVTimezone_MatchesGoZoneData checks the VTIMEZONE's meaning, not its
// text: at every hour of the covered years, and on both sides of every
// transition, the offset it gives equals Go's. Zones with a yearly rule are
// checked to 2060, since their RRULE stands for the future too.
func TestVTimezone_MatchesGoZoneData(t *testing.T) {
	zones := []string{
		"America/New_York", "Europe/London", "Europe/Dublin", "Australia/Lord_Howe",
		"America/Havana", "America/Santiago", "Asia/Beirut", "Asia/Tokyo", "Asia/Kolkata",
		"Pacific/Chatham", "America/Mexico_City", "America/Sao_Paulo", "Africa/Casablanca",
		"Asia/Tehran", "America/Asuncion",
	}
	now := time.Date(2026, 9, 1, 12, 0, 0, 0, time.UTC)
	for _, zone := range zones {
		t.Run(zone, func(t *testing.T) {
			loc := load(t, zone)
			events := []Event{
				{UID: "a", Start: time.Date(2022, 6, 1, 10, 0, 0, 0, loc)},
				{UID: "b", Start: time.Date(2027, 6, 1, 10, 0, 0, 0, loc)},
			}
			cal := parseFeed(t, Feed("x", loc, events, now))
			end := time.Date(2060, 1, 1, 0, 0, 0, 0, time.UTC)
			m, tz := modelOf(t, cal, end)
			if got := propValue(&tz.ComponentBase, "TZID"); got != zone {
				t.Fatalf("TZID = %q", got)
			}
			if !m.ruled {
				end = time.Date(2029, 1, 1, 0, 0, 0, 0, time.UTC) // covered: 2021..2028
			}
			start := time.Date(2021, 1, 1, 0, 0, 0, 0, time.UTC)
			check := func(at time.Time) {
				_, want := at.In(loc).Zone()
				if got := m.offsetAt(at); got != want {
					t.Fatalf("at %s the VTIMEZONE gives %+d s, Go gives %+d s", at.Format(time.RFC3339), got, want)
				}
			}
			for at := start; at.Before(end); at = at.Add(time.Hour) {
				check(at)
			}
			for _, tr := range transitions(loc, start, end) {
				check(tr.at.Add(-time.Second))
				check(tr.at)
			}
			for _, o := range m.onsets {
				if o.at.Before(start) || !o.at.Before(end) {
					continue
				}
				if name, _ := o.at.In(loc).Zone(); o.name != name {
					t.Errorf("onset %s: TZNAME %q, Go says %q", o.at.Format(time.RFC3339), o.name, name)
				}
			}
		})
	}
}

// TestVTimezone_RuleForm pins the sub-components written for zones with a
// yearly rule: the onset is the wall time on the clock before the change.
func TestVTimezone_RuleForm(t *testing.T) {
	now := time.Date(2026, 9, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		zone string
		want []string // sub-component summaries in order
	}{
		{"America/New_York", []string{
			"DAYLIGHT DTSTART:20250309T020000 -0500->-0400 EDT FREQ=YEARLY;BYMONTH=3;BYDAY=2SU",
			"STANDARD DTSTART:20251102T020000 -0400->-0500 EST FREQ=YEARLY;BYMONTH=11;BYDAY=1SU",
		}},
		{"Europe/London", []string{
			"DAYLIGHT DTSTART:20250330T010000 +0000->+0100 BST FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU",
			"STANDARD DTSTART:20251026T020000 +0100->+0000 GMT FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU",
		}},
		{"Europe/Dublin", []string{
			"DAYLIGHT DTSTART:20250330T010000 +0000->+0100 IST FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU",
			"STANDARD DTSTART:20251026T020000 +0100->+0000 GMT FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU",
		}},
		{"Australia/Lord_Howe", []string{
			"STANDARD DTSTART:20250406T020000 +1100->+1030 +1030 FREQ=YEARLY;BYMONTH=4;BYDAY=1SU",
			"DAYLIGHT DTSTART:20251005T020000 +1030->+1100 +11 FREQ=YEARLY;BYMONTH=10;BYDAY=1SU",
		}},
		{"America/Havana", []string{
			"DAYLIGHT DTSTART:20250309T000000 -0500->-0400 CDT FREQ=YEARLY;BYMONTH=3;BYDAY=2SU",
			"STANDARD DTSTART:20251102T010000 -0400->-0500 CST FREQ=YEARLY;BYMONTH=11;BYDAY=1SU",
		}},
		{"America/Santiago", []string{
			"STANDARD DTSTART:20250406T000000 -0300->-0400 -04 FREQ=YEARLY;BYMONTH=4;BYMONTHDAY=2,3,4,5,6,7,8;BYDAY=SU",
			"DAYLIGHT DTSTART:20250907T000000 -0400->-0300 -03 FREQ=YEARLY;BYMONTH=9;BYMONTHDAY=2,3,4,5,6,7,8;BYDAY=SU",
		}},
		{"Asia/Tokyo", []string{
			"STANDARD DTSTART:19700101T000000 +0900->+0900 JST ",
		}},
		{"Asia/Kolkata", []string{
			"STANDARD DTSTART:19700101T000000 +0530->+0530 IST ",
		}},
	}
	for _, tt := range tests {
		cal := parseFeed(t, Feed("x", load(t, tt.zone), nil, now))
		var got []string
		for _, c := range cal.Timezones()[0].Components {
			kind, cb := "STANDARD", (*ics.ComponentBase)(nil)
			switch v := c.(type) {
			case *ics.Standard:
				cb = &v.ComponentBase
			case *ics.Daylight:
				kind, cb = "DAYLIGHT", &v.ComponentBase
			}
			got = append(got, fmt.Sprintf("%s DTSTART:%s %s->%s %s %s", kind, propValue(cb, "DTSTART"),
				propValue(cb, "TZOFFSETFROM"), propValue(cb, "TZOFFSETTO"), propValue(cb, "TZNAME"), propValue(cb, "RRULE")))
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("%s:\n got %q\nwant %q", tt.zone, got, tt.want)
		}
	}
}

// TestVTimezone_ChangedRulesListTransitions: Mexico City dropped DST after
// October 2022, so a feed reaching back to 2022 lists that year's
// transitions explicitly and then keeps CST.
func TestVTimezone_ChangedRulesListTransitions(t *testing.T) {
	loc := load(t, "America/Mexico_City")
	now := time.Date(2026, 9, 1, 12, 0, 0, 0, time.UTC)
	cal := parseFeed(t, Feed("x", loc, []Event{{UID: "a", Start: time.Date(2022, 7, 1, 9, 0, 0, 0, loc)}}, now))
	m, _ := modelOf(t, cal, time.Date(2060, 1, 1, 0, 0, 0, 0, time.UTC))
	var got []string
	for _, o := range m.onsets {
		got = append(got, fmt.Sprintf("%s %+d->%+d %s", o.at.UTC().Format(time.RFC3339), o.from/3600, o.to/3600, o.name))
	}
	want := []string{
		"2021-04-04T08:00:00Z -6->-5 CDT", "2021-10-31T07:00:00Z -5->-6 CST",
		"2022-04-03T08:00:00Z -6->-5 CDT", "2022-10-30T07:00:00Z -5->-6 CST",
	}
	if !slices.Equal(got, want) {
		t.Fatalf("onsets:\n got %q\nwant %q", got, want)
	}
	if off := m.offsetAt(time.Date(2040, 7, 1, 0, 0, 0, 0, time.UTC)); off != -6*3600 {
		t.Errorf("July 2040 offset %d, want CST", off)
	}
}
