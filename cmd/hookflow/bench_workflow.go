package main

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/hookflow/hookflow/cmd/hookflow/internal/loadgen"
	"github.com/hookflow/hookflow/triggers/signature"
)

// The synthetic workflow `hookflow bench` measures, and what its events look
// like. Every event has a unique id (the idempotency key), passes the
// filter, and runs one `set` step (and, with --webhook, one outbound
// delivery to a local sink).
const (
	benchPath         = "bench"
	benchSecretName   = "BENCH_WEBHOOK_SECRET"
	benchSinkSecret   = "BENCH_SINK_SECRET"
	benchEventType    = "bench.event"
	benchHMACHeader   = "X-Bench-Signature"
	benchHMACPrefix   = "sha256="
	benchDefaultBytes = 256
)

// benchWorkflow returns the synthetic workflow's YAML. sinkURL, when not
// empty, adds a `webhook` step delivering to it.
func benchWorkflow(sinkURL string) string {
	var b strings.Builder
	fmt.Fprintf(&b, `name: bench
description: Synthetic workflow measured by hookflow bench
on:
  webhook:
    path: %s
    signature:
      scheme: hmac
      secret: ${{ secrets.%s }}
      header: %s
      algorithm: sha256
      prefix: %q
    filter: event.body.type == %q
    idempotency_key: event.body.id
steps:
  - id: record
    uses: set
    with:
      event_id: ${{ event.body.id }}
      n: ${{ event.body.n }}
      customer: ${{ event.body.data.customer }}
`, benchPath, benchSecretName, benchHMACHeader, benchHMACPrefix, benchEventType)
	if sinkURL != "" {
		fmt.Fprintf(&b, `  - id: deliver
    uses: webhook
    with:
      url: %s
      secret: ${{ secrets.%s }}
      type: bench.delivered
      payload:
        event_id: ${{ event.body.id }}
        n: ${{ steps.record.outputs.n }}
`, sinkURL, benchSinkSecret)
	}
	return b.String()
}

// eventSource makes the bench's events: unique ids under a random tag (so
// runs against one daemon never collide), signed with the configured
// scheme.
type eventSource struct {
	tag        string
	sequential bool // ids in sending order (appends to the dedupe index)
	scheme     signature.Scheme
	secret     string
	url        string
	size       int    // body size to pad up to
	padding    string // size bytes of filler
}

func newEventSource(scheme signature.Scheme, secret, url string, bodyBytes int, sequential bool) (*eventSource, error) {
	tag := make([]byte, 6)
	if _, err := rand.Read(tag); err != nil {
		return nil, fmt.Errorf("event tag: %w", err)
	}
	es := &eventSource{tag: hex.EncodeToString(tag), scheme: scheme, secret: secret, url: url, sequential: sequential,
		size: bodyBytes, padding: strings.Repeat("x", bodyBytes)}
	if _, err := es.make(0); err != nil {
		return nil, err
	}
	return es, nil
}

// id is event seq's id. Like the delivery ids of real senders (random
// UUIDs, opaque tokens) the ids do not sort in sending order, so the
// dedupe index sees inserts spread over its keys, not appends (they are
// still unique: splitmix64 is a bijection). Sequential ids, zero-padded,
// sort in sending order instead.
func (es *eventSource) id(seq uint64) string {
	if es.sequential {
		return fmt.Sprintf("evt_%s_%020d", es.tag, seq)
	}
	return "evt_" + es.tag + "_" + strconv.FormatUint(splitmix64(seq), 36)
}

// splitmix64 is the finalizer of the SplitMix64 generator: a bijection on
// uint64 that scatters consecutive inputs.
func splitmix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// body is event seq's JSON body, padded to es.size bytes when it is
// shorter.
func (es *eventSource) body(seq uint64) []byte {
	const tail = `"}}`
	b := make([]byte, 0, max(es.size, 160))
	b = append(b, `{"id":"`...)
	b = append(b, es.id(seq)...)
	b = append(b, `","type":"`+benchEventType+`","n":`...)
	b = strconv.AppendUint(b, seq, 10)
	b = append(b, `,"data":{"customer":"cus_`...)
	b = strconv.AppendUint(b, seq%9973, 10)
	b = append(b, `","amount":2000,"currency":"usd","note":"`...)
	if pad := es.size - len(b) - len(tail); pad > 0 {
		b = append(b, es.padding[:pad]...)
	}
	return append(b, tail...)
}

// make builds and signs event seq, like a real sender would.
func (es *eventSource) make(seq uint64) (loadgen.Event, error) {
	body := es.body(seq)
	hdr, err := es.scheme.Sign(signature.Message{URL: es.url, Body: body, ID: es.id(seq), Timestamp: time.Now()}, es.secret)
	if err != nil {
		return loadgen.Event{}, fmt.Errorf("sign: %w", err)
	}
	return loadgen.Event{Body: body, Header: hdr}, nil
}

// randomSecret returns a fresh HMAC secret: hex for the inbound hmac
// scheme, or whsec_<base64> for Standard Webhooks.
func randomSecret(standard bool) (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("secret: %w", err)
	}
	if standard {
		return "whsec_" + base64.StdEncoding.EncodeToString(b), nil
	}
	return hex.EncodeToString(b), nil
}
