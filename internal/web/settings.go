package web

import (
	"net/http"

	"github.com/carecircle/carecircle"
	"github.com/carecircle/carecircle/internal/notify"
	"github.com/carecircle/carecircle/internal/storage"
)

type settingsData struct {
	Profile   *form
	Password  *form
	Sessions  []carecircle.Session
	Zones     []string
	Prefs     notify.Preferences
	PrefsForm *form
}

// Rows are the notification categories with their channels.
func (d settingsData) Rows() []notificationCategory { return notificationRows(&d.Prefs) }

// settingsPage shows the profile (name, phone, time zone), password change
// and the active sessions.
func (h *Handler) settingsPage(w http.ResponseWriter, r *http.Request, v *viewer) {
	h.renderSettings(w, r, v, h.settingsDefaults(v), http.StatusOK)
}

// settingsDefaults are the settings forms filled from the stored values.
func (h *Handler) settingsDefaults(v *viewer) settingsData {
	pf := newForm("fullName", "phone", "timezone")
	pf.Set("fullName", v.FullName)
	pf.Set("phone", v.Phone)
	pf.Set("timezone", v.Timezone)
	return settingsData{Profile: pf, Password: newForm("currentPassword", "newPassword"), PrefsForm: newForm(notificationFields...)}
}

func (h *Handler) renderSettings(w http.ResponseWriter, r *http.Request, v *viewer, d settingsData, status int) {
	var err error
	if d.Sessions, err = h.db.Sessions(r.Context()); err != nil {
		h.fail(w, r, v, err)
		return
	}
	if !d.PrefsForm.Failed() {
		if d.Prefs, err = h.notificationPreferences(r); err != nil {
			h.fail(w, r, v, err)
			return
		}
	}
	d.Zones = commonZones
	p := h.newPage(w, r, v, "Settings")
	p.Tab = "settings"
	p.Data = d
	h.render(w, r, status, "settings", p)
}

// settingsProfile saves the name, phone and time zone through the API's
// validation.
func (h *Handler) settingsProfile(w http.ResponseWriter, r *http.Request, v *viewer) {
	f, err := parseForm(w, r, "fullName", "phone", "timezone")
	if err != nil {
		h.fail(w, r, v, err)
		return
	}
	name, phone, tz := f.Get("fullName"), f.Get("phone"), f.Get("timezone")
	if err := h.api.UpdateProfile(r.Context(), storage.UserPatch{FullName: &name, Phone: &phone, Timezone: &tz}); err != nil {
		status := f.Fail(err)
		d := h.settingsDefaults(v)
		d.Profile = f
		h.renderSettings(w, r, v, d, status)
		return
	}
	redirect(w, r, "/settings", "ok", "Your profile is saved.")
}

// settingsPassword changes the password; other sessions are signed out.
func (h *Handler) settingsPassword(w http.ResponseWriter, r *http.Request, v *viewer) {
	f, err := parseForm(w, r, "currentPassword", "newPassword")
	if err != nil {
		h.fail(w, r, v, err)
		return
	}
	if err := h.api.ChangePassword(r.Context(), f.Get("currentPassword"), f.Get("newPassword")); err != nil {
		status := f.Fail(err)
		d := h.settingsDefaults(v)
		d.Password = f
		h.renderSettings(w, r, v, d, status)
		return
	}
	redirect(w, r, "/settings", "ok", "Your password is changed. Your other devices are signed out.")
}

// settingsResendVerification emails a new verification link.
func (h *Handler) settingsResendVerification(w http.ResponseWriter, r *http.Request, v *viewer) {
	msg, err := h.api.ResendVerification(r.Context())
	if err != nil {
		redirect(w, r, "/settings", "error", errorText(err))
		return
	}
	redirect(w, r, "/settings", "ok", msg)
}

// sessionRevoke signs one of the viewer's devices out.
func (h *Handler) sessionRevoke(w http.ResponseWriter, r *http.Request, v *viewer) {
	sid := r.PathValue("sid")
	if err := h.db.RevokeSession(r.Context(), sid); err != nil {
		redirect(w, r, "/settings#sessions", "error", errorText(err))
		return
	}
	if a, _ := carecircle.ActorFrom(r.Context()); a.SessionID == sid {
		h.clearSession(w)
		redirect(w, r, "/login", "ok", "You are signed out.")
		return
	}
	redirect(w, r, "/settings#sessions", "ok", "That device is signed out.")
}
