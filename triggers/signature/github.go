package signature

import (
	"crypto/hmac"
	"crypto/sha256"
	"strings"
	"time"
)

// githubScheme: X-Hub-Signature-256: sha256=<hex HMAC-SHA256(secret, body)>.
// The secret is the HMAC key as-is; there is no timestamp. The legacy SHA-1
// header X-Hub-Signature is neither read nor written.
type githubScheme struct{}

func (githubScheme) Name() string { return "github" }

func (githubScheme) Verify(req Request, secrets []string, _ time.Time) error {
	if err := requireSecrets("github", secrets); err != nil {
		return err
	}
	v := req.header(HeaderGitHubSignature)
	if v == "" {
		return missing("github", HeaderGitHubSignature)
	}
	sigs := newCandidates(sha256.Size)
	if err := parseGitHubHeader(v, &sigs); err != nil {
		return err
	}
	_, mac, key := scratch(0, sha256.Size, secrets)
	for _, secret := range secrets {
		m := hmac.New(sha256.New, append(key[:0], secret...))
		m.Write(req.Body)
		if sigs.match(m.Sum(mac)) {
			return nil
		}
	}
	return mismatch("github", HeaderGitHubSignature, len(secrets))
}

// parseGitHubHeader reads "sha256=<64 hex digits>".
func parseGitHubHeader(v string, sigs *candidates) error {
	hexMAC, ok := strings.CutPrefix(v, "sha256=")
	if !ok {
		return malformed("github", HeaderGitHubSignature+" does not start with sha256=")
	}
	if !sigs.addHex(hexMAC) {
		return malformed("github", "signature in "+HeaderGitHubSignature+" is not 64 hex digits")
	}
	return nil
}

func (githubScheme) Sign(msg Message, secret string) (map[string]string, error) {
	if err := requireSigningSecret("github", secret); err != nil {
		return nil, err
	}
	if err := checkHeaderValue("github", "id", msg.ID); err != nil {
		return nil, err
	}
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(msg.Body)
	v := appendHex(append(make([]byte, 0, len("sha256=")+2*sha256.Size), "sha256="...), m.Sum(nil))
	h := map[string]string{HeaderGitHubSignature: string(v)}
	if msg.ID != "" {
		h[HeaderGitHubDelivery] = msg.ID
	}
	return h, nil
}

func (githubScheme) DeliveryID(req Request) string { return req.header(HeaderGitHubDelivery) }

func (githubScheme) checkSecrets(secrets []string) error { return requireSecrets("github", secrets) }

var _ Scheme = githubScheme{}
var _ secretChecker = githubScheme{}
