package web

import "net/http"

// dashboardPage is the signed-in home.
func (h *Handler) dashboardPage(w http.ResponseWriter, r *http.Request, v *viewer) {
	p := h.newPage(w, r, v, "Dashboard")
	p.Tab = "dashboard"
	h.render(w, r, http.StatusOK, "dashboard", p)
}
