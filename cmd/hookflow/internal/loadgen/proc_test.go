package loadgen

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestParseStat(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile(filepath.Join("testdata", "stat"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		in      string
		want    CPU
		wantErr string
	}{
		{"command with spaces and parentheses", string(b), CPU{User: 2500 * time.Millisecond, System: 370 * time.Millisecond}, ""},
		{"no command", "4242 S 1 2", CPU{}, "no command name"},
		{"truncated", "1 (x) S 1 2 3", CPU{}, "fields after the command name"},
		{"not a number", "1 (x) S 1 1 1 0 -1 0 0 0 0 0 ab 3 0", CPU{}, "invalid syntax"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := parseStat([]byte(tt.in))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("got %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
}

func TestParseStatus(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile(filepath.Join("testdata", "status"))
	if err != nil {
		t.Fatal(err)
	}
	got, err := parseStatus(b)
	if err != nil {
		t.Fatal(err)
	}
	want := Memory{Peak: 61234 << 10, RSS: 50000 << 10, Anon: 30000 << 10, File: 20000 << 10}
	if got != want {
		t.Fatalf("got %+v, want %+v", got, want)
	}
	for _, bad := range []struct{ in, wantErr string }{
		{"VmHWM: 1 kB\n", "found 1 of"},
		{"VmHWM: 1 MB\nVmRSS: 1 kB\nRssAnon: 1 kB\nRssFile: 1 kB\n", `VmHWM: unexpected "1 MB"`},
		{"VmHWM: x kB\n", "VmHWM: strconv"},
	} {
		if _, err := parseStatus([]byte(bad.in)); err == nil || !strings.Contains(err.Error(), bad.wantErr) {
			t.Errorf("parseStatus(%q) = %v, want error containing %q", bad.in, err, bad.wantErr)
		}
	}
}

// TestReadThisProcess reads the real /proc of the test process, both as
// self and by pid.
func TestReadThisProcess(t *testing.T) {
	t.Parallel()
	self, err := ReadMemory(0)
	if err != nil {
		t.Fatal(err)
	}
	if self.RSS == 0 || self.Peak < self.RSS || self.Anon == 0 {
		t.Fatalf("implausible memory %+v", self)
	}
	if _, err := ReadMemory(os.Getpid()); err != nil {
		t.Fatal(err)
	}
	if err := ResetPeak(0); err != nil {
		t.Fatal(err)
	}
	before, err := ReadCPU(0)
	if err != nil {
		t.Fatal(err)
	}
	// Burn CPU until getrusage shows it (bounded by a deadline).
	deadline := time.Now().Add(10 * time.Second)
	x := 0
	for {
		for i := 0; i < 1_000_000; i++ {
			x += i * i
		}
		now, err := ReadCPU(0)
		if err != nil {
			t.Fatal(err)
		}
		if now.Sub(before).Total() > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("CPU time did not move (%d)", x)
		}
	}
	byPid, err := ReadCPU(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if byPid.Total() < 0 {
		t.Fatalf("cpu by pid %+v", byPid)
	}
	if _, err := ReadMemory(1 << 30); err == nil {
		t.Fatal("reading a process that does not exist must fail")
	}
}

func TestParseIO(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile(filepath.Join("testdata", "io"))
	if err != nil {
		t.Fatal(err)
	}
	got, err := parseIO(b)
	if err != nil || got.WriteBytes != 8192000 {
		t.Fatalf("got %+v, %v", got, err)
	}
	for _, bad := range []struct{ in, wantErr string }{
		{"rchar: 1\n", "no write_bytes"},
		{"write_bytes: -1\n", "write_bytes: strconv"},
	} {
		if _, err := parseIO([]byte(bad.in)); err == nil || !strings.Contains(err.Error(), bad.wantErr) {
			t.Errorf("parseIO(%q) = %v, want error containing %q", bad.in, err, bad.wantErr)
		}
	}
	if _, err := ReadIO(0); err != nil {
		t.Fatal(err)
	}
}
