package signature

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"time"
)

// shopifyScheme: X-Shopify-Hmac-Sha256: <base64 HMAC-SHA256(secret, body)>.
// The secret (the app's client secret) is the HMAC key as-is; there is no
// timestamp. The delivery id is X-Shopify-Webhook-Id.
type shopifyScheme struct{}

func (shopifyScheme) Name() string { return "shopify" }

func (shopifyScheme) Verify(req Request, secrets []string, _ time.Time) error {
	if err := requireSecrets("shopify", secrets); err != nil {
		return err
	}
	v := req.header(HeaderShopifyHMAC)
	if v == "" {
		return missing("shopify", HeaderShopifyHMAC)
	}
	sigs := newCandidates(sha256.Size)
	if err := parseShopifyHeader(v, &sigs); err != nil {
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
	return mismatch("shopify", HeaderShopifyHMAC, len(secrets))
}

// parseShopifyHeader reads one padded standard-base64 HMAC-SHA256.
func parseShopifyHeader(v string, sigs *candidates) error {
	if !sigs.addBase64(v) {
		return malformed("shopify", HeaderShopifyHMAC+" is not a base64 HMAC-SHA256")
	}
	return nil
}

func (shopifyScheme) Sign(msg Message, secret string) (map[string]string, error) {
	if err := requireSigningSecret("shopify", secret); err != nil {
		return nil, err
	}
	if err := checkHeaderValue("shopify", "id", msg.ID); err != nil {
		return nil, err
	}
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(msg.Body)
	h := map[string]string{HeaderShopifyHMAC: base64.StdEncoding.EncodeToString(m.Sum(nil))}
	if msg.ID != "" {
		h[HeaderShopifyWebhookID] = msg.ID
	}
	return h, nil
}

func (shopifyScheme) DeliveryID(req Request) string { return req.header(HeaderShopifyWebhookID) }

func (shopifyScheme) checkSecrets(secrets []string) error { return requireSecrets("shopify", secrets) }

var _ Scheme = shopifyScheme{}
var _ secretChecker = shopifyScheme{}
