package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/hookflow/hookflow/engine"
)

// QueueDepther is implemented by stores that can count their unfinished
// runs cheaply (the queue-depth gauge of the admin metrics).
//
// queued counts queued runs that are due, retrying runs waiting for their
// retry, and running the leased ones. A store may count a run by its due
// time rather than its status (bbolt reads only its due-time index): a
// queued run due later then counts as retrying, a retrying run whose time
// has come as queued. The test below avoids both cases.
type QueueDepther interface {
	QueueDepth(ctx context.Context) (map[engine.Status]int, error)
}

func testQueueDepth(t *testing.T, h Harness) {
	f := setup(t, h)
	d, ok := f.s.(QueueDepther)
	if !ok {
		t.Skip("storetest: this store has no QueueDepth")
	}
	// Due-time counting compares with the wall clock, so these times are
	// real ones.
	now := time.Now().UTC().Truncate(time.Microsecond)
	f.enqueueIDs(dueRun("w", now.Add(-3*time.Second)), dueRun("w", now.Add(-2*time.Second)), dueRun("w", now.Add(-time.Second)))
	r := f.claimOne(now, time.Minute)
	f.record(r.ID, r.Lease, engine.Update{Status: engine.StatusRetrying, DueAt: now.Add(2 * time.Hour), At: now})
	f.claimOne(now, time.Minute)

	depth, err := d.QueueDepth(f.ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := map[engine.Status]int{engine.StatusQueued: 1, engine.StatusRetrying: 1, engine.StatusRunning: 1}
	for st, n := range want {
		if depth[st] != n {
			t.Errorf("depth[%s] = %d, want %d (all: %v)", st, depth[st], n, depth)
		}
	}
}
