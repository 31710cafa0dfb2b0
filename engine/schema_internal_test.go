package engine

import (
	"testing"

	"github.com/hookflow/hookflow/actions"
)

// BenchmarkStepSchema is what a step pays, at every execution, to find its
// action's compiled input schema: the action's schema bytes, then the
// engine's cache. Neither reads a file nor allocates.
func BenchmarkStepSchema(b *testing.B) {
	var e Engine
	set := &actions.Set{}
	if _, err := e.schema(set.InputSchema()); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := e.schema(set.InputSchema()); err != nil {
			b.Fatal(err)
		}
	}
}

// TestStepSchemaDoesNotAllocate keeps it so: a schema lookup is on every
// step's path.
func TestStepSchemaDoesNotAllocate(t *testing.T) {
	var e Engine
	set := &actions.Set{}
	if _, err := e.schema(set.InputSchema()); err != nil {
		t.Fatal(err)
	}
	if n := testing.AllocsPerRun(100, func() { _, _ = e.schema(set.InputSchema()) }); n != 0 {
		t.Errorf("a schema lookup allocates %.0f times, want 0", n)
	}
}
