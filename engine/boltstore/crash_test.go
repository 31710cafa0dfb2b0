package boltstore_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookflow/hookflow/engine"
	"github.com/hookflow/hookflow/engine/boltstore"
)

// crashChildEnv makes the test binary act as a sender process that is
// killed mid-flight by TestKilledProcessKeepsEveryAck.
const crashChildEnv = "BOLTSTORE_CRASH_CHILD_DB"

func TestMain(m *testing.M) {
	if path := os.Getenv(crashChildEnv); path != "" {
		crashChild(path)
		return
	}
	os.Exit(m.Run())
}

// crashOptions: dedupe generations of 64 keys, so that the kill lands
// while the dedupe index flushes and merges.
func crashOptions(path string) boltstore.Options {
	return boltstore.SmallDedupeGenerations(boltstore.Options{Path: path}, 64, 16)
}

// crashChild is the child process: 16 senders enqueue runs, each with its
// own dedupe key, until the process is killed, printing each run's id and
// key after Enqueue returned (the ack).
func crashChild(path string) {
	ctx := context.Background()
	s, err := boltstore.Open(ctx, crashOptions(path))
	if err != nil {
		fmt.Println("open:", err)
		os.Exit(2)
	}
	var mu sync.Mutex
	out := bufio.NewWriter(os.Stdout)
	var wg sync.WaitGroup
	for w := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				r := run(fmt.Sprintf("w%d", w), i)
				r.DedupeKey, r.DedupeUntil = fmt.Sprintf("key-%d-%d", w, i), t0.Add(time.Hour)
				res, err := s.Enqueue(ctx, r)
				if err != nil || res[0].Duplicate {
					fmt.Println("enqueue:", err, res)
					os.Exit(2)
				}
				mu.Lock()
				fmt.Fprintln(out, res[0].RunID, r.Workflow, r.DedupeKey)
				_ = out.Flush()
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
}

// TestKilledProcessKeepsEveryAck kills a process that is enqueuing as fast
// as it can, with SIGKILL, and checks that every run it acknowledged is in
// the file (an ack is only given after the commit) and that its dedupe key
// still names it.
func TestKilledProcessKeepsEveryAck(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "hookflow.db")
	cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), crashChildEnv+"="+path)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var acked, workflows, keys []string
	sc := bufio.NewScanner(stdout)
	for sc.Scan() && len(acked) < 2000 {
		f := strings.Fields(sc.Text())
		if len(f) != 3 || len(f[0]) != 36 {
			_ = cmd.Process.Kill()
			t.Fatalf("child: %s", sc.Text())
		}
		acked, workflows, keys = append(acked, f[0]), append(workflows, f[1]), append(keys, f[2])
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	if len(acked) < 2000 {
		t.Fatalf("child acked only %d runs before it stopped", len(acked))
	}

	s := openAt(t, crashOptions(path))
	defer s.Close()
	for i, id := range acked {
		r := run(workflows[i], 0)
		r.DedupeKey, r.DedupeUntil = keys[i], t0.Add(time.Hour)
		res, err := s.Enqueue(t.Context(), r)
		if err != nil || !res[0].Duplicate || res[0].RunID != id {
			t.Fatalf("key %s of acked run %s after the kill: %+v, %v; want a duplicate of it", keys[i], id, res, err)
		}
	}
	for _, id := range acked {
		r, err := s.Get(t.Context(), id)
		if err != nil {
			t.Fatalf("acked run %s lost after the kill: %v", id, err)
		}
		if r.Status != engine.StatusQueued {
			t.Errorf("run %s: status %s, want queued", id, r.Status)
		}
	}
	// The indexes agree with the runs: everything queued is claimable.
	queued := s.Stats().Queued
	c, err := s.Claim(t.Context(), engine.ClaimRequest{Owner: "x", Max: 1 << 20, LeaseFor: time.Minute, Now: t0.Add(24 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if int64(len(c.Runs)) != queued || len(c.Runs) < len(acked) || s.Stats().Queued != 0 {
		t.Errorf("claimed %d runs of %d queued, %d left; want all, at least the %d acked",
			len(c.Runs), queued, s.Stats().Queued, len(acked))
	}
}
