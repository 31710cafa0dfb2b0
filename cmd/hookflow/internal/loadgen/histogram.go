package loadgen

import (
	"math"
	"math/bits"
	"sync/atomic"
	"time"
)

// The histogram is log-linear, like HdrHistogram: values below linearMax
// have a bucket each; above, every power of two is split into subCount
// buckets of equal width. A recorded value lands in a bucket whose width is
// at most 1/subCount of its lower bound, so a quantile read back is within
// 0.8% of the true value. The bucket array has a fixed size whatever the
// number of values: memory is bounded.
const (
	subBits   = 7
	subCount  = 1 << subBits // buckets per power of two
	linearMax = 2 * subCount // values below have exact buckets
	// maxShift bounds the largest value: (2*subCount)<<maxShift ns ≈ 2.4 h.
	maxShift   = 35
	numBuckets = linearMax + maxShift*subCount
	// MaxValue is the largest duration recorded exactly; larger values
	// count as MaxValue (and Max still reports the true maximum).
	MaxValue = time.Duration(linearMax<<maxShift - 1)
)

// Histogram records durations in nanoseconds in log-linear buckets. It is
// safe for concurrent use: Record only does atomic additions. The zero value
// is ready to use.
type Histogram struct {
	counts [numBuckets]atomic.Uint64
	n      atomic.Uint64
	sum    atomic.Uint64 // nanoseconds; wraps after ~584 years of total latency
	min    atomic.Int64  // 0 means unset; values are stored +1
	max    atomic.Int64
}

// bucketOf returns the bucket index of v (v ≥ 0, v ≤ MaxValue).
func bucketOf(v uint64) int {
	if v < linearMax {
		return int(v)
	}
	shift := bits.Len64(v) - (subBits + 1) // ≥ 1: v>>shift is in [subCount, 2*subCount)
	top := v >> uint(shift)
	return linearMax + (shift-1)*subCount + int(top-subCount)
}

// bucketBounds returns the smallest and largest value of bucket i.
func bucketBounds(i int) (lo, hi uint64) {
	if i < linearMax {
		return uint64(i), uint64(i)
	}
	i -= linearMax
	shift := uint(i/subCount + 1)
	top := uint64(i%subCount + subCount)
	return top << shift, (top+1)<<shift - 1
}

// Record adds one duration. Negative durations count as zero.
func (h *Histogram) Record(d time.Duration) {
	v := max(int64(d), 0)
	h.counts[bucketOf(uint64(min(v, int64(MaxValue))))].Add(1)
	h.n.Add(1)
	h.sum.Add(uint64(v))
	for {
		cur := h.min.Load()
		if cur != 0 && cur-1 <= v || h.min.CompareAndSwap(cur, v+1) {
			break
		}
	}
	for {
		cur := h.max.Load()
		if cur >= v || h.max.CompareAndSwap(cur, v) {
			break
		}
	}
}

// Merge adds every value recorded in o to h.
func (h *Histogram) Merge(o *Histogram) {
	if o.n.Load() == 0 {
		return
	}
	for i := range o.counts {
		if c := o.counts[i].Load(); c != 0 {
			h.counts[i].Add(c)
		}
	}
	h.n.Add(o.n.Load())
	h.sum.Add(o.sum.Load())
	if m := o.min.Load(); m != 0 {
		for {
			cur := h.min.Load()
			if cur != 0 && cur <= m || h.min.CompareAndSwap(cur, m) {
				break
			}
		}
	}
	if m := o.max.Load(); m > 0 {
		for {
			cur := h.max.Load()
			if cur >= m || h.max.CompareAndSwap(cur, m) {
				break
			}
		}
	}
}

// Count returns how many values were recorded.
func (h *Histogram) Count() uint64 { return h.n.Load() }

// Max returns the largest value recorded (0 when empty).
func (h *Histogram) Max() time.Duration { return time.Duration(h.max.Load()) }

// Min returns the smallest value recorded (0 when empty).
func (h *Histogram) Min() time.Duration {
	if m := h.min.Load(); m != 0 {
		return time.Duration(m - 1)
	}
	return 0
}

// Mean returns the average value (0 when empty).
func (h *Histogram) Mean() time.Duration {
	n := h.n.Load()
	if n == 0 {
		return 0
	}
	return time.Duration(h.sum.Load() / n)
}

// Quantile returns the value below or at which a fraction q (0..1) of the
// values lie: the upper bound of the bucket holding the value of that rank,
// capped by Max, so it never under-reports. It returns 0 when empty.
func (h *Histogram) Quantile(q float64) time.Duration {
	n := h.n.Load()
	if n == 0 {
		return 0
	}
	q = min(max(q, 0), 1)
	rank := uint64(math.Ceil(q * float64(n)))
	rank = max(rank, 1)
	if rank == n {
		return h.Max()
	}
	var seen uint64
	for i := range h.counts {
		seen += h.counts[i].Load()
		if seen >= rank {
			_, hi := bucketBounds(i)
			if i == numBuckets-1 {
				return h.Max() // values over MaxValue land here
			}
			return min(time.Duration(hi), h.Max())
		}
	}
	return h.Max()
}

// Summary is a histogram's digest in milliseconds, as reports print it.
type Summary struct {
	Count uint64  `json:"count"`
	Mean  float64 `json:"mean"`
	P50   float64 `json:"p50"`
	P90   float64 `json:"p90"`
	P99   float64 `json:"p99"`
	P999  float64 `json:"p99_9"`
	Max   float64 `json:"max"`
}

// Summary returns the count, mean, p50, p90, p99, p99.9 and max in
// milliseconds.
func (h *Histogram) Summary() Summary {
	return Summary{
		Count: h.Count(),
		Mean:  ms(h.Mean()),
		P50:   ms(h.Quantile(0.50)),
		P90:   ms(h.Quantile(0.90)),
		P99:   ms(h.Quantile(0.99)),
		P999:  ms(h.Quantile(0.999)),
		Max:   ms(h.Max()),
	}
}

func ms(d time.Duration) float64 { return math.Round(float64(d)/1e3) / 1e3 }
