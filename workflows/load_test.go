package workflows

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files")

// catalog is an action catalog read from testdata/schemas: each NAME.json is
// the input schema of action NAME; "set" is known without a schema.
type catalog map[string][]byte

func (c catalog) ActionSchema(uses string) ([]byte, bool) {
	s, ok := c[uses]
	return s, ok
}

var _ ActionCatalog = catalog(nil)

func testCatalog(t testing.TB) catalog {
	t.Helper()
	files, err := filepath.Glob("testdata/schemas/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no schemas: %v", err)
	}
	c := catalog{"set": nil}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		c[strings.TrimSuffix(filepath.Base(f), ".json")] = b
	}
	return c
}

// checkGolden compares got with the golden file, or rewrites it with -update.
func checkGolden(t *testing.T, golden, got string) {
	t.Helper()
	if *update {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs\n--- got\n%s--- want\n%s", golden, got, want)
	}
}

// TestLoadGolden loads every case under testdata/valid (each must load; the
// golden file holds the compiled model) and testdata/invalid (each must fail;
// the golden file holds every problem). A directory is one case of several
// files.
func TestLoadGolden(t *testing.T) {
	opts := Options{Actions: testCatalog(t)}
	for _, kind := range []string{"valid", "invalid"} {
		entries, err := os.ReadDir(filepath.Join("testdata", kind))
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			if strings.HasSuffix(e.Name(), ".golden") {
				continue
			}
			path := filepath.Join("testdata", kind, e.Name())
			t.Run(kind+"/"+e.Name(), func(t *testing.T) {
				t.Parallel()
				set, err := Load(opts, path)
				if kind == "valid" {
					if err != nil {
						t.Fatalf("want it to load, got:\n%v", err)
					}
					checkGolden(t, path+".golden", dumpSet(set))
					return
				}
				if err == nil {
					t.Fatalf("want problems, it loaded")
				}
				if set != nil {
					t.Errorf("want a nil set with problems")
				}
				var probs Problems
				if !asProblems(err, &probs) {
					t.Fatalf("want Problems, got %T: %v", err, err)
				}
				checkGolden(t, path+".golden", err.Error()+"\n")
			})
		}
	}
}

func asProblems(err error, out *Problems) bool {
	p, ok := err.(Problems)
	*out = p
	return ok
}

// dumpSet describes a loaded set for golden files.
func dumpSet(s *Set) string {
	var b strings.Builder
	for _, w := range s.Workflows() {
		t := w.Trigger
		fmt.Fprintf(&b, "workflow %s\n", w.Name)
		fmt.Fprintf(&b, "  file: %s\n  version: %s\n", filepath.ToSlash(w.File), w.Version)
		if w.Description != "" {
			fmt.Fprintf(&b, "  description: %s\n", w.Description)
		}
		fmt.Fprintf(&b, "  concurrency: %d\n  timeout: %v\n", w.Concurrency, w.Timeout)
		fmt.Fprintf(&b, "  env: %s\n", valueString(w.Env))
		fmt.Fprintf(&b, "  path: %s\n  methods: %s\n", t.Path, strings.Join(t.Methods, ","))
		sig := t.Signature
		fmt.Fprintf(&b, "  signature: scheme=%s tolerance=%v", sig.Scheme, sig.Tolerance)
		for _, sec := range sig.Secrets {
			fmt.Fprintf(&b, " secret=%s", valueString(sec))
		}
		if sig.Scheme == "hmac" {
			fmt.Fprintf(&b, " header=%s algorithm=%s encoding=%s prefix=%q", sig.Header, sig.Algorithm, sig.Encoding, sig.Prefix)
		}
		b.WriteString("\n")
		fmt.Fprintf(&b, "  filter: %s\n", programString(t.Filter))
		fmt.Fprintf(&b, "  idempotency_key: %s\n", programString(t.IdempotencyKey))
		fmt.Fprintf(&b, "  idempotency_window: %v\n  max_body: %d\n", t.DedupeWindow, t.BodyLimit)
		for _, st := range w.Steps {
			fmt.Fprintf(&b, "  step %s at %d:%d\n", st.ID, st.Pos.Line, st.Pos.Col)
			fmt.Fprintf(&b, "    uses: %s\n    timeout: %v\n", st.Uses, st.Timeout)
			fmt.Fprintf(&b, "    retry: attempts=%d initial=%v max=%v\n", st.Retry.Attempts, st.Retry.Initial, st.Retry.Max)
			fmt.Fprintf(&b, "    if: %s\n", programString(st.If))
			fmt.Fprintf(&b, "    with: %s\n", valueString(st.With))
		}
	}
	fmt.Fprintf(&b, "secrets: %s\n", strings.Join(s.SecretNames(), ","))
	return b.String()
}

func programString(p *Program) string {
	if p == nil {
		return "-"
	}
	return fmt.Sprintf("%q (at %d:%d)", p.Source(), p.Pos().Line, p.Pos().Col)
}

// valueString writes a value with its templates as ${{ source }}.
func valueString(v *Value) string {
	if v == nil {
		return "-"
	}
	switch v.kind {
	case kindExact:
		return fmt.Sprintf("${{%q}}@%d:%d", v.prog.Source(), v.prog.Pos().Line, v.prog.Pos().Col)
	case kindInterp:
		var b strings.Builder
		b.WriteString(`"`)
		for _, p := range v.parts {
			if p.prog == nil {
				b.WriteString(strings.ReplaceAll(p.lit, "\n", `\n`))
			} else {
				fmt.Fprintf(&b, "${{%q}}@%d:%d", p.prog.Source(), p.prog.Pos().Line, p.prog.Pos().Col)
			}
		}
		b.WriteString(`"`)
		return b.String()
	case kindMap:
		parts := make([]string, len(v.keys))
		for i, k := range v.keys {
			parts[i] = k + ": " + valueString(v.elems[i])
		}
		return "{" + strings.Join(parts, ", ") + "}"
	case kindList:
		parts := make([]string, len(v.elems))
		for i, e := range v.elems {
			parts[i] = valueString(e)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	}
	j, _ := json.Marshal(v.scalar)
	return fmt.Sprintf("%s(%T)", j, v.scalar)
}

func TestLoadValidDirectoryAsOneSet(t *testing.T) {
	set, err := Load(Options{Actions: testCatalog(t)}, "testdata/valid")
	if err != nil {
		t.Fatal(err)
	}
	ws := set.Workflows()
	if len(ws) < 2 {
		t.Fatalf("want several workflows, got %d", len(ws))
	}
	if !slices.IsSortedFunc(ws, func(a, b *Workflow) int { return strings.Compare(a.Name, b.Name) }) {
		t.Errorf("Workflows not sorted by name")
	}
	for _, w := range ws {
		if got := set.ByName(w.Name); got != w {
			t.Errorf("ByName(%q) = %v", w.Name, got)
		}
		if got := set.ByPath(w.Trigger.Path); got != w {
			t.Errorf("ByPath(%q) = %v", w.Trigger.Path, got)
		}
	}
	if set.ByName("nope") != nil || set.ByPath("nope") != nil {
		t.Errorf("lookups of absent names must be nil")
	}
	names := set.SecretNames()
	if !slices.IsSorted(names) || len(slices.Compact(slices.Clone(names))) != len(names) {
		t.Errorf("SecretNames not sorted and unique: %v", names)
	}
	for _, want := range []string{"STRIPE_WEBHOOK_SECRET", "BILLING_TOKEN", "PARTNER_WEBHOOK_SECRET"} {
		if !slices.Contains(names, want) {
			t.Errorf("SecretNames lacks %s: %v", want, names)
		}
	}
}

func TestLoadWithoutCatalogSkipsActionChecks(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "a.yaml", `
name: a
on: {webhook: {path: a, signature: {scheme: none}}}
steps:
  - {id: s, uses: no-such-action, with: {anything: 1}}
`)
	set, err := Load(Options{}, dir)
	if err != nil {
		t.Fatal(err)
	}
	if got := set.ByName("a").Steps[0].Uses; got != "no-such-action" {
		t.Errorf("uses = %q", got)
	}
	if _, err := Load(Options{Actions: testCatalog(t)}, dir); err == nil || !strings.Contains(err.Error(), `unknown action "no-such-action"`) {
		t.Errorf("with a catalog, want unknown action, got %v", err)
	}
}

func TestLoadPaths(t *testing.T) {
	dir := t.TempDir()
	valid := `
name: NAME
on: {webhook: {path: NAME, signature: {scheme: none}}}
steps: [{id: s, uses: set}]
`
	writeFile(t, dir, "b.yml", strings.ReplaceAll(valid, "NAME", "b"))
	writeFile(t, dir, "a.yaml", strings.ReplaceAll(valid, "NAME", "a"))
	writeFile(t, dir, ".hidden.yaml", "not: [valid")
	writeFile(t, dir, "notes.txt", "not: [valid")
	if err := os.Mkdir(filepath.Join(dir, "sub.yaml"), 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "sub.yaml"), "c.yaml", "not: [valid")
	empty := t.TempDir()

	tests := []struct {
		name  string
		paths []string
		want  []string // workflow names, or
		err   string   // the problem text
	}{
		{"directory", []string{dir}, []string{"a", "b"}, ""},
		{"file", []string{filepath.Join(dir, "a.yaml")}, []string{"a"}, ""},
		{"file and its directory count once", []string{filepath.Join(dir, "a.yaml"), dir}, []string{"a", "b"}, ""},
		{"empty directory", []string{empty}, nil, ""},
		{"missing", []string{filepath.Join(dir, "missing.yaml")}, nil, filepath.Join(dir, "missing.yaml") + ": no such file or directory"},
		{"nothing", nil, nil, "no workflow files or directories given"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			set, err := Load(Options{}, tt.paths...)
			if tt.err != "" {
				if err == nil || err.Error() != tt.err {
					t.Fatalf("err = %v, want %s", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, w := range set.Workflows() {
				names = append(names, w.Name)
			}
			if !slices.Equal(names, tt.want) {
				t.Errorf("loaded %v, want %v", names, tt.want)
			}
		})
	}
}

func TestLoadVersionIsFileHash(t *testing.T) {
	dir := t.TempDir()
	body := "name: v\non: {webhook: {path: v, signature: {scheme: none}}}\nsteps: [{id: s, uses: set}]\n"
	writeFile(t, dir, "v.yaml", body)
	set, err := Load(Options{}, dir)
	if err != nil {
		t.Fatal(err)
	}
	// The first 12 hex digits of the sha256 of body, from sha256sum.
	const want = "847e0edeb606"
	got := set.ByName("v").Version
	if got != want {
		t.Fatalf("version %q, want %q", got, want)
	}
	writeFile(t, dir, "v.yaml", body+"# changed\n")
	set2, err := Load(Options{}, dir)
	if err != nil {
		t.Fatal(err)
	}
	if set2.ByName("v").Version == got {
		t.Errorf("version did not change with the file")
	}
}

func writeFile(t testing.TB, dir, name, content string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}
