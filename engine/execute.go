package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/hookflow/hookflow/actions"
	"github.com/hookflow/hookflow/workflows"
)

// versioned is implemented by workflow sources that remember earlier
// versions (workflows.Catalog): a run finishes with the definition it was
// accepted under, even after a reload changed it.
type versioned interface {
	ByVersion(name, version string) *workflows.Workflow
}

// execution is one worker's hold on one claimed run.
type execution struct {
	e      *Engine
	run    *Run
	wf     *workflows.Workflow
	lease  Lease
	lg     *slog.Logger // see log
	lgOnce sync.Once

	mu         sync.Mutex
	leaseUntil time.Time
	lost       bool
}

// execute runs the steps of r from its first unfinished one. stop ends at
// the next step boundary (shutdown); hard cancels a step in flight.
func (e *Engine) execute(stop, hard context.Context, r *Run) {
	x := &execution{
		e:          e,
		run:        r,
		lease:      r.Lease,
		leaseUntil: r.Lease.ExpiresAt,
	}
	// Writes must land even while shutting down.
	writeCtx := context.WithoutCancel(hard)

	if v, ok := e.wfs.(versioned); ok && r.WorkflowVersion != "" {
		x.wf = v.ByVersion(r.Workflow, r.WorkflowVersion)
	} else {
		x.wf = e.wfs.ByName(r.Workflow)
	}
	if x.wf == nil {
		x.record(writeCtx, Update{Status: StatusDead, Error: fmt.Sprintf("workflow %q is not loaded", r.Workflow)})
		return
	}

	runCtx, cancel := context.WithCancel(hard)
	ren := x.renewEvery(runCtx, cancel, max(e.leaseFor/3, 10*time.Millisecond))
	defer func() { cancel(); ren.stop() }()

	x.steps(stop, runCtx, writeCtx)
}

// renewal keeps a run's lease alive while it executes; losing the lease
// cancels the run. It runs from a timer, not a goroutine of its own: most
// runs end long before their first renewal is due, and then cost a timer
// stopped unfired.
type renewal struct {
	x      *execution
	ctx    context.Context
	cancel context.CancelFunc
	every  time.Duration

	mu      sync.Mutex // held while renewing, so that stop waits for a renewal in flight
	t       *time.Timer
	stopped bool
}

func (x *execution) renewEvery(ctx context.Context, cancel context.CancelFunc, every time.Duration) *renewal {
	r := &renewal{x: x, ctx: ctx, cancel: cancel, every: every}
	r.mu.Lock() // the first renewal must see r.t
	r.t = time.AfterFunc(every, r.renew)
	r.mu.Unlock()
	return r
}

func (r *renewal) renew() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.stopped || r.ctx.Err() != nil {
		return
	}
	x := r.x
	if err := x.extend(r.ctx, x.e.clock.Now().Add(x.e.leaseFor)); err != nil {
		if errors.Is(err, ErrLeaseLost) {
			x.log().Warn("lease lost: abandoning run")
			r.cancel()
			return
		}
		if r.ctx.Err() == nil {
			x.log().Error("renew lease", "err", err)
		}
	}
	r.t.Reset(r.every)
}

// stop ends the renewals; a renewal in flight finishes first.
func (r *renewal) stop() {
	r.mu.Lock()
	r.stopped = true
	r.t.Stop()
	r.mu.Unlock()
}

// extend moves the lease expiry to until unless it already lasts longer.
func (x *execution) extend(ctx context.Context, until time.Time) error {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.lost {
		return ErrLeaseLost
	}
	if !until.After(x.leaseUntil) {
		return nil
	}
	if err := x.e.store.Renew(ctx, x.run.ID, x.lease, until); err != nil {
		if errors.Is(err, ErrLeaseLost) {
			x.lost = true
		}
		return err
	}
	x.leaseUntil = until
	return nil
}

// log is the run's logger, made on first use: most runs log nothing at
// the usual levels, and a logger with attributes costs allocations.
func (x *execution) log() *slog.Logger {
	x.lgOnce.Do(func() { x.lg = x.e.log.With("run_id", x.run.ID, "workflow", x.run.Workflow) })
	return x.lg
}

func (x *execution) steps(stop, runCtx, writeCtx context.Context) {
	r, wf := x.run, x.wf
	now := x.e.clock.Now()
	started := r.StartedAt
	if started.IsZero() {
		started = now
	}
	deadline := started.Add(wf.Timeout)
	if wf.Timeout > 0 && !now.Before(deadline) {
		x.record(writeCtx, Update{Status: StatusDead, Error: fmt.Sprintf("run timed out after %s", wf.Timeout)})
		return
	}

	env, err := x.e.envFor(r, wf)
	if err != nil {
		x.record(writeCtx, Update{Status: StatusDead, Error: x.e.redact(err.Error())})
		return
	}

	records := make(map[string]*StepRecord, len(r.Steps))
	for i := range r.Steps {
		records[r.Steps[i].ID] = &r.Steps[i]
	}

	for i, step := range wf.Steps {
		last := i == len(wf.Steps)-1
		rec := records[step.ID]
		if rec != nil && rec.Status.Done() {
			env.Steps[step.ID] = workflows.StepEnv{Outputs: rec.Outputs, Status: string(rec.Status)}
			if last {
				x.record(writeCtx, Update{Status: StatusSucceeded})
			}
			continue
		}
		if stop.Err() != nil || runCtx.Err() != nil {
			x.release(writeCtx)
			return
		}
		if rec == nil {
			rec = &StepRecord{ID: step.ID, Uses: step.Uses}
		}
		next := x.step(runCtx, step, rec, env, deadline)
		if next.abandon {
			x.release(writeCtx)
			return
		}
		u := Update{Step: rec, Status: StatusRunning}
		switch {
		case next.retryAt != (time.Time{}):
			u.Status, u.DueAt = StatusRetrying, next.retryAt
		case next.dead != "":
			u.Status, u.Error = StatusDead, next.dead
		case last:
			u.Status = StatusSucceeded
		}
		if !x.record(writeCtx, u) || u.Status != StatusRunning {
			return
		}
		env.Steps[step.ID] = workflows.StepEnv{Outputs: rec.Outputs, Status: string(rec.Status)}
	}
	if len(wf.Steps) == 0 {
		x.record(writeCtx, Update{Status: StatusSucceeded})
	}
}

// deliveryObserver is an Observer that also counts outbound deliveries by
// status (0: no answer).
type deliveryObserver interface {
	ObserveDelivery(status int)
}

// outcome is what one step execution decided for its run.
type outcome struct {
	retryAt time.Time // retry the run then
	dead    string    // the run is dead with this error
	abandon bool      // shutdown or lost lease: hand the run back untouched
}

// step executes one step once and fills rec with its result.
func (x *execution) step(ctx context.Context, step *workflows.Step, rec *StepRecord, env *workflows.Env, deadline time.Time) outcome {
	e := x.e
	fail := func(msg string) outcome {
		msg = e.redact(msg)
		rec.Status, rec.Error = StepFailed, msg
		return outcome{dead: fmt.Sprintf("step %s: %s", step.ID, msg)}
	}
	if step.If != nil {
		ok, err := step.If.Bool(env)
		if err != nil {
			return fail(fmt.Sprintf("evaluate if: %v", err))
		}
		if !ok {
			rec.Status, rec.Outputs = StepSkipped, nil
			if o := e.observer; o != nil {
				o.ObserveStep(x.run.Workflow, step.Uses, "skipped", 0)
			}
			return outcome{}
		}
	}
	input, err := step.With.RenderMap(env)
	if err != nil {
		return fail(fmt.Sprintf("render with: %v", err))
	}
	action, ok := e.acts.Lookup(step.Uses)
	if !ok {
		return fail(fmt.Sprintf("unknown action %q", step.Uses))
	}
	if s, ok := action.(actions.Schemer); ok {
		if raw := s.InputSchema(); len(raw) > 0 {
			schema, err := e.schema(raw)
			if err != nil {
				return fail(fmt.Sprintf("schema of %s: %v", step.Uses, err))
			}
			if err := schema.Validate(input); err != nil {
				return fail(fmt.Sprintf("input does not match the schema of %s: %v", step.Uses, err))
			}
		}
	}

	timeout := step.Timeout
	if x.wf.Timeout > 0 {
		timeout = min(timeout, deadline.Sub(e.clock.Now()))
	}
	// The lease must outlast the step. The claim's lease already covers the
	// longest step timeout, so this rarely costs a write.
	if err := x.extend(ctx, e.clock.Now().Add(timeout+e.leaseFor/2)); err != nil {
		return outcome{abandon: true}
	}
	stepCtx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	attempt := Attempt{Number: len(rec.Attempts) + 1, StartedAt: e.clock.Now()}
	out, err := action.Execute(stepCtx, actions.Request{
		RunID:          x.run.ID,
		Workflow:       x.run.Workflow,
		StepID:         step.ID,
		Attempt:        attempt.Number,
		IdempotencyKey: x.run.ID + "/" + step.ID,
		Input:          input,
	})
	took := e.clock.Now().Sub(attempt.StartedAt)
	attempt.DurationMS = float64(took.Microseconds()) / 1000
	if err != nil && ctx.Err() != nil && stepCtx.Err() != context.DeadlineExceeded {
		// Canceled by shutdown or a lost lease, not by the step timeout:
		// the attempt does not count.
		return outcome{abandon: true}
	}
	if o := e.observer; o != nil {
		defer func() {
			o.ObserveStep(x.run.Workflow, step.Uses, attempt.Outcome, took)
			if d, ok := o.(deliveryObserver); ok && (step.Uses == "http" || step.Uses == "webhook") {
				status, _ := attempt.Details["status"].(int)
				d.ObserveDelivery(status)
			}
		}()
	}
	if err == nil {
		attempt.Outcome = "ok"
		attempt.Details = e.Redactor().Map(detailsOf(step.Uses, out))
		rec.Attempts = append(rec.Attempts, attempt)
		rec.Status, rec.Outputs, rec.Error = StepSucceeded, e.Redactor().Map(out), ""
		if e.log.Enabled(ctx, slog.LevelDebug) {
			x.log().Debug("step succeeded", "step", step.ID, "attempt", attempt.Number)
		}
		return outcome{}
	}

	msg := e.redact(err.Error())
	if errors.Is(stepCtx.Err(), context.DeadlineExceeded) && !actions.IsPermanent(err) {
		msg = fmt.Sprintf("step timed out after %s: %s", timeout, msg)
	}
	attempt.Error = msg
	attempt.Details = e.Redactor().Map(actions.DetailsOf(err))
	rec.Error = msg
	permanent := actions.IsPermanent(err)
	attempt.Outcome = "retryable"
	if permanent {
		attempt.Outcome = "permanent"
	}
	rec.Attempts = append(rec.Attempts, attempt)

	if permanent || attempt.Number >= step.Retry.Attempts {
		rec.Status = StepFailed
		why := "permanent error"
		if !permanent {
			why = fmt.Sprintf("%d attempts", attempt.Number)
		}
		x.log().Warn("step failed", "step", step.ID, "attempt", attempt.Number, "why", why, "err", msg)
		return outcome{dead: fmt.Sprintf("step %s failed (%s): %s", step.ID, why, msg)}
	}
	// A receiver's Retry-After is honoured, up to an hour: a hostile or
	// broken answer must not park a run for days.
	delay := max(e.backoff(step.Retry, attempt.Number), min(actions.RetryHint(err), maxRetryHint))
	retryAt := e.clock.Now().Add(delay)
	if x.wf.Timeout > 0 && retryAt.After(deadline) {
		rec.Status = StepFailed
		return outcome{dead: fmt.Sprintf("step %s failed and the run timeout (%s) leaves no time to retry: %s", step.ID, x.wf.Timeout, msg)}
	}
	rec.Status = StepRetrying
	x.log().Info("step failed, will retry", "step", step.ID, "attempt", attempt.Number, "in", delay.Round(time.Millisecond), "err", msg)
	return outcome{retryAt: retryAt}
}

// maxRetryHint caps how long an action's retry-after hint may delay a run.
const maxRetryHint = time.Hour

// schema compiles an action's input schema once and keeps it: rendered
// inputs are checked against it before every call.
func (e *Engine) schema(raw []byte) (*workflows.Schema, error) {
	e.schemaMu.RLock()
	s := e.schemas[string(raw)]
	e.schemaMu.RUnlock()
	if s != nil {
		return s, nil
	}
	s, err := workflows.CompileSchema(raw)
	if err != nil {
		return nil, err
	}
	e.schemaMu.Lock()
	if e.schemas == nil {
		e.schemas = map[string]*workflows.Schema{}
	}
	e.schemas[string(raw)] = s
	e.schemaMu.Unlock()
	return s, nil
}

// backoff is exponential with full jitter: a uniform pick in
// [0, min(Max, Initial·2^(attempt-1))].
func (e *Engine) backoff(p workflows.Retry, attempt int) time.Duration {
	ceiling := p.Initial
	for i := 1; i < attempt && ceiling < p.Max; i++ {
		ceiling *= 2
	}
	if p.Max > 0 {
		ceiling = min(ceiling, p.Max)
	}
	return e.jitter(ceiling)
}

// detailsOf picks what an attempt record keeps of a successful outbound
// delivery: its status and latency, not the whole answer (that is in the
// step's outputs).
func detailsOf(uses string, out map[string]any) map[string]any {
	if uses != "http" && uses != "webhook" {
		return nil
	}
	d := map[string]any{}
	for _, k := range []string{"status", "latency_ms", "webhook_id"} {
		if v, ok := out[k]; ok {
			d[k] = v
		}
	}
	return d
}

// record writes u; it reports whether the run goes on.
func (x *execution) record(ctx context.Context, u Update) bool {
	u.At = x.e.clock.Now()
	err := x.e.store.Record(ctx, x.run.ID, x.lease, u)
	switch {
	case err == nil:
		if u.Status.Final() {
			// Dead runs need someone's attention; the rest are counted in
			// the metrics and listed by the API, and a line per run would
			// be most of the log at load.
			level := slog.LevelDebug
			if u.Status == StatusDead {
				level = slog.LevelWarn
			}
			if x.e.log.Enabled(ctx, level) {
				x.log().Log(ctx, level, "run finished", "status", u.Status, "error", u.Error)
			}
			if o := x.e.observer; o != nil {
				o.ObserveRun(x.run.Workflow, u.Status, u.At.Sub(x.run.CreatedAt))
			}
		}
		return true
	case errors.Is(err, ErrCanceled):
		x.log().Info("run canceled")
	case errors.Is(err, ErrLeaseLost):
		x.log().Warn("lease lost: result of this worker discarded")
	default:
		x.log().Error("record run", "err", x.e.redact(err.Error()))
	}
	return false
}

// release hands the run back to the queue, due at once.
func (x *execution) release(ctx context.Context) {
	x.mu.Lock()
	lost := x.lost
	x.mu.Unlock()
	if lost {
		return
	}
	x.record(ctx, Update{Status: StatusQueued})
}
