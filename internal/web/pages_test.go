package web_test

import (
	"bytes"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/carecircle/carecircle/internal/apptest"
)

// seedCare gives the family's recipient an appointment, vitals, a shift
// and an active alert through the API.
func seedCare(t *testing.T, f *apptest.Family) (alertID string) {
	t.Helper()
	rid := f.RecipientID
	now := time.Now().UTC()
	f.Admin.Must(201, "POST", "/api/v1/care-recipients/"+rid+"/appointments", map[string]any{
		"title": "Cardiology", "startTime": now.Add(26 * time.Hour).Format(time.RFC3339), "assignedTo": f.Caregiver.UserID,
		"recurrence": "FREQ=WEEKLY"})
	for i, sys := range []float64{130, 142, 128} {
		f.Caregiver.Must(201, "POST", "/api/v1/care-recipients/"+rid+"/timeline", map[string]any{
			"type": "VITALS", "content": "", "occurredAt": now.Add(-time.Duration(3-i) * 24 * time.Hour).Format(time.RFC3339),
			"vitals": map[string]any{"systolic": sys, "diastolic": 80, "heartRate": 70 + i}})
	}
	f.Caregiver.Must(201, "POST", "/api/v1/care-recipients/"+rid+"/timeline", map[string]any{"type": "NOTE", "content": "Ate well <b>today</b>"})
	f.Admin.Must(201, "POST", "/api/v1/care-recipients/"+rid+"/shifts", map[string]any{
		"caregiverId": f.Caregiver.UserID, "startTime": now.Add(-time.Hour).Format(time.RFC3339), "endTime": now.Add(3 * time.Hour).Format(time.RFC3339)})
	uploadDocument(t, f.Caregiver, rid, "allergy-letter.txt", "MEDICAL", "Penicillin: hives (2019)\n")
	f.Admin.Must(201, "POST", "/api/v1/care-recipients/"+rid+"/medications", map[string]any{
		"name": "Metformin", "dosage": "500 mg", "frequency": "TWICE_DAILY", "times": []string{"08:00", "20:00"},
		"currentSupply": 3, "refillThreshold": 5, "instructions": "With food"})
	f.Admin.Must(201, "POST", "/api/v1/care-recipients/"+rid+"/medications", map[string]any{
		"name": "Paracetamol", "dosage": "1 g", "frequency": "AS_NEEDED", "minIntervalMinutes": 240, "maxDosesPer24h": 4})
	a := f.Caregiver.Must(201, "POST", "/api/v1/emergency/alert", map[string]any{"careRecipientId": rid, "type": "FALL", "description": "Fell in the kitchen"})
	return a["id"].(string)
}

func TestPages_RenderForEveryRole(t *testing.T) {
	apptest.Each(t, testPagesRenderForEveryRole)
}

func testPagesRenderForEveryRole(t *testing.T, e *apptest.Env) {
	f := e.NewFamily("Render", "America/New_York")
	alertID := seedCare(t, f)
	rid := f.RecipientID
	paths := []string{"/dashboard", "/family", "/settings", "/notifications", "/notifications?unread=1", "/care/" + rid, "/care/" + rid + "/calendar",
		"/care/" + rid + "/calendar?view=month", "/care/" + rid + "/calendar?view=month&month=2026-02", "/care/" + rid + "/timeline",
		"/care/" + rid + "/timeline?type=VITALS", "/care/" + rid + "/shifts", "/care/" + rid + "/documents", "/care/" + rid + "/medications",
		"/care/" + rid + "/medications?date=2026-03-08", "/care/" + rid + "/emergency",
		"/care/" + rid + "/emergency/card", "/alerts/" + alertID}
	for _, who := range []*apptest.Client{f.Admin, f.Caregiver, f.Viewer} {
		b := signIn(t, who)
		for _, p := range paths {
			body := b.mustGet(p)
			if strings.Contains(body, "<b>today</b>") {
				t.Errorf("%s: user content not escaped", p)
			}
		}
		body := b.mustGet("/care/" + rid + "/timeline")
		if !strings.Contains(body, `<svg class="chart"`) || !strings.Contains(body, "Blood pressure") {
			t.Errorf("timeline: no vitals chart")
		}
	}
	admin := signIn(t, f.Admin)
	med := f.Admin.Must(200, "GET", "/api/v1/care-recipients/"+rid+"/medications", nil)["items"].([]any)[0].(map[string]any)["id"].(string)
	for _, p := range []string{"/care/new?family=" + f.ID, "/care/" + rid + "/edit", "/care/" + rid + "/calendar/new",
		"/care/" + rid + "/medications/new", "/care/" + rid + "/medications/" + med + "/edit", "/care/" + rid + "/medications/" + med + "/history"} {
		admin.mustGet(p)
	}
}

func TestPages_SignedOutGoToLoginAndBack(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	b := newBrowser(t, e)
	p := b.get("/care/cr_x/timeline?type=NOTE")
	if p.Status != http.StatusSeeOther || p.Header.Get("Location") != "/login?next="+url.QueryEscape("/care/cr_x/timeline?type=NOTE") {
		t.Fatalf("signed out: %d %s", p.Status, p.Header.Get("Location"))
	}
	c := e.Register("Back Again")
	loc := b.mustPost("/login", url.Values{"email": {c.Email}, "password": {c.Password}, "next": {"/settings"}})
	if loc != "/settings" {
		t.Fatalf("after login: %q, want /settings", loc)
	}
	for _, next := range []string{"//evil.example/x", "https://evil.example/", "/\\evil.example", "javascript:alert(1)"} {
		b := newBrowser(t, e)
		if loc := b.mustPost("/login", url.Values{"email": {c.Email}, "password": {c.Password}, "next": {next}}); loc != "/dashboard" {
			t.Errorf("next=%q: redirected to %q", next, loc)
		}
	}
}

// uploadDocument uploads a text file through the API and returns its id.
func uploadDocument(t *testing.T, c *apptest.Client, rid, name, category, content string) string {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	mw.WriteField("category", category)
	fw, _ := mw.CreateFormFile("file", name)
	fw.Write([]byte(content))
	mw.Close()
	req, _ := http.NewRequest(http.MethodPost, c.Env.URL+"/api/v1/care-recipients/"+rid+"/documents", &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+c.Token)
	r := c.Env.Send(req)
	if r.Status != http.StatusCreated {
		t.Fatalf("upload: %d %s", r.Status, r.Body)
	}
	return r.Map()["id"].(string)
}
