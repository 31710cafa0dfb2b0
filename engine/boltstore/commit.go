package boltstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"

	"github.com/hookflow/hookflow/engine"
)

// op is one write waiting for the commit loop.
//
// apply runs inside the batch's write transaction. It must check everything
// before it writes, so that a returned error leaves nothing of the op behind
// and the batch goes on. Its error is the op's answer, given after the
// commit; an op may write and still answer an error (Record on a canceled
// run answers ErrCanceled). A failure while writing is returned as a
// *writeError: the batch is rolled back and redone without that op.
type op struct {
	ctx    context.Context
	apply  func(w *writeTx) error
	ingest bool // an Enqueue: see take
	claim  bool // a Claim, which writes nothing to the file: see take
	state  atomic.Int32
	err    error
	done   chan struct{}
}

const (
	opPending   int32 = iota // waiting in s.pending
	opTaken                  // taken by the commit loop: its caller waits for the answer
	opWithdrawn              // its caller gave up (context done) before it was taken
)

// writeError marks a failure while writing, after an op's checks passed.
type writeError struct{ err error }

func (e *writeError) Error() string { return e.err.Error() }
func (e *writeError) Unwrap() error { return e.err }

// do hands apply to the commit loop and waits for its answer. When ctx ends
// before the loop took the op, the op is dropped and ctx's error returned;
// once taken, do waits for the commit, so a committed write is never
// reported as failed.
func (s *Store) do(ctx context.Context, apply func(w *writeTx) error) error {
	return s.submit(ctx, &op{ctx: ctx, apply: apply})
}

// doClaim is do for a Claim, which every batch takes (see take).
func (s *Store) doClaim(ctx context.Context, apply func(w *writeTx) error) error {
	return s.submit(ctx, &op{ctx: ctx, apply: apply, claim: true})
}

// doIngest is do for an Enqueue, which the loop serves first (see take).
func (s *Store) doIngest(ctx context.Context, apply func(w *writeTx) error) error {
	return s.submit(ctx, &op{ctx: ctx, apply: apply, ingest: true})
}

func (s *Store) submit(ctx context.Context, o *op) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	o.done = make(chan struct{})
	s.mu.Lock()
	if s.closed.Load() {
		s.mu.Unlock()
		return engine.ErrClosed
	}
	s.pending = append(s.pending, o)
	s.mu.Unlock()
	s.signal(s.kick)

	select {
	case <-o.done:
		return o.err
	case <-ctx.Done():
		if o.state.CompareAndSwap(opPending, opWithdrawn) {
			return ctx.Err()
		}
		<-o.done
		return o.err
	}
}

// loop is the one writer: it takes whatever is pending (up to MaxBatch),
// applies it in one transaction, commits (one fsync), answers, and repeats.
// There is no wait timer: ops that arrive during a commit form the next
// batch. It returns when the store is closed and nothing is pending.
func (s *Store) loop() {
	defer close(s.done)
	batch := make([]*op, 0, s.opts.MaxBatch)
	for {
		s.mu.Lock()
		for len(s.pending) == 0 && !s.closed.Load() {
			s.mu.Unlock()
			<-s.kick
			s.mu.Lock()
		}
		if len(s.pending) == 0 {
			s.mu.Unlock()
			return
		}
		batch = s.take(batch[:0], time.Now())
		s.mu.Unlock()

		s.commit(batch)
		clear(batch)
	}
}

// minEngineShare is how many other writes a batch takes at least, however
// few enqueues wait: the engine is slowed, never stopped.
const minEngineShare = 4

// ingestQuiet is how long after the last enqueue the engine's writes are
// no longer held back.
const ingestQuiet = 50 * time.Millisecond

// take moves the next batch from s.pending to batch (s.mu held), keeping
// the order of what stays.
//
// Enqueues go first. While webhooks arrive, every enqueue a batch takes
// earns one place for another write (records, cancels, purges), and other
// writes take only earned places, at least minEngineShare per batch: over
// time the engine writes about as much as ingest does. An even split keeps
// both ingest and the engine's progress closest to their empty-queue rates
// when a deep backlog gives the engine more work than that: without a cap,
// its records filled the commits that webhooks wait for (ingest fell to 42%
// of the empty queue's rate), and a cap per batch alone still let it take
// the batches that fall between two waves of senders. With an empty queue
// the engine writes about one record per enqueue and the cap does not bind;
// once no enqueue came for ingestQuiet, the engine has whole batches.
//
// Claims are not held back: every batch with room takes them (and answers
// them before its commit, claimFirst). A claim writes nothing to the file
// (leases live in memory), so it costs the commit no pages, and one held
// behind records delayed every run it would have started: at 5,000
// webhooks/s the queue grew by 40-50 runs/s and a run finished 52 ms after
// its webhook (p50); taking claims at once, 5 ms, with the queue flat, and
// answering them before the fsync, 2-3 ms. A run that finishes soon after
// its enqueue also rewrites its entries while they are still in the leaves
// the enqueues of the same commits write: 10-30% fewer pages per commit in
// those runs.
func (s *Store) take(batch []*op, now time.Time) []*op {
	ingest := 0
	for _, o := range s.pending {
		if o.ingest {
			ingest++
		}
	}
	ingest = min(ingest, s.opts.MaxBatch)
	if ingest > 0 {
		s.lastIngestAt = now
		s.credit = min(s.credit+ingest, s.opts.MaxBatch)
	}
	other := s.opts.MaxBatch - ingest
	if now.Sub(s.lastIngestAt) < ingestQuiet {
		other = min(max(s.credit, minEngineShare), other)
	}
	tookOther := 0
	rest := s.pending[:0]
	for _, o := range s.pending {
		full := len(batch) == s.opts.MaxBatch
		switch {
		case o.claim && !full:
		case o.ingest && ingest > 0 && !full:
			ingest--
		case !o.ingest && other > 0 && !full:
			other--
			tookOther++
		default:
			rest = append(rest, o)
			continue
		}
		batch = append(batch, o)
	}
	s.credit = max(0, s.credit-tookOther)
	clear(s.pending[len(rest):])
	s.pending = rest
	return batch
}

// commit applies and commits one batch and answers its ops.
func (s *Store) commit(batch []*op) {
	live := make([]*op, 0, len(batch))
	for _, o := range batch {
		if !o.state.CompareAndSwap(opPending, opTaken) {
			continue // withdrawn: its caller has already returned
		}
		if err := o.ctx.Err(); err != nil {
			s.answer(o, err)
			continue
		}
		live = append(live, o)
	}
	live = s.claimFirst(live)
	for len(live) > 0 {
		start := time.Now()
		tx, err := s.db.Begin(true)
		if err != nil {
			if errors.Is(err, bolterrors.ErrDatabaseNotOpen) {
				err = engine.ErrClosed
			}
			s.answerAll(live, fmt.Errorf("boltstore: begin: %w", err))
			return
		}
		w := newWriteTx(s, tx)
		failed := -1
		for i, o := range live {
			o.err = o.apply(w)
			var we *writeError
			if errors.As(o.err, &we) {
				failed = i
				break
			}
		}
		if failed < 0 && w.dirty {
			if err := w.maintainDedupe(); err != nil {
				_ = tx.Rollback()
				w.undoAll()
				s.dd.broken = true
				s.log.Error("boltstore: dedupe index maintenance failed; it stops until the store is reopened", "err", err)
				continue
			}
		}
		if failed >= 0 {
			_ = tx.Rollback()
			w.undoAll()
			s.log.Error("boltstore: write failed; redoing the batch without it", "err", live[failed].err)
			s.answer(live[failed], live[failed].err)
			live = slices.Delete(live, failed, failed+1)
			continue
		}
		if !w.dirty {
			// Claims and renewals that found nothing to change write
			// nothing: no commit, no fsync.
			_ = tx.Rollback()
		} else {
			if err := tx.Commit(); err != nil {
				w.undoAll()
				s.log.Error("boltstore: commit failed", "ops", len(live), "err", err)
				s.answerAll(live, fmt.Errorf("boltstore: commit: %w", err))
				return
			}
			took := time.Since(start)
			s.commits.Add(1)
			s.ops.Add(uint64(len(live)))
			enqueues := 0
			for _, o := range live {
				if o.ingest {
					enqueues++
				}
			}
			s.enqueues.Add(uint64(enqueues))
			s.busy.Add(int64(took))
			st := tx.Stats()
			s.pages.Add(uint64(st.GetWrite()))
			s.writing.Add(int64(st.GetWriteTime()))
			if s.opts.OnCommit != nil {
				s.opts.OnCommit(len(live), took)
			}
		}
		for _, fn := range w.after {
			fn()
		}
		s.queued.Add(int64(w.queuedDelta))
		if w.wake {
			s.signal(s.wake)
		}
		for _, o := range live {
			s.answer(o, o.err)
		}
		return
	}
}

// claimFirst applies the batch's claims in a read transaction of the last
// commit, answers them at once and returns the other ops. A claim writes
// nothing to the file (its leases live in memory), so it need not wait for
// the batch's fsync; reading the last commit, it takes only runs whose
// enqueue is on disk. Its lease changes stand: nothing rolls them back.
func (s *Store) claimFirst(live []*op) []*op {
	claims := 0
	for _, o := range live {
		if o.claim {
			claims++
		}
	}
	if claims == 0 {
		return live
	}
	rest := make([]*op, 0, len(live)-claims)
	tx, err := s.db.Begin(false)
	if err != nil {
		if errors.Is(err, bolterrors.ErrDatabaseNotOpen) {
			err = engine.ErrClosed
		}
		err = fmt.Errorf("boltstore: begin: %w", err)
	}
	var w *writeTx
	if err == nil {
		w = newWriteTx(s, tx)
		defer func() { _ = tx.Rollback() }()
	}
	for _, o := range live {
		switch {
		case !o.claim:
			rest = append(rest, o)
		case err != nil:
			s.answer(o, err)
		default:
			s.answer(o, o.apply(w))
		}
	}
	return rest
}

func (s *Store) answer(o *op, err error) {
	o.err = err
	close(o.done)
}

func (s *Store) answerAll(ops []*op, err error) {
	for _, o := range ops {
		s.answer(o, err)
	}
}

// writeTx is a batch's write transaction with its buckets and what the
// batch changes outside bbolt.
//
// Ops change the lease table as they go (a later op of the batch must see
// an earlier one's claim); each change registers its undo, run in reverse
// when the batch is rolled back or its commit fails.
type writeTx struct {
	s                         *Store
	tx                        *bolt.Tx
	meta, runs, queue, events *bolt.Bucket
	created                   *bolt.Bucket
	dlog, dsegs, dmeta        *bolt.Bucket // the dedupe index (dedupe.go)
	activeLog                 *bolt.Bucket // the active dedupe log generation, once written
	dedupePuts                int          // keys added to the dedupe log
	queuedDelta               int          // entries added to the queue bucket
	wake                      bool         // something may have become claimable
	dirty                     bool         // something was written: commit
	undo                      []func()
	after                     []func() // after the commit, before the answers
}

func newWriteTx(s *Store, tx *bolt.Tx) *writeTx {
	w := &writeTx{
		s: s, tx: tx,
		meta: tx.Bucket(bucketMeta), runs: tx.Bucket(bucketRuns), queue: tx.Bucket(bucketQueue),
		created: tx.Bucket(bucketCreated),
		events:  tx.Bucket(bucketEvents), dlog: tx.Bucket(bucketDedupeLog),
		dsegs: tx.Bucket(bucketDedupeSegs), dmeta: tx.Bucket(bucketDedupeMeta),
	}
	// Buckets whose keys start with a time (or a UUIDv7) grow at their end:
	// fill their pages before splitting instead of leaving them half empty
	// (bbolt's default 0.5 suits random inserts).
	// runs and created are a little lower: a record rewrites a recent
	// run's state, and its created entry, a little longer.
	w.runs.FillPercent, w.created.FillPercent = 0.9, 0.9
	w.events.FillPercent, w.queue.FillPercent = 0.95, 0.95
	return w
}

// undoAll reverts the batch's lease changes, newest first.
func (w *writeTx) undoAll() {
	for i := len(w.undo) - 1; i >= 0; i-- {
		w.undo[i]()
	}
	w.undo = nil
}

// lease takes id's lease for this batch.
func (w *writeTx) lease(id string, l *lease) {
	w.s.leases.add(id, l)
	w.undo = append(w.undo, func() { w.s.leases.remove(id) })
}

// unlease ends id's lease for this batch.
func (w *writeTx) unlease(id string) {
	if l := w.s.leases.remove(id); l != nil {
		w.undo = append(w.undo, func() { w.s.leases.add(id, l) })
		w.wake = true // a concurrency slot is free
	}
}

// put and del wrap bbolt's errors as writeErrors: they happen after an op's
// checks, so the op may be half-written and the batch must be redone.
func (w *writeTx) put(b *bolt.Bucket, k, v []byte) error {
	w.dirty = true
	if err := b.Put(k, v); err != nil {
		return &writeError{fmt.Errorf("boltstore: write: %w", err)}
	}
	if b == w.queue && w.s.claimFrom != nil && bytes.Compare(k, w.s.claimFrom) < 0 {
		// A claimable entry before claimFrom: claims start from it. (Kept
		// if the batch is rolled back: starting early is always right.)
		w.s.claimFrom = bytes.Clone(k)
	}
	return nil
}

func (w *writeTx) del(b *bolt.Bucket, k []byte) error {
	w.dirty = true
	if err := b.Delete(k); err != nil {
		return &writeError{fmt.Errorf("boltstore: delete: %w", err)}
	}
	return nil
}
