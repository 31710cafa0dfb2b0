package triggers

import (
	"errors"
	"fmt"

	"github.com/hookflow/hookflow/triggers/signature"
	"github.com/hookflow/hookflow/workflows"
)

// route is one workflow's webhook, ready to serve: its scheme built and its
// secrets resolved once, not per request.
type route struct {
	wf      *workflows.Workflow
	scheme  signature.Scheme
	secrets []string
	methods map[string]bool
}

func (r *route) allows(method string) bool { return r.methods[method] }

type routeTable struct {
	byPath map[string]*route
}

// buildRoutes prepares every workflow of set. All problems are reported
// together; secret values never appear in them.
func buildRoutes(set *workflows.Set, secrets map[string]string, maxBody int64) (*routeTable, error) {
	rt := &routeTable{byPath: map[string]*route{}}
	var errs []error
	for _, wf := range set.Workflows() {
		r, err := newRoute(wf, secrets)
		if err != nil {
			errs = append(errs, fmt.Errorf("workflow %s: %w", wf.Name, err))
			continue
		}
		if wf.Trigger.BodyLimit > maxBody {
			errs = append(errs, fmt.Errorf("workflow %s: max_body %d is over the listener's limit %d (set at start; restart to raise it)",
				wf.Name, wf.Trigger.BodyLimit, maxBody))
			continue
		}
		rt.byPath[wf.Trigger.Path] = r
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return rt, nil
}

func newRoute(wf *workflows.Workflow, secrets map[string]string) (*route, error) {
	sig := wf.Trigger.Signature
	scheme, err := signature.New(sig.Scheme, signature.Options{
		Tolerance: sig.Tolerance,
		Header:    sig.Header,
		Algorithm: sig.Algorithm,
		Encoding:  sig.Encoding,
		Prefix:    sig.Prefix,
	})
	if err != nil {
		return nil, fmt.Errorf("signature: %w", err)
	}
	r := &route{wf: wf, scheme: scheme, methods: map[string]bool{}}
	for _, m := range wf.Trigger.Methods {
		r.methods[m] = true
	}
	// Secrets may use env entries that depend on nothing but secrets; entries
	// that need the event cannot render here, and are not allowed in a
	// secret (workflow validation checks it).
	env := &workflows.Env{Secrets: secrets}
	if wf.Env != nil {
		env.Env, _ = wf.Env.RenderMap(env)
	}
	for i, v := range sig.Secrets {
		out, err := v.Render(env)
		if err != nil {
			return nil, fmt.Errorf("signature secret %d: %w", i+1, err)
		}
		s, ok := out.(string)
		if !ok || s == "" {
			return nil, fmt.Errorf("signature secret %d is empty: is the secret set?", i+1)
		}
		r.secrets = append(r.secrets, s)
	}
	return r, nil
}
