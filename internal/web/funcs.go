package web

import (
	"html/template"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/carecircle/carecircle"
)

// funcs are the template helpers every page may use.
func funcs(a *assets) template.FuncMap {
	return template.FuncMap{
		"asset":   a.URL,
		"field":   field,
		"options": withOptions,
		"join":    strings.Join,
		"lower":   strings.ToLower,
		"title": func(s string) string {
			s = strings.ToLower(strings.ReplaceAll(s, "_", " "))
			if s == "" {
				return s
			}
			return strings.ToUpper(s[:1]) + s[1:]
		},
		"lines": func(xs []string) string { return strings.Join(xs, "\n") },
		"add":   func(a, b int) int { return a + b },
		"initials": func(name string) string {
			var b strings.Builder
			for _, f := range strings.Fields(name) {
				for _, r := range f {
					b.WriteRune(r)
					break
				}
				if b.Len() >= 2 {
					break
				}
			}
			return strings.ToUpper(b.String())
		},
		"deref": func(p *int) int {
			if p == nil {
				return 0
			}
			return *p
		},
		"tel": func(phone string) template.URL {
			var b strings.Builder
			for _, r := range phone {
				if r >= '0' && r <= '9' || r == '+' && b.Len() == 0 {
					b.WriteRune(r)
				}
			}
			return template.URL("tel:" + b.String())
		},
		"contains": func(xs []string, x string) bool {
			for _, s := range xs {
				if s == x {
					return true
				}
			}
			return false
		},
		"alertTypes":    func() []carecircle.AlertType { return alertTypes },
		"timelineTypes": func() []carecircle.TimelineType { return carecircle.TimelineTypes },
		"roles": func() []carecircle.Role {
			return []carecircle.Role{carecircle.RoleAdmin, carecircle.RoleCaregiver, carecircle.RoleViewer}
		},
		"dateOf": func(d *carecircle.Date) string {
			if d == nil {
				return ""
			}
			return d.String()
		},
		"since":      func(t, now time.Time) string { return since(now.Sub(t)) },
		"severities": func() []string { return []string{"LOW", "MEDIUM", "HIGH", "CRITICAL"} },
		"vitalsText": vitalsText,
		"bytes":      byteSize,
		"mod":        func(a, b int) int { return a % b },
		"apptOf": func(p *page, a carecircle.AppointmentOccurrence) apptView {
			return apptView{P: p, A: a}
		},
		"shiftOf": func(p *page, s carecircle.Shift) shiftView { return shiftView{P: p, S: s} },
		"dosesOf": func(p *page, items []carecircle.ScheduledDose, recipientID string, loc *time.Location, canWrite bool) dosesView {
			return dosesView{P: p, Items: items, RecipientID: recipientID, Loc: loc, CanWrite: canWrite}
		},
		"frequency": frequencyLabel,
		"weekdays": func(ds []time.Weekday) string {
			names := make([]string, len(ds))
			for i, d := range ds {
				names[i] = d.String()[:3]
			}
			return strings.Join(names, ", ")
		},
		"entryOf": func(p *page, e carecircle.TimelineEntry, loc *time.Location) entryView {
			return entryView{P: p, E: e, Loc: loc}
		},
	}
}

// dosesView is a list of doses with what the partial needs to show them.
type dosesView struct {
	P           *page
	Items       []carecircle.ScheduledDose
	RecipientID string
	Loc         *time.Location
	CanWrite    bool
}

// frequencyLabel says how often a medication is taken.
func frequencyLabel(f string) string {
	switch f {
	case carecircle.FrequencyOnceDaily:
		return "Once a day"
	case carecircle.FrequencyTwiceDaily:
		return "Twice a day"
	case carecircle.FrequencyThreeTimesDaily:
		return "Three times a day"
	case carecircle.FrequencyFourTimesDaily:
		return "Four times a day"
	case carecircle.FrequencyWeekly:
		return "Weekly"
	case carecircle.FrequencyAsNeeded:
		return "As needed"
	}
	return f
}

// entryView is a timeline entry with the page, for the shared partial.
type entryView struct {
	P   *page
	E   carecircle.TimelineEntry
	Loc *time.Location
}

// apptView is an appointment occurrence with the page, for the partial.
type apptView struct {
	P *page
	A carecircle.AppointmentOccurrence
}

// shiftView is a shift with the page, for the partial.
type shiftView struct {
	P *page
	S carecircle.Shift
}

var alertTypes = []carecircle.AlertType{carecircle.AlertFall, carecircle.AlertMedical, carecircle.AlertMissing,
	carecircle.AlertHospitalization, carecircle.AlertOther}

// since says how long ago something happened, roughly.
func since(d time.Duration) string {
	switch {
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		return plural(int(d/time.Minute), "minute") + " ago"
	case d < 48*time.Hour:
		return plural(int(d/time.Hour), "hour") + " ago"
	}
	return plural(int(d/(24*time.Hour)), "day") + " ago"
}

func plural(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return itoa(n) + " " + unit + "s"
}

func itoa(n int) string {
	if n < 0 {
		return "-" + itoa(-n)
	}
	if n < 10 {
		return string(rune('0' + n))
	}
	return itoa(n/10) + string(rune('0'+n%10))
}

// sortAlerts orders alerts newest first.
func sortAlerts(as []carecircle.EmergencyAlert) {
	sort.SliceStable(as, func(i, j int) bool { return as[i].CreatedAt.After(as[j].CreatedAt) })
}

// vitalsText is a vitals reading in one line: "BP 128/80 mmHg · Pulse 72 bpm".
func vitalsText(v *carecircle.Vitals) string {
	if v == nil {
		return ""
	}
	var parts []string
	if v.Systolic != nil {
		bp := "BP " + formatNum(*v.Systolic)
		if v.Diastolic != nil {
			bp += "/" + formatNum(*v.Diastolic)
		}
		parts = append(parts, bp+" mmHg")
	} else if v.Diastolic != nil {
		parts = append(parts, "Diastolic "+formatNum(*v.Diastolic)+" mmHg")
	}
	for _, m := range []struct {
		x           *float64
		label, unit string
	}{{v.HeartRate, "Pulse", " bpm"}, {v.TemperatureC, "Temp", " °C"}, {v.OxygenSaturation, "SpO₂", "%"},
		{v.BloodSugar, "Sugar", " mg/dL"}, {v.WeightKg, "Weight", " kg"}} {
		if m.x != nil {
			parts = append(parts, m.label+" "+formatNum(*m.x)+m.unit)
		}
	}
	return strings.Join(parts, " · ")
}

// byteSize is a file size for people: "340 KB", "2.1 MB".
func byteSize(n int64) string {
	switch {
	case n < 1000:
		return strconv.FormatInt(n, 10) + " bytes"
	case n < 1000*1000:
		return strconv.FormatInt((n+500)/1000, 10) + " KB"
	}
	return strconv.FormatFloat(float64(n)/1e6, 'f', 1, 64) + " MB"
}
