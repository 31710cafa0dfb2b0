package actions

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"testing"
)

func TestLog(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		input map[string]any
		want  map[string]any // the JSON record, without time
	}{
		{
			name:  "info by default",
			input: map[string]any{"message": "account activated"},
			want: map[string]any{"level": "INFO", "msg": "account activated", "run_id": request(nil).RunID,
				"workflow": "wf", "step": "call", "attempt": 1.0},
		},
		{
			name: "level and fields",
			input: map[string]any{"message": "slow partner", "level": "warn",
				"fields": map[string]any{"latency_ms": 1234.5, "partner": "acme", "tags": []any{"a"}}},
			want: map[string]any{"level": "WARN", "msg": "slow partner", "run_id": request(nil).RunID,
				"workflow": "wf", "step": "call", "attempt": 1.0,
				"fields": map[string]any{"latency_ms": 1234.5, "partner": "acme", "tags": []any{"a"}}},
		},
		{
			name:  "debug is filtered by the handler's level",
			input: map[string]any{"message": "details", "level": "debug"},
			want:  nil,
		},
		{
			name:  "error",
			input: map[string]any{"message": "gave up", "level": "error"},
			want: map[string]any{"level": "ERROR", "msg": "gave up", "run_id": request(nil).RunID,
				"workflow": "wf", "step": "call", "attempt": 1.0},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var buf bytes.Buffer
			logger := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{
				ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
					if a.Key == slog.TimeKey && len(groups) == 0 {
						return slog.Attr{}
					}
					return a
				},
			}))
			out, err := NewLog(logger).Execute(t.Context(), request(tt.input))
			if err != nil {
				t.Fatalf("Execute: %v", err)
			}
			level, _ := tt.input["level"].(string)
			if level == "" {
				level = "info"
			}
			if out["message"] != tt.input["message"] || out["level"] != level || len(out) != 2 {
				t.Errorf("outputs %v", out)
			}
			if tt.want == nil {
				if buf.Len() != 0 {
					t.Errorf("logged %s", buf.String())
				}
				return
			}
			var got map[string]any
			if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
				t.Fatalf("log line %q: %v", buf.String(), err)
			}
			gotJSON, _ := json.Marshal(got)
			wantJSON, _ := json.Marshal(tt.want)
			if !bytes.Equal(gotJSON, wantJSON) {
				t.Errorf("record\n got %s\nwant %s", gotJSON, wantJSON)
			}
		})
	}
}
