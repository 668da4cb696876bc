package web

import (
	"net/http"

	"github.com/carecircle/carecircle/internal/notify"
)

// notificationCategory is one row of the preferences table.
type notificationCategory struct {
	Key, Label, Hint string
	Channels         *notify.Channels
	NoEmail          bool
}

// notificationRows lists the categories of p in the order the settings
// page shows them, pointing into p.
func notificationRows(p *notify.Preferences) []notificationCategory {
	c := &p.Categories
	return []notificationCategory{
		{"emergencies", "Emergencies", "Always delivered, even in quiet hours.", &c.Emergencies, false},
		{"doseReminders", "Dose reminders", "", &c.DoseReminders, false},
		{"missedDoses", "Missed doses", "", &c.MissedDoses, false},
		{"refills", "Refills", "", &c.Refills, false},
		{"appointments", "Appointments", "", &c.Appointments, false},
		{"shifts", "Shifts and handoffs", "", &c.Shifts, false},
		{"documents", "Expiring documents", "Admins only.", &c.Documents, false},
		{"familyActivity", "Family activity", "", &c.FamilyActivity, true},
	}
}

var notificationFields = []string{"categories", "categories.emergencies", "categories.familyActivity", "quietHours.start", "quietHours.end", "quietHours"}

// notificationPreferences reads the viewer's preferences.
func (h *Handler) notificationPreferences(r *http.Request) (notify.Preferences, error) {
	raw, tz, err := h.db.NotificationPreferences(r.Context())
	if err != nil {
		return notify.Preferences{}, err
	}
	p := notify.ParsePreferences(raw)
	p.Timezone = tz
	return p, nil
}

// settingsNotifications saves which notices come by which channel and the
// quiet hours, with the notification service's own validation.
func (h *Handler) settingsNotifications(w http.ResponseWriter, r *http.Request, v *viewer) {
	f, err := parseForm(w, r, notificationFields...)
	if err != nil {
		h.fail(w, r, v, err)
		return
	}
	p, err := h.notificationPreferences(r)
	if err != nil {
		h.fail(w, r, v, err)
		return
	}
	for _, row := range notificationRows(&p) {
		row.Channels.InApp = f.Has(row.Key, "inApp")
		row.Channels.Push = f.Has(row.Key, "push")
		row.Channels.Email = f.Has(row.Key, "email") && !row.NoEmail
	}
	p.QuietHours.Enabled = f.Get("quietHours.enabled") == "1"
	p.QuietHours.Start, p.QuietHours.End = f.Get("quietHours.start"), f.Get("quietHours.end")
	if err := p.Validate(); err == nil {
		if err = h.db.SaveNotificationPreferences(r.Context(), p.Encode()); err == nil {
			redirect(w, r, "/settings#notifications", "ok", "Your notification settings are saved.")
			return
		}
		f.Fail(err)
	} else {
		f.Fail(err)
	}
	d := h.settingsDefaults(v)
	d.Prefs, d.PrefsForm = p, f
	h.renderSettings(w, r, v, d, http.StatusBadRequest)
}
