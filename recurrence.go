package carecircle

import (
	"strconv"
	"strings"
	"time"

	"github.com/teambition/rrule-go"
)

// DefaultMaxOccurrences caps Recurrence.Occurrences when the caller passes
// no limit.
const DefaultMaxOccurrences = 1000

// Recurrence is an appointment's repeat rule: one RFC 5545 RRULE value, such
// as "FREQ=WEEKLY;BYDAY=TU". The zero Recurrence means "does not repeat".
// The rule never carries its own start: the appointment's startTime is the
// first occurrence, and its wall-clock time in the care recipient's zone is
// the time of every occurrence.
type Recurrence struct {
	rule      string        // upper case, without the "RRULE:" prefix
	opt       rrule.ROption // without UNTIL and COUNT, which Occurrences applies
	count     int
	untilKind untilKind
	untilWall time.Time // UNTIL as written: a UTC instant, or floating fields
}

type untilKind int

const (
	untilNone     untilKind = iota
	untilUTC                // 20261231T235959Z: an instant
	untilFloating           // 20261231T235959: a wall time in the recipient's zone
	untilDate               // 20261231: through the end of that local day
)

// recurrenceKeys are the RRULE parts an appointment may use. BYHOUR, BYMINUTE
// and BYSECOND are refused because the time of day comes from startTime;
// BYEASTER is an rrule-go extension no calendar client understands.
var recurrenceKeys = map[string]bool{
	"FREQ": true, "INTERVAL": true, "COUNT": true, "UNTIL": true, "WKST": true,
	"BYDAY": true, "BYMONTHDAY": true, "BYYEARDAY": true, "BYWEEKNO": true,
	"BYMONTH": true, "BYSETPOS": true,
}

// ParseRecurrence validates an RRULE, given with or without the "RRULE:"
// prefix and in any letter case. It refuses a DTSTART inside the rule,
// sub-daily frequencies (SECONDLY, MINUTELY, HOURLY), COUNT together with
// UNTIL, and rules that never produce a date (FREQ=YEARLY;BYMONTH=2;
// BYMONTHDAY=30). Errors are EINVALID with a message naming "recurrence".
func ParseRecurrence(rule string) (Recurrence, error) {
	s := strings.ToUpper(strings.TrimSpace(rule))
	if s == "" {
		return Recurrence{}, Invalid("recurrence should not be empty")
	}
	if strings.ContainsAny(s, "\r\n") || strings.Contains(s, "DTSTART") {
		return Recurrence{}, Invalid("recurrence must be a single RRULE without DTSTART; the appointment's startTime is its start")
	}
	s = strings.TrimPrefix(s, "RRULE:")

	r := Recurrence{rule: s}
	seen := map[string]bool{}
	for _, part := range strings.Split(s, ";") {
		key, value, ok := strings.Cut(part, "=")
		if !ok || key == "" || value == "" {
			return Recurrence{}, Invalid("recurrence must be KEY=VALUE parts separated by semicolons")
		}
		if !recurrenceKeys[key] {
			return Recurrence{}, Invalid("recurrence must not use " + key)
		}
		if seen[key] {
			return Recurrence{}, Invalid("recurrence must not repeat " + key)
		}
		seen[key] = true
		switch key {
		case "COUNT":
			n, err := strconv.Atoi(value)
			if err != nil || n < 1 {
				return Recurrence{}, Invalid("recurrence COUNT must be a whole number of at least 1")
			}
			r.count = n
		case "INTERVAL":
			if n, err := strconv.Atoi(value); err != nil || n < 1 {
				return Recurrence{}, Invalid("recurrence INTERVAL must be a whole number of at least 1")
			}
		case "UNTIL":
			kind, wall, err := parseUntil(value)
			if err != nil {
				return Recurrence{}, Invalid("recurrence UNTIL must be YYYYMMDD, YYYYMMDDTHHMMSS or YYYYMMDDTHHMMSSZ")
			}
			r.untilKind, r.untilWall = kind, wall
		}
	}
	if !seen["FREQ"] {
		return Recurrence{}, Invalid("recurrence must have FREQ")
	}
	if r.count > 0 && r.untilKind != untilNone {
		return Recurrence{}, Invalid("recurrence must not have both COUNT and UNTIL")
	}

	opt, err := rrule.StrToROption(s)
	if err != nil {
		return Recurrence{}, Invalid("recurrence is not a valid RRULE: " + err.Error())
	}
	switch opt.Freq {
	case rrule.DAILY, rrule.WEEKLY, rrule.MONTHLY, rrule.YEARLY:
	default:
		return Recurrence{}, Invalid("recurrence FREQ must be DAILY, WEEKLY, MONTHLY or YEARLY")
	}
	opt.Until, opt.Count = time.Time{}, 0
	r.opt = *opt

	// A rule like "the 30th of February" is valid syntax but never happens;
	// expanding it would scan to year 9999 on every read, so refuse it here.
	probe := r.opt
	probe.Dtstart = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	rr, err := rrule.NewRRule(probe)
	if err != nil {
		return Recurrence{}, Invalid("recurrence is not a valid RRULE: " + err.Error())
	}
	if rr.After(probe.Dtstart, true).IsZero() {
		return Recurrence{}, Invalid("recurrence never produces a date")
	}
	return r, nil
}

// parseUntil reads an UNTIL value in one of the three RFC 5545 forms.
func parseUntil(v string) (untilKind, time.Time, error) {
	layouts := []struct {
		layout string
		kind   untilKind
	}{
		{"20060102", untilDate},
		{"20060102T150405", untilFloating},
		{"20060102T150405Z", untilUTC},
	}
	for _, l := range layouts {
		if len(v) == len(l.layout) {
			t, err := time.Parse(l.layout, v)
			return l.kind, t, err
		}
	}
	return untilNone, time.Time{}, strconv.ErrSyntax
}

// IsZero reports whether r is the zero Recurrence ("does not repeat").
func (r Recurrence) IsZero() bool { return r.rule == "" }

// String returns the rule as stored: upper case, without "RRULE:".
func (r Recurrence) String() string { return r.rule }

// RuleIn returns the rule for a calendar feed whose events start in loc.
// RFC 5545 requires UNTIL in UTC when DTSTART has a TZID, so an UNTIL given
// as a local date or local time is rewritten to the UTC instant it means in
// loc; a date means through the end of that local day.
func (r Recurrence) RuleIn(loc *time.Location) string {
	if r.untilKind == untilNone || r.untilKind == untilUTC {
		return r.rule
	}
	parts := strings.Split(r.rule, ";")
	for i, p := range parts {
		if strings.HasPrefix(p, "UNTIL=") {
			parts[i] = "UNTIL=" + r.untilIn(loc).UTC().Format("20060102T150405Z")
		}
	}
	return strings.Join(parts, ";")
}

// untilIn returns the last instant the rule may produce, in loc; zero when
// the rule has no UNTIL.
func (r Recurrence) untilIn(loc *time.Location) time.Time {
	switch r.untilKind {
	case untilUTC:
		return r.untilWall
	case untilFloating:
		return wallToInstant(r.untilWall, loc)
	case untilDate:
		next := DateOf(r.untilWall, time.UTC).AddDays(1)
		return LocalInstant(next, 0, 0, loc).Add(-time.Second)
	}
	return time.Time{}
}

// Occurrences returns the occurrences in [from, to), sorted, at most max of
// them (DefaultMaxOccurrences when max <= 0), of an appointment first held
// at start, in the care recipient's zone loc.
//
// Every occurrence keeps start's wall-clock time in loc: a weekly 10:00 New
// York appointment is at 14:00Z in summer and 15:00Z in winter. A wall time
// that does not exist or occurs twice on some day follows the RFC 5545 rules
// of LocalInstant. start itself is always the first occurrence and counts
// toward COUNT (RFC 5545 §3.8.5.3), even when the rule would not produce it.
//
// rrule-go expands in its DTSTART's location, but resolves the skipped hour
// of a spring-forward day the way time.Date does (02:30 becomes 01:30 EST,
// not 03:30 EDT), so the rule is expanded on floating wall times instead and
// each one is placed in loc here.
func (r Recurrence) Occurrences(start time.Time, loc *time.Location, from, to time.Time, max int) []time.Time {
	if max <= 0 {
		max = DefaultMaxOccurrences
	}
	if !from.Before(to) {
		return nil
	}
	var out []time.Time
	if !start.Before(from) && start.Before(to) {
		out = append(out, start)
	}
	if r.IsZero() || len(out) >= max {
		return out
	}
	until := r.untilIn(loc)
	if !until.IsZero() && until.Before(from) {
		return out
	}

	fstart := floating(start.In(loc))
	opt := r.opt
	opt.Dtstart = fstart
	rr, err := rrule.NewRRule(opt)
	if err != nil {
		return out // ParseRecurrence already accepted this rule
	}
	// Floating times differ from instants by the zone's offset, at most a
	// day; these bounds skip the mapping work far outside the window.
	ffrom := floating(from.In(loc)).Add(-48 * time.Hour)
	fto := floating(to.In(loc)).Add(48 * time.Hour)
	n := 1 // start is the first occurrence
	next := rr.Iterator()
	for {
		w, ok := next()
		if !ok || w.After(fto) {
			break
		}
		if w.Equal(fstart) {
			continue
		}
		n++
		if r.count > 0 && n > r.count {
			break
		}
		if w.Before(ffrom) {
			continue
		}
		// One occurrence per day at most (no BYHOUR), so instants increase
		// with w even across a gap: the checks below may stop the walk.
		at := wallToInstant(w, loc)
		if !until.IsZero() && at.After(until) || !at.Before(to) {
			break
		}
		if at.Before(from) {
			continue
		}
		out = append(out, at)
		if len(out) >= max {
			break
		}
	}
	return out
}

// floating returns t's wall-clock fields as a UTC time, whole seconds, so
// that rule expansion sees no DST.
func floating(t time.Time) time.Time {
	return time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), 0, time.UTC)
}
