package pgstore

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/hookflow/hookflow/engine"
)

// Claim leases up to req.Max due runs, oldest due first; see engine.Store.
//
// Candidates are locked with FOR UPDATE SKIP LOCKED, so claimers on any
// number of nodes never wait for each other's rows. Per-workflow
// concurrency holds across nodes: before counting a limited workflow's
// running runs, the claim transaction takes the transaction-level advisory
// lock (hashtext(schema), hashtext(workflow)); every claimer of that
// workflow holds it from the count until its commit, so no two claims
// count the same free slot. Locks are taken in name order in the first
// round and only tried (pg_try_advisory_xact_lock) in later rounds, so
// claimers cannot deadlock; a workflow whose lock is busy is simply left to
// its current claimer.
func (s *Store) Claim(ctx context.Context, req engine.ClaimRequest) (engine.Claimed, error) {
	if s.isClosed() {
		return engine.Claimed{}, engine.ErrClosed
	}
	switch {
	case req.Max < 1:
		return engine.Claimed{}, fmt.Errorf("pgstore: claim: Max must be at least 1, got %d", req.Max)
	case req.LeaseFor <= 0:
		return engine.Claimed{}, fmt.Errorf("pgstore: claim: LeaseFor must be positive, got %s", req.LeaseFor)
	case req.Now.IsZero():
		return engine.Claimed{}, errors.New("pgstore: claim: Now is zero")
	}
	limited := false
	for _, n := range req.Concurrency {
		limited = limited || n > 0
	}
	if !limited {
		return s.claimUnlimited(ctx, req)
	}
	var out engine.Claimed
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		runs, err := s.claimTx(ctx, tx, req)
		out.Runs = runs
		return err
	})
	if err != nil {
		return engine.Claimed{}, fmt.Errorf("pgstore: claim: %w", err)
	}
	var next pgtype.Timestamptz
	if err := s.pool.QueryRow(ctx, s.q.nextDue, req.Now).Scan(&next); err != nil {
		return engine.Claimed{}, fmt.Errorf("pgstore: claim: next due time: %w", err)
	}
	out.NextDue = fromTS(next)
	return out, nil
}

// claimUnlimited claims when no workflow has a concurrency limit: one
// statement and the NextDue query, pipelined in one round trip.
func (s *Store) claimUnlimited(ctx context.Context, req engine.ClaimRequest) (engine.Claimed, error) {
	var out engine.Claimed
	b := &pgx.Batch{}
	b.Queue(s.q.claimDirect, req.Now, req.Max, text(req.Owner), ts(req.Now.Add(req.LeaseFor))).Query(func(rows pgx.Rows) error {
		runs, err := pgx.CollectRows(rows, scanRun)
		out.Runs = runs
		return err
	})
	var next pgtype.Timestamptz
	b.Queue(s.q.nextDue, req.Now).QueryRow(func(row pgx.Row) error { return row.Scan(&next) })
	if err := s.pool.SendBatch(ctx, b).Close(); err != nil {
		return engine.Claimed{}, fmt.Errorf("pgstore: claim: %w", err)
	}
	sortByDue(out.Runs)
	out.NextDue = fromTS(next)
	return out, nil
}

// sortByDue puts claimed runs in claim order: oldest due first, then id.
func sortByDue(runs []*engine.Run) {
	slices.SortFunc(runs, func(a, b *engine.Run) int {
		return cmp.Or(a.DueAt.Compare(b.DueAt), strings.Compare(a.ID, b.ID))
	})
}

func (s *Store) claimTx(ctx context.Context, tx pgx.Tx, req engine.ClaimRequest) ([]*engine.Run, error) {
	var (
		chosen []string            // ids to claim, in due order
		seen   []string            // ids already considered (our own locks do not skip)
		full   []string            // workflows that cannot take more now
		locked = map[string]bool{} // limited workflows whose advisory lock we hold
		left   = map[string]int{}  // free slots of locked workflows
	)
	for round := 0; len(chosen) < req.Max; round++ {
		want := req.Max - len(chosen)
		rows, err := tx.Query(ctx, s.q.claimCandidates, req.Now, nonNil(full), nonNil(seen), want)
		if err != nil {
			return nil, fmt.Errorf("select candidates: %w", err)
		}
		type candidate struct{ id, workflow string }
		var cands []candidate
		var c candidate
		if _, err := pgx.ForEachRow(rows, []any{&c.id, &c.workflow}, func() error {
			cands = append(cands, c)
			return nil
		}); err != nil {
			return nil, fmt.Errorf("select candidates: %w", err)
		}
		if len(cands) == 0 {
			break
		}

		var newLimited []string
		for _, c := range cands {
			seen = append(seen, c.id)
			if req.Concurrency[c.workflow] > 0 && !locked[c.workflow] && !slices.Contains(newLimited, c.workflow) {
				newLimited = append(newLimited, c.workflow)
			}
		}
		slices.Sort(newLimited)
		var count []string
		for _, wf := range newLimited {
			if round == 0 {
				if _, err := tx.Exec(ctx, s.q.claimLock, s.schema, wf); err != nil {
					return nil, fmt.Errorf("lock workflow %s: %w", wf, err)
				}
			} else {
				var ok bool
				if err := tx.QueryRow(ctx, s.q.claimTryLock, s.schema, wf).Scan(&ok); err != nil {
					return nil, fmt.Errorf("lock workflow %s: %w", wf, err)
				}
				if !ok {
					full = append(full, wf)
					continue
				}
			}
			locked[wf] = true
			left[wf] = req.Concurrency[wf]
			count = append(count, wf)
		}
		if len(count) > 0 {
			rows, err := tx.Query(ctx, s.q.claimCount, count)
			if err != nil {
				return nil, fmt.Errorf("count running: %w", err)
			}
			var wf string
			var n int
			if _, err := pgx.ForEachRow(rows, []any{&wf, &n}, func() error {
				left[wf] -= n
				return nil
			}); err != nil {
				return nil, fmt.Errorf("count running: %w", err)
			}
		}

		rejected := false
		for _, c := range cands {
			switch {
			case req.Concurrency[c.workflow] <= 0:
				chosen = append(chosen, c.id)
			case locked[c.workflow] && left[c.workflow] > 0:
				chosen = append(chosen, c.id)
				left[c.workflow]--
			default:
				rejected = true
				if !slices.Contains(full, c.workflow) {
					full = append(full, c.workflow)
				}
			}
		}
		if len(cands) < want || !rejected {
			break
		}
	}
	if len(chosen) == 0 {
		return nil, nil
	}
	rows, err := tx.Query(ctx, s.q.claimUpdate, chosen, text(req.Owner), ts(req.Now.Add(req.LeaseFor)), req.Now)
	if err != nil {
		return nil, fmt.Errorf("lease runs: %w", err)
	}
	runs, err := pgx.CollectRows(rows, scanRun)
	if err != nil {
		return nil, fmt.Errorf("lease runs: %w", err)
	}
	sortByDue(runs)
	return runs, nil
}

// nonNil keeps an empty list an empty array rather than NULL, which
// "<> ALL" would turn into no match at all.
func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// Renew extends a held lease to until. It returns engine.ErrLeaseLost when
// the lease is no longer held (expired and rescued, released, or the run
// finished) and engine.ErrNotFound for an unknown run.
func (s *Store) Renew(ctx context.Context, runID string, lease engine.Lease, until time.Time) error {
	if s.isClosed() {
		return engine.ErrClosed
	}
	if until.IsZero() {
		return fmt.Errorf("pgstore: renew %s: until is zero", runID)
	}
	tag, err := s.pool.Exec(ctx, s.q.renew, runID, lease.Token, ts(until))
	if err != nil {
		return fmt.Errorf("pgstore: renew %s: %w", runID, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("pgstore: renew %s: %w", runID, s.whyFenced(ctx, runID))
	}
	return nil
}

// whyFenced tells apart the reasons a fenced write changed nothing.
func (s *Store) whyFenced(ctx context.Context, runID string) error {
	var status string
	err := s.pool.QueryRow(ctx, s.q.status, runID).Scan(&status)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return engine.ErrNotFound
	case err != nil:
		return err
	default:
		return engine.ErrLeaseLost
	}
}

// Record applies u to a claimed run, fenced by lease; see engine.Update.
func (s *Store) Record(ctx context.Context, runID string, lease engine.Lease, u engine.Update) error {
	if s.isClosed() {
		return engine.ErrClosed
	}
	switch u.Status {
	case engine.StatusRunning, engine.StatusRetrying, engine.StatusQueued,
		engine.StatusSucceeded, engine.StatusDead, engine.StatusCanceled:
	default:
		return fmt.Errorf("pgstore: record %s: unknown status %q", runID, u.Status)
	}
	if u.At.IsZero() {
		return fmt.Errorf("pgstore: record %s: Update.At is zero", runID)
	}
	var step []byte
	if u.Step != nil {
		var err error
		if step, err = json.Marshal(u.Step); err != nil {
			return fmt.Errorf("pgstore: record %s: encode step %s: %w", runID, u.Step.ID, err)
		}
	}
	// Optimistic: read the row's version (xmin), then update only that
	// version. A concurrent Cancel or Renew in between makes the update
	// miss and the loop read again; nothing holds a lock across round trips.
	read := s.q.recordRead
	if step != nil {
		read = s.q.recordReadSteps
	}
	for {
		var (
			cancelRequested bool
			raw             []byte
			version         uint32
		)
		err := s.pool.QueryRow(ctx, read, runID, lease.Token).Scan(&version, &cancelRequested, &raw)
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("pgstore: record %s: %w", runID, s.whyFenced(ctx, runID))
		}
		if err != nil {
			return fmt.Errorf("pgstore: record %s: %w", runID, err)
		}
		var steps any // nil keeps the stored steps
		if step != nil {
			merged, err := mergeStep(raw, u.Step.ID, step)
			if err != nil {
				return fmt.Errorf("pgstore: record %s: %w", runID, err)
			}
			steps = string(merged)
		}
		status, canceled := u.Status, false
		if cancelRequested && !status.Final() {
			status, canceled = engine.StatusCanceled, true
		}
		due := u.DueAt
		if status == engine.StatusQueued || due.IsZero() {
			due = u.At
		}
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("pgstore: record %s: %w", runID, err)
		}
		tag, err := s.pool.Exec(ctx, s.q.recordUpdate, runID, lease.Token, string(status), steps, ts(due), ts(u.At), text(u.Error), version)
		if err != nil {
			return fmt.Errorf("pgstore: record %s: %w", runID, err)
		}
		if tag.RowsAffected() == 0 {
			continue // changed since we read it
		}
		if canceled {
			return fmt.Errorf("pgstore: record %s: %w", runID, engine.ErrCanceled)
		}
		if status == engine.StatusRetrying || status == engine.StatusQueued {
			// Other nodes may be sleeping past this run's due time.
			s.notifyOthers()
			s.wakeLocal()
		}
		return nil
	}
}

// mergeStep replaces the step with id in the stored JSON array, or appends
// it. Elements are kept as raw JSON so nothing else is re-encoded.
func mergeStep(stored []byte, id string, step []byte) ([]byte, error) {
	var steps []json.RawMessage
	if len(stored) > 0 {
		if err := json.Unmarshal(stored, &steps); err != nil {
			return nil, fmt.Errorf("decode steps: %w", err)
		}
	}
	replaced := false
	for i, raw := range steps {
		var head struct {
			ID string `json:"id"`
		}
		if err := json.Unmarshal(raw, &head); err != nil {
			return nil, fmt.Errorf("decode step %d: %w", i, err)
		}
		if head.ID == id {
			steps[i] = step
			replaced = true
			break
		}
	}
	if !replaced {
		steps = append(steps, step)
	}
	return json.Marshal(steps)
}

// Rescue requeues, due at now, every running run whose lease expired before
// now; a run whose cancel was requested becomes canceled instead. The lease
// token is kept, so the next claim fences the old holder out.
func (s *Store) Rescue(ctx context.Context, now time.Time) (int, error) {
	if s.isClosed() {
		return 0, engine.ErrClosed
	}
	if now.IsZero() {
		return 0, errors.New("pgstore: rescue: now is zero")
	}
	tag, err := s.pool.Exec(ctx, s.q.rescue, now)
	if err != nil {
		return 0, fmt.Errorf("pgstore: rescue: %w", err)
	}
	n := int(tag.RowsAffected())
	if n > 0 {
		s.notifyOthers()
		s.wakeLocal()
	}
	return n, nil
}
