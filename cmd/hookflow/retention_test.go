package main

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/hookflow/hookflow/engine"
)

// TestRetentionDeletesFinishedRuns: the daemon's retention loop deletes a
// finished run once it is older than --retention, and keeps it before.
func TestRetentionDeletesFinishedRuns(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	wf := "name: keep\non: { webhook: { path: keep, signature: { scheme: none } } }\nsteps:\n  - { id: a, uses: set, with: { x: 1 } }\n"
	if err := os.WriteFile(filepath.Join(dir, "keep.yaml"), []byte(wf), 0o644); err != nil {
		t.Fatal(err)
	}
	log, _ := testLogger(t)
	d, err := startDaemon(context.Background(), daemonConfig{
		Workflows: dir, Data: t.TempDir(), Addr: "127.0.0.1:0", Workers: 2, Grace: time.Second,
	}, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Shutdown(context.Background()) })
	status, ack := postJSON(t, "http://"+d.Addr()+"/hooks/keep", `{}`)
	if status != 202 {
		t.Fatalf("event: %d", status)
	}
	id := ack["run_id"].(string)
	waitRun(t, d.store, id)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan struct{})
	go func() { defer close(done); d.retain(ctx, 10*time.Millisecond, time.Hour) }()
	// An hour of retention keeps a run that just finished.
	time.Sleep(50 * time.Millisecond)
	if _, err := d.store.Get(context.Background(), id); err != nil {
		t.Fatalf("a fresh run was deleted: %v", err)
	}
	cancel()
	<-done

	ctx, cancel = context.WithCancel(context.Background())
	defer cancel()
	go d.retain(ctx, 10*time.Millisecond, time.Nanosecond)
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, err := d.store.Get(context.Background(), id)
		if errors.Is(err, engine.ErrNotFound) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the finished run outlived its retention: %v", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
