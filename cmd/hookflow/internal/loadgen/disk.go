package loadgen

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"
)

// SyncBlock is the size of each append SyncCost makes: one page of bbolt's
// default size, the smallest write a commit makes.
const SyncBlock = 4096

// SyncCost measures what durability costs on the disk under dir: n times,
// it appends SyncBlock bytes to a new file and fsyncs it, and records how
// long each append and fsync took together. The file is removed before it
// returns.
//
// Every durable ack waits for at least one such fsync (a bbolt commit makes
// two), so this one figure sets the scale of everything the bench measures
// on a machine: ack rates and latencies are comparable across machines as
// ratios to ceilings measured in the same run, and the fsync cost says how
// far apart the machines are. Measure it on an idle machine: under load it
// includes the wait for a CPU.
func SyncCost(ctx context.Context, dir string, n int) (*Histogram, error) {
	if n <= 0 {
		return nil, fmt.Errorf("sync cost: %d appends: want at least one", n)
	}
	f, err := os.CreateTemp(dir, "hookflow-bench-fsync-")
	if err != nil {
		return nil, fmt.Errorf("sync cost: %w", err)
	}
	name := f.Name()
	h := &Histogram{}
	block := make([]byte, SyncBlock)
	for i := 0; i < n && err == nil; i++ {
		if err = ctx.Err(); err != nil {
			break
		}
		start := time.Now()
		if _, err = f.Write(block); err == nil {
			err = f.Sync()
		}
		h.Record(time.Since(start))
	}
	err = errors.Join(err, f.Close(), os.Remove(name))
	if err != nil {
		return nil, fmt.Errorf("sync cost: %w", err)
	}
	return h, nil
}
