package actions

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base32"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/hookflow/hookflow/triggers/signature"
)

// Webhook is the `webhook` action: one delivery of an outbound signed
// webhook, signed by the same scheme definitions that verify inbound ones.
//
// The delivery id is derived from the request's idempotency key, so every
// attempt of one step of one run carries the same id (webhook-id for the
// standard scheme) and a receiver can drop repeats. Redirects are not
// followed: a 3xx answer fails permanently.
//
// Bodies, by scheme:
//   - standard: with type, the Standard Webhooks envelope
//     {"type": type, "timestamp": RFC 3339, "data": payload}; without type,
//     payload as is.
//   - stripe: with type, a Stripe event object
//     {"id": "evt_…", "object": "event", "type": type, "created": unix,
//     "data": {"object": payload}}; without type, payload as is.
//   - github, hmac, none: payload as is (github sends type as
//     X-GitHub-Event).
type Webhook struct {
	client *http.Client
	policy TargetPolicy
	now    func() time.Time
}

// NewWebhook returns the webhook action.
func NewWebhook(opts NetOptions) *Webhook {
	opts = opts.withDefaults()
	client := *opts.Client
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &Webhook{client: &client, policy: opts.Policy(), now: opts.Now}
}

// InputSchema returns the JSON Schema of the action's input.
func (a *Webhook) InputSchema() []byte { return schema(NameWebhook) }

// Webhook signing schemes.
const (
	SchemeStandard = "standard"
	SchemeGitHub   = "github"
	SchemeStripe   = "stripe"
	SchemeHMAC     = "hmac"
	SchemeNone     = "none"
)

// webhookInput is a validated webhook input.
type webhookInput struct {
	url       *url.URL
	scheme    string
	secret    string
	eventType string
	payload   any
	timestamp string // as given, RFC 3339
	eventTime time.Time
	headers   map[string][]string
	timeout   time.Duration
	hmac      signature.Options
}

func parseWebhookInput(m map[string]any) (*webhookInput, error) {
	in := newInput(m, "url", "scheme", "secret", "type", "payload", "timestamp", "headers", "timeout",
		"header", "algorithm", "encoding", "prefix")
	wi := &webhookInput{
		url:       in.url("url"),
		scheme:    in.oneOf("scheme", SchemeStandard, SchemeStandard, SchemeGitHub, SchemeStripe, SchemeHMAC, SchemeNone),
		eventType: in.str("type"),
		payload:   m["payload"],
		timestamp: in.str("timestamp"),
		headers:   in.stringMap("headers", false),
		timeout:   in.duration("timeout"),
		hmac: signature.Options{
			Header:    in.str("header"),
			Algorithm: in.str("algorithm"),
			Encoding:  in.str("encoding"),
			Prefix:    in.str("prefix"),
		},
	}
	if wi.scheme == SchemeNone {
		if in.has("secret") {
			in.failf(`"secret" is not used with scheme none`)
		}
	} else {
		wi.secret = in.required("secret")
	}
	if !in.has("payload") {
		in.failf(`"payload" is required`)
	}
	if wi.scheme != SchemeHMAC {
		for _, k := range []string{"header", "algorithm", "encoding", "prefix"} {
			if in.has(k) {
				in.failf("%q is only used with scheme hmac", k)
			}
		}
	} else if wi.hmac.Header == "" {
		in.failf(`"header" is required with scheme hmac`)
	}
	if wi.timestamp != "" {
		t, err := time.Parse(time.RFC3339, wi.timestamp)
		if err != nil {
			in.failf(`"timestamp" must be an RFC 3339 time like 2024-05-01T12:00:00Z, got %s`, quoteShort(wi.timestamp))
		}
		wi.eventTime = t
	}
	if err := in.err(NameWebhook); err != nil {
		return nil, redact(err, wi.secret)
	}
	return wi, nil
}

// Execute makes one delivery attempt.
func (a *Webhook) Execute(ctx context.Context, req Request) (map[string]any, error) {
	in, err := parseWebhookInput(req.Input)
	if err != nil {
		return nil, err
	}
	if err := a.policy.CheckURL(in.url); err != nil {
		return nil, Permanent(fmt.Errorf("webhook: %w", err))
	}
	key := req.IdempotencyKey
	if key == "" && (req.RunID != "" || req.StepID != "") {
		key = req.RunID + "/" + req.StepID
	}
	if key == "" {
		return nil, Permanent(errors.New("webhook: the request has no idempotency key to derive the delivery id from"))
	}
	id := DeliveryID(in.scheme, key)
	now := a.now()
	body, err := webhookBody(in, id, now)
	if err != nil {
		return nil, Permanent(fmt.Errorf("webhook: encode payload: %w", err))
	}
	signed, err := a.sign(in, id, body, now)
	if err != nil {
		return nil, Permanent(redact(fmt.Errorf("webhook: sign: %w", err), in.secret))
	}

	if in.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, in.timeout)
		defer cancel()
	}
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, in.url.String(), bytes.NewReader(body))
	if err != nil {
		return nil, Permanent(fmt.Errorf("webhook: build request: %w", err))
	}
	for k, vs := range in.headers {
		hreq.Header.Set(k, vs[0])
	}
	hreq.Header.Set("Content-Type", "application/json")
	if hreq.Header.Get("User-Agent") == "" {
		hreq.Header.Set("User-Agent", userAgent)
	}
	if in.scheme == SchemeGitHub && in.eventType != "" {
		hreq.Header.Set("X-GitHub-Event", in.eventType)
	}
	for k, v := range signed {
		hreq.Header.Set(k, v)
	}

	details := map[string]any{"webhook_id": id}
	start := time.Now()
	resp, err := a.client.Do(hreq)
	if err != nil {
		details["latency_ms"] = millis(time.Since(start))
		return nil, WithDetails(redact(transportError(NameWebhook, http.MethodPost, in.url, err), in.secret), details)
	}
	prefix, _, readErr := readLimited(resp.Body, ResponsePrefix)
	drainClose(resp.Body)
	latency := millis(time.Since(start))
	response := scrub(textPrefix(prefix, ResponsePrefix), in.secret)
	details["status"] = resp.StatusCode
	details["latency_ms"] = latency
	details["response"] = response
	if readErr != nil && !errors.Is(readErr, io.EOF) {
		return nil, WithDetails(Retryable(fmt.Errorf("webhook: POST %s: read response: %w",
			redactURL(in.url), readErr)), details)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		msg := fmt.Sprintf("webhook: POST %s: delivery %s refused with status %s", redactURL(in.url), id, resp.Status)
		if resp.StatusCode >= 300 && resp.StatusCode < 400 {
			msg += " (redirects are not followed)"
		}
		return nil, WithDetails(statusError(errors.New(msg), resp, a.now()), details)
	}
	return map[string]any{
		"webhook_id": id,
		"status":     resp.StatusCode,
		"latency_ms": latency,
		"attempt":    req.Attempt,
		"response":   response,
	}, nil
}

// sign returns the signature headers of one delivery.
func (a *Webhook) sign(in *webhookInput, id string, body []byte, now time.Time) (map[string]string, error) {
	if in.scheme == SchemeNone {
		return nil, nil
	}
	opts := signature.Options{}
	if in.scheme == SchemeHMAC {
		opts = in.hmac
	}
	s, err := signature.New(in.scheme, opts)
	if err != nil {
		return nil, err
	}
	return s.Sign(signature.Message{URL: in.url.String(), Body: body, ID: id, Timestamp: now}, in.secret)
}

// standardEvent is the Standard Webhooks payload envelope, fields in the
// order the specification shows them.
type standardEvent struct {
	Type      string `json:"type"`
	Timestamp string `json:"timestamp"`
	Data      any    `json:"data"`
}

// stripeEvent is the shape of a Stripe event object.
type stripeEvent struct {
	ID      string     `json:"id"`
	Object  string     `json:"object"`
	Type    string     `json:"type"`
	Created int64      `json:"created"`
	Data    stripeData `json:"data"`
}

type stripeData struct {
	Object any `json:"object"`
}

// webhookBody encodes the body of one delivery (see Webhook).
func webhookBody(in *webhookInput, id string, now time.Time) ([]byte, error) {
	eventTime := now
	if !in.eventTime.IsZero() {
		eventTime = in.eventTime
	}
	switch {
	case in.eventType == "":
		return encodeJSON(in.payload)
	case in.scheme == SchemeStandard:
		ts := in.timestamp
		if ts == "" {
			ts = eventTime.UTC().Format(time.RFC3339Nano)
		}
		return encodeJSON(standardEvent{Type: in.eventType, Timestamp: ts, Data: in.payload})
	case in.scheme == SchemeStripe:
		return encodeJSON(stripeEvent{ID: id, Object: "event", Type: in.eventType, Created: eventTime.Unix(),
			Data: stripeData{Object: in.payload}})
	}
	return encodeJSON(in.payload)
}

var deliveryEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// DeliveryID derives the delivery id of a webhook step from its
// idempotency key: "msg_" (stripe: "evt_") and 24 base32 characters of the
// key's SHA-256. The same key always gives the same id.
func DeliveryID(scheme, idempotencyKey string) string {
	sum := sha256.Sum256([]byte(idempotencyKey))
	prefix := "msg_"
	if scheme == SchemeStripe {
		prefix = "evt_"
	}
	return prefix + strings.ToLower(deliveryEncoding.EncodeToString(sum[:15]))
}

// redactedError hides a secret from an error's text while keeping the
// error's chain for errors.Is and errors.As.
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }

// redact returns err with every occurrence of secret in its text replaced,
// keeping its retry decision at the top of the chain.
func redact(err error, secret string) error {
	if err == nil || secret == "" || !strings.Contains(err.Error(), secret) {
		return err
	}
	var ae *Error
	if errors.As(err, &ae) {
		c := *ae
		c.Err = &redactedError{msg: scrub(err.Error(), secret), err: ae.Err}
		return &c
	}
	return &redactedError{msg: scrub(err.Error(), secret), err: err}
}

// scrub replaces every occurrence of secret in s.
func scrub(s, secret string) string {
	if secret == "" {
		return s
	}
	return strings.ReplaceAll(s, secret, "[redacted]")
}

var (
	_ Action  = (*Webhook)(nil)
	_ Schemer = (*Webhook)(nil)
)
