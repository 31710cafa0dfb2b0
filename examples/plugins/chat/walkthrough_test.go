package main

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hookflow/hookflow/actions"
	"github.com/hookflow/hookflow/plugins"
	"github.com/hookflow/hookflow/sdk"
	"github.com/hookflow/hookflow/sdk/sdktest"
	"github.com/hookflow/hookflow/workflows"
)

// TestWalkthrough follows docs/plugins.md: build the plugin into a plugins
// directory, pin it, load it with the host, check the example workflow
// against the plugin's schemas and run its steps against a chat receiver.
func TestWalkthrough(t *testing.T) {
	t.Parallel()
	// 1. Build: go build -o plugins/hookflow-plugin-chat ./examples/plugins/chat
	dir := t.TempDir()
	bin := filepath.Join(dir, "hookflow-plugin-chat")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	// 2. Pin: sha256sum → plugins.yaml
	sum := sha256File(t, bin)
	manifest := "plugins:\n  chat:\n    sha256: " + sum + "\n"
	if err := os.WriteFile(filepath.Join(dir, "plugins.yaml"), []byte(manifest), 0o644); err != nil {
		t.Fatal(err)
	}
	// 3. Load: what `hookflow serve --plugins DIR` does.
	h, err := plugins.Open(context.Background(), plugins.Options{Dir: dir, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	if p := h.Problems(); len(p) > 0 {
		t.Fatalf("problems: %v", p)
	}
	var list strings.Builder
	if err := plugins.WriteList(&list, h.Plugins()); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"chat    1.0.0    pinned-ok  chat.post_message", "chat.digest"} {
		if !strings.Contains(list.String(), want) {
			t.Errorf("plugins list lacks %q:\n%s", want, list.String())
		}
	}
	reg := actions.NewRegistry()
	if err := h.Register(reg); err != nil {
		t.Fatal(err)
	}

	// 4. Validate the example workflow against the announced schemas.
	set, err := workflows.Load(workflows.Options{Actions: reg}, filepath.Join("workflows", "plugin-chat.yaml"))
	if err != nil {
		t.Fatalf("example workflow: %v", err)
	}
	w := set.ByName("plugin-chat")

	// 5. Run its steps as the engine would, against a chat receiver.
	srv, rec := newReceiver(t, http.StatusOK, nil, "ok")
	env := &workflows.Env{
		Event: workflows.EventEnv{Body: map[string]any{
			"type": "deploy.succeeded",
			"data": map[string]any{"service": "api", "version": "1.2.3", "environment": "production"},
		}},
		Env:     map[string]any{"CHAT_WEBHOOK_URL": srv.URL + "/services/T/B/X"},
		Secrets: map[string]string{"DEPLOY_WEBHOOK_SECRET": "unused here"},
		Steps:   map[string]workflows.StepEnv{},
		Run:     workflows.RunEnv{ID: "run-1", Workflow: w.Name, Attempt: 1},
	}
	if ok, err := w.Trigger.Filter.Bool(env); err != nil || !ok {
		t.Fatalf("filter = %v, %v", ok, err)
	}
	for _, step := range w.Steps {
		input, err := step.With.RenderMap(env)
		if err != nil {
			t.Fatalf("step %s: render: %v", step.ID, err)
		}
		a, _ := reg.Lookup(step.Uses)
		ctx, cancel := context.WithTimeout(context.Background(), step.Timeout)
		out, err := a.Execute(ctx, actions.Request{RunID: "run-1", Workflow: w.Name, StepID: step.ID, Attempt: 1,
			IdempotencyKey: "run-1/" + step.ID, Input: input})
		cancel()
		if err != nil {
			t.Fatalf("step %s: %v", step.ID, err)
		}
		env.Steps[step.ID] = workflows.StepEnv{Outputs: out, Status: "succeeded"}
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if len(rec.bodies) != 1 {
		t.Fatalf("receiver got %d messages", len(rec.bodies))
	}
	var msg struct {
		Text   string `json:"text"`
		Blocks []struct {
			Text struct{ Text string } `json:"text"`
		} `json:"blocks"`
	}
	if err := json.Unmarshal([]byte(rec.bodies[0]), &msg); err != nil {
		t.Fatal(err)
	}
	digest := env.Steps["fingerprint"].Outputs["digest"].(string)
	if msg.Text != "Deployed api 1.2.3 to production" || len(msg.Blocks) != 1 || !strings.Contains(msg.Blocks[0].Text.Text, "build `"+digest+"`") {
		t.Errorf("message = %s", rec.bodies[0])
	}
	if rec.requests[0].Header.Get("Idempotency-Key") != "run-1/announce" {
		t.Errorf("Idempotency-Key = %q", rec.requests[0].Header.Get("Idempotency-Key"))
	}
}

// TestSDKTestLaunch runs the plugin as a real process through sdktest.
func TestSDKTestLaunch(t *testing.T) {
	t.Parallel()
	p := sdktest.Launch(t, sdktest.Build(t, "."))
	if p.Info.Version != version || len(p.Info.Actions) != 2 {
		t.Errorf("info = %+v", p.Info)
	}
	out, err := p.Call(t, "digest", map[string]any{"text": "abc"})
	if err != nil || out["digest"] != "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" {
		t.Errorf("digest = %v, %v", out, err)
	}
	srv, _ := newReceiver(t, http.StatusBadRequest, nil, "invalid_payload")
	_, err = p.Call(t, "post_message", map[string]any{"url": srv.URL, "text": "x"})
	if err == nil || !strings.Contains(err.Error(), "chat.post_message: post_message: status 400: invalid_payload") {
		t.Errorf("post_message: err = %v", err)
	}
	if !sdk.IsPermanent(err) {
		t.Errorf("a 400 must be permanent: %v", err)
	}
}

func sha256File(t *testing.T, path string) string {
	t.Helper()
	out, err := exec.Command("sha256sum", path).Output()
	if err != nil {
		t.Fatalf("sha256sum: %v", err)
	}
	sum, _, _ := strings.Cut(string(out), " ")
	return sum
}
