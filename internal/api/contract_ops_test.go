package api_test

import (
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/carecircle/carecircle/internal/apptest"
)

// DESIGN §1: "one port (default 3000) serves ... the JSON API at /api/v1,
// the OpenAPI document at /api/docs/openapi.json with a docs page at
// /api/docs, WebSocket at /api/v1/ws, GET /healthz, GET /readyz, GET
// /metrics."

func TestContract_HealthReadyAndMetrics(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	for _, path := range []string{"/healthz", "/readyz"} {
		r := e.Anon().Do("GET", path, nil)
		if r.Status != 200 {
			t.Errorf("GET %s: %d %s", path, r.Status, r.Body)
		}
	}
	e.Register("Metric Maker") // some traffic to count
	r := e.Anon().Do("GET", "/metrics", nil)
	if r.Status != 200 || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/plain") {
		t.Fatalf("GET /metrics: %d %q", r.Status, r.Header.Get("Content-Type"))
	}
	// Prometheus text exposition: HELP/TYPE lines and samples.
	text := r.String()
	if !strings.Contains(text, "# HELP ") || !strings.Contains(text, "# TYPE ") {
		t.Errorf("/metrics is not Prometheus text: %.300s", text)
	}
	sample := regexp.MustCompile(`(?m)^[a-zA-Z_:][a-zA-Z0-9_:]*(\{[^}]*\})? [0-9.eE+\-]+|NaN|[+-]Inf$`)
	if !sample.MatchString(text) || !strings.Contains(text, "carecircle_http_requests_total") {
		t.Errorf("/metrics has no request samples: %.300s", text)
	}
}

// "the OpenAPI document at /api/docs/openapi.json": a valid OpenAPI 3
// document listing DESIGN §3's endpoints.
func TestContract_OpenAPIDocument(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	r := e.Anon().Do("GET", "/api/docs/openapi.json", nil)
	if r.Status != 200 || !strings.Contains(r.Header.Get("Content-Type"), "json") {
		t.Fatalf("openapi.json: %d %q", r.Status, r.Header.Get("Content-Type"))
	}
	var doc struct {
		OpenAPI string `json:"openapi"`
		Info    struct {
			Title, Version string
		} `json:"info"`
		Servers []struct{ URL string } `json:"servers"`
		Paths   map[string]map[string]struct {
			OperationID string                     `json:"operationId"`
			Responses   map[string]json.RawMessage `json:"responses"`
		} `json:"paths"`
	}
	if err := json.Unmarshal(r.Body, &doc); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.") || doc.Info.Title == "" || doc.Info.Version == "" {
		t.Errorf("openapi %q, info %+v", doc.OpenAPI, doc.Info)
	}
	prefix := ""
	if len(doc.Servers) > 0 {
		prefix = strings.TrimSuffix(doc.Servers[0].URL, "/")
	}
	ids := map[string]bool{}
	for path, ops := range doc.Paths {
		for method, o := range ops {
			if o.OperationID == "" || len(o.Responses) == 0 {
				t.Errorf("%s %s: no operationId or responses", method, path)
			}
			if ids[o.OperationID] {
				t.Errorf("operationId %s twice", o.OperationID)
			}
			ids[o.OperationID] = true
		}
	}
	for _, want := range []string{
		"POST /auth/register", "POST /auth/login", "POST /auth/refresh", "POST /auth/logout", "POST /auth/forgot-password",
		"POST /auth/reset-password", "POST /auth/verify-email", "GET /auth/me", "PATCH /auth/me",
		"POST /families", "GET /families", "GET /families/{id}", "PATCH /families/{id}", "GET /families/{id}/members",
		"PATCH /families/{id}/members/{uid}", "DELETE /families/{id}/members/{uid}", "POST /families/{id}/invites",
		"GET /invites/{token}", "POST /invites/{token}/accept",
		"GET /care-recipients", "POST /care-recipients", "GET /care-recipients/{id}", "PATCH /care-recipients/{id}", "DELETE /care-recipients/{id}",
		"GET /care-recipients/{id}/medications", "POST /care-recipients/{id}/medications", "GET /care-recipients/{id}/medications/schedule",
		"GET /medications/{id}", "PATCH /medications/{id}", "DELETE /medications/{id}", "POST /medications/{id}/log", "GET /medications/{id}/history",
		"GET /care-recipients/{id}/appointments", "POST /care-recipients/{id}/appointments", "GET /appointments/{id}",
		"PATCH /appointments/{id}", "DELETE /appointments/{id}", "GET /care-recipients/{id}/calendar.ics",
		"GET /care-recipients/{id}/documents", "POST /care-recipients/{id}/documents", "GET /documents/{id}", "DELETE /documents/{id}",
		"GET /care-recipients/{id}/timeline", "POST /care-recipients/{id}/timeline", "GET /timeline/{id}", "PATCH /timeline/{id}", "DELETE /timeline/{id}",
		"POST /emergency/alert", "POST /emergency/alerts/{id}/acknowledge", "POST /emergency/alerts/{id}/resolve",
		"GET /care-recipients/{id}/emergency-alerts", "GET /care-recipients/{id}/emergency-info",
		"GET /care-recipients/{id}/shifts", "POST /care-recipients/{id}/shifts", "POST /shifts/{id}/check-in", "POST /shifts/{id}/check-out",
		"PATCH /shifts/{id}", "DELETE /shifts/{id}", "GET /families/{id}/audit",
	} {
		method, path, _ := strings.Cut(want, " ")
		full := prefix + path
		if !strings.HasPrefix(full, "/api/v1/") {
			t.Fatalf("server URL %q + path %q is not under /api/v1", prefix, path)
		}
		if _, ok := doc.Paths[path][strings.ToLower(method)]; !ok {
			t.Errorf("OpenAPI lacks %s", want)
		}
	}
}

// "a docs page at /api/docs": HTML that loads nothing from elsewhere.
func TestContract_DocsPageIsSelfContainedHTML(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	r := e.Anon().Do("GET", "/api/docs", nil)
	if r.Status != 200 || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("/api/docs: %d %q", r.Status, r.Header.Get("Content-Type"))
	}
	external := regexp.MustCompile(`(?i)(src|href)=["']?(https?:)?//`)
	if m := external.FindString(r.String()); m != "" {
		t.Errorf("/api/docs loads from another origin: %s", m)
	}
	if !strings.Contains(r.String(), "/api/docs/openapi.json") || !strings.Contains(r.String(), "/api/v1/medications/{id}/log") {
		t.Errorf("/api/docs does not describe the API: %.300s", r.Body)
	}
}

// Security headers on every response, the API's errors included.
func TestContract_SecurityHeaders(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	c := e.Register("Hedda Headers")
	for _, r := range []*apptest.Response{
		c.Do("GET", "/api/v1/auth/me", nil),
		e.Anon().Do("GET", "/api/v1/auth/me", nil),
		e.Anon().Do("GET", "/api/v1/nowhere", nil),
		e.Anon().Do("GET", "/api/docs", nil),
		e.Anon().Do("GET", "/healthz", nil),
	} {
		h := r.Header
		if h.Get("X-Content-Type-Options") != "nosniff" || h.Get("X-Frame-Options") == "" && !strings.Contains(h.Get("Content-Security-Policy"), "frame-ancestors") ||
			h.Get("Referrer-Policy") == "" || h.Get("Content-Security-Policy") == "" {
			t.Errorf("status %d: security headers missing: %v", r.Status, h)
		}
	}
	// A cross-site write with the cookie is refused (CSRF).
	req, _ := http.NewRequest("POST", e.URL+"/api/v1/families", strings.NewReader(`{"name":"x"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Origin", "https://evil.example")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	req.AddCookie(&http.Cookie{Name: "accessToken", Value: c.Token})
	if r := e.Send(req); r.Status != 403 {
		t.Errorf("cross-site POST: %d %s", r.Status, r.Body)
	}
}
