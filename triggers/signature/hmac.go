package signature

import (
	"cmp"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"fmt"
	"hash"
	"net/textproto"
	"strconv"
	"strings"
	"time"
)

// hmacScheme is the generic scheme: one configured header carrying
// prefix + encode(HMAC-<algorithm>(secret, body)). The header may carry
// several such values separated by commas or spaces (any one matching
// passes). No timestamp, no delivery id.
type hmacScheme struct {
	header    string // canonical MIME form
	algorithm string
	newHash   func() hash.Hash
	size      int
	base64    bool
	prefix    string
}

func newHMACScheme(opts Options) (Scheme, error) {
	if opts.Header == "" {
		return nil, fmt.Errorf("signature: hmac: option header is required")
	}
	if !isToken(opts.Header) {
		return nil, fmt.Errorf("signature: hmac: option header %q is not a valid header name", opts.Header)
	}
	s := hmacScheme{header: textproto.CanonicalMIMEHeaderKey(opts.Header), prefix: opts.Prefix}
	s.algorithm = strings.ToLower(cmp.Or(opts.Algorithm, "sha256"))
	switch s.algorithm {
	case "sha1":
		s.newHash, s.size = sha1.New, sha1.Size
	case "sha256":
		s.newHash, s.size = sha256.New, sha256.Size
	case "sha512":
		s.newHash, s.size = sha512.New, sha512.Size
	default:
		return nil, fmt.Errorf("signature: hmac: option algorithm %q is not one of sha1, sha256, sha512", opts.Algorithm)
	}
	switch strings.ToLower(cmp.Or(opts.Encoding, "hex")) {
	case "hex":
	case "base64":
		s.base64 = true
	default:
		return nil, fmt.Errorf("signature: hmac: option encoding %q is not one of hex, base64", opts.Encoding)
	}
	if strings.ContainsAny(opts.Prefix, ", \t") {
		return nil, fmt.Errorf("signature: hmac: option prefix must not contain a comma or white space")
	}
	for i := 0; i < len(opts.Prefix); i++ {
		if c := opts.Prefix[i]; c < 0x20 || c == 0x7f {
			return nil, fmt.Errorf("signature: hmac: option prefix must not contain a control character")
		}
	}
	return s, nil
}

// isToken reports whether s is an RFC 9110 token (a valid header name).
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}

func (hmacScheme) Name() string { return "hmac" }

func (s hmacScheme) Verify(req Request, secrets []string, _ time.Time) error {
	if err := requireSecrets("hmac", secrets); err != nil {
		return err
	}
	v := req.header(s.header)
	if v == "" {
		return missing("hmac", s.header)
	}
	sigs := newCandidates(s.size)
	if err := s.parseHeader(v, &sigs); err != nil {
		return err
	}
	_, mac, key := scratch(0, s.size, secrets)
	for _, secret := range secrets {
		m := hmac.New(s.newHash, append(key[:0], secret...))
		m.Write(req.Body)
		if sigs.match(m.Sum(mac)) {
			return nil
		}
	}
	return mismatch("hmac", s.header, len(secrets))
}

// parseHeader reads a comma- or space-separated list of prefixed, encoded
// MACs. The prefix is matched without regard to case.
func (s hmacScheme) parseHeader(v string, sigs *candidates) error {
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
		if len(entry) < len(s.prefix) || !strings.EqualFold(entry[:len(s.prefix)], s.prefix) {
			return malformed("hmac", "a value of "+s.header+" lacks the configured prefix")
		}
		entry = entry[len(s.prefix):]
		if sigs.n == maxSignaturesPerHeader {
			return malformed("hmac", s.header+" carries more than "+strconv.Itoa(maxSignaturesPerHeader)+" signatures")
		}
		ok := false
		if s.base64 {
			ok = sigs.addBase64(entry)
		} else {
			ok = sigs.addHex(entry)
		}
		if !ok {
			return malformed("hmac", "a value of "+s.header+" is not a "+s.encodingName()+" HMAC-"+strings.ToUpper(s.algorithm))
		}
	}
	if sigs.n == 0 {
		return malformed("hmac", s.header+" has no signature")
	}
	return nil
}

func (s hmacScheme) encodingName() string {
	if s.base64 {
		return "base64"
	}
	return "hex"
}

func (s hmacScheme) Sign(msg Message, secret string) (map[string]string, error) {
	if err := requireSigningSecret("hmac", secret); err != nil {
		return nil, err
	}
	m := hmac.New(s.newHash, []byte(secret))
	m.Write(msg.Body)
	mac := m.Sum(nil)
	var v string
	if s.base64 {
		v = s.prefix + base64.StdEncoding.EncodeToString(mac)
	} else {
		v = string(appendHex(append([]byte(nil), s.prefix...), mac))
	}
	return map[string]string{s.header: v}, nil
}

func (hmacScheme) DeliveryID(Request) string { return "" }

func (hmacScheme) checkSecrets(secrets []string) error { return requireSecrets("hmac", secrets) }

var _ Scheme = hmacScheme{}
var _ secretChecker = hmacScheme{}
