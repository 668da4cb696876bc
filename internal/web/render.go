package web

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"path"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/carecircle/carecircle"
	"github.com/carecircle/carecircle/internal/api"
)

// defineRe finds the templates a file defines.
var defineRe = regexp.MustCompile(`{{-?\s*define\s+"([^"]+)"`)

// parsePages parses the layout, the partials and every templates/pages/*.html
// into one template set and returns it with the names of the pages. Each
// page's "content" block is renamed "content:<page>", and the "content" the
// layout calls picks the page being rendered (page.Template). Layout and
// partials are so parsed once, not cloned for every page: html/template
// copies the parse trees it clones, which held 10 MB on an idle server.
func parsePages(a *assets) (*template.Template, map[string]bool, error) {
	t, err := template.New("").Funcs(funcs(a)).ParseFS(templateFS, "templates/layout.html", "templates/partials/*.html")
	if err != nil {
		return nil, nil, fmt.Errorf("parse layout: %w", err)
	}
	files, err := fs.Glob(templateFS, "templates/pages/*.html")
	if err != nil {
		return nil, nil, err
	}
	names := map[string]bool{}
	var pick strings.Builder
	pick.WriteString(`{{define "content"}}`)
	for i, f := range files {
		src, err := fs.ReadFile(templateFS, f)
		if err != nil {
			return nil, nil, err
		}
		name := strings.TrimSuffix(path.Base(f), ".html")
		body, ok := strings.CutPrefix(string(src), `{{define "content"}}`)
		if !ok {
			return nil, nil, fmt.Errorf("parse %s: a page must start with {{define \"content\"}}", f)
		}
		// A page's own helpers now share one namespace: refuse a name that
		// is taken rather than let the later definition win silently.
		for _, m := range defineRe.FindAllStringSubmatch(body, -1) {
			if t.Lookup(m[1]) != nil {
				return nil, nil, fmt.Errorf("parse %s: template %q is defined elsewhere too", f, m[1])
			}
		}
		if _, err := t.New(f).Parse(`{{define "content:` + name + `"}}` + body); err != nil {
			return nil, nil, fmt.Errorf("parse %s: %w", f, err)
		}
		if i > 0 {
			pick.WriteString(`{{else }}`)
		}
		fmt.Fprintf(&pick, `{{if eq .Template %q}}{{template "content:%s" .}}`, name, name)
		names[name] = true
	}
	pick.WriteString(strings.Repeat(`{{end}}`, len(files)) + `{{end}}`)
	if _, err := t.New("content").Parse(pick.String()); err != nil {
		return nil, nil, fmt.Errorf("parse pages: %w", err)
	}
	return t, names, nil
}

// page is what every template receives.
type page struct {
	Title string
	// Template is the page being rendered (set by render).
	Template string
	// V is the signed-in viewer, nil on public pages for visitors.
	V *viewer
	// R is the care recipient the page is about, if any, and RLoc its zone.
	R    *carecircle.CareRecipient
	RLoc *time.Location
	Tab  string // the active care tab or app section
	Path string // the request path, for "back here after sign-in"

	Flash  *flash
	Form   *form
	Alerts []carecircle.EmergencyAlert // unresolved alerts of the viewer's families
	Now    time.Time
	Data   any
}

// AckedByMe reports whether the viewer has acknowledged an alert.
func (p *page) AckedByMe(a carecircle.EmergencyAlert) bool {
	if p.V == nil {
		return false
	}
	for _, ack := range a.Acknowledgements {
		if ack.User.ID == p.V.ID {
			return true
		}
	}
	return false
}

// newPage starts the data of a page for a request.
func (h *Handler) newPage(w http.ResponseWriter, r *http.Request, v *viewer, title string) *page {
	p := &page{Title: title, V: v, Path: r.URL.RequestURI(), Now: h.clock.Now(), Flash: takeFlash(w, r)}
	return p
}

// withRecipient sets the page's care recipient.
func (p *page) withRecipient(c *carecircle.CareRecipient, tab string) *page {
	p.R, p.Tab = c, tab
	p.RLoc = c.Location()
	return p
}

var bufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// render executes a page template and writes it, compressed when the client
// accepts gzip. Pages are private and revalidated on every visit.
func (h *Handler) render(w http.ResponseWriter, r *http.Request, status int, name string, p *page) {
	if !h.pageNames[name] {
		h.logger(r.Context()).ErrorContext(r.Context(), "no such page template", "page", name)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	if p.V != nil && p.Alerts == nil {
		p.Alerts = h.openAlerts(r.Context(), p.V)
	}
	buf := bufPool.Get().(*bytes.Buffer)
	buf.Reset()
	defer bufPool.Put(buf)
	p.Template = name
	if err := h.pages.ExecuteTemplate(buf, "layout", p); err != nil {
		h.logger(r.Context()).ErrorContext(r.Context(), "render page", "page", name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	hd := w.Header()
	hd.Set("Content-Type", "text/html; charset=utf-8")
	hd.Set("Cache-Control", "private, no-cache")
	hd.Add("Vary", "Accept-Encoding")
	writeCompressed(w, r, status, buf.Bytes())
}

var gzipPool = sync.Pool{New: func() any {
	zw, _ := gzip.NewWriterLevel(nil, gzip.DefaultCompression)
	return zw
}}

// writeCompressed writes body with gzip when the client accepts it and the
// body is big enough to gain from it.
func writeCompressed(w http.ResponseWriter, r *http.Request, status int, body []byte) {
	if len(body) < 1024 || !acceptsGzip(r) {
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.WriteHeader(status)
		w.Write(body)
		return
	}
	w.Header().Set("Content-Encoding", "gzip")
	w.Header().Del("Content-Length")
	w.WriteHeader(status)
	zw := gzipPool.Get().(*gzip.Writer)
	zw.Reset(w)
	zw.Write(body)
	zw.Close()
	gzipPool.Put(zw)
}

// openAlerts lists the unresolved emergency alerts of the viewer's care
// recipients, newest first, for the banner and the full-screen alert.
func (h *Handler) openAlerts(ctx context.Context, v *viewer) []carecircle.EmergencyAlert {
	out := []carecircle.EmergencyAlert{}
	for _, c := range v.Recipients {
		for _, st := range []carecircle.AlertStatus{carecircle.AlertActive, carecircle.AlertAcknowledged} {
			as, _, err := h.db.Alerts(ctx, c.ID, st, pageOf(20))
			if err != nil {
				h.logger(ctx).ErrorContext(ctx, "open alerts", "err", err)
				continue
			}
			out = append(out, as...)
		}
	}
	sortAlerts(out)
	return out
}

// flash is a one-time message shown on the page after a redirect.
type flash struct {
	Kind    string // "ok" or "error"
	Message string
}

const flashCookie = "flash"

// redirect sends the browser to target with 303 and, when msg is set, a
// message to show there.
func redirect(w http.ResponseWriter, r *http.Request, target, kind, msg string) {
	if msg != "" {
		http.SetCookie(w, &http.Cookie{Name: flashCookie, Value: url.QueryEscape(kind + ":" + msg), Path: "/",
			HttpOnly: true, SameSite: http.SameSiteLaxMode, MaxAge: 60})
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
}

// takeFlash reads and clears the flash message.
func takeFlash(w http.ResponseWriter, r *http.Request) *flash {
	c, err := r.Cookie(flashCookie)
	if err != nil {
		return nil
	}
	http.SetCookie(w, &http.Cookie{Name: flashCookie, Path: "/", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteLaxMode})
	v, err := url.QueryUnescape(c.Value)
	if err != nil {
		return nil
	}
	kind, msg, ok := strings.Cut(v, ":")
	if !ok || (kind != "ok" && kind != "error") || msg == "" {
		return nil
	}
	if len(msg) > 300 {
		msg = msg[:300]
	}
	return &flash{Kind: kind, Message: msg}
}

// fail renders the error page for err: not found, forbidden, gone... An
// expired session goes back to the login page.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, v *viewer, err error) {
	code := carecircle.ErrorCode(err)
	var eb *api.ErrorBody
	if errors.As(err, &eb) && eb.StatusCode < 500 {
		f := newForm()
		status := f.Fail(err)
		p := h.newPage(w, r, v, http.StatusText(status))
		p.Data = errorData{Status: status, Message: f.FirstError()}
		h.render(w, r, status, "error", p)
		return
	}
	if code == carecircle.EUNAUTHORIZED {
		h.clearSession(w)
		http.Redirect(w, r, "/login?next="+url.QueryEscape(localPath(r.URL.RequestURI())), http.StatusSeeOther)
		return
	}
	status := api.StatusFor(code)
	msg := carecircle.ErrorMessage(err)
	var ce *carecircle.Error
	if errors.As(err, &ce) && len(ce.Fields) > 0 {
		msg = strings.Join(ce.Fields, "; ")
	}
	title := http.StatusText(status)
	switch code {
	case carecircle.ENOTFOUND:
		title, msg = "Not found", "This page doesn't exist, or it belongs to a family you're not in."
	case carecircle.EFORBIDDEN:
		title = "Not allowed"
	case carecircle.EINTERNAL:
		h.logger(r.Context()).ErrorContext(r.Context(), "page failed", "path", r.URL.Path, "err", err)
		msg = "Something went wrong on our side. Please try again in a moment."
	}
	p := h.newPage(w, r, v, title)
	p.Data = errorData{Status: status, Message: msg}
	h.render(w, r, status, "error", p)
}

type errorData struct {
	Status  int
	Message string
}

func (h *Handler) notFoundPage(w http.ResponseWriter, r *http.Request, v *viewer) {
	h.fail(w, r, v, carecircle.Errorf(carecircle.ENOTFOUND, "not found"))
}

// logger is the handler's logger tagged with the request id.
func (h *Handler) logger(ctx context.Context) *slog.Logger {
	return h.log.With("requestId", api.ClientFrom(ctx).RequestID)
}
