package web_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/carecircle/carecircle/internal/apptest"
	"github.com/carecircle/carecircle/internal/mail/mailtest"
)

// linkIn waits for an email to addr with a link to path and returns the
// link's token.
func linkIn(t *testing.T, e *apptest.Env, addr, path string) string {
	t.Helper()
	re := regexp.MustCompile(regexp.QuoteMeta(path) + `\?token=([A-Za-z0-9_\-%.]+)`)
	m := e.SMTP.WaitFor(t, func(r mailtest.Received) bool {
		return len(r.To) > 0 && strings.EqualFold(r.To[0], addr) && re.MatchString(r.Text)
	}, 10*time.Second)
	tok, err := url.QueryUnescape(re.FindStringSubmatch(m.Text)[1])
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func TestAccountForms_RegisterVerifyForgetAndReset(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	b := newBrowser(t, e)
	// The password policy is the API's.
	p := b.post("/register", url.Values{"fullName": {"Lee Account"}, "email": {"lee@example.com"}, "password": {"password123"}})
	if p.Status != http.StatusBadRequest || !strings.Contains(p.Body, `id="f-password-error"`) {
		t.Fatalf("common password: %d %s", p.Status, messagesOf(p.Body))
	}
	b.mustPost("/register", url.Values{"fullName": {"Lee Account"}, "email": {"Lee@Example.com"}, "password": {"a sturdy passphrase"},
		"timezone": {"Europe/Dublin"}})
	if p := b.post("/register", url.Values{"fullName": {"Again"}, "email": {"lee@example.com"}, "password": {"a sturdy passphrase"}}); p.Status != http.StatusSeeOther {
		// Signed in: the form sends the user on, and registering twice is refused by the API.
		t.Logf("second registration while signed in: %d", p.Status)
	}

	// Confirm the address from the emailed link (a POST, so mail scanners
	// opening the link confirm nothing).
	tok := linkIn(t, e, "lee@example.com", "/verify-email")
	page := b.mustGet("/verify-email?token=" + url.QueryEscape(tok))
	if !strings.Contains(page, `value="`+tok+`"`) {
		t.Fatalf("verify page lacks the token")
	}
	b.mustPost("/verify-email", url.Values{"token": {tok}})
	if !strings.Contains(b.mustGet("/settings"), "confirmed") {
		t.Errorf("address not shown as confirmed")
	}
	if p := b.post("/verify-email", url.Values{"token": {"bogus"}}); p.Status < 400 {
		t.Errorf("bogus verification token: %d", p.Status)
	}

	// Forgot password: same answer for unknown addresses; the link sets a
	// new password and signs every session out.
	anon := newBrowser(t, e)
	for _, addr := range []string{"nobody@example.com", "lee@example.com"} {
		if loc := anon.mustPost("/forgot-password", url.Values{"email": {addr}}); loc != "/login" {
			t.Errorf("forgot %s: redirected to %s", addr, loc)
		}
	}
	reset := linkIn(t, e, "lee@example.com", "/reset-password")
	if !strings.Contains(anon.mustGet("/reset-password?token="+url.QueryEscape(reset)), `name="token"`) {
		t.Fatal("reset page has no token field")
	}
	p = anon.post("/reset-password", url.Values{"token": {reset}, "password": {"short"}})
	if p.Status != http.StatusBadRequest || !strings.Contains(p.Body, "Password must be at least 10 characters") {
		t.Errorf("short new password: %d %s", p.Status, messagesOf(p.Body))
	}
	anon.mustPost("/reset-password", url.Values{"token": {reset}, "password": {"an entirely new passphrase"}})
	if p := b.get("/dashboard"); p.Status != http.StatusSeeOther {
		t.Errorf("old session after reset: %d", p.Status)
	}
	if loc := anon.mustPost("/login", url.Values{"email": {"lee@example.com"}, "password": {"an entirely new passphrase"}}); loc != "/dashboard" {
		t.Errorf("login with the new password went to %s", loc)
	}
	if p := anon.post("/reset-password", url.Values{"token": {reset}, "password": {"yet another passphrase"}}); p.Status < 400 {
		t.Errorf("reset link used twice: %d", p.Status)
	}
}

func TestAuthForms_RateLimitedLikeTheAPI(t *testing.T) {
	e := apptest.New(t, apptest.Options{Env: map[string]string{"AUTH_RATE_LIMIT": "3"}})
	c := e.Register("Rate Limited")
	b := newBrowser(t, e)
	var last *page
	for i := 0; i < 5; i++ {
		last = b.post("/login", url.Values{"email": {c.Email}, "password": {"wrong password"}})
	}
	if last.Status != http.StatusTooManyRequests || !strings.Contains(last.Body, "form-errors") {
		t.Errorf("after 5 attempts: %d %s", last.Status, messagesOf(last.Body))
	}
}
