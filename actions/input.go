package actions

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// input reads a step's rendered `with` map field by field and collects every
// problem, so one failed attempt reports all of them. Messages name the field
// and the kind of value found; they quote a value only when it is short
// (see quoteShort), since a rendered value may hold a secret.
type input struct {
	m    map[string]any
	errs []string
}

func newInput(m map[string]any, allowed ...string) *input {
	in := &input{m: m}
	var unknown []string
	for k := range m {
		if !slices.Contains(allowed, k) {
			unknown = append(unknown, k)
		}
	}
	sort.Strings(unknown)
	for _, k := range unknown {
		in.errs = append(in.errs, fmt.Sprintf("unknown input %q (known: %s)", k, strings.Join(allowed, ", ")))
	}
	return in
}

func (in *input) failf(format string, args ...any) {
	in.errs = append(in.errs, fmt.Sprintf(format, args...))
}

// err returns the collected problems as one permanent error of action, or
// nil.
func (in *input) err(action string) error {
	if len(in.errs) == 0 {
		return nil
	}
	return Permanent(fmt.Errorf("%s: invalid input: %s", action, strings.Join(in.errs, "; ")))
}

// has reports whether key is present with a non-null value.
func (in *input) has(key string) bool {
	v, ok := in.m[key]
	return ok && v != nil
}

// str returns the string at key, or "" when absent.
func (in *input) str(key string) string {
	v, ok := in.m[key]
	if !ok || v == nil {
		return ""
	}
	s, ok := v.(string)
	if !ok {
		in.failf("%q must be a string, got %s", key, kindOf(v))
	}
	return s
}

// required is str that also fails when the string is absent or empty.
func (in *input) required(key string) string {
	if !in.has(key) {
		in.failf("%q is required", key)
		return ""
	}
	s := in.str(key)
	if s == "" && kindOf(in.m[key]) == "string" {
		in.failf("%q must not be empty", key)
	}
	return s
}

// oneOf is str restricted to choices; def when absent.
func (in *input) oneOf(key, def string, choices ...string) string {
	s := in.str(key)
	if s == "" {
		return def
	}
	if !slices.Contains(choices, s) {
		in.failf("%q must be one of %s, got %s", key, strings.Join(choices, ", "), quoteShort(s))
		return def
	}
	return s
}

// url returns the parsed absolute http(s) URL at key.
func (in *input) url(key string) *url.URL {
	s := in.required(key)
	if s == "" {
		return nil
	}
	u, err := url.Parse(s)
	if err != nil {
		// url.Parse quotes the whole URL in its error; name only the field.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		in.failf("%q is not a valid URL: %v", key, err)
		return nil
	}
	if u.Scheme == "" {
		in.failf("%q must be an absolute http or https URL", key)
		return nil
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		in.failf("%q must be an http or https URL, got scheme %q", key, u.Scheme)
		return nil
	}
	if u.Host == "" {
		in.failf("%q has no host", key)
		return nil
	}
	return u
}

// duration returns the positive duration string at key, or 0 when absent.
func (in *input) duration(key string) time.Duration {
	s := in.str(key)
	if s == "" {
		return 0
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		in.failf("%q must be a positive duration like 10s or 1m30s, got %s", key, quoteShort(s))
		return 0
	}
	return d
}

// object returns the map at key, or nil when absent.
func (in *input) object(key string) map[string]any {
	v, ok := in.m[key]
	if !ok || v == nil {
		return nil
	}
	switch m := v.(type) {
	case map[string]any:
		return m
	case map[string]string:
		out := make(map[string]any, len(m))
		for k, e := range m {
			out[k] = e
		}
		return out
	}
	in.failf("%q must be an object, got %s", key, kindOf(v))
	return nil
}

// stringMap returns the map at key with scalar values as strings. With
// lists true, a value may also be a list of scalars.
func (in *input) stringMap(key string, lists bool) map[string][]string {
	m := in.object(key)
	if m == nil {
		return nil
	}
	out := make(map[string][]string, len(m))
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys) // problems reported in a stable order
	for _, k := range keys {
		v := m[k]
		if l, ok := v.([]any); ok && lists {
			for i, e := range l {
				s, ok := scalarString(e)
				if !ok {
					in.failf("%s.%s[%d] must be a string, number or boolean, got %s", key, k, i, kindOf(e))
					continue
				}
				out[k] = append(out[k], s)
			}
			continue
		}
		s, ok := scalarString(v)
		if !ok {
			what := "a string, number or boolean"
			if lists {
				what += " (or a list of them)"
			}
			in.failf("%s.%s must be %s, got %s", key, k, what, kindOf(v))
			continue
		}
		out[k] = []string{s}
	}
	return out
}

// quoteShort quotes s when it is short enough to be a mistyped keyword or
// number; longer text is described by its length only.
func quoteShort(s string) string {
	if len(s) <= 24 {
		return strconv.Quote(s)
	}
	return fmt.Sprintf("a string of %d bytes", len(s))
}

// scalarString renders a string, number or boolean as text.
func scalarString(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return x, true
	case bool:
		return strconv.FormatBool(x), true
	case json.Number:
		return x.String(), true
	}
	if f, ok := number(v); ok {
		return strconv.FormatFloat(f, 'f', -1, 64), true
	}
	return "", false
}

// number returns v as a float64 when it is any Go number.
func number(v any) (float64, bool) {
	switch x := v.(type) {
	case int:
		return float64(x), true
	case int8:
		return float64(x), true
	case int16:
		return float64(x), true
	case int32:
		return float64(x), true
	case int64:
		return float64(x), true
	case uint:
		return float64(x), true
	case uint8:
		return float64(x), true
	case uint16:
		return float64(x), true
	case uint32:
		return float64(x), true
	case uint64:
		return float64(x), true
	case float32:
		return float64(x), true
	case float64:
		return x, true
	case json.Number:
		f, err := x.Float64()
		return f, err == nil
	}
	return 0, false
}

// integer returns v as an int when it is a whole number.
func integer(v any) (int, bool) {
	f, ok := number(v)
	if !ok || f != math.Trunc(f) || math.Abs(f) > math.MaxInt32 {
		return 0, false
	}
	return int(f), true
}

// kindOf names v's JSON kind for messages.
func kindOf(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "string"
	case bool:
		return "boolean"
	case map[string]any, map[string]string:
		return "object"
	case []any:
		return "array"
	}
	if _, ok := number(v); ok {
		return "number"
	}
	return fmt.Sprintf("%T", v)
}
