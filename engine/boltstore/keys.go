package boltstore

import (
	"encoding/binary"
	"time"
)

// Bucket names. The layout is described in doc.go.
var (
	bucketMeta     = []byte("meta")
	bucketRuns     = []byte("runs")
	bucketQueue    = []byte("queue")
	bucketFinished = []byte("finished")
	bucketCreated  = []byte("created")
	bucketEvents   = []byte("events")

	allBuckets = [][]byte{bucketMeta, bucketRuns, bucketQueue, bucketFinished,
		bucketCreated, bucketEvents, bucketDedupeLog, bucketDedupeSegs, bucketDedupeMeta}

	// bucketLeases held the leases in layout 2; upgradeFrom2 removes it.
	bucketLeases = []byte("leases")

	metaVersion = []byte("version")
	// layoutVersion is bumped when the bucket layout or the run encoding
	// changes incompatibly.
	layoutVersion = []byte("4")
)

// timeLen is the size of an encoded time: 8 bytes of Unix seconds with the
// sign bit flipped (so that byte order is time order, also before 1970) and
// 4 bytes of nanoseconds, both big-endian. It covers every time.Time.
const timeLen = 12

func putTime(b []byte, t time.Time) {
	binary.BigEndian.PutUint64(b, uint64(t.Unix())^(1<<63))
	binary.BigEndian.PutUint32(b[8:], uint32(t.Nanosecond()))
}

func getTime(b []byte) time.Time {
	sec := int64(binary.BigEndian.Uint64(b) ^ (1 << 63))
	return time.Unix(sec, int64(binary.BigEndian.Uint32(b[8:]))).UTC()
}

// timePrefix is the encoded time alone: a Seek target.
func timePrefix(t time.Time) []byte {
	b := make([]byte, timeLen)
	putTime(b, t)
	return b
}

// timeKey is an index key: the time, then the rest (a run id or a dedupe
// key), so that a cursor walks the index in time order.
func timeKey(t time.Time, rest string) []byte {
	b := make([]byte, timeLen+len(rest))
	putTime(b, t)
	copy(b[timeLen:], rest)
	return b
}

// splitTimeKey returns the time and the rest of an index key.
func splitTimeKey(k []byte) (time.Time, string, bool) {
	if len(k) < timeLen {
		return time.Time{}, "", false
	}
	return getTime(k), string(k[timeLen:]), true
}

// dedupeKey is the key of the dedupe index: workflow names never contain
// a NUL byte (Enqueue checks), so the pair is unambiguous.
func dedupeKey(workflow, key string) string { return workflow + "\x00" + key }

// dedupeValue is a dedupe segment's value: the window's end, then the id of
// the run that holds the key.
func dedupeValue(until time.Time, id string) []byte { return timeKey(until, id) }
