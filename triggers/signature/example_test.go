package signature_test

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/hookflow/hookflow/triggers/signature"
)

func Example() {
	// The Standard Webhooks reference test vector.
	secret := "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	body := []byte(`{"test": 2432232314}`)
	sent := time.Unix(1614265330, 0)

	std, err := signature.New("standard", signature.Options{})
	if err != nil {
		panic(err)
	}

	// Sign as a sender would.
	headers, err := std.Sign(signature.Message{Body: body, ID: "msg_p5jXN8AQM9LWM0D4loKWxJek", Timestamp: sent}, secret)
	if err != nil {
		panic(err)
	}
	fmt.Println(headers[signature.HeaderStandardSignature])

	// Verify as a receiver would, with the old and the new secret.
	h := http.Header{}
	for k, v := range headers {
		h.Set(k, v)
	}
	req := signature.Request{Header: h.Get, Body: body}
	secrets := []string{"whsec_b2xkLXNlY3JldC1yb3RhdGVkLW91dA==", secret}
	fmt.Println(std.Verify(req, secrets, sent.Add(time.Minute)))
	fmt.Println(std.DeliveryID(req))

	// Ten minutes later the same request is a replay.
	err = std.Verify(req, secrets, sent.Add(10*time.Minute))
	fmt.Println(errors.Is(err, signature.ErrStale))
	// Output:
	// v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=
	// <nil>
	// msg_p5jXN8AQM9LWM0D4loKWxJek
	// true
}

func ExampleTwilioJSONURL() {
	body := []byte(`{"CallSid":"CA1234567890ABCDE","Caller":"+12349013030"}`)
	fmt.Println(signature.TwilioJSONURL("https://example.com/myapp", body))
	// Output:
	// https://example.com/myapp?bodySHA256=5ccde7145dfb8f56479710896586cb9d5911809d83afbe34627818790db0aec9
}
