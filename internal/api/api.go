// Package api is CareCircle's JSON API under /api/v1, built on huma for
// validation and the OpenAPI document. Handlers are thin: decode, call
// storage (which authorizes in SQL), encode. Errors become the contract's
// shape in one place (errors.go).
package api

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humago"

	"github.com/carecircle/carecircle"
	"github.com/carecircle/carecircle/internal/auth"
	"github.com/carecircle/carecircle/internal/storage"
)

// Config is what the API needs to know about its deployment.
type Config struct {
	BaseURL       string // public URL for links in emails
	SecureCookies bool   // BASE_URL is https
	TrustProxy    bool   // take the client address from X-Forwarded-For
	QuietLogs     bool   // log only failed requests (benchmarks)
	Version       string
}

// Limiter is a rate limiter keyed by client or email.
type Limiter interface {
	Allow(ctx context.Context, key string) (ok bool, retryAfter time.Duration, err error)
}

// Emails sends the account emails. Implementations queue the message and
// return at once; a failed send never fails the request.
type Emails interface {
	Verify(to, name, link string)
	Reset(to, name, link string)
	Invite(to, inviterName, familyName string, role carecircle.Role, link string, expiresAt time.Time)
}

// Server holds the API's dependencies.
type Server struct {
	db      *storage.DB
	signer  *auth.Signer
	emails  Emails
	limiter Limiter
	cfg     Config
	logger  *slog.Logger
	metrics *Metrics
	clock   carecircle.Clock
	vault   *Vault

	api huma.API
	mux *http.ServeMux
}

// Deps are the API's collaborators.
type Deps struct {
	DB      *storage.DB
	Signer  *auth.Signer
	Emails  Emails
	Limiter Limiter
	Logger  *slog.Logger
	Metrics *Metrics
	// Vault stores the document vault's files; without it the document
	// endpoints answer 503.
	Vault *Vault
}

// Register adds routes to the API; each feature area (medications,
// documents, ...) provides one.
type Register func(s *Server, api huma.API)

// New builds the API on mux. Extra route groups are registered after the
// foundation's.
func New(mux *http.ServeMux, d Deps, cfg Config, extra ...Register) *Server {
	installErrors()
	s := &Server{db: d.DB, signer: d.Signer, emails: d.Emails, limiter: d.Limiter, cfg: cfg,
		logger: d.Logger, metrics: d.Metrics, clock: d.DB.Clock, vault: d.Vault, mux: mux}
	if s.logger == nil {
		s.logger = slog.Default()
	}
	hc := huma.Config{
		OpenAPI: &huma.OpenAPI{
			OpenAPI: "3.1.0",
			Info: &huma.Info{Title: "CareCircle API", Version: cfg.Version,
				Description: "Family caregiving coordination: medications, appointments, shifts, timeline, documents and emergency alerts."},
			Servers: []*huma.Server{{URL: "/api/v1"}},
			Components: &huma.Components{
				Schemas: huma.NewMapRegistry("#/components/schemas/", huma.DefaultSchemaNamer),
				SecuritySchemes: map[string]*huma.SecurityScheme{
					"bearer": {Type: "http", Scheme: "bearer", BearerFormat: "JWT"},
					"cookie": {Type: "apiKey", In: "cookie", Name: "accessToken"},
				},
			},
		},
		Formats:       huma.DefaultFormats,
		DefaultFormat: "application/json",
	}
	s.api = humago.NewWithPrefix(mux, "/api/v1", hc)
	s.api.UseMiddleware(s.authenticate)
	s.registerAuth()
	s.registerFamilies()
	s.registerRecipients()
	s.registerMedications()
	s.registerAudit()
	s.registerAppointments()
	s.registerTimeline()
	s.registerShifts()
	s.registerEmergency()
	s.registerDocuments()
	for _, r := range extra {
		r(s, s.api)
	}
	allowUnknownFields(s.api.OpenAPI().Components.Schemas)
	mux.HandleFunc("GET /api/docs", s.docsPage)
	mux.HandleFunc("GET /api/docs/openapi.json", s.serveOpenAPI)
	mux.HandleFunc(catchAll, s.noRoute)
	return s
}

// catchAll is the pattern that answers every /api/ request no route took.
const catchAll = "/api/"

// noRoute answers a request no route took: 405 with Allow when the path
// exists for other methods, else 404, both in the contract's error shape.
func (s *Server) noRoute(w http.ResponseWriter, r *http.Request) {
	if allow := s.allowedMethods(r); len(allow) > 0 {
		b := newErrorBody(http.StatusMethodNotAllowed, r.Method+" is not allowed on "+r.URL.Path+"; use "+strings.Join(allow, ", "))
		b.headers = http.Header{"Allow": []string{strings.Join(allow, ", ")}}
		writeErrorBody(w, b)
		return
	}
	writeError(w, r, carecircle.Errorf(carecircle.ENOTFOUND, "no such endpoint: %s %s", r.Method, r.URL.Path))
}

// allowedMethods lists the methods some route serves r's path with.
func (s *Server) allowedMethods(r *http.Request) []string {
	var allow []string
	for _, m := range []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
		probe := r.Clone(r.Context())
		probe.Method = m
		if _, pattern := s.mux.Handler(probe); pattern != "" && pattern != catchAll {
			allow = append(allow, m)
		}
	}
	return allow
}

// API returns the huma API, for route groups registered later.
func (s *Server) API() huma.API { return s.api }

// DB returns the storage the API serves.
func (s *Server) DB() *storage.DB { return s.db }

// Wrap adds request ids, logging, metrics, security headers, the
// cross-origin check and the NUL check around a handler.
func (s *Server) Wrap(h http.Handler) http.Handler {
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeError(w, r, carecircle.Errorf(carecircle.EFORBIDDEN, "cross-origin request refused"))
	}))
	return s.observe(cop.Handler(refuseUnstorable(emptyBodyAsObject(h))))
}

var secured = []map[string][]string{{"bearer": {}}, {"cookie": {}}}

// op describes an operation: id, method, path (relative to /api/v1), summary,
// tag, and whether it needs a signed-in user.
func op(id, method, path, summary, tag string, status int, signedIn bool) huma.Operation {
	o := huma.Operation{OperationID: id, Method: method, Path: path, Summary: summary, Tags: []string{tag},
		DefaultStatus: status, MaxBodyBytes: 1 << 20}
	if signedIn {
		o.Security = secured
		o.Errors = []int{400, 401, 403, 404}
	}
	return o
}

// authenticate runs before every operation: it reads the access token from
// the Authorization header or the accessToken cookie and, for operations that
// require sign-in, checks the session is still live in the database, so
// logout, reset and revocation take effect at once.
func (s *Server) authenticate(hctx huma.Context, next func(huma.Context)) {
	needs := len(hctx.Operation().Security) > 0
	tok := bearerToken(hctx.Header("Authorization"))
	if tok == "" {
		r, _ := humago.Unwrap(hctx)
		if c, err := r.Cookie("accessToken"); err == nil {
			tok = c.Value
		}
	}
	if tok == "" {
		if needs {
			huma.WriteErr(s.api, hctx, http.StatusUnauthorized, "", carecircle.Errorf(carecircle.EUNAUTHORIZED, "sign in required"))
			return
		}
		next(hctx)
		return
	}
	ctx, err := s.SignIn(hctx.Context(), tok)
	if err != nil {
		if needs {
			huma.WriteErr(s.api, hctx, http.StatusUnauthorized, "", err)
			return
		}
		next(hctx)
		return
	}
	next(huma.WithContext(hctx, ctx))
}

// SignIn verifies an access token and its session and returns ctx carrying
// the actor. The WebSocket and web UI use it too.
func (s *Server) SignIn(ctx context.Context, tok string) (context.Context, error) {
	claims, err := s.signer.Verify(tok, s.clock.Now())
	if err != nil {
		return ctx, carecircle.Errorf(carecircle.EUNAUTHORIZED, "access token is invalid or expired")
	}
	u, err := s.db.SessionUser(ctx, claims.Subject, claims.SessionID)
	if err != nil {
		return ctx, err
	}
	return carecircle.WithActor(ctx, carecircle.Actor{UserID: u.ID, SessionID: claims.SessionID, Name: u.FullName}), nil
}

// signedIn authenticates a plain net/http handler (one that streams its body
// outside huma) the way authenticate does: the bearer token or the
// accessToken cookie, and a live session.
func (s *Server) signedIn(r *http.Request) (context.Context, error) {
	tok := bearerToken(r.Header.Get("Authorization"))
	if tok == "" {
		if c, err := r.Cookie("accessToken"); err == nil {
			tok = c.Value
		}
	}
	if tok == "" {
		return nil, carecircle.Errorf(carecircle.EUNAUTHORIZED, "sign in required")
	}
	return s.SignIn(r.Context(), tok)
}

func bearerToken(h string) string {
	if len(h) > 7 && strings.EqualFold(h[:7], "bearer ") {
		return strings.TrimSpace(h[7:])
	}
	return ""
}

// List is the contract's list shape.
type List[T any] struct {
	Items      []T    `json:"items"`
	NextCursor string `json:"nextCursor,omitempty"`
}

// Body wraps a response body for huma.
type Body[T any] struct {
	Body T
}

// NoContent is an empty 204 response.
type NoContent struct{}

func itoa(i int) string {
	if i < 0 {
		return "-" + itoa(-i)
	}
	if i < 10 {
		return string(rune('0' + i))
	}
	return itoa(i/10) + string(rune('0'+i%10))
}

// allowUnknownFields lets request bodies carry fields the API doesn't know:
// they are ignored, as most JSON APIs do, so a client sending an extra field
// (a form's "confirmPassword", an id echoed back) is not refused. Every known
// field is still validated.
func allowUnknownFields(reg huma.Registry) {
	for _, schema := range reg.Map() {
		openObjects(schema, map[*huma.Schema]bool{})
	}
}

func openObjects(s *huma.Schema, seen map[*huma.Schema]bool) {
	if s == nil || seen[s] {
		return
	}
	seen[s] = true
	if b, ok := s.AdditionalProperties.(bool); ok && !b {
		s.AdditionalProperties = nil
	}
	for _, p := range s.Properties {
		openObjects(p, seen)
	}
	openObjects(s.Items, seen)
}
