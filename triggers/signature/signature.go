package signature

import (
	"cmp"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Request is an incoming (or outgoing) webhook as the scheme sees it.
type Request struct {
	URL    string                   // full URL as the sender used it (twilio signs it)
	Header func(name string) string // case-insensitive header lookup (http.Header.Get or fiber's c.Get fit)
	Body   []byte                   // the raw body bytes, before any parsing
}

// Message is what Sign signs.
type Message struct {
	URL  string // the target URL; twilio signs it
	Body []byte // the exact bytes that will be sent
	// ID is the delivery id, stable across retries of one delivery. Standard
	// Webhooks signs it (webhook-id, required there); github, shopify and
	// twilio send it in their delivery id header when it is not empty.
	ID string
	// Timestamp is the signing time for timestamped schemes (stripe,
	// standard, slack); required there, ignored elsewhere.
	Timestamp time.Time
}

// Options configure a scheme. Zero values mean defaults.
type Options struct {
	// Tolerance is the replay window for timestamped schemes (stripe,
	// standard, slack), applied to the past and to the future; default 5m.
	// Other schemes ignore it.
	Tolerance time.Duration

	// The fields below are for scheme hmac only; setting them for another
	// scheme is an error.

	Header    string // header carrying the signature; required for hmac
	Algorithm string // sha1 | sha256 (default) | sha512
	Encoding  string // hex (default) | base64
	Prefix    string // e.g. "sha256=", stripped from / added before the encoded MAC
}

// Scheme is one webhook signature scheme. Implementations are immutable and
// safe for concurrent use.
type Scheme interface {
	Name() string
	// Verify checks req against every secret (key rotation) and every
	// signature the header carries. now is injected for the replay window.
	// Errors wrap ErrMissing, ErrMalformed, ErrMismatch, ErrStale or
	// ErrSecret, with detail that never contains a secret or an expected
	// signature.
	Verify(req Request, secrets []string, now time.Time) error
	// Sign returns the headers a real sender of this scheme would set, under
	// their canonical MIME names (http.CanonicalHeaderKey), signing with
	// secret.
	Sign(msg Message, secret string) (map[string]string, error)
	// DeliveryID returns the sender's delivery id for idempotency, "" when
	// the scheme has none or the request does not carry it.
	DeliveryID(req Request) string
}

// Errors returned (wrapped) by Verify and Sign; test with errors.Is.
var (
	// ErrMissing: a header the scheme needs is absent or empty.
	ErrMissing = errors.New("signature missing")
	// ErrMalformed: a header (or, for twilio, the URL or body) cannot be
	// parsed the way the scheme defines it.
	ErrMalformed = errors.New("signature malformed")
	// ErrMismatch: no signature matches any of the secrets.
	ErrMismatch = errors.New("signature mismatch")
	// ErrStale: the signed timestamp is outside the replay window.
	ErrStale = errors.New("timestamp outside the replay window")
	// ErrSecret: no secret, an empty secret, or a secret the scheme cannot
	// use (standard: not base64 after the whsec_ prefix). A configuration
	// problem rather than a bad request.
	ErrSecret = errors.New("unusable secret")
)

// DefaultTolerance is the replay window used when Options.Tolerance is zero.
const DefaultTolerance = 5 * time.Minute

// Canonical names of the headers the schemes read and write.
const (
	HeaderStripeSignature   = "Stripe-Signature"
	HeaderGitHubSignature   = "X-Hub-Signature-256"
	HeaderGitHubDelivery    = "X-Github-Delivery"
	HeaderStandardID        = "Webhook-Id"
	HeaderStandardTimestamp = "Webhook-Timestamp"
	HeaderStandardSignature = "Webhook-Signature"
	HeaderSlackTimestamp    = "X-Slack-Request-Timestamp"
	HeaderSlackSignature    = "X-Slack-Signature"
	HeaderShopifyHMAC       = "X-Shopify-Hmac-Sha256"
	HeaderShopifyWebhookID  = "X-Shopify-Webhook-Id"
	HeaderTwilioSignature   = "X-Twilio-Signature"
	HeaderTwilioIdempotency = "I-Twilio-Idempotency-Token"
)

const (
	// maxSignaturesPerHeader bounds the work one request can cause.
	maxSignaturesPerHeader = 16
	// maxTimestampDigits keeps parsed timestamps far from int64 overflow.
	maxTimestampDigits = 18
)

// Names returns every scheme name, sorted. The slice is new on every call.
func Names() []string {
	return []string{"github", "hmac", "none", "shopify", "slack", "standard", "stripe", "twilio"}
}

// New returns the scheme called name, configured by opts. An unknown name or
// a bad option is an error naming the field.
func New(name string, opts Options) (Scheme, error) {
	known := false
	for _, n := range Names() {
		if n == name {
			known = true
			break
		}
	}
	if !known {
		return nil, fmt.Errorf("signature: unknown scheme %q (known: %s)", name, strings.Join(Names(), ", "))
	}
	if opts.Tolerance < 0 {
		return nil, fmt.Errorf("signature: %s: tolerance must not be negative, got %s", name, opts.Tolerance)
	}
	if name == "hmac" {
		return newHMACScheme(opts)
	}
	if err := rejectHMACOptions(name, opts); err != nil {
		return nil, err
	}
	tolerance := cmp.Or(opts.Tolerance, DefaultTolerance)
	switch name {
	case "stripe":
		return stripeScheme{tolerance: tolerance}, nil
	case "github":
		return githubScheme, nil
	case "standard":
		return standardScheme{tolerance: tolerance}, nil
	case "slack":
		return slackScheme{tolerance: tolerance}, nil
	case "shopify":
		return shopifyScheme, nil
	case "twilio":
		return twilioScheme{}, nil
	default: // "none"
		return noneScheme{}, nil
	}
}

// CheckSecrets reports whether s can use secrets, without a request: the
// same ErrSecret that Verify would return. Use it when loading configuration.
func CheckSecrets(s Scheme, secrets []string) error {
	if c, ok := s.(secretChecker); ok {
		return c.checkSecrets(secrets)
	}
	return nil
}

// secretChecker is implemented by schemes with rules on their secrets.
type secretChecker interface {
	checkSecrets(secrets []string) error
}

func rejectHMACOptions(name string, opts Options) error {
	for _, f := range []struct{ field, value string }{
		{"header", opts.Header},
		{"algorithm", opts.Algorithm},
		{"encoding", opts.Encoding},
		{"prefix", opts.Prefix},
	} {
		if f.value != "" {
			return fmt.Errorf("signature: %s: option %s applies only to scheme hmac", name, f.field)
		}
	}
	return nil
}

// requireSecrets is the common rule: at least one secret, none empty.
func requireSecrets(scheme string, secrets []string) error {
	if len(secrets) == 0 {
		return fmt.Errorf("%s: %w: no secret configured", scheme, ErrSecret)
	}
	for i, s := range secrets {
		if s == "" {
			return fmt.Errorf("%s: %w: secret %d of %d is empty", scheme, ErrSecret, i+1, len(secrets))
		}
	}
	return nil
}

func requireSigningSecret(scheme, secret string) error {
	if secret == "" {
		return fmt.Errorf("%s: %w: signing secret is empty", scheme, ErrSecret)
	}
	return nil
}

func missing(scheme, header string) error {
	return fmt.Errorf("%s: %w: header %s is absent or empty", scheme, ErrMissing, header)
}

func malformed(scheme, detail string) error {
	return fmt.Errorf("%s: %w: %s", scheme, ErrMalformed, detail)
}

func mismatch(scheme, header string, secrets int) error {
	return fmt.Errorf("%s: %w: no signature in %s matches any of %d secret(s)", scheme, ErrMismatch, header, secrets)
}

// header looks a header up, tolerating a nil lookup function.
func (r Request) header(name string) string {
	if r.Header == nil {
		return ""
	}
	return strings.TrimSpace(r.Header(name))
}

// parseUnix parses a decimal unix timestamp of ASCII digits only (no sign,
// no spaces, bounded length).
func parseUnix(s string) (int64, bool) {
	if len(s) == 0 || len(s) > maxTimestampDigits {
		return 0, false
	}
	var n int64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}

// timedHeaders reads the timestamp and signature headers of slack and
// standard, both required, and parses the timestamp.
func timedHeaders(req Request, scheme, tsHeader, sigHeader string) (tsText, sig string, ts int64, err error) {
	if tsText = req.header(tsHeader); tsText == "" {
		return "", "", 0, missing(scheme, tsHeader)
	}
	if sig = req.header(sigHeader); sig == "" {
		return "", "", 0, missing(scheme, sigHeader)
	}
	ts, ok := parseUnix(tsText)
	if !ok {
		return "", "", 0, malformed(scheme, tsHeader+" is not a unix time")
	}
	return tsText, sig, ts, nil
}

// checkWindow enforces the replay window on a signed unix timestamp.
func checkWindow(scheme string, ts int64, now time.Time, tolerance time.Duration) error {
	age := now.Sub(time.Unix(ts, 0)) // saturates instead of overflowing
	switch {
	case age > tolerance:
		return fmt.Errorf("%s: %w: timestamp %d is %s old (tolerance %s)", scheme, ErrStale, ts, age.Truncate(time.Second), tolerance)
	case age < -tolerance:
		return fmt.Errorf("%s: %w: timestamp %d is %s in the future (tolerance %s)", scheme, ErrStale, ts, (-age).Truncate(time.Second), tolerance)
	}
	return nil
}

func requireTimestamp(scheme string, t time.Time) error {
	if t.IsZero() {
		return fmt.Errorf("%s: message timestamp is required", scheme)
	}
	if t.Unix() < 0 {
		return fmt.Errorf("%s: message timestamp %s is before 1970", scheme, t.UTC().Format(time.RFC3339))
	}
	return nil
}

// checkHeaderValue refuses values that would break a header line.
func checkHeaderValue(scheme, field, v string) error {
	for i := 0; i < len(v); i++ {
		if c := v[i]; c < 0x20 || c == 0x7f {
			return fmt.Errorf("%s: message %s contains a control character", scheme, field)
		}
	}
	return nil
}
