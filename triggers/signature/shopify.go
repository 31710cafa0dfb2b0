package signature

import "crypto/sha256"

// shopifyScheme: X-Shopify-Hmac-Sha256: <base64 HMAC-SHA256(secret, body)>.
// The secret (the app's client secret) is the HMAC key as-is; there is no
// timestamp. The delivery id is X-Shopify-Webhook-Id.
var shopifyScheme = hmacScheme{
	macHeader: macHeader{
		scheme:    "shopify",
		header:    HeaderShopifyHMAC,
		algorithm: "sha256",
		size:      sha256.Size,
		base64:    true,
	},
	newHash:  sha256.New,
	idHeader: HeaderShopifyWebhookID,
}

// parseShopifyHeader reads one padded standard-base64 HMAC-SHA256.
func parseShopifyHeader(v string, sigs *candidates) error { return shopifyScheme.parseHeader(v, sigs) }
