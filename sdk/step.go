package sdk

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"time"
)

// StepInfo says which attempt of which step of which run an action serves.
type StepInfo struct {
	RunID    string
	Workflow string
	StepID   string
	Attempt  int // 1 for the first attempt of this step
	// IdempotencyKey is the same for every attempt of this step of this run:
	// pass it downstream (an Idempotency-Key header, a unique column) so that
	// retries are safe.
	IdempotencyKey string
	// Deadline is when the host gives up on the attempt (the step timeout);
	// zero when none. ctx carries it too.
	Deadline time.Time
}

// call is what a context knows about the call it serves.
type call struct {
	step   StepInfo
	action string
	base   *slog.Logger

	once sync.Once
	log  *slog.Logger
}

type callKey struct{}

// Step returns the step an action is serving, or the zero StepInfo outside
// a call.
func Step(ctx context.Context) StepInfo {
	if c, ok := ctx.Value(callKey{}).(*call); ok {
		return c.step
	}
	return StepInfo{}
}

// Logger returns the logger of the current call. Its lines reach the daemon's
// log, tagged with the plugin's name, the run, the step and the action.
// Outside a call it returns a logger that discards everything.
//
// Never log secrets: inputs may carry them.
func Logger(ctx context.Context) *slog.Logger {
	c, ok := ctx.Value(callKey{}).(*call)
	if !ok {
		return slog.New(slog.DiscardHandler)
	}
	c.once.Do(func() { c.log = c.base.With(c.attrs()...) })
	return c.log
}

func (c *call) attrs() []any {
	return []any{"action", c.action, "run_id", c.step.RunID, "step_id", c.step.StepID, "attempt", c.step.Attempt}
}

func withCall(ctx context.Context, c *call) context.Context {
	return context.WithValue(ctx, callKey{}, c)
}

// hclogTimeFormat is the timestamp layout of go-hclog's JSON lines.
const hclogTimeFormat = "2006-01-02T15:04:05.000000Z07:00"

// newStderrLogger returns a logger writing go-hclog JSON lines to w (the
// plugin's real stderr), the format the host reads back into its own log.
func newStderrLogger(w io.Writer) *slog.Logger {
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{
		Level: slog.LevelDebug - 4,
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			if len(groups) > 0 {
				return a
			}
			switch a.Key {
			case slog.TimeKey:
				return slog.String("@timestamp", a.Value.Time().Format(hclogTimeFormat))
			case slog.MessageKey:
				return slog.String("@message", a.Value.String())
			case slog.LevelKey:
				return slog.String("@level", hclogLevel(a.Value.Any().(slog.Level)))
			}
			return a
		},
	}))
}

func hclogLevel(l slog.Level) string {
	switch {
	case l < slog.LevelDebug:
		return "trace"
	case l < slog.LevelInfo:
		return "debug"
	case l < slog.LevelWarn:
		return "info"
	case l < slog.LevelError:
		return "warn"
	default:
		return "error"
	}
}
