// Package pgstore is the PostgreSQL engine.Store: the backend for running
// any number of `hookflow serve` processes ("nodes") against one database.
// It passes the conformance suite in engine/storetest.
//
//	s, err := pgstore.Open(ctx, pgstore.Options{
//		URL:    "postgres://hookflow@db.internal:5432/hookflow",
//		Schema: "hookflow", // the default; one schema per installation
//		Logger: logger,
//	})
//	if err != nil {
//		return err
//	}
//	defer s.Close()
//	eng, err := engine.New(engine.Options{Store: s, ...})
//
// # Tables and migrations
//
// Everything lives in one schema: runs (one row per run, event and steps as
// json), dedupe (one row per workflow and idempotency key within its
// window) and schema_migrations. The numbered files of migrations/ are
// embedded and applied by Open in one transaction under an advisory lock,
// so nodes starting together wait for each other and each migration runs
// once. A schema migrated by a newer release is refused.
//
// # Enqueue
//
// Concurrent Enqueue calls share commits: commit loops take whatever calls
// are pending (up to Options.MaxBatch runs, with no wait timer) and write
// them with one statement (dedupe rows with INSERT ... ON CONFLICT, then the
// runs, from unnest arrays). A call returns after the commit that holds its
// runs, with the server's synchronous_commit (on by default), which is what
// lets a trigger answer 202. A failure caused by the database wraps
// ErrUnavailable and nothing of the call is stored: triggers answer 503 with
// Retry-After for it, and for any non-duplicate Enqueue error.
//
// # Claims, leases and concurrency across nodes
//
// Claim locks candidates with FOR UPDATE SKIP LOCKED, oldest due first.
// Per-workflow concurrency limits hold across nodes: the claim transaction
// takes a transaction-level advisory lock per limited workflow
// (hashtext(schema), hashtext(workflow)) before counting that workflow's
// running runs, so two nodes never hand out the same free slot. Every
// Record and Renew is fenced by "id = $1 AND lease_token = $2 AND status =
// 'running'": a node whose lease expired and was rescued by another changes
// nothing and gets engine.ErrLeaseLost. Any node may Rescue.
//
// # Wake-ups
//
// Store implements engine.Waker. After a commit that makes work claimable
// (enqueue, retry scheduled, hand-back, rescue, import) a separate goroutine
// sends NOTIFY on a channel named after the schema — debounced, outside the
// writing transaction — and a dedicated LISTEN connection, reconnecting
// with back-off, turns notifications from every node into wake-ups. Wake
// also fires whenever Options.PollInterval passes without one, so polling
// covers a lost connection; Claimed.NextDue covers retries becoming due.
//
// # Caveats
//
//   - Times are stored with microsecond precision.
//   - Text columns cannot hold NUL bytes or invalid UTF-8: such bytes in a
//     dedupe key, an error or an owner name become U+FFFD. Event and step
//     contents are kept exactly (json, not jsonb, which refuses \u0000).
//   - An Enqueue whose context ends while its batch is being committed
//     returns the context's error although the runs may have been stored;
//     the sender's retry is then caught by its dedupe key.
//   - Import is for moving an installation from another store; it writes
//     runs as they are, leases included.
package pgstore
