package web_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/carecircle/carecircle/internal/apptest"
)

// TestBrowser_FamilyCareFlow is the acceptance path in two browsers: Ann
// registers, creates the family, adds her mother and invites Ben, who
// accepts in his own browser; a dose Ann gives turns green on Ben's open
// page; what Ann writes appears on Ben's open page
// live; Ann's emergency alert takes over Ben's screen and he acknowledges
// it; a document uploaded by Ann downloads intact for Ben; and with the
// network gone, Ann's emergency page still opens.
func TestBrowser_FamilyCareFlow(t *testing.T) {
	chromiumPath(t)
	e := apptest.New(t, apptest.Options{})
	ann := newTab(t, e, "Ann")

	// Register and create the family.
	ann.open("/register")
	ann.fill(map[string]string{"#f-fullName": "Ann Rivera", "#f-email": "ann.rivera@example.com",
		"#f-password": "correct horse battery", "#f-phone": "+1 555 0100", "#f-timezone": "Europe/London"})
	ann.submit(`form[action="/register"] button[type=submit]`)
	if p := ann.path(); p != "/dashboard" {
		t.Fatalf("after registering: %s", p)
	}
	ann.fill(map[string]string{"#f-name": "Rivera family"})
	ann.submit(`form[action="/family"] button[type=submit]`)

	// Add the care recipient.
	if p := ann.path(); !strings.HasPrefix(p, "/care/new") {
		t.Fatalf("after creating the family: %s", p)
	}
	ann.fill(map[string]string{"#f-firstName": "Rosa", "#f-lastName": "Rivera", "#f-preferredName": "Mum",
		"#f-timezone": "America/New_York", "#f-allergies": "Penicillin\nLatex", "#f-bloodType": "O-",
		"#f-emergencyContacts-0-name": "Dr. Lee", "#f-emergencyContacts-0-phone": "+1 555 0199"})
	ann.submit(`form[action="/care"] button[type=submit]`)
	rid := ann.id("/care/")
	if !ann.hasText("Penicillin") || !ann.hasText("Mum") {
		t.Fatalf("recipient page: %s", ann.text())
	}

	// Invite Ben; he accepts in his own browser with a new account.
	ann.open("/family")
	ann.fill(map[string]string{`input[id^="invite-email-"]`: "ben.rivera@example.com"})
	ann.submit(`form[action$="/invites"] button[type=submit]`)
	if !ann.hasText("Invitation sent to ben.rivera@example.com") {
		t.Fatalf("no invitation confirmation: %s", ann.text())
	}
	tok := e.InviteToken("ben.rivera@example.com")
	ben := newTab(t, e, "Ben")
	ben.open("/accept-invite/" + tok)
	if !ben.hasText("Rivera family") || !ben.hasText("Caregiver") {
		t.Fatalf("invite page: %s", ben.text())
	}
	ben.submit(`a.btn-primary[href^="/register"]`)
	ben.fill(map[string]string{"#f-fullName": "Ben Rivera", "#f-password": "another sturdy passphrase", "#f-phone": "+44 20 7946 0000"})
	ben.submit(`form[action="/register"] button[type=submit]`)
	if p := ben.path(); p != "/accept-invite/"+tok {
		t.Fatalf("after registering from the invite: %s", p)
	}
	ben.submit(`form[action^="/accept-invite/"] button[type=submit]`)
	if !ben.hasText("You joined Rivera family as a caregiver") {
		t.Fatalf("after accepting: %s", ben.text())
	}

	// Ann adds a medication due this hour at Rosa's; Ben has the
	// medications open; Ann taps Given and it turns green on both pages
	// without a reload.
	ny, _ := time.LoadLocation("America/New_York")
	due := time.Now().In(ny).Format("15:04")
	ann.open("/care/" + rid + "/medications/new")
	ann.fill(map[string]string{"#f-name": "Metformin", "#f-dosage": "500 mg", "#f-frequency": "ONCE_DAILY",
		`input[name=times]`: due, "#f-currentSupply": "30"})
	ann.submit(`form[action="/care/` + rid + `/medications"] button[type=submit]`)
	if !ann.hasText("Metformin 500 mg is added") {
		t.Fatalf("after adding the medication: %s", ann.text())
	}
	ben.open("/care/" + rid + "/medications")
	ben.waitLive()
	eval[bool](ben, `window.__sameDocument = true`)
	if !ben.hasText("Metformin") || eval[string](ben, `document.querySelector('.dose').dataset.status`) != "PENDING" {
		t.Fatalf("Ben's schedule: %s", ben.text())
	}
	eval[bool](ann, `window.__sameDocument = true`)
	ann.do("tap Given", clickCSS(`.dose button[value=GIVEN]`))
	ann.waitFor("the dose given on Ann's page", `document.querySelector('.dose').dataset.status === 'GIVEN' && window.__sameDocument === true`)
	ben.waitFor("the dose given, live", `document.querySelector('.dose').dataset.status === 'GIVEN' && document.querySelector('.dose').innerText.includes('Ann Rivera') && window.__sameDocument === true`)
	ann.checkConsole()
	ben.checkConsole()

	// Live: Ben's open timeline shows Ann's note without a reload.
	ben.open("/care/" + rid + "/timeline")
	ben.waitLive()
	eval[bool](ben, `window.__sameDocument = true`)
	ann.open("/care/" + rid + "/timeline")
	ann.fill(map[string]string{"#f-content": "Rosa walked to the park and back"})
	ann.submit(`form[action="/care/` + rid + `/timeline"] button[type=submit]`)
	ben.waitFor("Ann's note, live", `document.body.innerText.includes('walked to the park') && window.__sameDocument === true`)
	ben.checkConsole()

	// Emergency: Ann raises it; Ben's page goes full screen with Call and
	// Acknowledge; he acknowledges.
	ben.open("/dashboard")
	ben.waitLive()
	ann.open("/care/" + rid + "/emergency")
	ann.do("choose FALL", clickCSS(`input[name=type][value=FALL]`))
	ann.fill(map[string]string{"#f-description": "Slipped in the bathroom", "#f-location": "Home"})
	ann.submit(`form[action="/care/` + rid + `/emergency"] button[type=submit]`)
	aid := ann.id("/alerts/")
	ben.waitFor("the full-screen alert", `!!document.getElementById('emergency-modal') && document.getElementById('emergency-modal').innerText.includes('Slipped in the bathroom')`)
	if !eval[bool](ben, `!!document.querySelector('#emergency-modal a[href="tel:+15550100"]')`) {
		t.Errorf("the alert has no Call button for Ann: %s", ben.text())
	}
	if eval[bool](ann, `!!document.getElementById('emergency-modal')`) {
		t.Errorf("Ann's own alert took over her screen")
	}
	ben.do("acknowledge", clickCSS(`#emergency-modal [data-ack] button`))
	ben.waitFor("the alert to close", `!document.getElementById('emergency-modal')`)
	ben.checkConsole()
	ann.open("/alerts/" + aid)
	if !ann.hasText("Seen by Ben Rivera") {
		t.Fatalf("alert page after Ben acknowledged: %s", ann.text())
	}
	ben.open("/dashboard")
	if eval[bool](ben, `!!document.getElementById('emergency-modal')`) {
		t.Errorf("an acknowledged alert opened again")
	}

	// Ben's inbox has the alert; settings (with the push script) load cleanly.
	ben.open("/notifications")
	ben.open("/settings")
	ben.waitFor("the push controls", `document.querySelector('[data-push-status]').textContent !== 'Push notifications need JavaScript.'`)

	// Documents: Ann uploads a PDF; Ben downloads the same bytes.
	pdf := filepath.Join(t.TempDir(), "insurance card.pdf")
	pdfBytes := []byte("%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n")
	if err := os.WriteFile(pdf, pdfBytes, 0o600); err != nil {
		t.Fatal(err)
	}
	ann.open("/care/" + rid + "/documents")
	ann.do("choose the file", chromedp.SetUploadFiles(chromedp.CSS("#f-file"), []string{pdf}))
	ann.fill(map[string]string{"#f-category": "INSURANCE", "#f-name": "Insurance card"})
	ann.submit(`form[action="/care/` + rid + `/documents"] button[type=submit]`)
	if !ann.hasText("Insurance card is stored.") {
		t.Fatalf("after upload: %s", ann.text())
	}
	ben.open("/care/" + rid + "/documents")
	got := eval[string](ben, `(async () => {
		const a = document.querySelector('a[href$="/download"]');
		const r = await fetch(a.href);
		const body = new Uint8Array(await r.arrayBuffer());
		return r.status + ' ' + r.headers.get('content-type') + ' ' + (r.headers.get('content-disposition') || '').split(';')[0] + ' ' + String.fromCharCode(...body);
	})()`)
	if want := "200 application/pdf attachment " + string(pdfBytes); got != want {
		t.Errorf("download: got %q, want %q", got, want)
	}

	// Offline: after a visit, Ann's emergency page opens with no network;
	// other pages say they are offline.
	ann.open("/dashboard")
	emergency := "/care/" + rid + "/emergency"
	ann.waitAsync("the emergency page in the offline cache",
		`caches.open('cc-pages').then(c => c.match('`+emergency+`')).then(r => !!r)`)
	ann.goOffline()
	ann.open(emergency)
	if !ann.hasText("Emergency information") || !ann.hasText("Penicillin") || !ann.hasText("Dr. Lee") {
		t.Fatalf("offline emergency page: %s", ann.text())
	}
	ann.open("/care/" + rid + "/shifts")
	if !ann.hasText("You're offline") {
		t.Fatalf("offline shifts page: %s", ann.text())
	}
}
