package admin

import "testing"

func TestIsSecretHeader(t *testing.T) {
	t.Parallel()
	extra := map[string]bool{"x-shop-mac": true}
	cases := map[string]bool{
		"authorization":             true,
		"proxy-authorization":       true,
		"cookie":                    true,
		"stripe-signature":          true,
		"x-hub-signature":           true,
		"x-hub-signature-256":       true,
		"webhook-signature":         true,
		"x-slack-signature":         true,
		"x-shopify-hmac-sha256":     true,
		"x-twilio-signature":        true,
		"x-gitlab-token":            true,
		"x-api-key":                 true,
		"x-webhook-secret":          true,
		"x-custom-signature-v2":     true,
		"x-shop-mac":                true, // configured for the hmac scheme
		"content-type":              false,
		"user-agent":                false,
		"x-github-delivery":         false,
		"x-github-event":            false,
		"webhook-id":                false,
		"webhook-timestamp":         false,
		"x-slack-request-timestamp": false,
	}
	for name, want := range cases {
		if got := isSecretHeader(name, extra); got != want {
			t.Errorf("isSecretHeader(%q) = %v, want %v", name, got, want)
		}
	}
}
