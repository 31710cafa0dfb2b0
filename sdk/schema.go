package sdk

import (
	"encoding"
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"
)

// schema is the subset of JSON Schema (draft 2020-12) that Typed derives
// from Go types.
type schema struct {
	Schema               string             `json:"$schema,omitempty"`
	Type                 string             `json:"type,omitempty"`
	Description          string             `json:"description,omitempty"`
	Format               string             `json:"format,omitempty"`
	ContentEncoding      string             `json:"contentEncoding,omitempty"`
	Enum                 []any              `json:"enum,omitempty"`
	Properties           map[string]*schema `json:"properties,omitempty"`
	Required             []string           `json:"required,omitempty"`
	AdditionalProperties *schema            `json:"additionalProperties,omitempty"`
	Items                *schema            `json:"items,omitempty"`
	// closed is written as "additionalProperties": false.
	closed bool
}

// MarshalJSON writes "additionalProperties": false for closed objects.
func (s *schema) MarshalJSON() ([]byte, error) {
	type plain schema
	if !s.closed {
		return json.Marshal((*plain)(s))
	}
	return json.Marshal(struct {
		*plain
		AdditionalProperties bool `json:"additionalProperties"`
	}{plain: (*plain)(s)})
}

const schemaDialect = "https://json-schema.org/draft/2020-12/schema"

var (
	timeType          = reflect.TypeFor[time.Time]()
	rawMessageType    = reflect.TypeFor[json.RawMessage]()
	jsonMarshalerType = reflect.TypeFor[json.Marshaler]()
	textMarshalerType = reflect.TypeFor[encoding.TextMarshaler]()
)

// schemaFor derives the JSON Schema of the JSON encoding of t, following
// encoding/json's rules (exported fields, `json` names, "-", embedded
// structs). Struct fields may carry:
//
//	hookflow:"required"  the field must be present in the input
//	desc:"..."           the property's description
//	enum:"a,b,c"         the allowed values (strings, or numbers for number fields)
//
// Structs are closed (additionalProperties: false), matching the decoder,
// which refuses unknown fields. The top level must be an object: a struct, a
// pointer to one, or a map with string keys.
func schemaFor(t reflect.Type) (*schema, error) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct && (t.Kind() != reflect.Map || t.Key().Kind() != reflect.String) {
		return nil, fmt.Errorf("schema: %v is not an object type (want a struct or a map with string keys)", t)
	}
	s, err := schemaOf(t, map[reflect.Type]bool{})
	if err != nil {
		return nil, err
	}
	s.Schema = schemaDialect
	return s, nil
}

func schemaOf(t reflect.Type, visiting map[reflect.Type]bool) (*schema, error) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case t == timeType:
		return &schema{Type: "string", Format: "date-time"}, nil
	case t == rawMessageType:
		return &schema{}, nil
	case t.Implements(jsonMarshalerType) || reflect.PointerTo(t).Implements(jsonMarshalerType):
		return &schema{}, nil // encodes itself: anything goes
	case t.Implements(textMarshalerType) || reflect.PointerTo(t).Implements(textMarshalerType):
		return &schema{Type: "string"}, nil
	}
	switch t.Kind() {
	case reflect.Bool:
		return &schema{Type: "boolean"}, nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return &schema{Type: "integer"}, nil
	case reflect.Float32, reflect.Float64:
		return &schema{Type: "number"}, nil
	case reflect.String:
		return &schema{Type: "string"}, nil
	case reflect.Interface:
		return &schema{}, nil
	case reflect.Slice, reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 && t.Kind() == reflect.Slice {
			return &schema{Type: "string", ContentEncoding: "base64"}, nil
		}
		items, err := schemaOf(t.Elem(), visiting)
		if err != nil {
			return nil, err
		}
		return &schema{Type: "array", Items: items}, nil
	case reflect.Map:
		switch t.Key().Kind() {
		case reflect.String, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
			reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		default:
			return nil, fmt.Errorf("schema: map key type %v has no JSON encoding", t.Key())
		}
		vals, err := schemaOf(t.Elem(), visiting)
		if err != nil {
			return nil, err
		}
		s := &schema{Type: "object"}
		if vals.Type != "" || vals.Items != nil || vals.Properties != nil {
			s.AdditionalProperties = vals
		}
		return s, nil
	case reflect.Struct:
		if visiting[t] {
			return &schema{Type: "object"}, nil // recursive type: stop here
		}
		visiting[t] = true
		defer delete(visiting, t)
		s := &schema{Type: "object", Properties: map[string]*schema{}, closed: true}
		if err := addFields(s, t, visiting); err != nil {
			return nil, err
		}
		return s, nil
	default:
		return nil, fmt.Errorf("schema: %v (%v) has no JSON encoding", t, t.Kind())
	}
}

// addFields adds t's fields to s, promoting embedded structs' fields as
// encoding/json does (a field of the outer struct wins over a promoted one).
func addFields(s *schema, t reflect.Type, visiting map[reflect.Type]bool) error {
	for _, f := range reflect.VisibleFields(t) {
		if len(f.Index) > 1 {
			continue // reached through an embedded struct: handled below
		}
		name, opts, skip := jsonName(f)
		if skip {
			continue
		}
		if f.Anonymous && name == "" {
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				inner := &schema{Properties: map[string]*schema{}}
				if err := addFields(inner, ft, visiting); err != nil {
					return err
				}
				for k, v := range inner.Properties {
					if _, ok := s.Properties[k]; !ok {
						s.Properties[k] = v
					}
				}
				s.Required = appendMissing(s.Required, inner.Required)
				continue
			}
			if !f.IsExported() {
				continue
			}
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		fs, err := schemaOf(f.Type, visiting)
		if err != nil {
			return fmt.Errorf("field %s: %w", f.Name, err)
		}
		if strings.Contains(opts, ",string") {
			fs = &schema{Type: "string"}
		}
		fs.Description = f.Tag.Get("desc")
		if enum := f.Tag.Get("enum"); enum != "" {
			vals, err := enumValues(enum, fs.Type)
			if err != nil {
				return fmt.Errorf("field %s: %w", f.Name, err)
			}
			fs.Enum = vals
		}
		s.Properties[name] = fs
		if hasTagOption(f.Tag.Get("hookflow"), "required") {
			s.Required = appendMissing(s.Required, []string{name})
		}
	}
	return nil
}

// jsonName returns a field's JSON name ("" when unnamed), the rest of its
// json tag, and whether encoding/json skips it.
func jsonName(f reflect.StructField) (name, opts string, skip bool) {
	tag := f.Tag.Get("json")
	if tag == "-" {
		return "", "", true
	}
	name, rest, _ := strings.Cut(tag, ",")
	return name, "," + rest, false
}

func hasTagOption(tag, opt string) bool {
	for o := range strings.SplitSeq(tag, ",") {
		if strings.TrimSpace(o) == opt {
			return true
		}
	}
	return false
}

func enumValues(tag, typ string) ([]any, error) {
	var vals []any
	for v := range strings.SplitSeq(tag, ",") {
		v = strings.TrimSpace(v)
		switch typ {
		case "string":
			vals = append(vals, v)
		case "integer":
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return nil, fmt.Errorf("enum value %q is not an integer", v)
			}
			vals = append(vals, n)
		case "number":
			n, err := strconv.ParseFloat(v, 64)
			if err != nil {
				return nil, fmt.Errorf("enum value %q is not a number", v)
			}
			vals = append(vals, n)
		default:
			return nil, fmt.Errorf("enum is only supported on string and number fields, not %q", typ)
		}
	}
	return vals, nil
}

func appendMissing(dst, src []string) []string {
	for _, s := range src {
		found := false
		for _, d := range dst {
			found = found || d == s
		}
		if !found {
			dst = append(dst, s)
		}
	}
	return dst
}
