package storetest

import (
	"testing"
	"time"

	"github.com/hookflow/hookflow/engine"
)

func testRescue(t *testing.T, h Harness) {
	t.Run("OnlyExpired", func(t *testing.T) { t.Parallel(); rescueOnlyExpired(t, h) })
	t.Run("Empty", func(t *testing.T) {
		t.Parallel()
		f := setup(t, h)
		f.enqueueIDs(dueRun("a", at(0)))
		if n, err := f.s.Rescue(f.ctx, at(time.Hour)); err != nil || n != 0 {
			t.Errorf("Rescue with nothing running = %d, %v; want 0", n, err)
		}
	})
}

func rescueOnlyExpired(t *testing.T, h Harness) {
	f := setup(t, h)
	f.enqueueIDs(dueRun("a", at(0)), dueRun("a", at(time.Second)), dueRun("b", at(2*time.Second)), dueRun("b", at(3*time.Second)))
	r10 := f.claimOne(at(5*time.Second), 10*time.Second) // expires at 15s
	r20 := f.claimOne(at(5*time.Second), 20*time.Second) // 25s
	r30 := f.claimOne(at(5*time.Second), 30*time.Second) // 35s
	queued := f.claim(claimReq(at(5*time.Second), 10)).Runs[0]
	f.record(queued.ID, queued.Lease, engine.Update{Status: engine.StatusQueued, At: at(6 * time.Second)})

	if n, err := f.s.Rescue(f.ctx, at(15*time.Second)); err != nil || n != 0 {
		t.Errorf("Rescue at the expiry instant = %d, %v; want 0 (expired means before now)", n, err)
	}
	n, err := f.s.Rescue(f.ctx, at(26*time.Second))
	if err != nil || n != 2 {
		t.Fatalf("Rescue at 26s = %d, %v; want 2", n, err)
	}
	for _, r := range []*engine.Run{r10, r20} {
		got := f.get(r.ID)
		if got.Status != engine.StatusQueued || got.Lease.Owner != "" || !got.Lease.ExpiresAt.IsZero() {
			t.Errorf("rescued %s: status %s lease %+v; want queued, released", r.ID, got.Status, got.Lease)
		}
		if got.Lease.Token != r.Lease.Token {
			t.Errorf("rescued %s: token %d, want kept %d", r.ID, got.Lease.Token, r.Lease.Token)
		}
		wantTime(t, "rescued DueAt", got.DueAt, at(26*time.Second))
		wantTime(t, "rescued UpdatedAt", got.UpdatedAt, at(26*time.Second))
	}
	if got := f.get(r30.ID); got.Status != engine.StatusRunning || got.Lease.Token != r30.Lease.Token {
		t.Errorf("unexpired run: status %s lease %+v; want running with its lease", got.Status, got.Lease)
	}
	if n, err := f.s.Rescue(f.ctx, at(26*time.Second)); err != nil || n != 0 {
		t.Errorf("second Rescue = %d, %v; want 0", n, err)
	}
	// Rescued runs are due at the rescue time, after the run queued at 6s.
	c := f.claim(claimReq(at(26*time.Second), 10))
	if len(c.Runs) != 3 || c.Runs[0].ID != queued.ID {
		t.Errorf("claim after rescue = %v, want %s first and the 2 rescued runs", ids(c.Runs), queued.ID)
	}
	if err := f.s.Record(f.ctx, r30.ID, r30.Lease, engine.Update{Status: engine.StatusSucceeded, At: at(27 * time.Second)}); err != nil {
		t.Errorf("Record by the unexpired holder: %v", err)
	}
}
