package boltstore

import (
	"path/filepath"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/hookflow/hookflow/engine"
)

// TestStateLivesWithTheEventUntilItChanges: an enqueue writes a run's state
// in its events value only; the first change (here a record) writes it to
// the runs bucket, and after a restart the queued run reads back the same
// from its event.
func TestStateLivesWithTheEventUntilItChanges(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "hookflow.db")
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	s, err := Open(ctx, Options{Path: path, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	res, err := s.Enqueue(ctx,
		&engine.Run{Workflow: "w", DedupeKey: "k", DedupeUntil: now.Add(time.Hour), Event: engine.Event{ID: "e1", Body: []byte(`{"a":1}`)}},
		&engine.Run{Workflow: "w", Event: engine.Event{ID: "e2"}})
	if err != nil {
		t.Fatal(err)
	}
	done, queued := res[0].RunID, res[1].RunID
	inRuns := func(id string) (in bool) {
		t.Helper()
		if err := s.db.View(func(tx *bolt.Tx) error {
			in = tx.Bucket(bucketRuns).Get([]byte(id)) != nil
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		return in
	}
	if inRuns(done) || inRuns(queued) {
		t.Fatal("an enqueue wrote the runs bucket")
	}
	c, err := s.Claim(ctx, engine.ClaimRequest{Owner: "o", Max: 1, LeaseFor: time.Minute, Now: now})
	if err != nil || len(c.Runs) != 1 || c.Runs[0].ID != done {
		t.Fatalf("Claim: %v, %v", c.Runs, err)
	}
	if err := s.Record(ctx, done, c.Runs[0].Lease, engine.Update{Status: engine.StatusSucceeded, At: now}); err != nil {
		t.Fatal(err)
	}
	if !inRuns(done) || inRuns(queued) {
		t.Fatalf("after the record: in the runs bucket %v and %v, want true and false", inRuns(done), inRuns(queued))
	}
	before, err := s.Get(ctx, queued)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s, err = Open(ctx, Options{Path: path, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	after, err := s.Get(ctx, queued)
	if err != nil {
		t.Fatal(err)
	}
	if after.Status != engine.StatusQueued || after.Workflow != "w" || after.Event.ID != "e2" || !after.CreatedAt.Equal(before.CreatedAt) {
		t.Errorf("queued run after a restart: %+v, want %+v", after, before)
	}
	r, err := s.Get(ctx, done)
	if err != nil || r.Status != engine.StatusSucceeded || r.DedupeKey != "k" || string(r.Event.Body) != `{"a":1}` {
		t.Errorf("recorded run: %+v, %v", r, err)
	}
	c, err = s.Claim(ctx, engine.ClaimRequest{Owner: "o", Max: 2, LeaseFor: time.Minute, Now: now})
	if err != nil || len(c.Runs) != 1 || c.Runs[0].ID != queued || c.Runs[0].Event.ID != "e2" {
		t.Fatalf("Claim after a restart: %v, %v; want the queued run with its event", c.Runs, err)
	}
}

// TestPurgeKeepsItsPlace: a Purge batch that fills its limit keeps where it
// stopped (the first entry it did not look at), and one that does not
// starts the next pass from the first entry again.
func TestPurgeKeepsItsPlace(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	s, err := Open(ctx, Options{Path: filepath.Join(t.TempDir(), "hookflow.db"), Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var runs []*engine.Run
	for i := range 3 {
		runs = append(runs, &engine.Run{Workflow: "w", CreatedAt: now.Add(time.Duration(i) * time.Second)})
	}
	res, err := s.Enqueue(ctx, runs...)
	if err != nil {
		t.Fatal(err)
	}
	c, err := s.Claim(ctx, engine.ClaimRequest{Owner: "o", Max: 3, LeaseFor: time.Minute, Now: now.Add(time.Minute)})
	if err != nil || len(c.Runs) != 3 {
		t.Fatalf("Claim: %v, %v", c.Runs, err)
	}
	for _, r := range c.Runs {
		if err := s.Record(ctx, r.ID, r.Lease, engine.Update{Status: engine.StatusSucceeded, At: now.Add(time.Minute)}); err != nil {
			t.Fatal(err)
		}
	}
	req := engine.PurgeRequest{FinishedBefore: now.Add(time.Hour), Now: now, Limit: 2}
	if n, err := s.Purge(ctx, req); err != nil || n != 2 {
		t.Fatalf("Purge = %d, %v; want 2", n, err)
	}
	if want := timeKey(runs[2].CreatedAt, res[2].RunID); string(s.purgeFrom) != string(want) {
		t.Errorf("after a full batch the place is %x, want the third run's entry %x", s.purgeFrom, want)
	}
	if n, err := s.Purge(ctx, req); err != nil || n != 1 {
		t.Fatalf("Purge = %d, %v; want 1", n, err)
	}
	if s.purgeFrom != nil {
		t.Errorf("after a batch below its limit the place is %x, want none", s.purgeFrom)
	}
}
