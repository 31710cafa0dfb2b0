package boltstore

// bloom is a Bloom filter over dedupe keys: one per sorted dedupe segment,
// kept in memory and stored with the segment's meta entry. It answers "not
// in this segment" for almost every key that is not, so a lookup reads only
// the segments that may hold the key.
//
// bloomBitsPerKey bits a key and bloomProbes probes give about 0.8% false
// positives. The hash is FNV-1a: stable across processes and builds,
// because the bits are stored in the file.
type bloom []byte

const (
	bloomBitsPerKey = 10
	bloomProbes     = 7
)

// newBloom returns an empty filter sized for n keys.
func newBloom(n int) bloom {
	bits := max(64, n*bloomBitsPerKey)
	return make(bloom, (bits+7)/8)
}

// bloomHash is FNV-1a 64 of k.
func bloomHash(k string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(k); i++ {
		h ^= uint64(k[i])
		h *= 1099511628211
	}
	return h
}

// add sets h's bits. Double hashing: probe i is h1 + i·h2 (h2 odd).
func (b bloom) add(h uint64) {
	m := uint64(len(b)) * 8
	h1, h2 := h&0xffffffff, h>>32|1
	for i := range uint64(bloomProbes) {
		bit := (h1 + i*h2) % m
		b[bit/8] |= 1 << (bit % 8)
	}
}

// has reports whether h may have been added (false: certainly not).
func (b bloom) has(h uint64) bool {
	m := uint64(len(b)) * 8
	if m == 0 {
		return false
	}
	h1, h2 := h&0xffffffff, h>>32|1
	for i := range uint64(bloomProbes) {
		bit := (h1 + i*h2) % m
		if b[bit/8]&(1<<(bit%8)) == 0 {
			return false
		}
	}
	return true
}
