package plugins

import (
	"context"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hookflow/hookflow/actions"
)

// TestKilledBetweenCallsRestarts: a process that died while idle is
// noticed by the next call, which starts a new one.
func TestKilledBetweenCallsRestarts(t *testing.T) {
	t.Parallel()
	f := setup(t, Options{}, "test")
	r := registry(t, f.host)
	out, err := execute(t, r, "test.echo", map[string]any{"message": "a"})
	if err != nil {
		t.Fatal(err)
	}
	pid := int(out["pid"].(float64))
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	p := f.host.procs["test"]
	p.mu.Lock()
	inst := p.cur
	p.mu.Unlock()
	select {
	case <-inst.exited:
	case <-time.After(10 * time.Second):
		t.Fatal("the host did not notice the process exit")
	}
	out, err = execute(t, r, "test.echo", map[string]any{"message": "b"})
	if err != nil {
		t.Fatalf("call after the kill: %v", err)
	}
	if int(out["pid"].(float64)) == pid {
		t.Error("same pid after the kill")
	}
	f.logs.waitFor(t, "about the exit", func(r logRecord) bool {
		return strings.Contains(r.Msg, "plugin process exited") && r.Attrs["plugin"] == "test"
	})
}

// TestCrashFailsEveryCallInFlight: calls in flight when the process dies
// all fail retryably, the crash counts once (so the restart is immediate),
// and the calls that follow share one new process.
func TestCrashFailsEveryCallInFlight(t *testing.T) {
	t.Parallel()
	f := setup(t, Options{RestartBackoff: Backoff{Min: time.Hour, Max: time.Hour}}, "test")
	r := registry(t, f.host)
	hang, _ := r.Lookup("test.hang")
	const inFlight = 8
	errs := make(chan error, inFlight)
	for range inFlight {
		go func() {
			_, err := hang.Execute(context.Background(), actions.Request{RunID: "r", StepID: "s", Attempt: 1})
			errs <- err
		}()
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		n := 0
		for _, rec := range f.logs.all() {
			if rec.Msg == "hanging" {
				n++
			}
		}
		if n == inFlight {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d calls reached the plugin", n, inFlight)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if _, err := execute(t, r, "test.crash", nil); err == nil {
		t.Fatal("crash: no error")
	}
	for range inFlight {
		err := <-errs
		if err == nil || !strings.Contains(err.Error(), "plugin test exited during the call to hang") || actions.IsPermanent(err) {
			t.Errorf("call in flight: err = %v", err)
		}
	}
	var wg sync.WaitGroup
	pids := make(chan any, 16)
	for range 16 {
		wg.Go(func() {
			out, err := execute(t, r, "test.echo", map[string]any{"message": "x"})
			if err != nil {
				t.Errorf("after the crash: %v", err)
				return
			}
			pids <- out["pid"]
		})
	}
	wg.Wait()
	close(pids)
	seen := map[any]bool{}
	for p := range pids {
		seen[p] = true
	}
	if len(seen) != 1 {
		t.Errorf("%d processes after one restart, want 1", len(seen))
	}
}
