package workflows

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestValidateSchema(t *testing.T) {
	const schema = `{
	  "type": "object",
	  "required": ["url"],
	  "additionalProperties": false,
	  "properties": {
	    "url": {"type": "string", "minLength": 8, "pattern": "^https?://"},
	    "method": {"enum": ["GET", "POST"]},
	    "retries": {"type": "integer", "minimum": 0, "maximum": 10},
	    "ratio": {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1},
	    "tags": {"type": "array", "items": {"type": "string", "maxLength": 3}, "minItems": 1, "maxItems": 2},
	    "headers": {"type": "object", "additionalProperties": {"type": "string"}},
	    "mode": {"const": "fast"},
	    "note": {"type": ["string", "null"]},
	    "target": {"anyOf": [{"type": "string"}, {"type": "object", "required": ["host"]}]},
	    "one": {"oneOf": [{"type": "integer"}, {"type": "number", "minimum": 0}]},
	    "both": {"allOf": [{"type": "string"}, {"minLength": 2}]},
	    "never": false
	  }
	}`
	tests := []struct {
		name  string
		input string // JSON
		want  string // the error text, "" for valid
	}{
		{"minimal", `{"url": "https://x.example"}`, ""},
		{"everything valid", `{"url": "http://a.example", "method": "POST", "retries": 3, "ratio": 0.5,
			"tags": ["a"], "headers": {"A": "b"}, "mode": "fast", "note": null, "target": {"host": "h"}, "one": -1, "both": "ab"}`, ""},
		{"not an object", `[1]`, "must be a map, got a list"},
		{"missing required", `{}`, `missing required property "url"`},
		{"unknown property", `{"url": "https://x.example", "extra": 1}`, `extra: unknown property "extra"`},
		{"wrong type", `{"url": 5}`, "url: must be a string, got an integer"},
		{"too short and no pattern", `{"url": "ftp://"}`, "url: must be at least 8 characters long\nurl: must match \"^https?://\""},
		{"enum", `{"url": "https://x.example", "method": "PUT"}`, `method: must be one of "GET", "POST"`},
		{"integer as float is an integer", `{"url": "https://x.example", "retries": 2.0}`, ""},
		{"not an integer", `{"url": "https://x.example", "retries": 2.5}`, "retries: must be an integer, got a number"},
		{"bounds", `{"url": "https://x.example", "retries": 11, "ratio": 1}`, "ratio: must be < 1\nretries: must be <= 10"},
		{"items", `{"url": "https://x.example", "tags": ["abcd", 1, "c"]}`, "tags: must have at most 2 items\ntags[0]: must be at most 3 characters long\ntags[1]: must be a string, got an integer"},
		{"min items", `{"url": "https://x.example", "tags": []}`, "tags: must have at least 1 items"},
		{"additional schema", `{"url": "https://x.example", "headers": {"A": 1, "Content Type": true}}`, "headers.A: must be a string, got an integer\nheaders[\"Content Type\"]: must be a string, got a boolean"},
		{"const", `{"url": "https://x.example", "mode": "slow"}`, `mode: must be "fast"`},
		{"type list", `{"url": "https://x.example", "note": 1}`, "note: must be a string or null, got an integer"},
		{"anyOf", `{"url": "https://x.example", "target": {"port": 1}}`, "target: must match at least one of the anyOf schemas"},
		{"oneOf matching two", `{"url": "https://x.example", "one": 3}`, "one: must match only one of the oneOf schemas, matches 2"},
		{"oneOf matching none", `{"url": "https://x.example", "one": -1.5}`, "one: must match one of the oneOf schemas"},
		{"allOf", `{"url": "https://x.example", "both": "a"}`, "both: must be at least 2 characters long"},
		{"false schema", `{"url": "https://x.example", "never": 1}`, "never: is not allowed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var v any
			if err := json.Unmarshal([]byte(tt.input), &v); err != nil {
				t.Fatal(err)
			}
			err := ValidateSchema([]byte(schema), v)
			got := ""
			if err != nil {
				if _, ok := err.(SchemaErrors); !ok {
					t.Fatalf("want SchemaErrors, got %T", err)
				}
				got = err.Error()
			}
			if got != tt.want {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
		})
	}
}

func TestValidateSchemaGoValues(t *testing.T) {
	// Rendered inputs hold Go ints, typed maps and slices, not only JSON's types.
	schema := []byte(`{"type": "object", "properties": {
		"n": {"type": "integer", "enum": [1, 2]},
		"m": {"type": "object", "required": ["k"]},
		"l": {"type": "array", "items": {"type": "integer"}}}}`)
	v := map[string]any{"n": int64(2), "m": map[string]string{"k": "v"}, "l": []int{1, 2}}
	if err := ValidateSchema(schema, v); err != nil {
		t.Errorf("valid Go values rejected: %v", err)
	}
}

func TestValidateSchemaNeverQuotesValues(t *testing.T) {
	schema := []byte(`{"type": "object", "properties": {
		"a": {"enum": ["x"]}, "b": {"const": "y"}, "c": {"pattern": "^z$"}, "d": {"maxLength": 2}}}`)
	const secret = "sk_live_very_secret"
	err := ValidateSchema(schema, map[string]any{"a": secret, "b": secret, "c": secret, "d": secret})
	if err == nil || strings.Contains(err.Error(), secret) {
		t.Errorf("error %q must exist and not quote the value", err)
	}
}

func TestCompileSchemaErrors(t *testing.T) {
	tests := []struct{ schema, want string }{
		{`{`, "compiling input schema: unexpected end of JSON input"},
		{`[]`, "compiling input schema: a schema must be an object or a boolean"},
		{`{"type": "text"}`, `compiling input schema: type: unknown type "text"`},
		{`{"properties": {"a": {"pattern": "("}}}`, "compiling input schema: properties.a.pattern: error parsing regexp: missing closing ): `(`"},
		{`{"minLength": -1}`, "compiling input schema: minLength: want a non-negative integer"},
		{`{"anyOf": []}`, "compiling input schema: anyOf: want a non-empty list of schemas"},
		{`{"items": 3}`, "compiling input schema: items: a schema must be an object or a boolean"},
	}
	for _, tt := range tests {
		_, err := CompileSchema([]byte(tt.schema))
		if err == nil || err.Error() != tt.want {
			t.Errorf("CompileSchema(%s) = %v, want %s", tt.schema, err, tt.want)
		}
	}
}

func TestSchemaUnknownValues(t *testing.T) {
	s, err := CompileSchema([]byte(`{"type": "object", "properties": {
		"s": {"type": "string", "enum": ["a"]}, "n": {"type": "integer"}, "o": {"oneOf": [{"type": "string"}, {"type": "string", "minLength": 1}]}}}`))
	if err != nil {
		t.Fatal(err)
	}
	// An exact ${{ }} may be anything; a string with ${{ }} parts is a string.
	if err := s.Validate(map[string]any{"s": unknownString{}, "n": unknownValue{}, "o": unknownString{}}); err != nil {
		t.Errorf("unknown values rejected: %v", err)
	}
	if err := s.Validate(map[string]any{"n": unknownString{}}); err == nil || err.Error() != "n: must be an integer, got a string" {
		t.Errorf("a string with parts for an integer: %v", err)
	}
}
