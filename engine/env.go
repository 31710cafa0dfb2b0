package engine

import (
	"bytes"
	"encoding/json"
	"fmt"
	"mime"
	"net/url"

	"github.com/hookflow/hookflow/internal/jsonany"
	"github.com/hookflow/hookflow/workflows"
)

// EventEnv is the `event` of expressions for a stored event. The trigger
// uses it for the filter and the engine for steps, so both see the same
// thing: the body parsed by content type (JSON, form-urlencoded, otherwise
// the raw text).
//
// The parsed body is kept in ev for later calls on ev or on copies of it,
// as long as ev.Body is the same slice: callers must not change a body's
// bytes in place after parsing it. Parsed values are shared between those
// calls and must only be read.
func EventEnv(ev *Event) (workflows.EventEnv, error) {
	p := ev.parsed
	if p == nil || !sameBytes(p.from, ev.Body) {
		body, err := ParseBody(ev.ContentType, ev.Body)
		if err != nil {
			return workflows.EventEnv{}, err
		}
		p = &parsedBody{from: ev.Body, body: body, raw: string(ev.Body)}
		ev.parsed = p
	}
	return workflows.EventEnv{
		Body:       p.body,
		Raw:        p.raw,
		Headers:    ev.Headers,
		Query:      ev.Query,
		Method:     ev.Method,
		Path:       ev.Path,
		ID:         ev.ID,
		ReceivedAt: ev.ReceivedAt.UTC(),
	}, nil
}

// sameBytes reports whether a and b are the same slice (not merely equal).
func sameBytes(a, b []byte) bool {
	return len(a) == len(b) && (len(a) == 0 || &a[0] == &b[0])
}

// ParseBody decodes a webhook body by its content type. JSON becomes maps,
// lists and float64 numbers; a form becomes a map of strings (a repeated
// field becomes a list); anything else is the body as a string. An empty
// body is nil.
func ParseBody(contentType string, body []byte) (any, error) {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, nil
	}
	mt, _, _ := mime.ParseMediaType(contentType)
	switch {
	case mt == "application/json" || (len(mt) > 5 && mt[len(mt)-5:] == "+json"):
		if v, err := jsonany.Parse(body); err == nil {
			return v, nil
		}
		// Refused: encoding/json says why (and would have the last word
		// if the two ever disagreed).
		var v any
		if err := json.Unmarshal(body, &v); err != nil {
			return nil, fmt.Errorf("parse JSON body: %w", err)
		}
		return v, nil
	case mt == "application/x-www-form-urlencoded":
		vals, err := url.ParseQuery(string(body))
		if err != nil {
			return nil, fmt.Errorf("parse form body: %w", err)
		}
		m := make(map[string]any, len(vals))
		for k, vs := range vals {
			if len(vs) == 1 {
				m[k] = vs[0]
				continue
			}
			list := make([]any, len(vs))
			for i, v := range vs {
				list[i] = v
			}
			m[k] = list
		}
		return m, nil
	default:
		return string(body), nil
	}
}

// envFor builds the expression environment of a run: its event, the outputs
// of finished steps (filled in as steps finish), the rendered workflow env,
// secrets and run identity.
func (e *Engine) envFor(r *Run, wf *workflows.Workflow) (*workflows.Env, error) {
	ev, err := EventEnv(&r.Event)
	if err != nil {
		return nil, fmt.Errorf("event: %w", err)
	}
	env := &workflows.Env{
		Event:   ev,
		Steps:   make(map[string]workflows.StepEnv, len(wf.Steps)),
		Secrets: e.secrets.Load().values,
		Run:     workflows.RunEnv{ID: r.ID, Workflow: r.Workflow, Attempt: r.Claims},
	}
	if wf.Env != nil {
		vars, err := wf.Env.RenderMap(env)
		if err != nil {
			return nil, fmt.Errorf("render env: %w", err)
		}
		env.Env = vars
	}
	return env, nil
}
