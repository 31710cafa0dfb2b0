package boltstore

import (
	"bytes"
	"context"
	"fmt"

	"github.com/hookflow/hookflow/engine"
)

// DefaultPurgeLimit is the batch size of a Purge whose Limit is not set.
const DefaultPurgeLimit = 1000

// Purge deletes up to req.Limit records in one commit: finished runs (with
// their index entries) that finished before req.FinishedBefore, then dedupe
// keys whose window ended before req.Now (purgeDedupe, in dedupe.go). The
// finished index is time-ordered, so a batch reads only what it deletes.
func (s *Store) Purge(ctx context.Context, req engine.PurgeRequest) (int, error) {
	if req.Limit <= 0 {
		req.Limit = DefaultPurgeLimit
	}
	if s.closed.Load() {
		return 0, engine.ErrClosed
	}
	var n int
	err := s.do(ctx, func(w *writeTx) error {
		var err error
		n, err = w.purge(req)
		return err
	})
	if err != nil {
		return 0, err
	}
	return n, nil
}

func (w *writeTx) purge(req engine.PurgeRequest) (int, error) {
	type gone struct{ key, created []byte }
	var runs []gone
	c := w.finished.Cursor()
	for k, v := c.First(); k != nil && len(runs) < req.Limit; k, v = c.Next() {
		at, _, ok := splitTimeKey(k)
		if !ok || len(v) != timeLen {
			return 0, fmt.Errorf("boltstore: purge: corrupt finished entry %x", k)
		}
		if !at.Before(req.FinishedBefore) {
			break
		}
		runs = append(runs, gone{key: bytes.Clone(k), created: bytes.Clone(v)})
	}
	for _, g := range runs {
		id := g.key[timeLen:]
		if err := w.del(w.runs, id); err != nil {
			return 0, err
		}
		if err := w.del(w.events, id); err != nil {
			return 0, err
		}
		if err := w.del(w.created, append(g.created, id...)); err != nil {
			return 0, err
		}
		if err := w.del(w.finished, g.key); err != nil {
			return 0, err
		}
	}
	keys, err := w.purgeDedupe(utc(req.Now), req.Limit-len(runs))
	if err != nil {
		return 0, err
	}
	return len(runs) + keys, nil
}
