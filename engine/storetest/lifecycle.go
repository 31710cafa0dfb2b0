package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/hookflow/hookflow/engine"
)

func testClose(t *testing.T, h Harness) {
	f := setup(t, h)
	id, r := f.enqueueAndClaim(dueRun("a", at(0)), at(0))
	if err := f.s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	calls := []struct {
		name string
		call func() error
	}{
		{"Enqueue", func() error { _, err := f.s.Enqueue(f.ctx, newRun("a", at(0))); return err }},
		{"Claim", func() error { _, err := f.s.Claim(f.ctx, claimReq(at(time.Hour), 1)); return err }},
		{"Renew", func() error { return f.s.Renew(f.ctx, id, r.Lease, at(time.Hour)) }},
		{"Record", func() error {
			return f.s.Record(f.ctx, id, r.Lease, engine.Update{Status: engine.StatusSucceeded, At: at(time.Second)})
		}},
		{"Rescue", func() error { _, err := f.s.Rescue(f.ctx, at(time.Hour)); return err }},
		{"Cancel", func() error { return f.s.Cancel(f.ctx, id, at(time.Hour)) }},
		{"Get", func() error { _, err := f.s.Get(f.ctx, id); return err }},
		{"List", func() error { _, _, err := f.s.List(f.ctx, engine.ListFilter{}); return err }},
		{"Purge", func() error {
			_, err := f.s.Purge(f.ctx, engine.PurgeRequest{FinishedBefore: at(time.Hour), Now: at(time.Hour), Limit: 10})
			return err
		}},
	}
	for _, c := range calls {
		wantErr(t, c.name+" after Close", c.call(), engine.ErrClosed)
	}
	if err := f.s.Close(); err != nil && !errors.Is(err, engine.ErrClosed) {
		t.Errorf("second Close: %v, want nil or ErrClosed", err)
	}
}

// testContext checks that a call whose context is already done returns the
// context's error and changes nothing.
func testContext(t *testing.T, h Harness) {
	f := setup(t, h)
	id, r := f.enqueueAndClaim(dueRun("a", at(0)), at(0))
	queued := f.enqueueIDs(dueRun("a", at(time.Hour)))[0]
	before, beforeQueued := f.get(id), f.get(queued)
	ctx, cancel := context.WithCancel(f.ctx)
	cancel()
	calls := []struct {
		name string
		call func() error
	}{
		{"Enqueue", func() error { _, err := f.s.Enqueue(ctx, newRun("a", at(0))); return err }},
		{"Claim", func() error { _, err := f.s.Claim(ctx, claimReq(at(2*time.Hour), 10)); return err }},
		{"Renew", func() error { return f.s.Renew(ctx, id, r.Lease, at(time.Hour)) }},
		{"Record", func() error {
			return f.s.Record(ctx, id, r.Lease, engine.Update{Status: engine.StatusSucceeded, At: at(time.Second)})
		}},
		{"Rescue", func() error { _, err := f.s.Rescue(ctx, at(2*time.Hour)); return err }},
		{"Cancel", func() error { return f.s.Cancel(ctx, queued, at(time.Second)) }},
		{"Get", func() error { _, err := f.s.Get(ctx, id); return err }},
		{"List", func() error { _, _, err := f.s.List(ctx, engine.ListFilter{}); return err }},
		{"Purge", func() error {
			_, err := f.s.Purge(ctx, engine.PurgeRequest{FinishedBefore: at(time.Hour), Now: at(time.Hour), Limit: 10})
			return err
		}},
	}
	for _, c := range calls {
		wantErr(t, c.name+" with a done context", c.call(), context.Canceled)
	}
	wantRun(t, "claimed run", f.get(id), before)
	wantRun(t, "queued run", f.get(queued), beforeQueued)
	if runs, _, err := f.s.List(f.ctx, engine.ListFilter{}); err != nil || len(runs) != 2 {
		t.Errorf("List = %d runs, %v; want the 2 runs of before", len(runs), err)
	}
}

func testDurability(t *testing.T, h Harness) {
	if h.Reopen == nil {
		t.Skip("storetest: Harness.Reopen is nil: this backend keeps nothing across Close")
	}
	t.Run("Reopen", func(t *testing.T) { t.Parallel(); durabilityReopen(t, h) })
}

func durabilityReopen(t *testing.T, h Harness) {
	f := setup(t, h)
	keyed := fullRun([]byte(`{"id":"evt_1"}`))
	keyed.DueAt = at(0)
	ids := f.enqueueIDs(dueRun("a", at(-time.Second)), keyed, dueRun("a", at(time.Hour)))
	claimed := f.claimOne(at(0), time.Minute)
	if claimed.ID != ids[0] {
		t.Fatalf("claimed %s, want %s", claimed.ID, ids[0])
	}
	f.record(claimed.ID, claimed.Lease, engine.Update{Step: step("fetch", engine.StepSucceeded, 1), Status: engine.StatusRunning, At: at(time.Second)})
	before := make([]*engine.Run, len(ids))
	for i, id := range ids {
		before[i] = f.get(id)
	}
	if err := f.s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	s := h.Reopen(t, f.s)
	if s == nil {
		t.Fatal("storetest: Harness.Reopen returned nil")
	}
	t.Cleanup(func() { closeStore(t, s) })
	g := &fixture{t: t, s: s, ctx: f.ctx}
	if h.LeasesEndAtClose {
		// The claimed run is queued again with its recorded step; the old
		// holder is fenced out, and the run is claimed again first.
		want := *before[0]
		want.Status, want.Lease.Owner, want.Lease.ExpiresAt = engine.StatusQueued, "", time.Time{}
		before[0] = &want
	}
	for i, id := range ids {
		wantRun(t, "run after reopen", g.get(id), before[i])
	}
	wantClaimable := ids[1:2]
	if h.LeasesEndAtClose {
		wantErr(t, "Record by the holder from before Close", s.Record(g.ctx, claimed.ID, claimed.Lease,
			engine.Update{Status: engine.StatusSucceeded, At: at(2 * time.Second)}), engine.ErrLeaseLost)
		wantClaimable = ids[0:2]
	} else {
		// The lease survived: not rescued before it expires, and it still fences.
		if n, err := s.Rescue(g.ctx, at(30*time.Second)); err != nil || n != 0 {
			t.Errorf("Rescue before expiry after reopen = %d, %v; want 0", n, err)
		}
		g.record(claimed.ID, claimed.Lease, engine.Update{Status: engine.StatusSucceeded, At: at(2 * time.Second)})
	}
	// The queue, the due index and the dedupe index survived.
	c := g.claim(claimReq(at(time.Minute), 10))
	wantIDs(t, "claim after reopen", idsOf(c.Runs), wantClaimable)
	wantTime(t, "NextDue after reopen", c.NextDue, at(time.Hour))
	if h.LeasesEndAtClose {
		if r := c.Runs[0]; r.Claims != 2 || len(r.Steps) != 1 {
			t.Errorf("reclaimed after reopen: %d claims, %d steps; want 2 and the recorded step", r.Claims, len(r.Steps))
		}
	}
	dup := fullRun(nil)
	dup.CreatedAt = at(time.Minute)
	if res := g.enqueue(dup); !res[0].Duplicate || res[0].RunID != ids[1] {
		t.Errorf("dedupe after reopen: %+v, want duplicate of %s", res[0], ids[1])
	}
}

// idsOf is ids under a name that does not clash with local variables.
func idsOf(runs []*engine.Run) []string { return ids(runs) }
