package main

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/mattn/go-isatty"
	"github.com/spf13/cobra"

	"github.com/hookflow/hookflow/engine"
	"github.com/hookflow/hookflow/engine/admin"
)

// defaultServer is the admin listener's default address (serve --admin-addr).
const defaultServer = "http://127.0.0.1:8081"

// runsEnv is what the runs commands take from their surroundings, so that
// tests can run them in-process with their own.
type runsEnv struct {
	getenv     func(string) string
	isTerminal func(w io.Writer) bool // is this output a terminal?
}

// newRunsCmd is `hookflow runs`: list, show, replay and cancel runs through
// the admin API.
func newRunsCmd() *cobra.Command {
	return newRunsCmdWith(runsEnv{getenv: os.Getenv, isTerminal: isTerminal})
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && (isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd()))
}

// runsCLI holds the flags shared by the runs commands.
type runsCLI struct {
	env     runsEnv
	server  string
	json    bool
	timeout time.Duration
}

func newRunsCmdWith(env runsEnv) *cobra.Command {
	rc := &runsCLI{env: env}
	cmd := &cobra.Command{
		Use:   "runs",
		Short: "List, show, replay and cancel runs (through the admin API)",
		Long: "Talk to a running daemon's admin API. The server is --server, else $HOOKFLOW_SERVER,\n" +
			"else " + defaultServer + "; the bearer token is $HOOKFLOW_API_TOKEN when the daemon requires one.",
		Args: cobra.NoArgs,
	}
	pf := cmd.PersistentFlags()
	pf.StringVar(&rc.server, "server", defaultServer, "admin API address (env HOOKFLOW_SERVER)")
	pf.BoolVar(&rc.json, "json", false, "print JSON instead of tables")
	pf.DurationVar(&rc.timeout, "timeout", 30*time.Second, "timeout of each request")
	cmd.AddCommand(rc.listCmd(), rc.showCmd(), rc.replayCmd(), rc.cancelCmd())
	return cmd
}

// client builds the API client from the flags and the environment.
func (rc *runsCLI) client(cmd *cobra.Command) (*admin.Client, error) {
	server := rc.server
	if !cmd.Flags().Changed("server") {
		server = cmp.Or(rc.env.getenv("HOOKFLOW_SERVER"), server)
	}
	return admin.NewClient(server, rc.env.getenv("HOOKFLOW_API_TOKEN"), &http.Client{Timeout: rc.timeout})
}

// printJSON writes v indented.
func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// runFilter is the filter flags of list and bulk replay.
type runFilter struct {
	workflow, status, since, until string
}

func (f *runFilter) flags(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&f.workflow, "workflow", "", "only runs of this workflow")
	fl.StringVar(&f.status, "status", "", "only runs in this status: queued, running, retrying, succeeded, dead or canceled")
	fl.StringVar(&f.since, "since", "", "only runs created at or after this time (RFC 3339) or this long ago (24h)")
	fl.StringVar(&f.until, "until", "", "only runs created before this time (RFC 3339) or this long ago")
}

func (f *runFilter) query() (admin.RunQuery, error) {
	q := admin.RunQuery{Workflow: f.workflow, Status: engine.Status(f.status)}
	var errs []error
	var err error
	now := time.Now()
	if q.Since, err = admin.ParseTime(f.since, now); err != nil {
		errs = append(errs, fmt.Errorf("--since: %w", err))
	}
	if q.Until, err = admin.ParseTime(f.until, now); err != nil {
		errs = append(errs, fmt.Errorf("--until: %w", err))
	}
	return q, errors.Join(errs...)
}

func (f *runFilter) empty() bool { return *f == runFilter{} }

func (rc *runsCLI) listCmd() *cobra.Command {
	var (
		filter runFilter
		limit  int
		cursor string
		all    bool
	)
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List runs, newest first",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := rc.client(cmd)
			if err != nil {
				return err
			}
			q, err := filter.query()
			if err != nil {
				return err
			}
			q.Limit, q.Cursor = limit, cursor
			var page admin.RunPage
			page.Runs = []admin.RunSummary{}
			for {
				p, err := c.ListRuns(cmd.Context(), q)
				if err != nil {
					return err
				}
				page.Runs = append(page.Runs, p.Runs...)
				page.NextCursor = p.NextCursor
				if !all || p.NextCursor == "" {
					break
				}
				q.Cursor = p.NextCursor
			}
			if rc.json {
				return printJSON(cmd.OutOrStdout(), page)
			}
			if len(page.Runs) == 0 {
				fmt.Fprintln(cmd.ErrOrStderr(), "no runs")
				return nil
			}
			if err := runTable(cmd.OutOrStdout(), page.Runs); err != nil {
				return err
			}
			if page.NextCursor != "" {
				fmt.Fprintf(cmd.ErrOrStderr(), "more runs: add --cursor %s (or use --all)\n", page.NextCursor)
			}
			return nil
		},
	}
	filter.flags(cmd)
	cmd.Flags().IntVar(&limit, "limit", 50, "runs per page (1 to 1000)")
	cmd.Flags().StringVar(&cursor, "cursor", "", "continue after the page that printed this cursor")
	cmd.Flags().BoolVar(&all, "all", false, "page through every matching run")
	return cmd
}

// stamp formats a time for tables: UTC, to the second; "-" when unset.
func stamp(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format("2006-01-02 15:04:05")
}

// took is how long a finished run took, "-" before it finished.
func took(r admin.RunSummary) string {
	if r.FinishedAt.IsZero() {
		return "-"
	}
	return r.FinishedAt.Sub(r.CreatedAt).Round(time.Millisecond).String()
}

// clip shortens s to n runes on one line.
func clip(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

func runTable(w io.Writer, runs []admin.RunSummary) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tWORKFLOW\tSTATUS\tCREATED (UTC)\tTOOK\tCLAIMS\tERROR")
	for _, r := range runs {
		status := string(r.Status)
		if r.CancelRequested && !r.Status.Final() {
			status += " (cancel requested)"
		}
		if r.ReplayOf != "" {
			status += " (replay)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%s\n", r.ID, r.Workflow, status, stamp(r.CreatedAt), took(r), r.Claims, cmp.Or(clip(r.Error, 60), "-"))
	}
	return tw.Flush()
}

func (rc *runsCLI) showCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "show ID",
		Short: "Show one run: its event, steps, attempts, outputs and errors",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := rc.client(cmd)
			if err != nil {
				return err
			}
			d, err := c.Run(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if rc.json {
				return printJSON(cmd.OutOrStdout(), d)
			}
			return showRun(cmd.OutOrStdout(), d)
		},
	}
}

// showRun prints a run for people.
func showRun(w io.Writer, d *admin.RunDetail) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	row := func(k, format string, args ...any) { fmt.Fprintf(tw, "%s\t"+format+"\n", append([]any{k}, args...)...) }
	row("Run", "%s", d.ID)
	wf := d.Workflow
	if d.WorkflowVersion != "" {
		wf += " (version " + d.WorkflowVersion + ")"
	}
	row("Workflow", "%s", wf)
	row("Status", "%s", d.Status)
	if d.CancelRequested && !d.Status.Final() {
		row("Cancel", "requested")
	}
	if d.ReplayOf != "" {
		row("Replay of", "%s", d.ReplayOf)
	}
	row("Created", "%s", stamp(d.CreatedAt))
	if !d.StartedAt.IsZero() {
		row("Started", "%s", stamp(d.StartedAt))
	}
	if !d.FinishedAt.IsZero() {
		row("Finished", "%s (took %s)", stamp(d.FinishedAt), took(d.RunSummary))
	} else if !d.DueAt.IsZero() && d.Status.Claimable() {
		row("Due", "%s", stamp(d.DueAt))
	}
	row("Claims", "%d", d.Claims)
	if d.Lease != nil {
		row("Lease", "%s until %s", d.Lease.Owner, stamp(d.Lease.ExpiresAt))
	}
	if d.DedupeKey != "" {
		row("Dedupe key", "%s (until %s)", d.DedupeKey, stamp(d.DedupeUntil))
	}
	if d.Error != "" {
		row("Error", "%s", d.Error)
	}
	if err := tw.Flush(); err != nil {
		return err
	}

	ev := d.Event
	fmt.Fprintln(w, "\nEvent")
	tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	row("  ID", "%s", ev.ID)
	row("  Request", "%s /hooks/%s", ev.Method, ev.Path)
	row("  Received", "%s", stamp(ev.ReceivedAt))
	label := "  Headers"
	for _, k := range sortedKeys(ev.Headers) {
		row(label, "%s: %s", k, ev.Headers[k])
		label = ""
	}
	label = "  Query"
	for _, k := range sortedKeys(ev.Query) {
		row(label, "%s=%s", k, ev.Query[k])
		label = ""
	}
	if len(ev.Body) > 0 {
		body := string(ev.Body)
		if ev.BodyEncoding != admin.BodyJSON {
			var s string
			if json.Unmarshal(ev.Body, &s) == nil {
				body = s
			}
			if ev.BodyEncoding == admin.BodyBase64 {
				body = "(base64) " + body
			}
		}
		row("  Body", "%s", clip(body, 2000))
	}
	if err := tw.Flush(); err != nil {
		return err
	}

	fmt.Fprintln(w, "\nSteps")
	if len(d.Steps) == 0 {
		fmt.Fprintln(w, "  (none yet)")
		return nil
	}
	tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  STEP\tUSES\tSTATUS\tATTEMPTS\tERROR")
	for _, st := range d.Steps {
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%d\t%s\n", st.ID, st.Uses, st.Status, len(st.Attempts), cmp.Or(clip(st.Error, 80), "-"))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, st := range d.Steps {
		if len(st.Attempts) == 0 && len(st.Outputs) == 0 {
			continue
		}
		fmt.Fprintf(w, "\n  %s\n", st.ID)
		for _, a := range st.Attempts {
			fmt.Fprintf(w, "    attempt %d  %s  %s  %s\n", a.Number, stamp(a.StartedAt),
				time.Duration(a.DurationMS*float64(time.Millisecond)).Round(time.Microsecond), a.Outcome)
			if a.Error != "" {
				fmt.Fprintf(w, "      error:   %s\n", clip(a.Error, 500))
			}
			if len(a.Details) > 0 {
				b, _ := json.Marshal(a.Details)
				fmt.Fprintf(w, "      details: %s\n", clip(string(b), 500))
			}
		}
		if len(st.Outputs) > 0 {
			b, _ := json.Marshal(st.Outputs)
			fmt.Fprintf(w, "    outputs: %s\n", clip(string(b), 2000))
		}
	}
	return nil
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func (rc *runsCLI) cancelCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "cancel ID",
		Short: "Cancel a run: a waiting run stops at once, a running one after its current step",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := rc.client(cmd)
			if err != nil {
				return err
			}
			res, err := c.Cancel(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if rc.json {
				return printJSON(cmd.OutOrStdout(), res)
			}
			if res.Status == engine.StatusCanceled {
				fmt.Fprintf(cmd.OutOrStdout(), "canceled %s\n", res.RunID)
			} else {
				fmt.Fprintf(cmd.OutOrStdout(), "cancel requested for %s: it is %s and stops after its current step\n", res.RunID, res.Status)
			}
			return nil
		},
	}
}

func (rc *runsCLI) replayCmd() *cobra.Command {
	var (
		filter runFilter
		dryRun bool
	)
	cmd := &cobra.Command{
		Use:   "replay ID | replay --status S [--workflow W] [--since T] [--until T]",
		Short: "Run an event again as a new run, one by id or every run matching filters",
		Long: "Replay makes a new run from a run's event, for the workflow's current version (the\n" +
			"dedupe key is not kept, so the replay always runs). With filters instead of an ID,\n" +
			"every matching run is replayed, e.g. `hookflow runs replay --status dead --workflow W`.",
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			switch {
			case len(args) == 1 && !filter.empty():
				return errors.New("give a run ID or filters (--status, --workflow, --since, --until), not both")
			case len(args) == 0 && filter.status == "" && filter.workflow == "":
				return errors.New("give a run ID, or --status and/or --workflow to replay in bulk")
			case len(args) == 1 && dryRun:
				return errors.New("--dry-run is for bulk replays")
			}
			c, err := rc.client(cmd)
			if err != nil {
				return err
			}
			if len(args) == 1 {
				res, err := c.Replay(cmd.Context(), args[0])
				if err != nil {
					return err
				}
				if rc.json {
					return printJSON(cmd.OutOrStdout(), res)
				}
				fmt.Fprintf(cmd.OutOrStdout(), "replayed %s as %s\n", res.ReplayOf, res.RunID)
				return nil
			}
			q, err := filter.query()
			if err != nil {
				return err
			}
			return rc.replayBulk(cmd, c, q, dryRun)
		},
	}
	filter.flags(cmd)
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "list the runs a bulk replay would replay, and stop")
	return cmd
}

// bulkResult is the JSON answer of a bulk replay.
type bulkResult struct {
	Replayed []admin.ReplayResult `json:"replayed"`
	Failed   []bulkFailure        `json:"failed"`
}

type bulkFailure struct {
	RunID string `json:"run_id"`
	Error string `json:"error"`
}

// replayBulk collects every run matching q (all pages first, so the new
// runs cannot be picked up again), then replays them one by one.
func (rc *runsCLI) replayBulk(cmd *cobra.Command, c *admin.Client, q admin.RunQuery, dryRun bool) error {
	ctx := cmd.Context()
	out, errw := cmd.OutOrStdout(), cmd.ErrOrStderr()
	q.Limit = admin.MaxListLimit
	var ids []string
	for {
		page, err := c.ListRuns(ctx, q)
		if err != nil {
			return err
		}
		for _, r := range page.Runs {
			ids = append(ids, r.ID)
		}
		if page.NextCursor == "" {
			break
		}
		q.Cursor = page.NextCursor
	}
	if dryRun {
		if rc.json {
			return printJSON(out, map[string][]string{"would_replay": append([]string{}, ids...)})
		}
		for _, id := range ids {
			fmt.Fprintln(out, id)
		}
		fmt.Fprintf(errw, "%d runs would be replayed\n", len(ids))
		return nil
	}

	res := bulkResult{Replayed: []admin.ReplayResult{}, Failed: []bulkFailure{}}
	var bar *progressBar
	if rc.env.isTerminal(out) {
		bar = &progressBar{w: errw, total: len(ids)}
	}
	for i, id := range ids {
		r, err := c.Replay(ctx, id)
		if err != nil {
			if ctx.Err() != nil {
				return err
			}
			res.Failed = append(res.Failed, bulkFailure{RunID: id, Error: err.Error()})
			if bar == nil && !rc.json {
				fmt.Fprintf(errw, "failed %s: %v\n", id, err)
			}
		} else {
			res.Replayed = append(res.Replayed, *r)
			if bar == nil && !rc.json {
				fmt.Fprintf(out, "replayed %s as %s\n", r.ReplayOf, r.RunID)
			}
		}
		bar.set(i + 1)
	}
	bar.done()
	if rc.json {
		if err := printJSON(out, res); err != nil {
			return err
		}
	} else {
		if bar != nil {
			for _, f := range res.Failed {
				fmt.Fprintf(errw, "failed %s: %s\n", f.RunID, f.Error)
			}
		}
		fmt.Fprintf(out, "replayed %d of %d runs\n", len(res.Replayed), len(ids))
	}
	if len(res.Failed) > 0 {
		return fmt.Errorf("%d of %d replays failed", len(res.Failed), len(ids))
	}
	return nil
}

// progressBar draws "replaying [=====>    ] 12/40" on one terminal line.
type progressBar struct {
	w     io.Writer
	total int
}

const progressWidth = 30

func (b *progressBar) set(n int) {
	if b == nil {
		return
	}
	filled := progressWidth
	if b.total > 0 {
		filled = n * progressWidth / b.total
	}
	bar := strings.Repeat("=", filled)
	if filled < progressWidth {
		bar += ">" + strings.Repeat(" ", progressWidth-filled-1)
	}
	fmt.Fprintf(b.w, "\rreplaying [%s] %d/%d", bar, n, b.total)
}

func (b *progressBar) done() {
	if b == nil {
		return
	}
	if b.total == 0 {
		b.set(0)
	}
	fmt.Fprintln(b.w)
}
