package api_test

import (
	"encoding/json"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/carecircle/carecircle/internal/apptest"
)

type openAPIDoc struct {
	Paths      map[string]map[string]openAPIOp `json:"paths"`
	Components struct {
		Schemas map[string]jsonSchema `json:"schemas"`
	} `json:"components"`
}

type openAPIOp struct {
	OperationID string `json:"operationId"`
	RequestBody *struct {
		Content map[string]struct {
			Schema jsonSchema `json:"schema"`
		} `json:"content"`
	} `json:"requestBody"`
}

type jsonSchema struct {
	Ref        string                `json:"$ref"`
	Type       any                   `json:"type"`
	Properties map[string]jsonSchema `json:"properties"`
}

// hostileOps lists every operation that takes a JSON body, from the served
// OpenAPI document, so endpoints added later are swept automatically.
type hostileOp struct {
	method, path string
	props        map[string]jsonSchema
}

func hostileOps(t *testing.T, e *apptest.Env, ids map[string]string) []hostileOp {
	r := e.Anon().Do("GET", "/api/docs/openapi.json", nil)
	if r.Status != 200 {
		t.Fatalf("openapi: %d", r.Status)
	}
	var doc openAPIDoc
	if err := json.Unmarshal(r.Body, &doc); err != nil {
		t.Fatal(err)
	}
	var out []hostileOp
	for path, ops := range doc.Paths {
		for method, o := range ops {
			if o.RequestBody == nil {
				continue
			}
			c, ok := o.RequestBody.Content["application/json"]
			if !ok {
				continue
			}
			s := c.Schema
			if s.Ref != "" {
				s = doc.Components.Schemas[strings.TrimPrefix(s.Ref, "#/components/schemas/")]
			}
			p := path
			for k, v := range ids {
				p = strings.ReplaceAll(p, "{"+k+"}", v)
			}
			out = append(out, hostileOp{strings.ToUpper(method), "/api/v1" + p, s.Properties})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].path+out[i].method < out[j].path+out[j].method })
	return out
}

func wrongValueFor(s jsonSchema) any {
	switch s.Type {
	case "string":
		return 12345
	case "integer", "number":
		return "not a number"
	case "boolean":
		return "yes"
	case "array":
		return "not an array"
	case "object":
		return []int{1, 2}
	}
	return map[string]any{"unexpected": true}
}

// TestHostileBodies_NeverServerErrors sends malformed, wrong-typed, hostile
// and oversized bodies to every JSON endpoint as a signed-in ADMIN: each must
// get a 4xx with the contract's error shape, never a 5xx, and the server
// stays healthy.
func TestHostileBodies_NeverServerErrors(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	f := e.NewFamily("Hostile", "America/New_York")
	// Path ids resolve to the family's own resources where the parameter is
	// known, and to a well-formed but unknown id otherwise.
	ids := map[string]string{"id": f.RecipientID, "uid": f.Viewer.UserID, "token": "tok", "inviteId": "inv_x"}
	ops := hostileOps(t, e, ids)
	if len(ops) < 10 {
		t.Fatalf("only %d JSON operations found in the OpenAPI document", len(ops))
	}
	huge := strings.Repeat("A", 1<<20+10)
	bodies := []string{`{`, `[]`, `"text"`, `null`, `{"a":}`, "\x00\x01\x02", `{"name":"\u0000"}`, `12`, `{"x":` + strings.Repeat("[", 5000)}
	for _, o := range ops {
		if strings.HasSuffix(o.path, "/auth/logout") {
			continue // any body signs the session out, by design
		}
		var cases []string
		cases = append(cases, bodies...)
		for name, ps := range o.props {
			b, _ := json.Marshal(map[string]any{name: wrongValueFor(ps)})
			cases = append(cases, string(b))
			b, _ = json.Marshal(map[string]any{name: strings.Repeat("x", 100000)})
			cases = append(cases, string(b))
			b, _ = json.Marshal(map[string]any{name: -99999999999})
			cases = append(cases, string(b))
			b, _ = json.Marshal(map[string]any{name: "<script>alert(1)</script>' OR 1=1 --"})
			cases = append(cases, string(b))
		}
		cases = append(cases, `{"pad":"`+huge+`"}`)
		for _, body := range cases {
			r := f.Admin.Do(o.method, o.path, body)
			if r.Status >= 500 || r.Status < 400 && r.Status != 200 && r.Status != 201 && r.Status != 202 && r.Status != 204 {
				t.Errorf("%s %s with %.80q: status %d: %.300s", o.method, o.path, body, r.Status, r.Body)
				continue
			}
			if r.Status >= 400 {
				m := r.Map()
				if m["statusCode"] == nil || m["message"] == nil || m["error"] == nil {
					t.Errorf("%s %s with %.80q: error body lacks the contract's shape: %.300s", o.method, o.path, body, r.Body)
				}
			}
		}
		if big := f.Admin.Do(o.method, o.path, `{"pad":"`+huge+`"}`); big.Status != http.StatusRequestEntityTooLarge {
			t.Errorf("%s %s with a 1 MiB+ body: status %d, want 413", o.method, o.path, big.Status)
		}
	}
	if r := e.Anon().Do("GET", "/healthz", nil); r.Status != 200 {
		t.Fatalf("server unhealthy after the sweep: %d", r.Status)
	}
	f.Admin.Must(200, "GET", "/api/v1/auth/me", nil)
}

// TestUnknownFieldsAreIgnored: an extra field doesn't make a request fail,
// and known fields are still validated.
func TestUnknownFieldsAreIgnored(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	c := e.Register("Extra Fields")
	f := c.Must(201, "POST", "/api/v1/families", map[string]any{"name": "Extra", "motto": "together", "nested": map[string]any{"a": 1}})
	if f["name"] != "Extra" || f["motto"] != nil {
		t.Fatalf("family = %v", f)
	}
	// Fields the server owns can't be set by sending them.
	fam := e.NewFamily("Owned", "UTC")
	entry := fam.Caregiver.Must(201, "POST", "/api/v1/care-recipients/"+fam.RecipientID+"/timeline",
		map[string]any{"type": "NOTE", "content": "mine", "authorId": fam.Admin.UserID})
	if entry["author"].(map[string]any)["id"] != fam.Caregiver.UserID {
		t.Fatalf("authorId in the body changed the author: %v", entry)
	}
	start := time.Now().Add(24 * time.Hour).UTC().Truncate(time.Hour)
	sh := fam.Admin.Must(201, "POST", "/api/v1/care-recipients/"+fam.RecipientID+"/shifts", map[string]any{"caregiverId": fam.Caregiver.UserID,
		"startTime": start.Format(time.RFC3339), "endTime": start.Add(time.Hour).Format(time.RFC3339), "status": "COMPLETED", "checkedInAt": start.Format(time.RFC3339)})
	if sh["status"] != "SCHEDULED" || sh["checkedInAt"] != nil {
		t.Fatalf("status/checkedInAt in the body changed the shift: %v", sh)
	}
	r := c.Do("POST", "/api/v1/families", map[string]any{"name": 42, "motto": "x"})
	wantStatus(t, r, 400)
	if msgs := messages(r); len(msgs) != 1 || !strings.Contains(msgs[0], "name") {
		t.Fatalf("messages = %v", msgs)
	}
}
