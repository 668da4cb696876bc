package api_test

import (
	"context"
	"database/sql"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/carecircle/carecircle"
	"github.com/carecircle/carecircle/internal/apptest"
)

func init() {
	isolationSetups = append(isolationSetups, func(t *testing.T, f *apptest.Family, ids map[string]string) {
		ids["alert"] = f.Caregiver.Must(201, "POST", "/api/v1/emergency/alert", map[string]any{
			"careRecipientId": f.RecipientID, "type": "FALL", "description": "Fell in the bathroom"})["id"].(string)
	})
	isolationCases = append(isolationCases,
		isoCase{"POST", "/api/v1/emergency/alert", map[string]any{"careRecipientId": "{recipient}", "type": "OTHER", "description": "fake"}, 0},
		isoCase{"GET", "/api/v1/emergency/alerts/{alert}", nil, 200},
		isoCase{"POST", "/api/v1/emergency/alerts/{alert}/acknowledge", nil, 0},
		isoCase{"POST", "/api/v1/emergency/alerts/{alert}/resolve", map[string]any{"notes": "fake"}, 0},
		isoCase{"GET", "/api/v1/care-recipients/{recipient}/emergency-alerts", nil, 200},
		isoCase{"GET", "/api/v1/care-recipients/{recipient}/emergency-info", nil, 200},
	)
}

func raise(c *apptest.Client, recipientID, typ, description string) map[string]any {
	return c.Must(201, "POST", "/api/v1/emergency/alert", map[string]any{"careRecipientId": recipientID, "type": typ, "description": description})
}

func TestEmergency_RaiseAcknowledgeResolve(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		f := e.NewFamily("Alert", "America/Chicago")
		a := f.Caregiver.Must(201, "POST", "/api/v1/emergency/alert", map[string]any{
			"careRecipientId": f.RecipientID, "type": "FALL", "description": " Fell on the stairs, conscious ", "location": "Home, upstairs"})
		id, _ := a["id"].(string)
		tb, _ := a["triggeredBy"].(map[string]any)
		if !strings.HasPrefix(id, "alrt_") || a["status"] != "ACTIVE" || a["careRecipientId"] != f.RecipientID || a["type"] != "FALL" ||
			a["description"] != "Fell on the stairs, conscious" || a["location"] != "Home, upstairs" || tb["id"] != f.Caregiver.UserID ||
			tb["fullName"] != f.Caregiver.Name || a["createdAt"] == nil || a["acknowledgedAt"] != nil || a["resolvedAt"] != nil ||
			a["careRecipientName"] != "Alert's Dad Test" {
			t.Fatalf("raised = %v", a)
		}
		if acks, ok := a["acknowledgements"].([]any); !ok || len(acks) != 0 {
			t.Fatalf("acknowledgements = %#v, want []", a["acknowledgements"])
		}
		wantStatus(t, f.Viewer.Do("POST", "/api/v1/emergency/alert", map[string]any{"careRecipientId": f.RecipientID, "type": "FALL", "description": "x"}), 403)
		wantStatus(t, f.Admin.Do("POST", "/api/v1/emergency/alert", map[string]any{"careRecipientId": "cr_00000000000000000000000000", "type": "FALL", "description": "x"}), 404)

		created := eventsOfType(t, e, f.ID, carecircle.EventAlertCreated)
		if len(created) != 1 {
			t.Fatalf("emergency.alert.created = %v", created)
		}
		for k, want := range map[string]any{"alertId": id, "type": "FALL", "description": "Fell on the stairs, conscious", "location": "Home, upstairs",
			"triggeredById": f.Caregiver.UserID, "triggeredByName": f.Caregiver.Name, "careRecipientName": "Alert's Dad Test",
			"timezone": "America/Chicago", "careRecipientId": f.RecipientID} {
			if created[0][k] != want {
				t.Errorf("created event %s = %v, want %v", k, created[0][k], want)
			}
		}

		path := "/api/v1/emergency/alerts/" + id
		got := f.Viewer.Must(200, "POST", path+"/acknowledge", nil)
		acks := got["acknowledgements"].([]any)
		if got["status"] != "ACKNOWLEDGED" || len(acks) != 1 || acks[0].(map[string]any)["user"].(map[string]any)["id"] != f.Viewer.UserID ||
			acks[0].(map[string]any)["acknowledgedAt"] == nil || got["acknowledgedBy"].(map[string]any)["id"] != f.Viewer.UserID || got["acknowledgedAt"] == nil {
			t.Fatalf("acknowledged = %v", got)
		}
		again := f.Viewer.Must(200, "POST", path+"/acknowledge", nil)
		if len(again["acknowledgements"].([]any)) != 1 || again["acknowledgedAt"] != got["acknowledgedAt"] {
			t.Fatalf("second acknowledgement changed the alert: %v", again)
		}
		both := f.Admin.Must(200, "POST", path+"/acknowledge", nil)
		if both["status"] != "ACKNOWLEDGED" || len(both["acknowledgements"].([]any)) != 2 || both["acknowledgedBy"].(map[string]any)["id"] != f.Viewer.UserID {
			t.Fatalf("admin acknowledged = %v", both)
		}
		acked := eventsOfType(t, e, f.ID, carecircle.EventAlertAcknowledged)
		if len(acked) != 2 || acked[0]["acknowledgedById"] != f.Viewer.UserID || acked[0]["first"] != true ||
			acked[1]["acknowledgedById"] != f.Admin.UserID || acked[1]["first"] != false || acked[0]["alertId"] != id {
			t.Fatalf("emergency.alert.acknowledged = %v", acked)
		}

		wantStatus(t, f.Viewer.Do("POST", path+"/resolve", nil), 403)
		res := f.Caregiver.Must(200, "POST", path+"/resolve", map[string]any{"notes": "Paramedics checked him; no fracture."})
		if res["status"] != "RESOLVED" || res["resolvedBy"].(map[string]any)["id"] != f.Caregiver.UserID || res["resolvedAt"] == nil ||
			res["resolutionNotes"] != "Paramedics checked him; no fracture." || len(res["acknowledgements"].([]any)) != 2 {
			t.Fatalf("resolved = %v", res)
		}
		wantStatus(t, f.Admin.Do("POST", path+"/resolve", nil), 409)
		wantStatus(t, f.Viewer.Do("POST", path+"/acknowledge", nil), 409)
		wantStatus(t, f.Caregiver.Do("POST", path+"/acknowledge", nil), 409)
		if got := f.Viewer.Must(200, "GET", path, nil); got["status"] != "RESOLVED" || len(got["acknowledgements"].([]any)) != 2 {
			t.Fatalf("read = %v", got)
		}
		resolved := eventsOfType(t, e, f.ID, carecircle.EventAlertResolved)
		if len(resolved) != 1 || resolved[0]["resolvedById"] != f.Caregiver.UserID || resolved[0]["notes"] != "Paramedics checked him; no fracture." {
			t.Fatalf("emergency.alert.resolved = %v", resolved)
		}

		// An alert can be resolved straight from ACTIVE, without a body.
		b := raise(f.Admin, f.RecipientID, "MISSING", "Not in his room")
		if r := f.Admin.Must(200, "POST", "/api/v1/emergency/alerts/"+b["id"].(string)+"/resolve", nil); r["status"] != "RESOLVED" || r["acknowledgedAt"] != nil {
			t.Fatalf("resolved from active = %v", r)
		}
		wantStatus(t, f.Viewer.Do("GET", "/api/v1/emergency/alerts/alrt_00000000000000000000000000", nil), 404)
	})
}

func TestEmergency_ListByStatusNewestFirst(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		f := e.NewFamily("List", "UTC")
		// ids[4] is the newest: by creation time, then (within one
		// millisecond) by id, as the list orders them.
		var raised []map[string]any
		for _, typ := range []string{"FALL", "MEDICAL", "MISSING", "HOSPITALIZATION", "OTHER"} {
			raised = append(raised, raise(f.Caregiver, f.RecipientID, typ, "alert "+typ))
		}
		sort.SliceStable(raised, func(i, j int) bool {
			a, b := raised[i]["createdAt"].(string), raised[j]["createdAt"].(string)
			if a != b {
				ta, _ := time.Parse(time.RFC3339, a)
				tb, _ := time.Parse(time.RFC3339, b)
				return ta.Before(tb)
			}
			return raised[i]["id"].(string) < raised[j]["id"].(string)
		})
		var ids []string
		for _, a := range raised {
			ids = append(ids, a["id"].(string))
		}
		ack := func(i int) { f.Viewer.Must(200, "POST", "/api/v1/emergency/alerts/"+ids[i]+"/acknowledge", nil) }
		resolve := func(i int) { f.Admin.Must(200, "POST", "/api/v1/emergency/alerts/"+ids[i]+"/resolve", nil) }
		ack(1)
		ack(2)
		resolve(2)
		resolve(3)
		base := "/api/v1/care-recipients/" + f.RecipientID + "/emergency-alerts"
		list := func(q string) []string {
			var out []string
			for _, it := range f.Viewer.Must(200, "GET", base+q, nil)["items"].([]any) {
				out = append(out, it.(map[string]any)["id"].(string))
			}
			return out
		}
		for q, want := range map[string][]string{
			"":                     {ids[4], ids[3], ids[2], ids[1], ids[0]},
			"?status=ACTIVE":       {ids[4], ids[0]},
			"?status=ACKNOWLEDGED": {ids[1]},
			"?status=RESOLVED":     {ids[3], ids[2]},
		} {
			if got := list(q); strings.Join(got, ",") != strings.Join(want, ",") {
				t.Errorf("list%s = %v, want %v", q, got, want)
			}
		}
		var got []string
		cursor := ""
		for pages := 0; ; pages++ {
			if pages > 5 {
				t.Fatal("pagination does not end")
			}
			q := "?limit=2"
			if cursor != "" {
				q += "&cursor=" + cursor
			}
			m := f.Viewer.Must(200, "GET", base+q, nil)
			for _, it := range m["items"].([]any) {
				got = append(got, it.(map[string]any)["id"].(string))
			}
			next, ok := m["nextCursor"].(string)
			if !ok {
				break
			}
			cursor = next
		}
		if strings.Join(got, ",") != strings.Join([]string{ids[4], ids[3], ids[2], ids[1], ids[0]}, ",") {
			t.Fatalf("paged = %v", got)
		}
		for _, q := range []string{"?status=OPEN", "?cursor=xyz", "?limit=many"} {
			r := f.Viewer.Do("GET", base+q, nil)
			wantStatus(t, r, 400)
			name := strings.TrimPrefix(strings.SplitN(q, "=", 2)[0], "?")
			if !strings.Contains(strings.Join(messages(r), "|"), name) {
				t.Errorf("%s: messages %v do not name %s", q, messages(r), name)
			}
		}
	})
}

// appDB opens the database of a running process directly, for rows whose
// API belongs to another feature.
func appDB(t *testing.T, e *apptest.Env) *sql.DB {
	t.Helper()
	var db *sql.DB
	var err error
	if strings.HasPrefix(e.DBURL, "postgres") {
		db, err = sql.Open("pgx", e.DBURL)
	} else {
		db, err = sql.Open("sqlite", "file:"+e.DBURL+"?_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)")
	}
	if err != nil {
		t.Fatalf("open database: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestEmergency_InfoHasWhatParamedicsNeed(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		f := e.NewFamily("Info", "Pacific/Auckland")
		f.Caregiver.Must(200, "PATCH", "/api/v1/auth/me", map[string]any{"phone": "+64 21 555 0199"})
		cr := f.Admin.Must(201, "POST", "/api/v1/care-recipients", map[string]any{
			"familyId": f.ID, "firstName": "Margaret", "lastName": "Thompson", "preferredName": "Peggy", "dateOfBirth": "1941-05-12",
			"bloodType": "A-", "allergies": []string{"Penicillin", "Latex"}, "conditions": []string{"Type 2 diabetes", "Atrial fibrillation"},
			"timezone": "Pacific/Auckland", "notes": "Hard of hearing; DNR on file", "primaryHospital": "Auckland City Hospital",
			"insurance":         map[string]any{"provider": "Southern Cross", "policyNumber": "SC-1234"},
			"emergencyContacts": []map[string]any{{"name": "Sarah", "relationship": "Daughter", "phone": "+64 21 555 0100"}},
			"doctors":           []map[string]any{{"name": "Dr. Patel", "specialty": "Cardiology", "phone": "+64 9 555 0120"}},
		})
		rid := cr["id"].(string)
		db := appDB(t, e)
		now := time.Now().UnixMilli()
		for _, m := range []struct {
			id, name, dosage, freq, times, instr string
			deactivated                          any
		}{
			{"med_00000000000000000000000001", "Warfarin", "5 mg", "ONCE_DAILY", `["18:00"]`, "Same time daily; INR monitored", nil},
			{"med_00000000000000000000000002", "Metformin", "500 mg", "TWICE_DAILY", `["08:00","20:00"]`, "With meals", nil},
			{"med_00000000000000000000000003", "Amoxicillin", "250 mg", "THREE_TIMES_DAILY", `["08:00","14:00","20:00"]`, "", now},
		} {
			if _, err := db.ExecContext(context.Background(), `INSERT INTO medications (id, family_id, care_recipient_id, name, dosage,
				frequency, times, instructions, deactivated_at, created_by, created_at, updated_at)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11)`,
				m.id, f.ID, rid, m.name, m.dosage, m.freq, m.times, m.instr, m.deactivated, f.Admin.UserID, now); err != nil {
				t.Fatalf("insert medication: %v", err)
			}
		}
		active := raise(f.Caregiver, rid, "MEDICAL", "Chest pain")
		old := raise(f.Caregiver, rid, "FALL", "Slipped")
		f.Admin.Must(200, "POST", "/api/v1/emergency/alerts/"+old["id"].(string)+"/resolve", nil)

		before := time.Now().Add(-2 * time.Second)
		info := f.Viewer.Must(200, "GET", "/api/v1/care-recipients/"+rid+"/emergency-info", nil)
		gen, err := time.Parse(time.RFC3339, info["generatedAt"].(string))
		if err != nil || gen.Before(before) || gen.After(time.Now().Add(time.Second)) {
			t.Errorf("generatedAt = %v", info["generatedAt"])
		}
		p := info["careRecipient"].(map[string]any)
		today := time.Now().In(mustZone(t, "Pacific/Auckland"))
		age := today.Year() - 1941
		if today.Month() < time.May || (today.Month() == time.May && today.Day() < 12) {
			age--
		}
		if p["id"] != rid || p["firstName"] != "Margaret" || p["lastName"] != "Thompson" || p["preferredName"] != "Peggy" ||
			p["dateOfBirth"] != "1941-05-12" || p["age"] != float64(age) || p["bloodType"] != "A-" ||
			strings.Join(toStrings(p["allergies"]), ",") != "Penicillin,Latex" ||
			strings.Join(toStrings(p["conditions"]), ",") != "Type 2 diabetes,Atrial fibrillation" || p["notes"] != "Hard of hearing; DNR on file" {
			t.Errorf("careRecipient = %v (want age %d)", p, age)
		}
		meds := info["medications"].([]any)
		if len(meds) != 2 {
			t.Fatalf("medications = %v", meds)
		}
		m0, m1 := meds[0].(map[string]any), meds[1].(map[string]any)
		if m0["name"] != "Metformin" || m0["dosage"] != "500 mg" || m0["frequency"] != "TWICE_DAILY" || strings.Join(toStrings(m0["times"]), ",") != "08:00,20:00" ||
			m0["instructions"] != "With meals" || m1["name"] != "Warfarin" || m1["instructions"] != "Same time daily; INR monitored" {
			t.Errorf("medications = %v", meds)
		}
		ec := info["emergencyContacts"].([]any)
		docs := info["doctors"].([]any)
		ins := info["insurance"].(map[string]any)
		if len(ec) != 1 || ec[0].(map[string]any)["phone"] != "+64 21 555 0100" || len(docs) != 1 || docs[0].(map[string]any)["specialty"] != "Cardiology" ||
			ins["policyNumber"] != "SC-1234" || info["primaryHospital"] != "Auckland City Hospital" {
			t.Errorf("contacts/doctors/insurance/hospital = %v %v %v %v", ec, docs, ins, info["primaryHospital"])
		}
		fam := info["familyMembers"].([]any)
		roles := map[string]string{}
		phone := ""
		for _, it := range fam {
			m := it.(map[string]any)
			roles[m["fullName"].(string)] = m["role"].(string)
			if m["userId"] == f.Caregiver.UserID {
				phone, _ = m["phone"].(string)
			}
		}
		if len(fam) != 3 || roles[f.Admin.Name] != "ADMIN" || roles[f.Caregiver.Name] != "CAREGIVER" || roles[f.Viewer.Name] != "VIEWER" || phone != "+64 21 555 0199" {
			t.Errorf("familyMembers = %v", fam)
		}
		alerts := info["activeAlerts"].([]any)
		if len(alerts) != 1 || alerts[0].(map[string]any)["id"] != active["id"] {
			t.Errorf("activeAlerts = %v", alerts)
		}
		if d, ok := info["documents"].([]any); !ok || len(d) != 0 {
			t.Errorf("documents = %#v, want []", info["documents"])
		}

		// A recipient with nothing on file still gets a complete page.
		bare := f.Viewer.Must(200, "GET", "/api/v1/care-recipients/"+f.RecipientID+"/emergency-info", nil)
		for _, k := range []string{"medications", "emergencyContacts", "doctors", "familyMembers", "activeAlerts", "documents"} {
			if _, ok := bare[k].([]any); !ok {
				t.Errorf("bare page %s = %#v, want a list", k, bare[k])
			}
		}
		if bare["careRecipient"].(map[string]any)["age"] != nil || bare["insurance"] != nil {
			t.Errorf("bare page = %v", bare)
		}
	})
}

func mustZone(t *testing.T, name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func toStrings(v any) []string {
	var out []string
	for _, s := range v.([]any) {
		out = append(out, s.(string))
	}
	return out
}

func TestEmergency_HostileInputNamesTheField(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		f := e.NewFamily("Hostile", "UTC")
		a := raise(f.Caregiver, f.RecipientID, "FALL", "x")["id"].(string)
		ok := map[string]any{"careRecipientId": f.RecipientID, "type": "FALL", "description": "Fell"}
		with := func(k string, v any) map[string]any {
			m := map[string]any{}
			for a, b := range ok {
				m[a] = b
			}
			if v == nil {
				delete(m, k)
			} else {
				m[k] = v
			}
			return m
		}
		cases := []struct {
			path  string
			body  any
			field string
		}{
			{"/api/v1/emergency/alert", `{"type":"FALL"`, "body"},
			{"/api/v1/emergency/alert", `null`, "body"},
			{"/api/v1/emergency/alert", with("careRecipientId", nil), "careRecipientId"},
			{"/api/v1/emergency/alert", with("careRecipientId", ""), "careRecipientId"},
			{"/api/v1/emergency/alert", with("careRecipientId", []string{f.RecipientID}), "careRecipientId"},
			{"/api/v1/emergency/alert", with("type", nil), "type"},
			{"/api/v1/emergency/alert", with("type", "EARTHQUAKE"), "type"},
			{"/api/v1/emergency/alert", with("type", "fall"), "type"},
			{"/api/v1/emergency/alert", with("description", nil), "description"},
			{"/api/v1/emergency/alert", with("description", "   "), "description"},
			{"/api/v1/emergency/alert", with("description", strings.Repeat("d", 2001)), "description"},
			{"/api/v1/emergency/alert", with("description", 3.14), "description"},
			{"/api/v1/emergency/alert", with("location", strings.Repeat("l", 501)), "location"},
			{"/api/v1/emergency/alert", with("location", map[string]any{"lat": 1}), "location"},
			{"/api/v1/emergency/alerts/" + a + "/resolve", map[string]any{"notes": strings.Repeat("n", 5001)}, "notes"},
			{"/api/v1/emergency/alerts/" + a + "/resolve", map[string]any{"notes": false}, "notes"},
			{"/api/v1/emergency/alerts/" + a + "/resolve", `{"notes":`, "body"},
		}
		for _, c := range cases {
			r := f.Caregiver.Do("POST", c.path, c.body)
			if r.Status != 400 {
				t.Errorf("POST %s %v: status %d, want 400: %s", c.path, c.body, r.Status, r.Body)
				continue
			}
			wantStatus(t, r, 400)
			if !strings.Contains(strings.Join(messages(r), "|"), c.field) {
				t.Errorf("POST %s %v: messages %v do not name %s", c.path, c.body, messages(r), c.field)
			}
		}
		if n := len(f.Viewer.Must(200, "GET", "/api/v1/care-recipients/"+f.RecipientID+"/emergency-alerts", nil)["items"].([]any)); n != 1 {
			t.Fatalf("hostile input raised alerts: %d listed", n)
		}
		if got := f.Viewer.Must(200, "GET", "/api/v1/emergency/alerts/"+a, nil); got["status"] != "ACTIVE" {
			t.Fatalf("hostile input changed the alert: %v", got)
		}
		// Bodies are optional where nothing is required; garbage ids are simply not found.
		f.Viewer.Must(200, "POST", "/api/v1/emergency/alerts/"+a+"/acknowledge", "")
		wantStatus(t, f.Viewer.Do("POST", "/api/v1/emergency/alerts/'%20OR%201=1/acknowledge", nil), 404)
		wantStatus(t, f.Viewer.Do("GET", "/api/v1/care-recipients/"+strings.Repeat("x", 65)+"/emergency-info", nil), 404) // no id that long exists
	})
}

func TestEmergency_SimultaneousAcknowledgementsAndResolves(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		f := e.NewFamily("Rush", "UTC")
		members := []*apptest.Client{f.Admin, f.Caregiver, f.Viewer, f.Viewer, f.Caregiver}
		id := raise(f.Caregiver, f.RecipientID, "MEDICAL", "Can't breathe well")["id"].(string)
		statuses := race(len(members), func(i int) *apptest.Response {
			return members[i].Do("POST", "/api/v1/emergency/alerts/"+id+"/acknowledge", nil)
		})
		for i, st := range statuses {
			if st != 200 {
				t.Errorf("acknowledgement %d: status %d", i, st)
			}
		}
		got := f.Viewer.Must(200, "GET", "/api/v1/emergency/alerts/"+id, nil)
		if got["status"] != "ACKNOWLEDGED" || len(got["acknowledgements"].([]any)) != 3 {
			t.Fatalf("after simultaneous acknowledgements: %v", got)
		}
		firsts := 0
		acked := eventsOfType(t, e, f.ID, carecircle.EventAlertAcknowledged)
		for _, ev := range acked {
			if ev["first"] == true {
				firsts++
			}
		}
		if len(acked) != 3 || firsts != 1 {
			t.Fatalf("%d acknowledged events, %d first, want 3 and 1: %v", len(acked), firsts, acked)
		}

		resolvers := []*apptest.Client{f.Admin, f.Caregiver, f.Admin, f.Caregiver}
		statuses = race(len(resolvers), func(i int) *apptest.Response {
			return resolvers[i].Do("POST", "/api/v1/emergency/alerts/"+id+"/resolve", map[string]any{"notes": "ok"})
		})
		won := 0
		for i, st := range statuses {
			switch st {
			case 200:
				won++
			case 409:
			default:
				t.Errorf("resolve %d: status %d", i, st)
			}
		}
		if won != 1 || len(eventsOfType(t, e, f.ID, carecircle.EventAlertResolved)) != 1 {
			t.Fatalf("simultaneous resolves: %v, want one 200", statuses)
		}
	})
}

// race runs n requests at once and returns their statuses.
func race(n int, do func(i int) *apptest.Response) []int {
	statuses := make([]int, n)
	var wg sync.WaitGroup
	gate := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-gate
			statuses[i] = do(i).Status
		}()
	}
	close(gate)
	wg.Wait()
	return statuses
}

func FuzzEmergencyBodies(f *testing.F) {
	fuzzBodies(f, []fuzzRoute{{"POST", "/api/v1/emergency/alert"}},
		`{"careRecipientId":"cr_00000000000000000000000000","type":"FALL","description":"Fell","location":"Kitchen"}`,
		`{"careRecipientId":"","type":"OTHER","description":"\u202e"}`)
}
