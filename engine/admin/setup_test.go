package admin_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/hookflow/hookflow/engine"
	"github.com/hookflow/hookflow/engine/admin"
	"github.com/hookflow/hookflow/engine/boltstore"
	"github.com/hookflow/hookflow/workflows"
)

// canary is a secret value that must never appear in an answer.
const canary = "canary-7f3a9e-s3cret"

// base is the tests' reference time.
var base = time.Date(2031, 5, 6, 7, 8, 9, 0, time.UTC)

// fixture is one admin server on a real listener over a real bbolt file.
type fixture struct {
	t       *testing.T
	ctx     context.Context
	store   *boltstore.Store
	srv     *admin.Server
	url     string
	token   string
	set     atomic.Pointer[workflows.Set]
	reg     *prometheus.Registry
	metrics *admin.Metrics
	woken   atomic.Int32
	seq     atomic.Int64
}

// setup starts a server; tune adjusts its options before New.
func setup(t *testing.T, tune ...func(*admin.Options)) *fixture {
	t.Helper()
	f := &fixture{t: t, ctx: t.Context(), reg: prometheus.NewRegistry()}
	store, err := boltstore.Open(t.Context(), boltstore.Options{Path: filepath.Join(t.TempDir(), "hookflow.db"), NoSync: true})
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { store.Close() })
	f.store = store
	f.set.Store(loadWorkflows(t, "testdata/workflows"))
	f.metrics = admin.NewMetrics(f.reg)

	opts := admin.Options{
		Store:     store,
		Workflows: f.set.Load,
		Enqueued:  func() { f.woken.Add(1) },
		Redact:    engine.NewRedactor(map[string]string{"ORDERS_SECRET": canary}).String,
		Registry:  f.reg,
	}
	for _, fn := range tune {
		fn(&opts)
	}
	f.token = opts.Token
	f.srv, err = admin.New(opts)
	if err != nil {
		t.Fatalf("admin.New: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- f.srv.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := f.srv.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
		// A test that ends before Serve got going would leave it waiting on
		// a listener nobody shuts: closing it ends Serve either way.
		ln.Close()
		select {
		case <-served:
		case <-ctx.Done():
			t.Error("Serve did not return after Shutdown")
		}
	})
	f.url = "http://" + ln.Addr().String()
	return f
}

func loadWorkflows(t *testing.T, paths ...string) *workflows.Set {
	t.Helper()
	set, err := workflows.Load(workflows.Options{}, paths...)
	if err != nil {
		t.Fatalf("load workflows: %v", err)
	}
	return set
}

// client returns an admin.Client for the fixture's server and token.
func (f *fixture) client() *admin.Client {
	f.t.Helper()
	c, err := admin.NewClient(f.url, f.token, nil)
	if err != nil {
		f.t.Fatal(err)
	}
	return c
}

// request sends a request with the fixture's token and returns the status
// and body.
func (f *fixture) request(method, path string) (int, []byte) {
	f.t.Helper()
	return f.requestAs(f.token, method, path)
}

func (f *fixture) requestAs(token, method, path string) (int, []byte) {
	f.t.Helper()
	req, err := http.NewRequestWithContext(f.ctx, method, f.url+path, nil)
	if err != nil {
		f.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		f.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		f.t.Fatal(err)
	}
	return resp.StatusCode, body
}

// getJSON requests path, wants status want, and decodes the answer into out.
func (f *fixture) getJSON(method, path string, want int, out any) {
	f.t.Helper()
	status, body := f.request(method, path)
	if status != want {
		f.t.Fatalf("%s %s = %d %s, want %d", method, path, status, body, want)
	}
	if out != nil {
		if err := json.Unmarshal(body, out); err != nil {
			f.t.Fatalf("%s %s: decode %s: %v", method, path, body, err)
		}
	}
}

// wantError checks an error answer: its status and its stable shape.
func (f *fixture) wantError(method, path string, status int, code string) admin.APIError {
	f.t.Helper()
	got, body := f.request(method, path)
	if got != status {
		f.t.Fatalf("%s %s = %d %s, want %d", method, path, got, body, status)
	}
	return decodeError(f.t, body, code)
}

func decodeError(t *testing.T, body []byte, code string) admin.APIError {
	t.Helper()
	var shape map[string]map[string]string
	if err := json.Unmarshal(body, &shape); err != nil || len(shape) != 1 || len(shape["error"]) != 2 {
		t.Fatalf("error answer %s: want exactly {\"error\":{\"code\":...,\"message\":...}}", body)
	}
	e := admin.APIError{Code: shape["error"]["code"], Message: shape["error"]["message"]}
	if e.Code != code || e.Message == "" {
		t.Fatalf("error answer %s: want code %q and a message", body, code)
	}
	return e
}

// idAt returns a UUIDv7-shaped run id for created; n tells apart ids of
// the same millisecond.
func idAt(created time.Time, n int64) string {
	ms := created.UnixMilli()
	return fmt.Sprintf("%08x-%04x-7000-8000-%012x", ms>>16, ms&0xffff, n)
}

// newRun returns a queued run of workflow created at created, due far in
// the future unless claimed by progress. Its event carries signature
// headers holding the canary.
func (f *fixture) newRun(workflow string, created time.Time) *engine.Run {
	n := f.seq.Add(1)
	return &engine.Run{
		ID:              idAt(created, n),
		Workflow:        workflow,
		WorkflowVersion: "0123456789ab",
		Status:          engine.StatusQueued,
		CreatedAt:       created,
		UpdatedAt:       created,
		DueAt:           created.Add(1000 * time.Hour),
		DedupeKey:       fmt.Sprintf("evt-%d", n),
		DedupeUntil:     created.Add(24 * time.Hour),
		Event: engine.Event{
			ID:     fmt.Sprintf("evt-%d", n),
			Method: "POST",
			Path:   workflow,
			Headers: map[string]string{
				"content-type":     "application/json",
				"stripe-signature": "t=1,v1=" + canary,
				"authorization":    "Bearer " + canary,
				"x-orders-mac":     "9f86d081884c7d659a2feaa0c55ad015",
				"user-agent":       "shop/1.0",
			},
			Query:       map[string]string{"key": canary, "page": "1"},
			ContentType: "application/json",
			Body:        []byte(`{"id":"ord_1","note":"contains ` + canary + `"}`),
			ReceivedAt:  created,
		},
	}
}

// enqueue stores runs and returns their ids.
func (f *fixture) enqueue(runs ...*engine.Run) []string {
	f.t.Helper()
	res, err := f.store.Enqueue(f.ctx, runs...)
	if err != nil {
		f.t.Fatalf("Enqueue: %v", err)
	}
	ids := make([]string, len(res))
	for i, r := range res {
		ids[i] = r.RunID
	}
	return ids
}

// runIn enqueues a run of workflow created at created, claims it (it is the
// only run due then: runs left queued are due far later) and, when
// u.Status is set, records u at created+1m. It returns the run's id.
func (f *fixture) runIn(workflow string, created time.Time, u engine.Update) string {
	f.t.Helper()
	r := f.newRun(workflow, created)
	r.DueAt = created
	id := f.enqueue(r)[0]
	claimed, err := f.store.Claim(f.ctx, engine.ClaimRequest{Owner: "worker-1", Max: 1, LeaseFor: time.Hour, Now: created})
	if err != nil {
		f.t.Fatalf("Claim: %v", err)
	}
	if len(claimed.Runs) != 1 || claimed.Runs[0].ID != id {
		f.t.Fatalf("Claim got %d runs, want run %s alone", len(claimed.Runs), id)
	}
	if u.Status != "" {
		u.At = created.Add(time.Minute)
		if err := f.store.Record(f.ctx, id, claimed.Runs[0].Lease, u); err != nil {
			f.t.Fatalf("Record: %v", err)
		}
	}
	return id
}

// deadStep is a failed step whose error and details hold the canary.
func deadStep() *engine.StepRecord {
	return &engine.StepRecord{
		ID:     "notify",
		Uses:   "http",
		Status: engine.StepFailed,
		Error:  "POST https://partner.example/hooks?token=" + canary + ": 500 Internal Server Error",
		Attempts: []engine.Attempt{{
			Number:     1,
			StartedAt:  base.Add(time.Minute),
			DurationMS: 12.5,
			Outcome:    "permanent",
			Error:      "500 Internal Server Error: " + canary,
			Details:    map[string]any{"status": float64(500), "response": "bad key " + canary},
		}},
		Outputs: map[string]any{"echo": []any{canary, "plain"}},
	}
}

// contains reports whether any answer body holds s.
func contains(bodies [][]byte, s string) bool {
	for _, b := range bodies {
		if strings.Contains(string(b), s) {
			return true
		}
	}
	return false
}
