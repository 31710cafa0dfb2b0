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
// keys whose window ended before req.Now (purgeDedupe, in dedupe.go).
//
// Final runs are found in the created index, whose entries hold the finish
// time (createdValue): a run that finished before the cutoff was created
// before it, so a batch walks the entries created before the cutoff, oldest
// first, and skips those of runs not final (or final since). A batch that
// fills its limit leaves the next one a place to go on from
// (Store.purgeFrom); one that does not has looked at every entry, so a
// Purge that returns fewer than its limit leaves nothing to delete. The runs
// a batch skips are read again by every pass: few in practice (runs
// created before the retention cutoff and still waiting or retrying), and
// read from the index alone. Layout 4 had a finished index for this; keeping
// it cost every commit that finished a run the pages of one more B+tree.
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
	var (
		gone   [][]byte // created index keys of the runs to delete
		resume []byte   // the first entry not looked at, when gone is full
	)
	// walk looks at the entries from from (nil: the first) up to to (nil:
	// the cutoff).
	walk := func(from, to []byte) error {
		c := w.created.Cursor()
		var k, v []byte
		if from == nil {
			k, v = c.First()
		} else {
			k, v = c.Seek(from)
		}
		for ; k != nil; k, v = c.Next() {
			if to != nil && bytes.Compare(k, to) >= 0 {
				return nil
			}
			created, _, ok := splitTimeKey(k)
			if !ok {
				return fmt.Errorf("boltstore: purge: corrupt created key %x", k)
			}
			if !created.Before(req.FinishedBefore) {
				return nil
			}
			if len(gone) == req.Limit {
				resume = bytes.Clone(k)
				return nil
			}
			_, finished, ok := splitCreatedValue(v)
			if !ok {
				return fmt.Errorf("boltstore: purge: corrupt created entry %x", k)
			}
			if !finished.IsZero() && finished.Before(req.FinishedBefore) {
				gone = append(gone, bytes.Clone(k))
			}
		}
		return nil
	}
	from := w.s.purgeFrom
	if err := walk(from, nil); err != nil {
		return 0, err
	}
	if len(gone) < req.Limit && from != nil {
		if err := walk(nil, from); err != nil {
			return 0, err
		}
	}
	for _, k := range gone {
		id := k[timeLen:]
		if err := w.del(w.runs, id); err != nil {
			return 0, err
		}
		if err := w.del(w.events, id); err != nil {
			return 0, err
		}
		if err := w.del(w.created, k); err != nil {
			return 0, err
		}
	}
	keys, err := w.purgeDedupe(utc(req.Now), req.Limit-len(gone))
	if err != nil {
		return 0, err
	}
	w.after = append(w.after, func() { w.s.purgeFrom = resume })
	return len(gone) + keys, nil
}
