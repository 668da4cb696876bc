package web_test

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/carecircle/carecircle"
	"github.com/carecircle/carecircle/internal/apptest"
)

var assetRef = regexp.MustCompile(`(?:href|src)="(/static/[^"]+\.(?:css|js))"`)

// fetchGzip fetches a URL asking for gzip and returns the bytes on the
// wire and the decoded body.
func fetchGzip(t *testing.T, b *browser, path string, header http.Header) (*http.Response, []byte, []byte) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, b.e.URL+path, nil)
	req.Header.Set("Accept-Encoding", "gzip")
	for k, v := range header {
		req.Header[k] = v
	}
	// A transport that doesn't decompress on its own, to see the wire.
	c := &http.Client{Jar: b.http.Jar, Transport: &http.Transport{DisableCompression: true},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	wire, _ := io.ReadAll(res.Body)
	body := wire
	if res.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(bytes.NewReader(wire))
		if err != nil {
			t.Fatalf("%s: bad gzip: %v", path, err)
		}
		body, _ = io.ReadAll(zr)
	}
	return res, wire, body
}

func TestStatic_FingerprintedCachedAndCompressed(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	b := newBrowser(t, e)
	page := b.mustGet("/login")
	refs := assetRef.FindAllStringSubmatch(page, -1)
	if len(refs) < 2 {
		t.Fatalf("login page links %d assets", len(refs))
	}
	for _, m := range refs {
		res, wire, body := fetchGzip(t, b, m[1], nil)
		if res.StatusCode != 200 || res.Header.Get("Content-Encoding") != "gzip" || len(wire) >= len(body) {
			t.Errorf("%s: status %d, encoding %q, %d bytes on the wire for %d", m[1], res.StatusCode, res.Header.Get("Content-Encoding"), len(wire), len(body))
		}
		if cc := res.Header.Get("Cache-Control"); !strings.Contains(cc, "immutable") || !strings.Contains(cc, "max-age=31536000") {
			t.Errorf("%s: Cache-Control %q", m[1], cc)
		}
		res, _, _ = fetchGzip(t, b, m[1], http.Header{"If-None-Match": {res.Header.Get("ETag")}})
		if res.StatusCode != http.StatusNotModified {
			t.Errorf("%s with its ETag: status %d, want 304", m[1], res.StatusCode)
		}
	}
	for path, want := range map[string]int{"/static/app.0000000000.css": 404, "/static/docs.css": 200, "/static/web.go": 404, "/static/sw.js": 404} {
		if got := b.get(path).Status; got != want {
			t.Errorf("GET %s: %d, want %d", path, got, want)
		}
	}
	if p := b.get("/api/docs"); p.Status != 200 || !strings.Contains(p.Body, "/static/docs.css") {
		t.Errorf("API docs page: %d", p.Status)
	}

	sw := b.get("/sw.js")
	if sw.Status != 200 || sw.Header.Get("Cache-Control") != "no-cache" || strings.Contains(sw.Body, "__SHELL__") || strings.Contains(sw.Body, "__VERSION__") ||
		!strings.Contains(sw.Body, "/static/app.") {
		t.Errorf("service worker: %d %q %.200s", sw.Status, sw.Header.Get("Cache-Control"), sw.Body)
	}
	var m struct {
		Icons     []struct{ Src, Sizes, Type, Purpose string }
		Shortcuts []struct{ Name, URL string }
		StartURL  string `json:"start_url"`
	}
	mf := b.get("/manifest.webmanifest")
	if err := json.Unmarshal([]byte(mf.Body), &m); err != nil || m.StartURL != "/dashboard" {
		t.Fatalf("manifest: %v %s", err, mf.Body)
	}
	names := map[string]bool{}
	for _, s := range m.Shortcuts {
		names[s.Name] = true
	}
	if !names["Emergency"] || !names["Medications"] {
		t.Errorf("manifest shortcuts: %+v", m.Shortcuts)
	}
	for _, ic := range m.Icons {
		p := b.get(ic.Src)
		if p.Status != 200 || p.Header.Get("Content-Type") != ic.Type {
			t.Errorf("icon %s: %d %s", ic.Src, p.Status, p.Header.Get("Content-Type"))
		}
	}
}

// seedBigFamily builds a family with three care recipients, each with
// appointments, timeline entries and a shift, for page weight and speed.
func seedBigFamily(t testing.TB, e *apptest.Env) *apptest.Family {
	f := e.NewFamily("Weight", "America/Chicago")
	ids := []string{f.RecipientID, f.Admin.CreateRecipient(f.ID, "Grandma", "Europe/Rome"), f.Admin.CreateRecipient(f.ID, "Uncle", "Asia/Kolkata")}
	now := time.Now().UTC()
	for n, rid := range ids {
		for i := 0; i < 3; i++ {
			f.Admin.Must(201, "POST", "/api/v1/care-recipients/"+rid+"/appointments", map[string]any{
				"title": "Check-up " + string(rune('A'+i)), "startTime": now.Add(time.Duration(20+i*30) * time.Hour).Format(time.RFC3339),
				"location": "Clinic on Main Street, second floor", "assignedTo": f.Caregiver.UserID})
		}
		for i := 0; i < 5; i++ {
			f.Caregiver.Must(201, "POST", "/api/v1/care-recipients/"+rid+"/timeline", map[string]any{
				"type": "NOTE", "content": strings.Repeat("A good day, ate lunch and walked. ", 4),
				"occurredAt": now.Add(-time.Duration(i) * time.Hour).Format(time.RFC3339)})
		}
		who, start := f.Caregiver, now.Add(-time.Hour)
		switch n {
		case 1:
			who = f.Admin
		case 2:
			start = now.Add(10 * time.Hour)
		}
		f.Admin.Must(201, "POST", "/api/v1/care-recipients/"+rid+"/shifts", map[string]any{"caregiverId": who.UserID,
			"startTime": start.Format(time.RFC3339), "endTime": start.Add(6 * time.Hour).Format(time.RFC3339)})
	}
	return f
}

// TestPageWeight_WholePageUnder100KBCompressed adds up the dashboard and
// the other main pages as they travel: gzipped HTML plus every stylesheet
// and script they load.
func TestPageWeight_WholePageUnder100KBCompressed(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	f := seedBigFamily(t, e)
	b := signIn(t, f.Admin)
	rid := f.RecipientID
	for _, path := range []string{"/dashboard", "/care/" + rid + "/timeline", "/care/" + rid + "/calendar?view=month", "/care/" + rid + "/emergency"} {
		res, wire, body := fetchGzip(t, b, path, nil)
		if res.StatusCode != 200 || res.Header.Get("Content-Encoding") != "gzip" {
			t.Fatalf("%s: status %d, encoding %q", path, res.StatusCode, res.Header.Get("Content-Encoding"))
		}
		total, detail := len(wire), []string{path + " " + itoa(len(wire))}
		for _, m := range assetRef.FindAllStringSubmatch(string(body), -1) {
			_, w, _ := fetchGzip(t, b, m[1], nil)
			total += len(w)
			detail = append(detail, m[1]+" "+itoa(len(w)))
		}
		t.Logf("%s: %d bytes compressed (%s)", path, total, strings.Join(detail, ", "))
		if total > 100*1024 {
			t.Errorf("%s weighs %d bytes compressed, over 100 KB", path, total)
		}
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

var (
	inlineScript  = regexp.MustCompile(`<script(?:\s[^>]*)?>`)
	inlineStyle   = regexp.MustCompile(`(?i)\sstyle\s*=|<style`)
	inlineHandler = regexp.MustCompile(`(?i)\son[a-z]+\s*=`)
)

// TestPages_StrictCSPHolds checks every page for what the policy would
// block: inline scripts, inline styles and event handler attributes.
func TestPages_StrictCSPHolds(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	f := e.NewFamily("Policy", "Europe/Paris")
	alertID := seedCare(t, f)
	rid := f.RecipientID
	b := signIn(t, f.Admin)
	anon := newBrowser(t, e)
	check := func(who *browser, path string) {
		p := who.get(path)
		if p.Status >= 500 {
			t.Errorf("%s: %d", path, p.Status)
		}
		if csp := p.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") {
			t.Errorf("%s: CSP %q", path, csp)
		}
		for _, tag := range inlineScript.FindAllString(p.Body, -1) {
			if !strings.Contains(tag, " src=") {
				t.Errorf("%s: inline script %s", path, tag)
			}
		}
		if m := inlineStyle.FindString(p.Body); m != "" {
			t.Errorf("%s: inline style %q", path, m)
		}
		if m := inlineHandler.FindString(p.Body); m != "" {
			t.Errorf("%s: inline event handler %q", path, m)
		}
	}
	for _, path := range []string{"/", "/login", "/register", "/forgot-password", "/reset-password?token=x", "/verify-email?token=x", "/accept-invite/nope", "/offline", "/nowhere"} {
		check(anon, path)
	}
	for _, path := range []string{"/dashboard", "/family", "/settings", "/notifications", "/care/new", "/care/" + rid, "/care/" + rid + "/edit", "/care/" + rid + "/calendar",
		"/care/" + rid + "/calendar?view=month", "/care/" + rid + "/calendar/new", "/care/" + rid + "/timeline", "/care/" + rid + "/shifts",
		"/care/" + rid + "/emergency", "/care/" + rid + "/emergency/card", "/alerts/" + alertID, "/care/" + rid + "/documents",
		"/care/" + rid + "/medications", "/care/" + rid + "/medications/new"} {
		check(b, path)
	}
}

// TestPages_OtherFamiliesSeeNotFound: every page and action of a care
// recipient answers 404 to a member of another family, and changes nothing.
func TestPages_OtherFamiliesSeeNotFound(t *testing.T) {
	apptest.Each(t, testPagesOtherFamiliesSeeNotFound)
}

func testPagesOtherFamiliesSeeNotFound(t *testing.T, e *apptest.Env) {
	victim := e.NewFamily("Victim", "UTC")
	alertID := seedCare(t, victim)
	rid := victim.RecipientID
	tl := victim.Admin.Must(200, "GET", "/api/v1/care-recipients/"+rid+"/timeline", nil)["items"].([]any)[0].(map[string]any)["id"].(string)
	apt := victim.Admin.Must(200, "GET", "/api/v1/care-recipients/"+rid+"/appointments", nil)["items"].([]any)[0].(map[string]any)["id"].(string)
	shf := victim.Admin.Must(200, "GET", "/api/v1/care-recipients/"+rid+"/shifts", nil)["items"].([]any)[0].(map[string]any)["id"].(string)
	doc := victim.Admin.Must(200, "GET", "/api/v1/care-recipients/"+rid+"/documents", nil)["items"].([]any)[0].(map[string]any)["id"].(string)
	med := victim.Admin.Must(200, "GET", "/api/v1/care-recipients/"+rid+"/medications", nil)["items"].([]any)[0].(map[string]any)["id"].(string)
	other := e.NewFamily("Other", "UTC")
	b := signIn(t, other.Admin)
	for _, path := range []string{"/care/" + rid, "/care/" + rid + "/edit", "/care/" + rid + "/calendar", "/care/" + rid + "/calendar/new",
		"/care/" + rid + "/calendar/" + apt + "/edit", "/care/" + rid + "/timeline", "/care/" + rid + "/timeline/" + tl + "/edit",
		"/care/" + rid + "/shifts", "/care/" + rid + "/emergency", "/care/" + rid + "/emergency/card", "/alerts/" + alertID,
		"/care/" + rid + "/documents", "/care/" + rid + "/documents/" + doc + "/download",
		"/care/" + rid + "/medications", "/care/" + rid + "/medications/new", "/care/" + rid + "/medications/" + med + "/edit",
		"/care/" + rid + "/medications/" + med + "/history", "/care/" + other.RecipientID + "/medications/" + med + "/history",
		// The other family's own recipient with the victim's rows.
		"/care/" + other.RecipientID + "/timeline/" + tl + "/edit", "/care/" + other.RecipientID + "/calendar/" + apt + "/edit"} {
		if p := b.get(path); p.Status != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404", path, p.Status)
		}
	}
	form := url.Values{"medicationId": {med}, "status": {"GIVEN"}, "name": {"x"}, "dosage": {"1"}, "frequency": {"AS_NEEDED"}, "title": {"x"}, "startTime": {"2030-01-01T10:00"}, "content": {"x"}, "type": {"FALL"}, "description": {"x"},
		"firstName": {"x"}, "lastName": {"x"}, "timezone": {"UTC"}, "notes": {"x"}, "confirm": {"1"}, "role": {"ADMIN"}, "email": {"a@b.co"}}
	for _, path := range []string{"/care/" + rid + "/edit", "/care/" + rid + "/delete", "/care/" + rid + "/calendar", "/care/" + rid + "/calendar/" + apt + "/edit",
		"/care/" + rid + "/calendar/" + apt + "/cancel", "/care/" + rid + "/calendar/subscribe", "/care/" + rid + "/timeline",
		"/care/" + rid + "/timeline/" + tl + "/edit", "/care/" + rid + "/timeline/" + tl + "/delete", "/care/" + rid + "/shifts",
		"/care/" + rid + "/shifts/" + shf + "/delete", "/care/" + rid + "/shifts/" + shf + "/check-in", "/care/" + rid + "/emergency",
		"/alerts/" + alertID + "/acknowledge", "/alerts/" + alertID + "/resolve", "/family/" + victim.ID + "/invites",
		"/care/" + other.RecipientID + "/timeline/" + tl + "/delete", "/care/" + other.RecipientID + "/shifts/" + shf + "/delete",
		"/care/" + rid + "/documents", "/care/" + rid + "/documents/" + doc + "/delete", "/care/" + other.RecipientID + "/documents/" + doc + "/delete",
		"/care/" + rid + "/medications", "/care/" + rid + "/medications/" + med + "/edit", "/care/" + rid + "/medications/" + med + "/deactivate",
		"/care/" + rid + "/medications/" + med + "/reactivate", "/care/" + rid + "/doses", "/care/" + other.RecipientID + "/medications/" + med + "/deactivate"} {
		if p := b.post(path, form); p.Status != http.StatusNotFound {
			t.Errorf("POST %s: %d, want 404 (%s)", path, p.Status, p.Header.Get("Location"))
		}
	}
	// Nothing changed for the victim.
	if n := len(victim.Admin.Must(200, "GET", "/api/v1/care-recipients/"+rid+"/timeline", nil)["items"].([]any)); n != 4 {
		t.Errorf("victim's timeline has %d entries, want 4", n)
	}
	victim.Admin.Must(200, "GET", "/api/v1/documents/"+doc+"/info", nil)
	if m := victim.Admin.Must(200, "GET", "/api/v1/medications/"+med, nil); m["isActive"] != true || m["name"] != "Metformin" {
		t.Errorf("victim's medication changed: %v", m)
	}
	if n := len(victim.Admin.Must(200, "GET", "/api/v1/medications/"+med+"/history", nil)["items"].([]any)); n != 0 {
		t.Errorf("victim's medication has %d dose logs", n)
	}
	a := victim.Admin.Must(200, "GET", "/api/v1/emergency/alerts/"+alertID, nil)
	if a["status"] != "ACTIVE" {
		t.Errorf("victim's alert is %v", a["status"])
	}
}

// TestSession_ExpiredAccessTokenIsRenewedOnce: a page opened after the
// access token expired renews the session from the refresh cookie; tabs
// restored at once with the same old cookies all get in, and the session
// survives (no reuse alarm).
func TestSession_ExpiredAccessTokenIsRenewedOnce(t *testing.T) {
	clock := carecircle.NewManualClock(time.Now())
	e := apptest.New(t, apptest.Options{Clock: clock})
	c := e.Register("Morning Person")
	b := signIn(t, c)
	b.mustGet("/dashboard")
	clock.Advance(carecircle.AccessTokenTTL + time.Minute)

	u, _ := url.Parse(e.URL)
	stale := b.http.Jar.Cookies(u)
	var wg sync.WaitGroup
	statuses := make([]int, 4)
	for i := range statuses {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			tabB := newBrowser(t, e)
			tabB.http.Jar.SetCookies(u, stale)
			statuses[i] = tabB.get("/dashboard").Status
		}(i)
	}
	wg.Wait()
	for i, s := range statuses {
		if s != http.StatusOK {
			t.Errorf("tab %d: status %d, want 200", i, s)
		}
	}
	p := b.get("/dashboard")
	if p.Status != http.StatusOK {
		t.Fatalf("after renewal: %d", p.Status)
	}
	if len(p.Header.Values("Set-Cookie")) == 0 {
		t.Errorf("no new cookies were set")
	}
	if p := b.get("/dashboard"); p.Status != http.StatusOK {
		t.Errorf("with the renewed cookies: %d", p.Status)
	}
	// Signed out elsewhere: the page goes to the login form.
	b.mustPost("/logout", nil)
	if p := b.get("/dashboard"); p.Status != http.StatusSeeOther || !strings.HasPrefix(p.Header.Get("Location"), "/login") {
		t.Errorf("after logout: %d %s", p.Status, p.Header.Get("Location"))
	}
}
