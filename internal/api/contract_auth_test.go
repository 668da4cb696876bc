package api_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/carecircle/carecircle/internal/apptest"
	"github.com/carecircle/carecircle/internal/mail/mailtest"
)

// DESIGN §3 Auth, sentence by sentence.

var sessionKeys = map[string]string{"user": "object", "accessToken": "string", "refreshToken": "string", "expiresAt": "string"}

var meKeys = map[string]string{"id": "string", "email": "string", "fullName": "string", "phone": "string|null",
	"timezone": "string", "emailVerified": "bool", "families": "array"}

// bearer is a client for a raw access token.
func bearer(e *apptest.Env, tok string) *apptest.Client { return &apptest.Client{Env: e, Token: tok} }

// cookieRequest sends a request carrying only cookies.
func cookieRequest(e *apptest.Env, method, path, body string, cookies ...*http.Cookie) *apptest.Response {
	e.T.Helper()
	var req *http.Request
	var err error
	if body != "" {
		req, err = http.NewRequest(method, e.URL+path, strings.NewReader(body))
	} else {
		req, err = http.NewRequest(method, e.URL+path, nil)
	}
	if err != nil {
		e.T.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for _, c := range cookies {
		req.AddCookie(c)
	}
	return e.Send(req)
}

func responseCookie(r *apptest.Response, name string) *http.Cookie {
	for _, c := range (&http.Response{Header: r.Header}).Cookies() {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// "POST /auth/register {email,password,fullName,phone?,timezone?} → 201
// {user,…tokens} (signed in)"; "Login, register and refresh also return
// {accessToken, refreshToken, expiresAt} in the body"; the tokens travel in
// HttpOnly cookies too.
func TestContract_RegisterIs201SignedInWithTokensAndCookies(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		r := e.Anon().Do("POST", "/api/v1/auth/register", map[string]any{
			"email": "Grace.Hopper@Example.com", "password": "a sturdy passphrase", "fullName": "Grace Hopper",
			"phone": "+1 555 0100", "timezone": "America/Chicago"})
		if r.Status != 201 {
			t.Fatalf("register: %d %s", r.Status, r.Body)
		}
		m := r.Map()
		wantKeys(t, "register", m, sessionKeys)
		user := m["user"].(map[string]any)
		wantKeys(t, "register user", user, meKeys)
		if user["email"] != "grace.hopper@example.com" || user["fullName"] != "Grace Hopper" || user["phone"] != "+1 555 0100" ||
			user["timezone"] != "America/Chicago" || user["emailVerified"] != false || len(user["families"].([]any)) != 0 {
			t.Errorf("user = %v", user)
		}
		exp, err := time.Parse(time.RFC3339, m["expiresAt"].(string))
		if err != nil || time.Until(exp) < 10*time.Minute || time.Until(exp) > 16*time.Minute {
			t.Errorf("expiresAt = %v, want about 15 minutes ahead", m["expiresAt"])
		}
		for _, name := range []string{"accessToken", "refreshToken"} {
			c := responseCookie(r, name)
			if c == nil || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Value != m[name] {
				t.Errorf("cookie %s = %+v, want HttpOnly SameSite=Lax carrying the body's token", name, c)
			}
		}
		// Signed in: the bearer token and the cookie both work.
		me := bearer(e, m["accessToken"].(string)).Must(200, "GET", "/api/v1/auth/me", nil)
		if me["id"] != user["id"] {
			t.Errorf("me = %v", me)
		}
		if r := cookieRequest(e, "GET", "/api/v1/auth/me", "", responseCookie(r, "accessToken")); r.Status != 200 {
			t.Errorf("me with the cookie: %d %s", r.Status, r.Body)
		}
		// The timezone defaults (to UTC) when not given.
		d := e.Anon().Must(201, "POST", "/api/v1/auth/register", map[string]any{
			"email": "plain@example.com", "password": "a sturdy passphrase", "fullName": "Plain"})
		if tz, _ := d["user"].(map[string]any)["timezone"].(string); tz == "" {
			t.Errorf("default timezone empty: %v", d)
		}
	})
}

// "Emails are case-insensitive."
func TestContract_EmailsAreCaseInsensitive(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		e.Anon().Must(201, "POST", "/api/v1/auth/register", map[string]any{"email": "Ada@Example.com", "password": "a sturdy passphrase", "fullName": "Ada"})
		wantError(t, e.Anon().Do("POST", "/api/v1/auth/register", map[string]any{"email": "ADA@example.COM", "password": "another passphrase", "fullName": "Ada 2"}), 409)
		m := e.Anon().Must(200, "POST", "/api/v1/auth/login", map[string]any{"email": "ada@EXAMPLE.com", "password": "a sturdy passphrase"})
		wantKeys(t, "login", m, sessionKeys)
		wantKeys(t, "login user", m["user"].(map[string]any), meKeys)
	})
}

// "Passwords: 10–128 characters, not among common passwords."
func TestContract_PasswordPolicy(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		reg := func(email, pw string) *apptest.Response {
			return e.Anon().Do("POST", "/api/v1/auth/register", map[string]any{"email": email, "password": pw, "fullName": "P"})
		}
		wantError(t, reg("p1@example.com", "nine char"), 400, "password")
		wantError(t, reg("p2@example.com", strings.Repeat("long pass ", 12)+"123456789"), 400, "password") // 129
		wantError(t, reg("p3@example.com", "password123"), 400, "password")
		wantError(t, reg("p4@example.com", "1234567890"), 400, "password")
		if r := reg("p5@example.com", "ten chars!"); r.Status != 201 {
			t.Errorf("10 characters: %d %s", r.Status, r.Body)
		}
		if r := reg("p6@example.com", strings.Repeat("long pass ", 12)+"12345678"); r.Status != 201 { // 128
			t.Errorf("128 characters: %d %s", r.Status, r.Body)
		}
		// Wrong credentials are 401, whether or not the account exists.
		wantError(t, e.Anon().Do("POST", "/api/v1/auth/login", map[string]any{"email": "p5@example.com", "password": "not the one!"}), 401)
		wantError(t, e.Anon().Do("POST", "/api/v1/auth/login", map[string]any{"email": "nobody@example.com", "password": "not the one!"}), 401)
		wantError(t, e.Anon().Do("POST", "/api/v1/auth/login", map[string]any{}), 400, "email", "password")
	})
}

// "the refresh token in the HttpOnly cookie refreshToken or in the body of
// /auth/refresh" · "Refresh rotates; presenting an already-rotated refresh
// token revokes that session."
func TestContract_RefreshFromBodyOrCookieRotatesAndReuseRevokes(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		c := e.Register("Rita Refresh")
		first := c.RefreshToken
		m := e.Anon().Must(200, "POST", "/api/v1/auth/refresh", map[string]any{"refreshToken": first})
		wantKeys(t, "refresh", m, sessionKeys)
		second := m["refreshToken"].(string)
		if second == first {
			t.Fatal("refresh did not rotate the token")
		}
		// From the cookie, with no body at all.
		r := cookieRequest(e, "POST", "/api/v1/auth/refresh", "", &http.Cookie{Name: "refreshToken", Value: second})
		if r.Status != 200 {
			t.Fatalf("refresh from cookie: %d %s", r.Status, r.Body)
		}
		third := r.Map()["refreshToken"].(string)
		access := r.Map()["accessToken"].(string)
		if c := responseCookie(r, "refreshToken"); c == nil || c.Value != third || !c.HttpOnly {
			t.Errorf("rotated refresh cookie = %+v", c)
		}
		bearer(e, access).Must(200, "GET", "/api/v1/auth/me", nil)
		// Reusing a rotated token revokes the session: the newest refresh
		// token and the session's access token stop working.
		wantError(t, e.Anon().Do("POST", "/api/v1/auth/refresh", map[string]any{"refreshToken": first}), 401)
		wantError(t, e.Anon().Do("POST", "/api/v1/auth/refresh", map[string]any{"refreshToken": third}), 401)
		wantError(t, bearer(e, access).Do("GET", "/api/v1/auth/me", nil), 401)
		wantError(t, e.Anon().Do("POST", "/api/v1/auth/refresh", nil), 401)
		wantError(t, e.Anon().Do("POST", "/api/v1/auth/refresh", map[string]any{"refreshToken": "garbage"}), 401)
	})
}

// "POST /auth/logout → 204" · "Logout ... take[s] effect at once: an access
// token of a revoked session gets 401."
func TestContract_LogoutIs204AndRevokesAtOnce(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		c := e.Register("Lou Logout")
		r := c.Do("POST", "/api/v1/auth/logout", nil)
		if r.Status != 204 || len(r.Body) != 0 {
			t.Fatalf("logout: %d %q", r.Status, r.Body)
		}
		if ck := responseCookie(r, "accessToken"); ck == nil || ck.MaxAge >= 0 && ck.Value != "" {
			t.Errorf("logout does not clear the accessToken cookie: %+v", ck)
		}
		wantError(t, c.Do("GET", "/api/v1/auth/me", nil), 401)
		wantError(t, e.Anon().Do("POST", "/api/v1/auth/refresh", map[string]any{"refreshToken": c.RefreshToken}), 401)
		// Logout by the refresh cookie alone (a browser whose access token expired).
		d := e.Register("Dee Cookie")
		r = cookieRequest(e, "POST", "/api/v1/auth/logout", "", &http.Cookie{Name: "refreshToken", Value: d.RefreshToken})
		if r.Status != 204 {
			t.Fatalf("logout by cookie: %d %s", r.Status, r.Body)
		}
		wantError(t, d.Do("GET", "/api/v1/auth/me", nil), 401)
	})
}

// "POST /auth/forgot-password {email} → 202 always" · "POST
// /auth/reset-password {token,password} → 204" · "password reset ... take[s]
// effect at once" · links are BASE_URL/reset-password?token=<token>.
func TestContract_ForgotIs202AlwaysResetIs204AndSignsOut(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		c := e.Register("Fay Forgot")
		other := e.Register("Fay Other")
		other.Must(202, "POST", "/api/v1/auth/forgot-password", map[string]any{"email": "nobody-here@example.com"})
		e.Anon().Must(202, "POST", "/api/v1/auth/forgot-password", map[string]any{"email": strings.ToUpper(c.Email)})
		msg := e.SMTP.WaitFor(t, func(r mailtest.Received) bool {
			return len(r.To) > 0 && strings.EqualFold(r.To[0], c.Email) && resetLink.MatchString(r.Text)
		}, 10*time.Second)
		if !strings.Contains(msg.Text, e.URL+"/reset-password?token=") {
			t.Errorf("reset email has no BASE_URL link: %s", msg.Text)
		}
		tok := resetLink.FindStringSubmatch(msg.Text)[1]
		wantError(t, e.Anon().Do("POST", "/api/v1/auth/reset-password", map[string]any{"token": tok, "password": "short"}), 400, "password")
		r := e.Anon().Do("POST", "/api/v1/auth/reset-password", map[string]any{"token": tok, "password": "a brand new passphrase"})
		if r.Status != 204 {
			t.Fatalf("reset: %d %s", r.Status, r.Body)
		}
		wantError(t, c.Do("GET", "/api/v1/auth/me", nil), 401)
		if r := e.Anon().Do("POST", "/api/v1/auth/reset-password", map[string]any{"token": tok, "password": "yet another passphrase"}); r.Status < 400 || r.Status >= 500 {
			t.Errorf("reusing a reset token: %d %s", r.Status, r.Body)
		}
		e.Anon().Must(200, "POST", "/api/v1/auth/login", map[string]any{"email": c.Email, "password": "a brand new passphrase"})
		wantError(t, e.Anon().Do("POST", "/api/v1/auth/reset-password", map[string]any{}), 400, "token", "password")
	})
}

// "POST /auth/verify-email {token}" with the link BASE_URL/verify-email?token=.
func TestContract_VerifyEmail(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		c := e.Register("Vic Verify")
		msg := e.SMTP.WaitFor(t, func(r mailtest.Received) bool {
			return len(r.To) > 0 && strings.EqualFold(r.To[0], c.Email) && verifyLink.MatchString(r.Text)
		}, 10*time.Second)
		if !strings.Contains(msg.Text, e.URL+"/verify-email?token=") {
			t.Errorf("verification email has no BASE_URL link: %s", msg.Text)
		}
		tok := verifyLink.FindStringSubmatch(msg.Text)[1]
		wantError(t, e.Anon().Do("POST", "/api/v1/auth/verify-email", map[string]any{"token": "not-a-token"}), 400)
		r := e.Anon().Do("POST", "/api/v1/auth/verify-email", map[string]any{"token": tok})
		if r.Status != 200 && r.Status != 204 {
			t.Fatalf("verify: %d %s", r.Status, r.Body)
		}
		if me := c.Must(200, "GET", "/api/v1/auth/me", nil); me["emailVerified"] != true {
			t.Errorf("after verifying, me = %v", me)
		}
		wantError(t, e.Anon().Do("POST", "/api/v1/auth/verify-email", map[string]any{}), 400, "token")
	})
}

// "GET /auth/me → {id,email,fullName,phone,timezone,emailVerified,
// families:[{id,name,role}]}" · "PATCH /auth/me".
func TestContract_MeShapeAndPatch(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		f := e.NewFamily("Me", "UTC")
		me := f.Caregiver.Must(200, "GET", "/api/v1/auth/me", nil)
		wantKeys(t, "me", me, meKeys)
		fams := me["families"].([]any)
		if len(fams) != 1 {
			t.Fatalf("families = %v", fams)
		}
		fam := fams[0].(map[string]any)
		wantKeys(t, "me.families[0]", fam, map[string]string{"id": "string", "name": "string", "role": "string"})
		if fam["id"] != f.ID || fam["role"] != "CAREGIVER" || fam["name"] != "Me family" {
			t.Errorf("families[0] = %v", fam)
		}
		p := f.Caregiver.Must(200, "PATCH", "/api/v1/auth/me", map[string]any{"fullName": "Renamed", "phone": "+44 20 7946 0000", "timezone": "Europe/London"})
		wantKeys(t, "patched me", p, meKeys)
		if p["fullName"] != "Renamed" || p["phone"] != "+44 20 7946 0000" || p["timezone"] != "Europe/London" {
			t.Errorf("patched me = %v", p)
		}
		wantError(t, f.Caregiver.Do("PATCH", "/api/v1/auth/me", map[string]any{"timezone": "Mars/Olympus"}), 400, "timezone")
		wantError(t, f.Caregiver.Do("PATCH", "/api/v1/auth/me", map[string]any{"fullName": ""}), 400, "fullName")
		wantError(t, e.Anon().Do("GET", "/api/v1/auth/me", nil), 401)
		wantError(t, bearer(e, "not.a.jwt").Do("GET", "/api/v1/auth/me", nil), 401)
	})
}

// Revoking one session (DELETE /auth/sessions/:id) takes effect at once.
func TestContract_RevokedSessionTokenIs401(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		c := e.Register("Sam Sessions")
		phone := *c
		phone.Login()
		var sessions struct {
			Items []struct {
				ID      string `json:"id"`
				Current bool   `json:"current"`
			} `json:"items"`
		}
		c.Do("GET", "/api/v1/auth/sessions", nil).Decode(t, &sessions)
		if len(sessions.Items) != 2 {
			t.Fatalf("sessions = %+v", sessions)
		}
		for _, s := range sessions.Items {
			if !s.Current {
				c.Must(204, "DELETE", "/api/v1/auth/sessions/"+s.ID, nil)
			}
		}
		wantError(t, phone.Do("GET", "/api/v1/auth/me", nil), 401)
		c.Must(200, "GET", "/api/v1/auth/me", nil)
	})
}
