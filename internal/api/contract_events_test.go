package api_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/carecircle/carecircle"
	"github.com/carecircle/carecircle/internal/apptest"
)

// DESIGN §4: "Every state change writes its domain event ... as a CloudEvents
// 1.0 JSON envelope {specversion:"1.0",id,type,source,time,datacontenttype,
// data} with familyId and careRecipientId in data." · "WebSocket /api/v1/ws:
// authenticated like the API (cookie or bearer); the server pushes every
// event of each family the user belongs to, as the CloudEvents JSON above;
// membership changes apply to open sockets at once."

// familyLevel are the event types about the family rather than one care
// recipient: their careRecipientId is null.
var familyLevel = map[string]bool{
	carecircle.EventMemberJoined: true, carecircle.EventMemberRemoved: true, carecircle.EventMemberRoleChanged: true,
}

func TestContract_EveryStateChangeReachesMembersSocketsAsCloudEvents(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		f := e.NewFamily("Events", "America/New_York")
		rid := f.RecipientID
		// A VIEWER's socket sees everything; a stranger's sees nothing of it.
		sock := dialSocket(t, e, f.Viewer)
		stranger := e.NewFamily("Strangers", "UTC")
		strangerSock := dialSocket(t, e, stranger.Admin)

		want := map[string]string{} // type → careRecipientId expected
		expect := func(typ, recipient string) { want[typ] = recipient }

		// Family membership.
		nina := e.Register("Nina Newcomer")
		f.Admin.Invite(f.ID, nina, carecircle.RoleViewer)
		expect(carecircle.EventMemberJoined, "")
		f.Admin.Must(200, "PATCH", "/api/v1/families/"+f.ID+"/members/"+nina.UserID, map[string]any{"role": "CAREGIVER"})
		expect(carecircle.EventMemberRoleChanged, "")
		f.Admin.Must(204, "DELETE", "/api/v1/families/"+f.ID+"/members/"+nina.UserID, nil)
		expect(carecircle.EventMemberRemoved, "")

		// Care recipients.
		other := f.Admin.CreateRecipient(f.ID, "Uncle", "UTC")
		expect(carecircle.EventRecipientCreated, other)
		f.Admin.Must(200, "PATCH", "/api/v1/care-recipients/"+other, map[string]any{"notes": "moved in"})
		expect(carecircle.EventRecipientUpdated, other)
		f.Admin.Must(204, "DELETE", "/api/v1/care-recipients/"+other, nil)
		expect(carecircle.EventRecipientDeleted, other)

		// Medications.
		med := f.Caregiver.Must(201, "POST", "/api/v1/care-recipients/"+rid+"/medications", map[string]any{
			"name": "Metformin", "dosage": "500mg", "frequency": "ONCE_DAILY", "times": []string{"08:00"}, "currentSupply": 2, "refillThreshold": 1})
		expect(carecircle.EventMedicationCreated, rid)
		mid := med["id"].(string)
		f.Caregiver.Must(200, "PATCH", "/api/v1/medications/"+mid, map[string]any{"instructions": "with food"})
		expect(carecircle.EventMedicationUpdated, rid)
		day := time.Now().In(mustZone(t, "America/New_York")).AddDate(0, 0, -1).Format("2006-01-02")
		dose := f.Caregiver.Must(200, "GET", "/api/v1/care-recipients/"+rid+"/medications/schedule?date="+day, nil)["items"].([]any)[0].(map[string]any)
		f.Caregiver.Must(201, "POST", "/api/v1/medications/"+mid+"/log", map[string]any{"status": "GIVEN", "scheduledTime": dose["scheduledTime"]})
		expect(carecircle.EventMedicationLogged, rid)
		expect(carecircle.EventMedicationRefill, rid)
		f.Caregiver.Must(204, "DELETE", "/api/v1/medications/"+mid, nil)
		expect(carecircle.EventMedicationDeactivated, rid)

		// Appointments.
		start := time.Now().UTC().Add(48 * time.Hour).Truncate(time.Hour).Format(time.RFC3339)
		apt := f.Caregiver.Must(201, "POST", "/api/v1/care-recipients/"+rid+"/appointments", map[string]any{"title": "Dentist", "startTime": start})
		expect(carecircle.EventAppointmentCreated, rid)
		f.Caregiver.Must(200, "PATCH", "/api/v1/appointments/"+apt["id"].(string), map[string]any{"location": "Main St"})
		expect(carecircle.EventAppointmentUpdated, rid)
		f.Caregiver.Must(204, "DELETE", "/api/v1/appointments/"+apt["id"].(string), nil)
		expect(carecircle.EventAppointmentCancelled, rid)

		// Timeline.
		tl := f.Caregiver.Must(201, "POST", "/api/v1/care-recipients/"+rid+"/timeline", map[string]any{"type": "NOTE", "content": "Good day"})
		expect(carecircle.EventTimelineCreated, rid)
		f.Caregiver.Must(200, "PATCH", "/api/v1/timeline/"+tl["id"].(string), map[string]any{"content": "Great day"})
		expect(carecircle.EventTimelineUpdated, rid)
		f.Caregiver.Must(204, "DELETE", "/api/v1/timeline/"+tl["id"].(string), nil)
		expect(carecircle.EventTimelineDeleted, rid)

		// Emergency.
		al := f.Caregiver.Must(201, "POST", "/api/v1/emergency/alert", map[string]any{"careRecipientId": rid, "type": "FALL", "description": "Fell"})
		expect(carecircle.EventAlertCreated, rid)
		f.Viewer.Must(200, "POST", "/api/v1/emergency/alerts/"+al["id"].(string)+"/acknowledge", nil)
		expect(carecircle.EventAlertAcknowledged, rid)
		f.Caregiver.Must(200, "POST", "/api/v1/emergency/alerts/"+al["id"].(string)+"/resolve", map[string]any{"notes": "ok"})
		expect(carecircle.EventAlertResolved, rid)

		// Shifts.
		now := time.Now().UTC().Truncate(time.Minute)
		sh := f.Admin.Must(201, "POST", "/api/v1/care-recipients/"+rid+"/shifts", map[string]any{"caregiverId": f.Caregiver.UserID,
			"startTime": now.Add(-time.Hour).Format(time.RFC3339), "endTime": now.Add(3 * time.Hour).Format(time.RFC3339)})
		expect(carecircle.EventShiftCreated, rid)
		f.Admin.Must(200, "PATCH", "/api/v1/shifts/"+sh["id"].(string), map[string]any{"notes": "keys under the mat"})
		expect(carecircle.EventShiftUpdated, rid)
		f.Caregiver.Must(200, "POST", "/api/v1/shifts/"+sh["id"].(string)+"/check-in", nil)
		expect(carecircle.EventShiftCheckedIn, rid)
		f.Caregiver.Must(200, "POST", "/api/v1/shifts/"+sh["id"].(string)+"/check-out", map[string]any{"handoffNotes": "all well"})
		expect(carecircle.EventShiftCheckedOut, rid)

		// Documents.
		up := sendUpload(t, f.Caregiver, rid, upload{fields: [][2]string{{"category", "OTHER"}}, file: "n.txt", content: strings.NewReader("note")})
		if up.Status != 201 {
			t.Fatalf("upload: %d %s", up.Status, up.Body)
		}
		expect(carecircle.EventDocumentUploaded, rid)
		f.Caregiver.Must(204, "DELETE", "/api/v1/documents/"+up.Map()["id"].(string), nil)
		expect(carecircle.EventDocumentDeleted, rid)

		// Read until every type has arrived, checking each envelope.
		got := map[string]bool{}
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		for len(got) < len(want) {
			var ev envelope
			_, b, err := sock.conn.Read(ctx)
			if err != nil {
				var missing []string
				for typ := range want {
					if !got[typ] {
						missing = append(missing, typ)
					}
				}
				t.Fatalf("socket: %v; never received %v", err, missing)
			}
			if err := jsonUnmarshal(b, &ev); err != nil {
				t.Fatalf("socket message is not JSON: %s", b)
			}
			recipient, listed := want[ev.Type()]
			if !listed {
				continue // events beyond DESIGN §4's list (document.updated, ...)
			}
			if ev.Data()["careRecipientId"] == rid && recipient != rid {
				continue // the family's first recipient, created before the socket opened
			}
			got[ev.Type()] = true
			checkEnvelope(t, ev, f.ID, recipient)
		}
		// The stranger's socket got nothing of this family: its first
		// event is its own family's.
		stranger.Admin.Must(201, "POST", "/api/v1/care-recipients/"+stranger.RecipientID+"/timeline", map[string]any{"type": "NOTE", "content": "own"})
		own, before := strangerSock.until(carecircle.EventTimelineCreated)
		for _, ev := range append(before, own) {
			if ev.Data()["familyId"] == f.ID {
				t.Fatalf("another family's member received %v", ev)
			}
		}
	})
}

// checkEnvelope checks a CloudEvents 1.0 envelope and its routing data.
func checkEnvelope(t *testing.T, ev envelope, familyID, recipientID string) {
	t.Helper()
	typ := ev.Type()
	wantKeys(t, typ, ev, map[string]string{"specversion": "string", "id": "string", "type": "string", "source": "string",
		"time": "string", "datacontenttype": "string", "data": "object"})
	if ev["specversion"] != "1.0" || ev["datacontenttype"] != "application/json" || ev["id"] == "" || ev["source"] == "" {
		t.Errorf("%s envelope = %v", typ, ev)
	}
	if s, _ := ev["time"].(string); !strings.HasSuffix(s, "Z") {
		t.Errorf("%s time = %v, want RFC 3339 UTC", typ, ev["time"])
	} else if _, err := time.Parse(time.RFC3339Nano, s); err != nil {
		t.Errorf("%s time = %v: %v", typ, s, err)
	}
	d := ev.Data()
	if d["familyId"] != familyID {
		t.Errorf("%s data.familyId = %v, want %s", typ, d["familyId"], familyID)
	}
	v, has := d["careRecipientId"]
	switch {
	case !has:
		t.Errorf("%s data has no careRecipientId: %v", typ, d)
	case recipientID == "" && v != nil:
		t.Errorf("%s data.careRecipientId = %v, want null for a family-level event", typ, v)
	case recipientID != "" && v != recipientID:
		t.Errorf("%s data.careRecipientId = %v, want %s", typ, v, recipientID)
	}
}

// "authenticated like the API (cookie or bearer)".
func TestContract_WebSocketAuthenticatesByCookieOrBearer(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		f := e.NewFamily("Sockets", "UTC")
		url := "ws" + strings.TrimPrefix(e.URL, "http") + "/api/v1/ws"
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		conn, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{HTTPHeader: http.Header{"Cookie": []string{"accessToken=" + f.Viewer.Token}}})
		if err != nil {
			t.Fatalf("dial with the cookie: %v", err)
		}
		defer conn.CloseNow()
		sock := &socket{t: t, conn: conn}
		f.Caregiver.Must(201, "POST", "/api/v1/care-recipients/"+f.RecipientID+"/timeline", map[string]any{"type": "NOTE", "content": "hi"})
		ev, _ := sock.until(carecircle.EventTimelineCreated)
		checkEnvelope(t, ev, f.ID, f.RecipientID)
		for _, h := range []http.Header{nil, {"Authorization": []string{"Bearer nope"}}} {
			_, res, err := websocket.Dial(ctx, url, &websocket.DialOptions{HTTPHeader: h})
			if err == nil || res == nil || res.StatusCode != 401 {
				t.Errorf("dial with %v: err=%v res=%v", h, err, res)
			}
		}
		// A family joined while the socket is open is pushed at once.
		late := e.Register("Late Joiner")
		lateSock := dialSocket(t, e, late)
		f.Admin.Invite(f.ID, late, carecircle.RoleViewer)
		f.Caregiver.Must(201, "POST", "/api/v1/care-recipients/"+f.RecipientID+"/timeline", map[string]any{"type": "NOTE", "content": "welcome"})
		ev, _ = lateSock.until(carecircle.EventTimelineCreated)
		if ev.Data()["familyId"] != f.ID {
			t.Errorf("late joiner's event = %v", ev)
		}
	})
}
