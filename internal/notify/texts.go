package notify

import (
	"fmt"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/carecircle/carecircle"
	"github.com/carecircle/carecircle/internal/storage"
)

// Texts say who, what and when. Times are given on the care recipient's
// wall clock (that is when the pill is due) and, when the reader's zone
// shows another time, on theirs too: "at 08:04 (your time 13:04)".

// zones caches loaded locations: every notice needs one or two.
var zones sync.Map

// zone returns the named location, UTC for an unknown name (zones are
// validated where they are stored).
func zone(name string) *time.Location {
	if loc, ok := zones.Load(name); ok {
		return loc.(*time.Location)
	}
	loc, err := time.LoadLocation(name)
	if err != nil || name == "" {
		loc = time.UTC
	}
	zones.Store(name, loc)
	return loc
}

func sameWallClock(t time.Time, a, b *time.Location) bool {
	_, oa := t.In(a).Zone()
	_, ob := t.In(b).Zone()
	return oa == ob
}

// clockAt is "08:04", followed by " (your time 13:04)" when the reader's
// zone differs; the reader's day is named when it is another day.
func clockAt(t time.Time, recipient, reader *time.Location) string {
	s := t.In(recipient).Format("15:04")
	if sameWallClock(t, recipient, reader) {
		return s
	}
	theirs := t.In(reader).Format("15:04")
	if carecircle.DateOf(t, recipient) != carecircle.DateOf(t, reader) {
		theirs = t.In(reader).Format("Mon 2 Jan 15:04")
	}
	return s + " (your time " + theirs + ")"
}

// dayAt is "Tue 3 Mar at 10:30", with the reader's time as in clockAt.
func dayAt(t time.Time, recipient, reader *time.Location) string {
	return t.In(recipient).Format("Mon 2 Jan") + " at " + clockAt(t, recipient, reader)
}

// inMinutes phrases a reminder offset: "in 1 hour", "in 24 hours", "in 2 days".
func inMinutes(m int) string {
	switch {
	case m <= 0:
		return "now"
	case m < 60:
		return fmt.Sprintf("in %d %s", m, plural(m, "minute", "minutes"))
	case m%1440 == 0 && m > 1440:
		return fmt.Sprintf("in %d days", m/1440)
	case m%60 == 0:
		return fmt.Sprintf("in %d %s", m/60, plural(m/60, "hour", "hours"))
	default:
		return fmt.Sprintf("in %dh %02dm", m/60, m%60)
	}
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// excerpt shortens free text for a notice.
func excerpt(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return strings.TrimSpace(string(r[:n-1])) + "…"
}

func medLabel(name, dosage string) string {
	if dosage == "" {
		return name
	}
	return name + " " + dosage
}

// message is a notice's text.
type message struct {
	Title, Body, URL, Tag string
}

func doseReminderText(m storage.ReminderMedication, at time.Time, reader *time.Location) message {
	loc := zone(m.Timezone)
	body := fmt.Sprintf("%s's %s dose of %s is due now.", m.RecipientName, clockAt(at, loc, reader), medLabel(m.Name, m.Dosage))
	if m.Instructions != "" {
		body += " " + excerpt(m.Instructions, 200)
	}
	return message{
		Title: fmt.Sprintf("Time for %s's %s", m.RecipientName, medLabel(m.Name, m.Dosage)),
		Body:  body,
		URL:   "/medications/" + m.ID,
		Tag:   fmt.Sprintf("dose-%s-%d", m.ID, at.Unix()),
	}
}

func missedDoseText(d missedData, reader *time.Location) message {
	loc := zone(d.Timezone)
	return message{
		Title: fmt.Sprintf("Missed dose: %s's %s", d.CareRecipientName, medLabel(d.MedicationName, d.Dosage)),
		Body: fmt.Sprintf("No one has logged %s's %s dose of %s; it is %d minutes overdue.", d.CareRecipientName,
			clockAt(d.ScheduledTime, loc, reader), medLabel(d.MedicationName, d.Dosage), d.MissedAfterMinutes),
		URL: "/medications/" + d.MedicationID,
		Tag: fmt.Sprintf("dose-%s-%d", d.MedicationID, d.ScheduledTime.Unix()),
	}
}

func refillText(name, dosage, recipient, medID string, supply, threshold int, daily bool) message {
	title := fmt.Sprintf("Refill needed: %s for %s", medLabel(name, dosage), recipient)
	if daily {
		title = fmt.Sprintf("Still low: %s for %s", medLabel(name, dosage), recipient)
	}
	return message{
		Title: title,
		Body: fmt.Sprintf("%d %s left (refill at %d). Order a refill so %s doesn't run out.",
			supply, plural(supply, "dose", "doses"), threshold, recipient),
		URL: "/medications/" + medID,
		Tag: "refill-" + medID,
	}
}

func appointmentText(a storage.ReminderAppointment, occ time.Time, offset int, reader *time.Location, readerID string) message {
	loc := zone(a.Timezone)
	body := fmt.Sprintf("%s has %s on %s", a.RecipientName, a.Title, dayAt(occ, loc, reader))
	if a.DoctorName != "" {
		body += " with " + a.DoctorName
	}
	if a.Location != "" {
		body += " at " + a.Location
	}
	body += "."
	switch {
	case a.AssignedTo != nil && a.AssignedTo.ID == readerID:
		body += fmt.Sprintf(" You are going with %s.", a.RecipientName)
	case a.AssignedTo != nil:
		body += fmt.Sprintf(" %s is going with %s.", a.AssignedTo.FullName, a.RecipientName)
	}
	return message{
		Title: fmt.Sprintf("%s for %s %s", a.Title, a.RecipientName, inMinutes(offset)),
		Body:  body,
		URL:   "/appointments/" + a.ID,
		Tag:   fmt.Sprintf("apt-%s-%d", a.ID, occ.Unix()),
	}
}

func shiftReminderText(s storage.ReminderShift, reader *time.Location) message {
	loc := zone(s.Timezone)
	body := fmt.Sprintf("Your shift with %s runs from %s to %s.", s.RecipientName, dayAt(s.StartTime, loc, reader),
		clockAt(s.EndTime, loc, reader))
	if s.Notes != "" {
		body += " Notes: " + excerpt(s.Notes, 300)
	}
	return message{
		Title: fmt.Sprintf("Your shift with %s starts in 1 hour", s.RecipientName),
		Body:  body,
		URL:   "/shifts/" + s.ID,
		Tag:   "shift-" + s.ID,
	}
}

func documentExpiryText(d storage.ReminderDocument, days int) message {
	loc := zone(d.Timezone)
	when := fmt.Sprintf("in %d days", days)
	if days == 1 {
		when = "tomorrow"
	}
	return message{
		Title: fmt.Sprintf("%s's %s expires %s", d.RecipientName, d.Name, when),
		Body: fmt.Sprintf("%s's %s (%s) expires on %s. Upload the renewed one when it arrives.", d.RecipientName, d.Name,
			strings.ToLower(d.Category), d.ExpiresAt.In(loc).Format("Mon 2 Jan 2006")),
		URL: "/documents/" + d.ID,
		Tag: "document-" + d.ID,
	}
}

func alertText(d alertData, reader *time.Location, repeat int) message {
	loc := zone(d.Timezone)
	title := fmt.Sprintf("EMERGENCY: %s — %s", d.CareRecipientName, d.Type)
	body := excerpt(d.Description, 500)
	if !strings.HasSuffix(body, ".") && !strings.HasSuffix(body, "…") {
		body += "."
	}
	if d.Location != "" {
		body += " Location: " + excerpt(d.Location, 200) + "."
	}
	body += fmt.Sprintf(" Raised by %s at %s.", d.TriggeredByName, clockAt(d.CreatedAt, loc, reader))
	if repeat > 0 {
		title = "Still unacknowledged — " + title
		body += fmt.Sprintf(" No one has acknowledged it yet (%d minutes).", repeat*int(AlertRepeatEvery/time.Minute))
	}
	return message{Title: title, Body: body, URL: "/emergency/alerts/" + d.AlertID, Tag: d.AlertID}
}
