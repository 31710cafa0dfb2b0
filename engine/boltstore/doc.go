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
// (Enqueue, Claim, Record, Rescue, Cancel, Purge) is an op handed to one
// commit loop goroutine. The loop takes whatever ops are queued (up to
// Options.MaxBatch), applies them in one write transaction, commits once and
// then answers each op. There is no wait timer: while a commit is in its
// fsync, new ops queue up and form the next batch, so under load one fsync
// acknowledges many webhooks and with no load a write is not delayed.
//
// Enqueues go first (take in commit.go): while webhooks arrive, each
// enqueue a batch takes earns one place for another write, so a deep
// backlog's records share the commits evenly with webhooks instead of
// filling them.
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
//	meta        "version" → layout version ("6"); "dedupe_purged_before" → the latest Purge's Now
//	runs        id → state of engine.Run without its Event, from the first change on (rewritten by every record)
//	events      id → 0x02 ‖ len ‖ state at enqueue ‖ len ‖ engine.Event but its body ‖ raw body (written once, at enqueue)
//	queue       dueAt ‖ id → workflow        every unfinished run: queued, retrying and running
//	created     createdAt ‖ id → workflow [‖ 0x00 ‖ finishedAt]   every run (List, newest first; Purge)
//	dedupe_log  gen → { seq → until ‖ len(id) ‖ id ‖ workflow ‖ 0x00 ‖ key }   new dedupe keys, appended
//	dedupe_segs id → { workflow ‖ 0x00 ‖ key → until ‖ id }   sorted segments of older keys
//	dedupe_meta id → age ‖ size ‖ latest until ‖ Bloom filter   (a segment without one is unfinished)
//
// The dedupe index is a small log-structured merge tree (dedupe.go): a new
// key is a sequential append to the log and kept in memory; full log
// generations are written out as sorted segments, and segments merged, a
// chunk per commit. Layout 3 kept the keys in one B+tree, where scattered
// delivery ids made every enqueue rewrite a leaf and its branch pages; it
// is upgraded at Open.
//
// A commit's cost on a virtual disk grows with the B+trees it touches: each
// one rewrites a leaf and its branch pages, however few keys it gets. So an
// enqueue writes a run's state with its event, not in the runs bucket
// (runs.go), and a run's finish time is kept in its created entry (set by
// the commit that makes it final, whose enqueues have dirtied that tree's
// newest leaf already), not in a tree of its own: Purge walks the created
// index (purge.go). Layout 4 wrote every state to the runs bucket and had a
// finished index; its files are upgraded at Open (the finished index is
// folded in; its runs keep their states in the runs bucket, which reads
// the same).
//
// # Leases in memory
//
// Leases are not in the file (leases.go): one process holds the file lock,
// so a lease never has to outlive it. A claim takes leases in a table in
// memory and writes nothing; a running run stays in the queue bucket, and
// claims skip the leased ones. Renew only moves an expiry in memory. The
// stored state of a running run is the one its last Record (or its enqueue)
// wrote; Get and List apply the lease to it. After a crash the queue still
// holds every unfinished run, so the runs that were running are claimable
// at once, at their first unfinished step, with no lease to wait out.
// Running runs per workflow (concurrency limits) are counted in the table.
//
// The commit loop alone adds and removes leases. A batch's claims go first,
// in a read transaction of the last commit, and are answered at once: they
// write nothing to the file, so they do not wait for the batch's fsync, and
// they take only runs whose enqueue is on disk (commit.go, claimFirst). A
// batch that wrote nothing (Rescue with nothing expired) is rolled back: no
// commit, no fsync. Record builds and encodes the new state in its caller's
// goroutine, from a read transaction; the loop checks the lease and writes
// the bytes. Layout 2 (leases in a bucket) is upgraded at Open, to layout 6.
//
// The run an Enqueue stored is handed, in memory, to the claim that follows
// (fresh.go), and a leased run's last stored state stays with its lease:
// neither a claim nor a record reads and decodes a state on the way.
//
// # Binary states and events
//
// Since layout 6 a run's state and its event's meta are stored in a
// compact binary form (state.go, event.go): varint lengths and times,
// statuses as one byte, the run's id left out where it is the key. A
// webhook's run of `hookflow bench` takes 83 bytes at enqueue and 218 once
// finished, against 354 and 742 as layout 5's JSON, and its events value
// 427 bytes against 846 (with a 114-byte body): 28% fewer pages per
// commit. Step outputs and attempt details stay JSON inside it (appendValue
// writes them), so values read back as before. Layout 5 files are not
// rewritten: a value starting with '{' or 0x01 is JSON and reads as it did
// (decodeState, decodeEventMeta, json.Unmarshal for the rest); the next
// change to a run writes it anew.
//
// Claim walks queue from its start while runs are due, skipping leased runs
// and workflows at their concurrency limit. Only the number of entries in
// queue (for Options.MaxQueued and Stats) is kept in memory, counted at Open.
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
