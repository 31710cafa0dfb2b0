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
	"strings"
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
	catalog  *workflows.Catalog
	engine   *engine.Engine
	server   *triggers.Server
	ln       net.Listener

	stopEngine context.CancelFunc
	wg         sync.WaitGroup
	engineErr  error

	reloadMu  sync.Mutex
	reloadErr error // the last reload's failure, nil after a good one
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

	set, secrets, err := d.loadWorkflows()
	if err != nil {
		return nil, err
	}
	d.catalog = workflows.NewCatalog(set)
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
		Workflows: d.catalog,
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
		Workflows: set,
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
	d.wg.Add(3)
	go func() {
		defer d.wg.Done()
		d.watchWorkflows(engCtx, time.Second)
	}()
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
	log.Info("hookflow serving", "addr", d.ln.Addr().String(), "workflows", len(set.Workflows()),
		"store", storeName(cfg), "workers", cfg.Workers)
	return d, nil
}

// loadWorkflows loads and validates the workflows folder and the secrets
// its workflows name.
func (d *daemon) loadWorkflows() (*workflows.Set, map[string]string, error) {
	set, err := workflows.Load(workflows.Options{Actions: d.registry}, d.cfg.Workflows)
	if err != nil {
		return nil, nil, fmt.Errorf("load workflows from %s:\n%w", d.cfg.Workflows, err)
	}
	secrets, err := workflows.LoadSecrets(d.cfg.Secrets, set.SecretNames(), d.cfg.Getenv)
	if err != nil {
		return nil, nil, fmt.Errorf("secrets: %w", err)
	}
	return set, secrets, nil
}

// Reload loads the workflows folder again and swaps the new set in as a
// whole. A set that does not validate is refused and the old one keeps
// serving; the reason is logged and kept for /readyz. Runs already queued
// finish with the definition they were accepted under.
func (d *daemon) Reload() error {
	d.reloadMu.Lock()
	defer d.reloadMu.Unlock()
	err := d.reload()
	d.reloadErr = err
	if err != nil {
		d.log.Error("reload refused: the previous workflows keep serving", "err", err.Error())
		return err
	}
	d.log.Info("workflows reloaded", "workflows", len(d.catalog.Workflows()))
	return nil
}

func (d *daemon) reload() error {
	set, secrets, err := d.loadWorkflows()
	if err != nil {
		return err
	}
	if err := d.server.SetWorkflows(set, secrets); err != nil {
		return fmt.Errorf("webhook routes: %w", err)
	}
	d.engine.SetSecrets(secrets)
	d.catalog.Swap(set)
	return nil
}

// LastReloadError is the reason the last reload was refused, or nil.
func (d *daemon) LastReloadError() error {
	d.reloadMu.Lock()
	defer d.reloadMu.Unlock()
	return d.reloadErr
}

// watchWorkflows reloads when the workflow files change: it compares the
// folder's listing (names, sizes, modification times) every interval and
// reloads once a change has held still for one more interval (editors
// write files in several steps).
func (d *daemon) watchWorkflows(ctx context.Context, every time.Duration) {
	last := fingerprint(d.cfg.Workflows)
	pending := ""
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		now := fingerprint(d.cfg.Workflows)
		switch {
		case now == last:
			pending = ""
		case now != pending:
			pending = now // changed: wait until it holds still
		default:
			last, pending = now, ""
			d.Reload()
		}
	}
}

// fingerprint summarises the workflow files of dir.
func fingerprint(dir string) string {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return "error: " + err.Error()
	}
	var b strings.Builder
	for _, e := range entries {
		name := e.Name()
		if !strings.HasSuffix(name, ".yaml") && !strings.HasSuffix(name, ".yml") {
			continue
		}
		info, err := e.Info()
		if err != nil {
			continue
		}
		fmt.Fprintf(&b, "%s|%d|%d\n", name, info.Size(), info.ModTime().UnixNano())
	}
	return b.String()
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
		// We hold the file lock: leases in the file are a dead process's.
		n, err := s.RescueAll(ctx, time.Now())
		if err != nil {
			s.Close()
			return nil, fmt.Errorf("hand back runs of a previous process: %w", err)
		}
		if n > 0 {
			log.Info("handed back runs a previous process held when it stopped", "runs", n)
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
