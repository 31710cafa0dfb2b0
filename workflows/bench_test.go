package workflows

import (
	"testing"
)

// benchWorkflow is the Stripe example: a `with` map with three templates
// (url with two parts, a header with a secret, a json field).
func benchWorkflow(b *testing.B) (*Workflow, *Env) {
	b.Helper()
	set, err := Load(Options{}, "testdata/valid/stripe-activate.yaml")
	if err != nil {
		b.Fatal(err)
	}
	w := set.ByName("stripe-activate")
	env := eventEnv(b, "stripe-invoice.json", map[string]string{"stripe-signature": "t=1,v1=abc"})
	if env.Env, err = w.Env.RenderMap(env); err != nil {
		b.Fatal(err)
	}
	return w, env
}

func BenchmarkRender(b *testing.B) {
	w, env := benchWorkflow(b)
	with := w.Steps[0].With
	b.ReportAllocs()
	for b.Loop() {
		if _, err := with.RenderMap(env); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkFilter(b *testing.B) {
	w, env := benchWorkflow(b)
	filter := w.Trigger.Filter
	b.ReportAllocs()
	for b.Loop() {
		ok, err := filter.Bool(env)
		if err != nil || !ok {
			b.Fatal(ok, err)
		}
	}
}

func BenchmarkFilterHeaders(b *testing.B) {
	set, err := Load(Options{}, "testdata/valid/github-push.yaml")
	if err != nil {
		b.Fatal(err)
	}
	filter := set.ByName("github-push").Trigger.Filter
	env := eventEnv(b, "github-push.json", map[string]string{"x-github-event": "push"})
	b.ReportAllocs()
	for b.Loop() {
		if ok, err := filter.Bool(env); err != nil || !ok {
			b.Fatal(ok, err)
		}
	}
}

func BenchmarkLoad(b *testing.B) {
	opts := Options{Actions: testCatalog(b)}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Load(opts, "testdata/valid"); err != nil {
			b.Fatal(err)
		}
	}
}
