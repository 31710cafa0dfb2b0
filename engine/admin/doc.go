// Package admin is hookflow's operator side: the admin listener (a Fiber
// app of its own, apart from the public webhook listener), its Prometheus
// metrics, and a Client for the admin API that `hookflow runs` uses.
//
// # Endpoints
//
//	GET  /api/v1/workflows          loaded workflows, their steps, run counts by status
//	GET  /api/v1/runs               ?workflow=&status=&since=&until=&limit=&cursor=, newest first
//	GET  /api/v1/runs/{id}          one run: event (signature headers redacted), steps, attempts
//	POST /api/v1/runs/{id}/replay   202 {"run_id","replay_of","status":"queued"}; 404; 409 workflow gone
//	POST /api/v1/runs/{id}/cancel   200 {"run_id","status","cancel_requested"}; 404; 409 finished
//	GET  /api/v1/plugins            plugins found and their actions
//	GET  /healthz                   200 while the process is alive
//	GET  /readyz                    200 ready, 503 not ready, with details
//	GET  /metrics                   Prometheus text format
//	GET  /debug/pprof/...           net/http/pprof
//
// When Options.Token is set, /api/* and /debug/pprof require
// "Authorization: Bearer <token>" (compared in constant time); /healthz,
// /readyz and /metrics stay open for probes and scrapers.
//
// Every error answer has one shape, whatever the endpoint:
//
//	{"error": {"code": "not_found", "message": "no run 0190..."}}
//
// with code one of bad_request, unauthorized, not_found,
// method_not_allowed, conflict, unavailable (with Retry-After) or internal.
//
// ?since= and ?until= take an RFC 3339 time or a duration before now
// ("24h"). A cursor is opaque; pages stay correct while runs arrive.
//
// # Secrets
//
// Run details never show secrets: every header that carries a signature or
// a credential (stripe-signature, x-hub-signature*, webhook-signature,
// x-slack-signature, x-shopify-hmac-sha256, x-twilio-signature,
// authorization, cookie, any header named like *signature*, *token*,
// *secret*, *auth*, and every header a workflow configured for the hmac
// scheme) is replaced by "[redacted]", and Options.Redact is applied to
// every other header and query value, the body, errors, outputs and
// attempt details.
//
// # Example
//
//	reg := prometheus.NewRegistry()
//	m := admin.NewMetrics(reg)      // pass m as the trigger's and the engine's Observer
//	m.WatchStore(store)             // hookflow_queue_depth, if the store can say
//	srv, err := admin.New(admin.Options{
//		Store:     store,
//		Workflows: catalog.Current, // follows reloads
//		Token:     os.Getenv("HOOKFLOW_API_TOKEN"),
//		Enqueued:  eng.Wake,
//		Redact:    func(s string) string { return eng.Redactor().String(s) }, // follows secret reloads
//		Registry:  reg,
//		Logger:    log,
//	})
//	ln, _ := net.Listen("tcp", "127.0.0.1:8081")
//	go srv.Serve(ln)
//	defer srv.Shutdown(ctx)
//
// # Caveats
//
// Run counts come from the store's StatusCounter when it has one; otherwise
// GET /api/v1/workflows pages through the runs, at most
// Options.CountScanLimit of them, and says so with counts_complete=false.
// hookflow_queue_depth needs a store that is a QueueDepther. Replaying a
// run does not check its status: a running run replayed runs twice.
package admin
