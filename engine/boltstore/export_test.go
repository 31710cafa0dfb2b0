package boltstore

import (
	"errors"

	"github.com/hookflow/hookflow/engine"
)

// SmallDedupeGenerations makes a store opened with opts freeze its dedupe
// log every flushAt keys and write chunks of chunk keys, so that a short
// test goes through flushes and merges.
func SmallDedupeGenerations(opts Options, flushAt, chunk int) Options {
	opts.dedupeFlushAt, opts.dedupeChunk = flushAt, chunk
	return opts
}

// Layout5Parts returns the state and the event of the run id, from its
// events value, as layout 5 stored them: the state's JSON, and the
// event's JSON, a NUL byte and its body.
func Layout5Parts(id string, v []byte) (state, event []byte, err error) {
	st, _, _, _, ok := splitEventValue(v)
	if !ok {
		return nil, nil, errors.New("events value does not split")
	}
	if state, err = JSONState(id, st); err != nil {
		return nil, nil, err
	}
	r := &engine.Run{ID: id}
	if err := withEventValue(v, r); err != nil {
		return nil, nil, err
	}
	event, err = encodeJSONEvent(&r.Event)
	return state, event, err
}

// JSONState returns the state of the run id as layout 5 stored it (JSON),
// from a runs value or the state part of an events value of this layout.
func JSONState(id string, v []byte) ([]byte, error) {
	r, err := decodeRun(id, v)
	if err != nil {
		return nil, err
	}
	r.ID = id
	return appendJSONState(nil, r)
}
