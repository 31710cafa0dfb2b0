package boltstore

import (
	"bytes"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/hookflow/hookflow/engine"
)

// TestClaimFrom: through a random mix of enqueues (due in the past, now
// and later), claims (with and without a concurrency limit), records
// (finished and retrying), and rescues, every claim takes exactly the runs
// a claim reading the whole queue would take, and every queue entry before
// claimFrom is leased.
func TestClaimFrom(t *testing.T) {
	for seed := range uint64(4) {
		t.Run("", func(t *testing.T) { checkClaimFrom(t, seed) })
	}
}

func checkClaimFrom(t *testing.T, seed uint64) {
	ctx := t.Context()
	rnd := rand.New(rand.NewPCG(seed, 42))
	s, err := Open(ctx, Options{Path: filepath.Join(t.TempDir(), "hookflow.db"), NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	clock := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	type held struct {
		id    string
		lease engine.Lease
	}
	var holding []held
	claims, claimed := 0, 0
	for op := range 1500 {
		clock = clock.Add(time.Duration(rnd.IntN(300)) * time.Millisecond)
		switch n := rnd.IntN(10); {
		case n < 3:
			var runs []*engine.Run
			for range 1 + rnd.IntN(4) {
				r := &engine.Run{Workflow: []string{"a", "b"}[rnd.IntN(2)], CreatedAt: clock}
				switch rnd.IntN(3) {
				case 0:
					r.DueAt = clock.Add(-time.Duration(rnd.IntN(10_000)) * time.Millisecond)
				case 1:
					r.DueAt = clock.Add(time.Duration(rnd.IntN(3_000)) * time.Millisecond)
				}
				runs = append(runs, r)
			}
			if _, err := s.Enqueue(ctx, runs...); err != nil {
				t.Fatal(err)
			}
		case n < 6:
			req := engine.ClaimRequest{Owner: "w", Max: 1 + rnd.IntN(4), LeaseFor: 5 * time.Second, Now: clock}
			if rnd.IntN(2) == 0 {
				req.Concurrency = map[string]int{"a": 2}
			}
			want := wholeQueueClaim(t, s, req)
			got, err := s.Claim(ctx, req)
			if err != nil {
				t.Fatal(err)
			}
			ids := make([]string, len(got.Runs))
			for i, r := range got.Runs {
				ids[i] = r.ID
				holding = append(holding, held{r.ID, r.Lease})
			}
			if !slices.Equal(ids, want) {
				t.Fatalf("op %d: claim took %v, reading the whole queue takes %v", op, ids, want)
			}
			claims++
			claimed += len(ids)
		case n < 9 && len(holding) > 0:
			i := rnd.IntN(len(holding))
			h := holding[i]
			holding = slices.Delete(holding, i, i+1)
			u := engine.Update{Status: engine.StatusSucceeded, At: clock}
			if rnd.IntN(2) == 0 {
				u = engine.Update{Status: engine.StatusRetrying, At: clock,
					DueAt: clock.Add(time.Duration(rnd.IntN(4_000)-2_000) * time.Millisecond)}
			}
			// A run rescued meanwhile answers ErrLeaseLost: that is fine.
			_ = s.Record(ctx, h.id, h.lease, u)
		default:
			clock = clock.Add(6 * time.Second) // every lease taken so far expires
			if _, err := s.Rescue(ctx, clock); err != nil {
				t.Fatal(err)
			}
		}
		checkLeasedBeforeClaimFrom(t, s, op)
	}
	if claimed == 0 {
		t.Fatalf("%d claims took nothing: the test tests nothing", claims)
	}
}

// wholeQueueClaim is what req takes when read from the queue's first entry.
func wholeQueueClaim(t *testing.T, s *Store, req engine.ClaimRequest) []string {
	t.Helper()
	s.leases.mu.RLock()
	count := map[string]int{}
	for wf, n := range s.leases.byWF {
		count[wf] = n
	}
	leased := func(id string) bool { _, ok := s.leases.byID[id]; return ok }
	defer s.leases.mu.RUnlock()
	var want []string
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketQueue).Cursor()
		for k, wf := c.First(); k != nil && len(want) < req.Max; k, wf = c.Next() {
			due, id, _ := splitTimeKey(k)
			if due.After(req.Now) {
				break
			}
			if limit := req.Concurrency[string(wf)]; leased(id) || (limit > 0 && count[string(wf)] >= limit) {
				continue
			}
			want = append(want, id)
			count[string(wf)]++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return want
}

func checkLeasedBeforeClaimFrom(t *testing.T, s *Store, op int) {
	t.Helper()
	from := s.claimFrom // the commit loop is idle: the last op's answer came after its writes
	if from == nil {
		return
	}
	s.leases.mu.RLock()
	defer s.leases.mu.RUnlock()
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketQueue).Cursor()
		for k, _ := c.First(); k != nil && bytes.Compare(k, from) < 0; k, _ = c.Next() {
			if _, id, _ := splitTimeKey(k); s.leases.byID[id] == nil {
				t.Fatalf("op %d: queue entry %x (run %s) is before claimFrom %x and not leased", op, k, id, from)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// BenchmarkClaimBehindRunning: a claim and a record of one run while 256
// runs are being executed (leased at the head of the queue) and 20,000
// wait behind them, as when 256 workers drain a backlog. fsync is off to
// show the CPU the commit loop spends.
//
//	go test -run '^$' -bench ClaimBehindRunning -benchmem ./engine/boltstore
func BenchmarkClaimBehindRunning(b *testing.B) {
	ctx := b.Context()
	s, err := Open(ctx, Options{Path: filepath.Join(b.TempDir(), "hookflow.db"), NoSync: true})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	now := time.Now().UTC()
	for range 20 {
		runs := make([]*engine.Run, 1000)
		for i := range runs {
			runs[i] = &engine.Run{Workflow: "bench", CreatedAt: now}
		}
		if _, err := s.Enqueue(ctx, runs...); err != nil {
			b.Fatal(err)
		}
	}
	req := engine.ClaimRequest{Owner: "w", Max: 256, LeaseFor: time.Hour, Now: now}
	if c, err := s.Claim(ctx, req); err != nil || len(c.Runs) != 256 {
		b.Fatalf("claimed %d, %v", len(c.Runs), err)
	}
	req.Max = 1
	b.ReportAllocs()
	for b.Loop() {
		c, err := s.Claim(ctx, req)
		if err != nil || len(c.Runs) != 1 {
			b.Fatalf("claimed %d, %v", len(c.Runs), err)
		}
		r := c.Runs[0]
		if err := s.Record(ctx, r.ID, r.Lease, engine.Update{Status: engine.StatusSucceeded, At: now}); err != nil {
			b.Fatal(err)
		}
	}
}
