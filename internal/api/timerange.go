package api

import (
	"context"
	"strings"
	"time"

	"github.com/carecircle/carecircle"
)

// rangeBounds reads the ?from= and ?to= of a care recipient's list. Each is
// an RFC 3339 time or a plain date (YYYY-MM-DD) meaning that day in the care
// recipient's zone: its start for from, its end for to, so ?from=D&to=D is
// the whole of day D. An absent bound stays zero. A malformed one is a
// problem naming its parameter.
func (s *Server) rangeBounds(ctx context.Context, recipientID, from, to string, p *carecircle.Problems) (time.Time, time.Time, error) {
	// An unescaped "+" in a query offset arrives as a space; take it back.
	from, to = strings.ReplaceAll(from, " ", "+"), strings.ReplaceAll(to, " ", "+")
	var loc *time.Location
	zone := func() (*time.Location, error) {
		if loc == nil {
			sc, err := s.db.RecipientScope(ctx, recipientID)
			if err != nil {
				return nil, err
			}
			loc = sc.Location()
		}
		return loc, nil
	}
	bound := func(field, v string, end bool) (time.Time, error) {
		if v == "" {
			return time.Time{}, nil
		}
		if t, err := time.Parse(time.RFC3339, v); err == nil {
			return t.UTC(), nil
		}
		d, err := carecircle.ParseDate(v)
		if err != nil {
			p.Add(true, "%s must be an RFC 3339 time such as 2026-03-01T14:30:00Z or a date such as 2026-03-01", field)
			return time.Time{}, nil
		}
		l, err := zone()
		if err != nil {
			return time.Time{}, err
		}
		if end {
			d = d.AddDays(1)
		}
		return carecircle.LocalInstant(d, 0, 0, l).UTC(), nil
	}
	f, err := bound("from", from, false)
	if err != nil {
		return f, time.Time{}, err
	}
	t, err := bound("to", to, true)
	return f, t, err
}
