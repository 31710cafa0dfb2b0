package plugins

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/hookflow/hookflow/actions"
)

// digestAction is the test plugin's digest action, in-process: the baseline
// a plugin call is measured against.
type digestAction struct{}

func (digestAction) Execute(_ context.Context, req actions.Request) (map[string]any, error) {
	text, _ := req.Input["text"].(string)
	sum := sha256.Sum256([]byte(text))
	return map[string]any{"sha256": hex.EncodeToString(sum[:])}, nil
}

// BenchmarkDigest compares a plugin step with the same logic as an
// in-process action, one caller at a time and 32 at once. Besides ns/op it
// reports latency percentiles (µs) and throughput (calls/s).
func BenchmarkDigest(b *testing.B) {
	dir := b.TempDir()
	install(b, dir, "test")
	h, err := Open(context.Background(), Options{Dir: dir})
	if err != nil {
		b.Fatal(err)
	}
	defer func() {
		h.Close()
		assertNoProcesses(b, dir)
	}()
	r := actions.NewRegistry()
	if err := h.Register(r); err != nil {
		b.Fatal(err)
	}
	r.Register("digest", digestAction{})
	for _, uses := range []string{"digest", "test.digest"} {
		a, _ := r.Lookup(uses)
		name := "inprocess"
		if uses != "digest" {
			name = "plugin"
		}
		b.Run(name+"/sequential", func(b *testing.B) { benchAction(b, a, 1) })
		b.Run(name+"/concurrent32", func(b *testing.B) { benchAction(b, a, 32) })
	}
}

func benchAction(b *testing.B, a actions.Action, callers int) {
	req := actions.Request{
		RunID: "run", Workflow: "wf", StepID: "s", Attempt: 1, IdempotencyKey: "run/s",
		Input: map[string]any{"text": "the quick brown fox jumps over the lazy dog"},
	}
	var mu sync.Mutex
	var all []time.Duration
	call := func(ctx context.Context, lat *[]time.Duration) {
		t0 := time.Now()
		if _, err := a.Execute(ctx, req); err != nil {
			b.Error(err)
		}
		*lat = append(*lat, time.Since(t0))
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	start := time.Now()
	b.ResetTimer()
	if callers == 1 {
		for b.Loop() {
			call(ctx, &all)
		}
	} else {
		b.SetParallelism(max(1, callers/runtime.GOMAXPROCS(0)))
		b.RunParallel(func(pb *testing.PB) {
			var lat []time.Duration
			for pb.Next() {
				call(ctx, &lat)
			}
			mu.Lock()
			all = append(all, lat...)
			mu.Unlock()
		})
	}
	elapsed := time.Since(start)
	b.StopTimer()
	reportLatency(b, all, elapsed)
}

// reportLatency adds p50/p99 latency in µs and calls/s to the benchmark.
func reportLatency(b *testing.B, lat []time.Duration, elapsed time.Duration) {
	if len(lat) == 0 {
		return
	}
	slices.Sort(lat)
	pct := func(p float64) float64 {
		return float64(lat[int(p*float64(len(lat)-1))].Nanoseconds()) / 1e3
	}
	b.ReportMetric(pct(0.50), "p50-µs")
	b.ReportMetric(pct(0.99), "p99-µs")
	b.ReportMetric(float64(len(lat))/elapsed.Seconds(), "calls/s")
}
