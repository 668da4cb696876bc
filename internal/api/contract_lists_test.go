package api_test

import (
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/carecircle/carecircle/internal/apptest"
)

// DESIGN §3 Lists: {"items":[…],"nextCursor":"…"} (nextCursor absent on the
// last page); ?limit= (max 200). Every list endpoint behaves the same: limit
// is 1..200 (anything else is a 400 naming limit), default 50; a cursor not
// issued by the server is a 400 naming cursor.

// listEndpoints are the lists of a populated family, each with how to add
// one more item (so there are at least three) — nil when populate made
// enough.
func listEndpoints(t *testing.T, e *apptest.Env, p populated) []string {
	t.Helper()
	rid := p.RecipientID
	// Three of everything.
	for i := 0; i < 3; i++ {
		p.Admin.Must(201, "POST", "/api/v1/families", map[string]any{"name": fmt.Sprintf("Extra %d", i)})
		p.Admin.Must(201, "POST", "/api/v1/families/"+p.ID+"/invites", map[string]any{"email": fmt.Sprintf("extra%d@example.com", i), "role": "VIEWER"})
		p.Admin.CreateRecipient(p.ID, fmt.Sprintf("Extra%d", i), "UTC")
		p.Caregiver.Must(201, "POST", "/api/v1/care-recipients/"+rid+"/medications", map[string]any{
			"name": fmt.Sprintf("Med %d", i), "dosage": "1 tab", "frequency": "ONCE_DAILY", "times": []string{"09:00"}})
		start := time.Now().Add(time.Duration(24*(i+1)) * time.Hour).UTC().Truncate(time.Minute)
		p.Caregiver.Must(201, "POST", "/api/v1/care-recipients/"+rid+"/appointments", map[string]any{
			"title": fmt.Sprintf("Visit %d", i), "startTime": start.Format(time.RFC3339)})
		p.Caregiver.Must(201, "POST", "/api/v1/care-recipients/"+rid+"/timeline", map[string]any{"type": "NOTE", "content": fmt.Sprint("note ", i)})
		p.Caregiver.Must(201, "POST", "/api/v1/emergency/alert", map[string]any{"careRecipientId": rid, "type": "OTHER", "description": fmt.Sprint("alert ", i)})
		ss := time.Now().Add(time.Duration(24*(i+2)) * time.Hour).UTC().Truncate(time.Minute)
		p.Admin.Must(201, "POST", "/api/v1/care-recipients/"+rid+"/shifts", map[string]any{
			"caregiverId": p.Admin.UserID, "startTime": ss.Format(time.RFC3339), "endTime": ss.Add(2 * time.Hour).Format(time.RFC3339)})
		up := sendUpload(t, p.Caregiver, rid, upload{fields: [][2]string{{"category", "OTHER"}}, file: fmt.Sprintf("n%d.txt", i), content: strings.NewReader(fmt.Sprint("note ", i))})
		if up.Status != 201 {
			t.Fatalf("upload: %d %s", up.Status, up.Body)
		}
		p.Caregiver.Must(201, "POST", "/api/v1/medications/"+p.ids["medication"]+"/log", map[string]any{
			"status": "SKIPPED", "scheduledTime": doseOn(t, p, i+2)})
	}
	p.Admin.Login()
	p.Admin.Login()
	return []string{
		"/api/v1/families",
		"/api/v1/families/{family}/members",
		"/api/v1/families/{family}/invites",
		"/api/v1/families/{family}/audit",
		"/api/v1/auth/sessions",
		"/api/v1/care-recipients",
		"/api/v1/care-recipients/{recipient}/medications",
		"/api/v1/medications/{medication}/history",
		"/api/v1/care-recipients/{recipient}/appointments",
		"/api/v1/care-recipients/{recipient}/timeline",
		"/api/v1/care-recipients/{recipient}/emergency-alerts",
		"/api/v1/care-recipients/{recipient}/shifts",
		"/api/v1/care-recipients/{recipient}/documents",
	}
}

// doseOn returns the scheduled time of the populated medication's first dose
// daysAgo days before today (in the recipient's zone).
func doseOn(t *testing.T, p populated, daysAgo int) string {
	t.Helper()
	loc, _ := time.LoadLocation("America/New_York")
	day := time.Now().In(loc).AddDate(0, 0, -daysAgo).Format("2006-01-02")
	s := p.Caregiver.Must(200, "GET", "/api/v1/care-recipients/"+p.RecipientID+"/medications/schedule?date="+day, nil)
	for _, it := range s["items"].([]any) {
		d := it.(map[string]any)
		if d["medicationId"] == p.ids["medication"] {
			return d["scheduledTime"].(string)
		}
	}
	t.Fatalf("no dose of the medication on %s", day)
	return ""
}

func TestContract_EveryListPagesTheSameWay(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		p := populate(t, e)
		for _, path := range listEndpoints(t, e, p) {
			path = fill(path, p.ids)
			sep := "?"
			if strings.Contains(path, "?") {
				sep = "&"
			}
			all := p.Admin.Do("GET", path, nil)
			if all.Status != 200 {
				t.Errorf("GET %s: %d %s", path, all.Status, all.Body)
				continue
			}
			m := all.Map()
			items, ok := m["items"].([]any)
			if !ok {
				t.Errorf("GET %s: no items list: %s", path, all.Body)
				continue
			}
			if _, has := m["nextCursor"]; has {
				t.Errorf("GET %s: nextCursor present on the last page: %v", path, m["nextCursor"])
			}
			if len(items) < 3 {
				t.Errorf("GET %s: %d items, want at least 3", path, len(items))
				continue
			}
			// Page through one at a time: the same items, each once, and
			// no nextCursor on the last page.
			var paged []any
			cursor := ""
			for pages := 0; ; pages++ {
				q := sep + "limit=1"
				if cursor != "" {
					q += "&cursor=" + url.QueryEscape(cursor)
				}
				r := p.Admin.Do("GET", path+q, nil)
				if r.Status != 200 {
					t.Fatalf("GET %s%s: %d %s", path, q, r.Status, r.Body)
				}
				pm := r.Map()
				page := pm["items"].([]any)
				if len(page) > 1 {
					t.Fatalf("GET %s%s: %d items for limit=1", path, q, len(page))
				}
				paged = append(paged, page...)
				next, has := pm["nextCursor"]
				if !has {
					break
				}
				if s, _ := next.(string); s == "" {
					t.Fatalf("GET %s%s: nextCursor = %#v", path, q, next)
				}
				cursor = next.(string)
				if pages > len(items)+1 {
					t.Fatalf("GET %s: more pages than items", path)
				}
			}
			if len(paged) != len(items) {
				t.Errorf("GET %s: paging gave %d items, the whole list %d", path, len(paged), len(items))
			}
			seen := map[string]bool{}
			for _, it := range paged {
				key := fmt.Sprint(it)
				if seen[key] {
					t.Errorf("GET %s: item twice while paging: %v", path, it)
				}
				seen[key] = true
			}
			// limit bounds, the same everywhere.
			if r := p.Admin.Do("GET", path+sep+"limit=200", nil); r.Status != 200 {
				t.Errorf("GET %s limit=200: %d %s", path, r.Status, r.Body)
			}
			for _, bad := range []string{"201", "0", "-1", "abc", "1.5", "99999999999999999999"} {
				wantError(t, p.Admin.Do("GET", path+sep+"limit="+bad, nil), 400, "limit")
			}
			wantError(t, p.Admin.Do("GET", path+sep+"cursor=not-a-cursor", nil), 400, "cursor")
		}
	})
}
