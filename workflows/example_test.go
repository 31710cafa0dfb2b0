package workflows_test

import (
	"fmt"

	"github.com/hookflow/hookflow/workflows"
)

func ExampleParseTemplate() {
	env := &workflows.Env{
		Event: workflows.EventEnv{Body: map[string]any{"id": "evt_1", "amount": 2900.0}},
		Env:   map[string]any{"API": "https://billing.internal"},
	}
	for _, s := range []string{
		"${{ env.API }}/invoices/${{ event.body.id }}", // parts: a string
		"${{ event.body.amount / 100 }}",               // exactly one ${{ }}: keeps its type
		"${{ event.body }}",
	} {
		v, err := workflows.ParseTemplate(s, workflows.Pos{File: "example.yaml", Line: 1, Col: 1})
		if err != nil {
			fmt.Println(err)
			continue
		}
		out, err := v.Render(env)
		fmt.Printf("%#v %v\n", out, err)
	}
	_, err := workflows.ParseTemplate("id: ${{ event.body.id", workflows.Pos{File: "example.yaml", Line: 7, Col: 12})
	fmt.Println(err)
	// Output:
	// "https://billing.internal/invoices/evt_1" <nil>
	// 29 <nil>
	// map[string]interface {}{"amount":2900, "id":"evt_1"} <nil>
	// example.yaml:7:16: unterminated ${{ (no matching }})
}
