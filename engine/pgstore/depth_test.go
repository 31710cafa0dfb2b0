package pgstore_test

import (
	"testing"
	"time"

	"github.com/hookflow/hookflow/engine"
)

func TestQueueDepth(t *testing.T) {
	t.Parallel()
	s, _, _ := setup(t)
	ctx := t.Context()
	later := newRun("w", at(0))
	later.DueAt = at(time.Hour)
	if _, err := s.Enqueue(ctx, newRun("w", at(0)), newRun("w", at(time.Second)), newRun("w", at(2*time.Second)), later); err != nil {
		t.Fatal(err)
	}
	c, err := s.Claim(ctx, engine.ClaimRequest{Owner: "t", Max: 1, LeaseFor: time.Minute, Now: at(time.Minute)})
	if err != nil || len(c.Runs) != 1 {
		t.Fatalf("claim: %v %v", c.Runs, err)
	}
	r := c.Runs[0]
	if err := s.Record(ctx, r.ID, r.Lease, engine.Update{Status: engine.StatusRetrying, DueAt: at(2 * time.Hour), At: at(time.Minute)}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Claim(ctx, engine.ClaimRequest{Owner: "t", Max: 1, LeaseFor: time.Minute, Now: at(time.Minute)}); err != nil {
		t.Fatal(err)
	}
	depth, err := s.QueueDepth(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := map[engine.Status]int{engine.StatusQueued: 2, engine.StatusRetrying: 1, engine.StatusRunning: 1}
	for st, n := range want {
		if depth[st] != n {
			t.Errorf("depth[%s] = %d, want %d (all: %v)", st, depth[st], n, depth)
		}
	}
}
