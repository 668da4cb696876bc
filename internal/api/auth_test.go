package api_test

import (
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/carecircle/carecircle"
	"github.com/carecircle/carecircle/internal/apptest"
	"github.com/carecircle/carecircle/internal/mail/mailtest"
)

func messages(r *apptest.Response) []string {
	m := r.Map()
	switch v := m["message"].(type) {
	case []any:
		out := make([]string, len(v))
		for i, s := range v {
			out[i], _ = s.(string)
		}
		return out
	case string:
		return []string{v}
	}
	return nil
}

func wantStatus(t *testing.T, r *apptest.Response, status int) {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status %d, want %d: %s", r.Status, status, r.Body)
	}
	if status >= 400 {
		m := r.Map()
		if int(m["statusCode"].(float64)) != status || m["error"] != http.StatusText(status) || m["message"] == nil {
			t.Fatalf("error body %s does not have the contract's shape", r.Body)
		}
	}
}

func TestRegister_ValidatesEachFieldByName(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	r := e.Anon().Do("POST", "/api/v1/auth/register", map[string]any{"email": "not-an-email", "password": "password123", "fullName": "", "timezone": "Mars/Olympus"})
	wantStatus(t, r, 400)
	msgs := strings.Join(messages(r), "|")
	for _, field := range []string{"email", "password", "fullName", "timezone"} {
		if !strings.Contains(msgs, field) {
			t.Errorf("no message names %s: %v", field, msgs)
		}
	}
	if !strings.Contains(msgs, "too common") {
		t.Errorf("common password not refused: %v", msgs)
	}
}

func TestRegister_SignsInAndEmailIsCaseInsensitive(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		c := e.RegisterEmail("Sarah Thompson", "Sarah.T@Example.com", "America/New_York")
		me := c.Must(200, "GET", "/api/v1/auth/me", nil)
		if me["email"] != "sarah.t@example.com" || me["timezone"] != "America/New_York" || me["emailVerified"] != false {
			t.Fatalf("me = %v", me)
		}
		if fams, ok := me["families"].([]any); !ok || len(fams) != 0 {
			t.Fatalf("families = %v", me["families"])
		}
		r := e.Anon().Do("POST", "/api/v1/auth/register", map[string]any{"email": "SARAH.t@example.com", "password": "another good passphrase", "fullName": "Imposter"})
		wantStatus(t, r, 409)
		login := e.Anon().Must(200, "POST", "/api/v1/auth/login", map[string]any{"email": "SARAH.T@EXAMPLE.COM", "password": c.Password})
		if login["accessToken"] == "" || login["refreshToken"] == "" || login["expiresAt"] == nil {
			t.Fatalf("login body lacks tokens: %v", login)
		}
	})
}

func TestLogin_WrongPasswordAndUnknownEmailLookAlike(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	c := e.Register("Mike Caregiver")
	a := e.Anon().Do("POST", "/api/v1/auth/login", map[string]any{"email": c.Email, "password": "wrong wrong wrong"})
	b := e.Anon().Do("POST", "/api/v1/auth/login", map[string]any{"email": "nobody@example.com", "password": "wrong wrong wrong"})
	wantStatus(t, a, 401)
	wantStatus(t, b, 401)
	if a.Map()["message"] != b.Map()["message"] {
		t.Errorf("messages differ, revealing which accounts exist: %v / %v", a.Map()["message"], b.Map()["message"])
	}
}

func TestLogin_SetsSafeCookies(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	c := e.Register("Cookie Person")
	r := e.Anon().Do("POST", "/api/v1/auth/login", map[string]any{"email": c.Email, "password": c.Password})
	wantStatus(t, r, 200)
	cookies := (&http.Response{Header: r.Header}).Cookies()
	got := map[string]*http.Cookie{}
	for _, ck := range cookies {
		got[ck.Name] = ck
	}
	for _, name := range []string{"accessToken", "refreshToken"} {
		ck := got[name]
		if ck == nil || !ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode || ck.Value == "" {
			t.Errorf("cookie %s = %+v, want HttpOnly SameSite=Lax", name, ck)
		}
	}
	// The cookie alone authenticates.
	req, _ := http.NewRequest("GET", e.URL+"/api/v1/auth/me", nil)
	req.AddCookie(got["accessToken"])
	if res := e.Send(req); res.Status != 200 {
		t.Fatalf("cookie auth: %d %s", res.Status, res.Body)
	}
}

func TestRefresh_RotatesAndReuseRevokesSession(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		c := e.Register("Rotating User")
		first := c.RefreshToken
		m := e.Anon().Must(200, "POST", "/api/v1/auth/refresh", map[string]any{"refreshToken": first})
		second, access := m["refreshToken"].(string), m["accessToken"].(string)
		if second == first || second == "" {
			t.Fatalf("refresh did not rotate: %v", m)
		}
		user := &apptest.Client{Env: e, Token: access}
		user.Must(200, "GET", "/api/v1/auth/me", nil)
		// The rotated-away token is presented again: the session is revoked.
		wantStatus(t, e.Anon().Do("POST", "/api/v1/auth/refresh", map[string]any{"refreshToken": first}), 401)
		wantStatus(t, user.Do("GET", "/api/v1/auth/me", nil), 401)
		wantStatus(t, e.Anon().Do("POST", "/api/v1/auth/refresh", map[string]any{"refreshToken": second}), 401)
		wantStatus(t, e.Anon().Do("POST", "/api/v1/auth/refresh", map[string]any{"refreshToken": "garbage"}), 401)
	})
}

func TestLogout_RevokesAccessAtOnce(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		c := e.Register("Leaving User")
		other := &apptest.Client{Env: e, Email: c.Email, Password: c.Password}
		other.Login()
		wantStatus(t, c.Do("POST", "/api/v1/auth/logout", nil), 204)
		wantStatus(t, c.Do("GET", "/api/v1/auth/me", nil), 401)
		wantStatus(t, e.Anon().Do("POST", "/api/v1/auth/refresh", map[string]any{"refreshToken": c.RefreshToken}), 401)
		// Another device stays signed in.
		other.Must(200, "GET", "/api/v1/auth/me", nil)
	})
}

var resetLink = regexp.MustCompile(`/reset-password\?token=([A-Za-z0-9_\-]+)`)
var verifyLink = regexp.MustCompile(`/verify-email\?token=([A-Za-z0-9_\-]+)`)

func TestResetPassword_EmailsLinkAndRevokesSessions(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		c := e.Register("Forgetful User")
		wantStatus(t, e.Anon().Do("POST", "/api/v1/auth/forgot-password", map[string]any{"email": strings.ToUpper(c.Email)}), 202)
		wantStatus(t, e.Anon().Do("POST", "/api/v1/auth/forgot-password", map[string]any{"email": "nobody@example.com"}), 202)
		msg := e.SMTP.WaitFor(t, func(r mailtest.Received) bool { return resetLink.MatchString(r.Text) }, 10*time.Second)
		if !strings.HasPrefix(resetLink.FindString(msg.Text), "/reset-password?token=") || !strings.Contains(msg.Text, e.URL+"/reset-password?token=") {
			t.Fatalf("reset link not under BASE_URL: %s", msg.Text)
		}
		tok := resetLink.FindStringSubmatch(msg.Text)[1]
		wantStatus(t, e.Anon().Do("POST", "/api/v1/auth/reset-password", map[string]any{"token": tok, "password": "short"}), 400)
		wantStatus(t, e.Anon().Do("POST", "/api/v1/auth/reset-password", map[string]any{"token": tok, "password": "a brand new passphrase"}), 204)
		wantStatus(t, c.Do("GET", "/api/v1/auth/me", nil), 401)
		wantStatus(t, e.Anon().Do("POST", "/api/v1/auth/reset-password", map[string]any{"token": tok, "password": "yet another passphrase"}), 409)
		wantStatus(t, e.Anon().Do("POST", "/api/v1/auth/reset-password", map[string]any{"token": "not-a-token", "password": "yet another passphrase"}), 400)
		wantStatus(t, e.Anon().Do("POST", "/api/v1/auth/login", map[string]any{"email": c.Email, "password": c.Password}), 401)
		c.Password = "a brand new passphrase"
		c.Login()
	})
}

func TestResetPassword_ExpiredLinkIsGone(t *testing.T) {
	clock := carecircle.NewManualClock(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	e := apptest.New(t, apptest.Options{Clock: clock})
	c := e.Register("Slow Reader")
	wantStatus(t, e.Anon().Do("POST", "/api/v1/auth/forgot-password", map[string]any{"email": c.Email}), 202)
	msg := e.SMTP.WaitFor(t, func(r mailtest.Received) bool { return resetLink.MatchString(r.Text) }, 10*time.Second)
	clock.Advance(61 * time.Minute)
	r := e.Anon().Do("POST", "/api/v1/auth/reset-password", map[string]any{"token": resetLink.FindStringSubmatch(msg.Text)[1], "password": "a brand new passphrase"})
	wantStatus(t, r, 410)
}

func TestVerifyEmail(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	c := e.Register("Verifying User")
	msg := e.SMTP.WaitFor(t, func(r mailtest.Received) bool { return r.To[0] == c.Email && verifyLink.MatchString(r.Text) }, 10*time.Second)
	tok := verifyLink.FindStringSubmatch(msg.Text)[1]
	m := e.Anon().Must(200, "POST", "/api/v1/auth/verify-email", map[string]any{"token": tok})
	if m["emailVerified"] != true {
		t.Fatalf("verify = %v", m)
	}
	if me := c.Must(200, "GET", "/api/v1/auth/me", nil); me["emailVerified"] != true {
		t.Fatalf("me after verify = %v", me)
	}
	wantStatus(t, e.Anon().Do("POST", "/api/v1/auth/verify-email", map[string]any{"token": tok}), 409)
}

func TestPatchMe(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	c := e.Register("Patchy User")
	m := c.Must(200, "PATCH", "/api/v1/auth/me", map[string]any{"fullName": "Patricia User", "timezone": "Asia/Tokyo", "phone": "+81 3 1234 5678"})
	if m["fullName"] != "Patricia User" || m["timezone"] != "Asia/Tokyo" || m["phone"] != "+81 3 1234 5678" {
		t.Fatalf("patched me = %v", m)
	}
	r := c.Do("PATCH", "/api/v1/auth/me", map[string]any{"timezone": "Nowhere/Else", "phone": "call me maybe"})
	wantStatus(t, r, 400)
	if msgs := strings.Join(messages(r), "|"); !strings.Contains(msgs, "timezone") || !strings.Contains(msgs, "phone") {
		t.Fatalf("messages %v", msgs)
	}
}

func TestChangePassword_SignsOutOtherSessions(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	c := e.Register("Careful User")
	other := &apptest.Client{Env: e, Email: c.Email, Password: c.Password}
	other.Login()
	wantStatus(t, c.Do("POST", "/api/v1/auth/change-password", map[string]any{"currentPassword": "wrong one here", "newPassword": "a brand new passphrase"}), 400)
	wantStatus(t, c.Do("POST", "/api/v1/auth/change-password", map[string]any{"currentPassword": c.Password, "newPassword": "a brand new passphrase"}), 204)
	c.Must(200, "GET", "/api/v1/auth/me", nil)
	wantStatus(t, other.Do("GET", "/api/v1/auth/me", nil), 401)
	sessions := c.Must(200, "GET", "/api/v1/auth/sessions", nil)["items"].([]any)
	if len(sessions) != 1 || sessions[0].(map[string]any)["current"] != true {
		t.Fatalf("sessions = %v", sessions)
	}
}

func TestRateLimit_LoginAnswers429WithRetryAfter(t *testing.T) {
	e := apptest.New(t, apptest.Options{Env: map[string]string{"AUTH_RATE_LIMIT": "3"}})
	for i := 0; i < 3; i++ {
		wantStatus(t, e.Anon().Do("POST", "/api/v1/auth/login", map[string]any{"email": "x@example.com", "password": "whatever it is"}), 401)
	}
	r := e.Anon().Do("POST", "/api/v1/auth/login", map[string]any{"email": "x@example.com", "password": "whatever it is"})
	wantStatus(t, r, 429)
	if ra := r.Header.Get("Retry-After"); ra == "" || ra == "0" {
		t.Fatalf("Retry-After = %q", ra)
	}
}

func TestCrossSiteCookieRequestIsRefused(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	c := e.Register("Victim User")
	req, _ := http.NewRequest("POST", e.URL+"/api/v1/families", strings.NewReader(`{"name":"Evil"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Origin", "https://evil.example")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	req.AddCookie(&http.Cookie{Name: "accessToken", Value: c.Token})
	wantStatus(t, e.Send(req), 403)
	if fams := c.Must(200, "GET", "/api/v1/families", nil)["items"].([]any); len(fams) != 0 {
		t.Fatalf("cross-site request created a family: %v", fams)
	}
}
