package main

import (
	"bufio"
	"cmp"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

var (
	binOnce sync.Once
	binPath string
	binErr  error
	binDir  string
)

// TestMain removes the binary built for the process tests.
func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// hookflowBinary builds cmd/hookflow once per test binary.
func hookflowBinary(t testing.TB) string {
	t.Helper()
	binOnce.Do(func() {
		binDir, binErr = os.MkdirTemp("", "hookflow-bin-")
		if binErr != nil {
			return
		}
		binPath = filepath.Join(binDir, "hookflow")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			binErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

// process is a hookflow daemon started from the built binary.
type process struct {
	cmd   *exec.Cmd
	addr  string // public listener
	admin string // admin listener
	logs  *syncBuffer
}

// servingAddrs reads the listeners' addresses from the "hookflow serving"
// line of a daemon's JSON logs; ok is false until it is written. A daemon
// started on port 0 tells its ports this way, so tests need not pick free
// ports in advance (another process may take one before the daemon binds
// it).
func servingAddrs(logs string) (addr, admin string, ok bool) {
	for line := range strings.Lines(logs) {
		var l struct {
			Msg   string `json:"msg"`
			Addr  string `json:"addr"`
			Admin string `json:"admin_addr"`
		}
		if json.Unmarshal([]byte(line), &l) == nil && l.Msg == "hookflow serving" {
			return l.Addr, l.Admin, true
		}
	}
	return "", "", false
}

// waitServing waits until p's daemon logged that it serves and takes its
// addresses from that line.
func waitServing(t testing.TB, p *process, name string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		if addr, admin, ok := servingAddrs(p.logs.String()); ok {
			p.addr, p.admin = addr, admin
			return
		}
		// A daemon that cannot start says "hookflow: …" and exits.
		if logs := p.logs.String(); strings.HasPrefix(logs, "hookflow: ") || strings.Contains(logs, "\nhookflow: ") || time.Now().After(deadline) {
			t.Fatalf("%s did not start serving:\n%s", name, tail(logs, 30))
		}
		time.Sleep(20 * time.Millisecond) // polling with a deadline, not a wait for time to pass
	}
}

// startProcess starts `hookflow serve` and waits until it serves. addr is
// the public listener's address: "" picks a free port (read back into
// p.addr), an address lets a restarted daemon take its predecessor's. The
// admin listener gets a free port (p.admin).
func startProcess(t *testing.T, addr string, args ...string) *process {
	t.Helper()
	p := &process{logs: &syncBuffer{}}
	p.cmd = exec.Command(hookflowBinary(t), append([]string{"serve", "--addr", cmp.Or(addr, "127.0.0.1:0"), "--log-format", "json", "--admin-addr", "127.0.0.1:0"}, args...)...)
	p.cmd.Env = append(os.Environ(), "HOOKFLOW_CONFIG=")
	p.cmd.Stdout = p.logs
	p.cmd.Stderr = p.logs
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.cmd.Process.Kill(); p.cmd.Wait() })
	waitServing(t, p, "hookflow")
	return p
}

const crashWorkflow = `name: crash
on:
  webhook:
    path: crash
    signature: { scheme: none }
steps:
  - id: first
    uses: set
    with: { n: "${{ event.body.n }}" }
  - id: deliver
    uses: http
    with:
      method: POST
      url: "${{ event.body.receiver }}"
      json: { n: "${{ steps.first.outputs.n }}", run: "${{ run.id }}" }
    retry: { attempts: 10, initial: 50ms, max: 500ms }
`

// TestKillDashNineLosesNothing: post events, kill -9 the daemon right after
// the acks, start it again: every acknowledged event's run completes; only a
// step in flight at the kill may run twice.
func TestKillDashNineLosesNothing(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	seen := map[string]int{} // run id → deliveries
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var in struct{ Run string }
		json.NewDecoder(r.Body).Decode(&in)
		time.Sleep(5 * time.Millisecond) // keep steps in flight
		mu.Lock()
		seen[in.Run]++
		mu.Unlock()
	}))
	t.Cleanup(recv.Close)

	wfDir, data := t.TempDir(), t.TempDir()
	if err := os.WriteFile(filepath.Join(wfDir, "crash.yaml"), []byte(crashWorkflow), 0o644); err != nil {
		t.Fatal(err)
	}
	args := []string{"--workflows", wfDir, "--data", data, "--allow-private-targets", "--workers", "8"}
	p := startProcess(t, "", args...)
	addr := p.addr // the restart below listens where this one did

	const events = 300
	acked := make(chan string, events)
	var wg sync.WaitGroup
	sem := make(chan struct{}, 32)
	for i := range events {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			body := fmt.Sprintf(`{"n":%d,"receiver":%q}`, i, recv.URL)
			resp, err := http.Post("http://"+addr+"/hooks/crash", "application/json", strings.NewReader(body))
			if err != nil {
				return
			}
			defer resp.Body.Close()
			var a struct {
				RunID string `json:"run_id"`
			}
			json.NewDecoder(resp.Body).Decode(&a)
			if resp.StatusCode == http.StatusAccepted {
				acked <- a.RunID
			}
		}()
	}
	wg.Wait()
	close(acked)
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	p.cmd.Wait()
	var ids []string
	for id := range acked {
		ids = append(ids, id)
	}
	if len(ids) != events {
		t.Fatalf("%d of %d events acknowledged before the kill", len(ids), events)
	}
	mu.Lock()
	before := len(seen)
	mu.Unlock()
	t.Logf("%d of %d runs delivered before the kill", before, events)

	p2 := startProcess(t, addr, args...)
	deadline := time.Now().Add(60 * time.Second)
	for {
		mu.Lock()
		missing := 0
		for _, id := range ids {
			if seen[id] == 0 {
				missing++
			}
		}
		mu.Unlock()
		if missing == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d acknowledged runs never completed after the restart; log:\n%s", missing, tail(p2.logs.String(), 40))
		}
		time.Sleep(20 * time.Millisecond)
	}
	mu.Lock()
	twice := 0
	for _, n := range seen {
		if n > 1 {
			twice++
		}
	}
	mu.Unlock()
	// Only the steps in flight at the kill (at most --workers of them) may
	// have run twice.
	if twice > 8 {
		t.Errorf("%d runs delivered twice, more than the 8 workers could have had in flight", twice)
	}
	// A clean stop after the recovery.
	p2.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- p2.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("SIGTERM: exit %v\n%s", err, tail(p2.logs.String(), 20))
		}
	case <-time.After(30 * time.Second):
		t.Error("the daemon did not stop on SIGTERM")
	}
}

func tail(s string, n int) string {
	var lines []string
	sc := bufio.NewScanner(strings.NewReader(s))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
