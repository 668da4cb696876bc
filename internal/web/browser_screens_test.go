package web_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/carecircle/carecircle/internal/apptest"
)

// screenshotDir is where the screenshot test writes its images for review
// (git-ignored); CARECIRCLE_SCREENSHOTS overrides it.
func screenshotDir(t *testing.T) string {
	dir := os.Getenv("CARECIRCLE_SCREENSHOTS")
	if dir == "" {
		abs, err := filepath.Abs(filepath.Join("testdata", "screenshots"))
		if err != nil {
			t.Fatal(err)
		}
		dir = abs
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatalf("screenshot folder: %v", err)
	}
	return dir
}

// TestBrowser_ScreenshotsHaveNoHorizontalOverflow renders the main pages
// of a family with data on a 360 px phone and a 1280 px laptop, saves a
// screenshot of each, and checks that nothing makes the page scroll
// sideways.
func TestBrowser_ScreenshotsHaveNoHorizontalOverflow(t *testing.T) {
	chromiumPath(t)
	e := apptest.New(t, apptest.Options{})
	f := e.NewFamily("Okafor", "America/New_York")
	seedCare(t, f)
	f.Admin.Must(200, "POST", "/api/v1/emergency/alerts/"+firstAlert(t, f)+"/acknowledge", nil)
	rid := f.RecipientID
	dir := screenshotDir(t)
	b := newTab(t, e, "Admin")
	b.open("/login")
	b.fill(map[string]string{"#f-email": f.Admin.Email, "#f-password": f.Admin.Password})
	b.submit(`form[action="/login"] button[type=submit]`)

	pages := []struct{ name, path string }{
		{"dashboard", "/dashboard"},
		{"overview", "/care/" + rid},
		{"medications", "/care/" + rid + "/medications"},
		{"calendar", "/care/" + rid + "/calendar?view=month"},
		{"agenda", "/care/" + rid + "/calendar"},
		{"timeline", "/care/" + rid + "/timeline"},
		{"shifts", "/care/" + rid + "/shifts"},
		{"emergency", "/care/" + rid + "/emergency"},
		{"family", "/family"},
	}
	for _, size := range []struct {
		name string
		w, h int64
		opts []chromedp.EmulateViewportOption
	}{
		{"phone-360x740", 360, 740, []chromedp.EmulateViewportOption{chromedp.EmulateMobile}},
		{"laptop-1280x800", 1280, 800, nil},
	} {
		b.do("viewport "+size.name, chromedp.EmulateViewport(size.w, size.h, size.opts...))
		// The full-screen alert, then (acknowledged) the pages beneath.
		f.Caregiver.Must(201, "POST", "/api/v1/emergency/alert", map[string]any{"careRecipientId": rid, "type": "MEDICAL",
			"description": "Short of breath, ambulance called", "location": "Living room"})
		b.open("/dashboard")
		b.waitFor("the emergency alert", `!!document.getElementById('emergency-modal')`)
		shoot(t, b, dir, "alert-"+size.name)
		b.do("acknowledge", clickCSS(`#emergency-modal [data-ack] button`))
		b.waitFor("the alert to close", `!document.getElementById('emergency-modal')`)
		for _, p := range pages {
			b.open(p.path)
			if over := eval[int](b, `document.documentElement.scrollWidth - document.documentElement.clientWidth`); over > 0 {
				t.Errorf("%s at %s: %d px of horizontal overflow", p.name, size.name, over)
				wide := eval[string](b, `[...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > document.documentElement.clientWidth + 1).slice(0, 5).map(e => e.tagName + '.' + e.className).join(', ')`)
				t.Logf("wider than the page: %s", wide)
			}
			shoot(t, b, dir, p.name+"-"+size.name)
		}
	}
	t.Logf("screenshots are in %s", dir)
}

func shoot(t *testing.T, b *tab, dir, name string) {
	t.Helper()
	ctx, cancel := b.step()
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.WriteFile(filepath.Join(dir, strings.ReplaceAll(name, "/", "-")+".png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
}

// firstAlert returns the id of the family's newest open alert.
func firstAlert(t *testing.T, f *apptest.Family) string {
	t.Helper()
	items := f.Admin.Must(200, "GET", "/api/v1/care-recipients/"+f.RecipientID+"/emergency-alerts", nil)["items"].([]any)
	return items[0].(map[string]any)["id"].(string)
}
