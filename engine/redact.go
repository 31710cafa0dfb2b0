package engine

import (
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
// decoded JSON and step outputs hold them. m is not modified.
func RedactValues(m map[string]any, redact func(string) string) map[string]any {
	if m == nil {
		return nil
	}
	out, _ := redactValue(m, redact).(map[string]any)
	return out
}

func redactValue(v any, redact func(string) string) any {
	switch t := v.(type) {
	case string:
		return redact(t)
	case map[string]any:
		c := make(map[string]any, len(t))
		for k, x := range t {
			c[redact(k)] = redactValue(x, redact)
		}
		return c
	case []any:
		c := make([]any, len(t))
		for i, x := range t {
			c[i] = redactValue(x, redact)
		}
		return c
	case map[string]string:
		c := make(map[string]string, len(t))
		for k, x := range t {
			c[redact(k)] = redact(x)
		}
		return c
	case []string:
		c := make([]string, len(t))
		for i, x := range t {
			c[i] = redact(x)
		}
		return c
	default:
		return v
	}
}
