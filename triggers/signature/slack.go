package signature

import (
	"crypto/sha256"
	"strconv"
	"time"
)

// slackScheme: X-Slack-Request-Timestamp: <unix> and
// X-Slack-Signature: v0=<hex HMAC-SHA256(secret, "v0:<timestamp>:<body>")>.
// The signing secret is the HMAC key as-is. Slack has no delivery id.
type slackScheme struct {
	tolerance time.Duration
}

var (
	slackMAC       = macSpec{scheme: "slack", header: HeaderSlackSignature, newHash: sha256.New}
	slackSignature = macHeader{scheme: "slack", header: HeaderSlackSignature, algorithm: "sha256", size: sha256.Size, prefix: "v0="}
)

func (slackScheme) Name() string { return "slack" }

func (s slackScheme) Verify(req Request, secrets []string, now time.Time) error {
	if err := requireSecrets("slack", secrets); err != nil {
		return err
	}
	tsText, v, ts, err := timedHeaders(req, "slack", HeaderSlackTimestamp, HeaderSlackSignature)
	if err != nil {
		return err
	}
	sigs := newCandidates(sha256.Size)
	if err := parseSlackHeader(v, &sigs); err != nil {
		return err
	}
	return slackMAC.verifyAt(ts, now, s.tolerance, &sigs, secrets, req.Body, "v0:", tsText, ":")
}

// parseSlackHeader reads "v0=<64 hex digits>".
func parseSlackHeader(v string, sigs *candidates) error { return slackSignature.parseHeader(v, sigs) }

func (slackScheme) Sign(msg Message, secret string) (map[string]string, error) {
	if err := requireSigningSecret("slack", secret); err != nil {
		return nil, err
	}
	if err := requireTimestamp("slack", msg.Timestamp); err != nil {
		return nil, err
	}
	ts := strconv.FormatInt(msg.Timestamp.Unix(), 10)
	return map[string]string{
		HeaderSlackTimestamp: ts,
		HeaderSlackSignature: slackSignature.value(slackMAC.sum([]byte(secret), msg.Body, "v0:", ts, ":")),
	}, nil
}

func (slackScheme) DeliveryID(Request) string { return "" }

func (slackScheme) checkSecrets(secrets []string) error { return requireSecrets("slack", secrets) }

var _ Scheme = slackScheme{}
var _ secretChecker = slackScheme{}
