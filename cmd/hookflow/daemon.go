package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/hookflow/hookflow/actions"
	"github.com/hookflow/hookflow/engine"
	"github.com/hookflow/hookflow/engine/boltstore"
	"github.com/hookflow/hookflow/triggers"
	"github.com/hookflow/hookflow/workflows"
)

// daemonConfig is everything `hookflow serve` is configured with.
type daemonConfig struct {
	Workflows    string        // folder of workflow files
	Data         string        // folder of the bbolt file
	Plugins      string        // folder of plugin executables ("" = none)
	Secrets      string        // folder of secret files ("" = environment only)
	Addr         string        // public hooks listener
	AdminAddr    string        // admin listener
	Store        string        // "bolt" or a postgres:// URL
	Workers      int           // runs executed at once
	AllowPrivate bool          // let actions reach private/loopback targets
	AllowTargets []string      // CIDRs reachable even when private
	Grace        time.Duration // shutdown grace for in-flight steps
	LeaseFor     time.Duration // run lease
	Getenv       func(string) string
}

// daemon is a running hookflow: store, engine and webhook listener.
type daemon struct {
	cfg      daemonConfig
	log      *slog.Logger
	store    engine.Store
	registry *actions.Registry
	set      *workflows.Set
	engine   *engine.Engine
	server   *triggers.Server
	ln       net.Listener

	stopEngine context.CancelFunc
	wg         sync.WaitGroup
	engineErr  error
}

// startDaemon opens everything and starts serving; Shutdown undoes it.
func startDaemon(ctx context.Context, cfg daemonConfig, log *slog.Logger) (d *daemon, err error) {
	if cfg.Getenv == nil {
		cfg.Getenv = os.Getenv
	}
	d = &daemon{cfg: cfg, log: log}
	defer func() {
		if err != nil {
			d.closeAll()
		}
	}()

	d.registry = actions.NewRegistry()
	netOpts := actions.NetOptions{AllowPrivate: cfg.AllowPrivate, Logger: log}
	for _, s := range cfg.AllowTargets {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return nil, fmt.Errorf("--allow-target %q: %w", s, err)
		}
		netOpts.AllowList = append(netOpts.AllowList, p)
	}
	if err := actions.RegisterBuiltins(d.registry, netOpts); err != nil {
		return nil, fmt.Errorf("register built-in actions: %w", err)
	}

	d.set, err = workflows.Load(workflows.Options{Actions: d.registry}, cfg.Workflows)
	if err != nil {
		return nil, fmt.Errorf("load workflows from %s:\n%w", cfg.Workflows, err)
	}
	secrets, err := workflows.LoadSecrets(cfg.Secrets, d.set.SecretNames(), cfg.Getenv)
	if err != nil {
		return nil, fmt.Errorf("secrets: %w", err)
	}
	if cfg.Secrets != "" {
		if _, err := os.Stat(filepath.Join(cfg.Secrets, ".demo")); err == nil {
			log.Warn("the secrets directory holds DEMO values, published with hookflow: never use them in production", "dir", cfg.Secrets)
		}
	}

	d.store, err = openStore(ctx, cfg, log)
	if err != nil {
		return nil, err
	}
	d.engine, err = engine.New(engine.Options{
		Store:     d.store,
		Workflows: d.set,
		Actions:   d.registry,
		Secrets:   secrets,
		Workers:   cfg.Workers,
		LeaseFor:  cfg.LeaseFor,
		Grace:     cfg.Grace,
		Logger:    log,
	})
	if err != nil {
		return nil, err
	}
	d.server, err = triggers.New(triggers.Options{
		Store:     d.store,
		Workflows: d.set,
		Secrets:   secrets,
		Enqueued:  d.engine.Wake,
		Logger:    log,
	})
	if err != nil {
		return nil, err
	}
	d.ln, err = net.Listen("tcp", cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}

	engCtx, stop := context.WithCancel(context.WithoutCancel(ctx))
	d.stopEngine = stop
	d.wg.Add(2)
	go func() {
		defer d.wg.Done()
		d.engineErr = d.engine.Run(engCtx)
	}()
	go func() {
		defer d.wg.Done()
		if err := d.server.Serve(d.ln); err != nil {
			log.Error("webhook listener stopped", "err", err)
		}
	}()
	log.Info("hookflow serving", "addr", d.ln.Addr().String(), "workflows", len(d.set.Workflows()),
		"store", storeName(cfg), "workers", cfg.Workers)
	return d, nil
}

func storeName(cfg daemonConfig) string {
	if cfg.Store == "" || cfg.Store == "bolt" {
		return filepath.Join(cfg.Data, "hookflow.db")
	}
	return "postgres"
}

func openStore(ctx context.Context, cfg daemonConfig, log *slog.Logger) (engine.Store, error) {
	switch {
	case cfg.Store == "" || cfg.Store == "bolt":
		s, err := boltstore.Open(ctx, boltstore.Options{Path: filepath.Join(cfg.Data, "hookflow.db"), Logger: log})
		if err != nil {
			return nil, fmt.Errorf("open store: %w", err)
		}
		return s, nil
	default:
		return nil, fmt.Errorf("--store %q: want bolt or a postgres:// URL", cfg.Store)
	}
}

// Addr is the public listener's address.
func (d *daemon) Addr() string { return d.ln.Addr().String() }

// Shutdown stops accepting webhooks, lets in-flight steps finish within the
// grace period, hands the other runs back to the queue and closes the store.
func (d *daemon) Shutdown(ctx context.Context) error {
	var errs []error
	if d.server != nil {
		if err := d.server.Shutdown(ctx); err != nil {
			errs = append(errs, fmt.Errorf("stop listener: %w", err))
		}
	}
	if d.stopEngine != nil {
		d.stopEngine()
	}
	d.wg.Wait()
	if d.engineErr != nil {
		errs = append(errs, d.engineErr)
	}
	errs = append(errs, d.closeAll())
	return errors.Join(errs...)
}

func (d *daemon) closeAll() error {
	if d.ln != nil {
		d.ln.Close()
	}
	if d.store != nil {
		if err := d.store.Close(); err != nil && !errors.Is(err, engine.ErrClosed) {
			return fmt.Errorf("close store: %w", err)
		}
	}
	return nil
}
