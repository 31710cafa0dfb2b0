package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/hookflow/hookflow/cmd/hookflow/internal/loadgen"
	"github.com/hookflow/hookflow/engine/boltstore"
)

// benchReport is what `hookflow bench` prints; --json prints it as is.
type benchReport struct {
	Version   string  `json:"version"`
	Mode      string  `json:"mode"`  // in-process or target
	Model     string  `json:"model"` // closed or open
	Senders   int     `json:"senders"`
	Rate      float64 `json:"rate,omitempty"` // open model: events/s
	DurationS float64 `json:"duration_s"`
	WarmupS   float64 `json:"warmup_s"`
	Workers   int     `json:"workers,omitempty"` // in-process: engine workers
	Webhook   bool    `json:"webhook_step"`
	BodyBytes int     `json:"body_bytes"`
	// SequentialIDs: event ids sorted in sending order (else scattered).
	SequentialIDs bool `json:"sequential_ids"`
	// NoSync: the stores skipped fsync (--no-sync): not durable.
	NoSync     bool `json:"no_sync,omitempty"`
	GOMAXPROCS int  `json:"gomaxprocs"`
	CPUs       int  `json:"cpus"`
	// LoadAvg is the machine's 1-minute load average before and after the
	// bench (from /proc/loadavg; -1 when unknown): other work on the
	// machine competes with the daemon and the generator.
	LoadAvg [2]float64 `json:"load_avg"`
	// Disk is what an fsync costs where the stores write, measured before
	// the load.
	Disk *diskReport `json:"disk,omitempty"`

	// Hookflow, Backlog and Baseline are the first round's phases.
	Hookflow *phaseReport    `json:"hookflow"`
	Backlog  *backlogReport  `json:"backlog,omitempty"`
	Baseline *baselineReport `json:"baseline,omitempty"`
	// Rounds (with --rounds N > 1) are every round's rates and ratios, the
	// first included, and Median their medians.
	Rounds []roundReport `json:"rounds,omitempty"`
	Median *roundReport  `json:"median,omitempty"`
	Loss   lossReport    `json:"loss"`
}

// roundReport is one round of --rounds: hookflow's rate and tail, and with
// --baseline the references' rates and hookflow's ratios to them, each
// ratio from phases of the same round.
type roundReport struct {
	Acked      uint64  `json:"acked,omitempty"`
	AckRate    float64 `json:"ack_rate"`
	AckP99     float64 `json:"ack_p99_ms"`
	Fiber      float64 `json:"fiber_ack_rate,omitempty"`
	FiberP99   float64 `json:"fiber_ack_p99_ms,omitempty"`
	Bolt       float64 `json:"bolt_group_commit_ack_rate,omitempty"`
	BoltP99    float64 `json:"bolt_group_commit_ack_p99_ms,omitempty"`
	RatioFiber float64 `json:"hookflow_to_fiber,omitempty"`
	RatioBolt  float64 `json:"hookflow_to_bolt,omitempty"`
}

func newRoundReport(p *phaseReport, bl *baselineReport) roundReport {
	r := roundReport{Acked: p.Acked, AckRate: p.AckRate, AckP99: p.AckLatency.P99}
	if bl != nil {
		r.Fiber, r.FiberP99, r.RatioFiber = bl.Fiber.AckRate, bl.Fiber.AckLatency.P99, bl.RatioFiber
		r.Bolt, r.BoltP99, r.RatioBolt = bl.Bolt.AckRate, bl.Bolt.AckLatency.P99, bl.RatioBolt
	}
	return r
}

// medianRound is the median of each figure over the rounds (not empty),
// taken figure by figure: the median ratio is the middle round's ratio, not
// a ratio of medians, so one round where the machine slowed for a
// reference alone does not move it. With an even number of rounds it is
// the mean of the two middle values. A median round has no acked count.
func medianRound(rounds []roundReport) *roundReport {
	med := func(figure func(roundReport) float64) float64 {
		v := make([]float64, len(rounds))
		for i, r := range rounds {
			v[i] = figure(r)
		}
		sort.Float64s(v)
		n := len(v)
		if n%2 == 1 {
			return v[n/2]
		}
		return round((v[n/2-1]+v[n/2])/2, 3)
	}
	return &roundReport{
		AckRate:    med(func(r roundReport) float64 { return r.AckRate }),
		AckP99:     med(func(r roundReport) float64 { return r.AckP99 }),
		Fiber:      med(func(r roundReport) float64 { return r.Fiber }),
		FiberP99:   med(func(r roundReport) float64 { return r.FiberP99 }),
		Bolt:       med(func(r roundReport) float64 { return r.Bolt }),
		BoltP99:    med(func(r roundReport) float64 { return r.BoltP99 }),
		RatioFiber: med(func(r roundReport) float64 { return r.RatioFiber }),
		RatioBolt:  med(func(r roundReport) float64 { return r.RatioBolt }),
	}
}

// diskReport is loadgen.SyncCost's measure of the data directory's disk:
// the scale of the machine, next to the ratios.
type diskReport struct {
	Dir   string          `json:"dir"`
	Fsync loadgen.Summary `json:"fsync_ms"` // a 4 KiB append and its fsync
	Error string          `json:"error,omitempty"`
}

// phaseReport is one measured load against one server.
type phaseReport struct {
	Name       string            `json:"name"`
	Sent       uint64            `json:"sent"`
	Acked      uint64            `json:"acked"`
	AckRate    float64           `json:"ack_rate"` // acks/s over the window
	AckLatency loadgen.Summary   `json:"ack_latency_ms"`
	Status     map[string]uint64 `json:"status"` // answers by HTTP status
	Errors     map[string]uint64 `json:"errors"` // transport errors by kind
	FirstError string            `json:"first_error,omitempty"`
	BehindMS   float64           `json:"behind_ms"` // open model: largest lateness of a send (0 in the closed model)
	Runs       *runsReport       `json:"runs,omitempty"`
	Process    *processReport    `json:"process,omitempty"`
	Store      *storeReport      `json:"store,omitempty"` // bbolt phases: the commit loop
}

// runsReport is what the engine did with the acknowledged events.
type runsReport struct {
	CompletedInWindow uint64            `json:"completed_in_window"`
	PerSecond         float64           `json:"per_second"`
	RatioToAcks       float64           `json:"ratio_to_ack_rate"`
	E2ELatency        loadgen.Summary   `json:"e2e_latency_ms"` // run created → finished
	ByStatus          map[string]uint64 `json:"by_status"`
	DrainS            float64           `json:"drain_s"` // load end → last acked run final
	Queue             *queueReport      `json:"queue,omitempty"`
}

// queueReport is the store's queue depth (queued or retrying runs) during
// the window: sampled at its start and then once a second.
type queueReport struct {
	Start      int64   `json:"start"`
	Max        int64   `json:"max"`
	End        int64   `json:"end"`
	GrowthPerS float64 `json:"growth_per_s"` // least-squares slope of the samples of the window's second half
	Samples    []int64 `json:"samples"`      // one a second from the start
}

// processReport is the CPU and memory of the measured process.
type processReport struct {
	Scope        string  `json:"scope"`
	CPUSeconds   float64 `json:"cpu_s"`
	CPUCores     float64 `json:"cpu_cores"` // CPU seconds per second of window
	CPUPerAckUS  float64 `json:"cpu_us_per_ack"`
	PeakRSSMB    float64 `json:"peak_rss_mb"` // VmHWM since the window started
	RSSAnonMB    float64 `json:"rss_anon_mb"` // RssAnon at the end
	RSSAnonMaxMB float64 `json:"rss_anon_max_mb"`
	RSSFileMB    float64 `json:"rss_file_mb"`
	// DiskWriteMB is what the process sent to storage during the window
	// (/proc/PID/io write_bytes): commits' pages, and their write
	// amplification.
	DiskWriteMB       float64 `json:"disk_write_mb"`
	DiskWriteKBPerAck float64 `json:"disk_write_kb_per_ack"`
	IdleRSSMB         float64 `json:"idle_rss_mb,omitempty"` // VmRSS before the load
	IdleAnonMB        float64 `json:"idle_anon_mb,omitempty"`
	Note              string  `json:"note,omitempty"`
}

// storeReport is what a bbolt commit loop did during the window: how
// many commits, how full, how costly, and how much of the window the one
// writer spent in them. A loop busy nearly all the time is the limit of
// everything that waits for its commits: acks and, for hookflow, runs.
type storeReport struct {
	Commits       uint64  `json:"commits"`
	CommitsPerS   float64 `json:"commits_per_s"`
	OpsPerCommit  float64 `json:"ops_per_commit"` // hookflow: enqueues, claims, records…; the reference: appends
	AcksPerCommit float64 `json:"acks_per_commit"`
	PageWrites    float64 `json:"page_writes_per_commit"` // one per node written, and the meta page
	CommitMS      float64 `json:"commit_ms"`              // mean, from the transaction's start to its fsync's end
	WriteMS       float64 `json:"write_ms"`               // of CommitMS, bbolt writing the pages and the meta page and syncing them
	BusyRatio     float64 `json:"busy_ratio"`             // time in commits / window
	// Times is the distribution of the commits' times in the window, in
	// ms (fsync included): is an ack's tail the commit's?
	Times loadgen.Summary `json:"commit_times_ms"`
}

// commitTimes records how long each commit of a loop takes, in the
// measured window only: a phase starts it and takes the histogram.
type commitTimes struct {
	h atomic.Pointer[loadgen.Histogram]
}

// observe is a commit loop's hook (boltstore.Options.OnCommit).
func (c *commitTimes) observe(_ int, took time.Duration) {
	if h := c.h.Load(); h != nil {
		h.Record(took)
	}
}

func (c *commitTimes) start() { c.h.Store(&loadgen.Histogram{}) }

// stop ends the window and returns what it recorded.
func (c *commitTimes) stop() *loadgen.Histogram {
	if h := c.h.Swap(nil); h != nil {
		return h
	}
	return &loadgen.Histogram{}
}

// commitCounters are a commit loop's counters (boltstore.Stats, or the
// reference's groupCommitLog); they only grow.
type commitCounters struct {
	commits, ops, acks, pageWrites uint64
	busy, writing                  time.Duration
}

// storeCounters takes the product store's counters.
func storeCounters(s boltstore.Stats) commitCounters {
	return commitCounters{commits: s.Commits, ops: s.Ops, acks: s.Enqueues, pageWrites: s.PageWrites, busy: s.Busy, writing: s.Writing}
}

func (c commitCounters) sub(o commitCounters) commitCounters {
	return commitCounters{
		commits: c.commits - o.commits, ops: c.ops - o.ops, acks: c.acks - o.acks,
		pageWrites: c.pageWrites - o.pageWrites, busy: c.busy - o.busy, writing: c.writing - o.writing,
	}
}

// newStoreReport describes the commits d counted, and times timed, over a
// window of length win.
func newStoreReport(d commitCounters, times *loadgen.Histogram, win time.Duration) *storeReport {
	r := &storeReport{Commits: d.commits, Times: times.Summary()}
	if win > 0 {
		r.CommitsPerS = round(float64(d.commits)/win.Seconds(), 1)
		r.BusyRatio = round(d.busy.Seconds()/win.Seconds(), 3)
	}
	if n := float64(d.commits); n > 0 {
		r.OpsPerCommit = round(float64(d.ops)/n, 1)
		r.AcksPerCommit = round(float64(d.acks)/n, 1)
		r.PageWrites = round(float64(d.pageWrites)/n, 1)
		r.CommitMS = round(float64(d.busy.Microseconds())/1000/n, 3)
		r.WriteMS = round(float64(d.writing.Microseconds())/1000/n, 3)
	}
	return r
}

// backlogReport compares the load on a deep queue with the empty queue.
type backlogReport struct {
	Preloaded     int          `json:"preloaded"`
	PreloadS      float64      `json:"preload_s"`
	PreloadRate   float64      `json:"preload_rate"`
	Phase         *phaseReport `json:"phase"`
	IngestRatio   float64      `json:"ingest_ratio"` // ack rate / empty-queue ack rate
	DrainRate     float64      `json:"drain_rate"`   // runs completed/s during the window
	DrainRatio    float64      `json:"drain_ratio"`  // to the empty-queue runs/s
	RemainingEnd  int64        `json:"remaining_at_end"`
	DrainedAfterS float64      `json:"drained_after_s"`
}

// baselineReport compares hookflow with the reference servers.
type baselineReport struct {
	Fiber      *phaseReport `json:"fiber"`
	Bolt       *phaseReport `json:"bolt_group_commit"`
	RatioFiber float64      `json:"hookflow_to_fiber"`
	RatioBolt  float64      `json:"hookflow_to_bolt"`
}

// lossReport is the zero-loss check over every acknowledged run of every
// hookflow phase.
type lossReport struct {
	Checked  bool     `json:"checked"`
	Acked    int      `json:"acked"`
	Final    int      `json:"final"`
	Missing  int      `json:"missing"`
	NotFinal int      `json:"not_final"`
	NoRunID  uint64   `json:"acked_without_run_id"`
	Examples []string `json:"missing_examples,omitempty"`
	Note     string   `json:"note,omitempty"`
}

// Lost reports whether an acknowledged event did not reach a final state.
func (l lossReport) Lost() bool { return l.Missing > 0 || l.NotFinal > 0 }

func newPhaseReport(name string, res *loadgen.Result) *phaseReport {
	p := &phaseReport{
		Name:       name,
		Sent:       res.Sent,
		Acked:      res.Acked,
		AckRate:    round(res.AckRate(), 1),
		AckLatency: res.Latency.Summary(),
		Status:     map[string]uint64{},
		Errors:     map[string]uint64{},
		FirstError: res.FirstErr,
	}
	for code, n := range res.Status {
		p.Status[strconv.Itoa(code)] = n
	}
	for kind, n := range res.Errors {
		p.Errors[kind] = n
	}
	if res.Model == "open" {
		p.BehindMS = round(float64(res.Behind)/1e6, 3)
	}
	return p
}

func newProcessReport(scope string, cpu loadgen.CPU, window time.Duration, acked uint64, mem loadgen.Memory, anonMax uint64) *processReport {
	p := &processReport{
		Scope:        scope,
		CPUSeconds:   round(cpu.Total().Seconds(), 3),
		PeakRSSMB:    mb(mem.Peak),
		RSSAnonMB:    mb(mem.Anon),
		RSSAnonMaxMB: mb(max(anonMax, mem.Anon)),
		RSSFileMB:    mb(mem.File),
	}
	if window > 0 {
		p.CPUCores = round(cpu.Total().Seconds()/window.Seconds(), 3)
	}
	if acked > 0 {
		p.CPUPerAckUS = round(float64(cpu.Total().Microseconds())/float64(acked), 1)
	}
	return p
}

func mb(b uint64) float64 { return round(float64(b)/(1<<20), 1) }

func round(v float64, digits int) float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return 0
	}
	p := math.Pow(10, float64(digits))
	return math.Round(v*p) / p
}

func ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return round(a/b, 3)
}

// slope is the least-squares slope of samples taken one second apart.
func slope(samples []int64) float64 {
	n := float64(len(samples))
	if n < 2 {
		return 0
	}
	var sx, sy, sxx, sxy float64
	for i, v := range samples {
		x, y := float64(i), float64(v)
		sx, sy, sxx, sxy = sx+x, sy+y, sxx+x*x, sxy+x*y
	}
	return (n*sxy - sx*sy) / (n*sxx - sx*sx)
}

func newQueueReport(samples []int64, end int64) *queueReport {
	if len(samples) == 0 {
		return nil
	}
	q := &queueReport{Start: samples[0], Max: end, End: end, Samples: samples}
	for _, v := range samples {
		q.Max = max(q.Max, v)
	}
	q.GrowthPerS = round(slope(samples[len(samples)/2:]), 1)
	return q
}

// writeJSON prints the report for machines.
func (r *benchReport) writeJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// writeText prints the report for people.
func (r *benchReport) writeText(w io.Writer) {
	model := "closed model"
	if r.Model == "open" {
		model = fmt.Sprintf("open model at %s events/s", num(r.Rate))
	}
	ids := "scattered"
	if r.SequentialIDs {
		ids = "sequential"
	}
	fmt.Fprintf(w, "hookflow bench %s: %s daemon, %s, %d senders, %s (+%s warm-up), %d-byte events with %s ids, GOMAXPROCS %d on %d CPUs\n",
		r.Version, r.Mode, model, r.Senders, secs(r.DurationS), secs(r.WarmupS), r.BodyBytes, ids, r.GOMAXPROCS, r.CPUs)
	if r.NoSync {
		fmt.Fprintln(w, "--no-sync: the stores skip fsync; nothing here was durable")
	}
	if r.LoadAvg[0] >= 0 {
		fmt.Fprintf(w, "machine load average (1 min): %.2f before, %.2f after\n", r.LoadAvg[0], r.LoadAvg[1])
	}
	if d := r.Disk; d != nil {
		if d.Error != "" {
			fmt.Fprintf(w, "disk: fsync cost not measured: %s\n", d.Error)
		} else {
			fmt.Fprintf(w, "disk: a %d KiB append and fsync in %s takes %.2f ms (p50), %.2f ms (p99), idle, %d samples\n",
				loadgen.SyncBlock/1024, d.Dir, d.Fsync.P50, d.Fsync.P99, d.Fsync.Count)
		}
	}
	if r.Mode == "in-process" {
		steps := "one set step"
		if r.Webhook {
			steps = "a set step and a webhook step"
		}
		fmt.Fprintf(w, "workflow: hmac signature, filter, idempotency key, %s; %d workers\n", steps, r.Workers)
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "%-22s %10s %8s %8s %8s %8s %8s   %s\n", "ack latency (ms)", "acks/s", "p50", "p90", "p99", "p99.9", "max", "ratio")
	row := func(p *phaseReport, note string) {
		l := p.AckLatency
		fmt.Fprintf(w, "%-22s %10s %8.2f %8.2f %8.2f %8.2f %8.2f   %s\n", p.Name, num(p.AckRate), l.P50, l.P90, l.P99, l.P999, l.Max, note)
	}
	row(r.Hookflow, "")
	if b := r.Backlog; b != nil {
		row(b.Phase, pct(b.IngestRatio)+" of the empty queue")
	}
	if b := r.Baseline; b != nil {
		row(b.Fiber, "hookflow = "+pct(b.RatioFiber)+" of this")
		row(b.Bolt, "hookflow = "+pct(b.RatioBolt)+" of this")
	}
	fmt.Fprintln(w)
	if len(r.Rounds) > 0 {
		fmt.Fprintf(w, "%d rounds (the table above is the first):\n", len(r.Rounds))
		for i, rd := range r.Rounds {
			fmt.Fprintf(w, "  round %d: %s\n", i+1, rd.line())
		}
		fmt.Fprintf(w, "  median:  %s\n\n", r.Median.line())
	}
	for _, p := range r.phases() {
		fmt.Fprintf(w, "%s answers: %s", p.Name, counts(p.Status))
		if len(p.Errors) > 0 {
			fmt.Fprintf(w, "; transport errors: %s (first: %s)", counts(p.Errors), p.FirstError)
		}
		if p.BehindMS > 0 {
			fmt.Fprintf(w, "; sends fell up to %.1f ms behind schedule", p.BehindMS)
		}
		fmt.Fprintln(w)
	}
	if runs := r.Hookflow.Runs; runs != nil {
		fmt.Fprintf(w, "\nruns: %d completed in the window = %s/s (%s of the ack rate); every acked run final %s after the load\n",
			runs.CompletedInWindow, num(runs.PerSecond), pct(runs.RatioToAcks), secs(runs.DrainS))
		l := runs.E2ELatency
		fmt.Fprintf(w, "  end-to-end latency (ms, run created → finished): p50 %.2f  p90 %.2f  p99 %.2f  p99.9 %.2f  max %.2f\n",
			l.P50, l.P90, l.P99, l.P999, l.Max)
		if q := runs.Queue; q != nil {
			fmt.Fprintf(w, "  queue depth: start %d, max %d, end %d; growth %+.1f runs/s over the second half\n", q.Start, q.Max, q.End, q.GrowthPerS)
		}
	}
	if b := r.Backlog; b != nil {
		fmt.Fprintf(w, "\nbacklog: %d runs preloaded in %s (%s/s); with it: ingest %s acks/s (%s of the empty queue), drain %s runs/s (%s of the empty queue's runs/s)\n",
			b.Preloaded, secs(b.PreloadS), num(b.PreloadRate), num(b.Phase.AckRate), pct(b.IngestRatio), num(b.DrainRate), pct(b.DrainRatio))
		fmt.Fprintf(w, "  %d runs still queued at the end of the window; every acked run final %s after the load\n", b.RemainingEnd, secs(b.DrainedAfterS))
	}
	fmt.Fprintln(w)
	for _, p := range r.phases() {
		if pr := p.Process; pr != nil {
			fmt.Fprintf(w, "%s process (%s): CPU %.2f cores, %.0f µs per ack; disk writes %.1f MB, %.1f KB per ack; peak RSS %.1f MB, RssAnon %.1f MB (max %.1f), RssFile %.1f MB",
				p.Name, pr.Scope, pr.CPUCores, pr.CPUPerAckUS, pr.DiskWriteMB, pr.DiskWriteKBPerAck, pr.PeakRSSMB, pr.RSSAnonMB, pr.RSSAnonMaxMB, pr.RSSFileMB)
			if pr.IdleRSSMB > 0 {
				fmt.Fprintf(w, "; idle RSS %.1f MB (anon %.1f)", pr.IdleRSSMB, pr.IdleAnonMB)
			}
			if pr.Note != "" {
				fmt.Fprintf(w, "; %s", pr.Note)
			}
			fmt.Fprintln(w)
		}
		if st := p.Store; st != nil && st.Commits > 0 {
			what := fmt.Sprintf("%.1f webhooks (%.1f writes in all)", st.AcksPerCommit, st.OpsPerCommit)
			if st.AcksPerCommit == st.OpsPerCommit {
				what = fmt.Sprintf("%.1f appends", st.AcksPerCommit)
			}
			fmt.Fprintf(w, "  store: %s commits/s of %s, %.1f page writes, %.2f ms each, %.2f of it writing and syncing pages; the commit loop was busy %s of the window\n",
				num(st.CommitsPerS), what, st.PageWrites, st.CommitMS, st.WriteMS, pct(st.BusyRatio))
			if t := st.Times; t.Count > 0 {
				fmt.Fprintf(w, "    commit time (ms): p50 %.2f  p90 %.2f  p99 %.2f  p99.9 %.2f  max %.2f\n", t.P50, t.P90, t.P99, t.P999, t.Max)
			}
		}
	}
	l := r.Loss
	switch {
	case !l.Checked:
		fmt.Fprintf(w, "zero loss: NOT CHECKED (%s)\n", l.Note)
	case l.Lost():
		fmt.Fprintf(w, "zero loss: FAILED: of %d acked runs, %d missing from the store, %d not final when runs stopped finishing (missing: %s)\n",
			l.Acked, l.Missing, l.NotFinal, strings.Join(l.Examples, ", "))
	default:
		fmt.Fprintf(w, "zero loss: all %d acked runs reached a final state\n", l.Acked)
	}
}

func (r *benchReport) phases() []*phaseReport {
	ps := []*phaseReport{r.Hookflow}
	if r.Backlog != nil {
		ps = append(ps, r.Backlog.Phase)
	}
	if r.Baseline != nil {
		ps = append(ps, r.Baseline.Fiber, r.Baseline.Bolt)
	}
	return ps
}

func counts[K comparable](m map[K]uint64) string {
	if len(m) == 0 {
		return "none"
	}
	parts := make([]string, 0, len(m))
	for k, v := range m {
		parts = append(parts, fmt.Sprintf("%v × %d", k, v))
	}
	sort.Strings(parts)
	return strings.Join(parts, ", ")
}

// line is a round's figures on one line of the text report.
func (r roundReport) line() string {
	s := fmt.Sprintf("hookflow %s acks/s, p99 %.2f ms", num(r.AckRate), r.AckP99)
	if r.Bolt > 0 {
		s += fmt.Sprintf("; %s of bare Fiber (%s, p99 %.2f ms), %s of fiber + bbolt commit (%s, p99 %.2f ms)",
			pct(r.RatioFiber), num(r.Fiber), r.FiberP99, pct(r.RatioBolt), num(r.Bolt), r.BoltP99)
	}
	return s
}

func num(v float64) string {
	if v >= 100 {
		return strconv.FormatFloat(v, 'f', 0, 64)
	}
	return strconv.FormatFloat(v, 'f', 1, 64)
}

func pct(r float64) string { return strconv.FormatFloat(r*100, 'f', 1, 64) + "%" }

func secs(s float64) string {
	return (time.Duration(s * float64(time.Second))).Round(time.Millisecond).String()
}
