package carecircle

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // tests must not depend on the machine's zone database
)

// The DST transitions these tests rely on, read from Go's tzdata and written
// out so a reader can check every expectation by hand:
//
//	America/New_York    EST -05:00 / EDT -04:00
//	  2026-03-08 02:00 EST -> 03:00 EDT (07:00Z)   2026-11-01 02:00 EDT -> 01:00 EST (06:00Z)
//	  2027-03-14 02:00 EST -> 03:00 EDT (07:00Z)   2027-11-07 02:00 EDT -> 01:00 EST (06:00Z)
//	Europe/London       GMT +00:00 / BST +01:00
//	  2026-03-29 01:00 GMT -> 02:00 BST (01:00Z)   2026-10-25 02:00 BST -> 01:00 GMT (01:00Z)
//	  2027-03-28 01:00 GMT -> 02:00 BST (01:00Z)   2027-10-31 02:00 BST -> 01:00 GMT (01:00Z)
//	Australia/Lord_Howe +10:30 / +11:00 (a 30-minute shift)
//	  2026-04-05 02:00 +11 -> 01:30 +1030 (04-04 15:00Z)   2026-10-04 02:00 +1030 -> 02:30 +11 (10-03 15:30Z)
//	  2027-04-04 02:00 +11 -> 01:30 +1030 (04-03 15:00Z)   2027-10-03 02:00 +1030 -> 02:30 +11 (10-02 15:30Z)
//	America/Havana      CST -05:00 / CDT -04:00 (transitions at midnight)
//	  2026-03-08 00:00 CST -> 01:00 CDT (05:00Z)   2026-11-01 01:00 CDT -> 00:00 CST (05:00Z)
//	  2027-03-14 00:00 CST -> 01:00 CDT (05:00Z)   2027-11-07 01:00 CDT -> 00:00 CST (05:00Z)
//	Asia/Beirut         EET +02:00 / EEST +03:00 (midnight; fall-back repeats Saturday 23:00)
//	  2026-03-29 00:00 EET -> 01:00 EEST (03-28 22:00Z)   2026-10-25 00:00 EEST -> 10-24 23:00 EET (10-24 21:00Z)
//	Asia/Tokyo          JST +09:00, no DST
//	America/Toronto     1919-03-30 23:30 EST -> 1919-03-31 00:30 EDT (a gap across midnight)

func mustLoad(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatalf("load %s: %v", name, err)
	}
	return loc
}

func mustDate(t *testing.T, s string) Date {
	t.Helper()
	d, err := ParseDate(s)
	if err != nil {
		t.Fatalf("ParseDate(%q): %v", s, err)
	}
	return d
}

func utc(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatalf("parse %q: %v", s, err)
	}
	return v
}

func rfc(ts []time.Time) []string {
	out := make([]string, len(ts))
	for i, v := range ts {
		out[i] = v.UTC().Format(time.RFC3339)
	}
	return out
}

func TestParseDate(t *testing.T) {
	tests := []struct {
		in      string
		want    Date
		wantErr bool
	}{
		{in: "2026-03-08", want: Date{2026, time.March, 8}},
		{in: "2024-02-29", want: Date{2024, time.February, 29}},
		{in: "0001-01-01", want: Date{1, time.January, 1}},
		{in: "9999-12-31", want: Date{9999, time.December, 31}},
		{in: "2026-02-29", wantErr: true},
		{in: "2026-02-30", wantErr: true},
		{in: "2026-04-31", wantErr: true},
		{in: "2026-13-01", wantErr: true},
		{in: "2026-00-10", wantErr: true},
		{in: "2026-01-00", wantErr: true},
		{in: "0000-01-01", wantErr: true},
		{in: "2026-3-08", wantErr: true},
		{in: "2026-03-8", wantErr: true},
		{in: "26-03-08", wantErr: true},
		{in: "2026/03/08", wantErr: true},
		{in: "2026-03-08T00:00:00Z", wantErr: true},
		{in: " 2026-03-08", wantErr: true},
		{in: "+026-03-08", wantErr: true},
		{in: "2026-0a-08", wantErr: true},
		{in: "", wantErr: true},
	}
	for _, tt := range tests {
		got, err := ParseDate(tt.in)
		if tt.wantErr {
			if err == nil {
				t.Errorf("ParseDate(%q) = %v, want error", tt.in, got)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ParseDate(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
		if got.String() != tt.in {
			t.Errorf("ParseDate(%q).String() = %q", tt.in, got.String())
		}
	}
}

func TestDate_Arithmetic(t *testing.T) {
	tests := []struct {
		from string
		n    int
		want string
	}{
		{"2026-03-08", 1, "2026-03-09"},
		{"2026-03-08", -1, "2026-03-07"},
		{"2026-12-31", 1, "2027-01-01"},
		{"2027-01-01", -1, "2026-12-31"},
		{"2024-02-28", 1, "2024-02-29"},
		{"2026-02-28", 1, "2026-03-01"},
		{"2026-01-31", 30, "2026-03-02"},
		{"2026-03-08", 0, "2026-03-08"},
		{"2026-03-08", 365, "2027-03-08"},
	}
	for _, tt := range tests {
		if got := mustDate(t, tt.from).AddDays(tt.n).String(); got != tt.want {
			t.Errorf("%s.AddDays(%d) = %s, want %s", tt.from, tt.n, got, tt.want)
		}
	}

	weekdays := map[string]time.Weekday{
		"2026-03-08": time.Sunday, "2026-03-09": time.Monday, "2026-11-01": time.Sunday,
		"2027-03-14": time.Sunday, "2024-02-29": time.Thursday, "2026-01-01": time.Thursday,
	}
	for s, want := range weekdays {
		if got := mustDate(t, s).Weekday(); got != want {
			t.Errorf("%s.Weekday() = %v, want %v", s, got, want)
		}
	}

	a, b := mustDate(t, "2026-03-08"), mustDate(t, "2026-03-09")
	if !a.Before(b) || a.After(b) || a.Equal(b) || !b.After(a) || b.Before(a) || !a.Equal(mustDate(t, "2026-03-08")) {
		t.Errorf("comparisons of %v and %v are wrong", a, b)
	}
	if !mustDate(t, "2026-12-31").Before(mustDate(t, "2027-01-01")) || !mustDate(t, "2026-02-28").Before(mustDate(t, "2026-03-01")) {
		t.Error("comparison across month or year is wrong")
	}
}

func TestDateOf_UsesTheZone(t *testing.T) {
	ny, tokyo := mustLoad(t, "America/New_York"), mustLoad(t, "Asia/Tokyo")
	at := utc(t, "2026-03-08T03:00:00Z")
	tests := []struct {
		loc  *time.Location
		want string
	}{
		{time.UTC, "2026-03-08"},
		{ny, "2026-03-07"}, // 22:00 EST the evening before
		{tokyo, "2026-03-08"},
	}
	for _, tt := range tests {
		if got := DateOf(at, tt.loc).String(); got != tt.want {
			t.Errorf("DateOf(%s, %s) = %s, want %s", at.Format(time.RFC3339), tt.loc, got, tt.want)
		}
	}
	if got := DateOf(utc(t, "2026-03-08T15:30:00Z"), tokyo).String(); got != "2026-03-09" {
		t.Errorf("DateOf 15:30Z in Tokyo = %s, want 2026-03-09", got)
	}
}

func TestDate_JSON(t *testing.T) {
	type doc struct {
		Day   Date  `json:"day"`
		Start *Date `json:"start"`
		Zero  Date  `json:"zero"`
	}
	d := mustDate(t, "2026-03-08")
	b, err := json.Marshal(doc{Day: d, Start: &d})
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"day":"2026-03-08","start":"2026-03-08","zero":null}`; string(b) != want {
		t.Fatalf("marshal = %s, want %s", b, want)
	}
	var back doc
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if back.Day != d || back.Start == nil || *back.Start != d || !back.Zero.IsZero() {
		t.Fatalf("round trip = %+v", back)
	}
	var nullStart doc
	if err := json.Unmarshal([]byte(`{"day":"2026-11-01","start":null}`), &nullStart); err != nil || nullStart.Start != nil {
		t.Fatalf("null start = %+v, %v", nullStart, err)
	}
	for _, bad := range []string{`{"day":"2026-02-30"}`, `{"day":"03/08/2026"}`, `{"day":20260308}`, `{"day":"2026-03-08T00:00:00Z"}`} {
		var v doc
		if err := json.Unmarshal([]byte(bad), &v); err == nil {
			t.Errorf("unmarshal %s: want error, got %+v", bad, v)
		}
	}
	var txt Date
	if err := txt.UnmarshalText([]byte("2027-11-07")); err != nil || txt.String() != "2027-11-07" {
		t.Errorf("UnmarshalText = %v, %v", txt, err)
	}
}

func TestParseClock(t *testing.T) {
	good := map[string][2]int{"00:00": {0, 0}, "08:00": {8, 0}, "23:59": {23, 59}, "12:30": {12, 30}, "02:30": {2, 30}}
	for in, want := range good {
		hh, mm, err := ParseClock(in)
		if err != nil || hh != want[0] || mm != want[1] {
			t.Errorf("ParseClock(%q) = %d, %d, %v; want %d, %d", in, hh, mm, err, want[0], want[1])
		}
	}
	for _, in := range []string{"24:00", "23:60", "8:00", "08:0", "0800", "08-00", "08:00:00", " 08:00", "08:00 ", "-1:00", "+8:00", "aa:bb", "", "08:5a", "99:99"} {
		if _, _, err := ParseClock(in); err == nil {
			t.Errorf("ParseClock(%q): want error", in)
		}
	}
}

// TestLocalInstant_RFC5545 pins every expected instant as a literal: gaps take
// the offset before the gap, overlaps take the first occurrence, and plain
// times before, on and after each transition day keep their wall clock.
func TestLocalInstant_RFC5545(t *testing.T) {
	tests := []struct {
		zone, day, clock string
		want             string
		why              string
	}{
		// America/New_York, spring 2026.
		{"America/New_York", "2026-03-07", "08:00", "2026-03-07T13:00:00Z", "day before, EST"},
		{"America/New_York", "2026-03-08", "01:59", "2026-03-08T06:59:00Z", "last minute before the gap"},
		{"America/New_York", "2026-03-08", "02:00", "2026-03-08T07:00:00Z", "exactly at the transition: offset before (EST) gives 03:00 EDT"},
		{"America/New_York", "2026-03-08", "02:30", "2026-03-08T07:30:00Z", "in the gap: 03:30 EDT"},
		{"America/New_York", "2026-03-08", "02:59", "2026-03-08T07:59:00Z", "last minute of the gap"},
		{"America/New_York", "2026-03-08", "03:00", "2026-03-08T07:00:00Z", "first real minute after the gap"},
		{"America/New_York", "2026-03-08", "03:30", "2026-03-08T07:30:00Z", "same instant as 02:30"},
		{"America/New_York", "2026-03-08", "08:00", "2026-03-08T12:00:00Z", "day of, EDT"},
		{"America/New_York", "2026-03-09", "08:00", "2026-03-09T12:00:00Z", "day after, EDT"},
		// America/New_York, fall 2026.
		{"America/New_York", "2026-10-31", "08:00", "2026-10-31T12:00:00Z", "day before, EDT"},
		{"America/New_York", "2026-11-01", "00:59", "2026-11-01T04:59:00Z", "before the overlap"},
		{"America/New_York", "2026-11-01", "01:00", "2026-11-01T05:00:00Z", "start of the overlap: first (EDT)"},
		{"America/New_York", "2026-11-01", "01:30", "2026-11-01T05:30:00Z", "ambiguous: first (EDT), not 06:30Z"},
		{"America/New_York", "2026-11-01", "01:59", "2026-11-01T05:59:00Z", "end of the overlap: first (EDT)"},
		{"America/New_York", "2026-11-01", "02:00", "2026-11-01T07:00:00Z", "after the overlap, EST"},
		{"America/New_York", "2026-11-01", "08:00", "2026-11-01T13:00:00Z", "day of, EST"},
		{"America/New_York", "2026-11-02", "08:00", "2026-11-02T13:00:00Z", "day after, EST"},
		// America/New_York, 2027.
		{"America/New_York", "2027-03-13", "08:00", "2027-03-13T13:00:00Z", "day before, EST"},
		{"America/New_York", "2027-03-14", "02:00", "2027-03-14T07:00:00Z", "exactly at the transition"},
		{"America/New_York", "2027-03-14", "02:30", "2027-03-14T07:30:00Z", "in the gap"},
		{"America/New_York", "2027-03-14", "08:00", "2027-03-14T12:00:00Z", "day of, EDT"},
		{"America/New_York", "2027-03-15", "08:00", "2027-03-15T12:00:00Z", "day after"},
		{"America/New_York", "2027-11-06", "08:00", "2027-11-06T12:00:00Z", "day before, EDT"},
		{"America/New_York", "2027-11-07", "01:00", "2027-11-07T05:00:00Z", "start of the overlap: first"},
		{"America/New_York", "2027-11-07", "01:30", "2027-11-07T05:30:00Z", "ambiguous: first"},
		{"America/New_York", "2027-11-07", "08:00", "2027-11-07T13:00:00Z", "day of, EST"},
		{"America/New_York", "2027-11-08", "08:00", "2027-11-08T13:00:00Z", "day after"},

		// Europe/London, 2026.
		{"Europe/London", "2026-03-28", "08:00", "2026-03-28T08:00:00Z", "day before, GMT"},
		{"Europe/London", "2026-03-29", "00:59", "2026-03-29T00:59:00Z", "before the gap"},
		{"Europe/London", "2026-03-29", "01:00", "2026-03-29T01:00:00Z", "exactly at the transition: 02:00 BST"},
		{"Europe/London", "2026-03-29", "01:30", "2026-03-29T01:30:00Z", "in the gap: 02:30 BST"},
		{"Europe/London", "2026-03-29", "02:00", "2026-03-29T01:00:00Z", "first real minute after the gap"},
		{"Europe/London", "2026-03-29", "08:00", "2026-03-29T07:00:00Z", "day of, BST"},
		{"Europe/London", "2026-03-30", "08:00", "2026-03-30T07:00:00Z", "day after"},
		{"Europe/London", "2026-10-24", "08:00", "2026-10-24T07:00:00Z", "day before, BST"},
		{"Europe/London", "2026-10-25", "00:59", "2026-10-24T23:59:00Z", "before the overlap, BST"},
		{"Europe/London", "2026-10-25", "01:00", "2026-10-25T00:00:00Z", "exactly at the transition: first (BST)"},
		{"Europe/London", "2026-10-25", "01:30", "2026-10-25T00:30:00Z", "ambiguous: first (BST)"},
		{"Europe/London", "2026-10-25", "02:00", "2026-10-25T02:00:00Z", "after the overlap, GMT"},
		{"Europe/London", "2026-10-25", "08:00", "2026-10-25T08:00:00Z", "day of, GMT"},
		{"Europe/London", "2026-10-26", "08:00", "2026-10-26T08:00:00Z", "day after"},
		// Europe/London, 2027.
		{"Europe/London", "2027-03-27", "08:00", "2027-03-27T08:00:00Z", "day before"},
		{"Europe/London", "2027-03-28", "01:00", "2027-03-28T01:00:00Z", "exactly at the transition"},
		{"Europe/London", "2027-03-28", "01:30", "2027-03-28T01:30:00Z", "in the gap"},
		{"Europe/London", "2027-03-28", "08:00", "2027-03-28T07:00:00Z", "day of"},
		{"Europe/London", "2027-03-29", "08:00", "2027-03-29T07:00:00Z", "day after"},
		{"Europe/London", "2027-10-30", "08:00", "2027-10-30T07:00:00Z", "day before"},
		{"Europe/London", "2027-10-31", "01:00", "2027-10-31T00:00:00Z", "exactly at the transition: first"},
		{"Europe/London", "2027-10-31", "01:30", "2027-10-31T00:30:00Z", "ambiguous: first"},
		{"Europe/London", "2027-10-31", "08:00", "2027-10-31T08:00:00Z", "day of"},
		{"Europe/London", "2027-11-01", "08:00", "2027-11-01T08:00:00Z", "day after"},

		// Asia/Tokyo: no DST, the same rule every day.
		{"Asia/Tokyo", "2026-03-08", "08:00", "2026-03-07T23:00:00Z", "JST"},
		{"Asia/Tokyo", "2026-03-08", "02:30", "2026-03-07T17:30:00Z", "no gap in Tokyo"},
		{"Asia/Tokyo", "2026-11-01", "01:30", "2026-10-31T16:30:00Z", "no overlap in Tokyo"},
		{"Asia/Tokyo", "2027-07-01", "00:00", "2027-06-30T15:00:00Z", "midnight"},

		// Australia/Lord_Howe: 30-minute shifts. 2026 fall-back (April).
		{"Australia/Lord_Howe", "2026-04-04", "08:00", "2026-04-03T21:00:00Z", "day before, +11"},
		{"Australia/Lord_Howe", "2026-04-05", "01:29", "2026-04-04T14:29:00Z", "before the overlap, +11"},
		{"Australia/Lord_Howe", "2026-04-05", "01:30", "2026-04-04T14:30:00Z", "start of the overlap: first (+11)"},
		{"Australia/Lord_Howe", "2026-04-05", "01:45", "2026-04-04T14:45:00Z", "ambiguous: first (+11)"},
		{"Australia/Lord_Howe", "2026-04-05", "02:00", "2026-04-04T15:30:00Z", "exactly at the transition wall time: +1030 only"},
		{"Australia/Lord_Howe", "2026-04-05", "08:00", "2026-04-04T21:30:00Z", "day of, +1030"},
		{"Australia/Lord_Howe", "2026-04-06", "08:00", "2026-04-05T21:30:00Z", "day after"},
		// 2026 spring-forward (October): 02:00 -> 02:30.
		{"Australia/Lord_Howe", "2026-10-03", "08:00", "2026-10-02T21:30:00Z", "day before, +1030"},
		{"Australia/Lord_Howe", "2026-10-04", "01:59", "2026-10-03T15:29:00Z", "before the gap"},
		{"Australia/Lord_Howe", "2026-10-04", "02:00", "2026-10-03T15:30:00Z", "exactly at the transition: offset before, shown 02:30 +11"},
		{"Australia/Lord_Howe", "2026-10-04", "02:15", "2026-10-03T15:45:00Z", "in the 30-minute gap: 02:45 +11"},
		{"Australia/Lord_Howe", "2026-10-04", "02:30", "2026-10-03T15:30:00Z", "first real minute after the gap"},
		{"Australia/Lord_Howe", "2026-10-04", "08:00", "2026-10-03T21:00:00Z", "day of, +11"},
		{"Australia/Lord_Howe", "2026-10-05", "08:00", "2026-10-04T21:00:00Z", "day after"},
		// 2027.
		{"Australia/Lord_Howe", "2027-04-03", "08:00", "2027-04-02T21:00:00Z", "day before"},
		{"Australia/Lord_Howe", "2027-04-04", "01:45", "2027-04-03T14:45:00Z", "ambiguous: first"},
		{"Australia/Lord_Howe", "2027-04-04", "08:00", "2027-04-03T21:30:00Z", "day of"},
		{"Australia/Lord_Howe", "2027-04-05", "08:00", "2027-04-04T21:30:00Z", "day after"},
		{"Australia/Lord_Howe", "2027-10-02", "08:00", "2027-10-01T21:30:00Z", "day before"},
		{"Australia/Lord_Howe", "2027-10-03", "02:00", "2027-10-02T15:30:00Z", "exactly at the transition"},
		{"Australia/Lord_Howe", "2027-10-03", "02:15", "2027-10-02T15:45:00Z", "in the gap"},
		{"Australia/Lord_Howe", "2027-10-03", "08:00", "2027-10-02T21:00:00Z", "day of"},
		{"Australia/Lord_Howe", "2027-10-04", "08:00", "2027-10-03T21:00:00Z", "day after"},

		// America/Havana: midnight does not exist on the spring day.
		{"America/Havana", "2026-03-07", "23:59", "2026-03-08T04:59:00Z", "last minute before the gap, CST"},
		{"America/Havana", "2026-03-08", "00:00", "2026-03-08T05:00:00Z", "midnight is in the gap: offset before, shown 01:00 CDT"},
		{"America/Havana", "2026-03-08", "00:30", "2026-03-08T05:30:00Z", "in the gap"},
		{"America/Havana", "2026-03-08", "01:00", "2026-03-08T05:00:00Z", "first real minute"},
		{"America/Havana", "2026-03-08", "08:00", "2026-03-08T12:00:00Z", "day of, CDT"},
		{"America/Havana", "2026-03-07", "08:00", "2026-03-07T13:00:00Z", "day before, CST"},
		{"America/Havana", "2026-03-09", "08:00", "2026-03-09T12:00:00Z", "day after"},
		{"America/Havana", "2026-11-01", "00:00", "2026-11-01T04:00:00Z", "midnight occurs twice: first (CDT)"},
		{"America/Havana", "2026-11-01", "00:30", "2026-11-01T04:30:00Z", "ambiguous: first"},
		{"America/Havana", "2026-11-01", "01:00", "2026-11-01T06:00:00Z", "after the overlap, CST"},
		{"America/Havana", "2026-11-01", "08:00", "2026-11-01T13:00:00Z", "day of"},
		{"America/Havana", "2026-10-31", "08:00", "2026-10-31T12:00:00Z", "day before"},
		{"America/Havana", "2027-03-14", "00:00", "2027-03-14T05:00:00Z", "2027 midnight gap"},
		{"America/Havana", "2027-03-14", "08:00", "2027-03-14T12:00:00Z", "2027 day of"},
		{"America/Havana", "2027-11-07", "00:30", "2027-11-07T04:30:00Z", "2027 ambiguous: first"},
		{"America/Havana", "2027-11-07", "08:00", "2027-11-07T13:00:00Z", "2027 day of"},

		// Asia/Beirut: the fall-back repeats the last hour of Saturday.
		{"Asia/Beirut", "2026-03-29", "00:00", "2026-03-28T22:00:00Z", "midnight in the gap: offset before (EET)"},
		{"Asia/Beirut", "2026-03-29", "00:30", "2026-03-28T22:30:00Z", "in the gap"},
		{"Asia/Beirut", "2026-03-29", "01:00", "2026-03-28T22:00:00Z", "first real minute"},
		{"Asia/Beirut", "2026-10-24", "22:59", "2026-10-24T19:59:00Z", "before the overlap"},
		{"Asia/Beirut", "2026-10-24", "23:30", "2026-10-24T20:30:00Z", "Saturday 23:30 occurs twice: first (EEST)"},
		{"Asia/Beirut", "2026-10-25", "00:00", "2026-10-24T22:00:00Z", "Sunday midnight, EET"},

		// UTC: the identity.
		{"UTC", "2026-03-08", "02:30", "2026-03-08T02:30:00Z", "UTC"},
	}
	for _, tt := range tests {
		loc := mustLoad(t, tt.zone)
		hh, mm, err := ParseClock(tt.clock)
		if err != nil {
			t.Fatal(err)
		}
		got := LocalInstant(mustDate(t, tt.day), hh, mm, loc)
		if s := got.UTC().Format(time.RFC3339); s != tt.want {
			t.Errorf("%s %s %s: got %s, want %s (%s)", tt.zone, tt.day, tt.clock, s, tt.want, tt.why)
		}
		if got.Location() != loc {
			t.Errorf("%s %s %s: location %v, want %v", tt.zone, tt.day, tt.clock, got.Location(), loc)
		}
	}
}

// TestLocalInstant_GapShowsShiftedWallClock checks what a caregiver sees for
// a dose whose wall time does not exist.
func TestLocalInstant_GapShowsShiftedWallClock(t *testing.T) {
	tests := []struct {
		zone, day, clock string
		wantLocal        string
	}{
		{"America/New_York", "2026-03-08", "02:30", "2026-03-08 03:30 EDT"},
		{"America/New_York", "2026-03-08", "02:00", "2026-03-08 03:00 EDT"},
		{"Europe/London", "2026-03-29", "01:00", "2026-03-29 02:00 BST"},
		{"Australia/Lord_Howe", "2026-10-04", "02:00", "2026-10-04 02:30 +11"},
		{"Australia/Lord_Howe", "2026-10-04", "02:15", "2026-10-04 02:45 +11"},
		{"America/Havana", "2026-03-08", "00:00", "2026-03-08 01:00 CDT"},
		{"America/New_York", "2026-11-01", "01:30", "2026-11-01 01:30 EDT"},
		{"Europe/London", "2026-10-25", "01:30", "2026-10-25 01:30 BST"},
	}
	for _, tt := range tests {
		hh, mm, _ := ParseClock(tt.clock)
		got := LocalInstant(mustDate(t, tt.day), hh, mm, mustLoad(t, tt.zone)).Format("2006-01-02 15:04 MST")
		if got != tt.wantLocal {
			t.Errorf("%s %s %s shows %s, want %s", tt.zone, tt.day, tt.clock, got, tt.wantLocal)
		}
	}
}

func TestExpectedTimes(t *testing.T) {
	tests := []struct {
		freq   string
		n      int
		ok     bool
		lo, hi int
	}{
		{FrequencyOnceDaily, 1, true, 1, 1},
		{FrequencyTwiceDaily, 2, true, 2, 2},
		{FrequencyThreeTimesDaily, 3, true, 3, 3},
		{FrequencyFourTimesDaily, 4, true, 4, 4},
		{FrequencyWeekly, 1, true, 1, 4},
		{FrequencyAsNeeded, 0, true, 0, 0},
		{"HOURLY", 0, false, 0, 0},
		{"once_daily", 0, false, 0, 0},
		{"", 0, false, 0, 0},
	}
	for _, tt := range tests {
		n, ok := ExpectedTimes(tt.freq)
		lo, hi, ok2 := TimesBounds(tt.freq)
		if n != tt.n || ok != tt.ok || lo != tt.lo || hi != tt.hi || ok2 != tt.ok {
			t.Errorf("%q: ExpectedTimes = %d, %v; TimesBounds = %d, %d, %v", tt.freq, n, ok, lo, hi, ok2)
		}
	}
}

func TestDosePlanValidate(t *testing.T) {
	d := func(s string) *Date { v := mustDate(t, s); return &v }
	tests := []struct {
		name string
		plan DosePlan
		want []string
	}{
		{"once daily", DosePlan{Frequency: FrequencyOnceDaily, Times: []string{"08:00"}}, nil},
		{"three times daily", DosePlan{Frequency: FrequencyThreeTimesDaily, Times: []string{"08:00", "14:00", "20:00"}}, nil},
		{"weekly two days two times", DosePlan{Frequency: FrequencyWeekly, Times: []string{"09:00", "21:00"}, DaysOfWeek: []time.Weekday{time.Monday, time.Thursday}}, nil},
		{"as needed", DosePlan{Frequency: FrequencyAsNeeded}, nil},
		{"dates equal", DosePlan{Frequency: FrequencyOnceDaily, Times: []string{"08:00"}, StartDate: d("2026-03-08"), EndDate: d("2026-03-08")}, nil},
		{"only end date", DosePlan{Frequency: FrequencyOnceDaily, Times: []string{"08:00"}, EndDate: d("2026-03-08")}, nil},
		{"unknown frequency", DosePlan{Frequency: "HOURLY", Times: []string{"08:00"}},
			[]string{"frequency must be one of ONCE_DAILY, TWICE_DAILY, THREE_TIMES_DAILY, FOUR_TIMES_DAILY, WEEKLY, AS_NEEDED"}},
		{"too few times", DosePlan{Frequency: FrequencyThreeTimesDaily, Times: []string{"08:00", "14:00"}},
			[]string{"times must have 3 entries for THREE_TIMES_DAILY"}},
		{"once daily with none", DosePlan{Frequency: FrequencyOnceDaily},
			[]string{"times must have 1 entry for ONCE_DAILY"}},
		{"bad time", DosePlan{Frequency: FrequencyTwiceDaily, Times: []string{"08:00", "8:00pm"}},
			[]string{"times[1] must be HH:MM"}},
		{"duplicate time", DosePlan{Frequency: FrequencyTwiceDaily, Times: []string{"08:00", "08:00"}},
			[]string{"times must be unique"}},
		{"weekly without days", DosePlan{Frequency: FrequencyWeekly, Times: []string{"09:00"}},
			[]string{"daysOfWeek should not be empty for WEEKLY"}},
		{"weekly with five times", DosePlan{Frequency: FrequencyWeekly, Times: []string{"01:00", "02:00", "03:00", "04:00", "05:00"}, DaysOfWeek: []time.Weekday{time.Monday}},
			[]string{"times must have 1 to 4 entries for WEEKLY"}},
		{"weekly bad day", DosePlan{Frequency: FrequencyWeekly, Times: []string{"09:00"}, DaysOfWeek: []time.Weekday{time.Monday, 7}},
			[]string{"daysOfWeek[1] must be a day from 0 (Sunday) to 6 (Saturday)"}},
		{"weekly duplicate day", DosePlan{Frequency: FrequencyWeekly, Times: []string{"09:00"}, DaysOfWeek: []time.Weekday{time.Monday, time.Monday}},
			[]string{"daysOfWeek must be unique"}},
		{"days on a daily plan", DosePlan{Frequency: FrequencyOnceDaily, Times: []string{"08:00"}, DaysOfWeek: []time.Weekday{time.Monday}},
			[]string{"daysOfWeek must be empty unless frequency is WEEKLY"}},
		{"as needed with times", DosePlan{Frequency: FrequencyAsNeeded, Times: []string{"08:00"}},
			[]string{"times must be empty for AS_NEEDED"}},
		{"end before start", DosePlan{Frequency: FrequencyOnceDaily, Times: []string{"08:00"}, StartDate: d("2026-03-09"), EndDate: d("2026-03-08")},
			[]string{"endDate must not be before startDate"}},
		{"several problems at once", DosePlan{Frequency: FrequencyFourTimesDaily, Times: []string{"24:00", "10:00", "10:00"}, StartDate: d("2027-01-01"), EndDate: d("2026-12-31")},
			[]string{"times must have 4 entries for FOUR_TIMES_DAILY", "times[0] must be HH:MM", "times must be unique", "endDate must not be before startDate"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.plan.Validate()
			if !slices.Equal([]string(got), tt.want) {
				t.Fatalf("Validate() = %q\nwant        %q", got, tt.want)
			}
			if err := got.Err(); (err != nil) != (len(tt.want) > 0) {
				t.Fatalf("Err() = %v", err)
			} else if err != nil && ErrorCode(err) != EINVALID {
				t.Fatalf("Err() code = %s", ErrorCode(err))
			}
		})
	}
}

// TestDosesOn_DailyDoseKeepsLocalTime: an 08:00 daily dose stays at 08:00 on
// the wall clock across every transition, so its UTC instant moves.
func TestDosesOn_DailyDoseKeepsLocalTime(t *testing.T) {
	plan := DosePlan{Frequency: FrequencyOnceDaily, Times: []string{"08:00"}}
	tests := []struct {
		zone string
		days map[string]string // local day -> the one expected dose
	}{
		{"America/New_York", map[string]string{
			"2026-03-07": "2026-03-07T13:00:00Z", "2026-03-08": "2026-03-08T12:00:00Z", "2026-03-09": "2026-03-09T12:00:00Z",
			"2026-10-31": "2026-10-31T12:00:00Z", "2026-11-01": "2026-11-01T13:00:00Z", "2026-11-02": "2026-11-02T13:00:00Z",
			"2027-03-13": "2027-03-13T13:00:00Z", "2027-03-14": "2027-03-14T12:00:00Z", "2027-03-15": "2027-03-15T12:00:00Z",
			"2027-11-06": "2027-11-06T12:00:00Z", "2027-11-07": "2027-11-07T13:00:00Z", "2027-11-08": "2027-11-08T13:00:00Z",
		}},
		{"Europe/London", map[string]string{
			"2026-03-28": "2026-03-28T08:00:00Z", "2026-03-29": "2026-03-29T07:00:00Z", "2026-03-30": "2026-03-30T07:00:00Z",
			"2026-10-24": "2026-10-24T07:00:00Z", "2026-10-25": "2026-10-25T08:00:00Z", "2026-10-26": "2026-10-26T08:00:00Z",
			"2027-03-27": "2027-03-27T08:00:00Z", "2027-03-28": "2027-03-28T07:00:00Z", "2027-03-29": "2027-03-29T07:00:00Z",
			"2027-10-30": "2027-10-30T07:00:00Z", "2027-10-31": "2027-10-31T08:00:00Z", "2027-11-01": "2027-11-01T08:00:00Z",
		}},
		{"Asia/Tokyo", map[string]string{
			"2026-03-08": "2026-03-07T23:00:00Z", "2026-11-01": "2026-10-31T23:00:00Z", "2027-03-14": "2027-03-13T23:00:00Z",
		}},
		{"Australia/Lord_Howe", map[string]string{
			"2026-04-04": "2026-04-03T21:00:00Z", "2026-04-05": "2026-04-04T21:30:00Z", "2026-04-06": "2026-04-05T21:30:00Z",
			"2026-10-03": "2026-10-02T21:30:00Z", "2026-10-04": "2026-10-03T21:00:00Z", "2026-10-05": "2026-10-04T21:00:00Z",
			"2027-04-03": "2027-04-02T21:00:00Z", "2027-04-04": "2027-04-03T21:30:00Z", "2027-04-05": "2027-04-04T21:30:00Z",
			"2027-10-02": "2027-10-01T21:30:00Z", "2027-10-03": "2027-10-02T21:00:00Z", "2027-10-04": "2027-10-03T21:00:00Z",
		}},
		{"America/Havana", map[string]string{
			"2026-03-07": "2026-03-07T13:00:00Z", "2026-03-08": "2026-03-08T12:00:00Z", "2026-03-09": "2026-03-09T12:00:00Z",
			"2026-10-31": "2026-10-31T12:00:00Z", "2026-11-01": "2026-11-01T13:00:00Z", "2026-11-02": "2026-11-02T13:00:00Z",
			"2027-03-13": "2027-03-13T13:00:00Z", "2027-03-14": "2027-03-14T12:00:00Z", "2027-03-15": "2027-03-15T12:00:00Z",
			"2027-11-06": "2027-11-06T12:00:00Z", "2027-11-07": "2027-11-07T13:00:00Z", "2027-11-08": "2027-11-08T13:00:00Z",
		}},
	}
	for _, tt := range tests {
		loc := mustLoad(t, tt.zone)
		for day, want := range tt.days {
			got := plan.DosesOn(mustDate(t, day), loc)
			if !slices.Equal(rfc(got), []string{want}) {
				t.Errorf("%s %s: DosesOn = %v, want [%s]", tt.zone, day, rfc(got), want)
				continue
			}
			if wall := got[0].In(loc).Format("15:04"); wall != "08:00" {
				t.Errorf("%s %s: dose shows %s on the wall clock, want 08:00", tt.zone, day, wall)
			}
		}
	}
}

func TestDosesOn_TransitionDays(t *testing.T) {
	tests := []struct {
		name  string
		zone  string
		day   string
		times []string
		want  []string
	}{
		{"NY spring: 02:30 and 03:30 are one dose at 07:30Z", "America/New_York", "2026-03-08",
			[]string{"20:00", "03:30", "00:30", "02:30"},
			[]string{"2026-03-08T05:30:00Z", "2026-03-08T07:30:00Z", "2026-03-09T00:00:00Z"}},
		{"NY spring: a dose exactly at 02:00", "America/New_York", "2026-03-08",
			[]string{"02:00", "14:00"},
			[]string{"2026-03-08T07:00:00Z", "2026-03-08T18:00:00Z"}},
		{"NY fall: ambiguous 01:30 once, at the first occurrence", "America/New_York", "2026-11-01",
			[]string{"01:30", "13:30"},
			[]string{"2026-11-01T05:30:00Z", "2026-11-01T18:30:00Z"}},
		{"NY fall 2027: 01:00 and 01:59 first occurrences", "America/New_York", "2027-11-07",
			[]string{"01:00", "01:59", "02:00"},
			[]string{"2027-11-07T05:00:00Z", "2027-11-07T05:59:00Z", "2027-11-07T07:00:00Z"}},
		{"London fall: a dose exactly at 01:00 is BST", "Europe/London", "2026-10-25",
			[]string{"01:00", "13:00"},
			[]string{"2026-10-25T00:00:00Z", "2026-10-25T13:00:00Z"}},
		{"London spring 2027: 01:00 and 02:00 are one dose", "Europe/London", "2027-03-28",
			[]string{"01:00", "02:00", "12:00"},
			[]string{"2027-03-28T01:00:00Z", "2027-03-28T11:00:00Z"}},
		{"Lord Howe spring: 02:00 and 02:30 are one dose", "Australia/Lord_Howe", "2026-10-04",
			[]string{"02:00", "02:30", "08:00"},
			[]string{"2026-10-03T15:30:00Z", "2026-10-03T21:00:00Z"}},
		{"Lord Howe fall: 01:30 and 02:00 stay 60 minutes apart", "Australia/Lord_Howe", "2026-04-05",
			[]string{"02:00", "01:30"},
			[]string{"2026-04-04T14:30:00Z", "2026-04-04T15:30:00Z"}},
		{"Havana spring: midnight dose", "America/Havana", "2026-03-08",
			[]string{"00:00", "12:00"},
			[]string{"2026-03-08T05:00:00Z", "2026-03-08T16:00:00Z"}},
		{"Havana fall: midnight is the first of two", "America/Havana", "2026-11-01",
			[]string{"00:00", "12:00"},
			[]string{"2026-11-01T04:00:00Z", "2026-11-01T17:00:00Z"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			plan := DosePlan{Frequency: FrequencyFourTimesDaily, Times: tt.times}
			got := plan.DosesOn(mustDate(t, tt.day), mustLoad(t, tt.zone))
			if !slices.Equal(rfc(got), tt.want) {
				t.Fatalf("DosesOn = %v\nwant      %v", rfc(got), tt.want)
			}
		})
	}
}

// TestDosesOn_GapAcrossMidnightBelongsToEarlierDay uses Toronto's 1919
// spring-forward, 23:30 EST -> 00:30 EDT: the 23:45 dose of March 30 lands
// on 00:45 EDT of March 31, the same instant as March 31's own 00:45 dose. It
// is listed once, on March 30.
func TestDosesOn_GapAcrossMidnightBelongsToEarlierDay(t *testing.T) {
	loc := mustLoad(t, "America/Toronto")
	plan := DosePlan{Frequency: FrequencyTwiceDaily, Times: []string{"00:45", "23:45"}}
	tests := map[string][]string{
		"1919-03-30": {"1919-03-30T05:45:00Z", "1919-03-31T04:45:00Z"},
		"1919-03-31": {"1919-04-01T03:45:00Z"},
		"1919-04-01": {"1919-04-01T04:45:00Z", "1919-04-02T03:45:00Z"},
	}
	for day, want := range tests {
		if got := plan.DosesOn(mustDate(t, day), loc); !slices.Equal(rfc(got), want) {
			t.Errorf("%s: DosesOn = %v, want %v", day, rfc(got), want)
		}
	}
	between := plan.DosesBetween(utc(t, "1919-03-30T00:00:00Z"), utc(t, "1919-04-02T00:00:00Z"), loc)
	want := []string{
		"1919-03-30T04:45:00Z", // 23:45 EST of March 29
		"1919-03-30T05:45:00Z", "1919-03-31T04:45:00Z", "1919-04-01T03:45:00Z", "1919-04-01T04:45:00Z",
	}
	if !slices.Equal(rfc(between), want) {
		t.Errorf("DosesBetween = %v, want %v", rfc(between), want)
	}
}

func TestDosesOn_WeeklyDays(t *testing.T) {
	ny := mustLoad(t, "America/New_York")
	plan := DosePlan{Frequency: FrequencyWeekly, Times: []string{"09:00"}, DaysOfWeek: []time.Weekday{time.Sunday, time.Wednesday}}
	// 2026-03-01 is a Sunday; the clocks change on Sunday 2026-03-08.
	got := plan.DosesBetween(utc(t, "2026-03-01T00:00:00Z"), utc(t, "2026-03-16T00:00:00Z"), ny)
	want := []string{
		"2026-03-01T14:00:00Z", // Sun, EST
		"2026-03-04T14:00:00Z", // Wed, EST
		"2026-03-08T13:00:00Z", // Sun, the transition day, EDT
		"2026-03-11T13:00:00Z", // Wed, EDT
		"2026-03-15T13:00:00Z", // Sun, EDT
	}
	if !slices.Equal(rfc(got), want) {
		t.Fatalf("DosesBetween = %v\nwant             %v", rfc(got), want)
	}
	if got := plan.DosesOn(mustDate(t, "2026-03-09"), ny); got != nil {
		t.Errorf("Monday: DosesOn = %v, want none", rfc(got))
	}
}

func TestDosesOn_StartAndEndDatesAreInclusive(t *testing.T) {
	london := mustLoad(t, "Europe/London")
	start, end := mustDate(t, "2026-03-28"), mustDate(t, "2026-03-30")
	plan := DosePlan{Frequency: FrequencyTwiceDaily, Times: []string{"08:00", "20:00"}, StartDate: &start, EndDate: &end}
	got := plan.DosesBetween(utc(t, "2026-03-20T00:00:00Z"), utc(t, "2026-04-05T00:00:00Z"), london)
	want := []string{
		"2026-03-28T08:00:00Z", "2026-03-28T20:00:00Z", // GMT
		"2026-03-29T07:00:00Z", "2026-03-29T19:00:00Z", // BST from 01:00Z
		"2026-03-30T07:00:00Z", "2026-03-30T19:00:00Z",
	}
	if !slices.Equal(rfc(got), want) {
		t.Fatalf("DosesBetween = %v\nwant             %v", rfc(got), want)
	}
	for _, day := range []string{"2026-03-27", "2026-03-31"} {
		if got := plan.DosesOn(mustDate(t, day), london); got != nil {
			t.Errorf("%s is outside the plan: DosesOn = %v", day, rfc(got))
		}
	}
}

func TestDosesOn_AsNeededHasNoSchedule(t *testing.T) {
	plan := DosePlan{Frequency: FrequencyAsNeeded}
	if got := plan.DosesOn(mustDate(t, "2026-03-08"), time.UTC); got != nil {
		t.Errorf("DosesOn = %v", got)
	}
	if got := plan.DosesBetween(utc(t, "2026-01-01T00:00:00Z"), utc(t, "2027-01-01T00:00:00Z"), time.UTC); got != nil {
		t.Errorf("DosesBetween = %v", got)
	}
	if plan.IsDose(utc(t, "2026-03-08T08:00:00Z"), time.UTC) {
		t.Error("IsDose = true for AS_NEEDED")
	}
}

func TestDosesBetween_HalfOpenAcrossSpringForward(t *testing.T) {
	ny := mustLoad(t, "America/New_York")
	plan := DosePlan{Frequency: FrequencyOnceDaily, Times: []string{"02:30"}}
	got := plan.DosesBetween(utc(t, "2026-03-07T07:30:00Z"), utc(t, "2026-03-10T06:30:00Z"), ny)
	want := []string{
		"2026-03-07T07:30:00Z", // 02:30 EST; from is inclusive
		"2026-03-08T07:30:00Z", // 02:30 does not exist: 03:30 EDT
		"2026-03-09T06:30:00Z", // 02:30 EDT
		// 2026-03-10T06:30:00Z is excluded: to is exclusive
	}
	if !slices.Equal(rfc(got), want) {
		t.Fatalf("DosesBetween = %v\nwant             %v", rfc(got), want)
	}
	if got := plan.DosesBetween(utc(t, "2026-03-09T00:00:00Z"), utc(t, "2026-03-08T00:00:00Z"), ny); got != nil {
		t.Errorf("reversed range: %v", got)
	}
}

func TestIsDose(t *testing.T) {
	ny := mustLoad(t, "America/New_York")
	plan := DosePlan{Frequency: FrequencyTwiceDaily, Times: []string{"01:30", "02:30"}}
	tests := []struct {
		at   string
		want bool
	}{
		{"2026-03-08T06:30:00Z", true},  // 01:30 EST on the spring day
		{"2026-03-08T07:30:00Z", true},  // 02:30, taken as 03:30 EDT
		{"2026-03-08T07:30:01Z", false}, // not exactly
		{"2026-11-01T05:30:00Z", true},  // 01:30, first occurrence
		{"2026-11-01T06:30:00Z", false}, // 01:30 second occurrence is not a dose
		{"2026-11-01T07:30:00Z", true},  // 02:30 EST
		{"2026-11-01T12:00:00Z", false},
		{"2026-07-01T05:30:00Z", true}, // 01:30 EDT
		{"2026-07-01T06:30:00Z", true}, // 02:30 EDT
	}
	for _, tt := range tests {
		if got := plan.IsDose(utc(t, tt.at), ny); got != tt.want {
			t.Errorf("IsDose(%s) = %v, want %v", tt.at, got, tt.want)
		}
	}
	// A dose given in another zone's representation is still the same instant.
	if !plan.IsDose(utc(t, "2026-03-08T07:30:00Z").In(mustLoad(t, "Asia/Tokyo")), ny) {
		t.Error("IsDose depends on the location of t")
	}
}

// TestDosesBetween_EveryDoseOnceAllYear checks, over two whole years in every
// zone, that a plan with times in and around the transition hours yields each
// dose once, in order, that each is recognised by IsDose, and that days
// without a collision have all four doses.
func TestDosesBetween_EveryDoseOnceAllYear(t *testing.T) {
	plan := DosePlan{Frequency: FrequencyFourTimesDaily, Times: []string{"00:00", "01:30", "02:15", "23:30"}}
	for _, zone := range []string{"America/New_York", "Europe/London", "Asia/Tokyo", "Australia/Lord_Howe", "America/Havana", "Asia/Beirut"} {
		loc := mustLoad(t, zone)
		from, to := utc(t, "2025-12-31T00:00:00Z"), utc(t, "2028-01-02T00:00:00Z")
		all := plan.DosesBetween(from, to, loc)
		perDay := 0
		for d := mustDate(t, "2026-01-01"); d.Before(mustDate(t, "2028-01-01")); d = d.AddDays(1) {
			perDay += len(plan.DosesOn(d, loc))
		}
		inYears := 0
		for i, dose := range all {
			if i > 0 && !all[i-1].Before(dose) {
				t.Fatalf("%s: doses out of order or repeated at %s", zone, dose.UTC().Format(time.RFC3339))
			}
			if !plan.IsDose(dose, loc) {
				t.Fatalf("%s: IsDose(%s) = false", zone, dose.UTC().Format(time.RFC3339))
			}
			if y := dose.In(loc).Year(); y == 2026 || y == 2027 {
				inYears++
			}
		}
		if perDay != inYears {
			t.Errorf("%s: days list %d doses, the range holds %d", zone, perDay, inYears)
		}
		// None of these times collides with another in any of these zones
		// (each gap pushes its time onto a minute no other time uses), so
		// every one of the 730 days has all four doses.
		if perDay != 730*4 {
			t.Errorf("%s: %d doses in 2026-2027, want %d", zone, perDay, 730*4)
		}
	}
}

func TestDosesOn_IgnoresUnparsableTimes(t *testing.T) {
	plan := DosePlan{Frequency: FrequencyTwiceDaily, Times: []string{"08:00", "25:00"}}
	got := plan.DosesOn(mustDate(t, "2026-06-01"), time.UTC)
	if !slices.Equal(rfc(got), []string{"2026-06-01T08:00:00Z"}) {
		t.Errorf("DosesOn = %v", rfc(got))
	}
	if !strings.Contains(strings.Join(plan.Validate(), ";"), "times[1] must be HH:MM") {
		t.Errorf("Validate = %v", plan.Validate())
	}
}

func BenchmarkDosesOn(b *testing.B) {
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		b.Fatal(err)
	}
	plan := DosePlan{Frequency: FrequencyFourTimesDaily, Times: []string{"08:00", "12:00", "18:00", "22:00"}}
	d := Date{2026, time.March, 8}
	for b.Loop() {
		plan.DosesOn(d, ny)
	}
}
