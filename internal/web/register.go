package web

import (
	"net/http"

	"github.com/carecircle/carecircle/internal/api"
)

var registerFields = []string{"fullName", "email", "password", "phone", "timezone"}

// registerPage shows the sign-up form. The browser's time zone is filled in
// by the page script when the field is left alone.
func (h *Handler) registerPage(w http.ResponseWriter, r *http.Request, v *viewer) {
	next := localPath(r.URL.Query().Get("next"))
	if v != nil {
		http.Redirect(w, r, orDefault(next, "/dashboard"), http.StatusSeeOther)
		return
	}
	f := newForm(registerFields...)
	f.Set("next", next)
	f.Set("email", r.URL.Query().Get("email"))
	p := h.newPage(w, r, nil, "Create your account")
	p.Form = f
	p.Data = timezoneOptions()
	h.render(w, r, http.StatusOK, "register", p)
}

// registerSubmit creates the account through the API's registration
// (password policy, rate limit, verification email) and signs it in.
func (h *Handler) registerSubmit(w http.ResponseWriter, r *http.Request, _ *viewer) {
	f, err := parseForm(w, r, registerFields...)
	if err != nil {
		h.fail(w, r, nil, err)
		return
	}
	res, err := h.api.Register(r.Context(), api.Registration{Email: f.Get("email"), Password: f.Get("password"),
		FullName: f.Get("fullName"), Phone: f.Get("phone"), Timezone: f.Get("timezone")})
	if err != nil {
		p := h.newPage(w, r, nil, "Create your account")
		p.Form = f
		p.Data = timezoneOptions()
		h.render(w, r, f.Fail(err), "register", p)
		return
	}
	h.setSession(w, res)
	next := localPath(f.Get("next"))
	if next == "" {
		redirect(w, r, "/dashboard", "ok", "Welcome to CareCircle! We sent a link to confirm your email address.")
		return
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}
