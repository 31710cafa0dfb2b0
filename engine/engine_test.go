package engine_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/hookflow/hookflow/actions"
	"github.com/hookflow/hookflow/engine"
	"github.com/hookflow/hookflow/engine/boltstore"
	"github.com/hookflow/hookflow/workflows"
)

const apiToken = "tok-canary-7f3a9d"

// testAction is an action whose behaviour each test scripts.
type testAction struct {
	mu    sync.Mutex
	calls []actions.Request
	fn    func(ctx context.Context, n int, req actions.Request) (map[string]any, error)
}

func (a *testAction) Execute(ctx context.Context, req actions.Request) (map[string]any, error) {
	a.mu.Lock()
	a.calls = append(a.calls, req)
	n := len(a.calls)
	a.mu.Unlock()
	if a.fn == nil {
		return map[string]any{"ok": true}, nil
	}
	return a.fn(ctx, n, req)
}

func (a *testAction) Calls() []actions.Request {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]actions.Request(nil), a.calls...)
}

type fixture struct {
	store   *boltstore.Store
	set     *workflows.Set
	reg     *actions.Registry
	actions map[string]*testAction
	typed   *typedAction
	eng     *engine.Engine
	opts    engine.Options
}

// setup builds a store on a real bbolt file, the test workflows and a
// registry with the built-ins plus scripted test.* actions.
func setup(t *testing.T, scripts map[string]func(ctx context.Context, n int, req actions.Request) (map[string]any, error)) *fixture {
	t.Helper()
	f := &fixture{reg: actions.NewRegistry(), actions: map[string]*testAction{}}
	if err := actions.RegisterBuiltins(f.reg, actions.NetOptions{AllowPrivate: true}); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"record", "flaky", "permanent", "block", "hang"} {
		a := &testAction{fn: scripts[name]}
		f.actions[name] = a
		if err := f.reg.Register("test."+name, a); err != nil {
			t.Fatal(err)
		}
	}
	f.typed = &typedAction{}
	if err := f.reg.Register("test.typed", f.typed); err != nil {
		t.Fatal(err)
	}
	set, err := workflows.Load(workflows.Options{Actions: f.reg}, "testdata")
	if err != nil {
		t.Fatalf("load testdata workflows: %v", err)
	}
	f.set = set
	store, err := boltstore.Open(context.Background(), boltstore.Options{Path: t.TempDir() + "/runs.db"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	f.store = store
	f.opts = engine.Options{
		Store:        store,
		Workflows:    set,
		Actions:      f.reg,
		Secrets:      map[string]string{"API_TOKEN": apiToken, "PARTNER_SECRET": partnerSecret},
		Workers:      4,
		PollInterval: 20 * time.Millisecond,
		LeaseFor:     2 * time.Second,
		Grace:        2 * time.Second,
		// The highest delay full jitter can pick: deterministic back-off.
		Jitter: func(ceiling time.Duration) time.Duration { return ceiling },
	}
	return f
}

// start runs the engine until the test ends.
func (f *fixture) start(t *testing.T) (stop func()) {
	t.Helper()
	eng, err := engine.New(f.opts)
	if err != nil {
		t.Fatal(err)
	}
	f.eng = eng
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); eng.Run(ctx) }()
	var once sync.Once
	stop = func() { once.Do(func() { cancel(); <-done }) }
	t.Cleanup(stop)
	return stop
}

func (f *fixture) enqueue(t *testing.T, workflow string, body string) string {
	t.Helper()
	now := time.Now()
	id, _ := uuid.NewV7()
	run := &engine.Run{
		ID: id.String(), Workflow: workflow, Status: engine.StatusQueued, CreatedAt: now, UpdatedAt: now, DueAt: now,
		Event: engine.Event{ID: id.String(), Method: "POST", Path: workflow, ContentType: "application/json",
			Body: []byte(body), ReceivedAt: now},
	}
	if _, err := f.store.Enqueue(context.Background(), run); err != nil {
		t.Fatal(err)
	}
	if f.eng != nil {
		f.eng.Wake()
	}
	return run.ID
}

// waitStatus polls the store until the run reaches a final status.
func (f *fixture) waitFinal(t *testing.T, id string) *engine.Run {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		r, err := f.store.Get(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if r.Status.Final() {
			return r
		}
		time.Sleep(10 * time.Millisecond)
	}
	r, _ := f.store.Get(context.Background(), id)
	t.Fatalf("run %s not finished in time; status %s, steps %+v", id, r.Status, r.Steps)
	return nil
}

func TestStepsRunInOrderWithOutputsAndSkips(t *testing.T) {
	t.Parallel()
	f := setup(t, nil)
	f.start(t)
	id := f.enqueue(t, "steps", `{"customer":"cus_1","amount":21}`)
	r := f.waitFinal(t, id)
	if r.Status != engine.StatusSucceeded {
		t.Fatalf("status %s, error %q", r.Status, r.Error)
	}
	calls := f.actions["record"].Calls()
	if len(calls) != 1 {
		t.Fatalf("test.record called %d times, want 1 (the third step is skipped)", len(calls))
	}
	in := calls[0].Input
	if in["customer"] != "cus_1" || in["doubled"] != 42 && in["doubled"] != 42.0 {
		t.Errorf("second step input = %v, want customer cus_1 and doubled 42", in)
	}
	if in["token"] != apiToken {
		t.Errorf("secret not rendered into the input: %v", in["token"])
	}
	if calls[0].IdempotencyKey != id+"/second" || calls[0].Attempt != 1 || calls[0].RunID != id {
		t.Errorf("request identity = %+v", calls[0])
	}
	var got []string
	for _, s := range r.Steps {
		got = append(got, s.ID+":"+string(s.Status))
	}
	if want := "first:succeeded second:succeeded skipped:skipped"; strings.Join(got, " ") != want {
		t.Errorf("steps = %v, want %s", got, want)
	}
	if r.StartedAt.IsZero() || r.FinishedAt.IsZero() {
		t.Errorf("started %v finished %v: both must be set", r.StartedAt, r.FinishedAt)
	}
}

func TestRetryableFailureIsRetriedWithGrowingBackoff(t *testing.T) {
	t.Parallel()
	f := setup(t, map[string]func(context.Context, int, actions.Request) (map[string]any, error){
		"flaky": func(_ context.Context, n int, _ actions.Request) (map[string]any, error) {
			if n < 3 {
				return nil, fmt.Errorf("upstream said 503 (call %d)", n)
			}
			return map[string]any{"done": n}, nil
		},
	})
	f.start(t)
	id := f.enqueue(t, "flaky", `{}`)
	r := f.waitFinal(t, id)
	if r.Status != engine.StatusSucceeded {
		t.Fatalf("status %s: %s", r.Status, r.Error)
	}
	att := r.Steps[0].Attempts
	if len(att) != 3 {
		t.Fatalf("%d attempts recorded, want 3: %+v", len(att), att)
	}
	for i, a := range att[:2] {
		if a.Outcome != "retryable" || !strings.Contains(a.Error, "503") {
			t.Errorf("attempt %d = %+v, want a retryable failure", i+1, a)
		}
	}
	// Jitter returns its ceiling here: 40ms after the first failure, 80ms
	// after the second.
	gap1 := att[1].StartedAt.Sub(att[0].StartedAt)
	gap2 := att[2].StartedAt.Sub(att[1].StartedAt)
	if gap1 < 40*time.Millisecond || gap2 < 80*time.Millisecond {
		t.Errorf("gaps between attempts %v, %v: want at least 40ms then 80ms", gap1, gap2)
	}
	keys := map[string]bool{}
	for _, c := range f.actions["flaky"].Calls() {
		keys[c.IdempotencyKey] = true
	}
	if len(keys) != 1 {
		t.Errorf("idempotency key changed across attempts: %v", keys)
	}
}

func TestExhaustedRetriesMakeTheRunDead(t *testing.T) {
	t.Parallel()
	f := setup(t, map[string]func(context.Context, int, actions.Request) (map[string]any, error){
		"flaky": func(_ context.Context, n int, _ actions.Request) (map[string]any, error) {
			return nil, fmt.Errorf("still down (call %d)", n)
		},
	})
	f.start(t)
	r := f.waitFinal(t, f.enqueue(t, "flaky", `{}`))
	if r.Status != engine.StatusDead {
		t.Fatalf("status %s, want dead", r.Status)
	}
	if !strings.Contains(r.Error, "still down (call 3)") || !strings.Contains(r.Error, "3 attempts") {
		t.Errorf("run error %q should carry the last error and the attempt count", r.Error)
	}
	if n := len(f.actions["flaky"].Calls()); n != 3 {
		t.Errorf("%d calls, want 3", n)
	}
}

func TestPermanentErrorIsNotRetried(t *testing.T) {
	t.Parallel()
	f := setup(t, map[string]func(context.Context, int, actions.Request) (map[string]any, error){
		"permanent": func(context.Context, int, actions.Request) (map[string]any, error) {
			return nil, actions.Permanent(errors.New("account does not exist"))
		},
	})
	f.start(t)
	r := f.waitFinal(t, f.enqueue(t, "permanent", `{}`))
	if r.Status != engine.StatusDead || len(r.Steps[0].Attempts) != 1 {
		t.Fatalf("status %s after %d attempts, want dead after 1", r.Status, len(r.Steps[0].Attempts))
	}
	if r.Steps[0].Attempts[0].Outcome != "permanent" {
		t.Errorf("outcome %q, want permanent", r.Steps[0].Attempts[0].Outcome)
	}
	if len(f.actions["record"].Calls()) != 0 {
		t.Error("the step after a dead one ran")
	}
}

func TestResumedRunStartsAtFirstUnfinishedStep(t *testing.T) {
	t.Parallel()
	f := setup(t, nil)
	now := time.Now()
	id, _ := uuid.NewV7()
	run := &engine.Run{
		ID: id.String(), Workflow: "permanent", Status: engine.StatusQueued, CreatedAt: now, UpdatedAt: now, DueAt: now,
		Event: engine.Event{ID: id.String(), Method: "POST", ReceivedAt: now},
		// The first step finished before a crash.
		Steps: []engine.StepRecord{{ID: "call", Uses: "test.permanent", Status: engine.StepSucceeded,
			Outputs: map[string]any{"from": "before"}}},
	}
	if _, err := f.store.Enqueue(context.Background(), run); err != nil {
		t.Fatal(err)
	}
	f.start(t)
	r := f.waitFinal(t, run.ID)
	if r.Status != engine.StatusSucceeded {
		t.Fatalf("status %s: %s", r.Status, r.Error)
	}
	if n := len(f.actions["permanent"].Calls()); n != 0 {
		t.Errorf("finished step ran again (%d calls)", n)
	}
	if n := len(f.actions["record"].Calls()); n != 1 {
		t.Errorf("unfinished step ran %d times, want 1", n)
	}
}

func TestStepTimeoutIsRetryableAndRecorded(t *testing.T) {
	t.Parallel()
	f := setup(t, map[string]func(context.Context, int, actions.Request) (map[string]any, error){
		"hang": func(ctx context.Context, _ int, _ actions.Request) (map[string]any, error) {
			<-ctx.Done()
			return nil, ctx.Err()
		},
	})
	f.start(t)
	r := f.waitFinal(t, f.enqueue(t, "timeout", `{}`))
	if r.Status != engine.StatusDead || len(r.Steps[0].Attempts) != 2 {
		t.Fatalf("status %s after %d attempts, want dead after 2", r.Status, len(r.Steps[0].Attempts))
	}
	if !strings.Contains(r.Steps[0].Attempts[0].Error, "timed out after 50ms") {
		t.Errorf("attempt error %q should say the step timed out", r.Steps[0].Attempts[0].Error)
	}
}

// TestLeaseIsRenewedWhileAnActionOverruns: an action that ignores its
// step's timeout keeps running past the lease the claim took; the engine
// renews the lease meanwhile, so the run is not rescued and handed to a
// second worker while the first still executes it.
func TestLeaseIsRenewedWhileAnActionOverruns(t *testing.T) {
	t.Parallel()
	var running, overlaps atomic.Int32
	f := setup(t, map[string]func(context.Context, int, actions.Request) (map[string]any, error){
		"hang": func(context.Context, int, actions.Request) (map[string]any, error) {
			if running.Add(1) > 1 {
				overlaps.Add(1)
			}
			defer running.Add(-1)
			time.Sleep(time.Second) // ignores its context: 20 leases of the claim's length
			return map[string]any{"done": true}, nil
		},
	})
	set, err := workflows.Load(workflows.Options{Actions: f.reg}, "testdata/lease")
	if err != nil {
		t.Fatal(err)
	}
	f.set, f.opts.Workflows = set, set
	f.opts.LeaseFor = 30 * time.Millisecond // the claim's lease: 80ms with the step's timeout
	f.opts.RescueInterval = 10 * time.Millisecond
	f.start(t)
	r := f.waitFinal(t, f.enqueue(t, "overrun", `{}`))
	if n := len(f.actions["hang"].Calls()); n != 1 || overlaps.Load() != 0 {
		t.Fatalf("the action ran %d times, %d of them while another ran: the lease lapsed", n, overlaps.Load())
	}
	if r.Claims != 1 {
		t.Errorf("run claimed %d times, want 1", r.Claims)
	}
}

// TestRunStoppedBeforeItBegins: an engine whose context ends before its
// first rescue returns nil, as any shutdown does, not the rescue's error.
func TestRunStoppedBeforeItBegins(t *testing.T) {
	t.Parallel()
	f := setup(t, nil)
	eng, err := engine.New(f.opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := eng.Run(ctx); err != nil {
		t.Errorf("Run with its context already canceled: %v, want nil", err)
	}
}

// jumpClock is the real time plus an offset a test moves.
type jumpClock struct{ offset atomic.Int64 }

func (c *jumpClock) Now() time.Time { return time.Now().Add(time.Duration(c.offset.Load())) }

// TestLostLeaseAbandonsTheRun: a lease lost while a step runs (here a
// rescue a minute ahead takes the run back while its action overruns) is
// noticed by the next renewal, which abandons the run: its step is not
// recorded, and a later claim runs it to the end.
func TestLostLeaseAbandonsTheRun(t *testing.T) {
	t.Parallel()
	clock := &jumpClock{}
	started := make(chan struct{}, 1)
	f := setup(t, map[string]func(context.Context, int, actions.Request) (map[string]any, error){
		"hang": func(_ context.Context, n int, _ actions.Request) (map[string]any, error) {
			if n > 1 {
				return map[string]any{"attempt": n}, nil
			}
			started <- struct{}{}
			time.Sleep(500 * time.Millisecond) // ignores its 50ms timeout: the renewals go on
			return map[string]any{"attempt": n}, nil
		},
	})
	set, err := workflows.Load(workflows.Options{Actions: f.reg}, "testdata/lease")
	if err != nil {
		t.Fatal(err)
	}
	f.set, f.opts.Workflows = set, set
	f.opts.Clock = clock
	f.opts.LeaseFor = 30 * time.Millisecond
	var logs bytes.Buffer
	var mu sync.Mutex
	f.opts.Logger = slog.New(slog.NewJSONHandler(lockedWriter{&mu, &logs}, &slog.HandlerOptions{Level: slog.LevelInfo}))
	f.start(t)
	id := f.enqueue(t, "overrun", `{}`)
	<-started
	time.Sleep(100 * time.Millisecond) // past the step's timeout: renewals now reach the store
	if n, err := f.store.Rescue(t.Context(), time.Now().Add(time.Minute)); err != nil || n != 1 {
		t.Fatalf("Rescue: %d runs, %v", n, err)
	}
	time.Sleep(600 * time.Millisecond)                   // the first call returns, abandoned
	clock.offset.Store(int64(time.Minute + time.Second)) // the run is due again
	f.eng.Wake()
	r := f.waitFinal(t, id)
	if r.Status != engine.StatusSucceeded || r.Claims != 2 || len(f.actions["hang"].Calls()) != 2 {
		t.Fatalf("status %s (%s) after %d claims and %d calls, want succeeded after 2 and 2; steps %+v", r.Status, r.Error, r.Claims, len(f.actions["hang"].Calls()), r.Steps)
	}
	if a := r.Steps[0].Attempts; len(a) != 1 || a[0].Number != 1 || a[0].Outcome != "ok" {
		t.Errorf("attempts %+v: want only the second claim's (the abandoned one is not recorded)", a)
	}
	mu.Lock()
	out := logs.String()
	mu.Unlock()
	if !strings.Contains(out, "lease lost: abandoning run") {
		t.Errorf("no renewal noticed the lost lease; logs:\n%s", out)
	}
}

func TestSecretsAreRedactedFromErrorsAndOutputs(t *testing.T) {
	t.Parallel()
	f := setup(t, map[string]func(context.Context, int, actions.Request) (map[string]any, error){
		"record": func(_ context.Context, _ int, req actions.Request) (map[string]any, error) {
			return map[string]any{"echo": "got " + req.Input["token"].(string)}, nil
		},
	})
	f.start(t)
	r := f.waitFinal(t, f.enqueue(t, "steps", `{"customer":"c","amount":1}`))
	b, _ := json.Marshal(r)
	if strings.Contains(string(b), apiToken) {
		t.Fatalf("the secret reached the run record: %s", b)
	}
	if got := r.Steps[1].Outputs["echo"]; got != "got "+engine.Redacted {
		t.Errorf("output = %v, want the secret redacted", got)
	}
}

func TestConcurrencyLimitAndGracefulShutdownHandBack(t *testing.T) {
	t.Parallel()
	var running, peak atomic.Int32
	release := make(chan struct{})
	f := setup(t, map[string]func(context.Context, int, actions.Request) (map[string]any, error){
		"block": func(ctx context.Context, _ int, _ actions.Request) (map[string]any, error) {
			n := running.Add(1)
			defer running.Add(-1)
			for {
				p := peak.Load()
				if n <= p || peak.CompareAndSwap(p, n) {
					break
				}
			}
			select {
			case <-release:
				return map[string]any{}, nil
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		},
	})
	f.opts.Grace = 50 * time.Millisecond
	stop := f.start(t)
	a := f.enqueue(t, "slow", `{}`)
	b := f.enqueue(t, "slow", `{}`)
	waitFor(t, func() bool { return running.Load() == 1 })

	// Shut down while one run blocks past the grace period: it is handed
	// back to the queue, not failed.
	stop()
	for _, id := range []string{a, b} {
		r, err := f.store.Get(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if r.Status != engine.StatusQueued {
			t.Errorf("after shutdown run %s is %s, want queued", id, r.Status)
		}
		for _, s := range r.Steps {
			if len(s.Attempts) > 0 {
				t.Errorf("an attempt cut short by shutdown was recorded: %+v", s.Attempts)
			}
		}
	}

	// A new engine finishes both, one at a time (concurrency: 1).
	close(release)
	f.start(t)
	for _, id := range []string{a, b} {
		if r := f.waitFinal(t, id); r.Status != engine.StatusSucceeded {
			t.Errorf("run %s: %s %s", id, r.Status, r.Error)
		}
	}
	if p := peak.Load(); p != 1 {
		t.Errorf("peak concurrent runs of a concurrency-1 workflow = %d", p)
	}
}

const partnerSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

// TestWebhookDeliveredOnThirdAttempt: a receiver answers 500 twice, then
// 200. The delivery keeps its webhook-id, waits longer each time, and the
// receiver checks the Standard Webhooks signature with its own code.
func TestWebhookDeliveredOnThirdAttempt(t *testing.T) {
	t.Parallel()
	key, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(partnerSecret, "whsec_"))
	type hit struct {
		id    string
		at    time.Time
		valid bool
		body  string
	}
	var mu sync.Mutex
	var hits []hit
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		id, ts := r.Header.Get("webhook-id"), r.Header.Get("webhook-timestamp")
		mac := hmac.New(sha256.New, key)
		fmt.Fprintf(mac, "%s.%s.%s", id, ts, body)
		want := "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
		valid := false
		for _, s := range strings.Fields(r.Header.Get("webhook-signature")) {
			valid = valid || hmac.Equal([]byte(s), []byte(want))
		}
		mu.Lock()
		hits = append(hits, hit{id: id, at: time.Now(), valid: valid, body: string(body)})
		n := len(hits)
		mu.Unlock()
		if n <= 2 {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(recv.Close)

	f := setup(t, nil)
	f.start(t)
	r := f.waitFinal(t, f.enqueue(t, "deliver", fmt.Sprintf(`{"receiver":%q,"order":"ord_7"}`, recv.URL)))
	if r.Status != engine.StatusSucceeded {
		t.Fatalf("status %s: %s", r.Status, r.Error)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(hits) != 3 {
		t.Fatalf("%d deliveries, want 3", len(hits))
	}
	for i, h := range hits {
		if !h.valid {
			t.Errorf("delivery %d: signature did not verify", i+1)
		}
		if h.id == "" || h.id != hits[0].id {
			t.Errorf("delivery %d: webhook-id %q, want the same id on every attempt (%q)", i+1, h.id, hits[0].id)
		}
		if !strings.Contains(h.body, `"ord_7"`) {
			t.Errorf("delivery %d body %s lacks the payload", i+1, h.body)
		}
	}
	gap1, gap2 := hits[1].at.Sub(hits[0].at), hits[2].at.Sub(hits[1].at)
	if gap1 < 100*time.Millisecond || gap2 < 200*time.Millisecond || gap2 <= gap1 {
		t.Errorf("gaps %v then %v: want growing delays of at least 100ms and 200ms", gap1, gap2)
	}
	att := r.Steps[0].Attempts
	if len(att) != 3 || att[0].Details["status"] == nil {
		t.Errorf("every attempt must be recorded with its delivery details: %+v", att)
	}
}

func TestWebhookToLoopbackRefusedUnlessAllowed(t *testing.T) {
	t.Parallel()
	var hits atomic.Int32
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { hits.Add(1) }))
	t.Cleanup(recv.Close)

	f := setup(t, nil)
	// A registry like the daemon's default: private targets refused.
	reg := actions.NewRegistry()
	if err := actions.RegisterBuiltins(reg, actions.NetOptions{}); err != nil {
		t.Fatal(err)
	}
	f.opts.Actions = reg
	f.start(t)
	r := f.waitFinal(t, f.enqueue(t, "deliver", fmt.Sprintf(`{"receiver":%q,"order":"o"}`, recv.URL)))
	if r.Status != engine.StatusDead {
		t.Fatalf("status %s, want dead", r.Status)
	}
	if !strings.Contains(r.Error, "loopback") || !strings.Contains(r.Error, "allow-private-targets") {
		t.Errorf("error %q should say the target is loopback and how to allow it", r.Error)
	}
	if hits.Load() != 0 {
		t.Error("the refused target was reached")
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in time")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestFinishedRunsLogLevels: a dead run is logged at warn; a run that
// succeeded is not logged at the usual levels (it is in the metrics and the
// API; a line per run would be most of the log under load).
func TestFinishedRunsLogLevels(t *testing.T) {
	t.Parallel()
	f := setup(t, map[string]func(context.Context, int, actions.Request) (map[string]any, error){
		"record": func(context.Context, int, actions.Request) (map[string]any, error) {
			return map[string]any{"ok": true}, nil
		},
		"permanent": func(context.Context, int, actions.Request) (map[string]any, error) {
			return nil, actions.Permanent(errors.New("account does not exist"))
		},
	})
	var logs bytes.Buffer
	var mu sync.Mutex
	f.opts.Logger = slog.New(slog.NewJSONHandler(lockedWriter{&mu, &logs}, &slog.HandlerOptions{Level: slog.LevelInfo}))
	f.start(t)
	dead := f.waitFinal(t, f.enqueue(t, "permanent", `{}`))
	ok := f.waitFinal(t, f.enqueue(t, "steps", `{"customer":"cus_1","amount":21}`))
	if dead.Status != engine.StatusDead || ok.Status != engine.StatusSucceeded {
		t.Fatalf("statuses %s and %s, want dead and succeeded", dead.Status, ok.Status)
	}
	mu.Lock()
	out := logs.String()
	mu.Unlock()
	finished := map[string]string{} // run id → level of its "run finished" line
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var rec struct {
			Level string `json:"level"`
			Msg   string `json:"msg"`
			RunID string `json:"run_id"`
		}
		if json.Unmarshal([]byte(line), &rec) == nil && rec.Msg == "run finished" {
			finished[rec.RunID] = rec.Level
		}
	}
	if finished[dead.ID] != "WARN" {
		t.Errorf("dead run logged %q, want a WARN line:\n%s", finished[dead.ID], out)
	}
	if lv, logged := finished[ok.ID]; logged {
		t.Errorf("succeeded run logged at %s, want nothing at info", lv)
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
