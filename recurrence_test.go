package carecircle

import (
	"slices"
	"testing"
	"time"

	"github.com/teambition/rrule-go"
)

func TestParseRecurrence_Accepts(t *testing.T) {
	tests := map[string]string{
		"FREQ=WEEKLY":                                   "FREQ=WEEKLY",
		"RRULE:FREQ=WEEKLY;BYDAY=MO,TH":                 "FREQ=WEEKLY;BYDAY=MO,TH",
		"rrule:freq=daily;count=5":                      "FREQ=DAILY;COUNT=5",
		"  FREQ=MONTHLY;BYMONTHDAY=-1  ":                "FREQ=MONTHLY;BYMONTHDAY=-1",
		"FREQ=MONTHLY;BYDAY=2TU":                        "FREQ=MONTHLY;BYDAY=2TU",
		"FREQ=YEARLY;UNTIL=20301231T000000Z":            "FREQ=YEARLY;UNTIL=20301231T000000Z",
		"FREQ=DAILY;UNTIL=20261231":                     "FREQ=DAILY;UNTIL=20261231",
		"FREQ=WEEKLY;INTERVAL=2;UNTIL=20261231T235959":  "FREQ=WEEKLY;INTERVAL=2;UNTIL=20261231T235959",
		"FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29":           "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29",
		"FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1": "FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1",
		"FREQ=WEEKLY;WKST=SU;BYDAY=SU,SA":               "FREQ=WEEKLY;WKST=SU;BYDAY=SU,SA",
	}
	for in, want := range tests {
		r, err := ParseRecurrence(in)
		if err != nil {
			t.Errorf("ParseRecurrence(%q): %v", in, err)
			continue
		}
		if r.String() != want || r.IsZero() {
			t.Errorf("ParseRecurrence(%q).String() = %q, want %q", in, r.String(), want)
		}
	}
	if !(Recurrence{}).IsZero() {
		t.Error("zero Recurrence is not IsZero")
	}
}

func TestParseRecurrence_Refuses(t *testing.T) {
	tests := []string{
		"",
		"   ",
		"FREQ=HOURLY",
		"FREQ=MINUTELY;COUNT=5",
		"FREQ=SECONDLY;UNTIL=20261231T000000Z",
		"FREQ=FORTNIGHTLY",
		"COUNT=3",
		"DTSTART:20260101T100000Z\nRRULE:FREQ=DAILY",
		"DTSTART;TZID=America/New_York:20260101T100000\nRRULE:FREQ=DAILY",
		"FREQ=DAILY;DTSTART=20260101T100000Z",
		"FREQ=DAILY\nEXDATE:20260102T100000Z",
		"FREQ=DAILY;COUNT=3;UNTIL=20261231T000000Z",
		"FREQ=DAILY;COUNT=0",
		"FREQ=DAILY;COUNT=-2",
		"FREQ=DAILY;COUNT=x",
		"FREQ=DAILY;INTERVAL=0",
		"FREQ=DAILY;BYHOUR=9",
		"FREQ=DAILY;BYMINUTE=0,30",
		"FREQ=DAILY;BYSECOND=0",
		"FREQ=YEARLY;BYEASTER=0",
		"FREQ=DAILY;FREQ=WEEKLY",
		"FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30",
		"FREQ=DAILY;UNTIL=2026-12-31",
		"FREQ=DAILY;UNTIL=20261341",
		"FREQ=MONTHLY;BYMONTHDAY=32",
		"FREQ=MONTHLY;BYMONTH=13",
		"FREQ=DAILY;;COUNT=2",
		"FREQ=WEEKLY;BYDAY=XX",
		"FREQ=DAILY;X-NAME=1",
		"FREQ=",
		"RRULE:",
	}
	for _, in := range tests {
		r, err := ParseRecurrence(in)
		if err == nil {
			t.Errorf("ParseRecurrence(%q) = %q, want error", in, r)
			continue
		}
		if ErrorCode(err) != EINVALID {
			t.Errorf("ParseRecurrence(%q): code %s, want %s", in, ErrorCode(err), EINVALID)
		}
	}
}

func mustRecurrence(t *testing.T, s string) Recurrence {
	t.Helper()
	r, err := ParseRecurrence(s)
	if err != nil {
		t.Fatalf("ParseRecurrence(%q): %v", s, err)
	}
	return r
}

func TestOccurrences_AcrossDST(t *testing.T) {
	ny, london := mustLoad(t, "America/New_York"), mustLoad(t, "Europe/London")
	wide := [2]string{"2020-01-01T00:00:00Z", "2035-01-01T00:00:00Z"}
	tests := []struct {
		name  string
		rule  string
		loc   *time.Location
		start string // local wall time in loc, "2006-01-02 15:04"
		from  string
		to    string
		want  []string
	}{
		{"NY weekly 10:00 across the fall-back", "FREQ=WEEKLY;COUNT=6", ny, "2026-10-05 10:00", wide[0], wide[1], []string{
			"2026-10-05T14:00:00Z", "2026-10-12T14:00:00Z", "2026-10-19T14:00:00Z", "2026-10-26T14:00:00Z",
			"2026-11-02T15:00:00Z", "2026-11-09T15:00:00Z",
		}},
		{"NY weekly 10:00 across the 2027 spring-forward", "FREQ=WEEKLY;BYDAY=SU;COUNT=4", ny, "2027-03-07 10:00", wide[0], wide[1], []string{
			"2027-03-07T15:00:00Z", "2027-03-14T14:00:00Z", "2027-03-21T14:00:00Z", "2027-03-28T14:00:00Z",
		}},
		{"NY daily 02:30 through the gap", "FREQ=DAILY", ny, "2026-03-06 02:30", "2026-03-06T00:00:00Z", "2026-03-11T00:00:00Z", []string{
			"2026-03-06T07:30:00Z", "2026-03-07T07:30:00Z",
			"2026-03-08T07:30:00Z", // 02:30 does not exist: 03:30 EDT
			"2026-03-09T06:30:00Z", "2026-03-10T06:30:00Z",
		}},
		{"NY daily 01:30 through the overlap", "FREQ=DAILY", ny, "2026-10-30 01:30", "2026-10-30T00:00:00Z", "2026-11-04T00:00:00Z", []string{
			"2026-10-30T05:30:00Z", "2026-10-31T05:30:00Z",
			"2026-11-01T05:30:00Z", // first of the two 01:30s
			"2026-11-02T06:30:00Z", "2026-11-03T06:30:00Z",
		}},
		{"London weekly Sunday 01:30 through the spring gap", "FREQ=WEEKLY", london, "2026-03-22 01:30", wide[0], "2026-04-06T00:00:00Z", []string{
			"2026-03-22T01:30:00Z", "2026-03-29T01:30:00Z", "2026-04-05T00:30:00Z",
		}},
		{"London weekly Sunday 01:30 through the overlap", "FREQ=WEEKLY;COUNT=3", london, "2026-10-18 01:30", wide[0], wide[1], []string{
			"2026-10-18T00:30:00Z", "2026-10-25T00:30:00Z", "2026-11-01T01:30:00Z",
		}},
		{"London last Sunday 09:00 through 2027", "FREQ=MONTHLY;BYDAY=-1SU;COUNT=12", london, "2027-01-31 09:00", wide[0], wide[1], []string{
			"2027-01-31T09:00:00Z", "2027-02-28T09:00:00Z", "2027-03-28T08:00:00Z", "2027-04-25T08:00:00Z",
			"2027-05-30T08:00:00Z", "2027-06-27T08:00:00Z", "2027-07-25T08:00:00Z", "2027-08-29T08:00:00Z",
			"2027-09-26T08:00:00Z", "2027-10-31T09:00:00Z", "2027-11-28T09:00:00Z", "2027-12-26T09:00:00Z",
		}},
		{"window is half open", "FREQ=WEEKLY", ny, "2026-10-05 10:00", "2026-10-12T14:00:00Z", "2026-11-02T15:00:00Z", []string{
			"2026-10-12T14:00:00Z", "2026-10-19T14:00:00Z", "2026-10-26T14:00:00Z",
		}},
		{"start counts as the first occurrence even off the rule", "FREQ=WEEKLY;BYDAY=TU;COUNT=3", ny, "2026-10-05 10:00", wide[0], wide[1], []string{
			"2026-10-05T14:00:00Z", "2026-10-06T14:00:00Z", "2026-10-13T14:00:00Z",
		}},
		{"UNTIL as a local date includes that day", "FREQ=WEEKLY;UNTIL=20261102", ny, "2026-10-19 10:00", wide[0], wide[1], []string{
			"2026-10-19T14:00:00Z", "2026-10-26T14:00:00Z", "2026-11-02T15:00:00Z",
		}},
		{"UNTIL as a local time is inclusive", "FREQ=WEEKLY;UNTIL=20261102T100000", ny, "2026-10-19 10:00", wide[0], wide[1], []string{
			"2026-10-19T14:00:00Z", "2026-10-26T14:00:00Z", "2026-11-02T15:00:00Z",
		}},
		{"UNTIL in UTC one second early excludes", "FREQ=WEEKLY;UNTIL=20261102T145959Z", ny, "2026-10-19 10:00", wide[0], wide[1], []string{
			"2026-10-19T14:00:00Z", "2026-10-26T14:00:00Z",
		}},
		{"UNTIL in UTC exactly includes", "FREQ=WEEKLY;UNTIL=20261102T150000Z", ny, "2026-10-19 10:00", wide[0], wide[1], []string{
			"2026-10-19T14:00:00Z", "2026-10-26T14:00:00Z", "2026-11-02T15:00:00Z",
		}},
		{"window far after the start", "FREQ=DAILY;INTERVAL=2", london, "2026-01-01 09:00", "2027-07-01T00:00:00Z", "2027-07-06T00:00:00Z", []string{
			// Day 546 after 2026-01-01 is 2027-07-01, an even day.
			"2027-07-01T08:00:00Z", "2027-07-03T08:00:00Z", "2027-07-05T08:00:00Z",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start, err := time.ParseInLocation("2006-01-02 15:04", tt.start, tt.loc)
			if err != nil {
				t.Fatal(err)
			}
			got := mustRecurrence(t, tt.rule).Occurrences(start, tt.loc, utc(t, tt.from), utc(t, tt.to), 0)
			if !slices.Equal(rfc(got), tt.want) {
				t.Fatalf("Occurrences = %v\nwant          %v", rfc(got), tt.want)
			}
		})
	}
}

// TestOccurrences_RRuleGoInZoneMisplacesTheGap records why Occurrences does
// not let rrule-go expand in the zone: rrule-go places a skipped wall time
// where time.Date does (01:30 EST, an hour early), while RFC 5545 wants it an
// hour late (03:30 EDT). On ordinary days the two agree.
func TestOccurrences_RRuleGoInZoneMisplacesTheGap(t *testing.T) {
	ny := mustLoad(t, "America/New_York")
	start := time.Date(2026, 3, 7, 2, 30, 0, 0, ny)
	rr, err := rrule.NewRRule(rrule.ROption{Freq: rrule.DAILY, Count: 3, Dtstart: start})
	if err != nil {
		t.Fatal(err)
	}
	native := rfc(rr.All())
	ours := rfc(mustRecurrence(t, "FREQ=DAILY;COUNT=3").Occurrences(start, ny, utc(t, "2026-01-01T00:00:00Z"), utc(t, "2027-01-01T00:00:00Z"), 0))
	if want := []string{"2026-03-07T07:30:00Z", "2026-03-08T07:30:00Z", "2026-03-09T06:30:00Z"}; !slices.Equal(ours, want) {
		t.Fatalf("Occurrences = %v, want %v", ours, want)
	}
	if native[0] != ours[0] || native[2] != ours[2] {
		t.Errorf("rrule-go disagrees on ordinary days: %v vs %v", native, ours)
	}
	if native[1] == ours[1] {
		t.Logf("rrule-go now resolves the gap like RFC 5545 (%s); the floating expansion is still correct", native[1])
	}

	// A weekly 10:00 appointment never meets a gap: both agree everywhere.
	start = time.Date(2026, 10, 5, 10, 0, 0, 0, ny)
	rr, _ = rrule.NewRRule(rrule.ROption{Freq: rrule.WEEKLY, Count: 60, Dtstart: start})
	ours = rfc(mustRecurrence(t, "FREQ=WEEKLY;COUNT=60").Occurrences(start, ny, utc(t, "2026-01-01T00:00:00Z"), utc(t, "2028-01-01T00:00:00Z"), 0))
	if !slices.Equal(ours, rfc(rr.All())) {
		t.Errorf("weekly 10:00: Occurrences and rrule-go differ:\n%v\n%v", ours, rfc(rr.All()))
	}
}

func TestOccurrences_NoRuleAndLimits(t *testing.T) {
	start := utc(t, "2026-10-05T14:00:00Z")
	from, to := utc(t, "2026-01-01T00:00:00Z"), utc(t, "2027-01-01T00:00:00Z")
	if got := (Recurrence{}).Occurrences(start, time.UTC, from, to, 0); !slices.Equal(rfc(got), []string{"2026-10-05T14:00:00Z"}) {
		t.Errorf("no rule: %v", rfc(got))
	}
	if got := (Recurrence{}).Occurrences(start, time.UTC, to, to.AddDate(1, 0, 0), 0); got != nil {
		t.Errorf("no rule, outside the window: %v", rfc(got))
	}
	daily := mustRecurrence(t, "FREQ=DAILY")
	if got := daily.Occurrences(start, time.UTC, from, to, 3); !slices.Equal(rfc(got), []string{"2026-10-05T14:00:00Z", "2026-10-06T14:00:00Z", "2026-10-07T14:00:00Z"}) {
		t.Errorf("max 3: %v", rfc(got))
	}
	if got := daily.Occurrences(start, time.UTC, from, utc(t, "2040-01-01T00:00:00Z"), 0); len(got) != DefaultMaxOccurrences {
		t.Errorf("default cap: %d occurrences", len(got))
	}
	if got := daily.Occurrences(start, time.UTC, to, from, 0); got != nil {
		t.Errorf("reversed window: %v", rfc(got))
	}
	ended := mustRecurrence(t, "FREQ=DAILY;UNTIL=20261010T000000Z")
	if got := ended.Occurrences(start, time.UTC, utc(t, "2026-11-01T00:00:00Z"), to, 0); got != nil {
		t.Errorf("window after UNTIL: %v", rfc(got))
	}
}

func TestRecurrence_RuleInWritesUntilInUTC(t *testing.T) {
	ny, tokyo := mustLoad(t, "America/New_York"), mustLoad(t, "Asia/Tokyo")
	tests := []struct {
		rule string
		loc  *time.Location
		want string
	}{
		{"FREQ=WEEKLY;UNTIL=20261102;BYDAY=MO", ny, "FREQ=WEEKLY;UNTIL=20261103T045959Z;BYDAY=MO"},
		{"FREQ=WEEKLY;UNTIL=20261102T100000", ny, "FREQ=WEEKLY;UNTIL=20261102T150000Z"},
		{"FREQ=WEEKLY;UNTIL=20261102T100000", tokyo, "FREQ=WEEKLY;UNTIL=20261102T010000Z"},
		{"FREQ=WEEKLY;UNTIL=20261102T150000Z", tokyo, "FREQ=WEEKLY;UNTIL=20261102T150000Z"},
		{"FREQ=DAILY;COUNT=4", ny, "FREQ=DAILY;COUNT=4"},
	}
	for _, tt := range tests {
		if got := mustRecurrence(t, tt.rule).RuleIn(tt.loc); got != tt.want {
			t.Errorf("RuleIn(%q, %s) = %q, want %q", tt.rule, tt.loc, got, tt.want)
		}
	}
}
