package pgstore

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/hookflow/hookflow/engine"
)

// QueueDepth counts the runs waiting (queued, retrying) and running, across
// every node sharing the schema, for the queue-depth gauge. It uses the
// claim index (a partial index on the waiting runs) and the lease index.
func (s *Store) QueueDepth(ctx context.Context) (map[engine.Status]int, error) {
	if s.isClosed() {
		return nil, engine.ErrClosed
	}
	rows, err := s.pool.Query(ctx, `SELECT status, count(*) FROM `+pgx.Identifier{s.schema, "runs"}.Sanitize()+`
		WHERE status IN ('queued', 'retrying', 'running') GROUP BY status`)
	if err != nil {
		return nil, fmt.Errorf("pgstore: queue depth: %w", err)
	}
	defer rows.Close()
	depth := map[engine.Status]int{engine.StatusQueued: 0, engine.StatusRetrying: 0, engine.StatusRunning: 0}
	for rows.Next() {
		var status string
		var n int
		if err := rows.Scan(&status, &n); err != nil {
			return nil, fmt.Errorf("pgstore: queue depth: %w", err)
		}
		depth[engine.Status(status)] = n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("pgstore: queue depth: %w", err)
	}
	return depth, nil
}
