package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hookflow/hookflow/engine"
)

// TestMaxQueuedAnswers503: with --max-queued, a queue that outgrows the
// engine turns into backpressure (503 and Retry-After, nothing stored), and
// webhooks are accepted again once the engine catches up.
func TestMaxQueuedAnswers503(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-release // the engine's one worker stays busy until the test lets go
	}))
	t.Cleanup(receiver.Close)
	var once bool
	letGo := func() {
		if !once {
			once = true
			close(release)
		}
	}
	t.Cleanup(letGo)

	dir := t.TempDir()
	wf := fmt.Sprintf(`name: slow
on:
  webhook:
    path: slow
    signature:
      scheme: none
steps:
  - id: call
    uses: http
    with:
      url: %s
`, receiver.URL)
	if err := os.WriteFile(filepath.Join(dir, "slow.yaml"), []byte(wf), 0o600); err != nil {
		t.Fatal(err)
	}
	log, logs := testLogger(t)
	d, err := startDaemon(context.Background(), daemonConfig{
		Workflows: dir, Data: t.TempDir(), Addr: "127.0.0.1:0", Workers: 1, MaxQueued: 1,
		AllowPrivate: true, Grace: time.Second,
	}, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Shutdown(context.Background()) })

	send := func() (int, string, string) {
		t.Helper()
		resp, err := http.Post("http://"+d.Addr()+"/hooks/slow", "application/json", strings.NewReader(`{}`))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var a struct {
			RunID string `json:"run_id"`
		}
		json.NewDecoder(resp.Body).Decode(&a)
		return resp.StatusCode, a.RunID, resp.Header.Get("Retry-After")
	}
	code, first, _ := send()
	if code != http.StatusAccepted {
		t.Fatalf("first webhook: %d", code)
	}
	// Wait until the one worker holds the first run: it no longer waits.
	deadline := time.Now().Add(10 * time.Second)
	for {
		r, err := d.store.Get(context.Background(), first)
		if err == nil && r.Status == engine.StatusRunning {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the first run never started: %v %v", r, err)
		}
		time.Sleep(5 * time.Millisecond)
	}
	code, second, _ := send()
	if code != http.StatusAccepted {
		t.Fatalf("second webhook (the queue has room for one): %d", code)
	}
	for range 3 {
		code, _, retry := send()
		if code != http.StatusServiceUnavailable || retry == "" {
			t.Fatalf("webhook with one run waiting: %d, Retry-After %q; want 503 with Retry-After", code, retry)
		}
	}
	if n := strings.Count(logs.String(), "queue full"); n != 1 {
		t.Errorf("three refused webhooks logged %d queue-full lines, want 1 (at most every 10s)", n)
	}
	if runs, _, err := d.store.List(context.Background(), engine.ListFilter{}); err != nil || len(runs) != 2 {
		t.Fatalf("stored runs after the refusal: %d, %v; want 2", len(runs), err)
	}

	letGo()
	for _, id := range []string{first, second} {
		if r := waitRun(t, d.store, id); r.Status != engine.StatusSucceeded {
			t.Errorf("run %s: %s %s", id, r.Status, r.Error)
		}
	}
	if code, _, _ := send(); code != http.StatusAccepted {
		t.Errorf("webhook after the engine caught up: %d, want 202", code)
	}
}
