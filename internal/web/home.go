package web

import (
	"net/http"
	"time"
)

// homePage says what CareCircle is; signed-in users go to their dashboard.
func (h *Handler) homePage(w http.ResponseWriter, r *http.Request, v *viewer) {
	if v != nil {
		http.Redirect(w, r, "/dashboard", http.StatusSeeOther)
		return
	}
	h.render(w, r, http.StatusOK, "home", h.newPage(w, r, nil, ""))
}

// offlinePage is what the service worker shows for a page it has no copy
// of while the device is offline.
func (h *Handler) offlinePage(w http.ResponseWriter, r *http.Request, _ *viewer) {
	// Rendered without the viewer: the worker caches it once for everyone.
	h.render(w, r, http.StatusOK, "offline", h.newPage(w, r, nil, "Offline"))
}

// commonZones are offered as suggestions in time zone fields; any IANA
// name is accepted.
var commonZones = []string{
	"UTC", "Europe/London", "Europe/Dublin", "Europe/Lisbon", "Europe/Paris", "Europe/Berlin", "Europe/Madrid",
	"Europe/Rome", "Europe/Amsterdam", "Europe/Brussels", "Europe/Zurich", "Europe/Stockholm", "Europe/Oslo",
	"Europe/Warsaw", "Europe/Athens", "Europe/Helsinki", "Europe/Istanbul", "Europe/Kyiv", "Europe/Moscow",
	"America/New_York", "America/Chicago", "America/Denver", "America/Phoenix", "America/Los_Angeles",
	"America/Anchorage", "Pacific/Honolulu", "America/Toronto", "America/Vancouver", "America/Halifax",
	"America/Mexico_City", "America/Bogota", "America/Lima", "America/Sao_Paulo", "America/Argentina/Buenos_Aires",
	"America/Santiago", "Africa/Lagos", "Africa/Cairo", "Africa/Johannesburg", "Africa/Nairobi", "Asia/Dubai",
	"Asia/Karachi", "Asia/Kolkata", "Asia/Dhaka", "Asia/Bangkok", "Asia/Jakarta", "Asia/Singapore", "Asia/Manila",
	"Asia/Hong_Kong", "Asia/Shanghai", "Asia/Taipei", "Asia/Seoul", "Asia/Tokyo", "Australia/Perth",
	"Australia/Adelaide", "Australia/Brisbane", "Australia/Sydney", "Pacific/Auckland",
}

func timezoneOptions() []string { return commonZones }

// validZone reports whether name is a zone Go knows.
func validZone(name string) bool {
	_, err := time.LoadLocation(name)
	return err == nil && name != "" && name != "Local"
}
