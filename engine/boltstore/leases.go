package boltstore

import (
	"sync"
	"time"

	"github.com/hookflow/hookflow/engine"
)

// Leases live in memory, not in the file.
//
// bbolt's file lock makes one process the only user of a store, so a lease
// only has to fence workers of this process, and it cannot outlive it: after
// a crash every run it held is simply still in the queue bucket (a claim
// does not remove it there) and is claimed again after the restart, at its
// first unfinished step. Claims and renewals therefore write nothing and
// cost no fsync; only Record, Cancel and Rescue of a leased run write.
//
// The stored state of a running run is what its last Record wrote (or its
// enqueue); callers see it through present, which applies the lease.

// lease is a claim held by this process.
type lease struct {
	workflow string
	owner    string
	token    int64
	expires  time.Time
	claimed  time.Time // the claim's Now
	cancel   bool      // Cancel was asked while the run was leased (also stored)
	// state is the run's stored state (no Event) as of the claim or the
	// last write under this lease, so that Record need not read and decode
	// it. Never modified: a write replaces it. Nil until the claim has read
	// the run.
	state *engine.Run
}

// leaseTable is the set of leased runs. The commit loop is its only writer
// (under mu); readers take mu for reading.
type leaseTable struct {
	mu    sync.RWMutex
	byID  map[string]*lease
	byWF  map[string]int // leased runs per workflow (concurrency limits)
	token int64          // the last token handed out
}

func newLeaseTable(now time.Time) *leaseTable {
	// Tokens start at the clock so that they also grow across restarts.
	return &leaseTable{byID: map[string]*lease{}, byWF: map[string]int{}, token: now.UnixNano()}
}

// get returns a copy of id's lease.
func (t *leaseTable) get(id string) (lease, bool) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	l, ok := t.byID[id]
	if !ok {
		return lease{}, false
	}
	return *l, true
}

func (t *leaseTable) len() int {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return len(t.byID)
}

// add leases id; the caller has checked it is not leased.
func (t *leaseTable) add(id string, l *lease) {
	t.mu.Lock()
	t.byID[id] = l
	t.byWF[l.workflow]++
	t.mu.Unlock()
}

// remove ends id's lease and returns it (nil when id was not leased).
func (t *leaseTable) remove(id string) *lease {
	t.mu.Lock()
	defer t.mu.Unlock()
	l := t.byID[id]
	if l == nil {
		return nil
	}
	delete(t.byID, id)
	if t.byWF[l.workflow]--; t.byWF[l.workflow] <= 0 {
		delete(t.byWF, l.workflow)
	}
	return l
}

// update changes id's lease under the lock; false when id is not leased.
func (t *leaseTable) update(id string, fn func(l *lease)) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	l := t.byID[id]
	if l == nil {
		return false
	}
	fn(l)
	return true
}

// nextToken hands out a token greater than every earlier one.
func (t *leaseTable) nextToken() int64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.token++
	return t.token
}

// expired returns the ids whose lease expires before cutoff.
func (t *leaseTable) expired(cutoff time.Time) []string {
	t.mu.RLock()
	defer t.mu.RUnlock()
	var ids []string
	for id, l := range t.byID {
		if l.expires.Before(cutoff) {
			ids = append(ids, id)
		}
	}
	return ids
}

// present turns a run's stored state into what callers see: with its lease
// applied when it is leased (l non-nil). A run stored as running that is not
// leased was left by a process that stopped mid-run: it is queued again.
func present(r *engine.Run, l *lease) {
	if l == nil {
		if r.Status == engine.StatusRunning {
			r.Status = engine.StatusQueued
			r.Lease.Owner, r.Lease.ExpiresAt = "", time.Time{}
		}
		return
	}
	if r.Lease.Token != l.token {
		// Nothing was stored under this lease yet: the claim's changes.
		r.Claims++
		if r.StartedAt.IsZero() {
			r.StartedAt = l.claimed
		}
		r.UpdatedAt = l.claimed
	}
	r.Status = engine.StatusRunning
	r.Lease = engine.Lease{Owner: l.owner, Token: l.token, ExpiresAt: l.expires}
	r.CancelRequested = r.CancelRequested || l.cancel
}
