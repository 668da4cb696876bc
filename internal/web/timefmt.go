package web

import (
	"fmt"
	"time"
)

// Times on pages: instants are shown in the viewer's zone; when the page is
// about a care recipient whose zone shows a different clock, the zone is
// named. Wall-clock events at the recipient's (doses, appointments, shifts)
// show the recipient's time first and the viewer's own alongside:
// "08:00 EST (13:00 your time)".

// sameClock reports whether two zones show the same wall clock at t.
func sameClock(t time.Time, a, b *time.Location) bool {
	_, oa := t.In(a).Zone()
	_, ob := t.In(b).Zone()
	return oa == ob
}

// viewerLoc returns the zone pages are shown in.
func (p *page) viewerLoc() *time.Location {
	if p.V != nil && p.V.Loc != nil {
		return p.V.Loc
	}
	return time.UTC
}

// recipientLoc returns the zone of the page's recipient, or the viewer's.
func (p *page) recipientLoc() *time.Location {
	if p.RLoc != nil {
		return p.RLoc
	}
	return p.viewerLoc()
}

// dayLabel is "Today", "Tomorrow", "Yesterday" or "Mon 5 Mar" (with the
// year when it isn't this year), for t in loc.
func (p *page) dayLabel(t time.Time, loc *time.Location) string {
	lt, now := t.In(loc), p.Now.In(loc)
	dy := dayNumber(lt) - dayNumber(now)
	switch dy {
	case 0:
		return "Today"
	case 1:
		return "Tomorrow"
	case -1:
		return "Yesterday"
	}
	if lt.Year() != now.Year() {
		return lt.Format("Mon 2 Jan 2006")
	}
	return lt.Format("Mon 2 Jan")
}

func dayNumber(t time.Time) int {
	y, m, d := t.Date()
	return int(time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix() / 86400)
}

// At is an instant in the viewer's zone, with the day: "Today 14:05", and
// the zone's name when the recipient's clock differs.
func (p *page) At(t time.Time) string { return p.AtIn(t, p.recipientLoc()) }

// AtIn is At on a page about a recipient in zone rl (the dashboard shows
// several).
func (p *page) AtIn(t time.Time, rl *time.Location) string {
	if t.IsZero() {
		return ""
	}
	loc := p.viewerLoc()
	s := p.dayLabel(t, loc) + " " + t.In(loc).Format("15:04")
	if !sameClock(t, loc, rl) {
		s += " " + t.In(loc).Format("MST")
	}
	return s
}

// AtPtr is At for an optional time.
func (p *page) AtPtr(t *time.Time) string {
	if t == nil {
		return ""
	}
	return p.At(*t)
}

// Clock is the time of day of an instant in the viewer's zone.
func (p *page) Clock(t time.Time) string { return t.In(p.viewerLoc()).Format("15:04") }

// Local is a wall-clock time at the recipient's: "08:00", or "08:00 EST
// (13:00 your time)" when the viewer's clock differs.
func (p *page) Local(t time.Time) string { return p.LocalIn(t, p.recipientLoc()) }

// LocalIn is Local for a recipient in zone rl.
func (p *page) LocalIn(t time.Time, rl *time.Location) string {
	vl := p.viewerLoc()
	s := t.In(rl).Format("15:04")
	if sameClock(t, rl, vl) {
		return s
	}
	your := t.In(vl).Format("15:04")
	if dayNumber(t.In(vl)) != dayNumber(t.In(rl)) {
		your = t.In(vl).Format("Mon 15:04")
	}
	return fmt.Sprintf("%s %s (%s your time)", s, t.In(rl).Format("MST"), your)
}

// LocalAt is Local with the day: "Tomorrow 09:30 (14:30 your time)".
func (p *page) LocalAt(t time.Time) string { return p.LocalAtIn(t, p.recipientLoc()) }

// LocalAtIn is LocalAt for a recipient in zone rl.
func (p *page) LocalAtIn(t time.Time, rl *time.Location) string {
	return p.dayLabel(t, rl) + " " + p.LocalIn(t, rl)
}

// Day is the day of an instant at the recipient's.
func (p *page) Day(t time.Time) string { return p.dayLabel(t, p.recipientLoc()) }

// ISO is an instant for a <time datetime> attribute.
func (p *page) ISO(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// InputTime formats an instant for a datetime-local input in the
// recipient's zone.
func (p *page) InputTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(p.recipientLoc()).Format("2006-01-02T15:04")
}

// ZoneNote says which zone form times are in, when it isn't the viewer's.
func (p *page) ZoneNote() string {
	if p.R == nil || p.V == nil || p.R.Timezone == p.V.Timezone {
		return ""
	}
	return "Times are in " + p.R.DisplayName() + "'s time zone (" + p.R.Timezone + ")."
}
