package engine

import (
	"bytes"
	"maps"
	"time"
)

// Status is where a run is in its life.
type Status string

const (
	StatusQueued    Status = "queued"    // waiting for a worker, due at DueAt
	StatusRunning   Status = "running"   // leased by a worker
	StatusRetrying  Status = "retrying"  // a step failed retryably; due at DueAt
	StatusSucceeded Status = "succeeded" // every step finished or was skipped
	StatusDead      Status = "dead"      // a step failed permanently or ran out of attempts
	StatusCanceled  Status = "canceled"  // stopped by an operator
)

// Final reports whether no worker will touch a run in this status again.
func (s Status) Final() bool {
	return s == StatusSucceeded || s == StatusDead || s == StatusCanceled
}

// Claimable reports whether a run in this status waits for a worker.
func (s Status) Claimable() bool { return s == StatusQueued || s == StatusRetrying }

// Run is one execution of a workflow for one event.
type Run struct {
	ID              string       `json:"id"` // UUIDv7: time-ordered
	Workflow        string       `json:"workflow"`
	WorkflowVersion string       `json:"workflow_version,omitempty"`
	Status          Status       `json:"status"`
	Event           Event        `json:"event"`
	DedupeKey       string       `json:"dedupe_key,omitempty"`
	DedupeUntil     time.Time    `json:"dedupe_until,omitzero"`
	ReplayOf        string       `json:"replay_of,omitempty"`
	CreatedAt       time.Time    `json:"created_at"`
	UpdatedAt       time.Time    `json:"updated_at"`
	StartedAt       time.Time    `json:"started_at,omitzero"`
	FinishedAt      time.Time    `json:"finished_at,omitzero"`
	DueAt           time.Time    `json:"due_at,omitzero"`
	Lease           Lease        `json:"lease,omitzero"`
	Claims          int          `json:"claims"` // how many times a worker claimed it: run.attempt
	CancelRequested bool         `json:"cancel_requested,omitempty"`
	Steps           []StepRecord `json:"steps,omitempty"`
	Error           string       `json:"error,omitempty"`
}

// Lease is a worker's claim on a running run. Token grows with every claim
// and fences writes from a previous holder.
type Lease struct {
	Owner     string    `json:"owner,omitempty"`
	Token     int64     `json:"token,omitempty"`
	ExpiresAt time.Time `json:"expires_at,omitzero"`
}

// Event is the webhook request a run was made from, as received.
type Event struct {
	ID          string            `json:"id"` // the delivery id or the run id
	Method      string            `json:"method"`
	Path        string            `json:"path"`
	Headers     map[string]string `json:"headers,omitempty"` // lower-case names
	Query       map[string]string `json:"query,omitempty"`
	ContentType string            `json:"content_type,omitempty"`
	Body        []byte            `json:"body,omitempty"` // raw bytes
	ReceivedAt  time.Time         `json:"received_at"`

	// parsed is the body as EventEnv parsed it, kept so that the engine
	// does not parse again what the trigger parsed for its filter (a run
	// handed from Enqueue to Claim in memory keeps it). Not stored.
	parsed *parsedBody
}

// Clone returns a copy of ev that shares no map or byte slice with it
// (the parsed body, read-only, is shared).
func (ev Event) Clone() Event {
	c := ev
	c.Headers = maps.Clone(ev.Headers)
	c.Query = maps.Clone(ev.Query)
	c.Body = bytes.Clone(ev.Body)
	if p := ev.parsed; p != nil && sameBytes(p.from, ev.Body) {
		c.parsed = &parsedBody{from: c.Body, body: p.body, raw: p.raw}
	} else {
		c.parsed = nil
	}
	return c
}

// parsedBody is Event.Body parsed by ParseBody, for the Body it was parsed
// from.
type parsedBody struct {
	from []byte // the Body parsed (compared by identity, not content)
	body any
	raw  string
}

// StepStatus is the state of one step of a run.
type StepStatus string

const (
	StepSucceeded StepStatus = "succeeded"
	StepSkipped   StepStatus = "skipped" // its if: was false
	StepFailed    StepStatus = "failed"  // last attempt failed; see the run's status
	StepRetrying  StepStatus = "retrying"
)

// Done reports whether a resumed run moves past this step.
func (s StepStatus) Done() bool { return s == StepSucceeded || s == StepSkipped }

// StepRecord is what the store keeps about one step of a run.
type StepRecord struct {
	ID       string         `json:"id"`
	Uses     string         `json:"uses"`
	Status   StepStatus     `json:"status"`
	Outputs  map[string]any `json:"outputs,omitempty"`
	Attempts []Attempt      `json:"attempts,omitempty"`
	Error    string         `json:"error,omitempty"`
}

// Attempt is one execution of a step's action.
type Attempt struct {
	Number     int            `json:"number"`
	StartedAt  time.Time      `json:"started_at"`
	DurationMS float64        `json:"duration_ms"`
	Outcome    string         `json:"outcome"` // ok, retryable, permanent
	Error      string         `json:"error,omitempty"`
	Details    map[string]any `json:"details,omitempty"` // e.g. outbound delivery: status, latency, response prefix
}
