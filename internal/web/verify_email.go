package web

import (
	"net/http"
)

// verifyEmailPage asks the user to confirm their address with one button.
// Confirming is a POST so that mail scanners following the link don't
// confirm it for them.
func (h *Handler) verifyEmailPage(w http.ResponseWriter, r *http.Request, v *viewer) {
	f := newForm("token")
	f.Set("token", r.URL.Query().Get("token"))
	p := h.newPage(w, r, v, "Confirm your email address")
	p.Form = f
	h.render(w, r, http.StatusOK, "verify_email", p)
}

// verifyEmailSubmit marks the address verified.
func (h *Handler) verifyEmailSubmit(w http.ResponseWriter, r *http.Request, v *viewer) {
	f, err := parseForm(w, r, "token")
	if err != nil {
		h.fail(w, r, v, err)
		return
	}
	if f.Get("token") == "" {
		f.Add("token", "This link is incomplete. Please open the link from the email again.")
	} else if err := h.db.VerifyEmail(r.Context(), f.Get("token")); err != nil {
		f.Fail(err)
	}
	if f.Failed() {
		p := h.newPage(w, r, v, "Confirm your email address")
		p.Form = f
		h.render(w, r, http.StatusBadRequest, "verify_email", p)
		return
	}
	target := "/login"
	if v != nil {
		target = "/dashboard"
	}
	redirect(w, r, target, "ok", "Thank you, your email address is confirmed.")
}
