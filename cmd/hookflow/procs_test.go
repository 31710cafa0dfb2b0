package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
)

func TestProcsFor(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		current int
		set     bool
		want    int
	}{
		{current: 1, want: 3}, // a one-CPU container
		{current: 2, want: 4},
		{current: 16, want: 18},
		{current: 1, set: true, want: 2}, // never below 2, even when asked
		{current: 2, set: true, want: 2},
		{current: 3, set: true, want: 3}, // otherwise as asked
		{current: 64, set: true, want: 64},
	} {
		if got := procsFor(c.current, c.set); got != c.want {
			t.Errorf("procsFor(%d, set %v) = %d, want %d", c.current, c.set, got, c.want)
		}
	}
}

// The built binary applies procsFor: serve exports the Ps it runs with on
// /metrics, and bench reports those its phases ran with.
func TestTheBinaryRunsWithSpareProcs(t *testing.T) {
	t.Parallel()
	wfDir := t.TempDir()
	if err := os.WriteFile(filepath.Join(wfDir, "crash.yaml"), []byte(crashWorkflow), 0o644); err != nil {
		t.Fatal(err)
	}
	p := startProcess(t, "", "--workflows", wfDir, "--data", t.TempDir())
	resp, err := http.Get("http://" + p.admin + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	_, set := os.LookupEnv("GOMAXPROCS") // startProcess passes this test's environment on
	want := fmt.Sprintf("\ngo_sched_gomaxprocs_threads %d\n", procsFor(startProcs, set))
	if !strings.Contains(string(metrics), want) {
		t.Errorf("serve's /metrics lacks %q", strings.TrimSpace(want))
	}

	bin := hookflowBinary(t)
	env := slices.DeleteFunc(os.Environ(), func(kv string) bool { return strings.HasPrefix(kv, "GOMAXPROCS=") })
	for _, c := range []struct {
		env  string // GOMAXPROCS, or "" for unset
		want int
	}{
		{"", procsFor(runtime.NumCPU(), false)}, // Go's default: the CPUs (no CPU quota here)
		{"1", 2},
		{"3", 3},
	} {
		cmd := exec.Command(bin, "bench", "--json", "--duration", "200ms", "--warmup", "0", "-c", "2", "--data-dir", t.TempDir())
		cmd.Env = append(slices.Clone(env), "HOOKFLOW_CONFIG=")
		if c.env != "" {
			cmd.Env = append(cmd.Env, "GOMAXPROCS="+c.env)
		}
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("GOMAXPROCS=%q: bench: %v\n%s", c.env, err, out)
		}
		var rep benchReport
		if err := json.Unmarshal(out, &rep); err != nil {
			t.Fatalf("GOMAXPROCS=%q: report: %v\n%s", c.env, err, out)
		}
		if rep.GOMAXPROCS != c.want {
			t.Errorf("GOMAXPROCS=%q: ran with %d Ps, want %d", c.env, rep.GOMAXPROCS, c.want)
		}
	}
}
