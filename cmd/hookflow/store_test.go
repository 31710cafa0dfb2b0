package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hookflow/hookflow/engine"
	"github.com/hookflow/hookflow/engine/boltstore"
	"github.com/hookflow/hookflow/engine/pgstore"
	"github.com/hookflow/hookflow/engine/pgstore/pgtest"
)

// migrateBase is the seeded runs' reference time. PostgreSQL keeps
// microseconds, so every time derived from it is microsecond-aligned and
// a migrated run compares equal to its original.
var migrateBase = time.Date(2031, 5, 6, 7, 8, 9, 123456000, time.UTC)

func mat(d time.Duration) time.Time { return migrateBase.Add(d) }

// runStoreCmd runs `hookflow store ARGS...` in-process with env as its
// whole environment.
func runStoreCmd(t *testing.T, env map[string]string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	cmd := newRootCmd()
	args = append([]string{"store"}, args...)
	var out, errOut bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&errOut)
	cmd.SetArgs(args)
	ctx := withEnv(t.Context(), func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	err = cmd.ExecuteContext(ctx)
	return out.String(), errOut.String(), err
}

// seedBolt writes runs in every status into a new bbolt store at path:
// steps with attempts and outputs, runs leased when the store closed, a
// cancel request on a running run, a replay, dedupe keys (one of them hit by a duplicate), binary and
// non-UTF-8 bodies. It returns every stored run, newest first.
func seedBolt(t *testing.T, path string) []*engine.Run {
	t.Helper()
	ctx := t.Context()
	s, err := boltstore.Open(ctx, boltstore.Options{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { s.Close() }() // the store reopened below

	n := 0
	enqueue := func(workflow, key string, tweak ...func(*engine.Run)) *engine.Run {
		t.Helper()
		n++
		created := mat(time.Duration(n) * time.Second)
		r := &engine.Run{
			Workflow:        workflow,
			WorkflowVersion: "v1",
			CreatedAt:       created,
			Event: engine.Event{
				ID: fmt.Sprintf("evt-%d", n), Method: "POST", Path: "/hooks/" + workflow,
				Headers:     map[string]string{"content-type": "application/json", "x-n": fmt.Sprint(n)},
				Query:       map[string]string{"q": "1"},
				ContentType: "application/json",
				Body:        []byte(fmt.Sprintf(`{"n":%d}`, n)),
				ReceivedAt:  created,
			},
		}
		if key != "" {
			r.DedupeKey, r.DedupeUntil = key, created.Add(24*time.Hour)
		}
		for _, f := range tweak {
			f(r)
		}
		res, err := s.Enqueue(ctx, r)
		if err != nil || res[0].Duplicate {
			t.Fatalf("seed enqueue %d: %+v, %v", n, res, err)
		}
		r.ID = res[0].RunID
		return r
	}
	// claim leases exactly r: every earlier run is claimed or final.
	claim := func(r *engine.Run) engine.Lease {
		t.Helper()
		c, err := s.Claim(ctx, engine.ClaimRequest{Owner: "old-node", Max: 1, LeaseFor: time.Minute, Now: r.CreatedAt.Add(time.Millisecond)})
		if err != nil || len(c.Runs) != 1 || c.Runs[0].ID != r.ID {
			t.Fatalf("seed claim of %s: %+v, %v", r.ID, c, err)
		}
		return c.Runs[0].Lease
	}
	record := func(r *engine.Run, l engine.Lease, u engine.Update) {
		t.Helper()
		if err := s.Record(ctx, r.ID, l, u); err != nil {
			t.Fatalf("seed record of %s: %v", r.ID, err)
		}
	}
	attempt := func(r *engine.Run, outcome, msg string) engine.Attempt {
		return engine.Attempt{Number: 1, StartedAt: r.CreatedAt.Add(2 * time.Millisecond), DurationMS: 12.5, Outcome: outcome, Error: msg,
			Details: map[string]any{"status": 503, "response": "busy"}}
	}

	// Runs that a worker touched, oldest first so each claim takes its own.
	for range 3 {
		r := enqueue("orders", "")
		l := claim(r)
		record(r, l, engine.Update{Status: engine.StatusSucceeded, At: r.CreatedAt.Add(time.Second),
			Step: &engine.StepRecord{ID: "deliver", Uses: "http", Status: engine.StepSucceeded,
				Outputs: map[string]any{"status": 200, "body": map[string]any{"ok": true}}, Attempts: []engine.Attempt{attempt(r, "ok", "")}}})
	}
	dead := enqueue("payments", "pay-dead")
	l := claim(dead)
	record(dead, l, engine.Update{Status: engine.StatusDead, At: dead.CreatedAt.Add(time.Second), Error: "deliver: 404 Not Found",
		Step: &engine.StepRecord{ID: "deliver", Uses: "http", Status: engine.StepFailed, Error: "404 Not Found",
			Attempts: []engine.Attempt{attempt(dead, "permanent", "404 Not Found")}}})
	retrying := enqueue("payments", "pay-retry")
	l = claim(retrying)
	record(retrying, l, engine.Update{Status: engine.StatusRetrying, DueAt: mat(48 * time.Hour), At: retrying.CreatedAt.Add(time.Second),
		Error: "deliver: 503", Step: &engine.StepRecord{ID: "deliver", Uses: "http", Status: engine.StepRetrying, Error: "503",
			Attempts: []engine.Attempt{attempt(retrying, "retryable", "503")}}})
	running := enqueue("orders", "order-running")
	l = claim(running)
	record(running, l, engine.Update{Status: engine.StatusRunning, At: running.CreatedAt.Add(time.Second),
		Step: &engine.StepRecord{ID: "first", Uses: "set", Status: engine.StepSucceeded, Outputs: map[string]any{"n": 1}}})
	cancelAsked := enqueue("orders", "")
	claim(cancelAsked)
	if err := s.Cancel(ctx, cancelAsked.ID, cancelAsked.CreatedAt.Add(time.Second)); err != nil {
		t.Fatal(err)
	}

	// Runs no worker touched yet.
	canceled := enqueue("orders", "")
	if err := s.Cancel(ctx, canceled.ID, canceled.CreatedAt.Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	enqueue("payments", "", func(r *engine.Run) { r.ReplayOf = dead.ID }) // as the admin API's replay does
	enqueue("orders", "order-keyed", func(r *engine.Run) { r.Event.Headers = nil; r.Event.Query = nil })
	for i := range 30 {
		enqueue([]string{"orders", "payments"}[i%2], fmt.Sprintf("key-%d", i))
	}
	odd := &engine.Run{Workflow: "orders", CreatedAt: mat(time.Hour), Event: engine.Event{ID: "odd", Method: "POST", Path: "/hooks/orders",
		Body: []byte{0, 0xff, 0xfe, 'x', 0}, ReceivedAt: mat(time.Hour)}, DedupeKey: "expired", DedupeUntil: mat(time.Hour + time.Minute)}
	if _, err := s.Enqueue(ctx, odd); err != nil {
		t.Fatal(err)
	}

	// A sender's retry is caught by bbolt's dedupe index: no new run.
	again := &engine.Run{Workflow: "payments", CreatedAt: mat(2 * time.Hour), DedupeKey: "pay-dead", DedupeUntil: mat(3 * time.Hour),
		Event: engine.Event{ID: "again", Method: "POST", Path: "/hooks/payments", ReceivedAt: mat(2 * time.Hour)}}
	if res, err := s.Enqueue(ctx, again); err != nil || !res[0].Duplicate {
		t.Fatalf("seed duplicate: %+v, %v", res, err)
	}

	// Leases end with the process that took them: what a migration reads
	// is the file as a stopped daemon leaves it, its leased runs queued.
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if s, err = boltstore.Open(ctx, boltstore.Options{Path: path}); err != nil {
		t.Fatal(err)
	}
	var all []*engine.Run
	cursor := ""
	for {
		page, next, err := s.List(ctx, engine.ListFilter{Limit: 1000, Cursor: cursor})
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, page...)
		if next == "" {
			break
		}
		cursor = next
	}
	statuses := map[engine.Status]int{}
	replays, cancelAsks := 0, 0
	for _, r := range all {
		statuses[r.Status]++
		if r.ReplayOf != "" {
			replays++
		}
		if !r.Status.Final() && r.CancelRequested {
			cancelAsks++
		}
	}
	if replays != 1 || cancelAsks != 1 {
		t.Fatalf("seed has %d replays and %d unfinished runs asked to cancel, want 1 of each", replays, cancelAsks)
	}
	for _, st := range []engine.Status{engine.StatusQueued, engine.StatusRetrying,
		engine.StatusSucceeded, engine.StatusDead, engine.StatusCanceled} {
		if statuses[st] == 0 {
			t.Fatalf("seed has no %s run: %v", st, statuses)
		}
	}
	return all
}

func runJSON(t *testing.T, r *engine.Run) string {
	t.Helper()
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestStoreMigrate copies a bbolt store with runs in every status into a
// fresh PostgreSQL schema, in several batches: every run arrives equal, its
// dedupe key still catches a duplicate there, and a second migration
// changes nothing.
func TestStoreMigrate(t *testing.T) {
	t.Parallel()
	url := pgtest.URL(t)
	schema := pgtest.Schema(t, url)
	data := t.TempDir()
	want := seedBolt(t, filepath.Join(data, "hookflow.db"))

	extra := 0 // runs enqueued on PostgreSQL after the migration
	check := func(t *testing.T, dst *pgstore.Store) {
		t.Helper()
		for _, w := range want {
			got, err := dst.Get(t.Context(), w.ID)
			if err != nil {
				t.Errorf("run %s (%s) not migrated: %v", w.ID, w.Status, err)
				continue
			}
			if g, w := runJSON(t, got), runJSON(t, w); g != w {
				t.Errorf("migrated run differs:\n got  %s\n want %s", g, w)
			}
		}
		all, _, err := dst.List(t.Context(), engine.ListFilter{Limit: 1000})
		if err != nil || len(all) != len(want)+extra {
			t.Errorf("PostgreSQL holds %d runs (%v), want %d", len(all), err, len(want)+extra)
		}
	}

	// The URL comes from the environment, as the help suggests.
	env := map[string]string{"HOOKFLOW_STORE": url}
	out, errOut, err := runStoreCmd(t, env, "migrate", "--from", data, "--schema", schema, "--batch", "7")
	if err != nil {
		t.Fatalf("migrate: %v\nstderr:\n%s", err, errOut)
	}
	if wantOut := fmt.Sprintf("migrated %d runs (0 already present)\n", len(want)); out != wantOut {
		t.Errorf("stdout %q, want %q", out, wantOut)
	}
	if !strings.Contains(errOut, "migrating "+filepath.Join(data, "hookflow.db")+" to PostgreSQL schema "+schema) {
		t.Errorf("stderr lacks the progress header:\n%s", errOut)
	}

	dst, err := pgstore.Open(t.Context(), pgstore.Options{URL: url, Schema: schema, MaxConns: 2})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { dst.Close() })
	check(t, dst)

	// Dedupe keys moved with their runs.
	for _, tc := range []struct {
		workflow, key string
		at            time.Duration
		dupOf         string // "" for a new run
	}{
		{"payments", "pay-dead", 3 * time.Hour, "pay-dead"},
		{"orders", "key-0", 5 * time.Hour, "key-0"},
		{"payments", "key-1", 5 * time.Hour, "key-1"},
		{"orders", "key-1", 5 * time.Hour, ""},   // another workflow's key
		{"orders", "expired", 2 * time.Hour, ""}, // its window had passed
	} {
		var first string
		for _, w := range want {
			if w.Workflow == tc.workflow && w.DedupeKey == tc.dupOf {
				first = w.ID
			}
		}
		r := &engine.Run{Workflow: tc.workflow, CreatedAt: mat(tc.at), DedupeKey: tc.key, DedupeUntil: mat(tc.at + time.Hour),
			Event: engine.Event{ID: "retry", Method: "POST", Path: "/hooks/" + tc.workflow, ReceivedAt: mat(tc.at)}}
		res, err := dst.Enqueue(t.Context(), r)
		switch {
		case err != nil:
			t.Errorf("enqueue %s/%s on PostgreSQL: %v", tc.workflow, tc.key, err)
		case tc.dupOf != "" && (!res[0].Duplicate || res[0].RunID != first):
			t.Errorf("enqueue %s/%s: %+v, want a duplicate of the migrated run %s", tc.workflow, tc.key, res[0], first)
		case tc.dupOf == "" && res[0].Duplicate:
			t.Errorf("enqueue %s/%s: %+v, want a new run", tc.workflow, tc.key, res[0])
		case !res[0].Duplicate:
			extra++
		}
	}

	// Again, with serve's config file: nothing new, nothing changed.
	config := filepath.Join(t.TempDir(), "hookflow.yaml")
	yaml := fmt.Sprintf("data: %s\nstore: %q\nstore-schema: %s\nworkers: 8\n", data, url, schema)
	if err := os.WriteFile(config, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	out, errOut, err = runStoreCmd(t, map[string]string{"HOOKFLOW_CONFIG": config}, "migrate")
	if err != nil {
		t.Fatalf("second migrate: %v\nstderr:\n%s", err, errOut)
	}
	if wantOut := fmt.Sprintf("migrated 0 runs (%d already present)\n", len(want)); out != wantOut {
		t.Errorf("second stdout %q, want %q", out, wantOut)
	}
	check(t, dst)
}

// TestStoreMigrateErrors pins the messages for bad flags, a source that is
// not a store or is still locked by a daemon, and a database that does not
// answer (testdata/store_migrate_errors.golden; UPDATE_GOLDEN=1 rewrites
// it). Passwords in --to never appear.
func TestStoreMigrateErrors(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	locked := filepath.Join(data, "locked")
	held, err := boltstore.Open(t.Context(), boltstore.Options{Path: filepath.Join(locked, "hookflow.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { held.Close() })
	foreign := filepath.Join(data, "foreign")
	if err := os.MkdirAll(foreign, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(foreign, "hookflow.db"), bytes.Repeat([]byte("not bbolt "), 1000), 0o600); err != nil {
		t.Fatal(err)
	}
	boltConfig := filepath.Join(data, "bolt.yaml")
	if err := os.WriteFile(boltConfig, []byte("store: bolt\ndata: "+locked+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	const down = "postgres://hookflow:hunter2@127.0.0.1:1/hookflow?sslmode=disable&connect_timeout=5"

	cases := []struct {
		name string
		args []string
	}{
		{"no_flags", nil},
		{"config_store_is_bolt", []string{"--config", boltConfig}},
		{"missing_data_dir", []string{"--from", filepath.Join(data, "nope"), "--to", down}},
		{"not_a_postgres_url", []string{"--from", locked, "--to", "mysql://root:hunter2@db/hookflow"}},
		{"bad_numbers", []string{"--from", locked, "--to", down, "--batch", "0", "--lock-timeout", "0s", "--schema", ""}},
		{"batch_too_large", []string{"--from", locked, "--to", down, "--batch", "1001"}},
		{"not_a_store", []string{"--from", foreign, "--to", down}},
		{"daemon_still_running", []string{"--from", locked, "--to", down, "--lock-timeout", "50ms"}},
		{"database_down", []string{"--from", filepath.Join(data, "empty"), "--to", down}},
	}
	// An empty but valid store for the database_down case.
	empty, err := boltstore.Open(t.Context(), boltstore.Options{Path: filepath.Join(data, "empty", "hookflow.db")})
	if err != nil {
		t.Fatal(err)
	}
	empty.Close()

	var got strings.Builder
	for _, tc := range cases {
		out, errOut, err := runStoreCmd(t, nil, append([]string{"migrate"}, tc.args...)...)
		if err == nil {
			t.Errorf("%s: migrate succeeded:\n%s", tc.name, out)
			continue
		}
		msg := err.Error()
		for _, leak := range []string{out, errOut, msg} {
			if strings.Contains(leak, "hunter2") {
				t.Errorf("%s: the password leaked: %s", tc.name, leak)
			}
		}
		fmt.Fprintf(&got, "%s:\n%s\n\n", tc.name, strings.ReplaceAll(msg, data, "$DATA"))
	}
	golden := filepath.Join("testdata", "store_migrate_errors.golden")
	if os.Getenv("UPDATE_GOLDEN") != "" {
		if err := os.WriteFile(golden, []byte(got.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if got.String() != string(want) {
		t.Errorf("messages differ from %s (UPDATE_GOLDEN=1 to accept):\n%s", golden, got.String())
	}
}

func TestSplitByBodies(t *testing.T) {
	run := func(n int) *engine.Run { return &engine.Run{Event: engine.Event{Body: make([]byte, n)}} }
	cases := []struct {
		name  string
		sizes []int
		limit int
		want  []int // runs per part
	}{
		{"none", nil, 10, nil},
		{"one_part", []int{1, 2, 3}, 10, []int{3}},
		{"exact_fit", []int{5, 5, 5}, 10, []int{2, 1}},
		{"oversized_run_alone", []int{1, 20, 1}, 10, []int{1, 1, 1}},
		{"empty_bodies", []int{0, 0, 0, 0}, 0, []int{4}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var runs []*engine.Run
			for _, n := range tc.sizes {
				runs = append(runs, run(n))
			}
			var got []int
			total := 0
			for _, p := range splitByBodies(runs, tc.limit) {
				got = append(got, len(p))
				total += len(p)
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.want) || total != len(runs) {
				t.Errorf("parts %v, want %v", got, tc.want)
			}
		})
	}
}
