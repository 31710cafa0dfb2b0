package admin

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"strings"
	"unicode/utf8"

	"github.com/hookflow/hookflow/engine"
)

// secretHeaders are request headers that carry a signature or a credential
// of the sender, by lower-case name. Their values never leave the server.
var secretHeaders = map[string]bool{
	"authorization":         true,
	"proxy-authorization":   true,
	"cookie":                true,
	"set-cookie":            true,
	"stripe-signature":      true,
	"x-hub-signature":       true,
	"x-hub-signature-256":   true,
	"webhook-signature":     true,
	"x-slack-signature":     true,
	"x-shopify-hmac-sha256": true,
	"x-twilio-signature":    true,
	"x-gitlab-token":        true,
	"x-api-key":             true,
}

// secretHeaderWords mark a header as secret wherever they appear in its
// name, so that a vendor's variant (x-signature, x-webhook-secret,
// x-auth-token) is covered without being listed.
var secretHeaderWords = []string{"signature", "hmac", "secret", "token", "auth", "cookie", "api-key", "apikey", "password"}

// isSecretHeader reports whether the header named name (lower case) is one
// whose value is withheld. extra holds the headers workflows configured for
// the hmac scheme.
func isSecretHeader(name string, extra map[string]bool) bool {
	if secretHeaders[name] || extra[name] {
		return true
	}
	for _, w := range secretHeaderWords {
		if strings.Contains(name, w) {
			return true
		}
	}
	return false
}

// hmacHeaders returns the signature headers that the loaded workflows
// configured for the hmac scheme, lower case.
func (s *Server) hmacHeaders() map[string]bool {
	out := map[string]bool{}
	for _, wf := range s.workflowSet().Workflows() {
		if h := wf.Trigger.Signature.Header; h != "" {
			out[strings.ToLower(h)] = true
		}
	}
	return out
}

// eventView is the run's event as the API shows it.
func (s *Server) eventView(r *engine.Run) EventView {
	ev := r.Event
	extra := s.hmacHeaders()
	v := EventView{
		ID:          s.opts.Redact(ev.ID),
		Method:      ev.Method,
		Path:        ev.Path,
		ContentType: ev.ContentType,
		ReceivedAt:  ev.ReceivedAt,
	}
	if len(ev.Headers) > 0 {
		v.Headers = make(map[string]string, len(ev.Headers))
		for k, val := range ev.Headers {
			if isSecretHeader(strings.ToLower(k), extra) {
				val = engine.Redacted
			}
			v.Headers[k] = s.opts.Redact(val)
		}
	}
	if len(ev.Query) > 0 {
		v.Query = make(map[string]string, len(ev.Query))
		for k, val := range ev.Query {
			v.Query[k] = s.opts.Redact(val)
		}
	}
	v.BodyEncoding, v.Body = bodyView(ev.Body, s.opts.Redact)
	return v
}

// bodyView encodes a raw body for EventView: itself when it is JSON, a JSON
// string when it is text, base64 otherwise. Secret values are replaced
// first (the replacement keeps JSON valid: it has no quote or backslash).
func bodyView(body []byte, redact func(string) string) (string, json.RawMessage) {
	if len(body) == 0 {
		return "", nil
	}
	if !utf8.Valid(body) {
		b, _ := json.Marshal(base64.StdEncoding.EncodeToString(body))
		return BodyBase64, b
	}
	text := redact(string(body))
	if trimmed := bytes.TrimSpace([]byte(text)); json.Valid(trimmed) {
		return BodyJSON, json.RawMessage(trimmed)
	}
	b, _ := json.Marshal(text)
	return BodyText, b
}
