package signature

import (
	"crypto/hmac"
	"crypto/sha512"
	"encoding/base64"
)

// candidates holds the decoded signatures one header carries, in fixed
// storage so that parsing a header does not allocate.
type candidates struct {
	n    int
	size int // MAC length every candidate must have
	mac  [maxSignaturesPerHeader][sha512.Size]byte
}

func newCandidates(size int) candidates { return candidates{size: size} }

// scratch allocates, once per Verify, room for a signed prefix of up to
// prefixLen bytes, a MAC of macSize bytes and a copy of the longest secret,
// so that the loop over secrets allocates only inside crypto/hmac (which
// copies the key into its pads, so the key room is reused for the next
// secret). Each returned slice is empty with its own capacity.
func scratch(prefixLen, macSize int, secrets []string) (prefix, mac, key []byte) {
	longest := 0
	for _, s := range secrets {
		longest = max(longest, len(s))
	}
	buf := make([]byte, prefixLen+macSize+longest)
	keyAt := prefixLen + macSize
	return buf[:0:prefixLen], buf[prefixLen:prefixLen:keyAt], buf[keyAt:keyAt]
}

// addHex decodes a hex MAC of exactly c.size bytes. It reports false for a
// wrong length, a non-hex character or a full set.
func (c *candidates) addHex(s string) bool {
	if len(s) != 2*c.size || c.n == maxSignaturesPerHeader {
		return false
	}
	dst := c.mac[c.n][:c.size]
	for i := range dst {
		hi, ok1 := unhex(s[2*i])
		lo, ok2 := unhex(s[2*i+1])
		if !ok1 || !ok2 {
			return false
		}
		dst[i] = hi<<4 | lo
	}
	c.n++
	return true
}

// addBase64 decodes a padded standard base64 MAC of exactly c.size bytes.
func (c *candidates) addBase64(s string) bool {
	if len(s) != base64.StdEncoding.EncodedLen(c.size) || c.n == maxSignaturesPerHeader {
		return false
	}
	var src [((sha512.Size + 2) / 3) * 4]byte // largest encoded MAC
	copy(src[:], s)
	var dst [sha512.Size + 3]byte
	n, err := base64.StdEncoding.Strict().Decode(dst[:], src[:len(s)])
	if err != nil || n != c.size {
		return false
	}
	copy(c.mac[c.n][:], dst[:n])
	c.n++
	return true
}

// match reports whether any candidate equals mac, comparing in constant time.
func (c *candidates) match(mac []byte) bool {
	found := false
	for i := 0; i < c.n; i++ {
		if hmac.Equal(c.mac[i][:c.size], mac) {
			found = true
		}
	}
	return found
}

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// appendHex appends the lower-case hex encoding of b.
func appendHex(dst, b []byte) []byte {
	const digits = "0123456789abcdef"
	for _, v := range b {
		dst = append(dst, digits[v>>4], digits[v&0x0f])
	}
	return dst
}
