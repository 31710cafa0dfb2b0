package plugins

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookflow/hookflow/actions"
)

func execute(t *testing.T, r *actions.Registry, uses string, input map[string]any) (map[string]any, error) {
	t.Helper()
	return executeCtx(context.Background(), t, r, uses, input)
}

func executeCtx(ctx context.Context, t *testing.T, r *actions.Registry, uses string, input map[string]any) (map[string]any, error) {
	t.Helper()
	a, ok := r.Lookup(uses)
	if !ok {
		t.Fatalf("action %q not registered (have %v)", uses, r.Names())
	}
	return a.Execute(ctx, actions.Request{
		RunID: "run-1", Workflow: "wf", StepID: "step-1", Attempt: 2,
		IdempotencyKey: "run-1/step-1", Input: input,
	})
}

func registry(t *testing.T, h *Host) *actions.Registry {
	t.Helper()
	r := actions.NewRegistry()
	if err := h.Register(r); err != nil {
		t.Fatalf("Register: %v", err)
	}
	return r
}

func TestOpenRefusesBadPluginsAndLoadsTheOthers(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	outside := t.TempDir()
	install(t, dir, "good")
	install(t, dir, "oldproto")
	install(t, dir, "pinok")
	install(t, dir, "pinbad")
	copyFile(t, testPluginBin, filepath.Join(dir, FilePrefix+"noexec"), 0o644)
	install(t, dir, "Upper")
	if err := os.Mkdir(filepath.Join(dir, FilePrefix+"adir"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(install(t, outside, "x"), filepath.Join(dir, FilePrefix+"escape")); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "bin"), 0o755); err != nil {
		t.Fatal(err)
	}
	copyFile(t, testPluginBin, filepath.Join(dir, "bin", "real"), 0o755)
	if err := os.Symlink(filepath.Join("bin", "real"), filepath.Join(dir, FilePrefix+"alias")); err != nil {
		t.Fatal(err)
	}
	sum, err := fileSHA256(testPluginBin)
	if err != nil {
		t.Fatal(err)
	}
	manifest := "plugins:\n" +
		"  pinok: { sha256: \"" + sum + "\" }\n" +
		"  pinbad: { sha256: \"" + strings.Repeat("ab", 32) + "\" }\n" +
		"  ghost: { sha256: \"" + sum + "\" }\n"
	if err := os.WriteFile(filepath.Join(dir, ManifestFile), []byte(manifest), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "README"), []byte("not a plugin"), 0o644); err != nil {
		t.Fatal(err)
	}
	scripts := map[string]string{
		"quitter": "#!/bin/sh\necho 'missing configuration' >&2\nexit 3\n",
		"chatty":  "#!/bin/sh\necho 'hello, I am not a plugin'\n",
	}
	for name, script := range scripts {
		if err := os.WriteFile(filepath.Join(dir, FilePrefix+name), []byte(script), 0o755); err != nil {
			t.Fatal(err)
		}
	}

	logs := &recorder{}
	h := open(t, Options{Dir: dir, Logger: slog.New(logs), StartTimeout: 30 * time.Second})

	tests := []struct {
		name     string
		wantErr  string // "" means loaded
		checksum ChecksumState
	}{
		{"adir", "not a regular file", ChecksumUnpinned},
		{"alias", "", ChecksumUnpinned},
		{"chatty", "handshake: the process did not speak the hookflow plugin handshake: Unrecognized remote plugin message: hello, I am not a plugin", ChecksumUnpinned},
		{"escape", "outside the plugins directory", ChecksumUnpinned},
		{"good", "", ChecksumUnpinned},
		{"noexec", "not executable (mode -rw-r--r--)", ChecksumUnpinned},
		{"oldproto", "wrong protocol version: this hookflow speaks plugin protocol 1", ChecksumUnpinned},
		{"pinbad", "sha256 mismatch: plugins.yaml pins abab", ChecksumMismatch},
		{"pinok", "", ChecksumPinnedOK},
		{"quitter", "handshake: the process exited before the handshake (its stderr is in the log)", ChecksumUnpinned},
		{"Upper", `invalid plugin name "Upper"`, ChecksumUnpinned},
	}
	infos := map[string]Info{}
	var names []string
	for _, info := range h.Plugins() {
		infos[info.Name] = info
		names = append(names, info.Name)
	}
	if len(infos) != len(tests) {
		t.Fatalf("Plugins() = %v, want %d plugins", names, len(tests))
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			info := infos[tt.name]
			if info.Checksum != tt.checksum {
				t.Errorf("checksum = %q, want %q", info.Checksum, tt.checksum)
			}
			if tt.wantErr == "" {
				if !info.Loaded() || info.Version != "0.1.0" || len(info.Actions) == 0 {
					t.Errorf("not loaded: %+v", info)
				}
				return
			}
			if info.Loaded() || !strings.Contains(info.Error, tt.wantErr) {
				t.Errorf("error = %q, want it to contain %q", info.Error, tt.wantErr)
			}
			if !strings.Contains(info.Error, info.Path) {
				t.Errorf("error %q does not name the file %s", info.Error, info.Path)
			}
		})
	}
	// One problem per refused plugin, plus the pin without a plugin.
	problems := h.Problems()
	if len(problems) != 9 {
		t.Errorf("Problems() = %d, want 9: %v", len(problems), problems)
	}
	if !strings.Contains(errors.Join(problems...).Error(), `pins "ghost" but there is no hookflow-plugin-ghost`) {
		t.Errorf("Problems() does not report the missing pinned plugin: %v", problems)
	}
	r := registry(t, h)
	for _, uses := range []string{"good.echo", "alias.echo", "pinok.echo"} {
		out, err := execute(t, r, uses, map[string]any{"message": "hi"})
		if err != nil || out["message"] != "hi" {
			t.Errorf("%s = %v, %v", uses, out, err)
		}
	}
	if _, ok := r.Lookup("pinbad.echo"); ok {
		t.Error("a refused plugin's actions are registered")
	}
	logs.waitFor(t, "about the refused plugin", func(r logRecord) bool {
		return r.Msg == "plugin refused" && r.Attrs["plugin"] == "pinbad"
	})
	logs.waitFor(t, "with the stderr of a plugin that quit", func(r logRecord) bool {
		return r.Msg == "missing configuration" && r.Attrs["plugin"] == "quitter"
	})
}

// TestHandshakeTimeout: a program that never completes the handshake is
// refused after StartTimeout and killed.
func TestHandshakeTimeout(t *testing.T) {
	t.Parallel()
	f := setup(t, Options{StartTimeout: 300 * time.Millisecond}, "sleeper")
	infos := f.host.Plugins()
	if len(infos) != 1 || !strings.Contains(infos[0].Error, "hookflow-plugin-sleeper: handshake: no answer within the start timeout") {
		t.Fatalf("Plugins() = %+v", infos)
	}
	assertNoProcesses(t, f.dir)
}

func TestExecute(t *testing.T) {
	t.Parallel()
	f := setup(t, Options{}, "test")
	r := registry(t, f.host)

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := executeCtx(ctx, t, r, "test.echo", map[string]any{"message": "hello", "count": 3})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"message": "hello", "count": float64(3), "run_id": "run-1", "workflow": "wf", "step_id": "step-1",
		"attempt": float64(2), "idempotency_key": "run-1/step-1", "has_deadline": true,
	}
	for k, v := range want {
		if out[k] != v {
			t.Errorf("outputs[%s] = %#v, want %#v", k, out[k], v)
		}
	}

	tests := []struct {
		name       string
		uses       string
		input      map[string]any
		wantErr    string
		permanent  bool
		retryAfter time.Duration
	}{
		{"permanent", "test.fail", map[string]any{"kind": "permanent", "message": "bad request"}, "test.fail: bad request", true, 0},
		{"retryable", "test.fail", map[string]any{"kind": "retryable", "message": "try later"}, "test.fail: try later", false, 0},
		{"retry after", "test.fail", map[string]any{"kind": "retry_after", "message": "slow down"}, "test.fail: slow down", false, 42 * time.Second},
		{"unmarked is retryable", "test.fail", map[string]any{"kind": "plain", "message": "oops"}, "test.fail: oops", false, 0},
		{"enum", "test.fail", map[string]any{"kind": "other"}, `field "kind": must be one of ["permanent","retryable","retry_after","plain"]`, true, 0},
		{"missing required", "test.echo", map[string]any{}, `missing required field "message"`, true, 0},
		{"unknown field", "test.echo", map[string]any{"message": "x", "extra": 1}, `unknown field "extra"`, true, 0},
		{"wrong type", "test.echo", map[string]any{"message": 5}, "cannot unmarshal number", true, 0},
		{"panic", "test.panic", nil, "action panic panicked: boom", true, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := execute(t, r, tt.uses, tt.input)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want it to contain %q", err, tt.wantErr)
			}
			if got := actions.IsPermanent(err); got != tt.permanent {
				t.Errorf("IsPermanent = %v, want %v", got, tt.permanent)
			}
			if got := actions.RetryHint(err); got != tt.retryAfter {
				t.Errorf("RetryHint = %v, want %v", got, tt.retryAfter)
			}
		})
	}
}

func TestCrashMidCallRestarts(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var restarts []string
	f := setup(t, Options{OnRestart: func(name string) {
		mu.Lock()
		restarts = append(restarts, name)
		mu.Unlock()
	}}, "test")
	r := registry(t, f.host)
	first, err := execute(t, r, "test.echo", map[string]any{"message": "a"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = execute(t, r, "test.crash", nil)
	if err == nil || !strings.Contains(err.Error(), "plugin test exited during the call to crash") {
		t.Fatalf("crash: err = %v", err)
	}
	if actions.IsPermanent(err) {
		t.Error("a crash must be retryable")
	}
	second, err := execute(t, r, "test.echo", map[string]any{"message": "b"})
	if err != nil {
		t.Fatalf("call after the crash: %v", err)
	}
	if first["pid"] == second["pid"] {
		t.Errorf("same pid %v after a crash: not restarted", first["pid"])
	}
	mu.Lock()
	defer mu.Unlock()
	if len(restarts) != 1 || restarts[0] != "test" {
		t.Errorf("OnRestart calls: %v, want [test]", restarts)
	}
}

func TestCrashLoopBacksOff(t *testing.T) {
	t.Parallel()
	f := setup(t, Options{RestartBackoff: Backoff{Min: 5 * time.Second, Max: time.Minute}}, "test")
	r := registry(t, f.host)
	for i := range 2 { // the first restart is immediate
		if _, err := execute(t, r, "test.crash", nil); err == nil || !strings.Contains(err.Error(), "exited during the call") {
			t.Fatalf("crash %d: err = %v", i+1, err)
		}
	}
	_, err := execute(t, r, "test.echo", map[string]any{"message": "x"})
	if err == nil || !strings.Contains(err.Error(), "plugin test crashed 2 times in a row; restarting it in 5s") {
		t.Fatalf("during back-off: err = %v", err)
	}
	if actions.IsPermanent(err) || actions.RetryHint(err) != 5*time.Second {
		t.Errorf("back-off error: permanent=%v hint=%v, want retryable after 5s", actions.IsPermanent(err), actions.RetryHint(err))
	}
	f.now.Advance(5 * time.Second)
	if _, err := execute(t, r, "test.echo", map[string]any{"message": "x"}); err != nil {
		t.Fatalf("after the back-off: %v", err)
	}
	// The answered call ended the row: the next crash restarts at once.
	if _, err := execute(t, r, "test.crash", nil); err == nil {
		t.Fatal("crash: no error")
	}
	if _, err := execute(t, r, "test.echo", map[string]any{"message": "x"}); err != nil {
		t.Fatalf("after a single crash: %v", err)
	}
}

func TestHungCallTimesOut(t *testing.T) {
	t.Parallel()
	f := setup(t, Options{}, "test")
	r := registry(t, f.host)
	before, err := execute(t, r, "test.echo", map[string]any{"message": "a"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	_, err = executeCtx(ctx, t, r, "test.hang", nil)
	if err == nil || !strings.Contains(err.Error(), "test.hang: no answer before the step deadline") || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("hang: err = %v", err)
	}
	if actions.IsPermanent(err) {
		t.Error("a timeout must be retryable")
	}
	after, err := execute(t, r, "test.echo", map[string]any{"message": "b"})
	if err != nil {
		t.Fatalf("call after the timeout: %v", err)
	}
	if before["pid"] != after["pid"] {
		t.Error("the process was restarted after a timeout")
	}
}

func TestConcurrentCallsShareOneProcess(t *testing.T) {
	t.Parallel()
	f := setup(t, Options{}, "test")
	r := registry(t, f.host)
	var wg sync.WaitGroup
	pids := make(chan any, 32*20)
	for g := range 32 {
		wg.Go(func() {
			for i := range 20 {
				out, err := execute(t, r, "test.echo", map[string]any{"message": "m", "count": g*100 + i})
				if err != nil {
					t.Error(err)
					return
				}
				if out["count"] != float64(g*100+i) {
					t.Errorf("answer to another call: %v", out)
				}
				pids <- out["pid"]
			}
		})
	}
	wg.Wait()
	close(pids)
	seen := map[any]bool{}
	for p := range pids {
		seen[p] = true
	}
	if len(seen) != 1 {
		t.Errorf("calls served by %d processes, want 1", len(seen))
	}
}

func TestPluginLogsReachTheHostLog(t *testing.T) {
	t.Parallel()
	f := setup(t, Options{}, "test")
	r := registry(t, f.host)
	if _, err := execute(t, r, "test.log", nil); err != nil {
		t.Fatal(err)
	}
	rec := f.logs.waitFor(t, "from the SDK logger", func(r logRecord) bool { return r.Msg == "hello from the plugin" })
	if rec.Attrs["plugin"] != "test" || rec.Attrs["answer"] != float64(42) || rec.Attrs["step_id"] != "step-1" || rec.Level.String() != "INFO" {
		t.Errorf("record = %+v", rec)
	}
	f.logs.waitFor(t, "with the warn level", func(r logRecord) bool { return r.Msg == "log done" && r.Level.String() == "WARN" })
	for _, line := range []string{"plain stdout line", "plain stderr line", `{"@message": 5, "@level": ["x"]}`} {
		f.logs.waitFor(t, line, func(r logRecord) bool { return r.Msg == line && r.Attrs["plugin"] == "test" })
	}
	if _, err := execute(t, r, "test.echo", map[string]any{"message": "still alive"}); err != nil {
		t.Fatal(err)
	}
}

func TestPluginEnvironmentIsMinimal(t *testing.T) {
	t.Setenv("HOOKFLOW_TEST_SECRET", "s3cr3t-value")
	f := setup(t, Options{}, "test")
	r := registry(t, f.host)
	out, err := execute(t, r, "test.env", nil)
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]bool{}
	for _, kv := range out["env"].([]any) {
		k, _, _ := strings.Cut(kv.(string), "=")
		env[k] = true
		if strings.Contains(kv.(string), "s3cr3t-value") {
			t.Errorf("the daemon's secret reached the plugin: %s", kv)
		}
	}
	for _, k := range []string{"PATH", "TMPDIR", "HOOKFLOW_PLUGIN"} {
		if !env[k] {
			t.Errorf("plugin environment lacks %s: %v", k, out["env"])
		}
	}
	allowed := map[string]bool{"PATH": true, "TMPDIR": true, "HOME": true, "TZ": true, "LANG": true, "LC_ALL": true,
		"SSL_CERT_FILE": true, "SSL_CERT_DIR": true, "HOOKFLOW_PLUGIN": true, "PLUGIN_MIN_PORT": true,
		"PLUGIN_MAX_PORT": true, "PLUGIN_PROTOCOL_VERSIONS": true, "PLUGIN_CLIENT_CERT": true}
	for k := range env {
		if !allowed[k] {
			t.Errorf("unexpected variable %s in the plugin environment", k)
		}
	}
}

func TestRegisterPublishesSchemas(t *testing.T) {
	t.Parallel()
	f := setup(t, Options{}, "test")
	r := registry(t, f.host)
	schema, ok := r.ActionSchema("test.echo")
	if !ok || !strings.Contains(string(schema), `"required":["message"]`) {
		t.Errorf("ActionSchema(test.echo) = %s, %v", schema, ok)
	}
	var info Info
	for _, i := range f.host.Plugins() {
		info = i
	}
	if string(info.Actions[0].InputSchema) != string(schema) {
		t.Errorf("Info schema %s != registry schema %s", info.Actions[0].InputSchema, schema)
	}
	if err := f.host.Register(r); err == nil || !strings.Contains(err.Error(), `action "test.echo" registered twice`) {
		t.Errorf("second Register: err = %v", err)
	}
}

func TestCloseKillsAndIsIdempotent(t *testing.T) {
	t.Parallel()
	f := setup(t, Options{}, "one", "two")
	r := registry(t, f.host)
	if _, err := execute(t, r, "one.echo", map[string]any{"message": "x"}); err != nil {
		t.Fatal(err)
	}
	if len(processesUnder(f.dir)) != 2 {
		t.Fatalf("want 2 plugin processes, have %v", processesUnder(f.dir))
	}
	// A call hung in the plugin must not keep Close waiting.
	done := make(chan error, 1)
	go func() {
		a, _ := r.Lookup("two.hang")
		_, cerr := a.Execute(context.Background(), actions.Request{RunID: "r", StepID: "s", Attempt: 1})
		done <- cerr
	}()
	f.logs.waitFor(t, "from the hung call", func(r logRecord) bool { return r.Msg == "hanging" && r.Attrs["plugin"] == "two" })
	for range 2 {
		if err := f.host.Close(); err != nil {
			t.Fatal(err)
		}
	}
	assertNoProcesses(t, f.dir)
	if err := <-done; err == nil {
		t.Error("hung call returned no error after Close")
	}
	_, err := execute(t, r, "one.echo", map[string]any{"message": "x"})
	if err == nil || !strings.Contains(err.Error(), "plugin host closed") || actions.IsPermanent(err) {
		t.Errorf("call after Close: err = %v", err)
	}
}

func TestOpenErrors(t *testing.T) {
	t.Parallel()
	badYAML := t.TempDir()
	os.WriteFile(filepath.Join(badYAML, ManifestFile), []byte("plugins:\n  chat: { sha: x }\n"), 0o644)
	badSum := t.TempDir()
	os.WriteFile(filepath.Join(badSum, ManifestFile), []byte("plugins:\n  chat: { sha256: xyz }\n"), 0o644)
	tests := []struct {
		name    string
		opts    Options
		wantErr string
	}{
		{"missing dir", Options{Dir: filepath.Join(t.TempDir(), "nope")}, "no such file or directory"},
		{"unknown key in plugins.yaml", Options{Dir: badYAML}, "field sha not found"},
		{"bad sha256 in plugins.yaml", Options{Dir: badSum}, "plugins.chat.sha256: want 64 hex digits"},
		{"negative timeout", Options{StartTimeout: -time.Second}, "StartTimeout -1s: must be positive"},
		{"min over max", Options{RestartBackoff: Backoff{Min: time.Hour, Max: time.Second}}, "RestartBackoff.Min 1h0m0s: more than Max 1s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, err := Open(context.Background(), tt.opts)
			if err == nil {
				h.Close()
				t.Fatal("Open succeeded")
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("err = %v, want it to contain %q", err, tt.wantErr)
			}
		})
	}
}

func TestNoDirectoryNoPlugins(t *testing.T) {
	t.Parallel()
	h, err := Open(context.Background(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	r := actions.NewRegistry()
	if err := h.Register(r); err != nil || len(r.Names()) != 0 || len(h.Plugins()) != 0 || len(h.Problems()) != 0 {
		t.Errorf("empty host: names=%v plugins=%v problems=%v err=%v", r.Names(), h.Plugins(), h.Problems(), err)
	}
}

func TestBackoffDelay(t *testing.T) {
	t.Parallel()
	b := Backoff{Min: time.Second, Max: 10 * time.Second}
	for crashes, want := range []time.Duration{0, 0, time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 10 * time.Second, 10 * time.Second} {
		if got := b.delay(crashes); got != want {
			t.Errorf("delay(%d) = %v, want %v", crashes, got, want)
		}
	}
	if got := b.delay(1000); got != 10*time.Second {
		t.Errorf("delay(1000) = %v", got)
	}
}
