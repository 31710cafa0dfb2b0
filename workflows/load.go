package workflows

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// ActionCatalog tells validation which `uses:` exist and the JSON Schema of
// their input (nil: the action publishes none). actions.Registry implements
// it.
type ActionCatalog interface {
	ActionSchema(uses string) (schema []byte, known bool)
}

// Options tune Load.
type Options struct {
	// Actions, when set, makes an unknown `uses:` an error and checks each
	// step's `with` against its action's input schema. When nil, `uses` is
	// only checked for its form.
	Actions ActionCatalog
}

// Set is a loaded, validated set of workflows. It is read-only and safe for
// concurrent use.
type Set struct {
	workflows []*Workflow
	byName    map[string]*Workflow
	byPath    map[string]*Workflow
	secrets   []string
}

// Workflows returns every workflow, sorted by name.
func (s *Set) Workflows() []*Workflow { return slices.Clone(s.workflows) }

// ByName returns the workflow called name, or nil.
func (s *Set) ByName(name string) *Workflow { return s.byName[name] }

// ByPath returns the workflow served at /hooks/{path}, or nil.
func (s *Set) ByPath(path string) *Workflow { return s.byPath[path] }

// SecretNames returns every NAME the workflows use as secrets.NAME or
// secrets["NAME"], sorted and unique: what LoadSecrets must resolve.
func (s *Set) SecretNames() []string { return slices.Clone(s.secrets) }

// Load loads workflow files and directories (their *.yaml and *.yml files,
// not recursively, skipping names that start with ".") into a Set. A
// directory without workflow files adds nothing. On any problem it returns
// (nil, Problems) with every problem across all files, sorted by file, line
// and column.
func Load(opts Options, paths ...string) (*Set, error) {
	l := &loader{opts: opts, schemas: map[string]schemaEntry{}, secrets: map[string]bool{}}
	if len(paths) == 0 {
		return nil, Problems{{Msg: "no workflow files or directories given"}}
	}
	var loaded []*fileResult
	for _, name := range l.files(paths) {
		data, err := os.ReadFile(name)
		if err != nil {
			l.add(Problem{Pos: Pos{File: name}, Msg: pathErrorText(err)})
			continue
		}
		loaded = append(loaded, l.loadFile(name, data))
	}
	l.checkUnique(loaded)
	if len(l.probs) > 0 {
		return nil, sortProblems(l.probs)
	}
	set := &Set{byName: map[string]*Workflow{}, byPath: map[string]*Workflow{}}
	for _, r := range loaded {
		set.workflows = append(set.workflows, r.w)
		set.byName[r.w.Name] = r.w
		set.byPath[r.w.Trigger.Path] = r.w
	}
	slices.SortFunc(set.workflows, func(a, b *Workflow) int { return strings.Compare(a.Name, b.Name) })
	for name := range l.secrets {
		set.secrets = append(set.secrets, name)
	}
	slices.Sort(set.secrets)
	return set, nil
}

type loader struct {
	opts    Options
	probs   Problems
	schemas map[string]schemaEntry // by `uses`
	secrets map[string]bool
}

type schemaEntry struct {
	schema *Schema
	err    error
	known  bool
}

func (l *loader) add(ps ...Problem) { l.probs = append(l.probs, ps...) }

// fileResult is what one file yielded; name and path are kept even when
// the file has other problems, so duplicates across files are still found.
type fileResult struct {
	w       *Workflow
	namePos Pos
	pathPos Pos
}

// files expands paths into workflow files, each once.
func (l *loader) files(paths []string) []string {
	var out []string
	seen := map[string]bool{}
	addFile := func(name string) {
		key := name
		if abs, err := filepath.Abs(name); err == nil {
			key = abs
		}
		if !seen[key] {
			seen[key] = true
			out = append(out, name)
		}
	}
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			l.add(Problem{Pos: Pos{File: p}, Msg: pathErrorText(err)})
			continue
		}
		if !st.IsDir() {
			addFile(p)
			continue
		}
		entries, err := os.ReadDir(p)
		if err != nil {
			l.add(Problem{Pos: Pos{File: p}, Msg: pathErrorText(err)})
			continue
		}
		for _, e := range entries {
			name := e.Name()
			ext := filepath.Ext(name)
			if strings.HasPrefix(name, ".") || ext != ".yaml" && ext != ".yml" {
				continue
			}
			full := filepath.Join(p, name)
			if fi, err := os.Stat(full); err != nil || fi.IsDir() {
				continue
			}
			addFile(full)
		}
	}
	return out
}

// pathErrorText is the cause of a file system error without the path,
// which the problem's position already shows.
func pathErrorText(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

// checkUnique reports workflow names and paths used twice across files.
func (l *loader) checkUnique(loaded []*fileResult) {
	names := map[string]Pos{}
	paths := map[string]Pos{}
	for _, r := range loaded {
		if r.w.Name != "" {
			if first, ok := names[r.w.Name]; ok {
				l.add(problemf(r.namePos, "duplicate workflow name %q (also in %s)", r.w.Name, first))
			} else {
				names[r.w.Name] = r.namePos
			}
		}
		if p := r.w.Trigger.Path; p != "" {
			if first, ok := paths[p]; ok {
				l.add(problemf(r.pathPos, "duplicate webhook path %q (also in %s)", p, first))
			} else {
				paths[p] = r.pathPos
			}
		}
	}
}

// schema returns the compiled input schema of an action, once per action.
func (l *loader) schema(uses string) schemaEntry {
	if e, ok := l.schemas[uses]; ok {
		return e
	}
	raw, known := l.opts.Actions.ActionSchema(uses)
	e := schemaEntry{known: known}
	if known && raw != nil {
		e.schema, e.err = CompileSchema(raw)
	}
	l.schemas[uses] = e
	return e
}

// maxAliases bounds how many YAML aliases one file may expand, so a small
// file cannot expand into a huge tree.
const maxAliases = 256

// fileLoader decodes one file.
type fileLoader struct {
	*loader
	name    string
	lines   []string
	aliases int
}

func (l *loader) loadFile(name string, data []byte) *fileResult {
	sum := sha256.Sum256(data)
	res := &fileResult{w: &Workflow{File: name, Version: hex.EncodeToString(sum[:])[:12]}}
	f := &fileLoader{loader: l, name: name, lines: strings.Split(string(data), "\n")}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			f.add(Problem{Pos: Pos{File: name}, Msg: "empty workflow file"})
		} else {
			f.add(f.yamlProblem(err))
		}
		return res
	}
	var next yaml.Node
	switch err := dec.Decode(&next); {
	case err == nil:
		f.add(Problem{Pos: f.pos(&next), Msg: "a workflow file holds one YAML document"})
	case !errors.Is(err, io.EOF):
		f.add(f.yamlProblem(err))
	}
	if len(doc.Content) == 0 {
		f.add(Problem{Pos: Pos{File: name}, Msg: "empty workflow file"})
		return res
	}
	f.workflow(doc.Content[0], res)
	return res
}

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// yamlProblem turns a YAML syntax error into a problem at its line.
func (f *fileLoader) yamlProblem(err error) Problem {
	msg := err.Error()
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		return Problem{Pos: Pos{File: f.name, Line: line}, Msg: "invalid YAML: " + m[2]}
	}
	return Problem{Pos: Pos{File: f.name}, Msg: "invalid YAML: " + strings.TrimPrefix(msg, "yaml: ")}
}

func (f *fileLoader) pos(n *yaml.Node) Pos { return Pos{File: f.name, Line: n.Line, Col: n.Column} }

func (f *fileLoader) errf(n *yaml.Node, format string, args ...any) {
	f.add(problemf(f.pos(n), format, args...))
}

// resolve follows aliases.
func (f *fileLoader) resolve(n *yaml.Node) *yaml.Node {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		f.aliases++
		if f.aliases == maxAliases+1 {
			f.errf(n, "too many YAML aliases (more than %d)", maxAliases)
		}
		if f.aliases > maxAliases {
			return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Line: n.Line, Column: n.Column}
		}
		n = n.Alias
	}
	return n
}

// describe names the kind of a node for messages.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!str":
			return "a string"
		case "!!int":
			return "an integer"
		case "!!float":
			return "a number"
		case "!!bool":
			return "a boolean"
		case "!!null":
			return "null"
		case "!!timestamp":
			return "a timestamp"
		}
		return n.ShortTag()
	}
	return "nothing"
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

// entry is one key of a mapping with its value.
type entry struct {
	key, val *yaml.Node
}

// mapping checks that n is a mapping whose keys are all among known, each
// once, and returns its entries by key. It returns nil (having reported why)
// when n is not a mapping. what names the mapping in messages.
func (f *fileLoader) mapping(n *yaml.Node, what string, known ...string) map[string]entry {
	n = f.resolve(n)
	if n.Kind != yaml.MappingNode {
		f.errf(n, "%s must be a mapping, got %s", what, describe(n))
		return nil
	}
	out := make(map[string]entry, len(known))
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := f.resolve(n.Content[i]), n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			f.errf(k, "keys in %s must be strings, got %s", what, describe(k))
			continue
		}
		if k.ShortTag() == "!!merge" {
			f.errf(k, "merge keys (<<) are not supported")
			continue
		}
		if prev, ok := out[k.Value]; ok {
			f.errf(k, "duplicate key %q in %s (first at line %d)", k.Value, what, prev.key.Line)
			continue
		}
		if !slices.Contains(known, k.Value) {
			f.errf(k, "unknown key %q in %s", k.Value, what)
			continue
		}
		out[k.Value] = entry{key: k, val: f.resolve(v)}
	}
	return out
}

// require reports a missing required key of the mapping at n.
func (f *fileLoader) require(m map[string]entry, n *yaml.Node, what, key string) (entry, bool) {
	e, ok := m[key]
	if !ok {
		f.errf(f.resolve(n), "missing required key %q in %s", key, what)
	}
	return e, ok
}

// str returns a string value; what names it in messages.
func (f *fileLoader) str(e entry, what string) (string, bool) {
	if e.val.Kind != yaml.ScalarNode || e.val.ShortTag() != "!!str" {
		f.errf(e.val, "%s must be a string, got %s", what, describe(e.val))
		return "", false
	}
	return e.val.Value, true
}

// duration returns a positive duration value, or def when the key is absent.
func (f *fileLoader) duration(m map[string]entry, key, what string, def time.Duration) time.Duration {
	e, ok := m[key]
	if !ok {
		return def
	}
	if e.val.Kind != yaml.ScalarNode || e.val.ShortTag() == "!!null" || e.val.ShortTag() == "!!bool" {
		f.errf(e.val, "%s must be a duration such as 30s, 5m or 1h, got %s", what, describe(e.val))
		return def
	}
	d, err := parseDuration(e.val.Value)
	if err != nil {
		f.errf(e.val, "%s: %v", what, err)
		return def
	}
	if d == 0 {
		f.errf(e.val, "%s must be longer than 0", what)
		return def
	}
	return d
}

// integer returns an integer value of at least min, or def when absent.
func (f *fileLoader) integer(m map[string]entry, key, what string, min, def int) int {
	e, ok := m[key]
	if !ok {
		return def
	}
	var n int
	if e.val.Kind != yaml.ScalarNode || e.val.ShortTag() != "!!int" || e.val.Decode(&n) != nil {
		f.errf(e.val, "%s must be an integer, got %s", what, describe(e.val))
		return def
	}
	if n < min {
		f.errf(e.val, "%s must be at least %d, got %d", what, min, n)
		return def
	}
	return n
}

// mapper maps rune offsets into the value of the scalar n to positions in
// the file. Offsets it cannot place exactly (escapes in quoted strings,
// folded scalars) map to the start of n.
func (f *fileLoader) mapper(n *yaml.Node) posMapper {
	return func(off int) Pos {
		if line, col, ok := f.exactPos(n, off); ok {
			return Pos{File: f.name, Line: line, Col: col}
		}
		return f.pos(n)
	}
}

func (f *fileLoader) exactPos(n *yaml.Node, off int) (line, col int, ok bool) {
	val := []rune(n.Value)
	if off < 0 || off > len(val) {
		return 0, 0, false
	}
	k, start := 0, 0 // line of off within the value, and where that line starts
	for i, r := range val[:off] {
		if r == '\n' {
			k++
			start = i + 1
		}
	}
	c := off - start
	end := start
	for end < len(val) && val[end] != '\n' {
		end++
	}
	text := val[start:end]
	switch {
	case n.Style&yaml.LiteralStyle != 0:
		line = n.Line + 1 + k
		src := f.sourceLine(line)
		if len(src) < len(text) || string(src[len(src)-len(text):]) != string(text) {
			return 0, 0, false
		}
		indent := len(src) - len(text)
		if strings.TrimLeft(string(src[:indent]), " ") != "" {
			return 0, 0, false
		}
		return line, indent + c + 1, true
	case n.Style&yaml.FoldedStyle != 0 || k > 0:
		return 0, 0, false
	}
	col0 := n.Column - 1
	if n.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle) != 0 {
		col0++
	}
	src := f.sourceLine(n.Line)
	if col0 < 0 || col0+c > len(src) || string(src[col0:col0+c]) != string(val[:off]) {
		return 0, 0, false
	}
	return n.Line, col0 + c + 1, true
}

func (f *fileLoader) sourceLine(line int) []rune {
	if line < 1 || line > len(f.lines) {
		return nil
	}
	return []rune(strings.TrimRight(f.lines[line-1], "\r"))
}
