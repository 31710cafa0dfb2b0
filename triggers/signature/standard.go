package signature

import (
	"crypto/hmac"
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

func (standardScheme) Name() string { return "standard" }

func (s standardScheme) Verify(req Request, secrets []string, now time.Time) error {
	if err := requireSecrets("standard", secrets); err != nil {
		return err
	}
	id := req.header(HeaderStandardID)
	if id == "" {
		return missing("standard", HeaderStandardID)
	}
	tsText := req.header(HeaderStandardTimestamp)
	if tsText == "" {
		return missing("standard", HeaderStandardTimestamp)
	}
	v := req.header(HeaderStandardSignature)
	if v == "" {
		return missing("standard", HeaderStandardSignature)
	}
	ts, ok := parseUnix(tsText)
	if !ok {
		return malformed("standard", HeaderStandardTimestamp+" is not a unix time")
	}
	sigs := newCandidates(sha256.Size)
	if err := parseStandardHeader(v, &sigs); err != nil {
		return err
	}
	if err := checkWindow("standard", ts, now, s.tolerance); err != nil {
		return err
	}
	// A decoded key is shorter than its secret, so it fits the key room.
	prefix, mac, keyBuf := scratch(len(id)+len(tsText)+2, sha256.Size, secrets)
	prefix = append(append(append(append(prefix, id...), '.'), tsText...), '.')
	// Every secret must be usable, whichever one matches: a broken secret is
	// reported on every request, not only when the others fail.
	for i, secret := range secrets {
		if _, err := standardKey(keyBuf, secret); err != nil {
			return fmt.Errorf("standard: %w: secret %d of %d %s", ErrSecret, i+1, len(secrets), err.Error())
		}
	}
	for _, secret := range secrets {
		key, _ := standardKey(keyBuf, secret)
		m := hmac.New(sha256.New, key)
		m.Write(prefix)
		m.Write(req.Body)
		if sigs.match(m.Sum(mac)) {
			return nil
		}
	}
	return mismatch("standard", HeaderStandardSignature, len(secrets))
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
	m := hmac.New(sha256.New, key)
	m.Write([]byte(msg.ID + "." + ts + "."))
	m.Write(msg.Body)
	return map[string]string{
		HeaderStandardID:        msg.ID,
		HeaderStandardTimestamp: ts,
		HeaderStandardSignature: "v1," + base64.StdEncoding.EncodeToString(m.Sum(nil)),
	}, nil
}

func (standardScheme) DeliveryID(req Request) string { return req.header(HeaderStandardID) }

func (standardScheme) checkSecrets(secrets []string) error {
	if err := requireSecrets("standard", secrets); err != nil {
		return err
	}
	var keyBuf [64]byte
	for i, secret := range secrets {
		if _, err := standardKey(keyBuf[:0], secret); err != nil {
			return fmt.Errorf("standard: %w: secret %d of %d %s", ErrSecret, i+1, len(secrets), err.Error())
		}
	}
	return nil
}

var _ Scheme = standardScheme{}
var _ secretChecker = standardScheme{}
