package sdktest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	plugin "github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/hookflow/hookflow/actions"
	"github.com/hookflow/hookflow/plugins"
	pluginv1 "github.com/hookflow/hookflow/plugins/proto/v1"
	"github.com/hookflow/hookflow/sdk"
)

// DefaultStep is the step Call and Plugin.Call pretend to serve.
var DefaultStep = sdk.StepInfo{
	RunID:          "run-test",
	Workflow:       "test",
	StepID:         "step",
	Attempt:        1,
	IdempotencyKey: "run-test/step",
}

// Call runs one attempt of a in-process, through the SDK's real gRPC
// service (encoding, decoding, schema checks and error marks included), as
// DefaultStep. input is encoded to JSON (a map, a struct or raw JSON bytes).
// The error keeps its mark: test it with sdk.IsPermanent and sdk.RetryHint.
func Call(t testing.TB, a sdk.Action, input any) (map[string]any, error) {
	t.Helper()
	return CallStep(t, a, DefaultStep, input)
}

// CallStep is Call for a given step; a non-zero step.Deadline becomes the
// call's deadline.
func CallStep(t testing.TB, a sdk.Action, step sdk.StepInfo, input any) (map[string]any, error) {
	t.Helper()
	cfg, err := sdk.ServeConfig(sdk.Plugin{
		Name:    "sdktest",
		Version: "0",
		Actions: []sdk.Action{a},
		Logger:  testLogger(t),
	})
	if err != nil {
		t.Fatalf("sdktest: %v", err)
	}
	served := cfg.Plugins[pluginv1.PluginSetKey].(plugin.GRPCPlugin)
	conn, server := plugin.TestGRPCConn(t, func(s *grpc.Server) {
		if err := served.GRPCServer(nil, s); err != nil {
			t.Fatalf("sdktest: %v", err)
		}
	})
	defer func() {
		conn.Close()
		server.Stop()
	}()
	rpc := pluginv1.NewActionPluginClient(conn)
	in := encodeInput(t, input)
	ctx := t.Context()
	req := &pluginv1.ExecuteRequest{
		Action: a.Name, Input: in, RunId: step.RunID, StepId: step.StepID, Workflow: step.Workflow,
		Attempt: uint32(max(step.Attempt, 0)), IdempotencyKey: step.IdempotencyKey,
	}
	if !step.Deadline.IsZero() {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, step.Deadline)
		defer cancel()
		req.Deadline = timestamppb.New(step.Deadline)
	}
	resp, err := rpc.Execute(ctx, req)
	if err != nil {
		return nil, sdk.Retryable(fmt.Errorf("sdktest: call failed: %w", err))
	}
	if pe := resp.GetError(); pe != nil {
		return nil, markFromWire(pe)
	}
	return decodeOutput(t, resp.GetOutput()), nil
}

func markFromWire(pe *pluginv1.Error) error {
	err := errors.New(pe.GetMessage())
	switch {
	case pe.GetKind() == pluginv1.ErrorKind_ERROR_KIND_PERMANENT:
		return sdk.Permanent(err)
	case pe.GetRetryAfter() != nil:
		return sdk.RetryAfter(err, pe.GetRetryAfter().AsDuration())
	default:
		return sdk.Retryable(err)
	}
}

// Build compiles the plugin main package pkg (a path as `go build` takes
// it, relative to the test's package directory) into a temporary directory
// and returns the binary's path, named hookflow-plugin-BASE after the
// package directory. It takes a few seconds: build once per test function
// and share the binary between subtests.
func Build(t testing.TB, pkg string) string {
	t.Helper()
	base := pkg
	if strings.HasPrefix(pkg, ".") || filepath.IsAbs(pkg) {
		abs, err := filepath.Abs(pkg)
		if err != nil {
			t.Fatalf("sdktest: %v", err)
		}
		base = abs
	}
	name := plugins.FilePrefix + strings.TrimPrefix(filepath.Base(base), plugins.FilePrefix)
	bin := filepath.Join(t.TempDir(), name)
	cmd := exec.Command("go", "build", "-o", bin, pkg)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("sdktest: go build %s: %v\n%s", pkg, err, out)
	}
	return bin
}

// Plugin is a plugin running as a real process under a real plugins.Host.
type Plugin struct {
	Info     plugins.Info
	Host     *plugins.Host
	Registry *actions.Registry
}

// Launch installs the binary at bin into a fresh plugins directory (as
// hookflow-plugin-NAME, NAME from bin's file name), opens a plugins.Host on
// it and fails the test if the plugin is refused. The process is killed at
// the end of the test, and the test fails if it outlives the host.
func Launch(t testing.TB, bin string) *Plugin {
	t.Helper()
	name := strings.TrimPrefix(filepath.Base(bin), plugins.FilePrefix)
	dir := t.TempDir()
	dst := filepath.Join(dir, plugins.FilePrefix+name)
	if err := os.Link(bin, dst); err != nil {
		if err := copyExecutable(bin, dst); err != nil {
			t.Fatalf("sdktest: install: %v", err)
		}
	}
	h, err := plugins.Open(t.Context(), plugins.Options{Dir: dir, Logger: testLogger(t), StartTimeout: 30 * time.Second})
	if err != nil {
		t.Fatalf("sdktest: %v", err)
	}
	t.Cleanup(func() {
		h.Close()
		if left := processesRunning(dst); len(left) > 0 {
			t.Errorf("sdktest: plugin processes left running: %v", left)
		}
	})
	var info plugins.Info
	for _, i := range h.Plugins() {
		if i.Name == name {
			info = i
		}
	}
	if !info.Loaded() || info.Name == "" {
		t.Fatalf("sdktest: plugin %s refused: %v", name, h.Problems())
	}
	r := actions.NewRegistry()
	if err := h.Register(r); err != nil {
		t.Fatalf("sdktest: %v", err)
	}
	return &Plugin{Info: info, Host: h, Registry: r}
}

// Call runs one attempt of the plugin's action as DefaultStep, exactly as
// the engine would. The error keeps its mark (sdk.IsPermanent,
// sdk.RetryHint).
func (p *Plugin) Call(t testing.TB, action string, input any) (map[string]any, error) {
	t.Helper()
	return p.CallStep(t, action, DefaultStep, input)
}

// CallStep is Call for a given step; a non-zero step.Deadline becomes the
// call's deadline.
func (p *Plugin) CallStep(t testing.TB, action string, step sdk.StepInfo, input any) (map[string]any, error) {
	t.Helper()
	a, ok := p.Registry.Lookup(p.Info.Name + "." + action)
	if !ok {
		t.Fatalf("sdktest: plugin %s has no action %q (has %v)", p.Info.Name, action, p.Registry.Names())
	}
	var in map[string]any
	if err := json.Unmarshal(encodeInput(t, input), &in); err != nil {
		t.Fatalf("sdktest: input must encode to a JSON object: %v", err)
	}
	ctx := t.Context()
	if !step.Deadline.IsZero() {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, step.Deadline)
		defer cancel()
	}
	out, err := a.Execute(ctx, actions.Request{
		RunID: step.RunID, Workflow: step.Workflow, StepID: step.StepID, Attempt: step.Attempt,
		IdempotencyKey: step.IdempotencyKey, Input: in,
	})
	if err != nil {
		switch {
		case actions.IsPermanent(err):
			return nil, sdk.Permanent(err)
		case actions.RetryHint(err) > 0:
			return nil, sdk.RetryAfter(err, actions.RetryHint(err))
		default:
			return nil, sdk.Retryable(err)
		}
	}
	return out, nil
}

func encodeInput(t testing.TB, input any) []byte {
	t.Helper()
	switch v := input.(type) {
	case nil:
		return []byte("{}")
	case []byte:
		return v
	case json.RawMessage:
		return v
	case string:
		return []byte(v)
	}
	b, err := json.Marshal(input)
	if err != nil {
		t.Fatalf("sdktest: encode input: %v", err)
	}
	return b
}

func decodeOutput(t testing.TB, b []byte) map[string]any {
	t.Helper()
	out := map[string]any{}
	if len(b) == 0 {
		return out
	}
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("sdktest: outputs are not a JSON object: %v", err)
	}
	return out
}

// processesRunning lists processes whose command line names path.
func processesRunning(path string) []string {
	entries, _ := os.ReadDir("/proc")
	var left []string
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil || len(b) == 0 {
			continue
		}
		if cmd := strings.ReplaceAll(string(b), "\x00", " "); strings.Contains(cmd, path) {
			left = append(left, e.Name()+": "+cmd)
		}
	}
	return left
}

// testLogger logs to t.Log.
func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type tWriter struct{ t testing.TB }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

func copyExecutable(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_EXCL, 0o755)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
