// Command carecircle runs CareCircle: the web app, the JSON API and the
// background workers in one binary.
//
//	carecircle [serve]   serve HTTP (and, embedded, run the workers)
//	carecircle worker    run relay, consumers and jobs without HTTP
//	carecircle migrate   apply database migrations and exit
//	carecircle seed      load a demo family
//	carecircle rotate-key  rewrap the document keys under a new master key
//	                     (NEW_ENCRYPTION_KEY, or generated); run it with the servers stopped
//	carecircle version   print the version
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	_ "time/tzdata" // time zones work in any container, with or without /usr/share/zoneinfo

	"github.com/carecircle/carecircle/internal/app"
	"github.com/carecircle/carecircle/internal/config"
	"github.com/carecircle/carecircle/internal/storage"
)

func main() {
	cmd, args := "serve", []string(nil)
	if len(os.Args) > 1 {
		cmd, args = os.Args[1], os.Args[2:]
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, cmd, args); err != nil {
		fmt.Fprintln(os.Stderr, "carecircle:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, cmd string, args []string) error {
	if cmd == "version" || cmd == "--version" || cmd == "-v" {
		fmt.Println("carecircle", app.Version)
		return nil
	}
	if cmd == "help" || cmd == "--help" || cmd == "-h" {
		fmt.Println("usage: carecircle [serve|worker|migrate|seed|rotate-key|version]")
		return nil
	}
	cfg, err := config.Load(os.Getenv)
	if err != nil {
		return err
	}
	logger := newLogger(cfg)
	slog.SetDefault(logger)
	switch cmd {
	case "serve":
		return serve(ctx, cfg, logger)
	case "worker":
		return worker(ctx, cfg, logger)
	case "migrate":
		db, err := storage.Open(ctx, cfg.DatabaseURL)
		if err != nil {
			return err
		}
		defer db.Close()
		if err := db.Migrate(ctx); err != nil {
			return err
		}
		logger.Info("database is up to date")
		return nil
	case "seed":
		a, err := app.New(ctx, cfg, app.Options{Logger: logger})
		if err != nil {
			return err
		}
		defer a.Close()
		return app.Seed(ctx, a.DB, os.Stdout)
	case "rotate-key":
		return app.RotateKey(ctx, cfg, os.Getenv("NEW_ENCRYPTION_KEY"), os.Stdout)
	default:
		return fmt.Errorf("unknown command %q (try: serve, worker, migrate, seed, rotate-key, version)", cmd)
	}
}

func serve(ctx context.Context, cfg config.Config, logger *slog.Logger) error {
	start := time.Now()
	ln, err := net.Listen("tcp", ":"+strconv.Itoa(cfg.Port))
	if err != nil {
		return err
	}
	a, err := app.New(ctx, cfg, app.Options{Logger: logger})
	if err != nil {
		ln.Close()
		return err
	}
	defer a.Close()
	a.Start(ctx)
	mode := "embedded (SQLite)"
	if cfg.ScaleOut {
		mode = "scale-out (PostgreSQL)"
	}
	logger.Info("CareCircle is ready", "url", cfg.BaseURL, "port", cfg.Port, "mode", mode,
		"dataDir", cfg.DataDir, "startup", time.Since(start).Round(time.Millisecond))
	if err := a.Serve(ctx, ln); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return nil
}

func worker(ctx context.Context, cfg config.Config, logger *slog.Logger) error {
	a, err := app.New(ctx, cfg, app.Options{Logger: logger, Worker: true})
	if err != nil {
		return err
	}
	defer a.Close()
	a.Start(ctx)
	logger.Info("CareCircle worker is running")
	<-ctx.Done()
	return nil
}

func newLogger(cfg config.Config) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(strings.ToUpper(cfg.LogLevel)))
	opts := &slog.HandlerOptions{Level: level}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(os.Stderr, opts))
	}
	return slog.New(slog.NewTextHandler(os.Stderr, opts))
}
