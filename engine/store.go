package engine

import (
	"context"
	"errors"
	"time"
)

// Store is the one seam between the engine and persistence. Every backend
// (bbolt in engine/boltstore, PostgreSQL in engine/pgstore) passes the
// conformance suite in engine/storetest.
//
// Writes that concern a claimed run are fenced by its Lease: a call whose
// lease token no longer matches the stored one (because the lease expired and
// the run was rescued and claimed again) changes nothing and returns
// ErrLeaseLost.
type Store interface {
	// Enqueue stores new runs durably and returns only after they are on
	// disk. A run whose (Workflow, DedupeKey) pair was stored before and whose
	// DedupeUntil has not passed (relative to the new run's CreatedAt) is not
	// stored again: its result carries the first run's id and Duplicate.
	// Results are in the order of runs. A closed store returns ErrClosed.
	Enqueue(ctx context.Context, runs ...*Run) ([]EnqueueResult, error)

	// Claim leases up to req.Max runs that are queued or retrying and due at
	// req.Now, oldest due first, respecting req.Concurrency. Claimed runs come
	// back with Status running, Claims incremented, Lease set, and StartedAt
	// set to req.Now if it was zero (the first claim starts the run's timeout).
	Claim(ctx context.Context, req ClaimRequest) (Claimed, error)

	// Renew extends a held lease to until.
	Renew(ctx context.Context, runID string, lease Lease, until time.Time) error

	// Record applies u to a claimed run, fenced by lease. See Update.
	Record(ctx context.Context, runID string, lease Lease, u Update) error

	// Rescue makes every running run whose lease expired before now queued and
	// due at now again (its lease token is kept, so the old holder is fenced
	// out by the next claim). It returns how many runs it rescued.
	Rescue(ctx context.Context, now time.Time) (int, error)

	// Cancel asks a run to stop: a queued or retrying run becomes canceled at
	// once; a running one is marked and becomes canceled at its next Record
	// (which then returns ErrCanceled). Finished runs return ErrFinished.
	Cancel(ctx context.Context, runID string, now time.Time) error

	// Get returns one run, or ErrNotFound.
	Get(ctx context.Context, runID string) (*Run, error)

	// List returns runs newest first, filtered, and a cursor for the next page
	// ("" when there is none). Pages stay correct while new runs arrive.
	List(ctx context.Context, f ListFilter) ([]*Run, string, error)

	// Purge deletes, in one small batch, finished runs that finished before
	// req.FinishedBefore and dedupe keys that expired before req.Now. It
	// returns how many records it deleted; callers loop until it returns 0.
	Purge(ctx context.Context, req PurgeRequest) (int, error)

	// Close waits for pending writes and closes the store. Later calls return
	// ErrClosed.
	Close() error
}

// OwningEnqueuer is implemented by stores that can take new runs without
// copying what they hold. EnqueueOwned is Enqueue, except that the caller
// gives the runs up: after the call it neither reads nor changes them, nor
// their maps and body. The webhook path uses it: its runs are made for the
// store from a copy of the request, and copying every body and header map
// again would be a second copy on each ack.
type OwningEnqueuer interface {
	EnqueueOwned(ctx context.Context, runs ...*Run) ([]EnqueueResult, error)
}

// Waker is implemented by stores that can tell the engine that new work may
// be claimable (a local enqueue, a NOTIFY from another node). The engine falls
// back to polling when a store does not implement it.
type Waker interface {
	Wake() <-chan struct{}
}

// Errors every Store returns for the same conditions.
var (
	ErrClosed    = errors.New("store closed")
	ErrFull      = errors.New("store full")
	ErrNotFound  = errors.New("run not found")
	ErrLeaseLost = errors.New("lease lost")
	ErrCanceled  = errors.New("run canceled")
	ErrFinished  = errors.New("run already finished")
)

// EnqueueResult is the outcome of enqueuing one run.
type EnqueueResult struct {
	RunID     string
	Duplicate bool // the dedupe key was seen: RunID is the first run's id
}

// ClaimRequest says who claims how much work.
type ClaimRequest struct {
	Owner    string        // identifies the claiming process, for operators
	Max      int           // claim at most this many runs
	LeaseFor time.Duration // lease expiry relative to Now
	Now      time.Time
	// Concurrency caps running runs per workflow (across every process that
	// shares the store). Workflows absent or with 0 are unlimited.
	Concurrency map[string]int
}

// Claimed is the result of a Claim.
type Claimed struct {
	Runs []*Run
	// NextDue is the earliest due time among queued or retrying runs that
	// were not due at Now (zero when none): the engine sleeps until then.
	NextDue time.Time
}

// Update is what the engine writes about a claimed run.
//
// Step, when set, replaces the step record with the same ID or is appended.
// Status is the run's new status:
//   - StatusRunning: the run goes on; the lease is kept.
//   - StatusRetrying: the run waits until DueAt; the lease is released.
//   - StatusQueued: the lease is released and the run is due at once
//     (graceful shutdown hands work back this way).
//   - StatusSucceeded, StatusDead, StatusCanceled: final; FinishedAt is set to
//     At and Error recorded.
//
// When a cancel was requested and Status is running, retrying or queued, the
// run becomes canceled instead and Record returns ErrCanceled (the step record
// is still stored).
type Update struct {
	Step   *StepRecord
	Status Status
	DueAt  time.Time
	Error  string
	At     time.Time
}

// ListFilter selects runs for List. Zero fields do not filter.
type ListFilter struct {
	Workflow string
	Status   Status
	Since    time.Time // CreatedAt >= Since
	Until    time.Time // CreatedAt < Until
	Limit    int       // default 50
	Cursor   string    // from a previous List
}

// PurgeRequest bounds one retention batch.
type PurgeRequest struct {
	FinishedBefore time.Time
	Now            time.Time
	Limit          int
}
