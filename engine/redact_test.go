package engine

import (
	"reflect"
	"testing"
)

func redactX(s string) string {
	if s == "secret-x" {
		return "[redacted]"
	}
	return s
}

func TestRedactValuesLeavesInputAlone(t *testing.T) {
	t.Parallel()
	in := map[string]any{"a": "secret-x", "n": []any{"secret-x", 1.0}, "m": map[string]string{"k": "secret-x", "secret-x": "v"},
		"s": []string{"secret-x", "b"}, "secret-x": true, "deep": map[string]any{"l": []any{map[string]any{"x": "secret-x"}}}}
	out := RedactValues(in, redactX)
	if in["a"] != "secret-x" || in["n"].([]any)[0] != "secret-x" || in["m"].(map[string]string)["k"] != "secret-x" ||
		in["s"].([]string)[0] != "secret-x" || in["secret-x"] != true ||
		in["deep"].(map[string]any)["l"].([]any)[0].(map[string]any)["x"] != "secret-x" {
		t.Errorf("RedactValues modified its input: %v", in)
	}
	want := map[string]any{"a": "[redacted]", "n": []any{"[redacted]", 1.0}, "m": map[string]string{"k": "[redacted]", "[redacted]": "v"},
		"s": []string{"[redacted]", "b"}, "[redacted]": true, "deep": map[string]any{"l": []any{map[string]any{"x": "[redacted]"}}}}
	if !reflect.DeepEqual(out, want) {
		t.Errorf("RedactValues =\n%v\nwant\n%v", out, want)
	}
	if RedactValues(nil, nil) != nil {
		t.Error("RedactValues(nil) is not nil")
	}
}

// TestRedactValuesCopiesOnlyWhatChanges: a map without secrets comes back
// as it is, and a container next to a changed one is shared, not copied.
func TestRedactValuesCopiesOnlyWhatChanges(t *testing.T) {
	t.Parallel()
	clean := map[string]any{"a": "b", "n": []any{1.0, "c"}, "m": map[string]string{"k": "v"}}
	if out := RedactValues(clean, redactX); reflect.ValueOf(out).Pointer() != reflect.ValueOf(clean).Pointer() {
		t.Error("a map without secrets was copied")
	}
	mixed := map[string]any{"clean": clean, "dirty": "secret-x"}
	out := RedactValues(mixed, redactX)
	if reflect.ValueOf(out).Pointer() == reflect.ValueOf(mixed).Pointer() || out["dirty"] != "[redacted]" {
		t.Fatalf("a map with a secret was not copied and redacted: %v", out)
	}
	if reflect.ValueOf(out["clean"]).Pointer() != reflect.ValueOf(clean).Pointer() {
		t.Error("the unchanged inner map was copied")
	}
}
