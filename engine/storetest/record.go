package storetest

import (
	"testing"
	"time"

	"github.com/hookflow/hookflow/engine"
)

func testRecord(t *testing.T, h Harness) {
	t.Run("Running", func(t *testing.T) { t.Parallel(); recordRunning(t, h) })
	t.Run("Retrying", func(t *testing.T) { t.Parallel(); recordRetrying(t, h) })
	t.Run("Queued", func(t *testing.T) { t.Parallel(); recordQueued(t, h) })
	t.Run("Final", func(t *testing.T) { t.Parallel(); recordFinal(t, h) })
	t.Run("BadUpdate", func(t *testing.T) { t.Parallel(); recordBadUpdate(t, h) })
}

func step(id string, status engine.StepStatus, attempts int) *engine.StepRecord {
	s := &engine.StepRecord{ID: id, Uses: "http", Status: status}
	for i := 1; i <= attempts; i++ {
		a := engine.Attempt{Number: i, StartedAt: at(time.Duration(i) * time.Second), DurationMS: 1.5, Outcome: "ok"}
		if i < attempts || status != engine.StepSucceeded {
			a.Outcome, a.Error = "retryable", "connection refused"
		}
		s.Attempts = append(s.Attempts, a)
	}
	if status == engine.StepSucceeded {
		s.Outputs = map[string]any{"status": 200, "headers": map[string]any{"x": "y"}}
	}
	return s
}

func recordRunning(t *testing.T, h Harness) {
	f := setup(t, h)
	id, r := f.enqueueAndClaim(dueRun("a", at(0)), at(0))
	want := f.get(id)

	updates := []struct {
		name  string
		step  *engine.StepRecord
		steps []engine.StepRecord // expected afterwards
	}{
		{"append first", step("fetch", engine.StepRetrying, 1), []engine.StepRecord{*step("fetch", engine.StepRetrying, 1)}},
		{"append second", step("notify", engine.StepSkipped, 0),
			[]engine.StepRecord{*step("fetch", engine.StepRetrying, 1), *step("notify", engine.StepSkipped, 0)}},
		{"replace first by id", step("fetch", engine.StepSucceeded, 2),
			[]engine.StepRecord{*step("fetch", engine.StepSucceeded, 2), *step("notify", engine.StepSkipped, 0)}},
		{"no step", nil,
			[]engine.StepRecord{*step("fetch", engine.StepSucceeded, 2), *step("notify", engine.StepSkipped, 0)}},
		{"append third", step("crm", engine.StepFailed, 3),
			[]engine.StepRecord{*step("fetch", engine.StepSucceeded, 2), *step("notify", engine.StepSkipped, 0), *step("crm", engine.StepFailed, 3)}},
	}
	for i, u := range updates {
		now := at(time.Duration(i+1) * time.Second)
		f.record(id, r.Lease, engine.Update{Step: u.step, Status: engine.StatusRunning, Error: "", At: now})
		want.Steps = u.steps
		want.UpdatedAt = now
		wantRun(t, "after "+u.name, f.get(id), want)
	}
	// Still running and leased: nothing is claimable, the lease still works.
	if c := f.claim(claimReq(at(10*time.Second), 10)); len(c.Runs) != 0 {
		t.Errorf("a running run was claimed again: %v", ids(c.Runs))
	}
	if err := f.s.Renew(f.ctx, id, r.Lease, at(time.Minute)); err != nil {
		t.Errorf("Renew after running records: %v", err)
	}
}

func recordRetrying(t *testing.T, h Harness) {
	f := setup(t, h)
	id, r := f.enqueueAndClaim(dueRun("a", at(0)), at(0))
	f.record(id, r.Lease, engine.Update{
		Step:   step("fetch", engine.StepRetrying, 1),
		Status: engine.StatusRetrying, DueAt: at(time.Minute), Error: "fetch: 503", At: at(time.Second),
	})
	got := f.get(id)
	if got.Status != engine.StatusRetrying || got.Error != "fetch: 503" || len(got.Steps) != 1 {
		t.Errorf("after retrying: status %s, error %q, %d steps", got.Status, got.Error, len(got.Steps))
	}
	wantTime(t, "DueAt", got.DueAt, at(time.Minute))
	wantTime(t, "UpdatedAt", got.UpdatedAt, at(time.Second))
	if got.Lease.Owner != "" || !got.Lease.ExpiresAt.IsZero() {
		t.Errorf("lease not released: %+v", got.Lease)
	}
	if !got.FinishedAt.IsZero() {
		t.Errorf("FinishedAt = %s on a retrying run", fmtTime(got.FinishedAt))
	}
	// Released: no rescue, not claimable before DueAt, claimable at DueAt.
	if n, err := f.s.Rescue(f.ctx, at(time.Hour)); err != nil || n != 0 {
		t.Errorf("Rescue of a retrying run = %d, %v; want 0", n, err)
	}
	c := f.claim(claimReq(at(59*time.Second), 10))
	if len(c.Runs) != 0 {
		t.Errorf("claimed before DueAt: %v", ids(c.Runs))
	}
	wantTime(t, "NextDue", c.NextDue, at(time.Minute))
	again := f.claimOne(at(time.Minute), time.Minute)
	if again.ID != id || again.Claims != 2 || again.Lease.Token <= r.Lease.Token || len(again.Steps) != 1 {
		t.Errorf("reclaimed: id %s claims %d token %d steps %d; want %s, 2, > %d, 1",
			again.ID, again.Claims, again.Lease.Token, len(again.Steps), id, r.Lease.Token)
	}
	// Success clears the error of the failed attempt.
	f.record(id, again.Lease, engine.Update{Step: step("fetch", engine.StepSucceeded, 2), Status: engine.StatusSucceeded, At: at(61 * time.Second)})
	if got := f.get(id); got.Error != "" || got.Status != engine.StatusSucceeded || got.Steps[0].Status != engine.StepSucceeded {
		t.Errorf("after success: status %s, error %q, step %s; want succeeded, no error", got.Status, got.Error, got.Steps[0].Status)
	}
}

func recordQueued(t *testing.T, h Harness) {
	f := setup(t, h)
	id, r := f.enqueueAndClaim(dueRun("a", at(0)), at(0))
	f.record(id, r.Lease, engine.Update{Status: engine.StatusQueued, At: at(5 * time.Second)})
	got := f.get(id)
	if got.Status != engine.StatusQueued || got.Lease.Owner != "" || !got.Lease.ExpiresAt.IsZero() {
		t.Errorf("after queued: status %s, lease %+v", got.Status, got.Lease)
	}
	wantTime(t, "DueAt", got.DueAt, at(5*time.Second))
	c := f.claim(claimReq(at(5*time.Second), 10))
	wantIDs(t, "claim right after", ids(c.Runs), []string{id})
}

func recordFinal(t *testing.T, h Harness) {
	for _, st := range []engine.Status{engine.StatusSucceeded, engine.StatusDead, engine.StatusCanceled} {
		t.Run(string(st), func(t *testing.T) {
			t.Parallel()
			f := setup(t, h)
			id, r := f.enqueueAndClaim(dueRun("a", at(0)), at(0))
			errText := ""
			if st != engine.StatusSucceeded {
				errText = "step fetch: 404 not found"
			}
			f.record(id, r.Lease, engine.Update{Step: step("fetch", engine.StepFailed, 1), Status: st, Error: errText, At: at(7 * time.Second)})
			got := f.get(id)
			if got.Status != st || got.Error != errText || len(got.Steps) != 1 {
				t.Errorf("status %s error %q steps %d; want %s %q 1", got.Status, got.Error, len(got.Steps), st, errText)
			}
			wantTime(t, "FinishedAt", got.FinishedAt, at(7*time.Second))
			wantTime(t, "UpdatedAt", got.UpdatedAt, at(7*time.Second))
			if got.Lease.Owner != "" || !got.Lease.ExpiresAt.IsZero() {
				t.Errorf("lease not released: %+v", got.Lease)
			}
			if c := f.claim(claimReq(at(time.Hour), 10)); len(c.Runs) != 0 || !c.NextDue.IsZero() {
				t.Errorf("finished run claimable: %v, NextDue %s", ids(c.Runs), fmtTime(c.NextDue))
			}
			if n, err := f.s.Rescue(f.ctx, at(time.Hour)); err != nil || n != 0 {
				t.Errorf("Rescue of a finished run = %d, %v; want 0", n, err)
			}
			wantErr(t, "Cancel of a finished run", f.s.Cancel(f.ctx, id, at(time.Hour)), engine.ErrFinished)
		})
	}
}

func recordBadUpdate(t *testing.T, h Harness) {
	f := setup(t, h)
	id, r := f.enqueueAndClaim(dueRun("a", at(0)), at(0))
	before := f.get(id)
	cases := []struct {
		name string
		u    engine.Update
	}{
		{"empty_status", engine.Update{Step: step("x", engine.StepSucceeded, 1), At: at(time.Second)}},
		{"unknown_status", engine.Update{Status: "paused", At: at(time.Second)}},
		{"zero_at", engine.Update{Status: engine.StatusSucceeded}},
	}
	for _, tc := range cases {
		err := f.s.Record(f.ctx, id, r.Lease, tc.u)
		if err == nil {
			t.Errorf("%s: Record accepted %+v", tc.name, tc.u)
		}
	}
	wantRun(t, "run after bad updates", f.get(id), before)
}
