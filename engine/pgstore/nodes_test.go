package pgstore_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/hookflow/hookflow/engine"
	"github.com/hookflow/hookflow/engine/pgstore"
	"github.com/hookflow/hookflow/engine/pgstore/pgtest"
)

// base is the tests' reference time, microsecond-aligned.
var base = time.Date(2031, 1, 2, 3, 4, 5, 678000000, time.UTC)

func at(d time.Duration) time.Time { return base.Add(d) }

func newRun(workflow string, created time.Time) *engine.Run {
	return &engine.Run{
		Workflow:  workflow,
		CreatedAt: created,
		Event:     engine.Event{ID: "evt", Method: "POST", Path: "/hooks/" + workflow, Body: []byte(`{}`), ReceivedAt: created},
	}
}

// syncBuffer is a bytes.Buffer safe for concurrent log writers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// TestMigrationsRace starts two nodes at once on an empty schema: both
// open, and every migration is applied exactly once.
func TestMigrationsRace(t *testing.T) {
	url := pgtest.URL(t)
	schema := pgtest.Schema(t, url)
	files, err := os.ReadDir("migrations")
	if err != nil {
		t.Fatal(err)
	}

	var logs syncBuffer
	logger := slog.New(slog.NewTextHandler(&logs, nil))
	const nodes = 3
	stores := make([]*pgstore.Store, nodes)
	errs := make([]error, nodes)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			stores[i], errs[i] = pgstore.Open(t.Context(), pgstore.Options{URL: url, Schema: schema, MaxConns: 2, Logger: logger})
		}()
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("node %d: Open: %v", i, err)
		}
		t.Cleanup(func() { _ = stores[i].Close() })
	}
	if n := strings.Count(logs.String(), "applied migration"); n != len(files) {
		t.Errorf("migrations applied %d times by %d nodes, want %d (once each):\n%s", n, nodes, len(files), logs.String())
	}

	conn, err := pgx.Connect(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var rows, distinct int
	err = conn.QueryRow(t.Context(), "SELECT count(*), count(DISTINCT version) FROM "+pgx.Identifier{schema, "schema_migrations"}.Sanitize()).Scan(&rows, &distinct)
	if err != nil {
		t.Fatal(err)
	}
	if rows != len(files) || distinct != len(files) {
		t.Errorf("schema_migrations has %d rows (%d versions), want %d", rows, distinct, len(files))
	}

	// All three nodes work on the one schema.
	res, err := stores[0].Enqueue(t.Context(), newRun("a", at(0)))
	if err != nil {
		t.Fatal(err)
	}
	for i, s := range stores {
		if _, err := s.Get(t.Context(), res[0].RunID); err != nil {
			t.Errorf("node %d: Get: %v", i, err)
		}
	}
}

// TestMigrationNewerSchema refuses to run against a schema migrated by a
// newer release.
func TestMigrationNewerSchema(t *testing.T) {
	s, url, schema := setup(t)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(t.Context(), "INSERT INTO "+pgx.Identifier{schema, "schema_migrations"}.Sanitize()+
		" (version, name) VALUES (9999, '9999_future.sql')"); err != nil {
		t.Fatal(err)
	}
	_, err = pgstore.Open(t.Context(), pgstore.Options{URL: url, Schema: schema})
	if err == nil || !strings.Contains(err.Error(), "newer than this binary knows") {
		t.Errorf("Open on a newer schema: %v, want a refusal naming the version", err)
	}
}

// TestConcurrencyLimitAcrossNodes races claimers on two stores sharing a
// schema: the per-workflow limit holds across both.
func TestConcurrencyLimitAcrossNodes(t *testing.T) {
	a, url, schema := setup(t)
	b := open(t, url, schema)
	t.Cleanup(func() { _ = b.Close() })
	const limit, limitedRuns, freeRuns = 3, 24, 6
	var runs []*engine.Run
	for i := range limitedRuns {
		runs = append(runs, newRun("limited", at(time.Duration(i)*time.Millisecond)))
	}
	for i := range freeRuns {
		runs = append(runs, newRun("free", at(time.Duration(i)*time.Millisecond)))
	}
	if _, err := a.Enqueue(t.Context(), runs...); err != nil {
		t.Fatal(err)
	}
	limits := map[string]int{"limited": limit}

	// claimAll races 4 claimers on each node until none gets anything.
	claimAll := func(now time.Time) []*engine.Run {
		t.Helper()
		var (
			mu  sync.Mutex
			got []*engine.Run
			wg  sync.WaitGroup
		)
		start := make(chan struct{})
		for i := range 8 {
			s := []*pgstore.Store{a, b}[i%2]
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				for {
					c, err := s.Claim(t.Context(), engine.ClaimRequest{Owner: fmt.Sprintf("node%d/w%d", i%2, i), Max: 2,
						LeaseFor: time.Hour, Now: now, Concurrency: limits})
					if err != nil {
						t.Errorf("Claim: %v", err)
						return
					}
					if len(c.Runs) == 0 {
						return
					}
					mu.Lock()
					got = append(got, c.Runs...)
					mu.Unlock()
				}
			}()
		}
		close(start)
		wg.Wait()
		return got
	}
	count := func(runs []*engine.Run, wf string) int {
		n := 0
		for _, r := range runs {
			if r.Workflow == wf {
				n++
			}
		}
		return n
	}

	now := at(time.Minute)
	first := claimAll(now)
	if n := count(first, "limited"); n != limit {
		t.Fatalf("first round claimed %d limited runs, want %d", n, limit)
	}
	if n := count(first, "free"); n != freeRuns {
		t.Errorf("first round claimed %d free runs, want %d", n, freeRuns)
	}
	held := []*engine.Run{}
	for _, r := range first {
		if r.Workflow == "limited" {
			held = append(held, r)
		}
	}
	// Finishing one frees exactly one slot, whichever node claims it.
	for round := range 5 {
		done := held[0]
		held = held[1:]
		if err := b.Record(t.Context(), done.ID, done.Lease, engine.Update{Status: engine.StatusSucceeded, At: now}); err != nil {
			t.Fatal(err)
		}
		got := claimAll(now)
		if len(got) != 1 || got[0].Workflow != "limited" {
			t.Fatalf("round %d: claimed %d runs after one finished, want exactly 1 limited", round, len(got))
		}
		held = append(held, got...)
	}
}

// TestZombieWriteAfterRescue: a node whose lease expired and was rescued by
// another node cannot change the run any more.
func TestZombieWriteAfterRescue(t *testing.T) {
	a, url, schema := setup(t)
	b := open(t, url, schema)
	t.Cleanup(func() { _ = b.Close() })
	res, err := a.Enqueue(t.Context(), newRun("w", at(0)))
	if err != nil {
		t.Fatal(err)
	}
	id := res[0].RunID
	claim := func(s *pgstore.Store, owner string, now time.Time) *engine.Run {
		t.Helper()
		c, err := s.Claim(t.Context(), engine.ClaimRequest{Owner: owner, Max: 1, LeaseFor: 10 * time.Second, Now: now})
		if err != nil || len(c.Runs) != 1 || c.Runs[0].ID != id {
			t.Fatalf("%s: Claim = %v, %v; want run %s", owner, c.Runs, err, id)
		}
		return c.Runs[0]
	}
	zombie := claim(a, "node-a", at(time.Second))
	if n, err := b.Rescue(t.Context(), at(12*time.Second)); err != nil || n != 1 {
		t.Fatalf("node-b: Rescue = %d, %v; want 1", n, err)
	}
	holder := claim(b, "node-b", at(13*time.Second))
	step := &engine.StepRecord{ID: "s1", Uses: "http", Status: engine.StepSucceeded, Outputs: map[string]any{"zombie": true}}
	if err := b.Record(t.Context(), id, holder.Lease, engine.Update{Step: &engine.StepRecord{ID: "s0", Uses: "log", Status: engine.StepSucceeded}, Status: engine.StatusRunning, At: at(14 * time.Second)}); err != nil {
		t.Fatal(err)
	}
	before := jsonOf(t, get(t, b, id))

	writes := []struct {
		name string
		call func() error
	}{
		{"Record running", func() error {
			return a.Record(t.Context(), id, zombie.Lease, engine.Update{Step: step, Status: engine.StatusRunning, At: at(15 * time.Second)})
		}},
		{"Record succeeded", func() error {
			return a.Record(t.Context(), id, zombie.Lease, engine.Update{Step: step, Status: engine.StatusSucceeded, At: at(15 * time.Second)})
		}},
		{"Record retrying", func() error {
			return a.Record(t.Context(), id, zombie.Lease, engine.Update{Status: engine.StatusRetrying, DueAt: at(time.Hour), At: at(15 * time.Second)})
		}},
		{"Record queued", func() error {
			return a.Record(t.Context(), id, zombie.Lease, engine.Update{Status: engine.StatusQueued, At: at(15 * time.Second)})
		}},
		{"Renew", func() error { return a.Renew(t.Context(), id, zombie.Lease, at(time.Hour)) }},
	}
	for _, w := range writes {
		if err := w.call(); !errors.Is(err, engine.ErrLeaseLost) {
			t.Errorf("zombie %s: %v, want ErrLeaseLost", w.name, err)
		}
	}
	if after := jsonOf(t, get(t, b, id)); after != before {
		t.Errorf("zombie writes changed the run:\nbefore %s\nafter  %s", before, after)
	}
	if err := b.Record(t.Context(), id, holder.Lease, engine.Update{Step: step, Status: engine.StatusSucceeded, At: at(16 * time.Second)}); err != nil {
		t.Errorf("holder's Record: %v", err)
	}
}

func get(t *testing.T, s *pgstore.Store, id string) *engine.Run {
	t.Helper()
	r, err := s.Get(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func jsonOf(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// waitWake waits for one signal on w, failing after a generous deadline.
func waitWake(t *testing.T, w <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-w:
	case <-time.After(15 * time.Second):
		t.Fatalf("no wake-up: %s", what)
	}
}

// drain empties w without waiting.
func drain(w <-chan struct{}) {
	for {
		select {
		case <-w:
		default:
			return
		}
	}
}

// TestWakeAcrossNodes: an enqueue, a retry hand-back and a rescue on one
// node wake the other through LISTEN/NOTIFY.
func TestWakeAcrossNodes(t *testing.T) {
	quiet := func(o *pgstore.Options) { o.PollInterval = time.Hour } // no poll ticks in this test
	a, url, schema := setup(t, quiet)
	b := open(t, url, schema, quiet)
	t.Cleanup(func() { _ = b.Close() })
	waitWake(t, b.Wake(), "listener connected") // sent once LISTEN is in place
	drain(b.Wake())

	res, err := a.Enqueue(t.Context(), newRun("w", at(0)))
	if err != nil {
		t.Fatal(err)
	}
	waitWake(t, b.Wake(), "enqueue on the other node")

	c, err := a.Claim(t.Context(), engine.ClaimRequest{Owner: "a", Max: 1, LeaseFor: time.Second, Now: at(0)})
	if err != nil || len(c.Runs) != 1 {
		t.Fatalf("Claim = %v, %v", c.Runs, err)
	}
	drain(b.Wake())
	if err := a.Record(t.Context(), res[0].RunID, c.Runs[0].Lease, engine.Update{Status: engine.StatusRetrying, DueAt: at(time.Minute), At: at(time.Second)}); err != nil {
		t.Fatal(err)
	}
	waitWake(t, b.Wake(), "retry scheduled on the other node")

	c, err = a.Claim(t.Context(), engine.ClaimRequest{Owner: "a", Max: 1, LeaseFor: time.Second, Now: at(time.Minute)})
	if err != nil || len(c.Runs) != 1 {
		t.Fatalf("Claim = %v, %v", c.Runs, err)
	}
	drain(b.Wake())
	if n, err := a.Rescue(t.Context(), at(time.Hour)); err != nil || n != 1 {
		t.Fatalf("Rescue = %d, %v", n, err)
	}
	waitWake(t, b.Wake(), "rescue on the other node")
}

// TestWakePolls: with nothing happening, Wake still fires every
// PollInterval.
func TestWakePolls(t *testing.T) {
	s, _, _ := setup(t, func(o *pgstore.Options) { o.PollInterval = 20 * time.Millisecond })
	for i := range 3 {
		waitWake(t, s.Wake(), fmt.Sprintf("poll tick %d", i))
	}
}
