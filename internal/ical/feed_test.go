package ical

import (
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	ics "github.com/arran4/golang-ical"
	"github.com/teambition/rrule-go"

	"github.com/carecircle/carecircle"
)

var feedNow = time.Date(2026, 9, 1, 12, 0, 0, 0, time.UTC)

// lines splits a feed into its physical lines, failing unless every line
// ends in CRLF, is at most 75 octets and is valid UTF-8 on its own.
func lines(t *testing.T, b []byte) []string {
	t.Helper()
	s := string(b)
	if !strings.HasSuffix(s, "\r\n") {
		t.Fatalf("feed does not end in CRLF")
	}
	out := strings.Split(strings.TrimSuffix(s, "\r\n"), "\r\n")
	for i, l := range out {
		if strings.ContainsAny(l, "\r\n") {
			t.Fatalf("line %d has a bare CR or LF: %q", i+1, l)
		}
		if len(l) > 75 {
			t.Fatalf("line %d is %d octets: %q", i+1, len(l), l)
		}
		if !utf8.ValidString(l) {
			t.Fatalf("line %d splits a UTF-8 character: %q", i+1, l)
		}
	}
	return out
}

// unfolded returns the feed's logical lines (RFC 5545 §3.1 unfolding).
func unfolded(t *testing.T, b []byte) []string {
	t.Helper()
	var out []string
	for _, l := range lines(t, b) {
		if strings.HasPrefix(l, " ") || strings.HasPrefix(l, "\t") {
			if len(out) == 0 {
				t.Fatalf("feed starts with a continuation line")
			}
			out[len(out)-1] += l[1:]
			continue
		}
		out = append(out, l)
	}
	return out
}

func lineWith(ls []string, prefix string) string {
	for _, l := range ls {
		if strings.HasPrefix(l, prefix) {
			return l
		}
	}
	return ""
}

func rfc(ts []time.Time) []string {
	out := make([]string, len(ts))
	for i, v := range ts {
		out[i] = v.UTC().Format(time.RFC3339)
	}
	return out
}

func weeklyNewYork(t *testing.T) (Event, *time.Location) {
	ny := load(t, "America/New_York")
	return Event{
		UID:      "apt_01hx@carecircle",
		Summary:  "Cardiology check-up",
		Location: "Mount Sinai, 1 Gustave L. Levy Pl",
		Start:    time.Date(2026, 10, 5, 10, 0, 0, 0, ny),
		End:      time.Date(2026, 10, 5, 11, 0, 0, 0, ny),
		RRule:    "FREQ=WEEKLY;COUNT=6",
		Sequence: 2,
		Updated:  time.Date(2026, 8, 30, 9, 15, 0, 0, time.UTC),
	}, ny
}

func TestFeed_CalendarHeader(t *testing.T) {
	ev, ny := weeklyNewYork(t)
	b := Feed("Rose's care", ny, []Event{ev}, feedNow)
	ls := unfolded(t, b)
	if ls[0] != "BEGIN:VCALENDAR" || ls[len(ls)-1] != "END:VCALENDAR" {
		t.Fatalf("feed is not one VCALENDAR: first %q, last %q", ls[0], ls[len(ls)-1])
	}
	for _, want := range []string{
		"VERSION:2.0", "PRODID:-//CareCircle//CareCircle Calendar//EN", "CALSCALE:GREGORIAN",
		"METHOD:PUBLISH", "X-WR-CALNAME:Rose's care", "X-WR-TIMEZONE:America/New_York",
	} {
		if !slices.Contains(ls, want) {
			t.Errorf("feed lacks %q", want)
		}
	}
	tz, event := slices.Index(ls, "BEGIN:VTIMEZONE"), slices.Index(ls, "BEGIN:VEVENT")
	if tz < 0 || event < 0 || tz > event {
		t.Errorf("VTIMEZONE at line %d must come before VEVENT at line %d", tz, event)
	}

	cal := parseFeed(t, b)
	props := map[string]string{}
	for _, p := range cal.CalendarProperties {
		props[p.IANAToken] = p.Value
	}
	if props["VERSION"] != "2.0" || props["METHOD"] != "PUBLISH" || props["X-WR-CALNAME"] != "Rose's care" {
		t.Errorf("parsed calendar properties = %v", props)
	}
}

// TestFeed_WeeklyAppointmentKeepsLocalTime is the acceptance case: a weekly
// 10:00 New York appointment from October 2026 is at 14:00Z before the
// fall-back on 2026-11-01 and at 15:00Z after, whether a client expands the
// feed's RRULE with the IANA zone named by TZID or with the feed's own
// VTIMEZONE.
func TestFeed_WeeklyAppointmentKeepsLocalTime(t *testing.T) {
	ev, ny := weeklyNewYork(t)
	b := Feed("Rose's care", ny, []Event{ev}, feedNow)
	ls := unfolded(t, b)
	for _, want := range []string{
		"DTSTART;TZID=America/New_York:20261005T100000",
		"DTEND;TZID=America/New_York:20261005T110000",
		"RRULE:FREQ=WEEKLY;COUNT=6",
		"DTSTAMP:20260901T120000Z",
		"LAST-MODIFIED:20260830T091500Z",
		"SEQUENCE:2",
		"STATUS:CONFIRMED",
		"UID:apt_01hx@carecircle",
	} {
		if !slices.Contains(ls, want) {
			t.Errorf("feed lacks %q", want)
		}
	}

	want := []string{
		"2026-10-05T14:00:00Z", "2026-10-12T14:00:00Z", "2026-10-19T14:00:00Z", "2026-10-26T14:00:00Z",
		"2026-11-02T15:00:00Z", "2026-11-09T15:00:00Z",
	}
	cal := parseFeed(t, b)
	events := cal.Events()
	if len(events) != 1 {
		t.Fatalf("%d events", len(events))
	}
	e := events[0]
	start := e.GetProperty(ics.ComponentPropertyDtStart)
	tzid := start.ICalParameters["TZID"]
	if len(tzid) != 1 || tzid[0] != "America/New_York" {
		t.Fatalf("DTSTART TZID = %v", tzid)
	}
	opt, err := rrule.StrToROption(e.GetProperty(ics.ComponentPropertyRrule).Value)
	if err != nil {
		t.Fatal(err)
	}

	// As a client with the IANA zone: rrule-go expands in that zone.
	loc := load(t, tzid[0])
	opt.Dtstart, err = time.ParseInLocation(localLayout, start.Value, loc)
	if err != nil {
		t.Fatal(err)
	}
	rr, err := rrule.NewRRule(*opt)
	if err != nil {
		t.Fatal(err)
	}
	if got := rfc(rr.All()); !slices.Equal(got, want) {
		t.Errorf("expanded with the IANA zone:\n got %v\nwant %v", got, want)
	}

	// As a client with only the VTIMEZONE: expand wall times, then resolve
	// each through the VTIMEZONE's offsets.
	m, _ := modelOf(t, cal, time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC))
	opt.Dtstart, _ = time.Parse(localLayout, start.Value)
	rr, _ = rrule.NewRRule(*opt)
	var viaVTZ []time.Time
	for _, w := range rr.All() {
		viaVTZ = append(viaVTZ, m.resolve(t, w.Format(localLayout)))
	}
	if got := rfc(viaVTZ); !slices.Equal(got, want) {
		t.Errorf("expanded with the VTIMEZONE:\n got %v\nwant %v", got, want)
	}
	end := e.GetProperty(ics.ComponentPropertyDtEnd)
	if got := m.resolve(t, end.Value).Format(time.RFC3339); got != "2026-10-05T15:00:00Z" {
		t.Errorf("DTEND resolves to %s", got)
	}

	// The domain's own expansion agrees with both.
	rec, err := carecircle.ParseRecurrence(ev.RRule)
	if err != nil {
		t.Fatal(err)
	}
	got := rec.Occurrences(ev.Start, ny, ev.Start, ev.Start.AddDate(1, 0, 0), 0)
	if !slices.Equal(rfc(got), want) {
		t.Errorf("carecircle.Recurrence: %v", rfc(got))
	}
}

func TestFeed_ExDatesRemoveOccurrences(t *testing.T) {
	ev, ny := weeklyNewYork(t)
	ev.ExDates = []time.Time{time.Date(2026, 10, 19, 10, 0, 0, 0, ny), time.Date(2026, 11, 2, 10, 0, 0, 0, ny)}
	cal := parseFeed(t, Feed("x", ny, []Event{ev}, feedNow))
	e := cal.Events()[0]

	var set rrule.Set
	opt, _ := rrule.StrToROption(e.GetProperty(ics.ComponentPropertyRrule).Value)
	opt.Dtstart, _ = time.ParseInLocation(localLayout, e.GetProperty(ics.ComponentPropertyDtStart).Value, ny)
	rr, _ := rrule.NewRRule(*opt)
	set.RRule(rr)
	exdates := e.GetProperties(ics.ComponentPropertyExdate)
	if len(exdates) != 2 {
		t.Fatalf("%d EXDATEs", len(exdates))
	}
	for _, x := range exdates {
		if tz := x.ICalParameters["TZID"]; len(tz) != 1 || tz[0] != "America/New_York" {
			t.Fatalf("EXDATE TZID = %v", tz)
		}
		at, err := time.ParseInLocation(localLayout, x.Value, ny)
		if err != nil {
			t.Fatal(err)
		}
		set.ExDate(at)
	}
	want := []string{"2026-10-05T14:00:00Z", "2026-10-12T14:00:00Z", "2026-10-26T14:00:00Z", "2026-11-09T15:00:00Z"}
	if got := rfc(set.All()); !slices.Equal(got, want) {
		t.Errorf("occurrences = %v, want %v", got, want)
	}
}

func TestFeed_EscapesText(t *testing.T) {
	ny := load(t, "America/New_York")
	ev := Event{
		UID:         "apt_2",
		Summary:     "Cardiology, Dr. Smith; bring list\\meds\r\nand insurance card\x07",
		Location:    "Room 4, floor 2; east wing",
		Description: "Line one\rLine two\nLine three\ttabbed",
		Start:       time.Date(2026, 10, 6, 9, 30, 0, 0, ny),
	}
	b := Feed("Care, family; 2026", ny, []Event{ev}, feedNow)
	ls := unfolded(t, b)
	for _, want := range []string{
		`SUMMARY:Cardiology\, Dr. Smith\; bring list\\meds\nand insurance card`,
		`LOCATION:Room 4\, floor 2\; east wing`,
		"DESCRIPTION:Line one\\nLine two\\nLine three\ttabbed",
		`X-WR-CALNAME:Care\, family\; 2026`,
	} {
		if !slices.Contains(ls, want) {
			t.Errorf("feed lacks %q", want)
		}
	}
	if lineWith(ls, "DTEND") != "" {
		t.Errorf("an event without End has DTEND: %q", lineWith(ls, "DTEND"))
	}

	e := parseFeed(t, b).Events()[0]
	checks := map[ics.ComponentProperty]string{
		ics.ComponentPropertySummary:     "Cardiology, Dr. Smith; bring list\\meds\nand insurance card",
		ics.ComponentPropertyLocation:    "Room 4, floor 2; east wing",
		ics.ComponentPropertyDescription: "Line one\nLine two\nLine three\ttabbed",
	}
	for prop, want := range checks {
		if got := e.GetProperty(prop).Value; got != want {
			t.Errorf("parsed %s = %q, want %q", prop, got, want)
		}
	}
}

// TestFeed_FoldsLongAndUnicodeText: long values are folded at 75 octets
// (checked by lines), never inside a multi-byte character, and unfold to
// exactly the escaped value.
func TestFeed_FoldsLongAndUnicodeText(t *testing.T) {
	london := load(t, "Europe/London")
	summaries := []string{
		strings.Repeat("Überweisung zum Kardiologen 🫀 — Blutdruck prüfen, ", 6),
		strings.Repeat("é", 120),                // 2-octet characters, no spaces
		strings.Repeat("🫀", 60),                 // 4-octet characters, no spaces
		"x" + strings.Repeat("日本語のテキスト", 20),    // 3-octet characters after an odd octet
		strings.Repeat("a,b;c\\d ", 30) + "end", // escapes next to fold points
	}
	for _, s := range summaries {
		ev := Event{UID: "apt_3", Summary: s, Description: s, Start: time.Date(2026, 3, 29, 9, 0, 0, 0, london)}
		b := Feed("x", london, []Event{ev}, feedNow)
		ls := unfolded(t, b)
		want := "SUMMARY:" + ics.ToText(s)
		if !slices.Contains(ls, want) {
			t.Errorf("unfolded SUMMARY differs for %.20q…:\n got %q\nwant %q", s, lineWith(ls, "SUMMARY:"), want)
		}
		e := parseFeed(t, b).Events()[0]
		if got := e.GetProperty(ics.ComponentPropertySummary).Value; got != s {
			t.Errorf("parsed SUMMARY = %q, want %q", got, s)
		}
		if got := e.GetProperty(ics.ComponentPropertyDescription).Value; got != s {
			t.Errorf("parsed DESCRIPTION = %q, want %q", got, s)
		}
	}
}

func TestFeed_UTCHasNoVTimezone(t *testing.T) {
	etcUTC := load(t, "Etc/UTC")
	for _, loc := range []*time.Location{time.UTC, etcUTC, nil} {
		ev := Event{
			UID: "apt_4", Summary: "Physio",
			Start: time.Date(2026, 10, 5, 14, 0, 0, 0, time.UTC), End: time.Date(2026, 10, 5, 15, 0, 0, 0, time.UTC),
			RRule: "RRULE:FREQ=WEEKLY;COUNT=3", ExDates: []time.Time{time.Date(2026, 10, 12, 14, 0, 0, 0, time.UTC)},
		}
		b := Feed("x", loc, []Event{ev}, feedNow)
		ls := unfolded(t, b)
		if slices.Contains(ls, "BEGIN:VTIMEZONE") {
			t.Errorf("%v: UTC feed has a VTIMEZONE", loc)
		}
		for _, want := range []string{
			"X-WR-TIMEZONE:UTC", "DTSTART:20261005T140000Z", "DTEND:20261005T150000Z",
			"RRULE:FREQ=WEEKLY;COUNT=3", "EXDATE:20261012T140000Z",
		} {
			if !slices.Contains(ls, want) {
				t.Errorf("%v: feed lacks %q", loc, want)
			}
		}
		parseFeed(t, b)
	}
}

func TestFeed_AllDayAndCancelled(t *testing.T) {
	tokyo := load(t, "Asia/Tokyo")
	events := []Event{
		// 2026-10-05T16:00Z is already the 6th in Tokyo.
		{UID: "apt_5", Summary: "Respite weekend", AllDay: true,
			Start: time.Date(2026, 10, 5, 16, 0, 0, 0, time.UTC), End: time.Date(2026, 10, 8, 0, 0, 0, 0, tokyo)},
		{UID: "apt_6", Summary: "Lab day", AllDay: true, Start: time.Date(2026, 12, 31, 0, 0, 0, 0, tokyo)},
		{UID: "apt_7", Summary: "Dentist", Cancelled: true, Sequence: 3,
			Start: time.Date(2026, 10, 7, 11, 0, 0, 0, tokyo), End: time.Date(2026, 10, 7, 11, 30, 0, 0, tokyo)},
	}
	b := Feed("x", tokyo, events, feedNow)
	ls := unfolded(t, b)
	for _, want := range []string{
		"DTSTART;VALUE=DATE:20261006", "DTEND;VALUE=DATE:20261008",
		"DTSTART;VALUE=DATE:20261231", "DTEND;VALUE=DATE:20270101",
		"DTSTART;TZID=Asia/Tokyo:20261007T110000", "STATUS:CANCELLED", "SEQUENCE:3",
	} {
		if !slices.Contains(ls, want) {
			t.Errorf("feed lacks %q", want)
		}
	}
	cal := parseFeed(t, b)
	if got, err := cal.Events()[0].GetAllDayStartAt(); err != nil || got.Format("2006-01-02") != "2026-10-06" {
		t.Errorf("parsed all-day start = %v, %v", got, err)
	}
}

// TestFeed_ValuesCannotInjectLines: a CR or LF in any value stays inside its
// property.
func TestFeed_ValuesCannotInjectLines(t *testing.T) {
	ev := Event{
		UID: "apt_8\r\nX-EVIL:1", Summary: "a\r\nX-EVIL:2", Location: "b\nX-EVIL:3",
		Start: time.Date(2026, 10, 5, 14, 0, 0, 0, time.UTC), RRule: "FREQ=DAILY;COUNT=2\r\nX-EVIL:4",
	}
	for _, l := range unfolded(t, Feed("n\r\nX-EVIL:5", time.UTC, []Event{ev}, feedNow)) {
		if strings.HasPrefix(l, "X-EVIL") {
			t.Errorf("injected line %q", l)
		}
	}
}
