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
