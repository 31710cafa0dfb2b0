package signature

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// benchVerify measures Verify of a correctly signed 1 KiB body, with the
// matching secret second in the list (one rotation miss, one hit).
func benchVerify(b *testing.B, scheme string, msg Message, secrets []string) {
	s, err := New(scheme, Options{})
	if err != nil {
		b.Fatal(err)
	}
	headers, err := s.Sign(msg, secrets[len(secrets)-1])
	if err != nil {
		b.Fatal(err)
	}
	h := http.Header{}
	for k, v := range headers {
		h.Set(k, v)
	}
	req := Request{URL: msg.URL, Header: h.Get, Body: msg.Body}
	now := msg.Timestamp.Add(time.Second)
	if err := s.Verify(req, secrets, now); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(msg.Body)))
	b.ReportAllocs()
	for b.Loop() {
		if err := s.Verify(req, secrets, now); err != nil {
			b.Fatal(err)
		}
	}
}

func benchBody() []byte {
	body := []byte(`{"id":"evt_1","object":"event","type":"invoice.payment_succeeded","data":{"pad":"` + strings.Repeat("x", 1024) + `"}}`)
	return body[:1024]
}

func BenchmarkVerify(b *testing.B) {
	at := time.Unix(1700000000, 0)
	b.Run("stripe", func(b *testing.B) {
		benchVerify(b, "stripe", Message{Body: benchBody(), Timestamp: at}, []string{"whsec_old", "whsec_new"})
	})
	b.Run("github", func(b *testing.B) {
		benchVerify(b, "github", Message{Body: benchBody()}, []string{"old", "new"})
	})
	b.Run("standard", func(b *testing.B) {
		benchVerify(b, "standard", Message{Body: benchBody(), ID: "msg_1", Timestamp: at}, []string{standardSecret(1), standardSecret(2)})
	})
	b.Run("stripe/one-secret", func(b *testing.B) {
		benchVerify(b, "stripe", Message{Body: benchBody(), Timestamp: at}, []string{"whsec_new"})
	})
	b.Run("github/one-secret", func(b *testing.B) {
		benchVerify(b, "github", Message{Body: benchBody()}, []string{"new"})
	})
	b.Run("standard/one-secret", func(b *testing.B) {
		benchVerify(b, "standard", Message{Body: benchBody(), ID: "msg_1", Timestamp: at}, []string{standardSecret(2)})
	})
}

func BenchmarkStripeDeliveryID(b *testing.B) {
	s, _ := New("stripe", Options{})
	req := Request{Body: benchBody()}
	b.ReportAllocs()
	for b.Loop() {
		if s.DeliveryID(req) != "evt_1" {
			b.Fatal("wrong id")
		}
	}
}
