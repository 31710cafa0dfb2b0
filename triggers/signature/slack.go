package signature

import (
	"crypto/hmac"
	"crypto/sha256"
	"strconv"
	"strings"
	"time"
)

// slackScheme: X-Slack-Request-Timestamp: <unix> and
// X-Slack-Signature: v0=<hex HMAC-SHA256(secret, "v0:<timestamp>:<body>")>.
// The signing secret is the HMAC key as-is. Slack has no delivery id.
type slackScheme struct {
	tolerance time.Duration
}

func (slackScheme) Name() string { return "slack" }

func (s slackScheme) Verify(req Request, secrets []string, now time.Time) error {
	if err := requireSecrets("slack", secrets); err != nil {
		return err
	}
	tsText := req.header(HeaderSlackTimestamp)
	if tsText == "" {
		return missing("slack", HeaderSlackTimestamp)
	}
	v := req.header(HeaderSlackSignature)
	if v == "" {
		return missing("slack", HeaderSlackSignature)
	}
	ts, ok := parseUnix(tsText)
	if !ok {
		return malformed("slack", HeaderSlackTimestamp+" is not a unix time")
	}
	sigs := newCandidates(sha256.Size)
	if err := parseSlackHeader(v, &sigs); err != nil {
		return err
	}
	if err := checkWindow("slack", ts, now, s.tolerance); err != nil {
		return err
	}
	prefix, mac, key := scratch(len("v0::")+len(tsText), sha256.Size, secrets)
	prefix = append(append(append(prefix, "v0:"...), tsText...), ':')
	for _, secret := range secrets {
		m := hmac.New(sha256.New, append(key[:0], secret...))
		m.Write(prefix)
		m.Write(req.Body)
		if sigs.match(m.Sum(mac)) {
			return nil
		}
	}
	return mismatch("slack", HeaderSlackSignature, len(secrets))
}

// parseSlackHeader reads "v0=<64 hex digits>".
func parseSlackHeader(v string, sigs *candidates) error {
	hexMAC, ok := strings.CutPrefix(v, "v0=")
	if !ok {
		return malformed("slack", HeaderSlackSignature+" does not start with v0=")
	}
	if !sigs.addHex(hexMAC) {
		return malformed("slack", "signature in "+HeaderSlackSignature+" is not 64 hex digits")
	}
	return nil
}

func (slackScheme) Sign(msg Message, secret string) (map[string]string, error) {
	if err := requireSigningSecret("slack", secret); err != nil {
		return nil, err
	}
	if err := requireTimestamp("slack", msg.Timestamp); err != nil {
		return nil, err
	}
	ts := strconv.FormatInt(msg.Timestamp.Unix(), 10)
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte("v0:" + ts + ":"))
	m.Write(msg.Body)
	v := appendHex(append(make([]byte, 0, len("v0=")+2*sha256.Size), "v0="...), m.Sum(nil))
	return map[string]string{
		HeaderSlackTimestamp: ts,
		HeaderSlackSignature: string(v),
	}, nil
}

func (slackScheme) DeliveryID(Request) string { return "" }

func (slackScheme) checkSecrets(secrets []string) error { return requireSecrets("slack", secrets) }

var _ Scheme = slackScheme{}
var _ secretChecker = slackScheme{}
