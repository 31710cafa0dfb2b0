package pgstore

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/hookflow/hookflow/engine"
)

// Request states: the commit loop and an impatient caller race for a
// pending request with a compare-and-swap.
const (
	reqPending int32 = iota
	reqTaken
	reqAbandoned
)

// enqueueRequest is one Enqueue call waiting for the commit loop.
type enqueueRequest struct {
	rows    []encodedRun
	state   atomic.Int32
	done    chan struct{}
	results []engine.EnqueueResult
	err     error
}

// encodedRun is a run normalised and encoded by its caller's goroutine, so
// the commit loop only builds arrays and talks to the database.
type encodedRun struct {
	run    engine.Run
	event  string
	steps  string
	result *engine.EnqueueResult
}

// Enqueue stores runs durably; see engine.Store. Concurrent calls share one
// transaction (group commit): the call returns once the commit that holds
// its runs has returned from PostgreSQL, with synchronous_commit as the
// server has it (on by default: flushed to the WAL).
//
// Runs are stored as new: queued, due at DueAt (CreatedAt when zero), with
// an id from uuid.NewV7 when ID is empty; the runs passed in are not
// modified. An error caused by the database wraps ErrUnavailable; a
// canceled ctx returns ctx's error, and then the runs may or may not have
// been stored (the sender's retry is caught by the dedupe key).
func (s *Store) Enqueue(ctx context.Context, runs ...*engine.Run) ([]engine.EnqueueResult, error) {
	if s.isClosed() {
		return nil, engine.ErrClosed
	}
	if len(runs) == 0 {
		return nil, nil
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("pgstore: enqueue: %w", err)
	}
	req := &enqueueRequest{
		rows:    make([]encodedRun, len(runs)),
		done:    make(chan struct{}),
		results: make([]engine.EnqueueResult, len(runs)),
	}
	now := s.clock.Now()
	for i, r := range runs {
		if r == nil {
			return nil, fmt.Errorf("pgstore: enqueue: run %d is nil", i)
		}
		e := &req.rows[i]
		if err := encodeNew(e, r, now); err != nil {
			return nil, fmt.Errorf("pgstore: enqueue: %w", err)
		}
		e.result = &req.results[i]
	}

	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil, engine.ErrClosed
	}
	s.pending = append(s.pending, req)
	s.mu.Unlock()
	select {
	case s.kick <- struct{}{}:
	default:
	}

	select {
	case <-req.done:
		if req.err != nil {
			return nil, req.err
		}
		return req.results, nil
	case <-ctx.Done():
		if req.state.CompareAndSwap(reqPending, reqAbandoned) {
			return nil, fmt.Errorf("pgstore: enqueue: %w", ctx.Err())
		}
		return nil, fmt.Errorf("pgstore: enqueue: gave up waiting for the commit: %w", ctx.Err())
	}
}

// encodeNew fills e with a copy of r made into a new queued run: the
// caller's fields, with the store's defaults for the zero ones, and no claim
// state.
func encodeNew(e *encodedRun, r *engine.Run, now time.Time) error {
	switch {
	case r.Workflow == "":
		return errors.New("run without a workflow")
	case r.Status != "" && r.Status != engine.StatusQueued:
		return fmt.Errorf("run of %s has status %q: only queued runs are enqueued", r.Workflow, r.Status)
	}
	e.run = engine.Run{
		ID:              r.ID,
		Workflow:        r.Workflow,
		WorkflowVersion: r.WorkflowVersion,
		Status:          engine.StatusQueued,
		Event:           r.Event,
		DedupeKey:       r.DedupeKey,
		DedupeUntil:     r.DedupeUntil,
		ReplayOf:        r.ReplayOf,
		CreatedAt:       r.CreatedAt,
		UpdatedAt:       r.UpdatedAt,
		DueAt:           r.DueAt,
		Steps:           r.Steps,
		Error:           r.Error,
	}
	run := &e.run
	if run.ID == "" {
		id, err := uuid.NewV7()
		if err != nil {
			return fmt.Errorf("new run id: %w", err)
		}
		run.ID = id.String()
	}
	if run.CreatedAt.IsZero() {
		run.CreatedAt = now
	}
	if run.UpdatedAt.IsZero() {
		run.UpdatedAt = run.CreatedAt
	}
	if run.DueAt.IsZero() {
		run.DueAt = run.CreatedAt
	}
	return encodeBodies(e)
}

// encodeBodies JSON-encodes the event and steps of e.run.
func encodeBodies(e *encodedRun) error {
	ev, err := json.Marshal(e.run.Event)
	if err != nil {
		return fmt.Errorf("encode event of run %s: %w", e.run.ID, err)
	}
	steps := []byte("[]")
	if len(e.run.Steps) > 0 {
		if steps, err = json.Marshal(e.run.Steps); err != nil {
			return fmt.Errorf("encode steps of run %s: %w", e.run.ID, err)
		}
	}
	e.event, e.steps = string(ev), string(steps)
	return nil
}

// committers is how many commit loops run at once: while one waits for its
// commit to reach the disk, another writes the next batch.
const committers = 2

// commitLoop takes whatever Enqueue calls are pending, up to MaxBatch runs,
// and commits them together; it never waits for more to arrive. On Close it
// commits what is still pending and returns.
func (s *Store) commitLoop() {
	defer s.loops.Done()
	for {
		select {
		case <-s.kick:
		case <-s.stop:
			for batch := s.take(); len(batch) > 0; batch = s.take() {
				s.commit(batch)
			}
			return
		}
		for batch := s.take(); len(batch) > 0; batch = s.take() {
			s.commit(batch)
		}
	}
}

// take removes up to MaxBatch runs' worth of pending requests from the
// queue, skipping those whose caller gave up. When work is left it kicks
// another commit loop.
func (s *Store) take() []*enqueueRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	var batch []*enqueueRequest
	n, i := 0, 0
	for ; i < len(s.pending) && n < s.opts.MaxBatch; i++ {
		req := s.pending[i]
		s.pending[i] = nil
		if req.state.CompareAndSwap(reqPending, reqTaken) {
			batch = append(batch, req)
			n += len(req.rows)
		}
	}
	s.pending = s.pending[i:]
	if len(s.pending) == 0 {
		s.pending = nil
	} else {
		select {
		case s.kick <- struct{}{}:
		default:
		}
	}
	return batch
}

// commit writes one batch and answers its callers. When the batch fails
// because of one request's data (an explicit id that exists, a value the
// database refuses), each request is retried alone so only the offender
// fails.
func (s *Store) commit(batch []*enqueueRequest) {
	err := s.write(batch)
	if err != nil && len(batch) > 1 && isDataError(err) {
		for _, req := range batch {
			s.commit([]*enqueueRequest{req})
		}
		return
	}
	if err != nil {
		s.log.Error("enqueue batch failed", "runs", countRuns(batch), "err", err)
		if !isDataError(err) {
			err = fmt.Errorf("%w: %w", ErrUnavailable, err)
		}
		err = fmt.Errorf("pgstore: enqueue: %w", err)
	} else {
		s.notifyOthers()
		s.wakeLocal()
	}
	for _, req := range batch {
		req.err = err
		close(req.done)
	}
}

func countRuns(batch []*enqueueRequest) int {
	n := 0
	for _, req := range batch {
		n += len(req.rows)
	}
	return n
}

// write commits a batch, retrying a few times when PostgreSQL says that is
// safe (nothing was sent, a deadlock or serialization failure), then
// resolves the duplicates' first run ids.
func (s *Store) write(batch []*enqueueRequest) error {
	var rows []*encodedRun
	for _, req := range batch {
		for i := range req.rows {
			rows = append(rows, &req.rows[i])
		}
	}
	for len(rows) > 0 {
		var dups []*encodedRun
		err := s.retry(func(ctx context.Context) (err error) {
			dups, err = s.insert(ctx, rows)
			return err
		})
		if err != nil {
			return err
		}
		if len(dups) == 0 {
			return nil
		}
		// Runs whose key row vanished between the statements (its window
		// passed and it was purged) are written again.
		err = s.retry(func(ctx context.Context) (err error) {
			rows, err = s.resolveDuplicates(ctx, dups)
			return err
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// retry runs f with a WriteTimeout deadline, up to three times while its
// error is one that may simply be tried again.
func (s *Store) retry(f func(ctx context.Context) error) error {
	var err error
	for attempt := 0; attempt < 3; attempt++ {
		ctx, cancel := context.WithTimeout(context.Background(), s.opts.WriteTimeout)
		err = f(ctx)
		cancel()
		if err == nil || !retryable(err) {
			return err
		}
	}
	return err
}

// dedupeKey identifies a dedupe row.
type dedupeKey struct{ workflow, key string }

// insert stores rows in rounds where every dedupe key appears at most once
// (a key repeated inside the batch goes to a later round, so it meets its
// predecessor as a later request would). One round is one statement;
// several share a transaction. It fills the results of stored runs and
// returns the duplicates.
func (s *Store) insert(ctx context.Context, rows []*encodedRun) ([]*encodedRun, error) {
	var rounds [][]*encodedRun
	seen := map[dedupeKey]int{}
	for _, r := range rows {
		round := 0
		if keyed(&r.run) {
			k := dedupeKey{text(r.run.Workflow), text(r.run.DedupeKey)}
			round = seen[k]
			seen[k] = round + 1
		}
		if round == len(rounds) {
			rounds = append(rounds, nil)
		}
		rounds[round] = append(rounds[round], r)
	}

	stored := map[string]bool{}
	run := func(db querier) error {
		for _, round := range rounds {
			// Keys in a stable order, so two batches never wait for each
			// other's key rows in opposite orders.
			round = slices.Clone(round)
			slices.SortStableFunc(round, func(a, b *encodedRun) int {
				return cmp.Or(strings.Compare(a.run.Workflow, b.run.Workflow), strings.Compare(a.run.DedupeKey, b.run.DedupeKey))
			})
			var cols runColumnsArrays
			for _, r := range round {
				cols.add(r)
			}
			res, err := db.Query(ctx, s.q.enqueue, cols.args()...)
			if err != nil {
				return err
			}
			ids, err := pgx.CollectRows(res, pgx.RowTo[string])
			if err != nil {
				return err
			}
			for _, id := range ids {
				stored[id] = true
			}
		}
		return nil
	}
	var err error
	if len(rounds) == 1 {
		err = run(s.pool)
	} else {
		err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error { return run(tx) })
	}
	if err != nil {
		return nil, err
	}
	var dups []*encodedRun
	for _, r := range rows {
		if stored[text(r.run.ID)] {
			*r.result = engine.EnqueueResult{RunID: r.run.ID}
		} else {
			dups = append(dups, r)
		}
	}
	return dups, nil
}

// resolveDuplicates fills the results of duplicates with their first run's
// id. Those rows were committed before the insert statement ended, so they
// are visible now. It returns the runs whose key row is gone.
func (s *Store) resolveDuplicates(ctx context.Context, dups []*encodedRun) ([]*encodedRun, error) {
	var wfs, keys []string
	for _, r := range dups {
		wfs = append(wfs, text(r.run.Workflow))
		keys = append(keys, text(r.run.DedupeKey))
	}
	res, err := s.pool.Query(ctx, s.q.dedupeLookup, wfs, keys)
	if err != nil {
		return nil, fmt.Errorf("look up duplicates: %w", err)
	}
	first := map[dedupeKey]string{}
	var k dedupeKey
	var id string
	_, err = pgx.ForEachRow(res, []any{&k.workflow, &k.key, &id}, func() error {
		first[k] = id
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("look up duplicates: %w", err)
	}
	var gone []*encodedRun
	for _, r := range dups {
		id, ok := first[dedupeKey{text(r.run.Workflow), text(r.run.DedupeKey)}]
		if !ok {
			gone = append(gone, r)
			continue
		}
		*r.result = engine.EnqueueResult{RunID: id, Duplicate: true}
	}
	return gone, nil
}

// querier is what a pool and a transaction share.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

// keyed reports whether r takes part in deduplication. A run with a key
// but no DedupeUntil is checked against the key's holder and, when new,
// holds the key with a window that has already passed.
func keyed(r *engine.Run) bool { return r.DedupeKey != "" }

// enqueueSQL stores one round: the dedupe rows first (a key whose window
// passed is taken over), then the runs that are not duplicates.
const enqueueSQL = `WITH input AS (` + unnestRunsSQL + `),
keys AS (
	INSERT INTO {{s}}.dedupe AS d (workflow, key, run_id, created_at, until)
	SELECT workflow, dedupe_key, id, created_at, COALESCE(dedupe_until, '-infinity') FROM input
	WHERE dedupe_key <> ''
	ON CONFLICT (workflow, key) DO UPDATE
		SET run_id = EXCLUDED.run_id, created_at = EXCLUDED.created_at, until = EXCLUDED.until
		WHERE d.until <= EXCLUDED.created_at
	RETURNING run_id
)
INSERT INTO {{s}}.runs (` + insertColumns + `)
SELECT ` + insertColumns + ` FROM input
WHERE dedupe_key = '' OR id IN (SELECT run_id FROM keys)
RETURNING id`

// runColumnsArrays holds one batch column by column, for unnest.
type runColumnsArrays struct {
	id, workflow, version, status, event, dedupeKey []string
	dedupeUntil                                     []pgtype.Timestamptz
	replayOf                                        []string
	created, updated, started, finished, due        []pgtype.Timestamptz
	leaseOwner                                      []string
	leaseToken                                      []int64
	leaseExpires                                    []pgtype.Timestamptz
	claims                                          []int32
	cancel                                          []bool
	steps, errs                                     []string
}

func (c *runColumnsArrays) add(e *encodedRun) {
	r := &e.run
	c.id = append(c.id, text(r.ID))
	c.workflow = append(c.workflow, text(r.Workflow))
	c.version = append(c.version, text(r.WorkflowVersion))
	c.status = append(c.status, string(r.Status))
	c.event = append(c.event, e.event)
	c.dedupeKey = append(c.dedupeKey, text(r.DedupeKey))
	c.dedupeUntil = append(c.dedupeUntil, ts(r.DedupeUntil))
	c.replayOf = append(c.replayOf, text(r.ReplayOf))
	c.created = append(c.created, ts(r.CreatedAt))
	c.updated = append(c.updated, ts(r.UpdatedAt))
	c.started = append(c.started, ts(r.StartedAt))
	c.finished = append(c.finished, ts(r.FinishedAt))
	c.due = append(c.due, ts(r.DueAt))
	c.leaseOwner = append(c.leaseOwner, text(r.Lease.Owner))
	c.leaseToken = append(c.leaseToken, r.Lease.Token)
	c.leaseExpires = append(c.leaseExpires, ts(r.Lease.ExpiresAt))
	c.claims = append(c.claims, int32(r.Claims))
	c.cancel = append(c.cancel, r.CancelRequested)
	c.steps = append(c.steps, e.steps)
	c.errs = append(c.errs, text(r.Error))
}

func (c *runColumnsArrays) args() []any {
	return []any{c.id, c.workflow, c.version, c.status, c.event, c.dedupeKey, c.dedupeUntil,
		c.replayOf, c.created, c.updated, c.started, c.finished, c.due,
		c.leaseOwner, c.leaseToken, c.leaseExpires, c.claims, c.cancel, c.steps, c.errs}
}

// text makes s storable in a text column: PostgreSQL refuses NUL bytes and
// invalid UTF-8, which a dedupe key taken from a request body may hold.
// Such bytes become U+FFFD.
func text(s string) string {
	if !strings.ContainsRune(s, 0) && utf8.ValidString(s) {
		return s
	}
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "\uFFFD")
}

// isDataError reports whether PostgreSQL refused the statement for what it
// holds (SQLSTATE classes 22 data exception and 23 integrity constraint
// violation) rather than because it could not run it.
func isDataError(err error) bool {
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) {
		return false
	}
	return strings.HasPrefix(pgErr.Code, "22") || strings.HasPrefix(pgErr.Code, "23")
}

// retryable reports whether a failed write may simply be tried again.
func retryable(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code == "40001" || pgErr.Code == "40P01"
	}
	return pgconn.SafeToRetry(err)
}
