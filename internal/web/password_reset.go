package web

import (
	"net/http"
)

// forgotPasswordPage asks for the address to send a reset link to.
func (h *Handler) forgotPasswordPage(w http.ResponseWriter, r *http.Request, v *viewer) {
	p := h.newPage(w, r, v, "Forgot your password?")
	p.Form = newForm("email")
	h.render(w, r, http.StatusOK, "forgot_password", p)
}

// forgotPasswordSubmit sends the link (when the account exists: the answer
// is the same either way).
func (h *Handler) forgotPasswordSubmit(w http.ResponseWriter, r *http.Request, v *viewer) {
	f, err := parseForm(w, r, "email")
	if err != nil {
		h.fail(w, r, v, err)
		return
	}
	if err := h.api.ForgotPassword(r.Context(), f.Get("email")); err != nil {
		p := h.newPage(w, r, v, "Forgot your password?")
		p.Form = f
		h.render(w, r, f.Fail(err), "forgot_password", p)
		return
	}
	redirect(w, r, "/login", "ok", "If an account exists for that address, a reset link is on its way. It works for one hour.")
}

// resetPasswordPage shows the new-password form for the emailed token.
func (h *Handler) resetPasswordPage(w http.ResponseWriter, r *http.Request, v *viewer) {
	f := newForm("password", "token")
	f.Set("token", r.URL.Query().Get("token"))
	p := h.newPage(w, r, v, "Choose a new password")
	p.Form = f
	h.render(w, r, http.StatusOK, "reset_password", p)
}

// resetPasswordSubmit sets the password; every session is signed out, so
// the user signs in again with it.
func (h *Handler) resetPasswordSubmit(w http.ResponseWriter, r *http.Request, v *viewer) {
	f, err := parseForm(w, r, "password", "token")
	if err != nil {
		h.fail(w, r, v, err)
		return
	}
	if err := h.api.ResetPassword(r.Context(), f.Get("token"), f.Get("password")); err != nil {
		p := h.newPage(w, r, v, "Choose a new password")
		p.Form = f
		h.render(w, r, f.Fail(err), "reset_password", p)
		return
	}
	h.clearSession(w)
	redirect(w, r, "/login", "ok", "Your password is changed. Please sign in with it.")
}
