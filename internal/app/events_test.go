package app_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/carecircle/carecircle/internal/apptest"
)

// dial opens a WebSocket as the client.
func dial(t *testing.T, e *apptest.Env, c *apptest.Client) *websocket.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	h := http.Header{}
	if c != nil && c.Token != "" {
		h.Set("Authorization", "Bearer "+c.Token)
	}
	conn, res, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(e.URL, "http")+"/api/v1/ws", &websocket.DialOptions{HTTPHeader: h})
	if err != nil {
		status := 0
		if res != nil {
			status = res.StatusCode
		}
		t.Fatalf("dial: %v (status %d)", err, status)
	}
	t.Cleanup(func() { conn.CloseNow() })
	return conn
}

type cloudEvent struct {
	SpecVersion string         `json:"specversion"`
	ID          string         `json:"id"`
	Type        string         `json:"type"`
	Source      string         `json:"source"`
	Time        time.Time      `json:"time"`
	Data        map[string]any `json:"data"`
}

// next reads the next event of the given type, skipping others ("" takes
// any event).
func next(t *testing.T, conn *websocket.Conn, typ string) cloudEvent {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for {
		_, b, err := conn.Read(ctx)
		if err != nil {
			t.Fatalf("waiting for %s: %v", typ, err)
		}
		var ev cloudEvent
		if err := json.Unmarshal(b, &ev); err != nil {
			t.Fatalf("not JSON: %s", b)
		}
		if ev.Type == typ || typ == "" {
			return ev
		}
	}
}

func TestWebSocket_FamilyGetsEventsOtherFamilyNothing(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	f := e.NewFamily("Live", "America/New_York")
	other := e.NewFamily("Other", "Europe/London")
	viewer := dial(t, e, f.Viewer)
	stranger := dial(t, e, other.Admin)

	entry := f.Caregiver.Must(201, "POST", "/api/v1/care-recipients/"+f.RecipientID+"/timeline", map[string]any{"type": "NOTE", "content": "Dad ate well"})
	ev := next(t, viewer, "timeline.entry.created")
	if ev.SpecVersion != "1.0" || ev.ID == "" || ev.Source == "" || ev.Time.IsZero() ||
		ev.Data["familyId"] != f.ID || ev.Data["careRecipientId"] != f.RecipientID || ev.Data["entryId"] != entry["id"] {
		t.Fatalf("event = %+v", ev)
	}
	// The stranger's first event must be their own family's, proving the
	// other family's event never reached them.
	other.Admin.Must(201, "POST", "/api/v1/care-recipients/"+other.RecipientID+"/timeline", map[string]any{"type": "NOTE", "content": "own"})
	got := next(t, stranger, "timeline.entry.created")
	if got.Data["familyId"] != other.ID {
		t.Fatalf("stranger received another family's event: %+v", got)
	}
}

// TestWebSocket_DoseLoggedReachesOtherMembersLive is the product's promise:
// a dose one member logs shows up on another member's open socket.
func TestWebSocket_DoseLoggedReachesOtherMembersLive(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	f := e.NewFamily("Dose", "America/New_York")
	other := e.NewFamily("Elsewhere", "UTC")
	watcher := dial(t, e, f.Admin)
	stranger := dial(t, e, other.Admin)
	med := f.Caregiver.Must(201, "POST", "/api/v1/care-recipients/"+f.RecipientID+"/medications",
		map[string]any{"name": "Metformin", "dosage": "500mg", "frequency": "TWICE_DAILY", "times": []string{"08:00", "20:00"}})
	dose := f.Caregiver.Must(200, "GET", "/api/v1/care-recipients/"+f.RecipientID+"/medications/schedule", nil)["items"].([]any)[0].(map[string]any)
	log := f.Caregiver.Must(201, "POST", "/api/v1/medications/"+med["id"].(string)+"/log",
		map[string]any{"status": "GIVEN", "scheduledTime": dose["scheduledTime"]})
	ev := next(t, watcher, "medication.logged")
	if ev.Data["medicationId"] != med["id"] || ev.Data["status"] != "GIVEN" || ev.Data["loggedById"] != f.Caregiver.UserID ||
		ev.Data["familyId"] != f.ID || ev.Data["careRecipientId"] != f.RecipientID {
		t.Fatalf("event = %+v (log %v)", ev, log)
	}
	other.Admin.Must(201, "POST", "/api/v1/care-recipients/"+other.RecipientID+"/timeline", map[string]any{"type": "NOTE", "content": "own"})
	for {
		got := next(t, stranger, "")
		if got.Type == "medication.logged" {
			t.Fatalf("another family's member received %+v", got)
		}
		if got.Type == "timeline.entry.created" {
			break
		}
	}
}

func TestWebSocket_RefusesUnauthenticated(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, res, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(e.URL, "http")+"/api/v1/ws", nil)
	if err == nil || res == nil || res.StatusCode != 401 {
		t.Fatalf("unauthenticated dial: err=%v res=%v", err, res)
	}
	h := http.Header{"Authorization": []string{"Bearer not-a-token"}}
	_, res, err = websocket.Dial(ctx, "ws"+strings.TrimPrefix(e.URL, "http")+"/api/v1/ws", &websocket.DialOptions{HTTPHeader: h})
	if err == nil || res == nil || res.StatusCode != 401 {
		t.Fatalf("bad token dial: err=%v res=%v", err, res)
	}
}

func TestWebSocket_RemovedMemberStopsAndLogoutCloses(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	f := e.NewFamily("Leave", "UTC")
	viewer := dial(t, e, f.Viewer)
	caregiver := dial(t, e, f.Caregiver)
	f.Admin.Must(204, "DELETE", "/api/v1/families/"+f.ID+"/members/"+f.Viewer.UserID, nil)
	next(t, caregiver, "family.member.removed")
	f.Admin.Must(201, "POST", "/api/v1/care-recipients/"+f.RecipientID+"/timeline", map[string]any{"type": "NOTE", "content": "after removal"})
	next(t, caregiver, "timeline.entry.created")
	// The removed viewer got the removal itself, then nothing more.
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	for {
		_, b, err := viewer.Read(ctx)
		if err != nil {
			break // timed out: nothing after the removal
		}
		if strings.Contains(string(b), "timeline.entry.created") {
			t.Fatalf("removed member still receives events: %s", b)
		}
	}
	// Logging out closes that session's socket.
	f.Caregiver.Must(204, "POST", "/api/v1/auth/logout", nil)
	ctx2, cancel2 := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel2()
	for {
		if _, _, err := caregiver.Read(ctx2); err != nil {
			if websocket.CloseStatus(err) == -1 && ctx2.Err() != nil {
				t.Fatal("socket of a revoked session is still open")
			}
			break
		}
	}
}

func TestAudit_ListsChangesForAdminsOnly(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		f := e.NewFamily("Audit", "UTC")
		entry := f.Caregiver.Must(201, "POST", "/api/v1/care-recipients/"+f.RecipientID+"/timeline", map[string]any{"type": "NOTE", "content": "audited"})
		var items []any
		deadline := time.Now().Add(10 * time.Second)
		for time.Now().Before(deadline) {
			items = f.Admin.Must(200, "GET", "/api/v1/families/"+f.ID+"/audit?limit=200", nil)["items"].([]any)
			if len(items) > 0 && items[0].(map[string]any)["action"] == "timeline.entry.created" {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		top := items[0].(map[string]any)
		if top["action"] != "timeline.entry.created" || top["resourceId"] != entry["id"] ||
			top["actor"].(map[string]any)["id"] != f.Caregiver.UserID || top["sessionId"] == "" {
			t.Fatalf("newest audit entry = %v", top)
		}
		f.Caregiver.Must(403, "GET", "/api/v1/families/"+f.ID+"/audit", nil)
		f.Viewer.Must(403, "GET", "/api/v1/families/"+f.ID+"/audit", nil)
		// Paging walks every entry once.
		page := f.Admin.Must(200, "GET", "/api/v1/families/"+f.ID+"/audit?limit=2", nil)
		seen := map[string]bool{}
		for n := 0; ; n++ {
			for _, it := range page["items"].([]any) {
				id := it.(map[string]any)["id"].(string)
				if seen[id] {
					t.Fatalf("entry %s on two pages", id)
				}
				seen[id] = true
			}
			cur, _ := page["nextCursor"].(string)
			if cur == "" {
				break
			}
			page = f.Admin.Must(200, "GET", "/api/v1/families/"+f.ID+"/audit?limit=2&cursor="+cur, nil)
		}
		if len(seen) != len(items) {
			t.Fatalf("paging saw %d entries, the full list has %d", len(seen), len(items))
		}
	})
}
