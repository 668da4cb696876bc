package web_test

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/carecircle/carecircle/internal/apptest"
)

// browser is an HTTP client with a cookie jar, signed in through the login
// form like a browser without JavaScript.
type browser struct {
	t    testing.TB
	e    *apptest.Env
	http *http.Client
}

func newBrowser(t testing.TB, e *apptest.Env) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, e: e, http: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}}
}

// signIn signs the browser in as c through the login form.
func signIn(t testing.TB, c *apptest.Client) *browser {
	t.Helper()
	b := newBrowser(t, c.Env)
	r := b.post("/login", url.Values{"email": {c.Email}, "password": {c.Password}})
	if r.Status != http.StatusSeeOther {
		t.Fatalf("login as %s: status %d: %s", c.Email, r.Status, r.Body)
	}
	return b
}

type page struct {
	Status int
	Header http.Header
	Body   string
}

func (b *browser) do(req *http.Request) *page {
	b.t.Helper()
	res, err := b.http.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return &page{Status: res.StatusCode, Header: res.Header, Body: string(body)}
}

func (b *browser) get(path string) *page {
	b.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, b.e.URL+path, nil)
	return b.do(req)
}

func (b *browser) post(path string, form url.Values) *page {
	b.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, b.e.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

// mustGet fetches a page and fails unless it answers 200.
func (b *browser) mustGet(path string) string {
	b.t.Helper()
	p := b.get(path)
	if p.Status != http.StatusOK {
		b.t.Fatalf("GET %s: status %d, want 200: %.2000s", path, p.Status, p.Body)
	}
	return p.Body
}

// mustPost posts a form and fails unless it redirects (303); it returns
// the redirect target.
func (b *browser) mustPost(path string, form url.Values) string {
	b.t.Helper()
	p := b.post(path, form)
	if p.Status != http.StatusSeeOther {
		b.t.Fatalf("POST %s: status %d, want 303: %s", path, p.Status, messagesOf(p.Body))
	}
	return p.Header.Get("Location")
}

var messageHTML = regexp.MustCompile(`<p class="field-error"[^>]*>[^<]*</p>|<div class="form-errors"[\s\S]*?</div>|<p class="flash[^>]*>[^<]*</p>|<p class="lead">[^<]*</p>`)

// messagesOf extracts a page's messages (form errors, flash, error page
// text) for a failure report.
func messagesOf(body string) string {
	m := messageHTML.FindAllString(body, -1)
	if len(m) == 0 {
		return "(no messages on the page)"
	}
	return strings.Join(m, " | ")
}
