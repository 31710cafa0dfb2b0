package boltstore_test

import (
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/hookflow/hookflow/engine"
	"github.com/hookflow/hookflow/engine/boltstore"
)

// TestRescueAllHandsBackUnexpiredLeases: after a restart, runs a dead
// process held are claimable at once, and the dead holder is fenced out.
func TestRescueAllHandsBackUnexpiredLeases(t *testing.T) {
	t.Parallel()
	s := openAt(t, boltstore.Options{Path: filepath.Join(t.TempDir(), "hookflow.db")})
	defer s.Close()
	ctx := t.Context()
	if _, err := s.Enqueue(ctx, run("w", 0), run("w", 1)); err != nil {
		t.Fatal(err)
	}
	c, err := s.Claim(ctx, claimAt(t0, 1))
	if err != nil || len(c.Runs) != 1 {
		t.Fatalf("Claim: %v, %v", c, err)
	}
	held := c.Runs[0]
	// The lease lasts a minute; the restart comes a second later.
	now := t0.Add(time.Second)
	if n, err := s.Rescue(ctx, now); err != nil || n != 0 {
		t.Fatalf("Rescue of an unexpired lease = %d, %v; want 0", n, err)
	}
	if n, err := s.RescueAll(ctx, now); err != nil || n != 1 {
		t.Fatalf("RescueAll = %d, %v; want 1", n, err)
	}
	c, err = s.Claim(ctx, claimAt(now, 2))
	if err != nil || len(c.Runs) != 2 {
		t.Fatalf("after RescueAll both runs must be claimable: %v, %v", c.Runs, err)
	}
	err = s.Record(ctx, held.ID, held.Lease, engine.Update{Status: engine.StatusSucceeded, At: now})
	if !errors.Is(err, engine.ErrLeaseLost) {
		t.Errorf("the dead holder's write: %v, want ErrLeaseLost", err)
	}
}

func TestQueueDepthAndCommitHook(t *testing.T) {
	t.Parallel()
	var commits, writes int
	s := openAt(t, boltstore.Options{
		Path:     filepath.Join(t.TempDir(), "hookflow.db"),
		Now:      func() time.Time { return t0.Add(time.Minute) },
		OnCommit: func(n int, _ time.Duration) { commits++; writes += n },
	})
	defer s.Close()
	ctx := t.Context()
	later := run("w", 0)
	later.DueAt = t0.Add(time.Hour) // a retry scheduled later
	if _, err := s.Enqueue(ctx, run("w", 0), run("w", 1), run("w", 2), later); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Claim(ctx, claimAt(t0.Add(time.Minute), 1)); err != nil {
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
	if commits != 2 || writes != 2 {
		t.Errorf("OnCommit saw %d commits of %d writes, want 2 and 2", commits, writes)
	}
}
