package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gofiber/fiber/v2"
	bolt "go.etcd.io/bbolt"
)

// The baselines of `hookflow bench --baseline` are references, not the
// product: the same load generator against (a) a bare Fiber handler that
// answers 202 without doing anything and (b) a Fiber handler that only
// appends the body to bbolt through a minimal group-commit loop. They tell
// how much of the machine the HTTP stack and a durable write take, so
// hookflow's rate can be read as a fraction of each.

// baselineServer is one running reference server.
type baselineServer struct {
	app  *fiber.App
	ln   net.Listener
	done chan error
	db   *groupCommitLog // nil for the bare handler
}

var baselineAnswer = []byte(`{"status":"queued"}`)

// startBareBaseline serves POST /hooks/bench with a 202 and nothing else.
func startBareBaseline() (*baselineServer, error) {
	app := newBaselineApp()
	app.Post("/hooks/"+benchPath, func(c *fiber.Ctx) error {
		c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSON)
		return c.Status(fiber.StatusAccepted).Send(baselineAnswer)
	})
	return serveBaseline(app, nil)
}

// startBoltBaseline serves POST /hooks/bench by appending the body to a
// bbolt file in dir and answering 202 once it is committed (fsynced unless
// noSync).
func startBoltBaseline(dir string, noSync bool) (*baselineServer, error) {
	db, err := openGroupCommitLog(filepath.Join(dir, "baseline.db"), noSync)
	if err != nil {
		return nil, err
	}
	app := newBaselineApp()
	app.Post("/hooks/"+benchPath, func(c *fiber.Ctx) error {
		// fasthttp reuses the body buffer after the handler returns.
		if err := db.Append(c.UserContext(), bytes.Clone(c.Body())); err != nil {
			return fiber.NewError(fiber.StatusServiceUnavailable, err.Error())
		}
		c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSON)
		return c.Status(fiber.StatusAccepted).Send(baselineAnswer)
	})
	s, err := serveBaseline(app, db)
	if err != nil {
		db.Close()
	}
	return s, err
}

func newBaselineApp() *fiber.App {
	return fiber.New(fiber.Config{
		DisableStartupMessage: true,
		ReadTimeout:           10 * time.Second,
		WriteTimeout:          10 * time.Second,
		IdleTimeout:           60 * time.Second,
	})
}

func serveBaseline(app *fiber.App, db *groupCommitLog) (*baselineServer, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("baseline listener: %w", err)
	}
	s := &baselineServer{app: app, ln: ln, done: make(chan error, 1), db: db}
	go func() { s.done <- app.Listener(ln) }()
	return s, nil
}

// URL is where the bench posts events.
func (s *baselineServer) URL() string {
	return "http://" + s.ln.Addr().String() + "/hooks/" + benchPath
}

// Shutdown stops the server and closes its file.
func (s *baselineServer) Shutdown(ctx context.Context) error {
	err := s.app.ShutdownWithContext(ctx)
	if serr := <-s.done; serr != nil {
		err = errors.Join(err, serr)
	}
	if s.db != nil {
		err = errors.Join(err, s.db.Close())
	}
	return err
}

// groupCommitLog appends records to one bbolt bucket: callers queue their
// record and wait; one loop takes everything queued, writes it in one
// transaction, commits (one fsync) and answers them all. No wait timer:
// what arrives during a commit is the next batch. It is the ceiling a
// durable ack on bbolt can reach on this machine.
type groupCommitLog struct {
	db      *bolt.DB
	mu      sync.Mutex
	pending []*pendingAppend
	closed  bool
	kick    chan struct{}
	done    chan struct{}

	// Counters, as the product store keeps them (boltstore.Stats).
	commits, appends, pageWrites atomic.Uint64
	busy, writing                atomic.Int64 // nanoseconds
	times                        commitTimes
}

type pendingAppend struct {
	rec  []byte
	err  error
	done chan struct{}
}

var baselineBucket = []byte("events")

// maxBaselineBatch is the commit loop's batch cap, as in the product store.
const maxBaselineBatch = 1024

func openGroupCommitLog(path string, noSync bool) (*groupCommitLog, error) {
	// The product store's options (engine/boltstore.Open).
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: 5 * time.Second, FreelistType: bolt.FreelistMapType,
		NoFreelistSync: true, InitialMmapSize: 1 << 30, NoSync: noSync})
	if err != nil {
		return nil, fmt.Errorf("baseline store %s: %w", path, err)
	}
	if err := db.Update(func(tx *bolt.Tx) error {
		_, err := tx.CreateBucketIfNotExists(baselineBucket)
		return err
	}); err != nil {
		db.Close()
		return nil, fmt.Errorf("baseline store %s: %w", path, err)
	}
	l := &groupCommitLog{db: db, kick: make(chan struct{}, 1), done: make(chan struct{})}
	go l.loop()
	return l, nil
}

// Append stores rec durably and returns once it is committed.
func (l *groupCommitLog) Append(ctx context.Context, rec []byte) error {
	p := &pendingAppend{rec: rec, done: make(chan struct{})}
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return errors.New("baseline store closed")
	}
	l.pending = append(l.pending, p)
	l.mu.Unlock()
	select {
	case l.kick <- struct{}{}:
	default:
	}
	select {
	case <-p.done:
		return p.err
	case <-ctx.Done():
		// Committed or not, the record stays queued; only the caller leaves.
		return ctx.Err()
	}
}

func (l *groupCommitLog) loop() {
	defer close(l.done)
	batch := make([]*pendingAppend, 0, maxBaselineBatch)
	for {
		l.mu.Lock()
		for len(l.pending) == 0 && !l.closed {
			l.mu.Unlock()
			<-l.kick
			l.mu.Lock()
		}
		if len(l.pending) == 0 {
			l.mu.Unlock()
			return
		}
		n := min(len(l.pending), maxBaselineBatch)
		batch = append(batch[:0], l.pending[:n]...)
		rest := copy(l.pending, l.pending[n:])
		clear(l.pending[rest:])
		l.pending = l.pending[:rest]
		l.mu.Unlock()

		err := l.commit(batch)
		for _, p := range batch {
			p.err = err
			close(p.done)
		}
		clear(batch)
	}
}

// commit appends batch in one transaction and counts it.
func (l *groupCommitLog) commit(batch []*pendingAppend) error {
	start := time.Now()
	tx, err := l.db.Begin(true)
	if err != nil {
		return err
	}
	b := tx.Bucket(baselineBucket)
	for _, p := range batch {
		seq, err := b.NextSequence()
		if err == nil {
			err = b.Put(binary.BigEndian.AppendUint64(nil, seq), p.rec)
		}
		if err != nil {
			_ = tx.Rollback()
			return err
		}
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	took := time.Since(start)
	l.busy.Add(int64(took))
	l.times.observe(len(batch), took)
	l.commits.Add(1)
	l.appends.Add(uint64(len(batch)))
	st := tx.Stats()
	l.pageWrites.Add(uint64(st.GetWrite()))
	l.writing.Add(int64(st.GetWriteTime()))
	return nil
}

// counters reads the loop's counters: every append is an ack.
func (l *groupCommitLog) counters() commitCounters {
	n := l.appends.Load()
	return commitCounters{commits: l.commits.Load(), ops: n, acks: n, pageWrites: l.pageWrites.Load(), busy: time.Duration(l.busy.Load()),
		writing: time.Duration(l.writing.Load())}
}

// Close commits what is queued and closes the file.
func (l *groupCommitLog) Close() error {
	l.mu.Lock()
	l.closed = true
	l.mu.Unlock()
	select {
	case l.kick <- struct{}{}:
	default:
	}
	<-l.done
	return l.db.Close()
}
