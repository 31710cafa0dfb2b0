package storetest

import (
	"testing"
	"time"

	"github.com/hookflow/hookflow/engine"
)

func testPurge(t *testing.T, h Harness) {
	t.Run("Batches", func(t *testing.T) { t.Parallel(); purgeBatches(t, h) })
	t.Run("NothingToDo", func(t *testing.T) {
		t.Parallel()
		f := setup(t, h)
		f.enqueueIDs(dueRun("a", at(0)))
		if n, err := f.s.Purge(f.ctx, engine.PurgeRequest{FinishedBefore: at(time.Hour), Now: at(time.Hour), Limit: 10}); err != nil || n != 0 {
			t.Errorf("Purge = %d, %v; want 0", n, err)
		}
	})
}

func purgeBatches(t *testing.T, h Harness) {
	f := setup(t, h)
	// Five runs finish early (1s..5s), one late (100s); one stays running,
	// one retrying. Two queued runs hold dedupe keys: one expires at 5s, one
	// at 1h. The first old run holds a key that is live until 48h.
	finish := func(st engine.Status, at time.Time) string {
		r := f.claimOne(at, time.Hour)
		f.record(r.ID, r.Lease, engine.Update{Status: st, At: at})
		return r.ID
	}
	keyed := func(key string, until time.Time) *engine.Run {
		r := dueRun("k", at(24*time.Hour))
		r.DedupeKey, r.DedupeUntil = key, until
		return r
	}
	liveOld := dueRun("live", at(0))
	liveOld.DedupeKey, liveOld.DedupeUntil = "live-key", at(48*time.Hour)
	liveOldID := f.enqueueIDs(liveOld)[0]
	old := []string{finish(engine.StatusSucceeded, at(1*time.Second))}
	if old[0] != liveOldID {
		t.Fatalf("finished %s, want %s", old[0], liveOldID)
	}
	for i, st := range []engine.Status{engine.StatusDead, engine.StatusCanceled, engine.StatusSucceeded, engine.StatusDead} {
		f.enqueueIDs(dueRun("a", at(time.Duration(i+2)*time.Second)))
		old = append(old, finish(st, at(time.Duration(i+2)*time.Second)))
	}
	f.enqueueIDs(dueRun("a", at(100*time.Second)))
	late := finish(engine.StatusSucceeded, at(100*time.Second))

	f.enqueueIDs(dueRun("a", at(200*time.Second)))
	running := f.claimOne(at(200*time.Second), 100*time.Hour).ID
	f.enqueueIDs(dueRun("a", at(300*time.Second)))
	retry := f.claimOne(at(300*time.Second), time.Hour)
	f.record(retry.ID, retry.Lease, engine.Update{Status: engine.StatusRetrying, DueAt: at(10 * time.Hour), At: at(300 * time.Second)})
	keep := f.enqueueIDs(keyed("expired", at(5*time.Second)), keyed("live", at(time.Hour)))

	// 5 old runs + 1 expired key = 6 records, 2 a call. A backend may delete
	// the key itself later (it counts then), but it no longer dedupes.
	req := engine.PurgeRequest{FinishedBefore: at(50 * time.Second), Now: at(10 * time.Second), Limit: 2}
	var counts []int
	total := 0
	for range 10 {
		n, err := f.s.Purge(f.ctx, req)
		if err != nil {
			t.Fatalf("Purge: %v", err)
		}
		if n > req.Limit {
			t.Errorf("Purge deleted %d records, Limit is %d", n, req.Limit)
		}
		counts = append(counts, n)
		total += n
		if n == 0 {
			break
		}
	}
	if (total != 6 && total != 5) || counts[len(counts)-1] != 0 {
		t.Errorf("Purge counts %v: total %d, want 6 (or 5: the key deleted later) then 0", counts, total)
	}
	for _, id := range old {
		if _, err := f.s.Get(f.ctx, id); err == nil {
			t.Errorf("old finished run %s survived", id)
		} else {
			wantErr(t, "Get of a purged run", err, engine.ErrNotFound)
		}
	}
	for _, id := range append([]string{late, running, retry.ID}, keep...) {
		f.get(id) // fails when purged
	}
	runs, _, err := f.s.List(f.ctx, engine.ListFilter{Limit: 100})
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	if len(runs) != 5 {
		t.Errorf("List after purge: %d runs, want 5 (late, running, retrying, 2 keyed)", len(runs))
	}

	// The live key still dedupes; the expired one was purged (its run was
	// created before the old DedupeUntil, so a surviving key would dedupe).
	res := f.enqueue(keyed("live", at(time.Hour)), keyed("expired", at(time.Hour)))
	if !res[0].Duplicate || res[0].RunID != keep[1] {
		t.Errorf("live key after purge: %+v, want duplicate of %s", res[0], keep[1])
	}
	if res[1].Duplicate {
		t.Errorf("expired key after purge: %+v, want a new run", res[1])
	}
	r := newRun("live", at(time.Hour))
	r.DedupeKey, r.DedupeUntil = "live-key", at(49*time.Hour)
	if res := f.enqueue(r); !res[0].Duplicate || res[0].RunID != liveOldID {
		t.Errorf("a live key whose run was purged: %+v, want duplicate of %s", res[0], liveOldID)
	}
}
