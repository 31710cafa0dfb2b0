package triggers_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookflow/hookflow/actions"
	"github.com/hookflow/hookflow/engine"
	"github.com/hookflow/hookflow/engine/boltstore"
	"github.com/hookflow/hookflow/triggers"
	"github.com/hookflow/hookflow/triggers/signature"
	"github.com/hookflow/hookflow/workflows"
)

var secrets = map[string]string{
	"STRIPE_OLD": "whsec_old_canary_1d9f0c",
	"STRIPE_NEW": "whsec_new_canary_8e2a4b",
	"STANDARD":   "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
	"SLACK":      "slack-canary-5c0e77",
}

type fixture struct {
	url   string
	store *boltstore.Store
}

func setup(t *testing.T) *fixture {
	t.Helper()
	return setupWith(t, nil)
}

// setupWith serves the test workflows; wrap, when set, stands between the
// server and the store.
func setupWith(t *testing.T, wrap func(*boltstore.Store) triggers.Enqueuer) *fixture {
	t.Helper()
	reg := actions.NewRegistry()
	if err := actions.RegisterBuiltins(reg, actions.NetOptions{}); err != nil {
		t.Fatal(err)
	}
	set, err := workflows.Load(workflows.Options{Actions: reg}, "testdata")
	if err != nil {
		t.Fatal(err)
	}
	store, err := boltstore.Open(context.Background(), boltstore.Options{Path: t.TempDir() + "/runs.db"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	var enq triggers.Enqueuer = store
	if wrap != nil {
		enq = wrap(store)
	}
	srv, err := triggers.New(triggers.Options{Store: enq, Workflows: set, Secrets: secrets})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Shutdown(context.Background()) })
	return &fixture{url: "http://" + ln.Addr().String(), store: store}
}

type answer struct {
	status int
	header http.Header
	body   map[string]any
	raw    string
}

func (f *fixture) send(t *testing.T, method, path, contentType string, body []byte, hdr map[string]string) answer {
	t.Helper()
	req, err := http.NewRequest(method, f.url+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", contentType)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	a := answer{status: resp.StatusCode, header: resp.Header, raw: string(raw)}
	json.Unmarshal(raw, &a.body)
	return a
}

func sign(t *testing.T, scheme, secret string, body []byte, id string, at time.Time) map[string]string {
	t.Helper()
	s, err := signature.New(scheme, signature.Options{})
	if err != nil {
		t.Fatal(err)
	}
	h, err := s.Sign(signature.Message{Body: body, ID: id, Timestamp: at}, secret)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func (f *fixture) runs(t *testing.T) []*engine.Run {
	t.Helper()
	runs, _, err := f.store.List(context.Background(), engine.ListFilter{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	return runs
}

func stripeEvent(id, typ string) []byte {
	return []byte(fmt.Sprintf(`{"id":%q,"type":%q,"data":{"object":{"customer":"cus_1"}}}`, id, typ))
}

func TestAcceptedEventIsStoredBeforeTheAck(t *testing.T) {
	t.Parallel()
	f := setup(t)
	body := stripeEvent("evt_1", "invoice.payment_succeeded")
	a := f.send(t, "POST", "/hooks/stripe?src=test", "application/json", body,
		sign(t, "stripe", secrets["STRIPE_NEW"], body, "", time.Now()))
	if a.status != http.StatusAccepted || a.body["status"] != "queued" {
		t.Fatalf("answer %d %s, want 202 queued", a.status, a.raw)
	}
	id, _ := a.body["run_id"].(string)
	if want := `{"run_id":"` + id + `","status":"queued"}`; a.raw != want || a.header.Get("Content-Type") != "application/json" {
		t.Errorf("answer %q (%s), want %q (application/json)", a.raw, a.header.Get("Content-Type"), want)
	}
	run, err := f.store.Get(context.Background(), id)
	if err != nil {
		t.Fatalf("the acknowledged run is not in the store: %v", err)
	}
	if run.Workflow != "stripe-paid" || !bytes.Equal(run.Event.Body, body) || run.DedupeKey != "evt_1" {
		t.Errorf("stored run = workflow %q key %q body %q", run.Workflow, run.DedupeKey, run.Event.Body)
	}
	if run.Event.Headers["stripe-signature"] == "" || run.Event.Query["src"] != "test" || run.Event.ID != "evt_1" {
		t.Errorf("event headers/query/id not kept: %+v", run.Event)
	}
}

// countingStore counts the enqueues that copy the run and those that take
// it as it is.
type countingStore struct {
	*boltstore.Store
	copied, owned atomic.Int32
}

func (s *countingStore) Enqueue(ctx context.Context, runs ...*engine.Run) ([]engine.EnqueueResult, error) {
	s.copied.Add(1)
	return s.Store.Enqueue(ctx, runs...)
}

func (s *countingStore) EnqueueOwned(ctx context.Context, runs ...*engine.Run) ([]engine.EnqueueResult, error) {
	s.owned.Add(1)
	return s.Store.EnqueueOwned(ctx, runs...)
}

// copyingStore has Enqueue only.
type copyingStore struct{ triggers.Enqueuer }

// TestWebhookRunIsHandedOver: the server gives its run to a store that can
// take it without copying (the request was copied once already), and falls
// back to Enqueue for one that cannot.
func TestWebhookRunIsHandedOver(t *testing.T) {
	t.Parallel()
	counting := &countingStore{}
	for _, wrap := range []func(*boltstore.Store) triggers.Enqueuer{
		func(s *boltstore.Store) triggers.Enqueuer { counting.Store = s; return counting },
		func(s *boltstore.Store) triggers.Enqueuer { return copyingStore{s} },
	} {
		f := setupWith(t, wrap)
		body := stripeEvent(fmt.Sprintf("evt_%p", wrap), "invoice.payment_succeeded")
		a := f.send(t, "POST", "/hooks/stripe", "application/json", body,
			sign(t, "stripe", secrets["STRIPE_NEW"], body, "", time.Now()))
		if a.status != http.StatusAccepted {
			t.Fatalf("answer %d %s, want 202", a.status, a.raw)
		}
		run, err := f.store.Get(context.Background(), a.body["run_id"].(string))
		if err != nil || !bytes.Equal(run.Event.Body, body) {
			t.Fatalf("stored run %v, %v", run, err)
		}
	}
	if counting.owned.Load() != 1 || counting.copied.Load() != 0 {
		t.Errorf("EnqueueOwned called %d times, Enqueue %d: want 1 and 0", counting.owned.Load(), counting.copied.Load())
	}
}

func TestEveryRefusalStoresNothing(t *testing.T) {
	t.Parallel()
	f := setup(t)
	paid := stripeEvent("evt_2", "invoice.payment_succeeded")
	good := sign(t, "stripe", secrets["STRIPE_NEW"], paid, "", time.Now())
	other := stripeEvent("evt_3", "customer.created")
	big := stripeEvent(strings.Repeat("x", 5000), "invoice.payment_succeeded")
	stdBody := []byte(`{"kind":"ping"}`)

	tests := []struct {
		name        string
		method      string
		path        string
		body        []byte
		hdr         map[string]string
		wantStatus  int
		wantMessage string
	}{
		{"tampered body", "POST", "/hooks/stripe", append(bytes.Clone(paid[:len(paid)-1]), ' ', '}'), good, 401, "signature"},
		{"wrong secret", "POST", "/hooks/stripe", paid, sign(t, "stripe", "whsec_wrong", paid, "", time.Now()), 401, "signature"},
		{"missing signature", "POST", "/hooks/stripe", paid, nil, 401, "signature"},
		{"stale timestamp", "POST", "/hooks/stripe", paid, sign(t, "stripe", secrets["STRIPE_NEW"], paid, "", time.Now().Add(-10*time.Minute)), 401, "signature"},
		{"stale standard timestamp", "POST", "/hooks/in/standard", stdBody, sign(t, "standard", secrets["STANDARD"], stdBody, "msg_1", time.Now().Add(-2*time.Minute)), 401, "signature"},
		{"filtered out", "POST", "/hooks/stripe", other, sign(t, "stripe", secrets["STRIPE_NEW"], other, "", time.Now()), 200, ""},
		{"unknown path", "POST", "/hooks/nope", paid, good, 404, "no workflow"},
		{"outside /hooks", "POST", "/other", paid, good, 404, "not found"},
		{"wrong method", "GET", "/hooks/stripe", nil, nil, 405, "method GET not allowed"},
		{"over the workflow's max_body", "POST", "/hooks/stripe", big, sign(t, "stripe", secrets["STRIPE_NEW"], big, "", time.Now()), 413, "limit"},
	}
	for _, tc := range tests {
		a := f.send(t, tc.method, tc.path, "application/json", tc.body, tc.hdr)
		if a.status != tc.wantStatus {
			t.Errorf("%s: status %d (%s), want %d", tc.name, a.status, a.raw, tc.wantStatus)
			continue
		}
		if tc.wantMessage != "" && !strings.Contains(fmt.Sprint(a.body["error"]), tc.wantMessage) {
			t.Errorf("%s: error %q should mention %q", tc.name, a.body["error"], tc.wantMessage)
		}
		for _, s := range secrets {
			if strings.Contains(a.raw, s) {
				t.Errorf("%s: the answer echoes a secret", tc.name)
			}
		}
		if tc.name == "wrong method" && a.header.Get("Allow") != "POST" {
			t.Errorf("wrong method: Allow %q, want POST", a.header.Get("Allow"))
		}
		if tc.name == "filtered out" && a.body["status"] != "filtered" {
			t.Errorf("filtered: body %s", a.raw)
		}
	}
	// Over the listener's limit: refused from the Content-Length alone,
	// before the body is read (so the client sends none here).
	conn, err := net.Dial("tcp", strings.TrimPrefix(f.url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /hooks/stripe HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n", 2<<20)
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("2 MiB announced: status %d, want 413", resp.StatusCode)
	}

	if runs := f.runs(t); len(runs) != 0 {
		t.Errorf("refused requests stored %d runs", len(runs))
	}
}

func TestDuplicateDeliveryAndKeyRotation(t *testing.T) {
	t.Parallel()
	f := setup(t)
	body := stripeEvent("evt_dup", "invoice.payment_succeeded")
	// The same event, signed once with the old secret and once with the new
	// one (a rotation in progress): both verify; the second is a duplicate.
	first := f.send(t, "POST", "/hooks/stripe", "application/json", body, sign(t, "stripe", secrets["STRIPE_OLD"], body, "", time.Now()))
	second := f.send(t, "POST", "/hooks/stripe", "application/json", body, sign(t, "stripe", secrets["STRIPE_NEW"], body, "", time.Now()))
	if first.status != 202 || second.status != 200 || second.body["status"] != "duplicate" {
		t.Fatalf("answers %d %s / %d %s, want 202 then 200 duplicate", first.status, first.raw, second.status, second.raw)
	}
	if first.body["run_id"] != second.body["run_id"] {
		t.Errorf("duplicate names run %v, want the first run %v", second.body["run_id"], first.body["run_id"])
	}
	if n := len(f.runs(t)); n != 1 {
		t.Errorf("%d runs stored, want 1", n)
	}
}

func TestStandardWebhooksMethodsAndDeliveryID(t *testing.T) {
	t.Parallel()
	f := setup(t)
	body := []byte(`{"kind":"ping"}`)
	a := f.send(t, "PUT", "/hooks/in/standard", "application/json", body, sign(t, "standard", secrets["STANDARD"], body, "msg_abc", time.Now()))
	if a.status != 202 {
		t.Fatalf("PUT on a workflow allowing it: %d %s", a.status, a.raw)
	}
	again := f.send(t, "POST", "/hooks/in/standard", "application/json", body, sign(t, "standard", secrets["STANDARD"], body, "msg_abc", time.Now()))
	if again.body["status"] != "duplicate" {
		t.Errorf("same webhook-id again: %s, want duplicate", again.raw)
	}
}

func TestFormBodyFilterAndIdempotencyExpression(t *testing.T) {
	t.Parallel()
	f := setup(t)
	send := func(command, trigger string) answer {
		body := []byte("command=" + command + "&text=api&trigger_id=" + trigger)
		return f.send(t, "POST", "/hooks/slack", "application/x-www-form-urlencoded", body,
			sign(t, "slack", secrets["SLACK"], body, "", time.Now()))
	}
	if a := send("%2Fdeploy", "t1"); a.status != 202 {
		t.Fatalf("slash command: %d %s", a.status, a.raw)
	}
	if a := send("%2Fdeploy", "t1"); a.body["status"] != "duplicate" {
		t.Errorf("same trigger_id: %s, want duplicate", a.raw)
	}
	if a := send("%2Fhelp", "t2"); a.body["status"] != "filtered" {
		t.Errorf("other command: %s, want filtered", a.raw)
	}
	runs := f.runs(t)
	if len(runs) != 1 || runs[0].DedupeKey != "t1" {
		t.Fatalf("runs = %d, want one keyed t1", len(runs))
	}
	if until := runs[0].DedupeUntil.Sub(runs[0].CreatedAt); until != time.Hour {
		t.Errorf("dedupe window %v, want the workflow's 1h", until)
	}
}

func TestClosedStoreAnswers503(t *testing.T) {
	t.Parallel()
	f := setup(t)
	f.store.Close()
	body := stripeEvent("evt_503", "invoice.payment_succeeded")
	a := f.send(t, "POST", "/hooks/stripe", "application/json", body, sign(t, "stripe", secrets["STRIPE_NEW"], body, "", time.Now()))
	if a.status != http.StatusServiceUnavailable || a.header.Get("Retry-After") == "" {
		t.Fatalf("answer %d (Retry-After %q), want 503 with Retry-After", a.status, a.header.Get("Retry-After"))
	}
}
