package web

import (
	"net/http"
	"net/url"
)

// loginPage shows the sign-in form; a signed-in visitor goes on to where
// they were headed.
func (h *Handler) loginPage(w http.ResponseWriter, r *http.Request, v *viewer) {
	next := localPath(r.URL.Query().Get("next"))
	if v != nil {
		http.Redirect(w, r, orDefault(next, "/dashboard"), http.StatusSeeOther)
		return
	}
	f := newForm("email", "password")
	f.Set("next", next)
	f.Set("email", r.URL.Query().Get("email"))
	p := h.newPage(w, r, nil, "Sign in")
	p.Form = f
	h.render(w, r, http.StatusOK, "login", p)
}

// loginSubmit checks the password through the API's login (same rate limit
// and messages), sets the session cookies and continues to next.
func (h *Handler) loginSubmit(w http.ResponseWriter, r *http.Request, _ *viewer) {
	f, err := parseForm(w, r, "email", "password")
	if err != nil {
		h.fail(w, r, nil, err)
		return
	}
	res, err := h.api.Login(r.Context(), f.Get("email"), f.Get("password"))
	if err != nil {
		p := h.newPage(w, r, nil, "Sign in")
		p.Form = f
		h.render(w, r, f.Fail(err), "login", p)
		return
	}
	h.setSession(w, res)
	http.Redirect(w, r, orDefault(localPath(f.Get("next")), "/dashboard"), http.StatusSeeOther)
}

// logout ends this session and clears the cookies and this site's caches
// and service worker, so the next person at a shared computer finds
// nothing of it.
func (h *Handler) logout(w http.ResponseWriter, r *http.Request, _ *viewer) {
	refresh := ""
	if c, err := r.Cookie("refreshToken"); err == nil {
		refresh = c.Value
	}
	if err := h.api.Logout(r.Context(), refresh); err != nil {
		h.logger(r.Context()).WarnContext(r.Context(), "logout", "err", err)
	}
	h.clearSession(w)
	w.Header().Set("Clear-Site-Data", `"cache", "storage"`)
	redirect(w, r, "/login", "ok", "You are signed out.")
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// loginURL is the sign-in page that returns to next.
func loginURL(next string) string {
	if next = localPath(next); next == "" {
		return "/login"
	}
	return "/login?next=" + url.QueryEscape(next)
}
