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
)

const reloadWorkflow = `name: greet
on:
  webhook:
    path: greet
    signature: { scheme: none }
steps:
  - id: wait
    uses: http
    with: { url: "%s" }
  - id: say
    uses: set
    with: { greeting: "%s" }
`

func postJSON(t *testing.T, url, body string) (int, map[string]any) {
	t.Helper()
	resp, err := http.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	json.NewDecoder(resp.Body).Decode(&m)
	return resp.StatusCode, m
}

// TestReload: a valid change is picked up from the folder; an invalid one is
// refused while the old set keeps answering; a run accepted before a reload
// finishes with its original definition.
func TestReload(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	gate := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(gate.Close)
	t.Cleanup(func() {
		select {
		case <-release:
		default:
			close(release)
		}
	})

	dir := t.TempDir()
	file := filepath.Join(dir, "greet.yaml")
	write := func(content string) {
		t.Helper()
		if err := os.WriteFile(file, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(fmt.Sprintf(reloadWorkflow, gate.URL, "hello"))
	log, logs := testLogger(t)
	d, err := startDaemon(context.Background(), daemonConfig{
		Workflows: dir, Data: t.TempDir(), Addr: "127.0.0.1:0", Workers: 4, AllowPrivate: true, Grace: time.Second,
	}, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Shutdown(context.Background()) })
	base := "http://" + d.Addr() + "/hooks/"

	// A run accepted under version 1 is blocked in its first step.
	status, ack := postJSON(t, base+"greet", `{}`)
	if status != 202 {
		t.Fatalf("first event: %d %v", status, ack)
	}
	first := ack["run_id"].(string)

	// Version 2 changes the greeting, on a new path; the watcher picks it up.
	write(strings.Replace(fmt.Sprintf(reloadWorkflow, gate.URL, "bonjour"), "path: greet", "path: greet2", 1))
	deadline := time.Now().Add(15 * time.Second)
	for {
		if status, _ := postJSON(t, base+"greet2", `{}`); status == 202 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the changed workflow was not picked up; log:\n%s", logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	if status, _ := postJSON(t, base+"greet", `{}`); status != 404 {
		t.Errorf("old path after reload: %d, want 404", status)
	}

	// An invalid change is refused as a whole: the last good set answers.
	write("name: greet\non: {webhook: {path: greet3}}\nsteps: []\nbogus: 1\n")
	if err := d.Reload(); err == nil {
		t.Fatal("an invalid workflow folder was accepted")
	}
	if d.LastReloadError() == nil || !strings.Contains(d.LastReloadError().Error(), "bogus") {
		t.Errorf("reload error %v should name the problem", d.LastReloadError())
	}
	if status, _ := postJSON(t, base+"greet2", `{}`); status != 202 {
		t.Errorf("after a refused reload the previous set stopped answering: %d", status)
	}

	close(release)
	run := waitRun(t, d.store, first)
	if got := run.Steps[1].Outputs["greeting"]; got != "hello" {
		t.Errorf("run accepted before the reload said %v, want its original definition's hello", got)
	}
}
