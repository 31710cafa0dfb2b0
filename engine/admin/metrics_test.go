package admin_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/hookflow/hookflow/actions"
	"github.com/hookflow/hookflow/engine"
	"github.com/hookflow/hookflow/engine/admin"
	"github.com/hookflow/hookflow/engine/boltstore"
	"github.com/hookflow/hookflow/triggers"
)

// scrape reads /metrics and parses it with the Prometheus text parser.
func (f *fixture) scrape() map[string]*dto.MetricFamily {
	f.t.Helper()
	status, body := f.requestAs("", "GET", "/metrics")
	if status != http.StatusOK {
		f.t.Fatalf("/metrics = %d %s", status, body)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(bytes.NewReader(body))
	if err != nil {
		f.t.Fatalf("parse /metrics: %v\n%s", err, body)
	}
	return fams
}

// sample finds the metric of family name whose labels are exactly labels
// ("k=v,k=v"); nil when absent.
func sample(fams map[string]*dto.MetricFamily, name, labels string) *dto.Metric {
	fam := fams[name]
	if fam == nil {
		return nil
	}
	for _, m := range fam.GetMetric() {
		var parts []string
		for _, lp := range m.GetLabel() {
			parts = append(parts, lp.GetName()+"="+lp.GetValue())
		}
		if strings.Join(parts, ",") == labels {
			return m
		}
	}
	return nil
}

// value is a counter's or gauge's value, a histogram's sample count, or -1
// when the series is absent.
func value(fams map[string]*dto.MetricFamily, name, labels string) float64 {
	m := sample(fams, name, labels)
	switch {
	case m == nil:
		return -1
	case m.Counter != nil:
		return m.Counter.GetValue()
	case m.Gauge != nil:
		return m.Gauge.GetValue()
	case m.Histogram != nil:
		return float64(m.Histogram.GetSampleCount())
	}
	return -1
}

func TestMetricsObserved(t *testing.T) {
	t.Parallel()
	f := setup(t)
	m := f.metrics
	outcomes := []string{
		triggers.OutcomeAccepted, triggers.OutcomeDuplicate, triggers.OutcomeFiltered, triggers.OutcomeBadSig,
		triggers.OutcomeTooLarge, triggers.OutcomeUnavailable, triggers.OutcomeNotFound, triggers.OutcomeBadMethod,
		triggers.OutcomeBadRequest,
	}
	for i, o := range outcomes {
		for range i + 1 { // outcome i is seen i+1 times
			m.ObserveWebhook("orders", o, 3*time.Millisecond)
		}
	}
	m.ObserveWebhook("", triggers.OutcomeNotFound, 0)
	m.ObserveStep("orders", "http", "ok", 20*time.Millisecond)
	m.ObserveStep("orders", "http", "retryable", 2*time.Second)
	m.ObserveStep("orders", "log", "skipped", 0)
	m.ObserveRun("orders", engine.StatusSucceeded, 2*time.Second)
	m.ObserveRun("orders", engine.StatusDead, time.Minute)
	m.ObserveRun("payments", engine.StatusDead, time.Minute)
	for _, s := range []int{200, 204, 302, 404, 429, 503, 0} {
		m.ObserveDelivery(s)
	}
	m.PluginRestarted("crm")
	m.PluginRestarted("crm")
	m.ObserveCommit(8, 3*time.Millisecond)
	m.ObserveCommit(1, time.Millisecond)
	if v := value(f.scrape(), "hookflow_workflow_reload_ok", ""); v != 1 {
		t.Errorf("hookflow_workflow_reload_ok before any reload = %v, want 1", v)
	}
	m.ObserveReload(true)
	m.ObserveReload(false)

	fams := f.scrape()
	want := []struct {
		name, labels string
		value        float64
	}{
		{"hookflow_webhooks_total", "outcome=accepted,workflow=orders", 1},
		{"hookflow_webhooks_total", "outcome=duplicate,workflow=orders", 2},
		{"hookflow_webhooks_total", "outcome=filtered,workflow=orders", 3},
		{"hookflow_webhooks_total", "outcome=bad_signature,workflow=orders", 4},
		{"hookflow_webhooks_total", "outcome=too_large,workflow=orders", 5},
		{"hookflow_webhooks_total", "outcome=unavailable,workflow=orders", 6},
		{"hookflow_webhooks_total", "outcome=not_found,workflow=orders", 7},
		{"hookflow_webhooks_total", "outcome=method_not_allowed,workflow=orders", 8},
		{"hookflow_webhooks_total", "outcome=bad_request,workflow=orders", 9},
		{"hookflow_webhooks_total", "outcome=not_found,workflow=", 1},
		{"hookflow_ack_seconds", "workflow=orders", 3}, // accepted + duplicates only
		{"hookflow_step_attempts_total", "action=http,outcome=ok", 1},
		{"hookflow_step_attempts_total", "action=http,outcome=retryable", 1},
		{"hookflow_step_attempts_total", "action=log,outcome=skipped", 1},
		{"hookflow_step_seconds", "action=http", 2},
		{"hookflow_step_seconds", "action=log", -1}, // a skipped step took no time
		{"hookflow_runs_finished_total", "status=succeeded,workflow=orders", 1},
		{"hookflow_runs_finished_total", "status=dead,workflow=orders", 1},
		{"hookflow_runs_finished_total", "status=dead,workflow=payments", 1},
		{"hookflow_run_seconds", "status=dead,workflow=orders", 1},
		{"hookflow_deliveries_total", "class=2xx", 2},
		{"hookflow_deliveries_total", "class=3xx", 1},
		{"hookflow_deliveries_total", "class=4xx", 2},
		{"hookflow_deliveries_total", "class=5xx", 1},
		{"hookflow_deliveries_total", "class=error", 1},
		{"hookflow_plugin_restarts_total", "plugin=crm", 2},
		{"hookflow_store_commit_seconds", "", 2},
		{"hookflow_store_commit_batch_size", "", 2},
		{"hookflow_workflow_reloads_total", "result=ok", 1},
		{"hookflow_workflow_reloads_total", "result=error", 1},
		{"hookflow_workflow_reload_ok", "", 0},
	}
	for _, w := range want {
		if got := value(fams, w.name, w.labels); got != w.value {
			t.Errorf("%s{%s} = %v, want %v", w.name, w.labels, got, w.value)
		}
	}
	if h := sample(fams, "hookflow_store_commit_batch_size", "").GetHistogram(); h.GetSampleSum() != 9 {
		t.Errorf("commit batch size sum = %v, want 9", h.GetSampleSum())
	}
	if h := sample(fams, "hookflow_run_seconds", "status=succeeded,workflow=orders").GetHistogram(); h.GetSampleSum() != 2 {
		t.Errorf("run seconds sum = %v, want 2", h.GetSampleSum())
	}
	if fams["hookflow_queue_depth"] != nil {
		t.Error("hookflow_queue_depth exported without a store that can count its queue")
	}
}

func TestMetricsNilSafe(t *testing.T) {
	t.Parallel()
	var m *admin.Metrics
	m.ObserveWebhook("w", "accepted", time.Millisecond)
	m.ObserveStep("w", "http", "ok", time.Millisecond)
	m.ObserveRun("w", engine.StatusDead, time.Second)
	m.ObserveDelivery(200)
	m.PluginRestarted("p")
	m.ObserveCommit(1, time.Millisecond)
	m.ObserveReload(false)
	if m.WatchStore(nil) {
		t.Error("nil Metrics watches a store")
	}
	// Unregistered metrics work too.
	admin.NewMetrics(nil).ObserveRun("w", engine.StatusDead, time.Second)
}

func TestDeliveryClass(t *testing.T) {
	t.Parallel()
	for status, want := range map[int]string{0: "error", 199: "error", 200: "2xx", 299: "2xx", 301: "3xx", 400: "4xx", 499: "4xx", 500: "5xx", 599: "5xx", 600: "error", -1: "error"} {
		if got := admin.DeliveryClass(status); got != want {
			t.Errorf("DeliveryClass(%d) = %s, want %s", status, got, want)
		}
	}
}

// depther gives the bolt store a QueueDepther by counting through List, as
// a store with a status index would answer directly.
type depther struct {
	*boltstore.Store
	err error
}

func (d depther) QueueDepth(ctx context.Context) (map[engine.Status]int, error) {
	if d.err != nil {
		return nil, d.err
	}
	out := map[engine.Status]int{}
	for _, st := range []engine.Status{engine.StatusQueued, engine.StatusRetrying, engine.StatusRunning} {
		f := engine.ListFilter{Status: st, Limit: 1000}
		for {
			runs, next, err := d.List(ctx, f)
			if err != nil {
				return nil, err
			}
			out[st] += len(runs)
			if next == "" {
				break
			}
			f.Cursor = next
		}
	}
	return out, nil
}

func TestQueueDepth(t *testing.T) {
	t.Parallel()
	f := setup(t)
	if f.metrics.WatchStore(struct{ engine.Store }{f.store}) {
		t.Fatal("WatchStore reports a QueueDepther for a store that is none")
	}
	if !f.metrics.WatchStore(depther{Store: f.store}) {
		t.Fatal("WatchStore did not take a QueueDepther")
	}
	fams := f.scrape()
	for _, st := range []string{"queued", "retrying", "running"} {
		if got := value(fams, "hookflow_queue_depth", "state="+st); got != 0 {
			t.Errorf("empty store: queue depth %s = %v, want 0", st, got)
		}
	}

	for i := range 3 {
		f.enqueue(f.newRun("orders", base.Add(time.Duration(i)*time.Second)))
	}
	f.runIn("orders", base.Add(time.Minute), engine.Update{})
	f.runIn("orders", base.Add(2*time.Minute), engine.Update{Status: engine.StatusRetrying, DueAt: base.Add(3000 * time.Hour)})
	f.runIn("orders", base.Add(3*time.Minute), engine.Update{Status: engine.StatusSucceeded})
	fams = f.scrape()
	for st, want := range map[string]float64{"queued": 3, "retrying": 1, "running": 1} {
		if got := value(fams, "hookflow_queue_depth", "state="+st); got != want {
			t.Errorf("queue depth %s = %v, want %v", st, got, want)
		}
	}

	// A failing store leaves the gauge out of the scrape, not the scrape.
	f.metrics.WatchStore(depther{Store: f.store, err: errors.New("disk on fire")})
	fams = f.scrape()
	if fams["hookflow_queue_depth"] != nil {
		t.Error("queue depth exported although the store failed")
	}
	if fams["hookflow_deliveries_total"] == nil {
		t.Error("a failing queue depth hid the other metrics")
	}
}

// TestMetricsWiredToTriggerAndEngine wires Metrics as the Observer of a
// real webhook listener and a real engine over one bbolt store, as the
// daemon does, and checks what a scrape shows after real traffic.
func TestMetricsWiredToTriggerAndEngine(t *testing.T) {
	t.Parallel()
	f := setup(t)
	set := loadWorkflows(t, filepath.Join("testdata", "engine"))
	f.set.Store(set)
	reg := actions.NewRegistry()
	if err := actions.RegisterBuiltins(reg, actions.NetOptions{Logger: slog.New(slog.DiscardHandler)}); err != nil {
		t.Fatal(err)
	}
	eng, err := engine.New(engine.Options{
		Store: f.store, Workflows: set, Actions: reg, Observer: f.metrics,
		Workers: 2, PollInterval: 20 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(f.ctx)
	engineDone := make(chan error, 1)
	go func() { engineDone <- eng.Run(ctx) }()
	t.Cleanup(func() {
		stop()
		if err := <-engineDone; err != nil {
			t.Errorf("engine: %v", err)
		}
	})

	hooks, err := triggers.New(triggers.Options{Store: f.store, Workflows: set, Observer: f.metrics, Enqueued: eng.Wake})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go hooks.Serve(ln)
	t.Cleanup(func() {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		hooks.Shutdown(sctx)
	})
	send := func(method, path, body string, want int) {
		t.Helper()
		req, _ := http.NewRequestWithContext(f.ctx, method, "http://"+ln.Addr().String()+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Fatalf("%s %s %s = %d, want %d", method, path, body, resp.StatusCode, want)
		}
	}
	send("POST", "/hooks/signup", `{"type":"user.created","id":"u1"}`, http.StatusAccepted)
	send("POST", "/hooks/signup", `{"type":"user.created","id":"u1"}`, http.StatusOK) // duplicate
	send("POST", "/hooks/signup", `{"type":"user.deleted","id":"u2"}`, http.StatusOK) // filtered
	send("POST", "/hooks/nowhere", `{}`, http.StatusNotFound)
	send("GET", "/hooks/signup", ``, http.StatusMethodNotAllowed)

	// Wait for the run to finish.
	deadline := time.Now().Add(10 * time.Second)
	for {
		page, _, err := f.store.List(f.ctx, engine.ListFilter{Workflow: "signup"})
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 1 && page[0].Status.Final() {
			if page[0].Status != engine.StatusSucceeded {
				t.Fatalf("run ended %s: %s", page[0].Status, page[0].Error)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the run did not finish: %+v", page)
		}
		time.Sleep(10 * time.Millisecond)
	}
	// ObserveRun is called after the final Record returns: poll the scrape.
	var fams map[string]*dto.MetricFamily
	for {
		fams = f.scrape()
		if value(fams, "hookflow_runs_finished_total", "status=succeeded,workflow=signup") == 1 || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	for _, w := range []struct {
		name, labels string
		value        float64
	}{
		{"hookflow_webhooks_total", "outcome=accepted,workflow=signup", 1},
		{"hookflow_webhooks_total", "outcome=duplicate,workflow=signup", 1},
		{"hookflow_webhooks_total", "outcome=filtered,workflow=signup", 1},
		{"hookflow_webhooks_total", "outcome=not_found,workflow=", 1},
		{"hookflow_webhooks_total", "outcome=method_not_allowed,workflow=signup", 1},
		{"hookflow_ack_seconds", "workflow=signup", 2},
		{"hookflow_runs_finished_total", "status=succeeded,workflow=signup", 1},
		{"hookflow_step_attempts_total", "action=set,outcome=ok", 1},
		{"hookflow_step_attempts_total", "action=log,outcome=ok", 1},
		{"hookflow_step_attempts_total", "action=log,outcome=skipped", 1},
	} {
		if got := value(fams, w.name, w.labels); got != w.value {
			t.Errorf("%s{%s} = %v, want %v", w.name, w.labels, got, w.value)
		}
	}
	if t.Failed() {
		_, body := f.requestAs("", "GET", "/metrics")
		t.Logf("%s", body)
	}
}

func TestMetricsDisabled(t *testing.T) {
	t.Parallel()
	f := setup(t, func(o *admin.Options) { o.Registry = nil })
	f.wantError("GET", "/metrics", http.StatusNotFound, admin.CodeNotFound)
}

// BenchmarkObserveWebhook is the cost Metrics adds to every acknowledged
// webhook.
func BenchmarkObserveWebhook(b *testing.B) {
	m := admin.NewMetrics(nil)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			m.ObserveWebhook("orders", triggers.OutcomeAccepted, 2*time.Millisecond)
		}
	})
}
