package workflows

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Schema is a compiled JSON Schema of an action's input. It understands the
// subset actions need: type (one or a list of object, array, string, number,
// integer, boolean, null), properties, required, additionalProperties
// (false or a schema), enum, const, items (one schema), minimum, maximum,
// exclusiveMinimum, exclusiveMaximum (numbers), minLength, maxLength,
// pattern (Go regexp syntax), minItems, maxItems, allOf, anyOf, oneOf, and
// the boolean schemas true and false. Other keywords ($schema, title,
// description, default, format, $ref, ...) are ignored, as JSON Schema
// ignores keywords it does not know, so they never make input invalid.
type Schema struct {
	always       *bool // boolean schema
	types        []string
	properties   map[string]*Schema
	required     []string
	additional   *Schema
	enum         []any
	hasConst     bool
	constant     any
	items        *Schema
	minimum      *float64
	maximum      *float64
	exclusiveMin *float64
	exclusiveMax *float64
	minLength    int
	maxLength    int // -1: none
	pattern      *regexp.Regexp
	minItems     int
	maxItems     int // -1: none
	allOf        []*Schema
	anyOf        []*Schema
	oneOf        []*Schema
}

var schemaTypes = []string{"array", "boolean", "integer", "null", "number", "object", "string"}

// CompileSchema parses a JSON Schema.
func CompileSchema(data []byte) (*Schema, error) {
	var doc any
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("compiling input schema: %w", err)
	}
	s, err := compileSchema(doc, "")
	if err != nil {
		return nil, fmt.Errorf("compiling input schema: %w", err)
	}
	return s, nil
}

// ValidateSchema checks v (map[string]any, []any and scalars, as Render
// returns them) against a JSON Schema. Errors are a SchemaErrors listing
// every violation.
func ValidateSchema(schema []byte, v any) error {
	s, err := CompileSchema(schema)
	if err != nil {
		return err
	}
	return s.Validate(v)
}

// Validate checks v against s. The error is a SchemaErrors listing every
// violation, or nil. Messages describe what was expected and never quote the
// value checked, which may hold a secret.
func (s *Schema) Validate(v any) error {
	var errs SchemaErrors
	s.validate(v, nil, &errs)
	if len(errs) > 0 {
		return errs
	}
	return nil
}

// SchemaError is one violation of a schema, at a path into the value:
// string elements are map keys, int elements list indexes.
type SchemaError struct {
	Path []any
	Msg  string
	// Key is set when the offending thing is the last key of Path itself
	// (an unknown property) rather than its value.
	Key bool
}

func (e SchemaError) Error() string {
	if len(e.Path) == 0 {
		return e.Msg
	}
	return formatPath(e.Path) + ": " + e.Msg
}

// SchemaErrors is every violation found in one value.
type SchemaErrors []SchemaError

func (es SchemaErrors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

var plainKey = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

// formatPath writes a path the way it reads in YAML terms: a.b[2]["c d"].
func formatPath(path []any) string {
	var b strings.Builder
	for _, p := range path {
		switch p := p.(type) {
		case int:
			fmt.Fprintf(&b, "[%d]", p)
		case string:
			if plainKey.MatchString(p) {
				if b.Len() > 0 {
					b.WriteByte('.')
				}
				b.WriteString(p)
			} else {
				fmt.Fprintf(&b, "[%s]", strconv.Quote(p))
			}
		}
	}
	return b.String()
}

func compileSchema(doc any, at string) (*Schema, error) {
	where := func(kw string) string {
		if at == "" {
			return kw
		}
		return at + "." + kw
	}
	if b, ok := doc.(bool); ok {
		return &Schema{always: &b, maxLength: -1, maxItems: -1}, nil
	}
	m, ok := doc.(map[string]any)
	if !ok {
		if at == "" {
			return nil, errors.New("a schema must be an object or a boolean")
		}
		return nil, fmt.Errorf("%s: a schema must be an object or a boolean", at)
	}
	s := &Schema{maxLength: -1, maxItems: -1}
	var err error
	for kw, x := range m {
		switch kw {
		case "type":
			switch t := x.(type) {
			case string:
				s.types = []string{t}
			case []any:
				for _, e := range t {
					str, ok := e.(string)
					if !ok {
						return nil, fmt.Errorf("%s: want strings", where(kw))
					}
					s.types = append(s.types, str)
				}
			default:
				return nil, fmt.Errorf("%s: want a string or a list of strings", where(kw))
			}
			for _, t := range s.types {
				if !slices.Contains(schemaTypes, t) {
					return nil, fmt.Errorf("%s: unknown type %q", where(kw), t)
				}
			}
		case "properties":
			props, ok := x.(map[string]any)
			if !ok {
				return nil, fmt.Errorf("%s: want an object", where(kw))
			}
			s.properties = make(map[string]*Schema, len(props))
			for name, p := range props {
				if s.properties[name], err = compileSchema(p, where(kw)+"."+name); err != nil {
					return nil, err
				}
			}
		case "required":
			l, ok := x.([]any)
			if !ok {
				return nil, fmt.Errorf("%s: want a list of strings", where(kw))
			}
			for _, e := range l {
				str, ok := e.(string)
				if !ok {
					return nil, fmt.Errorf("%s: want a list of strings", where(kw))
				}
				s.required = append(s.required, str)
			}
		case "additionalProperties", "items":
			sub, err := compileSchema(x, where(kw))
			if err != nil {
				return nil, err
			}
			if kw == "items" {
				s.items = sub
			} else {
				s.additional = sub
			}
		case "enum":
			l, ok := x.([]any)
			if !ok {
				return nil, fmt.Errorf("%s: want a list", where(kw))
			}
			s.enum = l
		case "const":
			s.hasConst, s.constant = true, x
		case "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum":
			f, ok := x.(float64)
			if !ok {
				return nil, fmt.Errorf("%s: want a number", where(kw))
			}
			switch kw {
			case "minimum":
				s.minimum = &f
			case "maximum":
				s.maximum = &f
			case "exclusiveMinimum":
				s.exclusiveMin = &f
			default:
				s.exclusiveMax = &f
			}
		case "minLength", "maxLength", "minItems", "maxItems":
			f, ok := x.(float64)
			if !ok || f < 0 || f != math.Trunc(f) || f > math.MaxInt32 {
				return nil, fmt.Errorf("%s: want a non-negative integer", where(kw))
			}
			switch kw {
			case "minLength":
				s.minLength = int(f)
			case "maxLength":
				s.maxLength = int(f)
			case "minItems":
				s.minItems = int(f)
			default:
				s.maxItems = int(f)
			}
		case "pattern":
			str, ok := x.(string)
			if !ok {
				return nil, fmt.Errorf("%s: want a string", where(kw))
			}
			if s.pattern, err = regexp.Compile(str); err != nil {
				return nil, fmt.Errorf("%s: %w", where(kw), err)
			}
		case "allOf", "anyOf", "oneOf":
			l, ok := x.([]any)
			if !ok || len(l) == 0 {
				return nil, fmt.Errorf("%s: want a non-empty list of schemas", where(kw))
			}
			subs := make([]*Schema, len(l))
			for i, e := range l {
				if subs[i], err = compileSchema(e, fmt.Sprintf("%s[%d]", where(kw), i)); err != nil {
					return nil, err
				}
			}
			switch kw {
			case "allOf":
				s.allOf = subs
			case "anyOf":
				s.anyOf = subs
			default:
				s.oneOf = subs
			}
		}
	}
	slices.Sort(s.required)
	return s, nil
}

// unknownValue stands, at load time, for a value that is only known when
// it is rendered (an exact ${{ }}): it satisfies every schema.
type unknownValue struct{}

// unknownString stands for a string with ${{ }} parts: it is a string, but
// its content is only known when it is rendered.
type unknownString struct{}

func (s *Schema) validate(v any, path []any, errs *SchemaErrors) {
	if s.always != nil {
		if !*s.always {
			*errs = append(*errs, SchemaError{Path: clonePath(path), Msg: "is not allowed"})
		}
		return
	}
	if _, ok := v.(unknownValue); ok {
		return
	}
	fail := func(format string, args ...any) {
		*errs = append(*errs, SchemaError{Path: clonePath(path), Msg: fmt.Sprintf(format, args...)})
	}
	kind := jsonKind(v)
	if len(s.types) > 0 && !slices.ContainsFunc(s.types, func(t string) bool { return kindMatches(kind, t) }) {
		want := make([]string, len(s.types))
		for i, t := range s.types {
			want[i] = kindName(t)
		}
		fail("must be %s, got %s", strings.Join(want, " or "), kindName(kind))
		return
	}
	_, unknownStr := v.(unknownString)
	if len(s.enum) > 0 && !unknownStr && !slices.ContainsFunc(s.enum, func(e any) bool { return jsonEqual(e, v) }) {
		opts := make([]string, len(s.enum))
		for i, e := range s.enum {
			opts[i] = jsonText(e)
		}
		fail("must be one of %s", strings.Join(opts, ", "))
	}
	if s.hasConst && !unknownStr && !jsonEqual(s.constant, v) {
		fail("must be %s", jsonText(s.constant))
	}
	switch kind {
	case "number", "integer":
		f, _ := toFloat(v)
		if s.minimum != nil && f < *s.minimum {
			fail("must be >= %s", jsonText(*s.minimum))
		}
		if s.maximum != nil && f > *s.maximum {
			fail("must be <= %s", jsonText(*s.maximum))
		}
		if s.exclusiveMin != nil && f <= *s.exclusiveMin {
			fail("must be > %s", jsonText(*s.exclusiveMin))
		}
		if s.exclusiveMax != nil && f >= *s.exclusiveMax {
			fail("must be < %s", jsonText(*s.exclusiveMax))
		}
	case "string":
		str, ok := v.(string)
		if !ok {
			break // a string with ${{ }} parts: its content is not known yet
		}
		n := utf8.RuneCountInString(str)
		if n < s.minLength {
			fail("must be at least %d characters long", s.minLength)
		}
		if s.maxLength >= 0 && n > s.maxLength {
			fail("must be at most %d characters long", s.maxLength)
		}
		if s.pattern != nil && !s.pattern.MatchString(str) {
			fail("must match %s", strconv.Quote(s.pattern.String()))
		}
	case "array":
		l := toList(v)
		if len(l) < s.minItems {
			fail("must have at least %d items", s.minItems)
		}
		if s.maxItems >= 0 && len(l) > s.maxItems {
			fail("must have at most %d items", s.maxItems)
		}
		if s.items != nil {
			for i, e := range l {
				s.items.validate(e, append(path, i), errs)
			}
		}
	case "object":
		m := toMap(v)
		for _, r := range s.required {
			if _, ok := m[r]; !ok {
				fail("missing required property %q", r)
			}
		}
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			if p, ok := s.properties[k]; ok {
				p.validate(m[k], append(path, k), errs)
				continue
			}
			if s.additional == nil {
				continue
			}
			if s.additional.always != nil && !*s.additional.always {
				*errs = append(*errs, SchemaError{Path: clonePath(append(path, k)), Msg: fmt.Sprintf("unknown property %q", k), Key: true})
				continue
			}
			s.additional.validate(m[k], append(path, k), errs)
		}
	}
	for _, sub := range s.allOf {
		sub.validate(v, path, errs)
	}
	if len(s.anyOf) > 0 && s.matching(s.anyOf, v, path) == 0 {
		fail("must match at least one of the anyOf schemas")
	}
	if len(s.oneOf) > 0 {
		switch n := s.matching(s.oneOf, v, path); {
		case n == 0:
			fail("must match one of the oneOf schemas")
		case n > 1 && !hasUnknown(v):
			fail("must match only one of the oneOf schemas, matches %d", n)
		}
	}
}

// matching counts the schemas v satisfies.
func (s *Schema) matching(subs []*Schema, v any, path []any) int {
	n := 0
	for _, sub := range subs {
		var errs SchemaErrors
		sub.validate(v, path, &errs)
		if len(errs) == 0 {
			n++
		}
	}
	return n
}

// hasUnknown reports whether v holds a value only known at render time; such
// a value may match several oneOf schemas now and only one later.
func hasUnknown(v any) bool {
	switch v := v.(type) {
	case unknownValue, unknownString:
		return true
	case map[string]any:
		for _, e := range v {
			if hasUnknown(e) {
				return true
			}
		}
	case []any:
		return slices.ContainsFunc(v, hasUnknown)
	}
	return false
}

func clonePath(p []any) []any { return slices.Clone(p) }

// jsonKind classifies v as a JSON type: object, array, string, integer,
// number, boolean or null.
func jsonKind(v any) string {
	switch v := v.(type) {
	case nil:
		return "null"
	case string, unknownString:
		return "string"
	case bool:
		return "boolean"
	case int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64:
		return "integer"
	case float32, float64, json.Number:
		f, _ := toFloat(v)
		if f == math.Trunc(f) && !math.IsInf(f, 0) {
			return "integer"
		}
		return "number"
	case map[string]any:
		return "object"
	case []any:
		return "array"
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Map:
		if rv.Type().Key().Kind() == reflect.String {
			return "object"
		}
	case reflect.Slice, reflect.Array:
		if rv.Type().Elem().Kind() == reflect.Uint8 {
			return "string"
		}
		return "array"
	case reflect.String:
		return "string"
	case reflect.Bool:
		return "boolean"
	}
	return fmt.Sprintf("%T", v)
}

func kindMatches(kind, want string) bool {
	return kind == want || want == "number" && kind == "integer"
}

func kindName(kind string) string {
	switch kind {
	case "object":
		return "a map"
	case "array":
		return "a list"
	case "integer":
		return "an integer"
	case "null":
		return "null"
	}
	return "a " + kind
}

func toFloat(v any) (float64, bool) {
	switch v := v.(type) {
	case int:
		return float64(v), true
	case int8:
		return float64(v), true
	case int16:
		return float64(v), true
	case int32:
		return float64(v), true
	case int64:
		return float64(v), true
	case uint:
		return float64(v), true
	case uint8:
		return float64(v), true
	case uint16:
		return float64(v), true
	case uint32:
		return float64(v), true
	case uint64:
		return float64(v), true
	case float32:
		return float64(v), true
	case float64:
		return v, true
	case json.Number:
		f, err := v.Float64()
		return f, err == nil
	}
	return 0, false
}

func toList(v any) []any {
	if l, ok := v.([]any); ok {
		return l
	}
	rv := reflect.ValueOf(v)
	l := make([]any, rv.Len())
	for i := range l {
		l[i] = rv.Index(i).Interface()
	}
	return l
}

func toMap(v any) map[string]any {
	if m, ok := v.(map[string]any); ok {
		return m
	}
	rv := reflect.ValueOf(v)
	m := make(map[string]any, rv.Len())
	for it := rv.MapRange(); it.Next(); {
		m[it.Key().String()] = it.Value().Interface()
	}
	return m
}

// jsonEqual compares two values as JSON values: numbers by value, maps and
// lists element by element.
func jsonEqual(a, b any) bool {
	if fa, ok := toFloat(a); ok {
		fb, ok := toFloat(b)
		return ok && fa == fb
	}
	switch ka := jsonKind(a); ka {
	case "object":
		if jsonKind(b) != "object" {
			return false
		}
		ma, mb := toMap(a), toMap(b)
		if len(ma) != len(mb) {
			return false
		}
		for k, va := range ma {
			vb, ok := mb[k]
			if !ok || !jsonEqual(va, vb) {
				return false
			}
		}
		return true
	case "array":
		if jsonKind(b) != "array" {
			return false
		}
		la, lb := toList(a), toList(b)
		return slices.EqualFunc(la, lb, jsonEqual)
	}
	return reflect.DeepEqual(a, b)
}

// jsonText formats a value of a schema for a message. Messages never
// quote the value being checked: at run time it may hold a secret.
func jsonText(v any) string {
	b, err := appendText(nil, v)
	if err != nil {
		return fmt.Sprintf("%v", v)
	}
	if s, ok := v.(string); ok {
		return strconv.Quote(s)
	}
	return string(b)
}

var (
	_ error = SchemaError{}
	_ error = SchemaErrors(nil)
)
