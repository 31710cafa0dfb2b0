package signature

import (
	"crypto/sha256"
	"strconv"
	"strings"
	"time"
)

// stripeScheme: Stripe-Signature: t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>[,v1=...][,v0=...].
// The secret, whsec_ prefix included, is the HMAC key as-is.
type stripeScheme struct {
	tolerance time.Duration
}

var stripeMAC = macSpec{scheme: "stripe", header: HeaderStripeSignature, newHash: sha256.New}

func (stripeScheme) Name() string { return "stripe" }

func (s stripeScheme) Verify(req Request, secrets []string, now time.Time) error {
	if err := requireSecrets("stripe", secrets); err != nil {
		return err
	}
	v := req.header(HeaderStripeSignature)
	if v == "" {
		return missing("stripe", HeaderStripeSignature)
	}
	sigs := newCandidates(sha256.Size)
	tsText, err := parseStripeHeader(v, &sigs)
	if err != nil {
		return err
	}
	ts, _ := parseUnix(tsText) // checked by the parser
	return stripeMAC.verifyAt(ts, now, s.tolerance, &sigs, secrets, req.Body, tsText, ".")
}

// parseStripeHeader reads "t=<digits>" and every "v1=<hex>" entry of a
// Stripe-Signature value into sigs and returns the timestamp text as sent.
// Entries of other schemes (v0, ...) are ignored; a header without t or
// without any v1 entry is malformed.
func parseStripeHeader(v string, sigs *candidates) (string, error) {
	var tsText string
	haveTS := false
	for rest := v; rest != ""; {
		var item string
		item, rest, _ = strings.Cut(rest, ",")
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		key, value, ok := strings.Cut(item, "=")
		if !ok {
			return "", malformed("stripe", "an entry of "+HeaderStripeSignature+" is not key=value")
		}
		switch key {
		case "t":
			if haveTS {
				return "", malformed("stripe", HeaderStripeSignature+" carries more than one timestamp")
			}
			if _, ok := parseUnix(value); !ok {
				return "", malformed("stripe", "timestamp in "+HeaderStripeSignature+" is not a unix time")
			}
			tsText, haveTS = value, true
		case "v1":
			if sigs.n == maxSignaturesPerHeader {
				return "", malformed("stripe", HeaderStripeSignature+" carries more than "+strconv.Itoa(maxSignaturesPerHeader)+" signatures")
			}
			if !sigs.addHex(value) {
				return "", malformed("stripe", "a v1 signature in "+HeaderStripeSignature+" is not 64 hex digits")
			}
		}
	}
	if !haveTS {
		return "", malformed("stripe", HeaderStripeSignature+" has no timestamp (t=)")
	}
	if sigs.n == 0 {
		return "", malformed("stripe", HeaderStripeSignature+" has no v1 signature")
	}
	return tsText, nil
}

func (stripeScheme) Sign(msg Message, secret string) (map[string]string, error) {
	if err := requireSigningSecret("stripe", secret); err != nil {
		return nil, err
	}
	if err := requireTimestamp("stripe", msg.Timestamp); err != nil {
		return nil, err
	}
	ts := strconv.FormatInt(msg.Timestamp.Unix(), 10)
	mac := stripeMAC.sum([]byte(secret), msg.Body, ts, ".")
	v := make([]byte, 0, len("t=,v1=")+len(ts)+2*len(mac))
	v = append(append(append(v, "t="...), ts...), ",v1="...)
	return map[string]string{HeaderStripeSignature: string(appendHex(v, mac))}, nil
}

// DeliveryID is the event id: the top-level "id" of the JSON body.
func (stripeScheme) DeliveryID(req Request) string { return topLevelJSONString(req.Body, "id") }

func (stripeScheme) checkSecrets(secrets []string) error { return requireSecrets("stripe", secrets) }

var _ Scheme = stripeScheme{}
var _ secretChecker = stripeScheme{}
