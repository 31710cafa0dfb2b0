package signature

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

// Fuzz targets run their seeds as ordinary tests; `go test -fuzz=FuzzX`
// explores further. Every parser must return, never panic, and whatever it
// accepts must really be in the header.

var fuzzNow = time.Unix(1700000000, 0)

// checkCandidates asserts that every accepted signature occurs in v, hex
// (any case) or base64 encoded.
func checkCandidates(t *testing.T, v string, sigs *candidates, b64 bool) {
	t.Helper()
	if sigs.n < 1 || sigs.n > maxSignaturesPerHeader {
		t.Fatalf("accepted %d signatures from %q", sigs.n, v)
	}
	for i := 0; i < sigs.n; i++ {
		mac := sigs.mac[i][:sigs.size]
		if b64 {
			if enc := base64.StdEncoding.EncodeToString(mac); !strings.Contains(v, enc) {
				t.Fatalf("accepted signature %s is not in %q", enc, v)
			}
		} else if enc := string(appendHex(nil, mac)); !strings.Contains(strings.ToLower(v), enc) {
			t.Fatalf("accepted signature %s is not in %q", enc, v)
		}
	}
}

// checkVerifyError asserts Verify's error is one of the documented kinds.
func checkVerifyError(t *testing.T, err error) {
	t.Helper()
	if err == nil {
		return
	}
	for _, kind := range []error{ErrMissing, ErrMalformed, ErrMismatch, ErrStale, ErrSecret} {
		if errors.Is(err, kind) {
			return
		}
	}
	t.Fatalf("Verify returned an undocumented error: %v", err)
}

func FuzzParseStripeHeader(f *testing.F) {
	for _, seed := range []string{
		"t=1700000000,v1=77a85c1aa51c710275f6461512b89be4df3a06a9c509f11623525e7a3b592fcc",
		"t=1700000000,v1=77A85C1AA51C710275F6461512B89BE4DF3A06A9C509F11623525E7A3B592FCC,v0=00",
		"t=1,v1=" + strings.Repeat("ab", 32) + ",v1=" + strings.Repeat("cd", 32),
		"v1=" + strings.Repeat("0", 64) + ",t=1700000000",
		"t=,v1=", "t=1,t=2", ",,,", "=", "t", "t=99999999999999999999,v1=" + strings.Repeat("0", 64),
		" t=1700000000 , v1=" + strings.Repeat("f", 64) + " ",
	} {
		f.Add(seed)
	}
	s, _ := New("stripe", Options{})
	f.Fuzz(func(t *testing.T, v string) {
		sigs := newCandidates(32)
		ts, err := parseStripeHeader(v, &sigs)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("parse error %v is not ErrMalformed", err)
			}
		} else {
			if _, ok := parseUnix(ts); !ok || !strings.Contains(v, "t="+ts) {
				t.Fatalf("accepted timestamp %q from %q", ts, v)
			}
			checkCandidates(t, v, &sigs, false)
		}
		req := Request{Header: headerLookup(map[string]string{HeaderStripeSignature: v}), Body: []byte("{}")}
		checkVerifyError(t, s.Verify(req, []string{"whsec_x"}, fuzzNow))
	})
}

func FuzzParseStandardHeader(f *testing.F) {
	for _, seed := range []string{
		"v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
		"v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE= v1,bm9wZQ==",
		"v1a,abc v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
		"v1,", ",", "v1", "  ", "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE", "v1,====",
	} {
		f.Add(seed)
	}
	s, _ := New("standard", Options{})
	f.Fuzz(func(t *testing.T, v string) {
		sigs := newCandidates(32)
		if err := parseStandardHeader(v, &sigs); err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("parse error %v is not ErrMalformed", err)
			}
		} else {
			checkCandidates(t, v, &sigs, true)
		}
		req := Request{Header: headerLookup(map[string]string{
			HeaderStandardID: "msg_1", HeaderStandardTimestamp: "1700000000", HeaderStandardSignature: v,
		}), Body: []byte("{}")}
		checkVerifyError(t, s.Verify(req, []string{standardSecret(3)}, fuzzNow))
	})
}

func FuzzParseSlackHeader(f *testing.F) {
	for _, seed := range []string{
		"v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503",
		"v0=", "v0", "v1=" + strings.Repeat("0", 64), "v0=" + strings.Repeat("g", 64),
	} {
		f.Add(seed, "1531420618")
	}
	f.Add("v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503", "+1531420618")
	f.Add("v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503", "1e9")
	s, _ := New("slack", Options{})
	f.Fuzz(func(t *testing.T, v, ts string) {
		sigs := newCandidates(32)
		if err := parseSlackHeader(v, &sigs); err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("parse error %v is not ErrMalformed", err)
			}
		} else {
			checkCandidates(t, v, &sigs, false)
		}
		req := Request{Header: headerLookup(map[string]string{HeaderSlackSignature: v, HeaderSlackTimestamp: ts})}
		checkVerifyError(t, s.Verify(req, []string{"8f742231b10e8888abcd99yyyzzz85a5"}, time.Unix(1531420618, 0)))
	})
}

func FuzzParseGitHubHeader(f *testing.F) {
	for _, seed := range []string{
		"sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17",
		"sha256=", "sha1=757107ea0eb2509fc211221cce984b8a37570b6d", "SHA256=" + strings.Repeat("0", 64),
	} {
		f.Add(seed)
	}
	s, _ := New("github", Options{})
	f.Fuzz(func(t *testing.T, v string) {
		sigs := newCandidates(32)
		if err := parseGitHubHeader(v, &sigs); err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("parse error %v is not ErrMalformed", err)
			}
		} else {
			checkCandidates(t, v, &sigs, false)
		}
		req := Request{Header: headerLookup(map[string]string{HeaderGitHubSignature: v}), Body: []byte("Hello, World!")}
		checkVerifyError(t, s.Verify(req, []string{"It's a Secret to Everybody"}, fuzzNow))
	})
}

func FuzzParseShopifyHeader(f *testing.F) {
	for _, seed := range []string{"QRR24bd9L4tA5tDt99Gp5p11eJR3k9a81y9Zej16zos=", "QRR24bd9L4tA5tDt99Gp5p11eJR3k9a81y9Zej16zos", "====", ""} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, v string) {
		sigs := newCandidates(32)
		if err := parseShopifyHeader(v, &sigs); err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("parse error %v is not ErrMalformed", err)
			}
			return
		}
		checkCandidates(t, v, &sigs, true)
	})
}

func FuzzParseHMACHeader(f *testing.F) {
	for _, seed := range []string{
		"sha256=" + strings.Repeat("ab", 32),
		"sha256=" + strings.Repeat("ab", 32) + ", sha256=" + strings.Repeat("cd", 32),
		"SHA256=" + strings.Repeat("AB", 32), "sha256=", ",", " ", "sha256=zz",
		strings.Repeat("sha256="+strings.Repeat("0", 64)+",", 17),
	} {
		f.Add(seed, false)
	}
	f.Add("WQYkrsk2unbiCcd5xunL7/QSKsQ= WQYkrsk2unbiCcd5xunL7/QSKsQ=", true)
	hexScheme, _ := New("hmac", Options{Header: "X-Sig", Prefix: "sha256="})
	b64Scheme, _ := New("hmac", Options{Header: "X-Sig", Algorithm: "sha1", Encoding: "base64"})
	f.Fuzz(func(t *testing.T, v string, b64 bool) {
		s := hexScheme.(hmacScheme)
		if b64 {
			s = b64Scheme.(hmacScheme)
		}
		sigs := newCandidates(s.size)
		if err := s.parseHeader(v, &sigs); err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("parse error %v is not ErrMalformed", err)
			}
		} else {
			checkCandidates(t, v, &sigs, b64)
		}
		req := Request{Header: headerLookup(map[string]string{"X-Sig": v}), Body: []byte("{}")}
		checkVerifyError(t, s.Verify(req, []string{"k"}, fuzzNow))
	})
}

func FuzzParseTwilioRequest(f *testing.F) {
	f.Add("https://mycompany.com/myapp.php?foo=1&bar=2", "CallSid=CA1234567890ABCDE&Caller=%2B12349013030", "0/KCTR6DLpKmkAf8muzZqo1nDgQ=")
	f.Add("https://example.com/myapp?bodySHA256=5ccde7145dfb8f56479710896586cb9d5911809d83afbe34627818790db0aec9", `{"CallSid":"CA1"}`, "hPXmLwIy3Fgqv1i9KPmH/HhQ6zo=")
	f.Add("https://[::1]:8443/a#f", "a=%zz", "x")
	f.Add("http://u@h:/p", "a=1;b=2", "0/KCTR6DLpKmkAf8muzZqo1nDgQ=")
	f.Add("://", "", "")
	s, _ := New("twilio", Options{})
	f.Fuzz(func(t *testing.T, rawURL, body, sig string) {
		variants := twilioURLVariants(rawURL)
		if len(variants) < 1 || len(variants) > 2 || variants[0] != rawURL {
			t.Fatalf("twilioURLVariants(%q) = %q", rawURL, variants)
		}
		req := Request{URL: rawURL, Header: headerLookup(map[string]string{HeaderTwilioSignature: sig}), Body: []byte(body)}
		checkVerifyError(t, s.Verify(req, []string{"12345"}, fuzzNow))
		if h, err := s.Sign(Message{URL: rawURL, Body: []byte(body)}, "12345"); err == nil {
			req.Header = headerLookup(h)
			if err := s.Verify(req, []string{"12345"}, fuzzNow); err != nil {
				t.Fatalf("Verify(Sign(%q, %q)) = %v", rawURL, body, err)
			}
		}
	})
}

// FuzzStripeDeliveryID checks the cheap top-level "id" scanner against
// encoding/json on every valid JSON input.
func FuzzStripeDeliveryID(f *testing.F) {
	for _, seed := range []string{
		`{"id":"evt_1","object":"event"}`,
		`{"object":"event","data":{"id":"inner","list":[1,{"id":2}]},"id":"evt_2"}`,
		`{"\u0069d":"escaped key"}`,
		`{"id":"caf\u00e9 \"quoted\""}`,
		`{"id":7}`, `{"id":null}`, `[{"id":"x"}]`, `"id"`, `{"a":"}","id":"y"}`,
		` { "id" : "spaced" } `, `{"ID":"upper"}`, `{"id":"a","id":"b"}`, `{`, `{"id":"unterminated`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		got := topLevelJSONString(body, "id")
		if !json.Valid(body) {
			return
		}
		if want := firstTopLevelString(t, body, "id"); got != want {
			t.Fatalf("topLevelJSONString(%q) = %q, encoding/json says %q", body, got, want)
		}
	})
}

// firstTopLevelString is the oracle: encoding/json's token stream.
func firstTopLevelString(t *testing.T, body []byte, key string) string {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		t.Fatal(err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return ""
	}
	for dec.More() {
		k, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		if k == key {
			v, err := dec.Token()
			if err != nil {
				t.Fatal(err)
			}
			s, _ := v.(string)
			return s
		}
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			t.Fatal(err)
		}
	}
	return ""
}
