package engine

import "testing"

func TestRedactValuesLeavesInputAlone(t *testing.T) {
	t.Parallel()
	in := map[string]any{"a": "secret-x", "n": []any{"secret-x", 1.0}, "m": map[string]string{"k": "secret-x"}, "s": []string{"secret-x"}}
	out := RedactValues(in, func(s string) string {
		if s == "secret-x" {
			return "[redacted]"
		}
		return s
	})
	if in["a"] != "secret-x" || in["n"].([]any)[0] != "secret-x" {
		t.Error("RedactValues modified its input")
	}
	if out["a"] != "[redacted]" || out["n"].([]any)[0] != "[redacted]" || out["n"].([]any)[1] != 1.0 ||
		out["m"].(map[string]string)["k"] != "[redacted]" || out["s"].([]string)[0] != "[redacted]" {
		t.Errorf("RedactValues = %v", out)
	}
	if RedactValues(nil, nil) != nil {
		t.Error("RedactValues(nil) is not nil")
	}
}
