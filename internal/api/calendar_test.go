package api_test

import (
	"bytes"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	ics "github.com/arran4/golang-ical"
	"github.com/teambition/rrule-go"

	"github.com/carecircle/carecircle"
	"github.com/carecircle/carecircle/internal/apptest"
	"github.com/carecircle/carecircle/internal/mail/mailtest"
)

const icsLocal = "20060102T150405"

// feedPath asks for a feed token as c and returns the feed's path and query
// (the URL without the server), checking the URL's shape.
func feedPath(t *testing.T, c *apptest.Client, recipientID string) string {
	t.Helper()
	m := c.Must(201, "POST", "/api/v1/care-recipients/"+recipientID+"/calendar-token", nil)
	tok, _ := m["token"].(string)
	u, _ := m["url"].(string)
	prefix := c.Env.URL + "/api/v1/care-recipients/" + recipientID + "/calendar.ics?token="
	if len(tok) < 40 || u != prefix+tok {
		t.Fatalf("calendar token answer = %v", m)
	}
	if w, _ := m["webcalUrl"].(string); !strings.HasPrefix(w, "webcal://") || !strings.HasSuffix(w, tok) {
		t.Fatalf("webcalUrl = %q", w)
	}
	return strings.TrimPrefix(u, c.Env.URL)
}

// vtimezone is a VTIMEZONE read back from a feed without Go's zone data:
// the instants its offsets change, from DTSTART (a wall time on the
// TZOFFSETFROM clock) and RRULE of each STANDARD and DAYLIGHT part.
type vtimezone struct {
	changes []offsetChange
}

type offsetChange struct {
	at       time.Time
	from, to int
}

func parseOffset(t *testing.T, s string) int {
	t.Helper()
	var sign byte
	var hh, mm int
	if _, err := fmt.Sscanf(s, "%c%02d%02d", &sign, &hh, &mm); err != nil || sign != '+' && sign != '-' {
		t.Fatalf("UTC offset %q: %v", s, err)
	}
	off := hh*3600 + mm*60
	if sign == '-' {
		off = -off
	}
	return off
}

func readVTimezone(t *testing.T, cal *ics.Calendar, tzid string, until time.Time) vtimezone {
	t.Helper()
	var z vtimezone
	for _, tz := range cal.Timezones() {
		if p := tz.GetProperty(ics.ComponentPropertyTzid); p == nil || p.Value != tzid {
			continue
		}
		for _, sub := range tz.Components {
			var cb *ics.ComponentBase
			switch v := sub.(type) {
			case *ics.Standard:
				cb = &v.ComponentBase
			case *ics.Daylight:
				cb = &v.ComponentBase
			default:
				continue
			}
			start, err := time.Parse(icsLocal, cb.GetProperty(ics.ComponentPropertyDtStart).Value)
			if err != nil {
				t.Fatalf("VTIMEZONE DTSTART: %v", err)
			}
			from := parseOffset(t, cb.GetProperty(ics.ComponentProperty("TZOFFSETFROM")).Value)
			to := parseOffset(t, cb.GetProperty(ics.ComponentProperty("TZOFFSETTO")).Value)
			walls := []time.Time{start}
			if p := cb.GetProperty(ics.ComponentPropertyRrule); p != nil {
				opt, err := rrule.StrToROption(p.Value)
				if err != nil {
					t.Fatalf("VTIMEZONE RRULE %q: %v", p.Value, err)
				}
				opt.Dtstart = start
				rr, err := rrule.NewRRule(*opt)
				if err != nil {
					t.Fatal(err)
				}
				walls = rr.Between(start, until, true)
			}
			for _, w := range walls {
				z.changes = append(z.changes, offsetChange{at: w.Add(-time.Duration(from) * time.Second), from: from, to: to})
			}
		}
	}
	if len(z.changes) == 0 {
		t.Fatalf("feed has no VTIMEZONE %s", tzid)
	}
	slices.SortFunc(z.changes, func(a, b offsetChange) int { return a.at.Compare(b.at) })
	return z
}

// offsetAt is the UTC offset in force at instant at.
func (z vtimezone) offsetAt(at time.Time) int {
	off := z.changes[0].from
	for _, c := range z.changes {
		if c.at.After(at) {
			break
		}
		off = c.to
	}
	return off
}

// resolve turns a wall time into the earliest instant that shows it.
func (z vtimezone) resolve(t *testing.T, wall time.Time) time.Time {
	t.Helper()
	var best time.Time
	for _, c := range z.changes {
		for _, off := range []int{c.from, c.to} {
			at := wall.Add(-time.Duration(off) * time.Second)
			if z.offsetAt(at) == off && (best.IsZero() || at.Before(best)) {
				best = at
			}
		}
	}
	if best.IsZero() {
		t.Fatalf("wall time %s does not exist in the VTIMEZONE", wall)
	}
	return best
}

func eventByUID(t *testing.T, cal *ics.Calendar, uid string) *ics.VEvent {
	t.Helper()
	for _, ev := range cal.Events() {
		if p := ev.GetProperty(ics.ComponentPropertyUniqueId); p != nil && p.Value == uid {
			return ev
		}
	}
	t.Fatalf("feed has no event %s", uid)
	return nil
}

func prop(ev *ics.VEvent, name ics.ComponentProperty) string {
	if p := ev.GetProperty(name); p != nil {
		return p.Value
	}
	return ""
}

func TestCalendarFeed_WeeklyAppointmentKeepsLocalTimeAcrossDST(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		f := e.NewFamily("Feed", "America/New_York")
		weekly := f.Caregiver.Must(201, "POST", aptsPath(f.RecipientID), map[string]any{
			"title": "Physio; knee, left", "startTime": "2026-10-05T14:00:00Z", "endTime": "2026-10-05T15:00:00Z",
			"location": "Clinic, Room 4", "doctorName": "Dr. Patel", "recurrence": "FREQ=WEEKLY;UNTIL=20261130",
			"assignedTo": f.Caregiver.UserID,
		})
		wid := weekly["id"].(string)
		f.Caregiver.Must(200, "PATCH", "/api/v1/appointments/"+wid, map[string]any{"notes": "Wear shorts"})
		gone := f.Caregiver.Must(201, "POST", aptsPath(f.RecipientID), map[string]any{"title": "Dentist", "startTime": "2026-10-20T13:00:00Z"})
		f.Caregiver.Must(204, "DELETE", "/api/v1/appointments/"+gone["id"].(string), nil)

		// A VIEWER may subscribe; the feed needs no session.
		r := e.Anon().Do("GET", feedPath(t, f.Viewer, f.RecipientID), nil)
		if r.Status != 200 {
			t.Fatalf("feed: %d %s", r.Status, r.Body)
		}
		for h, want := range map[string]string{
			"Content-Type":        "text/calendar; charset=utf-8",
			"Content-Disposition": `inline; filename="carecircle-feed-s-dad-test.ics"`,
			"Cache-Control":       "private, max-age=300",
		} {
			if got := r.Header.Get(h); got != want {
				t.Errorf("%s = %q, want %q", h, got, want)
			}
		}
		cal, err := ics.ParseCalendar(bytes.NewReader(r.Body))
		if err != nil {
			t.Fatalf("parse feed: %v\n%s", err, r.Body)
		}
		if n := len(cal.Events()); n != 2 {
			t.Fatalf("%d events, want 2:\n%s", n, r.Body)
		}

		ev := eventByUID(t, cal, wid+"@carecircle")
		start := ev.GetProperty(ics.ComponentPropertyDtStart)
		if tz := start.ICalParameters["TZID"]; len(tz) != 1 || tz[0] != "America/New_York" || start.Value != "20261005T100000" {
			t.Fatalf("DTSTART = %v %q", start.ICalParameters, start.Value)
		}
		if got := prop(ev, ics.ComponentPropertyDtEnd); got != "20261005T110000" {
			t.Errorf("DTEND = %q", got)
		}
		// The local UNTIL date becomes the UTC instant ending that day in New York.
		if got := prop(ev, ics.ComponentPropertyRrule); got != "FREQ=WEEKLY;UNTIL=20261201T045959Z" {
			t.Errorf("RRULE = %q", got)
		}
		if prop(ev, ics.ComponentPropertySequence) != "1" || prop(ev, ics.ComponentPropertyStatus) != "CONFIRMED" {
			t.Errorf("SEQUENCE %q STATUS %q", prop(ev, ics.ComponentPropertySequence), prop(ev, ics.ComponentPropertyStatus))
		}
		desc := prop(ev, ics.ComponentPropertyDescription)
		for _, want := range []string{"Feed Caregiver", "Dr. Patel", "Wear shorts"} {
			if !strings.Contains(desc, want) {
				t.Errorf("DESCRIPTION %q lacks %q", desc, want)
			}
		}
		if !strings.Contains(prop(ev, ics.ComponentPropertySummary), "Physio") || !strings.Contains(prop(ev, ics.ComponentPropertyLocation), "Room 4") {
			t.Errorf("SUMMARY %q LOCATION %q", prop(ev, ics.ComponentPropertySummary), prop(ev, ics.ComponentPropertyLocation))
		}

		// As a client that knows only the feed: expand the RRULE on wall
		// times and resolve each through the feed's VTIMEZONE.
		z := readVTimezone(t, cal, "America/New_York", time.Date(2028, 1, 1, 0, 0, 0, 0, time.UTC))
		opt, err := rrule.StrToROption(prop(ev, ics.ComponentPropertyRrule))
		if err != nil {
			t.Fatal(err)
		}
		wall, _ := time.Parse(icsLocal, start.Value)
		opt.Dtstart = wall
		rr, err := rrule.NewRRule(*opt)
		if err != nil {
			t.Fatal(err)
		}
		// UNTIL is an instant; compare in the floating frame by resolving.
		var got []string
		for _, w := range rr.Between(wall, wall.AddDate(0, 3, 0), true) {
			at := z.resolve(t, w)
			if until := opt.Until; !until.IsZero() && at.After(until) {
				continue
			}
			got = append(got, at.Format(time.RFC3339))
		}
		want := []string{
			"2026-10-05T14:00:00Z", "2026-10-12T14:00:00Z", "2026-10-19T14:00:00Z", "2026-10-26T14:00:00Z",
			"2026-11-02T15:00:00Z", "2026-11-09T15:00:00Z", "2026-11-16T15:00:00Z", "2026-11-23T15:00:00Z", "2026-11-30T15:00:00Z",
		}
		if !slices.Equal(got, want) {
			t.Errorf("occurrences through the VTIMEZONE:\n got %v\nwant %v", got, want)
		}
		// The API's own range query agrees.
		items := f.Viewer.Must(200, "GET", aptsPath(f.RecipientID)+"?from=2026-10-01T00:00:00Z&to=2027-01-01T00:00:00Z", nil)["items"].([]any)
		var listed []string
		for _, it := range items {
			listed = append(listed, it.(map[string]any)["startTime"].(string))
		}
		if !slices.Equal(listed, want) {
			t.Errorf("range query:\n got %v\nwant %v", listed, want)
		}

		cancelled := eventByUID(t, cal, gone["id"].(string)+"@carecircle")
		if prop(cancelled, ics.ComponentPropertyStatus) != "CANCELLED" || prop(cancelled, ics.ComponentPropertySequence) != "1" {
			t.Errorf("cancelled event STATUS %q SEQUENCE %q", prop(cancelled, ics.ComponentPropertyStatus), prop(cancelled, ics.ComponentPropertySequence))
		}
		if d := cancelled.GetProperty(ics.ComponentPropertyDtStart); d.Value != "20261020T090000" {
			t.Errorf("cancelled DTSTART %q", d.Value)
		}
	})
}

var inviteToken = regexp.MustCompile(`/accept-invite/([A-Za-z0-9_\-%]+)`)

// reinvite invites a former member back and has them accept through the
// new email (apptest's Invite would find their first, used, invitation).
func reinvite(t *testing.T, e *apptest.Env, admin *apptest.Client, familyID string, who *apptest.Client) {
	t.Helper()
	seen := map[string]bool{}
	for _, m := range e.SMTP.Messages() {
		seen[m.Text] = true
	}
	admin.Must(201, "POST", "/api/v1/families/"+familyID+"/invites", map[string]any{"email": who.Email, "role": carecircle.RoleCaregiver})
	m := e.SMTP.WaitFor(t, func(r mailtest.Received) bool {
		return !seen[r.Text] && len(r.To) > 0 && strings.EqualFold(r.To[0], who.Email) && inviteToken.MatchString(r.Text)
	}, 10*time.Second)
	who.Must(200, "POST", "/api/v1/invites/"+inviteToken.FindStringSubmatch(m.Text)[1]+"/accept", nil)
}

func TestCalendarFeed_TokenRotationRevocationAndMembership(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		f := e.NewFamily("Tok", "Europe/Paris")
		other := e.NewFamily("Oth", "UTC")
		f.Admin.Must(201, "POST", aptsPath(f.RecipientID), map[string]any{"title": "GP", "startTime": "2026-10-05T08:00:00Z"})
		anon := e.Anon()
		status := func(path string) int { return anon.Do("GET", path, nil).Status }

		first := feedPath(t, f.Viewer, f.RecipientID)
		if s := status(first); s != 200 {
			t.Fatalf("fresh token: %d", s)
		}
		second := feedPath(t, f.Viewer, f.RecipientID)
		if s := status(first); s != 404 {
			t.Errorf("replaced token: %d, want 404", s)
		}
		if s := status(second); s != 200 {
			t.Errorf("new token: %d", s)
		}
		wrong := anon.Do("GET", "/api/v1/care-recipients/"+f.RecipientID+"/calendar.ics?token=wrong", nil)
		revoked := anon.Do("GET", first, nil)
		wantStatus(t, wrong, 404)
		if string(wrong.Body) != string(revoked.Body) {
			t.Errorf("wrong and revoked tokens answer differently:\n%s\n%s", wrong.Body, revoked.Body)
		}
		wantStatus(t, anon.Do("GET", "/api/v1/care-recipients/"+f.RecipientID+"/calendar.ics", nil), 404)

		// A token opens only its own recipient's feed.
		tok := second[strings.Index(second, "token=")+6:]
		wantStatus(t, anon.Do("GET", "/api/v1/care-recipients/"+other.RecipientID+"/calendar.ics?token="+tok, nil), 404)
		second2 := f.Admin.CreateRecipient(f.ID, "Aunt", "UTC")
		wantStatus(t, anon.Do("GET", "/api/v1/care-recipients/"+second2+"/calendar.ics?token="+tok, nil), 404)
		otherTok := feedPath(t, other.Admin, other.RecipientID)
		otherTok = otherTok[strings.Index(otherTok, "token=")+6:]
		wantStatus(t, anon.Do("GET", "/api/v1/care-recipients/"+f.RecipientID+"/calendar.ics?token="+otherTok, nil), 404)
		// Another family can't issue or revoke tokens for this recipient.
		wantStatus(t, other.Admin.Do("POST", "/api/v1/care-recipients/"+f.RecipientID+"/calendar-token", nil), 404)
		wantStatus(t, other.Admin.Do("DELETE", "/api/v1/care-recipients/"+f.RecipientID+"/calendar-token", nil), 404)
		wantStatus(t, anon.Do("POST", "/api/v1/care-recipients/"+f.RecipientID+"/calendar-token", nil), 401)

		// Revoking ends the feed; revoking again is harmless. Other members'
		// tokens are untouched.
		mine := feedPath(t, f.Caregiver, f.RecipientID)
		f.Viewer.Must(204, "DELETE", "/api/v1/care-recipients/"+f.RecipientID+"/calendar-token", nil)
		f.Viewer.Must(204, "DELETE", "/api/v1/care-recipients/"+f.RecipientID+"/calendar-token", nil)
		if s := status(second); s != 404 {
			t.Errorf("revoked token: %d, want 404", s)
		}
		if s := status(mine); s != 200 {
			t.Errorf("another member's token after a revoke: %d", s)
		}

		// A member who leaves loses the feed, and rejoining doesn't revive
		// the old URL.
		f.Admin.Must(204, "DELETE", "/api/v1/families/"+f.ID+"/members/"+f.Caregiver.UserID, nil)
		if s := status(mine); s != 404 {
			t.Errorf("removed member's token: %d, want 404", s)
		}
		reinvite(t, e, f.Admin, f.ID, f.Caregiver)
		if s := status(mine); s != 404 {
			t.Errorf("rejoined member's old token: %d, want 404", s)
		}
		if s := status(feedPath(t, f.Caregiver, f.RecipientID)); s != 200 {
			t.Errorf("rejoined member's new token: %d", s)
		}

		// A deleted recipient has no feed.
		admin := feedPath(t, f.Admin, f.RecipientID)
		f.Admin.Must(204, "DELETE", "/api/v1/care-recipients/"+f.RecipientID, nil)
		if s := status(admin); s != 404 {
			t.Errorf("deleted recipient's feed: %d, want 404", s)
		}
	})
}

func TestCalendarFeed_DocumentedAsTextCalendarWithoutSignIn(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	r := e.Anon().Do("GET", "/api/docs/openapi.json", nil)
	if r.Status != 200 {
		t.Fatalf("openapi: %d", r.Status)
	}
	var doc struct {
		Paths map[string]map[string]struct {
			Security  []any `json:"security"`
			Responses map[string]struct {
				Content map[string]any `json:"content"`
			} `json:"responses"`
		} `json:"paths"`
	}
	r.Decode(t, &doc)
	get, ok := doc.Paths["/care-recipients/{id}/calendar.ics"]["get"]
	if !ok {
		t.Fatalf("feed not documented")
	}
	if _, ok := get.Responses["200"].Content["text/calendar"]; !ok || len(get.Security) != 0 {
		t.Errorf("feed documented as %+v", get)
	}
	if _, ok := doc.Paths["/care-recipients/{id}/appointments"]["post"]; !ok {
		t.Errorf("appointments not documented")
	}
}
