package boltstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hookflow/hookflow/engine"
)

// Claim leases up to req.Max due runs, oldest due first.
//
// It walks the queue index from its start while runs are due. Runs of a
// workflow at its concurrency limit are skipped (they stay first in line);
// running runs per workflow are counted from the leases index, which holds
// exactly the running runs, so no count lives only in memory.
func (s *Store) Claim(ctx context.Context, req engine.ClaimRequest) (engine.Claimed, error) {
	switch {
	case req.Max < 1:
		return engine.Claimed{}, fmt.Errorf("boltstore: claim: Max is %d, want at least 1", req.Max)
	case req.LeaseFor <= 0:
		return engine.Claimed{}, fmt.Errorf("boltstore: claim: LeaseFor is %s, want > 0", req.LeaseFor)
	case req.Now.IsZero():
		return engine.Claimed{}, errors.New("boltstore: claim: Now is zero")
	}
	req.Now = utc(req.Now)
	var out engine.Claimed
	err := s.do(ctx, func(w *writeTx) error {
		c, err := w.claim(req)
		out = c
		return err
	})
	if err != nil {
		return engine.Claimed{}, err
	}
	return out, nil
}

func (w *writeTx) claim(req engine.ClaimRequest) (engine.Claimed, error) {
	var running map[string]int
	if len(req.Concurrency) > 0 {
		running = map[string]int{}
		_ = w.leases.ForEach(func(_, wf []byte) error {
			running[string(wf)]++
			return nil
		})
	}

	// Check phase: pick the runs and decode them; nothing is written yet.
	type pick struct {
		key []byte
		run *engine.Run
	}
	var picks []pick
	var next time.Time
	c := w.queue.Cursor()
	for k, wf := c.First(); k != nil; k, wf = c.Next() {
		due, id, ok := splitTimeKey(k)
		if !ok {
			return engine.Claimed{}, fmt.Errorf("boltstore: claim: corrupt queue key %x", k)
		}
		if due.After(req.Now) {
			next = due
			break
		}
		if len(picks) == req.Max {
			break
		}
		if limit := req.Concurrency[string(wf)]; limit > 0 {
			if running[string(wf)] >= limit {
				continue
			}
			running[string(wf)]++
		}
		r, err := getRun(w.runs, id)
		if err != nil {
			return engine.Claimed{}, fmt.Errorf("boltstore: claim: queued %w", err)
		}
		if err := withEvent(w.events, r); err != nil {
			return engine.Claimed{}, fmt.Errorf("boltstore: claim: %w", err)
		}
		picks = append(picks, pick{key: bytes.Clone(k), run: r})
	}
	if next.IsZero() {
		// Stopped at Max (or the end): find the first run not yet due.
		if k, _ := w.queue.Cursor().Seek(timePrefix(req.Now.Add(time.Nanosecond))); k != nil {
			next, _, _ = splitTimeKey(k)
		}
	}

	// Write phase.
	out := engine.Claimed{Runs: make([]*engine.Run, 0, len(picks)), NextDue: next}
	for _, p := range picks {
		r := p.run
		if err := w.del(w.queue, p.key); err != nil {
			return engine.Claimed{}, err
		}
		w.queuedDelta--
		r.Status = engine.StatusRunning
		r.Claims++
		r.Lease = engine.Lease{Owner: req.Owner, Token: r.Lease.Token + 1, ExpiresAt: req.Now.Add(req.LeaseFor)}
		if r.StartedAt.IsZero() {
			r.StartedAt = req.Now
		}
		r.UpdatedAt = req.Now
		if err := w.put(w.leases, timeKey(r.Lease.ExpiresAt, r.ID), []byte(r.Workflow)); err != nil {
			return engine.Claimed{}, err
		}
		if err := w.saveRun(r); err != nil {
			return engine.Claimed{}, err
		}
		out.Runs = append(out.Runs, r)
	}
	return out, nil
}
