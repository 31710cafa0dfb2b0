package signature

import (
	"encoding/json"
)

// topLevelJSONString returns the string value of key in the top-level JSON
// object b, or "" when b is not an object, the key is absent before the scan
// stops, or its value is not a string. It reads only as far as the key (the
// first occurrence counts) and skips other values without decoding them, so
// it is cheap on large bodies. Input that is not valid JSON gives "" or
// whatever precedes the invalid part.
func topLevelJSONString(b []byte, key string) string {
	p := jsonScan{b: b}
	p.space()
	if !p.eat('{') {
		return ""
	}
	for {
		p.space()
		k, ok := p.str()
		if !ok {
			return ""
		}
		p.space()
		if !p.eat(':') {
			return ""
		}
		p.space()
		if jsonStringEquals(k, key) {
			if p.i >= len(p.b) || p.b[p.i] != '"' {
				return ""
			}
			v, ok := p.str()
			if !ok {
				return ""
			}
			return jsonUnquote(v)
		}
		if !p.skipValue() {
			return ""
		}
		p.space()
		if !p.eat(',') {
			return ""
		}
	}
}

// jsonScan is a forward-only cursor over JSON text.
type jsonScan struct {
	b []byte
	i int
}

func (p *jsonScan) space() {
	for p.i < len(p.b) {
		switch p.b[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

func (p *jsonScan) eat(c byte) bool {
	if p.i < len(p.b) && p.b[p.i] == c {
		p.i++
		return true
	}
	return false
}

// str consumes a string and returns it with its quotes, escapes intact.
func (p *jsonScan) str() ([]byte, bool) {
	start := p.i
	if !p.eat('"') {
		return nil, false
	}
	for p.i < len(p.b) {
		switch p.b[p.i] {
		case '\\':
			p.i += 2
		case '"':
			p.i++
			return p.b[start:p.i], true
		default:
			p.i++
		}
	}
	return nil, false
}

// skipValue consumes one value of any kind without validating it.
func (p *jsonScan) skipValue() bool {
	depth := 0
	for p.i < len(p.b) {
		switch c := p.b[p.i]; c {
		case '"':
			if _, ok := p.str(); !ok {
				return false
			}
			if depth == 0 {
				return true
			}
			continue
		case '{', '[':
			depth++
		case '}', ']':
			if depth == 0 {
				return true // the end of the enclosing object; not ours
			}
			depth--
			if depth == 0 {
				p.i++
				return true
			}
		case ',', ' ', '\t', '\n', '\r':
			if depth == 0 {
				return true
			}
		}
		p.i++
	}
	return depth == 0
}

// jsonStringEquals reports whether the quoted JSON string q decodes to s.
func jsonStringEquals(q []byte, s string) bool {
	if plainJSONString(q) {
		return string(q[1:len(q)-1]) == s
	}
	return jsonUnquote(q) == s
}

// jsonUnquote decodes a quoted JSON string; "" when it is invalid.
func jsonUnquote(q []byte) string {
	if plainJSONString(q) {
		return string(q[1 : len(q)-1])
	}
	var s string
	if json.Unmarshal(q, &s) != nil {
		return ""
	}
	return s
}

// plainJSONString: printable ASCII without escapes, so the bytes between
// the quotes are the value.
func plainJSONString(q []byte) bool {
	for _, c := range q[1 : len(q)-1] {
		if c < 0x20 || c > 0x7e || c == '\\' {
			return false
		}
	}
	return true
}
