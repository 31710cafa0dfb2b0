package pgtest

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// StartServer initialises and starts a PostgreSQL server of the test's own
// in a temporary directory on a free port, and stops and removes it when the
// test ends. It returns the URL of its database "postgres" (user postgres,
// trust authentication) and functions that stop the server (fast shutdown:
// connections are cut) and start it again on the same port with the same
// data. Without the server binaries the test fails when CI is set and is
// skipped otherwise.
func StartServer(t testing.TB) (url string, stop, start func()) {
	t.Helper()
	bin := serverBin()
	if bin == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("pgtest: initdb not found: install the PostgreSQL server package")
		}
		t.Skip("pgtest: initdb not found: install the PostgreSQL server package")
	}
	srv := &server{bin: bin}

	// t.TempDir's parent is private to this user; PostgreSQL refuses to
	// run as root, so as root the server belongs to "postgres" and lives in
	// a directory of its own under the system temporary directory.
	dir, err := os.MkdirTemp("", "hookflow-pgtest-")
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	srv.dir = dir
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			t.Fatalf("pgtest: running as root and no user postgres to run the server: %v", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			t.Fatalf("pgtest: %v", err)
		}
		srv.as = "postgres"
	}
	srv.port, err = freePort()
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	if err := srv.run("initdb", "-D", srv.data(), "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync"); err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	if err := srv.start(); err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	t.Cleanup(func() {
		// Immediate: the test may leave connections behind, and the
		// server may already be stopped.
		_ = srv.command("pg_ctl", "-D", srv.data(), "-m", "immediate", "-w", "stop").Run()
	})
	url = fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable&connect_timeout=5", srv.port)
	stop = func() {
		t.Helper()
		if err := srv.run("pg_ctl", "-D", srv.data(), "-m", "fast", "-w", "-t", "60", "stop"); err != nil {
			t.Fatalf("pgtest: stop: %v", err)
		}
	}
	start = func() {
		t.Helper()
		if err := srv.start(); err != nil {
			t.Fatalf("pgtest: start: %v", err)
		}
	}
	return url, stop, start
}

// server is a throwaway PostgreSQL cluster.
type server struct {
	bin  string // directory of initdb and pg_ctl
	dir  string // holds data/, the socket and server.log
	port int
	as   string // run the programs as this user ("" for the current one)
}

// serverBin finds the directory of the newest initdb.
func serverBin() string {
	found, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	if len(found) == 0 {
		if path, err := exec.LookPath("initdb"); err == nil {
			found = []string{path}
		}
	}
	if len(found) == 0 {
		return ""
	}
	// Version directories sort numerically by length first: 9.6 < 16.
	sort.Slice(found, func(i, j int) bool {
		if len(found[i]) != len(found[j]) {
			return len(found[i]) < len(found[j])
		}
		return found[i] < found[j]
	})
	return filepath.Dir(found[len(found)-1])
}

func (s *server) data() string { return filepath.Join(s.dir, "data") }

func (s *server) command(name string, args ...string) *exec.Cmd {
	path := filepath.Join(s.bin, name)
	var cmd *exec.Cmd
	if s.as != "" {
		cmd = exec.Command("runuser", append([]string{"-u", s.as, "--", path}, args...)...)
	} else {
		cmd = exec.Command(path, args...)
	}
	cmd.Dir = s.dir
	return cmd
}

func (s *server) run(name string, args ...string) error {
	out, err := s.command(name, args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s %s: %w\n%s%s", name, strings.Join(args, " "), err, out, s.logTail())
	}
	return nil
}

func (s *server) start() error {
	opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off", s.port, s.dir)
	return s.run("pg_ctl", "-D", s.data(), "-l", filepath.Join(s.dir, "server.log"), "-o", opts, "-w", "-t", "60", "start")
}

// logTail is the end of the server's log, for failure messages.
func (s *server) logTail() string {
	b, err := os.ReadFile(filepath.Join(s.dir, "server.log"))
	if err != nil || len(b) == 0 {
		return ""
	}
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return "server.log:\n" + string(b)
}

// freePort returns a TCP port that was free a moment ago.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
