package pgstore

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/hookflow/hookflow/engine"
)

// importChunk is how many runs one INSERT of Import carries.
const importChunk = 500

// Import inserts runs as they are — ids, statuses, leases, steps,
// timestamps — for moving an installation from another store (hookflow
// store migrate). A run whose (Workflow, DedupeKey) has a DedupeUntil also
// gets its dedupe row; when several runs share a key, the newest one owns
// it. Runs whose id is already stored are left alone, so an interrupted
// import can be run again. One call is one transaction. It returns how many
// runs it inserted: the others were already stored.
func (s *Store) Import(ctx context.Context, runs []*engine.Run) (int, error) {
	if s.isClosed() {
		return 0, engine.ErrClosed
	}
	rows := make([]encodedRun, len(runs))
	for i, r := range runs {
		switch {
		case r == nil:
			return 0, fmt.Errorf("pgstore: import: run %d is nil", i)
		case r.ID == "":
			return 0, fmt.Errorf("pgstore: import: run %d has no id", i)
		case r.Workflow == "":
			return 0, fmt.Errorf("pgstore: import: run %s has no workflow", r.ID)
		}
		switch r.Status {
		case engine.StatusQueued, engine.StatusRunning, engine.StatusRetrying,
			engine.StatusSucceeded, engine.StatusDead, engine.StatusCanceled:
		default:
			return 0, fmt.Errorf("pgstore: import: run %s has unknown status %q", r.ID, r.Status)
		}
		rows[i].run = *r
		if err := encodeBodies(&rows[i]); err != nil {
			return 0, fmt.Errorf("pgstore: import: %w", err)
		}
	}

	// The newest run of each key owns it.
	owner := map[dedupeKey]*engine.Run{}
	var order []dedupeKey
	for i := range rows {
		r := &rows[i].run
		if !keyed(r) || r.DedupeUntil.IsZero() {
			continue // no window: nothing to protect
		}
		k := dedupeKey{text(r.Workflow), text(r.DedupeKey)}
		prev, ok := owner[k]
		if !ok {
			order = append(order, k)
		}
		if !ok || prev.CreatedAt.Before(r.CreatedAt) {
			owner[k] = r
		}
	}

	inserted := 0
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		for start := 0; start < len(rows); start += importChunk {
			var cols runColumnsArrays
			for i := start; i < min(start+importChunk, len(rows)); i++ {
				cols.add(&rows[i])
			}
			tag, err := tx.Exec(ctx, s.q.importRuns, cols.args()...)
			if err != nil {
				return fmt.Errorf("insert runs: %w", err)
			}
			inserted += int(tag.RowsAffected())
		}
		for start := 0; start < len(order); start += importChunk {
			var wfs, keys, ids []string
			var created, until []pgtype.Timestamptz
			for _, k := range order[start:min(start+importChunk, len(order))] {
				r := owner[k]
				wfs = append(wfs, k.workflow)
				keys = append(keys, k.key)
				ids = append(ids, text(r.ID))
				created = append(created, ts(r.CreatedAt))
				until = append(until, ts(r.DedupeUntil))
			}
			if _, err := tx.Exec(ctx, s.q.importKey, wfs, keys, ids, created, until); err != nil {
				return fmt.Errorf("insert dedupe keys: %w", err)
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("pgstore: import: %w", err)
	}
	if inserted > 0 {
		s.notifyOthers()
		s.wakeLocal()
	}
	return inserted, nil
}
