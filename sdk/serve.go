package sdk

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"regexp"
	"runtime/debug"

	plugin "github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	pluginv1 "github.com/hookflow/hookflow/plugins/proto/v1"
)

// Plugin is what a plugin binary serves.
type Plugin struct {
	// Name is the plugin's name, [a-z0-9][a-z0-9_-]*. Install the binary as
	// hookflow-plugin-NAME: workflows address its actions as NAME.ACTION.
	Name string
	// Version is the plugin's own version, shown by `hookflow plugins list`.
	Version string
	// Actions are the actions the plugin serves; at least one.
	Actions []Action
	// Logger, when set, receives what actions log through Logger(ctx).
	// Default: the daemon's log (JSON lines on the plugin's stderr).
	Logger *slog.Logger
}

var namePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]*$`)

// Validate reports what is wrong with p, naming the field.
func (p Plugin) Validate() error {
	var errs []error
	if !namePattern.MatchString(p.Name) {
		errs = append(errs, fmt.Errorf("Name %q: want [a-z0-9][a-z0-9_-]*", p.Name))
	}
	if len(p.Actions) == 0 {
		errs = append(errs, errors.New("Actions: a plugin serves at least one action"))
	}
	seen := map[string]bool{}
	for i, a := range p.Actions {
		switch {
		case !namePattern.MatchString(a.Name):
			errs = append(errs, fmt.Errorf("Actions[%d].Name %q: want [a-z0-9][a-z0-9_-]*", i, a.Name))
		case seen[a.Name]:
			errs = append(errs, fmt.Errorf("Actions[%d].Name %q: served twice", i, a.Name))
		}
		seen[a.Name] = true
		if a.Handle == nil {
			errs = append(errs, fmt.Errorf("Actions[%d] (%s): Handle is nil", i, a.Name))
		}
		for _, sc := range []struct {
			field string
			b     []byte
		}{{"InputSchema", a.InputSchema}, {"OutputSchema", a.OutputSchema}} {
			if len(sc.b) > 0 && !json.Valid(sc.b) {
				errs = append(errs, fmt.Errorf("Actions[%d] (%s): %s is not valid JSON", i, a.Name, sc.field))
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("plugin %q: %w", p.Name, err)
	}
	return nil
}

// Serve serves p to the hookflow daemon that launched this process and
// returns when the daemon closes the connection. Call it from main. An
// invalid Plugin, or a binary run by hand instead of by the daemon, prints
// why on stderr and exits with status 1.
func Serve(p Plugin) {
	if p.Logger == nil {
		// go-plugin later points os.Stderr at a pipe it forwards; keep the
		// real one, which the host reads as the plugin's log.
		p.Logger = newStderrLogger(os.Stderr)
	}
	cfg, err := ServeConfig(p)
	if err != nil {
		fmt.Fprintf(os.Stderr, "hookflow plugin: %v\n", err)
		os.Exit(1)
	}
	plugin.Serve(cfg)
}

// ServeConfig returns the go-plugin configuration Serve uses, for harnesses
// that serve a plugin in-process (sdktest, or go-plugin's ServeConfig.Test
// for attaching a debugger).
func ServeConfig(p Plugin) (*plugin.ServeConfig, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	srv := newServer(p)
	return &plugin.ServeConfig{
		HandshakeConfig: handshake(),
		Plugins:         plugin.PluginSet{pluginv1.PluginSetKey: &grpcPlugin{server: srv}},
		GRPCServer:      plugin.DefaultGRPCServer,
		// Logger nil: go-plugin logs JSON lines on stderr, which the host
		// reads into its own log at their levels.
	}, nil
}

// handshake is the go-plugin handshake of protocol v1, shared with the host.
func handshake() plugin.HandshakeConfig {
	return plugin.HandshakeConfig{
		ProtocolVersion:  pluginv1.ProtocolVersion,
		MagicCookieKey:   pluginv1.MagicCookieKey,
		MagicCookieValue: pluginv1.MagicCookieValue,
	}
}

// grpcPlugin plugs the ActionPlugin service into go-plugin.
type grpcPlugin struct {
	plugin.NetRPCUnsupportedPlugin
	server *server
}

func (g *grpcPlugin) GRPCServer(_ *plugin.GRPCBroker, s *grpc.Server) error {
	pluginv1.RegisterActionPluginServer(s, g.server)
	return nil
}

// GRPCClient dispenses the raw protocol client; hosts use package plugins.
func (g *grpcPlugin) GRPCClient(_ context.Context, _ *plugin.GRPCBroker, c *grpc.ClientConn) (any, error) {
	return pluginv1.NewActionPluginClient(c), nil
}

// server implements the ActionPlugin service over a Plugin.
type server struct {
	pluginv1.UnimplementedActionPluginServer
	plugin  Plugin
	actions map[string]*Action
	log     *slog.Logger
}

func newServer(p Plugin) *server {
	s := &server{plugin: p, actions: map[string]*Action{}, log: p.Logger}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	for i := range p.Actions {
		s.actions[p.Actions[i].Name] = &p.Actions[i]
	}
	return s
}

func (s *server) Describe(context.Context, *pluginv1.DescribeRequest) (*pluginv1.DescribeResponse, error) {
	resp := &pluginv1.DescribeResponse{
		Name:             s.plugin.Name,
		Version:          s.plugin.Version,
		ProtocolVersions: []uint32{pluginv1.ProtocolVersion},
	}
	for _, a := range s.plugin.Actions {
		in := a.InputSchema
		if len(in) == 0 {
			in = []byte(`{"type":"object"}`)
		}
		resp.Actions = append(resp.Actions, &pluginv1.ActionSpec{
			Name:         a.Name,
			Description:  a.Description,
			InputSchema:  in,
			OutputSchema: a.OutputSchema,
		})
	}
	return resp, nil
}

func (s *server) Execute(ctx context.Context, req *pluginv1.ExecuteRequest) (*pluginv1.ExecuteResponse, error) {
	a, ok := s.actions[req.GetAction()]
	if !ok {
		return failure(Permanent(fmt.Errorf("plugin %s has no action %q", s.plugin.Name, req.GetAction()))), nil
	}
	step := StepInfo{
		RunID:          req.GetRunId(),
		Workflow:       req.GetWorkflow(),
		StepID:         req.GetStepId(),
		Attempt:        int(req.GetAttempt()),
		IdempotencyKey: req.GetIdempotencyKey(),
	}
	if d := req.GetDeadline(); d != nil {
		step.Deadline = d.AsTime()
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, step.Deadline)
		defer cancel()
	} else if d, ok := ctx.Deadline(); ok {
		step.Deadline = d
	}
	c := &call{step: step, action: a.Name, base: s.log}
	out, err := s.run(withCall(ctx, c), a, req.GetInput(), c)
	if err != nil {
		return failure(err), nil
	}
	if len(out) == 0 {
		out = []byte("{}")
	}
	return &pluginv1.ExecuteResponse{Output: out}, nil
}

// run calls the handler, turning a panic into a permanent error so that
// one bad input cannot take down calls in flight on other goroutines.
func (s *server) run(ctx context.Context, a *Action, input []byte, c *call) (out []byte, err error) {
	defer func() {
		if r := recover(); r != nil {
			s.log.Error("action panicked", append(c.attrs(), "panic", fmt.Sprint(r), "stack", string(debug.Stack()))...)
			out, err = nil, Permanent(fmt.Errorf("action %s panicked: %v", a.Name, r))
		}
	}()
	return a.Handle(ctx, input)
}

func failure(err error) *pluginv1.ExecuteResponse {
	return &pluginv1.ExecuteResponse{Error: toProto(err)}
}

var (
	_ pluginv1.ActionPluginServer = (*server)(nil)
	_ plugin.GRPCPlugin           = (*grpcPlugin)(nil)
)
