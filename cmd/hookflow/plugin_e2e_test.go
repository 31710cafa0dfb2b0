package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hookflow/hookflow/sdk/sdktest"
	"github.com/hookflow/hookflow/triggers/signature"
)

// pluginsDir builds the example chat plugin into a fresh plugins folder.
func pluginsDir(t *testing.T) string {
	t.Helper()
	bin := sdktest.Build(t, "../../examples/plugins/chat")
	dir := t.TempDir()
	dst := filepath.Join(dir, filepath.Base(bin))
	b, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, b, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// pluginProcesses lists the running processes started from dir.
func pluginProcesses(t *testing.T, dir string) []string {
	t.Helper()
	entries, _ := os.ReadDir("/proc")
	var found []string
	for _, e := range entries {
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil {
			continue
		}
		if strings.Contains(string(cmdline), dir) {
			stat, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
			if !strings.Contains(string(stat), ") Z ") { // zombies are gone already
				found = append(found, e.Name()+": "+strings.ReplaceAll(string(cmdline), "\x00", " "))
			}
		}
	}
	return found
}

// TestPluginStepThroughServe: a signed event → 202 → a workflow whose steps
// are the example plugin's actions, run by the real daemon binary through
// a real plugin process; SIGTERM leaves no plugin process behind.
func TestPluginStepThroughServe(t *testing.T) {
	t.Parallel()
	plugins := pluginsDir(t)
	got := make(chan map[string]any, 4)
	chat := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var m map[string]any
		json.NewDecoder(r.Body).Decode(&m)
		got <- m
		io.WriteString(w, "ok")
	}))
	t.Cleanup(chat.Close)

	wfDir := t.TempDir()
	b, err := os.ReadFile("../../examples/plugins/chat/workflows/plugin-chat.yaml")
	if err != nil {
		t.Fatal(err)
	}
	wf := strings.Replace(string(b), "https://chat.example.com/hooks/deploys", chat.URL+"/hooks/deploys", 1)
	if err := os.WriteFile(filepath.Join(wfDir, "plugin-chat.yaml"), []byte(wf), 0o644); err != nil {
		t.Fatal(err)
	}
	p := startProcess(t, "", "--workflows", wfDir, "--data", t.TempDir(), "--plugins", plugins,
		"--secrets", "../../examples/secrets", "--allow-private-targets")
	addr := p.addr

	body := []byte(`{"type":"deploy.succeeded","data":{"service":"api","version":"1.4.2","environment":"production"}}`)
	s, _ := signature.New("standard", signature.Options{})
	hdr, err := s.Sign(signature.Message{Body: body, ID: "msg_plugin_1", Timestamp: time.Now()}, readSecret(t, "DEPLOY_WEBHOOK_SECRET"))
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("POST", "http://"+addr+"/hooks/deploys", strings.NewReader(string(body)))
	req.Header.Set("Content-Type", "application/json")
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 202 {
		t.Fatalf("event: %d", resp.StatusCode)
	}
	select {
	case m := <-got:
		if !strings.Contains(m["text"].(string), "Deployed api 1.4.2 to production") {
			t.Errorf("chat got %v", m)
		}
		blocks, _ := json.Marshal(m["blocks"])
		if !strings.Contains(string(blocks), "build `") || strings.Contains(string(blocks), "build ``") {
			t.Errorf("the digest step's output did not reach the message: %s", blocks)
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("the plugin step never posted; log:\n%s", tail(p.logs.String(), 30))
	}
	if len(pluginProcesses(t, plugins)) == 0 {
		t.Fatal("no plugin process is running: the check below would prove nothing")
	}

	p.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- p.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("SIGTERM: %v\n%s", err, tail(p.logs.String(), 20))
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the daemon did not stop on SIGTERM")
	}
	deadline := time.Now().Add(5 * time.Second)
	for left := pluginProcesses(t, plugins); len(left) > 0; left = pluginProcesses(t, plugins) {
		if time.Now().After(deadline) {
			t.Fatalf("plugin processes left after SIGTERM: %v", left)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
