package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hookflow/hookflow/cmd/hookflow/internal/loadgen"
	"github.com/hookflow/hookflow/engine"
	"github.com/hookflow/hookflow/engine/boltstore"
	"github.com/hookflow/hookflow/triggers/signature"
)

// execBench runs `hookflow bench` in-process with args.
func execBench(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	cmd := newBenchCmd()
	cmd.SilenceUsage, cmd.SilenceErrors = true, true // as the root command does
	var out, errb bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&errb)
	cmd.SetArgs(args)
	err = cmd.ExecuteContext(context.Background())
	return out.String(), errb.String(), err
}

// keyPaths lists every key path of a JSON document ("a.b", "a.c[]"), with
// map keys that are data (status codes, error kinds) replaced by "*".
func keyPaths(v any, prefix string, out map[string]bool) {
	switch t := v.(type) {
	case map[string]any:
		for k, x := range t {
			name := k
			if strings.HasSuffix(prefix, ".status") || strings.HasSuffix(prefix, ".errors") || strings.HasSuffix(prefix, ".by_status") {
				name = "*"
			}
			p := name
			if prefix != "" {
				p = prefix + "." + name
			}
			out[p] = true
			keyPaths(x, p, out)
		}
	case []any:
		for _, x := range t {
			keyPaths(x, prefix+"[]", out)
		}
	}
}

// checkStoreReport checks that a phase's commit loop report adds up: every
// ack is one write of a commit, each commit writes at least its meta page,
// and the loop cannot be busy longer than the window (a commit in flight
// at either end may stretch it a little).
func checkStoreReport(t *testing.T, p *phaseReport) {
	t.Helper()
	st := p.Store
	if st == nil {
		t.Errorf("phase %s: no store report", p.Name)
		return
	}
	if st.Commits == 0 || st.CommitsPerS <= 0 || st.CommitMS <= 0 || st.PageWrites < 1 || st.OpsPerCommit < st.AcksPerCommit || st.BusyRatio <= 0 || st.BusyRatio > 1.2 {
		t.Errorf("phase %s: store %+v", p.Name, st)
	}
	// Writing and syncing pages is part of every commit, and only part.
	if st.WriteMS <= 0 || st.WriteMS > st.CommitMS {
		t.Errorf("phase %s: %.3f ms of %.3f per commit writing pages", p.Name, st.WriteMS, st.CommitMS)
	}
	// Acks per commit times commits is the acks of the window, give or
	// take the requests in flight at its ends and the rounding.
	if acks := st.AcksPerCommit * float64(st.Commits); acks < 0.8*float64(p.Acked) || acks > 1.2*float64(p.Acked)+float64(st.Commits)*0.05+10 {
		t.Errorf("phase %s: %v acks per commit × %d commits = %.0f, but %d acked in the window", p.Name, st.AcksPerCommit, st.Commits, acks, p.Acked)
	}
	// The commit times are those of the commits counted (the two are read
	// a moment apart at the window's ends), and agree with their mean.
	tm := st.Times
	if d := int64(tm.Count) - int64(st.Commits); d < -5 || d > 5 {
		t.Errorf("phase %s: %d commit times for %d commits", p.Name, tm.Count, st.Commits)
	}
	if tm.P50 <= 0 || tm.P50 > tm.P99 || tm.P99 > tm.Max || math.Abs(tm.Mean-st.CommitMS) > 0.1*st.CommitMS+0.01 {
		t.Errorf("phase %s: commit times %+v, mean commit %.3f ms", p.Name, tm, st.CommitMS)
	}
}

// TestBenchShortRun runs a short in-process bench with every phase and
// checks the report's structure (against a golden list of keys) and that
// no acknowledged event was lost. It does not judge speed.
func TestBenchShortRun(t *testing.T) {
	t.Parallel()
	stdout, stderr, err := execBench(t, "--json", "--rate", "200", "--duration", "600ms", "--warmup", "100ms", "-c", "8",
		"--baseline", "--backlog", "200", "--webhook", "--workers", "8", "--data-dir", t.TempDir())
	if err != nil {
		t.Fatalf("bench: %v\nstderr:\n%s\nstdout:\n%s", err, stderr, stdout)
	}
	var rep benchReport
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatalf("report is not JSON: %v\n%s", err, stdout)
	}

	var doc any
	json.Unmarshal([]byte(stdout), &doc)
	paths := map[string]bool{}
	keyPaths(doc, "", paths)
	got := make([]string, 0, len(paths))
	for p := range paths {
		got = append(got, p)
	}
	sort.Strings(got)
	golden := filepath.Join("testdata", "bench_report_keys.golden")
	if os.Getenv("UPDATE_GOLDEN") != "" {
		os.WriteFile(golden, []byte(strings.Join(got, "\n")+"\n"), 0o644)
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if g := strings.Join(got, "\n") + "\n"; g != string(want) {
		t.Errorf("report keys differ from %s (UPDATE_GOLDEN=1 to accept):\n got: %s", golden, g)
	}

	if rep.Mode != "in-process" || rep.Model != "open" || rep.Rate != 200 || rep.Senders != 8 || !rep.Webhook {
		t.Errorf("header %+v", rep)
	}
	if d := rep.Disk; d == nil || d.Error != "" || d.Fsync.Count != diskSamples || d.Fsync.P50 <= 0 || d.Fsync.P99 < d.Fsync.P50 {
		t.Errorf("disk %+v", d)
	}
	for _, p := range []*phaseReport{rep.Hookflow, rep.Backlog.Phase, rep.Baseline.Fiber, rep.Baseline.Bolt} {
		if p.Acked == 0 || p.AckRate <= 0 || p.AckLatency.Count != p.Acked || p.AckLatency.Max < p.AckLatency.P50 {
			t.Errorf("phase %s: acked %d rate %v latency %+v", p.Name, p.Acked, p.AckRate, p.AckLatency)
		}
		if p.Process == nil || p.Process.CPUSeconds <= 0 || p.Process.PeakRSSMB <= 0 || p.Process.RSSAnonMB <= 0 {
			t.Errorf("phase %s: process %+v", p.Name, p.Process)
		}
		if len(p.Errors) != 0 {
			t.Errorf("phase %s: transport errors %v (%s)", p.Name, p.Errors, p.FirstError)
		}
	}
	h := rep.Hookflow
	if h.Status["202"] != h.Acked {
		t.Errorf("hookflow answers %v, want only 202", h.Status)
	}
	if h.Runs == nil || h.Runs.ByStatus["succeeded"] == 0 || h.Runs.E2ELatency.Count == 0 || h.Runs.Queue == nil {
		t.Fatalf("runs %+v", h.Runs)
	}
	if h.Runs.ByStatus["webhook_deliveries"] != h.Runs.ByStatus["succeeded"] {
		t.Errorf("%d runs succeeded but the sink got %d deliveries", h.Runs.ByStatus["succeeded"], h.Runs.ByStatus["webhook_deliveries"])
	}
	if b := rep.Backlog; b.Preloaded != 200 || b.RemainingEnd < 0 || b.DrainRate <= 0 {
		t.Errorf("backlog %+v", b)
	}
	if r := rep.Baseline; r.RatioFiber <= 0 || r.RatioBolt <= 0 {
		t.Errorf("baseline ratios %+v", r)
	}
	// The bbolt phases describe their commit loops; bare Fiber has none.
	for _, p := range []*phaseReport{rep.Hookflow, rep.Backlog.Phase, rep.Baseline.Bolt} {
		checkStoreReport(t, p)
	}
	if st := rep.Baseline.Bolt.Store; st != nil && st.AcksPerCommit != st.OpsPerCommit {
		t.Errorf("the reference's commits carry only appends, yet %v acks against %v writes per commit", st.AcksPerCommit, st.OpsPerCommit)
	}
	if st := rep.Hookflow.Store; st != nil && st.OpsPerCommit <= st.AcksPerCommit {
		t.Errorf("hookflow's commits also carry the runs' records, yet %v writes per commit for %v acks", st.OpsPerCommit, st.AcksPerCommit)
	}
	if rep.Baseline.Fiber.Store != nil {
		t.Errorf("bare Fiber has a store report: %+v", rep.Baseline.Fiber.Store)
	}
	l := rep.Loss
	if !l.Checked || l.Lost() || l.Final != l.Acked || l.Acked == 0 || l.NoRunID != 0 {
		t.Fatalf("loss %+v", l)
	}
	if want := int(rep.Hookflow.Acked + rep.Backlog.Phase.Acked); l.Acked < want {
		t.Errorf("checked %d acked runs, the measured windows alone acked %d", l.Acked, want)
	}

	// The text report says the same.
	text, _, err := execBench(t, "--duration", "300ms", "--warmup", "0", "-c", "2", "--data-dir", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(text, "rounds (") {
		t.Errorf("one round, yet the text report has a rounds section:\n%s", text)
	}
	for _, want := range []string{"hookflow bench", "ack latency (ms)", "runs:", "end-to-end latency", "  store: ", "    commit time (ms): p50 ", "zero loss: all",
		"disk: a 4 KiB append and fsync in "} {
		if !strings.Contains(text, want) {
			t.Errorf("text report lacks %q:\n%s", want, text)
		}
	}
}

func TestBenchOpenModelTarget(t *testing.T) {
	t.Parallel()
	// A daemon of our own, serving the workflow --print-workflow prints.
	wf, _, err := execBench(t, "--print-workflow")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "bench.yaml"), []byte(wf), 0o644); err != nil {
		t.Fatal(err)
	}
	log, _ := testLogger(t)
	const secret = "0123456789abcdef0123456789abcdef"
	d, err := startDaemon(context.Background(), daemonConfig{
		Workflows: dir, Data: t.TempDir(), Addr: "127.0.0.1:0", AdminAddr: "127.0.0.1:0", Workers: 4,
		Getenv: func(k string) string { return map[string]string{benchSecretName: secret}[k] },
	}, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Shutdown(context.Background()) })
	secretFile := filepath.Join(t.TempDir(), "secret")
	os.WriteFile(secretFile, []byte(secret+"\n"), 0o600)

	stdout, stderr, err := execBench(t, "--json", "--target", "http://"+d.Addr()+"/hooks/bench", "--secret-file", secretFile,
		"--rate", "200", "--duration", "500ms", "--warmup", "0", "-c", "4", "--pid", strconv.Itoa(os.Getpid()))
	if err != nil {
		t.Fatalf("bench: %v\n%s\n%s", err, stderr, stdout)
	}
	var rep benchReport
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Mode != "target" || rep.Model != "open" || rep.Hookflow.Sent != 100 || rep.Hookflow.Acked != 100 {
		t.Fatalf("mode %s model %s sent %d acked %d: %s", rep.Mode, rep.Model, rep.Hookflow.Sent, rep.Hookflow.Acked, stdout)
	}
	if p := rep.Hookflow.Process; p == nil || !strings.Contains(p.Scope, "pid") {
		t.Errorf("process %+v", p)
	}
	if rep.Loss.Checked || rep.Loss.Note == "" {
		t.Errorf("without --admin the loss check must say it was not done: %+v", rep.Loss)
	}

	// A wrong secret: every event is refused, nothing is acked.
	bad := filepath.Join(t.TempDir(), "bad")
	os.WriteFile(bad, []byte("wrong"), 0o600)
	stdout, _, err = execBench(t, "--json", "--target", "http://"+d.Addr()+"/hooks/bench", "--secret-file", bad,
		"--duration", "200ms", "--warmup", "0", "-c", "2")
	if err != nil {
		t.Fatal(err)
	}
	json.Unmarshal([]byte(stdout), &rep)
	if rep.Hookflow.Acked != 0 || rep.Hookflow.Status["401"] == 0 {
		t.Fatalf("wrong secret: %+v", rep.Hookflow.Status)
	}
	if strings.Contains(stdout, "wrong") {
		t.Fatal("the report shows the secret")
	}
}

// TestBenchNoSync: --no-sync still accounts for every event, and the
// report says that nothing was durable.
func TestBenchNoSync(t *testing.T) {
	t.Parallel()
	stdout, stderr, err := execBench(t, "--no-sync", "--duration", "300ms", "--warmup", "0s", "-c", "4", "--workers", "4",
		"--data-dir", t.TempDir())
	if err != nil {
		t.Fatalf("bench: %v\nstderr:\n%s\nstdout:\n%s", err, stderr, stdout)
	}
	for _, want := range []string{"--no-sync: the stores skip fsync; nothing here was durable", "zero loss: all "} {
		if !strings.Contains(stdout, want) {
			t.Errorf("report lacks %q:\n%s", want, stdout)
		}
	}
}

// TestNoSyncReachesTheStores: --no-sync turns fsync off in the in-process
// daemon's store and in the bbolt reference, and only there.
func TestNoSyncReachesTheStores(t *testing.T) {
	t.Parallel()
	wfDir := t.TempDir()
	if err := os.WriteFile(filepath.Join(wfDir, "bench.yaml"), []byte(benchWorkflow("")), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, noSync := range []bool{true, false} {
		d, err := startDaemon(context.Background(), daemonConfig{
			Workflows: wfDir, Data: t.TempDir(), Addr: "127.0.0.1:0", Workers: 1, NoSync: noSync,
			Getenv: func(k string) string { return map[string]string{benchSecretName: benchTestSecret}[k] },
		}, slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		if got := d.store.(*boltstore.Store).NoSync(); got != noSync {
			t.Errorf("daemon with NoSync %v: its store's NoSync is %v", noSync, got)
		}
		if err := d.Shutdown(context.Background()); err != nil {
			t.Error(err)
		}
		l, err := openGroupCommitLog(filepath.Join(t.TempDir(), "baseline.db"), noSync)
		if err != nil {
			t.Fatal(err)
		}
		if l.db.NoSync != noSync {
			t.Errorf("reference with noSync %v: its bbolt NoSync is %v", noSync, l.db.NoSync)
		}
		if err := l.Close(); err != nil {
			t.Error(err)
		}
	}
}

func TestBenchBadFlags(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"-c", "0"}, "-c/--senders must be at least 1"},
		{[]string{"--rate", "-1"}, "--rate must not be negative"},
		{[]string{"--duration", "0s"}, "--duration must be positive"},
		{[]string{"--drain-timeout", "0s"}, "--drain-timeout must be positive"},
		{[]string{"--pid", "12"}, "--pid applies only with --target"},
		{[]string{"--admin", "http://x"}, "--admin applies only with --target"},
		{[]string{"--target", "127.0.0.1:8080"}, "want the full webhook URL"},
		{[]string{"--target", "http://127.0.0.1:1/hooks/x"}, "needs --secret or --secret-file"},
		{[]string{"--target", "http://127.0.0.1:1/hooks/x", "--secret", "s", "--backlog", "10"}, "cannot be used with --target"},
		{[]string{"--target", "http://127.0.0.1:1/hooks/x", "--secret", "s", "--no-sync"}, "--no-sync changes the in-process daemon's store"},
		{[]string{"--body-bytes", "-1"}, "--body-bytes must be between"},
		{[]string{"--rounds", "0"}, "--rounds must be at least 1"},
		{[]string{"--target", "http://127.0.0.1:1/hooks/x", "--scheme", "nope", "--secret", "s"}, `unknown scheme "nope"`},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			t.Parallel()
			_, _, err := execBench(t, tt.args...)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err %v, want %q", err, tt.want)
			}
			if slices.Contains(tt.args, "--secret") && strings.Contains(err.Error(), `"s"`) {
				t.Fatalf("error shows the secret: %v", err)
			}
		})
	}
}

func TestEventSource(t *testing.T) {
	t.Parallel()
	scheme, err := signature.New("hmac", signature.Options{Header: benchHMACHeader, Prefix: benchHMACPrefix})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name       string
		sequential bool
		bodyBytes  int
	}{{"scattered", false, 256}, {"sequential", true, 1000}, {"no padding", false, 0}} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			es, err := newEventSource(scheme, "s3cret", "http://x/hooks/bench", tt.bodyBytes, tt.sequential)
			if err != nil {
				t.Fatal(err)
			}
			seen := map[string]bool{}
			sorted := true
			prev := ""
			for seq := uint64(0); seq < 5000; seq++ {
				id := es.id(seq)
				if seen[id] {
					t.Fatalf("id %s repeats", id)
				}
				seen[id] = true
				sorted = sorted && id > prev
				prev = id
			}
			if sorted != tt.sequential {
				t.Errorf("ids sorted in sending order: %v, want %v", sorted, tt.sequential)
			}
			ev, err := es.make(7)
			if err != nil {
				t.Fatal(err)
			}
			var body struct {
				ID   string `json:"id"`
				Type string `json:"type"`
				N    uint64 `json:"n"`
			}
			if err := json.Unmarshal(ev.Body, &body); err != nil || body.ID != es.id(7) || body.Type != benchEventType || body.N != 7 {
				t.Fatalf("body %s: %+v %v", ev.Body, body, err)
			}
			if tt.bodyBytes > 0 && len(ev.Body) != tt.bodyBytes {
				t.Errorf("body of %d bytes, want %d", len(ev.Body), tt.bodyBytes)
			}
			req := signature.Request{Header: func(k string) string { return ev.Header[k] }, Body: ev.Body}
			if err := scheme.Verify(req, []string{"s3cret"}, time.Now()); err != nil {
				t.Fatalf("the event does not verify: %v", err)
			}
		})
	}
}

func TestAckLog(t *testing.T) {
	t.Parallel()
	var a ackLog
	for _, ans := range []struct {
		status int
		body   string
	}{
		{202, `{"run_id":"0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b","status":"queued"}`},
		{200, `{"run_id":"0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b","status":"duplicate"}`},
		{202, `{"status":"queued","run_id":"run-42"}`},
		{200, `{"status":"filtered"}`},
		{401, `{"error":"signature verification failed"}`},
		{503, `{"run_id":"x"}`},
	} {
		a.add(ans.status, []byte(ans.body))
	}
	if a.len() != 3 || a.noRun != 1 {
		t.Fatalf("%d ids, %d without a run", a.len(), a.noRun)
	}
	want := []string{"0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b", "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b", "run-42"}
	for i, w := range want {
		if got := a.id(i); got != w {
			t.Errorf("id %d = %q, want %q", i, got, w)
		}
	}
}

// accountingFixture opens a real store and the bench's event source.
func accountingFixture(t *testing.T) (*boltstore.Store, *eventSource) {
	t.Helper()
	store, err := boltstore.Open(t.Context(), boltstore.Options{Path: filepath.Join(t.TempDir(), "hookflow.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	scheme, _ := signature.New("hmac", signature.Options{Header: benchHMACHeader})
	es, err := newEventSource(scheme, "s", "", 100, false)
	if err != nil {
		t.Fatal(err)
	}
	return store, es
}

// TestAccountingOnARealStore: acked runs that finished, that never will
// (no engine) and that are not in the store at all.
func TestAccountingOnARealStore(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store, es := accountingFixture(t)
	start := time.Now()
	var acks ackLog
	for seq := uint64(0); seq < 3; seq++ {
		r, err := backlogRun(es, "v1", seq, start)
		if err != nil {
			t.Fatal(err)
		}
		res, err := store.Enqueue(ctx, r)
		if err != nil {
			t.Fatal(err)
		}
		acks.add(202, []byte(`{"run_id":"`+res[0].RunID+`","status":"queued"}`))
	}
	acks.add(202, []byte(`{"run_id":"0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b","status":"queued"}`)) // never stored

	// Finish the oldest run as a worker would.
	claimed, err := store.Claim(ctx, engine.ClaimRequest{Owner: "test", Max: 1, LeaseFor: time.Minute, Now: time.Now()})
	if err != nil || len(claimed.Runs) != 1 {
		t.Fatalf("claim: %v %v", claimed, err)
	}
	r := claimed.Runs[0]
	if err := store.Record(ctx, r.ID, r.Lease, engine.Update{Status: engine.StatusSucceeded, At: time.Now()}); err != nil {
		t.Fatal(err)
	}

	acc, err := account(ctx, storeRuns{store}, &acks, 0, start, time.Now().Add(time.Minute), 300*time.Millisecond,
		func() int64 { return store.Stats().Queued }, 2)
	if err != nil {
		t.Fatal(err)
	}
	if acc.Acked != 4 || acc.Final != 1 || acc.NotFinal != 2 || len(acc.Missing) != 1 || acc.Missing[0] != "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b" {
		t.Fatalf("accounting %+v", acc)
	}
	if acc.ByStatus["succeeded"] != 1 || acc.InWindow != 1 || acc.E2E.Count() != 1 {
		t.Fatalf("by status %v, in window %d, e2e %d", acc.ByStatus, acc.InWindow, acc.E2E.Count())
	}
	l := mergeLoss([]lossPart{{acc: acc}})
	if !l.Lost() || l.Missing != 1 || l.NotFinal != 2 {
		t.Fatalf("loss %+v", l)
	}
}

// TestAccountingWaitsBehindABacklog: an acked run queued behind older runs
// is waited for as long as the queue moves, even when that takes longer
// than the stall timeout.
func TestAccountingWaitsBehindABacklog(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store, es := accountingFixture(t)
	const backlog = 12
	now := time.Now()
	var acks ackLog
	for seq := uint64(0); seq <= backlog; seq++ {
		r, err := backlogRun(es, "v1", seq, now.Add(time.Duration(seq)*time.Millisecond))
		if err != nil {
			t.Fatal(err)
		}
		res, err := store.Enqueue(ctx, r)
		if err != nil {
			t.Fatal(err)
		}
		if seq == backlog {
			acks.add(202, []byte(`{"run_id":"`+res[0].RunID+`"}`)) // the newest run is the acked one
		}
	}
	// A slow worker: one run, oldest first, every 50ms; the acked run
	// finishes after about 650ms, twice the stall timeout.
	done := make(chan error, 1)
	go func() {
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for i := 0; i <= backlog; i++ {
			<-tick.C
			c, err := store.Claim(ctx, engine.ClaimRequest{Owner: "slow", Max: 1, LeaseFor: time.Minute, Now: time.Now()})
			if err != nil || len(c.Runs) != 1 {
				done <- fmt.Errorf("claim %d: %v %v", i, c, err)
				return
			}
			r := c.Runs[0]
			if err := store.Record(ctx, r.ID, r.Lease, engine.Update{Status: engine.StatusSucceeded, At: time.Now()}); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	acc, err := account(ctx, storeRuns{store}, &acks, 0, now, time.Now().Add(time.Minute), 300*time.Millisecond,
		func() int64 { return store.Stats().Queued }, 1)
	if err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if acc.Final != 1 || acc.NotFinal != 0 {
		t.Fatalf("gave up behind a moving queue: %+v", acc)
	}
}

// TestBenchReportDiskLine: the text report gives the fsync cost, or why
// it is missing, and nothing when the report has no disk part.
func TestBenchReportDiskLine(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		disk *diskReport
		want string
	}{
		{"measured", &diskReport{Dir: "/var/lib/hookflow", Fsync: loadgen.Summary{Count: 200, P50: 0.334, P99: 2.589}},
			"disk: a 4 KiB append and fsync in /var/lib/hookflow takes 0.33 ms (p50), 2.59 ms (p99), idle, 200 samples\n"},
		{"failed", &diskReport{Dir: "/ro", Error: "sync cost: open /ro/x: read-only file system"},
			"disk: fsync cost not measured: sync cost: open /ro/x: read-only file system\n"},
		{"absent", nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rep := &benchReport{Mode: "target", LoadAvg: [2]float64{-1, -1}, Disk: tt.disk,
				Hookflow: &phaseReport{Name: "hookflow"}}
			var out strings.Builder
			rep.writeText(&out)
			var got string
			for _, line := range strings.SplitAfter(out.String(), "\n") {
				if strings.HasPrefix(line, "disk: ") {
					got += line
				}
			}
			if got != tt.want {
				t.Errorf("disk line %q, want %q\nreport:\n%s", got, tt.want, out.String())
			}
		})
	}
}

// TestBenchRounds: --rounds measures hookflow and the references in turn,
// reports each round and the medians, keeps the first round as the table,
// and checks every round's runs for loss.
func TestBenchRounds(t *testing.T) {
	t.Parallel()
	stdout, stderr, err := execBench(t, "--json", "--rounds", "3", "--baseline", "--duration", "300ms", "--warmup", "0",
		"-c", "4", "--data-dir", t.TempDir())
	if err != nil {
		t.Fatalf("bench: %v\nstderr:\n%s\nstdout:\n%s", err, stderr, stdout)
	}
	var rep benchReport
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatalf("report is not JSON: %v\n%s", err, stdout)
	}
	if len(rep.Rounds) != 3 || rep.Median == nil {
		t.Fatalf("%d rounds, median %+v; want 3 and a median", len(rep.Rounds), rep.Median)
	}
	first := rep.Rounds[0]
	if first.Acked != rep.Hookflow.Acked || first.AckRate != rep.Hookflow.AckRate || first.RatioBolt != rep.Baseline.RatioBolt ||
		first.Fiber != rep.Baseline.Fiber.AckRate || first.BoltP99 != rep.Baseline.Bolt.AckLatency.P99 {
		t.Errorf("round 1 %+v is not the table's phases (hookflow %v, baseline %+v)", first, rep.Hookflow.AckRate, rep.Baseline)
	}
	var acked uint64
	for i, r := range rep.Rounds {
		acked += r.Acked
		if r.Acked == 0 || r.AckRate <= 0 || r.Fiber <= 0 || r.Bolt <= 0 || r.AckP99 <= 0 || r.FiberP99 <= 0 || r.BoltP99 <= 0 {
			t.Errorf("round %d: %+v", i+1, r)
		}
		if r.RatioBolt != ratio(r.AckRate, r.Bolt) || r.RatioFiber != ratio(r.AckRate, r.Fiber) {
			t.Errorf("round %d: ratios %v and %v from its own rates %+v", i+1, r.RatioFiber, r.RatioBolt, r)
		}
	}
	middle := func(f func(roundReport) float64) float64 {
		v := []float64{f(rep.Rounds[0]), f(rep.Rounds[1]), f(rep.Rounds[2])}
		slices.Sort(v)
		return v[1]
	}
	if m := rep.Median; m.RatioBolt != middle(func(r roundReport) float64 { return r.RatioBolt }) ||
		m.AckRate != middle(func(r roundReport) float64 { return r.AckRate }) ||
		m.Bolt != middle(func(r roundReport) float64 { return r.Bolt }) {
		t.Errorf("median %+v is not the middle round's figures of %+v", m, rep.Rounds)
	}
	if l := rep.Loss; !l.Checked || l.Lost() || l.Acked < int(acked) {
		t.Errorf("loss %+v: the three rounds acked %d", l, acked)
	}

	text, _, err := execBench(t, "--rounds", "2", "--duration", "200ms", "--warmup", "0", "-c", "2", "--data-dir", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"2 rounds (the table above is the first):\n  round 1: hookflow ", "\n  round 2: hookflow ",
		"\n  median:  hookflow "} {
		if !strings.Contains(text, want) {
			t.Errorf("text report lacks %q:\n%s", want, text)
		}
	}
}

func TestMedianRound(t *testing.T) {
	t.Parallel()
	r := func(rate, ratio float64) roundReport { return roundReport{AckRate: rate, RatioBolt: ratio} }
	tests := []struct {
		name   string
		rounds []roundReport
		want   roundReport
	}{
		{"one", []roundReport{r(100, 0.5)}, r(100, 0.5)},
		{"odd: the middle value of each field, not of one round", []roundReport{r(300, 0.2), r(100, 0.9), r(200, 0.4)}, r(200, 0.4)},
		{"even: the mean of the two middle values", []roundReport{r(100, 0.5), r(400, 0.6), r(200, 0.1), r(300, 0.2)}, r(250, 0.35)},
		{"a slow reference in one round does not move it", []roundReport{r(100, 0.5), r(100, 0.95), r(100, 0.52)}, r(100, 0.52)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := medianRound(tt.rounds); *got != tt.want {
				t.Errorf("got %+v, want %+v", *got, tt.want)
			}
		})
	}
}
