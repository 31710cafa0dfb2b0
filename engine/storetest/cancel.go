package storetest

import (
	"testing"
	"time"

	"github.com/hookflow/hookflow/engine"
)

func testCancel(t *testing.T, h Harness) {
	t.Run("Queued", func(t *testing.T) { t.Parallel(); cancelQueued(t, h) })
	t.Run("Retrying", func(t *testing.T) { t.Parallel(); cancelRetrying(t, h) })
	t.Run("Running", func(t *testing.T) { t.Parallel(); cancelRunning(t, h) })
	t.Run("RunningThenFinalWins", func(t *testing.T) { t.Parallel(); cancelRunningFinalWins(t, h) })
	t.Run("Finished", func(t *testing.T) { t.Parallel(); cancelFinished(t, h) })
	t.Run("Unknown", func(t *testing.T) {
		t.Parallel()
		f := setup(t, h)
		for _, id := range []string{unknownID, "not-a-uuid", ""} {
			wantErr(t, "Cancel("+id+")", f.s.Cancel(f.ctx, id, at(0)), engine.ErrNotFound)
		}
	})
}

// wantCanceled checks a run canceled at finished.
func wantCanceled(t *testing.T, f *fixture, id string, finished time.Time) *engine.Run {
	t.Helper()
	got := f.get(id)
	if got.Status != engine.StatusCanceled {
		t.Errorf("status = %s, want canceled", got.Status)
	}
	wantTime(t, "FinishedAt", got.FinishedAt, finished)
	if got.Lease.Owner != "" || !got.Lease.ExpiresAt.IsZero() {
		t.Errorf("canceled run keeps a lease: %+v", got.Lease)
	}
	if c := f.claim(claimReq(at(24*time.Hour), 10)); len(c.Runs) != 0 || !c.NextDue.IsZero() {
		t.Errorf("canceled run claimable: %v, NextDue %s", ids(c.Runs), fmtTime(c.NextDue))
	}
	return got
}

func cancelQueued(t *testing.T, h Harness) {
	f := setup(t, h)
	id := f.enqueueIDs(dueRun("a", at(time.Minute)))[0]
	if err := f.s.Cancel(f.ctx, id, at(time.Second)); err != nil {
		t.Fatalf("Cancel: %v", err)
	}
	wantCanceled(t, f, id, at(time.Second))
	wantErr(t, "second Cancel", f.s.Cancel(f.ctx, id, at(2*time.Second)), engine.ErrFinished)
}

func cancelRetrying(t *testing.T, h Harness) {
	f := setup(t, h)
	id, r := f.enqueueAndClaim(dueRun("a", at(0)), at(0))
	f.record(id, r.Lease, engine.Update{Status: engine.StatusRetrying, DueAt: at(time.Hour), At: at(time.Second)})
	if err := f.s.Cancel(f.ctx, id, at(2*time.Second)); err != nil {
		t.Fatalf("Cancel: %v", err)
	}
	wantCanceled(t, f, id, at(2*time.Second))
	wantErr(t, "Record by the former holder", f.s.Record(f.ctx, id, r.Lease,
		engine.Update{Status: engine.StatusRunning, At: at(3 * time.Second)}), engine.ErrLeaseLost)
}

func cancelRunning(t *testing.T, h Harness) {
	f := setup(t, h)
	id, r := f.enqueueAndClaim(dueRun("a", at(0)), at(0))
	for range 2 { // asking twice is fine
		if err := f.s.Cancel(f.ctx, id, at(time.Second)); err != nil {
			t.Fatalf("Cancel of a running run: %v", err)
		}
	}
	got := f.get(id)
	if got.Status != engine.StatusRunning || !got.CancelRequested || got.Lease.Token != r.Lease.Token {
		t.Errorf("after Cancel: status %s, cancel requested %v, lease %+v; want running, true, kept",
			got.Status, got.CancelRequested, got.Lease)
	}
	if c := f.claim(claimReq(at(time.Minute), 10)); len(c.Runs) != 0 {
		t.Errorf("a running run was claimed after Cancel: %v", ids(c.Runs))
	}

	s := step("fetch", engine.StepSucceeded, 1)
	wantErr(t, "Record after Cancel", f.s.Record(f.ctx, id, r.Lease,
		engine.Update{Step: s, Status: engine.StatusRunning, At: at(2 * time.Second)}), engine.ErrCanceled)
	got = wantCanceled(t, f, id, at(2*time.Second))
	if len(got.Steps) != 1 || got.Steps[0].ID != "fetch" || got.Steps[0].Status != engine.StepSucceeded {
		t.Errorf("step recorded with the cancel not stored: %+v", got.Steps)
	}
	wantErr(t, "Record after the cancel took effect", f.s.Record(f.ctx, id, r.Lease,
		engine.Update{Status: engine.StatusRunning, At: at(3 * time.Second)}), engine.ErrLeaseLost)

	// The same for a run that would have gone retrying or back to the queue.
	for _, st := range []engine.Status{engine.StatusRetrying, engine.StatusQueued} {
		id, r := f.enqueueAndClaim(dueRun("b", at(time.Hour)), at(time.Hour))
		if err := f.s.Cancel(f.ctx, id, at(time.Hour)); err != nil {
			t.Fatalf("Cancel: %v", err)
		}
		wantErr(t, "Record "+string(st)+" after Cancel", f.s.Record(f.ctx, id, r.Lease,
			engine.Update{Status: st, DueAt: at(2 * time.Hour), At: at(time.Hour + time.Second)}), engine.ErrCanceled)
		wantCanceled(t, f, id, at(time.Hour+time.Second))
	}
}

func cancelRunningFinalWins(t *testing.T, h Harness) {
	for _, st := range []engine.Status{engine.StatusSucceeded, engine.StatusDead} {
		t.Run(string(st), func(t *testing.T) {
			t.Parallel()
			f := setup(t, h)
			id, r := f.enqueueAndClaim(dueRun("a", at(0)), at(0))
			if err := f.s.Cancel(f.ctx, id, at(time.Second)); err != nil {
				t.Fatalf("Cancel: %v", err)
			}
			f.record(id, r.Lease, engine.Update{Status: st, Error: "e", At: at(2 * time.Second)})
			if got := f.get(id); got.Status != st {
				t.Errorf("status = %s, want %s", got.Status, st)
			}
		})
	}
}

func cancelFinished(t *testing.T, h Harness) {
	f := setup(t, h)
	id, r := f.enqueueAndClaim(dueRun("a", at(0)), at(0))
	f.record(id, r.Lease, engine.Update{Status: engine.StatusSucceeded, At: at(time.Second)})
	before := f.get(id)
	wantErr(t, "Cancel of a succeeded run", f.s.Cancel(f.ctx, id, at(2*time.Second)), engine.ErrFinished)
	wantRun(t, "run after Cancel", f.get(id), before)
}

func testGet(t *testing.T, h Harness) {
	t.Run("NotFound", func(t *testing.T) {
		t.Parallel()
		f := setup(t, h)
		f.enqueueIDs(dueRun("a", at(0)))
		for _, id := range []string{unknownID, "not-a-uuid", "", "../../etc/passwd"} {
			r, err := f.s.Get(f.ctx, id)
			wantErr(t, "Get("+id+")", err, engine.ErrNotFound)
			if r != nil {
				t.Errorf("Get(%s) returned a run with the error", id)
			}
		}
	})
	t.Run("ReturnsACopy", func(t *testing.T) {
		t.Parallel()
		f := setup(t, h)
		id := f.enqueueIDs(fullRun([]byte(`{"a":1}`)))[0]
		got := f.get(id)
		got.Workflow = "changed"
		got.Event.Body[0] = 'X'
		got.Event.Headers["content-type"] = "changed"
		got.Steps[0].Outputs["status"] = 500
		again := f.get(id)
		if again.Workflow != "stripe-activate" || string(again.Event.Body) != `{"a":1}` ||
			again.Event.Headers["content-type"] != "application/json" {
			t.Errorf("changing a returned run changed the stored one: %+v", again)
		}
	})
}
