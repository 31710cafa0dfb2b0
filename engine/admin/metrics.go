package admin

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/hookflow/hookflow/engine"
	"github.com/hookflow/hookflow/triggers"
)

// QueueDepther is implemented by stores that can say cheaply how many runs
// wait or run, by status (queued, retrying, running). The
// hookflow_queue_depth gauge asks it at scrape time; a store without it
// exports no such gauge.
type QueueDepther interface {
	QueueDepth(ctx context.Context) (map[engine.Status]int, error)
}

// queueStates are the hookflow_queue_depth{state} values, always exported
// (0 when the store reports none).
var queueStates = []engine.Status{engine.StatusQueued, engine.StatusRetrying, engine.StatusRunning}

// queueDepthTimeout bounds the store call of one scrape.
const queueDepthTimeout = 5 * time.Second

// Metrics are hookflow's Prometheus metrics. It implements
// triggers.Observer and engine.Observer; the store, the plugin host and the
// outbound actions report through its other methods. Every method is safe
// for concurrent use and does nothing on a nil *Metrics.
//
// Labels are bounded: workflow names (from the loaded files), action names,
// outcomes, statuses and status classes; never run ids or paths.
type Metrics struct {
	webhooks       *prometheus.CounterVec
	ack            *prometheus.HistogramVec
	runsFinished   *prometheus.CounterVec
	runSeconds     *prometheus.HistogramVec
	stepAttempts   *prometheus.CounterVec
	stepSeconds    *prometheus.HistogramVec
	deliveries     *prometheus.CounterVec
	pluginRestarts *prometheus.CounterVec
	commitSeconds  prometheus.Histogram
	commitBatch    prometheus.Histogram
	reloads        *prometheus.CounterVec
	reloadOK       prometheus.Gauge
	queue          *queueCollector
}

// NewMetrics creates the metrics and registers them with reg (nil: not
// registered, e.g. in a test that reads them otherwise). It panics when reg
// already holds metrics of the same names, like prometheus.MustRegister.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		webhooks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hookflow_webhooks_total",
			Help: "Webhook requests by workflow (empty when no workflow matched) and outcome: accepted, duplicate, filtered, bad_signature, too_large, unavailable, not_found, method_not_allowed, bad_request.",
		}, []string{"workflow", "outcome"}),
		ack: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "hookflow_ack_seconds",
			Help:    "Time from a webhook's arrival to its acknowledgement, for accepted and duplicate events (the durable enqueue included).",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"workflow"}),
		runsFinished: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hookflow_runs_finished_total",
			Help: "Runs that reached a final status (succeeded, dead, canceled), by workflow.",
		}, []string{"workflow", "status"}),
		runSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "hookflow_run_seconds",
			Help:    "Time from a run's creation (the event's arrival) to its final status.",
			Buckets: []float64{.01, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600, 4 * 3600},
		}, []string{"workflow", "status"}),
		stepAttempts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hookflow_step_attempts_total",
			Help: "Step attempts by action (uses) and outcome: ok, retryable, permanent; skipped counts steps whose if: was false.",
		}, []string{"action", "outcome"}),
		stepSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "hookflow_step_seconds",
			Help:    "Duration of step attempts by action (skipped steps excluded).",
			Buckets: []float64{.001, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60},
		}, []string{"action"}),
		deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hookflow_deliveries_total",
			Help: "Outbound HTTP requests of http and webhook steps by answer class: 2xx, 3xx, 4xx, 5xx, or error (no answer).",
		}, []string{"class"}),
		pluginRestarts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hookflow_plugin_restarts_total",
			Help: "Plugin processes restarted after they exited or crashed, by plugin.",
		}, []string{"plugin"}),
		commitSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "hookflow_store_commit_seconds",
			Help:    "Duration of the store's group-commit transactions, fsync included.",
			Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1},
		}),
		commitBatch: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "hookflow_store_commit_batch_size",
			Help:    "Writes carried by one group commit.",
			Buckets: prometheus.ExponentialBuckets(1, 2, 12), // 1 .. 2048
		}),
	}
	m.reloads = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "hookflow_workflow_reloads_total",
		Help: "Workflow reloads by result: ok, or error (the set did not validate and the previous one keeps serving).",
	}, []string{"result"})
	m.reloadOK = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "hookflow_workflow_reload_ok",
		Help: "1 when the last workflow reload (or the first load) succeeded, 0 when it was refused.",
	})
	m.reloadOK.Set(1)
	m.reloads.WithLabelValues("ok")
	m.reloads.WithLabelValues("error")
	m.queue = &queueCollector{desc: prometheus.NewDesc("hookflow_queue_depth",
		"Runs waiting (queued, retrying) or running, as the store reports them at scrape time.",
		[]string{"state"}, nil)}
	// Classes are known in advance: export them at 0 so that rate() and
	// alerts see the series before the first delivery.
	for _, c := range []string{"2xx", "3xx", "4xx", "5xx", "error"} {
		m.deliveries.WithLabelValues(c)
	}
	if reg != nil {
		reg.MustRegister(m.webhooks, m.ack, m.runsFinished, m.runSeconds, m.stepAttempts, m.stepSeconds,
			m.deliveries, m.pluginRestarts, m.commitSeconds, m.commitBatch, m.reloads, m.reloadOK, m.queue)
	}
	return m
}

// ObserveWebhook counts one webhook request (triggers.Observer).
func (m *Metrics) ObserveWebhook(workflow, outcome string, latency time.Duration) {
	if m == nil {
		return
	}
	m.webhooks.WithLabelValues(workflow, outcome).Inc()
	if outcome == triggers.OutcomeAccepted || outcome == triggers.OutcomeDuplicate {
		m.ack.WithLabelValues(workflow).Observe(latency.Seconds())
	}
}

// ObserveStep counts one step attempt (engine.Observer).
func (m *Metrics) ObserveStep(workflow, uses, outcome string, took time.Duration) {
	if m == nil {
		return
	}
	m.stepAttempts.WithLabelValues(uses, outcome).Inc()
	if outcome != "skipped" {
		m.stepSeconds.WithLabelValues(uses).Observe(took.Seconds())
	}
}

// ObserveRun counts one finished run (engine.Observer).
func (m *Metrics) ObserveRun(workflow string, status engine.Status, took time.Duration) {
	if m == nil {
		return
	}
	m.runsFinished.WithLabelValues(workflow, string(status)).Inc()
	m.runSeconds.WithLabelValues(workflow, string(status)).Observe(took.Seconds())
}

// ObserveDelivery counts one outbound request of an http or webhook step
// by the class of its answer's status; status 0 means no answer (a network
// error or a timeout).
func (m *Metrics) ObserveDelivery(status int) {
	if m == nil {
		return
	}
	m.deliveries.WithLabelValues(DeliveryClass(status)).Inc()
}

// DeliveryClass is the hookflow_deliveries_total class of an HTTP status:
// 2xx, 3xx, 4xx, 5xx, or error for 0 (no answer) and anything out of range.
func DeliveryClass(status int) string {
	switch {
	case status >= 200 && status < 300:
		return "2xx"
	case status >= 300 && status < 400:
		return "3xx"
	case status >= 400 && status < 500:
		return "4xx"
	case status >= 500 && status < 600:
		return "5xx"
	}
	return "error"
}

// PluginRestarted counts one restart of the plugin named name; the plugin
// host calls it.
func (m *Metrics) PluginRestarted(name string) {
	if m == nil {
		return
	}
	m.pluginRestarts.WithLabelValues(name).Inc()
}

// ObserveCommit records one group commit of n writes that took took; the
// store's commit hook calls it.
func (m *Metrics) ObserveCommit(n int, took time.Duration) {
	if m == nil {
		return
	}
	m.commitSeconds.Observe(took.Seconds())
	m.commitBatch.Observe(float64(n))
}

// ObserveReload records the result of one workflow reload; the daemon
// calls it after each SIGHUP or file change.
func (m *Metrics) ObserveReload(ok bool) {
	if m == nil {
		return
	}
	if ok {
		m.reloads.WithLabelValues("ok").Inc()
		m.reloadOK.Set(1)
		return
	}
	m.reloads.WithLabelValues("error").Inc()
	m.reloadOK.Set(0)
}

// WatchStore makes hookflow_queue_depth ask store at scrape time. It
// reports false, and the gauge stays absent, when store is no QueueDepther.
func (m *Metrics) WatchStore(store engine.Store) bool {
	if m == nil {
		return false
	}
	q, ok := store.(QueueDepther)
	if !ok {
		m.queue.src.Store(nil)
		return false
	}
	m.queue.src.Store(&q)
	return true
}

// queueCollector asks the store for the queue depth at each scrape.
type queueCollector struct {
	desc *prometheus.Desc
	src  atomic.Pointer[QueueDepther]
}

func (q *queueCollector) Describe(ch chan<- *prometheus.Desc) { ch <- q.desc }

func (q *queueCollector) Collect(ch chan<- prometheus.Metric) {
	src := q.src.Load()
	if src == nil {
		return
	}
	// A scrape carries no context: bound the store call on its own.
	ctx, cancel := context.WithTimeout(context.Background(), queueDepthTimeout)
	defer cancel()
	depth, err := (*src).QueueDepth(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(q.desc, fmt.Errorf("queue depth: %w", err))
		return
	}
	for _, st := range queueStates {
		ch <- prometheus.MustNewConstMetric(q.desc, prometheus.GaugeValue, float64(depth[st]), string(st))
	}
}

var (
	_ triggers.Observer    = (*Metrics)(nil)
	_ engine.Observer      = (*Metrics)(nil)
	_ prometheus.Collector = (*queueCollector)(nil)
)
