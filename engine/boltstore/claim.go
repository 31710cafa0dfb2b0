package boltstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/hookflow/hookflow/engine"
)

// Claim leases up to req.Max due runs, oldest due first.
//
// The commit loop walks the queue index from its start while runs are due,
// skipping runs already leased and workflows at their concurrency limit
// (they stay first in line), and takes the leases in memory: a claim writes
// nothing to the file (see leases.go). The claimed runs are then read, and
// their JSON decoded, in a read transaction outside the loop.
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
	var (
		picks []pick
		next  time.Time
	)
	err := s.doClaim(ctx, func(w *writeTx) error {
		var err error
		picks, next, err = w.claim(req)
		return err
	})
	if err != nil {
		return engine.Claimed{}, err
	}
	out := engine.Claimed{Runs: make([]*engine.Run, len(picks)), NextDue: next}
	missed := 0
	for i, p := range picks {
		if r := s.fresh.take(p.id); r != nil {
			out.Runs[i] = s.claimed(r, p)
		} else {
			missed++
		}
	}
	if missed == 0 {
		return out, nil
	}
	err = s.view(func(tx *bolt.Tx) error {
		runs, events := tx.Bucket(bucketRuns), tx.Bucket(bucketEvents)
		for i, p := range picks {
			if out.Runs[i] != nil {
				continue
			}
			r, err := getRun(runs, events, p.id)
			if err != nil {
				return fmt.Errorf("boltstore: claim: queued %w", err)
			}
			if err := withEvent(events, r); err != nil {
				return fmt.Errorf("boltstore: claim: %w", err)
			}
			out.Runs[i] = s.claimed(r, p)
		}
		return nil
	})
	if err != nil {
		// The runs stay leased until their leases expire and Rescue hands
		// them back; a read failing here means the file is unreadable.
		return engine.Claimed{}, err
	}
	return out, nil
}

// claimed keeps r's stored state with its lease and returns r as claimed.
func (s *Store) claimed(r *engine.Run, p pick) *engine.Run {
	state := *r
	state.Event = engine.Event{}
	state.Steps = slices.Clone(r.Steps) // the engine updates its run's steps in place
	s.leases.update(p.id, func(l *lease) {
		if l.token == p.lease.token {
			l.state = &state
		}
	})
	present(r, &p.lease)
	return r
}

// pick is a run claimed in the commit loop, with a copy of its lease.
type pick struct {
	id    string
	lease lease
}

// claim leases up to req.Max due runs, oldest due first.
//
// The queue's first entries are the runs being executed, leased: with 256
// workers and a backlog, every claim would step over 256 of them. A claim
// starts at s.claimFrom instead, before which every entry is leased: a
// claim moves it to the first entry it leaves unleased (or where it
// stopped), and a put into the queue before it moves it back (writeTx.put).
// A lease ends only where its entry is deleted or moved (moveQueued), which
// is such a put; a rolled-back batch restores it with its leases.
func (w *writeTx) claim(req engine.ClaimRequest) ([]pick, time.Time, error) {
	var (
		picks []pick
		next  time.Time
		from  []byte // the new claimFrom, once found
		last  []byte // the last entry seen
	)
	t := w.s.leases
	c := w.queue.Cursor()
	var k, wf []byte
	if w.s.claimFrom != nil {
		k, wf = c.Seek(w.s.claimFrom)
	} else {
		k, wf = c.First()
	}
	for ; k != nil; k, wf = c.Next() {
		if len(k) < timeLen {
			return nil, time.Time{}, fmt.Errorf("boltstore: claim: corrupt queue key %x", k)
		}
		last = k
		if due := getTime(k); due.After(req.Now) {
			next = due
			break
		}
		if len(picks) == req.Max {
			break
		}
		idb := k[timeLen:]
		t.mu.RLock()
		_, leased := t.byID[string(idb)]
		atLimit := false
		if limit := req.Concurrency[string(wf)]; limit > 0 {
			atLimit = t.byWF[string(wf)] >= limit
		}
		t.mu.RUnlock()
		if leased {
			continue
		}
		if atLimit {
			if from == nil {
				from = bytes.Clone(k)
			}
			continue
		}
		id := string(idb)
		l := &lease{
			workflow: string(wf), owner: req.Owner, token: t.nextToken(),
			expires: req.Now.Add(req.LeaseFor), claimed: req.Now,
		}
		w.lease(id, l)
		picks = append(picks, pick{id: id, lease: *l})
	}
	switch {
	case from != nil:
	case k != nil: // stopped at a run not due yet, or at Max
		from = bytes.Clone(k)
	case last != nil: // every entry is leased: the next one put is the start
		from = append(bytes.Clone(last), 0)
	}
	if from != nil {
		old := w.s.claimFrom
		w.s.claimFrom = from
		w.undo = append(w.undo, func() { w.s.claimFrom = old })
	}
	if next.IsZero() {
		// Stopped at Max (or the end): find the first run not yet due.
		if k, _ := w.queue.Cursor().Seek(timePrefix(req.Now.Add(time.Nanosecond))); k != nil {
			next, _, _ = splitTimeKey(k)
		}
	}
	return picks, next, nil
}
