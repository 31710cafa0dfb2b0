// Package storetest is the conformance suite every engine.Store backend runs,
// against a real bbolt file or a real database, never a fake.
//
// A backend's test file hands Run a Harness and gets one subtest per
// behaviour of the engine.Store contract:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, storetest.Harness{
//			Open: func(t *testing.T) engine.Store {
//				s, err := mystore.Open(t.Context(), filepath.Join(t.TempDir(), "runs.db"))
//				if err != nil {
//					t.Fatal(err)
//				}
//				return s
//			},
//			Reopen: func(t *testing.T, closed engine.Store) engine.Store {
//				s, err := mystore.Open(t.Context(), closed.(*mystore.Store).Path())
//				if err != nil {
//					t.Fatal(err)
//				}
//				return s
//			},
//		})
//	}
//
//	func BenchmarkStore(b *testing.B) {
//		storetest.Bench(b, func(b *testing.B) engine.Store { ... })
//	}
//
// Subtest names are stable ("Enqueue/Dedupe/after_until", "Claim/Concurrent",
// ...), so `go test -run 'Conformance/Claim'` selects a group.
//
// # Harness contract
//
// Open is called once per subtest, from parallel subtests: every call must
// return an independent, empty store (a new file, a new schema or database).
// The suite closes every store it opens; Open registers the cleanup of the
// underlying data itself (t.TempDir does so for files). Reopen, when not nil,
// opens the same data again after the suite closed the store; a nil Reopen
// skips the durability subtests. A store that implements QueueDepther (the
// admin metrics' queue-depth gauge) has it checked too.
//
// # Contract details the suite pins down
//
// The engine.Store doc comments are the semantics. Where they leave a choice,
// the suite fixes it so that every backend behaves the same:
//
//   - Time precision: backends keep times to at least the microsecond. A
//     time written with sub-microsecond digits may come back rounded or
//     truncated to the microsecond (within 1µs); a microsecond-aligned time
//     comes back Equal. Times may come back in any location: compare with
//     Equal, never ==.
//   - Enqueue: an empty ID is assigned (a time-ordered UUIDv7); an empty
//     Status becomes queued (only "" and queued are accepted); a zero
//     CreatedAt becomes the store's current time; a zero UpdatedAt becomes
//     CreatedAt; a zero DueAt becomes CreatedAt (due at once). Event bodies are
//     kept byte for byte, whatever they contain. A run with an empty Workflow
//     or another Status (or a nil run) fails the whole call and stores
//     nothing. Steps and Error are stored as given; Lease, Claims, StartedAt,
//     FinishedAt and CancelRequested belong to the store and start zero.
//     Enqueue does not modify the runs passed in. A given ID is kept (use a
//     UUID: a backend may store ids as such); an ID that exists already
//     fails the call. Concurrent Enqueues of one key make exactly one run.
//   - Dedupe: a run is a duplicate when an earlier run of the same workflow
//     has the same non-empty DedupeKey and the new run's CreatedAt is before
//     that earlier run's DedupeUntil. A run that is not a duplicate becomes
//     the holder of its key (with its own DedupeUntil), also when an expired
//     holder existed. Runs of one Enqueue call dedupe against earlier runs of
//     the same call.
//   - Claim: runs come back oldest DueAt first. NextDue ignores due runs
//     that a concurrency limit held back (they are due already). Token is greater than every
//     earlier token of the same run; StartedAt is set by the first claim
//     only; UpdatedAt becomes Now; Lease.ExpiresAt is Now+LeaseFor. Max < 1,
//     LeaseFor <= 0 or a zero Now is an error.
//   - Leases: writes are fenced by Lease.Token. Record and Renew return
//     ErrLeaseLost when the run is not running or its token differs (also
//     after the run finished), ErrNotFound for an unknown run. Releasing a
//     lease (retrying, queued, final, rescue) clears Owner and ExpiresAt and
//     keeps Token, so tokens keep growing.
//   - Record: UpdatedAt becomes At and the run's Error becomes u.Error; a
//     zero At or an unknown Status is an error that changes nothing.
//     Retrying: DueAt becomes u.DueAt. Queued: DueAt becomes At.
//   - Rescue: a lease expired when ExpiresAt is before now; a rescued run
//     has DueAt and UpdatedAt = now, its lease released, its token kept.
//   - Cancel: a queued or retrying run becomes canceled with FinishedAt=now.
//     A final Record (succeeded, dead) on a run with a pending cancel wins
//     and returns nil.
//   - Get, Record, Renew, Cancel of an unknown or malformed id: ErrNotFound.
//     Get returns a copy: changing it changes nothing stored.
//   - List: newest CreatedAt first (ties by ID, descending); Since is
//     inclusive, Until exclusive; the cursor is "" exactly when no run
//     follows the page; a malformed cursor is an error.
//   - Purge: deletes finished runs whose FinishedAt is before
//     FinishedBefore and dedupe keys whose DedupeUntil is before Now, at most
//     Limit records a call (a run and a key each count one). It never
//     deletes a run that is not final. A key whose window is still open
//     survives the purge of its run. After Purge, a key whose window ended
//     before Now no longer dedupes; a backend may delete it physically in
//     a later call (bbolt's sorted dedupe segments), which counts it then.
//   - A call whose context is already done returns an error wrapping the
//     context's error and changes nothing.
//   - After Close every method returns ErrClosed; a second Close returns nil
//     or ErrClosed.
//
// # Caveats
//
// The suite drives the store with explicit times in the future (from 2031),
// not the wall clock: a backend must use the times it is given (Now, At,
// CreatedAt) rather than its own clock, except for the defaults above.
package storetest
