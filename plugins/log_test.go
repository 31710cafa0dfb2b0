package plugins

import (
	"log/slog"
	"strings"
	"testing"

	hclog "github.com/hashicorp/go-hclog"
)

func TestLineLogger(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		writes []string
		flush  bool
		want   []string // "LEVEL message"
	}{
		{"one line", []string{"hello\n"}, false, []string{"INFO hello"}},
		{"split writes", []string{"hel", "lo\nwor", "ld\n"}, false, []string{"INFO hello", "INFO world"}},
		{"partial line waits for flush", []string{"no newline"}, false, nil},
		{"flush", []string{"no newline"}, true, []string{"INFO no newline"}},
		{"blank lines dropped", []string{"\n\r\n  \n"}, false, nil},
		{"crlf", []string{"dos\r\n"}, false, []string{"INFO dos"}},
		{"hclog json", []string{`{"@level":"warn","@message":"careful","@timestamp":"2024-01-02T03:04:05.000000Z","k":"v"}` + "\n"}, false, []string{"WARN careful"}},
		{"hclog trace", []string{`{"@level":"trace","@message":"fine"}` + "\n"}, false, []string{"DEBUG-4 fine"}},
		{"json that is not hclog", []string{`{"@message":5,"@level":"info"}` + "\n"}, false, []string{`INFO {"@message":5,"@level":"info"}`}},
		{"broken json", []string{`{"@message":` + "\n"}, false, []string{`INFO {"@message":`}},
		{"panic and trace", []string{"before\npanic: boom\n\ngoroutine 1 [running]:\nmain.main()\n"}, false,
			[]string{"INFO before", "ERROR panic: boom", "ERROR goroutine 1 [running]:", "ERROR main.main()"}},
		{"fatal error", []string{"fatal error: all goroutines are asleep\n"}, false, []string{"ERROR fatal error: all goroutines are asleep"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := &recorder{}
			w := &lineLogger{log: slog.New(rec), stream: "stderr"}
			for _, s := range tt.writes {
				if n, err := w.Write([]byte(s)); n != len(s) || err != nil {
					t.Fatalf("Write = %d, %v", n, err)
				}
			}
			if tt.flush {
				w.Flush()
			}
			var got []string
			for _, r := range rec.all() {
				got = append(got, r.Level.String()+" "+r.Msg)
			}
			if strings.Join(got, "|") != strings.Join(tt.want, "|") {
				t.Errorf("logged %q, want %q", got, tt.want)
			}
		})
	}
}

func TestLineLoggerKeepsAttributes(t *testing.T) {
	t.Parallel()
	rec := &recorder{}
	w := &lineLogger{log: slog.New(rec).With("plugin", "chat"), stream: "stderr"}
	w.Write([]byte(`{"@level":"info","@message":"sent","@module":"chat","status":200,"@timestamp":"x"}` + "\n"))
	got := rec.all()
	if len(got) != 1 {
		t.Fatalf("records: %v", got)
	}
	want := map[string]any{"plugin": "chat", "module": "chat", "status": float64(200)}
	if len(got[0].Attrs) != len(want) {
		t.Errorf("attrs = %v, want %v", got[0].Attrs, want)
	}
	for k, v := range want {
		if got[0].Attrs[k] != v {
			t.Errorf("attr %s = %v, want %v", k, got[0].Attrs[k], v)
		}
	}
}

func TestLineLoggerCutsLongLines(t *testing.T) {
	t.Parallel()
	rec := &recorder{}
	w := &lineLogger{log: slog.New(rec), stream: "stderr"}
	long := strings.Repeat("x", maxLogLine+10)
	w.Write([]byte(long + "\nnext\n"))   // in one write
	w.Write([]byte(long[:maxLogLine-1])) // in pieces
	w.Write([]byte(long[maxLogLine-1:])) // over the cap: cut here
	w.Write([]byte("still the long line\nlast\n"))
	var got []string
	for _, r := range rec.all() {
		got = append(got, r.Msg)
	}
	cut := strings.Repeat("x", maxLogLine) + " [cut]"
	if want := []string{cut, "next", cut, "last"}; strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("got %d records, want 4 (two cut lines)", len(got))
	}
}

func TestHCLogBridge(t *testing.T) {
	t.Parallel()
	rec := &recorder{}
	b := newHCLogBridge(slog.New(rec), "hookflow-plugin-chat")
	b.Named("stdio").Info("stream", "k", 1)
	b.With("a", "b").Warn("warned")
	muted := b.Named("hookflow-plugin-chat")
	muted.Error("dropped")
	if muted.GetLevel() != hclog.Off {
		t.Errorf("muted level = %v, want off", muted.GetLevel())
	}
	if b.GetLevel() != hclog.Trace {
		t.Errorf("level = %v, want trace (the recorder takes everything)", b.GetLevel())
	}
	var got []string
	for _, r := range rec.all() {
		got = append(got, r.Level.String()+" "+r.Msg)
	}
	if strings.Join(got, "|") != "INFO stream|WARN warned" {
		t.Errorf("logged %q", got)
	}
}
