package engine

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hookflow/hookflow/actions"
	"github.com/hookflow/hookflow/workflows"
)

// Workflows finds the definition a run was made for. *workflows.Set
// satisfies it; the daemon passes a source that follows reloads.
type Workflows interface {
	ByName(name string) *workflows.Workflow
}

// Actions finds the action behind a step's `uses`. *actions.Registry
// satisfies it.
type Actions interface {
	Lookup(name string) (actions.Action, bool)
}

// Clock is the engine's source of time, injected so lease and retry logic
// can be tested without sleeping.
type Clock interface {
	Now() time.Time
}

type systemClock struct{}

func (systemClock) Now() time.Time { return time.Now() }

// Options configure an Engine. Zero values take the defaults named.
type Options struct {
	Store     Store     // required
	Workflows Workflows // required
	Actions   Actions   // required
	// Secrets are the values `secrets.NAME` resolves to; they are also what
	// the engine redacts from every error, output and log line it writes.
	Secrets map[string]string
	Workers int    // runs executed at once; default 256
	Owner   string // lease owner name; default hostname:pid
	// LeaseFor is how long a claim lasts without renewal; default 30s. Before
	// each step the lease is extended past the step's timeout, and it is
	// renewed every LeaseFor/3 while the step runs.
	LeaseFor       time.Duration
	PollInterval   time.Duration // claim poll when the store cannot wake us; default 1s
	RescueInterval time.Duration // expired-lease rescue period; default 10s
	// Grace is how long in-flight steps may finish after shutdown begins;
	// default 10s. Steps still running then are canceled and their runs
	// handed back to the queue.
	Grace time.Duration
	Clock Clock
	// Jitter returns a random duration in [0, ceiling]; default uniform.
	// Tests pass a deterministic one.
	Jitter   func(ceiling time.Duration) time.Duration
	Logger   *slog.Logger
	Observer Observer // optional: metrics
}

// Engine claims runs from a Store and executes their steps.
type Engine struct {
	store    Store
	wfs      Workflows
	acts     Actions
	secrets  atomic.Pointer[secretSet]
	workers  int
	owner    string
	leaseFor time.Duration
	poll     time.Duration
	rescue   time.Duration
	grace    time.Duration
	clock    Clock
	jitter   func(time.Duration) time.Duration
	log      *slog.Logger
	observer Observer
	// Compiled input schemas by their text (see schema); a lookup with
	// the text as a []byte converted in the index does not allocate.
	schemaMu sync.RWMutex
	schemas  map[string]*workflows.Schema

	wake chan struct{}
}

// New validates opts and returns an Engine ready to Run.
func New(opts Options) (*Engine, error) {
	switch {
	case opts.Store == nil:
		return nil, errors.New("engine: Options.Store is required")
	case opts.Workflows == nil:
		return nil, errors.New("engine: Options.Workflows is required")
	case opts.Actions == nil:
		return nil, errors.New("engine: Options.Actions is required")
	case opts.Workers < 0:
		return nil, fmt.Errorf("engine: Options.Workers must be positive, got %d", opts.Workers)
	}
	host, _ := os.Hostname()
	e := &Engine{
		store:    opts.Store,
		wfs:      opts.Workflows,
		acts:     opts.Actions,
		workers:  cmp.Or(opts.Workers, 256),
		owner:    cmp.Or(opts.Owner, fmt.Sprintf("%s:%d", host, os.Getpid())),
		leaseFor: cmp.Or(opts.LeaseFor, 30*time.Second),
		poll:     cmp.Or(opts.PollInterval, time.Second),
		rescue:   cmp.Or(opts.RescueInterval, 10*time.Second),
		grace:    cmp.Or(opts.Grace, 10*time.Second),
		clock:    opts.Clock,
		jitter:   opts.Jitter,
		log:      opts.Logger,
		observer: opts.Observer,
		wake:     make(chan struct{}, 1),
	}
	e.SetSecrets(opts.Secrets)
	if e.clock == nil {
		e.clock = systemClock{}
	}
	if e.jitter == nil {
		e.jitter = func(ceiling time.Duration) time.Duration {
			if ceiling <= 0 {
				return 0
			}
			return time.Duration(rand.Int64N(int64(ceiling) + 1))
		}
	}
	if e.log == nil {
		e.log = slog.New(slog.DiscardHandler)
	}
	return e, nil
}

// Redactor returns the engine's secret redactor, for callers that log about
// runs with the same guarantees.
func (e *Engine) Redactor() *Redactor { return e.secrets.Load().redactor }

// secretSet is the secrets in use and their redactor, swapped together.
type secretSet struct {
	values   map[string]string
	redactor *Redactor
}

// SetSecrets replaces the secret values (a reload may need new ones). Runs
// already executing keep the values they started with.
func (e *Engine) SetSecrets(secrets map[string]string) {
	e.secrets.Store(&secretSet{values: secrets, redactor: NewRedactor(secrets)})
}

// redact removes secret values from s.
func (e *Engine) redact(s string) string { return e.secrets.Load().redactor.String(s) }

// Wake tells the engine that new work may be claimable without waiting for
// the next poll. It never blocks.
func (e *Engine) Wake() {
	select {
	case e.wake <- struct{}{}:
	default:
	}
}

// Run claims and executes runs until ctx is done, then shuts down
// gracefully: no new claims, in-flight steps get Options.Grace to finish,
// and every run still held is handed back to the queue. It returns nil after
// a graceful stop.
func (e *Engine) Run(ctx context.Context) error {
	// hard is canceled when the grace period is over; step contexts derive
	// from it, so a shutdown does not cut steps short before then.
	hard, cancelHard := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelHard()

	if n, err := e.store.Rescue(ctx, e.clock.Now()); err != nil {
		if ctx.Err() != nil {
			return nil // stopped before it began: nothing claimed, nothing to hand back
		}
		return fmt.Errorf("engine: rescue expired leases at start: %w", err)
	} else if n > 0 {
		e.log.Info("rescued runs with expired leases", "runs", n)
	}

	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		e.rescueLoop(ctx)
	}()

	slots := make(chan struct{}, e.workers)
	var storeWake <-chan struct{}
	if w, ok := e.store.(Waker); ok {
		storeWake = w.Wake()
	}
	var running sync.WaitGroup
	timer := time.NewTimer(0)
	defer timer.Stop()

	for ctx.Err() == nil {
		free := e.workers - len(slots)
		var claimed Claimed
		if free > 0 {
			var err error
			limits, leaseFor := e.claimTerms()
			claimed, err = e.store.Claim(ctx, ClaimRequest{
				Owner:       e.owner,
				Max:         free,
				LeaseFor:    leaseFor,
				Now:         e.clock.Now(),
				Concurrency: limits,
			})
			if err != nil && ctx.Err() == nil {
				e.log.Error("claim runs", "err", e.redact(err.Error()))
			}
			for _, r := range claimed.Runs {
				slots <- struct{}{}
				running.Add(1)
				go func(r *Run) {
					defer func() { <-slots; running.Done(); e.Wake() }()
					e.execute(ctx, hard, r)
				}(r)
			}
			if len(claimed.Runs) == free {
				continue // there may be more
			}
		}
		wait := e.poll
		if !claimed.NextDue.IsZero() {
			if d := claimed.NextDue.Sub(e.clock.Now()); d < wait {
				wait = max(d, time.Millisecond)
			}
		}
		if !timer.Stop() {
			select {
			case <-timer.C:
			default:
			}
		}
		timer.Reset(wait)
		select {
		case <-ctx.Done():
		case <-e.wake:
		case <-storeWake:
		case <-timer.C:
		}
	}

	done := make(chan struct{})
	go func() { running.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(e.grace):
		e.log.Warn("grace period over: canceling steps still running", "grace", e.grace)
		cancelHard()
		<-done
	}
	wg.Wait()
	return nil
}

func (e *Engine) rescueLoop(ctx context.Context) {
	t := time.NewTicker(e.rescue)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			n, err := e.store.Rescue(ctx, e.clock.Now())
			if err != nil && ctx.Err() == nil {
				e.log.Error("rescue expired leases", "err", err)
			}
			if n > 0 {
				e.log.Info("rescued runs with expired leases", "runs", n)
				e.Wake()
			}
		}
	}
}

// claimTerms collects what a claim needs to know of the workflows: the
// per-workflow concurrency limits, and a lease long enough for the longest
// step timeout, so that the lease rarely needs a renewal (a commit of its
// own) before a run's first step.
func (e *Engine) claimTerms() (map[string]int, time.Duration) {
	lease := e.leaseFor
	lister, ok := e.wfs.(interface{ Workflows() []*workflows.Workflow })
	if !ok {
		return nil, lease
	}
	var m map[string]int
	longest := time.Duration(0)
	for _, w := range lister.Workflows() {
		if w.Concurrency > 0 {
			if m == nil {
				m = map[string]int{}
			}
			m[w.Name] = w.Concurrency
		}
		for _, st := range w.Steps {
			longest = max(longest, st.Timeout)
		}
	}
	return m, lease + longest
}
