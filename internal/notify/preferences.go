package notify

import (
	"encoding/json"
	"time"

	"github.com/carecircle/carecircle"
)

// Category is what a notice is about; members choose channels per category.
type Category string

// Categories, as notices carry them.
const (
	DoseReminder   Category = "DOSE_REMINDER"
	MissedDose     Category = "MISSED_DOSE"
	Refill         Category = "REFILL"
	Appointment    Category = "APPOINTMENT"
	Shift          Category = "SHIFT"
	Emergency      Category = "EMERGENCY"
	FamilyActivity Category = "FAMILY_ACTIVITY"
	// DocumentExpiry: a key document (insurance card, ID) runs out soon.
	DocumentExpiry Category = "DOCUMENT_EXPIRY"
)

// Channels says where a category's notices go.
type Channels struct {
	InApp bool `json:"inApp"`
	Push  bool `json:"push"`
	Email bool `json:"email"`
}

// Categories holds one Channels per category.
type Categories struct {
	DoseReminders  Channels `json:"doseReminders"`
	MissedDoses    Channels `json:"missedDoses"`
	Refills        Channels `json:"refills"`
	Appointments   Channels `json:"appointments"`
	Shifts         Channels `json:"shifts"`
	Emergencies    Channels `json:"emergencies" doc:"at least one channel stays on; quiet hours never hold emergencies back"`
	FamilyActivity Channels `json:"familyActivity" doc:"in-app and push only"`
	Documents      Channels `json:"documents" doc:"a document in the vault expires soon (ADMINs)"`
}

// QuietHours is a nightly window, in the member's own time zone, during
// which push and email wait silently in the inbox (emergencies excepted).
type QuietHours struct {
	Enabled bool   `json:"enabled"`
	Start   string `json:"start" example:"22:00" doc:"HH:MM in the member's time zone"`
	End     string `json:"end" example:"07:00" doc:"HH:MM; before start means the next morning"`
}

// Preferences are a member's notification choices.
type Preferences struct {
	Categories Categories `json:"categories"`
	QuietHours QuietHours `json:"quietHours"`
	// Timezone is the member's zone (set with PATCH /auth/me), in which
	// quiet hours apply; it is read-only here.
	Timezone string `json:"timezone" readOnly:"true"`
}

// DefaultPreferences are a new member's: every category in the app and by
// push; emergencies and missed doses also by email; family activity in the
// app only; quiet hours off (22:00–07:00 when turned on).
func DefaultPreferences() Preferences {
	both := Channels{InApp: true, Push: true}
	all := Channels{InApp: true, Push: true, Email: true}
	return Preferences{
		Categories: Categories{
			DoseReminders: both, MissedDoses: all, Refills: both, Appointments: both, Shifts: both,
			Emergencies: all, FamilyActivity: Channels{InApp: true}, Documents: both,
		},
		QuietHours: QuietHours{Start: "22:00", End: "07:00"},
	}
}

// ParsePreferences reads stored preferences over the defaults, so a
// category added after they were stored starts with its default; "" (or
// damaged data, which Validate never lets in) gives the defaults.
func ParsePreferences(stored string) Preferences {
	p := DefaultPreferences()
	if stored == "" {
		return p
	}
	s := DefaultPreferences()
	if err := json.Unmarshal([]byte(stored), &s); err != nil || s.Validate() != nil {
		return p
	}
	return s
}

// Encode returns the stored form of p.
func (p Preferences) Encode() string {
	p.Timezone = ""
	b, _ := json.Marshal(p)
	return string(b)
}

// Channel returns a pointer to the channels of category c.
func (p *Preferences) Channel(c Category) *Channels {
	switch c {
	case DoseReminder:
		return &p.Categories.DoseReminders
	case MissedDose:
		return &p.Categories.MissedDoses
	case Refill:
		return &p.Categories.Refills
	case Appointment:
		return &p.Categories.Appointments
	case Shift:
		return &p.Categories.Shifts
	case Emergency:
		return &p.Categories.Emergencies
	case DocumentExpiry:
		return &p.Categories.Documents
	default:
		return &p.Categories.FamilyActivity
	}
}

// Validate reports each problem by field name.
func (p Preferences) Validate() error {
	var probs carecircle.Problems
	e := p.Categories.Emergencies
	probs.Add(!e.InApp && !e.Push && !e.Email, "categories.emergencies must keep at least one channel on")
	probs.Add(p.Categories.FamilyActivity.Email, "categories.familyActivity.email is not offered: family activity comes in the app and by push")
	_, _, errStart := carecircle.ParseClock(p.QuietHours.Start)
	_, _, errEnd := carecircle.ParseClock(p.QuietHours.End)
	probs.Add(errStart != nil, "quietHours.start must be HH:MM between 00:00 and 23:59")
	probs.Add(errEnd != nil, "quietHours.end must be HH:MM between 00:00 and 23:59")
	probs.Add(errStart == nil && errEnd == nil && p.QuietHours.Start == p.QuietHours.End,
		"quietHours.end must differ from quietHours.start")
	return probs.Err()
}

// Quiet reports whether t falls in the quiet hours, read on the wall clock
// of loc (the member's zone). The window is [start, end); an end before the
// start runs past midnight.
func (q QuietHours) Quiet(t time.Time, loc *time.Location) bool {
	if !q.Enabled {
		return false
	}
	sh, sm, err1 := carecircle.ParseClock(q.Start)
	eh, em, err2 := carecircle.ParseClock(q.End)
	if err1 != nil || err2 != nil {
		return false
	}
	lt := t.In(loc)
	now := lt.Hour()*60 + lt.Minute()
	start, end := sh*60+sm, eh*60+em
	if start < end {
		return now >= start && now < end
	}
	return now >= start || now < end
}

// Route decides where a notice of category c to this member goes at t:
// the channels they chose, with push and email held back during their
// quiet hours unless it is an emergency.
func (p Preferences) Route(c Category, t time.Time, loc *time.Location) (ch Channels, held []string) {
	ch = *p.Channel(c)
	if c == FamilyActivity {
		ch.Email = false
	}
	if c == Emergency || !p.QuietHours.Quiet(t, loc) {
		return ch, nil
	}
	if ch.Push {
		held = append(held, "push")
	}
	if ch.Email {
		held = append(held, "email")
	}
	ch.Push, ch.Email = false, false
	return ch, held
}
