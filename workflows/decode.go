package workflows

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

var (
	workflowName = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*$`)
	stepID       = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)
	actionName   = regexp.MustCompile(`^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)?$`)
	envName      = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	webhookPath  = regexp.MustCompile(`^[A-Za-z0-9._~/-]+$`)
	headerName   = regexp.MustCompile("^[A-Za-z0-9!#$%&'*+.^_`|~-]+$")
)

// MaxNameLength bounds workflow names.
const MaxNameLength = 63

// maxPathLength bounds on.webhook.path.
const maxPathLength = 256

// schemes are the signature schemes; timestamped ones have a replay window.
var schemes = map[string]struct{ timestamped bool }{
	"github":   {},
	"hmac":     {},
	"none":     {},
	"shopify":  {},
	"slack":    {timestamped: true},
	"standard": {timestamped: true},
	"stripe":   {timestamped: true},
	"twilio":   {},
}

func schemeNames(timestamped bool) string {
	var names []string
	for name, s := range schemes {
		if !timestamped || s.timestamped {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	return strings.Join(names, ", ")
}

var httpMethods = []string{"DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT"}

// scope says which top-level names an expression may use where it is.
type scope struct {
	what    string // the place, for messages
	allowed []string
	hint    string // appended to "X is not available in Y"
}

var (
	triggerScope = func(what string) scope {
		return scope{what: what, allowed: []string{rootEvent, rootEnv, rootSecrets}, hint: " (it runs before the run exists)"}
	}
	secretScope = scope{what: "signature.secret", allowed: []string{rootSecrets, rootEnv}, hint: " (only secrets and env are)"}
	envScope    = scope{what: "env", allowed: []string{rootEvent, rootSecrets, rootRun}, hint: " (env is rendered once, before any step)"}
	stepScope   = func(what string) scope {
		return scope{what: what, allowed: rootNames}
	}
)

// envInfo is the workflow's env as far as checking references needs.
type envInfo struct {
	value  *Value
	roots  map[string][]string // top-level names each entry uses
	broken bool                // env had problems: do not report unknown names
}

func (f *fileLoader) workflow(root *yaml.Node, res *fileResult) {
	w := res.w
	root = f.resolve(root)
	m := f.mapping(root, "workflow", "name", "description", "on", "concurrency", "timeout", "env", "steps")
	if m == nil {
		return
	}
	if e, ok := f.require(m, root, "workflow", "name"); ok {
		if name, ok := f.str(e, "name"); ok {
			switch {
			case !workflowName.MatchString(name):
				f.errf(e.val, "name %q must match [a-z0-9][a-z0-9-]*", name)
			case len(name) > MaxNameLength:
				f.errf(e.val, "name must be at most %d characters long", MaxNameLength)
			default:
				w.Name, res.namePos = name, f.pos(e.val)
			}
		}
	}
	if e, ok := m["description"]; ok && !isNull(e.val) {
		d, _ := f.str(e, "description")
		w.Description = strings.TrimSpace(d)
	}
	w.Concurrency = f.integer(m, "concurrency", "concurrency", 0, 0)
	w.Timeout = f.duration(m, "timeout", "timeout", DefaultRunTimeout)
	env := f.env(m)
	w.Env = env.value
	if e, ok := f.require(m, root, "workflow", "on"); ok {
		f.trigger(e.val, res, env)
	}
	if e, ok := f.require(m, root, "workflow", "steps"); ok {
		f.steps(e.val, w, env)
	}
}

func (f *fileLoader) env(m map[string]entry) *envInfo {
	info := &envInfo{roots: map[string][]string{}}
	e, ok := m["env"]
	if !ok || isNull(e.val) {
		return info
	}
	before := len(f.probs)
	defer func() { info.broken = len(f.probs) > before }()
	if e.val.Kind != yaml.MappingNode {
		f.errf(e.val, "env must be a mapping, got %s", describe(e.val))
		return info
	}
	v := f.value(e.val)
	if v == nil || v.kind != kindMap {
		return info
	}
	for i, k := range v.keys {
		if !envName.MatchString(k) {
			f.add(problemf(v.keyPos[i], "env name %q must match [A-Za-z_][A-Za-z0-9_]*", k))
		}
		var roots []string
		v.elems[i].programs(func(p *Program) {
			f.checkScope(p, envScope, nil)
			for _, r := range rootNames {
				if _, ok := p.refs.roots[r]; ok && !slices.Contains(roots, r) {
					roots = append(roots, r)
				}
			}
		})
		info.roots[k] = roots
	}
	info.value = v
	return info
}

// checkScope reports names p uses that are not available where it is, and
// env entries it uses that are unknown or use such names themselves. It
// also records the secrets p uses.
func (f *fileLoader) checkScope(p *Program, sc scope, env *envInfo) {
	for _, s := range p.refs.secrets {
		if validSecretName(s.Name) {
			f.secrets[s.Name] = true
		}
	}
	for _, root := range rootNames {
		if pos, ok := p.refs.roots[root]; ok && !slices.Contains(sc.allowed, root) {
			f.add(problemf(pos, "%s is not available in %s%s", root, sc.what, sc.hint))
		}
	}
	if env == nil || !slices.Contains(sc.allowed, rootEnv) {
		return
	}
	check := func(name string, pos Pos) {
		roots, ok := env.roots[name]
		if !ok {
			if !env.broken {
				f.add(problemf(pos, "unknown env %q", name))
			}
			return
		}
		for _, r := range roots {
			if !slices.Contains(sc.allowed, r) {
				f.add(problemf(pos, "env.%s uses %s, which is not available in %s", name, r, sc.what))
			}
		}
	}
	for _, r := range p.refs.envs {
		check(r.Name, r.Pos)
	}
	if p.refs.anyEnv {
		keys := make([]string, 0, len(env.roots))
		for k := range env.roots {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			check(k, p.refs.roots[rootEnv])
		}
	}
}

func (f *fileLoader) trigger(n *yaml.Node, res *fileResult, env *envInfo) {
	m := f.mapping(n, "on", "webhook")
	if m == nil {
		return
	}
	e, ok := f.require(m, n, "on", "webhook")
	if !ok {
		return
	}
	wm := f.mapping(e.val, "on.webhook", "path", "methods", "signature", "filter", "idempotency_key", "idempotency_window", "max_body")
	if wm == nil {
		return
	}
	t := &res.w.Trigger
	if e, ok := f.require(wm, e.val, "on.webhook", "path"); ok {
		if p, ok := f.str(e, "path"); ok && f.checkPath(e.val, p) {
			t.Path, res.pathPos = p, f.pos(e.val)
		}
	}
	t.Methods = f.methods(wm)
	if s, ok := wm["signature"]; ok {
		f.signature(s.val, &t.Signature, env)
	} else {
		f.errf(e.val, `missing required key "signature" in on.webhook (use scheme: none to accept unsigned requests)`)
	}
	if e, ok := wm["filter"]; ok {
		t.Filter = f.expression(e, "filter", true, triggerScope("filter"), env)
	}
	if e, ok := wm["idempotency_key"]; ok {
		t.IdempotencyKey = f.expression(e, "idempotency_key", false, triggerScope("idempotency_key"), env)
	}
	t.DedupeWindow = f.duration(wm, "idempotency_window", "idempotency_window", DefaultDedupeWindow)
	t.BodyLimit = f.bodyLimit(wm)
}

func (f *fileLoader) checkPath(n *yaml.Node, p string) bool {
	var why string
	switch {
	case p == "":
		why = "must not be empty"
	case len(p) > maxPathLength:
		why = fmt.Sprintf("must be at most %d characters long", maxPathLength)
	case !webhookPath.MatchString(p):
		why = "may only contain letters, digits and . _ ~ / -"
	case strings.HasPrefix(p, "/"):
		why = "must not start with / (it is served under /hooks/)"
	case strings.HasSuffix(p, "/"):
		why = "must not end with /"
	case strings.Contains(p, "//"):
		why = "must not contain empty segments (//)"
	default:
		for _, seg := range strings.Split(p, "/") {
			if seg == "." || seg == ".." {
				why = "must not contain . or .. segments"
			}
		}
	}
	if why != "" {
		f.errf(n, "path %q %s", p, why)
		return false
	}
	return true
}

func (f *fileLoader) methods(m map[string]entry) []string {
	e, ok := m["methods"]
	if !ok {
		return []string{DefaultMethod}
	}
	var nodes []*yaml.Node
	switch e.val.Kind {
	case yaml.ScalarNode:
		nodes = []*yaml.Node{e.val}
	case yaml.SequenceNode:
		for _, c := range e.val.Content {
			nodes = append(nodes, f.resolve(c))
		}
	default:
		f.errf(e.val, "methods must be a list of HTTP methods, got %s", describe(e.val))
		return []string{DefaultMethod}
	}
	if len(nodes) == 0 {
		f.errf(e.val, "methods must not be empty")
		return []string{DefaultMethod}
	}
	var out []string
	for _, n := range nodes {
		s, ok := f.str(entry{val: n}, "a method")
		if !ok {
			continue
		}
		up := strings.ToUpper(s)
		switch {
		case !slices.Contains(httpMethods, up):
			f.errf(n, "unknown HTTP method %q (want one of %s)", s, strings.Join(httpMethods, ", "))
		case slices.Contains(out, up):
			f.errf(n, "duplicate method %q", up)
		default:
			out = append(out, up)
		}
	}
	if len(out) == 0 {
		return []string{DefaultMethod}
	}
	return out
}

func (f *fileLoader) bodyLimit(m map[string]entry) int64 {
	e, ok := m["max_body"]
	if !ok {
		return DefaultBodyLimit
	}
	var n int64
	switch e.val.ShortTag() {
	case "!!int":
		if err := e.val.Decode(&n); err != nil || n < 1 {
			f.errf(e.val, "max_body must be at least 1 byte")
			return DefaultBodyLimit
		}
	case "!!str":
		var err error
		if n, err = parseBytes(e.val.Value); err != nil {
			f.errf(e.val, "max_body: %v", err)
			return DefaultBodyLimit
		}
	default:
		f.errf(e.val, "max_body must be a size such as 512KiB or 1MiB, got %s", describe(e.val))
		return DefaultBodyLimit
	}
	if n > MaxBodyLimit {
		f.errf(e.val, "max_body must be at most 64MiB")
		return DefaultBodyLimit
	}
	return n
}

func (f *fileLoader) signature(n *yaml.Node, sig *Signature, env *envInfo) {
	sig.Tolerance = DefaultTolerance
	m := f.mapping(n, "signature", "scheme", "secret", "tolerance", "header", "algorithm", "encoding", "prefix")
	if m == nil {
		return
	}
	known := false
	if e, ok := f.require(m, n, "signature", "scheme"); ok {
		if s, ok := f.str(e, "scheme"); ok {
			if _, known = schemes[s]; known {
				sig.Scheme = s
			} else {
				f.errf(e.val, "unknown signature scheme %q (want one of %s)", s, schemeNames(false))
			}
		}
	}
	if e, ok := m["secret"]; ok {
		if known && sig.Scheme == "none" {
			f.errf(e.key, "secret is not used by scheme none")
		} else {
			sig.Secrets = f.secretValues(e.val, env)
		}
	} else if known && sig.Scheme != "none" {
		f.errf(n, "missing required key %q in signature (scheme %s needs it)", "secret", sig.Scheme)
	}
	if e, ok := m["tolerance"]; ok && known && !schemes[sig.Scheme].timestamped {
		f.errf(e.key, "tolerance applies only to timestamped schemes (%s)", schemeNames(true))
	} else {
		sig.Tolerance = f.duration(m, "tolerance", "tolerance", DefaultTolerance)
	}
	if !known {
		return
	}
	if sig.Scheme != "hmac" {
		for _, k := range []string{"header", "algorithm", "encoding", "prefix"} {
			if e, ok := m[k]; ok {
				f.errf(e.key, "%s applies only to scheme hmac", k)
			}
		}
		return
	}
	sig.Algorithm, sig.Encoding = "sha256", "hex"
	if e, ok := f.require(m, n, "signature", "header"); ok {
		if h, ok := f.str(e, "header"); ok {
			if headerName.MatchString(h) {
				sig.Header = strings.ToLower(h)
			} else {
				f.errf(e.val, "header %q is not a valid HTTP header name", h)
			}
		}
	}
	choice := func(key string, options ...string) string {
		e, ok := m[key]
		if !ok {
			return ""
		}
		s, ok := f.str(e, key)
		if !ok {
			return ""
		}
		if !slices.Contains(options, s) {
			f.errf(e.val, "unknown %s %q (want one of %s)", key, s, strings.Join(options, ", "))
			return ""
		}
		return s
	}
	if a := choice("algorithm", "sha1", "sha256", "sha512"); a != "" {
		sig.Algorithm = a
	}
	if enc := choice("encoding", "hex", "base64"); enc != "" {
		sig.Encoding = enc
	}
	if e, ok := m["prefix"]; ok {
		sig.Prefix, _ = f.str(e, "prefix")
	}
}

// secretValues reads signature.secret: one string or a list of them.
func (f *fileLoader) secretValues(n *yaml.Node, env *envInfo) []*Value {
	nodes := []*yaml.Node{n}
	if n.Kind == yaml.SequenceNode {
		nodes = nil
		for _, c := range n.Content {
			nodes = append(nodes, f.resolve(c))
		}
		if len(nodes) == 0 {
			f.errf(n, "secret must not be an empty list")
		}
	}
	var out []*Value
	for _, c := range nodes {
		if c.Kind != yaml.ScalarNode || c.ShortTag() != "!!str" {
			f.errf(c, "secret must be a string or a list of strings, got %s", describe(c))
			continue
		}
		if strings.TrimSpace(c.Value) == "" {
			f.errf(c, "secret must not be empty")
			continue
		}
		v := f.value(c)
		if v == nil {
			continue
		}
		v.programs(func(p *Program) { f.checkScope(p, secretScope, env) })
		out = append(out, v)
	}
	return out
}

// expression compiles a bare expression (filter, if, idempotency_key). A
// value that is exactly one ${{ }} is accepted as its inside.
func (f *fileLoader) expression(e entry, what string, boolean bool, sc scope, env *envInfo) *Program {
	n := e.val
	if n.Kind != yaml.ScalarNode || isNull(n) {
		f.errf(n, "%s must be an expression, got %s", what, describe(n))
		return nil
	}
	src, base, at := n.Value, 0, f.mapper(n)
	if strings.Contains(src, "${{") {
		segs, bad := scanTemplate(src)
		if bad >= 0 || len(segs) != 1 || !segs[0].expr {
			f.add(problemf(at(0), "%s is an expression: write it without ${{ }}", what))
			return nil
		}
		base, src = utf8.RuneCountInString(src[:segs[0].off]), segs[0].text
	}
	if strings.TrimSpace(src) == "" {
		f.errf(n, "%s must not be empty", what)
		return nil
	}
	p, probs := compile(src, boolean, at, base)
	for _, pr := range probs {
		pr.Msg = what + ": " + pr.Msg
		f.add(pr)
	}
	if p != nil {
		f.checkScope(p, sc, env)
	}
	return p
}

// stepProgram is an expression of a step, kept to check its steps.NAME
// references once every step id is known.
type stepProgram struct {
	step int
	prog *Program
}

func (f *fileLoader) steps(n *yaml.Node, w *Workflow, env *envInfo) {
	if n.Kind != yaml.SequenceNode {
		f.errf(n, "steps must be a list, got %s", describe(n))
		return
	}
	if len(n.Content) == 0 {
		f.errf(n, "steps must have at least one step")
		return
	}
	ids := map[string]int{}
	idLines := map[string]int{}
	var progs []stepProgram
	for i, sn := range n.Content {
		sn = f.resolve(sn)
		m := f.mapping(sn, "step", "id", "uses", "if", "with", "retry", "timeout")
		if m == nil {
			continue
		}
		s := &Step{
			Pos:     f.pos(sn),
			Timeout: DefaultStepTimeout,
			Retry:   Retry{Attempts: DefaultRetryAttempts, Initial: DefaultRetryInitial, Max: DefaultRetryMax},
		}
		if e, ok := f.require(m, sn, "step", "id"); ok {
			if id, ok := f.str(e, "step id"); ok {
				switch first, dup := idLines[id]; {
				case dup:
					f.errf(e.val, "duplicate step id %q (first at line %d)", id, first)
				case !stepID.MatchString(id):
					f.errf(e.val, "step id %q must match [A-Za-z0-9_-]+", id)
					fallthrough
				default:
					ids[id], idLines[id] = i, e.val.Line
					s.ID = id
				}
			}
		}
		usesOK := false
		var usesNode *yaml.Node
		if e, ok := f.require(m, sn, "step", "uses"); ok {
			if u, ok := f.str(e, "uses"); ok {
				if actionName.MatchString(u) {
					s.Uses, usesOK, usesNode = u, true, e.val
				} else {
					f.errf(e.val, "uses %q must be an action name or PLUGIN.ACTION", u)
				}
			}
		}
		if e, ok := m["if"]; ok {
			if s.If = f.expression(e, "if", true, stepScope("if"), env); s.If != nil {
				progs = append(progs, stepProgram{i, s.If})
			}
		}
		withOK := true
		if e, ok := m["with"]; ok && !isNull(e.val) {
			if e.val.Kind != yaml.MappingNode {
				f.errf(e.val, "with must be a mapping, got %s", describe(e.val))
				withOK = false
			} else if s.With = f.value(e.val); s.With == nil {
				withOK = false
			} else {
				s.With.programs(func(p *Program) {
					f.checkScope(p, stepScope("with"), env)
					progs = append(progs, stepProgram{i, p})
				})
			}
		}
		if e, ok := m["retry"]; ok {
			f.retry(e.val, &s.Retry)
		}
		s.Timeout = f.duration(m, "timeout", "timeout", DefaultStepTimeout)
		if usesOK && f.opts.Actions != nil {
			f.checkAction(s, usesNode, withOK)
		}
		w.Steps = append(w.Steps, s)
	}
	for _, sp := range progs {
		for _, r := range sp.prog.refs.steps {
			switch j, ok := ids[r.Name]; {
			case !ok:
				f.add(problemf(r.Pos, "unknown step %q", r.Name))
			case j == sp.step:
				f.add(problemf(r.Pos, "step %q cannot refer to itself", r.Name))
			case j > sp.step:
				f.add(problemf(r.Pos, "step %q has not run yet (it comes later)", r.Name))
			}
		}
	}
}

func (f *fileLoader) retry(n *yaml.Node, r *Retry) {
	m := f.mapping(n, "retry", "attempts", "initial", "max")
	if m == nil {
		return
	}
	r.Attempts = f.integer(m, "attempts", "retry.attempts", 1, DefaultRetryAttempts)
	r.Initial = f.duration(m, "initial", "retry.initial", DefaultRetryInitial)
	r.Max = f.duration(m, "max", "retry.max", DefaultRetryMax)
	if r.Max < r.Initial {
		where := n
		if e, ok := m["max"]; ok {
			where = e.val
		} else if e, ok := m["initial"]; ok {
			where = e.val
		}
		f.errf(where, "retry.max (%v) must not be less than retry.initial (%v)", r.Max, r.Initial)
	}
}

// checkAction checks that a step's action exists and, when it publishes an
// input schema, that the step's `with` can satisfy it: static parts are
// checked fully, ${{ }} parts only for what is known before rendering.
func (f *fileLoader) checkAction(s *Step, usesNode *yaml.Node, withOK bool) {
	se := f.schema(s.Uses)
	switch {
	case !se.known:
		f.errf(usesNode, "unknown action %q", s.Uses)
		return
	case se.err != nil:
		f.errf(usesNode, "action %q publishes an invalid input schema: %v", s.Uses, se.err)
		return
	case se.schema == nil || !withOK:
		return
	}
	var input any = map[string]any{}
	if s.With != nil {
		input = s.With.shape()
	}
	err := se.schema.Validate(input)
	errs, _ := err.(SchemaErrors)
	for _, e := range errs {
		pos := s.Pos
		if s.With != nil {
			pos = s.With.locate(e.Path, e.Key)
		}
		path := formatPath(e.Path)
		switch {
		case path == "":
			path = "with"
		case strings.HasPrefix(path, "["):
			path = "with" + path
		default:
			path = "with." + path
		}
		f.add(problemf(pos, "%s: %s", path, e.Msg))
	}
}

// value compiles a YAML value: maps, lists, scalars and strings with
// ${{ }} parts. It returns nil when the value has problems.
func (f *fileLoader) value(n *yaml.Node) *Value {
	n = f.resolve(n)
	pos := f.pos(n)
	switch n.Kind {
	case yaml.ScalarNode:
		switch tag := n.ShortTag(); tag {
		case "!!str":
			if !strings.Contains(n.Value, "${{") {
				return &Value{kind: kindScalar, pos: pos, scalar: n.Value}
			}
			v, probs := parseTemplate(n.Value, pos, f.mapper(n))
			f.add(probs...)
			return v
		case "!!timestamp":
			return &Value{kind: kindScalar, pos: pos, scalar: n.Value}
		case "!!int", "!!float", "!!bool", "!!null":
			var x any
			if err := n.Decode(&x); err != nil {
				f.errf(n, "invalid %s: %v", describe(n), err)
				return nil
			}
			return &Value{kind: kindScalar, pos: pos, scalar: x}
		default:
			f.errf(n, "unsupported YAML tag %s", tag)
			return nil
		}
	case yaml.MappingNode:
		v := &Value{kind: kindMap, pos: pos}
		ok := true
		first := map[string]int{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := f.resolve(n.Content[i])
			switch {
			case k.Kind != yaml.ScalarNode:
				f.errf(k, "keys must be strings, got %s", describe(k))
			case k.ShortTag() == "!!merge":
				f.errf(k, "merge keys (<<) are not supported")
			case strings.Contains(k.Value, "${{"):
				f.errf(k, "keys cannot contain ${{ }}")
			default:
				if line, dup := first[k.Value]; dup {
					f.errf(k, "duplicate key %q (first at line %d)", k.Value, line)
					ok = false
					continue
				}
				first[k.Value] = k.Line
				e := f.value(n.Content[i+1])
				if e == nil {
					ok = false
					continue
				}
				v.keys = append(v.keys, k.Value)
				v.keyPos = append(v.keyPos, f.pos(k))
				v.elems = append(v.elems, e)
				v.dynamic = v.dynamic || e.dynamic
				continue
			}
			ok = false
		}
		if !ok {
			return nil
		}
		return v
	case yaml.SequenceNode:
		v := &Value{kind: kindList, pos: pos}
		ok := true
		for _, c := range n.Content {
			e := f.value(c)
			if e == nil {
				ok = false
				continue
			}
			v.elems = append(v.elems, e)
			v.dynamic = v.dynamic || e.dynamic
		}
		if !ok {
			return nil
		}
		return v
	}
	f.errf(n, "unsupported YAML node")
	return nil
}

// shape is the value as far as it is known before rendering, for schema
// checks: ${{ }} parts become placeholders.
func (v *Value) shape() any {
	switch v.kind {
	case kindExact:
		return unknownValue{}
	case kindInterp:
		return unknownString{}
	case kindMap:
		m := make(map[string]any, len(v.keys))
		for i, k := range v.keys {
			m[k] = v.elems[i].shape()
		}
		return m
	case kindList:
		l := make([]any, len(v.elems))
		for i, e := range v.elems {
			l[i] = e.shape()
		}
		return l
	}
	return v.scalar
}

// locate returns the position of the part of v at path (of its last key
// itself when key is set), or of the deepest part found.
func (v *Value) locate(path []any, key bool) Pos {
	cur := v
	for i, p := range path {
		switch p := p.(type) {
		case string:
			idx := slices.Index(cur.keys, p)
			if cur.kind != kindMap || idx < 0 {
				return cur.pos
			}
			if key && i == len(path)-1 {
				return cur.keyPos[idx]
			}
			cur = cur.elems[idx]
		case int:
			if cur.kind != kindList || p < 0 || p >= len(cur.elems) {
				return cur.pos
			}
			cur = cur.elems[p]
		}
	}
	return cur.pos
}
