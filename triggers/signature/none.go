package signature

import "time"

// noneScheme accepts every request and signs nothing. It exists so that an
// unsigned trigger is an explicit choice in a workflow.
type noneScheme struct{}

func (noneScheme) Name() string { return "none" }

func (noneScheme) Verify(Request, []string, time.Time) error { return nil }

func (noneScheme) Sign(Message, string) (map[string]string, error) {
	return map[string]string{}, nil
}

func (noneScheme) DeliveryID(Request) string { return "" }

var _ Scheme = noneScheme{}
