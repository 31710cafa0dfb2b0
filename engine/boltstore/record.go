package boltstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/hookflow/hookflow/engine"
)

// Record applies u to a claimed run, fenced by lease.Token.
func (s *Store) Record(ctx context.Context, runID string, lease engine.Lease, u engine.Update) error {
	switch u.Status {
	case engine.StatusRunning, engine.StatusRetrying, engine.StatusQueued,
		engine.StatusSucceeded, engine.StatusDead, engine.StatusCanceled:
	default:
		return fmt.Errorf("boltstore: record run %s: unknown status %q", runID, u.Status)
	}
	if u.At.IsZero() {
		return fmt.Errorf("boltstore: record run %s: At is zero", runID)
	}
	u.At, u.DueAt = utc(u.At), utc(u.DueAt)
	if u.Status == engine.StatusRetrying && u.DueAt.IsZero() {
		u.DueAt = u.At
	}
	var step *engine.StepRecord
	if u.Step != nil {
		// Checked here, not in the commit loop: an output JSON cannot hold
		// (NaN, a channel) is the caller's error.
		if _, err := json.Marshal(u.Step); err != nil {
			return fmt.Errorf("boltstore: record run %s: step %s: %w", runID, u.Step.ID, err)
		}
		c := *u.Step // stored by value: later changes by the caller do not leak in
		step = &c
	}
	if s.closed.Load() {
		return engine.ErrClosed
	}
	return s.do(ctx, func(w *writeTx) error { return w.record(runID, lease, u, step) })
}

func (w *writeTx) record(id string, lease engine.Lease, u engine.Update, step *engine.StepRecord) error {
	r, err := w.fenced(id, lease)
	if err != nil {
		return err
	}
	if step != nil {
		replaced := false
		for i := range r.Steps {
			if r.Steps[i].ID == step.ID {
				r.Steps[i], replaced = *step, true
				break
			}
		}
		if !replaced {
			r.Steps = append(r.Steps, *step)
		}
	}
	r.UpdatedAt, r.Error = u.At, u.Error
	status := u.Status
	canceled := r.CancelRequested && !status.Final()
	if canceled {
		status = engine.StatusCanceled
	}
	if status != engine.StatusRunning {
		if err := w.release(r); err != nil {
			return err
		}
	}
	switch status {
	case engine.StatusRunning:
		r.Status = status
	case engine.StatusRetrying:
		err = w.requeue(r, status, u.DueAt)
	case engine.StatusQueued:
		err = w.requeue(r, status, u.At)
	default:
		err = w.finish(r, status, u.At)
	}
	if err != nil {
		return err
	}
	if err := w.saveRun(r); err != nil {
		return err
	}
	if canceled {
		return fmt.Errorf("boltstore: record run %s: %w", id, engine.ErrCanceled)
	}
	return nil
}

// Renew moves a held lease's expiry to until.
func (s *Store) Renew(ctx context.Context, runID string, lease engine.Lease, until time.Time) error {
	if until.IsZero() {
		return fmt.Errorf("boltstore: renew run %s: until is zero", runID)
	}
	until = utc(until)
	if s.closed.Load() {
		return engine.ErrClosed
	}
	return s.do(ctx, func(w *writeTx) error {
		r, err := w.fenced(runID, lease)
		if err != nil {
			return err
		}
		if err := w.del(w.leases, timeKey(r.Lease.ExpiresAt, r.ID)); err != nil {
			return err
		}
		r.Lease.ExpiresAt = until
		if err := w.put(w.leases, timeKey(until, r.ID), []byte(r.Workflow)); err != nil {
			return err
		}
		return w.saveRun(r)
	})
}

// Rescue requeues every running run whose lease expired before now, due at
// now, keeping its token. A rescued run whose cancel was requested has no
// holder left to see it, so it becomes canceled instead; it counts as
// rescued.
func (s *Store) Rescue(ctx context.Context, now time.Time) (int, error) {
	if now.IsZero() {
		return 0, errors.New("boltstore: rescue: now is zero")
	}
	now = utc(now)
	var n int
	err := s.do(ctx, func(w *writeTx) error {
		var err error
		n, err = w.rescue(now, now)
		return err
	})
	if err != nil {
		return 0, err
	}
	return n, nil
}

// RescueAll hands back every leased run, expired or not, due at now. The
// daemon calls it right after Open: bbolt's file lock makes this process the
// only user of the file, so any lease found in it belongs to a process that
// died (a kill -9), and its runs need not wait for the lease to expire.
func (s *Store) RescueAll(ctx context.Context, now time.Time) (int, error) {
	if now.IsZero() {
		return 0, errors.New("boltstore: rescue all: now is zero")
	}
	now = utc(now)
	var n int
	err := s.do(ctx, func(w *writeTx) error {
		var err error
		n, err = w.rescue(time.Unix(1<<40, 0), now)
		return err
	})
	return n, err
}

// rescue releases the runs whose lease expires before cutoff, due at now.
func (w *writeTx) rescue(cutoff, now time.Time) (int, error) {
	type expired struct {
		key []byte
		run *engine.Run
	}
	var found []expired
	c := w.leases.Cursor()
	for k, _ := c.First(); k != nil; k, _ = c.Next() {
		exp, id, ok := splitTimeKey(k)
		if !ok {
			return 0, fmt.Errorf("boltstore: rescue: corrupt lease key %x", k)
		}
		if !exp.Before(cutoff) {
			break
		}
		r, err := getRun(w.runs, id)
		if err != nil {
			return 0, fmt.Errorf("boltstore: rescue: leased %w", err)
		}
		found = append(found, expired{key: append([]byte(nil), k...), run: r})
	}
	for _, e := range found {
		r := e.run
		if err := w.release(r); err != nil {
			return 0, err
		}
		r.UpdatedAt = now
		var err error
		if r.CancelRequested {
			err = w.finish(r, engine.StatusCanceled, now)
		} else {
			err = w.requeue(r, engine.StatusQueued, now)
		}
		if err != nil {
			return 0, err
		}
		if err := w.saveRun(r); err != nil {
			return 0, err
		}
	}
	return len(found), nil
}

// Cancel cancels a queued or retrying run at once and marks a running one.
func (s *Store) Cancel(ctx context.Context, runID string, now time.Time) error {
	if now.IsZero() {
		return fmt.Errorf("boltstore: cancel run %s: now is zero", runID)
	}
	now = utc(now)
	if s.closed.Load() {
		return engine.ErrClosed
	}
	return s.do(ctx, func(w *writeTx) error {
		r, err := getRun(w.runs, runID)
		if err != nil {
			return err
		}
		switch {
		case r.Status.Final():
			return fmt.Errorf("boltstore: cancel run %s (%s): %w", runID, r.Status, engine.ErrFinished)
		case r.Status == engine.StatusRunning:
			if r.CancelRequested {
				return nil
			}
			r.CancelRequested = true
		default:
			if err := w.unqueue(r); err != nil {
				return err
			}
			r.CancelRequested = true
			if err := w.finish(r, engine.StatusCanceled, now); err != nil {
				return err
			}
		}
		r.UpdatedAt = now
		return w.saveRun(r)
	})
}
