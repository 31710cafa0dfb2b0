package actions

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata")

// TestInvalidInput runs every case of testdata/invalid_inputs.json through
// its action and compares the errors with testdata/invalid_inputs.golden.
// Every case must fail permanently before any request is sent.
func TestInvalidInput(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile(filepath.Join("testdata", "invalid_inputs.json"))
	if err != nil {
		t.Fatal(err)
	}
	var cases []struct {
		Name   string
		Action string
		Input  map[string]any
	}
	if err := json.Unmarshal(raw, &cases); err != nil {
		t.Fatalf("invalid_inputs.json: %v", err)
	}
	reg := NewRegistry()
	// Refuse everything private and use no real network: every case must
	// fail before a connection is tried.
	if err := RegisterBuiltins(reg, NetOptions{Logger: slog.New(slog.DiscardHandler)}); err != nil {
		t.Fatal(err)
	}
	var got bytes.Buffer
	for _, c := range cases {
		a, ok := reg.Lookup(c.Action)
		if !ok {
			t.Fatalf("%s: no action %q", c.Name, c.Action)
		}
		_, err := a.Execute(t.Context(), request(c.Input))
		if err == nil {
			t.Errorf("%s: no error", c.Name)
			continue
		}
		if !IsPermanent(err) {
			t.Errorf("%s: error is not permanent: %v", c.Name, err)
		}
		fmt.Fprintf(&got, "%s\n\t%v\n", c.Name, err)
	}
	golden := filepath.Join("testdata", "invalid_inputs.golden")
	if *update {
		if err := os.WriteFile(golden, got.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got.Bytes(), want) {
		t.Errorf("errors differ from %s (go test -update rewrites it):\n%s", golden, got.String())
	}
}

// TestSchemas checks that each built-in publishes a JSON Schema whose
// properties are exactly the inputs the action accepts.
func TestSchemas(t *testing.T) {
	t.Parallel()
	reg := NewRegistry()
	if err := RegisterBuiltins(reg, NetOptions{}); err != nil {
		t.Fatal(err)
	}
	if got := reg.Names(); !slices.Equal(got, []string{"http", "log", "set", "webhook"}) {
		t.Errorf("Names() = %v", got)
	}
	for _, name := range reg.Names() {
		raw, ok := reg.ActionSchema(name)
		if !ok || raw == nil {
			t.Fatalf("%s publishes no schema", name)
		}
		var s struct {
			Title                string                     `json:"title"`
			Type                 string                     `json:"type"`
			Properties           map[string]json.RawMessage `json:"properties"`
			Required             []string                   `json:"required"`
			AdditionalProperties *bool                      `json:"additionalProperties"`
		}
		if err := json.Unmarshal(raw, &s); err != nil {
			t.Fatalf("%s schema: %v", name, err)
		}
		if s.Title != name || s.Type != "object" {
			t.Errorf("%s schema: title %q type %q", name, s.Title, s.Type)
		}
		if name == NameSet {
			continue // any object
		}
		if s.AdditionalProperties == nil || *s.AdditionalProperties {
			t.Errorf("%s schema allows unknown properties", name)
		}
		a, _ := reg.Lookup(name)
		for _, r := range s.Required {
			if _, ok := s.Properties[r]; !ok {
				t.Errorf("%s schema requires %q, which it does not describe", name, r)
			}
		}
		// An input of one property only must not be refused as unknown.
		for p := range s.Properties {
			_, err := a.Execute(t.Context(), request(map[string]any{p: nil}))
			if err != nil && bytes.Contains([]byte(err.Error()), []byte("unknown input")) {
				t.Errorf("%s schema describes %q, which the action refuses: %v", name, p, err)
			}
		}
		_, err := a.Execute(t.Context(), request(map[string]any{"not_a_property": 1}))
		if err == nil || !bytes.Contains([]byte(err.Error()), []byte(`unknown input "not_a_property"`)) {
			t.Errorf("%s accepts an input its schema does not describe: %v", name, err)
		}
	}
}

func TestRegisterBuiltinsTwice(t *testing.T) {
	t.Parallel()
	reg := NewRegistry()
	if err := RegisterBuiltins(reg, NetOptions{}); err != nil {
		t.Fatal(err)
	}
	err := RegisterBuiltins(reg, NetOptions{})
	if err == nil || err.Error() != `register built-in actions: action "http" registered twice` {
		t.Errorf("second RegisterBuiltins: %v", err)
	}
}
