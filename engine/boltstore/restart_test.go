package boltstore_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
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
	// Rewrite the file as layout 2 left it: the first run claimed, its queue
	// entry moved to the leases bucket, its state running.
	rewrite(t, s, path, func(tx *bolt.Tx) error {
		if err := tx.Bucket([]byte("meta")).Put([]byte("version"), []byte("2")); err != nil {
			return err
		}
		leases, err := tx.CreateBucket([]byte("leases"))
		if err != nil {
			return err
		}
		if _, err := tx.CreateBucket([]byte("finished")); err != nil {
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
		// Layout 2 wrote every run's state in the runs bucket at enqueue,
		// and events values held the event alone.
		runs, events := tx.Bucket([]byte("runs")), tx.Bucket([]byte("events"))
		for _, res := range res {
			id := []byte(res.RunID)
			state, event, err := boltstore.Layout5Parts(res.RunID, events.Get(id))
			if err != nil {
				return fmt.Errorf("run %s: %w", id, err)
			}
			if err := runs.Put(id, state); err != nil {
				return err
			}
			if err := events.Put(id, event); err != nil {
				return err
			}
		}
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

// TestUpgradeFromLayout4: layout 4's finished index is folded into the
// created entries at Open; List filters by workflow and Purge finds the
// final runs afterwards.
func TestUpgradeFromLayout4(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "hookflow.db")
	s := openAt(t, boltstore.Options{Path: path})
	ctx := t.Context()
	res, err := s.Enqueue(ctx, run("a", 0), run("b", 1), run("a", 2))
	if err != nil {
		t.Fatal(err)
	}
	c, err := s.Claim(ctx, claimAt(t0.Add(time.Minute), 2))
	if err != nil || len(c.Runs) != 2 {
		t.Fatalf("Claim: %v, %v", c, err)
	}
	for i, r := range c.Runs {
		if err := s.Record(ctx, r.ID, r.Lease, engine.Update{Status: engine.StatusSucceeded, At: t0.Add(time.Duration(10+i) * time.Second)}); err != nil {
			t.Fatal(err)
		}
	}
	// Rewrite the file as layout 4 kept it: created entries hold the
	// workflow alone, the finished index maps finishedAt ‖ id → createdAt.
	folded := 0
	rewrite(t, s, path, func(tx *bolt.Tx) error {
		if err := tx.Bucket([]byte("meta")).Put([]byte("version"), []byte("4")); err != nil {
			return err
		}
		finished, err := tx.CreateBucket([]byte("finished"))
		if err != nil {
			return err
		}
		created := tx.Bucket([]byte("created"))
		type entry struct{ k, wf, fin []byte }
		var final []entry
		err = created.ForEach(func(k, v []byte) error {
			if i := bytes.IndexByte(v, 0); i >= 0 {
				final = append(final, entry{bytes.Clone(k), bytes.Clone(v[:i]), bytes.Clone(v[i+1:])})
			}
			return nil
		})
		if err != nil {
			return err
		}
		for _, e := range final {
			if err := created.Put(e.k, e.wf); err != nil {
				return err
			}
			if err := finished.Put(append(e.fin, e.k[12:]...), e.k[:12]); err != nil {
				return err
			}
			folded++
		}
		return nil
	})
	if folded != 2 {
		t.Fatalf("wrote %d finished entries, want 2", folded)
	}

	s = openAt(t, boltstore.Options{Path: path})
	if list, _, err := s.List(ctx, engine.ListFilter{Workflow: "a"}); err != nil || len(list) != 2 {
		t.Errorf("List of workflow a after the upgrade: %d runs, %v; want 2", len(list), err)
	}
	n, err := s.Purge(ctx, engine.PurgeRequest{FinishedBefore: t0.Add(time.Hour), Now: t0.Add(time.Hour), Limit: 10})
	if err != nil || n != 2 {
		t.Fatalf("Purge after the upgrade = %d, %v; want the 2 final runs", n, err)
	}
	for i, r := range res {
		_, err := s.Get(ctx, r.RunID)
		if final := i < 2; final != errors.Is(err, engine.ErrNotFound) {
			t.Errorf("run %d after the purge: %v (final: %v)", i, err, final)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	checkFile(t, path, func(tx *bolt.Tx) error {
		if tx.Bucket([]byte("finished")) != nil {
			return errors.New("the finished bucket is still there")
		}
		return nil
	})
}

// TestUpgradeFromLayout5: a file whose states are layout 5's JSON, in the
// runs bucket and in events values, reads as before; its runs go on, and
// what is written from then on is the binary form of layout 6.
func TestUpgradeFromLayout5(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "hookflow.db")
	s := openAt(t, boltstore.Options{Path: path})
	ctx := t.Context()
	runs := []*engine.Run{run("a", 0), run("a", 1), run("b", 2)}
	runs[0].Event = engine.Event{ID: "e0", Method: "POST", Path: "/hooks/a", Headers: map[string]string{"x-a": "1"}, Body: []byte(`{"n":0}`)}
	runs[1].DedupeKey, runs[1].DedupeUntil = "evt_1", t0.Add(24*time.Hour)
	res, err := s.Enqueue(ctx, runs...)
	if err != nil {
		t.Fatal(err)
	}
	c, err := s.Claim(ctx, claimAt(t0.Add(time.Minute), 1))
	if err != nil || len(c.Runs) != 1 {
		t.Fatalf("Claim: %v, %v", c, err)
	}
	done := engine.Update{Status: engine.StatusSucceeded, At: t0.Add(2 * time.Minute), Step: &engine.StepRecord{
		ID: "s", Uses: "set", Status: engine.StepSucceeded, Outputs: map[string]any{"n": 1.0, "who": "ü"},
		Attempts: []engine.Attempt{{Number: 1, StartedAt: t0.Add(2 * time.Minute), DurationMS: 0.5, Outcome: "ok"}},
	}}
	if err := s.Record(ctx, c.Runs[0].ID, c.Runs[0].Lease, done); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	get := func(s *boltstore.Store) []*engine.Run {
		t.Helper()
		var got []*engine.Run
		for _, r := range res {
			g, err := s.Get(ctx, r.RunID)
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, g)
		}
		return got
	}
	s = openAt(t, boltstore.Options{Path: path})
	before := get(s)

	// Rewrite the file as layout 5 kept it: JSON states, and events
	// values of 0x01, the state, a NUL byte and the event.
	rewrote := 0
	rewrite(t, s, path, func(tx *bolt.Tx) error {
		if err := tx.Bucket([]byte("meta")).Put([]byte("version"), []byte("5")); err != nil {
			return err
		}
		for _, r := range res {
			id := []byte(r.RunID)
			events, rb := tx.Bucket([]byte("events")), tx.Bucket([]byte("runs"))
			js, event, err := boltstore.Layout5Parts(r.RunID, events.Get(id))
			if err != nil {
				return fmt.Errorf("run %s: %w", id, err)
			}
			v := append(append(append([]byte{0x01}, js...), 0), event...)
			if err := events.Put(id, v); err != nil {
				return err
			}
			rewrote++
			if v := rb.Get(id); v != nil {
				js, err := boltstore.JSONState(r.RunID, v)
				if err != nil {
					return err
				}
				if err := rb.Put(id, js); err != nil {
					return err
				}
				rewrote++
			}
		}
		return nil
	})
	if rewrote != 4 {
		t.Fatalf("rewrote %d values, want 3 events values and 1 run", rewrote)
	}

	s = openAt(t, boltstore.Options{Path: path})
	if after := get(s); !reflect.DeepEqual(after, before) {
		for i := range after {
			t.Errorf("run %d from layout 5:\n got %+v\nwant %+v", i, after[i], before[i])
		}
	}
	c, err = s.Claim(ctx, claimAt(t0.Add(time.Hour), 5))
	if err != nil || len(c.Runs) != 2 {
		t.Fatalf("Claim after the upgrade: %v, %v; want the 2 queued runs", c, err)
	}
	events := map[string]engine.Event{}
	for _, r := range before {
		events[r.ID] = r.Event
	}
	for _, r := range c.Runs {
		if err := s.Record(ctx, r.ID, r.Lease, done); err != nil {
			t.Fatal(err)
		}
		g, err := s.Get(ctx, r.ID)
		if err != nil || g.Status != engine.StatusSucceeded || g.Steps[0].Outputs["who"] != "ü" || !reflect.DeepEqual(g.Event, events[r.ID]) {
			t.Errorf("run %s after its record: %+v, %v", r.ID, g, err)
		}
	}
	if res, err := s.Enqueue(ctx, runs[1]); err != nil || !res[0].Duplicate {
		t.Errorf("enqueue of a duplicate after the upgrade: %+v, %v; want a duplicate", res, err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	// The runs recorded since are stored anew, in the binary form.
	checkFile(t, path, func(tx *bolt.Tx) error {
		for _, r := range c.Runs {
			if v := tx.Bucket([]byte("runs")).Get([]byte(r.ID)); len(v) == 0 || v[0] != 0x02 {
				return fmt.Errorf("run %s recorded after the upgrade is stored as %.20q, want the binary form (0x02…)", r.ID, v)
			}
		}
		return nil
	})
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

// checkFile opens the file of a closed store read-only, checks that it
// has this build's layout version and runs check (when not nil) on it.
func checkFile(t *testing.T, path string, check func(tx *bolt.Tx) error) {
	t.Helper()
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.View(func(tx *bolt.Tx) error {
		if v := tx.Bucket([]byte("meta")).Get([]byte("version")); string(v) != "6" {
			return fmt.Errorf("layout version %q after the upgrade, want 6", v)
		}
		if check == nil {
			return nil
		}
		return check(tx)
	})
	if err != nil {
		t.Error(err)
	}
}

// rewrite closes s and changes its file with fn, as an older layout would
// have left it.
func rewrite(t *testing.T, s *boltstore.Store, path string, fn func(tx *bolt.Tx) error) {
	t.Helper()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Update(fn); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
}
