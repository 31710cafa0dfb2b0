package boltstore

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/hookflow/hookflow/engine"
)

var t0 = time.Date(2031, 5, 6, 7, 8, 9, 0, time.UTC)

// bundle is a store with a gate that holds the commit loop inside one op,
// so that the test decides exactly which ops form the next batch.
type bundle struct {
	t       *testing.T
	s       *Store
	release chan struct{}
	gateErr chan error
}

func setup(t *testing.T, opts Options) *bundle {
	t.Helper()
	if opts.Path == "" {
		opts.Path = filepath.Join(t.TempDir(), "hookflow.db")
	}
	s, err := Open(t.Context(), opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil && !errors.Is(err, engine.ErrClosed) {
			t.Errorf("Close: %v", err)
		}
	})
	return &bundle{t: t, s: s}
}

// hold submits an op that blocks the commit loop until letGo, and returns
// once the loop is inside it.
func (b *bundle) hold() {
	b.t.Helper()
	b.release = make(chan struct{})
	b.gateErr = make(chan error, 1)
	inside := make(chan struct{})
	release := b.release
	go func() {
		b.gateErr <- b.s.do(context.Background(), func(w *writeTx) error {
			close(inside)
			<-release
			w.dirty = true // commit, as a write would
			return nil
		})
	}()
	select {
	case <-inside:
	case <-time.After(10 * time.Second):
		b.t.Fatal("the commit loop never took the gate op")
	}
}

// letGo releases the gate and waits for its commit.
func (b *bundle) letGo() {
	b.t.Helper()
	close(b.release)
	if err := <-b.gateErr; err != nil {
		b.t.Fatalf("gate op: %v", err)
	}
}

// waitPending polls until n ops wait for the loop.
func (b *bundle) waitPending(n int) {
	b.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		b.s.mu.Lock()
		got := len(b.s.pending)
		b.s.mu.Unlock()
		if got == n {
			return
		}
		if time.Now().After(deadline) {
			b.t.Fatalf("%d ops pending, want %d", got, n)
		}
		time.Sleep(time.Millisecond) // polling with a deadline, not a wait for time to pass
	}
}

func newRun(workflow string, sec int) *engine.Run {
	return &engine.Run{Workflow: workflow, CreatedAt: t0.Add(time.Duration(sec) * time.Second),
		Event: engine.Event{ID: fmt.Sprint(sec), Method: "POST", Path: "/hooks/" + workflow, Body: []byte(`{}`)}}
}

func TestGroupCommitBatchesConcurrentEnqueues(t *testing.T) {
	t.Parallel()
	b := setup(t, Options{})
	const senders = 64
	b.hold()
	before := b.s.Stats()
	var wg sync.WaitGroup
	errs := make(chan error, senders)
	for i := range senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := b.s.Enqueue(t.Context(), newRun("w", i))
			errs <- err
		}()
	}
	b.waitPending(senders)
	b.letGo()
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("Enqueue: %v", err)
		}
	}
	got := b.s.Stats()
	// The gate's commit, then one commit for all 64 enqueues.
	if commits := got.Commits - before.Commits; commits != 2 {
		t.Errorf("%d enqueues took %d commits, want 2 (the gate's and one batch)", senders, commits)
	}
	if ops := got.Ops - before.Ops; ops != senders+1 {
		t.Errorf("ops = %d, want %d", ops, senders+1)
	}
	if got.Queued != senders {
		t.Errorf("Queued = %d, want %d", got.Queued, senders)
	}
}

// Stats describe the commits: how many, what they carried, how many writes
// they made to the file and how long the loop spent in them. A claim that
// writes nothing is not a commit.
func TestStatsDescribeTheCommits(t *testing.T) {
	t.Parallel()
	b := setup(t, Options{})
	before := b.s.Stats()
	b.hold()
	heldFrom := time.Now()
	var wg sync.WaitGroup
	for i := range 3 {
		wg.Go(func() {
			if _, err := b.s.Enqueue(t.Context(), newRun("w", i)); err != nil {
				t.Errorf("Enqueue: %v", err)
			}
		})
	}
	b.waitPending(3)
	held := time.Since(heldFrom)
	b.letGo()
	wg.Wait()
	c, err := b.s.Claim(t.Context(), engine.ClaimRequest{Max: 1, LeaseFor: time.Minute, Now: t0.Add(time.Hour)})
	if err != nil || len(c.Runs) != 1 {
		t.Fatalf("Claim: %v, %d runs", err, len(c.Runs))
	}
	got := b.s.Stats()
	commits, ops, enqueues, pages := got.Commits-before.Commits, got.Ops-before.Ops, got.Enqueues-before.Enqueues, got.PageWrites-before.PageWrites
	if commits != 2 || ops != 4 || enqueues != 3 {
		t.Errorf("commits %d, ops %d, enqueues %d; want 2 (the gate's and the batch's), 4 (the gate and three enqueues), 3", commits, ops, enqueues)
	}
	// Each commit writes its meta page; the batch also wrote its runs.
	if pages <= commits {
		t.Errorf("%d page writes for %d commits, want more than one each", pages, commits)
	}
	// The gate's transaction lasted at least as long as the loop was held.
	if busy := got.Busy - before.Busy; busy < held {
		t.Errorf("busy %s, but the loop was held in a transaction for %s", busy, held)
	}
}

func TestGroupCommitWithoutGateStillBatches(t *testing.T) {
	t.Parallel()
	b := setup(t, Options{})
	const senders = 64
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			if _, err := b.s.Enqueue(t.Context(), newRun("w", i)); err != nil {
				t.Errorf("Enqueue: %v", err)
			}
		}()
	}
	close(start)
	wg.Wait()
	// Without group commit every enqueue would commit alone; how much they
	// share depends on scheduling, so only "some" is asserted here (the
	// gated test above pins the exact batching).
	if c := b.s.Stats().Commits; c >= senders {
		t.Errorf("%d concurrent enqueues took %d commits, want fewer", senders, c)
	}
}

func TestGroupCommitMaxBatch(t *testing.T) {
	t.Parallel()
	b := setup(t, Options{MaxBatch: 4})
	b.hold()
	var wg sync.WaitGroup
	for i := range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := b.s.Enqueue(t.Context(), newRun("w", i)); err != nil {
				t.Errorf("Enqueue: %v", err)
			}
		}()
	}
	b.waitPending(10)
	before := b.s.Stats().Commits
	b.letGo()
	wg.Wait()
	// The gate's commit, then batches of 4, 4 and 2.
	if c := b.s.Stats().Commits - before; c != 4 {
		t.Errorf("10 ops with MaxBatch 4 took %d commits after the gate, want 4", c)
	}
}

// TestFailingOpDoesNotFailBatch puts good and failing ops into one batch.
func TestFailingOpDoesNotFailBatch(t *testing.T) {
	t.Parallel()
	b := setup(t, Options{MaxQueued: 3})
	ctx := t.Context()
	res, err := b.s.Enqueue(ctx, newRun("w", 0))
	if err != nil {
		t.Fatal(err)
	}
	claimed, err := b.s.Claim(ctx, engine.ClaimRequest{Owner: "x", Max: 1, LeaseFor: time.Minute, Now: t0.Add(time.Minute)})
	if err != nil || len(claimed.Runs) != 1 {
		t.Fatalf("Claim = %v, %v", claimed, err)
	}
	stale := claimed.Runs[0].Lease
	stale.Token--
	dupID := newRun("w", 1)
	dupID.ID = res[0].RunID

	b.hold()
	type result struct {
		name string
		err  error
	}
	results := make(chan result, 8)
	calls := map[string]func() error{
		"good enqueue 1": func() error { _, err := b.s.Enqueue(ctx, newRun("w", 2)); return err },
		"stale record": func() error {
			return b.s.Record(ctx, res[0].RunID, stale, engine.Update{Status: engine.StatusSucceeded, At: t0.Add(time.Hour)})
		},
		"existing id": func() error { _, err := b.s.Enqueue(ctx, newRun("w", 3), dupID); return err },
		"over MaxQueued": func() error {
			_, err := b.s.Enqueue(ctx, newRun("v", 4), newRun("v", 5), newRun("v", 6), newRun("v", 7))
			return err
		},
		"cancel unknown": func() error { return b.s.Cancel(ctx, "nope", t0) },
		"good enqueue 2": func() error { _, err := b.s.Enqueue(ctx, newRun("w", 7)); return err },
		"good renew":     func() error { return b.s.Renew(ctx, res[0].RunID, claimed.Runs[0].Lease, t0.Add(time.Hour)) },
		"partial write":  func() error { return b.s.do(ctx, halfWrite) },
	}
	for name, call := range calls {
		go func() { results <- result{name, call()} }()
	}
	// A renewal and a stale lease never reach the loop: leases are in memory.
	b.waitPending(len(calls) - 2)
	before := b.s.Stats().Commits
	b.letGo()
	want := map[string]error{
		"good enqueue 1": nil, "good enqueue 2": nil, "good renew": nil,
		"stale record": engine.ErrLeaseLost, "cancel unknown": engine.ErrNotFound,
		"over MaxQueued": engine.ErrFull, "existing id": errAny, "partial write": errAny,
	}
	for range calls {
		r := <-results
		w := want[r.name]
		switch {
		case w == nil && r.err != nil:
			t.Errorf("%s: %v, want success", r.name, r.err)
		case w == errAny && r.err == nil, w != nil && w != errAny && !errors.Is(r.err, w):
			t.Errorf("%s: %v, want %v", r.name, r.err, w)
		}
	}
	// The gate's commit, then one for the batch (after one rollback and
	// redo for the partial write).
	if c := b.s.Stats().Commits - before; c != 2 {
		t.Errorf("the batch took %d commits, want 2 (the gate's and one)", c)
	}
	runs, _, err := b.s.List(ctx, engine.ListFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 3 {
		t.Errorf("stored %d runs, want 3 (the first and the two good enqueues)", len(runs))
	}
	for _, r := range runs {
		if r.Workflow != "w" || r.Event.ID == "3" {
			t.Errorf("a failed op left run %s of %s (event %s)", r.ID, r.Workflow, r.Event.ID)
		}
	}
	err = b.s.view(func(tx *bolt.Tx) error {
		if v := tx.Bucket(bucketRuns).Get([]byte(halfWriteKey)); v != nil {
			return errors.New("the rolled-back op's write is in the file")
		}
		return nil
	})
	if err != nil {
		t.Error(err)
	}
	if got := b.s.Stats().Queued; got != 2 {
		t.Errorf("Queued = %d, want 2", got)
	}
}

var errAny = errors.New("any error")

const halfWriteKey = "half-written"

// halfWrite writes, then fails while writing, like a Put that hits a bbolt
// limit after the op's checks passed.
func halfWrite(w *writeTx) error {
	if err := w.put(w.runs, []byte(halfWriteKey), []byte("{}")); err != nil {
		return err
	}
	return w.put(w.runs, make([]byte, 40000), []byte("{}")) // key over bbolt's MaxKeySize
}

func TestContextDoneBeforeApplyDropsOp(t *testing.T) {
	t.Parallel()
	b := setup(t, Options{})
	b.hold()
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		_, err := b.s.Enqueue(ctx, newRun("w", 0))
		done <- err
	}()
	b.waitPending(1)
	cancel()
	// The caller returns while the loop is still held.
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("Enqueue with a canceled context: %v, want context.Canceled", err)
	}
	b.letGo()
	if _, err := b.s.Enqueue(t.Context(), newRun("w", 1)); err != nil { // flushes the loop
		t.Fatal(err)
	}
	runs, _, err := b.s.List(t.Context(), engine.ListFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 1 || runs[0].Event.ID != "1" {
		t.Errorf("runs = %d, want only the second; the dropped op was applied", len(runs))
	}
}

func TestCloseDrainsPendingOps(t *testing.T) {
	t.Parallel()
	b := setup(t, Options{})
	b.hold()
	errs := make(chan error, 5)
	for i := range 5 {
		go func() {
			_, err := b.s.Enqueue(t.Context(), newRun("w", i))
			errs <- err
		}()
	}
	b.waitPending(5)
	closed := make(chan error, 1)
	go func() { closed <- b.s.Close() }()
	// Close marks the store closed at once; writes from now on fail.
	deadline := time.Now().Add(10 * time.Second)
	for !b.s.closed.Load() {
		if time.Now().After(deadline) {
			t.Fatal("Close did not mark the store closed")
		}
		time.Sleep(time.Millisecond)
	}
	if _, err := b.s.Enqueue(t.Context(), newRun("w", 9)); !errors.Is(err, engine.ErrClosed) {
		t.Errorf("Enqueue during Close: %v, want ErrClosed", err)
	}
	b.letGo()
	for range 5 {
		if err := <-errs; err != nil {
			t.Errorf("an Enqueue queued before Close failed: %v", err)
		}
	}
	if err := <-closed; err != nil {
		t.Fatalf("Close: %v", err)
	}
	s := reopen(t, b.s.Path())
	runs, _, err := s.List(t.Context(), engine.ListFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 5 {
		t.Errorf("after reopen: %d runs, want the 5 drained by Close", len(runs))
	}
}

func reopen(t *testing.T, path string) *Store {
	t.Helper()
	s, err := Open(t.Context(), Options{Path: path})
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// TestTakeServesEnqueuesFirst: with many engine writes waiting, a batch
// takes every enqueue and at most as many other writes (at least
// minEngineShare); what stays keeps its order.
func TestTakeServesEnqueuesFirst(t *testing.T) {
	t.Parallel()
	mk := func(ingest, engine int) []*op {
		var ops []*op
		for i := range max(ingest, engine) {
			if i < engine {
				ops = append(ops, &op{})
			}
			if i < ingest {
				ops = append(ops, &op{ingest: true})
			}
		}
		return ops
	}
	count := func(ops []*op) (ingest, other int) {
		for _, o := range ops {
			if o.ingest {
				ingest++
			} else {
				other++
			}
		}
		return
	}
	const recent, long = time.Millisecond, time.Second
	tests := []struct {
		name                   string
		credit                 int           // earned before this batch
		since                  time.Duration // since the last enqueue (0: never)
		ingest, engine, max    int
		wantIngest, wantOther  int
		wantLeftIn, wantLeftEn int
		wantCredit             int
	}{
		{"backlog", 0, recent, 40, 200, 1024, 40, 40, 0, 160, 0},
		{"few enqueues", 0, recent, 2, 200, 1024, 2, minEngineShare, 0, 200 - minEngineShare, 0},
		{"no enqueues ever", 0, 0, 0, 200, 1024, 0, 200, 0, 0, 0},
		{"no enqueues now, credit left", 20, recent, 0, 200, 1024, 0, 20, 0, 180, 0},
		{"no enqueues now, no credit", 0, recent, 0, 200, 1024, 0, minEngineShare, 0, 200 - minEngineShare, 0},
		{"no enqueue for a while", 0, long, 0, 200, 1024, 0, 200, 0, 0, 0},
		{"credit adds up", 10, recent, 5, 200, 1024, 5, 15, 0, 185, 0},
		{"credit kept when unused", 0, recent, 10, 3, 1024, 10, 3, 0, 0, 7},
		{"no engine writes", 0, recent, 50, 0, 1024, 50, 0, 0, 0, 50},
		{"MaxBatch bounds both", 0, recent, 30, 30, 32, 30, 2, 0, 28, 28},
		{"more enqueues than a batch", 0, recent, 40, 10, 32, 32, 0, 8, 10, 32},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			now := t0
			s := &Store{opts: Options{MaxBatch: tc.max}, pending: mk(tc.ingest, tc.engine), credit: tc.credit}
			if tc.since > 0 {
				s.lastIngestAt = now.Add(-tc.since)
			}
			order := slices.Clone(s.pending)
			batch := s.take(nil, now)
			if s.credit != tc.wantCredit {
				t.Errorf("credit after: %d, want %d", s.credit, tc.wantCredit)
			}
			if i, o := count(batch); i != tc.wantIngest || o != tc.wantOther {
				t.Errorf("batch: %d enqueues, %d others; want %d, %d", i, o, tc.wantIngest, tc.wantOther)
			}
			if i, o := count(s.pending); i != tc.wantLeftIn || o != tc.wantLeftEn {
				t.Errorf("left: %d enqueues, %d others; want %d, %d", i, o, tc.wantLeftIn, tc.wantLeftEn)
			}
			// Both parts keep the original order.
			pos := map[*op]int{}
			for i, o := range order {
				pos[o] = i
			}
			for _, part := range [][]*op{batch, s.pending} {
				if !slices.IsSortedFunc(part, func(a, b *op) int { return pos[a] - pos[b] }) {
					t.Errorf("order not kept")
				}
			}
		})
	}
}

// TestTakeAlwaysTakesClaims: a claim writes nothing to the file, so it is
// not held back behind engine writes that wait for credit; only a full
// batch leaves it for the next one.
func TestTakeAlwaysTakesClaims(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		ingest    int
		max       int
		wantClaim bool
	}{
		{"behind records, no credit", 0, 1024, true},
		{"with enqueues", 10, 1024, true},
		{"batch full of enqueues", 40, 32, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			claim := &op{claim: true}
			var pending []*op
			for range 200 {
				pending = append(pending, &op{})
			}
			for range tc.ingest {
				pending = append(pending, &op{ingest: true})
			}
			pending = append(pending, claim)
			s := &Store{opts: Options{MaxBatch: tc.max}, pending: pending, lastIngestAt: t0}
			batch := s.take(nil, t0.Add(time.Millisecond))
			if got := slices.Contains(batch, claim); got != tc.wantClaim {
				t.Errorf("claim taken: %v, want %v (batch of %d)", got, tc.wantClaim, len(batch))
			}
			if got := slices.Contains(s.pending, claim); got == tc.wantClaim {
				t.Errorf("claim left pending: %v, want %v", got, !tc.wantClaim)
			}
		})
	}
}

// TestClaimIsAnsweredBeforeItsBatchCommits: a claim writes nothing, so it
// is answered before its batch's write transaction ends, and it takes only
// runs already committed, not one enqueued in the same batch.
func TestClaimIsAnsweredBeforeItsBatchCommits(t *testing.T) {
	t.Parallel()
	b := setup(t, Options{})
	ctx := t.Context()
	res, err := b.s.Enqueue(ctx, newRun("w", 0))
	if err != nil {
		t.Fatal(err)
	}
	committed := res[0].RunID

	b.hold()
	enqueued := make(chan error, 1)
	go func() {
		_, err := b.s.Enqueue(ctx, newRun("w", 1))
		enqueued <- err
	}()
	b.waitPending(1)
	type answer struct {
		c   engine.Claimed
		err error
	}
	claimed := make(chan answer, 1)
	go func() {
		c, err := b.s.Claim(ctx, engine.ClaimRequest{Owner: "o", Max: 10, LeaseFor: time.Minute, Now: t0.Add(time.Hour)})
		claimed <- answer{c, err}
	}()
	b.waitPending(2)
	// A write in the same batch that holds its transaction open.
	inside, release, blocked := make(chan struct{}), make(chan struct{}), make(chan error, 1)
	go func() {
		blocked <- b.s.do(context.Background(), func(w *writeTx) error {
			close(inside)
			<-release
			return nil
		})
	}()
	b.waitPending(3)
	b.letGo()
	select {
	case <-inside:
	case <-time.After(10 * time.Second):
		t.Fatal("the batch never started")
	}
	select {
	case a := <-claimed:
		if a.err != nil || len(a.c.Runs) != 1 || a.c.Runs[0].ID != committed {
			t.Errorf("claim: %v, %v; want only the committed run %s", a.c.Runs, a.err, committed)
		}
	case <-time.After(10 * time.Second):
		t.Error("the claim waited for its batch's commit")
	}
	close(release)
	if err := <-blocked; err != nil {
		t.Fatal(err)
	}
	if err := <-enqueued; err != nil {
		t.Fatal(err)
	}
}
