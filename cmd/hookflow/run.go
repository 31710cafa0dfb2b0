package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/spf13/cobra"

	"github.com/hookflow/hookflow/actions"
	"github.com/hookflow/hookflow/engine"
	"github.com/hookflow/hookflow/engine/boltstore"
	"github.com/hookflow/hookflow/workflows"
)

func newRunCmd() *cobra.Command {
	var (
		wfDir, eventFile, contentType, secretsDir, pluginsDir string
		headers                                               []string
		allowPrivate                                          bool
	)
	cmd := &cobra.Command{
		Use:   "run WORKFLOW --event FILE [-H 'K: V']...",
		Short: "Run a workflow once, in-process, on an event from a file; print each step's result",
		Long: "Run a workflow once without a server. WORKFLOW is a workflow name in --workflows or a\n" +
			"workflow file. The event is taken as already verified (no signature check); the filter applies.\n" +
			"Steps run through the same engine as the daemon, on a throwaway store.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := applyConfig(cmd); err != nil {
				return err
			}
			ctx := cmd.Context()
			out := cmd.OutOrStdout()
			log, err := newLogger(cmd.ErrOrStderr(), "text", "warn")
			if err != nil {
				return err
			}
			reg := actions.NewRegistry()
			if err := actions.RegisterBuiltins(reg, actions.NetOptions{AllowPrivate: allowPrivate, Logger: log}); err != nil {
				return err
			}
			closePlugins, err := loadPlugins(ctx, pluginsDir, reg, log)
			if err != nil {
				return err
			}
			defer closePlugins()

			src, name := wfDir, args[0]
			if strings.HasSuffix(name, ".yaml") || strings.HasSuffix(name, ".yml") {
				src = name
			}
			set, err := workflows.Load(workflows.Options{Actions: reg}, src)
			if err != nil {
				return fmt.Errorf("load %s:\n%w", src, err)
			}
			wf := set.ByName(name)
			if wf == nil && src == name && len(set.Workflows()) == 1 {
				wf = set.Workflows()[0]
			}
			if wf == nil {
				return fmt.Errorf("no workflow named %q in %s", name, src)
			}
			secrets, err := workflows.LoadSecrets(secretsDir, set.SecretNames(), os.Getenv)
			if err != nil {
				return fmt.Errorf("secrets: %w", err)
			}

			var body []byte
			if eventFile == "-" {
				body, err = io.ReadAll(cmd.InOrStdin())
			} else {
				body, err = os.ReadFile(eventFile)
			}
			if err != nil {
				return fmt.Errorf("read event: %w", err)
			}
			now := time.Now()
			id, _ := uuid.NewV7()
			run := &engine.Run{
				ID: id.String(), Workflow: wf.Name, WorkflowVersion: wf.Version, Status: engine.StatusQueued,
				CreatedAt: now, UpdatedAt: now, DueAt: now,
				Event: engine.Event{
					ID: id.String(), Method: wf.Trigger.Methods[0], Path: wf.Trigger.Path,
					Headers: map[string]string{"content-type": contentType}, ContentType: contentType,
					Body: body, ReceivedAt: now,
				},
			}
			for _, h := range headers {
				k, v, ok := strings.Cut(h, ":")
				if !ok {
					return fmt.Errorf("-H %q: want 'Name: value'", h)
				}
				run.Event.Headers[strings.ToLower(strings.TrimSpace(k))] = strings.TrimSpace(v)
			}
			if f := wf.Trigger.Filter; f != nil {
				ev, err := engine.EventEnv(&run.Event)
				if err != nil {
					return err
				}
				ok, err := f.Bool(&workflows.Env{Event: ev, Secrets: secrets})
				if err != nil {
					return fmt.Errorf("filter: %w", err)
				}
				if !ok {
					fmt.Fprintf(out, "filtered: the filter of %s is false for this event; no run\n", wf.Name)
					return nil
				}
			}

			dir, err := os.MkdirTemp("", "hookflow-run-")
			if err != nil {
				return err
			}
			defer os.RemoveAll(dir)
			store, err := boltstore.Open(ctx, boltstore.Options{Path: filepath.Join(dir, "run.db")})
			if err != nil {
				return err
			}
			defer store.Close()
			eng, err := engine.New(engine.Options{
				Store: store, Workflows: set, Actions: reg, Secrets: secrets,
				Workers: 1, PollInterval: 20 * time.Millisecond, Logger: log,
			})
			if err != nil {
				return err
			}
			if _, err := store.Enqueue(ctx, run); err != nil {
				return err
			}
			engCtx, stop := context.WithCancel(ctx)
			done := make(chan struct{})
			go func() { defer close(done); eng.Run(engCtx) }()
			final, err := waitFinal(ctx, store, run.ID)
			stop()
			<-done
			if err != nil {
				return err
			}
			printRun(out, final)
			if final.Status != engine.StatusSucceeded {
				return exitError(1)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&wfDir, "workflows", "workflows", "folder to find WORKFLOW in")
	f.StringVar(&eventFile, "event", "", "file with the event body (- for standard input)")
	f.StringVar(&contentType, "content-type", "application/json", "content type of the event body")
	f.StringArrayVarP(&headers, "header", "H", nil, "event header 'Name: value' (repeatable)")
	f.StringVar(&secretsDir, "secrets", "", "folder of secret files")
	f.StringVar(&pluginsDir, "plugins", "", "folder of plugin executables")
	f.BoolVar(&allowPrivate, "allow-private-targets", false, "let steps reach private and loopback addresses")
	cmd.MarkFlagRequired("event")
	return cmd
}

func waitFinal(ctx context.Context, store engine.Store, id string) (*engine.Run, error) {
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	for {
		r, err := store.Get(ctx, id)
		if err != nil {
			return nil, err
		}
		if r.Status.Final() {
			return r, nil
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-t.C:
		}
	}
}

// printRun writes each step's result, then the run's.
func printRun(w io.Writer, r *engine.Run) {
	for _, s := range r.Steps {
		fmt.Fprintf(w, "step %s (%s): %s", s.ID, s.Uses, s.Status)
		if n := len(s.Attempts); n > 0 {
			fmt.Fprintf(w, " after %d attempt%s", n, plural(n))
		}
		fmt.Fprintln(w)
		if s.Error != "" {
			fmt.Fprintf(w, "  error: %s\n", s.Error)
		}
		if len(s.Outputs) > 0 {
			b, _ := json.MarshalIndent(s.Outputs, "  ", "  ")
			fmt.Fprintf(w, "  outputs: %s\n", b)
		}
	}
	fmt.Fprintf(w, "run %s: %s\n", r.ID, r.Status)
	if r.Error != "" {
		fmt.Fprintf(w, "  error: %s\n", r.Error)
	}
}
