package api_test

// Helpers for the contract tests (contract_*_test.go): they read the API the
// way an external client written from DESIGN.md §1, §3 and §4 would.

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/carecircle/carecircle/internal/apptest"
)

var (
	camelCase = regexp.MustCompile(`^[a-z][a-zA-Z0-9]*$`)
	// looksLikeTime matches any string a client would read as a timestamp.
	looksLikeTime = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}`)
	hhmm          = regexp.MustCompile(`^([01]\d|2[0-3]):[0-5]\d$`)
	// idPrefixes are DESIGN §3's prefixes plus the server's own kinds
	// (sessions, events, audit entries).
	idPrefixes = []string{"usr_", "fam_", "cr_", "med_", "mlog_", "apt_", "doc_", "tl_", "alrt_", "shf_", "inv_", "ntf_",
		"ses_", "evt_", "aud_"}
)

// checkConventions walks a JSON value and reports every break of DESIGN §3's
// conventions: camelCase keys, prefixed ids, RFC 3339 UTC times, "HH:MM"
// wall-clock times.
func checkConventions(t *testing.T, where string, v any) {
	t.Helper()
	var walk func(path string, v any)
	walk = func(path string, v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, val := range x {
				p := path + "." + k
				if !camelCase.MatchString(k) {
					t.Errorf("%s: key %q is not camelCase", where, p)
				}
				if s, ok := val.(string); ok && s != "" && (k == "id" || strings.HasSuffix(k, "Id")) && !hasIDPrefix(s) {
					t.Errorf("%s: %s = %q has no known id prefix", where, p, s)
				}
				if k == "localTime" {
					if s, _ := val.(string); !hhmm.MatchString(s) {
						t.Errorf("%s: %s = %v, want HH:MM", where, p, val)
					}
				}
				if k == "times" {
					if list, ok := val.([]any); ok {
						for _, it := range list {
							if s, _ := it.(string); !hhmm.MatchString(s) {
								t.Errorf("%s: %s has %v, want HH:MM", where, p, it)
							}
						}
					}
				}
				walk(p, val)
			}
		case []any:
			for i, it := range x {
				walk(fmt.Sprintf("%s[%d]", path, i), it)
			}
		case string:
			if looksLikeTime.MatchString(x) {
				tt, err := time.Parse(time.RFC3339Nano, x)
				if err != nil || !strings.HasSuffix(x, "Z") || tt.Location() != time.UTC {
					t.Errorf("%s: %s = %q is not an RFC 3339 UTC time ending in Z", where, path, x)
				}
			}
		}
	}
	walk("", v)
}

func hasIDPrefix(s string) bool {
	for _, p := range idPrefixes {
		if strings.HasPrefix(s, p) && len(s) > len(p) {
			return true
		}
	}
	return false
}

// decodeAny decodes a response body as any JSON value.
func decodeAny(t *testing.T, r *apptest.Response) any {
	t.Helper()
	var v any
	if err := json.Unmarshal(r.Body, &v); err != nil {
		t.Fatalf("body is not JSON: %v: %s", err, r.Body)
	}
	return v
}

// wantKeys fails unless m has every key, each with a value of the JSON kind
// named ("string", "number", "bool", "object", "array", "null", "string|null",
// "any").
func wantKeys(t *testing.T, what string, m map[string]any, kinds map[string]string) {
	t.Helper()
	for k, kind := range kinds {
		v, ok := m[k]
		if !ok {
			t.Errorf("%s: missing %q in %v", what, k, m)
			continue
		}
		if !isKind(v, kind) {
			t.Errorf("%s: %q = %#v, want %s", what, k, v, kind)
		}
	}
}

func isKind(v any, kind string) bool {
	for _, k := range strings.Split(kind, "|") {
		ok := false
		switch k {
		case "any":
			ok = true
		case "string":
			_, ok = v.(string)
		case "number":
			_, ok = v.(float64)
		case "bool":
			_, ok = v.(bool)
		case "object":
			_, ok = v.(map[string]any)
		case "array":
			_, ok = v.([]any)
		case "null":
			ok = v == nil
		}
		if ok {
			return true
		}
	}
	return false
}

// wantError checks the contract's error body: status, statusCode, the
// standard reason phrase, and a message (a list naming each field in
// fields, when given).
func wantError(t *testing.T, r *apptest.Response, status int, fields ...string) {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status %d, want %d: %s", r.Status, status, r.Body)
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("error Content-Type %q, want application/json", ct)
	}
	m := r.Map()
	if m == nil {
		t.Fatalf("error body is not a JSON object: %s", r.Body)
	}
	if code, _ := m["statusCode"].(float64); int(code) != status || m["error"] != http.StatusText(status) {
		t.Errorf("error body %s: want statusCode %d and error %q", r.Body, status, http.StatusText(status))
	}
	switch msg := m["message"].(type) {
	case string:
		if msg == "" || len(fields) > 0 {
			t.Errorf("error body %s: want a message list naming %v", r.Body, fields)
		}
	case []any:
		if len(msg) == 0 {
			t.Errorf("error body %s: empty message list", r.Body)
		}
		for _, f := range fields {
			named := false
			for _, s := range msg {
				if str, _ := s.(string); strings.HasPrefix(str, f+" ") || strings.HasPrefix(str, f+".") || strings.HasPrefix(str, f+"[") || strings.HasPrefix(str, f+":") {
					named = true
				}
			}
			if !named {
				t.Errorf("error body %s: no message starts with the field %q", r.Body, f)
			}
		}
	default:
		t.Errorf("error body %s: message must be a string or a list", r.Body)
	}
}

// eventually polls cond until it holds, failing after 10 s. For what an
// event consumer writes after the request has been answered.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// socket is a WebSocket client of /api/v1/ws.
type socket struct {
	t    *testing.T
	conn *websocket.Conn
}

// dialSocket opens /api/v1/ws as c (bearer token).
func dialSocket(t *testing.T, e *apptest.Env, c *apptest.Client) *socket {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	h := http.Header{"Authorization": []string{"Bearer " + c.Token}}
	conn, res, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(e.URL, "http")+"/api/v1/ws", &websocket.DialOptions{HTTPHeader: h})
	if err != nil {
		status := 0
		if res != nil {
			status = res.StatusCode
		}
		t.Fatalf("dial /api/v1/ws: %v (status %d)", err, status)
	}
	conn.SetReadLimit(1 << 20)
	t.Cleanup(func() { conn.CloseNow() })
	return &socket{t: t, conn: conn}
}

// envelope is a CloudEvents message as it arrives on the socket, kept raw
// so key presence can be checked.
type envelope map[string]any

func (e envelope) Type() string         { s, _ := e["type"].(string); return s }
func (e envelope) Data() map[string]any { m, _ := e["data"].(map[string]any); return m }

// until reads messages until one of type typ arrives (within 10 s) and
// returns it with every message read on the way.
func (s *socket) until(typ string) (envelope, []envelope) {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var seen []envelope
	for {
		_, b, err := s.conn.Read(ctx)
		if err != nil {
			s.t.Fatalf("waiting for %s on the socket: %v (saw %d others)", typ, err, len(seen))
		}
		var ev envelope
		if err := json.Unmarshal(b, &ev); err != nil {
			s.t.Fatalf("socket message is not JSON: %s", b)
		}
		if ev.Type() == typ {
			return ev, seen
		}
		seen = append(seen, ev)
	}
}

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }
