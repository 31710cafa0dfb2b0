package engine

import (
	"maps"
	"slices"
	"sort"
	"strings"
)

// Redactor replaces secret values with "[redacted]" in text the engine
// writes: errors, outputs, attempt details and log lines. Values shorter
// than 4 bytes are not redacted (they would mangle ordinary text and are
// not secrets worth the name).
type Redactor struct {
	r *strings.Replacer
}

// Redacted is what a secret value is replaced with.
const Redacted = "[redacted]"

// NewRedactor builds a Redactor for the values of secrets.
func NewRedactor(secrets map[string]string) *Redactor {
	vals := make([]string, 0, len(secrets))
	for _, v := range secrets {
		if len(v) >= 4 {
			vals = append(vals, v)
		}
	}
	if len(vals) == 0 {
		return &Redactor{}
	}
	// Longest first, so a secret that contains another is replaced whole.
	sort.Slice(vals, func(i, j int) bool { return len(vals[i]) > len(vals[j]) })
	pairs := make([]string, 0, 2*len(vals))
	for _, v := range vals {
		pairs = append(pairs, v, Redacted)
	}
	return &Redactor{r: strings.NewReplacer(pairs...)}
}

// String returns s with every secret value replaced.
func (rd *Redactor) String(s string) string {
	if rd == nil || rd.r == nil {
		return s
	}
	return rd.r.Replace(s)
}

// Map returns m with secrets replaced in every string it holds, at any
// depth. m itself is not modified.
func (rd *Redactor) Map(m map[string]any) map[string]any {
	if rd == nil || rd.r == nil {
		return m
	}
	return RedactValues(m, rd.r.Replace)
}

// RedactValues returns m with redact applied to every string it holds, at
// any depth (keys included): the values of maps, lists and string lists as
// decoded JSON and step outputs hold them. m is not modified; what holds no
// string redact changes is returned as it is, not copied (most outputs hold
// no secret, and every step's outputs go through here).
func RedactValues(m map[string]any, redact func(string) string) map[string]any {
	if m == nil {
		return nil
	}
	out, _ := redactValue(m, redact)
	return out.(map[string]any)
}

// redactValue returns v with redact applied, and whether that changed it;
// a container is copied only when something in it changed.
func redactValue(v any, redact func(string) string) (any, bool) {
	str := func(x string) (string, bool) { r := redact(x); return r, r != x }
	val := func(x any) (any, bool) { return redactValue(x, redact) }
	switch t := v.(type) {
	case string:
		return str(t)
	case map[string]any:
		return redactMap(t, str, val)
	case []any:
		return redactSlice(t, val)
	case map[string]string:
		return redactMap(t, str, str)
	case []string:
		return redactSlice(t, str)
	default:
		return v, false
	}
}

// redactMap applies key to m's keys and elem to its values, copying m on
// the first change.
func redactMap[V any](m map[string]V, key func(string) (string, bool), elem func(V) (V, bool)) (map[string]V, bool) {
	var c map[string]V
	for k, x := range m {
		rk, kChanged := key(k)
		rx, changed := elem(x)
		if !kChanged && !changed {
			continue
		}
		if c == nil {
			c = maps.Clone(m)
		}
		if kChanged {
			delete(c, k)
		}
		c[rk] = rx
	}
	if c == nil {
		return m, false
	}
	return c, true
}

// redactSlice applies elem to s's elements, copying s on the first change.
func redactSlice[V any](s []V, elem func(V) (V, bool)) ([]V, bool) {
	var c []V
	for i, x := range s {
		if rx, changed := elem(x); changed {
			if c == nil {
				c = slices.Clone(s)
			}
			c[i] = rx
		}
	}
	if c == nil {
		return s, false
	}
	return c, true
}
