package boltstore

// SmallDedupeGenerations makes a store opened with opts freeze its dedupe
// log every flushAt keys and write chunks of chunk keys, so that a short
// test goes through flushes and merges.
func SmallDedupeGenerations(opts Options, flushAt, chunk int) Options {
	opts.dedupeFlushAt, opts.dedupeChunk = flushAt, chunk
	return opts
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

// SplitEventValue returns the state (as this layout stores it) and the
// event (its JSON, a NUL byte and the body) of an events value.
func SplitEventValue(v []byte) (state, event []byte, ok bool) {
	state, meta, body, ok := splitEventValue(v)
	if !ok {
		return nil, nil, false
	}
	return state, append(append(append([]byte(nil), meta...), 0), body...), true
}
