package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/hookflow/hookflow/cmd/hookflow/internal/loadgen"
	"github.com/hookflow/hookflow/engine"
	"github.com/hookflow/hookflow/engine/admin"
)

// ackLog keeps the run id of every acknowledged event, for the zero-loss
// check. UUIDs take 16 bytes each; other ids are kept as strings.
type ackLog struct {
	mu     sync.Mutex
	uuids  [][16]byte
	others []string
	noRun  uint64 // 2xx answers without a run id (filtered events)
}

var runIDField = []byte(`"run_id":"`)

// add records the answer to one event.
func (a *ackLog) add(status int, body []byte) {
	if status < 200 || status > 299 {
		return
	}
	id := ""
	if i := bytes.Index(body, runIDField); i >= 0 {
		rest := body[i+len(runIDField):]
		if j := bytes.IndexByte(rest, '"'); j > 0 {
			id = string(rest[:j])
		}
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	switch u, err := uuid.Parse(id); {
	case id == "":
		a.noRun++
	case err == nil:
		a.uuids = append(a.uuids, u)
	default:
		a.others = append(a.others, id)
	}
}

// len returns how many run ids were recorded.
func (a *ackLog) len() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.uuids) + len(a.others)
}

// id returns the i-th run id.
func (a *ackLog) id(i int) string {
	if i < len(a.uuids) {
		return uuid.UUID(a.uuids[i]).String()
	}
	return a.others[i-len(a.uuids)]
}

// runState is what the zero-loss check reads back about a run.
type runState struct {
	Status            engine.Status
	Created, Finished time.Time
}

// runReader reads a run back; found is false when the run does not exist.
type runReader interface {
	readRun(ctx context.Context, id string) (st runState, found bool, err error)
	pollEvery() time.Duration
}

// storeRuns reads runs from the in-process daemon's store.
type storeRuns struct{ store engine.Store }

func (s storeRuns) readRun(ctx context.Context, id string) (runState, bool, error) {
	r, err := s.store.Get(ctx, id)
	if errors.Is(err, engine.ErrNotFound) {
		return runState{}, false, nil
	}
	if err != nil {
		return runState{}, false, err
	}
	return runState{Status: r.Status, Created: r.CreatedAt, Finished: r.FinishedAt}, true, nil
}

func (storeRuns) pollEvery() time.Duration { return 5 * time.Millisecond }

// adminRuns reads runs through a running daemon's admin API.
type adminRuns struct{ client *admin.Client }

func (a adminRuns) readRun(ctx context.Context, id string) (runState, bool, error) {
	d, err := a.client.Run(ctx, id)
	var ae *admin.APIError
	if errors.As(err, &ae) && ae.Status == http.StatusNotFound {
		return runState{}, false, nil
	}
	if err != nil {
		return runState{}, false, err
	}
	return runState{Status: d.Status, Created: d.CreatedAt, Finished: d.FinishedAt}, true, nil
}

func (adminRuns) pollEvery() time.Duration { return 50 * time.Millisecond }

// accounting is the outcome of the zero-loss check.
type accounting struct {
	Acked    int               // run ids acknowledged
	Final    int               // of those, runs in a final status
	Missing  []string          // acknowledged but not in the store: lost
	NotFinal int               // still not final when progress stalled
	ByStatus map[string]uint64 // final runs by status
	// Measured-window figures, from the runs' own timestamps.
	InWindow     uint64             // runs that finished inside the window
	E2E          *loadgen.Histogram // created → finished, runs acked in the window
	LastFinished time.Time
}

// account waits until every acknowledged run is final and reads what
// happened to each. It gives up on the runs still not final when the engine
// made no progress for stall: no acknowledged run became final and, when
// queued is set, the store's queue depth did not change (runs ahead of
// them, a preloaded backlog, are being worked off). Runs acked at index ≥
// measuredFrom are the measured window's, whose end-to-end latency is
// recorded. workers reads go on at once.
func account(ctx context.Context, rr runReader, acks *ackLog, measuredFrom int, winStart, winEnd time.Time,
	stall time.Duration, queued func() int64, workers int) (*accounting, error) {
	acks.mu.Lock()
	defer acks.mu.Unlock()
	n := len(acks.uuids) + len(acks.others)
	acc := &accounting{Acked: n, ByStatus: map[string]uint64{}, E2E: &loadgen.Histogram{}}
	var progress, depth atomic.Int64 // when progress was last seen (unix ns); the queue depth then
	progress.Store(time.Now().UnixNano())
	if queued != nil {
		depth.Store(queued())
	}
	stalled := func() bool {
		if queued != nil {
			if d := queued(); d != depth.Swap(d) {
				progress.Store(time.Now().UnixNano())
			}
		}
		return time.Since(time.Unix(0, progress.Load())) > stall
	}
	var mu sync.Mutex
	var firstErr error
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += workers {
				id := acks.id(i)
				var st runState
				var found bool
				var err error
				for {
					st, found, err = rr.readRun(ctx, id)
					if err != nil || !found || st.Status.Final() || stalled() {
						break
					}
					t := time.NewTimer(rr.pollEvery())
					select {
					case <-ctx.Done():
						t.Stop()
						err = ctx.Err()
					case <-t.C:
					}
					if err != nil {
						break
					}
				}
				mu.Lock()
				switch {
				case err != nil:
					if firstErr == nil {
						firstErr = fmt.Errorf("read run %s: %w", id, err)
					}
				case !found:
					acc.Missing = append(acc.Missing, id)
				case !st.Status.Final():
					acc.NotFinal++
				default:
					progress.Store(time.Now().UnixNano())
					acc.Final++
					acc.ByStatus[string(st.Status)]++
					if !st.Finished.Before(winStart) && !st.Finished.After(winEnd) {
						acc.InWindow++
					}
					if i >= measuredFrom {
						acc.E2E.Record(st.Finished.Sub(st.Created))
					}
					if st.Finished.After(acc.LastFinished) {
						acc.LastFinished = st.Finished
					}
				}
				stop := firstErr != nil
				mu.Unlock()
				if stop {
					return
				}
			}
		}()
	}
	wg.Wait()
	return acc, firstErr
}
