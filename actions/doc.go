// Package actions defines the Action interface every workflow step runs
// through, the Registry that maps `uses:` names to actions, and the
// built-in actions:
//
//   - http: one HTTP request; outputs status, headers, body (parsed when the
//     answer is JSON), truncated and latency_ms.
//   - webhook: one delivery of an outbound signed webhook (Standard
//     Webhooks by default; github, stripe, hmac or none), signed by the same
//     scheme definitions that verify inbound webhooks
//     (triggers/signature). The delivery id is derived from the step's
//     idempotency key, so it is the same on every attempt.
//   - log: one record in the daemon's log, tagged with run, workflow and step.
//   - set: outputs its input, to name computed values for later steps.
//
// Each built-in publishes the JSON Schema of its input (Schemer) and
// validates its input again at run time, reporting every problem at once in
// a permanent error.
//
// # Example
//
//	reg := actions.NewRegistry()
//	err := actions.RegisterBuiltins(reg, actions.NetOptions{
//		AllowList: []netip.Prefix{netip.MustParsePrefix("10.1.2.0/24")},
//		Logger:    logger,
//	})
//	...
//	a, _ := reg.Lookup("http")
//	out, err := a.Execute(ctx, actions.Request{
//		RunID: runID, StepID: "activate", Attempt: 1,
//		IdempotencyKey: runID + "/activate",
//		Input: map[string]any{"method": "POST", "url": "https://billing.example/activate",
//			"json": map[string]any{"plan": "pro"}},
//	})
//	if actions.IsPermanent(err) { ... } // else retry, no sooner than actions.RetryHint(err)
//
// # Retries
//
// Actions do not retry: the engine does, durably. An action only classifies
// each failure. For http and webhook, network errors, timeouts, 408, 429 and
// 5xx answers are retryable (Retry-After, in seconds or as an HTTP date,
// becomes the RetryAfter hint); other unexpected statuses, invalid input and
// refused targets are permanent. Every failed attempt carries Details
// (status, latency_ms, the first 512 bytes of the answer; webhook_id for
// webhooks), recorded with the attempt.
//
// # Webhook deliveries
//
// The delivery id is "msg_" (stripe: "evt_") and 24 base32 characters of
// the SHA-256 of the step's idempotency key: every attempt of one step of
// one run carries the same id, each attempt its own signing timestamp. With
// a type, scheme standard sends the Standard Webhooks envelope
// {"type", "timestamp", "data"} and scheme stripe a Stripe event object
// {"id", "object": "event", "type", "created", "data": {"object"}}; without
// one, and for github, hmac and none, the payload is sent as is. Redirects
// are not followed.
//
// # Outbound targets
//
// Clients built by NewHTTPClient check every connection's resolved address
// against a TargetPolicy at dial time, so DNS rebinding and redirects cannot
// reach loopback, private (RFC 1918, fc00::/7), link-local (cloud metadata
// included), CGNAT, unspecified, multicast or reserved addresses unless
// NetOptions.AllowPrivate is set or the address is in NetOptions.AllowList.
// IPv4 addresses embedded in IPv4-mapped, NAT64 and 6to4 IPv6 addresses are
// checked as IPv4. Only http and https URLs are accepted.
//
// # Caveats
//
//   - A Client passed in NetOptions is used as is: build it with
//     NewHTTPClient, or host names are not checked once resolved.
//   - The http action reads at most MaxResponseBody bytes of an answer; a
//     truncated or malformed JSON answer is output as text.
//   - Clients built by NewHTTPClient ignore HTTP_PROXY and friends: a proxy
//     would hide the real target from the address check.
//   - Secrets are opaque here: the webhook action keeps its signing secret out
//     of outputs, errors and details, but a secret a workflow renders into a
//     URL, a header or a log message is the engine's to redact.
package actions
