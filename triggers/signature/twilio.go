package signature

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"
)

// twilioScheme: X-Twilio-Signature: base64(HMAC-SHA1(auth token, data)).
//
// For a form-encoded body, data is the full URL followed by every POST
// parameter sorted by name, each name immediately followed by its value
// (several values of one name: each distinct value, sorted). For a JSON body
// Twilio adds a bodySHA256 query parameter (hex SHA-256 of the body) to the
// URL, signs the URL alone, and the body is bound through that digest.
// Verify accepts the URL as given and with its port removed or the
// scheme's default port added, as Twilio's own libraries do.
type twilioScheme struct{}

const twilioBodyHashParam = "bodySHA256"

// twilioSignature is one padded standard-base64 HMAC-SHA1.
var twilioSignature = macHeader{scheme: "twilio", header: HeaderTwilioSignature, algorithm: "sha1", size: sha1.Size, base64: true}

func (twilioScheme) Name() string { return "twilio" }

func (twilioScheme) Verify(req Request, secrets []string, _ time.Time) error {
	if err := requireSecrets("twilio", secrets); err != nil {
		return err
	}
	v := req.header(HeaderTwilioSignature)
	if v == "" {
		return missing("twilio", HeaderTwilioSignature)
	}
	sigs := newCandidates(sha1.Size)
	if err := twilioSignature.parseHeader(v, &sigs); err != nil {
		return err
	}
	params, bodyOK, err := twilioSignedParams(req.URL, req.Body)
	if err != nil {
		return malformed("twilio", err.Error())
	}
	urls := twilioURLVariants(req.URL)
	for _, secret := range secrets {
		m := hmac.New(sha1.New, []byte(secret))
		for _, u := range urls {
			m.Reset()
			m.Write([]byte(u))
			m.Write(params)
			if sigs.match(m.Sum(nil)) {
				if !bodyOK {
					return fmt.Errorf("twilio: %w: body does not match the %s URL parameter", ErrMismatch, twilioBodyHashParam)
				}
				return nil
			}
		}
	}
	return mismatch("twilio", HeaderTwilioSignature, len(secrets))
}

// twilioSignedParams returns what Twilio appends to the URL before signing
// and, for a JSON delivery (bodySHA256 in the URL), whether the body matches
// that digest. Its errors are bare details for the caller to frame.
func twilioSignedParams(rawURL string, body []byte) (params []byte, bodyOK bool, err error) {
	if rawURL == "" {
		return nil, false, errors.New("URL is empty")
	}
	u, err := url.Parse(rawURL)
	if err != nil || !u.IsAbs() || u.Host == "" {
		return nil, false, errors.New("URL is not absolute")
	}
	if q := u.Query(); q.Has(twilioBodyHashParam) {
		want, err := hex.DecodeString(q.Get(twilioBodyHashParam))
		if err != nil || len(want) != sha256.Size {
			return nil, false, errors.New(twilioBodyHashParam + " URL parameter is not a hex SHA-256")
		}
		got := sha256.Sum256(body)
		return nil, hmac.Equal(got[:], want), nil
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, false, errors.New("body is not form-encoded")
	}
	return appendTwilioParams(nil, form), true, nil
}

func appendTwilioParams(dst []byte, form url.Values) []byte {
	for _, name := range slices.Sorted(func(yield func(string) bool) {
		for k := range form {
			if !yield(k) {
				return
			}
		}
	}) {
		values := slices.Clone(form[name])
		slices.Sort(values)
		for _, v := range slices.Compact(values) {
			dst = append(append(dst, name...), v...)
		}
	}
	return dst
}

// twilioURLVariants returns rawURL as given plus, when it names a port, the
// URL without it, or, when it does not, the URL with the scheme's default
// port. The rest of the URL is kept byte for byte.
func twilioURLVariants(rawURL string) []string {
	variants := []string{rawURL}
	i := strings.Index(rawURL, "://")
	if i < 0 {
		return variants
	}
	scheme := strings.ToLower(rawURL[:i])
	start := i + len("://")
	end := len(rawURL)
	if j := strings.IndexAny(rawURL[start:], "/?#"); j >= 0 {
		end = start + j
	}
	authority := rawURL[start:end]
	hostStart := start + strings.LastIndex(authority, "@") + 1
	hostPort := rawURL[hostStart:end]
	// The port follows the last colon, unless that colon is inside an IPv6
	// literal.
	colon := strings.LastIndex(hostPort, ":")
	if colon >= 0 && !strings.Contains(hostPort[colon:], "]") {
		variants = append(variants, rawURL[:hostStart+colon]+rawURL[end:])
		return variants
	}
	switch scheme {
	case "https":
		variants = append(variants, rawURL[:end]+":443"+rawURL[end:])
	case "http":
		variants = append(variants, rawURL[:end]+":80"+rawURL[end:])
	}
	return variants
}

func (twilioScheme) Sign(msg Message, secret string) (map[string]string, error) {
	if err := requireSigningSecret("twilio", secret); err != nil {
		return nil, err
	}
	if err := checkHeaderValue("twilio", "id", msg.ID); err != nil {
		return nil, err
	}
	params, bodyOK, err := twilioSignedParams(msg.URL, msg.Body)
	if err != nil {
		return nil, fmt.Errorf("twilio: cannot sign: %w", err)
	}
	if !bodyOK {
		return nil, fmt.Errorf("twilio: message body does not match the %s URL parameter", twilioBodyHashParam)
	}
	m := hmac.New(sha1.New, []byte(secret))
	m.Write([]byte(msg.URL))
	m.Write(params)
	h := map[string]string{HeaderTwilioSignature: twilioSignature.value(m.Sum(nil))}
	if msg.ID != "" {
		h[HeaderTwilioIdempotency] = msg.ID
	}
	return h, nil
}

// DeliveryID is Twilio's I-Twilio-Idempotency-Token, the same on every retry
// of one webhook.
func (twilioScheme) DeliveryID(req Request) string { return req.header(HeaderTwilioIdempotency) }

func (twilioScheme) checkSecrets(secrets []string) error { return requireSecrets("twilio", secrets) }

// TwilioJSONURL returns rawURL with the bodySHA256 query parameter Twilio
// adds when it delivers a JSON body: sign and send to the returned URL. The
// existing query and fragment are kept as they are.
func TwilioJSONURL(rawURL string, body []byte) string {
	sum := sha256.Sum256(body)
	param := twilioBodyHashParam + "=" + hex.EncodeToString(sum[:])
	base, fragment, hasFragment := strings.Cut(rawURL, "#")
	sep := "?"
	if strings.Contains(base, "?") {
		sep = "&"
		if strings.HasSuffix(base, "?") || strings.HasSuffix(base, "&") {
			sep = ""
		}
	}
	out := base + sep + param
	if hasFragment {
		out += "#" + fragment
	}
	return out
}

var _ Scheme = twilioScheme{}
var _ secretChecker = twilioScheme{}
