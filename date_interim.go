package carecircle

// Interim civil-date type; replaced by schedule.go's Date when it lands.

import (
	"encoding/json"
	"fmt"
	"time"
)

// Date is a calendar day without a time zone.
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// ParseDate parses YYYY-MM-DD.
func ParseDate(s string) (Date, error) {
	t, err := time.Parse("2006-01-02", s)
	if err != nil {
		return Date{}, fmt.Errorf("date must be YYYY-MM-DD")
	}
	return Date{t.Year(), t.Month(), t.Day()}, nil
}

// DateOf returns the local date of t in loc.
func DateOf(t time.Time, loc *time.Location) Date {
	t = t.In(loc)
	return Date{t.Year(), t.Month(), t.Day()}
}

func (d Date) t() time.Time { return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, time.UTC) }

// String formats d as YYYY-MM-DD.
func (d Date) String() string { return d.t().Format("2006-01-02") }

// AddDays returns d moved by n days.
func (d Date) AddDays(n int) Date { return DateOf(d.t().AddDate(0, 0, n), time.UTC) }

// After reports whether d is after o.
func (d Date) After(o Date) bool { return d.t().After(o.t()) }

// Before reports whether d is before o.
func (d Date) Before(o Date) bool { return d.t().Before(o.t()) }

// MarshalJSON encodes d as "YYYY-MM-DD".
func (d Date) MarshalJSON() ([]byte, error) { return json.Marshal(d.String()) }

// UnmarshalJSON decodes "YYYY-MM-DD".
func (d *Date) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	v, err := ParseDate(s)
	if err != nil {
		return err
	}
	*d = v
	return nil
}
