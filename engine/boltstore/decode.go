package boltstore

import (
	"strconv"
	"time"

	"github.com/hookflow/hookflow/engine"
	"github.com/hookflow/hookflow/internal/jsonany"
)

// Layouts 2 to 5 stored a run's state and its event's meta as JSON; layout
// 6 reads them still (its own binary forms are in state.go and event.go).
// A run that waited in the queue is read back at its claim, so a deep
// backlog of an older file decodes one of each per run it drains;
// json.Unmarshal's reflection was a tenth of the CPU there. decodeState and
// decodeEventMeta read the JSON layout 5 wrote (appendJSONState and
// encodeJSONEvent in the tests write it again), by hand, and nothing else:
// a member they do not expect, a repeated member, a null or a number in
// another form makes them give up (ok false), and the caller hands the
// document to json.Unmarshal, which has the last word. FuzzDecodeState and
// FuzzDecodeEventMeta check that whatever they do read, they read as
// json.Unmarshal does. Step outputs and attempt details are JSON in every
// layout; readValues reads them in the binary state too.

// decodeState reads a run's state as appendState writes it.
func decodeState(v []byte) (*engine.Run, bool) {
	p := jsonany.NewReader(v)
	r := &engine.Run{}
	ok := readMembers(p, func(name []byte) (bit uint32, ok bool) {
		switch string(name) {
		case "id":
			return 1 << 0, readString(p, &r.ID)
		case "workflow":
			return 1 << 1, readString(p, &r.Workflow)
		case "workflow_version":
			return 1 << 2, readString(p, &r.WorkflowVersion)
		case "status":
			return 1 << 3, readString(p, (*string)(&r.Status))
		case "dedupe_key":
			return 1 << 4, readString(p, &r.DedupeKey)
		case "dedupe_until":
			return 1 << 5, readTime(p, &r.DedupeUntil)
		case "replay_of":
			return 1 << 6, readString(p, &r.ReplayOf)
		case "created_at":
			return 1 << 7, readTime(p, &r.CreatedAt)
		case "updated_at":
			return 1 << 8, readTime(p, &r.UpdatedAt)
		case "started_at":
			return 1 << 9, readTime(p, &r.StartedAt)
		case "finished_at":
			return 1 << 10, readTime(p, &r.FinishedAt)
		case "due_at":
			return 1 << 11, readTime(p, &r.DueAt)
		case "lease":
			return 1 << 12, readLease(p, &r.Lease)
		case "claims":
			n, ok := p.Int(strconv.IntSize)
			r.Claims = int(n)
			return 1 << 13, ok
		case "cancel_requested":
			b, ok := p.Bool()
			r.CancelRequested = b
			return 1 << 14, ok
		case "steps":
			return 1 << 15, readSteps(p, &r.Steps)
		case "error":
			return 1 << 16, readString(p, &r.Error)
		}
		return 0, false
	})
	if !ok || !p.End() {
		return nil, false
	}
	return r, true
}

// readMembers reads an object, calling member for each member's name with the
// reader at its value; member reads the value and says which bit stands
// for the name. An unknown name (bit 0) or a repeated one stops it.
func readMembers(p *jsonany.Reader, member func(name []byte) (bit uint32, ok bool)) bool {
	var seen uint32
	// A name with an escape is not one appendState writes: RawKey refuses it.
	return eachMember(p, p.RawKey, func(name []byte) bool {
		bit, ok := member(name)
		if !ok || bit == 0 || seen&bit != 0 {
			return false
		}
		seen |= bit
		return true
	})
}

// eachMember reads an object, each member's name with key and its value
// with member.
func eachMember[K any](p *jsonany.Reader, key func() (K, bool), member func(K) bool) bool {
	empty, ok := p.Open('{')
	if !ok {
		return false
	}
	for !empty {
		k, ok := key()
		if !ok || !member(k) {
			return false
		}
		if empty, ok = p.After('}'); !ok {
			return false
		}
	}
	return true
}

func readString(p *jsonany.Reader, dst *string) bool {
	s, ok := p.String()
	*dst = s
	return ok
}

// readTime reads a time as json.Unmarshal does: time.Time's UnmarshalJSON
// parses the bytes between the quotes, escapes and all, as UnmarshalText
// does (a string with an escape is left to json.Unmarshal).
func readTime(p *jsonany.Reader, dst *time.Time) bool {
	raw, ok := p.RawString()
	return ok && dst.UnmarshalText(raw) == nil
}

func readLease(p *jsonany.Reader, l *engine.Lease) bool {
	return readMembers(p, func(name []byte) (uint32, bool) {
		switch string(name) {
		case "owner":
			return 1 << 0, readString(p, &l.Owner)
		case "token":
			n, ok := p.Int(64)
			l.Token = n
			return 1 << 1, ok
		case "expires_at":
			return 1 << 2, readTime(p, &l.ExpiresAt)
		}
		return 0, false
	})
}

// Depths of the maps inside a state, for encoding/json's nesting limit:
// the state is 1, steps 2, a step 3, its outputs 4, attempts 4, an
// attempt 5, its details 6.
const (
	stepDepth    = 3
	attemptDepth = 5
)

// readArray reads an array, each element with elem.
func readArray[T any](p *jsonany.Reader, dst *[]T, elem func(*T) bool) bool {
	empty, ok := p.Open('[')
	if !ok {
		return false
	}
	list := []T{} // [] is an empty slice, not nil, as in encoding/json
	for !empty {
		var v T
		if !elem(&v) {
			return false
		}
		list = append(list, v)
		if empty, ok = p.After(']'); !ok {
			return false
		}
	}
	*dst = list
	return true
}

func readSteps(p *jsonany.Reader, dst *[]engine.StepRecord) bool {
	return readArray(p, dst, func(st *engine.StepRecord) bool {
		return readMembers(p, func(name []byte) (uint32, bool) {
			switch string(name) {
			case "id":
				return 1 << 0, readString(p, &st.ID)
			case "uses":
				return 1 << 1, readString(p, &st.Uses)
			case "status":
				return 1 << 2, readString(p, (*string)(&st.Status))
			case "outputs":
				return 1 << 3, readValues(p, stepDepth, &st.Outputs)
			case "attempts":
				return 1 << 4, readAttempts(p, &st.Attempts)
			case "error":
				return 1 << 5, readString(p, &st.Error)
			}
			return 0, false
		})
	})
}

func readAttempts(p *jsonany.Reader, dst *[]engine.Attempt) bool {
	return readArray(p, dst, func(a *engine.Attempt) bool {
		return readMembers(p, func(name []byte) (uint32, bool) {
			switch string(name) {
			case "number":
				n, ok := p.Int(strconv.IntSize)
				a.Number = int(n)
				return 1 << 0, ok
			case "started_at":
				return 1 << 1, readTime(p, &a.StartedAt)
			case "duration_ms":
				f, ok := p.Float()
				a.DurationMS = f
				return 1 << 2, ok
			case "outcome":
				return 1 << 3, readString(p, &a.Outcome)
			case "error":
				return 1 << 4, readString(p, &a.Error)
			case "details":
				return 1 << 5, readValues(p, attemptDepth, &a.Details)
			}
			return 0, false
		})
	})
}

// readValues reads an object of any values at depth (that of the object
// holding it).
func readValues(p *jsonany.Reader, depth int, dst *map[string]any) bool {
	if p.Next() != '{' {
		return false
	}
	v, ok := p.Value(depth)
	*dst, _ = v.(map[string]any)
	return ok
}

// decodeEventMeta reads an event's JSON (without its body) as layout 5
// wrote it, into ev.
func decodeEventMeta(v []byte, ev *engine.Event) bool {
	p := jsonany.NewReader(v)
	ok := readMembers(p, func(name []byte) (uint32, bool) {
		switch string(name) {
		case "id":
			return 1 << 0, readString(p, &ev.ID)
		case "method":
			return 1 << 1, readString(p, &ev.Method)
		case "path":
			return 1 << 2, readString(p, &ev.Path)
		case "headers":
			return 1 << 3, readStrings(p, &ev.Headers)
		case "query":
			return 1 << 4, readStrings(p, &ev.Query)
		case "content_type":
			return 1 << 5, readString(p, &ev.ContentType)
		case "received_at":
			return 1 << 6, readTime(p, &ev.ReceivedAt)
		}
		return 0, false
	})
	return ok && p.End()
}

// readStrings reads an object of strings (a repeated name: the last wins, as
// in encoding/json).
func readStrings(p *jsonany.Reader, dst *map[string]string) bool {
	m := map[string]string{}
	ok := eachMember(p, p.Key, func(k string) bool {
		v, ok := p.String()
		m[k] = v
		return ok
	})
	if ok {
		*dst = m
	}
	return ok
}
