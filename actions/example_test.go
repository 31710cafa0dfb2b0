package actions_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"

	"github.com/hookflow/hookflow/actions"
)

func ExampleRegisterBuiltins() {
	billing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"activated":true,"key":%q}`, r.Header.Get("Idempotency-Key"))
	}))
	defer billing.Close()

	reg := actions.NewRegistry()
	err := actions.RegisterBuiltins(reg, actions.NetOptions{
		// The server listens on 127.0.0.1, refused unless allowed.
		AllowList: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")},
		Logger:    slog.New(slog.DiscardHandler),
	})
	if err != nil {
		panic(err)
	}
	httpAction, _ := reg.Lookup("http")
	out, err := httpAction.Execute(context.Background(), actions.Request{
		RunID: "run-1", Workflow: "stripe-activate", StepID: "activate", Attempt: 1,
		IdempotencyKey: "run-1/activate",
		Input: map[string]any{
			"url":  billing.URL + "/accounts/cus_1/activate",
			"json": map[string]any{"plan": "pro"},
		},
	})
	if err != nil {
		panic(err)
	}
	body := out["body"].(map[string]any)
	fmt.Println(out["status"], body["activated"], body["key"])
	// Output: 200 true run-1/activate
}

func ExampleTargetPolicy_Check() {
	refused := actions.TargetPolicy{}.Check("", netip.MustParseAddrPort("169.254.169.254:80"))
	fmt.Println(refused)
	allowed := actions.TargetPolicy{AllowList: []netip.Prefix{netip.MustParsePrefix("10.1.2.0/24")}}.
		Check("", netip.MustParseAddrPort("10.1.2.3:443"))
	fmt.Println(allowed)
	// Output:
	// target 169.254.169.254:80 is a link-local (cloud metadata) address; private targets are refused (allow with --allow-private-targets)
	// <nil>
}
