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
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/hookflow/hookflow/actions"
	"github.com/hookflow/hookflow/engine"
	"github.com/hookflow/hookflow/engine/admin"
	"github.com/hookflow/hookflow/engine/boltstore"
	"github.com/hookflow/hookflow/engine/pgstore"
	"github.com/hookflow/hookflow/plugins"
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
	AdminAddr    string        // admin listener ("" = none)
	Store        string        // "bolt" or a postgres:// URL
	StoreSchema  string        // PostgreSQL schema
	Workers      int           // runs executed at once
	AllowPrivate bool          // let actions reach private/loopback targets
	AllowTargets []string      // CIDRs reachable even when private
	Grace        time.Duration // shutdown grace for in-flight steps
	LeaseFor     time.Duration // run lease
	Retention    time.Duration // finished runs older than this are deleted (0 = keep)
	MaxQueued    int           // runs waiting at most (embedded store; 0 = no limit)
	NoSync       bool          // embedded store: skip fsync (bench --no-sync only: not durable)
	// OnCommit, when set, also sees every commit of the embedded store
	// (the load test's commit times).
	OnCommit func(writes int, took time.Duration)
	Getenv   func(string) string
	// Observer, when set, also sees every run finish (the load test).
	Observer engine.Observer
}

// daemon is a running hookflow: store, engine, webhook and admin listeners.
type daemon struct {
	cfg     daemonConfig
	log     *slog.Logger
	netOpts actions.NetOptions
	store   engine.Store
	actions liveActions
	plugins *plugins.Host
	catalog *workflows.Catalog
	engine  *engine.Engine
	server  *triggers.Server
	admin   *admin.Server
	metrics *admin.Metrics
	ln      net.Listener
	adminLn net.Listener

	redactor atomic.Pointer[engine.Redactor] // of the secrets in use

	stopEngine context.CancelFunc
	wg         sync.WaitGroup
	engineErr  error
	ready      atomic.Bool

	reloadMu  sync.Mutex
	reloadErr error // the last reload's failure, nil after a good one
}

// liveActions is the action registry the engine sees; a reload swaps it.
type liveActions struct {
	p atomic.Pointer[actions.Registry]
}

func (l *liveActions) Lookup(name string) (actions.Action, bool) { return l.p.Load().Lookup(name) }

// startDaemon opens everything and starts serving; Shutdown undoes it.
func startDaemon(ctx context.Context, cfg daemonConfig, log *slog.Logger) (d *daemon, err error) {
	if cfg.Getenv == nil {
		cfg.Getenv = os.Getenv
	}
	d = &daemon{cfg: cfg}
	d.log = slog.New(newRedactingHandler(log.Handler(), d.redact))
	log = d.log
	started := d // a failing return sets d to nil
	defer func() {
		if err != nil {
			started.closeAll()
		}
	}()

	d.netOpts = actions.NetOptions{AllowPrivate: cfg.AllowPrivate, Logger: log}
	for _, s := range cfg.AllowTargets {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return nil, fmt.Errorf("--allow-target %q: %w", s, err)
		}
		d.netOpts.AllowList = append(d.netOpts.AllowList, p)
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	d.metrics = admin.NewMetrics(reg)

	host, registry, err := d.loadActions(ctx)
	if err != nil {
		return nil, err
	}
	d.plugins = host
	d.actions.p.Store(registry)
	set, secrets, err := d.loadWorkflows(registry)
	if err != nil {
		return nil, err
	}
	d.catalog = workflows.NewCatalog(set)
	d.redactor.Store(engine.NewRedactor(secrets))
	if cfg.Secrets != "" {
		if _, err := os.Stat(filepath.Join(cfg.Secrets, ".demo")); err == nil {
			log.Warn("the secrets directory holds DEMO values, published with hookflow: never use them in production", "dir", cfg.Secrets)
		}
	}

	d.store, err = openStore(ctx, cfg, log, d.metrics)
	if err != nil {
		return nil, err
	}
	d.metrics.WatchStore(d.store)
	var observer engine.Observer = d.metrics
	if cfg.Observer != nil {
		observer = teeObserver{d.metrics, cfg.Observer}
	}
	d.engine, err = engine.New(engine.Options{
		Store:     d.store,
		Workflows: d.catalog,
		Actions:   &d.actions,
		Secrets:   secrets,
		Workers:   cfg.Workers,
		LeaseFor:  cfg.LeaseFor,
		// A lost node's runs are rescued within half a lease of expiring.
		RescueInterval: min(10*time.Second, max(cfg.LeaseFor/2, time.Second)),
		Grace:          cfg.Grace,
		Logger:         log,
		Observer:       observer,
	})
	if err != nil {
		return nil, err
	}
	d.server, err = triggers.New(triggers.Options{
		Store:     d.store,
		Workflows: set,
		Secrets:   secrets,
		Enqueued:  d.engine.Wake,
		Observer:  d.metrics,
		Logger:    log,
	})
	if err != nil {
		return nil, err
	}
	token := cfg.Getenv("HOOKFLOW_API_TOKEN")
	d.admin, err = admin.New(admin.Options{
		Store:     d.store,
		Workflows: d.catalog.Current,
		Plugins:   d.pluginInfos,
		Token:     token,
		Ready:     d.readiness,
		Enqueued:  d.engine.Wake,
		Redact:    d.redact,
		Logger:    log,
		Registry:  reg,
	})
	if err != nil {
		return nil, err
	}
	d.ln, err = net.Listen("tcp", cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}
	if cfg.AdminAddr != "" {
		d.adminLn, err = net.Listen("tcp", cfg.AdminAddr)
		if err != nil {
			return nil, fmt.Errorf("admin listener on %s: %w", cfg.AdminAddr, err)
		}
		if token == "" && !isLoopback(d.adminLn.Addr()) {
			log.Warn("the admin listener is not on loopback and HOOKFLOW_API_TOKEN is not set: anyone who reaches it can read runs and replay them",
				"admin_addr", d.adminLn.Addr().String())
		}
	}

	engCtx, stop := context.WithCancel(context.WithoutCancel(ctx))
	d.stopEngine = stop
	d.goRun(func() { d.watchWorkflows(engCtx, time.Second) })
	d.goRun(func() { d.engineErr = d.engine.Run(engCtx) })
	d.goRun(func() { d.retain(engCtx, time.Minute, cfg.Retention) })
	d.goRun(func() {
		if err := d.server.Serve(d.ln); err != nil && d.ready.Load() {
			log.Error("webhook listener stopped", "err", err)
		}
	})
	if d.adminLn != nil {
		d.goRun(func() {
			if err := d.admin.Serve(d.adminLn); err != nil && d.ready.Load() {
				log.Error("admin listener stopped", "err", err)
			}
		})
	}
	d.ready.Store(true)
	adminAddr := cfg.AdminAddr
	if d.adminLn != nil {
		adminAddr = d.adminLn.Addr().String() // the port chosen, for :0
	}
	log.Info("hookflow serving", "addr", d.ln.Addr().String(), "admin_addr", adminAddr,
		"workflows", len(set.Workflows()), "plugins", len(d.pluginInfos()), "store", storeName(cfg), "workers", cfg.Workers)
	return d, nil
}

// redact removes the values of the secrets in use from s.
func (d *daemon) redact(s string) string { return d.redactor.Load().String(s) }

func (d *daemon) goRun(fn func()) {
	d.wg.Add(1)
	go func() { defer d.wg.Done(); fn() }()
}

func isLoopback(a net.Addr) bool {
	ap, err := netip.ParseAddrPort(a.String())
	return err == nil && ap.Addr().IsLoopback()
}

// teeObserver sends engine events to two observers.
type teeObserver [2]engine.Observer

func (t teeObserver) ObserveStep(workflow, uses, outcome string, took time.Duration) {
	t[0].ObserveStep(workflow, uses, outcome, took)
	t[1].ObserveStep(workflow, uses, outcome, took)
}

func (t teeObserver) ObserveRun(workflow string, status engine.Status, took time.Duration) {
	t[0].ObserveRun(workflow, status, took)
	t[1].ObserveRun(workflow, status, took)
}

func (t teeObserver) ObserveDelivery(status int) {
	if o, ok := t[0].(interface{ ObserveDelivery(int) }); ok {
		o.ObserveDelivery(status)
	}
}

// loadActions builds a registry of the built-ins and the plugins' actions.
func (d *daemon) loadActions(ctx context.Context) (*plugins.Host, *actions.Registry, error) {
	reg := actions.NewRegistry()
	if err := actions.RegisterBuiltins(reg, d.netOpts); err != nil {
		return nil, nil, fmt.Errorf("register built-in actions: %w", err)
	}
	if d.cfg.Plugins == "" {
		return nil, reg, nil
	}
	host, err := plugins.Open(ctx, plugins.Options{Dir: d.cfg.Plugins, Logger: d.log, OnRestart: d.metrics.PluginRestarted})
	if err != nil {
		return nil, nil, fmt.Errorf("plugins: %w", err)
	}
	if err := host.Register(reg); err != nil {
		host.Close()
		return nil, nil, fmt.Errorf("plugins: %w", err)
	}
	return host, reg, nil
}

func (d *daemon) pluginInfos() []admin.PluginInfo {
	d.reloadMu.Lock()
	host := d.plugins
	d.reloadMu.Unlock()
	if host == nil {
		return nil
	}
	var out []admin.PluginInfo
	for _, p := range host.Plugins() {
		pi := admin.PluginInfo{Name: p.Name, Version: p.Version, Checksum: string(p.Checksum), Error: p.Error}
		for _, a := range p.Actions {
			pi.Actions = append(pi.Actions, admin.ActionInfo{Name: a.Name, Description: a.Description})
		}
		out = append(out, pi)
	}
	return out
}

// readiness answers /readyz: ready while serving; a refused reload is a
// detail, not unreadiness (the previous workflows keep serving).
func (d *daemon) readiness() (bool, map[string]string) {
	details := map[string]string{"store": "open", "workflows": fmt.Sprint(len(d.catalog.Workflows()))}
	if err := d.LastReloadError(); err != nil {
		details["last_reload_error"] = err.Error()
	}
	if n := len(d.pluginInfos()); n > 0 {
		details["plugins"] = fmt.Sprint(n)
	}
	if !d.ready.Load() {
		details["store"] = "closing"
		return false, details
	}
	return true, details
}

// retain deletes finished runs older than the retention, and expired dedupe
// keys, in small batches so the store's writer is never held for long.
func (d *daemon) retain(ctx context.Context, every, keep time.Duration) {
	if keep <= 0 {
		return
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		now := time.Now()
		total := 0
		for ctx.Err() == nil {
			n, err := d.store.Purge(ctx, engine.PurgeRequest{FinishedBefore: now.Add(-keep), Now: now, Limit: 500})
			if err != nil {
				if ctx.Err() == nil {
					d.log.Error("retention: purge", "err", err)
				}
				break
			}
			total += n
			if n == 0 {
				break
			}
		}
		if total > 0 {
			d.log.Info("retention: deleted finished runs and expired dedupe keys", "records", total, "older_than", keep)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// loadWorkflows loads and validates the workflows folder and the secrets
// its workflows name.
func (d *daemon) loadWorkflows(reg *actions.Registry) (*workflows.Set, map[string]string, error) {
	set, err := workflows.Load(workflows.Options{Actions: reg}, d.cfg.Workflows)
	if err != nil {
		return nil, nil, fmt.Errorf("load workflows from %s:\n%w", d.cfg.Workflows, err)
	}
	secrets, err := workflows.LoadSecrets(d.cfg.Secrets, set.SecretNames(), d.cfg.Getenv)
	if err != nil {
		return nil, nil, fmt.Errorf("secrets: %w", err)
	}
	return set, secrets, nil
}

// Reload starts the plugins and loads the workflows folder again, and swaps
// the new set in as a whole. A set that does not validate is refused and the
// old one keeps serving; the reason is logged and kept for /readyz. Runs
// already queued finish with the definition they were accepted under. The
// previous plugin processes are stopped once the new ones serve: a plugin
// call in flight at that moment fails retryably and is retried on the new
// process.
func (d *daemon) Reload() error {
	d.reloadMu.Lock()
	defer d.reloadMu.Unlock()
	err := d.reload()
	d.reloadErr = err
	d.metrics.ObserveReload(err == nil)
	if err != nil {
		d.log.Error("reload refused: the previous workflows keep serving", "err", err.Error())
		return err
	}
	d.log.Info("workflows reloaded", "workflows", len(d.catalog.Workflows()))
	return nil
}

func (d *daemon) reload() error {
	host, reg, err := d.loadActions(context.Background())
	if err != nil {
		return err
	}
	closeNew := func() {
		if host != nil {
			host.Close()
		}
	}
	set, secrets, err := d.loadWorkflows(reg)
	if err != nil {
		closeNew()
		return err
	}
	if err := d.server.SetWorkflows(set, secrets); err != nil {
		closeNew()
		return fmt.Errorf("webhook routes: %w", err)
	}
	d.engine.SetSecrets(secrets)
	d.redactor.Store(engine.NewRedactor(secrets))
	d.actions.p.Store(reg)
	d.catalog.Swap(set)
	old := d.plugins
	d.plugins = host
	if old != nil {
		old.Close()
	}
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

func openStore(ctx context.Context, cfg daemonConfig, log *slog.Logger, m *admin.Metrics) (engine.Store, error) {
	if cfg.MaxQueued < 0 {
		return nil, fmt.Errorf("--max-queued must not be negative, got %d", cfg.MaxQueued)
	}
	switch {
	case strings.HasPrefix(cfg.Store, "postgres://") || strings.HasPrefix(cfg.Store, "postgresql://"):
		if cfg.MaxQueued > 0 {
			return nil, errors.New("--max-queued works with the embedded store only: with PostgreSQL, watch hookflow_queue_depth instead")
		}
		s, err := pgstore.Open(ctx, pgstore.Options{URL: cfg.Store, Schema: cfg.StoreSchema, Logger: log})
		if err != nil {
			return nil, fmt.Errorf("open store: %w", err)
		}
		return s, nil
	case cfg.Store == "" || cfg.Store == "bolt":
		onCommit := m.ObserveCommit
		if also := cfg.OnCommit; also != nil {
			onCommit = func(writes int, took time.Duration) {
				m.ObserveCommit(writes, took)
				also(writes, took)
			}
		}
		s, err := boltstore.Open(ctx, boltstore.Options{Path: filepath.Join(cfg.Data, "hookflow.db"), Logger: log,
			OnCommit: onCommit, MaxQueued: cfg.MaxQueued, NoSync: cfg.NoSync})
		if err != nil {
			return nil, fmt.Errorf("open store: %w", err)
		}
		// Leases live in this process's memory: runs a previous process held
		// when it stopped are simply queued again.
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
	d.ready.Store(false)
	var errs []error
	if d.server != nil {
		if err := d.server.Shutdown(ctx); err != nil {
			errs = append(errs, fmt.Errorf("stop listener: %w", err))
		}
		// A Serve that had not started when Shutdown came would wait on its
		// listener forever: closing it ends Serve either way.
		d.ln.Close()
	}
	if d.stopEngine != nil {
		d.stopEngine()
	}
	if d.admin != nil && d.adminLn != nil {
		if err := d.admin.Shutdown(ctx); err != nil {
			errs = append(errs, fmt.Errorf("stop admin listener: %w", err))
		}
		d.adminLn.Close()
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
	if d.adminLn != nil {
		d.adminLn.Close()
	}
	d.reloadMu.Lock()
	if d.plugins != nil {
		d.plugins.Close()
	}
	d.reloadMu.Unlock()
	if d.store != nil {
		if err := d.store.Close(); err != nil && !errors.Is(err, engine.ErrClosed) {
			return fmt.Errorf("close store: %w", err)
		}
	}
	return nil
}
