package boltstore

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/hookflow/hookflow/engine"
)

// Limits on what Enqueue accepts (keys of the bbolt indexes stay small).
const (
	maxIDLen        = 128
	maxWorkflowLen  = 256
	maxDedupeKeyLen = 1024
)

// newRunRec is a run prepared for Enqueue outside the commit loop.
type newRunRec struct {
	run     *engine.Run
	event   []byte // the run's events value: its state and its event (eventValue)
	dedupe  string // dedupeKey(workflow, key), "" without a key
	created []byte // created index key
	queue   []byte // queue index key
	// givenID: the caller chose the id, which may exist already. An id
	// the store made (UUIDv7: the time and 74 random bits) is checked
	// against its batch only.
	givenID bool
}

// Enqueue stores runs in one commit and returns after the fsync. Runs are
// validated, given ids and encoded before they reach the commit loop. With
// Options.MaxQueued set, a call that would overfill the queue stores nothing
// and returns engine.ErrFull.
func (s *Store) Enqueue(ctx context.Context, runs ...*engine.Run) ([]engine.EnqueueResult, error) {
	return s.enqueue(ctx, true, runs)
}

// EnqueueOwned is Enqueue without copying the runs' maps, body and steps:
// the caller gives them up (engine.OwningEnqueuer).
func (s *Store) EnqueueOwned(ctx context.Context, runs ...*engine.Run) ([]engine.EnqueueResult, error) {
	return s.enqueue(ctx, false, runs)
}

// enqueue is Enqueue, copying what the runs hold when copyRuns is set.
func (s *Store) enqueue(ctx context.Context, copyRuns bool, runs []*engine.Run) ([]engine.EnqueueResult, error) {
	if s.closed.Load() {
		return nil, engine.ErrClosed
	}
	if len(runs) == 0 {
		return []engine.EnqueueResult{}, nil
	}
	recs := make([]newRunRec, len(runs))
	for i, in := range runs {
		rec, err := s.prepare(in, copyRuns)
		if err != nil {
			return nil, fmt.Errorf("boltstore: enqueue run %d of %d: %w", i+1, len(runs), err)
		}
		recs[i] = rec
	}
	results := make([]engine.EnqueueResult, len(runs))
	err := s.doIngest(ctx, func(w *writeTx) error { return w.enqueue(recs, results) })
	if err != nil {
		return nil, err
	}
	return results, nil
}

// prepare validates one run, copies it with the store's defaults (and,
// with copyRuns, what it holds) and encodes it.
func (s *Store) prepare(in *engine.Run, copyRuns bool) (newRunRec, error) {
	switch {
	case in == nil:
		return newRunRec{}, errors.New("run is nil")
	case in.Workflow == "":
		return newRunRec{}, errors.New("workflow is empty")
	case len(in.Workflow) > maxWorkflowLen || strings.IndexByte(in.Workflow, 0) >= 0:
		return newRunRec{}, fmt.Errorf("workflow name is longer than %d bytes or contains a NUL byte", maxWorkflowLen)
	case in.Status != "" && in.Status != engine.StatusQueued:
		return newRunRec{}, fmt.Errorf("status %q: a new run is queued", in.Status)
	case len(in.ID) > maxIDLen:
		return newRunRec{}, fmt.Errorf("id is longer than %d bytes", maxIDLen)
	case len(in.DedupeKey) > maxDedupeKeyLen:
		return newRunRec{}, fmt.Errorf("dedupe key is longer than %d bytes", maxDedupeKeyLen)
	}
	r := *in // the caller's run is not modified
	if copyRuns {
		r = *ownRun(in) // nor shared with the engine
	}
	givenID := r.ID != ""
	if !givenID {
		id, err := uuid.NewV7()
		if err != nil {
			return newRunRec{}, fmt.Errorf("new run id: %w", err)
		}
		r.ID = id.String()
	}
	r.Status = engine.StatusQueued
	r.CreatedAt = utc(r.CreatedAt)
	if r.CreatedAt.IsZero() {
		r.CreatedAt = utc(s.opts.Now())
	}
	r.UpdatedAt = utc(r.UpdatedAt)
	if r.UpdatedAt.IsZero() {
		r.UpdatedAt = r.CreatedAt
	}
	r.DueAt = utc(r.DueAt)
	if r.DueAt.IsZero() {
		r.DueAt = r.CreatedAt
	}
	r.DedupeUntil = utc(r.DedupeUntil)
	r.Event.ReceivedAt = utc(r.Event.ReceivedAt)
	r.Lease, r.Claims, r.CancelRequested = engine.Lease{}, 0, false
	r.StartedAt, r.FinishedAt = time.Time{}, time.Time{}

	event, err := eventValue(&r)
	if err != nil {
		return newRunRec{}, err
	}
	rec := newRunRec{run: &r, event: event, created: timeKey(r.CreatedAt, r.ID), queue: timeKey(r.DueAt, r.ID),
		givenID: givenID}
	if r.DedupeKey != "" {
		rec.dedupe = dedupeKey(r.Workflow, r.DedupeKey)
	}
	return rec, nil
}

// holder is who holds a dedupe key while an Enqueue is checked.
type holder struct {
	id    string
	until time.Time
	taken bool // a run of this call holds it now: write it
}

// enqueue checks every run (ids, dedupe, capacity), then writes the new ones.
func (w *writeTx) enqueue(recs []newRunRec, results []engine.EnqueueResult) error {
	holders := map[string]*holder{}
	isNew := make([]bool, len(recs))
	fresh := 0
	ids := make(map[string]bool, len(recs))
	for i, rec := range recs {
		r := rec.run
		if ids[r.ID] || (rec.givenID && runExists(w.events, r.ID)) {
			return fmt.Errorf("boltstore: enqueue: run id %q already exists", r.ID)
		}
		if rec.dedupe != "" {
			h := holders[rec.dedupe]
			if h == nil {
				until, id, found, err := w.dedupeGet(rec.dedupe)
				if err != nil {
					return fmt.Errorf("boltstore: enqueue: workflow %s: %w", r.Workflow, err)
				}
				if found {
					h = &holder{id: id, until: until}
					holders[rec.dedupe] = h
				}
			}
			if h != nil && r.CreatedAt.Before(h.until) {
				results[i] = engine.EnqueueResult{RunID: h.id, Duplicate: true}
				continue
			}
			if h == nil {
				h = &holder{}
				holders[rec.dedupe] = h
			}
			h.id, h.until, h.taken = r.ID, r.DedupeUntil, true
		}
		ids[r.ID] = true
		isNew[i] = true
		fresh++
		results[i] = engine.EnqueueResult{RunID: r.ID}
	}
	if max := w.s.opts.MaxQueued; max > 0 && w.s.waiting()+int64(w.queuedDelta+fresh) > int64(max) {
		return fmt.Errorf("boltstore: enqueue: %d runs waiting, limit %d: %w",
			w.s.waiting()+int64(w.queuedDelta), max, engine.ErrFull)
	}

	for i, rec := range recs {
		if !isNew[i] {
			continue
		}
		if err := w.put(w.events, []byte(rec.run.ID), rec.event); err != nil {
			return err
		}
		if err := w.put(w.created, rec.created, createdValue(rec.run.Workflow, time.Time{})); err != nil {
			return err
		}
		if err := w.put(w.queue, rec.queue, []byte(rec.run.Workflow)); err != nil {
			return err
		}
	}
	for dk, h := range holders {
		if !h.taken {
			continue
		}
		if err := w.dedupePut(dk, h.until, h.id); err != nil {
			return err
		}
	}
	w.queuedDelta += fresh
	w.wake = true
	w.after = append(w.after, func() {
		for i, rec := range recs {
			if isNew[i] {
				w.s.fresh.put(rec.run)
			}
		}
	})
	return nil
}
