package signature

import (
	"crypto/hmac"
	"crypto/sha512"
	"encoding/base64"
	"fmt"
	"hash"
	"strconv"
	"strings"
	"time"
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

// macHeader is the format of a header whose value is prefix + encode(MAC):
// exactly one such value (github, shopify, slack, twilio), or a list of them
// (the hmac scheme).
type macHeader struct {
	scheme    string // names the scheme in errors
	header    string // canonical MIME form
	algorithm string // sha1 | sha256 | sha512, named in errors
	size      int    // MAC length in bytes
	base64    bool   // padded standard base64; hex otherwise
	prefix    string // before each encoded MAC, e.g. "sha256="
	// list: the value is a comma- or space-separated list of MACs and the
	// prefix is matched without regard to case. Otherwise the value is one
	// MAC after the prefix exactly.
	list bool
}

// parseHeader reads the MACs a value v of h carries into sigs.
func (h macHeader) parseHeader(v string, sigs *candidates) error {
	if !h.list {
		enc, ok := strings.CutPrefix(v, h.prefix)
		if !ok {
			return malformed(h.scheme, h.header+" does not start with "+h.prefix)
		}
		if !h.add(sigs, enc) {
			if h.base64 {
				return malformed(h.scheme, h.header+" is not a "+h.describe())
			}
			return malformed(h.scheme, "signature in "+h.header+" is not "+strconv.Itoa(2*h.size)+" hex digits")
		}
		return nil
	}
	for rest := v; rest != ""; {
		var entry string
		if i := strings.IndexAny(rest, ", \t"); i >= 0 {
			entry, rest = rest[:i], rest[i+1:]
		} else {
			entry, rest = rest, ""
		}
		if entry == "" {
			continue
		}
		if len(entry) < len(h.prefix) || !strings.EqualFold(entry[:len(h.prefix)], h.prefix) {
			return malformed(h.scheme, "a value of "+h.header+" lacks the configured prefix")
		}
		entry = entry[len(h.prefix):]
		if sigs.n == maxSignaturesPerHeader {
			return malformed(h.scheme, h.header+" carries more than "+strconv.Itoa(maxSignaturesPerHeader)+" signatures")
		}
		if !h.add(sigs, entry) {
			return malformed(h.scheme, "a value of "+h.header+" is not a "+h.describe())
		}
	}
	if sigs.n == 0 {
		return malformed(h.scheme, h.header+" has no signature")
	}
	return nil
}

func (h macHeader) add(sigs *candidates, enc string) bool {
	if h.base64 {
		return sigs.addBase64(enc)
	}
	return sigs.addHex(enc)
}

// describe names the expected value, e.g. "base64 HMAC-SHA256".
func (h macHeader) describe() string {
	enc := "hex"
	if h.base64 {
		enc = "base64"
	}
	return enc + " HMAC-" + strings.ToUpper(h.algorithm)
}

// value returns the header value that carries mac.
func (h macHeader) value(mac []byte) string {
	var room [32 + 2*sha512.Size]byte // a short prefix and any MAC, on the stack
	v := append(room[:0], h.prefix...)
	if h.base64 {
		return string(base64.StdEncoding.AppendEncode(v, mac))
	}
	return string(appendHex(v, mac))
}

// macSpec is how a scheme computes its HMAC: over a signed prefix (empty
// for the body-only schemes) followed by the body, keyed with each secret.
// Its verify is the tail Verify shares in every HMAC scheme but twilio.
type macSpec struct {
	scheme  string
	header  string // the signature header, named on a mismatch
	newHash func() hash.Hash
	// whsecKey: the key is the base64 after the secret's whsec_ prefix
	// (standard, see standardKey); otherwise the secret as-is.
	whsecKey bool
}

// verify passes when the MAC of signed... followed by body, under any of
// secrets, is among sigs. With whsecKey, every secret must be usable,
// whichever one matches: a broken secret is reported on every request, not
// only when the others fail.
func (s macSpec) verify(sigs *candidates, secrets []string, body []byte, signed ...string) error {
	n := 0
	for _, p := range signed {
		n += len(p)
	}
	prefix, mac, keyRoom := scratch(n, sigs.size, secrets)
	for _, p := range signed {
		prefix = append(prefix, p...)
	}
	if s.whsecKey {
		// A decoded key is shorter than its secret, so it fits the key room.
		if err := s.checkKeys(keyRoom, secrets); err != nil {
			return err
		}
	}
	for _, secret := range secrets {
		var key []byte
		if s.whsecKey {
			key, _ = standardKey(keyRoom, secret) // checked above
		} else {
			key = append(keyRoom[:0], secret...)
		}
		m := hmac.New(s.newHash, key)
		m.Write(prefix)
		m.Write(body)
		if sigs.match(m.Sum(mac)) {
			return nil
		}
	}
	return mismatch(s.scheme, s.header, len(secrets))
}

// verifyAt is verify for the timestamped schemes (stripe, slack, standard):
// the signed timestamp ts must be inside the replay window first, so a
// stale request reports ErrStale before any MAC is computed.
func (s macSpec) verifyAt(ts int64, now time.Time, tolerance time.Duration, sigs *candidates, secrets []string, body []byte, signed ...string) error {
	if err := checkWindow(s.scheme, ts, now, tolerance); err != nil {
		return err
	}
	return s.verify(sigs, secrets, body, signed...)
}

// checkKeys reports the first secret that is not a whsec_ key; room is where
// keys are decoded.
func (s macSpec) checkKeys(room []byte, secrets []string) error {
	for i, secret := range secrets {
		if _, err := standardKey(room, secret); err != nil {
			return fmt.Errorf("%s: %w: secret %d of %d %s", s.scheme, ErrSecret, i+1, len(secrets), err.Error())
		}
	}
	return nil
}

// sum returns the MAC of signed... followed by body under key, for Sign.
func (s macSpec) sum(key, body []byte, signed ...string) []byte {
	n := 0
	for _, p := range signed {
		n += len(p)
	}
	prefix := make([]byte, 0, n)
	for _, p := range signed {
		prefix = append(prefix, p...)
	}
	m := hmac.New(s.newHash, key)
	m.Write(prefix)
	m.Write(body)
	return m.Sum(nil)
}
