package actions

import (
	"context"
	"log/slog"
	"sort"
)

// Log is the `log` action: one record in the daemon's log, tagged with the
// run, workflow, step and attempt.
//
// Input: message (required), level (debug|info|warn|error, default info),
// fields (an object, logged as the group "fields"). Outputs: message, level.
type Log struct {
	logger *slog.Logger
}

// NewLog returns the log action writing to logger (slog.Default() when nil).
func NewLog(logger *slog.Logger) *Log {
	if logger == nil {
		logger = slog.Default()
	}
	return &Log{logger: logger}
}

// InputSchema returns the JSON Schema of the action's input.
func (a *Log) InputSchema() []byte { return schema(NameLog) }

var logLevels = map[string]slog.Level{
	"debug": slog.LevelDebug,
	"info":  slog.LevelInfo,
	"warn":  slog.LevelWarn,
	"error": slog.LevelError,
}

// Execute logs the message.
func (a *Log) Execute(ctx context.Context, req Request) (map[string]any, error) {
	in := newInput(req.Input, "message", "level", "fields")
	msg := in.required("message")
	level := in.oneOf("level", "info", "debug", "info", "warn", "error")
	fields := in.object("fields")
	if err := in.err(NameLog); err != nil {
		return nil, err
	}
	attrs := []slog.Attr{
		slog.String("run_id", req.RunID),
		slog.String("workflow", req.Workflow),
		slog.String("step", req.StepID),
		slog.Int("attempt", req.Attempt),
	}
	if len(fields) > 0 {
		keys := make([]string, 0, len(fields))
		for k := range fields {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		group := make([]any, 0, len(keys))
		for _, k := range keys {
			group = append(group, slog.Any(k, fields[k]))
		}
		attrs = append(attrs, slog.Group("fields", group...))
	}
	a.logger.LogAttrs(ctx, logLevels[level], msg, attrs...)
	return map[string]any{"message": msg, "level": level}, nil
}

var (
	_ Action  = (*Log)(nil)
	_ Schemer = (*Log)(nil)
)
