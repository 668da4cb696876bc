package api_test

import (
	"strings"
	"testing"

	"github.com/carecircle/carecircle/internal/apptest"
)

func TestRecipients_CreateReadUpdateSoftDelete(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		f := e.NewFamily("Care", "UTC")
		body := map[string]any{
			"familyId": f.ID, "firstName": "Margaret", "lastName": "Thompson", "dateOfBirth": "1941-05-12",
			"bloodType": "a+", "allergies": []string{"Penicillin"}, "conditions": []string{"Diabetes"},
			"timezone": "America/New_York", "notes": "Hard of hearing", "primaryHospital": "Mercy General",
			"insurance":         map[string]any{"provider": "Medicare", "policyNumber": "1EG4"},
			"emergencyContacts": []map[string]any{{"name": "Sarah", "relationship": "Daughter", "phone": "+1 555 0100"}},
			"doctors":           []map[string]any{{"name": "Dr. Patel", "specialty": "Cardiology", "phone": "+1 555 0120"}},
		}
		cr := f.Caregiver.Must(201, "POST", "/api/v1/care-recipients", body)
		id := cr["id"].(string)
		if !strings.HasPrefix(id, "cr_") || cr["bloodType"] != "A+" || cr["dateOfBirth"] != "1941-05-12" || cr["timezone"] != "America/New_York" ||
			cr["insurance"].(map[string]any)["policyNumber"] != "1EG4" || len(cr["emergencyContacts"].([]any)) != 1 || len(cr["doctors"].([]any)) != 1 {
			t.Fatalf("created = %v", cr)
		}
		got := f.Viewer.Must(200, "GET", "/api/v1/care-recipients/"+id, nil)
		if got["firstName"] != "Margaret" || got["familyId"] != f.ID {
			t.Fatalf("read = %v", got)
		}
		list := f.Viewer.Must(200, "GET", "/api/v1/care-recipients?familyId="+f.ID, nil)["items"].([]any)
		if len(list) != 2 {
			t.Fatalf("list = %v", list)
		}
		up := f.Caregiver.Must(200, "PATCH", "/api/v1/care-recipients/"+id, map[string]any{"timezone": "Europe/London", "allergies": []string{}})
		if up["timezone"] != "Europe/London" || len(up["allergies"].([]any)) != 0 || up["firstName"] != "Margaret" {
			t.Fatalf("patched = %v", up)
		}
		wantStatus(t, f.Caregiver.Do("DELETE", "/api/v1/care-recipients/"+id, nil), 403)
		wantStatus(t, f.Admin.Do("DELETE", "/api/v1/care-recipients/"+id, nil), 204)
		wantStatus(t, f.Admin.Do("GET", "/api/v1/care-recipients/"+id, nil), 404)
		wantStatus(t, f.Admin.Do("PATCH", "/api/v1/care-recipients/"+id, map[string]any{"notes": "x"}), 404)
	})
}

func TestRecipients_ValidationNamesFields(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	f := e.NewFamily("Val", "UTC")
	r := f.Admin.Do("POST", "/api/v1/care-recipients", map[string]any{
		"familyId": f.ID, "firstName": "", "lastName": "X", "timezone": "Europe/Atlantis", "bloodType": "Z",
		"dateOfBirth": "1941-13-40", "emergencyContacts": []map[string]any{{"name": "", "relationship": "x", "phone": "abc"}},
	})
	wantStatus(t, r, 400)
	msgs := strings.Join(messages(r), "|")
	for _, field := range []string{"dateOfBirth"} {
		if !strings.Contains(msgs, field) {
			t.Errorf("no message for %s: %s", field, msgs)
		}
	}
	r = f.Admin.Do("POST", "/api/v1/care-recipients", map[string]any{
		"familyId": f.ID, "firstName": "", "lastName": "X", "timezone": "Europe/Atlantis", "bloodType": "Z",
		"emergencyContacts": []map[string]any{{"name": "", "relationship": "x", "phone": "abc"}},
	})
	wantStatus(t, r, 400)
	msgs = strings.Join(messages(r), "|")
	for _, field := range []string{"firstName", "timezone", "bloodType", "emergencyContacts[0].name", "emergencyContacts[0].phone"} {
		if !strings.Contains(msgs, field) {
			t.Errorf("no message for %s: %s", field, msgs)
		}
	}
	wantStatus(t, f.Admin.Do("POST", "/api/v1/care-recipients", map[string]any{"firstName": "A", "lastName": "B", "timezone": "UTC"}), 400)
	wantStatus(t, f.Admin.Do("POST", "/api/v1/care-recipients", map[string]any{"familyId": "fam_doesnotexist", "firstName": "A", "lastName": "B", "timezone": "UTC"}), 404)
	wantStatus(t, f.Admin.Do("PATCH", "/api/v1/care-recipients/"+f.RecipientID, map[string]any{"timezone": "Local"}), 400)
	if got := f.Admin.Must(200, "GET", "/api/v1/care-recipients/"+f.RecipientID, nil); got["timezone"] != "UTC" {
		t.Fatalf("a refused patch changed the recipient: %v", got)
	}
}
