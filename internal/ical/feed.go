// Package ical writes a care recipient's appointments as an iCalendar
// (RFC 5545) feed that Google Calendar, Apple Calendar and Thunderbird can
// subscribe to. Times are written in the recipient's zone with a VTIMEZONE
// built from Go's zone data, so a weekly 10:00 appointment stays at 10:00
// across DST in every client.
package ical

import (
	"strings"
	"time"

	ics "github.com/arran4/golang-ical"
)

// Event is one appointment in a feed.
type Event struct {
	// UID identifies the event across feed refreshes; keep it stable.
	UID string
	// Summary, Location and Description are plain text; escaping is done here.
	Summary, Location, Description string
	// Start and End are instants; they are written as wall times in the
	// feed's zone. For AllDay events only their local dates count and End
	// is exclusive (the first day after the event); a zero End means one
	// day. A timed event with a zero End has no DTEND.
	Start, End time.Time
	AllDay     bool
	// RRule is an RFC 5545 RRULE value (with or without "RRULE:"), passed
	// through. With a TZID start, RFC 5545 wants UNTIL in UTC: use
	// carecircle.Recurrence.RuleIn.
	RRule string
	// Cancelled marks the event STATUS:CANCELLED (clients strike it out or
	// remove it); otherwise it is CONFIRMED.
	Cancelled bool
	// Sequence increases with each significant change.
	Sequence int
	// Updated, when set, becomes LAST-MODIFIED.
	Updated time.Time
	// ExDates are occurrences of RRule that do not take place.
	ExDates []time.Time
}

// Layouts of RFC 5545 DATE-TIME and DATE values.
const (
	localLayout = "20060102T150405"
	utcLayout   = "20060102T150405Z"
	dateLayout  = "20060102"
)

// Feed renders events as a published VCALENDAR named name, with times in
// loc (nil means UTC) and now as every event's DTSTAMP. Lines end in CRLF
// and are folded at 75 octets without splitting a UTF-8 character. For UTC
// the times are written in Z form and no VTIMEZONE is needed; for any other
// zone a VTIMEZONE covering the events (see vtimezone) comes first.
func Feed(name string, loc *time.Location, events []Event, now time.Time) []byte {
	if loc == nil {
		loc = time.UTC
	}
	utc := isUTC(loc, now)
	tzid := loc.String()
	if utc {
		tzid = "UTC"
	}

	cal := ics.NewCalendar()
	cal.SetProductId("-//CareCircle//CareCircle Calendar//EN")
	cal.SetCalscale("GREGORIAN")
	cal.SetMethod(ics.MethodPublish)
	cal.SetXWRCalName(text(name))
	cal.SetXWRTimezone(tzid)
	// Ask subscribed clients to refresh hourly; most default to a day.
	cal.SetXPublishedTTL("PT1H")

	if !utc {
		first, last := coveredYears(loc, events, now)
		cal.AddVTimezone(vtimezone(loc, first, last))
	}
	for _, e := range events {
		cal.AddVEvent(vevent(e, loc, utc, now))
	}
	return []byte(cal.Serialize(ics.WithNewLineWindows))
}

func vevent(e Event, loc *time.Location, utc bool, now time.Time) *ics.VEvent {
	ev := ics.NewEvent(text(e.UID))
	ev.SetDtStampTime(now)
	switch {
	case e.AllDay:
		start := e.Start.In(loc)
		end := start.AddDate(0, 0, 1)
		if !e.End.IsZero() && dateAfter(e.End.In(loc), start) {
			end = e.End.In(loc)
		}
		ev.SetProperty(ics.ComponentPropertyDtStart, start.Format(dateLayout), ics.WithValue(string(ics.ValueDataTypeDate)))
		ev.SetProperty(ics.ComponentPropertyDtEnd, end.Format(dateLayout), ics.WithValue(string(ics.ValueDataTypeDate)))
	default:
		setTime(ev, ics.ComponentPropertyDtStart, e.Start, loc, utc)
		if !e.End.IsZero() {
			setTime(ev, ics.ComponentPropertyDtEnd, e.End, loc, utc)
		}
	}
	if e.Summary != "" {
		ev.SetSummary(text(e.Summary))
	}
	if e.Location != "" {
		ev.SetLocation(text(e.Location))
	}
	if e.Description != "" {
		ev.SetDescription(text(e.Description))
	}
	if rule := recur(e.RRule); rule != "" {
		ev.AddRrule(rule)
		for _, x := range e.ExDates {
			switch {
			case e.AllDay:
				ev.AddExdate(x.In(loc).Format(dateLayout), ics.WithValue(string(ics.ValueDataTypeDate)))
			case utc:
				ev.AddExdate(x.UTC().Format(utcLayout))
			default:
				ev.AddExdate(x.In(loc).Format(localLayout), ics.WithTZID(loc.String()))
			}
		}
	}
	if e.Cancelled {
		ev.SetStatus(ics.ObjectStatusCancelled)
	} else {
		ev.SetStatus(ics.ObjectStatusConfirmed)
	}
	ev.SetSequence(e.Sequence)
	if !e.Updated.IsZero() {
		ev.SetModifiedAt(e.Updated)
	}
	return ev
}

// setTime writes a DATE-TIME property as UTC ("Z") or as a wall time with
// the zone's TZID.
func setTime(ev *ics.VEvent, prop ics.ComponentProperty, t time.Time, loc *time.Location, utc bool) {
	if utc {
		ev.SetProperty(prop, t.UTC().Format(utcLayout))
		return
	}
	ev.SetProperty(prop, t.In(loc).Format(localLayout), ics.WithTZID(loc.String()))
}

func dateAfter(a, b time.Time) bool {
	ay, am, ad := a.Date()
	by, bm, bd := b.Date()
	return time.Date(ay, am, ad, 0, 0, 0, 0, time.UTC).After(time.Date(by, bm, bd, 0, 0, 0, 0, time.UTC))
}

// isUTC reports whether loc is UTC under any name: offset zero and never a
// transition. Such a zone needs no VTIMEZONE.
func isUTC(loc *time.Location, now time.Time) bool {
	if loc == time.UTC {
		return true
	}
	t := now.In(loc)
	_, off := t.Zone()
	start, end := t.ZoneBounds()
	return off == 0 && start.IsZero() && end.IsZero()
}

// text prepares a TEXT value for golang-ical, which escapes backslashes,
// semicolons, commas and newlines itself: line breaks become a single "\n"
// and other control characters, which RFC 5545 forbids in TEXT, are dropped.
func text(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	return strings.Map(func(r rune) rune {
		if r == '\n' || r == '\t' {
			return r
		}
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, s)
}

// recur prepares an RRULE value, which golang-ical writes unescaped: it drops
// the optional "RRULE:" prefix and any control character or space, so a rule
// can never break out of its line.
func recur(s string) string {
	s = strings.Map(func(r rune) rune {
		if r <= 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, s)
	if len(s) >= 6 && strings.EqualFold(s[:6], "RRULE:") {
		s = s[6:]
	}
	return s
}

// coveredYears returns the years the VTIMEZONE must describe: from the year
// before the earliest event (or now) to the year after the latest, kept
// within 1970 and a century from now so a stray date cannot make the feed
// list thousands of transitions.
func coveredYears(loc *time.Location, events []Event, now time.Time) (first, last int) {
	first, last = now.In(loc).Year(), now.In(loc).Year()
	see := func(t time.Time) {
		if t.IsZero() {
			return
		}
		y := t.In(loc).Year()
		first, last = min(first, y), max(last, y)
	}
	for _, e := range events {
		see(e.Start)
		see(e.End)
	}
	year := now.In(loc).Year()
	return max(first-1, min(1970, year)), min(last+1, year+100)
}
