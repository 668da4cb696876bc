package ical

import (
	"fmt"
	"slices"
	"strings"
	"time"

	ics "github.com/arran4/golang-ical"
)

// A VTIMEZONE is built from Go's zone data in three possible shapes:
//
//   - the zone's current yearly rule, as one STANDARD and one DAYLIGHT
//     sub-component with an RRULE each (what Google, Apple, Thunderbird and
//     Outlook themselves publish), when every year from the covered range to
//     three decades past it has the same two transitions;
//   - before that rule begins within the covered years (a zone that changed
//     its rules recently), one sub-component per transition, with no RRULE;
//   - when the zone has no regular rule at all (no DST, abolished DST, or
//     DST tied to a lunar calendar), one sub-component per transition in the
//     covered years and, with none, a single STANDARD since 1970. The last
//     one stays in effect after the covered years, which is right for a zone
//     without DST and the best guess for the others; the feed is rebuilt on
//     every request, so its coverage moves with the calendar.

// transition is one change of a zone's offset, abbreviation or DST flag.
type transition struct {
	at       time.Time // the instant of the change
	from, to int       // UTC offsets in seconds before and after
	name     string    // abbreviation after
	dst      bool      // whether the time after is daylight (clocks ahead)
}

// onset is the wall time at which tr happens, read on the clock before it;
// RFC 5545 writes a sub-component's DTSTART that way. It is a floating time:
// UTC fields standing for local ones.
func (tr transition) onset() time.Time {
	return tr.at.UTC().Add(time.Duration(tr.from) * time.Second)
}

// transitions lists loc's transitions in [from, to).
func transitions(loc *time.Location, from, to time.Time) []transition {
	var out []transition
	t := from
	for {
		_, end := t.In(loc).ZoneBounds()
		if end.IsZero() || !end.Before(to) || !end.After(t) {
			return out
		}
		before, after := end.Add(-time.Second).In(loc), end.In(loc)
		bname, boff := before.Zone()
		aname, aoff := after.Zone()
		if boff != aoff || bname != aname || before.IsDST() != after.IsDST() {
			dst := after.IsDST()
			if before.IsDST() != dst {
				// The tz database flags Ireland's winter time as DST with a
				// negative save; calendars expect DAYLIGHT to be the part of
				// the year when the clocks are ahead.
				dst = aoff > boff
			}
			out = append(out, transition{at: end, from: boff, to: aoff, name: aname, dst: dst})
		}
		t = end
	}
}

func yearStart(y int) time.Time { return time.Date(y, 1, 1, 0, 0, 0, 0, time.UTC) }

// yearlyKey is what a transition has in common with the same transition in
// every year of a regular rule: all but the day of the month.
type yearlyKey struct {
	month    time.Month
	weekday  time.Weekday
	clock    time.Duration // since local midnight, on the clock before
	from, to int
	name     string
	dst      bool
}

func keyOf(tr transition) (yearlyKey, int) {
	on := tr.onset()
	midnight := time.Date(on.Year(), on.Month(), on.Day(), 0, 0, 0, 0, time.UTC)
	return yearlyKey{
		month: on.Month(), weekday: on.Weekday(), clock: on.Sub(midnight),
		from: tr.from, to: tr.to, name: tr.name, dst: tr.dst,
	}, on.Day()
}

// tailYears is how far past the covered years a rule must hold to count as
// regular; 28 years cover every weekday of every date.
const tailYears = 30

// regularRule finds the zone's yearly rule: two transitions a year, each on
// a given weekday within a fixed 7-day window of a given month, at a fixed
// wall time. It returns the first year in [first, last+1] from which that
// rule holds through last+tailYears, and one RRULE per transition of the
// year (in order). ok is false when the zone has no such rule.
func regularRule(loc *time.Location, first, last int) (from int, rules []string, ok bool) {
	type yearRule struct {
		keys [2]yearlyKey
		days [2]int
	}
	yearOf := func(y int) (yearRule, bool) {
		trs := transitions(loc, yearStart(y), yearStart(y+1))
		if len(trs) != 2 {
			return yearRule{}, false
		}
		var yr yearRule
		for i, tr := range trs {
			yr.keys[i], yr.days[i] = keyOf(tr)
		}
		return yr, true
	}

	// Learn the rule from the years after the covered range.
	horizon := last + tailYears
	want, ok := yearOf(horizon)
	if !ok {
		return 0, nil, false
	}
	var lo, hi [2]int
	seen := [2]map[int]bool{{}, {}}
	lo, hi = want.days, want.days
	for y := last + 1; y <= horizon; y++ {
		yr, ok := yearOf(y)
		if !ok || yr.keys != want.keys {
			return 0, nil, false
		}
		for i, d := range yr.days {
			lo[i], hi[i] = min(lo[i], d), max(hi[i], d)
			seen[i][d] = true
		}
	}
	for i := range 2 {
		// "Weekday W on or after day D" shows all seven days D..D+6 over
		// enough years; anything else is not a rule an RRULE can state.
		if hi[i]-lo[i] != 6 || len(seen[i]) != 7 {
			return 0, nil, false
		}
	}
	// Extend the rule back into the covered years as far as it holds.
	from = last + 1
	for y := last; y >= first; y-- {
		yr, ok := yearOf(y)
		if !ok || yr.keys != want.keys || yr.days[0] < lo[0] || yr.days[0] > hi[0] || yr.days[1] < lo[1] || yr.days[1] > hi[1] {
			break
		}
		from = y
	}
	for i := range 2 {
		rules = append(rules, yearlyRRule(want.keys[i].month, want.keys[i].weekday, lo[i]))
	}
	return from, rules, true
}

// yearlyRRule states "weekday wd on or after day lo of month m" in the
// plainest RRULE form clients know: the nth or last weekday when the window
// is one, a BYMONTHDAY window otherwise (Chile's "Sun>=2").
func yearlyRRule(m time.Month, wd time.Weekday, lo int) string {
	day := [...]string{"SU", "MO", "TU", "WE", "TH", "FR", "SA"}[wd]
	monthLen := time.Date(2001, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
	switch {
	case lo%7 == 1 && lo <= 22:
		return fmt.Sprintf("FREQ=YEARLY;BYMONTH=%d;BYDAY=%d%s", m, (lo-1)/7+1, day)
	case m != time.February && lo == monthLen-6:
		return fmt.Sprintf("FREQ=YEARLY;BYMONTH=%d;BYDAY=-1%s", m, day)
	}
	days := make([]string, 7)
	for i := range days {
		days[i] = fmt.Sprint(lo + i)
	}
	return fmt.Sprintf("FREQ=YEARLY;BYMONTH=%d;BYMONTHDAY=%s;BYDAY=%s", m, strings.Join(days, ","), day)
}

// vtimezone describes loc for the years first..last (see the shapes above).
func vtimezone(loc *time.Location, first, last int) *ics.VTimezone {
	tz := ics.NewTimezone(loc.String())
	ruleFrom, rules, regular := regularRule(loc, first, last)
	explicitEnd := last + 1
	if regular {
		explicitEnd = ruleFrom
	}
	for _, tr := range transitions(loc, yearStart(first), yearStart(explicitEnd)) {
		tz.Components = append(tz.Components, observance(tr, ""))
	}
	if regular {
		trs := transitions(loc, yearStart(ruleFrom), yearStart(ruleFrom+1))
		for i, tr := range trs {
			tz.Components = append(tz.Components, observance(tr, rules[i]))
		}
	}
	if len(tz.Components) == 0 {
		t := yearStart(first).In(loc)
		name, off := t.Zone()
		tz.Components = append(tz.Components, observance(transition{
			at:   time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC).Add(-time.Duration(off) * time.Second),
			from: off, to: off, name: name, dst: t.IsDST(),
		}, ""))
	}
	// Clients read sub-components in any order, but people read them in
	// time order.
	slices.SortStableFunc(tz.Components, func(a, b ics.Component) int {
		return strings.Compare(dtstartOf(a), dtstartOf(b))
	})
	return tz
}

// observance is one STANDARD or DAYLIGHT sub-component.
func observance(tr transition, rrule string) ics.Component {
	var cb ics.ComponentBase
	cb.SetProperty(ics.ComponentPropertyDtStart, tr.onset().Format(localLayout))
	cb.SetProperty(ics.ComponentProperty(ics.PropertyTzoffsetfrom), utcOffset(tr.from))
	cb.SetProperty(ics.ComponentProperty(ics.PropertyTzoffsetto), utcOffset(tr.to))
	if tr.name != "" {
		cb.SetProperty(ics.ComponentProperty(ics.PropertyTzname), tr.name)
	}
	if rrule != "" {
		cb.SetProperty(ics.ComponentPropertyRrule, rrule)
	}
	if tr.dst {
		return &ics.Daylight{ComponentBase: cb}
	}
	return &ics.Standard{ComponentBase: cb}
}

func dtstartOf(c ics.Component) string {
	for _, p := range c.UnknownPropertiesIANAProperties() {
		if p.IANAToken == string(ics.PropertyDtstart) {
			return p.Value
		}
	}
	return ""
}

// utcOffset formats an offset as RFC 5545 UTC-OFFSET: +HHMM, or +HHMMSS
// when it has seconds (some zones did before 1900).
func utcOffset(sec int) string {
	sign := '+'
	if sec < 0 {
		sign, sec = '-', -sec
	}
	h, m, s := sec/3600, sec/60%60, sec%60
	if s != 0 {
		return fmt.Sprintf("%c%02d%02d%02d", sign, h, m, s)
	}
	return fmt.Sprintf("%c%02d%02d", sign, h, m)
}
