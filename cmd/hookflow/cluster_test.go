package main

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/hookflow/hookflow/engine"
	"github.com/hookflow/hookflow/engine/pgstore"
	"github.com/hookflow/hookflow/engine/pgstore/pgtest"
)

// clusterWorkflow posts each event's run id to the test's receiver, with a
// header naming the node that executed the step (its own NODE_NAME, read
// as a secret from the environment). Senders' retries share event ids, so
// a retry that lands on another node is a duplicate, not a second run.
// Short step timeouts keep rescues quick: before each step the lease is
// extended to the step's timeout plus --lease.
const clusterWorkflow = `name: cluster
on:
  webhook:
    path: cluster
    signature: { scheme: none }
    idempotency_key: event.body.id
steps:
  - id: first
    uses: set
    with: { id: "${{ event.body.id }}" }
    timeout: 3s
  - id: deliver
    uses: http
    with:
      method: POST
      url: "${{ event.body.receiver }}"
      headers: { X-Node: "${{ secrets.NODE_NAME }}" }
      json: { run: "${{ run.id }}", event: "${{ steps.first.outputs.id }}" }
    retry: { attempts: 20, initial: 50ms, max: 500ms }
    timeout: 3s
`

// receiver counts deliveries per run and node. While a node is gated, its
// deliveries are counted on arrival and then held until release: a step
// is provably in flight.
type receiver struct {
	srv   *httptest.Server
	delay time.Duration // simulated work per delivery

	mu      sync.Mutex
	runs    map[string][]string // run id → nodes that delivered it, in order
	gated   map[string]bool     // node → hold its deliveries
	held    map[string]string   // run id → node, deliveries being held
	release chan struct{}
}

func newReceiver(t testing.TB, delay time.Duration) *receiver {
	rc := &receiver{delay: delay, runs: map[string][]string{}, gated: map[string]bool{}, held: map[string]string{},
		release: make(chan struct{})}
	rc.srv = httptest.NewServer(http.HandlerFunc(rc.serve))
	t.Cleanup(func() {
		rc.open()
		rc.srv.Close()
	})
	return rc
}

func (rc *receiver) serve(w http.ResponseWriter, r *http.Request) {
	var in struct{ Run string }
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil || in.Run == "" {
		http.Error(w, "want {\"run\": id}", http.StatusBadRequest)
		return
	}
	node := r.Header.Get("X-Node")
	rc.mu.Lock()
	rc.runs[in.Run] = append(rc.runs[in.Run], node)
	gated, release := rc.gated[node], rc.release
	if gated {
		rc.held[in.Run] = node
	}
	rc.mu.Unlock()
	if gated {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}
	if rc.delay > 0 {
		time.Sleep(rc.delay)
	}
}

// gate starts holding the deliveries of node.
func (rc *receiver) gate(node string) {
	rc.mu.Lock()
	rc.gated[node] = true
	rc.mu.Unlock()
}

// open releases every held delivery and stops gating.
func (rc *receiver) open() {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	clear(rc.gated)
	select {
	case <-rc.release:
	default:
		close(rc.release)
	}
}

// heldRuns is a copy of the runs whose deliveries are being held.
func (rc *receiver) heldRuns() map[string]string {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return maps.Clone(rc.held)
}

// deliveries is a copy of run id → delivering nodes.
func (rc *receiver) deliveries() map[string][]string {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	out := make(map[string][]string, len(rc.runs))
	for id, nodes := range rc.runs {
		out[id] = slices.Clone(nodes)
	}
	return out
}

// clusterSetup is what every cluster test shares: the workflow folder,
// the receiver and the event sender.
type clusterSetup struct {
	wfDir  string
	recv   *receiver
	client *http.Client
}

func newClusterSetup(t testing.TB, delay time.Duration) *clusterSetup {
	t.Helper()
	cs := &clusterSetup{wfDir: t.TempDir(), recv: newReceiver(t, delay)}
	if err := os.WriteFile(filepath.Join(cs.wfDir, "cluster.yaml"), []byte(clusterWorkflow), 0o644); err != nil {
		t.Fatal(err)
	}
	tr := &http.Transport{MaxIdleConnsPerHost: 64, DialContext: (&net.Dialer{Timeout: 2 * time.Second}).DialContext}
	cs.client = &http.Client{Transport: tr, Timeout: 30 * time.Second}
	t.Cleanup(tr.CloseIdleConnections)
	return cs
}

// ack is a daemon's answer to one event.
type ack struct {
	Status     int
	RunID      string `json:"run_id"`
	State      string `json:"status"`
	RetryAfter string
}

// send posts event id to the node at addr.
func (cs *clusterSetup) send(ctx context.Context, addr, id string) (ack, error) {
	body := fmt.Sprintf(`{"id":%q,"receiver":%q}`, id, cs.recv.srv.URL)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+addr+"/hooks/cluster", strings.NewReader(body))
	if err != nil {
		return ack{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := cs.client.Do(req)
	if err != nil {
		return ack{}, err
	}
	defer resp.Body.Close()
	a := ack{Status: resp.StatusCode, RetryAfter: resp.Header.Get("Retry-After")}
	if resp.StatusCode == http.StatusAccepted || resp.StatusCode == http.StatusOK {
		if err := json.NewDecoder(resp.Body).Decode(&a); err != nil {
			return a, fmt.Errorf("decode the answer: %w", err)
		}
	}
	return a, nil
}

// node is one `hookflow serve` of a cluster test.
type node struct {
	*process
	name  string
	owner string // lease owner: host:pid
}

// pgStore is the serve flags for the PostgreSQL store at url, schema.
func pgStore(url, schema string) []string {
	return []string{"--store", url, "--store-schema", schema}
}

// launchNode starts `hookflow serve` on the given store flags with its own
// NODE_NAME, without waiting for it to listen.
func (cs *clusterSetup) launchNode(t testing.TB, name string, store []string, extra ...string) *node {
	t.Helper()
	args := []string{"serve", "--addr", "127.0.0.1:0", "--admin-addr", "127.0.0.1:0", "--log-format", "json",
		"--workflows", cs.wfDir, "--data", t.TempDir(), "--allow-private-targets"}
	args = append(append(args, store...), extra...)
	p := &process{logs: &syncBuffer{}} // its addresses: waitListening
	p.cmd = exec.Command(hookflowBinary(t), args...)
	p.cmd.Env = append(os.Environ(), "HOOKFLOW_CONFIG=", "NODE_NAME="+name)
	p.cmd.Stdout = p.logs
	p.cmd.Stderr = p.logs
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.cmd.Process.Kill(); p.cmd.Wait() })
	host, _ := os.Hostname()
	return &node{process: p, name: name, owner: fmt.Sprintf("%s:%d", host, p.cmd.Process.Pid)}
}

// waitListening waits until every node serves, and takes its addresses
// from its log.
func waitListening(t testing.TB, nodes ...*node) {
	t.Helper()
	for _, n := range nodes {
		waitServing(t, n.process, n.name)
	}
}

// startCluster starts n nodes on one schema and waits until they listen.
func (cs *clusterSetup) startCluster(t testing.TB, n int, store []string, extra ...string) []*node {
	t.Helper()
	var nodes []*node
	for i := range n {
		nodes = append(nodes, cs.launchNode(t, fmt.Sprintf("node-%d", i+1), store, extra...))
	}
	waitListening(t, nodes...)
	return nodes
}

// sendAll sends events ids[i] round-robin over the nodes that live()
// returns, with conc senders. An event whose request fails (a node went
// away) is sent again to the next live node, as a load balancer would;
// ack codes other than 202 and 200 fail the test. It returns event id →
// acknowledged run id.
func (cs *clusterSetup) sendAll(t testing.TB, ids []string, conc int, live func() []*node, acked func(n int)) map[string]string {
	t.Helper()
	ctx := t.Context()
	var mu sync.Mutex
	runs := map[string]string{}
	var wg sync.WaitGroup
	work := make(chan int)
	errs := make(chan error, conc)
	for range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				deadline := time.Now().Add(30 * time.Second)
				for try := 0; ; try++ {
					nodes := live()
					n := nodes[(i+try)%len(nodes)]
					a, err := cs.send(ctx, n.addr, ids[i])
					if err == nil && (a.Status == http.StatusAccepted || a.Status == http.StatusOK) && a.RunID != "" {
						mu.Lock()
						runs[ids[i]] = a.RunID
						done := len(runs)
						mu.Unlock()
						if acked != nil {
							acked(done)
						}
						break
					}
					if err == nil {
						errs <- fmt.Errorf("event %s on %s: answer %d %+v", ids[i], n.name, a.Status, a)
						return
					}
					if time.Now().After(deadline) || ctx.Err() != nil {
						errs <- fmt.Errorf("event %s: no node took it: %v", ids[i], err)
						return
					}
					time.Sleep(10 * time.Millisecond) // a sender's back-off before its retry
				}
			}
		}()
	}
	for i := range ids {
		select {
		case work <- i:
		case err := <-errs:
			close(work)
			wg.Wait()
			t.Fatal(err)
		}
	}
	close(work)
	wg.Wait()
	select {
	case err := <-errs:
		t.Fatal(err)
	default:
	}
	return runs
}

// openClusterStore opens the cluster's store from the test, to check what is in
// it.
func openClusterStore(t *testing.T, url, schema string) *pgstore.Store {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	s, err := pgstore.Open(ctx, pgstore.Options{URL: url, Schema: schema, MaxConns: 2, PollInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// allRuns lists every run of the store.
func allRuns(t *testing.T, s engine.Store) ([]*engine.Run, error) {
	t.Helper()
	var out []*engine.Run
	cursor := ""
	for {
		page, next, err := s.List(t.Context(), engine.ListFilter{Limit: 1000, Cursor: cursor})
		if err != nil {
			return nil, err
		}
		out = append(out, page...)
		if next == "" {
			return out, nil
		}
		cursor = next
	}
}

// waitSucceeded polls the store until it holds exactly the runs of want
// (run ids), all succeeded.
func waitSucceeded(t *testing.T, s engine.Store, want map[string]bool, timeout time.Duration, logs func() string) []*engine.Run {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		runs, err := allRuns(t, s)
		var summary string
		if err == nil {
			done := 0
			statuses := map[engine.Status]int{}
			for _, r := range runs {
				statuses[r.Status]++
				if want[r.ID] && r.Status == engine.StatusSucceeded {
					done++
				}
			}
			if done == len(want) {
				if len(runs) != len(want) {
					var extra []string
					for _, r := range runs {
						if !want[r.ID] {
							extra = append(extra, r.ID+" ("+string(r.Status)+")")
						}
					}
					t.Fatalf("the store holds %d runs that were never acknowledged: %v", len(extra), extra)
				}
				return runs
			}
			summary = fmt.Sprintf("%d of %d acknowledged runs succeeded; statuses %v", done, len(want), statuses)
		} else {
			summary = err.Error()
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %s: %s\nlogs:\n%s", timeout, summary, logs())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func eventIDs(prefix string, n int) []string {
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("%s-%d", prefix, i)
	}
	return ids
}

func runSet(acked map[string]string) map[string]bool {
	set := make(map[string]bool, len(acked))
	for _, id := range acked {
		set[id] = true
	}
	return set
}

func nodeLogs(nodes ...*node) func() string {
	return func() string {
		var b strings.Builder
		for _, n := range nodes {
			fmt.Fprintf(&b, "--- %s\n%s\n", n.name, tail(n.logs.String(), 15))
		}
		return b.String()
	}
}

// TestClusterThreeNodes: three daemons on one schema share 3,000 events
// sent round-robin: every run completes exactly once, and every node
// executes some of them.
func TestClusterThreeNodes(t *testing.T) {
	t.Parallel()
	url := pgtest.URL(t)
	schema := pgtest.Schema(t, url)
	cs := newClusterSetup(t, 0)
	nodes := cs.startCluster(t, 3, pgStore(url, schema), "--workers", "8")
	store := openClusterStore(t, url, schema)

	acked := cs.sendAll(t, eventIDs("evt", 3000), 24, func() []*node { return nodes }, nil)
	want := runSet(acked)
	if len(want) != 3000 {
		t.Fatalf("%d distinct runs for 3000 events", len(want))
	}
	waitSucceeded(t, store, want, 45*time.Second, nodeLogs(nodes...))

	perNode := map[string]int{}
	for id, by := range cs.recv.deliveries() {
		if !want[id] {
			t.Errorf("run %s delivered but never acknowledged", id)
		}
		if len(by) != 1 {
			t.Errorf("run %s delivered %d times, by %v", id, len(by), by)
		}
		perNode[by[0]]++
	}
	for _, n := range nodes {
		if perNode[n.name] == 0 {
			t.Errorf("%s executed no run: %v", n.name, perNode)
		}
	}
	t.Logf("runs executed per node: %v", perNode)
}

// TestClusterKillNode: one of three daemons is killed with SIGKILL while
// its steps are in flight: the others rescue its leased runs once the lease
// expires, every acknowledged run completes, and only the runs in flight
// at the kill are delivered twice.
func TestClusterKillNode(t *testing.T) {
	t.Parallel()
	url := pgtest.URL(t)
	schema := pgtest.Schema(t, url)
	cs := newClusterSetup(t, 2*time.Millisecond)
	const workers = 4
	nodes := cs.startCluster(t, 3, pgStore(url, schema), "--workers", fmt.Sprint(workers), "--lease", "2s")
	store := openClusterStore(t, url, schema)
	victim := nodes[2]

	var mu sync.Mutex
	live := nodes
	liveNodes := func() []*node { mu.Lock(); defer mu.Unlock(); return live }
	var heldAtKill map[string]string // run id → node, deliveries in flight at the kill
	var leasedAtKill []string        // runs the victim held a lease on
	killed := make(chan struct{})
	var killOnce sync.Once
	const events = 900
	kill := func() {
		defer close(killed)
		// Hold the victim's deliveries until some of its steps are
		// provably in flight, then kill it.
		cs.recv.gate(victim.name)
		deadline := time.Now().Add(20 * time.Second)
		for len(cs.recv.heldRuns()) == 0 {
			if time.Now().After(deadline) {
				t.Errorf("no delivery of %s arrived while gated", victim.name)
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
		mu.Lock()
		live = nodes[:2]
		mu.Unlock()
		victim.cmd.Process.Signal(syscall.SIGKILL)
		victim.cmd.Wait()
		heldAtKill = cs.recv.heldRuns()
		cs.recv.open()
		running, _, err := store.List(t.Context(), engine.ListFilter{Status: engine.StatusRunning, Limit: 1000})
		if err != nil {
			t.Errorf("list running runs after the kill: %v", err)
		}
		for _, r := range running {
			if r.Lease.Owner == victim.owner {
				leasedAtKill = append(leasedAtKill, r.ID)
			}
		}
	}
	// Half of the events go out while the victim is killed; the rest
	// after, to the survivors.
	ids := eventIDs("evt", events)
	acked := cs.sendAll(t, ids[:events*2/3], 16, liveNodes, func(n int) {
		if n == events/3 {
			killOnce.Do(func() { go kill() })
		}
	})
	<-killed
	if t.Failed() {
		return
	}
	maps.Copy(acked, cs.sendAll(t, ids[events*2/3:], 16, liveNodes, nil))
	want := runSet(acked)
	runs := waitSucceeded(t, store, want, 40*time.Second, nodeLogs(nodes...))

	if len(leasedAtKill) == 0 {
		t.Errorf("%s held no lease when it was killed", victim.name)
	}
	delivered := cs.recv.deliveries()
	for _, r := range runs {
		if !slices.Contains(leasedAtKill, r.ID) || r.Claims >= 2 {
			continue
		}
		// The killed node finished it itself: its step was answered
		// before the gate, and its last commit, sent before the kill,
		// reached the database after the list above. Any other run it
		// held must have been claimed again.
		if by := delivered[r.ID]; heldAtKill[r.ID] == "" && len(by) == 1 && by[0] == victim.name {
			continue
		}
		t.Errorf("run %s was leased by the killed node but finished after %d claim(s)", r.ID, r.Claims)
	}
	twice := 0
	for id, by := range delivered {
		switch {
		case !want[id]:
			t.Errorf("run %s delivered but never acknowledged", id)
		case len(by) > 1:
			// In flight at the kill: the victim delivered it but could
			// not record that; another node ran the step again.
			twice++
			if by[0] != victim.name || slices.Contains(by[1:], victim.name) || len(by) > 2 {
				t.Errorf("run %s delivered %d times (by %v): only a step the killed node had in flight may run again", id, len(by), by)
			}
		}
	}
	if twice > workers {
		t.Errorf("%d runs delivered twice, more than the killed node's %d workers", twice, workers)
	}
	t.Logf("killed %s with %d deliveries in flight and %d leases; %d runs delivered twice", victim.name, len(heldAtKill), len(leasedAtKill), twice)
}

// TestClusterDatabaseRestart stops the database under a running daemon
// while steps are in flight: ingest answers 503 with Retry-After and
// stores nothing; once the database is back work resumes by itself, every
// acknowledged run completes, and exactly the acknowledged runs are stored.
func TestClusterDatabaseRestart(t *testing.T) {
	t.Parallel()
	url, stopDB, startDB := pgtest.StartServer(t)
	cs := newClusterSetup(t, 0)
	nodes := cs.startCluster(t, 1, pgStore(url, "hookflow"), "--workers", "4", "--lease", "2s")
	n := nodes[0]
	ctx := t.Context()

	// Steps in flight: held at the receiver when the database goes.
	cs.recv.gate(n.name)
	acked := cs.sendAll(t, eventIDs("before", 20), 4, func() []*node { return nodes }, nil)
	deadline := time.Now().Add(20 * time.Second)
	for len(cs.recv.heldRuns()) == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("no step in flight:\n%s", tail(n.logs.String(), 20))
		}
		time.Sleep(10 * time.Millisecond)
	}

	stopDB()
	cs.recv.open() // their results cannot be recorded now
	for _, id := range eventIDs("during", 10) {
		a, err := cs.send(ctx, n.addr, id)
		if err != nil {
			t.Fatalf("event %s while the database is down: %v", id, err)
		}
		if a.Status != http.StatusServiceUnavailable || a.RetryAfter == "" {
			t.Errorf("event %s while the database is down: %d (Retry-After %q), want 503 with Retry-After", id, a.Status, a.RetryAfter)
		}
	}

	startDB()
	// Senders retry: the first events after the restart may still meet a
	// pool that has not noticed yet.
	after := eventIDs("after", 20)
	after = append(after, "during-0", "during-1") // retries of refused events are new runs
	deadline = time.Now().Add(30 * time.Second)
	for _, id := range after {
		for {
			a, err := cs.send(ctx, n.addr, id)
			if err == nil && a.Status == http.StatusAccepted {
				acked[id] = a.RunID
				break
			}
			if err == nil && a.Status != http.StatusServiceUnavailable {
				t.Fatalf("event %s after the restart: %d %+v, want 202", id, a.Status, a)
			}
			if time.Now().After(deadline) {
				t.Fatalf("event %s still refused 30s after the restart: %+v, %v\n%s", id, a, err, tail(n.logs.String(), 20))
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	store := openClusterStore(t, url, "hookflow")
	want := runSet(acked)
	waitSucceeded(t, store, want, 40*time.Second, nodeLogs(n))
	got := cs.recv.deliveries()
	for id := range want {
		if len(got[id]) == 0 {
			t.Errorf("acknowledged run %s succeeded without a delivery", id)
		}
	}
	t.Logf("%d runs acknowledged, %d steps were in flight at the stop", len(want), len(cs.recv.heldRuns()))
}

// TestClusterMigrationRace starts two daemons at once on an empty schema:
// both come up and serve, and each migration is applied once.
func TestClusterMigrationRace(t *testing.T) {
	t.Parallel()
	url := pgtest.URL(t)
	schema := pgtest.Schema(t, url)
	cs := newClusterSetup(t, 0)
	nodes := []*node{
		cs.launchNode(t, "node-1", pgStore(url, schema)),
		cs.launchNode(t, "node-2", pgStore(url, schema)),
	}
	waitListening(t, nodes...)
	for _, n := range nodes {
		a, err := cs.send(t.Context(), n.addr, "evt-"+n.name)
		if err != nil || a.Status != http.StatusAccepted {
			t.Errorf("%s: event answered %+v, %v; want 202", n.name, a, err)
		}
	}

	files, err := filepath.Glob(filepath.Join("..", "..", "engine", "pgstore", "migrations", "*.sql"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no migration files: %v", err)
	}
	conn, err := pgx.Connect(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var rows, distinct int
	err = conn.QueryRow(t.Context(), "SELECT count(*), count(DISTINCT version) FROM "+
		pgx.Identifier{schema, "schema_migrations"}.Sanitize()).Scan(&rows, &distinct)
	if err != nil {
		t.Fatal(err)
	}
	if rows != len(files) || distinct != len(files) {
		t.Errorf("schema_migrations has %d rows (%d versions), want each of the %d migrations once", rows, distinct, len(files))
	}
	applied := 0
	for _, n := range nodes {
		applied += strings.Count(n.logs.String(), `"msg":"applied migration"`)
	}
	if applied != len(files) {
		t.Errorf("the nodes logged %d applied migrations, want %d", applied, len(files))
	}
}

// BenchmarkCluster compares, under one load (64 concurrent senders, the
// cluster workflow: a set step and an http step to a local receiver), the
// durable ingest rate (acks/s) and the end-to-end rate (runs/s: events sent
// until every run delivered) of one node on bbolt, one node on PostgreSQL
// and two nodes on one PostgreSQL schema, events sent round-robin:
//
//	go test -run '^$' -bench Cluster -benchtime 5000x ./cmd/hookflow
//
// Both stores write to the same disk when the test database is local.
func BenchmarkCluster(b *testing.B) {
	url := pgtest.URL(b)
	cases := []struct {
		name     string
		nodes    int
		postgres bool
	}{
		{"bolt/nodes=1", 1, false},
		{"postgres/nodes=1", 1, true},
		{"postgres/nodes=2", 2, true},
	}
	round := 0
	for _, bc := range cases {
		b.Run(bc.name, func(b *testing.B) {
			cs := newClusterSetup(b, 0)
			store := []string{"--store", "bolt"}
			if bc.postgres {
				store = pgStore(url, pgtest.Schema(b, url))
			}
			nodes := cs.startCluster(b, bc.nodes, store, "--workers", "16", "--log-level", "warn")
			all := func() []*node { return nodes }
			round++
			b.ResetTimer()
			start := time.Now()
			acked := cs.sendAll(b, eventIDs(fmt.Sprintf("bench-%d", round), b.N), 64, all, nil)
			ackTook := time.Since(start)
			deadline := time.Now().Add(5*time.Minute + time.Duration(b.N)*time.Millisecond)
			for {
				got := cs.recv.deliveries()
				missing := 0
				for _, id := range acked {
					if len(got[id]) == 0 {
						missing++
					}
				}
				if missing == 0 {
					break
				}
				if time.Now().After(deadline) {
					b.Fatalf("%d of %d runs not delivered:\n%s", missing, len(acked), nodeLogs(nodes...)())
				}
				time.Sleep(20 * time.Millisecond)
			}
			took := time.Since(start)
			b.StopTimer()
			b.ReportMetric(float64(b.N)/ackTook.Seconds(), "acks/s")
			b.ReportMetric(float64(b.N)/took.Seconds(), "runs/s")
		})
	}
}
