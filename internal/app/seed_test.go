package app_test

import (
	"context"
	"io"
	"testing"

	"github.com/carecircle/carecircle/internal/app"
	"github.com/carecircle/carecircle/internal/apptest"
)

func TestSeed_LoadsADemoFamilyOnce(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	if err := app.Seed(context.Background(), e.App.DB, io.Discard); err != nil {
		t.Fatal(err)
	}
	if err := app.Seed(context.Background(), e.App.DB, io.Discard); err == nil {
		t.Fatal("seeding twice succeeded")
	}
	for _, who := range []struct{ email, role string }{{"sarah@example.com", "ADMIN"}, {"mike@example.com", "CAREGIVER"}, {"jennifer@example.com", "VIEWER"}} {
		c := &apptest.Client{Env: e, Email: who.email, Password: app.DemoPassword}
		c.Login()
		fams := c.Must(200, "GET", "/api/v1/auth/me", nil)["families"].([]any)
		if len(fams) != 1 || fams[0].(map[string]any)["role"] != who.role {
			t.Fatalf("%s families = %v", who.email, fams)
		}
	}
	sarah := &apptest.Client{Env: e, Email: "sarah@example.com", Password: app.DemoPassword}
	sarah.Login()
	crs := sarah.Must(200, "GET", "/api/v1/care-recipients", nil)["items"].([]any)
	cr := crs[0].(map[string]any)
	if len(crs) != 1 || len(cr["emergencyContacts"].([]any)) == 0 || len(cr["doctors"].([]any)) == 0 {
		t.Fatalf("recipients = %v", crs)
	}
	meds := sarah.Must(200, "GET", "/api/v1/care-recipients/"+cr["id"].(string)+"/medications", nil)["items"].([]any)
	if len(meds) != 3 {
		t.Fatalf("medications = %v", meds)
	}
}
