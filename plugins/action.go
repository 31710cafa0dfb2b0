package plugins

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/hookflow/hookflow/actions"
	pluginv1 "github.com/hookflow/hookflow/plugins/proto/v1"
)

// action is one plugin action as the engine sees it.
type action struct {
	proc *proc
	info ActionInfo
}

// InputSchema returns the input schema the plugin announced.
func (a *action) InputSchema() []byte {
	if len(a.info.InputSchema) == 0 {
		return nil
	}
	return a.info.InputSchema
}

// OutputSchema returns the output schema the plugin announced, or nil.
func (a *action) OutputSchema() []byte {
	if len(a.info.OutputSchema) == 0 {
		return nil
	}
	return a.info.OutputSchema
}

// Execute runs one attempt in the plugin process. The step timeout reaches
// the plugin as the gRPC deadline and in the request. A process that dies
// during the call, a call that outlives ctx and a plugin that is restarting
// all give retryable errors.
func (a *action) Execute(ctx context.Context, req actions.Request) (map[string]any, error) {
	name := a.proc.name + "." + a.info.Name
	input := []byte("{}")
	if req.Input != nil {
		b, err := json.Marshal(req.Input)
		if err != nil {
			return nil, actions.Permanent(fmt.Errorf("%s: encode input: %w", name, err))
		}
		input = b
	}
	inst, err := a.proc.get(ctx)
	if err != nil {
		return nil, err
	}
	preq := &pluginv1.ExecuteRequest{
		Action:         a.info.Name,
		Input:          input,
		RunId:          req.RunID,
		StepId:         req.StepID,
		Workflow:       req.Workflow,
		Attempt:        uint32(max(req.Attempt, 0)),
		IdempotencyKey: req.IdempotencyKey,
	}
	if d, ok := ctx.Deadline(); ok {
		preq.Deadline = timestamppb.New(d)
	}
	resp, err := inst.rpc.Execute(ctx, preq)
	if err != nil {
		return nil, a.callError(ctx, inst, name, err)
	}
	a.proc.succeeded(inst)
	if pe := resp.GetError(); pe != nil {
		return nil, fromProto(name, pe)
	}
	out := map[string]any{}
	if b := resp.GetOutput(); len(b) > 0 {
		var v any
		if err := json.Unmarshal(b, &v); err != nil {
			return nil, actions.Permanent(fmt.Errorf("%s: outputs are not valid JSON: %w", name, err))
		}
		m, ok := v.(map[string]any)
		if v != nil && !ok {
			return nil, actions.Permanent(fmt.Errorf("%s: outputs are not a JSON object", name))
		}
		if m != nil {
			out = m
		}
	}
	return out, nil
}

// callError classifies a failed RPC: the step's deadline, the process dying,
// or a transport failure. All are retryable.
func (a *action) callError(ctx context.Context, inst *instance, name string, err error) error {
	code := status.Code(err)
	switch {
	case ctx.Err() != nil || code == codes.DeadlineExceeded:
		cause := ctx.Err()
		if cause == nil {
			cause = context.DeadlineExceeded
		}
		if errors.Is(cause, context.DeadlineExceeded) {
			return actions.Retryable(fmt.Errorf("%s: no answer before the step deadline: %w", name, cause))
		}
		return actions.Retryable(fmt.Errorf("%s: call abandoned: %w", name, cause))
	case a.proc.died(ctx, inst):
		return actions.Retryable(fmt.Errorf("plugin %s exited during the call to %s", a.proc.name, a.info.Name))
	default:
		return actions.Retryable(fmt.Errorf("%s: call failed: %s", name, status.Convert(err).Message()))
	}
}

// fromProto maps an action's wire error to the engine's retry decision.
func fromProto(name string, pe *pluginv1.Error) error {
	err := fmt.Errorf("%s: %w", name, errors.New(pe.GetMessage()))
	switch {
	case pe.GetKind() == pluginv1.ErrorKind_ERROR_KIND_PERMANENT:
		return actions.Permanent(err)
	case pe.GetRetryAfter() != nil && pe.GetRetryAfter().AsDuration() > 0:
		return actions.RetryAfter(err, pe.GetRetryAfter().AsDuration())
	default:
		return actions.Retryable(err)
	}
}

var (
	_ actions.Action  = (*action)(nil)
	_ actions.Schemer = (*action)(nil)
)
