package api

import (
	"encoding/json"
	"html/template"
	"net/http"
	"sort"
	"strings"

	"github.com/danielgtaylor/huma/v2"
)

// serveOpenAPI serves the OpenAPI 3.1 document.
func (s *Server) serveOpenAPI(w http.ResponseWriter, r *http.Request) {
	b, err := json.Marshal(s.api.OpenAPI())
	if err != nil {
		writeError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/openapi+json")
	w.Write(b)
}

type docOperation struct {
	Method, Path, Summary, ID string
	SignedIn                  bool
}

type docTag struct {
	Name string
	Ops  []docOperation
}

var docsTemplate = template.Must(template.New("docs").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>CareCircle API</title><link rel="stylesheet" href="/static/docs.css"></head>
<body><main class="docs">
<h1>CareCircle API</h1>
<p>JSON over HTTPS under <code>/api/v1</code>. Sign in with <code>POST /api/v1/auth/login</code>; send the access token as
<code>Authorization: Bearer …</code> or let the browser send the <code>accessToken</code> cookie. Errors look like
<code>{"statusCode":400,"message":["name should not be empty"],"error":"Bad Request"}</code>.
Lists are <code>{"items":[…],"nextCursor":"…"}</code>. The machine-readable description is
<a href="/api/docs/openapi.json">openapi.json</a> (OpenAPI 3.1). Real-time events: WebSocket <code>/api/v1/ws</code>.</p>
{{range .}}<section><h2>{{.Name}}</h2><table><thead><tr><th>Method</th><th>Path</th><th>What it does</th></tr></thead><tbody>
{{range .Ops}}<tr id="{{.ID}}"><td><code class="m-{{.Method}}">{{.Method}}</code></td><td><code>{{.Path}}</code></td><td>{{.Summary}}{{if not .SignedIn}} <em>(no sign-in)</em>{{end}}</td></tr>
{{end}}</tbody></table></section>{{end}}
</main></body></html>`))

// docsPage renders a readable index of the API from the OpenAPI document,
// with no external scripts, so it works offline and under a strict CSP.
func (s *Server) docsPage(w http.ResponseWriter, r *http.Request) {
	byTag := map[string][]docOperation{}
	for path, item := range s.api.OpenAPI().Paths {
		for method, o := range map[string]*huma.Operation{"GET": item.Get, "POST": item.Post, "PUT": item.Put, "PATCH": item.Patch, "DELETE": item.Delete} {
			if o == nil {
				continue
			}
			tag := "Other"
			if len(o.Tags) > 0 {
				tag = o.Tags[0]
			}
			byTag[tag] = append(byTag[tag], docOperation{Method: method, Path: "/api/v1" + path, Summary: o.Summary, ID: o.OperationID, SignedIn: len(o.Security) > 0})
		}
	}
	var tags []docTag
	for name, ops := range byTag {
		sort.Slice(ops, func(i, j int) bool {
			if ops[i].Path != ops[j].Path {
				return ops[i].Path < ops[j].Path
			}
			return strings.Compare(ops[i].Method, ops[j].Method) < 0
		})
		tags = append(tags, docTag{Name: name, Ops: ops})
	}
	sort.Slice(tags, func(i, j int) bool { return tags[i].Name < tags[j].Name })
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if err := docsTemplate.Execute(w, tags); err != nil {
		logger(r.Context()).Error("docs page", "err", err)
	}
}
