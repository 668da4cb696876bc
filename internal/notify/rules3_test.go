package notify_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/carecircle/carecircle/internal/storage"
)

func TestEmergency_EveryoneAtOnceThenEveryFiveMinutesUntilAcknowledged(t *testing.T) {
	eachDialect(t, func(t *testing.T, d storage.Dialect) {
		raised := local(t, ny, day, 21, 14) // 02:14 in London, 10:14 in Tokyo
		h := newHarness(t, d, raised)
		f := h.family("Alarm", ny, london, ny, tokyo)
		// The admin sleeps with quiet hours and turned emergency email off:
		// emergencies ignore quiet hours, not the chosen channels.
		h.as(f.Admin).Must(200, "PUT", "/api/v1/notifications/preferences", map[string]any{
			"quietHours": map[string]any{"enabled": true, "start": "22:00", "end": "07:00"},
			"categories": map[string]any{"emergencies": map[string]any{"email": false}}})
		alert := h.as(f.Caregiver).Must(201, "POST", "/api/v1/emergency/alert", map[string]any{
			"careRecipientId": f.RecipientID, "type": "FALL", "description": "Found on the kitchen floor"})
		h.settle()

		h.expect("at once", f.Admin, "EMERGENCY", "EMERGENCY", counts{1, 1, 0})
		h.expect("at once", f.Viewer, "EMERGENCY", "EMERGENCY", counts{1, 1, 1})
		h.expect("the one who raised it", f.Caregiver, "EMERGENCY", "EMERGENCY", counts{})
		n := h.inbox(f.Admin, "EMERGENCY")[0]
		if n.Title != "EMERGENCY: Alarm's Dad Test — FALL" ||
			n.Body != "Found on the kitchen floor. Raised by Alarm Caregiver at 21:14 (your time Wed 15 Apr 02:14)." {
			t.Errorf("admin's emergency = %q / %q", n.Title, n.Body)
		}
		p := h.pushes(f.Viewer, "EMERGENCY")[0]
		if p.Urgency != "high" || p.TTL != 10*time.Minute || p.URL != "/emergency/alerts/"+alert["id"].(string) {
			t.Errorf("emergency push = %+v", p)
		}

		h.at(raised.Add(5*time.Minute - time.Second))
		h.expect("before the repeat", f.Viewer, "EMERGENCY", "EMERGENCY", counts{1, 1, 1})
		h.at(raised.Add(5 * time.Minute))
		h.expect("first repeat: push and email, no new inbox item", f.Viewer, "EMERGENCY", "EMERGENCY", counts{1, 2, 2})
		h.expect("first repeat", f.Admin, "EMERGENCY", "EMERGENCY", counts{1, 2, 0})
		if r := h.pushes(f.Viewer, "EMERGENCY")[1]; !strings.HasPrefix(r.Title, "Still unacknowledged") || !strings.Contains(r.Body, "(5 minutes)") {
			t.Errorf("repeat = %+v", r)
		}
		h.at(raised.Add(10 * time.Minute))
		h.expect("second repeat", f.Viewer, "EMERGENCY", "EMERGENCY", counts{1, 3, 3})

		h.as(f.Viewer).Must(200, "POST", "/api/v1/emergency/alerts/"+alert["id"].(string)+"/acknowledge", nil)
		h.settle()
		h.expect("acknowledged", f.Admin, "EMERGENCY", "acknowledged the emergency", counts{1, 1, 0})
		h.expect("acknowledged by themself", f.Viewer, "EMERGENCY", "acknowledged the emergency", counts{})
		h.at(raised.Add(15 * time.Minute))
		h.at(raised.Add(time.Hour))
		h.expect("no repeat after the acknowledgement", f.Viewer, "EMERGENCY", "EMERGENCY", counts{1, 3, 3})
		h.expect("no repeat after the acknowledgement", f.Admin, "EMERGENCY", "EMERGENCY", counts{1, 3, 0})
	})
}

func TestFamilyActivity_OthersAreToldNeverTheOneWhoDidIt(t *testing.T) {
	eachDialect(t, func(t *testing.T, d storage.Dialect) {
		h := newHarness(t, d, local(t, ny, day, 7, 0))
		f := h.family("Activity", ny, london, ny, tokyo)
		med := h.medication(f, f.RecipientID, "Metformin", "500mg", "ONCE_DAILY", []string{"08:00"}, nil, nil)
		h.as(f.Caregiver).Must(201, "POST", "/api/v1/care-recipients/"+f.RecipientID+"/timeline",
			map[string]any{"type": "NOTE", "content": "Dad ate a good breakfast"})
		h.settle()
		h.expect("entry: in-app only by default", f.Admin, "FAMILY_ACTIVITY", "added a note", counts{1, 0, 0})
		h.expect("entry", f.Viewer, "FAMILY_ACTIVITY", "added a note", counts{1, 0, 0})
		h.expect("entry: not to its author", f.Caregiver, "FAMILY_ACTIVITY", "added a note", counts{})
		if n := h.inbox(f.Viewer, "FAMILY_ACTIVITY")[0]; n.Title != "Activity Caregiver added a note about Activity's Dad" ||
			n.Body != "Dad ate a good breakfast" {
			t.Errorf("entry notice = %+v", n)
		}

		// The admin wants family activity by push too.
		h.as(f.Admin).Must(200, "PUT", "/api/v1/notifications/preferences", map[string]any{
			"categories": map[string]any{"familyActivity": map[string]any{"push": true}}})
		h.at(local(t, ny, day, 8, 4))
		h.logDose(f, f.RecipientID, med, f.Caregiver, local(t, ny, day, 8, 0), "GIVEN")
		h.expect("dose logged", f.Admin, "FAMILY_ACTIVITY", "given to", counts{1, 1, 0})
		h.expect("dose logged", f.Viewer, "FAMILY_ACTIVITY", "given to", counts{1, 0, 0})
		h.expect("dose logged: not to who gave it", f.Caregiver, "FAMILY_ACTIVITY", "given to", counts{})
		if p := h.pushes(f.Admin, "given to")[0]; p.Body != "Activity Caregiver gave Activity's Dad Metformin 500mg at 08:04 (your time 13:04)." {
			t.Errorf("dose logged push = %q", p.Body)
		}
		if n := h.inbox(f.Viewer, "FAMILY_ACTIVITY"); n[len(n)-1].Body != "Activity Caregiver gave Activity's Dad Metformin 500mg at 08:04 (your time 21:04)." {
			t.Errorf("viewer's dose notice = %q", n[len(n)-1].Body)
		}
	})
}

func TestPush_RealEncryptionAndVAPIDAndA404RemovesTheSubscription(t *testing.T) {
	eachDialect(t, func(t *testing.T, d storage.Dialect) {
		h := newHarness(t, d, local(t, ny, day, 7, 0))
		f := h.family("Gone", ny, london, ny, tokyo)
		second := h.subscribe(f.Caregiver) // a second browser
		r := h.as(f.Caregiver).Must(200, "GET", "/api/v1/notifications/subscriptions", nil)
		if n := len(r["items"].([]any)); n != 2 {
			t.Fatalf("caregiver has %d subscriptions, want 2", n)
		}
		// The first browser unsubscribed at its push service.
		first := h.subs[f.Caregiver.UserID][0]
		h.push.RespondWith(h.push.URL()+"/push/"+first.ID, http.StatusNotFound)

		h.medication(f, f.RecipientID, "Metformin", "500mg", "ONCE_DAILY", []string{"08:00"}, nil, nil)
		h.at(local(t, ny, day, 8, 0))
		got := h.pushes(f.Caregiver, "Time for") // decrypted by pushtest with each browser's key
		if len(got) != 1 || h.push.Received()[len(h.push.Received())-1].SubscriberID == "" {
			t.Fatalf("caregiver's pushes = %+v", got)
		}
		for _, rec := range h.push.Received() {
			if rec.SubscriberID == first.ID {
				t.Fatal("the gone browser received a message")
			}
		}
		n := h.inbox(f.Caregiver, "DOSE_REMINDER")[0]
		if d := n.delivery("push"); d != "GONE,SENT" && d != "SENT,GONE" {
			t.Errorf("push deliveries = %q, want one GONE and one SENT", d)
		}
		r = h.as(f.Caregiver).Must(200, "GET", "/api/v1/notifications/subscriptions", nil)
		items := r["items"].([]any)
		if len(items) != 1 || items[0].(map[string]any)["endpoint"] != h.push.URL()+"/push/"+second.ID {
			t.Fatalf("subscriptions after the 404 = %v", items)
		}
		// The next reminder goes only to the browser that is left.
		h.at(local(t, ny, "2026-04-15", 8, 0))
		if got := h.pushes(f.Caregiver, "Time for"); len(got) != 2 {
			t.Fatalf("pushes = %d, want 2", len(got))
		}
		if n := h.inbox(f.Caregiver, "DOSE_REMINDER")[1]; n.delivery("push") != "SENT" {
			t.Errorf("second reminder's deliveries = %+v", n.Deliveries)
		}
	})
}

func TestDelivery_AFailingChannelRetriesThenIsDeadWithoutBlockingTheOthers(t *testing.T) {
	eachDialect(t, func(t *testing.T, d storage.Dialect) {
		h := newHarness(t, d, local(t, ny, day, 8, 30))
		f := h.family("Retry", ny, london, ny, tokyo)
		// The caregiver's push service is down for good; the mail server
		// refuses the first two attempts.
		h.push.RespondWith(h.push.URL()+"/push/"+h.subs[f.Caregiver.UserID][0].ID, http.StatusServiceUnavailable)
		h.e.SMTP.FailNext(2)
		alert := h.as(f.Admin).Must(201, "POST", "/api/v1/emergency/alert", map[string]any{
			"careRecipientId": f.RecipientID, "type": "MEDICAL", "description": "Chest pain"})
		h.settle()
		h.expect("push down", f.Caregiver, "EMERGENCY", "EMERGENCY", counts{1, 0, 0})
		h.expect("other members are not held up", f.Viewer, "EMERGENCY", "EMERGENCY", counts{1, 1, 0})
		n := h.inbox(f.Caregiver, "EMERGENCY")[0]
		if n.delivery("push") != "RETRYING" {
			t.Errorf("push delivery = %+v", n.Deliveries)
		}
		// Ack so that the repeats stay out of this test's counts (the
		// caregiver's browser then misses the acknowledgement too).
		h.as(f.Viewer).Must(200, "POST", "/api/v1/emergency/alerts/"+alert["id"].(string)+"/acknowledge", nil)
		// Walk through the backoffs (5 s doubling, 8 attempts).
		for range 12 {
			h.at(h.clock.Now().Add(10 * time.Minute))
		}
		h.expect("email got through on a retry", f.Caregiver, "EMERGENCY", "EMERGENCY", counts{1, 0, 1})
		n = h.inbox(f.Caregiver, "EMERGENCY")[0]
		if n.delivery("push") != "DEAD" || n.delivery("email") != "SENT" {
			t.Errorf("deliveries = %+v, want push DEAD and email SENT", n.Deliveries)
		}
		for _, dl := range n.Deliveries {
			if dl.Channel == "push" && dl.Attempts != storage.DeliveryAttempts {
				t.Errorf("push attempts = %d, want %d", dl.Attempts, storage.DeliveryAttempts)
			}
		}
		metrics := h.e.Anon().Do("GET", "/metrics", nil).String()
		for _, want := range []string{`carecircle_jobs{state="dead"} 2`, `carecircle_notification_deliveries_total{channel="push",status="DEAD"} 2`} {
			if !strings.Contains(metrics, want) {
				t.Errorf("/metrics lacks %s", want)
			}
		}
	})
}

func TestInbox_NoticesArePrunedAfterTheRetention(t *testing.T) {
	eachDialect(t, func(t *testing.T, d storage.Dialect) {
		h := newHarness(t, d, local(t, ny, day, 7, 0))
		f := h.family("Prune", ny, london, ny, tokyo)
		h.as(f.Caregiver).Must(201, "POST", "/api/v1/care-recipients/"+f.RecipientID+"/timeline",
			map[string]any{"type": "NOTE", "content": "An old note"})
		h.settle()
		h.expect("today", f.Admin, "FAMILY_ACTIVITY", "added a note", counts{1, 0, 0})
		h.at(h.clock.Now().Add(89 * 24 * time.Hour))
		h.expect("after 89 days", f.Admin, "FAMILY_ACTIVITY", "added a note", counts{1, 0, 0})
		h.at(h.clock.Now().Add(2 * 24 * time.Hour))
		h.expect("after 91 days", f.Admin, "FAMILY_ACTIVITY", "added a note", counts{})
	})
}
