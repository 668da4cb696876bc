// Package app wires CareCircle's parts into one process: storage, the API,
// the web UI, the event relay and consumers, and background jobs. The
// command and the end-to-end tests both build the process through New.
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/carecircle/carecircle"
	"github.com/carecircle/carecircle/internal/api"
	"github.com/carecircle/carecircle/internal/auth"
	"github.com/carecircle/carecircle/internal/config"
	"github.com/carecircle/carecircle/internal/events"
	"github.com/carecircle/carecircle/internal/jobs"
	"github.com/carecircle/carecircle/internal/notify"
	"github.com/carecircle/carecircle/internal/realtime"
	"github.com/carecircle/carecircle/internal/storage"
	"github.com/carecircle/carecircle/internal/web"
)

// Version is the build's version, set with -ldflags.
var Version = "dev"

// Options adjust a process for tests and benchmarks.
type Options struct {
	Clock  carecircle.Clock // default: the system clock
	Logger *slog.Logger     // default: slog.Default()
	// QuietLogs logs only failed requests (load tests).
	QuietLogs bool
	// Worker builds a process without HTTP clients: no WebSocket fan-out.
	Worker bool
	// PushClient sends Web Push requests (tests pass pushtest's client);
	// nil means the default client, which refuses internal addresses.
	PushClient *http.Client
	// DisableJobs builds the job runner but does not run it (tests drive
	// it with Jobs.RunDue); DISABLE_JOBS does the same.
	DisableJobs bool
	// OnEventHandled, when set, is told each time the notification
	// pipeline's consumers ("notifications", "reminders") have handled an
	// event, so tests can wait for them instead of sleeping.
	OnEventHandled func(group string, e carecircle.Event, err error)
}

// App is one CareCircle process.
type App struct {
	Cfg      config.Config
	DB       *storage.DB
	API      *api.Server
	Logger   *slog.Logger
	Clock    carecircle.Clock
	Registry *prometheus.Registry
	Vault    *api.Vault // the document vault's files
	Bus      events.Bus
	Hub      *realtime.Hub
	// Jobs runs reminders and deliveries; Notify is the notification
	// pipeline (see notify.go).
	Jobs   *jobs.Runner
	Notify *notify.Service

	runJobs   bool
	closeOnce sync.Once

	relay       *events.Relay
	eventsReady chan struct{}

	mux     *http.ServeMux
	handler http.Handler
	emails  *emailer

	wg      sync.WaitGroup
	cancel  context.CancelFunc
	closers []func() error
}

// New opens the database, applies migrations and builds the process. Call
// Start to run background work and Serve to accept HTTP.
func New(ctx context.Context, cfg config.Config, opts Options) (*App, error) {
	a := &App{Cfg: cfg, Logger: opts.Logger, Clock: opts.Clock, Registry: prometheus.NewRegistry(), mux: http.NewServeMux(),
		eventsReady: make(chan struct{})}
	if a.Logger == nil {
		a.Logger = slog.Default()
	}
	if a.Clock == nil {
		a.Clock = carecircle.SystemClock{}
	}
	a.Registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))

	db, err := storage.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return nil, err
	}
	db.Clock, db.Logger = a.Clock, a.Logger
	a.DB = db
	a.closers = append(a.closers, db.Close)
	if err := db.Migrate(ctx); err != nil {
		a.Close()
		return nil, err
	}
	signer, err := auth.NewSigner(cfg.JWTSecret)
	if err != nil {
		a.Close()
		return nil, err
	}
	if a.emails, err = newEmailer(cfg, a.Logger); err != nil {
		a.Close()
		return nil, err
	}
	a.closers = append(a.closers, a.emails.close)
	limiter, closeLimiter, err := newLimiter(cfg, a.Clock)
	if err != nil {
		a.Close()
		return nil, err
	}
	a.closers = append(a.closers, closeLimiter)
	vapid, err := a.loadVAPIDKeys(ctx)
	if err != nil {
		a.Close()
		return nil, err
	}
	// Document vault (documents.go): encrypted files under DATA_DIR/documents
	// or in S3, data keys wrapped by ENCRYPTION_KEY.
	vault, closeVault, err := newVault(ctx, cfg, db, a.Logger)
	if err != nil {
		a.Close()
		return nil, err
	}
	a.closers = append(a.closers, closeVault)
	a.Vault = vault
	a.API = api.New(a.mux, api.Deps{
		DB: db, Signer: signer, Emails: a.emails, Limiter: limiter,
		Logger: a.Logger, Metrics: api.NewMetrics(a.Registry), Vault: vault,
	}, api.Config{BaseURL: cfg.BaseURL, SecureCookies: cfg.SecureCookies(), TrustProxy: cfg.TrustProxy,
		QuietLogs: opts.QuietLogs, Version: Version}, api.NotificationRoutes(vapid.Public))
	web.New(a.mux, web.Deps{API: a.API, Logger: a.Logger})

	a.mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"status":"ok"}`))
	})
	a.mux.HandleFunc("GET /readyz", a.ready)
	a.mux.Handle("GET /metrics", promhttp.HandlerFor(a.Registry, promhttp.HandlerOpts{}))
	if err := a.setupEvents(opts.Worker); err != nil {
		a.Close()
		return nil, err
	}
	if err := a.setupNotifications(vapid, opts); err != nil {
		a.Close()
		return nil, err
	}
	a.handler = a.API.Wrap(a.mux)
	return a, nil
}

// ready answers 200 when the database answers within a second.
func (a *App) ready(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), time.Second)
	defer cancel()
	w.Header().Set("Content-Type", "application/json")
	if err := a.DB.Ping(ctx); err != nil {
		w.WriteHeader(http.StatusServiceUnavailable)
		w.Write([]byte(`{"status":"unavailable","database":"down"}`))
		return
	}
	w.Write([]byte(`{"status":"ready","database":"up"}`))
}

// EventsReady is closed once the event bus is connected and consuming.
func (a *App) EventsReady() <-chan struct{} { return a.eventsReady }

// Handler is the whole HTTP surface: web UI, API, docs, health and metrics.
func (a *App) Handler() http.Handler { return a.handler }

// Start runs the background work (the outbox relay, event consumers and
// jobs) until Close.
func (a *App) Start(ctx context.Context) {
	ctx, a.cancel = context.WithCancel(ctx)
	a.goBackground(ctx, "events", a.runEvents)
	if a.runJobs {
		a.goBackground(ctx, "jobs", a.Jobs.Run)
	}
}

func (a *App) goBackground(ctx context.Context, name string, run func(context.Context) error) {
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		if err := run(ctx); err != nil && !errors.Is(err, context.Canceled) {
			a.Logger.Error("background task stopped", "task", name, "err", err)
		}
	}()
}

// Serve accepts HTTP on ln until ctx ends, then stops accepting and waits up
// to 20 s for requests in flight.
func (a *App) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{Handler: a.handler, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 120 * time.Second,
		MaxHeaderBytes: 64 << 10, ErrorLog: slog.NewLogLogger(a.Logger.Handler(), slog.LevelWarn)}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	// Start-up (migrations, templates, the API's schemas) leaves garbage
	// behind; collect it and give the pages back now rather than whenever
	// the scavenger gets to them, so an idle server stays small.
	debug.FreeOSMemory()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	a.Logger.Info("shutting down: finishing requests in flight")
	sctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}

// Close stops background work and closes connections. Calling it again
// does nothing.
func (a *App) Close() error {
	var err error
	a.closeOnce.Do(func() { err = a.close() })
	return err
}

func (a *App) close() error {
	if a.cancel != nil {
		a.cancel()
	}
	a.wg.Wait()
	if a.Hub != nil {
		a.Hub.Close()
	}
	var err error
	for i := len(a.closers) - 1; i >= 0; i-- {
		err = errors.Join(err, a.closers[i]())
	}
	return err
}
