package sdk_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/hookflow/hookflow/sdk"
	"github.com/hookflow/hookflow/sdk/sdktest"
)

type greetIn struct {
	Name  string `json:"name" hookflow:"required"`
	Style string `json:"style,omitempty" enum:"plain,loud"`
	Times int    `json:"times,omitempty"`
}

type greetOut struct {
	Greeting string `json:"greeting"`
}

func greet(_ context.Context, in greetIn) (greetOut, error) {
	switch in.Name {
	case "nobody":
		return greetOut{}, sdk.Permanent(errors.New("nobody to greet"))
	case "busy":
		return greetOut{}, sdk.RetryAfter(errors.New("busy"), 3*time.Second)
	case "flaky":
		return greetOut{}, errors.New("flaky")
	case "panic":
		panic("greeting exploded")
	}
	g := "hello " + in.Name
	if in.Style == "loud" {
		g = strings.ToUpper(g) + "!"
	}
	return greetOut{Greeting: strings.Repeat(g, max(in.Times, 1))}, nil
}

func TestTyped(t *testing.T) {
	t.Parallel()
	a := sdk.Typed("greet", "Greet someone", greet)
	tests := []struct {
		name       string
		input      any
		want       string
		wantErr    string
		permanent  bool
		retryAfter time.Duration
	}{
		{name: "ok", input: map[string]any{"name": "ada"}, want: "hello ada"},
		{name: "enum ok", input: map[string]any{"name": "ada", "style": "loud"}, want: "HELLO ADA!"},
		{name: "raw json", input: `{"name":"bob","times":2}`, want: "hello bobhello bob"},
		{name: "missing required", input: map[string]any{}, wantErr: `input: missing required field "name"`, permanent: true},
		{name: "null required", input: `{"name":null}`, wantErr: `input: missing required field "name"`, permanent: true},
		{name: "unknown field", input: map[string]any{"name": "x", "nmae": "y"}, wantErr: `input: json: unknown field "nmae"`, permanent: true},
		{name: "enum", input: map[string]any{"name": "x", "style": "shouty"}, wantErr: `input: field "style": must be one of ["plain","loud"]`, permanent: true},
		{name: "wrong type", input: map[string]any{"name": "x", "times": "two"}, wantErr: "cannot unmarshal string", permanent: true},
		{name: "not an object", input: `[1,2]`, wantErr: "input: must be a JSON object", permanent: true},
		{name: "not json", input: `{`, wantErr: "input: must be a JSON object", permanent: true},
		{name: "permanent", input: map[string]any{"name": "nobody"}, wantErr: "nobody to greet", permanent: true},
		{name: "retry after", input: map[string]any{"name": "busy"}, wantErr: "busy", retryAfter: 3 * time.Second},
		{name: "unmarked", input: map[string]any{"name": "flaky"}, wantErr: "flaky"},
		{name: "panic", input: map[string]any{"name": "panic"}, wantErr: "action greet panicked: greeting exploded", permanent: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			out, err := sdktest.Call(t, a, tt.input)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				if out["greeting"] != tt.want {
					t.Errorf("greeting = %v, want %q", out["greeting"], tt.want)
				}
				return
			}
			if err == nil || err.Error() != tt.wantErr && !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want %q", err, tt.wantErr)
			}
			if sdk.IsPermanent(err) != tt.permanent {
				t.Errorf("IsPermanent = %v, want %v", sdk.IsPermanent(err), tt.permanent)
			}
			if sdk.RetryHint(err) != tt.retryAfter {
				t.Errorf("RetryHint = %v, want %v", sdk.RetryHint(err), tt.retryAfter)
			}
		})
	}
}

func TestStepInfoAndDeadlineReachTheAction(t *testing.T) {
	t.Parallel()
	var got sdk.StepInfo
	var hasDeadline bool
	a := sdk.Typed("peek", "Look at the step", func(ctx context.Context, _ struct{}) (struct{}, error) {
		got = sdk.Step(ctx)
		_, hasDeadline = ctx.Deadline()
		sdk.Logger(ctx).Info("peeked")
		return struct{}{}, nil
	})
	deadline := time.Now().Add(time.Minute).Truncate(time.Microsecond)
	step := sdk.StepInfo{RunID: "r", Workflow: "w", StepID: "s", Attempt: 3, IdempotencyKey: "r/s", Deadline: deadline}
	if _, err := sdktest.CallStep(t, a, step, nil); err != nil {
		t.Fatal(err)
	}
	if !got.Deadline.Equal(deadline) || !hasDeadline {
		t.Errorf("deadline = %v (ctx has one: %v), want %v", got.Deadline, hasDeadline, deadline)
	}
	got.Deadline = deadline
	if got != step {
		t.Errorf("Step(ctx) = %+v, want %+v", got, step)
	}
}

func TestOutsideACall(t *testing.T) {
	t.Parallel()
	if s := sdk.Step(context.Background()); s != (sdk.StepInfo{}) {
		t.Errorf("Step = %+v", s)
	}
	sdk.Logger(context.Background()).Info("goes nowhere")
}

func TestErrorMarks(t *testing.T) {
	t.Parallel()
	base := errors.New("base")
	if sdk.Permanent(nil) != nil || sdk.Retryable(nil) != nil || sdk.RetryAfter(nil, time.Second) != nil {
		t.Error("marking nil must give nil")
	}
	if err := sdk.Permanent(base); !sdk.IsPermanent(err) || !errors.Is(err, base) || err.Error() != "base" {
		t.Errorf("Permanent: %v", err)
	}
	if err := sdk.Retryable(base); sdk.IsPermanent(err) || !errors.Is(err, base) {
		t.Errorf("Retryable: %v", err)
	}
	if err := sdk.RetryAfter(base, -time.Second); sdk.RetryHint(err) != 0 {
		t.Errorf("negative hint kept: %v", sdk.RetryHint(err))
	}
	wrapped := errors.Join(errors.New("ctx"), sdk.RetryAfter(base, time.Minute))
	if sdk.RetryHint(wrapped) != time.Minute {
		t.Errorf("hint through wrapping = %v", sdk.RetryHint(wrapped))
	}
}

func TestValidate(t *testing.T) {
	t.Parallel()
	ok := sdk.Typed("a", "", func(context.Context, struct{}) (struct{}, error) { return struct{}{}, nil })
	tests := []struct {
		name    string
		plugin  sdk.Plugin
		wantErr []string
	}{
		{"valid", sdk.Plugin{Name: "p", Actions: []sdk.Action{ok}}, nil},
		{"everything wrong", sdk.Plugin{Name: "Bad Name", Actions: []sdk.Action{
			ok, ok, {Name: "x.y"}, {Name: "z", Handle: ok.Handle, InputSchema: []byte("{")},
		}}, []string{
			`Name "Bad Name": want [a-z0-9][a-z0-9_-]*`,
			`Actions[1].Name "a": served twice`,
			`Actions[2].Name "x.y": want`,
			`Actions[2] (x.y): Handle is nil`,
			`Actions[3] (z): InputSchema is not valid JSON`,
		}},
		{"no actions", sdk.Plugin{Name: "p"}, []string{"Actions: a plugin serves at least one action"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.plugin.Validate()
			if len(tt.wantErr) == 0 {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("err = %v\nwant it to contain %q", err, w)
				}
			}
		})
	}
}

func TestTypedPanicsOnNonObjectTypes(t *testing.T) {
	t.Parallel()
	defer func() {
		r := recover()
		if r == nil || !strings.Contains(r.(string), `sdk.Typed("bad"): input: schema: string is not an object type`) {
			t.Errorf("recover() = %v", r)
		}
	}()
	sdk.Typed("bad", "", func(context.Context, string) (struct{}, error) { return struct{}{}, nil })
}
