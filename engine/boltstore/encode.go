package boltstore

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/hookflow/hookflow/engine"
)

// appendState appends the JSON of r's state (engine.Run without its Event)
// to b. It writes what json.Marshal writes for the run with its Event
// left out: the same names, the same fields omitted, strings escaped as
// encoding/json escapes them (but for <, > and &, which need no escaping),
// times as time.Time.MarshalJSON writes them. Steps, rare at enqueue and
// holding arbitrary values, go through json.Marshal. decodeRun reads the
// result with json.Unmarshal.
func appendState(b []byte, r *engine.Run) ([]byte, error) {
	// The steps first, so that b grows once, to hold them too.
	var steps []byte
	var err error
	n := stateSize(r)
	if len(r.Steps) > 0 {
		if steps, err = json.Marshal(r.Steps); err != nil {
			return nil, fmt.Errorf("steps: %w", err)
		}
		n += len(`,"steps":`) + len(steps)
	}
	b = slices.Grow(b, n)
	b = append(b, `{"id":`...)
	b = appendString(b, r.ID)
	b = append(b, `,"workflow":`...)
	b = appendString(b, r.Workflow)
	if r.WorkflowVersion != "" {
		b = append(b, `,"workflow_version":`...)
		b = appendString(b, r.WorkflowVersion)
	}
	b = append(b, `,"status":`...)
	b = appendString(b, string(r.Status))
	if r.DedupeKey != "" {
		b = append(b, `,"dedupe_key":`...)
		b = appendString(b, r.DedupeKey)
	}
	if !r.DedupeUntil.IsZero() {
		b = append(b, `,"dedupe_until":`...)
		if b, err = appendTime(b, r.DedupeUntil, "dedupe_until"); err != nil {
			return nil, err
		}
	}
	if r.ReplayOf != "" {
		b = append(b, `,"replay_of":`...)
		b = appendString(b, r.ReplayOf)
	}
	b = append(b, `,"created_at":`...)
	if b, err = appendTime(b, r.CreatedAt, "created_at"); err != nil {
		return nil, err
	}
	b = append(b, `,"updated_at":`...)
	if b, err = appendTime(b, r.UpdatedAt, "updated_at"); err != nil {
		return nil, err
	}
	if !r.StartedAt.IsZero() {
		b = append(b, `,"started_at":`...)
		if b, err = appendTime(b, r.StartedAt, "started_at"); err != nil {
			return nil, err
		}
	}
	if !r.FinishedAt.IsZero() {
		b = append(b, `,"finished_at":`...)
		if b, err = appendTime(b, r.FinishedAt, "finished_at"); err != nil {
			return nil, err
		}
	}
	if !r.DueAt.IsZero() {
		b = append(b, `,"due_at":`...)
		if b, err = appendTime(b, r.DueAt, "due_at"); err != nil {
			return nil, err
		}
	}
	// omitzero on Lease (no IsZero method) omits it when every field is
	// the zero value, as ==; a zero ExpiresAt in another location makes
	// it an empty object.
	if l := &r.Lease; *l != (engine.Lease{}) {
		b = append(b, `,"lease":{`...)
		sep := false
		if l.Owner != "" {
			b = append(b, `"owner":`...)
			b = appendString(b, l.Owner)
			sep = true
		}
		if l.Token != 0 {
			if sep {
				b = append(b, ',')
			}
			b = append(b, `"token":`...)
			b = strconv.AppendInt(b, l.Token, 10)
			sep = true
		}
		if !l.ExpiresAt.IsZero() {
			if sep {
				b = append(b, ',')
			}
			b = append(b, `"expires_at":`...)
			if b, err = appendTime(b, l.ExpiresAt, "lease.expires_at"); err != nil {
				return nil, err
			}
		}
		b = append(b, '}')
	}
	b = append(b, `,"claims":`...)
	b = strconv.AppendInt(b, int64(r.Claims), 10)
	if r.CancelRequested {
		b = append(b, `,"cancel_requested":true`...)
	}
	if steps != nil {
		b = append(b, `,"steps":`...)
		b = append(b, steps...)
	}
	if r.Error != "" {
		b = append(b, `,"error":`...)
		b = appendString(b, r.Error)
	}
	return append(b, '}'), nil
}

// stateSize is a close upper bound on the length of appendState's output
// for r without its steps, when its strings need no escaping.
func stateSize(r *engine.Run) int {
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

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string, escaped as encoding/json escapes
// it without HTML escaping: '"', '\\' and control characters escaped (\b,
// \f, \n, \r, \t, else \u00XX), invalid UTF-8 bytes as \ufffd, and U+2028
// and U+2029 (line terminators to JavaScript) as \u2028 and \u2029.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
