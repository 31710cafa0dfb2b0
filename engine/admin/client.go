package admin

import (
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

	"github.com/hookflow/hookflow/engine"
)

// maxAnswer caps how much of an answer Client reads.
const maxAnswer = 64 << 20

// Client talks to an admin listener; `hookflow runs` is built on it.
type Client struct {
	base  *url.URL
	token string
	hc    *http.Client
}

// NewClient returns a client for the admin listener at server (e.g.
// http://127.0.0.1:8081). token is sent as a bearer token when not empty.
// hc nil uses a client with a 30s timeout.
func NewClient(server, token string, hc *http.Client) (*Client, error) {
	if !strings.Contains(server, "://") {
		return nil, fmt.Errorf("admin client: server %q: want http://host:port or https://host:port", server)
	}
	u, err := url.Parse(strings.TrimRight(server, "/"))
	if err != nil {
		return nil, fmt.Errorf("admin client: server %q: %w", server, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return nil, fmt.Errorf("admin client: server %q: want http://host:port or https://host:port", server)
	}
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	return &Client{base: u, token: token, hc: hc}, nil
}

// RunQuery selects runs for ListRuns. Zero fields do not filter. Since and
// Until are sent as RFC 3339 times.
type RunQuery struct {
	Workflow string
	Status   engine.Status
	Since    time.Time
	Until    time.Time
	Limit    int
	Cursor   string
}

// ListRuns returns one page of runs, newest first.
func (c *Client) ListRuns(ctx context.Context, q RunQuery) (*RunPage, error) {
	v := url.Values{}
	set := func(k, val string) {
		if val != "" {
			v.Set(k, val)
		}
	}
	set("workflow", q.Workflow)
	set("status", string(q.Status))
	if !q.Since.IsZero() {
		v.Set("since", q.Since.UTC().Format(time.RFC3339Nano))
	}
	if !q.Until.IsZero() {
		v.Set("until", q.Until.UTC().Format(time.RFC3339Nano))
	}
	if q.Limit > 0 {
		v.Set("limit", strconv.Itoa(q.Limit))
	}
	set("cursor", q.Cursor)
	var page RunPage
	if err := c.do(ctx, http.MethodGet, v, &page, "runs"); err != nil {
		return nil, err
	}
	return &page, nil
}

// Run returns one run with its event, steps and attempts.
func (c *Client) Run(ctx context.Context, id string) (*RunDetail, error) {
	var d RunDetail
	if err := c.do(ctx, http.MethodGet, nil, &d, "runs", id); err != nil {
		return nil, err
	}
	return &d, nil
}

// Replay enqueues a new run of run id's event.
func (c *Client) Replay(ctx context.Context, id string) (*ReplayResult, error) {
	var r ReplayResult
	if err := c.do(ctx, http.MethodPost, nil, &r, "runs", id, "replay"); err != nil {
		return nil, err
	}
	return &r, nil
}

// Cancel asks run id to stop.
func (c *Client) Cancel(ctx context.Context, id string) (*CancelResult, error) {
	var r CancelResult
	if err := c.do(ctx, http.MethodPost, nil, &r, "runs", id, "cancel"); err != nil {
		return nil, err
	}
	return &r, nil
}

// Workflows returns the loaded workflows and their run counts.
func (c *Client) Workflows(ctx context.Context) (*WorkflowList, error) {
	var l WorkflowList
	if err := c.do(ctx, http.MethodGet, nil, &l, "workflows"); err != nil {
		return nil, err
	}
	return &l, nil
}

// Plugins returns the plugins the daemon found.
func (c *Client) Plugins(ctx context.Context) (*PluginList, error) {
	var l PluginList
	if err := c.do(ctx, http.MethodGet, nil, &l, "plugins"); err != nil {
		return nil, err
	}
	return &l, nil
}

// do sends one request to /api/v1/{path...} (each element escaped) and
// decodes a 2xx answer into out; any other answer becomes an *APIError
// carrying the server's message.
func (c *Client) do(ctx context.Context, method string, query url.Values, out any, path ...string) error {
	esc := make([]string, len(path))
	for i, p := range path {
		esc[i] = url.PathEscape(p)
	}
	u := *c.base
	u.RawPath = strings.TrimRight(c.base.EscapedPath(), "/") + "/api/v1/" + strings.Join(esc, "/")
	u.Path, _ = url.PathUnescape(u.RawPath)
	u.RawQuery = query.Encode()
	what := method + " /api/v1/" + strings.Join(path, "/")
	req, err := http.NewRequestWithContext(ctx, method, u.String(), nil)
	if err != nil {
		return fmt.Errorf("admin client: %s: %w", what, err)
	}
	req.Header.Set("Accept", "application/json")
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		// The *url.Error would repeat the whole URL: name the server once.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return fmt.Errorf("admin client: %s on %s: %w", what, c.base.Redacted(), err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if err != nil {
		return fmt.Errorf("admin client: read answer of %s: %w", what, err)
	}
	if resp.StatusCode/100 != 2 {
		var eb ErrorBody
		if json.Unmarshal(body, &eb) == nil && eb.Error.Message != "" {
			eb.Error.Status = resp.StatusCode
			return &eb.Error
		}
		msg := strings.TrimSpace(string(body))
		if len(msg) > 200 {
			msg = msg[:200] + "…"
		}
		return &APIError{Status: resp.StatusCode, Message: fmt.Sprintf("%s: HTTP %d %s", what, resp.StatusCode, msg)}
	}
	if err := json.Unmarshal(body, out); err != nil {
		return fmt.Errorf("admin client: decode answer of %s: %w", what, err)
	}
	return nil
}
