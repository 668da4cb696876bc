package api_test

import (
	"encoding/base64"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/carecircle/carecircle/internal/apptest"
	"github.com/carecircle/carecircle/internal/push"
)

func init() {
	// The inbox is per member: another family's member can't read or mark
	// a notice of the victim family's admin.
	isolationSetups = append(isolationSetups, func(t *testing.T, f *apptest.Family, ids map[string]string) {
		f.Caregiver.Must(201, "POST", "/api/v1/care-recipients/"+f.RecipientID+"/timeline",
			map[string]any{"type": "NOTE", "content": "for the isolation test"})
		ids["notification"] = waitNotices(t, f.Admin, 1)[0]["id"].(string)
	})
	isolationCases = append(isolationCases, isoCase{"POST", "/api/v1/notifications/{notification}/read", nil, 200})
}

// waitNotices waits until the client's inbox holds at least n notices
// (the notifications consumer runs after the write commits).
func waitNotices(t *testing.T, c *apptest.Client, n int) []map[string]any {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		m := c.Must(200, "GET", "/api/v1/notifications?limit=200", nil)
		items := m["items"].([]any)
		if len(items) >= n {
			out := make([]map[string]any, len(items))
			for i, it := range items {
				out[i] = it.(map[string]any)
			}
			return out
		}
		if time.Now().After(deadline) {
			t.Fatalf("inbox has %d notices after 15 s, want %d", len(items), n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestNotifications_VAPIDKeyIsPublicAndStable(t *testing.T) {
	dir := t.TempDir()
	e := apptest.New(t, apptest.Options{DataDir: dir})
	r := e.Anon().Must(200, "GET", "/api/v1/notifications/vapid-public-key", nil)
	key, _ := r["publicKey"].(string)
	raw, err := base64.RawURLEncoding.DecodeString(key)
	if err != nil || len(raw) != 65 || raw[0] != 4 {
		t.Fatalf("publicKey %q is not an unpadded base64url P-256 point", key)
	}
	// Generated on first start and kept: a restart serves the same key, or
	// every browser subscription would break.
	e.App.Close()
	again := apptest.New(t, apptest.Options{DataDir: dir, DatabaseURL: e.DBURL})
	if k := again.Anon().Must(200, "GET", "/api/v1/notifications/vapid-public-key", nil)["publicKey"]; k != key {
		t.Fatalf("key after restart = %v, want %v", k, key)
	}
	// Keys from the environment win.
	keys, _ := push.GenerateKeys()
	env := apptest.New(t, apptest.Options{Env: map[string]string{"VAPID_PUBLIC_KEY": keys.Public, "VAPID_PRIVATE_KEY": keys.Private}})
	if k := env.Anon().Must(200, "GET", "/api/v1/notifications/vapid-public-key", nil)["publicKey"]; k != keys.Public {
		t.Fatalf("key = %v, want the configured %v", k, keys.Public)
	}
}

func browserKeys(t *testing.T) (p256dh, auth string) {
	t.Helper()
	k, err := push.GenerateKeys() // any P-256 point will do as a browser key
	if err != nil {
		t.Fatal(err)
	}
	return k.Public, base64.RawURLEncoding.EncodeToString([]byte("0123456789abcdef"))
}

func TestNotifications_SubscribeValidatesAndIsIdempotent(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		c := e.Register("Sub Scriber")
		p256dh, auth := browserKeys(t)
		endpoint := "https://fcm.googleapis.com/fcm/send/abc123"
		body := map[string]any{"endpoint": endpoint, "keys": map[string]any{"p256dh": p256dh, "auth": auth}}
		first := c.Must(201, "POST", "/api/v1/notifications/subscribe", body)
		again := c.Must(200, "POST", "/api/v1/notifications/subscribe", body)
		if first["id"] != again["id"] || first["endpoint"] != endpoint {
			t.Fatalf("subscribe twice: %v then %v", first, again)
		}
		if _, leaked := first["auth"]; leaked {
			t.Fatal("the response echoes the browser's secret")
		}

		for _, tc := range []struct {
			body map[string]any
			want string
		}{
			{map[string]any{"endpoint": "http://evil.example/push", "keys": map[string]any{"p256dh": p256dh, "auth": auth}}, "endpoint should be an https URL"},
			{map[string]any{"endpoint": "", "keys": map[string]any{"p256dh": p256dh, "auth": auth}}, "endpoint should not be empty"},
			{map[string]any{"endpoint": endpoint, "keys": map[string]any{"p256dh": "AAAA", "auth": auth}}, "keys.p256dh"},
			{map[string]any{"endpoint": endpoint, "keys": map[string]any{"p256dh": p256dh, "auth": "short"}}, "keys.auth"},
		} {
			r := c.Do("POST", "/api/v1/notifications/subscribe", tc.body)
			wantStatus(t, r, 400)
			if !slices.ContainsFunc(messages(r), func(m string) bool { return strings.HasPrefix(m, tc.want) }) {
				t.Errorf("%v: messages %v, want one starting %q", tc.body, messages(r), tc.want)
			}
		}
		wantStatus(t, e.Anon().Do("POST", "/api/v1/notifications/subscribe", body), 401)

		// Another member can't unsubscribe someone else's browser.
		other := e.Register("Other Member")
		other.Must(204, "DELETE", "/api/v1/notifications/subscribe", map[string]any{"endpoint": endpoint})
		if items := c.Must(200, "GET", "/api/v1/notifications/subscriptions", nil)["items"].([]any); len(items) != 1 {
			t.Fatalf("subscriptions = %v", items)
		}
		c.Must(204, "DELETE", "/api/v1/notifications/subscribe", map[string]any{"endpoint": endpoint})
		if items := c.Must(200, "GET", "/api/v1/notifications/subscriptions", nil)["items"].([]any); len(items) != 0 {
			t.Fatalf("subscriptions after unsubscribe = %v", items)
		}
		wantStatus(t, c.Do("DELETE", "/api/v1/notifications/subscribe", map[string]any{"endpoint": ""}), 400)
	})
}

func TestNotifications_InboxPagesReadAndUnreadCount(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		f := e.NewFamily("Inbox", "Europe/Paris")
		for i := range 5 {
			f.Caregiver.Must(201, "POST", "/api/v1/care-recipients/"+f.RecipientID+"/timeline",
				map[string]any{"type": "NOTE", "content": "note " + string(rune('A'+i))})
		}
		all := waitNotices(t, f.Viewer, 5)
		if len(all) != 5 || all[0]["body"] != "note E" || all[4]["body"] != "note A" {
			t.Fatalf("inbox not newest first: %v", all)
		}
		n := all[0]
		for _, k := range []string{"id", "category", "title", "body", "url", "familyId", "careRecipientId", "readAt", "createdAt", "eventId", "deliveries"} {
			if _, ok := n[k]; !ok {
				t.Errorf("notice lacks %q: %v", k, n)
			}
		}
		if !strings.HasPrefix(n["id"].(string), "ntf_") || n["category"] != "FAMILY_ACTIVITY" || n["readAt"] != nil ||
			n["familyId"] != f.ID || n["careRecipientId"] != f.RecipientID {
			t.Fatalf("notice = %v", n)
		}
		if none := f.Caregiver.Must(200, "GET", "/api/v1/notifications", nil); len(none["items"].([]any)) != 0 {
			t.Fatalf("the author was told about their own notes: %v", none)
		}

		// Pages of two, with the cursor.
		var seen []any
		cursor := ""
		for range 4 {
			page := f.Viewer.Must(200, "GET", "/api/v1/notifications?limit=2&cursor="+cursor, nil)
			seen = append(seen, page["items"].([]any)...)
			next, _ := page["nextCursor"].(string)
			if next == "" {
				break
			}
			cursor = next
		}
		if len(seen) != 5 || seen[4].(map[string]any)["body"] != "note A" {
			t.Fatalf("paged through %d notices: %v", len(seen), seen)
		}
		wantStatus(t, f.Viewer.Do("GET", "/api/v1/notifications?cursor=garbage", nil), 400)

		if c := f.Viewer.Must(200, "GET", "/api/v1/notifications/unread-count", nil)["count"]; c != 5.0 {
			t.Fatalf("unread = %v, want 5", c)
		}
		read := f.Viewer.Must(200, "POST", "/api/v1/notifications/"+n["id"].(string)+"/read", nil)
		if read["readAt"] == nil {
			t.Fatalf("read notice = %v", read)
		}
		again := f.Viewer.Must(200, "POST", "/api/v1/notifications/"+n["id"].(string)+"/read", nil)
		if again["readAt"] != read["readAt"] {
			t.Fatalf("reading again moved readAt: %v -> %v", read["readAt"], again["readAt"])
		}
		unread := f.Viewer.Must(200, "GET", "/api/v1/notifications?unread=true", nil)
		if len(unread["items"].([]any)) != 4 || unread["unreadCount"] != 4.0 {
			t.Fatalf("unread page = %v", unread)
		}
		// Someone else's notice, a malformed id: not found.
		wantStatus(t, f.Admin.Do("POST", "/api/v1/notifications/"+n["id"].(string)+"/read", nil), 404)
		wantStatus(t, f.Viewer.Do("POST", "/api/v1/notifications/nope/read", nil), 404)

		done := f.Viewer.Must(200, "POST", "/api/v1/notifications/read-all", nil)
		if done["updated"] != 4.0 || done["unreadCount"] != 0.0 {
			t.Fatalf("read-all = %v", done)
		}
		if c := f.Admin.Must(200, "GET", "/api/v1/notifications/unread-count", nil)["count"]; c != 5.0 {
			t.Fatalf("read-all touched another member's inbox: admin unread = %v", c)
		}
	})
}

func TestNotifications_PreferencesDefaultsValidationAndMerge(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		c := e.RegisterEmail("Pref Erence", "pref@example.com", "Asia/Kolkata")
		p := c.Must(200, "GET", "/api/v1/notifications/preferences", nil)
		cats := p["categories"].(map[string]any)
		want := map[string][3]bool{ // inApp, push, email
			"doseReminders": {true, true, false}, "missedDoses": {true, true, true}, "refills": {true, true, false},
			"appointments": {true, true, false}, "shifts": {true, true, false}, "emergencies": {true, true, true},
			"familyActivity": {true, false, false}, "documents": {true, true, false},
		}
		for k, w := range want {
			ch := cats[k].(map[string]any)
			if got := [3]bool{ch["inApp"].(bool), ch["push"].(bool), ch["email"].(bool)}; got != w {
				t.Errorf("default %s = %v, want %v", k, got, w)
			}
		}
		q := p["quietHours"].(map[string]any)
		if q["enabled"] != false || q["start"] != "22:00" || q["end"] != "07:00" || p["timezone"] != "Asia/Kolkata" {
			t.Errorf("default quiet hours / zone = %v / %v", q, p["timezone"])
		}

		for _, tc := range []struct {
			body map[string]any
			want string
		}{
			{map[string]any{"categories": map[string]any{"emergencies": map[string]any{"inApp": false, "push": false, "email": false}}},
				"categories.emergencies must keep at least one channel on"},
			{map[string]any{"categories": map[string]any{"familyActivity": map[string]any{"email": true}}},
				"categories.familyActivity.email is not offered"},
			{map[string]any{"quietHours": map[string]any{"start": "25:00"}}, "quietHours.start must be HH:MM"},
			{map[string]any{"quietHours": map[string]any{"end": "7am"}}, "quietHours.end must be HH:MM"},
			{map[string]any{"quietHours": map[string]any{"start": "07:00", "end": "07:00"}}, "quietHours.end must differ"},
			{map[string]any{"categories": map[string]any{"shifts": map[string]any{"push": "yes"}}}, "categories.shifts.push"},
		} {
			r := c.Do("PUT", "/api/v1/notifications/preferences", tc.body)
			wantStatus(t, r, 400)
			if !slices.ContainsFunc(messages(r), func(m string) bool { return strings.Contains(m, tc.want) }) {
				t.Errorf("%v: messages %v, want one containing %q", tc.body, messages(r), tc.want)
			}
		}
		// Fields left out keep their value.
		c.Must(200, "PUT", "/api/v1/notifications/preferences", map[string]any{
			"categories": map[string]any{"emergencies": map[string]any{"email": false}},
			"quietHours": map[string]any{"enabled": true, "start": "23:30"}})
		p = c.Must(200, "PUT", "/api/v1/notifications/preferences", map[string]any{
			"categories": map[string]any{"doseReminders": map[string]any{"email": true}}})
		cats = p["categories"].(map[string]any)
		em, dr := cats["emergencies"].(map[string]any), cats["doseReminders"].(map[string]any)
		q = p["quietHours"].(map[string]any)
		if em["email"] != false || em["push"] != true || dr["email"] != true || dr["push"] != true ||
			q["enabled"] != true || q["start"] != "23:30" || q["end"] != "07:00" {
			t.Fatalf("merged preferences = %v", p)
		}
		if got := c.Must(200, "GET", "/api/v1/notifications/preferences", nil); got["quietHours"].(map[string]any)["start"] != "23:30" {
			t.Fatalf("preferences not stored: %v", got)
		}
		wantStatus(t, e.Anon().Do("GET", "/api/v1/notifications/preferences", nil), 401)
	})
}
