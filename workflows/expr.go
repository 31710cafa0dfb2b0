package workflows

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/file"
	"github.com/expr-lang/expr/vm"
)

// Bounds on every expression. A workflow expression larger than
// MaxExpressionNodes does not compile; an evaluation that allocates more than
// ExpressionMemoryBudget (expr's unit: roughly one per element of every list,
// map or range it builds) fails.
const (
	MaxExpressionNodes     = 2000
	ExpressionMemoryBudget = 1_000_000
)

// Env is the typed expression environment. Every expression is compiled
// against it, so a misspelt name is a load error, and evaluated with a
// pointer to one. Env and its parts have no methods on purpose: methods would
// become callable from expressions.
type Env struct {
	Event   EventEnv           `expr:"event"`
	Steps   map[string]StepEnv `expr:"steps"`
	Env     map[string]any     `expr:"env"`
	Secrets map[string]string  `expr:"secrets"`
	Run     RunEnv             `expr:"run"`
}

// EventEnv is `event`: the webhook request a run was made from.
type EventEnv struct {
	// Body is parsed by content type: JSON → any; form → map[string]any
	// (string values, or []any when a field is repeated); else the raw string.
	Body       any               `expr:"body"`
	Raw        string            `expr:"raw"`
	Headers    map[string]string `expr:"headers"` // lower-case names
	Query      map[string]string `expr:"query"`
	Method     string            `expr:"method"`
	Path       string            `expr:"path"`
	ID         string            `expr:"id"`
	ReceivedAt time.Time         `expr:"received_at"`
}

// StepEnv is `steps.<id>`: what an earlier step produced.
type StepEnv struct {
	Outputs map[string]any `expr:"outputs"`
	Status  string         `expr:"status"`
}

// RunEnv is `run`.
type RunEnv struct {
	ID       string `expr:"id"`
	Workflow string `expr:"workflow"`
	Attempt  int    `expr:"attempt"`
}

// The top-level names of Env.
const (
	rootEvent   = "event"
	rootSteps   = "steps"
	rootEnv     = "env"
	rootSecrets = "secrets"
	rootRun     = "run"
)

var rootNames = []string{rootEvent, rootSteps, rootEnv, rootSecrets, rootRun}

// Program is one compiled expression: a filter, an if, an idempotency_key,
// or the inside of a ${{ }}. It is safe for concurrent use.
type Program struct {
	src     string
	pos     Pos
	prog    *vm.Program
	boolean bool
	refs    refs
}

// Source returns the expression's text.
func (p *Program) Source() string { return p.src }

// Pos returns where the expression starts in its file.
func (p *Program) Pos() Pos { return p.pos }

// vms holds reusable virtual machines: a VM keeps its stack between runs,
// which saves allocations on every evaluation.
var vms = sync.Pool{New: func() any { return &vm.VM{MemoryBudget: ExpressionMemoryBudget} }}

// Eval evaluates the expression. The result may share structure with env
// (a map from event.body, say): treat it as read-only. Errors are
// *EvalError and never contain the values of env.Secrets. A nil Program
// yields nil.
func (p *Program) Eval(env *Env) (any, error) {
	if p == nil {
		return nil, nil
	}
	if env == nil {
		env = &Env{}
	}
	m := vms.Get().(*vm.VM)
	out, err := m.Run(p.prog, env)
	vms.Put(m)
	if err != nil {
		msg := err.Error()
		var fe *file.Error
		if errors.As(err, &fe) {
			msg = fe.Message
		}
		return nil, p.evalError(env, msg)
	}
	return out, nil
}

// Bool evaluates a boolean expression (filter and if are compiled to
// return bool, so only a runtime failure makes them fail). A nil Program is
// true: an absent filter or if lets everything through.
func (p *Program) Bool(env *Env) (bool, error) {
	if p == nil {
		return true, nil
	}
	v, err := p.Eval(env)
	if err != nil {
		return false, err
	}
	b, ok := v.(bool)
	if !ok {
		return false, p.evalError(env, fmt.Sprintf("expected bool, got %s", typeName(v)))
	}
	return b, nil
}

// Text evaluates the expression and formats the result as a ${{ }} inside a
// longer string would: strings as they are, nil as "", maps and lists as
// JSON. It suits idempotency keys. A nil Program yields "".
func (p *Program) Text(env *Env) (string, error) {
	if p == nil {
		return "", nil
	}
	v, err := p.Eval(env)
	if err != nil {
		return "", err
	}
	b, err := appendText(nil, v)
	if err != nil {
		return "", p.evalError(env, err.Error())
	}
	return string(b), nil
}

func (p *Program) evalError(env *Env, msg string) error {
	return &EvalError{Pos: p.pos, Source: redact(p.src, env), Msg: redact(msg, env)}
}

// EvalError is an expression that failed at run time.
type EvalError struct {
	Pos    Pos
	Source string // the expression
	Msg    string
}

func (e *EvalError) Error() string {
	if e.Source == "" {
		return fmt.Sprintf("%s: %s", e.Pos, e.Msg)
	}
	return fmt.Sprintf("%s: evaluating %q: %s", e.Pos, e.Source, e.Msg)
}

// redact replaces every secret value of env found in s.
func redact(s string, env *Env) string {
	if env == nil {
		return s
	}
	for _, v := range env.Secrets {
		if v != "" && strings.Contains(s, v) {
			s = strings.ReplaceAll(s, v, "[redacted]")
		}
	}
	return s
}

// posMapper turns a rune offset into the source string of an expression or
// template into a file position.
type posMapper func(off int) Pos

// linearMapper maps offsets of a string that starts at pos, counting lines
// and columns in s itself.
func linearMapper(s string, pos Pos) posMapper {
	return func(off int) Pos {
		p := pos
		i := 0
		for _, r := range s {
			if i == off {
				break
			}
			if r == '\n' {
				p.Line++
				p.Col = 1
			} else {
				p.Col++
			}
			i++
		}
		return p
	}
}

// compile compiles src against Env. base is the rune offset of src within
// the string at maps' origin (non-zero for the inside of a ${{ }}).
func compile(src string, boolean bool, at posMapper, base int) (*Program, []Problem) {
	opts := []expr.Option{
		expr.Env(Env{}),
		expr.MaxNodes(MaxExpressionNodes),
		expr.Patch(utcNow{}),
	}
	if boolean {
		opts = append(opts, expr.AsBool())
	}
	prog, err := expr.Compile(src, opts...)
	if err != nil {
		var fe *file.Error
		if errors.As(err, &fe) {
			return nil, []Problem{{Pos: at(base + fe.From), Msg: fe.Message}}
		}
		return nil, []Problem{{Pos: at(base), Msg: err.Error()}}
	}
	p := &Program{src: strings.TrimSpace(src), pos: at(base + leadingSpace(src)), prog: prog, boolean: boolean}
	probs := p.analyse(at, base)
	if len(probs) > 0 {
		return nil, probs
	}
	return p, nil
}

// utcNow makes now() return UTC whatever the process's local zone is. (date()
// without a zone already parses as UTC. expr.Timezone would do the same for
// both, but in expr v1.17.8 it breaks every date() call.)
type utcNow struct{}

func (utcNow) Visit(node *ast.Node) {
	if b, ok := (*node).(*ast.BuiltinNode); ok && b.Name == "now" && len(b.Arguments) == 0 {
		ast.Patch(node, &ast.BuiltinNode{Name: "now", Arguments: []ast.Node{&ast.ConstantNode{Value: time.UTC}}})
	}
}

// leadingSpace counts the runes of white space that start s.
func leadingSpace(s string) int {
	n := 0
	for _, r := range s {
		if r != ' ' && r != '\t' && r != '\n' && r != '\r' {
			break
		}
		n++
	}
	return n
}

// nameRef is a reference to a named thing (steps.NAME, secrets.NAME,
// env.NAME) in an expression.
type nameRef struct {
	Name string
	Pos  Pos
}

// refs is what an expression refers to in Env, found by walking its syntax
// tree. Load checks them against the scope of the place the expression is
// used in.
type refs struct {
	roots   map[string]Pos // first use of each top-level name
	steps   []nameRef
	envs    []nameRef
	secrets []nameRef
	anyStep bool // steps used other than as steps.NAME / steps["NAME"]
	anyEnv  bool // env used other than as env.NAME / env["NAME"]
}

type refWalker struct {
	idents  []*ast.IdentifierNode
	members []*ast.MemberNode
}

func (w *refWalker) Visit(n *ast.Node) {
	switch n := (*n).(type) {
	case *ast.IdentifierNode:
		w.idents = append(w.idents, n)
	case *ast.MemberNode:
		w.members = append(w.members, n)
	}
}

// constString returns the value of a literal string node.
func constString(n ast.Node) (string, bool) {
	switch n := n.(type) {
	case *ast.StringNode:
		return n.Value, true
	case *ast.ConstantNode:
		s, ok := n.Value.(string)
		return s, ok
	}
	return "", false
}

// analyse records p's references and rejects the uses of Env that can
// never be right: $env (it would expose every secret at once) and secrets
// not addressed by a literal name.
func (p *Program) analyse(at posMapper, base int) []Problem {
	var w refWalker
	node := p.prog.Node()
	ast.Walk(&node, &w)
	named := map[*ast.IdentifierNode]bool{}
	for _, m := range w.members {
		id, ok := m.Node.(*ast.IdentifierNode)
		if !ok {
			continue
		}
		name, ok := constString(m.Property)
		if !ok {
			continue
		}
		r := nameRef{Name: name, Pos: at(base + m.Property.Location().From)}
		switch id.Value {
		case rootSteps:
			p.refs.steps = append(p.refs.steps, r)
		case rootEnv:
			p.refs.envs = append(p.refs.envs, r)
		case rootSecrets:
			p.refs.secrets = append(p.refs.secrets, r)
		default:
			continue
		}
		named[id] = true
	}
	var probs []Problem
	for _, id := range w.idents {
		pos := at(base + id.Location().From)
		switch id.Value {
		case "$env":
			probs = append(probs, Problem{Pos: pos, Msg: "$env is not available; use event, steps, env, secrets or run"})
			continue
		case rootSecrets:
			if !named[id] {
				probs = append(probs, Problem{Pos: pos, Msg: `secrets must be used by name, as secrets.NAME or secrets["NAME"]`})
				continue
			}
		case rootSteps:
			p.refs.anyStep = p.refs.anyStep || !named[id]
		case rootEnv:
			p.refs.anyEnv = p.refs.anyEnv || !named[id]
		case rootEvent, rootRun:
		default:
			continue
		}
		if p.refs.roots == nil {
			p.refs.roots = map[string]Pos{}
		}
		if old, ok := p.refs.roots[id.Value]; !ok || before(pos, old) {
			p.refs.roots[id.Value] = pos
		}
	}
	for _, s := range p.refs.secrets {
		if !validSecretName(s.Name) {
			probs = append(probs, problemf(s.Pos, "invalid secret name %q (want letters, digits, '_', '-' or '.', not starting with '.' or '-')", s.Name))
		}
	}
	return probs
}

func before(a, b Pos) bool {
	return a.Line < b.Line || a.Line == b.Line && a.Col < b.Col
}

var (
	_ error       = (*EvalError)(nil)
	_ ast.Visitor = (*refWalker)(nil)
	_ ast.Visitor = utcNow{}
)
