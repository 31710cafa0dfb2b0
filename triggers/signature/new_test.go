package signature

import (
	"flag"
	"os"
	"slices"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/")

func TestNames(t *testing.T) {
	t.Parallel()
	names := Names()
	if !slices.IsSorted(names) {
		t.Errorf("Names() = %v, not sorted", names)
	}
	want := []string{"github", "hmac", "none", "shopify", "slack", "standard", "stripe", "twilio"}
	if !slices.Equal(names, want) {
		t.Errorf("Names() = %v, want %v", names, want)
	}
	names[0] = "mutated"
	if Names()[0] != "github" {
		t.Error("Names() shares its slice between calls")
	}
	for _, n := range want {
		opts := Options{}
		if n == "hmac" {
			opts.Header = "X-Sig"
		}
		s, err := New(n, opts)
		if err != nil {
			t.Errorf("New(%q): %v", n, err)
			continue
		}
		if s.Name() != n {
			t.Errorf("New(%q).Name() = %q", n, s.Name())
		}
	}
}

func TestNewErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		scheme string
		opts   Options
		want   string // substring of the error
	}{
		{"unknown scheme", "paypal", Options{}, `unknown scheme "paypal" (known: github, hmac, none, shopify, slack, standard, stripe, twilio)`},
		{"names are case-sensitive", "Stripe", Options{}, `unknown scheme "Stripe"`},
		{"empty name", "", Options{}, `unknown scheme ""`},
		{"negative tolerance", "stripe", Options{Tolerance: -time.Second}, "tolerance must not be negative"},
		{"hmac header on stripe", "stripe", Options{Header: "X-Sig"}, "stripe: option header applies only to scheme hmac"},
		{"algorithm on github", "github", Options{Algorithm: "sha1"}, "github: option algorithm applies only to scheme hmac"},
		{"encoding on standard", "standard", Options{Encoding: "base64"}, "standard: option encoding applies only to scheme hmac"},
		{"prefix on none", "none", Options{Prefix: "x="}, "none: option prefix applies only to scheme hmac"},
		{"hmac without header", "hmac", Options{}, "hmac: option header is required"},
		{"hmac header with a space", "hmac", Options{Header: "X Sig"}, `option header "X Sig" is not a valid header name`},
		{"hmac header with a colon", "hmac", Options{Header: "X-Sig:"}, "is not a valid header name"},
		{"hmac md5", "hmac", Options{Header: "X-Sig", Algorithm: "md5"}, `option algorithm "md5" is not one of sha1, sha256, sha512`},
		{"hmac base32", "hmac", Options{Header: "X-Sig", Encoding: "base32"}, `option encoding "base32" is not one of hex, base64`},
		{"hmac prefix with a comma", "hmac", Options{Header: "X-Sig", Prefix: "a,b="}, "option prefix must not contain a comma or white space"},
		{"hmac prefix with a newline", "hmac", Options{Header: "X-Sig", Prefix: "a\r\nb"}, "option prefix must not contain"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, err := New(tt.scheme, tt.opts)
			if err == nil {
				t.Fatalf("New = %v, nil; want an error", s)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("New error = %q, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestNewAcceptsToleranceEverywhere(t *testing.T) {
	t.Parallel()
	for _, n := range []string{"stripe", "github", "standard", "slack", "shopify", "twilio", "none"} {
		if _, err := New(n, Options{Tolerance: time.Hour}); err != nil {
			t.Errorf("New(%q, tolerance 1h): %v", n, err)
		}
	}
}

// TestErrorTexts pins what users read in logs for each failure, and checks
// that no text quotes a secret or an expected signature.
func TestErrorTexts(t *testing.T) {
	t.Parallel()
	const secret = "whsec_c2VjcmV0LXRoYXQtbXVzdC1uZXZlci1sZWFr"
	body := []byte(`{"id":"evt_1"}`)
	now := time.Unix(1700000000, 0)
	std, _ := New("standard", Options{})
	stdHeaders, err := std.Sign(Message{Body: body, ID: "msg_1", Timestamp: now}, secret)
	if err != nil {
		t.Fatal(err)
	}
	expected := stdHeaders[HeaderStandardSignature]

	type tc struct {
		name    string
		scheme  string
		opts    Options
		secrets []string
		url     string
		headers map[string]string
		body    []byte
	}
	cases := []tc{
		{"stripe/missing", "stripe", Options{}, []string{secret}, "", nil, body},
		{"stripe/no-timestamp", "stripe", Options{}, []string{secret}, "", map[string]string{"Stripe-Signature": "v1=" + strings.Repeat("a", 64)}, body},
		{"stripe/not-key-value", "stripe", Options{}, []string{secret}, "", map[string]string{"Stripe-Signature": "t=1700000000,garbage"}, body},
		{"stripe/two-timestamps", "stripe", Options{}, []string{secret}, "", map[string]string{"Stripe-Signature": "t=1,t=2,v1=" + strings.Repeat("a", 64)}, body},
		{"stripe/bad-v1", "stripe", Options{}, []string{secret}, "", map[string]string{"Stripe-Signature": "t=1700000000,v1=abc"}, body},
		{"stripe/only-v0", "stripe", Options{}, []string{secret}, "", map[string]string{"Stripe-Signature": "t=1700000000,v0=" + strings.Repeat("a", 64)}, body},
		{"stripe/too-many", "stripe", Options{}, []string{secret}, "", map[string]string{"Stripe-Signature": "t=1700000000" + strings.Repeat(",v1="+strings.Repeat("a", 64), 17)}, body},
		{"stripe/stale", "stripe", Options{}, []string{secret}, "", map[string]string{"Stripe-Signature": "t=1699999000,v1=" + strings.Repeat("a", 64)}, body},
		{"stripe/future", "stripe", Options{}, []string{secret}, "", map[string]string{"Stripe-Signature": "t=1700000400,v1=" + strings.Repeat("a", 64)}, body},
		{"stripe/mismatch", "stripe", Options{}, []string{secret, secret + "2"}, "", map[string]string{"Stripe-Signature": "t=1700000000,v1=" + strings.Repeat("a", 64)}, body},
		{"stripe/no-secret", "stripe", Options{}, nil, "", nil, body},
		{"stripe/empty-secret", "stripe", Options{}, []string{secret, ""}, "", nil, body},
		{"github/prefix", "github", Options{}, []string{secret}, "", map[string]string{"X-Hub-Signature-256": "sha1=" + strings.Repeat("a", 40)}, body},
		{"github/short", "github", Options{}, []string{secret}, "", map[string]string{"X-Hub-Signature-256": "sha256=abc"}, body},
		{"standard/missing-id", "standard", Options{}, []string{secret}, "", map[string]string{"webhook-timestamp": "1700000000", "webhook-signature": expected}, body},
		{"standard/bad-timestamp", "standard", Options{}, []string{secret}, "", map[string]string{"webhook-id": "msg_1", "webhook-timestamp": "-5", "webhook-signature": expected}, body},
		{"standard/no-comma", "standard", Options{}, []string{secret}, "", map[string]string{"webhook-id": "msg_1", "webhook-timestamp": "1700000000", "webhook-signature": "v1"}, body},
		{"standard/no-v1", "standard", Options{}, []string{secret}, "", map[string]string{"webhook-id": "msg_1", "webhook-timestamp": "1700000000", "webhook-signature": "v1a,abc"}, body},
		{"standard/bad-secret", "standard", Options{}, []string{"whsec_not base64!"}, "", map[string]string{"webhook-id": "msg_1", "webhook-timestamp": "1700000000", "webhook-signature": expected}, body},
		{"standard/empty-after-prefix", "standard", Options{}, []string{secret, "whsec_"}, "", map[string]string{"webhook-id": "msg_1", "webhook-timestamp": "1700000000", "webhook-signature": expected}, body},
		{"standard/mismatch", "standard", Options{}, []string{secret}, "", map[string]string{"webhook-id": "msg_2", "webhook-timestamp": "1700000000", "webhook-signature": expected}, body},
		{"slack/missing-timestamp", "slack", Options{}, []string{secret}, "", map[string]string{"X-Slack-Signature": "v0=" + strings.Repeat("a", 64)}, body},
		{"slack/bad-version", "slack", Options{}, []string{secret}, "", map[string]string{"X-Slack-Request-Timestamp": "1700000000", "X-Slack-Signature": "v1=" + strings.Repeat("a", 64)}, body},
		{"slack/stale", "slack", Options{Tolerance: time.Minute}, []string{secret}, "", map[string]string{"X-Slack-Request-Timestamp": "1699999000", "X-Slack-Signature": "v0=" + strings.Repeat("a", 64)}, body},
		{"shopify/not-base64", "shopify", Options{}, []string{secret}, "", map[string]string{"X-Shopify-Hmac-Sha256": "%%%"}, body},
		{"twilio/missing", "twilio", Options{}, []string{secret}, "https://example.com/x", nil, body},
		{"twilio/no-url", "twilio", Options{}, []string{secret}, "", map[string]string{"X-Twilio-Signature": "0/KCTR6DLpKmkAf8muzZqo1nDgQ="}, body},
		{"twilio/relative-url", "twilio", Options{}, []string{secret}, "/hooks/sms", map[string]string{"X-Twilio-Signature": "0/KCTR6DLpKmkAf8muzZqo1nDgQ="}, body},
		{"twilio/not-form", "twilio", Options{}, []string{secret}, "https://example.com/x", map[string]string{"X-Twilio-Signature": "0/KCTR6DLpKmkAf8muzZqo1nDgQ="}, []byte("a=%zz")},
		{"twilio/bad-body-hash", "twilio", Options{}, []string{secret}, "https://example.com/x?bodySHA256=xyz", map[string]string{"X-Twilio-Signature": "0/KCTR6DLpKmkAf8muzZqo1nDgQ="}, body},
		{"twilio/mismatch", "twilio", Options{}, []string{secret}, "https://example.com/x", map[string]string{"X-Twilio-Signature": "0/KCTR6DLpKmkAf8muzZqo1nDgQ="}, []byte("a=1")},
		{"hmac/no-prefix", "hmac", Options{Header: "X-Sig", Prefix: "sha256="}, []string{secret}, "", map[string]string{"X-Sig": strings.Repeat("a", 64)}, body},
		{"hmac/bad-encoding", "hmac", Options{Header: "X-Sig", Algorithm: "sha512", Encoding: "base64"}, []string{secret}, "", map[string]string{"X-Sig": "abc"}, body},
		{"hmac/only-separators", "hmac", Options{Header: "X-Sig"}, []string{secret}, "", map[string]string{"X-Sig": " , ,"}, body},
		{"hmac/mismatch", "hmac", Options{Header: "x-sig"}, []string{secret}, "", map[string]string{"X-Sig": strings.Repeat("a", 64)}, body},
	}
	var out strings.Builder
	for _, c := range cases {
		s, err := New(c.scheme, c.opts)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		req := Request{URL: c.url, Header: headerLookup(c.headers), Body: c.body}
		err = s.Verify(req, c.secrets, now)
		if err == nil {
			t.Errorf("%s: Verify = nil, want an error", c.name)
			continue
		}
		text := err.Error()
		for _, leak := range []string{secret, strings.TrimPrefix(secret, "whsec_"), expected, strings.TrimPrefix(expected, "v1,")} {
			if strings.Contains(text, leak) {
				t.Errorf("%s: error %q leaks %q", c.name, text, leak)
			}
		}
		out.WriteString(c.name + ": " + text + "\n")
	}
	golden(t, "testdata/errors.golden", out.String())
}

func golden(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs (go test -update rewrites it)\n--- got\n%s--- want\n%s", path, got, want)
	}
}

func TestSignErrors(t *testing.T) {
	t.Parallel()
	at := time.Unix(1700000000, 0)
	tests := []struct {
		name   string
		scheme string
		msg    Message
		secret string
		want   string
	}{
		{"stripe needs a timestamp", "stripe", Message{Body: []byte("{}")}, "s", "stripe: message timestamp is required"},
		{"slack needs a timestamp", "slack", Message{Body: []byte("{}")}, "s", "slack: message timestamp is required"},
		{"standard needs an id", "standard", Message{Body: []byte("{}"), Timestamp: at}, standardSecret(1), "standard: message id is required"},
		{"standard needs a timestamp", "standard", Message{Body: []byte("{}"), ID: "m"}, standardSecret(1), "standard: message timestamp is required"},
		{"standard refuses a pre-1970 timestamp", "standard", Message{ID: "m", Timestamp: time.Unix(-5, 0)}, standardSecret(1), "before 1970"},
		{"standard refuses a bad secret", "standard", Message{Body: []byte("{}"), ID: "m", Timestamp: at}, "whsec_???", "standard: unusable secret: signing secret is not base64 after the whsec_ prefix"},
		{"standard refuses a newline in the id", "standard", Message{ID: "m\r\nX-Evil: 1", Timestamp: at}, standardSecret(1), "standard: message id contains a control character"},
		{"github refuses a newline in the id", "github", Message{ID: "a\nb"}, "s", "github: message id contains a control character"},
		{"twilio needs a URL", "twilio", Message{Body: []byte("a=1")}, "s", "twilio: cannot sign: URL is empty"},
		{"twilio body must match bodySHA256", "twilio", Message{URL: TwilioJSONURL("https://example.com/x", []byte("{}")), Body: []byte("{ }")}, "s", "twilio: message body does not match the bodySHA256 URL parameter"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, err := New(tt.scheme, Options{})
			if err != nil {
				t.Fatal(err)
			}
			h, err := s.Sign(tt.msg, tt.secret)
			if err == nil {
				t.Fatalf("Sign = %v, nil; want an error", h)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Sign error = %q, want it to contain %q", err, tt.want)
			}
		})
	}
}
