package pgstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/hookflow/hookflow/engine"
)

// ErrUnavailable wraps every Enqueue failure caused by the database (down,
// unreachable, timing out, refusing the write). Triggers answer 503 with
// Retry-After for it, and for any other non-duplicate Enqueue error.
var ErrUnavailable = errors.New("database unavailable")

// Store is an engine.Store on PostgreSQL. It is safe for concurrent use by
// any number of goroutines and by any number of processes sharing the
// schema.
type Store struct {
	pool   *pgxpool.Pool
	schema string // as configured, unquoted
	q      queries
	opts   Options
	log    *slog.Logger
	clock  Clock

	mu      sync.Mutex
	closed  bool
	pending []*enqueueRequest // waiting for the commit loop
	kick    chan struct{}     // cap 1: a commit loop has work
	stop    chan struct{}     // closed by Close
	loops   sync.WaitGroup    // commit loops, notifier, listener

	notifyKick chan struct{} // cap 1: tell other nodes there is work
	wake       chan struct{} // cap 1: returned by Wake
	// listenCancel stops the listener's blocking wait on Close.
	listenCancel context.CancelFunc
}

// Open connects to the database, applies the embedded migrations to
// opts.Schema (creating it when missing) and starts the group-commit loop
// and the LISTEN connection. The caller must Close the store.
func Open(ctx context.Context, opts Options) (*Store, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	cfg, err := pgxpool.ParseConfig(opts.URL)
	if err != nil {
		// pgx's parse errors can quote the connection string, password
		// included: say only what kind of problem it is.
		return nil, errors.New("pgstore: open: Options.URL is not a valid PostgreSQL connection string")
	}
	if opts.MaxConns > 0 {
		cfg.MaxConns = opts.MaxConns
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("pgstore: open: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("pgstore: open: connect: %w: %w", ErrUnavailable, err)
	}
	if err := migrate(ctx, pool, opts.Schema, opts.Logger); err != nil {
		pool.Close()
		return nil, fmt.Errorf("pgstore: open: migrate: %w", err)
	}
	s := &Store{
		pool:       pool,
		schema:     opts.Schema,
		q:          newQueries(pgx.Identifier{opts.Schema}.Sanitize(), opts.Schema),
		opts:       opts,
		log:        opts.Logger,
		clock:      opts.Clock,
		kick:       make(chan struct{}, 1),
		stop:       make(chan struct{}),
		notifyKick: make(chan struct{}, 1),
		wake:       make(chan struct{}, 1),
	}
	listenCtx, cancel := context.WithCancel(context.Background())
	s.listenCancel = cancel
	s.loops.Add(2 + committers)
	for range committers {
		go s.commitLoop()
	}
	go s.notifyLoop()
	go s.listenLoop(listenCtx, cfg.ConnConfig.Copy())
	return s, nil
}

// Close stops accepting work, waits for enqueues already queued to be
// committed, stops the listener and closes the pool. Later calls to any
// method return engine.ErrClosed.
func (s *Store) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return engine.ErrClosed
	}
	s.closed = true
	s.mu.Unlock()
	close(s.stop)
	s.listenCancel()
	s.loops.Wait()
	s.pool.Close()
	return nil
}

// Schema returns the schema that holds this store's tables.
func (s *Store) Schema() string { return s.schema }

func (s *Store) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

// Get returns one run, or engine.ErrNotFound.
func (s *Store) Get(ctx context.Context, runID string) (*engine.Run, error) {
	if s.isClosed() {
		return nil, engine.ErrClosed
	}
	rows, err := s.pool.Query(ctx, s.q.get, runID)
	if err != nil {
		return nil, fmt.Errorf("pgstore: get %s: %w", runID, err)
	}
	run, err := pgx.CollectExactlyOneRow(rows, scanRun)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("pgstore: get %s: %w", runID, engine.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("pgstore: get %s: %w", runID, err)
	}
	return run, nil
}

// Cancel marks a run canceled (queued or retrying) or asks it to stop
// (running); see engine.Store.
func (s *Store) Cancel(ctx context.Context, runID string, now time.Time) error {
	if s.isClosed() {
		return engine.ErrClosed
	}
	if now.IsZero() {
		return fmt.Errorf("pgstore: cancel %s: now is zero", runID)
	}
	var status string
	err := s.pool.QueryRow(ctx, s.q.cancel, runID, now).Scan(&status)
	if err == nil {
		return nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("pgstore: cancel %s: %w", runID, err)
	}
	err = s.pool.QueryRow(ctx, s.q.status, runID).Scan(&status)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return fmt.Errorf("pgstore: cancel %s: %w", runID, engine.ErrNotFound)
	case err != nil:
		return fmt.Errorf("pgstore: cancel %s: %w", runID, err)
	case engine.Status(status).Final():
		return fmt.Errorf("pgstore: cancel %s: %w", runID, engine.ErrFinished)
	default:
		// Changed between the two statements (e.g. claimed): try again.
		return s.Cancel(ctx, runID, now)
	}
}

// DefaultPurgeLimit is how many records one Purge deletes when
// PurgeRequest.Limit is zero.
const DefaultPurgeLimit = 500

// Purge deletes up to req.Limit finished runs that finished before
// req.FinishedBefore, then, within what is left of the limit, dedupe keys
// that expired before req.Now.
func (s *Store) Purge(ctx context.Context, req engine.PurgeRequest) (int, error) {
	if s.isClosed() {
		return 0, engine.ErrClosed
	}
	limit := req.Limit
	if limit <= 0 {
		limit = DefaultPurgeLimit
	}
	total := 0
	if !req.FinishedBefore.IsZero() {
		tag, err := s.pool.Exec(ctx, s.q.purgeRuns, req.FinishedBefore, limit)
		if err != nil {
			return 0, fmt.Errorf("pgstore: purge runs: %w", err)
		}
		total += int(tag.RowsAffected())
	}
	if left := limit - total; left > 0 && !req.Now.IsZero() {
		tag, err := s.pool.Exec(ctx, s.q.purgeDedupe, req.Now, left)
		if err != nil {
			return total, fmt.Errorf("pgstore: purge dedupe keys: %w", err)
		}
		total += int(tag.RowsAffected())
	}
	return total, nil
}

// runColumns is the column list every query returning whole runs selects,
// in the order scanRun reads.
const runColumns = `id, workflow, workflow_version, status, event, dedupe_key, dedupe_until, replay_of,
	created_at, updated_at, started_at, finished_at, due_at, lease_owner, lease_token, lease_expires,
	claims, cancel_requested, steps, error`

// scanRun reads one row of runColumns.
func scanRun(row pgx.CollectableRow) (*engine.Run, error) {
	var (
		r                                         engine.Run
		status                                    string
		event, steps                              []byte
		dedupeUntil, started, finished, due, exps pgtype.Timestamptz
		claims                                    int32
	)
	err := row.Scan(&r.ID, &r.Workflow, &r.WorkflowVersion, &status, &event, &r.DedupeKey, &dedupeUntil, &r.ReplayOf,
		&r.CreatedAt, &r.UpdatedAt, &started, &finished, &due, &r.Lease.Owner, &r.Lease.Token, &exps,
		&claims, &r.CancelRequested, &steps, &r.Error)
	if err != nil {
		return nil, err
	}
	r.Status = engine.Status(status)
	r.Claims = int(claims)
	r.DedupeUntil = fromTS(dedupeUntil)
	r.StartedAt = fromTS(started)
	r.FinishedAt = fromTS(finished)
	r.DueAt = fromTS(due)
	r.Lease.ExpiresAt = fromTS(exps)
	r.CreatedAt = r.CreatedAt.UTC()
	r.UpdatedAt = r.UpdatedAt.UTC()
	if err := json.Unmarshal(event, &r.Event); err != nil {
		return nil, fmt.Errorf("decode event of run %s: %w", r.ID, err)
	}
	if err := json.Unmarshal(steps, &r.Steps); err != nil {
		return nil, fmt.Errorf("decode steps of run %s: %w", r.ID, err)
	}
	if len(r.Steps) == 0 {
		r.Steps = nil
	}
	return &r, nil
}

// ts turns a Go time into a timestamptz parameter: the zero time is NULL.
func ts(t time.Time) pgtype.Timestamptz {
	return pgtype.Timestamptz{Time: t, Valid: !t.IsZero()}
}

func fromTS(t pgtype.Timestamptz) time.Time {
	if !t.Valid {
		return time.Time{}
	}
	return t.Time.UTC()
}

// queries holds every statement with the schema name substituted once.
type queries struct {
	get, status, cancel, purgeRuns, purgeDedupe                                             string
	enqueue, importRuns, dedupeLookup, importKey                                            string
	claimCandidates, claimCount, claimLock, claimTryLock, claimUpdate, claimDirect, nextDue string
	renew, recordRead, recordReadSteps, recordUpdate, rescue, notify                        string
	list                                                                                    string
}

func newQueries(schema, channel string) queries {
	r := strings.NewReplacer("{{s}}", schema)
	q := queries{
		get:    `SELECT ` + runColumns + ` FROM {{s}}.runs WHERE id = $1`,
		status: `SELECT status FROM {{s}}.runs WHERE id = $1`,
		cancel: `UPDATE {{s}}.runs SET
				status = CASE WHEN status = 'running' THEN status ELSE 'canceled' END,
				cancel_requested = true,
				finished_at = CASE WHEN status = 'running' THEN finished_at ELSE $2::timestamptz END,
				updated_at = $2::timestamptz
			WHERE id = $1 AND status IN ('queued', 'retrying', 'running')
			RETURNING status`,
		purgeRuns: `DELETE FROM {{s}}.runs WHERE id IN (
				SELECT id FROM {{s}}.runs WHERE finished_at < $1
				ORDER BY finished_at LIMIT $2 FOR UPDATE SKIP LOCKED)`,
		purgeDedupe: `DELETE FROM {{s}}.dedupe WHERE (workflow, key) IN (
				SELECT workflow, key FROM {{s}}.dedupe WHERE until < $1
				ORDER BY until LIMIT $2 FOR UPDATE SKIP LOCKED)`,
		enqueue:    enqueueSQL,
		importRuns: `INSERT INTO {{s}}.runs (` + insertColumns + `) ` + unnestRunsSQL + ` ON CONFLICT (id) DO NOTHING`,
		dedupeLookup: `SELECT d.workflow, d.key, d.run_id FROM {{s}}.dedupe d
			JOIN unnest($1::text[], $2::text[]) AS k(workflow, key) USING (workflow, key)`,
		importKey: `INSERT INTO {{s}}.dedupe AS d (workflow, key, run_id, created_at, until)
			SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[], $5::timestamptz[])
			ON CONFLICT (workflow, key) DO UPDATE
				SET run_id = EXCLUDED.run_id, created_at = EXCLUDED.created_at, until = EXCLUDED.until
				WHERE d.created_at < EXCLUDED.created_at`,
		claimCandidates: `SELECT id, workflow FROM {{s}}.runs
			WHERE status IN ('queued', 'retrying') AND due_at <= $1
				AND workflow <> ALL($2::text[]) AND id <> ALL($3::text[])
			ORDER BY due_at, id LIMIT $4 FOR UPDATE SKIP LOCKED`,
		claimLock:    `SELECT pg_advisory_xact_lock(hashtext($1), hashtext($2))`,
		claimTryLock: `SELECT pg_try_advisory_xact_lock(hashtext($1), hashtext($2))`,
		claimCount: `SELECT workflow, count(*) FROM {{s}}.runs
			WHERE status = 'running' AND workflow = ANY($1::text[]) GROUP BY workflow`,
		claimUpdate: `UPDATE {{s}}.runs SET status = 'running', claims = claims + 1,
				lease_owner = $2, lease_token = lease_token + 1, lease_expires = $3,
				started_at = COALESCE(started_at, $4), updated_at = $4
			WHERE id = ANY($1::text[]) RETURNING ` + runColumns,
		claimDirect: `UPDATE {{s}}.runs r SET status = 'running', claims = r.claims + 1,
				lease_owner = $3::text, lease_token = r.lease_token + 1, lease_expires = $4::timestamptz,
				started_at = COALESCE(r.started_at, $1::timestamptz), updated_at = $1::timestamptz
			FROM (SELECT id FROM {{s}}.runs
				WHERE status IN ('queued', 'retrying') AND due_at <= $1::timestamptz
				ORDER BY due_at, id LIMIT $2 FOR UPDATE SKIP LOCKED) c
			WHERE r.id = c.id RETURNING ` + qualified("r", runColumns),
		nextDue: `SELECT min(due_at) FROM {{s}}.runs
			WHERE status IN ('queued', 'retrying') AND due_at > $1`,
		renew: `UPDATE {{s}}.runs SET lease_expires = $3
			WHERE id = $1 AND lease_token = $2 AND status = 'running'`,
		recordRead: `SELECT xmin, cancel_requested, NULL::json FROM {{s}}.runs
			WHERE id = $1 AND lease_token = $2 AND status = 'running'`,
		recordReadSteps: `SELECT xmin, cancel_requested, steps FROM {{s}}.runs
			WHERE id = $1 AND lease_token = $2 AND status = 'running'`,
		recordUpdate: `UPDATE {{s}}.runs SET status = $3::text, steps = COALESCE($4::json, steps),
				due_at = CASE WHEN $3::text IN ('retrying', 'queued') THEN $5::timestamptz ELSE due_at END,
				lease_owner = CASE WHEN $3::text = 'running' THEN lease_owner ELSE '' END,
				lease_expires = CASE WHEN $3::text = 'running' THEN lease_expires END,
				finished_at = CASE WHEN $3::text IN ('succeeded', 'dead', 'canceled') THEN $6::timestamptz END,
				error = $7::text, updated_at = $6::timestamptz
			WHERE id = $1 AND lease_token = $2 AND status = 'running' AND xmin = $8::xid`,
		rescue: `UPDATE {{s}}.runs SET
				status = CASE WHEN cancel_requested THEN 'canceled' ELSE 'queued' END,
				due_at = $1::timestamptz,
				finished_at = CASE WHEN cancel_requested THEN $1::timestamptz END,
				lease_owner = '', lease_expires = NULL, updated_at = $1::timestamptz
			WHERE status = 'running' AND lease_expires < $1::timestamptz`,
		notify: `BEGIN; SET LOCAL synchronous_commit TO off; SELECT pg_notify(` + literal(channel) + `, ''); COMMIT`,
		list:   `SELECT ` + runColumns + ` FROM {{s}}.runs`,
	}
	for _, p := range []*string{
		&q.get, &q.status, &q.cancel, &q.purgeRuns, &q.purgeDedupe,
		&q.enqueue, &q.importRuns, &q.dedupeLookup, &q.importKey,
		&q.claimCandidates, &q.claimCount, &q.claimLock, &q.claimTryLock, &q.claimUpdate, &q.claimDirect, &q.nextDue,
		&q.renew, &q.recordRead, &q.recordReadSteps, &q.recordUpdate, &q.rescue, &q.notify, &q.list,
	} {
		*p = r.Replace(*p)
	}
	return q
}

// qualified prefixes every column of a comma-separated list with table.
func qualified(table, columns string) string {
	cols := strings.Split(columns, ",")
	for i, c := range cols {
		cols[i] = table + "." + strings.TrimSpace(c)
	}
	return strings.Join(cols, ", ")
}

// literal quotes s as an SQL string constant, whatever
// standard_conforming_strings says.
func literal(s string) string {
	return "E'" + strings.NewReplacer(`\`, `\\`, `'`, `''`).Replace(s) + "'"
}

// insertColumns are the columns of runs written from unnestRunsSQL.
const insertColumns = `id, workflow, workflow_version, status, event, dedupe_key, dedupe_until,
	replay_of, created_at, updated_at, started_at, finished_at, due_at, lease_owner, lease_token, lease_expires,
	claims, cancel_requested, steps, error`

// unnestRunsSQL turns parallel arrays, one per column (see
// runColumnsArrays), into rows named like insertColumns.
const unnestRunsSQL = `SELECT id, workflow, workflow_version, status, event::json AS event, dedupe_key, dedupe_until,
		replay_of, created_at, updated_at, started_at, finished_at, due_at, lease_owner, lease_token, lease_expires,
		claims, cancel_requested, steps::json AS steps, error
	FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::timestamptz[],
		$8::text[], $9::timestamptz[], $10::timestamptz[], $11::timestamptz[], $12::timestamptz[], $13::timestamptz[],
		$14::text[], $15::int8[], $16::timestamptz[], $17::int4[], $18::bool[], $19::text[], $20::text[])
	AS t(id, workflow, workflow_version, status, event, dedupe_key, dedupe_until,
		replay_of, created_at, updated_at, started_at, finished_at, due_at, lease_owner, lease_token, lease_expires,
		claims, cancel_requested, steps, error)`

var _ engine.Store = (*Store)(nil)
var _ engine.Waker = (*Store)(nil)
