package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
	"github.com/spf13/cobra"

	"github.com/hookflow/hookflow/engine"
	"github.com/hookflow/hookflow/engine/admin"
	"github.com/hookflow/hookflow/engine/boltstore"
	"github.com/hookflow/hookflow/workflows"
)

var updateScripts = flag.Bool("update-scripts", false, "rewrite the expected output in testdata/runs/*.txtar")

// runsCanary is a secret value held by the seeded runs' headers and errors;
// no command may print it.
const runsCanary = "canary-91c2-s3cret"

// runsToken is the admin token of the servers the scripts talk to.
const runsToken = "test-admin-token"

// TestRunsScripts runs testdata/runs/*.txtar. Each script gets its own
// admin server on 127.0.0.1:0 over a fresh bbolt store seeded with runs
// whose ids are in $DEAD1, $DEAD2, $OK, $DEADPAY, $QUEUED and $RUNNING;
// HOOKFLOW_SERVER and HOOKFLOW_API_TOKEN point at it. `hookflow` runs the
// command line in-process; FAKE_TTY=1 makes it believe stdout is a terminal.
func TestRunsScripts(t *testing.T) {
	t.Parallel()
	set, err := workflows.Load(workflows.Options{}, filepath.Join("testdata", "runs", "workflows"))
	if err != nil {
		t.Fatal(err)
	}
	testscript.Run(t, testscript.Params{
		Dir:           filepath.Join("testdata", "runs"),
		UpdateScripts: *updateScripts,
		Setup: func(env *testscript.Env) error {
			return startRunsServer(env, set)
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"hookflow": func(ts *testscript.TestScript, neg bool, args []string) {
				root := &cobra.Command{Use: "hookflow", SilenceUsage: true, SilenceErrors: true}
				root.AddCommand(newRunsCmdWith(runsEnv{
					getenv:     ts.Getenv,
					isTerminal: func(io.Writer) bool { return ts.Getenv("FAKE_TTY") == "1" },
				}))
				root.SetOut(ts.Stdout())
				root.SetErr(ts.Stderr())
				root.SetArgs(args)
				err := root.ExecuteContext(t.Context())
				if err != nil {
					fmt.Fprintln(ts.Stderr(), "hookflow:", err)
				}
				switch {
				case err != nil && !neg:
					ts.Fatalf("hookflow %s: %v", strings.Join(args, " "), err)
				case err == nil && neg:
					ts.Fatalf("hookflow %s succeeded, want a failure", strings.Join(args, " "))
				}
			},
		},
	})
}

// startRunsServer opens a store in the script's work dir, seeds it and
// serves the admin API until the script ends.
func startRunsServer(env *testscript.Env, set *workflows.Set) error {
	ctx := context.Background()
	store, err := boltstore.Open(ctx, boltstore.Options{Path: filepath.Join(env.WorkDir, "data", "hookflow.db"), NoSync: true})
	if err != nil {
		return err
	}
	env.Defer(func() { store.Close() })
	ids, err := seedRuns(ctx, store)
	if err != nil {
		return fmt.Errorf("seed runs: %w", err)
	}
	for k, v := range ids {
		env.Setenv(k, v)
	}
	srv, err := admin.New(admin.Options{
		Store:     store,
		Workflows: func() *workflows.Set { return set },
		Token:     runsToken,
		Redact:    engine.NewRedactor(map[string]string{"PARTNER_KEY": runsCanary}).String,
	})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	go srv.Serve(ln)
	env.Defer(func() {
		sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
	})
	env.Setenv("HOOKFLOW_SERVER", "http://"+ln.Addr().String())
	env.Setenv("HOOKFLOW_API_TOKEN", runsToken)
	env.Setenv("CANARY", runsCanary)
	return nil
}

// seedRuns stores six runs with fixed ids and times and returns their ids
// by name.
func seedRuns(ctx context.Context, store engine.Store) (map[string]string, error) {
	base := time.Date(2024, 5, 6, 7, 0, 0, 0, time.UTC)
	failed := func(msg string) *engine.StepRecord {
		return &engine.StepRecord{
			ID: "notify", Uses: "http", Status: engine.StepFailed, Error: msg,
			Attempts: []engine.Attempt{{
				Number: 1, StartedAt: base, DurationMS: 12.5, Outcome: "permanent", Error: msg,
				Details: map[string]any{"status": float64(403)},
			}},
		}
	}
	seeds := []struct {
		name, workflow string
		status         engine.Status // "" leaves the run queued, running leaves it claimed
		step           *engine.StepRecord
		err            string
	}{
		{"DEAD1", "orders", engine.StatusDead, failed("403 Forbidden: key " + runsCanary + " refused"),
			"step notify failed (permanent error): 403 Forbidden: key " + runsCanary + " refused"},
		{"DEAD2", "orders", engine.StatusDead, failed("403 Forbidden"), "step notify failed (permanent error): 403 Forbidden"},
		{"OK", "orders", engine.StatusSucceeded, &engine.StepRecord{
			ID: "record", Uses: "set", Status: engine.StepSucceeded, Outputs: map[string]any{"order": "ord_3"},
			Attempts: []engine.Attempt{{Number: 1, StartedAt: base, DurationMS: 0.25, Outcome: "ok"}},
		}, ""},
		{"DEADPAY", "payments", engine.StatusDead, failed("403 Forbidden"), "step notify failed (permanent error): 403 Forbidden"},
		{"QUEUED", "payments", "", nil, ""},
		{"RUNNING", "orders", engine.StatusRunning, nil, ""},
	}
	ids := map[string]string{}
	for i, s := range seeds {
		created := base.Add(time.Duration(i) * time.Minute)
		ms := created.UnixMilli()
		r := &engine.Run{
			ID:              fmt.Sprintf("%08x-%04x-7000-8000-%012x", ms>>16, ms&0xffff, i+1),
			Workflow:        s.workflow,
			WorkflowVersion: "0123456789ab",
			Status:          engine.StatusQueued,
			CreatedAt:       created,
			DueAt:           created.Add(1000 * time.Hour),
			Event: engine.Event{
				ID:     fmt.Sprintf("evt_%d", i+1),
				Method: "POST",
				Path:   s.workflow,
				Headers: map[string]string{
					"content-type":     "application/json",
					"stripe-signature": "t=1,v1=" + runsCanary,
					"x-orders-mac":     "9f86d081884c7d65",
				},
				ContentType: "application/json",
				Body:        []byte(fmt.Sprintf(`{"id":"ord_%d"}`, i+1)),
				ReceivedAt:  created,
			},
		}
		if s.status != "" {
			r.DueAt = created
		}
		res, err := store.Enqueue(ctx, r)
		if err != nil {
			return nil, err
		}
		ids[s.name] = res[0].RunID
		if s.status == "" {
			continue
		}
		claimed, err := store.Claim(ctx, engine.ClaimRequest{Owner: "worker-1", Max: 1, LeaseFor: 1000 * time.Hour, Now: created})
		if err != nil {
			return nil, err
		}
		if len(claimed.Runs) != 1 || claimed.Runs[0].ID != r.ID {
			return nil, fmt.Errorf("claimed %d runs, want %s", len(claimed.Runs), r.ID)
		}
		if s.status == engine.StatusRunning {
			continue
		}
		err = store.Record(ctx, r.ID, claimed.Runs[0].Lease, engine.Update{
			Step: s.step, Status: s.status, Error: s.err, At: created.Add(1500 * time.Millisecond),
		})
		if err != nil {
			return nil, err
		}
	}
	return ids, nil
}
