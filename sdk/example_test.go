package sdk_test

import (
	"context"
	"fmt"
	"strings"

	"github.com/hookflow/hookflow/sdk"
)

type shoutIn struct {
	Text string `json:"text" hookflow:"required" desc:"What to shout"`
}

type shoutOut struct {
	Text string `json:"text"`
}

// A typed action: decoding, schema and error marks come for free. A plugin's
// main passes it to sdk.Serve.
func ExampleTyped() {
	shout := sdk.Typed("shout", "Upper-case a text", func(ctx context.Context, in shoutIn) (shoutOut, error) {
		return shoutOut{Text: strings.ToUpper(in.Text)}, nil
	})
	fmt.Println(string(shout.InputSchema))

	out, err := shout.Handle(context.Background(), []byte(`{"text":"hello"}`))
	fmt.Println(string(out), err)

	_, err = shout.Handle(context.Background(), []byte(`{}`))
	fmt.Println(err, sdk.IsPermanent(err))
	// Output:
	// {"$schema":"https://json-schema.org/draft/2020-12/schema","type":"object","properties":{"text":{"type":"string","description":"What to shout"}},"required":["text"],"additionalProperties":false}
	// {"text":"HELLO"} <nil>
	// input: missing required field "text" true
}

// Marking errors decides what the engine does next.
func ExamplePermanent() {
	status := 404
	var err error
	switch {
	case status == 429 || status >= 500:
		err = sdk.Retryable(fmt.Errorf("chat: status %d", status))
	case status >= 400:
		err = sdk.Permanent(fmt.Errorf("chat: status %d", status))
	}
	fmt.Println(err, sdk.IsPermanent(err))
	// Output: chat: status 404 true
}

// A plugin's whole main function.
func ExampleServe() {
	main := func() {
		sdk.Serve(sdk.Plugin{
			Name:    "text",
			Version: "1.0.0",
			Actions: []sdk.Action{
				sdk.Typed("shout", "Upper-case a text", func(ctx context.Context, in shoutIn) (shoutOut, error) {
					sdk.Logger(ctx).Info("shouting", "bytes", len(in.Text))
					return shoutOut{Text: strings.ToUpper(in.Text)}, nil
				}),
			},
		})
	}
	_ = main // run by the hookflow daemon, not here
}
