package engine

import "time"

// Observer is told what the engine does, for metrics. Implementations must
// be cheap and safe for concurrent use.
type Observer interface {
	// ObserveStep is called after every attempt of a step. outcome is ok,
	// retryable or permanent (as in Attempt.Outcome), or skipped.
	ObserveStep(workflow, uses, outcome string, took time.Duration)
	// ObserveRun is called when a run reaches a final status; took is from
	// the run's creation (the event's arrival) to its end.
	ObserveRun(workflow string, status Status, took time.Duration)
}
