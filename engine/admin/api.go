package admin

import (
	"encoding/json"
	"time"

	"github.com/hookflow/hookflow/engine"
)

// The types below are the admin API's JSON documents. The server writes
// them and Client reads them, so both sides agree on one definition.

// ErrorBody is every error answer: {"error":{"code":"not_found","message":"..."}}.
// Code is one of the Code* constants and is stable; Message is for people.
type ErrorBody struct {
	Error APIError `json:"error"`
}

// Error codes of ErrorBody. They are part of the API: scripts may match them.
const (
	CodeBadRequest       = "bad_request"        // 400: a parameter is malformed
	CodeUnauthorized     = "unauthorized"       // 401: missing or wrong bearer token
	CodeNotFound         = "not_found"          // 404: no such run or route
	CodeMethodNotAllowed = "method_not_allowed" // 405
	CodeConflict         = "conflict"           // 409: the run or workflow is not in a state that allows it
	CodeUnavailable      = "unavailable"        // 503: the store cannot answer now; retry later
	CodeInternal         = "internal"           // 500
)

// RunSummary is one run in a list.
type RunSummary struct {
	ID              string        `json:"id"`
	Workflow        string        `json:"workflow"`
	WorkflowVersion string        `json:"workflow_version,omitempty"`
	Status          engine.Status `json:"status"`
	ReplayOf        string        `json:"replay_of,omitempty"`
	EventID         string        `json:"event_id,omitempty"`
	CreatedAt       time.Time     `json:"created_at"`
	UpdatedAt       time.Time     `json:"updated_at,omitzero"`
	StartedAt       time.Time     `json:"started_at,omitzero"`
	FinishedAt      time.Time     `json:"finished_at,omitzero"`
	DueAt           time.Time     `json:"due_at,omitzero"`
	Claims          int           `json:"claims"`
	CancelRequested bool          `json:"cancel_requested,omitempty"`
	Error           string        `json:"error,omitempty"`
}

// RunPage is the answer of GET /api/v1/runs: runs newest first, and the
// cursor of the next page ("" on the last page).
type RunPage struct {
	Runs       []RunSummary `json:"runs"`
	NextCursor string       `json:"next_cursor,omitempty"`
}

// RunDetail is the answer of GET /api/v1/runs/{id}.
type RunDetail struct {
	RunSummary
	DedupeKey   string              `json:"dedupe_key,omitempty"`
	DedupeUntil time.Time           `json:"dedupe_until,omitzero"`
	Lease       *LeaseView          `json:"lease,omitempty"`
	Event       EventView           `json:"event"`
	Steps       []engine.StepRecord `json:"steps"`
}

// LeaseView is who holds a running run and until when.
type LeaseView struct {
	Owner     string    `json:"owner"`
	ExpiresAt time.Time `json:"expires_at"`
}

// Body encodings of EventView.BodyEncoding.
const (
	BodyJSON   = "json"   // Body is the request body itself, a JSON value
	BodyText   = "text"   // Body is a JSON string holding the body as text
	BodyBase64 = "base64" // Body is a JSON string holding the body in standard base64 (not UTF-8)
)

// EventView is the webhook request a run was made from. Signature and
// credential headers are replaced with "[redacted]".
type EventView struct {
	ID           string            `json:"id"`
	Method       string            `json:"method"`
	Path         string            `json:"path"`
	Headers      map[string]string `json:"headers,omitempty"`
	Query        map[string]string `json:"query,omitempty"`
	ContentType  string            `json:"content_type,omitempty"`
	ReceivedAt   time.Time         `json:"received_at"`
	BodyEncoding string            `json:"body_encoding,omitempty"`
	Body         json.RawMessage   `json:"body,omitempty"`
}

// WorkflowList is the answer of GET /api/v1/workflows.
type WorkflowList struct {
	Workflows []WorkflowInfo `json:"workflows"`
	// CountsComplete is false when the store cannot count runs itself and
	// counting by listing stopped at the scan limit: counts are then lower
	// bounds.
	CountsComplete bool `json:"counts_complete"`
}

// WorkflowInfo describes one loaded workflow and how many of its runs the
// store holds, by status.
type WorkflowInfo struct {
	Name        string                `json:"name"`
	Description string                `json:"description,omitempty"`
	Path        string                `json:"path"`
	Methods     []string              `json:"methods"`
	Scheme      string                `json:"scheme"`
	Version     string                `json:"version"`
	File        string                `json:"file"`
	Concurrency int                   `json:"concurrency,omitempty"`
	Timeout     string                `json:"timeout,omitempty"`
	Steps       []StepInfo            `json:"steps"`
	Counts      map[engine.Status]int `json:"counts"`
}

// StepInfo is one step of a workflow.
type StepInfo struct {
	ID   string `json:"id"`
	Uses string `json:"uses"`
}

// PluginList is the answer of GET /api/v1/plugins.
type PluginList struct {
	Plugins []PluginInfo `json:"plugins"`
}

// PluginInfo describes one plugin the daemon found. Error says why it is not
// usable (checksum mismatch, failed handshake); its actions are then empty.
type PluginInfo struct {
	Name     string       `json:"name"`
	Version  string       `json:"version,omitempty"`
	Checksum string       `json:"checksum,omitempty"`
	Actions  []ActionInfo `json:"actions"`
	Error    string       `json:"error,omitempty"`
}

// ActionInfo is one action a plugin announced.
type ActionInfo struct {
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
}

// ReplayResult is the answer of POST /api/v1/runs/{id}/replay.
type ReplayResult struct {
	RunID    string        `json:"run_id"`
	ReplayOf string        `json:"replay_of"`
	Status   engine.Status `json:"status"`
}

// CancelResult is the answer of POST /api/v1/runs/{id}/cancel. Status is
// canceled when the run stopped at once; a running run keeps running until
// its current step ends, with CancelRequested set.
type CancelResult struct {
	RunID           string        `json:"run_id"`
	Status          engine.Status `json:"status"`
	CancelRequested bool          `json:"cancel_requested"`
}

// Health is the answer of /healthz and /readyz.
type Health struct {
	Status  string            `json:"status"` // ok, or unready
	Details map[string]string `json:"details,omitempty"`
}

// APIError is the error of an answer. As a Go error (from Client) it also
// carries the HTTP status.
type APIError struct {
	Status  int    `json:"-"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

func (e *APIError) Error() string {
	if e.Code == "" {
		return e.Message
	}
	return e.Message + " (" + e.Code + ")"
}
