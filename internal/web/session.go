package web

import (
	"context"
	"crypto/sha256"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/carecircle/carecircle"
	"github.com/carecircle/carecircle/internal/api"
)

// viewer is the signed-in user looking at a page.
type viewer struct {
	carecircle.Me
	Loc *time.Location
	// Recipients are the care recipients of all the viewer's families, for
	// the switcher, the dashboard and the service worker's offline copies.
	Recipients []carecircle.CareRecipient
	// Unread counts the viewer's unread notifications, for the bell.
	Unread int
}

// Role returns the viewer's role in a family ("" when not a member).
func (v *viewer) Role(familyID string) carecircle.Role {
	for _, f := range v.Families {
		if f.ID == familyID {
			return f.Role
		}
	}
	return ""
}

// CanWrite reports whether the viewer may change care data of a family.
func (v *viewer) CanWrite(familyID string) bool { return v.Role(familyID).CanWriteCare() }

// IsAdmin reports whether the viewer is an ADMIN of a family.
func (v *viewer) IsAdmin(familyID string) bool { return v.Role(familyID) == carecircle.RoleAdmin }

// FamilyName returns the name of one of the viewer's families.
func (v *viewer) FamilyName(familyID string) string {
	for _, f := range v.Families {
		if f.ID == familyID {
			return f.Name
		}
	}
	return ""
}

// signIn identifies the user behind a request from the accessToken cookie.
// When that has expired but the refreshToken cookie is still good, the
// session is rotated on the spot and the new cookies go out with this
// response, so a page open overnight just works in the morning. It returns
// the request's context carrying the actor, or false when nobody is signed
// in (stale cookies are then cleared).
func (h *Handler) signIn(w http.ResponseWriter, r *http.Request) (context.Context, bool) {
	ctx := r.Context()
	if c, err := r.Cookie("accessToken"); err == nil && c.Value != "" {
		if actx, err := h.api.SignIn(ctx, c.Value); err == nil {
			return actx, true
		}
	}
	c, err := r.Cookie("refreshToken")
	if err != nil || c.Value == "" {
		return ctx, false
	}
	res, err := h.refresh.rotate(ctx, h.api, c.Value)
	if err == nil {
		var actx context.Context
		if actx, err = h.api.SignIn(ctx, res.AccessToken); err == nil {
			h.setSession(w, res)
			return actx, true
		}
	}
	if carecircle.ErrorCode(err) != carecircle.EUNAUTHORIZED {
		h.logger(ctx).ErrorContext(ctx, "session refresh failed", "err", err)
	}
	h.clearSession(w)
	return ctx, false
}

func (h *Handler) setSession(w http.ResponseWriter, res api.SessionResult) {
	for _, c := range h.api.SessionCookies(res.AccessToken, res.RefreshToken) {
		w.Header().Add("Set-Cookie", c)
	}
}

func (h *Handler) clearSession(w http.ResponseWriter) {
	for _, c := range h.api.SessionCookies("", "") {
		w.Header().Add("Set-Cookie", c)
	}
}

// loadViewer reads the signed-in user, their families and recipients.
func (h *Handler) loadViewer(ctx context.Context) (*viewer, error) {
	me, err := h.db.Me(ctx)
	if err != nil {
		return nil, err
	}
	v := &viewer{Me: me, Loc: time.UTC}
	if loc, err := time.LoadLocation(me.Timezone); err == nil {
		v.Loc = loc
	}
	if v.Recipients, err = h.db.Recipients(ctx, ""); err != nil {
		return nil, err
	}
	if v.Unread, err = h.db.UnreadNotifications(ctx); err != nil {
		h.logger(ctx).WarnContext(ctx, "unread notifications", "err", err)
	}
	return v, nil
}

// appHandler is a page or action of the signed-in app.
type appHandler func(w http.ResponseWriter, r *http.Request, v *viewer)

// app wraps a page or action that needs a signed-in user: others are sent
// to the login page, which brings them back afterwards.
func (h *Handler) app(fn appHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ctx, ok := h.signIn(w, r)
		if !ok {
			next := r.URL.RequestURI()
			if r.Method != http.MethodGet {
				next = r.Referer()
				if u, err := url.Parse(next); err == nil {
					next = u.RequestURI()
				}
			}
			target := "/login"
			if next = localPath(next); next != "" && next != "/" {
				target += "?next=" + url.QueryEscape(next)
			}
			http.Redirect(w, r, target, http.StatusSeeOther)
			return
		}
		r = r.WithContext(ctx)
		v, err := h.loadViewer(ctx)
		if err != nil {
			h.fail(w, r, nil, err)
			return
		}
		fn(w, r, v)
	}
}

// publicHandler is a page anyone may see; v is nil when nobody is signed in.
type publicHandler func(w http.ResponseWriter, r *http.Request, v *viewer)

// public wraps a page that works signed in or out.
func (h *Handler) public(fn publicHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var v *viewer
		if ctx, ok := h.signIn(w, r); ok {
			r = r.WithContext(ctx)
			var err error
			if v, err = h.loadViewer(ctx); err != nil {
				h.fail(w, r, nil, err)
				return
			}
		}
		fn(w, r, v)
	}
}

// sessionCheck answers 204 when the request is signed in (rotating an
// expired access token like any page does) and 401 otherwise. The page
// script calls it before reconnecting the WebSocket or retrying an API call
// that answered 401.
func (h *Handler) sessionCheck(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	if _, ok := h.signIn(w, r); !ok {
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// localPath returns p when it is a path on this site (so redirecting to it
// can't leave the site), else "".
func localPath(p string) string {
	if p == "" || p[0] != '/' || strings.HasPrefix(p, "//") || strings.ContainsAny(p, "\\\r\n\t") {
		return ""
	}
	u, err := url.Parse(p)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil {
		return ""
	}
	return p
}

// refresher rotates refresh tokens for the pages. A browser restoring
// several tabs at once sends the same expired pair with each request; the
// storage layer treats a second use of a rotated refresh token as theft and
// revokes the session. So rotations are serialized, and for a few seconds
// the result of a rotation is handed to requests presenting the same old
// token. Across several instances the window still exists; it is as narrow
// as a page load.
type refresher struct {
	mu     sync.Mutex
	recent map[[32]byte]rotation
}

type rotation struct {
	res api.SessionResult
	at  time.Time
}

// refreshGrace is how long a rotation's result is reused.
const refreshGrace = 10 * time.Second

func newRefresher() *refresher { return &refresher{recent: map[[32]byte]rotation{}} }

func (f *refresher) rotate(ctx context.Context, s *api.Server, token string) (api.SessionResult, error) {
	key := sha256.Sum256([]byte(token))
	now := time.Now()
	f.mu.Lock()
	defer f.mu.Unlock()
	for k, r := range f.recent {
		if now.Sub(r.at) > refreshGrace {
			delete(f.recent, k)
		}
	}
	if r, ok := f.recent[key]; ok {
		return r.res, nil
	}
	res, err := s.Refresh(ctx, token)
	if err != nil {
		return res, err
	}
	f.recent[key] = rotation{res: res, at: now}
	return res, nil
}
