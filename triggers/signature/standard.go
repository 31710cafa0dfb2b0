package signature

import (
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// standardScheme implements Standard Webhooks: headers webhook-id,
// webhook-timestamp (unix seconds) and webhook-signature, a space-separated
// list of "v1,<base64 HMAC-SHA256(key, "<id>.<timestamp>.<body>")>" entries
// (entries of other versions are ignored). The key is the secret with its
// whsec_ prefix removed, base64-decoded.
type standardScheme struct {
	tolerance time.Duration
}

// standardSecretPrefix marks a Standard Webhooks secret; the rest is base64.
const standardSecretPrefix = "whsec_"

var standardMAC = macSpec{scheme: "standard", header: HeaderStandardSignature, newHash: sha256.New, whsecKey: true}

func (standardScheme) Name() string { return "standard" }

func (s standardScheme) Verify(req Request, secrets []string, now time.Time) error {
	if err := requireSecrets("standard", secrets); err != nil {
		return err
	}
	id := req.header(HeaderStandardID)
	if id == "" {
		return missing("standard", HeaderStandardID)
	}
	tsText, v, ts, err := timedHeaders(req, "standard", HeaderStandardTimestamp, HeaderStandardSignature)
	if err != nil {
		return err
	}
	sigs := newCandidates(sha256.Size)
	if err := parseStandardHeader(v, &sigs); err != nil {
		return err
	}
	return standardMAC.verifyAt(ts, now, s.tolerance, &sigs, secrets, req.Body, id, ".", tsText, ".")
}

// parseStandardHeader reads the space-separated "version,signature" list.
// Entries of versions other than v1 are ignored; a header without any v1
// entry, an entry without a comma or a v1 signature that is not a base64
// HMAC-SHA256 is malformed.
func parseStandardHeader(v string, sigs *candidates) error {
	for rest := v; rest != ""; {
		var entry string
		entry, rest, _ = strings.Cut(rest, " ")
		if entry == "" {
			continue
		}
		version, sig, ok := strings.Cut(entry, ",")
		if !ok {
			return malformed("standard", "an entry of "+HeaderStandardSignature+" is not version,signature")
		}
		if version != "v1" {
			continue
		}
		if sigs.n == maxSignaturesPerHeader {
			return malformed("standard", HeaderStandardSignature+" carries more than "+strconv.Itoa(maxSignaturesPerHeader)+" signatures")
		}
		if !sigs.addBase64(sig) {
			return malformed("standard", "a v1 signature in "+HeaderStandardSignature+" is not a base64 HMAC-SHA256")
		}
	}
	if sigs.n == 0 {
		return malformed("standard", HeaderStandardSignature+" has no v1 signature")
	}
	return nil
}

// standardKey decodes a whsec_ secret into dst (grown when too small). Its
// error never quotes the secret.
func standardKey(dst []byte, secret string) ([]byte, error) {
	b64 := strings.TrimPrefix(secret, standardSecretPrefix)
	if b64 == "" {
		return nil, fmt.Errorf("is empty after the %s prefix", standardSecretPrefix)
	}
	n := base64.StdEncoding.DecodedLen(len(b64))
	if cap(dst) < n {
		dst = make([]byte, 0, n)
	}
	dst = dst[:n]
	n, err := base64.StdEncoding.Decode(dst, []byte(b64))
	if err != nil {
		return nil, fmt.Errorf("is not base64 after the %s prefix", standardSecretPrefix)
	}
	return dst[:n], nil
}

func (standardScheme) Sign(msg Message, secret string) (map[string]string, error) {
	if err := requireSigningSecret("standard", secret); err != nil {
		return nil, err
	}
	if msg.ID == "" {
		return nil, fmt.Errorf("standard: message id is required (it is signed as %s)", HeaderStandardID)
	}
	if err := checkHeaderValue("standard", "id", msg.ID); err != nil {
		return nil, err
	}
	if err := requireTimestamp("standard", msg.Timestamp); err != nil {
		return nil, err
	}
	key, err := standardKey(nil, secret)
	if err != nil {
		return nil, fmt.Errorf("standard: %w: signing secret %s", ErrSecret, err.Error())
	}
	ts := strconv.FormatInt(msg.Timestamp.Unix(), 10)
	mac := standardMAC.sum(key, msg.Body, msg.ID, ".", ts, ".")
	return map[string]string{
		HeaderStandardID:        msg.ID,
		HeaderStandardTimestamp: ts,
		HeaderStandardSignature: "v1," + base64.StdEncoding.EncodeToString(mac),
	}, nil
}

func (standardScheme) DeliveryID(req Request) string { return req.header(HeaderStandardID) }

func (standardScheme) checkSecrets(secrets []string) error {
	if err := requireSecrets("standard", secrets); err != nil {
		return err
	}
	var keyBuf [64]byte
	return standardMAC.checkKeys(keyBuf[:0], secrets)
}

var _ Scheme = standardScheme{}
var _ secretChecker = standardScheme{}
