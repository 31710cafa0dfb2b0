// Package sdk is what a hookflow plugin imports. A plugin is a program that
// calls Serve with its actions; hookflow launches it, asks it what it serves
// and calls its actions for workflow steps that use PLUGIN.ACTION.
//
//	type postIn struct {
//		URL  string `json:"url" hookflow:"required" desc:"Incoming-webhook URL"`
//		Text string `json:"text" hookflow:"required"`
//	}
//	type postOut struct {
//		Status int `json:"status"`
//	}
//
//	func main() {
//		sdk.Serve(sdk.Plugin{
//			Name:    "chat",
//			Version: "1.0.0",
//			Actions: []sdk.Action{
//				sdk.Typed("post_message", "Post a Slack-compatible message", post),
//			},
//		})
//	}
//
//	func post(ctx context.Context, in postIn) (postOut, error) {
//		// ... a 4xx answer: return postOut{}, sdk.Permanent(err)
//		// ... a 429:        return postOut{}, sdk.RetryAfter(err, 30*time.Second)
//	}
//
// Build it as hookflow-plugin-NAME into the daemon's plugins directory; see
// docs/plugins.md for the whole path, and package sdk/sdktest for tests.
//
// # Typed actions
//
// Typed derives the input and output JSON Schemas from the Go types, using
// encoding/json's field names and these struct tags:
//
//	hookflow:"required"  the field must be present (and not null)
//	desc:"..."           the property's description
//	enum:"a,b,c"         allowed values of a string or number field
//
// Fields are optional unless tagged required; omitempty does not decide it.
// Structs are closed: an input with a field the struct does not have is
// refused, so a misspelt `with` key is an error rather than ignored. The
// daemon validates workflows' `with` against the input schema; Typed checks
// required and enum fields of the top-level struct again when decoding.
//
// # Errors
//
// An error an action returns is retryable unless marked with Permanent;
// RetryAfter adds a back-off hint. Bad input (decoding, required, enum) is
// permanent. A panic in an action is recovered and reported as a permanent
// error, so one bad input cannot end calls in flight on other goroutines.
//
// # Context and logs
//
// ctx carries the step's deadline (the step timeout): pass it to every
// blocking call. Step(ctx) says which run, step and attempt is being served;
// StepInfo.IdempotencyKey is stable across attempts, pass it downstream.
// Logger(ctx) logs into the daemon's log with the plugin's name, run and
// step attached. Never log inputs: they may carry secrets.
//
// # Caveats
//
// The SDK imports only the standard library, go-plugin, gRPC, protobuf and
// the protocol package, and it is versioned with the protocol (v1). A plugin
// runs with a minimal environment: configuration and secrets come in step
// inputs. Standard output and standard error still reach the daemon's log,
// but Logger(ctx) keeps levels and attributes.
package sdk
