package actions

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// testSecret is a Standard Webhooks secret: whsec_ and a base64 key.
var (
	testKey    = []byte("receiver-key-0123456789abcdef")
	testSecret = "whsec_" + base64.StdEncoding.EncodeToString(testKey)
)

// delivery is one request a receiver got and what its own check said.
type delivery struct {
	header http.Header
	body   []byte
	err    error // nil when the signature verified
}

// answer is what a receiver answers to one delivery.
type answer struct {
	status     int
	retryAfter string
	body       string
}

// receiver is a webhook endpoint that verifies signatures with code of its
// own, independent of the signature package, and answers from a script
// (200 once the script is used up).
type receiver struct {
	srv    *httptest.Server
	verify func(h http.Header, body []byte) error

	mu         sync.Mutex
	answers    []answer
	deliveries []delivery
}

func newReceiver(t testing.TB, verify func(h http.Header, body []byte) error, answers ...answer) *receiver {
	t.Helper()
	r := &receiver{verify: verify, answers: answers}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		d := delivery{header: req.Header.Clone(), body: body}
		if req.Method != http.MethodPost {
			d.err = fmt.Errorf("method %s", req.Method)
		} else if r.verify != nil {
			d.err = r.verify(req.Header, body)
		}
		r.mu.Lock()
		r.deliveries = append(r.deliveries, d)
		a := answer{status: http.StatusOK, body: "ok"}
		if len(r.answers) > 0 {
			a, r.answers = r.answers[0], r.answers[1:]
		}
		r.mu.Unlock()
		if a.retryAfter != "" {
			w.Header().Set("Retry-After", a.retryAfter)
		}
		if d.err != nil {
			http.Error(w, d.err.Error(), http.StatusUnauthorized)
			return
		}
		w.WriteHeader(a.status)
		_, _ = io.WriteString(w, a.body)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) got() []delivery {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]delivery(nil), r.deliveries...)
}

// verifyStandard checks a Standard Webhooks signature: base64
// HMAC-SHA256 over "id.timestamp.body" keyed with the decoded whsec_ secret.
func verifyStandard(secret string) func(http.Header, []byte) error {
	return func(h http.Header, body []byte) error {
		id, ts, sigs := h.Get("webhook-id"), h.Get("webhook-timestamp"), h.Get("webhook-signature")
		if id == "" || ts == "" || sigs == "" {
			return errors.New("missing webhook headers")
		}
		key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
		if err != nil {
			return err
		}
		mac := hmac.New(sha256.New, key)
		mac.Write([]byte(id + "." + ts + "." + string(body)))
		want := "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
		for _, s := range strings.Fields(sigs) {
			if hmac.Equal([]byte(s), []byte(want)) {
				return nil
			}
		}
		return errors.New("standard signature mismatch")
	}
}

// verifyGitHub checks X-Hub-Signature-256: sha256=hex(HMAC-SHA256(secret, body)).
func verifyGitHub(secret string) func(http.Header, []byte) error {
	return func(h http.Header, body []byte) error {
		mac := hmac.New(sha256.New, []byte(secret))
		mac.Write(body)
		if !hmac.Equal([]byte(h.Get("X-Hub-Signature-256")), []byte("sha256="+hex.EncodeToString(mac.Sum(nil)))) {
			return errors.New("github signature mismatch")
		}
		return nil
	}
}

// verifyStripe checks Stripe-Signature: t=<ts>,v1=hex(HMAC-SHA256(secret, "ts.body")).
func verifyStripe(secret string) func(http.Header, []byte) error {
	return func(h http.Header, body []byte) error {
		var ts string
		var v1 []string
		for _, part := range strings.Split(h.Get("Stripe-Signature"), ",") {
			k, v, _ := strings.Cut(part, "=")
			switch k {
			case "t":
				ts = v
			case "v1":
				v1 = append(v1, v)
			}
		}
		mac := hmac.New(sha256.New, []byte(secret))
		mac.Write([]byte(ts + "." + string(body)))
		want := hex.EncodeToString(mac.Sum(nil))
		for _, s := range v1 {
			if hmac.Equal([]byte(s), []byte(want)) {
				return nil
			}
		}
		return errors.New("stripe signature mismatch")
	}
}

func deliveryInput(url string, extra map[string]any) map[string]any {
	in := map[string]any{"url": url, "secret": testSecret, "payload": map[string]any{"customer": "cus_1", "n": 2}}
	for k, v := range extra {
		in[k] = v
	}
	return in
}

func TestWebhookStandard(t *testing.T) {
	t.Parallel()
	rcv := newReceiver(t, verifyStandard(testSecret))
	a := NewWebhook(NetOptions{AllowList: loopback, Now: func() time.Time { return fixedNow }})
	req := request(deliveryInput(rcv.srv.URL+"/hooks", map[string]any{"type": "account.activated"}))
	req.Attempt = 2

	out, err := a.Execute(t.Context(), req)
	if err != nil {
		t.Fatalf("Execute: %v", err)
	}
	ds := rcv.got()
	if len(ds) != 1 || ds[0].err != nil {
		t.Fatalf("receiver: %d deliveries, first error %v", len(ds), ds[0].err)
	}
	d := ds[0]
	wantID := DeliveryID(SchemeStandard, req.IdempotencyKey)
	wantBody := `{"type":"account.activated","timestamp":"2025-03-14T15:09:26Z","data":{"customer":"cus_1","n":2}}`
	if string(d.body) != wantBody {
		t.Errorf("body\n got %s\nwant %s", d.body, wantBody)
	}
	for k, want := range map[string]string{
		"webhook-id":        wantID,
		"webhook-timestamp": strconv.FormatInt(fixedNow.Unix(), 10),
		"Content-Type":      "application/json",
		"User-Agent":        "hookflow",
	} {
		if got := d.header.Get(k); got != want {
			t.Errorf("header %s = %q, want %q", k, got, want)
		}
	}
	if !strings.HasPrefix(wantID, "msg_") || len(wantID) != 28 {
		t.Errorf("delivery id %q, want msg_ and 24 characters", wantID)
	}
	if out["webhook_id"] != wantID || out["status"] != 200 || out["attempt"] != 2 || out["response"] != "ok" {
		t.Errorf("outputs %v", out)
	}
	if ms, ok := out["latency_ms"].(float64); !ok || ms < 0 {
		t.Errorf("latency_ms %#v", out["latency_ms"])
	}

	t.Run("without type the payload goes as is", func(t *testing.T) {
		_, err := a.Execute(t.Context(), request(deliveryInput(rcv.srv.URL, map[string]any{"payload": []any{"x", 1}})))
		if err != nil {
			t.Fatal(err)
		}
		ds := rcv.got()
		if d := ds[len(ds)-1]; d.err != nil || string(d.body) != `["x",1]` {
			t.Errorf("delivery %s, %v", d.body, d.err)
		}
	})
	t.Run("given timestamp", func(t *testing.T) {
		_, err := a.Execute(t.Context(), request(deliveryInput(rcv.srv.URL, map[string]any{
			"type": "t", "payload": "p", "timestamp": "2024-05-01T12:00:00+02:00",
			"headers": map[string]any{"X-Tenant": "acme", "webhook-id": "forged"},
		})))
		if err != nil {
			t.Fatal(err)
		}
		ds := rcv.got()
		d := ds[len(ds)-1]
		if d.err != nil || string(d.body) != `{"type":"t","timestamp":"2024-05-01T12:00:00+02:00","data":"p"}` {
			t.Errorf("delivery %s, %v", d.body, d.err)
		}
		if d.header.Get("X-Tenant") != "acme" || d.header.Get("webhook-id") == "forged" {
			t.Errorf("headers %v", d.header)
		}
	})
}

func TestWebhookSameIDAcrossAttempts(t *testing.T) {
	t.Parallel()
	rcv := newReceiver(t, verifyStandard(testSecret),
		answer{status: 500, body: "down"}, answer{status: 503, retryAfter: "2"})
	a := NewWebhook(NetOptions{AllowList: loopback})
	input := deliveryInput(rcv.srv.URL, map[string]any{"type": "order.paid"})

	var ids []string
	for attempt := 1; attempt <= 3; attempt++ {
		req := request(input)
		req.Attempt = attempt
		out, err := a.Execute(t.Context(), req)
		switch attempt {
		case 1, 2:
			if err == nil || IsPermanent(err) {
				t.Fatalf("attempt %d: %v, want retryable", attempt, err)
			}
			d := DetailsOf(err)
			ids = append(ids, d["webhook_id"].(string))
			if attempt == 1 && (d["status"] != 500 || d["response"] != "down") {
				t.Errorf("attempt 1 details %v", d)
			}
			if attempt == 2 && RetryHint(err) != 2*time.Second {
				t.Errorf("attempt 2 hint %v", RetryHint(err))
			}
		case 3:
			if err != nil {
				t.Fatalf("attempt 3: %v", err)
			}
			ids = append(ids, out["webhook_id"].(string))
			if out["attempt"] != 3 {
				t.Errorf("outputs %v", out)
			}
		}
	}
	ds := rcv.got()
	if len(ds) != 3 {
		t.Fatalf("%d deliveries, want 3", len(ds))
	}
	for i, d := range ds {
		if d.err != nil {
			t.Errorf("delivery %d: %v", i+1, d.err)
		}
		if got := d.header.Get("webhook-id"); got != ids[0] || ids[i] != ids[0] {
			t.Errorf("delivery %d has id %q (reported %q), want %q", i+1, got, ids[i], ids[0])
		}
	}
	other := request(input)
	other.IdempotencyKey = "another-run/call"
	if DeliveryID(SchemeStandard, other.IdempotencyKey) == ids[0] {
		t.Error("another step's delivery has the same id")
	}
}

func TestWebhookStatuses(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		answer     answer
		permanent  bool
		retryAfter time.Duration
		suffix     string
	}{
		{"500 retryable", answer{status: 500}, false, 0, "refused with status 500 Internal Server Error"},
		{"502 retryable", answer{status: 502}, false, 0, ""},
		{"429 with Retry-After 3", answer{status: 429, retryAfter: "3"}, false, 3 * time.Second, ""},
		{"503 with Retry-After date", answer{status: 503, retryAfter: fixedNow.Add(time.Minute).Format(http.TimeFormat)}, false, time.Minute, ""},
		{"408 retryable", answer{status: 408}, false, 0, ""},
		{"400 permanent", answer{status: 400, body: "bad"}, true, 0, "refused with status 400 Bad Request"},
		{"410 permanent", answer{status: 410}, true, 0, "refused with status 410 Gone"},
		{"404 permanent", answer{status: 404}, true, 0, ""},
		{"301 permanent, not followed", answer{status: 301}, true, 0, "refused with status 301 Moved Permanently (redirects are not followed)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rcv := newReceiver(t, verifyStandard(testSecret), tt.answer)
			a := NewWebhook(NetOptions{AllowList: loopback, Now: func() time.Time { return fixedNow }})
			req := request(deliveryInput(rcv.srv.URL+"/in?token=abc", nil))
			_, err := a.Execute(t.Context(), req)
			if err == nil {
				t.Fatal("Execute succeeded")
			}
			if IsPermanent(err) != tt.permanent || RetryHint(err) != tt.retryAfter {
				t.Errorf("permanent %v hint %v, want %v %v (%v)", IsPermanent(err), RetryHint(err), tt.permanent, tt.retryAfter, err)
			}
			id := DeliveryID(SchemeStandard, req.IdempotencyKey)
			prefix := "webhook: POST " + rcv.srv.URL + "/in: delivery " + id + " "
			if !strings.HasPrefix(err.Error(), prefix) || !strings.HasSuffix(err.Error(), tt.suffix) {
				t.Errorf("error %q, want %q...%q", err, prefix, tt.suffix)
			}
			d := DetailsOf(err)
			if d["status"] != tt.answer.status || d["webhook_id"] != id || d["response"] != tt.answer.body {
				t.Errorf("details %v", d)
			}
			if _, ok := d["latency_ms"].(float64); !ok {
				t.Errorf("details lack latency_ms: %v", d)
			}
			if len(rcv.got()) != 1 {
				t.Errorf("%d deliveries, want 1", len(rcv.got()))
			}
		})
	}

	t.Run("network error retryable with details", func(t *testing.T) {
		t.Parallel()
		rcv := newReceiver(t, nil)
		target := rcv.srv.URL
		rcv.srv.Close()
		_, err := NewWebhook(NetOptions{AllowList: loopback}).Execute(t.Context(), request(deliveryInput(target, nil)))
		if err == nil || IsPermanent(err) {
			t.Fatalf("err %v, want retryable", err)
		}
		if d := DetailsOf(err); d["webhook_id"] == nil || d["latency_ms"] == nil {
			t.Errorf("details %v", d)
		}
	})
	t.Run("timeout retryable", func(t *testing.T) {
		t.Parallel()
		f := setup(t)
		_, err := NewWebhook(f.opts).Execute(t.Context(), request(deliveryInput(f.url("/hang"), map[string]any{"timeout": "50ms"})))
		if err == nil || IsPermanent(err) {
			t.Fatalf("err %v, want retryable", err)
		}
	})
}

func TestWebhookSchemes(t *testing.T) {
	t.Parallel()
	const ghSecret, stripeSecret = "gh-hook-secret-42", "whsec_stripe0123456789"
	tests := []struct {
		name   string
		verify func(http.Header, []byte) error
		input  map[string]any
		check  func(t *testing.T, d delivery, id string)
	}{
		{
			name:   "github",
			verify: verifyGitHub(ghSecret),
			input:  map[string]any{"scheme": "github", "secret": ghSecret, "type": "push"},
			check: func(t *testing.T, d delivery, id string) {
				if string(d.body) != `{"customer":"cus_1","n":2}` {
					t.Errorf("body %s", d.body)
				}
				if d.header.Get("X-GitHub-Event") != "push" || d.header.Get("X-GitHub-Delivery") != id {
					t.Errorf("headers %v", d.header)
				}
				if d.header.Get("webhook-signature") != "" {
					t.Error("a standard signature was sent too")
				}
			},
		},
		{
			name:   "stripe event envelope",
			verify: verifyStripe(stripeSecret),
			input:  map[string]any{"scheme": "stripe", "secret": stripeSecret, "type": "invoice.paid"},
			check: func(t *testing.T, d delivery, id string) {
				want := fmt.Sprintf(`{"id":"%s","object":"event","type":"invoice.paid","created":%d,"data":{"object":{"customer":"cus_1","n":2}}}`,
					id, fixedNow.Unix())
				if string(d.body) != want {
					t.Errorf("body\n got %s\nwant %s", d.body, want)
				}
				if !strings.HasPrefix(id, "evt_") {
					t.Errorf("id %q", id)
				}
				if !strings.HasPrefix(d.header.Get("Stripe-Signature"), fmt.Sprintf("t=%d,", fixedNow.Unix())) {
					t.Errorf("Stripe-Signature %q", d.header.Get("Stripe-Signature"))
				}
			},
		},
		{
			name:   "stripe without type",
			verify: verifyStripe(stripeSecret),
			input:  map[string]any{"scheme": "stripe", "secret": stripeSecret},
			check: func(t *testing.T, d delivery, id string) {
				if string(d.body) != `{"customer":"cus_1","n":2}` {
					t.Errorf("body %s", d.body)
				}
			},
		},
		{
			name: "hmac sha512 base64 with prefix",
			verify: func(h http.Header, body []byte) error {
				mac := hmac.New(sha512.New, []byte("plain-key"))
				mac.Write(body)
				if h.Get("X-Signature") != "sig="+base64.StdEncoding.EncodeToString(mac.Sum(nil)) {
					return errors.New("hmac mismatch")
				}
				return nil
			},
			input: map[string]any{"scheme": "hmac", "secret": "plain-key", "header": "X-Signature",
				"algorithm": "sha512", "encoding": "base64", "prefix": "sig="},
			check: func(t *testing.T, d delivery, id string) {},
		},
		{
			name:  "none",
			input: map[string]any{"scheme": "none", "secret": nil},
			check: func(t *testing.T, d delivery, id string) {
				for _, h := range []string{"webhook-signature", "X-Hub-Signature-256", "Stripe-Signature"} {
					if d.header.Get(h) != "" {
						t.Errorf("unsigned delivery has %s", h)
					}
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rcv := newReceiver(t, tt.verify)
			a := NewWebhook(NetOptions{AllowList: loopback, Now: func() time.Time { return fixedNow }})
			req := request(deliveryInput(rcv.srv.URL, tt.input))
			if tt.input["secret"] == nil {
				delete(req.Input, "secret")
			}
			out, err := a.Execute(t.Context(), req)
			if err != nil {
				t.Fatalf("Execute: %v", err)
			}
			ds := rcv.got()
			if len(ds) != 1 || ds[0].err != nil {
				t.Fatalf("receiver: %d deliveries, %v", len(ds), ds[0].err)
			}
			tt.check(t, ds[0], out["webhook_id"].(string))
		})
	}
}

func TestWebhookKeepsSecret(t *testing.T) {
	t.Parallel()
	// A receiver that quotes the secret back (as a careless one might when
	// it reports what it expected).
	echo := newReceiver(t, nil,
		answer{status: 200, body: "expected key " + testSecret},
		answer{status: 400, body: "expected key " + testSecret})
	a := NewWebhook(NetOptions{AllowList: loopback})

	out, err := a.Execute(t.Context(), request(deliveryInput(echo.srv.URL, nil)))
	if err != nil {
		t.Fatal(err)
	}
	_, err2 := a.Execute(t.Context(), request(deliveryInput(echo.srv.URL, nil)))
	if err2 == nil {
		t.Fatal("second delivery succeeded")
	}

	badSecret := "whsec_%%%not-base64-" + "Zm9vYmFy"
	_, err3 := a.Execute(t.Context(), request(deliveryInput(echo.srv.URL, map[string]any{"secret": badSecret})))
	_, err4 := a.Execute(t.Context(), request(deliveryInput(echo.srv.URL, map[string]any{"scheme": "bogus" + testSecret, "extra": testSecret})))
	_, err5 := a.Execute(t.Context(), request(deliveryInput(echo.srv.URL, map[string]any{"timestamp": testSecret})))
	for i, err := range []error{err3, err4, err5} {
		if err == nil || !IsPermanent(err) {
			t.Errorf("bad input %d: %v, want a permanent error", i+3, err)
		}
	}

	outJSON, _ := json.Marshal(out)
	texts := []string{string(outJSON)}
	for _, err := range []error{err2, err3, err4, err5} {
		if err != nil {
			details, _ := json.Marshal(DetailsOf(err))
			texts = append(texts, err.Error(), string(details))
		}
	}
	for _, text := range texts {
		for _, s := range []string{testSecret, badSecret, strings.TrimPrefix(testSecret, "whsec_")} {
			if strings.Contains(text, s) {
				t.Errorf("secret shown in %s", text)
			}
		}
	}
	if out["response"] != "expected key [redacted]" {
		t.Errorf("response %q", out["response"])
	}
}

func TestDeliveryID(t *testing.T) {
	t.Parallel()
	a, b := DeliveryID(SchemeStandard, "run-1/notify"), DeliveryID(SchemeStandard, "run-1/notify")
	if a != b {
		t.Errorf("ids differ for one key: %s %s", a, b)
	}
	if DeliveryID(SchemeStandard, "run-1/other") == a {
		t.Error("two keys, one id")
	}
	if got := DeliveryID(SchemeStripe, "run-1/notify"); got != "evt_"+strings.TrimPrefix(a, "msg_") {
		t.Errorf("stripe id %s for %s", got, a)
	}
}
