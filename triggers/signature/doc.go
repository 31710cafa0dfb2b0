// Package signature defines each webhook signature scheme once, for both
// directions: verifying incoming webhooks (the triggers package) and signing
// outgoing ones (the webhook action and `hookflow send`).
//
// Schemes, by the name used in workflow YAML:
//
//   - stripe: Stripe-Signature "t=<unix>,v1=<hex>", HMAC-SHA256 over
//     "<t>.<body>"; the secret (whsec_ prefix included) is the key as-is;
//     several v1 entries allowed; replay window on t. Delivery id: the JSON
//     body's top-level "id".
//   - github: X-Hub-Signature-256 "sha256=<hex>", HMAC-SHA256 over the body.
//     Delivery id: X-GitHub-Delivery.
//   - standard (Standard Webhooks): webhook-id, webhook-timestamp,
//     webhook-signature "v1,<base64>" (space-separated list), HMAC-SHA256
//     over "<id>.<timestamp>.<body>" keyed with the base64-decoded secret
//     after its whsec_ prefix; replay window. Delivery id: webhook-id.
//   - slack: X-Slack-Request-Timestamp and X-Slack-Signature "v0=<hex>",
//     HMAC-SHA256 over "v0:<timestamp>:<body>"; replay window.
//   - shopify: X-Shopify-Hmac-Sha256 "<base64>", HMAC-SHA256 over the body.
//     Delivery id: X-Shopify-Webhook-Id.
//   - twilio: X-Twilio-Signature "<base64>", HMAC-SHA1 keyed with the auth
//     token over the URL followed by the sorted form parameters (name then
//     value); for JSON bodies over the URL alone, which carries the body's
//     digest in bodySHA256 (see TwilioJSONURL). Delivery id:
//     I-Twilio-Idempotency-Token.
//   - hmac: a configured header, HMAC-SHA1/256/512 over the body, hex or
//     base64, optional prefix; the header may list several values separated
//     by commas or spaces.
//   - none: accepts everything, signs nothing.
//
// Every scheme takes a list of secrets for key rotation: a request passes
// when any secret matches any signature it carries. Signatures are checked
// over the raw body bytes, before any parsing, with hmac.Equal.
//
// Example, verifying in a handler and signing a delivery:
//
//	s, err := signature.New("stripe", signature.Options{Tolerance: 5 * time.Minute})
//	if err != nil { ... }
//	err = s.Verify(signature.Request{Header: r.Header.Get, Body: body}, secrets, time.Now())
//	switch {
//	case err == nil: // authentic
//	case errors.Is(err, signature.ErrSecret): // configuration problem
//	default: // 401
//	}
//
//	std, _ := signature.New("standard", signature.Options{})
//	headers, err := std.Sign(signature.Message{Body: body, ID: deliveryID, Timestamp: time.Now()}, secret)
//	for k, v := range headers { req.Header.Set(k, v) }
//
// Caveats:
//
//   - Error texts name the scheme and the header, never a secret, an
//     expected signature or a received one.
//   - Sign returns header names in canonical MIME form
//     (http.CanonicalHeaderKey), for example "X-Github-Delivery" and
//     "Webhook-Id"; HTTP header names are case-insensitive on the wire.
//   - Verify checks the replay window before computing any MAC, so a stale
//     request reports ErrStale even when its signature is also wrong.
//   - A header carrying more than 16 signatures is malformed, which bounds
//     the work one request can cause.
//   - twilio needs Request.URL exactly as Twilio requested it (scheme, host
//     and query included); behind a proxy, rebuild it from the public URL.
//     Twilio signs decoded form values, so the body must be
//     application/x-www-form-urlencoded unless the URL has bodySHA256.
//   - The legacy GitHub SHA-1 header X-Hub-Signature is not accepted.
package signature
