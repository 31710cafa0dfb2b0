package signature

import (
	"cmp"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"fmt"
	"hash"
	"net/textproto"
	"strings"
	"time"
)

// hmacScheme signs the body alone: one header carrying
// prefix + encode(HMAC(secret, body)), the secret being the key as-is, and
// no timestamp. github and shopify are fixed instances of it; scheme hmac is
// the one configured by Options, whose header may carry several values
// separated by commas or spaces (any one matching passes) and which has no
// delivery id.
type hmacScheme struct {
	macHeader
	newHash func() hash.Hash
	// idHeader carries the delivery id: read by DeliveryID, set by Sign
	// from Message.ID when not empty. "" for none.
	idHeader string
}

func newHMACScheme(opts Options) (Scheme, error) {
	if opts.Header == "" {
		return nil, fmt.Errorf("signature: hmac: option header is required")
	}
	if !isToken(opts.Header) {
		return nil, fmt.Errorf("signature: hmac: option header %q is not a valid header name", opts.Header)
	}
	s := hmacScheme{macHeader: macHeader{
		scheme: "hmac",
		header: textproto.CanonicalMIMEHeaderKey(opts.Header),
		prefix: opts.Prefix,
		list:   true,
	}}
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

func (s hmacScheme) Name() string { return s.scheme }

func (s hmacScheme) Verify(req Request, secrets []string, _ time.Time) error {
	if err := requireSecrets(s.scheme, secrets); err != nil {
		return err
	}
	v := req.header(s.header)
	if v == "" {
		return missing(s.scheme, s.header)
	}
	sigs := newCandidates(s.size)
	if err := s.parseHeader(v, &sigs); err != nil {
		return err
	}
	return s.mac().verify(&sigs, secrets, req.Body)
}

func (s hmacScheme) mac() macSpec {
	return macSpec{scheme: s.scheme, header: s.header, newHash: s.newHash}
}

func (s hmacScheme) Sign(msg Message, secret string) (map[string]string, error) {
	if err := requireSigningSecret(s.scheme, secret); err != nil {
		return nil, err
	}
	if s.idHeader != "" {
		if err := checkHeaderValue(s.scheme, "id", msg.ID); err != nil {
			return nil, err
		}
	}
	h := map[string]string{s.header: s.value(s.mac().sum([]byte(secret), msg.Body))}
	if s.idHeader != "" && msg.ID != "" {
		h[s.idHeader] = msg.ID
	}
	return h, nil
}

func (s hmacScheme) DeliveryID(req Request) string {
	if s.idHeader == "" {
		return ""
	}
	return req.header(s.idHeader)
}

func (s hmacScheme) checkSecrets(secrets []string) error { return requireSecrets(s.scheme, secrets) }

var _ Scheme = hmacScheme{}
var _ secretChecker = hmacScheme{}
