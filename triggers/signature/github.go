package signature

import "crypto/sha256"

// githubScheme: X-Hub-Signature-256: sha256=<hex HMAC-SHA256(secret, body)>.
// The secret is the HMAC key as-is; there is no timestamp. The delivery id
// is X-GitHub-Delivery. The legacy SHA-1 header X-Hub-Signature is neither
// read nor written.
var githubScheme = hmacScheme{
	macHeader: macHeader{
		scheme:    "github",
		header:    HeaderGitHubSignature,
		algorithm: "sha256",
		size:      sha256.Size,
		prefix:    "sha256=",
	},
	newHash:  sha256.New,
	idHeader: HeaderGitHubDelivery,
}

// parseGitHubHeader reads "sha256=<64 hex digits>".
func parseGitHubHeader(v string, sigs *candidates) error { return githubScheme.parseHeader(v, sigs) }
