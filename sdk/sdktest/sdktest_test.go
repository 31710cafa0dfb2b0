package sdktest_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/hookflow/hookflow/sdk"
	"github.com/hookflow/hookflow/sdk/sdktest"
)

type addIn struct {
	A int `json:"a" hookflow:"required"`
	B int `json:"b"`
}

type addOut struct {
	Sum     int    `json:"sum"`
	Attempt int    `json:"attempt"`
	Key     string `json:"key"`
}

var add = sdk.Typed("add", "Add two numbers", func(ctx context.Context, in addIn) (addOut, error) {
	if in.A < 0 {
		return addOut{}, sdk.Permanent(errors.New("negative"))
	}
	if _, ok := ctx.Deadline(); ok && in.B < 0 {
		<-ctx.Done()
		return addOut{}, ctx.Err()
	}
	s := sdk.Step(ctx)
	return addOut{Sum: in.A + in.B, Attempt: s.Attempt, Key: s.IdempotencyKey}, nil
})

func TestCallInputForms(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		input any
		want  float64
	}{
		{"map", map[string]any{"a": 1, "b": 2}, 3},
		{"struct", addIn{A: 2, B: 3}, 5},
		{"bytes", []byte(`{"a":3,"b":4}`), 7},
		{"raw message", json.RawMessage(`{"a":4}`), 4},
		{"string", `{"a":5,"b":5}`, 10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			out, err := sdktest.Call(t, add, tt.input)
			if err != nil || out["sum"] != tt.want {
				t.Errorf("Call = %v, %v; want sum %v", out, err, tt.want)
			}
			if out["attempt"] != float64(sdktest.DefaultStep.Attempt) || out["key"] != sdktest.DefaultStep.IdempotencyKey {
				t.Errorf("step not passed: %v", out)
			}
		})
	}
}

func TestCallErrors(t *testing.T) {
	t.Parallel()
	if _, err := sdktest.Call(t, add, nil); err == nil || !sdk.IsPermanent(err) {
		t.Errorf("nil input: err = %v, want a permanent missing-field error", err)
	}
	if _, err := sdktest.Call(t, add, map[string]any{"a": -1}); err == nil || !sdk.IsPermanent(err) || err.Error() != "negative" {
		t.Errorf("err = %v", err)
	}
	step := sdktest.DefaultStep
	step.Attempt = 4
	step.Deadline = time.Now().Add(50 * time.Millisecond)
	_, err := sdktest.CallStep(t, add, step, map[string]any{"a": 1, "b": -1})
	if err == nil || sdk.IsPermanent(err) {
		t.Errorf("deadline: err = %v, want a retryable error", err)
	}
}
