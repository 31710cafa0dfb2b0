package actions

import (
	"reflect"
	"testing"
)

func TestSet(t *testing.T) {
	t.Parallel()
	tests := []map[string]any{
		{},
		{"plan": "pro", "seats": 3, "tags": []any{"a", "b"}, "owner": map[string]any{"id": 7}, "none": nil},
	}
	for _, input := range tests {
		out, err := NewSet().Execute(t.Context(), request(input))
		if err != nil {
			t.Fatalf("Execute: %v", err)
		}
		if !reflect.DeepEqual(out, input) {
			t.Errorf("outputs %v, want %v", out, input)
		}
		out["added"] = true
		if _, ok := input["added"]; ok {
			t.Error("outputs share the input map")
		}
	}
}
