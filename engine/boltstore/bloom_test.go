package boltstore

import (
	"fmt"
	"testing"
)

// TestBloom: every added key is found, and keys never added are mostly
// not: the filter is what keeps a lookup from reading every segment.
func TestBloom(t *testing.T) {
	const n = 10000
	b := newBloom(n)
	for i := range n {
		b.add(bloomHash(fmt.Sprintf("w\x00evt_%d", i)))
	}
	for i := range n {
		if !b.has(bloomHash(fmt.Sprintf("w\x00evt_%d", i))) {
			t.Fatalf("key %d was added and is not found", i)
		}
	}
	hits := 0
	const others = 100000
	for i := range others {
		if b.has(bloomHash(fmt.Sprintf("w\x00other_%d", i))) {
			hits++
		}
	}
	// 10 bits and 7 probes a key: about 0.8% in theory.
	if rate := float64(hits) / others; rate > 0.02 {
		t.Errorf("false positives %.2f%%, want about 0.8%%", 100*rate)
	}
	if newBloom(0).has(bloomHash("x")) {
		t.Error("an empty filter finds a key")
	}
}
