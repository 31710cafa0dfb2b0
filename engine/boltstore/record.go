package boltstore

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/hookflow/hookflow/engine"
)

// Record applies u to a claimed run, fenced by held.Token.
//
// The new state is built and encoded here, from a read of the stored state,
// so that the commit loop only checks the lease and writes bytes. Only the
// lease holder writes a leased run's state; the one change another caller
// can make meanwhile, a cancel, is seen in the loop and the state rebuilt
// there (rare).
func (s *Store) Record(ctx context.Context, runID string, held engine.Lease, u engine.Update) error {
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
	if u.Step != nil {
		c := *u.Step // stored by value: later changes by the caller do not leak in
		u.Step = &c
	}
	if s.closed.Load() {
		return engine.ErrClosed
	}
	l, ok := s.leases.get(runID)
	if !ok || l.token != held.Token {
		return s.notLeased(runID)
	}
	var rec *recordChange
	var err error
	if l.state != nil {
		rec, err = newRecordChange(cloneState(l.state), &l, u)
	} else {
		err = s.view(func(tx *bolt.Tx) error {
			r, err := getRun(tx.Bucket(bucketRuns), tx.Bucket(bucketEvents), runID)
			if err != nil {
				return err
			}
			rec, err = newRecordChange(r, &l, u)
			return err
		})
	}
	if err != nil {
		return fmt.Errorf("boltstore: record run %s: %w", runID, err)
	}
	return s.do(ctx, func(w *writeTx) error { return w.record(runID, held.Token, u, rec) })
}

// notLeased explains why a write by a lease holder is refused.
func (s *Store) notLeased(runID string) error {
	err := s.view(func(tx *bolt.Tx) error {
		_, err := getRun(tx.Bucket(bucketRuns), tx.Bucket(bucketEvents), runID)
		return err
	})
	if err != nil {
		return err
	}
	return fmt.Errorf("boltstore: run %s: %w", runID, engine.ErrLeaseLost)
}

// recordChange is a Record's new state, encoded, and what the loop must
// change in the indexes for it.
type recordChange struct {
	run      *engine.Run
	enc      []byte
	oldDue   time.Time // the run's queue entry before the change
	cancel   bool      // the lease's cancel flag the change was built with
	canceled bool      // a cancel turned the change into canceled
}

// newRecordChange applies u to r, the stored state, as the holder of l.
func newRecordChange(r *engine.Run, l *lease, u engine.Update) (*recordChange, error) {
	present(r, l)
	c := &recordChange{run: r, oldDue: r.DueAt, cancel: l.cancel}
	if step := u.Step; step != nil {
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
	if r.CancelRequested && !status.Final() {
		status, c.canceled = engine.StatusCanceled, true
	}
	r.Status = status
	if status != engine.StatusRunning {
		r.Lease.Owner, r.Lease.ExpiresAt = "", time.Time{} // the token stays
	}
	switch status {
	case engine.StatusRetrying:
		r.DueAt = u.DueAt
	case engine.StatusQueued:
		r.DueAt = u.At
	case engine.StatusSucceeded, engine.StatusDead, engine.StatusCanceled:
		r.FinishedAt = u.At
	}
	enc, err := encodeRun(r)
	if err != nil {
		if u.Step != nil { // the one new part of the state
			return nil, fmt.Errorf("step %s: %w", u.Step.ID, err)
		}
		return nil, err
	}
	c.enc = enc
	return c, nil
}

func (w *writeTx) record(id string, token int64, u engine.Update, c *recordChange) error {
	l, ok := w.s.leases.get(id)
	if !ok || l.token != token {
		if !runExists(w.events, id) {
			return fmt.Errorf("boltstore: run %s: %w", id, engine.ErrNotFound)
		}
		return fmt.Errorf("boltstore: run %s: %w", id, engine.ErrLeaseLost)
	}
	if l.cancel && !c.cancel {
		// Canceled since the change was built: build it again.
		r, err := getRun(w.runs, w.events, id)
		if err != nil {
			return err
		}
		if c, err = newRecordChange(r, &l, u); err != nil {
			return err
		}
	}
	r := c.run
	if err := w.put(w.runs, []byte(id), c.enc); err != nil {
		return err
	}
	if r.Status == engine.StatusRunning {
		w.setState(id, r)
	} else {
		w.unlease(id)
		if err := w.moveQueued(r, c.oldDue); err != nil {
			return err
		}
	}
	if c.canceled {
		return fmt.Errorf("boltstore: record run %s: %w", id, engine.ErrCanceled)
	}
	return nil
}

// Renew moves a held lease's expiry to until. Leases live in memory, so a
// renewal writes nothing.
func (s *Store) Renew(ctx context.Context, runID string, held engine.Lease, until time.Time) error {
	if until.IsZero() {
		return fmt.Errorf("boltstore: renew run %s: until is zero", runID)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if s.closed.Load() {
		return engine.ErrClosed
	}
	until = utc(until)
	renewed := false
	s.leases.update(runID, func(l *lease) {
		if l.token == held.Token {
			l.expires, renewed = until, true
		}
	})
	if renewed {
		return nil
	}
	return s.notLeased(runID)
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
	if len(s.leases.expired(now)) == 0 {
		return 0, ctx.Err()
	}
	var n int
	err := s.do(ctx, func(w *writeTx) error {
		var err error
		n, err = w.rescue(now)
		return err
	})
	if err != nil {
		return 0, err
	}
	return n, nil
}

// rescue releases the runs whose lease expired before now, due at now.
func (w *writeTx) rescue(now time.Time) (int, error) {
	ids := w.s.leases.expired(now)
	type expired struct {
		run    *engine.Run
		oldDue time.Time
	}
	found := make([]expired, 0, len(ids))
	for _, id := range ids {
		r, err := getRun(w.runs, w.events, id)
		if err != nil {
			return 0, fmt.Errorf("boltstore: rescue: leased %w", err)
		}
		l, _ := w.s.leases.get(id)
		present(r, &l)
		found = append(found, expired{run: r, oldDue: r.DueAt})
	}
	for _, e := range found {
		r := e.run
		w.unlease(r.ID)
		r.Lease.Owner, r.Lease.ExpiresAt = "", time.Time{}
		r.UpdatedAt = now
		if r.CancelRequested {
			r.Status, r.FinishedAt = engine.StatusCanceled, now
		} else {
			r.Status, r.DueAt = engine.StatusQueued, now
		}
		if err := w.moveQueued(r, e.oldDue); err != nil {
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
		r, err := getRun(w.runs, w.events, runID)
		if err != nil {
			return err
		}
		l, leased := w.s.leases.get(runID)
		if leased {
			present(r, &l)
		} else {
			present(r, nil)
		}
		switch {
		case r.Status.Final():
			return fmt.Errorf("boltstore: cancel run %s (%s): %w", runID, r.Status, engine.ErrFinished)
		case leased:
			if r.CancelRequested {
				return nil
			}
			w.s.leases.update(runID, func(l *lease) { l.cancel = true })
			w.undo = append(w.undo, func() { w.s.leases.update(runID, func(l *lease) { l.cancel = false }) })
			r.CancelRequested = true
			defer w.setState(runID, r) // saved below
		default:
			oldDue := r.DueAt
			r.CancelRequested = true
			r.Status, r.FinishedAt = engine.StatusCanceled, now
			if err := w.moveQueued(r, oldDue); err != nil {
				return err
			}
		}
		r.UpdatedAt = now
		return w.saveRun(r)
	})
}

// cloneState copies a lease's state for a change: the copy's steps can be
// replaced and appended without touching the original.
func cloneState(r *engine.Run) *engine.Run {
	c := *r
	c.Steps = slices.Clone(r.Steps)
	return &c
}

// setState keeps r, just written for id, as its lease's state.
func (w *writeTx) setState(id string, r *engine.Run) {
	var old *engine.Run
	if w.s.leases.update(id, func(l *lease) { old, l.state = l.state, r }) {
		w.undo = append(w.undo, func() { w.s.leases.update(id, func(l *lease) { l.state = old }) })
	}
}
