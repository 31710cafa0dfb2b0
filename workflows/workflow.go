package workflows

import "time"

// Workflow is one loaded, validated and compiled workflow file.
type Workflow struct {
	Name        string
	Description string
	File        string // path it was loaded from
	Version     string // first 12 hex digits of the sha256 of the file's bytes
	Trigger     Trigger
	Concurrency int           // max runs at once; 0 is unlimited
	Timeout     time.Duration // whole run; default DefaultRunTimeout
	// Env is the workflow's `env:` map, compiled. It is rendered once per run
	// (with event, secrets and run in scope) and seen by steps as `env`.
	Env   *Value
	Steps []*Step
}

// Defaults applied at load when a workflow is silent.
const (
	DefaultRunTimeout    = time.Hour
	DefaultStepTimeout   = 30 * time.Second
	DefaultTolerance     = 5 * time.Minute
	DefaultBodyLimit     = 1 << 20
	DefaultDedupeWindow  = 24 * time.Hour
	DefaultRetryAttempts = 5
	DefaultRetryInitial  = time.Second
	DefaultRetryMax      = 5 * time.Minute
	DefaultMethod        = "POST"
)

// Trigger is a workflow's `on.webhook`.
type Trigger struct {
	Path      string   // served at /hooks/{Path}
	Methods   []string // upper case; default [POST]
	Signature Signature
	// Filter, when set, must be true for a run to be made.
	Filter *Program
	// IdempotencyKey, when set, computes the dedupe key; otherwise the
	// scheme's delivery id is used (when the scheme has one).
	IdempotencyKey *Program
	DedupeWindow   time.Duration // `idempotency_window`, default 24h
	BodyLimit      int64         // `max_body`, bytes, default 1 MiB
}

// Signature is `on.webhook.signature`.
type Signature struct {
	Scheme string // stripe | github | standard | slack | shopify | twilio | hmac | none
	// Secrets are templates (usually `${{ secrets.NAME }}`) rendered with only
	// `secrets` and `env` in scope; several for key rotation.
	Secrets   []*Value
	Tolerance time.Duration
	// hmac only
	Header    string
	Algorithm string // sha1 | sha256 | sha512
	Encoding  string // hex | base64
	Prefix    string
}

// Step is one entry of `steps:`.
type Step struct {
	ID      string
	Uses    string   // a built-in action name or PLUGIN.ACTION
	If      *Program // nil: always
	With    *Value   // nil: empty input
	Retry   Retry
	Timeout time.Duration // default DefaultStepTimeout
	Pos     Pos
}

// Retry is a step's retry policy: exponential back-off with full jitter.
type Retry struct {
	Attempts int           // total attempts, including the first
	Initial  time.Duration // first back-off ceiling
	Max      time.Duration // back-off ceiling cap
}

// Pos is a position in a workflow file.
type Pos struct {
	File string
	Line int
	Col  int
}
