package pgstore_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hookflow/hookflow/engine"
	"github.com/hookflow/hookflow/engine/pgstore"
)

// tempPostgres is a PostgreSQL cluster of the test's own, in a temporary
// directory, that the test can stop and start.
type tempPostgres struct {
	bin  string // directory of initdb, pg_ctl
	dir  string
	port int
	as   string // run the server as this user ("" for the current one)
}

// startPostgres initialises and starts a throwaway cluster. Without the
// server binaries the test fails under CI and is skipped otherwise.
func startPostgres(t *testing.T) *tempPostgres {
	t.Helper()
	found, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	if len(found) == 0 {
		if path, err := exec.LookPath("initdb"); err == nil {
			found = []string{path}
		}
	}
	if len(found) == 0 {
		if os.Getenv("CI") != "" {
			t.Fatal("initdb not found: install the PostgreSQL server package")
		}
		t.Skip("initdb not found: install the PostgreSQL server package")
	}
	sort.Strings(found)
	pg := &tempPostgres{bin: filepath.Dir(found[len(found)-1])}

	// t.TempDir's parent is private to this user; PostgreSQL refuses to
	// run as root, so as root the cluster belongs to "postgres" and lives in
	// a directory of its own under the system temp dir.
	dir, err := os.MkdirTemp("", "pgstore-outage-")
	if err != nil {
		t.Fatal(err)
	}
	pg.dir = dir
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			t.Fatalf("running as root and no postgres user to run the server: %v", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			t.Fatal(err)
		}
		pg.as = "postgres"
	}
	pg.port = freePort(t)
	pg.run(t, "initdb", "-D", pg.data(), "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync")
	pg.start(t)
	t.Cleanup(func() {
		// Immediate: the test may leave connections behind.
		cmd := pg.command("pg_ctl", "-D", pg.data(), "-m", "immediate", "-w", "stop")
		_ = cmd.Run()
	})
	return pg
}

func (pg *tempPostgres) data() string { return filepath.Join(pg.dir, "data") }

func (pg *tempPostgres) url() string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable&connect_timeout=5", pg.port)
}

func (pg *tempPostgres) command(name string, args ...string) *exec.Cmd {
	path := filepath.Join(pg.bin, name)
	if pg.as != "" {
		return exec.Command("runuser", append([]string{"-u", pg.as, "--", path}, args...)...)
	}
	return exec.Command(path, args...)
}

func (pg *tempPostgres) run(t *testing.T, name string, args ...string) {
	t.Helper()
	cmd := pg.command(name, args...)
	cmd.Dir = pg.dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
}

func (pg *tempPostgres) start(t *testing.T) {
	t.Helper()
	opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off", pg.port, pg.dir)
	pg.run(t, "pg_ctl", "-D", pg.data(), "-l", filepath.Join(pg.dir, "server.log"), "-o", opts, "-w", "-t", "60", "start")
}

func (pg *tempPostgres) stop(t *testing.T) {
	t.Helper()
	pg.run(t, "pg_ctl", "-D", pg.data(), "-m", "fast", "-w", "-t", "60", "stop")
}

// freePort returns a TCP port that was free a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// TestDatabaseOutage stops the database under a running store: Enqueue
// fails with ErrUnavailable while it is down, stores nothing of the failed
// calls, and works again once the database is back, without reopening.
func TestDatabaseOutage(t *testing.T) {
	pg := startPostgres(t)
	var logs syncBuffer
	s := open(t, pg.url(), "hookflow", func(o *pgstore.Options) {
		o.WriteTimeout = 5 * time.Second
		o.PollInterval = time.Hour // wake-ups below come from NOTIFY only
		o.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	})
	t.Cleanup(func() { _ = s.Close() })
	ctx := t.Context()

	keyed := func(key string, created time.Time) *engine.Run {
		r := newRun("w", created)
		r.DedupeKey, r.DedupeUntil = key, created.Add(time.Hour)
		return r
	}
	var acked []string
	res, err := s.Enqueue(ctx, keyed("before", at(0)))
	if err != nil {
		t.Fatalf("Enqueue before the outage: %v", err)
	}
	acked = append(acked, res[0].RunID)

	pg.stop(t)
	for i, runs := range [][]*engine.Run{
		{keyed("during-1", at(time.Second))},
		{keyed("during-2", at(time.Second)), newRun("w", at(time.Second)), keyed("during-3", at(time.Second))},
	} {
		_, err := s.Enqueue(ctx, runs...)
		if !errors.Is(err, pgstore.ErrUnavailable) {
			t.Fatalf("Enqueue %d while the database is down: %v, want ErrUnavailable", i, err)
		}
		if errors.Is(err, engine.ErrClosed) {
			t.Errorf("Enqueue while the database is down says the store is closed: %v", err)
		}
		t.Logf("while down: %v", err)
	}
	if _, err := s.Claim(ctx, engine.ClaimRequest{Owner: "w", Max: 1, LeaseFor: time.Minute, Now: at(time.Hour)}); err == nil {
		t.Error("Claim while the database is down succeeded")
	}

	pg.start(t)
	deadline := time.Now().Add(30 * time.Second)
	for {
		res, err := s.Enqueue(ctx, keyed("after", at(2*time.Second)))
		if err == nil {
			acked = append(acked, res[0].RunID)
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("Enqueue still failing 30s after the database came back: %v", err)
		}
		select {
		case <-ctx.Done():
			t.Fatal(ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}

	// Exactly the acknowledged runs are stored.
	runs, _, err := s.List(ctx, engine.ListFilter{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	var stored []string
	for _, r := range runs {
		stored = append(stored, r.ID)
	}
	sort.Strings(stored)
	sort.Strings(acked)
	if strings.Join(stored, ",") != strings.Join(acked, ",") {
		t.Errorf("stored runs %v, want exactly the acknowledged %v", stored, acked)
	}
	// No dedupe key of a failed call was left behind: the sender's retry
	// is a new run, not a duplicate of nothing.
	for _, key := range []string{"during-1", "during-2", "during-3"} {
		res, err := s.Enqueue(ctx, keyed(key, at(3*time.Second)))
		if err != nil || res[0].Duplicate {
			t.Errorf("retry of %s after the outage: %+v, %v; want a new run", key, res, err)
		}
	}
	if res, err := s.Enqueue(ctx, keyed("before", at(3*time.Second))); err != nil || !res[0].Duplicate {
		t.Errorf("key stored before the outage: %+v, %v; want a duplicate", res, err)
	}

	// The listener reconnected by itself: another node's enqueue wakes us.
	for !strings.Contains(logs.String(), "listening for other nodes again") {
		if time.Now().After(deadline) {
			t.Fatalf("listener not back 30s after the database came back; log:\n%s", logs.String())
		}
		select {
		case <-ctx.Done():
			t.Fatal(ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
	other := open(t, pg.url(), "hookflow")
	t.Cleanup(func() { _ = other.Close() })
	drain(s.Wake())
	res, err = other.Enqueue(ctx, newRun("w", at(4*time.Second)))
	if err != nil {
		t.Fatal(err)
	}
	acked = append(acked, res[0].RunID)
	waitWake(t, s.Wake(), "enqueue on another node after the outage")

	// Claims work again too.
	c, err := s.Claim(context.Background(), engine.ClaimRequest{Owner: "w", Max: 10, LeaseFor: time.Minute, Now: at(time.Hour)})
	if err != nil || len(c.Runs) != 6 {
		t.Errorf("Claim after the outage: %d runs, %v; want 6", len(c.Runs), err)
	}
}
