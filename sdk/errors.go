package sdk

import (
	"errors"
	"time"

	"google.golang.org/protobuf/types/known/durationpb"

	pluginv1 "github.com/hookflow/hookflow/plugins/proto/v1"
)

// actionError carries the retry decision of an action's error across the
// RPC boundary.
type actionError struct {
	err        error
	permanent  bool
	retryAfter time.Duration
}

func (e *actionError) Error() string { return e.err.Error() }
func (e *actionError) Unwrap() error { return e.err }

// Retryable marks err as worth another attempt. Errors an action returns
// unmarked are retryable too; use Retryable to say so explicitly. It returns
// nil when err is nil.
func Retryable(err error) error {
	if err == nil {
		return nil
	}
	return &actionError{err: err}
}

// Permanent marks err as one another attempt will not fix (bad input, a 4xx
// answer): the host fails the step at once. It returns nil when err is nil.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return &actionError{err: err, permanent: true}
}

// RetryAfter marks err retryable no sooner than d (for example from an HTTP
// Retry-After header). It returns nil when err is nil.
func RetryAfter(err error, d time.Duration) error {
	if err == nil {
		return nil
	}
	return &actionError{err: err, retryAfter: max(d, 0)}
}

// IsPermanent reports whether err was marked with Permanent.
func IsPermanent(err error) bool {
	var ae *actionError
	return errors.As(err, &ae) && ae.permanent
}

// RetryHint returns the back-off hint of an error marked with RetryAfter,
// or 0.
func RetryHint(err error) time.Duration {
	var ae *actionError
	if errors.As(err, &ae) {
		return ae.retryAfter
	}
	return 0
}

// toProto maps an action's error to its wire form. Unmarked errors (context
// errors included) are retryable: a failure nothing is known about is treated
// as transient, as the host does for built-in actions.
func toProto(err error) *pluginv1.Error {
	pe := &pluginv1.Error{Kind: pluginv1.ErrorKind_ERROR_KIND_RETRYABLE, Message: err.Error()}
	var ae *actionError
	if errors.As(err, &ae) {
		if ae.permanent {
			pe.Kind = pluginv1.ErrorKind_ERROR_KIND_PERMANENT
		} else if ae.retryAfter > 0 {
			pe.RetryAfter = durationpb.New(ae.retryAfter)
		}
	}
	return pe
}
