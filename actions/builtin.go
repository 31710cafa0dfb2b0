package actions

import (
	"cmp"
	"embed"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"
)

// NetOptions are shared by the built-ins that reach the network.
type NetOptions struct {
	// AllowPrivate allows loopback, private and link-local targets
	// (--allow-private-targets). Off, every such target is refused.
	AllowPrivate bool
	// AllowList names ranges allowed even when they are private, e.g.
	// 10.1.2.0/24.
	AllowList []netip.Prefix
	// Client sends the requests. Nil builds one with NewHTTPClient from
	// AllowPrivate and AllowList; a client given here is used as is, so it
	// should come from NewHTTPClient too, or host-name targets are not
	// checked once resolved (IP literals in URLs still are).
	Client *http.Client
	// Now is the clock for signature timestamps and Retry-After dates.
	// Nil uses time.Now.
	Now func() time.Time
	// Logger receives what the log action logs. Nil uses slog.Default().
	Logger *slog.Logger
}

// Policy returns the target policy the options describe.
func (o NetOptions) Policy() TargetPolicy {
	return TargetPolicy{AllowPrivate: o.AllowPrivate, AllowList: o.AllowList}
}

// withDefaults fills the nil fields.
func (o NetOptions) withDefaults() NetOptions {
	if o.Client == nil {
		o.Client = NewHTTPClient(o.Policy())
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	o.Logger = cmp.Or(o.Logger, slog.Default())
	return o
}

// Names under which RegisterBuiltins registers the built-ins.
const (
	NameHTTP    = "http"
	NameWebhook = "webhook"
	NameLog     = "log"
	NameSet     = "set"
)

// RegisterBuiltins registers http, webhook, log and set in r, built from
// opts. The network actions share one client.
func RegisterBuiltins(r *Registry, opts NetOptions) error {
	opts = opts.withDefaults()
	for _, b := range []struct {
		name   string
		action Action
	}{
		{NameHTTP, NewHTTP(opts)},
		{NameWebhook, NewWebhook(opts)},
		{NameLog, NewLog(opts.Logger)},
		{NameSet, NewSet()},
	} {
		if err := r.Register(b.name, b.action); err != nil {
			return fmt.Errorf("register built-in actions: %w", err)
		}
	}
	return nil
}

//go:embed schemas/*.json
var schemas embed.FS

// inputSchemas are the embedded schemas by action name, read once, when
// first asked for: a step asks for its action's schema at every
// execution.
var inputSchemas = sync.OnceValue(func() map[string][]byte {
	entries, err := schemas.ReadDir("schemas")
	if err != nil {
		panic(fmt.Sprintf("actions: embedded schemas: %v", err)) // a build mistake
	}
	m := make(map[string][]byte, len(entries))
	for _, e := range entries {
		b, err := schemas.ReadFile("schemas/" + e.Name())
		if err != nil {
			panic(fmt.Sprintf("actions: embedded schema %s: %v", e.Name(), err))
		}
		m[strings.TrimSuffix(e.Name(), ".json")] = b
	}
	return m
})

// schema returns the embedded JSON Schema of a built-in's input. Callers
// share the bytes: they do not change them.
func schema(name string) []byte {
	b, ok := inputSchemas()[name]
	if !ok {
		panic(fmt.Sprintf("actions: no embedded schema for %q", name)) // a build mistake
	}
	return b
}
