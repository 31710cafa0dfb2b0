package plugins

import (
	"cmp"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	plugin "github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	"github.com/hookflow/hookflow/actions"
	pluginv1 "github.com/hookflow/hookflow/plugins/proto/v1"
)

// handshake is protocol v1's go-plugin handshake; the SDK uses the same.
var handshake = plugin.HandshakeConfig{
	ProtocolVersion:  pluginv1.ProtocolVersion,
	MagicCookieKey:   pluginv1.MagicCookieKey,
	MagicCookieValue: pluginv1.MagicCookieValue,
}

// exitWait bounds how long a failed call waits to learn whether the plugin
// process died (the connection breaks a moment before the exit is reaped).
const exitWait = time.Second

// proc supervises the process of one plugin: it launches it, shares it
// between concurrent calls, and restarts it after a crash, with back-off.
type proc struct {
	name   string
	path   string // resolved executable
	pin    []byte // pinned sha256, nil when unpinned
	opts   *Options
	log    *slog.Logger
	killWG *sync.WaitGroup // the host's: kills in the background

	mu        sync.Mutex
	cur       *instance
	launching *launch
	crashes   int       // consecutive crashes and failed starts
	notBefore time.Time // no restart before this
	closed    bool
}

// instance is one running plugin process.
type instance struct {
	client *plugin.Client
	rpc    pluginv1.ActionPluginClient
	exited <-chan struct{} // closed when the process is gone
	logs   []*lineLogger
}

type launch struct {
	done chan struct{}
	err  error
}

// errHostClosed is returned by calls after Close.
var errHostClosed = errors.New("plugin host closed")

// start launches the process, completes the handshake and connects.
func (p *proc) start() (*instance, error) {
	cmd := exec.Command(p.path)
	cmd.Env = pluginEnv()
	stderr := &lineLogger{log: p.log, stream: "stderr"}
	syncOut := &lineLogger{log: p.log, stream: "stdout"}
	syncErr := &lineLogger{log: p.log, stream: "stderr"}
	cfg := &plugin.ClientConfig{
		HandshakeConfig:  handshake,
		Plugins:          plugin.PluginSet{pluginv1.PluginSetKey: &hostPlugin{}},
		Cmd:              cmd,
		SkipHostEnv:      true,
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolGRPC},
		AutoMTLS:         true,
		StartTimeout:     p.opts.StartTimeout,
		Logger:           newHCLogBridge(p.log, filepath.Base(p.path)),
		Stderr:           stderr,
		SyncStdout:       syncOut,
		SyncStderr:       syncErr,
	}
	if p.pin != nil {
		cfg.SecureConfig = &plugin.SecureConfig{Checksum: p.pin, Hash: sha256.New()}
	}
	client := plugin.NewClient(cfg)
	inst := &instance{client: client, logs: []*lineLogger{stderr, syncOut, syncErr}}
	rpc, err := client.Client()
	if err != nil {
		inst.kill()
		return nil, startError(err)
	}
	raw, err := rpc.Dispense(pluginv1.PluginSetKey)
	if err != nil {
		inst.kill()
		return nil, fmt.Errorf("connect: %w", err)
	}
	d := raw.(*dispensed)
	inst.rpc, inst.exited = d.client, d.exited
	return inst, nil
}

// startError explains go-plugin's start failures in the host's words.
func startError(err error) error {
	msg := err.Error()
	switch {
	case errors.Is(err, plugin.ErrChecksumsDoNotMatch):
		return fmt.Errorf("sha256 mismatch: the file no longer matches its %s pin; refusing to run it", ManifestFile)
	case strings.Contains(msg, "timeout while waiting for plugin to start"):
		return fmt.Errorf("handshake: no answer within the start timeout (is it a hookflow plugin built with the sdk?): %w", err)
	case strings.Contains(msg, "incompatible API version"):
		return fmt.Errorf("handshake: wrong protocol version: this hookflow speaks plugin protocol %d: %w", pluginv1.ProtocolVersion, err)
	case strings.Contains(msg, "Failed to read any lines from plugin's stdout"), strings.Contains(msg, "plugin exited before we could connect"):
		return errors.New("handshake: the process exited before the handshake (its stderr is in the log)")
	case strings.Contains(msg, "Unrecognized remote plugin message"):
		return fmt.Errorf("handshake: the process did not speak the hookflow plugin handshake: %s", firstLine(msg))
	case strings.Contains(msg, "unsupported plugin protocol"):
		return fmt.Errorf("handshake: %w (hookflow plugins speak gRPC)", err)
	}
	return fmt.Errorf("start: %w", err)
}

func firstLine(s string) string {
	first, _, _ := strings.Cut(s, "\n")
	return first
}

// kill ends the process (gracefully first) and flushes its last log lines.
func (inst *instance) kill() {
	inst.client.Kill()
	for _, l := range inst.logs {
		l.Flush()
	}
}

func (inst *instance) gone() bool {
	if inst.exited == nil {
		return inst.client.Exited()
	}
	select {
	case <-inst.exited:
		return true
	default:
		return false
	}
}

// get returns the running instance, starting one when there is none and the
// restart back-off allows it. Errors are retryable.
func (p *proc) get(ctx context.Context) (*instance, error) {
	for {
		p.mu.Lock()
		if p.closed {
			p.mu.Unlock()
			return nil, actions.Retryable(fmt.Errorf("plugin %s: %w", p.name, errHostClosed))
		}
		if inst := p.cur; inst != nil {
			if !inst.gone() {
				p.mu.Unlock()
				return inst, nil
			}
			p.retireLocked(inst, "plugin process exited; it restarts on the next call")
		}
		l := p.launching
		if l == nil {
			if now := p.opts.Now(); now.Before(p.notBefore) {
				wait := p.notBefore.Sub(now)
				n := p.crashes
				p.mu.Unlock()
				return nil, actions.RetryAfter(fmt.Errorf("plugin %s crashed %d times in a row; restarting it in %s",
					p.name, n, wait.Round(time.Millisecond)), wait)
			}
			l = &launch{done: make(chan struct{})}
			p.launching = l
			go p.relaunch(l)
		}
		p.mu.Unlock()
		select {
		case <-l.done:
		case <-ctx.Done():
			return nil, actions.Retryable(fmt.Errorf("plugin %s: waiting for the process to start: %w", p.name, ctx.Err()))
		}
		if l.err != nil {
			return nil, actions.Retryable(fmt.Errorf("plugin %s: restart: %w", p.name, l.err))
		}
	}
}

// relaunch starts a new process after a crash; a failed start counts as a
// crash for the back-off.
func (p *proc) relaunch(l *launch) {
	p.log.Info("starting plugin process")
	inst, err := p.start()
	p.mu.Lock()
	defer p.mu.Unlock()
	defer close(l.done)
	p.launching = nil
	l.err = err
	if err != nil {
		p.log.Error("plugin failed to start", "error", err)
		p.crashedLocked()
		return
	}
	if p.closed {
		p.killLater(inst)
		l.err = errHostClosed
		return
	}
	p.cur = inst
	if p.opts.OnRestart != nil {
		p.opts.OnRestart(p.name)
	}
}

// retireLocked drops inst after it died (once, even when several calls
// notice) and counts a crash.
func (p *proc) retireLocked(inst *instance, why string) {
	if p.cur != inst {
		return
	}
	p.cur = nil
	p.crashedLocked()
	p.log.Warn(why, "crashes_in_a_row", p.crashes)
	p.killLater(inst)
}

// crashedLocked counts a crash and sets when the next start may happen:
// at once after the first, then Min, 2·Min, ... up to Max.
func (p *proc) crashedLocked() {
	p.crashes++
	p.notBefore = p.opts.Now().Add(p.opts.RestartBackoff.delay(p.crashes))
}

// succeeded resets the crash count after a call that inst answered.
func (p *proc) succeeded(inst *instance) {
	p.mu.Lock()
	if p.cur == inst {
		p.crashes = 0
	}
	p.mu.Unlock()
}

// died reports whether inst's process exited, waiting a moment for the exit
// to be noticed; when it did, inst is retired.
func (p *proc) died(ctx context.Context, inst *instance) bool {
	t := time.NewTimer(exitWait)
	defer t.Stop()
	select {
	case <-inst.exited:
	case <-t.C:
		return false
	case <-ctx.Done():
		if !inst.gone() {
			return false
		}
	}
	p.mu.Lock()
	p.retireLocked(inst, "plugin process exited during a call; it restarts on the next call")
	p.mu.Unlock()
	return true
}

func (p *proc) killLater(inst *instance) {
	p.killWG.Add(1)
	go func() {
		defer p.killWG.Done()
		inst.kill()
	}()
}

// close stops p: no new calls or starts, and the process is killed. A start
// in flight is killed when it completes.
func (p *proc) close() {
	p.mu.Lock()
	p.closed = true
	inst := p.cur
	p.cur = nil
	l := p.launching
	p.mu.Unlock()
	if inst != nil {
		inst.kill()
	}
	if l != nil {
		<-l.done
	}
}

// pluginEnv is a plugin's whole environment: nothing of the daemon's but
// where to find programs, home and temporary files, time zone, locale and
// TLS trust settings. Secrets reach a plugin only through step inputs.
// go-plugin appends its handshake variables to it.
func pluginEnv() []string {
	env := []string{
		"PATH=" + cmp.Or(os.Getenv("PATH"), "/usr/local/bin:/usr/bin:/bin"),
		"TMPDIR=" + os.TempDir(),
	}
	for _, k := range []string{"HOME", "TZ", "LANG", "LC_ALL", "SSL_CERT_FILE", "SSL_CERT_DIR"} {
		if v, ok := os.LookupEnv(k); ok {
			env = append(env, k+"="+v)
		}
	}
	return env
}

// hostPlugin is the client half of the go-plugin plugin set.
type hostPlugin struct {
	plugin.NetRPCUnsupportedPlugin
}

// dispensed is what hostPlugin dispenses: the protocol client and a channel
// closed when the process exits (go-plugin cancels ctx then).
type dispensed struct {
	client pluginv1.ActionPluginClient
	exited <-chan struct{}
}

func (hostPlugin) GRPCServer(*plugin.GRPCBroker, *grpc.Server) error {
	return errors.New("plugins: the host does not serve plugins")
}

func (hostPlugin) GRPCClient(ctx context.Context, _ *plugin.GRPCBroker, c *grpc.ClientConn) (any, error) {
	return &dispensed{client: pluginv1.NewActionPluginClient(c), exited: ctx.Done()}, nil
}

var _ plugin.GRPCPlugin = hostPlugin{}
