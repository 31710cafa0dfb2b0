package workflows

import (
	"testing"
	"time"
)

func TestParseDuration(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
		err  string
	}{
		{"30s", 30 * time.Second, ""},
		{"1h30m", 90 * time.Minute, ""},
		{"500ms", 500 * time.Millisecond, ""},
		{"2d", 48 * time.Hour, ""},
		{"1d12h", 36 * time.Hour, ""},
		{"0d30m", 30 * time.Minute, ""},
		{"0s", 0, ""},
		{"30", 0, `invalid duration "30": missing unit (e.g. 30s, 5m, 1h, 2d)`},
		{"5 minutes", 0, `invalid duration "5 minutes" (e.g. 30s, 5m, 1h30m, 2d)`},
		{"-5m", 0, `invalid duration "-5m": negative`},
		{"1d-1h", 0, `invalid duration "1d-1h"`},
		{"xd", 0, `invalid duration "xd"`},
		{"-1d", 0, `invalid duration "-1d"`},
		{"", 0, `invalid duration "" (e.g. 30s, 5m, 1h30m, 2d)`},
		{"99999d", 99999 * 24 * time.Hour, ""},
		{"100001d", 0, `invalid duration "100001d"`},
	}
	for _, tt := range tests {
		got, err := parseDuration(tt.in)
		if tt.err != "" {
			if err == nil || err.Error() != tt.err {
				t.Errorf("parseDuration(%q) error = %v, want %s", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("parseDuration(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
}

func TestParseBytes(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		err  bool
	}{
		{"1048576", 1 << 20, false},
		{"512KiB", 512 << 10, false},
		{"1MiB", 1 << 20, false},
		{"10MB", 10_000_000, false},
		{"1.5 MiB", 3 << 19, false},
		{"64mib", 64 << 20, false},
		{"2K", 2048, false},
		{"100B", 100, false},
		{"1GB", 1e9, false},
		{"0", 0, true},
		{"0.1B", 0, true},
		{"-1MiB", 0, true},
		{"MiB", 0, true},
		{"1 parsec", 0, true},
		{"0x10", 0, true},
		{"1_000", 0, true},
		{"InfB", 0, true},
		{"NaN", 0, true},
	}
	for _, tt := range tests {
		got, err := parseBytes(tt.in)
		if tt.err {
			if err == nil {
				t.Errorf("parseBytes(%q) = %d, want an error", tt.in, got)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("parseBytes(%q) = %d, %v; want %d", tt.in, got, err, tt.want)
		}
	}
}

func TestPosAndProblemText(t *testing.T) {
	tests := []struct {
		p    Problem
		want string
	}{
		{Problem{Pos{"a.yaml", 3, 7}, "bad"}, "a.yaml:3:7: bad"},
		{Problem{Pos{"a.yaml", 3, 0}, "bad"}, "a.yaml:3: bad"},
		{Problem{Pos{"a.yaml", 0, 0}, "bad"}, "a.yaml: bad"},
		{Problem{Pos{}, "bad"}, "bad"},
	}
	for _, tt := range tests {
		if got := tt.p.String(); got != tt.want {
			t.Errorf("%#v = %q, want %q", tt.p, got, tt.want)
		}
	}
	ps := sortProblems(Problems{
		{Pos{"b", 1, 1}, "x"}, {Pos{"a", 2, 1}, "y"}, {Pos{"a", 1, 5}, "z"}, {Pos{"a", 1, 5}, "z"}, {Pos{"a", 1, 2}, "w"},
	})
	if got, want := ps.Error(), "a:1:2: w\na:1:5: z\na:2:1: y\nb:1:1: x"; got != want {
		t.Errorf("sorted problems:\n%s\nwant\n%s", got, want)
	}
}
