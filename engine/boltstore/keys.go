package boltstore

import (
	"bytes"
	"encoding/binary"
	"time"
)

// Bucket names. The layout is described in doc.go.
var (
	bucketMeta    = []byte("meta")
	bucketRuns    = []byte("runs")
	bucketQueue   = []byte("queue")
	bucketCreated = []byte("created")
	bucketEvents  = []byte("events")

	allBuckets = [][]byte{bucketMeta, bucketRuns, bucketQueue,
		bucketCreated, bucketEvents, bucketDedupeLog, bucketDedupeSegs, bucketDedupeMeta}

	// bucketLeases held the leases in layout 2; upgradeFrom2 removes it.
	bucketLeases = []byte("leases")
	// bucketFinished indexed final runs by finish time up to layout 4;
	// upgradeFrom4 folds it into the created index and removes it.
	bucketFinished = []byte("finished")

	metaVersion = []byte("version")
	// layoutVersion is bumped when the bucket layout or the run encoding
	// changes incompatibly.
	layoutVersion = []byte("6")
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

// createdValue is a created index entry's value: the run's workflow, and
// for a final run a NUL byte and the time it finished (workflow names never
// contain a NUL byte). Purge reads the finish time here, without decoding
// the run.
func createdValue(workflow string, finishedAt time.Time) []byte {
	if finishedAt.IsZero() {
		return []byte(workflow)
	}
	b := make([]byte, len(workflow)+1+timeLen)
	n := copy(b, workflow)
	putTime(b[n+1:], finishedAt)
	return b
}

// splitCreatedValue returns the workflow of a created index value and, for
// a final run, when it finished (zero otherwise).
func splitCreatedValue(v []byte) (workflow []byte, finishedAt time.Time, ok bool) {
	i := bytes.IndexByte(v, 0)
	if i < 0 {
		return v, time.Time{}, true
	}
	if len(v)-i-1 != timeLen {
		return nil, time.Time{}, false
	}
	return v[:i], getTime(v[i+1:]), true
}
