package boltstore_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/hookflow/hookflow/engine"
	"github.com/hookflow/hookflow/engine/boltstore"
)

// TestRestartHandsBackLeasedRuns: leases live in memory, so after a
// restart the runs a dead process held are claimable at once (no wait for
// their leases to expire), and the dead holder is fenced out.
func TestRestartHandsBackLeasedRuns(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "hookflow.db")
	s := openAt(t, boltstore.Options{Path: path})
	ctx := t.Context()
	if _, err := s.Enqueue(ctx, run("w", 0), run("w", 1)); err != nil {
		t.Fatal(err)
	}
	c, err := s.Claim(ctx, claimAt(t0, 1))
	if err != nil || len(c.Runs) != 1 {
		t.Fatalf("Claim: %v, %v", c, err)
	}
	held := c.Runs[0]
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s = openAt(t, boltstore.Options{Path: path})
	defer s.Close()
	now := t0.Add(time.Second) // the lease lasts a minute
	if got, err := s.Get(ctx, held.ID); err != nil || got.Status != engine.StatusQueued {
		t.Fatalf("held run after restart: %v, %v; want queued", got, err)
	}
	c, err = s.Claim(ctx, claimAt(now, 2))
	if err != nil || len(c.Runs) != 2 || c.Runs[0].ID != held.ID {
		t.Fatalf("after a restart both runs must be claimable, the held one first: %v, %v", c.Runs, err)
	}
	if c.Runs[0].Lease.Token <= held.Lease.Token {
		t.Errorf("token after restart %d, want > %d", c.Runs[0].Lease.Token, held.Lease.Token)
	}
	err = s.Record(ctx, held.ID, held.Lease, engine.Update{Status: engine.StatusSucceeded, At: now})
	if !errors.Is(err, engine.ErrLeaseLost) {
		t.Errorf("the dead holder's write: %v, want ErrLeaseLost", err)
	}
}

// TestUpgradeFromLayout2: a file of the previous layout, with a run leased
// by a process that died, opens; the run is queued again and runs.
func TestUpgradeFromLayout2(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "hookflow.db")
	s := openAt(t, boltstore.Options{Path: path})
	ctx := t.Context()
	first := run("w", 0)
	first.Event = engine.Event{ID: "e0", Method: "POST", Path: "/hooks/w", Body: []byte(`{}`)}
	res, err := s.Enqueue(ctx, first, run("w", 1))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	// Rewrite the file as layout 2 left it: the first run claimed, its queue
	// entry moved to the leases bucket, its state running.
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		if err := tx.Bucket([]byte("meta")).Put([]byte("version"), []byte("2")); err != nil {
			return err
		}
		leases, err := tx.CreateBucket([]byte("leases"))
		if err != nil {
			return err
		}
		q := tx.Bucket([]byte("queue"))
		k, v := q.Cursor().First()
		if k == nil || string(k[12:]) != res[0].RunID {
			return fmt.Errorf("first queue key %x, want run %s", k, res[0].RunID)
		}
		exp := append([]byte(nil), k[:12]...) // expiry: any time
		if err := leases.Put(append(exp, k[12:]...), v); err != nil {
			return err
		}
		if err := q.Delete(k); err != nil {
			return err
		}
		runs := tx.Bucket([]byte("runs"))
		var r engine.Run
		if err := json.Unmarshal(runs.Get([]byte(res[0].RunID)), &r); err != nil {
			return err
		}
		r.Status, r.Claims = engine.StatusRunning, 1
		r.Lease = engine.Lease{Owner: "dead", Token: 7, ExpiresAt: t0.Add(time.Hour)}
		b, err := json.Marshal(&r)
		if err != nil {
			return err
		}
		return runs.Put([]byte(r.ID), b)
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	s = openAt(t, boltstore.Options{Path: path})
	defer s.Close()
	got, err := s.Get(ctx, res[0].RunID)
	if err != nil || got.Status != engine.StatusQueued || got.Lease.Owner != "" || got.Lease.Token != 7 {
		t.Fatalf("upgraded run: %+v, %v; want queued, released, token kept", got, err)
	}
	if got.Event.Method != "POST" {
		t.Errorf("upgraded run's event: %+v, want the stored one", got.Event)
	}
	if st := s.Stats(); st.Queued != 2 {
		t.Errorf("queued after the upgrade = %d, want 2", st.Queued)
	}
	c, err := s.Claim(ctx, claimAt(t0.Add(time.Hour), 10))
	if err != nil || len(c.Runs) != 2 {
		t.Fatalf("claim after the upgrade: %v, %v; want both runs", c.Runs, err)
	}
}

// TestQueueDepthByDueTime: beyond the conformance suite's QueueDepth, the
// bbolt store counts by its due-time index, so a queued run due later counts
// as retrying; and a claim takes its lease without a commit of its own.
func TestQueueDepthByDueTime(t *testing.T) {
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
	// The claim took its lease in memory: no commit of its own.
	if commits != 1 || writes != 1 {
		t.Errorf("OnCommit saw %d commits of %d writes, want 1 and 1", commits, writes)
	}
}
