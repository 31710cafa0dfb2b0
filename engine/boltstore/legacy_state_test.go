package boltstore

// The JSON forms of a run's state and its event that layout 5 wrote (and
// layouts 2 to 4 before it). Layout 6 writes binary forms (state.go,
// event.go) and still reads these (decodeState, decodeEventMeta); the
// tests write them to check that.

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/hookflow/hookflow/engine"
)

// appendJSONState appends the JSON of r's state, as layout 5 stored it, (engine.Run without its Event)
// to b. It writes what json.Marshal writes for the run with its Event
// left out: the same names, the same fields omitted, strings escaped as
// encoding/json escapes them (but for <, > and &, which need no escaping),
// times as time.Time.MarshalJSON writes them, and step outputs as
// appendValue writes them. decodeRun reads the result with json.Unmarshal.
func appendJSONState(b []byte, r *engine.Run) ([]byte, error) {
	w := objectWriter{b: slices.Grow(b, jsonStateSize(r))}
	w.open()
	w.str("id", r.ID, false)
	w.str("workflow", r.Workflow, false)
	w.str("workflow_version", r.WorkflowVersion, true)
	w.str("status", string(r.Status), false)
	w.str("dedupe_key", r.DedupeKey, true)
	w.time("dedupe_until", r.DedupeUntil, true)
	w.str("replay_of", r.ReplayOf, true)
	w.time("created_at", r.CreatedAt, false)
	w.time("updated_at", r.UpdatedAt, false)
	w.time("started_at", r.StartedAt, true)
	w.time("finished_at", r.FinishedAt, true)
	w.time("due_at", r.DueAt, true)
	// omitzero on Lease (no IsZero method) omits it when every field is
	// the zero value, as ==; a zero ExpiresAt in another location makes
	// it an empty object.
	if l := &r.Lease; *l != (engine.Lease{}) {
		w.key("lease")
		w.open()
		w.str("owner", l.Owner, true)
		if l.Token != 0 {
			w.key("token")
			w.b = strconv.AppendInt(w.b, l.Token, 10)
		}
		if !l.ExpiresAt.IsZero() {
			w.timeNamed("expires_at", "lease.expires_at", l.ExpiresAt)
		}
		w.close()
	}
	w.key("claims")
	w.b = strconv.AppendInt(w.b, int64(r.Claims), 10)
	if r.CancelRequested {
		w.key("cancel_requested")
		w.b = append(w.b, "true"...)
	}
	if len(r.Steps) > 0 {
		w.key("steps")
		w.steps(r.Steps)
	}
	w.str("error", r.Error, true)
	w.close()
	if w.err != nil {
		return nil, w.err
	}
	return w.b, nil
}

// steps appends the array of a run's step records.
func (w *objectWriter) steps(steps []engine.StepRecord) {
	w.b = append(w.b, '[')
	for i := range steps {
		if i > 0 {
			w.b = append(w.b, ',')
		}
		st := &steps[i]
		w.open()
		w.str("id", st.ID, false)
		w.str("uses", st.Uses, false)
		w.str("status", string(st.Status), false)
		w.values("outputs", "steps.outputs", st.Outputs)
		if len(st.Attempts) > 0 {
			w.key("attempts")
			w.b = append(w.b, '[')
			for j := range st.Attempts {
				if j > 0 {
					w.b = append(w.b, ',')
				}
				a := &st.Attempts[j]
				w.open()
				w.key("number")
				w.b = strconv.AppendInt(w.b, int64(a.Number), 10)
				w.timeNamed("started_at", "steps.attempts.started_at", a.StartedAt)
				w.key("duration_ms")
				w.value("steps.attempts.duration_ms", a.DurationMS)
				w.str("outcome", a.Outcome, false)
				w.str("error", a.Error, true)
				w.values("details", "steps.attempts.details", a.Details)
				w.close()
			}
			w.b = append(w.b, ']')
		}
		w.str("error", st.Error, true)
		w.close()
	}
	w.b = append(w.b, ']')
	w.sep = true
}

// values appends a map member, left out when empty (the tag's omitempty).
func (w *objectWriter) values(name, field string, m map[string]any) {
	if len(m) == 0 {
		return
	}
	w.key(name)
	w.value(field, m)
}

// value appends v (appendValue), keeping the first error.
func (w *objectWriter) value(field string, v any) {
	if w.err != nil {
		return
	}
	w.b, w.err = appendValue(w.b, v)
	if w.err != nil {
		w.err = fmt.Errorf("%s: %w", field, w.err)
	}
}

// time appends a time member; omitZero leaves out the zero time (the tag's
// omitzero).
func (w *objectWriter) time(name string, t time.Time, omitZero bool) {
	if omitZero && t.IsZero() {
		return
	}
	w.timeNamed(name, name, t)
}

// jsonStateSize is a close upper bound on the length of appendJSONState's output
// for r without its steps, when its strings need no escaping.
func jsonStateSize(r *engine.Run) int {
	const (
		always  = 96                                                   // id, workflow, status, created_at and updated_at names, claims, punctuation
		timeLen = len(`,"finished_at":""`) + len(time.RFC3339Nano) + 6 // the longest name; nanoseconds and a zone offset
		field   = 24                                                   // an optional string's name and punctuation
	)
	n := always + 2*timeLen + len(r.ID) + len(r.Workflow) + len(r.Status)
	for _, s := range [...]string{r.WorkflowVersion, r.DedupeKey, r.ReplayOf, r.Error} {
		if s != "" {
			n += field + len(s)
		}
	}
	for _, t := range [...]*time.Time{&r.DedupeUntil, &r.StartedAt, &r.FinishedAt, &r.DueAt} {
		if !t.IsZero() {
			n += timeLen
		}
	}
	if r.Lease != (engine.Lease{}) {
		n += 72 + len(r.Lease.Owner) + timeLen
	}
	if r.CancelRequested {
		n += field
	}
	return n
}

// strings appends a map of strings, its keys in byte order as json.Marshal
// sorts them, left out when empty (the tag's omitempty).
func (w *objectWriter) strings(name string, m map[string]string) {
	if len(m) == 0 {
		return
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	w.key(name)
	w.open()
	for i, k := range keys {
		if i > 0 {
			w.b = append(w.b, ',')
		}
		w.b = appendString(append(appendString(w.b, k), ':'), m[k])
	}
	w.close()
}

// objectWriter appends a JSON object's members, with commas between them,
// and keeps the first error.
type objectWriter struct {
	b   []byte
	sep bool // a member precedes: the next one needs a comma
	err error
}

func (w *objectWriter) open()  { w.b, w.sep = append(w.b, '{'), false }
func (w *objectWriter) close() { w.b, w.sep = append(w.b, '}'), true }

// key appends a member's name.
func (w *objectWriter) key(name string) {
	if w.sep {
		w.b = append(w.b, ',')
	}
	w.b = append(append(append(w.b, '"'), name...), `":`...)
	w.sep = true
}

// str appends a string member; omitEmpty leaves out "" (the tag's omitempty).
func (w *objectWriter) str(name, s string, omitEmpty bool) {
	if omitEmpty && s == "" {
		return
	}
	w.key(name)
	w.b = appendString(w.b, s)
}

// timeNamed appends a time member that errors name as field.
func (w *objectWriter) timeNamed(name, field string, t time.Time) {
	if w.err != nil {
		return
	}
	w.key(name)
	w.b, w.err = appendTime(w.b, t, field)
}

// appendTime appends t quoted as time.Time.MarshalJSON writes it, and fails
// where it fails: a year outside [0,9999] or a zone offset of 24 hours or
// more has no RFC 3339 form.
func appendTime(b []byte, t time.Time, field string) ([]byte, error) {
	b = append(b, '"')
	n0 := len(b)
	b = t.AppendFormat(b, time.RFC3339Nano)
	// The checks of time.Time.MarshalJSON, on what was written: the year
	// is exactly four digits; a zone offset's hours are two digits, below
	// 24.
	switch {
	case b[n0+len("9999")] != '-':
		return nil, fmt.Errorf("%s: %w", field, errTimeYear)
	case b[len(b)-1] != 'Z':
		c := b[len(b)-len("Z07:00")]
		h := 10*(b[len(b)-len("07:00")]-'0') + (b[len(b)-len("7:00")] - '0')
		if ('0' <= c && c <= '9') || h >= 24 {
			return nil, fmt.Errorf("%s: %w", field, errTimeZone)
		}
	}
	return append(b, '"'), nil
}

var (
	errTimeYear = errors.New("year outside of range [0,9999]")
	errTimeZone = errors.New("timezone hour outside of range [0,23]")
)

// encodeJSONEvent encodes ev as layout 5 stored it: the JSON json.Marshal
// writes for the event without its body (but for HTML escaping, which
// decodes the same), a NUL byte, then the body.
func encodeJSONEvent(ev *engine.Event) ([]byte, error) {
	w := objectWriter{}
	w.open()
	w.str("id", ev.ID, false)
	w.str("method", ev.Method, false)
	w.str("path", ev.Path, false)
	w.strings("headers", ev.Headers)
	w.strings("query", ev.Query)
	w.str("content_type", ev.ContentType, true)
	w.timeNamed("received_at", "received_at", ev.ReceivedAt)
	w.close()
	if w.err != nil {
		return nil, w.err
	}
	return append(append(w.b, 0), ev.Body...), nil
}
