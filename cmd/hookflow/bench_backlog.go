package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/hookflow/hookflow/engine"
	"github.com/hookflow/hookflow/workflows"
)

// benchWorkflowVersion loads the synthetic workflow to learn the version
// its runs carry.
func benchWorkflowVersion(wfDir string) (string, error) {
	set, err := workflows.Load(workflows.Options{}, wfDir)
	if err != nil {
		return "", fmt.Errorf("bench: load the bench workflow: %w", err)
	}
	wf := set.ByName("bench")
	if wf == nil {
		return "", fmt.Errorf("bench: no workflow named bench in %s", wfDir)
	}
	return wf.Version, nil
}

// preloadRuns enqueues n runs of the bench workflow, numbered from seq,
// batch at a time. Two goroutines prepare batches so that encoding one
// overlaps the commit of the other. progress sees how many are stored.
func preloadRuns(ctx context.Context, store engine.Store, es *eventSource, version string, seq uint64, n, batch int, progress func(done int)) error {
	var next, stored atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, 2)
	for g := 0; g < 2; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			runs := make([]*engine.Run, 0, batch)
			for ctx.Err() == nil {
				from := next.Add(int64(batch)) - int64(batch)
				if from >= int64(n) {
					return
				}
				to := min(from+int64(batch), int64(n))
				runs = runs[:0]
				now := time.Now()
				for i := from; i < to; i++ {
					r, err := backlogRun(es, version, seq+uint64(i), now)
					if err != nil {
						errs <- err
						return
					}
					runs = append(runs, r)
				}
				if _, err := store.Enqueue(ctx, runs...); err != nil {
					errs <- fmt.Errorf("enqueue runs %d to %d: %w", from, to, err)
					return
				}
				done := stored.Add(to - from)
				if progress != nil {
					progress(int(done))
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return err
	}
	return ctx.Err()
}

// backlogRun is the run the webhook trigger would have made of event seq.
func backlogRun(es *eventSource, version string, seq uint64, now time.Time) (*engine.Run, error) {
	ev, err := es.make(seq)
	if err != nil {
		return nil, err
	}
	id, err := uuid.NewV7()
	if err != nil {
		return nil, fmt.Errorf("run id: %w", err)
	}
	headers := map[string]string{
		"content-type":   "application/json",
		"content-length": strconv.Itoa(len(ev.Body)),
		"host":           "127.0.0.1",
	}
	for k, v := range ev.Header {
		headers[strings.ToLower(k)] = v
	}
	return &engine.Run{
		ID:              id.String(),
		Workflow:        "bench",
		WorkflowVersion: version,
		Status:          engine.StatusQueued,
		CreatedAt:       now,
		UpdatedAt:       now,
		DueAt:           now,
		DedupeKey:       es.id(seq),
		DedupeUntil:     now.Add(workflows.DefaultDedupeWindow),
		Event: engine.Event{
			ID: id.String(), Method: "POST", Path: benchPath, Headers: headers,
			ContentType: "application/json", Body: ev.Body, ReceivedAt: now,
		},
	}, nil
}
