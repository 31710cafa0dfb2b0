package loadgen

import (
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"
)

func TestBucketBoundsRoundTrip(t *testing.T) {
	t.Parallel()
	for i := 0; i < numBuckets; i++ {
		lo, hi := bucketBounds(i)
		if lo > hi {
			t.Fatalf("bucket %d: lo %d > hi %d", i, lo, hi)
		}
		if got := bucketOf(lo); got != i {
			t.Fatalf("bucketOf(lo of %d = %d) = %d", i, lo, got)
		}
		if got := bucketOf(hi); got != i {
			t.Fatalf("bucketOf(hi of %d = %d) = %d", i, hi, got)
		}
		if i > 0 {
			_, prevHi := bucketBounds(i - 1)
			if prevHi+1 != lo {
				t.Fatalf("gap between bucket %d (hi %d) and %d (lo %d)", i-1, prevHi, i, lo)
			}
		}
		if i >= linearMax && float64(hi-lo+1)/float64(lo) > 1.0/subCount+1e-12 {
			t.Fatalf("bucket %d [%d,%d] wider than 1/%d of its bound", i, lo, hi, subCount)
		}
	}
	if _, hi := bucketBounds(numBuckets - 1); hi != uint64(MaxValue) {
		t.Fatalf("last bucket ends at %d, want MaxValue %d", hi, MaxValue)
	}
}

func TestQuantilesAgainstSortedSample(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		gen  func(r *rand.Rand) time.Duration
	}{
		{"uniform 0-10ms", func(r *rand.Rand) time.Duration { return time.Duration(r.Int64N(int64(10 * time.Millisecond))) }},
		{"exponential 1ms", func(r *rand.Rand) time.Duration { return time.Duration(r.ExpFloat64() * float64(time.Millisecond)) }},
		{"small ns", func(r *rand.Rand) time.Duration { return time.Duration(r.Int64N(300)) }},
		{"bimodal", func(r *rand.Rand) time.Duration {
			if r.IntN(100) == 0 {
				return time.Second + time.Duration(r.Int64N(int64(time.Second)))
			}
			return 200*time.Microsecond + time.Duration(r.Int64N(int64(100*time.Microsecond)))
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := rand.New(rand.NewPCG(1, 2))
			var h Histogram
			sample := make([]time.Duration, 100_000)
			for i := range sample {
				sample[i] = tt.gen(r)
				h.Record(sample[i])
			}
			slices.Sort(sample)
			for _, q := range []float64{0, 0.5, 0.9, 0.99, 0.999, 1} {
				idx := max(int(float64(len(sample))*q+0.999999)-1, 0)
				want := sample[idx]
				got := h.Quantile(q)
				if got < want {
					t.Errorf("q%.3f = %v, under the true %v", q, got, want)
				}
				if float64(got-want) > float64(want)/subCount+1 {
					t.Errorf("q%.3f = %v, more than 1/%d over the true %v", q, got, subCount, want)
				}
			}
			if h.Max() != sample[len(sample)-1] || h.Min() != sample[0] {
				t.Errorf("min/max %v/%v, want %v/%v", h.Min(), h.Max(), sample[0], sample[len(sample)-1])
			}
			if h.Count() != uint64(len(sample)) {
				t.Errorf("count %d", h.Count())
			}
		})
	}
}

func TestHistogramEdges(t *testing.T) {
	t.Parallel()
	var h Histogram
	if h.Quantile(0.5) != 0 || h.Max() != 0 || h.Min() != 0 || h.Mean() != 0 {
		t.Fatal("empty histogram must read zero")
	}
	h.Record(-5)
	h.Record(3 * time.Hour) // over MaxValue: counted in the last bucket
	if h.Min() != 0 {
		t.Errorf("negative recorded as %v, want 0", h.Min())
	}
	if h.Max() != 3*time.Hour || h.Quantile(1) != 3*time.Hour {
		t.Errorf("max %v, q1 %v, want 3h", h.Max(), h.Quantile(1))
	}
	if got := h.Quantile(0.5); got != 0 {
		t.Errorf("median %v, want 0", got)
	}
}

func TestHistogramConcurrentAndMerge(t *testing.T) {
	t.Parallel()
	var a, b Histogram
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 1; i <= 1000; i++ {
				a.Record(time.Duration(i) * time.Microsecond)
			}
		}()
	}
	wg.Wait()
	b.Record(5 * time.Second)
	b.Merge(&a)
	if b.Count() != 8001 {
		t.Fatalf("count %d, want 8001", b.Count())
	}
	if b.Max() != 5*time.Second || b.Min() != time.Microsecond {
		t.Fatalf("min/max %v/%v", b.Min(), b.Max())
	}
	s := b.Summary()
	if s.P50 < 0.49 || s.P50 > 0.51 {
		t.Errorf("p50 %vms, want about 0.5ms", s.P50)
	}
	if s.Max != 5000 {
		t.Errorf("max %vms, want 5000", s.Max)
	}
}

func BenchmarkHistogramRecord(b *testing.B) {
	var h Histogram
	b.RunParallel(func(pb *testing.PB) {
		d := time.Duration(1)
		for pb.Next() {
			h.Record(d)
			d = d*7 + 13&(1<<30-1)
		}
	})
}
