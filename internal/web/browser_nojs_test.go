package web_test

import (
	"testing"
	"time"

	"github.com/carecircle/carecircle/internal/apptest"
)

// TestBrowser_FormsWorkWithoutJavaScript signs in, logs a dose and writes
// to the timeline with scripts turned off: plain POST and redirect, messages next
// to the fields, and what was typed kept.
func TestBrowser_FormsWorkWithoutJavaScript(t *testing.T) {
	chromiumPath(t)
	e := apptest.New(t, apptest.Options{})
	f := e.NewFamily("Nakamura", "Asia/Tokyo")
	rid := f.RecipientID
	b := newTab(t, e, "Caregiver (no JavaScript)")
	b.disableScripts()

	// A wrong password is told on the form, with the address kept.
	b.open("/login")
	b.fill(map[string]string{"#f-email": f.Caregiver.Email, "#f-password": "not the password"})
	if st := b.submit(`form[action="/login"] button[type=submit]`); st != 401 {
		t.Errorf("wrong password: status %d, want 401", st)
	}
	if !b.hasText("Email or password is incorrect") || eval[string](b, `document.getElementById('f-email').value`) != f.Caregiver.Email {
		t.Fatalf("wrong password page: %s", b.text())
	}
	b.fill(map[string]string{"#f-password": f.Caregiver.Password})
	b.submit(`form[action="/login"] button[type=submit]`)
	if p := b.path(); p != "/dashboard" {
		t.Fatalf("after signing in: %s", p)
	}
	if n := eval[int](b, `navigator.serviceWorker.getRegistrations().then(r => r.length)`); n != 0 {
		t.Fatalf("page scripts ran: %d service workers registered", n)
	}

	// Log a dose with the plain form.
	tokyo, _ := time.LoadLocation("Asia/Tokyo")
	med := f.Admin.Must(201, "POST", "/api/v1/care-recipients/"+rid+"/medications", map[string]any{
		"name": "Donepezil", "dosage": "5 mg", "frequency": "ONCE_DAILY", "times": []string{time.Now().In(tokyo).Format("15:04")}})
	b.open("/care/" + rid + "/medications")
	b.submit(`.dose button[value=GIVEN]`)
	if p := b.path(); p != "/care/"+rid+"/medications" {
		t.Errorf("after logging the dose: at %s", p)
	}
	if !b.hasText("Donepezil 5 mg: given.") || eval[string](b, `document.querySelector('.dose').dataset.status`) != "GIVEN" {
		t.Fatalf("after logging the dose: %s", b.text())
	}
	if n := len(f.Admin.Must(200, "GET", "/api/v1/medications/"+med["id"].(string)+"/history", nil)["items"].([]any)); n != 1 {
		t.Errorf("%d dose logs, want 1", n)
	}

	// A vitals reading out of range: the message sits next to its field and
	// the note stays typed.
	b.open("/care/" + rid + "/timeline")
	b.do("open vitals", clickCSS(`details.more summary`))
	b.fill(map[string]string{"#f-type": "VITALS", "#f-content": "Felt dizzy after lunch", "#f-vitals-systolic": "400", "#f-vitals-heartRate": "88"})
	if st := b.submit(`form[action="/care/` + rid + `/timeline"] button[type=submit]`); st != 400 {
		t.Errorf("bad vitals: status %d, want 400", st)
	}
	if got := eval[string](b, `(document.getElementById('f-vitals-systolic-error') || {}).textContent || ''`); got != "Systolic must be between 50 and 300" {
		t.Errorf("systolic message: %q", got)
	}
	if eval[string](b, `document.getElementById('f-content').value`) != "Felt dizzy after lunch" ||
		eval[string](b, `document.getElementById('f-vitals-heartRate').value`) != "88" {
		t.Errorf("typed values lost: %s", b.text())
	}
	b.fill(map[string]string{"#f-vitals-systolic": "135", "#f-vitals-diastolic": "85"})
	b.submit(`form[action="/care/` + rid + `/timeline"] button[type=submit]`)
	if !b.hasText("Added to the timeline.") || !b.hasText("Felt dizzy after lunch") || !b.hasText("BP 135/85 mmHg · Pulse 88 bpm") {
		t.Fatalf("after adding: %s", b.text())
	}
	if p := b.path(); p != "/care/"+rid+"/timeline" {
		t.Fatalf("after adding: at %s", p)
	}
}
