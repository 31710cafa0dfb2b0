package main

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestStartFailureClosesWhatItOpened: a daemon that cannot listen reports
// why and releases the store (a second start on the same data works).
func TestStartFailureClosesWhatItOpened(t *testing.T) {
	t.Parallel()
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	dir, data := t.TempDir(), t.TempDir()
	wf := "name: a\non: { webhook: { path: a, signature: { scheme: none } } }\nsteps:\n  - { id: a, uses: set, with: { x: 1 } }\n"
	if err := os.WriteFile(filepath.Join(dir, "a.yaml"), []byte(wf), 0o644); err != nil {
		t.Fatal(err)
	}
	log, _ := testLogger(t)
	cfg := daemonConfig{Workflows: dir, Data: data, Addr: busy.Addr().String()}
	if _, err := startDaemon(context.Background(), cfg, log); err == nil || !strings.Contains(err.Error(), "listen on") {
		t.Fatalf("start on a busy port: %v, want a listen error", err)
	}
	cfg.Addr = "127.0.0.1:0"
	d, err := startDaemon(context.Background(), cfg, log)
	if err != nil {
		t.Fatalf("the failed start kept the store locked: %v", err)
	}
	d.Shutdown(context.Background())
}
