package workflows

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// String formats p as "file:line:col". Unknown parts are left out: a
// position without a column is "file:line", one without a line is "file".
func (p Pos) String() string {
	var b strings.Builder
	b.WriteString(p.File)
	if p.Line > 0 {
		if b.Len() > 0 {
			b.WriteByte(':')
		}
		b.WriteString(strconv.Itoa(p.Line))
		if p.Col > 0 {
			b.WriteByte(':')
			b.WriteString(strconv.Itoa(p.Col))
		}
	}
	return b.String()
}

// Problem is one thing wrong with a workflow file, at a position.
type Problem struct {
	Pos Pos
	Msg string
}

// String formats the problem as "file:line:col: message".
func (p Problem) String() string {
	if s := p.Pos.String(); s != "" {
		return s + ": " + p.Msg
	}
	return p.Msg
}

// Problems is every problem found while loading workflows. It is an error
// whose text has one problem per line.
type Problems []Problem

func (ps Problems) Error() string {
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

// sortProblems orders problems by file, line, column and message, and drops
// exact repeats.
func sortProblems(ps Problems) Problems {
	slices.SortStableFunc(ps, func(a, b Problem) int {
		return cmp.Or(
			cmp.Compare(a.Pos.File, b.Pos.File),
			cmp.Compare(a.Pos.Line, b.Pos.Line),
			cmp.Compare(a.Pos.Col, b.Pos.Col),
			cmp.Compare(a.Msg, b.Msg),
		)
	})
	return slices.Compact(ps)
}

// problemf makes a one-problem error.
func problemf(pos Pos, format string, args ...any) Problem {
	return Problem{Pos: pos, Msg: fmt.Sprintf(format, args...)}
}

var _ error = Problems(nil)
