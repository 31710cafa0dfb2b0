package actions

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"
)

// Action is one kind of step. Built-ins and plugin actions both satisfy it.
//
// Execute gets the step's rendered `with` input and returns the step's
// outputs. An error is retryable unless marked with Permanent; use
// Retryable/RetryAfter to say so explicitly or to give a back-off hint.
// Execute must honour ctx: it carries the step timeout.
type Action interface {
	Execute(ctx context.Context, req Request) (map[string]any, error)
}

// Schemer is implemented by actions that publish a JSON Schema of their
// input; workflows validation checks static `with` values against it, and
// the engine checks rendered ones.
type Schemer interface {
	InputSchema() []byte
}

// Request is what an action receives for one attempt of one step.
type Request struct {
	RunID    string
	Workflow string
	StepID   string
	Attempt  int // 1 for the first attempt of this step
	// IdempotencyKey is the same for every attempt of this step of this run
	// (run id + "/" + step id): pass it downstream so retries are safe.
	IdempotencyKey string
	Input          map[string]any
}

// Error carries what decides a retry. Actions build it with Retryable,
// Permanent or RetryAfter; Details (an outbound delivery's status, latency,
// first bytes of the answer) are recorded with the attempt.
type Error struct {
	Err        error
	Permanent  bool
	RetryAfter time.Duration  // a hint; 0 lets the step's back-off decide
	Details    map[string]any // recorded with the attempt
}

func (e *Error) Error() string { return e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

// Retryable marks err as worth another attempt.
func Retryable(err error) error { return &Error{Err: err} }

// Permanent marks err as one that another attempt will not fix.
func Permanent(err error) error { return &Error{Err: err, Permanent: true} }

// RetryAfter marks err retryable no sooner than d.
func RetryAfter(err error, d time.Duration) error { return &Error{Err: err, RetryAfter: d} }

// WithDetails attaches attempt details to err, keeping its retry decision.
func WithDetails(err error, details map[string]any) error {
	var ae *Error
	if errors.As(err, &ae) {
		c := *ae
		c.Details = details
		return &c
	}
	return &Error{Err: err, Details: details}
}

// IsPermanent reports whether err was marked Permanent. Unmarked errors are
// retryable: a failure we know nothing about is treated as transient.
func IsPermanent(err error) bool {
	var ae *Error
	return errors.As(err, &ae) && ae.Permanent
}

// RetryHint returns the retry-after hint of err, or 0.
func RetryHint(err error) time.Duration {
	var ae *Error
	if errors.As(err, &ae) {
		return ae.RetryAfter
	}
	return 0
}

// DetailsOf returns the attempt details attached to err, or nil.
func DetailsOf(err error) map[string]any {
	var ae *Error
	if errors.As(err, &ae) {
		return ae.Details
	}
	return nil
}

// Registry maps `uses:` names to actions. It is a value: the daemon builds
// one, tests build their own.
type Registry struct {
	actions map[string]Action
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry { return &Registry{actions: map[string]Action{}} }

// Register adds an action under name; a name can be registered once.
func (r *Registry) Register(name string, a Action) error {
	if _, ok := r.actions[name]; ok {
		return fmt.Errorf("action %q registered twice", name)
	}
	r.actions[name] = a
	return nil
}

// Lookup returns the action registered under name.
func (r *Registry) Lookup(name string) (Action, bool) {
	a, ok := r.actions[name]
	return a, ok
}

// Names returns every registered name, sorted.
func (r *Registry) Names() []string {
	names := make([]string, 0, len(r.actions))
	for n := range r.actions {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// ActionSchema returns the input schema of the action registered under uses
// (nil when it publishes none) and whether such an action exists. It lets a
// Registry serve as the action catalog of workflow validation.
func (r *Registry) ActionSchema(uses string) ([]byte, bool) {
	a, ok := r.actions[uses]
	if !ok {
		return nil, false
	}
	if s, ok := a.(Schemer); ok {
		return s.InputSchema(), true
	}
	return nil, true
}
