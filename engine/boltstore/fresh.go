package boltstore

import (
	"slices"
	"sync"

	"github.com/hookflow/hookflow/engine"
)

// freshRuns hands runs from Enqueue to the Claim that usually follows a few
// milliseconds later, so that the claim need not read and decode what the
// enqueue had in memory anyway. It holds at most freshMax runs; the oldest
// go first, and a claim that misses reads the run from the file as before.
//
// A run is put by the commit loop right after the commit that stored it,
// before any claim can see it, and the first claim takes it out: so a run
// found here is exactly as enqueued, never a state some record has since
// replaced.
type freshRuns struct {
	mu   sync.Mutex
	m    map[string]*engine.Run
	ring []string // insertion order, for eviction
	next int
}

// freshMax bounds the hand-off: a few batches of a busy engine, a few MB.
const freshMax = 2048

func newFreshRuns() *freshRuns {
	return &freshRuns{m: make(map[string]*engine.Run, freshMax), ring: make([]string, freshMax)}
}

// put keeps r, a run just committed, for its claim.
func (f *freshRuns) put(r *engine.Run) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if old := f.ring[f.next]; old != "" {
		delete(f.m, old)
	}
	f.ring[f.next] = r.ID
	f.next = (f.next + 1) % len(f.ring)
	f.m[r.ID] = r
}

// take removes and returns id's run, or nil.
func (f *freshRuns) take(id string) *engine.Run {
	f.mu.Lock()
	defer f.mu.Unlock()
	r := f.m[id]
	if r != nil {
		delete(f.m, id) // its ring slot is reused in turn
	}
	return r
}

// ownRun copies what a run shares with its caller (maps, the body, steps),
// so the store's copy does not change when the caller's does.
func ownRun(r *engine.Run) *engine.Run {
	c := *r
	c.Event = r.Event.Clone()
	c.Steps = slices.Clone(r.Steps)
	return &c
}
