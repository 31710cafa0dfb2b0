package main

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookflow/hookflow/actions"
	"github.com/hookflow/hookflow/engine"
	"github.com/hookflow/hookflow/workflows"
)

// readSecret reads one of the examples' demo secrets.
func readSecret(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "examples", "secrets", name))
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

// copyExample copies an example workflow into dir, replacing its example
// hosts with local servers.
func copyExample(t *testing.T, dir, name string, replace map[string]string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "examples", "workflows", name))
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	for from, to := range replace {
		if !strings.Contains(s, from) {
			t.Fatalf("%s does not mention %s", name, from)
		}
		s = strings.ReplaceAll(s, from, to)
	}
	if err := os.WriteFile(filepath.Join(dir, name), []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}

func testLogger(t *testing.T) (*slog.Logger, *syncBuffer) {
	buf := &syncBuffer{}
	return slog.New(slog.NewJSONHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug})), buf
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// execCLI runs the hookflow command line in-process.
func execCLI(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd := newRootCmd()
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	cmd.SetArgs(args)
	err := cmd.ExecuteContext(context.Background())
	return out.String(), err
}

func TestExamplesValidate(t *testing.T) {
	t.Parallel()
	out, err := execCLI(t, "validate", filepath.Join("..", "..", "examples", "workflows"))
	if err != nil {
		t.Fatalf("examples do not validate: %v\n%s", err, out)
	}
	if !strings.HasPrefix(out, "ok: ") {
		t.Errorf("summary %q", out)
	}
}

// TestStripeExampleEndToEnd: a Stripe-signed event (sent with `hookflow
// send`) → 202 → the http step reaches the billing service → the webhook
// step delivers a Standard-Webhooks-signed POST that the partner's receiver
// verifies with its own code.
func TestStripeExampleEndToEnd(t *testing.T) {
	t.Parallel()
	billingToken := readSecret(t, "BILLING_TOKEN")
	partnerKey, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(readSecret(t, "PARTNER_WEBHOOK_SECRET"), "whsec_"))
	if err != nil {
		t.Fatal(err)
	}

	type activation struct{ path, auth, key, plan string }
	activations := make(chan activation, 4)
	billing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var in struct{ Plan string }
		json.NewDecoder(r.Body).Decode(&in)
		activations <- activation{r.URL.Path, r.Header.Get("Authorization"), r.Header.Get("Idempotency-Key"), in.Plan}
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"active":true}`)
	}))
	t.Cleanup(billing.Close)

	type delivery struct {
		valid bool
		body  map[string]any
	}
	deliveries := make(chan delivery, 4)
	partner := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mac := hmac.New(sha256.New, partnerKey)
		fmt.Fprintf(mac, "%s.%s.%s", r.Header.Get("webhook-id"), r.Header.Get("webhook-timestamp"), body)
		want := "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
		d := delivery{}
		for _, sig := range strings.Fields(r.Header.Get("webhook-signature")) {
			d.valid = d.valid || hmac.Equal([]byte(sig), []byte(want))
		}
		json.Unmarshal(body, &d.body)
		deliveries <- d
	}))
	t.Cleanup(partner.Close)

	dir := t.TempDir()
	copyExample(t, dir, "stripe-activate.yaml", map[string]string{
		"https://billing.example.com":       billing.URL,
		"https://partner.example.com/hooks": partner.URL + "/hooks",
	})
	log, logs := testLogger(t)
	d, err := startDaemon(context.Background(), daemonConfig{
		Workflows: dir, Data: t.TempDir(), Secrets: filepath.Join("..", "..", "examples", "secrets"),
		Addr: "127.0.0.1:0", Workers: 4, AllowPrivate: true, Grace: time.Second,
	}, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Shutdown(context.Background()) })

	out, err := execCLI(t, "send", "http://"+d.Addr()+"/hooks/stripe", "--scheme", "stripe",
		"--secret-file", filepath.Join("..", "..", "examples", "secrets", "STRIPE_WEBHOOK_SECRET"),
		"--body", filepath.Join("..", "..", "examples", "events", "stripe-invoice-paid.json"))
	if err != nil || !strings.Contains(out, "202") {
		t.Fatalf("send: %v\n%s", err, out)
	}
	var ack struct {
		RunID string `json:"run_id"`
	}
	json.Unmarshal([]byte(out[strings.Index(out, "{"):]), &ack)

	select {
	case a := <-activations:
		if a.path != "/accounts/cus_Qdemo0001/activate" || a.auth != "Bearer "+billingToken || a.plan != "price_pro_monthly" {
			t.Errorf("billing got %+v", a)
		}
		if a.key != ack.RunID+"/activate" {
			t.Errorf("Idempotency-Key %q, want %s/activate", a.key, ack.RunID)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the http step never reached the billing service")
	}
	select {
	case got := <-deliveries:
		if !got.valid {
			t.Error("the partner could not verify the Standard Webhooks signature")
		}
		data, _ := got.body["data"].(map[string]any)
		if got.body["type"] != "account.activated" || data["customer"] != "cus_Qdemo0001" {
			t.Errorf("partner got %v", got.body)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the webhook step never reached the partner")
	}

	run := waitRun(t, d.store, ack.RunID)
	if run.Status != engine.StatusSucceeded {
		t.Fatalf("run %s: %s", run.Status, run.Error)
	}
	if !strings.Contains(logs.String(), "DEMO values") {
		t.Error("the daemon did not warn that the secrets are demo values")
	}
	for _, s := range []string{billingToken, readSecret(t, "PARTNER_WEBHOOK_SECRET"), readSecret(t, "STRIPE_WEBHOOK_SECRET")} {
		if strings.Contains(logs.String(), s) {
			t.Error("a secret reached the log")
		}
		b, _ := json.Marshal(run.Steps)
		if strings.Contains(string(b), s) {
			t.Error("a secret reached the run record")
		}
	}
}

func waitRun(t *testing.T, store engine.Store, id string) *engine.Run {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		r, err := store.Get(context.Background(), id)
		if err == nil && r.Status.Final() {
			return r
		}
		if time.Now().After(deadline) {
			t.Fatalf("run %s not final in time (%v, %v)", id, r, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestRunCommand runs the orders example once in-process.
func TestRunCommand(t *testing.T) {
	t.Parallel()
	reg := actions.NewRegistry()
	if err := actions.RegisterBuiltins(reg, actions.NetOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := workflows.Load(workflows.Options{Actions: reg}, filepath.Join("..", "..", "examples", "workflows", "orders.yaml")); err != nil {
		t.Fatal(err)
	}
	out, err := execCLI(t, "run", "orders", "--workflows", filepath.Join("..", "..", "examples", "workflows"),
		"--secrets", filepath.Join("..", "..", "examples", "secrets"),
		"--event", filepath.Join("..", "..", "examples", "events", "order-small.json"))
	if err != nil {
		t.Fatalf("run: %v\n%s", err, out)
	}
	for _, want := range []string{
		"step classify (set): succeeded after 1 attempt",
		`"order": "ord_1002"`,
		"step big_order (webhook): skipped",
		"step small_order (log): succeeded",
		": succeeded\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}
