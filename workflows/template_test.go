package workflows

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

func templateEnv() *Env {
	return &Env{
		Event: EventEnv{
			Body: map[string]any{
				"id":    "evt_1",
				"count": float64(3),
				"items": []any{"a", "b"},
				"nested": map[string]any{
					"html": "<b>&</b>",
				},
			},
			Headers:    map[string]string{"content-type": "application/json"},
			Method:     "POST",
			ReceivedAt: time.Date(2024, 8, 20, 12, 0, 0, 0, time.UTC),
		},
		Env:     map[string]any{"API": "https://api.example", "N": 2},
		Secrets: map[string]string{"TOKEN": "s3cr3t-t0ken"},
		Run:     RunEnv{ID: "run-1", Workflow: "w", Attempt: 2},
		Steps: map[string]StepEnv{
			"fetch": {Status: "succeeded", Outputs: map[string]any{"status": 200}},
		},
	}
}

func TestTemplateRender(t *testing.T) {
	env := templateEnv()
	tests := []struct {
		name string
		in   string
		want any
	}{
		{"plain string", "plain", "plain"},
		{"empty string", "", ""},
		{"dollar without braces", "costs $5 {{not}} ${ x }", "costs $5 {{not}} ${ x }"},
		{"exact int keeps type", "${{ 1+1 }}", 2},
		{"exact float keeps type", "${{ 1.5 }}", 1.5},
		{"exact bool keeps type", "${{ event.method == 'POST' }}", true},
		{"exact map keeps type", "${{ event.body.nested }}", map[string]any{"html": "<b>&</b>"}},
		{"exact list keeps type", "${{ event.body.items }}", []any{"a", "b"}},
		{"exact nil", "${{ nil }}", nil},
		{"exact time", "${{ event.received_at }}", time.Date(2024, 8, 20, 12, 0, 0, 0, time.UTC)},
		{"exact missing key is nil", "${{ event.body.missing }}", nil},
		{"interpolated int", "n=${{ 1+1 }}", "n=2"},
		{"interpolated float", "${{ event.body.count }} items", "3 items"},
		{"interpolated small float", "v${{ 0.5 }}", "v0.5"},
		{"interpolated nil is empty", "x${{ nil }}y", "xy"},
		{"interpolated bool", "ok=${{ true }}", "ok=true"},
		{"interpolated map is JSON without HTML escaping", "body=${{ event.body.nested }}", `body={"html":"<b>&</b>"}`},
		{"interpolated list is JSON", "${{ event.body.items }}!", `["a","b"]!`},
		{"interpolated time is RFC 3339", "at ${{ event.received_at }}", "at 2024-08-20T12:00:00Z"},
		{"several parts", "${{ env.API }}/v1/${{ event.body.id }}?n=${{ env.N }}", "https://api.example/v1/evt_1?n=2"},
		{"adjacent parts", "${{ 'a' }}${{ 'b' }}", "ab"},
		{"}} in a double-quoted string", `${{ "}}" + "x" }}`, "}}x"},
		{"}} in a single-quoted string", `a${{ '}}' }}b`, "a}}b"},
		{"}} in a raw string", "${{ `}}` }}", "}}"},
		{"escaped quote in a string", `${{ "a\"}}" }}`, `a"}}`},
		{"map literal closing braces", `${{ {"a": {"b": 1}} }}`, map[string]any{"a": map[string]any{"b": 1}}},
		{"secret", "Bearer ${{ secrets.TOKEN }}", "Bearer s3cr3t-t0ken"},
		{"run", "${{ run.workflow }}#${{ run.attempt }}", "w#2"},
		{"earlier step", "${{ steps.fetch.outputs.status }}", 200},
		{"unicode around parts", "é ${{ 'ü' }} ß", "é ü ß"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := ParseTemplate(tt.in, Pos{File: "t.yaml", Line: 1, Col: 1})
			if err != nil {
				t.Fatal(err)
			}
			got, err := v.Render(env)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Render(%q) = %#v (%T), want %#v (%T)", tt.in, got, got, tt.want, tt.want)
			}
		})
	}
}

func TestTemplateErrors(t *testing.T) {
	tests := []struct {
		in   string
		want string // the exact problems
	}{
		{"${{ 1 +", "t.yaml:3:10: unterminated ${{ (no matching }})"},
		{"ab ${{ 'x }}", "t.yaml:3:13: unterminated ${{ (no matching }})"},
		{"ab ${{ nope }}", "t.yaml:3:17: unknown name nope"},
		{"${{ }}", "t.yaml:3:10: empty ${{ }}"},
		{"${{ a }} ${{ b }}", "t.yaml:3:14: unknown name a\nt.yaml:3:23: unknown name b"},
		{"${{ $env }}", "t.yaml:3:14: $env is not available; use event, steps, env, secrets or run"},
		{"${{ keys(secrets) }}", `t.yaml:3:19: secrets must be used by name, as secrets.NAME or secrets["NAME"]`},
		{"${{ event.bodyy }}", "t.yaml:3:20: type workflows.EventEnv has no field bodyy"},
		{"line1\n${{ x }}", "t.yaml:4:5: unknown name x"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			_, err := ParseTemplate(tt.in, Pos{File: "t.yaml", Line: 3, Col: 10})
			if err == nil {
				t.Fatal("want an error")
			}
			if _, ok := err.(Problems); !ok {
				t.Fatalf("want Problems, got %T", err)
			}
			if err.Error() != tt.want {
				t.Errorf("got  %s\nwant %s", err, tt.want)
			}
		})
	}
}

func TestTemplateExpressionSizeIsBounded(t *testing.T) {
	big := "${{ 1" + strings.Repeat(" + 1", MaxExpressionNodes) + " }}"
	_, err := ParseTemplate(big, Pos{})
	if err == nil || !strings.Contains(err.Error(), "exceeds maximum allowed nodes") {
		t.Fatalf("want a node limit error, got %v", err)
	}
}

func TestEvalMemoryIsBounded(t *testing.T) {
	v, err := ParseTemplate("${{ len(map(1..10000000, # * 2)) }}", Pos{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = v.Render(&Env{})
	if err == nil || !strings.Contains(err.Error(), "memory budget exceeded") {
		t.Fatalf("want a memory budget error, got %v", err)
	}
}

func TestRenderErrorsNeverShowSecrets(t *testing.T) {
	env := templateEnv()
	for _, src := range []string{
		"${{ int(secrets.TOKEN) }}",
		"x ${{ int(secrets.TOKEN) }}",
		"${{ duration(secrets.TOKEN) }}",
		"${{ date(secrets.TOKEN) }}",
		"${{ secrets.TOKEN }}${{ int(secrets.TOKEN) }}",
	} {
		v, err := ParseTemplate(src, Pos{File: "t.yaml", Line: 1, Col: 1})
		if err != nil {
			t.Fatalf("%s: %v", src, err)
		}
		_, err = v.Render(env)
		if err == nil {
			t.Fatalf("%s: want an error", src)
		}
		if strings.Contains(err.Error(), env.Secrets["TOKEN"]) {
			t.Errorf("%s: error shows the secret: %v", src, err)
		}
		var ee *EvalError
		if !asEvalError(err, &ee) || ee.Pos.File != "t.yaml" {
			t.Errorf("%s: want an *EvalError with a position, got %T %v", src, err, err)
		}
	}
}

func asEvalError(err error, out **EvalError) bool {
	e, ok := err.(*EvalError)
	*out = e
	return ok
}

func TestValueStaticAndRenderMap(t *testing.T) {
	static, err := ParseTemplate("just text", Pos{})
	if err != nil {
		t.Fatal(err)
	}
	if x, ok := static.Static(); !ok || x != "just text" {
		t.Errorf("Static() = %v, %v", x, ok)
	}
	dyn, err := ParseTemplate("${{ event.body }}", Pos{})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := dyn.Static(); ok {
		t.Errorf("a template is not static")
	}
	var none *Value
	if x, ok := none.Static(); !ok || x != nil {
		t.Errorf("nil Static() = %v, %v", x, ok)
	}
	m, err := none.RenderMap(nil)
	if err != nil || m == nil || len(m) != 0 {
		t.Errorf("nil RenderMap = %v, %v; want an empty map", m, err)
	}
	m, err = dyn.RenderMap(templateEnv())
	if err != nil || m["id"] != "evt_1" {
		t.Errorf("RenderMap of an exact map = %v, %v", m, err)
	}
	if _, err := static.RenderMap(nil); err == nil || !strings.Contains(err.Error(), "expected a map, got string") {
		t.Errorf("RenderMap of a string: %v", err)
	}
}

func TestRenderedMapsAreFresh(t *testing.T) {
	set, err := Load(Options{}, "testdata/valid/internal-hmac.yaml")
	if err != nil {
		t.Fatal(err)
	}
	w := set.ByName("internal-hmac")
	env := &Env{Event: EventEnv{Body: map[string]any{"order": map[string]any{"id": "o1", "total": 5}}}}
	env.Env, err = w.Env.RenderMap(env)
	if err != nil {
		t.Fatal(err)
	}
	first, err := w.Env.RenderMap(env)
	if err != nil {
		t.Fatal(err)
	}
	first["LIMITS"].(map[string]any)["max"] = 99
	second, err := w.Env.RenderMap(env)
	if err != nil {
		t.Fatal(err)
	}
	if got := second["LIMITS"].(map[string]any)["max"]; got != 3 {
		t.Errorf("a rendered map was shared between renders: max = %v", got)
	}
	if got := second["LABEL"]; got != "order o1 in run " {
		t.Errorf("LABEL = %q", got)
	}
	in, err := w.Steps[0].With.RenderMap(env)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"region": "eu-west-1",
		"count":  3,
		"flags":  []any{true, 1.5, nil, 7, "order o1 in run "},
		"quoted": "single }}eu-west-1 quoted",
	}
	if !reflect.DeepEqual(in, want) {
		t.Errorf("with = %#v\nwant %#v", in, want)
	}
}

// FuzzParseTemplate checks that no input makes the template scanner,
// compiler or renderer panic, and that text without ${{ is kept as is.
func FuzzParseTemplate(f *testing.F) {
	for _, seed := range []string{
		"", "plain", "${{ 1 }}", "a ${{ 'b' }} c", "${{", "}}", "${{ }}", "${{ '}}' }}",
		`${{ "\"}}" }}`, "${{ `}}` }}", `${{ {"a": {"b": 1}} }}`, "${{ event.body.x }}${{",
		"${{ secrets.X }}", "${{ $env }}", "${{ steps.a.outputs }}", "$${{ 1 }}}", "${{{{}}}}",
		"é${{ 'ü' }}", "${{ 1..3 }}", "${{ '\\",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := ParseTemplate(s, Pos{File: "f", Line: 1, Col: 1})
		if err != nil {
			if _, ok := err.(Problems); !ok {
				t.Fatalf("error is %T, want Problems", err)
			}
			return
		}
		if !strings.Contains(s, "${{") {
			x, ok := v.Static()
			if !ok || x != s {
				t.Fatalf("text without ${{ changed: %q → %#v", s, x)
			}
		}
		_, _ = v.Render(&Env{})
	})
}
