package actions

import (
	"context"
	"maps"
)

// Set is the `set` action: its outputs are its input, so a workflow can
// compute values once and read them later as steps.ID.outputs.NAME.
type Set struct{}

// NewSet returns the set action.
func NewSet() *Set { return &Set{} }

// InputSchema returns the JSON Schema of the action's input.
func (a *Set) InputSchema() []byte { return schema(NameSet) }

// Execute returns a copy of the input map.
func (a *Set) Execute(_ context.Context, req Request) (map[string]any, error) {
	out := make(map[string]any, len(req.Input))
	maps.Copy(out, req.Input)
	return out, nil
}

var (
	_ Action  = (*Set)(nil)
	_ Schemer = (*Set)(nil)
)
