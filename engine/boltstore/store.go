package boltstore

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"

	"github.com/hookflow/hookflow/engine"
)

// Defaults for Options.
const (
	DefaultTimeout  = 5 * time.Second
	DefaultMaxBatch = 1024
)

// Options configure Open.
type Options struct {
	// Path is the bbolt file, e.g. data/hookflow.db. Its directory is
	// created when missing. Required.
	Path string
	// Timeout bounds the wait for the file lock held by another process
	// (default 5s; a shorter context deadline wins). bbolt itself would wait
	// forever with 0, so 0 means the default, never "forever".
	Timeout time.Duration
	// NoSync skips fsync after each commit: acknowledged writes can be lost
	// on a crash. For benchmarks and tests only.
	NoSync bool
	// MaxBatch caps how many writes one commit carries (default 1024).
	MaxBatch int
	// MaxQueued, when > 0, caps the runs waiting in the queue (queued or
	// retrying): an Enqueue that would exceed it stores nothing and returns
	// engine.ErrFull, which the webhook trigger answers with 503.
	MaxQueued int
	// Logger receives commit failures and open/close events (default: a
	// logger that discards). Run contents are never logged.
	Logger *slog.Logger
	// Now is the clock for the one default the store fills in itself (a zero
	// CreatedAt on Enqueue). Default time.Now.
	Now func() time.Time
	// OnCommit, when set, is called after every group commit with the
	// number of writes it carried and how long it took, fsync included (for
	// metrics). It runs on the commit loop: keep it cheap.
	OnCommit func(writes int, took time.Duration)

	// The dedupe index's generation size and maintenance chunk (dedupe.go);
	// 0 means the default. Tests set small ones.
	dedupeFlushAt, dedupeChunk int
}

// withDefaults fills defaults and validates, naming the bad field.
func (o Options) withDefaults() (Options, error) {
	if o.Path == "" {
		return o, errors.New("boltstore: Options.Path is empty")
	}
	if o.Timeout < 0 {
		return o, fmt.Errorf("boltstore: Options.Timeout is negative (%s)", o.Timeout)
	}
	if o.MaxBatch < 0 {
		return o, fmt.Errorf("boltstore: Options.MaxBatch is negative (%d)", o.MaxBatch)
	}
	if o.MaxQueued < 0 {
		return o, fmt.Errorf("boltstore: Options.MaxQueued is negative (%d)", o.MaxQueued)
	}
	o.Timeout = cmp.Or(o.Timeout, DefaultTimeout)
	o.MaxBatch = cmp.Or(o.MaxBatch, DefaultMaxBatch)
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o, nil
}

// Store is the bbolt engine.Store. All writes go through one group-commit
// loop; reads use their own read transactions. It is safe for concurrent
// use.
type Store struct {
	db   *bolt.DB
	opts Options
	log  *slog.Logger

	mu      sync.Mutex
	pending []*op // writes waiting for the commit loop
	// See take: the last time a batch took an enqueue, and how many other
	// writes the enqueues taken since have earned.
	lastIngestAt time.Time
	credit       int
	closed       atomic.Bool

	kick chan struct{} // buffered 1: there is pending work
	done chan struct{} // closed when the commit loop has exited
	wake chan struct{} // buffered 1: engine.Waker

	// queued counts the entries of the queue bucket (queued, retrying and
	// leased runs); changed by the commit loop after each commit (rebuilt at
	// Open).
	queued atomic.Int64
	leases *leaseTable
	fresh  *freshRuns
	dd     *dedupeIndex // the commit loop's
	// claimFrom is where a claim starts reading the queue: every entry
	// before it is leased. The commit loop's (see writeTx.claim).
	claimFrom []byte
	// purgeFrom is where the next Purge starts walking the created index
	// (nil: at its start). The commit loop's (see writeTx.purge).
	purgeFrom []byte
	commits   atomic.Uint64
	ops       atomic.Uint64
	enqueues  atomic.Uint64
	busy      atomic.Int64 // nanoseconds in committed transactions
	writing   atomic.Int64 // of busy, nanoseconds bbolt wrote and synced pages
	pages     atomic.Uint64
}

// Open opens or creates the store file, its directory and buckets, and
// starts the commit loop.
func Open(ctx context.Context, opts Options) (*Store, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("boltstore: open %s: %w", opts.Path, err)
	}
	if dir := filepath.Dir(opts.Path); dir != "" {
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return nil, fmt.Errorf("boltstore: create directory: %w", err)
		}
	}
	timeout := opts.Timeout
	if dl, ok := ctx.Deadline(); ok {
		timeout = max(time.Millisecond, min(timeout, time.Until(dl)))
	}
	db, err := bolt.Open(opts.Path, 0o600, &bolt.Options{
		Timeout:      timeout,
		NoSync:       opts.NoSync,
		FreelistType: bolt.FreelistMapType,
		// Do not write the list of free pages at every commit; bbolt
		// rebuilds it by scanning the file at Open instead. After retention
		// deleted many runs the list is long (98,000 free pages after
		// 200,000 runs were purged: 780 KB rewritten per commit), and
		// enqueues ran at 10,200/s against 24,700/s without it; reopening
		// that 400 MB file took 18 ms.
		NoFreelistSync: true,
		// Map 1 GiB of address space from the start (it costs no memory
		// until pages are touched): a file that outgrows its mapping is
		// remapped, and a remap waits for every reader and blocks the writer.
		InitialMmapSize: 1 << 30,
	})
	if err != nil {
		return nil, openError(opts.Path, timeout, err)
	}
	var queued int64
	var dd *dedupeIndex
	err = db.Update(func(tx *bolt.Tx) error {
		if err := checkLayout(tx, opts.Now()); err != nil {
			return err
		}
		for _, name := range allBuckets {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return fmt.Errorf("create bucket %s: %w", name, err)
			}
		}
		if err := tx.Bucket(bucketMeta).Put(metaVersion, layoutVersion); err != nil {
			return fmt.Errorf("write layout version: %w", err)
		}
		var err error
		dd, err = loadDedupe(tx, opts.dedupeFlushAt, opts.dedupeChunk)
		return err
	})
	if err == nil {
		err = db.View(func(tx *bolt.Tx) error {
			queued = int64(tx.Bucket(bucketQueue).Stats().KeyN)
			return nil
		})
	}
	if err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("boltstore: open %s: %w", opts.Path, err)
	}
	s := &Store{
		db:     db,
		opts:   opts,
		log:    opts.Logger,
		kick:   make(chan struct{}, 1),
		done:   make(chan struct{}),
		wake:   make(chan struct{}, 1),
		leases: newLeaseTable(opts.Now()),
		fresh:  newFreshRuns(),
		dd:     dd,
	}
	s.queued.Store(queued)
	go s.loop()
	s.log.Debug("boltstore: opened", "path", opts.Path, "queued", queued)
	if n := runtime.GOMAXPROCS(0); n < 2 {
		s.log.Warn("boltstore: GOMAXPROCS below 2: while the commit loop waits in fsync, senders cannot fill the next batch; set GOMAXPROCS=2 or more",
			"gomaxprocs", n)
	}
	return s, nil
}

// openError explains why bbolt could not open the file.
func openError(path string, timeout time.Duration, err error) error {
	switch {
	case errors.Is(err, bolterrors.ErrTimeout):
		return fmt.Errorf("boltstore: open %s: the file is locked by another process (is another hookflow running with this data directory?); gave up after %s: %w",
			path, timeout, err)
	case errors.Is(err, bolterrors.ErrInvalid), errors.Is(err, bolterrors.ErrChecksum),
		errors.Is(err, bolterrors.ErrVersionMismatch):
		return fmt.Errorf("boltstore: open %s: not a bbolt file, or corrupt: %w", path, err)
	}
	return fmt.Errorf("boltstore: open %s: %w", path, err)
}

// checkLayout refuses a bbolt file that some other program wrote, or that a
// newer hookflow wrote with another layout; it upgrades layouts 2 to 5.
func checkLayout(tx *bolt.Tx, now time.Time) error {
	if meta := tx.Bucket(bucketMeta); meta != nil {
		v := meta.Get(metaVersion)
		// Each older layout is upgraded to the next, up to this one.
		switch string(v) {
		case string(layoutVersion):
			return nil
		case "2":
			if err := upgradeFrom2(tx, now); err != nil {
				return err
			}
			fallthrough
		case "3":
			if err := upgradeFrom3(tx); err != nil {
				return err
			}
			fallthrough
		case "4":
			if err := upgradeFrom4(tx); err != nil {
				return err
			}
			fallthrough
		case "5":
			// Layout 6 writes states in binary (state.go) and reads
			// layout 5's JSON ones as they are: nothing to rewrite.
			return nil
		}
		return fmt.Errorf("store layout version %q, this build reads %q", v, layoutVersion)
	}
	var foreign []string
	_ = tx.ForEach(func(name []byte, _ *bolt.Bucket) error {
		foreign = append(foreign, string(name))
		return nil
	})
	if len(foreign) > 0 {
		return fmt.Errorf("not a hookflow store (buckets %q and no %q bucket)", foreign, bucketMeta)
	}
	return nil
}

// Path is the file the store was opened on.
func (s *Store) Path() string { return s.opts.Path }

// Wake is signalled after a commit that enqueued runs or made runs
// claimable (a lease released, a concurrency slot freed, a rescue).
func (s *Store) Wake() <-chan struct{} { return s.wake }

// NoSync reports whether commits skip fsync (Options.NoSync): not durable.
func (s *Store) NoSync() bool { return s.opts.NoSync }

// Stats are counters of the commit loop. The counters only grow: the
// difference of two readings describes the commits between them.
type Stats struct {
	Commits  uint64 // write transactions committed
	Ops      uint64 // writes they applied (an Enqueue of many runs counts one)
	Enqueues uint64 // of Ops, the Enqueues (webhooks, with the trigger)
	// Busy is the time spent in those transactions, from their start to
	// the end of their commit (fsync included): over a stretch of time it
	// tells how close the one writer is to its limit.
	Busy time.Duration
	// Writing is the part of Busy bbolt spent writing the commits' pages
	// and their meta pages and syncing them (its Tx stats' WriteTime);
	// the rest is applying the writes and laying out the pages.
	Writing time.Duration
	// PageWrites is the number of writes the commits made to the file:
	// one per node (a page, or a run of overflow pages) and one for the
	// meta page.
	PageWrites uint64
	Queued     int64 // runs waiting in the queue (queued or retrying)
}

// Stats returns the commit loop's counters.
func (s *Store) Stats() Stats {
	return Stats{
		Commits: s.commits.Load(), Ops: s.ops.Load(), Enqueues: s.enqueues.Load(),
		Busy: time.Duration(s.busy.Load()), Writing: time.Duration(s.writing.Load()), PageWrites: s.pages.Load(), Queued: s.waiting(),
	}
}

// waiting is the number of queued or retrying runs: the queue bucket also
// holds the leased ones.
func (s *Store) waiting() int64 { return s.queued.Load() - int64(s.leases.len()) }

// Close stops accepting writes (they return engine.ErrClosed), commits the
// writes already queued, and closes the file.
func (s *Store) Close() error {
	s.mu.Lock()
	if s.closed.Load() {
		s.mu.Unlock()
		return engine.ErrClosed
	}
	s.closed.Store(true)
	s.mu.Unlock()
	s.signal(s.kick)
	<-s.done
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("boltstore: close: %w", err)
	}
	s.log.Debug("boltstore: closed", "path", s.opts.Path)
	return nil
}

// view runs a read transaction, mapping a closed database to ErrClosed.
func (s *Store) view(fn func(tx *bolt.Tx) error) error {
	if s.closed.Load() {
		return engine.ErrClosed
	}
	err := s.db.View(fn)
	if errors.Is(err, bolterrors.ErrDatabaseNotOpen) {
		return engine.ErrClosed
	}
	return err
}

// QueueDepth counts the runs waiting (queued: due now; retrying: due later)
// and running. It walks the queue index, not the runs: cheap enough for a
// metrics scrape even with a large backlog.
func (s *Store) QueueDepth(ctx context.Context) (map[engine.Status]int, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	now := timePrefix(s.opts.Now())
	depth := map[engine.Status]int{}
	err := s.view(func(tx *bolt.Tx) error {
		waiting := tx.Bucket(bucketQueue).Stats().KeyN
		later := 0
		c := tx.Bucket(bucketQueue).Cursor()
		for k, _ := c.Seek(now); k != nil; k, _ = c.Next() {
			later++
		}
		running := s.leases.len()
		depth[engine.StatusQueued] = max(0, waiting-later-running)
		depth[engine.StatusRetrying] = later
		depth[engine.StatusRunning] = running
		return nil
	})
	return depth, err
}

// signal does a non-blocking send on a buffered channel.
func (s *Store) signal(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

var (
	_ engine.Store = (*Store)(nil)
	_ engine.Waker = (*Store)(nil)
)
