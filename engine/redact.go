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
	switch t := v.(type) {
	case string:
		r := redact(t)
		return r, r != t
	case map[string]any:
		var c map[string]any
		for k, x := range t {
			rk := redact(k)
			rx, changed := redactValue(x, redact)
			if !changed && rk == k {
				continue
			}
			if c == nil {
				c = maps.Clone(t)
			}
			if rk != k {
				delete(c, k)
			}
			c[rk] = rx
		}
		if c == nil {
			return t, false
		}
		return c, true
	case []any:
		var c []any
		for i, x := range t {
			if rx, changed := redactValue(x, redact); changed {
				if c == nil {
					c = slices.Clone(t)
				}
				c[i] = rx
			}
		}
		if c == nil {
			return t, false
		}
		return c, true
	case map[string]string:
		var c map[string]string
		for k, x := range t {
			rk, rx := redact(k), redact(x)
			if rk == k && rx == x {
				continue
			}
			if c == nil {
				c = maps.Clone(t)
			}
			if rk != k {
				delete(c, k)
			}
			c[rk] = rx
		}
		if c == nil {
			return t, false
		}
		return c, true
	case []string:
		var c []string
		for i, x := range t {
			if rx := redact(x); rx != x {
				if c == nil {
					c = slices.Clone(t)
				}
				c[i] = rx
			}
		}
		if c == nil {
			return t, false
		}
		return c, true
	default:
		return v, false
	}
}
