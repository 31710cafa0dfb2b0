package boltstore_test

import (
	"encoding/json"
	"errors"
	"math"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/hookflow/hookflow/engine"
	"github.com/hookflow/hookflow/engine/boltstore"
)

var t0 = time.Date(2031, 5, 6, 7, 8, 9, 0, time.UTC)

func run(workflow string, sec int) *engine.Run {
	return &engine.Run{Workflow: workflow, CreatedAt: t0.Add(time.Duration(sec) * time.Second)}
}

func claimAt(now time.Time, max int) engine.ClaimRequest {
	return engine.ClaimRequest{Owner: "w", Max: max, LeaseFor: time.Minute, Now: now}
}

func TestMaxQueued(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "hookflow.db")
	s := openAt(t, boltstore.Options{Path: path, MaxQueued: 3})
	ctx := t.Context()
	if _, err := s.Enqueue(ctx, run("w", 0), run("w", 1)); err != nil {
		t.Fatal(err)
	}
	_, err := s.Enqueue(ctx, run("w", 2), run("w", 3))
	if !errors.Is(err, engine.ErrFull) || !strings.Contains(err.Error(), "limit 3") {
		t.Fatalf("Enqueue over the limit: %v, want ErrFull naming the limit", err)
	}
	if runs, _, _ := s.List(ctx, engine.ListFilter{}); len(runs) != 2 {
		t.Errorf("a full Enqueue stored %d runs, want none of it", len(runs)-2)
	}
	// A duplicate takes no room.
	keyed := run("w", 4)
	keyed.DedupeKey, keyed.DedupeUntil = "k", t0.Add(time.Hour)
	if _, err := s.Enqueue(ctx, keyed); err != nil {
		t.Fatal(err)
	}
	if res, err := s.Enqueue(ctx, keyed); err != nil || !res[0].Duplicate {
		t.Fatalf("duplicate at the limit: %v, %v", res, err)
	}
	if _, err := s.Enqueue(ctx, run("w", 5)); !errors.Is(err, engine.ErrFull) {
		t.Fatalf("Enqueue at the limit: %v, want ErrFull", err)
	}
	// Claiming makes room; finished runs leave the queue, and the count
	// survives a reopen (runs still leased at Close would be queued again).
	c, err := s.Claim(ctx, claimAt(t0.Add(time.Hour), 2))
	if err != nil || len(c.Runs) != 2 {
		t.Fatalf("Claim: %v, %v", c, err)
	}
	if got := s.Stats().Queued; got != 1 {
		t.Errorf("Queued = %d, want 1", got)
	}
	for _, r := range c.Runs {
		if err := s.Record(ctx, r.ID, r.Lease, engine.Update{Status: engine.StatusSucceeded, At: t0.Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	s = openAt(t, boltstore.Options{Path: path, MaxQueued: 3})
	defer s.Close()
	if got := s.Stats().Queued; got != 1 {
		t.Errorf("Queued after reopen = %d, want 1", got)
	}
	if _, err := s.Enqueue(ctx, run("w", 6), run("w", 7)); err != nil {
		t.Errorf("Enqueue with room after reopen: %v", err)
	}
}

func TestWake(t *testing.T) {
	t.Parallel()
	s := openAt(t, boltstore.Options{Path: filepath.Join(t.TempDir(), "hookflow.db")})
	defer s.Close()
	ctx := t.Context()
	woken := func() bool {
		select {
		case <-s.Wake():
			return true
		default:
			return false
		}
	}
	if woken() {
		t.Fatal("woken before any write")
	}
	if _, err := s.Enqueue(ctx, run("w", 0)); err != nil {
		t.Fatal(err)
	}
	if !woken() {
		t.Error("no wake after Enqueue")
	}
	c, err := s.Claim(ctx, claimAt(t0, 1))
	if err != nil || len(c.Runs) != 1 {
		t.Fatalf("Claim: %v, %v", c, err)
	}
	if woken() {
		t.Error("woken by a Claim, which makes nothing claimable")
	}
	r := c.Runs[0]
	if err := s.Record(ctx, r.ID, r.Lease, engine.Update{Status: engine.StatusRunning, At: t0}); err != nil {
		t.Fatal(err)
	}
	if woken() {
		t.Error("woken by a running Record")
	}
	if err := s.Record(ctx, r.ID, r.Lease, engine.Update{Status: engine.StatusSucceeded, At: t0}); err != nil {
		t.Fatal(err)
	}
	if !woken() {
		t.Error("no wake after a run finished (a concurrency slot is free)")
	}
}

func TestRescueOfCanceledRunCancelsIt(t *testing.T) {
	t.Parallel()
	s := openAt(t, boltstore.Options{Path: filepath.Join(t.TempDir(), "hookflow.db")})
	defer s.Close()
	ctx := t.Context()
	if _, err := s.Enqueue(ctx, run("w", 0)); err != nil {
		t.Fatal(err)
	}
	c, err := s.Claim(ctx, claimAt(t0, 1))
	if err != nil || len(c.Runs) != 1 {
		t.Fatalf("Claim: %v, %v", c, err)
	}
	id := c.Runs[0].ID
	if err := s.Cancel(ctx, id, t0.Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	if n, err := s.Rescue(ctx, t0.Add(time.Hour)); err != nil || n != 1 {
		t.Fatalf("Rescue = %d, %v; want 1", n, err)
	}
	r, err := s.Get(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != engine.StatusCanceled || !r.FinishedAt.Equal(t0.Add(time.Hour)) {
		t.Errorf("rescued canceled run: status %s finished %s; want canceled at the rescue", r.Status, r.FinishedAt)
	}
	if c, err := s.Claim(ctx, claimAt(t0.Add(2*time.Hour), 1)); err != nil || len(c.Runs) != 0 {
		t.Errorf("a canceled run was claimable after rescue: %v, %v", c.Runs, err)
	}
}

func TestEnqueueLimits(t *testing.T) {
	t.Parallel()
	s := openAt(t, boltstore.Options{Path: filepath.Join(t.TempDir(), "hookflow.db")})
	defer s.Close()
	cases := []struct {
		name string
		run  *engine.Run
		want string
	}{
		{"nul_in_workflow", run("a\x00b", 0), "contains a NUL byte"},
		{"long_workflow", run(strings.Repeat("w", 300), 0), "longer than 256 bytes"},
		{"long_dedupe_key", func() *engine.Run { r := run("w", 0); r.DedupeKey = strings.Repeat("k", 2000); return r }(), "dedupe key is longer than 1024 bytes"},
		{"long_id", func() *engine.Run { r := run("w", 0); r.ID = strings.Repeat("i", 200); return r }(), "id is longer than 128 bytes"},
		{"status", func() *engine.Run { r := run("w", 0); r.Status = engine.StatusDead; return r }(), `enqueue run 2 of 2: status "dead"`},
	}
	for _, tc := range cases {
		_, err := s.Enqueue(t.Context(), run("ok", 0), tc.run)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: Enqueue = %v, want an error containing %q", tc.name, err, tc.want)
		}
	}
	if runs, _, _ := s.List(t.Context(), engine.ListFilter{}); len(runs) != 0 {
		t.Errorf("failed enqueues stored %d runs", len(runs))
	}
}

func TestEnqueueGivenIDs(t *testing.T) {
	t.Parallel()
	s := openAt(t, boltstore.Options{Path: filepath.Join(t.TempDir(), "hookflow.db")})
	defer s.Close()
	r := run("w", 0)
	r.ID = "0190a0a0-0000-7000-8000-0000000000aa"
	res, err := s.Enqueue(t.Context(), r)
	if err != nil || res[0].RunID != r.ID {
		t.Fatalf("Enqueue with an id: %v, %v", res, err)
	}
	if _, err := s.Enqueue(t.Context(), r); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Errorf("Enqueue of an existing id: %v, want an error", err)
	}
	twice := run("w", 1)
	twice.ID = "x"
	if _, err := s.Enqueue(t.Context(), twice, twice); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Errorf("Enqueue of one id twice in a call: %v, want an error", err)
	}
}

func TestIDsAreTimeOrdered(t *testing.T) {
	t.Parallel()
	s := openAt(t, boltstore.Options{Path: filepath.Join(t.TempDir(), "hookflow.db")})
	defer s.Close()
	var prev string
	for i := range 20 {
		res, err := s.Enqueue(t.Context(), run("w", i), run("w", i))
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range res {
			if r.RunID <= prev || len(r.RunID) != 36 || r.RunID[14] != '7' {
				t.Fatalf("id %q after %q: want increasing UUIDv7 strings", r.RunID, prev)
			}
			prev = r.RunID
		}
	}
}

func TestRecordUnencodableOutput(t *testing.T) {
	t.Parallel()
	s := openAt(t, boltstore.Options{Path: filepath.Join(t.TempDir(), "hookflow.db")})
	defer s.Close()
	ctx := t.Context()
	if _, err := s.Enqueue(ctx, run("w", 0)); err != nil {
		t.Fatal(err)
	}
	c, err := s.Claim(ctx, claimAt(t0, 1))
	if err != nil || len(c.Runs) != 1 {
		t.Fatalf("Claim: %v, %v", c, err)
	}
	r := c.Runs[0]
	bad := &engine.StepRecord{ID: "calc", Uses: "set", Status: engine.StepSucceeded, Outputs: map[string]any{"ratio": math.NaN()}}
	err = s.Record(ctx, r.ID, r.Lease, engine.Update{Step: bad, Status: engine.StatusSucceeded, At: t0})
	if err == nil || !strings.Contains(err.Error(), "step calc") {
		t.Fatalf("Record with a NaN output: %v, want an error naming the step", err)
	}
	got, err := s.Get(ctx, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != engine.StatusRunning || len(got.Steps) != 0 {
		t.Errorf("after the failed Record: status %s, %d steps; want running, none", got.Status, len(got.Steps))
	}
}

// TestClaimAfterEnqueueIsTheStoredRun: a claim right after an enqueue is
// served from memory; what it returns must be what is stored, not the
// caller's run (which the caller may change), it carries the body the
// trigger parsed (the engine does not parse it again), and a later claim of
// the same run must see its recorded steps.
func TestClaimAfterEnqueueIsTheStoredRun(t *testing.T) {
	t.Parallel()
	s := openAt(t, boltstore.Options{Path: filepath.Join(t.TempDir(), "hookflow.db")})
	defer s.Close()
	ctx := t.Context()
	in := run("w", 0)
	in.Event.Headers = map[string]string{"x-a": "1"}
	in.Event.Body = []byte(`{"a":1}`)
	in.Event.ContentType = "application/json"
	parsed, err := engine.EventEnv(&in.Event) // as the trigger does for its filter
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Enqueue(ctx, in); err != nil {
		t.Fatal(err)
	}
	in.Event.Headers["x-a"] = "changed by the caller"
	in.Event.Body[0] = 'X'

	c, err := s.Claim(ctx, claimAt(t0, 1))
	if err != nil || len(c.Runs) != 1 {
		t.Fatalf("Claim: %v, %v", c.Runs, err)
	}
	r := c.Runs[0]
	stored, err := s.Get(ctx, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := mustJSON(t, r), mustJSON(t, stored); got != want {
		t.Errorf("claimed run differs from the stored one:\n got  %s\n want %s", got, want)
	}
	if r.Event.Headers["x-a"] != "1" || r.Event.Body[0] == 'X' {
		t.Errorf("claimed run shares the caller's maps or body: %v %q", r.Event.Headers, r.Event.Body)
	}
	env, err := engine.EventEnv(&r.Event)
	if err != nil {
		t.Fatal(err)
	}
	if reflect.ValueOf(env.Body).Pointer() != reflect.ValueOf(parsed.Body).Pointer() {
		t.Errorf("the claimed run's body was parsed again, not handed over parsed")
	}

	step := &engine.StepRecord{ID: "s1", Uses: "log", Status: engine.StepRetrying, Error: "503"}
	if err := s.Record(ctx, r.ID, r.Lease, engine.Update{Step: step, Status: engine.StatusRetrying, DueAt: t0.Add(time.Second), At: t0}); err != nil {
		t.Fatal(err)
	}
	c, err = s.Claim(ctx, claimAt(t0.Add(time.Second), 1))
	if err != nil || len(c.Runs) != 1 {
		t.Fatalf("second Claim: %v, %v", c.Runs, err)
	}
	if again := c.Runs[0]; len(again.Steps) != 1 || again.Claims != 2 || again.Event.Headers["x-a"] != "1" {
		t.Errorf("second claim: %d steps, %d claims, headers %v; want the recorded step, 2 claims, the event", len(again.Steps), again.Claims, again.Event.Headers)
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestEnqueueOwnedDoesNotCopy: EnqueueOwned keeps the caller's maps and
// body (the caller gave them up), where Enqueue copies them; the run is
// stored and claimed the same either way.
func TestEnqueueOwnedDoesNotCopy(t *testing.T) {
	t.Parallel()
	s := openAt(t, boltstore.Options{Path: filepath.Join(t.TempDir(), "hookflow.db")})
	defer s.Close()
	ctx := t.Context()
	var _ engine.OwningEnqueuer = s
	for _, owned := range []bool{true, false} {
		in := run("w", 0)
		in.Event.Headers = map[string]string{"x-a": "1"}
		in.Event.Body = []byte(`{"a":1}`)
		enqueue := s.Enqueue
		if owned {
			enqueue = s.EnqueueOwned
		}
		if _, err := enqueue(ctx, in); err != nil {
			t.Fatal(err)
		}
		c, err := s.Claim(ctx, claimAt(t0, 1))
		if err != nil || len(c.Runs) != 1 {
			t.Fatalf("Claim: %v, %v", c.Runs, err)
		}
		r := c.Runs[0]
		if shared := &r.Event.Body[0] == &in.Event.Body[0]; shared != owned {
			t.Errorf("owned %v: the claimed run shares the caller's body: %v", owned, shared)
		}
		stored, err := s.Get(ctx, r.ID)
		if err != nil {
			t.Fatal(err)
		}
		if string(stored.Event.Body) != `{"a":1}` || stored.Event.Headers["x-a"] != "1" {
			t.Errorf("owned %v: stored event %q %v", owned, stored.Event.Body, stored.Event.Headers)
		}
		if err := s.Record(ctx, r.ID, r.Lease, engine.Update{Status: engine.StatusSucceeded, At: t0}); err != nil {
			t.Fatal(err)
		}
	}
}

// TestPurgeGoesOnWhereItStopped: Purge walks the created index, oldest
// first, and a batch that fills its limit leaves the next one where it
// stopped; a run that became final behind that place meanwhile is still
// found before Purge reports that nothing is left.
func TestPurgeGoesOnWhereItStopped(t *testing.T) {
	t.Parallel()
	s := openAt(t, boltstore.Options{Path: filepath.Join(t.TempDir(), "hookflow.db")})
	defer s.Close()
	ctx := t.Context()
	oldest := run("w", 0)
	oldest.DueAt = t0.Add(30 * time.Minute) // created first, runs last
	runs := []*engine.Run{oldest}
	for i := 1; i <= 5; i++ {
		runs = append(runs, run("w", i))
	}
	res, err := s.Enqueue(ctx, runs...)
	if err != nil {
		t.Fatal(err)
	}
	finishDue := func(now time.Time, want int) {
		t.Helper()
		c, err := s.Claim(ctx, claimAt(now, 10))
		if err != nil || len(c.Runs) != want {
			t.Fatalf("Claim at %s: %d runs, %v; want %d", now, len(c.Runs), err, want)
		}
		for _, r := range c.Runs {
			if err := s.Record(ctx, r.ID, r.Lease, engine.Update{Status: engine.StatusSucceeded, At: now}); err != nil {
				t.Fatal(err)
			}
		}
	}
	finishDue(t0.Add(time.Minute), 5)
	req := engine.PurgeRequest{FinishedBefore: t0.Add(time.Hour), Now: t0, Limit: 2}
	purge := func(want int) {
		t.Helper()
		if n, err := s.Purge(ctx, req); err != nil || n != want {
			t.Fatalf("Purge = %d, %v; want %d", n, err, want)
		}
	}
	purge(2) // runs 1 and 2; the oldest is skipped, not final
	finishDue(t0.Add(31*time.Minute), 1)
	purge(2) // runs 3 and 4, from where the last batch stopped
	purge(2) // run 5, then the oldest, behind the place it started from
	purge(0)
	for i, r := range res {
		if _, err := s.Get(ctx, r.RunID); !errors.Is(err, engine.ErrNotFound) {
			t.Errorf("run %d after the purge: %v, want not found", i, err)
		}
	}
}
