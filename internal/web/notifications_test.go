package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/carecircle/carecircle/internal/apptest"
)

// waitUnread polls the API until c has an unread notification.
func waitUnread(t *testing.T, c *apptest.Client) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		if n := c.Must(200, "GET", "/api/v1/notifications/unread-count", nil)["count"].(float64); n > 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("no notification arrived")
		}
		<-tick.C
	}
}

func TestNotifications_BellInboxOpenAndReadAll(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	f := e.NewFamily("Bell", "UTC")
	f.Caregiver.Must(201, "POST", "/api/v1/emergency/alert", map[string]any{"careRecipientId": f.RecipientID, "type": "FALL", "description": "Fell on the stairs"})
	waitUnread(t, f.Viewer)
	b := signIn(t, f.Viewer)
	dash := b.mustGet("/dashboard")
	if !strings.Contains(dash, `<span class="badge">`) || !strings.Contains(dash, "unread") {
		t.Fatalf("no unread count on the bell")
	}
	inbox := b.mustGet("/notifications")
	if !strings.Contains(inbox, "notice-unread") || !strings.Contains(inbox, "Fell on the stairs") {
		t.Fatalf("inbox: %s", messagesOf(inbox))
	}
	items := f.Viewer.Must(200, "GET", "/api/v1/notifications", nil)["items"].([]any)
	n := items[0].(map[string]any)
	if loc := b.mustPost("/notifications/"+n["id"].(string)+"/open", nil); loc != n["url"] || !strings.HasPrefix(loc, "/") {
		t.Errorf("open went to %q, the notice is about %q", loc, n["url"])
	}
	if got := f.Viewer.Must(200, "GET", "/api/v1/notifications?unread=true", nil); len(got["items"].([]any)) != len(items)-1 {
		t.Errorf("opening didn't mark it read")
	}
	b.mustPost("/notifications/read-all", nil)
	if c := f.Viewer.Must(200, "GET", "/api/v1/notifications/unread-count", nil)["count"]; c != float64(0) {
		t.Errorf("unread after read-all: %v", c)
	}
	// Someone else's notice is not found.
	if p := signIn(t, e.Register("Stranger")).post("/notifications/"+n["id"].(string)+"/open", nil); p.Status != http.StatusNotFound {
		t.Errorf("stranger opening a notice: %d", p.Status)
	}
}

func TestSettings_NotificationPreferences(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	c := e.Register("Quiet Person")
	b := signIn(t, c)
	page := b.mustGet("/settings")
	if !strings.Contains(page, `name="emergencies" value="email"`) || !strings.Contains(page, `id="push-settings"`) {
		t.Fatalf("no notification settings")
	}
	// Emergencies can't be turned off entirely; quiet hours need two times.
	p := b.post("/settings/notifications", url.Values{"doseReminders": {"inApp"}, "quietHours.enabled": {"1"},
		"quietHours.start": {"22:00"}, "quietHours.end": {"22:00"}})
	if p.Status != http.StatusBadRequest || !strings.Contains(p.Body, "Emergencies must keep at least one channel on") ||
		!strings.Contains(p.Body, "End must differ from quiet hours start") {
		t.Fatalf("invalid preferences: %d %s", p.Status, messagesOf(p.Body))
	}
	b.mustPost("/settings/notifications", url.Values{"emergencies": {"inApp", "push", "email"}, "doseReminders": {"push"},
		"familyActivity": {"inApp", "email"}, "quietHours.enabled": {"1"}, "quietHours.start": {"21:30"}, "quietHours.end": {"06:45"}})
	got := c.Must(200, "GET", "/api/v1/notifications/preferences", nil)
	cats := got["categories"].(map[string]any)
	dose, fam := cats["doseReminders"].(map[string]any), cats["familyActivity"].(map[string]any)
	q := got["quietHours"].(map[string]any)
	if dose["push"] != true || dose["inApp"] != false || fam["email"] != false || q["enabled"] != true || q["start"] != "21:30" {
		t.Errorf("stored preferences: %v", got)
	}
}
