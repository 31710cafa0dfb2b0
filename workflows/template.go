package workflows

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Value is a compiled YAML value tree (a step's `with`, the workflow's
// `env`, a signature secret): maps, lists, scalars, and strings containing
// ${{ }} parts. A string that is exactly one `${{ expr }}` keeps the type of
// the expression's value (number, map, list, bool); any other string with
// ${{ }} parts renders to a string. A nil *Value renders to nil.
type Value struct {
	kind    valueKind
	pos     Pos
	scalar  any      // kindScalar
	prog    *Program // kindExact
	parts   []part   // kindInterp
	keys    []string // kindMap, in file order
	keyPos  []Pos    // kindMap
	elems   []*Value // kindMap (parallel to keys) and kindList
	dynamic bool     // a ${{ }} somewhere inside
	litLen  int      // kindInterp: bytes of literal text
}

type valueKind uint8

const (
	kindScalar valueKind = iota // a plain value: string, number, bool, nil
	kindExact                   // exactly one ${{ }}
	kindInterp                  // a string with ${{ }} parts
	kindMap
	kindList
)

// part is a literal piece or an expression of a string with ${{ }} parts.
type part struct {
	lit  string
	prog *Program
}

// Pos returns where the value starts in its file.
func (v *Value) Pos() Pos {
	if v == nil {
		return Pos{}
	}
	return v.pos
}

// Render evaluates every ${{ }} of the value and returns the result:
// map[string]any, []any, or a scalar. Results of exact ${{ }} values may
// share structure with env; treat them as read-only. Errors are *EvalError.
func (v *Value) Render(env *Env) (any, error) {
	if v == nil {
		return nil, nil
	}
	switch v.kind {
	case kindExact:
		return v.prog.Eval(env)
	case kindInterp:
		var sb strings.Builder
		sb.Grow(v.litLen + 32*len(v.parts))
		var scratch [64]byte
		for _, p := range v.parts {
			if p.prog == nil {
				sb.WriteString(p.lit)
				continue
			}
			x, err := p.prog.Eval(env)
			if err != nil {
				return nil, err
			}
			if s, ok := x.(string); ok {
				sb.WriteString(s)
				continue
			}
			b, err := appendText(scratch[:0], x)
			if err != nil {
				return nil, p.prog.evalError(env, err.Error())
			}
			sb.Write(b)
		}
		return sb.String(), nil
	case kindMap:
		m := make(map[string]any, len(v.keys))
		for i, k := range v.keys {
			x, err := v.elems[i].Render(env)
			if err != nil {
				return nil, err
			}
			m[k] = x
		}
		return m, nil
	case kindList:
		l := make([]any, len(v.elems))
		for i, e := range v.elems {
			x, err := e.Render(env)
			if err != nil {
				return nil, err
			}
			l[i] = x
		}
		return l, nil
	}
	return v.scalar, nil
}

// RenderMap renders a value that must be a map, such as `with` or `env`.
// A nil Value renders to an empty map.
func (v *Value) RenderMap(env *Env) (map[string]any, error) {
	if v == nil {
		return map[string]any{}, nil
	}
	x, err := v.Render(env)
	if err != nil {
		return nil, err
	}
	m, ok := x.(map[string]any)
	if !ok {
		return nil, &EvalError{Pos: v.pos, Msg: fmt.Sprintf("expected a map, got %s", typeName(x))}
	}
	return m, nil
}

// Static returns the plain value when v contains no ${{ }} (a fresh copy
// each call), for checks at load time.
func (v *Value) Static() (any, bool) {
	if v == nil {
		return nil, true
	}
	if v.dynamic {
		return nil, false
	}
	x, err := v.Render(nil)
	return x, err == nil
}

// programs calls fn for every compiled expression in v.
func (v *Value) programs(fn func(*Program)) {
	if v == nil {
		return
	}
	switch v.kind {
	case kindExact:
		fn(v.prog)
	case kindInterp:
		for _, p := range v.parts {
			if p.prog != nil {
				fn(p.prog)
			}
		}
	case kindMap, kindList:
		for _, e := range v.elems {
			e.programs(fn)
		}
	}
}

// ParseTemplate compiles one string that may contain ${{ }} parts; pos is
// where the string starts. Errors are Problems.
func ParseTemplate(s string, pos Pos) (*Value, error) {
	v, probs := parseTemplate(s, pos, linearMapper(s, pos))
	if len(probs) > 0 {
		return nil, Problems(probs)
	}
	return v, nil
}

// parseTemplate compiles s; at maps rune offsets of s to positions.
func parseTemplate(s string, pos Pos, at posMapper) (*Value, []Problem) {
	segs, bad := scanTemplate(s)
	if bad >= 0 {
		return nil, []Problem{{Pos: at(utf8.RuneCountInString(s[:bad])), Msg: "unterminated ${{ (no matching }})"}}
	}
	if len(segs) == 1 && !segs[0].expr {
		return &Value{kind: kindScalar, pos: pos, scalar: s}, nil
	}
	v := &Value{kind: kindInterp, pos: pos, dynamic: true}
	var probs []Problem
	for _, sg := range segs {
		if !sg.expr {
			v.parts = append(v.parts, part{lit: sg.text})
			v.litLen += len(sg.text)
			continue
		}
		off := utf8.RuneCountInString(s[:sg.off])
		if strings.TrimSpace(sg.text) == "" {
			probs = append(probs, Problem{Pos: at(off - 3), Msg: "empty ${{ }}"})
			continue
		}
		p, ps := compile(sg.text, false, at, off)
		probs = append(probs, ps...)
		v.parts = append(v.parts, part{prog: p})
	}
	if len(probs) > 0 {
		return nil, probs
	}
	if len(segs) == 1 {
		return &Value{kind: kindExact, pos: pos, prog: v.parts[0].prog, dynamic: true}, nil
	}
	return v, nil
}

// segment is a literal piece of a template string or the source of one of
// its expressions, at byte offset off.
type segment struct {
	text string
	off  int
	expr bool
}

// scanTemplate splits s into literal text and ${{ }} expressions. A "}}"
// inside a string literal or closing a map literal of the expression does
// not end it. It returns the byte offset of an unterminated "${{", or -1.
// An empty s is one empty literal segment.
func scanTemplate(s string) ([]segment, int) {
	var segs []segment
	lit := 0
	for i := 0; ; {
		j := strings.Index(s[i:], "${{")
		if j < 0 {
			break
		}
		open := i + j
		end := closeOfExpr(s, open+3)
		if end < 0 {
			return nil, open
		}
		if open > lit {
			segs = append(segs, segment{text: s[lit:open], off: lit})
		}
		segs = append(segs, segment{text: s[open+3 : end], off: open + 3, expr: true})
		i = end + 2
		lit = i
	}
	if lit < len(s) || len(segs) == 0 {
		segs = append(segs, segment{text: s[lit:], off: lit})
	}
	return segs, -1
}

// closeOfExpr returns the byte offset of the "}}" that ends the expression
// starting at start, or -1.
func closeOfExpr(s string, start int) int {
	depth := 0
	for k := start; k < len(s); k++ {
		switch c := s[k]; c {
		case '"', '\'':
			for k++; k < len(s) && s[k] != c; k++ {
				if s[k] == '\\' {
					k++
				}
			}
			if k >= len(s) {
				return -1
			}
		case '`':
			for k++; k < len(s) && s[k] != '`'; k++ {
			}
			if k >= len(s) {
				return -1
			}
		case '{':
			depth++
		case '}':
			if depth > 0 {
				depth--
			} else if k+1 < len(s) && s[k+1] == '}' {
				return k
			}
		}
	}
	return -1
}

// appendText formats x as a ${{ }} inside a longer string renders it:
// strings as they are, nil as "", numbers and booleans as in JSON, times in
// RFC 3339, maps and lists as JSON.
func appendText(b []byte, x any) ([]byte, error) {
	switch x := x.(type) {
	case nil:
		return b, nil
	case string:
		return append(b, x...), nil
	case []byte:
		return append(b, x...), nil
	case bool:
		return strconv.AppendBool(b, x), nil
	case int:
		return strconv.AppendInt(b, int64(x), 10), nil
	case int64:
		return strconv.AppendInt(b, x, 10), nil
	case int32:
		return strconv.AppendInt(b, int64(x), 10), nil
	case int16:
		return strconv.AppendInt(b, int64(x), 10), nil
	case int8:
		return strconv.AppendInt(b, int64(x), 10), nil
	case uint:
		return strconv.AppendUint(b, uint64(x), 10), nil
	case uint64:
		return strconv.AppendUint(b, x, 10), nil
	case uint32:
		return strconv.AppendUint(b, uint64(x), 10), nil
	case uint16:
		return strconv.AppendUint(b, uint64(x), 10), nil
	case uint8:
		return strconv.AppendUint(b, uint64(x), 10), nil
	case float64:
		return appendFloat(b, x, 64), nil
	case float32:
		return appendFloat(b, float64(x), 32), nil
	case json.Number:
		return append(b, x...), nil
	case time.Time:
		return x.AppendFormat(b, time.RFC3339Nano), nil
	case time.Duration:
		return append(b, x.String()...), nil
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(x); err != nil {
		return b, fmt.Errorf("formatting %s as text: %w", typeName(x), err)
	}
	return append(b, bytes.TrimSuffix(buf.Bytes(), []byte("\n"))...), nil
}

// appendFloat formats f the way encoding/json does.
func appendFloat(b []byte, f float64, bits int) []byte {
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (bits == 64 && (abs < 1e-6 || abs >= 1e21) || bits == 32 && (float32(abs) < 1e-6 || float32(abs) >= 1e21)) {
		format = 'e'
	}
	return strconv.AppendFloat(b, f, format, -1, bits)
}

// typeName names the type of x for messages.
func typeName(x any) string {
	switch x.(type) {
	case nil:
		return "null"
	case string:
		return "string"
	case bool:
		return "boolean"
	case int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64:
		return "integer"
	case float32, float64:
		return "number"
	case map[string]any:
		return "map"
	case []any:
		return "list"
	}
	switch reflect.TypeOf(x).Kind() {
	case reflect.Map, reflect.Struct:
		return "map"
	case reflect.Slice, reflect.Array:
		return "list"
	}
	return fmt.Sprintf("%T", x)
}
