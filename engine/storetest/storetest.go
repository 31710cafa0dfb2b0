package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/hookflow/hookflow/engine"
)

// Harness tells the suite how to get stores of one backend.
type Harness struct {
	// Open returns a fresh, empty store for one test. It is called from
	// parallel subtests and must fail the test itself when it cannot open.
	Open func(t *testing.T) engine.Store
	// Reopen opens the same underlying data as closed, which the suite has
	// already closed (durability tests). Nil skips those tests.
	Reopen func(t *testing.T, closed engine.Store) engine.Store
	// LeasesEndAtClose says the backend keeps leases in the process that
	// took them (bbolt: one process per file, so a lease cannot outlive it).
	// After Reopen a run that was claimed is queued again, at its recorded
	// steps. Without it, leases are stored and survive Reopen (PostgreSQL,
	// where other nodes go on while one restarts).
	LeasesEndAtClose bool
}

// Run runs the whole conformance suite as subtests of t.
func Run(t *testing.T, h Harness) {
	t.Helper()
	if h.Open == nil {
		t.Fatal("storetest: Harness.Open is nil")
	}
	groups := []struct {
		name string
		run  func(t *testing.T, h Harness)
	}{
		{"Enqueue", testEnqueue},
		{"Claim", testClaim},
		{"Lease", testLease},
		{"Record", testRecord},
		{"Rescue", testRescue},
		{"Cancel", testCancel},
		{"Get", testGet},
		{"List", testList},
		{"Purge", testPurge},
		{"Context", testContext},
		{"Close", testClose},
		{"Durability", testDurability},
		{"QueueDepth", testQueueDepth},
	}
	for _, g := range groups {
		t.Run(g.name, func(t *testing.T) {
			t.Parallel()
			g.run(t, h)
		})
	}
}

// base is the suite's reference time: microsecond-aligned, in the future so
// that a backend using its own clock instead of the given times is caught.
var base = time.Date(2031, 5, 6, 7, 8, 9, 123456000, time.UTC)

// at returns base+d.
func at(d time.Duration) time.Time { return base.Add(d) }

// fixture is one fresh store with helpers that fail the test on error.
type fixture struct {
	t   *testing.T
	s   engine.Store
	ctx context.Context
}

// setup opens a fresh store and closes it when the test ends.
func setup(t *testing.T, h Harness) *fixture {
	t.Helper()
	s := h.Open(t)
	if s == nil {
		t.Fatal("storetest: Harness.Open returned nil")
	}
	t.Cleanup(func() { closeStore(t, s) })
	return &fixture{t: t, s: s, ctx: t.Context()}
}

// closeStore closes s, accepting ErrClosed (the test may have closed it).
func closeStore(t testing.TB, s engine.Store) {
	t.Helper()
	if err := s.Close(); err != nil && !errors.Is(err, engine.ErrClosed) {
		t.Errorf("Close: %v", err)
	}
}

// newRun returns a minimal valid run of workflow created at created.
func newRun(workflow string, created time.Time) *engine.Run {
	return &engine.Run{
		Workflow:  workflow,
		Status:    engine.StatusQueued,
		CreatedAt: created,
		Event: engine.Event{
			ID:         "evt",
			Method:     "POST",
			Path:       "/hooks/" + workflow,
			Body:       []byte(`{"n":1}`),
			ReceivedAt: created,
		},
	}
}

// dueRun returns a minimal run created at base and due at due.
func dueRun(workflow string, due time.Time) *engine.Run {
	r := newRun(workflow, base)
	r.DueAt = due
	return r
}

func (f *fixture) enqueue(runs ...*engine.Run) []engine.EnqueueResult {
	f.t.Helper()
	res, err := f.s.Enqueue(f.ctx, runs...)
	if err != nil {
		f.t.Fatalf("Enqueue: %v", err)
	}
	if len(res) != len(runs) {
		f.t.Fatalf("Enqueue of %d runs returned %d results", len(runs), len(res))
	}
	return res
}

// enqueueIDs enqueues runs and returns their ids, failing on duplicates.
func (f *fixture) enqueueIDs(runs ...*engine.Run) []string {
	f.t.Helper()
	ids := make([]string, 0, len(runs))
	for i, r := range f.enqueue(runs...) {
		if r.Duplicate {
			f.t.Fatalf("Enqueue: run %d unexpectedly a duplicate of %s", i, r.RunID)
		}
		if r.RunID == "" {
			f.t.Fatalf("Enqueue: run %d got an empty id", i)
		}
		ids = append(ids, r.RunID)
	}
	return ids
}

func (f *fixture) get(id string) *engine.Run {
	f.t.Helper()
	r, err := f.s.Get(f.ctx, id)
	if err != nil {
		f.t.Fatalf("Get(%s): %v", id, err)
	}
	if r.ID != id {
		f.t.Fatalf("Get(%s) returned run %q", id, r.ID)
	}
	return r
}

// claimReq is a claim by owner "w1" of up to max runs at now, leased for 30s.
func claimReq(now time.Time, max int) engine.ClaimRequest {
	return engine.ClaimRequest{Owner: "w1", Max: max, LeaseFor: 30 * time.Second, Now: now}
}

func (f *fixture) claim(req engine.ClaimRequest) engine.Claimed {
	f.t.Helper()
	c, err := f.s.Claim(f.ctx, req)
	if err != nil {
		f.t.Fatalf("Claim: %v", err)
	}
	if len(c.Runs) > req.Max {
		f.t.Fatalf("Claim with Max %d returned %d runs", req.Max, len(c.Runs))
	}
	return c
}

// claimOne claims exactly one run at now and fails otherwise.
func (f *fixture) claimOne(now time.Time, leaseFor time.Duration) *engine.Run {
	f.t.Helper()
	req := claimReq(now, 1)
	req.LeaseFor = leaseFor
	c := f.claim(req)
	if len(c.Runs) != 1 {
		f.t.Fatalf("Claim at %s: got %d runs, want 1", now.Format(time.RFC3339Nano), len(c.Runs))
	}
	return c.Runs[0]
}

// enqueueAndClaim enqueues r, claims it at now for 30s and returns both.
func (f *fixture) enqueueAndClaim(r *engine.Run, now time.Time) (string, *engine.Run) {
	f.t.Helper()
	id := f.enqueueIDs(r)[0]
	got := f.claimOne(now, 30*time.Second)
	if got.ID != id {
		f.t.Fatalf("claimed %s, want %s", got.ID, id)
	}
	return id, got
}

func (f *fixture) record(id string, l engine.Lease, u engine.Update) {
	f.t.Helper()
	if err := f.s.Record(f.ctx, id, l, u); err != nil {
		f.t.Fatalf("Record(%s, %s): %v", id, u.Status, err)
	}
}

// ids returns the ids of runs, in order.
func ids(runs []*engine.Run) []string {
	out := make([]string, len(runs))
	for i, r := range runs {
		out[i] = r.ID
	}
	return out
}

// wantErr fails unless errors.Is(err, want).
func wantErr(t testing.TB, what string, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Errorf("%s: got error %v, want %v", what, err, want)
	}
}

// sameTime reports whether a and b are the same instant at the suite's
// precision (microseconds).
func sameTime(a, b time.Time) bool {
	return a.Truncate(time.Microsecond).Equal(b.Truncate(time.Microsecond))
}

func wantTime(t testing.TB, what string, got, want time.Time) {
	t.Helper()
	if !sameTime(got, want) {
		t.Errorf("%s = %s, want %s", what, fmtTime(got), fmtTime(want))
	}
}

func fmtTime(tm time.Time) string {
	if tm.IsZero() {
		return "zero"
	}
	return tm.UTC().Format(time.RFC3339Nano)
}

// normalize returns a deep copy of r with every time in UTC at microsecond
// precision, so that two runs compare by their JSON text.
func normalize(t testing.TB, r *engine.Run) *engine.Run {
	t.Helper()
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatalf("encode run: %v", err)
	}
	var c engine.Run
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatalf("decode run: %v", err)
	}
	norm := func(tm *time.Time) {
		if !tm.IsZero() {
			*tm = tm.UTC().Truncate(time.Microsecond)
		}
	}
	for _, tm := range []*time.Time{&c.DedupeUntil, &c.CreatedAt, &c.UpdatedAt, &c.StartedAt,
		&c.FinishedAt, &c.DueAt, &c.Lease.ExpiresAt, &c.Event.ReceivedAt} {
		norm(tm)
	}
	for i := range c.Steps {
		for j := range c.Steps[i].Attempts {
			norm(&c.Steps[i].Attempts[j].StartedAt)
		}
	}
	return &c
}

// wantRun fails unless got equals want field by field (times at the suite's
// precision, JSON values by their JSON text).
func wantRun(t testing.TB, what string, got, want *engine.Run) {
	t.Helper()
	g, _ := json.MarshalIndent(normalize(t, got), "", "  ")
	w, _ := json.MarshalIndent(normalize(t, want), "", "  ")
	if string(g) == string(w) {
		return
	}
	t.Errorf("%s: run differs\n%s", what, lineDiff(string(w), string(g)))
}

// lineDiff shows the lines of want and got that differ (a small aligned
// diff, enough for two JSON documents of the same shape).
func lineDiff(want, got string) string {
	wl, gl := strings.Split(want, "\n"), strings.Split(got, "\n")
	var sb strings.Builder
	n := max(len(wl), len(gl))
	for i := range n {
		var a, b string
		if i < len(wl) {
			a = wl[i]
		}
		if i < len(gl) {
			b = gl[i]
		}
		if a != b {
			fmt.Fprintf(&sb, "line %d:\n  want %s\n  got  %s\n", i+1, strings.TrimSpace(a), strings.TrimSpace(b))
		}
	}
	return sb.String()
}

// wantIDs fails unless got lists exactly want, in order.
func wantIDs(t testing.TB, what string, got, want []string) {
	t.Helper()
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("%s:\n got  %v\n want %v", what, got, want)
	}
}
