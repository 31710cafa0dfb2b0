package boltstore_test

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	bolt "go.etcd.io/bbolt"

	"github.com/hookflow/hookflow/engine"
	"github.com/hookflow/hookflow/engine/boltstore"
	"github.com/hookflow/hookflow/engine/storetest"
)

// Every benchmark writes a real file in b.TempDir() with fsync on, as the
// daemon does. Compare:
//
//	go test -run '^$' -bench 'Enqueue' -benchtime 3s ./engine/boltstore
//
// GOMAXPROCS below 2 lets the commit loop, blocked in fsync, starve the
// senders that would fill the next batch (see doc.go).

// BenchmarkStore is the shared store benchmark (storetest.Bench).
func BenchmarkStore(b *testing.B) {
	storetest.Bench(b, func(b *testing.B) engine.Store {
		return openAt(b, boltstore.Options{Path: filepath.Join(b.TempDir(), "hookflow.db")})
	})
}

// benchEvent is a typical small webhook run.
func benchEvent(n int64) *engine.Run {
	now := time.Now()
	return &engine.Run{
		Workflow: "stripe-activate", CreatedAt: now,
		Event: engine.Event{
			ID: fmt.Sprintf("evt_%d", n), Method: "POST", Path: "/hooks/stripe",
			Headers:     map[string]string{"content-type": "application/json", "stripe-signature": "t=1,v1=abc"},
			ContentType: "application/json", ReceivedAt: now,
			Body: []byte(`{"id":"evt_1NqYx2","type":"invoice.payment_succeeded","data":{"object":{"customer":"cus_9s6XKzkNRiz8i3","amount_paid":2000}}}`),
		},
	}
}

func senders(b *testing.B) {
	if runtime.GOMAXPROCS(0) < 2 {
		b.Logf("GOMAXPROCS=%d: group commit needs at least 2 to keep senders running during fsync", runtime.GOMAXPROCS(0))
	}
	b.SetParallelism(max(1, storetest.Senders/runtime.GOMAXPROCS(0)))
}

// BenchmarkEnqueueGroupCommit: 64 concurrent senders through the store's
// group-commit loop. acks/s is durable acknowledgements per second.
func BenchmarkEnqueueGroupCommit(b *testing.B) {
	s := openAt(b, boltstore.Options{Path: filepath.Join(b.TempDir(), "hookflow.db")})
	defer s.Close()
	ctx := b.Context()
	var seq atomic.Int64
	senders(b)
	before := s.Stats()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := s.Enqueue(ctx, benchEvent(seq.Add(1))); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "acks/s")
	st := s.Stats()
	if c := st.Commits - before.Commits; c > 0 {
		b.ReportMetric(float64(st.Ops-before.Ops)/float64(c), "ops/commit")
	}
}

// BenchmarkEnqueueOneUpdatePerCall is the baseline: the same writes (run,
// queue and created index) with one bbolt Update, so one fsync, per enqueue.
func BenchmarkEnqueueOneUpdatePerCall(b *testing.B) {
	benchPlainBolt(b, (*bolt.DB).Update)
}

// BenchmarkEnqueueDBBatch uses bbolt's own db.Batch (10ms default delay).
func BenchmarkEnqueueDBBatch(b *testing.B) {
	benchPlainBolt(b, (*bolt.DB).Batch)
}

func benchPlainBolt(b *testing.B, write func(*bolt.DB, func(*bolt.Tx) error) error) {
	db, err := bolt.Open(filepath.Join(b.TempDir(), "plain.db"), 0o600, &bolt.Options{Timeout: time.Second, FreelistType: bolt.FreelistMapType})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	names := [][]byte{[]byte("runs"), []byte("queue"), []byte("created")}
	if err := db.Update(func(tx *bolt.Tx) error {
		for _, n := range names {
			if _, err := tx.CreateBucketIfNotExists(n); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		b.Fatal(err)
	}
	var seq atomic.Int64
	senders(b)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			r := benchEvent(seq.Add(1))
			r.ID = uuid.Must(uuid.NewV7()).String()
			v, err := json.Marshal(r)
			if err != nil {
				b.Error(err)
				return
			}
			key := append(timeKey(r.CreatedAt), r.ID...)
			err = write(db, func(tx *bolt.Tx) error {
				if err := tx.Bucket(names[0]).Put([]byte(r.ID), v); err != nil {
					return err
				}
				if err := tx.Bucket(names[1]).Put(key, []byte(r.Workflow)); err != nil {
					return err
				}
				return tx.Bucket(names[2]).Put(key, []byte(r.Workflow))
			})
			if err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "acks/s")
}

// timeKey is a 12-byte time prefix like the store's index keys.
func timeKey(t time.Time) []byte {
	k := make([]byte, 12)
	u := uint64(t.Unix()) ^ (1 << 63)
	for i := range 8 {
		k[i] = byte(u >> (56 - 8*i))
	}
	ns := uint32(t.Nanosecond())
	for i := range 4 {
		k[8+i] = byte(ns >> (24 - 8*i))
	}
	return k
}

// BenchmarkEnqueueAfterPurge: enqueues (64 senders, scattered dedupe keys)
// into a store where retention has just deleted 100,000 finished runs, so
// that the file holds many free pages. bbolt rewrote its whole list of
// free pages at every commit before the store set NoFreelistSync.
func BenchmarkEnqueueAfterPurge(b *testing.B) {
	s := openAt(b, boltstore.Options{Path: filepath.Join(b.TempDir(), "hookflow.db")})
	defer s.Close()
	ctx := b.Context()
	old := time.Now().Add(-48 * time.Hour)
	for i := 0; i < 200; i++ {
		runs := make([]*engine.Run, 500)
		for j := range runs {
			runs[j] = keyedRun(old)
		}
		if _, err := s.Enqueue(ctx, runs...); err != nil {
			b.Fatal(err)
		}
	}
	for {
		c, err := s.Claim(ctx, engine.ClaimRequest{Owner: "b", Max: 1000, LeaseFor: time.Minute, Now: time.Now()})
		if err != nil {
			b.Fatal(err)
		}
		if len(c.Runs) == 0 {
			break
		}
		for _, r := range c.Runs {
			if err := s.Record(ctx, r.ID, r.Lease, engine.Update{Status: engine.StatusSucceeded, At: old}); err != nil {
				b.Fatal(err)
			}
		}
	}
	for {
		n, err := s.Purge(ctx, engine.PurgeRequest{FinishedBefore: time.Now(), Now: time.Now(), Limit: 5000})
		if err != nil {
			b.Fatal(err)
		}
		if n == 0 {
			break
		}
	}
	senders(b)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := s.Enqueue(ctx, keyedRun(time.Now())); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "acks/s")
}

// keyedRun is benchEvent with a scattered dedupe key, as senders' delivery
// ids are.
func keyedRun(at time.Time) *engine.Run {
	r := benchEvent(0)
	r.CreatedAt, r.Event.ReceivedAt = at, at
	r.DedupeKey, r.DedupeUntil = uuid.NewString(), at.Add(time.Hour)
	return r
}

// BenchmarkPurge: retention deleting 20,000 finished runs in the daemon's
// batches of 500, past 2,000 older runs that are still queued (Purge walks
// the created index and skips them, see purge.go). runs/s is runs deleted
// per second; each iteration purges a fresh store.
func BenchmarkPurge(b *testing.B) {
	ctx := b.Context()
	old := time.Now().Add(-48 * time.Hour)
	for b.Loop() {
		b.StopTimer()
		s := openAt(b, boltstore.Options{Path: filepath.Join(b.TempDir(), "hookflow.db"), NoSync: true})
		waiting := make([]*engine.Run, 2000)
		for i := range waiting {
			waiting[i] = benchEvent(0)
			waiting[i].CreatedAt, waiting[i].DueAt = old, time.Now().Add(time.Hour)
		}
		if _, err := s.Enqueue(ctx, waiting...); err != nil {
			b.Fatal(err)
		}
		for range 40 {
			runs := make([]*engine.Run, 500)
			for j := range runs {
				runs[j] = benchEvent(0)
				runs[j].CreatedAt = old.Add(time.Minute)
			}
			if _, err := s.Enqueue(ctx, runs...); err != nil {
				b.Fatal(err)
			}
			c, err := s.Claim(ctx, engine.ClaimRequest{Owner: "b", Max: 500, LeaseFor: time.Minute, Now: time.Now()})
			if err != nil || len(c.Runs) != 500 {
				b.Fatalf("claim: %d runs, %v", len(c.Runs), err)
			}
			for _, r := range c.Runs {
				if err := s.Record(ctx, r.ID, r.Lease, engine.Update{Status: engine.StatusSucceeded, At: old.Add(time.Hour)}); err != nil {
					b.Fatal(err)
				}
			}
		}
		b.StartTimer()
		purged := 0
		for {
			n, err := s.Purge(ctx, engine.PurgeRequest{FinishedBefore: time.Now().Add(-time.Hour), Now: old, Limit: 500})
			if err != nil {
				b.Fatal(err)
			}
			if n == 0 {
				break
			}
			purged += n
		}
		b.StopTimer()
		if purged != 20000 {
			b.Fatalf("purged %d runs, want 20000", purged)
		}
		if err := s.Close(); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
	b.ReportMetric(float64(20000*b.N)/b.Elapsed().Seconds(), "runs/s")
}
