package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/hookflow/hookflow/sdk"
)

// postInput is the `with` of chat.post_message.
type postInput struct {
	URL      string           `json:"url" hookflow:"required" desc:"Incoming-webhook URL (a secret: use secrets.NAME)"`
	Text     string           `json:"text" hookflow:"required" desc:"Message text; the fallback when blocks are given"`
	Blocks   []map[string]any `json:"blocks,omitempty" desc:"Block Kit blocks"`
	ThreadTS string           `json:"thread_ts,omitempty" desc:"Reply in this thread"`
	Username string           `json:"username,omitempty" desc:"Override the sender's name, where allowed"`
	IconURL  string           `json:"icon_url,omitempty" desc:"Override the sender's icon, where allowed"`
}

// postOutput is what later steps see as steps.ID.outputs.
type postOutput struct {
	Status   int    `json:"status"`
	Response string `json:"response"` // the first bytes of the answer ("ok" for Slack)
}

// message is the body Slack-compatible incoming webhooks take.
type message struct {
	Text     string           `json:"text"`
	Blocks   []map[string]any `json:"blocks,omitempty"`
	ThreadTS string           `json:"thread_ts,omitempty"`
	Username string           `json:"username,omitempty"`
	IconURL  string           `json:"icon_url,omitempty"`
}

// maxResponse is how much of an answer is kept.
const maxResponse = 512

type poster struct {
	client *http.Client
}

// post sends one message. Like an outbound webhook: network errors,
// timeouts, 408, 429 and 5xx are retried (429 and 503 honour Retry-After);
// other 4xx are permanent. The URL embeds a token: it never appears in an
// error or a log line.
func (p *poster) post(ctx context.Context, in postInput) (postOutput, error) {
	u, err := url.Parse(in.URL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return postOutput{}, sdk.Permanent(errors.New("post_message: url must be an absolute http or https URL"))
	}
	if strings.TrimSpace(in.Text) == "" {
		return postOutput{}, sdk.Permanent(errors.New("post_message: text is empty"))
	}
	body, err := json.Marshal(message{Text: in.Text, Blocks: in.Blocks, ThreadTS: in.ThreadTS, Username: in.Username, IconURL: in.IconURL})
	if err != nil {
		return postOutput{}, sdk.Permanent(fmt.Errorf("post_message: encode: %w", err))
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(body))
	if err != nil {
		return postOutput{}, sdk.Permanent(errors.New("post_message: invalid request"))
	}
	step := sdk.Step(ctx)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "hookflow-plugin-chat/"+version)
	if step.IdempotencyKey != "" {
		req.Header.Set("Idempotency-Key", step.IdempotencyKey)
	}
	start := time.Now()
	resp, err := p.client.Do(req)
	if err != nil {
		// *url.Error quotes the URL; keep only the cause.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return postOutput{}, sdk.Retryable(fmt.Errorf("post_message: %w", err))
	}
	defer resp.Body.Close()
	head, _ := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20)) // let the connection be reused
	out := postOutput{Status: resp.StatusCode, Response: string(head)}
	sdk.Logger(ctx).Info("message posted", "status", resp.StatusCode, "latency_ms", time.Since(start).Milliseconds())
	return out, statusError(resp, out.Response)
}

// statusError decides what a status means for a retry.
func statusError(resp *http.Response, answer string) error {
	code := resp.StatusCode
	if code >= 200 && code < 300 {
		return nil
	}
	err := fmt.Errorf("post_message: status %d: %s", code, strings.TrimSpace(answer))
	switch {
	case code == http.StatusTooManyRequests || code == http.StatusServiceUnavailable:
		if d, ok := retryAfter(resp.Header.Get("Retry-After"), time.Now()); ok {
			return sdk.RetryAfter(err, d)
		}
		return sdk.Retryable(err)
	case code == http.StatusRequestTimeout || code >= 500:
		return sdk.Retryable(err)
	default:
		return sdk.Permanent(err)
	}
}

// retryAfter reads a Retry-After header: seconds or an HTTP date.
func retryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if s, err := strconv.Atoi(v); err == nil && s >= 0 {
		return time.Duration(s) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0), true
	}
	return 0, false
}
