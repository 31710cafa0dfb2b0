package signature

import (
	"errors"
	"net/url"
	"slices"
	"testing"
	"time"
)

func TestTwilioURLVariants(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want []string
	}{
		{"https://example.com/a?b=1", []string{"https://example.com/a?b=1", "https://example.com:443/a?b=1"}},
		{"https://example.com:443/a", []string{"https://example.com:443/a", "https://example.com/a"}},
		{"http://example.com", []string{"http://example.com", "http://example.com:80"}},
		{"http://example.com:8080?x=1", []string{"http://example.com:8080?x=1", "http://example.com?x=1"}},
		{"https://user:pw@example.com/a", []string{"https://user:pw@example.com/a", "https://user:pw@example.com:443/a"}},
		{"https://user:pw@example.com:8443/a", []string{"https://user:pw@example.com:8443/a", "https://user:pw@example.com/a"}},
		{"https://[::1]/a", []string{"https://[::1]/a", "https://[::1]:443/a"}},
		{"https://[::1]:8443/a#f", []string{"https://[::1]:8443/a#f", "https://[::1]/a#f"}},
		{"wss://example.com/a", []string{"wss://example.com/a"}},
		{"example.com/a", []string{"example.com/a"}},
	}
	for _, tt := range tests {
		if got := twilioURLVariants(tt.in); !slices.Equal(got, tt.want) {
			t.Errorf("twilioURLVariants(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestTwilioPortVariants(t *testing.T) {
	t.Parallel()
	s, err := New("twilio", Options{})
	if err != nil {
		t.Fatal(err)
	}
	body := []byte("CallSid=CA1&Digits=1234")
	tests := []struct{ signed, received string }{
		{"https://example.com:443/voice", "https://example.com/voice"},
		{"https://example.com/voice", "https://example.com:443/voice"},
		{"http://example.com:80/voice?x=1", "http://example.com/voice?x=1"},
	}
	for _, tt := range tests {
		h, err := s.Sign(Message{URL: tt.signed, Body: body}, "token")
		if err != nil {
			t.Fatal(err)
		}
		req := Request{URL: tt.received, Header: headerLookup(h), Body: body}
		if err := s.Verify(req, []string{"token"}, time.Time{}); err != nil {
			t.Errorf("signed for %s, received at %s: %v", tt.signed, tt.received, err)
		}
	}
	h, _ := s.Sign(Message{URL: "https://example.com/voice", Body: body}, "token")
	other := Request{URL: "https://example.com/other", Header: headerLookup(h), Body: body}
	if err := s.Verify(other, []string{"token"}, time.Time{}); !errors.Is(err, ErrMismatch) {
		t.Errorf("another path: Verify = %v, want ErrMismatch", err)
	}
}

func TestTwilioRepeatedParameters(t *testing.T) {
	t.Parallel()
	// Twilio's libraries append each distinct value of a name, sorted.
	form, err := url.ParseQuery("b=2&a=z&a=y&a=z&c=")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(appendTwilioParams(nil, form)), "ayazb2c"; got != want {
		t.Errorf("appendTwilioParams = %q, want %q", got, want)
	}
}

func TestTwilioJSON(t *testing.T) {
	t.Parallel()
	s, err := New("twilio", Options{})
	if err != nil {
		t.Fatal(err)
	}
	body := []byte(`{"MessageSid":"SM1","Body":"hi"}`)
	u := TwilioJSONURL("https://example.com/status?account=7", body)
	h, err := s.Sign(Message{URL: u, Body: body}, "token")
	if err != nil {
		t.Fatal(err)
	}
	req := Request{URL: u, Header: headerLookup(h), Body: body}
	if err := s.Verify(req, []string{"token"}, time.Time{}); err != nil {
		t.Fatalf("Verify = %v", err)
	}
	tampered := req
	tampered.Body = []byte(`{"MessageSid":"SM2","Body":"hi"}`)
	if err := s.Verify(tampered, []string{"token"}, time.Time{}); !errors.Is(err, ErrMismatch) {
		t.Errorf("tampered JSON body: Verify = %v, want ErrMismatch", err)
	}
	if err := s.Verify(req, []string{"other"}, time.Time{}); !errors.Is(err, ErrMismatch) {
		t.Errorf("wrong token: Verify = %v, want ErrMismatch", err)
	}
}

func TestTwilioJSONURL(t *testing.T) {
	t.Parallel()
	const sum = "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a" // sha256("{}")
	tests := []struct{ in, want string }{
		{"https://example.com/x", "https://example.com/x?bodySHA256=" + sum},
		{"https://example.com/x?a=1", "https://example.com/x?a=1&bodySHA256=" + sum},
		{"https://example.com/x?", "https://example.com/x?bodySHA256=" + sum},
		{"https://example.com/x?a=1&", "https://example.com/x?a=1&bodySHA256=" + sum},
		{"https://example.com/x#frag", "https://example.com/x?bodySHA256=" + sum + "#frag"},
		{"https://example.com/x?a=%20#f", "https://example.com/x?a=%20&bodySHA256=" + sum + "#f"},
	}
	for _, tt := range tests {
		if got := TwilioJSONURL(tt.in, []byte("{}")); got != tt.want {
			t.Errorf("TwilioJSONURL(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
