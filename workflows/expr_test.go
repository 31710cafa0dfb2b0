package workflows

import (
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"
)

// eventEnv builds the env of a JSON webhook from a file of testdata/events.
func eventEnv(t testing.TB, file string, headers map[string]string) *Env {
	t.Helper()
	raw, err := os.ReadFile("testdata/events/" + file)
	if err != nil {
		t.Fatal(err)
	}
	var body any
	if err := json.Unmarshal(raw, &body); err != nil {
		t.Fatal(err)
	}
	return &Env{
		Event: EventEnv{
			Body:       body,
			Raw:        string(raw),
			Headers:    headers,
			Method:     "POST",
			Path:       "/hooks/stripe",
			ID:         "evt_1PqZ3LJ2eZvKYlo2C9kX8bQe",
			ReceivedAt: time.Date(2024, 8, 20, 10, 0, 0, 0, time.UTC),
		},
		Secrets: map[string]string{
			"STRIPE_WEBHOOK_SECRET":  "whsec_test_abc",
			"BILLING_TOKEN":          "billing-token-123",
			"PARTNER_WEBHOOK_SECRET": "whsec_partner",
		},
		Run: RunEnv{ID: "0191a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b", Workflow: "stripe-activate", Attempt: 1},
	}
}

func TestStripeWorkflowEvaluates(t *testing.T) {
	set, err := Load(Options{Actions: testCatalog(t)}, "testdata/valid/stripe-activate.yaml")
	if err != nil {
		t.Fatal(err)
	}
	w := set.ByPath("stripe")
	env := eventEnv(t, "stripe-invoice.json", map[string]string{"stripe-signature": "t=1,v1=abc"})

	ok, err := w.Trigger.Filter.Bool(env)
	if err != nil || !ok {
		t.Fatalf("filter = %v, %v; want true", ok, err)
	}
	key, err := w.Trigger.IdempotencyKey.Text(env)
	if err != nil || key != "evt_1PqZ3LJ2eZvKYlo2C9kX8bQe" {
		t.Fatalf("idempotency key = %q, %v", key, err)
	}
	secret, err := w.Trigger.Signature.Secrets[0].Render(&Env{Secrets: env.Secrets})
	if err != nil || secret != "whsec_test_abc" {
		t.Fatalf("signature secret = %v, %v", secret, err)
	}
	if env.Env, err = w.Env.RenderMap(env); err != nil {
		t.Fatal(err)
	}

	activate := w.Steps[0]
	in, err := activate.With.RenderMap(env)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"method":  "POST",
		"url":     "https://billing.internal/accounts/cus_QhzX1yQ2Jv8d4T/activate",
		"headers": map[string]any{"Authorization": "Bearer billing-token-123"},
		"json":    map[string]any{"plan": "price_pro_monthly"},
	}
	if !reflect.DeepEqual(in, want) {
		t.Errorf("activate input = %#v\nwant %#v", in, want)
	}
	if err := ValidateSchema(testCatalog(t)["http"], in); err != nil {
		t.Errorf("rendered input breaks the http schema: %v", err)
	}

	notify := w.Steps[1]
	for _, tt := range []struct {
		status any
		want   bool
	}{{200, true}, {float64(200), true}, {500, false}, {nil, false}} {
		env.Steps = map[string]StepEnv{"activate": {Status: "succeeded", Outputs: map[string]any{"status": tt.status}}}
		got, err := notify.If.Bool(env)
		if err != nil || got != tt.want {
			t.Errorf("notify if with status %v = %v, %v; want %v", tt.status, got, err, tt.want)
		}
	}

	env.Event.Body.(map[string]any)["type"] = "invoice.payment_failed"
	if ok, err := w.Trigger.Filter.Bool(env); err != nil || ok {
		t.Errorf("filter on another event type = %v, %v; want false", ok, err)
	}
}

func TestGitHubFilterOnHeaders(t *testing.T) {
	set, err := Load(Options{Actions: testCatalog(t)}, "testdata/valid/github-push.yaml")
	if err != nil {
		t.Fatal(err)
	}
	w := set.ByName("github-push")
	tests := []struct {
		name    string
		headers map[string]string
		ref     string
		want    bool
	}{
		{"push to main", map[string]string{"x-github-event": "push", "x-github-delivery": "d-1"}, "refs/heads/main", true},
		{"push to a branch", map[string]string{"x-github-event": "push"}, "refs/heads/dev", false},
		{"another event", map[string]string{"x-github-event": "issues"}, "refs/heads/main", false},
		{"no headers at all", nil, "refs/heads/main", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := eventEnv(t, "github-push.json", tt.headers)
			env.Event.Body.(map[string]any)["ref"] = tt.ref
			got, err := w.Trigger.Filter.Bool(env)
			if err != nil || got != tt.want {
				t.Errorf("filter = %v, %v; want %v", got, err, tt.want)
			}
		})
	}
	env := eventEnv(t, "github-push.json", map[string]string{"x-github-event": "push", "x-github-delivery": "72d3162e"})
	if key, err := w.Trigger.IdempotencyKey.Text(env); err != nil || key != "72d3162e" {
		t.Errorf("idempotency key = %q, %v", key, err)
	}
	env.Steps = map[string]StepEnv{"log-push": {Status: "succeeded"}}
	in, err := w.Steps[1].With.RenderMap(env)
	if err != nil {
		t.Fatal(err)
	}
	commits := in["json"].(map[string]any)["commits"]
	if !reflect.DeepEqual(commits, []any{"0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c", "a10867b14bb761a232cd80139fbd4c0d33264240"}) {
		t.Errorf("commits = %#v", commits)
	}
	msg, err := w.Steps[0].With.RenderMap(env)
	if err != nil || msg["message"] != "push of 2 commits to octocat/Hello-World" {
		t.Errorf("message = %v, %v", msg["message"], err)
	}
}

func TestProgramEvalErrors(t *testing.T) {
	set, err := Load(Options{}, "testdata/valid/stripe-activate.yaml")
	if err != nil {
		t.Fatal(err)
	}
	w := set.ByName("stripe-activate")
	// A body that is not a map: the filter fails at run time, with the
	// position of the expression in its file.
	env := &Env{Event: EventEnv{Body: "plain text"}}
	_, err = w.Trigger.Filter.Bool(env)
	var ee *EvalError
	if !asEvalError(err, &ee) {
		t.Fatalf("want *EvalError, got %T %v", err, err)
	}
	if ee.Pos != (Pos{File: "testdata/valid/stripe-activate.yaml", Line: 11, Col: 13}) || ee.Source != w.Trigger.Filter.Source() {
		t.Errorf("error at %v for %q", ee.Pos, ee.Source)
	}
	if !strings.HasPrefix(err.Error(), "testdata/valid/stripe-activate.yaml:11:13: evaluating ") {
		t.Errorf("error text %q", err)
	}

	// A bool program over an untyped value that is not bool.
	p, probs := compile("event.body.paid", true, linearMapper("", Pos{}), 0)
	if len(probs) > 0 {
		t.Fatal(probs)
	}
	if _, err := p.Bool(&Env{Event: EventEnv{Body: map[string]any{"paid": "yes"}}}); err == nil {
		t.Errorf("want an error for a string where a bool is needed")
	}
	if got, err := p.Bool(&Env{Event: EventEnv{Body: map[string]any{"paid": true}}}); err != nil || !got {
		t.Errorf("Bool = %v, %v", got, err)
	}
	// A nil env is an empty one.
	q, probs := compile(`event.method == ""`, true, linearMapper("", Pos{}), 0)
	if len(probs) > 0 {
		t.Fatal(probs)
	}
	if _, err := q.Eval(nil); err != nil {
		t.Errorf("Eval(nil): %v", err)
	}
}

func TestProgramText(t *testing.T) {
	tests := []struct {
		src  string
		want string
	}{
		{"event.body.id", "evt_1"},
		{"event.body.count", "3"},
		{"event.body.missing", ""},
		{"event.body.items", `["a","b"]`},
		{"run.attempt", "2"},
	}
	env := templateEnv()
	for _, tt := range tests {
		p, probs := compile(tt.src, false, linearMapper(tt.src, Pos{}), 0)
		if len(probs) > 0 {
			t.Fatal(probs)
		}
		if got, err := p.Text(env); err != nil || got != tt.want {
			t.Errorf("Text(%s) = %q, %v; want %q", tt.src, got, err, tt.want)
		}
	}
}

func TestDatesAreUTC(t *testing.T) {
	for _, src := range []string{
		`date("2024-08-20 10:00:00").Format("MST")`,
		`now().Format("MST")`,
		`date("2024-08-20", "2006-01-02").Format("MST")`,
	} {
		p, probs := compile(src, false, linearMapper("", Pos{}), 0)
		if len(probs) > 0 {
			t.Fatal(probs)
		}
		got, err := p.Eval(&Env{})
		if err != nil || got != "UTC" {
			t.Errorf("%s = %v, %v; want UTC", src, got, err)
		}
	}
	p, probs := compile(`date("2024-08-20 10:00:00", "2006-01-02 15:04:05", "Europe/Paris").Format("MST")`, false, linearMapper("", Pos{}), 0)
	if len(probs) > 0 {
		t.Fatal(probs)
	}
	if got, err := p.Eval(&Env{}); err != nil || got != "CEST" {
		t.Errorf("an explicit zone = %v, %v; want CEST", got, err)
	}
}

func TestConcurrentEvaluation(t *testing.T) {
	set, err := Load(Options{}, "testdata/valid/stripe-activate.yaml")
	if err != nil {
		t.Fatal(err)
	}
	w := set.ByName("stripe-activate")
	base := eventEnv(t, "stripe-invoice.json", nil)
	if base.Env, err = w.Env.RenderMap(base); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 8)
	for g := range 8 {
		go func() {
			env := *base
			env.Run.Attempt = g
			for range 200 {
				if ok, err := w.Trigger.Filter.Bool(&env); err != nil || !ok {
					done <- fmt.Errorf("filter = %v, %v", ok, err)
					return
				}
				in, err := w.Steps[0].With.RenderMap(&env)
				if err != nil || in["url"] != "https://billing.internal/accounts/cus_QhzX1yQ2Jv8d4T/activate" {
					done <- fmt.Errorf("render = %v, %v", in, err)
					return
				}
			}
			done <- nil
		}()
	}
	for range 8 {
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
}

func TestNilProgram(t *testing.T) {
	var p *Program
	if ok, err := p.Bool(nil); !ok || err != nil {
		t.Errorf("nil Bool = %v, %v; want true", ok, err)
	}
	if s, err := p.Text(nil); s != "" || err != nil {
		t.Errorf("nil Text = %q, %v", s, err)
	}
	if v, err := p.Eval(nil); v != nil || err != nil {
		t.Errorf("nil Eval = %v, %v", v, err)
	}
}
