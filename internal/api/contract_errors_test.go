package api_test

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/carecircle/carecircle/internal/apptest"
)

// DESIGN §3 Errors: {"statusCode":400,"message":[...],"error":"Bad Request"};
// message is a list of per-field messages (each names its field) for
// validation errors, a string otherwise. 400 · 401 · 403 · 404 (missing or
// another family's) · 409 · 410 · 413 · 415 · 429 with Retry-After. Never 500
// for bad input.

func TestContract_ValidationErrorsListEachFieldByName(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		f := e.NewFamily("Errors", "UTC")
		r := f.Caregiver.Do("POST", "/api/v1/care-recipients/"+f.RecipientID+"/medications", map[string]any{})
		wantError(t, r, 400, "name", "dosage", "frequency")
		if m := messages(r); !contains(m, "name should not be empty") || !contains(m, "dosage should not be empty") {
			t.Errorf("messages = %v, want class-validator style \"name should not be empty\"", m)
		}
		// Wrong JSON types name the field too.
		wantError(t, f.Caregiver.Do("POST", "/api/v1/care-recipients/"+f.RecipientID+"/medications",
			map[string]any{"name": 12, "dosage": true, "frequency": "ONCE_DAILY", "times": []string{"08:00"}}), 400, "name", "dosage")
		wantError(t, f.Caregiver.Do("POST", "/api/v1/care-recipients/"+f.RecipientID+"/medications",
			map[string]any{"name": "A", "dosage": "1", "frequency": "HOURLY"}), 400, "frequency")
		// A body that is not an object, or not JSON, is a 400 too.
		for _, body := range []string{`[]`, `"x"`, `{"name":`, `null`, `{"name":"a"}{"b":1}`} {
			r := f.Admin.Do("POST", "/api/v1/families", body)
			if r.Status != 400 {
				t.Errorf("body %s: %d %s", body, r.Status, r.Body)
				continue
			}
			wantError(t, r, 400)
		}
	})
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// Unknown routes and wrong methods answer in the contract's error shape.
func TestContract_UnknownRoutesAndMethods(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		c := e.Register("Rob Routes")
		wantError(t, c.Do("GET", "/api/v1/no-such-thing", nil), 404)
		wantError(t, e.Anon().Do("GET", "/api/v1/no-such-thing", nil), 404)
		wantError(t, c.Do("GET", "/api/v2/families", nil), 404)
		for _, m := range []struct{ method, path, allow string }{
			{"PUT", "/api/v1/auth/me", "GET"},
			{"DELETE", "/api/v1/families", "GET"},
			{"GET", "/api/v1/auth/login", "POST"},
			{"PUT", "/api/v1/medications/med_x", "PATCH"},
			{"PATCH", "/api/v1/care-recipients/cr_x/documents", "POST"},
		} {
			r := c.Do(m.method, m.path, nil)
			wantError(t, r, 405)
			if !strings.Contains(r.Header.Get("Allow"), m.allow) {
				t.Errorf("%s %s: Allow = %q, want it to list %s", m.method, m.path, r.Header.Get("Allow"), m.allow)
			}
		}
	})
}

// "413 too large · 415 unsupported media".
func TestContract_TooLargeAndUnsupportedMediaType(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		c := e.Register("Tim Toolarge")
		big := `{"name":"` + strings.Repeat("x", 2<<20) + `"}`
		wantError(t, c.Do("POST", "/api/v1/families", big), 413)
		req, _ := http.NewRequest("POST", e.URL+"/api/v1/families", strings.NewReader(`name=x`))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Authorization", "Bearer "+c.Token)
		wantError(t, e.Send(req), 415)
		req, _ = http.NewRequest("POST", e.URL+"/api/v1/families", strings.NewReader(`{"name":"x"}`))
		req.Header.Set("Content-Type", "text/plain")
		req.Header.Set("Authorization", "Bearer "+c.Token)
		wantError(t, e.Send(req), 415)
	})
}

// "AUTH_RATE_LIMIT (attempts per minute per client on
// login/register/forgot/reset; default 20; 0 disables)" · "429 rate limited
// (with Retry-After)".
func TestContract_AuthRateLimitDefaultsTo20PerMinute(t *testing.T) {
	e := apptest.New(t, apptest.Options{Env: map[string]string{"AUTH_RATE_LIMIT": ""}})
	for _, ep := range []struct {
		path string
		body func(i int) map[string]any
	}{
		{"/api/v1/auth/login", func(i int) map[string]any {
			return map[string]any{"email": fmt.Sprintf("l%d@example.com", i), "password": "wrong password"}
		}},
		{"/api/v1/auth/register", func(i int) map[string]any {
			return map[string]any{"email": fmt.Sprintf("r%d@example.com", i), "password": "a sturdy passphrase", "fullName": "R"}
		}},
		{"/api/v1/auth/forgot-password", func(i int) map[string]any {
			return map[string]any{"email": fmt.Sprintf("f%d@example.com", i)}
		}},
		{"/api/v1/auth/reset-password", func(i int) map[string]any {
			return map[string]any{"token": fmt.Sprintf("bad-token-%d", i), "password": "a sturdy passphrase"}
		}},
	} {
		for i := 0; i < 20; i++ {
			if r := e.Anon().Do("POST", ep.path, ep.body(i)); r.Status == 429 || r.Status >= 500 {
				t.Fatalf("%s attempt %d: %d %s", ep.path, i+1, r.Status, r.Body)
			}
		}
		r := e.Anon().Do("POST", ep.path, ep.body(20))
		wantError(t, r, 429)
		if s, err := strconv.Atoi(r.Header.Get("Retry-After")); err != nil || s < 1 || s > 60 {
			t.Errorf("%s: Retry-After = %q, want 1..60 seconds", ep.path, r.Header.Get("Retry-After"))
		}
	}
}

func TestContract_AuthRateLimitZeroDisables(t *testing.T) {
	e := apptest.New(t, apptest.Options{Env: map[string]string{"AUTH_RATE_LIMIT": "0"}})
	for i := 0; i < 40; i++ {
		r := e.Anon().Do("POST", "/api/v1/auth/login", map[string]any{"email": "same@example.com", "password": "wrong password"})
		if r.Status != 401 {
			t.Fatalf("attempt %d: %d %s", i+1, r.Status, r.Body)
		}
	}
}

// "403 signed in but role too low": a VIEWER is read-only everywhere, a
// CAREGIVER can't do what is ADMIN's.
func TestContract_RoleTooLowIs403(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		p := populate(t, e)
		rid := p.RecipientID
		viewerWrites := []struct {
			method, path string
			body         any
		}{
			{"POST", "/api/v1/care-recipients", map[string]any{"familyId": p.ID, "firstName": "A", "lastName": "B", "timezone": "UTC"}},
			{"PATCH", "/api/v1/care-recipients/{recipient}", map[string]any{"notes": "x"}},
			{"DELETE", "/api/v1/care-recipients/{recipient}", nil},
			{"POST", "/api/v1/care-recipients/{recipient}/medications", map[string]any{"name": "A", "dosage": "1", "frequency": "ONCE_DAILY", "times": []string{"08:00"}}},
			{"PATCH", "/api/v1/medications/{medication}", map[string]any{"dosage": "2"}},
			{"DELETE", "/api/v1/medications/{medication}", nil},
			{"POST", "/api/v1/medications/{medication}/log", map[string]any{"status": "SKIPPED", "scheduledTime": "2026-01-01T13:00:00Z"}},
			{"POST", "/api/v1/care-recipients/{recipient}/appointments", map[string]any{"title": "A", "startTime": "2030-01-01T10:00:00Z"}},
			{"PATCH", "/api/v1/appointments/{appointment}", map[string]any{"title": "B"}},
			{"DELETE", "/api/v1/appointments/{appointment}", nil},
			{"POST", "/api/v1/care-recipients/{recipient}/timeline", map[string]any{"type": "NOTE", "content": "x"}},
			{"PATCH", "/api/v1/timeline/{timeline}", map[string]any{"content": "y"}},
			{"DELETE", "/api/v1/timeline/{timeline}", nil},
			{"POST", "/api/v1/emergency/alert", map[string]any{"careRecipientId": rid, "type": "FALL", "description": "x"}},
			{"POST", "/api/v1/emergency/alerts/{alert}/resolve", map[string]any{}},
			{"POST", "/api/v1/care-recipients/{recipient}/shifts", map[string]any{"caregiverId": p.Caregiver.UserID, "startTime": "2030-01-01T08:00:00Z", "endTime": "2030-01-01T12:00:00Z"}},
			{"PATCH", "/api/v1/shifts/{shift}", map[string]any{"notes": "x"}},
			{"DELETE", "/api/v1/shifts/{shift}", nil},
			{"POST", "/api/v1/shifts/{shift}/check-out", map[string]any{}},
			{"PATCH", "/api/v1/families/{family}", map[string]any{"name": "Mine"}},
			{"POST", "/api/v1/families/{family}/invites", map[string]any{"email": "x@example.com", "role": "VIEWER"}},
			{"PATCH", "/api/v1/families/{family}/members/" + p.Caregiver.UserID, map[string]any{"role": "VIEWER"}},
			{"DELETE", "/api/v1/families/{family}/members/" + p.Caregiver.UserID, nil},
			{"GET", "/api/v1/families/{family}/audit", nil},
			{"DELETE", "/api/v1/documents/{document}", nil},
		}
		for _, w := range viewerWrites {
			path := fill(w.path, p.ids)
			wantError(t, p.Viewer.Do(w.method, path, fillBody(w.body, p.ids)), 403)
		}
		r := sendUpload(t, p.Viewer, rid, upload{fields: [][2]string{{"category", "OTHER"}}, file: "a.txt", content: strings.NewReader("hello")})
		wantError(t, r, 403)
		// ADMIN-only for a CAREGIVER.
		for _, w := range []struct{ method, path string }{
			{"DELETE", "/api/v1/care-recipients/{recipient}"},
			{"GET", "/api/v1/families/{family}/audit"},
			{"PATCH", "/api/v1/families/{family}"},
			{"POST", "/api/v1/families/{family}/invites"},
		} {
			var body any
			switch w.method {
			case "PATCH":
				body = map[string]any{"name": "Mine"}
			case "POST":
				body = map[string]any{"email": "y@example.com", "role": "VIEWER"}
			}
			wantError(t, p.Caregiver.Do(w.method, fill(w.path, p.ids), body), 403)
		}
	})
}

// "Never 500 for bad input" — for query parameters too. Every operation's
// query parameters, taken from the served OpenAPI document so new ones are
// swept as well, get malformed, oversized and unknown values; the answer is
// a 4xx in the contract's shape (or a 2xx where the value is harmless).
func TestContract_BadQueryParametersAreNever5xx(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		p := populate(t, e)
		r := e.Anon().Do("GET", "/api/docs/openapi.json", nil)
		var doc struct {
			Paths map[string]map[string]struct {
				Parameters []struct {
					Name, In string
					Schema   struct {
						Type any    `json:"type"`
						Enum []any  `json:"enum"`
						Ref  string `json:"$ref"`
					} `json:"schema"`
				} `json:"parameters"`
			} `json:"paths"`
		}
		if err := json.Unmarshal(r.Body, &doc); err != nil {
			t.Fatal(err)
		}
		pathIDs := map[string]string{
			"/care-recipients/{id}": p.RecipientID, "/families/{id}": p.ID, "/medications/{id}": p.ids["medication"],
		}
		bad := []string{"", "abc", "-1", "0", "201", "1.5", strings.Repeat("9", 40), "2026-13-45", "2026-02-30T25:61:00Z",
			"BOGUS", "%00", "null", "[]", strings.Repeat("x", 5000), "1e400", "NaN", "-9223372036854775809"}
		paths := make([]string, 0, len(doc.Paths))
		for path := range doc.Paths {
			paths = append(paths, path)
		}
		sort.Strings(paths)
		tried := 0
		for _, path := range paths {
			op, ok := doc.Paths[path]["get"]
			if !ok {
				continue
			}
			concrete := path
			for prefix, id := range pathIDs {
				if strings.HasPrefix(path, prefix) {
					concrete = strings.Replace(path, "{id}", id, 1)
				}
			}
			if strings.Contains(concrete, "{") {
				continue
			}
			for _, prm := range op.Parameters {
				if prm.In != "query" {
					continue
				}
				for _, v := range bad {
					u := "/api/v1" + concrete + "?" + url.Values{prm.Name: {v}}.Encode()
					res := p.Admin.Do("GET", u, nil)
					tried++
					if res.Status >= 500 {
						t.Errorf("GET %s: %d %s", u, res.Status, res.Body)
					} else if res.Status >= 400 {
						wantError(t, res, res.Status)
					}
				}
			}
		}
		if tried < 100 {
			t.Fatalf("only %d query values tried; the OpenAPI document lists too few parameters", tried)
		}
	})
}

// Path ids that don't exist, are malformed or huge are 404, never 5xx.
func TestContract_MalformedIDsAre404(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		c := e.Register("Ida Ids")
		for _, id := range []string{"med_00000000000000000000000000", "garbage", "cr_' OR 1=1 --", "%F0%9F%92%A9", strings.Repeat("a", 300)} {
			for _, path := range []string{"/api/v1/medications/", "/api/v1/care-recipients/", "/api/v1/appointments/", "/api/v1/timeline/",
				"/api/v1/shifts/", "/api/v1/documents/", "/api/v1/emergency/alerts/", "/api/v1/families/"} {
				r := c.Do("GET", path+id, nil)
				if r.Status != 404 {
					t.Errorf("GET %s%s: %d %s", path, id, r.Status, r.Body)
					continue
				}
				wantError(t, r, 404)
			}
		}
	})
}

// "Never 500 for bad input", on PostgreSQL too, which can't store a NUL or
// invalid UTF-8 in text: every string field of every JSON body, every query
// value, path ids, cursors and upload fields.
func TestContract_UnstorableTextIs4xxOnEveryDialect(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		p := populate(t, e)
		ids := map[string]string{"id": p.RecipientID, "uid": p.Viewer.UserID, "token": "tok", "inviteId": "inv_x"}
		for _, o := range hostileOps(t, e, ids) {
			if strings.HasSuffix(o.path, "/auth/logout") {
				continue
			}
			for name, ps := range o.props {
				if ps.Type != "string" {
					continue
				}
				body := `{"` + name + `":"a\u0000b"}`
				r := p.Admin.Do(o.method, o.path, body)
				if r.Status >= 500 || r.Status < 400 {
					t.Errorf("%s %s with %s: %d %s", o.method, o.path, body, r.Status, r.Body)
					continue
				}
				wantError(t, r, r.Status)
			}
		}
		// The message names the field, however deep.
		wantError(t, p.Admin.Do("PATCH", "/api/v1/care-recipients/"+p.RecipientID,
			`{"doctors":[{"name":"Dr\u0000","specialty":"x","phone":"+1 555 0100"}]}`), 400, "doctors[0].name")
		// An escaped backslash before u0000 is ordinary text.
		if r := p.Admin.Do("PATCH", "/api/v1/care-recipients/"+p.RecipientID, `{"notes":"C:\\u0000 is a path"}`); r.Status != 200 {
			t.Errorf("escaped backslash: %d %s", r.Status, r.Body)
		}
		for _, q := range []string{"familyId=fam_%00", "familyId=%FF%FE", "limit=%00", "cursor=%00"} {
			r := p.Admin.Do("GET", "/api/v1/care-recipients?"+q, nil)
			wantError(t, r, 400)
		}
		for _, q := range []string{"from=%00", "to=%FF", "type=%00", "cursor=" + url.QueryEscape(base64URL("1|doc_\x00"))} {
			wantError(t, p.Admin.Do("GET", "/api/v1/care-recipients/"+p.RecipientID+"/timeline?"+q, nil), 400)
		}
		for _, path := range []string{"/api/v1/medications/med_0000000000000000000000000%00", "/api/v1/medications/med_0000000000000000000000000%FF",
			"/api/v1/care-recipients/cr_000000000000000000000000%00%00/timeline"} {
			wantError(t, p.Admin.Do("GET", path, nil), 404)
		}
		r := sendUpload(t, p.Caregiver, p.RecipientID, upload{fields: [][2]string{{"category", "OTHER"}, {"name", "a\x00b"}, {"expiresAt", "\xff"}},
			file: "n\x00.txt", content: strings.NewReader("note")})
		if r.Status >= 500 {
			t.Errorf("upload with NULs: %d %s", r.Status, r.Body)
		}
	})
}

func base64URL(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

// A write sent without a body is read as {}: the answer names every
// required field, as class-validator would.
func TestContract_MissingBodyNamesTheRequiredFields(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		f := e.NewFamily("Bodiless", "UTC")
		wantError(t, f.Admin.Do("POST", "/api/v1/families", nil), 400, "name")
		wantError(t, f.Admin.Do("POST", "/api/v1/care-recipients/"+f.RecipientID+"/medications", nil), 400, "name", "dosage", "frequency")
		wantError(t, e.Anon().Do("POST", "/api/v1/auth/register", nil), 400, "email", "password", "fullName")
		// Where nothing is required, no body is fine.
		a := f.Caregiver.Must(201, "POST", "/api/v1/emergency/alert", map[string]any{"careRecipientId": f.RecipientID, "type": "FALL", "description": "x"})
		f.Viewer.Must(200, "POST", "/api/v1/emergency/alerts/"+a["id"].(string)+"/acknowledge", nil)
		f.Caregiver.Must(200, "POST", "/api/v1/emergency/alerts/"+a["id"].(string)+"/resolve", nil)
		f.Admin.Must(204, "POST", "/api/v1/auth/logout", nil)
	})
}

// "TRUST_PROXY (take the client address from X-Forwarded-For)": the auth
// rate limit counts per client address, the proxy's header naming it only
// when trusted.
func TestContract_TrustProxyDecidesWhoTheClientIs(t *testing.T) {
	login := func(e *apptest.Env, xff string, i int) int {
		req, _ := http.NewRequest("POST", e.URL+"/api/v1/auth/login",
			strings.NewReader(fmt.Sprintf(`{"email":"c%d@example.com","password":"wrong password"}`, i)))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Forwarded-For", xff)
		return e.Send(req).Status
	}
	trusted := apptest.New(t, apptest.Options{Env: map[string]string{"AUTH_RATE_LIMIT": "2", "TRUST_PROXY": "true"}})
	for i, xff := range []string{"203.0.113.1", "203.0.113.1", "203.0.113.2", "203.0.113.3"} {
		if s := login(trusted, xff, i); s != 401 {
			t.Errorf("trusted proxy, client %s attempt %d: %d", xff, i, s)
		}
	}
	if s := login(trusted, "203.0.113.1", 9); s != 429 {
		t.Errorf("trusted proxy, third attempt of one client: %d, want 429", s)
	}
	direct := apptest.New(t, apptest.Options{Env: map[string]string{"AUTH_RATE_LIMIT": "2"}})
	login(direct, "203.0.113.1", 0)
	login(direct, "203.0.113.2", 1)
	if s := login(direct, "203.0.113.3", 2); s != 429 {
		t.Errorf("untrusted X-Forwarded-For changed the client: %d, want 429", s)
	}
}
