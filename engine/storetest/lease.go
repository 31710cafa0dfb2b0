package storetest

import (
	"testing"
	"time"

	"github.com/hookflow/hookflow/engine"
)

func testLease(t *testing.T, h Harness) {
	t.Run("Fencing", func(t *testing.T) { t.Parallel(); leaseFencing(t, h) })
	t.Run("Renew", func(t *testing.T) { t.Parallel(); leaseRenew(t, h) })
	t.Run("NotRunning", func(t *testing.T) { t.Parallel(); leaseNotRunning(t, h) })
	t.Run("UnknownRun", func(t *testing.T) { t.Parallel(); leaseUnknownRun(t, h) })
}

func leaseFencing(t *testing.T, h Harness) {
	f := setup(t, h)
	id, old := f.enqueueAndClaim(dueRun("a", at(0)), at(0)) // lease until 30s
	step := &engine.StepRecord{ID: "s1", Uses: "log", Status: engine.StepSucceeded}

	if n, err := f.s.Rescue(f.ctx, at(31*time.Second)); err != nil || n != 1 {
		t.Fatalf("Rescue = %d, %v; want 1", n, err)
	}
	// Rescued but not yet claimed again: the old holder is already out.
	wantErr(t, "Record after rescue", f.s.Record(f.ctx, id, old.Lease,
		engine.Update{Step: step, Status: engine.StatusRunning, At: at(32 * time.Second)}), engine.ErrLeaseLost)

	cur := f.claimOne(at(33*time.Second), time.Minute)
	if cur.ID != id {
		t.Fatalf("reclaimed %s, want %s", cur.ID, id)
	}
	if cur.Lease.Token <= old.Lease.Token {
		t.Fatalf("reclaim token %d, want > %d", cur.Lease.Token, old.Lease.Token)
	}
	before := f.get(id)

	stale := []struct {
		name string
		call func() error
	}{
		{"Record running", func() error {
			return f.s.Record(f.ctx, id, old.Lease, engine.Update{Step: step, Status: engine.StatusRunning, At: at(34 * time.Second)})
		}},
		{"Record succeeded", func() error {
			return f.s.Record(f.ctx, id, old.Lease, engine.Update{Step: step, Status: engine.StatusSucceeded, At: at(34 * time.Second)})
		}},
		{"Record retrying", func() error {
			return f.s.Record(f.ctx, id, old.Lease, engine.Update{Status: engine.StatusRetrying, DueAt: at(time.Hour), At: at(34 * time.Second)})
		}},
		{"Renew", func() error { return f.s.Renew(f.ctx, id, old.Lease, at(time.Hour)) }},
		{"Record with the current owner but the old token", func() error {
			l := cur.Lease
			l.Token = old.Lease.Token
			return f.s.Record(f.ctx, id, l, engine.Update{Step: step, Status: engine.StatusRunning, At: at(34 * time.Second)})
		}},
	}
	for _, tc := range stale {
		wantErr(t, tc.name+" with a stale lease", tc.call(), engine.ErrLeaseLost)
	}
	wantRun(t, "run after stale writes", f.get(id), before)

	// The current holder still writes.
	f.record(id, cur.Lease, engine.Update{Step: step, Status: engine.StatusSucceeded, At: at(35 * time.Second)})
	if got := f.get(id); got.Status != engine.StatusSucceeded || len(got.Steps) != 1 {
		t.Errorf("after the holder's Record: status %s, %d steps; want succeeded, 1", got.Status, len(got.Steps))
	}
}

func leaseRenew(t *testing.T, h Harness) {
	f := setup(t, h)
	id, r := f.enqueueAndClaim(dueRun("a", at(0)), at(0)) // lease until 30s
	if err := f.s.Renew(f.ctx, id, r.Lease, at(90*time.Second)); err != nil {
		t.Fatalf("Renew: %v", err)
	}
	got := f.get(id)
	want := r.Lease
	want.ExpiresAt = at(90 * time.Second)
	if got.Lease.Token != want.Token || got.Lease.Owner != want.Owner || !sameTime(got.Lease.ExpiresAt, want.ExpiresAt) {
		t.Errorf("lease after Renew = %+v, want %+v", got.Lease, want)
	}
	if got.Status != engine.StatusRunning {
		t.Errorf("status after Renew = %s, want running", got.Status)
	}
	// The old expiry no longer counts; the new one does.
	if n, err := f.s.Rescue(f.ctx, at(60*time.Second)); err != nil || n != 0 {
		t.Errorf("Rescue before the renewed expiry = %d, %v; want 0", n, err)
	}
	// Renew again with the lease as Get shows it (same token).
	if err := f.s.Renew(f.ctx, id, got.Lease, at(120*time.Second)); err != nil {
		t.Fatalf("second Renew: %v", err)
	}
	if n, err := f.s.Rescue(f.ctx, at(100*time.Second)); err != nil || n != 0 {
		t.Errorf("Rescue before the second expiry = %d, %v; want 0", n, err)
	}
	if n, err := f.s.Rescue(f.ctx, at(121*time.Second)); err != nil || n != 1 {
		t.Errorf("Rescue after the expiry = %d, %v; want 1", n, err)
	}
}

func leaseNotRunning(t *testing.T, h Harness) {
	f := setup(t, h)
	id, r := f.enqueueAndClaim(dueRun("a", at(0)), at(0))
	f.record(id, r.Lease, engine.Update{Status: engine.StatusRetrying, DueAt: at(time.Hour), At: at(time.Second)})
	wantErr(t, "Renew of a retrying run", f.s.Renew(f.ctx, id, r.Lease, at(time.Minute)), engine.ErrLeaseLost)
	wantErr(t, "Record of a retrying run", f.s.Record(f.ctx, id, r.Lease,
		engine.Update{Status: engine.StatusRunning, At: at(2 * time.Second)}), engine.ErrLeaseLost)

	r = f.claimOne(at(time.Hour), time.Minute)
	f.record(id, r.Lease, engine.Update{Status: engine.StatusSucceeded, At: at(time.Hour + time.Second)})
	before := f.get(id)
	wantErr(t, "Record of a finished run", f.s.Record(f.ctx, id, r.Lease,
		engine.Update{Status: engine.StatusDead, At: at(2 * time.Hour)}), engine.ErrLeaseLost)
	wantErr(t, "Renew of a finished run", f.s.Renew(f.ctx, id, r.Lease, at(3*time.Hour)), engine.ErrLeaseLost)
	wantRun(t, "finished run after late writes", f.get(id), before)
}

func leaseUnknownRun(t *testing.T, h Harness) {
	f := setup(t, h)
	f.enqueueIDs(dueRun("a", at(0)))
	r := f.claimOne(at(0), time.Minute)
	for _, id := range []string{unknownID, "not-a-uuid"} {
		wantErr(t, "Record of "+id, f.s.Record(f.ctx, id, r.Lease,
			engine.Update{Status: engine.StatusSucceeded, At: at(time.Second)}), engine.ErrNotFound)
		wantErr(t, "Renew of "+id, f.s.Renew(f.ctx, id, r.Lease, at(time.Hour)), engine.ErrNotFound)
	}
}

// unknownID is a well-formed UUIDv7 that no store assigns in a test.
const unknownID = "0190a0a0-0000-7000-8000-000000000000"
