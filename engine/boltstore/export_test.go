package boltstore

// SmallDedupeGenerations makes a store opened with opts freeze its dedupe
// log every flushAt keys and write chunks of chunk keys, so that a short
// test goes through flushes and merges.
func SmallDedupeGenerations(opts Options, flushAt, chunk int) Options {
	opts.dedupeFlushAt, opts.dedupeChunk = flushAt, chunk
	return opts
}
