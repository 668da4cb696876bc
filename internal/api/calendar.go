package api

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/carecircle/carecircle"
	"github.com/carecircle/carecircle/internal/ical"
	"github.com/carecircle/carecircle/internal/storage"
)

// CalendarToken is a new feed token and the URL to subscribe to. The token
// is shown only here; it is stored as a hash.
type CalendarToken struct {
	Token string `json:"token"`
	// URL is the feed for any calendar app's "subscribe by URL".
	URL string `json:"url"`
	// WebcalURL is the same feed as webcal://, which opens the subscribe
	// dialog of Apple Calendar and Outlook directly.
	WebcalURL string `json:"webcalUrl"`
}

type calendarFeedInput struct {
	ID    string `path:"id" maxLength:"64"`
	Token string `query:"token" doc:"the secret from POST /care-recipients/{id}/calendar-token"`
}

type calendarFeedOutput struct {
	ContentType        string `header:"Content-Type"`
	ContentDisposition string `header:"Content-Disposition"`
	CacheControl       string `header:"Cache-Control"`
	Body               []byte
}

func (s *Server) registerCalendar() {
	const tag = "Appointments"
	huma.Register(s.api, op("createCalendarToken", http.MethodPost, "/care-recipients/{id}/calendar-token",
		"Get a secret calendar feed URL (replaces your previous one)", tag, 201, true), s.createCalendarToken)
	huma.Register(s.api, op("revokeCalendarToken", http.MethodDelete, "/care-recipients/{id}/calendar-token",
		"Revoke your calendar feed URL", tag, 204, true), s.revokeCalendarToken)

	// The feed is read by calendar apps that can't sign in: the token in the
	// query authorizes it, and every failure is the same 404.
	feed := op("calendarFeed", http.MethodGet, "/care-recipients/{id}/calendar.ics",
		"iCalendar feed of a care recipient's appointments (token only, no sign-in)", tag, 200, false)
	feed.Errors = []int{404}
	feed.Responses = map[string]*huma.Response{"200": {
		Description: "An RFC 5545 calendar with a VTIMEZONE for the care recipient's zone",
		Content:     map[string]*huma.MediaType{"text/calendar": {Schema: &huma.Schema{Type: "string"}}},
	}}
	huma.Register(s.api, feed, s.calendarFeed)
}

func (s *Server) createCalendarToken(ctx context.Context, in *recipientIDInput) (*Body[CalendarToken], error) {
	tok, err := s.db.CreateCalendarToken(ctx, in.ID)
	if err != nil {
		return nil, err
	}
	u := strings.TrimRight(s.cfg.BaseURL, "/") + "/api/v1/care-recipients/" + url.PathEscape(in.ID) +
		"/calendar.ics?token=" + url.QueryEscape(tok)
	webcal := u
	if i := strings.Index(u, "://"); i >= 0 {
		webcal = "webcal" + u[i:]
	}
	return &Body[CalendarToken]{Body: CalendarToken{Token: tok, URL: u, WebcalURL: webcal}}, nil
}

func (s *Server) revokeCalendarToken(ctx context.Context, in *recipientIDInput) (*NoContent, error) {
	return nil, s.db.RevokeCalendarToken(ctx, in.ID)
}

func (s *Server) calendarFeed(ctx context.Context, in *calendarFeedInput) (*calendarFeedOutput, error) {
	f, err := s.feedFor(ctx, in)
	if err != nil {
		return nil, err
	}
	loc := f.Location()
	events := make([]ical.Event, 0, len(f.Appointments))
	for i := range f.Appointments {
		events = append(events, feedEvent(&f.Appointments[i], loc))
	}
	return &calendarFeedOutput{
		ContentType:        "text/calendar; charset=utf-8",
		ContentDisposition: `inline; filename="carecircle-` + fileSlug(f.RecipientName) + `.ics"`,
		CacheControl:       "private, max-age=300",
		Body:               ical.Feed("CareCircle: "+f.RecipientName, loc, events, s.clock.Now()),
	}, nil
}

// feedFor opens the feed with the token from calendar-token; failing that,
// for a client that signs in as a member instead: an access token as the
// ?token= (calendar apps can't send headers) or the usual bearer header or
// cookie. Every failure is the same 404.
func (s *Server) feedFor(ctx context.Context, in *calendarFeedInput) (storage.CalendarFeed, error) {
	f, err := s.db.CalendarFeedByToken(ctx, in.ID, in.Token)
	if carecircle.ErrorCode(err) != carecircle.ENOTFOUND {
		return f, err
	}
	if in.Token != "" {
		if mctx, serr := s.SignIn(ctx, in.Token); serr == nil {
			ctx = mctx
		}
	}
	if _, ok := carecircle.ActorFrom(ctx); !ok {
		return f, err
	}
	return s.db.CalendarFeedForMember(ctx, in.ID)
}

// feedEvent is an appointment as a calendar event: one VEVENT per series
// (the RRULE repeats it), UID stable across edits, SEQUENCE growing with
// them, and the driver named in the description.
func feedEvent(a *carecircle.Appointment, loc *time.Location) ical.Event {
	e := ical.Event{
		UID:       a.ID + "@carecircle",
		Summary:   a.Title,
		Location:  a.Location,
		Start:     a.StartTime,
		Cancelled: a.Status == carecircle.AppointmentCancelled,
		Sequence:  a.Sequence,
		Updated:   a.UpdatedAt,
	}
	if a.EndTime != nil {
		e.End = *a.EndTime
	}
	if a.Recurrence != nil {
		e.RRule = a.Rule().RuleIn(loc)
	}
	var desc []string
	if a.AssignedTo != nil {
		desc = append(desc, "Driver/companion: "+a.AssignedTo.FullName)
	}
	if a.DoctorName != "" {
		desc = append(desc, "Doctor: "+a.DoctorName)
	}
	if a.Notes != "" {
		desc = append(desc, a.Notes)
	}
	e.Description = strings.Join(desc, "\n")
	return e
}

// fileSlug turns a name into a safe file name part: ASCII letters and
// digits, other runs as one hyphen.
func fileSlug(name string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(name) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
			dash = false
		} else if !dash && b.Len() > 0 {
			b.WriteByte('-')
			dash = true
		}
	}
	out := strings.TrimRight(b.String(), "-")
	if out == "" {
		return "calendar"
	}
	return out
}
