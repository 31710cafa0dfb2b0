package plugins

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"

	hclog "github.com/hashicorp/go-hclog"
)

// hclogBridge is the hclog.Logger go-plugin logs into; it forwards to slog.
//
// go-plugin also parses each stderr line of the plugin and logs it through
// Named(<binary name>); that parser trusts the JSON it reads (a non-string
// "@message" panics the host), so that sub-logger is switched off and the
// host reads stderr itself (see lineLogger).
type hclogBridge struct {
	log  *slog.Logger
	name string
	mute string // Named(mute) returns a disabled logger
	off  bool
}

func newHCLogBridge(l *slog.Logger, mute string) *hclogBridge {
	return &hclogBridge{log: l, mute: mute}
}

func (b *hclogBridge) Log(level hclog.Level, msg string, args ...any) {
	if b.off || level == hclog.Off || level == hclog.NoLevel {
		return
	}
	b.log.Log(context.Background(), slogLevel(level), msg, args...)
}

func (b *hclogBridge) Trace(msg string, args ...any) { b.Log(hclog.Trace, msg, args...) }
func (b *hclogBridge) Debug(msg string, args ...any) { b.Log(hclog.Debug, msg, args...) }
func (b *hclogBridge) Info(msg string, args ...any)  { b.Log(hclog.Info, msg, args...) }
func (b *hclogBridge) Warn(msg string, args ...any)  { b.Log(hclog.Warn, msg, args...) }
func (b *hclogBridge) Error(msg string, args ...any) { b.Log(hclog.Error, msg, args...) }

func (b *hclogBridge) enabled(l hclog.Level) bool {
	return !b.off && b.log.Enabled(context.Background(), slogLevel(l))
}

func (b *hclogBridge) IsTrace() bool { return b.enabled(hclog.Trace) }
func (b *hclogBridge) IsDebug() bool { return b.enabled(hclog.Debug) }
func (b *hclogBridge) IsInfo() bool  { return b.enabled(hclog.Info) }
func (b *hclogBridge) IsWarn() bool  { return b.enabled(hclog.Warn) }
func (b *hclogBridge) IsError() bool { return b.enabled(hclog.Error) }

func (b *hclogBridge) ImpliedArgs() []any { return nil }

func (b *hclogBridge) With(args ...any) hclog.Logger {
	c := *b
	c.log = b.log.With(args...)
	return &c
}

func (b *hclogBridge) Name() string { return b.name }

func (b *hclogBridge) Named(name string) hclog.Logger {
	c := *b
	if name == b.mute {
		c.off = true
	}
	if c.name != "" {
		name = c.name + "." + name
	}
	c.name = name
	return &c
}

func (b *hclogBridge) ResetNamed(name string) hclog.Logger {
	c := *b
	c.name = name
	return &c
}

func (b *hclogBridge) SetLevel(hclog.Level) {}

func (b *hclogBridge) GetLevel() hclog.Level {
	for _, l := range []hclog.Level{hclog.Trace, hclog.Debug, hclog.Info, hclog.Warn, hclog.Error} {
		if b.enabled(l) {
			return l
		}
	}
	return hclog.Off
}

func (b *hclogBridge) StandardLogger(opts *hclog.StandardLoggerOptions) *log.Logger {
	return log.New(b.StandardWriter(opts), "", 0)
}

func (b *hclogBridge) StandardWriter(*hclog.StandardLoggerOptions) io.Writer {
	return &lineLogger{log: b.log, stream: "log"}
}

func slogLevel(l hclog.Level) slog.Level {
	switch l {
	case hclog.Trace:
		return slog.LevelDebug - 4
	case hclog.Debug:
		return slog.LevelDebug
	case hclog.Warn:
		return slog.LevelWarn
	case hclog.Error:
		return slog.LevelError
	default:
		return slog.LevelInfo
	}
}

// maxLogLine caps one forwarded line; the rest of a longer line is dropped.
const maxLogLine = 64 << 10

// lineLogger turns a plugin's output stream into log records, one per line.
// Lines in go-hclog's JSON format (what the SDK writes) keep their level,
// message and attributes; other lines are logged as they are, at error level
// from a Go panic or fatal error on, at info level before.
type lineLogger struct {
	log    *slog.Logger
	stream string

	mu       sync.Mutex
	buf      []byte
	skipping bool // the rest of a cut line
	inPanic  bool
}

func (w *lineLogger) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := len(p)
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			if !w.skipping {
				w.buf = append(w.buf, p...)
				if len(w.buf) > maxLogLine {
					w.emit(w.buf)
					w.buf = w.buf[:0]
					w.skipping = true
				}
			}
			break
		}
		if !w.skipping {
			line := p[:i]
			if len(w.buf) > 0 {
				w.buf = append(w.buf, line...)
				line = w.buf
			}
			w.emit(line)
		}
		w.buf = w.buf[:0]
		w.skipping = false
		p = p[i+1:]
	}
	return n, nil
}

// Flush logs a last line that had no newline.
func (w *lineLogger) Flush() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.buf) > 0 {
		w.emit(w.buf)
		w.buf = w.buf[:0]
	}
}

func (w *lineLogger) emit(line []byte) {
	line = bytes.TrimRight(line, "\r")
	if len(bytes.TrimSpace(line)) == 0 {
		return
	}
	if len(line) > maxLogLine {
		line = append(line[:maxLogLine:maxLogLine], " [cut]"...)
	}
	if msg, level, attrs, ok := parseHCLogJSON(line); ok {
		w.log.Log(context.Background(), level, msg, attrs...)
		return
	}
	s := string(line)
	if strings.HasPrefix(s, "panic: ") || strings.HasPrefix(s, "fatal error: ") {
		w.inPanic = true
	}
	level := slog.LevelInfo
	if w.inPanic {
		level = slog.LevelError
	}
	w.log.Log(context.Background(), level, s, "stream", w.stream)
}

// parseHCLogJSON reads one go-hclog JSON line: "@message" and "@level" are
// required strings; other keys except "@timestamp" become attributes.
func parseHCLogJSON(line []byte) (string, slog.Level, []any, bool) {
	if len(line) == 0 || line[0] != '{' {
		return "", 0, nil, false
	}
	var m map[string]any
	if err := json.Unmarshal(line, &m); err != nil {
		return "", 0, nil, false
	}
	msg, ok1 := m["@message"].(string)
	lvl, ok2 := m["@level"].(string)
	if !ok1 || !ok2 {
		return "", 0, nil, false
	}
	level := slogLevel(hclog.LevelFromString(lvl))
	var attrs []any
	for _, k := range slices.Sorted(maps.Keys(m)) {
		switch k {
		case "@message", "@level", "@timestamp":
			continue
		case "@module":
			attrs = append(attrs, "module", m[k])
		default:
			attrs = append(attrs, k, m[k])
		}
	}
	return msg, level, attrs, true
}

var (
	_ hclog.Logger = (*hclogBridge)(nil)
	_ io.Writer    = (*lineLogger)(nil)
)
