package pgstore_test

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookflow/hookflow/engine"
	"github.com/hookflow/hookflow/engine/pgstore"
)

var update = flag.Bool("update", false, "rewrite golden files")

// TestOptionsErrors pins the messages for bad Options (testdata golden
// file); none needs a database.
func TestOptionsErrors(t *testing.T) {
	cases := []struct {
		name string
		opts pgstore.Options
	}{
		{"no_url", pgstore.Options{}},
		{"long_schema", pgstore.Options{URL: "postgres://127.0.0.1/x", Schema: strings.Repeat("s", 64)}},
		{"nul_schema", pgstore.Options{URL: "postgres://127.0.0.1/x", Schema: "a\x00b"}},
		{"negatives", pgstore.Options{URL: "postgres://127.0.0.1/x", MaxConns: -1, MaxBatch: -2,
			PollInterval: -time.Second, WriteTimeout: -time.Minute}},
		{"bad_url_with_password", pgstore.Options{URL: "postgres://hookflow:hunter2@127.0.0.1:notaport/db"}},
	}
	var got strings.Builder
	for _, tc := range cases {
		s, err := pgstore.Open(t.Context(), tc.opts)
		if err == nil {
			_ = s.Close()
			t.Errorf("%s: Open accepted %+v", tc.name, tc.opts)
			continue
		}
		if strings.Contains(err.Error(), "hunter2") {
			t.Errorf("%s: the error shows the password: %v", tc.name, err)
		}
		fmt.Fprintf(&got, "%s:\n%s\n\n", tc.name, err)
	}
	golden := filepath.Join("testdata", "options.golden")
	if *update {
		if err := os.WriteFile(golden, []byte(got.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if got.String() != string(want) {
		t.Errorf("option errors differ from %s:\n--- got\n%s--- want\n%s", golden, got.String(), want)
	}
}

// TestUnreachable: Open against a port nobody listens on fails with
// ErrUnavailable, quickly.
func TestUnreachable(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	_, err := pgstore.Open(ctx, pgstore.Options{URL: "postgres://postgres:hunter2@127.0.0.1:1/x?sslmode=disable&connect_timeout=5"})
	if !errors.Is(err, pgstore.ErrUnavailable) {
		t.Errorf("Open of an unreachable database: %v, want ErrUnavailable", err)
	}
	if err != nil && strings.Contains(err.Error(), "hunter2") {
		t.Errorf("the error shows the password: %v", err)
	}
}

// TestAwkwardValues stores what PostgreSQL text and jsonb would refuse: NUL
// bytes and invalid UTF-8 in headers, keys, step outputs and errors.
func TestAwkwardValues(t *testing.T) {
	s, _, _ := setup(t)
	ctx := t.Context()
	r := newRun("w", at(0))
	r.Event.Headers = map[string]string{"x-nul": "a\x00b", "x-bad": "\xff\xfe"}
	r.Event.Query = map[string]string{"q": "\x00"}
	r.Event.Body = []byte{0, 0xff, '\\', '"'}
	r.DedupeKey, r.DedupeUntil = "key\x00with nul", at(time.Hour)
	res, err := s.Enqueue(ctx, r)
	if err != nil {
		t.Fatalf("Enqueue: %v", err)
	}
	id := res[0].RunID
	got := get(t, s, id)
	if got.Event.Headers["x-nul"] != "a\x00b" || got.Event.Query["q"] != "\x00" || string(got.Event.Body) != string(r.Event.Body) {
		t.Errorf("event changed: headers %q query %q body %q", got.Event.Headers, got.Event.Query, got.Event.Body)
	}
	// The same key dedupes.
	again := newRun("w", at(time.Second))
	again.DedupeKey, again.DedupeUntil = r.DedupeKey, at(time.Hour)
	if res, err := s.Enqueue(ctx, again); err != nil || !res[0].Duplicate || res[0].RunID != id {
		t.Errorf("same awkward key: %+v, %v; want duplicate of %s", res, err, id)
	}

	c, err := s.Claim(ctx, engine.ClaimRequest{Owner: "w\x00", Max: 1, LeaseFor: time.Minute, Now: at(0)})
	if err != nil || len(c.Runs) != 1 {
		t.Fatalf("Claim: %v, %v", c.Runs, err)
	}
	step := &engine.StepRecord{ID: "fetch", Uses: "http", Status: engine.StepSucceeded,
		Outputs: map[string]any{"body": "nul\x00inside", "bad": "\xff"}}
	if err := s.Record(ctx, id, c.Runs[0].Lease, engine.Update{Step: step, Status: engine.StatusRunning, At: at(time.Second)}); err != nil {
		t.Fatalf("Record with a NUL in the outputs: %v", err)
	}
	step2 := &engine.StepRecord{ID: "next", Uses: "log", Status: engine.StepSucceeded}
	if err := s.Record(ctx, id, c.Runs[0].Lease, engine.Update{Step: step2, Status: engine.StatusDead, Error: "boom\x00\xff", At: at(2 * time.Second)}); err != nil {
		t.Fatalf("Record with a NUL in the error: %v", err)
	}
	got = get(t, s, id)
	if len(got.Steps) != 2 || got.Steps[0].Outputs["body"] != "nul\x00inside" || got.Steps[1].ID != "next" {
		t.Errorf("steps after awkward records: %+v", got.Steps)
	}
	if got.Status != engine.StatusDead || !strings.HasPrefix(got.Error, "boom") {
		t.Errorf("status %s error %q; want dead, boom…", got.Status, got.Error)
	}
}

// TestEnqueueBadRunDoesNotFailOthers: a run the database refuses (an
// explicit id that exists) fails its own call only, although concurrent
// calls share commits.
func TestEnqueueBadRunDoesNotFailOthers(t *testing.T) {
	s, _, _ := setup(t)
	ctx := t.Context()
	res, err := s.Enqueue(ctx, newRun("w", at(0)))
	if err != nil {
		t.Fatal(err)
	}
	taken := res[0].RunID

	var wg sync.WaitGroup
	errs := make([]error, 32)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := newRun("w", at(time.Duration(i)*time.Millisecond))
			if i == 7 {
				r.ID = taken
			}
			_, errs[i] = s.Enqueue(ctx, r)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		switch {
		case i == 7 && err == nil:
			t.Errorf("Enqueue with an id that exists succeeded")
		case i == 7 && errors.Is(err, pgstore.ErrUnavailable):
			t.Errorf("a refused run reads as an outage: %v", err)
		case i != 7 && err != nil:
			t.Errorf("call %d failed with the bad one: %v", i, err)
		}
	}
	runs, _, err := s.List(ctx, engine.ListFilter{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 32 {
		t.Errorf("stored %d runs, want 32 (1 + 31 good)", len(runs))
	}
}

// TestEnqueueContext: a canceled context returns at once and writes
// nothing.
func TestEnqueueContext(t *testing.T) {
	s, _, _ := setup(t)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := s.Enqueue(ctx, newRun("w", at(0)))
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Enqueue with a canceled context: %v, want context.Canceled", err)
	}
	if _, err := s.Enqueue(t.Context(), newRun("w", at(0))); err != nil {
		t.Errorf("Enqueue after a canceled one: %v", err)
	}
	runs, _, err := s.List(t.Context(), engine.ListFilter{})
	if err != nil || len(runs) != 1 {
		t.Errorf("List = %d runs, %v; want only the run of the live context", len(runs), err)
	}
}

type fixedClock time.Time

func (c fixedClock) Now() time.Time { return time.Time(c) }

// TestClock: a run enqueued without CreatedAt is stamped by the injected
// clock, and is due then.
func TestClock(t *testing.T) {
	s, _, _ := setup(t, func(o *pgstore.Options) { o.Clock = fixedClock(at(42 * time.Second)) })
	res, err := s.Enqueue(t.Context(), &engine.Run{Workflow: "w"})
	if err != nil {
		t.Fatal(err)
	}
	got := get(t, s, res[0].RunID)
	for what, tm := range map[string]time.Time{"CreatedAt": got.CreatedAt, "UpdatedAt": got.UpdatedAt, "DueAt": got.DueAt} {
		if !tm.Equal(at(42 * time.Second)) {
			t.Errorf("%s = %s, want the clock's %s", what, tm, at(42*time.Second))
		}
	}
}

// TestCloseWaitsForPending: enqueues in flight when Close starts are
// either committed (and then readable after reopening) or refused with
// ErrClosed; none is lost after success.
func TestCloseWaitsForPending(t *testing.T) {
	s, url, schema := setup(t)
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		acks []string
	)
	for i := range 64 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := s.Enqueue(context.Background(), newRun("w", at(time.Duration(i))))
			switch {
			case err == nil:
				mu.Lock()
				acks = append(acks, res[0].RunID)
				mu.Unlock()
			case !errors.Is(err, engine.ErrClosed):
				t.Errorf("Enqueue during Close: %v, want success or ErrClosed", err)
			}
		}()
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	r := open(t, url, schema)
	defer r.Close()
	for _, id := range acks {
		if _, err := r.Get(t.Context(), id); err != nil {
			t.Errorf("acknowledged run %s: %v", id, err)
		}
	}
}

// TestImport copies runs in every state as they are; dedupe keys come along
// and a second import changes nothing.
func TestImport(t *testing.T) {
	s, _, _ := setup(t)
	ctx := t.Context()
	mk := func(id string, st engine.Status, created time.Duration) *engine.Run {
		r := newRun("w", at(created))
		r.ID, r.Status, r.UpdatedAt, r.DueAt = id, st, at(created+time.Second), at(created)
		return r
	}
	queued := mk("0190a0a0-0000-7000-8000-000000000001", engine.StatusQueued, 0)
	queued.DedupeKey, queued.DedupeUntil = "k1", at(time.Hour)
	running := mk("0190a0a0-0000-7000-8000-000000000002", engine.StatusRunning, time.Second)
	running.Lease = engine.Lease{Owner: "old-node", Token: 7, ExpiresAt: at(time.Minute)}
	running.Claims, running.StartedAt = 2, at(2*time.Second)
	running.Steps = []engine.StepRecord{{ID: "a", Uses: "http", Status: engine.StepSucceeded, Outputs: map[string]any{"n": 1.0}}}
	retrying := mk("0190a0a0-0000-7000-8000-000000000003", engine.StatusRetrying, 2*time.Second)
	retrying.Error, retrying.DueAt = "503", at(time.Hour)
	dead := mk("0190a0a0-0000-7000-8000-000000000004", engine.StatusDead, 3*time.Second)
	dead.FinishedAt, dead.Error, dead.ReplayOf = at(time.Minute), "404", queued.ID
	canceled := mk("0190a0a0-0000-7000-8000-000000000005", engine.StatusCanceled, 4*time.Second)
	canceled.FinishedAt, canceled.CancelRequested = at(time.Minute), true
	in := []*engine.Run{queued, running, retrying, dead, canceled}

	if n, err := s.Import(ctx, in); err != nil || n != len(in) {
		t.Fatalf("Import = %d, %v; want %d inserted", n, err, len(in))
	}
	if n, err := s.Import(ctx, in); err != nil || n != 0 {
		t.Fatalf("second Import = %d, %v; want 0 inserted", n, err)
	}
	for _, want := range in {
		if got := jsonOf(t, get(t, s, want.ID)); got != jsonOf(t, want) {
			t.Errorf("imported run differs:\n got  %s\n want %s", got, jsonOf(t, want))
		}
	}
	dup := newRun("w", at(time.Minute))
	dup.DedupeKey, dup.DedupeUntil = "k1", at(2*time.Hour)
	if res, err := s.Enqueue(ctx, dup); err != nil || !res[0].Duplicate || res[0].RunID != queued.ID {
		t.Errorf("imported key: %+v, %v; want duplicate of %s", res, err, queued.ID)
	}
	// The imported lease still fences, and expires like any other.
	if err := s.Renew(ctx, running.ID, engine.Lease{Token: 6}, at(time.Hour)); !errors.Is(err, engine.ErrLeaseLost) {
		t.Errorf("Renew with an old token: %v, want ErrLeaseLost", err)
	}
	if n, err := s.Rescue(ctx, at(2*time.Minute)); err != nil || n != 1 {
		t.Errorf("Rescue of the imported lease = %d, %v; want 1", n, err)
	}

	bad := []struct {
		name string
		runs []*engine.Run
	}{
		{"nil", []*engine.Run{nil}},
		{"no_id", []*engine.Run{mk("", engine.StatusQueued, 0)}},
		{"no_workflow", []*engine.Run{{ID: "x", Status: engine.StatusQueued}}},
		{"bad_status", []*engine.Run{mk("y", "paused", 0)}},
	}
	for _, b := range bad {
		if _, err := s.Import(ctx, b.runs); err == nil {
			t.Errorf("%s: Import accepted it", b.name)
		}
	}
}
