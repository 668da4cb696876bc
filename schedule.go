package carecircle

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
)

// This file holds the domain's time rules: calendar dates, "HH:MM" wall
// clock times in a care recipient's IANA zone, and the medication dose
// schedule built from them. Wall times follow RFC 5545 §3.3.5: a local time
// that does not exist (the spring-forward gap) is taken with the UTC offset in
// effect before the gap, and a local time that occurs twice (the fall-back
// overlap) means the first occurrence.

// Date is a calendar day with no time zone, as in "2026-03-08". The zero
// Date means "no date".
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// ParseDate parses a date in the strict form YYYY-MM-DD (years 0001–9999)
// and refuses days that do not exist, such as 2026-02-30.
func ParseDate(s string) (Date, error) {
	bad := fmt.Errorf("date %q must be YYYY-MM-DD", s)
	if len(s) != 10 || s[4] != '-' || s[7] != '-' {
		return Date{}, bad
	}
	y, ok1 := digits(s[0:4])
	m, ok2 := digits(s[5:7])
	d, ok3 := digits(s[8:10])
	if !ok1 || !ok2 || !ok3 || y < 1 {
		return Date{}, bad
	}
	if m < 1 || m > 12 || d < 1 || d > daysIn(time.Month(m), y) {
		return Date{}, fmt.Errorf("date %q is not a day of the calendar", s)
	}
	return Date{Year: y, Month: time.Month(m), Day: d}, nil
}

// DateOf returns the calendar day of t in loc.
func DateOf(t time.Time, loc *time.Location) Date {
	y, m, d := t.In(loc).Date()
	return Date{Year: y, Month: m, Day: d}
}

// String formats d as YYYY-MM-DD.
func (d Date) String() string {
	return fmt.Sprintf("%04d-%02d-%02d", d.Year, int(d.Month), d.Day)
}

// IsZero reports whether d is the zero Date.
func (d Date) IsZero() bool { return d == Date{} }

// AddDays returns the day n days after d (before, when n is negative).
func (d Date) AddDays(n int) Date {
	y, m, dd := d.midnightUTC().AddDate(0, 0, n).Date()
	return Date{Year: y, Month: m, Day: dd}
}

// Weekday returns the day of the week of d.
func (d Date) Weekday() time.Weekday { return d.midnightUTC().Weekday() }

// Before reports whether d is an earlier day than e.
func (d Date) Before(e Date) bool { return d.compare(e) < 0 }

// After reports whether d is a later day than e.
func (d Date) After(e Date) bool { return d.compare(e) > 0 }

// Equal reports whether d and e are the same day.
func (d Date) Equal(e Date) bool { return d.compare(e) == 0 }

func (d Date) compare(e Date) int {
	switch {
	case d.Year != e.Year:
		return d.Year - e.Year
	case d.Month != e.Month:
		return int(d.Month) - int(e.Month)
	default:
		return d.Day - e.Day
	}
}

// midnightUTC is d as a UTC instant, used only for calendar arithmetic,
// where UTC has no DST to get in the way.
func (d Date) midnightUTC() time.Time {
	return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, time.UTC)
}

// MarshalJSON encodes d as "YYYY-MM-DD", and the zero Date as null.
func (d Date) MarshalJSON() ([]byte, error) {
	if d.IsZero() {
		return []byte("null"), nil
	}
	return []byte(`"` + d.String() + `"`), nil
}

// UnmarshalJSON decodes "YYYY-MM-DD"; null leaves d unchanged.
func (d *Date) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("date must be a string YYYY-MM-DD: %w", err)
	}
	v, err := ParseDate(s)
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// MarshalText encodes d as YYYY-MM-DD, so d works as a form value, a query
// parameter and a map key.
func (d Date) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText decodes YYYY-MM-DD.
func (d *Date) UnmarshalText(b []byte) error {
	v, err := ParseDate(string(b))
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// ParseClock parses a wall-clock time in the strict form HH:MM, from 00:00 to
// 23:59.
func ParseClock(s string) (hh, mm int, err error) {
	if len(s) == 5 && s[2] == ':' {
		h, ok1 := digits(s[0:2])
		m, ok2 := digits(s[3:5])
		if ok1 && ok2 && h <= 23 && m <= 59 {
			return h, m, nil
		}
	}
	return 0, 0, fmt.Errorf("time %q must be HH:MM between 00:00 and 23:59", s)
}

// LocalInstant returns the instant at which the wall clock in loc shows
// hh:mm on day d, by the RFC 5545 rules: a time inside a spring-forward gap
// is taken with the offset in effect before the gap (New York 2026-03-08
// 02:30 is 07:30Z, shown as 03:30 EDT), and a time inside a fall-back
// overlap is its first occurrence (New York 2026-11-01 01:30 is 05:30Z,
// EDT). Go's time.Date leaves both cases unspecified (and in practice
// resolves a gap time with the offset after the gap), so the rule is
// implemented here from the zone's transitions.
func LocalInstant(d Date, hh, mm int, loc *time.Location) time.Time {
	wall := time.Date(d.Year, d.Month, d.Day, hh, mm, 0, 0, time.UTC)
	return wallToInstant(wall, loc)
}

// wallToInstant resolves a floating wall time (its UTC fields read as local
// fields in loc) to an instant in loc by the RFC 5545 rules.
func wallToInstant(wall time.Time, loc *time.Location) time.Time {
	// A wall time w shown with offset o is the instant w-o. UTC offsets lie
	// within -12h..+14h, so every instant that could show w lies within a day
	// of w; walk the zone's periods across that span in order. The first
	// period that contains its own candidate gives the earliest (first)
	// occurrence; a boundary that w falls across in neither period is a gap.
	const span = 26 * time.Hour
	t := wall.Add(-span)
	havePrev := false
	var prevOff int
	for {
		lt := t.In(loc)
		_, off := lt.Zone()
		start, end := lt.ZoneBounds()
		if havePrev && !start.IsZero() {
			// start is the transition from prevOff to off. Wall times in
			// [start+prevOff, start+off) were skipped; RFC 5545 takes them
			// with the offset before the gap.
			lo := start.Add(time.Duration(prevOff) * time.Second)
			hi := start.Add(time.Duration(off) * time.Second)
			if !wall.Before(lo) && wall.Before(hi) {
				return wall.Add(-time.Duration(prevOff) * time.Second).In(loc)
			}
		}
		cand := wall.Add(-time.Duration(off) * time.Second)
		if (start.IsZero() || !cand.Before(start)) && (end.IsZero() || cand.Before(end)) {
			return cand.In(loc)
		}
		if end.IsZero() || end.After(wall.Add(span)) {
			break
		}
		t, prevOff, havePrev = end, off, true
	}
	// Unreachable for well-formed zone data; fall back to Go's choice rather
	// than fail a schedule.
	return time.Date(wall.Year(), wall.Month(), wall.Day(), wall.Hour(), wall.Minute(), wall.Second(), 0, loc)
}

// Medication frequencies, as in the API contract.
const (
	FrequencyOnceDaily       = "ONCE_DAILY"
	FrequencyTwiceDaily      = "TWICE_DAILY"
	FrequencyThreeTimesDaily = "THREE_TIMES_DAILY"
	FrequencyFourTimesDaily  = "FOUR_TIMES_DAILY"
	FrequencyWeekly          = "WEEKLY"
	FrequencyAsNeeded        = "AS_NEEDED"
)

// MaxWeeklyTimes is the most dose times a WEEKLY medication may have on each
// of its days.
const MaxWeeklyTimes = 4

// ExpectedTimes returns how many "HH:MM" times a medication of frequency freq
// lists: 1–4 for the daily frequencies, 0 for AS_NEEDED, and for WEEKLY the
// usual 1 (WEEKLY accepts 1 to MaxWeeklyTimes; see TimesBounds). ok is false
// for an unknown frequency.
func ExpectedTimes(freq string) (n int, ok bool) {
	lo, _, ok := TimesBounds(freq)
	return lo, ok
}

// TimesBounds returns the least and the most "HH:MM" times a medication of
// frequency freq may list; ok is false for an unknown frequency.
func TimesBounds(freq string) (lo, hi int, ok bool) {
	switch freq {
	case FrequencyOnceDaily:
		return 1, 1, true
	case FrequencyTwiceDaily:
		return 2, 2, true
	case FrequencyThreeTimesDaily:
		return 3, 3, true
	case FrequencyFourTimesDaily:
		return 4, 4, true
	case FrequencyWeekly:
		return 1, MaxWeeklyTimes, true
	case FrequencyAsNeeded:
		return 0, 0, true
	}
	return 0, 0, false
}

// DosePlan is when a medication is due: Times are "HH:MM" wall-clock times
// in the care recipient's zone, taken every day (or, for WEEKLY, on
// DaysOfWeek) from StartDate to EndDate inclusive, either of which may be
// absent.
type DosePlan struct {
	Frequency  string
	Times      []string
	DaysOfWeek []time.Weekday
	StartDate  *Date
	EndDate    *Date
}

// Validate returns one message per problem, each naming its field.
func (p DosePlan) Validate() Problems {
	var probs Problems
	lo, hi, known := TimesBounds(p.Frequency)
	probs.Add(!known, "frequency must be one of %s, %s, %s, %s, %s, %s",
		FrequencyOnceDaily, FrequencyTwiceDaily, FrequencyThreeTimesDaily,
		FrequencyFourTimesDaily, FrequencyWeekly, FrequencyAsNeeded)
	if known {
		n := len(p.Times)
		switch {
		case hi == 0:
			probs.Add(n != 0, "times must be empty for %s", p.Frequency)
		case lo == hi:
			probs.Add(n != lo, "times must have %d %s for %s", lo, plural(lo, "entry", "entries"), p.Frequency)
		default:
			probs.Add(n < lo || n > hi, "times must have %d to %d entries for %s", lo, hi, p.Frequency)
		}
	}
	seen := map[string]bool{}
	dup := false
	for i, s := range p.Times {
		if _, _, err := ParseClock(s); err != nil {
			probs.Add(true, "times[%d] must be HH:MM", i)
			continue
		}
		dup = dup || seen[s]
		seen[s] = true
	}
	probs.Add(dup, "times must be unique")

	if p.Frequency == FrequencyWeekly {
		probs.Add(len(p.DaysOfWeek) == 0, "daysOfWeek should not be empty for %s", FrequencyWeekly)
		days := map[time.Weekday]bool{}
		dupDay := false
		for i, wd := range p.DaysOfWeek {
			if wd < time.Sunday || wd > time.Saturday {
				probs.Add(true, "daysOfWeek[%d] must be a day from 0 (Sunday) to 6 (Saturday)", i)
				continue
			}
			dupDay = dupDay || days[wd]
			days[wd] = true
		}
		probs.Add(dupDay, "daysOfWeek must be unique")
	} else {
		probs.Add(len(p.DaysOfWeek) != 0, "daysOfWeek must be empty unless frequency is %s", FrequencyWeekly)
	}
	probs.Add(p.StartDate != nil && p.EndDate != nil && p.EndDate.Before(*p.StartDate),
		"endDate must not be before startDate")
	return probs
}

// DosesOn returns the scheduled dose instants of local day d in loc, sorted.
//
// Each listed time maps to an instant by LocalInstant, so a time in a DST
// gap is given at the shifted instant and an ambiguous time once, at its
// first occurrence. A dose is identified by (medication, instant), so two
// times that land on the same instant (02:30 and 03:30 in New York on
// 2026-03-08 are both 07:30Z) are one dose, listed once: logging it must
// not leave a phantom twin to be given again. For the same reason, an
// instant that the previous day's schedule already reached (a gap that
// pushes a late-evening time past midnight) belongs to that day and is not
// repeated here. AS_NEEDED has no scheduled doses; unparsable times are
// skipped (Validate reports them).
func (p DosePlan) DosesOn(d Date, loc *time.Location) []time.Time {
	doses := p.rawDosesOn(d, loc)
	if len(doses) == 0 {
		return nil
	}
	prev := p.rawDosesOn(d.AddDays(-1), loc)
	return slices.DeleteFunc(doses, func(t time.Time) bool {
		return slices.ContainsFunc(prev, t.Equal)
	})
}

// rawDosesOn lists the distinct instants of day d's times, sorted, before
// removing those the previous day already owns.
func (p DosePlan) rawDosesOn(d Date, loc *time.Location) []time.Time {
	if !p.activeOn(d) {
		return nil
	}
	var out []time.Time
	for _, s := range p.Times {
		hh, mm, err := ParseClock(s)
		if err != nil {
			continue
		}
		out = append(out, LocalInstant(d, hh, mm, loc))
	}
	slices.SortFunc(out, time.Time.Compare)
	return slices.CompactFunc(out, time.Time.Equal)
}

// activeOn reports whether the plan schedules doses on day d at all.
func (p DosePlan) activeOn(d Date) bool {
	if p.Frequency == FrequencyAsNeeded || len(p.Times) == 0 {
		return false
	}
	if p.StartDate != nil && d.Before(*p.StartDate) || p.EndDate != nil && d.After(*p.EndDate) {
		return false
	}
	if p.Frequency == FrequencyWeekly && !slices.Contains(p.DaysOfWeek, d.Weekday()) {
		return false
	}
	return true
}

// DosesBetween returns the scheduled dose instants in [from, to), sorted,
// each once. It walks the local days covering the range, so its cost grows
// with the length of the range.
func (p DosePlan) DosesBetween(from, to time.Time, loc *time.Location) []time.Time {
	if !from.Before(to) || p.Frequency == FrequencyAsNeeded {
		return nil
	}
	// A day's doses can fall outside that local day (a gap spilling past
	// midnight), so look one day beyond each end.
	first, last := DateOf(from, loc).AddDays(-1), DateOf(to, loc).AddDays(1)
	if p.StartDate != nil && first.Before(*p.StartDate) {
		first = *p.StartDate
	}
	if p.EndDate != nil && last.After(*p.EndDate) {
		last = *p.EndDate
	}
	var out []time.Time
	for d := first; !d.After(last); d = d.AddDays(1) {
		for _, t := range p.DosesOn(d, loc) {
			if !t.Before(from) && t.Before(to) {
				out = append(out, t)
			}
		}
	}
	slices.SortFunc(out, time.Time.Compare)
	return out
}

// IsDose reports whether t is exactly one of the plan's scheduled dose
// instants. A dose of local day d may fall on a neighbouring local day, so
// the days around t are checked too.
func (p DosePlan) IsDose(t time.Time, loc *time.Location) bool {
	d := DateOf(t, loc)
	for i := -1; i <= 1; i++ {
		if slices.ContainsFunc(p.DosesOn(d.AddDays(i), loc), t.Equal) {
			return true
		}
	}
	return false
}

// digits parses a string of ASCII digits only (no sign, no spaces).
func digits(s string) (int, bool) {
	if s == "" || strings.TrimLeft(s, "0123456789") != "" {
		return 0, false
	}
	n := 0
	for _, c := range s {
		n = n*10 + int(c-'0')
	}
	return n, true
}

func daysIn(m time.Month, year int) int {
	return time.Date(year, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
