package storetest

import (
	"context"
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookflow/hookflow/engine"
)

// Senders is how many goroutines the enqueue benchmark runs at once: about
// as many concurrent webhook senders as a busy daemon sees.
const Senders = 64

// Bench measures a backend with real writes. open returns a fresh, empty
// store per sub-benchmark run; Bench closes it.
//
//   - enqueue: Senders goroutines each enqueue one run per call (one webhook
//     ack each); reports acks/s.
//   - claim-record-complete: 8 workers claim up to 8 runs at a time, record a
//     step and then success for each; reports runs/s.
func Bench(b *testing.B, open func(b *testing.B) engine.Store) {
	b.Run("enqueue", func(b *testing.B) { benchEnqueue(b, open) })
	b.Run("claim-record-complete", func(b *testing.B) { benchClaimComplete(b, open) })
}

// benchBody is a typical small JSON webhook body.
var benchBody = []byte(`{"id":"evt_1NqYx2","type":"invoice.payment_succeeded","data":{"object":{"customer":"cus_9s6XKzkNRiz8i3","amount_paid":2000,"currency":"usd","plan":{"id":"pro-monthly"}}}}`)

func benchRun(now time.Time, n int64) *engine.Run {
	return &engine.Run{
		Workflow:  "bench",
		CreatedAt: now,
		DueAt:     now,
		Event: engine.Event{
			ID: fmt.Sprintf("evt_%d", n), Method: "POST", Path: "/hooks/bench",
			Headers:     map[string]string{"content-type": "application/json", "user-agent": "Stripe/1.0"},
			ContentType: "application/json", Body: benchBody, ReceivedAt: now,
		},
		DedupeKey:   fmt.Sprintf("evt_%d", n),
		DedupeUntil: now.Add(24 * time.Hour),
	}
}

// parallelism returns the RunParallel multiplier giving about n goroutines.
func parallelism(n int) int { return max(1, n/runtime.GOMAXPROCS(0)) }

func benchEnqueue(b *testing.B, open func(b *testing.B) engine.Store) {
	s := open(b)
	b.Cleanup(func() { closeStore(b, s) })
	ctx := context.Background()
	var seq atomic.Int64
	b.SetParallelism(parallelism(Senders))
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			n := seq.Add(1)
			if _, err := s.Enqueue(ctx, benchRun(time.Now(), n)); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "acks/s")
}

func benchClaimComplete(b *testing.B, open func(b *testing.B) engine.Store) {
	const workers, batch = 8, 8
	s := open(b)
	b.Cleanup(func() { closeStore(b, s) })
	ctx := context.Background()
	now := time.Now()
	// Enough runs that no worker ever finds the queue empty while it still
	// has iterations to do (each may hold up to batch-1 unused claims).
	total := b.N + workers*runtime.GOMAXPROCS(0)*batch
	for i := 0; i < total; i += 512 {
		runs := make([]*engine.Run, 0, 512)
		for j := i; j < min(total, i+512); j++ {
			runs = append(runs, benchRun(now, int64(j)))
		}
		if _, err := s.Enqueue(ctx, runs...); err != nil {
			b.Fatal(err)
		}
	}
	var owner atomic.Int64
	b.SetParallelism(parallelism(workers))
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		req := engine.ClaimRequest{Owner: fmt.Sprintf("w%d", owner.Add(1)), Max: batch, LeaseFor: time.Minute}
		var held []*engine.Run
		for pb.Next() {
			if len(held) == 0 {
				req.Now = time.Now()
				c, err := s.Claim(ctx, req)
				if err != nil || len(c.Runs) == 0 {
					b.Errorf("claim: %d runs, %v", len(c.Runs), err)
					return
				}
				held = c.Runs
			}
			r := held[0]
			held = held[1:]
			st := &engine.StepRecord{ID: "activate", Uses: "http", Status: engine.StepSucceeded,
				Outputs:  map[string]any{"status": 200},
				Attempts: []engine.Attempt{{Number: 1, StartedAt: time.Now(), DurationMS: 3, Outcome: "ok"}}}
			if err := s.Record(ctx, r.ID, r.Lease, engine.Update{Step: st, Status: engine.StatusRunning, At: time.Now()}); err != nil {
				b.Error(err)
				return
			}
			if err := s.Record(ctx, r.ID, r.Lease, engine.Update{Status: engine.StatusSucceeded, At: time.Now()}); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "runs/s")
}
