package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/mattn/go-isatty"
	"github.com/spf13/cobra"
)

func newServeCmd() *cobra.Command {
	var cfg daemonConfig
	var logFormat, logLevel string
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the daemon: receive webhooks and run workflows",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := applyConfig(cmd); err != nil {
				return err
			}
			log, err := newLogger(cmd.ErrOrStderr(), logFormat, logLevel)
			if err != nil {
				return err
			}
			tuneRuntime()
			ctx := cmd.Context()
			d, err := startDaemon(ctx, cfg, log)
			if err != nil {
				return err
			}
			hup := make(chan os.Signal, 1)
			signal.Notify(hup, syscall.SIGHUP)
			defer signal.Stop(hup)
		wait:
			for {
				select {
				case <-ctx.Done():
					break wait
				case <-hup:
					log.Info("SIGHUP: reloading workflows")
					d.Reload()
				}
			}
			log.Info("shutting down", "grace", cfg.Grace)
			sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cfg.Grace+10*time.Second)
			defer cancel()
			if err := d.Shutdown(sctx); err != nil {
				return fmt.Errorf("shutdown: %w", err)
			}
			log.Info("stopped")
			return nil
		},
	}
	addDaemonFlags(cmd, &cfg)
	cmd.Flags().StringVar(&logFormat, "log-format", "auto", "log format: auto (text on a terminal, JSON otherwise), text or json")
	cmd.Flags().StringVar(&logLevel, "log-level", "info", "log level: debug, info, warn or error")
	return cmd
}

// addDaemonFlags declares the flags that configure a daemon.
func addDaemonFlags(cmd *cobra.Command, cfg *daemonConfig) {
	f := cmd.Flags()
	f.StringVar(&cfg.Workflows, "workflows", "workflows", "folder of workflow files (*.yaml, *.yml)")
	f.StringVar(&cfg.Data, "data", "data", "folder of the embedded store's file")
	f.StringVar(&cfg.Plugins, "plugins", "", "folder of plugin executables (hookflow-plugin-NAME)")
	f.StringVar(&cfg.Secrets, "secrets", "", "folder of secret files (file name = secret name); the environment is always read")
	f.StringVar(&cfg.Addr, "addr", ":8080", "public listener for /hooks/{path}")
	f.StringVar(&cfg.AdminAddr, "admin-addr", "127.0.0.1:8081", "admin listener (API, metrics, health)")
	f.StringVar(&cfg.Store, "store", "bolt", "run store: bolt (embedded, in --data) or a postgres:// URL")
	f.IntVar(&cfg.Workers, "workers", 256, "runs executed at once (a worker mostly waits on the store or the network; a workflow's concurrency caps its share)")
	f.BoolVar(&cfg.AllowPrivate, "allow-private-targets", false, "let http and webhook steps reach private, loopback and link-local addresses")
	f.StringSliceVar(&cfg.AllowTargets, "allow-target", nil, "CIDR that steps may reach even though it is private (repeatable)")
	f.DurationVar(&cfg.Grace, "grace", 10*time.Second, "on shutdown, how long in-flight steps may finish")
	f.DurationVar(&cfg.LeaseFor, "lease", 30*time.Second, "how long a worker's claim on a run lasts without renewal")
	f.DurationVar(&cfg.Retention, "retention", 7*24*time.Hour, "delete finished runs older than this (0 keeps them forever)")
	f.IntVar(&cfg.MaxQueued, "max-queued", 0, "embedded store: answer webhooks 503 with Retry-After while this many runs wait (0: no limit)")
	f.StringVar(&cfg.StoreSchema, "store-schema", "hookflow", "PostgreSQL schema of the store, so several installations can share one database")
}

// newLogger builds the daemon's logger.
func newLogger(w io.Writer, format, level string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level %q: want debug, info, warn or error", level)
	}
	opts := &slog.HandlerOptions{Level: lv}
	if format == "auto" {
		format = "json"
		if f, ok := w.(*os.File); ok && isatty.IsTerminal(f.Fd()) {
			format = "text"
		}
	}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("--log-format %q: want auto, text or json", format)
}
