package plugins

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// testPluginBin is testdata/testplugin, built once for the test binary.
var testPluginBin string

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	dir, err := os.MkdirTemp("", "hookflow-plugins-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	testPluginBin = filepath.Join(dir, "testplugin")
	cmd := exec.Command("go", "build", "-o", testPluginBin, "./testdata/testplugin")
	if out, err := cmd.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build test plugin: %v\n%s", err, out)
		return 1
	}
	return m.Run()
}

// install puts the test plugin into dir as hookflow-plugin-NAME.
func install(t testing.TB, dir, name string) string {
	t.Helper()
	dst := filepath.Join(dir, FilePrefix+name)
	if err := os.Link(testPluginBin, dst); err != nil {
		copyFile(t, testPluginBin, dst, 0o755)
	}
	return dst
}

func copyFile(t testing.TB, src, dst string, mode os.FileMode) {
	t.Helper()
	in, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, mode)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}

// fixture is a plugins directory with a host over it.
type fixture struct {
	dir  string
	host *Host
	logs *recorder
	now  *fakeClock
}

// setup installs the test plugin under each name and opens a host, closed
// (and checked for leftover processes) at the end of the test.
func setup(t *testing.T, opts Options, names ...string) *fixture {
	t.Helper()
	f := &fixture{dir: t.TempDir(), logs: &recorder{}, now: &fakeClock{t: time.Unix(1_700_000_000, 0)}}
	for _, n := range names {
		install(t, f.dir, n)
	}
	opts.Dir = f.dir
	opts.Logger = slog.New(f.logs)
	if opts.Now == nil {
		opts.Now = f.now.Now
	}
	f.host = open(t, opts)
	return f
}

// open opens a host over opts and closes it at cleanup, then checks that no
// process runs from opts.Dir.
func open(t *testing.T, opts Options) *Host {
	t.Helper()
	h, err := Open(context.Background(), opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := h.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
		assertNoProcesses(t, opts.Dir)
	})
	return h
}

// assertNoProcesses fails when a process whose command line mentions dir
// still exists.
func assertNoProcesses(t testing.TB, dir string) {
	t.Helper()
	if left := processesUnder(dir); len(left) > 0 {
		t.Errorf("plugin processes left running: %v", left)
	}
}

func processesUnder(dir string) []string {
	real, err := filepath.EvalSymlinks(dir)
	if err != nil {
		real = dir
	}
	entries, _ := os.ReadDir("/proc")
	var left []string
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil || len(b) == 0 {
			continue
		}
		cmdline := strings.ReplaceAll(string(b), "\x00", " ")
		if strings.Contains(cmdline, dir) || strings.Contains(cmdline, real) {
			left = append(left, e.Name()+": "+cmdline)
		}
	}
	return left
}

// fakeClock is the restart back-off's clock in tests.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// recorder is a slog.Handler that keeps records for assertions.
type recorder struct {
	mu      sync.Mutex
	records []logRecord
	attrs   []slog.Attr
	parent  *recorder
}

type logRecord struct {
	Level slog.Level
	Msg   string
	Attrs map[string]any
}

func (r *recorder) root() *recorder {
	if r.parent != nil {
		return r.parent.root()
	}
	return r
}

func (r *recorder) Enabled(context.Context, slog.Level) bool { return true }

func (r *recorder) Handle(_ context.Context, rec slog.Record) error {
	m := map[string]any{}
	for _, a := range r.attrs {
		m[a.Key] = a.Value.Any()
	}
	rec.Attrs(func(a slog.Attr) bool {
		m[a.Key] = a.Value.Any()
		return true
	})
	root := r.root()
	root.mu.Lock()
	root.records = append(root.records, logRecord{Level: rec.Level, Msg: rec.Message, Attrs: m})
	root.mu.Unlock()
	return nil
}

func (r *recorder) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &recorder{parent: r.root(), attrs: append(append([]slog.Attr{}, r.attrs...), attrs...)}
}

func (r *recorder) WithGroup(string) slog.Handler { return r }

func (r *recorder) all() []logRecord {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]logRecord(nil), r.records...)
}

// waitFor polls the recorded logs until one matches or the deadline passes.
func (r *recorder) waitFor(t *testing.T, what string, match func(logRecord) bool) logRecord {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		for _, rec := range r.all() {
			if match(rec) {
				return rec
			}
		}
		if time.Now().After(deadline) {
			for _, rec := range r.all() {
				t.Logf("log: %v %q %v", rec.Level, rec.Msg, rec.Attrs)
			}
			t.Fatalf("no log record %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
