package engine_test

import (
	"strings"
	"testing"

	"github.com/hookflow/hookflow/engine"
)

// typedAction publishes an input schema, like a plugin action does.
type typedAction struct{ testAction }

func (*typedAction) InputSchema() []byte {
	return []byte(`{"type":"object","properties":{"count":{"type":"integer","minimum":1}},"required":["count"],"additionalProperties":false}`)
}

// TestRenderedInputIsCheckedAgainstTheSchema: a `with` that passed
// validation at load (it is a template) but renders to a value the schema
// refuses fails the step permanently, without calling the action.
func TestRenderedInputIsCheckedAgainstTheSchema(t *testing.T) {
	t.Parallel()
	f := setup(t, nil)
	typed := f.typed
	f.start(t)
	bad := f.waitFinal(t, f.enqueue(t, "schema", `{"count":"many"}`))
	if bad.Status != engine.StatusDead || !strings.Contains(bad.Error, "schema of test.typed") {
		t.Fatalf("status %s error %q, want dead on the schema", bad.Status, bad.Error)
	}
	if n := len(typed.Calls()); n != 0 {
		t.Fatalf("the action was called %d times with an input its schema refuses", n)
	}
	good := f.waitFinal(t, f.enqueue(t, "schema", `{"count":3}`))
	if good.Status != engine.StatusSucceeded {
		t.Fatalf("valid input: %s %s", good.Status, good.Error)
	}
}
