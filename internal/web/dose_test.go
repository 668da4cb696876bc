package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/carecircle/carecircle/internal/apptest"
)

// TestDoseForm_SecondTapSaysWhoGaveIt: two caregivers tap Given for the same
// dose; the second sees who gave it and when instead of an error, and the
// dose is logged once.
func TestDoseForm_SecondTapSaysWhoGaveIt(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	f := e.NewFamily("Dose", "America/New_York")
	rid := f.RecipientID
	second := e.Register("Second Carer")
	f.Admin.Invite(f.ID, second, "CAREGIVER")
	med := f.Admin.Must(201, "POST", "/api/v1/care-recipients/"+rid+"/medications", map[string]any{
		"name": "Lisinopril", "dosage": "10 mg", "frequency": "ONCE_DAILY", "times": []string{"09:00"}, "currentSupply": 30})
	sch := f.Admin.Must(200, "GET", "/api/v1/care-recipients/"+rid+"/medications/schedule", nil)["items"].([]any)
	dose := sch[0].(map[string]any)["scheduledTime"].(string)

	a, b := signIn(t, f.Caregiver), signIn(t, second)
	page := a.mustGet("/care/" + rid + "/medications")
	if !strings.Contains(page, `name="scheduledTime" value="`+dose+`"`) || !strings.Contains(page, ">Given</button>") {
		t.Fatalf("no Given button for the dose %s", dose)
	}
	form := url.Values{"medicationId": {med["id"].(string)}, "scheduledTime": {dose}, "status": {"GIVEN"}, "return": {"/dashboard"}}
	if loc := a.mustPost("/care/"+rid+"/doses", form); loc != "/dashboard" {
		t.Errorf("after logging: %s", loc)
	}
	if !strings.Contains(a.mustGet("/dashboard"), "Lisinopril 10 mg: given.") {
		t.Errorf("no confirmation")
	}
	b.mustPost("/care/"+rid+"/doses", form)
	dash := b.mustGet("/dashboard")
	if !strings.Contains(dash, "Already given by Dose Caregiver at ") || !strings.Contains(dash, `data-status="GIVEN"`) {
		t.Errorf("second tap: %s", messagesOf(dash))
	}
	hist := f.Admin.Must(200, "GET", "/api/v1/medications/"+med["id"].(string)+"/history", nil)["items"].([]any)
	if len(hist) != 1 {
		t.Errorf("%d logs, want 1", len(hist))
	}
	if got := f.Admin.Must(200, "GET", "/api/v1/medications/"+med["id"].(string), nil)["currentSupply"]; got != float64(29) {
		t.Errorf("supply %v, want 29", got)
	}
	// A viewer gets no buttons and can't log.
	v := signIn(t, f.Viewer)
	if strings.Contains(v.mustGet("/care/"+rid+"/medications"), ">Given</button>") {
		t.Errorf("viewer sees Given buttons")
	}
	v.mustPost("/care/"+rid+"/doses", url.Values{"medicationId": {med["id"].(string)}, "scheduledTime": {dose}, "status": {"SKIPPED"}})
	if len(f.Admin.Must(200, "GET", "/api/v1/medications/"+med["id"].(string)+"/history", nil)["items"].([]any)) != 1 {
		t.Errorf("a viewer logged a dose")
	}
	// Another family's medication can't be logged through this recipient.
	other := e.NewFamily("Other", "UTC")
	if p := signIn(t, other.Admin).post("/care/"+other.RecipientID+"/doses", form); p.Status != http.StatusNotFound {
		t.Errorf("other family's dose: %d", p.Status)
	}
}

func TestMedicationForm_AddEditStopRestart(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	f := e.NewFamily("Meds", "Europe/London")
	rid := f.RecipientID
	b := signIn(t, f.Caregiver)
	p := b.post("/care/"+rid+"/medications", url.Values{"name": {"Metformin"}, "dosage": {""}, "frequency": {"TWICE_DAILY"},
		"times": {"08:00", "", "", ""}, "currentSupply": {"lots"}})
	if p.Status != http.StatusBadRequest || !strings.Contains(p.Body, `id="f-dosage-error"`) || !strings.Contains(p.Body, "Current supply must be a whole number") ||
		!strings.Contains(p.Body, `value="Metformin"`) {
		t.Fatalf("invalid medication: %d %s", p.Status, messagesOf(p.Body))
	}
	b.mustPost("/care/"+rid+"/medications", url.Values{"name": {"Metformin"}, "dosage": {"500 mg"}, "frequency": {"TWICE_DAILY"},
		"times": {"20:00", "08:00", "", ""}, "currentSupply": {"60"}, "refillThreshold": {"10"}, "daysOfWeek": {"1"}})
	meds := f.Admin.Must(200, "GET", "/api/v1/care-recipients/"+rid+"/medications", nil)["items"].([]any)
	m := meds[0].(map[string]any)
	if len(m["times"].([]any)) != 2 || m["currentSupply"] != float64(60) || len(m["daysOfWeek"].([]any)) != 0 {
		t.Fatalf("stored: %v", m)
	}
	id := m["id"].(string)
	if !strings.Contains(b.mustGet("/care/"+rid+"/medications/"+id+"/edit"), `value="20:00"`) {
		t.Errorf("edit form not prefilled")
	}
	b.mustPost("/care/"+rid+"/medications/"+id+"/edit", url.Values{"name": {"Metformin XR"}, "dosage": {"750 mg"}, "frequency": {"WEEKLY"},
		"times": {"09:00"}, "daysOfWeek": {"1", "4"}})
	m = f.Admin.Must(200, "GET", "/api/v1/medications/"+id, nil)
	if m["name"] != "Metformin XR" || m["frequency"] != "WEEKLY" || len(m["daysOfWeek"].([]any)) != 2 || m["currentSupply"] != nil {
		t.Errorf("after edit: %v", m)
	}
	b.mustPost("/care/"+rid+"/medications/"+id+"/deactivate", nil)
	if m := f.Admin.Must(200, "GET", "/api/v1/medications/"+id, nil); m["isActive"] != false {
		t.Errorf("not stopped")
	}
	b.mustPost("/care/"+rid+"/medications/"+id+"/reactivate", nil)
	if m := f.Admin.Must(200, "GET", "/api/v1/medications/"+id, nil); m["isActive"] != true {
		t.Errorf("not restarted")
	}
}
