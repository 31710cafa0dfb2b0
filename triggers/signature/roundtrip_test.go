package signature

import (
	"encoding/base64"
	"errors"
	"maps"
	"net/http"
	"strings"
	"testing"
	"time"
)

// fixture is what one scheme needs for the shared round-trip tests.
type fixture struct {
	scheme  string
	opts    Options
	oldKey  string // a rotated-out secret, still accepted
	newKey  string
	msg     Message
	sigHdr  string // the header carrying the signature
	garbage string // a value of sigHdr that cannot be parsed
	timed   bool   // has a replay window
	// join combines two signature header values into one header that
	// carries both, for schemes that allow it.
	join func(a, b string) string
}

var signedAt = time.Date(2026, 3, 14, 15, 9, 26, 0, time.UTC)

func standardSecret(seed byte) string {
	key := make([]byte, 32)
	for i := range key {
		key[i] = seed + byte(i)
	}
	return "whsec_" + base64.StdEncoding.EncodeToString(key)
}

func fixtures() []fixture {
	body := []byte(`{"id":"evt_42","object":"event","type":"invoice.payment_succeeded","data":{"object":{"customer":"cus_1"}}}`)
	form := []byte("CallSid=CA42&From=%2B15550001111&Body=hello+world&To=%2B15550002222")
	return []fixture{
		{
			scheme: "stripe", oldKey: "whsec_old_stripe", newKey: "whsec_new_stripe",
			msg:    Message{Body: body, Timestamp: signedAt},
			sigHdr: HeaderStripeSignature, garbage: "t=abc,v1=zz", timed: true,
			join: func(a, b string) string {
				_, sigB, _ := strings.Cut(b, ",")
				return a + "," + sigB + ",v0=6ffbb59b2300aae63f272406069a9788598b792a944a07aba816edb039989a39"
			},
		},
		{
			scheme: "github", oldKey: "old github secret", newKey: "new github secret",
			msg:    Message{Body: body, ID: "72d3162e-cc78-11e3-81ab-4c9367dc0958"},
			sigHdr: HeaderGitHubSignature, garbage: "sha1=0123",
		},
		{
			scheme: "standard", oldKey: standardSecret(1), newKey: standardSecret(100),
			msg:    Message{Body: body, ID: "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W", Timestamp: signedAt},
			sigHdr: HeaderStandardSignature, garbage: "v1 g0hM9SsE", timed: true,
			join: func(a, b string) string { return "v1a,ignored+future+version= " + a + " " + b },
		},
		{
			scheme: "slack", oldKey: "slack-old", newKey: "slack-new",
			msg:    Message{Body: form, Timestamp: signedAt},
			sigHdr: HeaderSlackSignature, garbage: "v1=abc", timed: true,
		},
		{
			scheme: "shopify", oldKey: "shpss_old", newKey: "shpss_new",
			msg:    Message{Body: body, ID: "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043"},
			sigHdr: HeaderShopifyHMAC, garbage: "not base64!",
		},
		{
			scheme: "twilio", oldKey: "old-auth-token", newKey: "new-auth-token",
			msg:    Message{URL: "https://hooks.example.com/hooks/sms?tenant=7", Body: form, ID: "idem-42"},
			sigHdr: HeaderTwilioSignature, garbage: "%%%",
		},
		{
			scheme: "hmac", opts: Options{Header: "x-acme-signature", Prefix: "sha256="},
			oldKey: "acme-old", newKey: "acme-new",
			msg:    Message{Body: body},
			sigHdr: "X-Acme-Signature", garbage: "sha256=xyz",
			join: func(a, b string) string { return a + ", " + b },
		},
		{
			scheme: "hmac", opts: Options{Header: "X-Sig", Algorithm: "sha512", Encoding: "base64"},
			oldKey: "b64-old", newKey: "b64-new",
			msg:    Message{Body: body},
			sigHdr: "X-Sig", garbage: "====",
			join: func(a, b string) string { return a + " " + b },
		},
		{
			scheme: "hmac", opts: Options{Header: "X-Sig1", Algorithm: "SHA1"},
			oldKey: "sha1-old", newKey: "sha1-new",
			msg:    Message{Body: body},
			sigHdr: "X-Sig1", garbage: "0xdeadbeef",
		},
	}
}

func (f fixture) name() string {
	if f.scheme == "hmac" {
		return "hmac/" + f.sigHdr
	}
	return f.scheme
}

// unknownKey is a usable secret that signed nothing.
func (f fixture) unknownKey() string {
	if f.scheme == "standard" {
		return standardSecret(200)
	}
	return f.newKey + "?"
}

// signed returns the scheme and the request a real sender would make.
func (f fixture) signed(t *testing.T, secret string) (Scheme, http.Header, Request) {
	t.Helper()
	s, err := New(f.scheme, f.opts)
	if err != nil {
		t.Fatal(err)
	}
	headers, err := s.Sign(f.msg, secret)
	if err != nil {
		t.Fatalf("Sign: %v", err)
	}
	h := http.Header{}
	for k, v := range headers {
		if k != http.CanonicalHeaderKey(k) {
			t.Errorf("Sign returned header %q, not in canonical form %q", k, http.CanonicalHeaderKey(k))
		}
		h.Set(k, v)
	}
	return s, h, Request{URL: f.msg.URL, Header: h.Get, Body: f.msg.Body}
}

func TestRoundTrip(t *testing.T) {
	t.Parallel()
	for _, f := range fixtures() {
		t.Run(f.name(), func(t *testing.T) {
			t.Parallel()
			s, h, req := f.signed(t, f.newKey)
			now := signedAt.Add(time.Minute)
			both := []string{f.oldKey, f.newKey}

			check := func(t *testing.T, name string, err error, want error) {
				t.Helper()
				if want == nil {
					if err != nil {
						t.Errorf("%s: Verify = %v, want nil", name, err)
					}
					return
				}
				if !errors.Is(err, want) {
					t.Errorf("%s: Verify = %v, want %v", name, err, want)
				}
				if err != nil {
					for _, secret := range both {
						if strings.Contains(err.Error(), secret) {
							t.Errorf("%s: error %q contains a secret", name, err)
						}
					}
					if sig := h.Get(f.sigHdr); sig != "" && strings.Contains(err.Error(), sig) {
						t.Errorf("%s: error %q contains the signature", name, err)
					}
				}
			}

			check(t, "signed", s.Verify(req, []string{f.newKey}, now), nil)
			check(t, "rotation: old and new secrets", s.Verify(req, both, now), nil)
			check(t, "rotation: new and old secrets", s.Verify(req, []string{f.newKey, f.oldKey}, now), nil)
			check(t, "wrong secret", s.Verify(req, []string{f.oldKey}, now), ErrMismatch)

			tampered := req
			tampered.Body = append([]byte(nil), req.Body...)
			tampered.Body[len(tampered.Body)/2] ^= 0x01
			check(t, "tampered body", s.Verify(tampered, both, now), ErrMismatch)

			truncated := req
			truncated.Body = req.Body[:len(req.Body)-1]
			check(t, "truncated body", s.Verify(truncated, both, now), ErrMismatch)

			for name := range h {
				if name == HeaderGitHubDelivery || name == HeaderShopifyWebhookID || name == HeaderTwilioIdempotency {
					continue // delivery ids are not part of the signature
				}
				without := h.Clone()
				without.Del(name)
				r := req
				r.Header = without.Get
				check(t, "missing "+name, s.Verify(r, both, now), ErrMissing)
			}
			noHeaders := req
			noHeaders.Header = nil
			check(t, "nil header lookup", s.Verify(noHeaders, both, now), ErrMissing)

			garbled := h.Clone()
			garbled.Set(f.sigHdr, f.garbage)
			r := req
			r.Header = garbled.Get
			check(t, "garbage "+f.sigHdr, s.Verify(r, both, now), ErrMalformed)

			check(t, "no secrets", s.Verify(req, nil, now), ErrSecret)
			check(t, "an empty secret", s.Verify(req, []string{f.newKey, ""}, now), ErrSecret)
			if _, err := s.Sign(f.msg, ""); !errors.Is(err, ErrSecret) {
				t.Errorf("Sign with an empty secret = %v, want ErrSecret", err)
			}
			if err := CheckSecrets(s, both); err != nil {
				t.Errorf("CheckSecrets(good) = %v", err)
			}
			if err := CheckSecrets(s, nil); !errors.Is(err, ErrSecret) {
				t.Errorf("CheckSecrets(nil) = %v, want ErrSecret", err)
			}

			if f.timed {
				tol := DefaultTolerance
				check(t, "at the edge of the past window", s.Verify(req, both, signedAt.Add(tol)), nil)
				check(t, "at the edge of the future window", s.Verify(req, both, signedAt.Add(-tol)), nil)
				check(t, "stale", s.Verify(req, both, signedAt.Add(tol+time.Second)), ErrStale)
				check(t, "future", s.Verify(req, both, signedAt.Add(-tol-time.Second)), ErrStale)
				check(t, "far future", s.Verify(req, both, time.Unix(0, 0)), ErrStale)
				narrow, err := New(f.scheme, Options{Tolerance: 30 * time.Second})
				if err != nil {
					t.Fatal(err)
				}
				check(t, "custom tolerance", narrow.Verify(req, both, signedAt.Add(31*time.Second)), ErrStale)
				check(t, "within custom tolerance", narrow.Verify(req, both, signedAt.Add(30*time.Second)), nil)
				if _, err := s.Sign(Message{URL: f.msg.URL, Body: f.msg.Body, ID: f.msg.ID}, f.newKey); err == nil {
					t.Errorf("Sign without a timestamp = nil error, want one")
				}
			} else {
				check(t, "untimed scheme ignores the clock", s.Verify(req, both, time.Unix(0, 0)), nil)
			}

			if f.join != nil {
				_, hOld, _ := f.signed(t, f.oldKey)
				multi := h.Clone()
				multi.Set(f.sigHdr, f.join(hOld.Get(f.sigHdr), h.Get(f.sigHdr)))
				r := req
				r.Header = multi.Get
				check(t, "several signatures, new secret", s.Verify(r, []string{f.newKey}, now), nil)
				check(t, "several signatures, old secret", s.Verify(r, []string{f.oldKey}, now), nil)
				check(t, "several signatures, unknown secret", s.Verify(r, []string{f.unknownKey()}, now), ErrMismatch)
			}
		})
	}
}

func TestSignIsDeterministic(t *testing.T) {
	t.Parallel()
	for _, f := range fixtures() {
		t.Run(f.name(), func(t *testing.T) {
			t.Parallel()
			s, err := New(f.scheme, f.opts)
			if err != nil {
				t.Fatal(err)
			}
			a, errA := s.Sign(f.msg, f.newKey)
			b, errB := s.Sign(f.msg, f.newKey)
			if errA != nil || errB != nil {
				t.Fatal(errA, errB)
			}
			if !maps.Equal(a, b) {
				t.Errorf("two signatures of one message differ: %v and %v", a, b)
			}
			for _, v := range a {
				if strings.Contains(v, f.newKey) {
					t.Errorf("header value %q contains the secret", v)
				}
			}
		})
	}
}

func TestDeliveryID(t *testing.T) {
	t.Parallel()
	tests := []struct {
		scheme  string
		headers map[string]string
		body    string
		want    string
	}{
		{"standard", map[string]string{"webhook-id": " msg_1 "}, "", "msg_1"},
		{"github", map[string]string{"X-GitHub-Delivery": "72d3162e"}, "", "72d3162e"},
		{"shopify", map[string]string{"x-shopify-webhook-id": "b545"}, "", "b545"},
		{"twilio", map[string]string{"I-Twilio-Idempotency-Token": "tok"}, "", "tok"},
		{"stripe", nil, `{"id":"evt_1","object":"event"}`, "evt_1"},
		{"stripe", nil, `{"object":"event","data":{"id":"inner"},"id":"evt_2"}`, "evt_2"},
		{"stripe", nil, `{"object":"event"}`, ""},
		{"stripe", nil, `not json`, ""},
		{"slack", map[string]string{"X-Slack-Request-Timestamp": "1"}, `{"id":"x"}`, ""},
		{"none", map[string]string{"webhook-id": "x"}, `{"id":"x"}`, ""},
		{"github", nil, "", ""},
	}
	for _, tt := range tests {
		s, err := New(tt.scheme, Options{})
		if err != nil {
			t.Fatal(err)
		}
		req := Request{Header: headerLookup(tt.headers), Body: []byte(tt.body)}
		if tt.headers == nil {
			req.Header = nil
		}
		if got := s.DeliveryID(req); got != tt.want {
			t.Errorf("%s: DeliveryID = %q, want %q", tt.scheme, got, tt.want)
		}
	}
	hm, err := New("hmac", Options{Header: "X-Sig"})
	if err != nil {
		t.Fatal(err)
	}
	if got := hm.DeliveryID(Request{Header: headerLookup(map[string]string{"webhook-id": "x"})}); got != "" {
		t.Errorf("hmac: DeliveryID = %q, want empty", got)
	}
}

func TestNone(t *testing.T) {
	t.Parallel()
	s, err := New("none", Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Verify(Request{}, nil, time.Time{}); err != nil {
		t.Errorf("Verify = %v, want nil", err)
	}
	h, err := s.Sign(Message{Body: []byte("x")}, "")
	if err != nil || len(h) != 0 || h == nil {
		t.Errorf("Sign = %v, %v; want an empty map", h, err)
	}
	if err := CheckSecrets(s, nil); err != nil {
		t.Errorf("CheckSecrets = %v, want nil", err)
	}
}
