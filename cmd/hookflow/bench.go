package main

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
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/mattn/go-isatty"
	"github.com/spf13/cobra"

	"github.com/hookflow/hookflow/cmd/hookflow/internal/loadgen"
	"github.com/hookflow/hookflow/engine"
	"github.com/hookflow/hookflow/engine/admin"
	"github.com/hookflow/hookflow/engine/boltstore"
	"github.com/hookflow/hookflow/triggers/signature"
)

// benchOptions are the flags of `hookflow bench`.
type benchOptions struct {
	Senders      int
	Rate         float64
	Duration     time.Duration
	Warmup       time.Duration
	Timeout      time.Duration
	DrainTimeout time.Duration
	BodyBytes    int
	SequentialID bool
	Workers      int
	Webhook      bool
	Baseline     bool
	Rounds       int
	Backlog      int
	NoSync       bool
	DataDir      string
	Keep         bool
	JSON         bool

	Target     string
	Scheme     string
	Secret     string
	SecretFile string
	HMAC       signature.Options
	Admin      string
	PID        int

	PrintWorkflow bool
}

// check validates the options, naming the flag at fault.
func (o *benchOptions) check() error {
	var errs []string
	bad := func(format string, args ...any) { errs = append(errs, fmt.Sprintf(format, args...)) }
	if o.Senders < 1 {
		bad("-c/--senders must be at least 1, got %d", o.Senders)
	}
	if o.Rate < 0 {
		bad("--rate must not be negative, got %g", o.Rate)
	}
	if o.Duration <= 0 {
		bad("--duration must be positive, got %s", o.Duration)
	}
	if o.Warmup < 0 {
		bad("--warmup must not be negative, got %s", o.Warmup)
	}
	if o.Timeout <= 0 {
		bad("--timeout must be positive, got %s", o.Timeout)
	}
	if o.DrainTimeout <= 0 {
		bad("--drain-timeout must be positive, got %s", o.DrainTimeout)
	}
	if o.BodyBytes < 0 || o.BodyBytes > 512<<10 {
		bad("--body-bytes must be between 0 and %d, got %d", 512<<10, o.BodyBytes)
	}
	if o.Workers < 1 {
		bad("--workers must be at least 1, got %d", o.Workers)
	}
	if o.Backlog < 0 {
		bad("--backlog must not be negative, got %d", o.Backlog)
	}
	if o.Rounds < 1 {
		bad("--rounds must be at least 1, got %d", o.Rounds)
	}
	if o.Target == "" {
		for flag, set := range map[string]bool{"--admin": o.Admin != "", "--pid": o.PID != 0, "--secret": o.Secret != "",
			"--secret-file": o.SecretFile != ""} {
			if set {
				bad("%s applies only with --target", flag)
			}
		}
	} else {
		if !strings.HasPrefix(o.Target, "http://") && !strings.HasPrefix(o.Target, "https://") {
			bad("--target %q: want the full webhook URL, like http://127.0.0.1:8080/hooks/bench", o.Target)
		}
		if o.Backlog > 0 {
			bad("--backlog preloads the in-process daemon's store: it cannot be used with --target")
		}
		if o.Webhook {
			bad("--webhook changes the in-process daemon's workflow: it cannot be used with --target")
		}
		if o.NoSync {
			bad("--no-sync changes the in-process daemon's store: it cannot be used with --target")
		}
		if o.Scheme != "none" && o.Secret == "" && o.SecretFile == "" {
			bad("--target with --scheme %s needs --secret or --secret-file", o.Scheme)
		}
		if o.PID < 0 {
			bad("--pid must be a process id, got %d", o.PID)
		}
	}
	if len(errs) > 0 {
		slices.Sort(errs)
		return fmt.Errorf("bench: %s", strings.Join(errs, "; "))
	}
	return nil
}

func newBenchCmd() *cobra.Command {
	var o benchOptions
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Load-test hookflow: durable ack throughput and latency, end-to-end runs, zero loss",
		Long: `Load-test hookflow over real loopback HTTP.

By default bench starts a daemon in this process on a temporary data directory
with a synthetic workflow (hmac signature, a filter, an idempotency key, one set
step; --webhook adds a webhook step to a local sink), sends signed events to it
and reports the acknowledgement rate and latency, the runs completed and their
end-to-end latency, the process's CPU and memory, and checks that every
acknowledged event reached a final run state (exit status 1 when one did not).

Closed model (default): -c senders send back to back, as fast as they can.
Open model (--rate R): R events per second on a fixed schedule; latency counts
from each event's scheduled send time, so queueing is not hidden.

--target URL drives a running daemon instead (serve the workflow that
--print-workflow prints; --admin lets bench check the runs, --pid read the
daemon's CPU and memory). --baseline also measures a bare Fiber handler and a
minimal bbolt group-commit handler with the same load, as ceilings. --rounds N
measures hookflow and the ceilings N times in turn and reports the median
ratios, steadier than one round's on a machine whose speed drifts. --backlog N
preloads N queued runs and measures ingest and drain on the deep queue.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := applyConfig(cmd); err != nil {
				return err
			}
			tuneRuntime() // as serve does; the report's header says how many Ps
			if o.PrintWorkflow {
				_, err := io.WriteString(cmd.OutOrStdout(), benchWorkflow(""))
				return err
			}
			if err := o.check(); err != nil {
				return err
			}
			b := &bench{o: o, stderr: cmd.ErrOrStderr()}
			if f, ok := cmd.ErrOrStderr().(*os.File); ok && isatty.IsTerminal(f.Fd()) {
				b.progress = f
			}
			rep, err := b.run(cmd.Context())
			if err != nil {
				return err
			}
			if o.JSON {
				if err := rep.writeJSON(cmd.OutOrStdout()); err != nil {
					return err
				}
			} else {
				rep.writeText(cmd.OutOrStdout())
			}
			if rep.Loss.Lost() {
				return exitError(1)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.IntVarP(&o.Senders, "senders", "c", 64, "concurrent senders (closed model) or the sending pool (open model)")
	f.Float64Var(&o.Rate, "rate", 0, "open model: events per second (0: closed model)")
	f.DurationVar(&o.Duration, "duration", 10*time.Second, "measured load duration, per phase")
	f.DurationVar(&o.Warmup, "warmup", time.Second, "unmeasured load before each phase (its runs are still checked)")
	f.DurationVar(&o.Timeout, "timeout", 10*time.Second, "timeout of one request")
	f.DurationVar(&o.DrainTimeout, "drain-timeout", 2*time.Minute, "after the load, wait for every acked run to be final until the engine made no progress for this long")
	f.IntVar(&o.BodyBytes, "body-bytes", benchDefaultBytes, "size of each event's JSON body")
	f.BoolVar(&o.SequentialID, "sequential-ids", false, "event ids that sort in sending order (default: scattered, like real delivery ids)")
	f.IntVar(&o.Workers, "workers", 256, "in-process daemon: runs executed at once (as serve's default)")
	f.BoolVar(&o.Webhook, "webhook", false, "in-process daemon: add a webhook step delivering to a local sink")
	f.BoolVar(&o.Baseline, "baseline", false, "also measure a bare Fiber handler and a Fiber + bbolt group-commit handler")
	f.IntVar(&o.Rounds, "rounds", 1, "measure hookflow (and with --baseline the references) this many times in turn, and report each round's rates and ratios and their medians")
	f.IntVar(&o.Backlog, "backlog", 0, "in-process daemon: also measure with this many runs preloaded in the queue")
	f.BoolVar(&o.NoSync, "no-sync", false, "in-process daemon and the bbolt reference: skip fsync (NOT durable: shows the rate the CPU allows when the disk costs nothing)")
	f.StringVar(&o.DataDir, "data-dir", "", "parent of the temporary data directories (default the system's; fsync cost depends on it)")
	f.BoolVar(&o.Keep, "keep", false, "keep the temporary data directories")
	f.BoolVar(&o.JSON, "json", false, "print the report as JSON")
	f.StringVar(&o.Target, "target", "", "drive a running daemon: the full webhook URL, e.g. http://127.0.0.1:8080/hooks/bench")
	f.StringVar(&o.Scheme, "scheme", "hmac", "--target: signature scheme: "+strings.Join(signature.Names(), ", "))
	f.StringVar(&o.Secret, "secret", "", "--target: signing secret (prefer --secret-file)")
	f.StringVar(&o.SecretFile, "secret-file", "", "--target: file holding the signing secret")
	f.StringVar(&o.HMAC.Header, "hmac-header", "", "--target, scheme hmac: signature header (default "+benchHMACHeader+", as --print-workflow)")
	f.StringVar(&o.HMAC.Algorithm, "hmac-algorithm", "", "--target, scheme hmac: sha1, sha256 or sha512")
	f.StringVar(&o.HMAC.Encoding, "hmac-encoding", "", "--target, scheme hmac: hex or base64")
	f.StringVar(&o.HMAC.Prefix, "hmac-prefix", "", "--target, scheme hmac: prefix of the signature (default "+benchHMACPrefix+" with the default header)")
	f.StringVar(&o.Admin, "admin", "", "--target: the daemon's admin listener, e.g. http://127.0.0.1:8081, to check every acked run (token: HOOKFLOW_API_TOKEN)")
	f.IntVar(&o.PID, "pid", 0, "--target: the daemon's process id, to read its CPU and memory")
	f.BoolVar(&o.PrintWorkflow, "print-workflow", false, "print the synthetic workflow (for a daemon that --target drives) and exit")
	return cmd
}

// bench runs the phases of one `hookflow bench`.
type bench struct {
	o        benchOptions
	stderr   io.Writer
	progress io.Writer // a terminal for the live line, or nil
	seq      uint64    // next event number: unique across phases
}

// run measures every phase asked for and assembles the report.
func (b *bench) run(ctx context.Context) (*benchReport, error) {
	o := b.o
	rep := &benchReport{
		Version: version, Mode: "in-process", Model: "closed", Senders: o.Senders, Rate: o.Rate,
		DurationS: o.Duration.Seconds(), WarmupS: o.Warmup.Seconds(), Webhook: o.Webhook,
		BodyBytes: o.BodyBytes, SequentialIDs: o.SequentialID, NoSync: o.NoSync, GOMAXPROCS: runtime.GOMAXPROCS(0), CPUs: runtime.NumCPU(),
	}
	if o.Rate > 0 {
		rep.Model = "open"
	}
	rep.LoadAvg[0] = loadAverage()
	defer func() { rep.LoadAvg[1] = loadAverage() }()
	rep.Disk = b.diskCost(ctx)
	if o.Target != "" {
		rep.Mode = "target"
	} else {
		rep.Workers = o.Workers
	}
	var loss []lossPart
	for i := range o.Rounds {
		r, err := b.round(ctx, i == 0 && o.Backlog > 0)
		loss = append(loss, r.loss...)
		if err != nil {
			return nil, err
		}
		if i == 0 {
			rep.Hookflow, rep.Backlog, rep.Baseline = r.hookflow, r.backlog, r.baseline
		}
		if o.Rounds > 1 {
			rep.Rounds = append(rep.Rounds, newRoundReport(r.hookflow, r.baseline))
		}
	}
	if o.Rounds > 1 {
		rep.Median = medianRound(rep.Rounds)
	}
	rep.Loss = mergeLoss(loss)
	return rep, nil
}

// roundResult is what one round measured.
type roundResult struct {
	hookflow *phaseReport
	backlog  *backlogReport  // with the backlog phase
	baseline *baselineReport // with --baseline
	loss     []lossPart      // every hookflow phase's zero-loss check
}

// round measures hookflow once (and, when backlog is set, again on a deep
// queue), then the references when --baseline asks for them. The backlog
// phase is long and compared with the empty queue's rates, so run asks for
// it in the first round only.
func (b *bench) round(ctx context.Context, backlog bool) (roundResult, error) {
	o := b.o
	var r roundResult
	if o.Target != "" {
		p, lp, err := b.targetPhase(ctx)
		if err != nil {
			return r, err
		}
		r.hookflow, r.loss = p, append(r.loss, lp)
	} else {
		p, lp, _, err := b.inProcessPhase(ctx, "hookflow", 0)
		if err != nil {
			return r, err
		}
		r.hookflow, r.loss = p, append(r.loss, lp)
		if backlog {
			bp, lp, bl, err := b.inProcessPhase(ctx, fmt.Sprintf("hookflow +%d backlog", o.Backlog), o.Backlog)
			if err != nil {
				return r, err
			}
			r.loss = append(r.loss, lp)
			bl.Phase = bp
			bl.IngestRatio = ratio(bp.AckRate, p.AckRate)
			if p.Runs != nil {
				bl.DrainRatio = ratio(bl.DrainRate, p.Runs.PerSecond)
			}
			r.backlog = bl
		}
	}
	if !o.Baseline {
		return r, nil
	}
	bl := &baselineReport{}
	var err error
	if bl.Fiber, err = b.baselinePhase(ctx, "fiber (bare 202)", false); err != nil {
		return r, err
	}
	if bl.Bolt, err = b.baselinePhase(ctx, "fiber + bbolt commit", true); err != nil {
		return r, err
	}
	bl.RatioFiber = ratio(r.hookflow.AckRate, bl.Fiber.AckRate)
	bl.RatioBolt = ratio(r.hookflow.AckRate, bl.Bolt.AckRate)
	r.baseline = bl
	return r, nil
}

// lossPart is one phase's zero-loss check.
type lossPart struct {
	acc   *accounting // nil: not checked
	noRun uint64
	note  string
}

func mergeLoss(parts []lossPart) lossReport {
	l := lossReport{Checked: true}
	for _, p := range parts {
		l.NoRunID += p.noRun
		if p.acc == nil {
			l.Checked = false
			l.Note = p.note
			continue
		}
		l.Acked += p.acc.Acked
		l.Final += p.acc.Final
		l.Missing += len(p.acc.Missing)
		l.NotFinal += p.acc.NotFinal
		for _, id := range p.acc.Missing {
			if len(l.Examples) < 5 {
				l.Examples = append(l.Examples, id)
			}
		}
	}
	return l
}

// drive sends one load to url and returns what it measured.
func (b *bench) drive(ctx context.Context, name, url string, es *eventSource, acks *ackLog, d time.Duration, tick func()) (*loadgen.Result, error) {
	cfg := loadgen.Config{
		URL: url, Senders: b.o.Senders, Rate: b.o.Rate, Duration: d, Timeout: b.o.Timeout,
		Make: es.make, Seq: b.seq,
	}
	if acks != nil {
		cfg.Answer = func(_ uint64, status int, body []byte) { acks.add(status, body) }
	}
	cfg.Progress = func(p loadgen.Progress) {
		if tick != nil {
			tick()
		}
		if b.progress != nil {
			fmt.Fprintf(b.progress, "\r\033[K%-24s %5.1fs  acked %d (%s/s)  failed %d",
				name, p.Elapsed.Seconds(), p.Acked, num(float64(p.Acked)/p.Elapsed.Seconds()), p.Failed)
		}
	}
	res, err := loadgen.Run(ctx, cfg)
	if b.progress != nil {
		fmt.Fprint(b.progress, "\r\033[K")
	}
	if err != nil {
		return nil, fmt.Errorf("bench %s: %w", name, err)
	}
	b.seq = res.NextSeq
	return res, nil
}

// window measures one process while a load runs: CPU, peak and sampled
// anonymous memory.
type window struct {
	pid     int
	start   time.Time
	end     time.Time
	cpu0    loadgen.CPU
	cpu     loadgen.CPU
	io0     loadgen.IO
	io      loadgen.IO
	ioErr   error
	mem     loadgen.Memory
	anonMax uint64
	note    string
}

func (b *bench) openWindow(pid int) (*window, error) {
	w := &window{pid: pid}
	if err := loadgen.ResetPeak(pid); err != nil {
		w.note = "peak RSS is the process's lifetime peak (" + err.Error() + ")"
	}
	var err error
	if w.cpu0, err = loadgen.ReadCPU(pid); err != nil {
		return nil, err
	}
	w.io0, w.ioErr = loadgen.ReadIO(pid)
	w.start = time.Now()
	return w, nil
}

// sample records the anonymous memory now.
func (w *window) sample() {
	if m, err := loadgen.ReadMemory(w.pid); err == nil {
		w.anonMax = max(w.anonMax, m.Anon)
	}
}

func (w *window) close() error {
	w.end = time.Now()
	cpu, err := loadgen.ReadCPU(w.pid)
	if err != nil {
		return err
	}
	w.cpu = cpu.Sub(w.cpu0)
	if w.mem, err = loadgen.ReadMemory(w.pid); err != nil {
		return err
	}
	if w.ioErr == nil {
		var io loadgen.IO
		io, w.ioErr = loadgen.ReadIO(w.pid)
		w.io = io.Sub(w.io0)
	}
	return nil
}

func (w *window) report(scope string, acked uint64) *processReport {
	p := newProcessReport(scope, w.cpu, w.end.Sub(w.start), acked, w.mem, w.anonMax)
	p.Note = w.note
	if w.ioErr == nil {
		p.DiskWriteMB = mb(w.io.WriteBytes)
		if acked > 0 {
			p.DiskWriteKBPerAck = round(float64(w.io.WriteBytes)/1024/float64(acked), 2)
		}
	}
	return p
}

// diskSamples is how many appends diskCost times: a fraction of a second.
const diskSamples = 200

// diskCost measures an fsync's cost in the data directory (the system's
// temporary directory by default, where the in-process stores write), on
// the idle machine before any load. A failure is reported, not fatal: the
// phases that need the directory fail on their own.
func (b *bench) diskCost(ctx context.Context) *diskReport {
	d := &diskReport{Dir: cmp.Or(b.o.DataDir, os.TempDir())}
	h, err := loadgen.SyncCost(ctx, d.Dir, diskSamples)
	if err != nil {
		d.Error = err.Error()
		return d
	}
	d.Fsync = h.Summary()
	return d
}

// loadAverage is the machine's 1-minute load average, or -1.
func loadAverage() float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return -1
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return -1
	}
	v, err := strconv.ParseFloat(f[0], 64)
	if err != nil {
		return -1
	}
	return v
}

// settle collects garbage and returns free memory to the system, so that
// a memory reading that follows belongs to what is still live.
func settle() {
	runtime.GC()
	debug.FreeOSMemory()
}

// tempDir makes a fresh directory for one phase.
func (b *bench) tempDir(prefix string) (dir string, cleanup func(), err error) {
	dir, err = os.MkdirTemp(b.o.DataDir, "hookflow-bench-"+prefix+"-")
	if err != nil {
		return "", nil, fmt.Errorf("bench: data directory: %w", err)
	}
	return dir, func() {
		if b.o.Keep {
			fmt.Fprintf(b.stderr, "bench: kept %s\n", dir)
			return
		}
		os.RemoveAll(dir)
	}, nil
}

// inProcessPhase starts a daemon on a fresh data directory (with backlog
// runs preloaded), measures it and checks every acked run.
func (b *bench) inProcessPhase(ctx context.Context, name string, backlog int) (*phaseReport, lossPart, *backlogReport, error) {
	o := b.o
	dir, cleanup, err := b.tempDir("hookflow")
	if err != nil {
		return nil, lossPart{}, nil, err
	}
	defer cleanup()
	wfDir, dataDir := filepath.Join(dir, "workflows"), filepath.Join(dir, "data")
	if err := os.MkdirAll(wfDir, 0o750); err != nil {
		return nil, lossPart{}, nil, fmt.Errorf("bench: %w", err)
	}
	inSecret, err := randomSecret(false)
	if err != nil {
		return nil, lossPart{}, nil, err
	}
	secrets := map[string]string{benchSecretName: inSecret}
	sinkURL := ""
	var sink *benchSink
	if o.Webhook {
		if secrets[benchSinkSecret], err = randomSecret(true); err != nil {
			return nil, lossPart{}, nil, err
		}
		if sink, err = startSink(); err != nil {
			return nil, lossPart{}, nil, err
		}
		defer sink.close(context.WithoutCancel(ctx))
		sinkURL = sink.URL()
	}
	if err := os.WriteFile(filepath.Join(wfDir, "bench.yaml"), []byte(benchWorkflow(sinkURL)), 0o644); err != nil {
		return nil, lossPart{}, nil, fmt.Errorf("bench: write workflow: %w", err)
	}
	scheme, err := signature.New("hmac", signature.Options{Header: benchHMACHeader, Prefix: benchHMACPrefix})
	if err != nil {
		return nil, lossPart{}, nil, err
	}

	var bl *backlogReport
	if backlog > 0 {
		es, err := newEventSource(scheme, inSecret, "", o.BodyBytes, o.SequentialID)
		if err != nil {
			return nil, lossPart{}, nil, err
		}
		if bl, err = b.preload(ctx, dataDir, wfDir, es, backlog); err != nil {
			return nil, lossPart{}, nil, err
		}
	}

	// What earlier phases and the preload left on the heap is not the
	// daemon's: return it to the system before measuring.
	settle()
	log := slog.New(slog.NewTextHandler(b.stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	times := &commitTimes{}
	d, err := startDaemon(ctx, daemonConfig{
		Workflows: wfDir, Data: dataDir, Addr: "127.0.0.1:0", AdminAddr: "127.0.0.1:0", Store: "bolt",
		Workers: o.Workers, AllowPrivate: o.Webhook, Grace: 10 * time.Second, LeaseFor: 30 * time.Second, NoSync: o.NoSync,
		OnCommit: times.observe, Getenv: func(k string) string { return secrets[k] },
	}, log)
	if err != nil {
		return nil, lossPart{}, nil, fmt.Errorf("bench: start daemon: %w", err)
	}
	stopped := false
	stop := func() error {
		if stopped {
			return nil
		}
		stopped = true
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		return d.Shutdown(sctx)
	}
	defer stop()

	url := "http://" + d.Addr() + "/hooks/" + benchPath
	es, err := newEventSource(scheme, inSecret, url, o.BodyBytes, o.SequentialID)
	if err != nil {
		return nil, lossPart{}, nil, err
	}
	idle, err := loadgen.ReadMemory(0)
	if err != nil {
		return nil, lossPart{}, nil, err
	}
	queued := func() int64 { return -1 }
	var counters func() commitCounters
	if s, ok := d.store.(interface{ Stats() boltstore.Stats }); ok {
		queued = func() int64 { return s.Stats().Queued }
		counters = func() commitCounters { return storeCounters(s.Stats()) }
	}

	acks := &ackLog{}
	if o.Warmup > 0 {
		if _, err := b.drive(ctx, name+" warm-up", url, es, acks, o.Warmup, nil); err != nil {
			return nil, lossPart{}, nil, err
		}
	}
	measuredFrom := acks.len()
	w, err := b.openWindow(0)
	if err != nil {
		return nil, lossPart{}, nil, err
	}
	samples := []int64{queued()}
	var c0 commitCounters
	if counters != nil {
		c0 = counters()
	}
	times.start()
	res, err := b.drive(ctx, name, url, es, acks, o.Duration, func() {
		samples = append(samples, queued())
		w.sample()
	})
	if err != nil {
		return nil, lossPart{}, nil, err
	}
	if err := w.close(); err != nil {
		return nil, lossPart{}, nil, err
	}
	var store *storeReport
	if counters != nil {
		store = newStoreReport(counters().sub(c0), times.stop(), w.end.Sub(w.start))
	}
	qEnd := queued()

	if b.progress != nil {
		fmt.Fprintf(b.progress, "%s: waiting for %d acked runs to finish…", name, acks.len())
	}
	var depth func() int64
	if qEnd >= 0 {
		depth = queued
	}
	acc, err := account(ctx, storeRuns{d.store}, acks, measuredFrom, w.start, w.end, o.DrainTimeout, depth, 4)
	if b.progress != nil {
		fmt.Fprint(b.progress, "\r\033[K")
	}
	if err != nil {
		return nil, lossPart{}, nil, fmt.Errorf("bench: check runs: %w", err)
	}
	if err := stop(); err != nil {
		return nil, lossPart{}, nil, fmt.Errorf("bench: stop daemon: %w", err)
	}

	p := newPhaseReport(name, res)
	p.Process = w.report("this process: daemon and load generator together", res.Acked)
	p.Process.IdleRSSMB, p.Process.IdleAnonMB = mb(idle.RSS), mb(idle.Anon)
	p.Store = store
	winLen := w.end.Sub(w.start).Seconds()
	p.Runs = &runsReport{
		CompletedInWindow: acc.InWindow,
		PerSecond:         round(float64(acc.InWindow)/winLen, 1),
		E2ELatency:        acc.E2E.Summary(),
		ByStatus:          acc.ByStatus,
		DrainS:            round(max(acc.LastFinished.Sub(w.end).Seconds(), 0), 3),
	}
	p.Runs.RatioToAcks = ratio(p.Runs.PerSecond, p.AckRate)
	if qEnd >= 0 {
		p.Runs.Queue = newQueueReport(samples, qEnd)
	}
	if bl != nil {
		// Runs that left the queue during the window: those queued at its
		// start plus those acked in it, minus those still queued at its end
		// (runs being executed at either end make it off by at most the
		// number of workers).
		q0, q1 := samples[0], qEnd
		bl.DrainRate = round(float64(q0+int64(res.Acked)-q1)/winLen, 1)
		bl.RemainingEnd = q1
		bl.DrainedAfterS = p.Runs.DrainS
	}
	if sink != nil {
		p.Runs.ByStatus["webhook_deliveries"] = sink.deliveries.Load()
	}
	return p, lossPart{acc: acc, noRun: acks.noRun}, bl, nil
}

// targetPhase drives a running daemon.
func (b *bench) targetPhase(ctx context.Context) (*phaseReport, lossPart, error) {
	o := b.o
	secret := o.Secret
	if o.SecretFile != "" {
		raw, err := os.ReadFile(o.SecretFile)
		if err != nil {
			return nil, lossPart{}, fmt.Errorf("bench: read secret: %w", err)
		}
		secret = strings.TrimRight(string(raw), "\r\n")
	}
	opts := o.HMAC
	if o.Scheme == "hmac" && opts.Header == "" {
		opts.Header = benchHMACHeader
		opts.Prefix = cmp.Or(opts.Prefix, benchHMACPrefix)
	}
	scheme, err := signature.New(o.Scheme, opts)
	if err != nil {
		return nil, lossPart{}, fmt.Errorf("bench: %w", err)
	}
	es, err := newEventSource(scheme, secret, o.Target, o.BodyBytes, o.SequentialID)
	if err != nil {
		return nil, lossPart{}, fmt.Errorf("bench: %w", err)
	}
	var rr runReader
	if o.Admin != "" {
		c, err := admin.NewClient(o.Admin, os.Getenv("HOOKFLOW_API_TOKEN"), nil)
		if err != nil {
			return nil, lossPart{}, fmt.Errorf("bench: %w", err)
		}
		rr = adminRuns{c}
	}
	var idle loadgen.Memory
	if o.PID != 0 {
		if idle, err = loadgen.ReadMemory(o.PID); err != nil {
			return nil, lossPart{}, fmt.Errorf("bench: --pid: %w", err)
		}
	}
	acks := &ackLog{}
	if o.Warmup > 0 {
		if _, err := b.drive(ctx, "hookflow warm-up", o.Target, es, acks, o.Warmup, nil); err != nil {
			return nil, lossPart{}, err
		}
	}
	measuredFrom := acks.len()
	var w *window
	if o.PID != 0 {
		if w, err = b.openWindow(o.PID); err != nil {
			return nil, lossPart{}, fmt.Errorf("bench: --pid: %w", err)
		}
	}
	start := time.Now()
	res, err := b.drive(ctx, "hookflow", o.Target, es, acks, o.Duration, func() {
		if w != nil {
			w.sample()
		}
	})
	if err != nil {
		return nil, lossPart{}, err
	}
	end := time.Now()
	p := newPhaseReport("hookflow", res)
	if w != nil {
		if err := w.close(); err != nil {
			return nil, lossPart{}, fmt.Errorf("bench: --pid: %w", err)
		}
		p.Process = w.report(fmt.Sprintf("daemon, pid %d", o.PID), res.Acked)
		p.Process.IdleRSSMB, p.Process.IdleAnonMB = mb(idle.RSS), mb(idle.Anon)
	}
	if rr == nil {
		return p, lossPart{noRun: acks.noRun, note: "give --admin to check the runs through the admin API"}, nil
	}
	acc, err := account(ctx, rr, acks, measuredFrom, start, end, o.DrainTimeout, nil, 8)
	if err != nil {
		return nil, lossPart{}, fmt.Errorf("bench: check runs through %s: %w", o.Admin, err)
	}
	winLen := end.Sub(start).Seconds()
	p.Runs = &runsReport{
		CompletedInWindow: acc.InWindow,
		PerSecond:         round(float64(acc.InWindow)/winLen, 1),
		E2ELatency:        acc.E2E.Summary(),
		ByStatus:          acc.ByStatus,
		DrainS:            round(max(acc.LastFinished.Sub(end).Seconds(), 0), 3),
	}
	p.Runs.RatioToAcks = ratio(p.Runs.PerSecond, p.AckRate)
	return p, lossPart{acc: acc, noRun: acks.noRun}, nil
}

// baselinePhase measures one reference server with the same load.
func (b *bench) baselinePhase(ctx context.Context, name string, durable bool) (*phaseReport, error) {
	var srv *baselineServer
	var err error
	if durable {
		dir, cleanup, err := b.tempDir("baseline")
		if err != nil {
			return nil, err
		}
		defer cleanup()
		srv, err = startBoltBaseline(dir, b.o.NoSync)
		if err != nil {
			return nil, err
		}
	} else if srv, err = startBareBaseline(); err != nil {
		return nil, err
	}
	defer func() {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
	}()
	scheme, err := signature.New("hmac", signature.Options{Header: benchHMACHeader, Prefix: benchHMACPrefix})
	if err != nil {
		return nil, err
	}
	// Events are signed as for hookflow, so the generator does the same
	// work in every phase.
	es, err := newEventSource(scheme, "baseline", srv.URL(), b.o.BodyBytes, b.o.SequentialID)
	if err != nil {
		return nil, err
	}
	if b.o.Warmup > 0 {
		if _, err := b.drive(ctx, name+" warm-up", srv.URL(), es, nil, b.o.Warmup, nil); err != nil {
			return nil, err
		}
	}
	w, err := b.openWindow(0)
	if err != nil {
		return nil, err
	}
	var c0 commitCounters
	if srv.db != nil {
		c0 = srv.db.counters()
		srv.db.times.start()
	}
	res, err := b.drive(ctx, name, srv.URL(), es, nil, b.o.Duration, w.sample)
	if err != nil {
		return nil, err
	}
	if err := w.close(); err != nil {
		return nil, err
	}
	p := newPhaseReport(name, res)
	p.Process = w.report("this process: reference server and load generator together", res.Acked)
	if srv.db != nil {
		p.Store = newStoreReport(srv.db.counters().sub(c0), srv.db.times.stop(), w.end.Sub(w.start))
	}
	return p, nil
}

// preload puts n queued runs of the bench workflow straight into a new
// store in dataDir, before the daemon (and its engine) starts.
func (b *bench) preload(ctx context.Context, dataDir, wfDir string, es *eventSource, n int) (*backlogReport, error) {
	start := time.Now()
	store, err := boltstore.Open(ctx, boltstore.Options{Path: filepath.Join(dataDir, "hookflow.db")})
	if err != nil {
		return nil, fmt.Errorf("bench: preload: %w", err)
	}
	version, err := benchWorkflowVersion(wfDir)
	if err != nil {
		store.Close()
		return nil, err
	}
	const batch = 5000
	err = preloadRuns(ctx, store, es, version, b.seq, n, batch, func(done int) {
		if b.progress != nil {
			fmt.Fprintf(b.progress, "\r\033[Kpreloading backlog: %d of %d runs", done, n)
		}
	})
	b.seq += uint64(n)
	if b.progress != nil {
		fmt.Fprint(b.progress, "\r\033[K")
	}
	if cerr := store.Close(); err == nil && cerr != nil && !errors.Is(cerr, engine.ErrClosed) {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("bench: preload: %w", err)
	}
	took := time.Since(start)
	return &backlogReport{Preloaded: n, PreloadS: round(took.Seconds(), 3), PreloadRate: round(float64(n)/took.Seconds(), 1)}, nil
}
