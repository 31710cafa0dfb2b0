package boltstore

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"github.com/hookflow/hookflow/engine"
)

// A run's event is written once, at enqueue, in the events bucket, with
// the state the run was enqueued with (eventValue):
//
//	layout 6  stateTag ‖ uvarint(len(state)) ‖ state ‖ uvarint(len(meta)) ‖ meta ‖ raw body
//	layout 5  0x01 ‖ JSON state ‖ 0x00 ‖ JSON meta ‖ 0x00 ‖ raw body
//	layout 4  JSON meta ‖ 0x00 ‖ raw body
//
// All three read. The state is appendState's binary form; the meta is the
// event without its body:
//
//	meta  = uvarint(fields) ‖ [str(id)] ‖ str(method) ‖ str(path) ‖ pairs(headers)
//	        ‖ [pairs(query)] ‖ [str(content_type)] ‖ varint(Unix seconds) ‖ uvarint(nanoseconds) of received_at
//	pairs = uvarint(n) ‖ n × (str(name) ‖ str(value))
//
// The id is left out when it is the run's (evRunID). The body is stored as
// it came, after the rest: no encoding on the webhook path.

// jsonStateMark starts a layout 5 events value: the state is JSON.
const jsonStateMark = 0x01

// Bits of an event's meta fields.
const (
	evRunID uint64 = 1 << iota // the event's id is the run's: not stored
	evQuery
	evContentType
)

// eventValue is the events bucket's value of the new run r: its state
// (appendState) and its event, encoded into one buffer.
func eventValue(r *engine.Run) ([]byte, error) {
	ev := &r.Event
	n := 2*len(lengthRoom) + 1 + stateSize(r) + 32 + len(ev.Method) + len(ev.Path) + len(ev.ContentType) + len(ev.Body)
	if ev.ID != r.ID {
		n += len(ev.ID) + 2
	}
	for k, v := range ev.Headers {
		n += 4 + len(k) + len(v)
	}
	for k, v := range ev.Query {
		n += 4 + len(k) + len(v)
	}
	b, at := openSized(append(make([]byte, 0, n), stateTag))
	b, err := appendState(b, r)
	if err != nil {
		return nil, fmt.Errorf("boltstore: encode run %s: %w", r.ID, err)
	}
	b, at = openSized(closeSized(b, at))
	b = closeSized(appendEventMeta(b, ev, r.ID), at)
	return append(b, ev.Body...), nil
}

func appendEventMeta(b []byte, ev *engine.Event, runID string) []byte {
	fields := flag(evRunID, ev.ID == runID) | flag(evQuery, len(ev.Query) > 0) | flag(evContentType, ev.ContentType != "")
	b = binary.AppendUvarint(b, fields)
	if fields&evRunID == 0 {
		b = appendStr(b, ev.ID)
	}
	b = appendStr(b, ev.Method)
	b = appendStr(b, ev.Path)
	b = appendPairs(b, ev.Headers)
	if fields&evQuery != 0 {
		b = appendPairs(b, ev.Query)
	}
	if fields&evContentType != 0 {
		b = appendStr(b, ev.ContentType)
	}
	b = binary.AppendVarint(b, ev.ReceivedAt.Unix())
	return binary.AppendUvarint(b, uint64(ev.ReceivedAt.Nanosecond()))
}

func appendPairs(b []byte, m map[string]string) []byte {
	b = binary.AppendUvarint(b, uint64(len(m)))
	for k, v := range m {
		b = appendStr(appendStr(b, k), v)
	}
	return b
}

// decodeBinaryEventMeta reads the meta appendEventMeta wrote for the run runID.
func decodeBinaryEventMeta(runID string, meta []byte) (engine.Event, error) {
	p := &stateReader{b: meta}
	var ev engine.Event
	fields := p.uvarint("fields")
	if fields&evRunID != 0 {
		ev.ID = runID
	} else {
		ev.ID = p.str("id")
	}
	ev.Method = p.str("method")
	ev.Path = p.str("path")
	ev.Headers = p.pairs("headers")
	if fields&evQuery != 0 {
		if ev.Query = p.pairs("query"); ev.Query == nil {
			p.fail("query")
		}
	}
	if fields&evContentType != 0 {
		ev.ContentType = p.str("content_type")
	}
	ev.ReceivedAt = p.nanos(p.varint("received_at"), "received_at")
	p.end(fields, evContentType)
	return ev, p.err
}

// pairs reads a map appendPairs wrote: nil when empty.
func (p *stateReader) pairs(what string) map[string]string {
	n := p.count(what)
	if n == 0 || p.err != nil {
		return nil
	}
	m := make(map[string]string, n)
	for range n {
		k := p.str(what)
		m[k] = p.str(what)
	}
	if len(m) != n && p.err == nil {
		p.fail(what + ": a name twice")
	}
	return m
}

// splitEventValue returns the parts of an events value: the state at
// enqueue (nil in a layout 4 value), the event's meta and its body, and
// whether they are layout 6's binary forms.
func splitEventValue(v []byte) (state, meta, body []byte, binaryForm, ok bool) {
	switch {
	case len(v) > 0 && v[0] == stateTag:
		p := &stateReader{b: v[1:]}
		state = p.bytes(p.uvarint("state"), "state")
		meta = p.bytes(p.uvarint("meta"), "meta")
		if p.err != nil {
			return nil, nil, nil, false, false
		}
		return state, meta, p.b, true, true
	case len(v) > 0 && v[0] == jsonStateMark:
		if state, v, ok = bytes.Cut(v[1:], []byte{0}); !ok {
			return nil, nil, nil, false, false
		}
	}
	meta, body, ok = bytes.Cut(v, []byte{0})
	return state, meta, body, false, ok
}

// withEvent reads r's event from the events bucket into r.Event.
func withEvent(events *bolt.Bucket, r *engine.Run) error {
	v := events.Get([]byte(r.ID))
	if v == nil {
		return fmt.Errorf("boltstore: run %s: its event is missing", r.ID)
	}
	return withEventValue(v, r)
}

// withEventValue reads r's event from its events value v.
func withEventValue(v []byte, r *engine.Run) error {
	_, meta, body, binaryForm, ok := splitEventValue(v)
	if !ok {
		return fmt.Errorf("boltstore: run %s: corrupt event: its parts do not split", r.ID)
	}
	var ev engine.Event
	switch {
	case binaryForm:
		var err error
		if ev, err = decodeBinaryEventMeta(r.ID, meta); err != nil {
			return fmt.Errorf("boltstore: run %s: corrupt event: %w", r.ID, err)
		}
	case !decodeEventMeta(meta, &ev):
		ev = engine.Event{}
		if err := json.Unmarshal(meta, &ev); err != nil {
			return fmt.Errorf("boltstore: run %s: corrupt event: %w", r.ID, err)
		}
	}
	r.Event = ev
	if len(body) > 0 {
		r.Event.Body = bytes.Clone(body) // bbolt's bytes live only as long as the transaction
	}
	return nil
}
