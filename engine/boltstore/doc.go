// Package boltstore is the embedded engine.Store: one bbolt file (by default
// data/hookflow.db), no server to run. It passes the conformance suite in
// engine/storetest.
//
//	s, err := boltstore.Open(ctx, boltstore.Options{Path: "data/hookflow.db"})
//	if err != nil {
//		return err // e.g. the file is locked by another hookflow
//	}
//	defer s.Close()
//	res, err := s.Enqueue(ctx, &engine.Run{Workflow: "stripe-activate", Event: ev})
//	// res[0].RunID is on disk now.
//
// # Group commit
//
// bbolt allows one writer and every commit is an fsync. Every write
// (Enqueue, Claim, Renew, Record, Rescue, Cancel, Purge) is an op handed to
// one commit loop goroutine. The loop takes whatever ops are queued (up to
// Options.MaxBatch), applies them in one write transaction, commits once and
// then answers each op. There is no wait timer: while a commit is in its
// fsync, new ops queue up and form the next batch, so under load one fsync
// acknowledges many webhooks and with no load a write is not delayed.
//
// Each op checks everything before it writes, so an op that fails (lease
// lost, duplicate id, store full) writes nothing and its batch mates go on.
// If a write fails after the checks, the transaction is rolled back and the
// batch redone without that op. If the commit fails, every op of the batch
// fails. An op whose context ends before the loop takes it is dropped and
// returns the context's error; once taken, its caller waits for the commit,
// so a committed write is never reported as failed. Reads (Get, List) use
// their own read transactions and never wait for the loop. Validation, id
// generation and encoding of new runs happen in the caller's goroutine.
//
// # Layout
//
// Times in keys are 12 bytes (Unix seconds with the sign bit flipped, then
// nanoseconds, big-endian), so byte order is time order. Run ids are UUIDv7,
// time-ordered, so new runs append to the runs bucket.
//
//	meta        "version" → layout version ("2")
//	runs        id → JSON of engine.Run without its Event (rewritten by every claim and record)
//	events      id → JSON of the run's engine.Event but its body ‖ 0x00 ‖ raw body (written once, at enqueue)
//	queue       dueAt ‖ id → workflow        queued and retrying runs (Claim)
//	leases      expiresAt ‖ id → workflow    running runs (Rescue, concurrency counts)
//	dedupe      workflow ‖ 0x00 ‖ key → until ‖ id
//	dedupe_exp  until ‖ workflow ‖ 0x00 ‖ key → ""   (Purge of expired keys)
//	finished    finishedAt ‖ id → createdAt  final runs (Purge)
//	created     createdAt ‖ id → workflow    (List, newest first)
//
// Claim walks queue from its start while runs are due, skipping workflows at
// their concurrency limit. Running runs per workflow are counted from the
// leases bucket during the claim (it holds exactly the running runs), so
// there is no in-memory count to rebuild or to drift. Only the number of
// queued runs (for Options.MaxQueued and Stats) is kept in memory, counted
// from the queue bucket at Open.
//
// # Caveats
//
//   - One process per file: bbolt locks it. A second Open waits
//     Options.Timeout (default 5s) and fails with an error saying so.
//   - Keep GOMAXPROCS ≥ 2: with one P, the commit loop blocked in fsync
//     starves the goroutines that would fill the next batch.
//   - Claim skips, but still reads, the due runs of a workflow at its limit:
//     a very long backlog of one limited workflow slows claims of others.
//   - List with a Status filter decodes every run it passes over.
//   - Options.NoSync trades durability for speed: benchmarks only.
//   - Wake is a hint for the local engine only; other processes cannot
//     share the file anyway.
package boltstore
