package sdk

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
)

// Action is one action a plugin serves, addressed in workflows as
// PLUGIN.NAME. Most authors build it with Typed; a hand-written Action gives
// full control over decoding and schemas.
type Action struct {
	// Name is [a-z0-9][a-z0-9_-]*, unique within the plugin.
	Name string
	// Description is one line shown by `hookflow plugins list`.
	Description string
	// InputSchema is the JSON Schema of the input object. The host validates
	// workflows' `with` against it. Empty means any object.
	InputSchema []byte
	// OutputSchema is the JSON Schema of the output object; may be empty.
	OutputSchema []byte
	// Handle runs one attempt. input is the step's rendered `with` (a JSON
	// object); the result must be a JSON object (nil means {}). Errors are
	// retryable unless marked with Permanent.
	Handle func(ctx context.Context, input []byte) ([]byte, error)
}

// Typed builds an Action from a function of Go values:
//
//   - the input JSON is decoded into In, refusing unknown fields, missing
//     fields tagged `hookflow:"required"` and values outside an `enum:"..."`
//     tag, all as permanent errors that name the field;
//   - the input and output schemas are derived from In and Out (see the
//     package documentation for the tags);
//   - fn's result is encoded as the step's outputs; its error keeps the mark
//     given with Retryable, Permanent or RetryAfter (unmarked: retryable).
//
// In and Out must be structs (or pointers to them) or maps with string keys;
// Typed panics otherwise, as a program that cannot describe its actions has
// no way to start.
func Typed[In, Out any](name, description string, fn func(ctx context.Context, in In) (Out, error)) Action {
	inSchema, err := schemaFor(reflect.TypeFor[In]())
	if err != nil {
		panic(fmt.Sprintf("sdk.Typed(%q): input: %v", name, err))
	}
	outSchema, err := schemaFor(reflect.TypeFor[Out]())
	if err != nil {
		panic(fmt.Sprintf("sdk.Typed(%q): output: %v", name, err))
	}
	inJSON, err := json.Marshal(inSchema)
	if err != nil {
		panic(fmt.Sprintf("sdk.Typed(%q): input schema: %v", name, err))
	}
	outJSON, err := json.Marshal(outSchema)
	if err != nil {
		panic(fmt.Sprintf("sdk.Typed(%q): output schema: %v", name, err))
	}
	return Action{
		Name:         name,
		Description:  description,
		InputSchema:  inJSON,
		OutputSchema: outJSON,
		Handle: func(ctx context.Context, input []byte) ([]byte, error) {
			var in In
			if err := decodeInput(input, inSchema, &in); err != nil {
				return nil, Permanent(err)
			}
			out, err := fn(ctx, in)
			if err != nil {
				return nil, err
			}
			b, err := json.Marshal(out)
			if err != nil {
				return nil, Permanent(fmt.Errorf("encode output: %w", err))
			}
			return b, nil
		},
	}
}

// decodeInput checks the top-level required and enum constraints of s, then
// decodes input strictly into v.
func decodeInput(input []byte, s *schema, v any) error {
	if len(bytes.TrimSpace(input)) == 0 {
		input = []byte("{}")
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(input, &fields); err != nil || fields == nil {
		return errors.New("input: must be a JSON object")
	}
	var missing []string
	for _, name := range s.Required {
		if raw, ok := fields[name]; !ok || bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("input: missing required field %q", missing[0])
	}
	for name, raw := range fields {
		p := s.Properties[name]
		if p == nil || len(p.Enum) == 0 {
			continue
		}
		var got any
		if err := json.Unmarshal(raw, &got); err != nil {
			return fmt.Errorf("input: field %q: %w", name, err)
		}
		if !slices.ContainsFunc(p.Enum, func(e any) bool { return enumEqual(e, got) }) {
			return fmt.Errorf("input: field %q: must be one of %s", name, enumList(p.Enum))
		}
	}
	dec := json.NewDecoder(bytes.NewReader(input))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("input: %w", err)
	}
	return nil
}

func enumEqual(want, got any) bool {
	switch w := want.(type) {
	case string:
		g, ok := got.(string)
		return ok && g == w
	case int64:
		g, ok := got.(float64)
		return ok && g == float64(w)
	case float64:
		g, ok := got.(float64)
		return ok && g == w
	}
	return false
}

func enumList(vals []any) string {
	b, _ := json.Marshal(vals)
	return string(b)
}
