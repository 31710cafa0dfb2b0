package plugins

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/hookflow/hookflow/actions"
	pluginv1 "github.com/hookflow/hookflow/plugins/proto/v1"
)

// Options configures a Host. Zero fields take the defaults below.
type Options struct {
	// Dir is the plugins directory (--plugins). "" means no plugins.
	Dir string
	// Logger receives the host's messages and every line a plugin logs,
	// with the attribute plugin=NAME. Default: discard.
	Logger *slog.Logger
	// StartTimeout bounds a plugin's launch, handshake and Describe.
	// Default 10s.
	StartTimeout time.Duration
	// RestartBackoff spaces restarts of a plugin that keeps crashing.
	RestartBackoff Backoff
	// Now is the clock of the restart back-off. Default time.Now.
	Now func() time.Time
	// OnRestart, when set, is called with the plugin's name each time a
	// plugin process was started again after it exited (for metrics).
	OnRestart func(plugin string)
}

// Backoff is the delay before restarting a plugin that crashed: none after
// a first crash, then Min, doubling with every further crash in a row, at
// most Max. A call the plugin answers ends the row.
type Backoff struct {
	Min time.Duration // default 1s
	Max time.Duration // default 1m
}

// Defaults of Options.
const (
	DefaultStartTimeout = 10 * time.Second
	DefaultBackoffMin   = time.Second
	DefaultBackoffMax   = time.Minute
)

func (b Backoff) delay(crashes int) time.Duration {
	if crashes <= 1 {
		return 0
	}
	d := b.Min
	for i := 2; i < crashes && d < b.Max; i++ {
		d *= 2
	}
	return min(d, b.Max)
}

// withDefaults fills defaults, then checks the result.
func (o Options) withDefaults() (Options, error) {
	o.Logger = cmp.Or(o.Logger, slog.New(slog.DiscardHandler))
	o.StartTimeout = cmp.Or(o.StartTimeout, DefaultStartTimeout)
	o.RestartBackoff.Min = cmp.Or(o.RestartBackoff.Min, DefaultBackoffMin)
	o.RestartBackoff.Max = cmp.Or(o.RestartBackoff.Max, DefaultBackoffMax)
	if o.Now == nil {
		o.Now = time.Now
	}
	var errs []error
	if o.StartTimeout < 0 {
		errs = append(errs, fmt.Errorf("StartTimeout %v: must be positive", o.StartTimeout))
	}
	if o.RestartBackoff.Min < 0 || o.RestartBackoff.Max < 0 {
		errs = append(errs, fmt.Errorf("RestartBackoff %v..%v: must be positive", o.RestartBackoff.Min, o.RestartBackoff.Max))
	} else if o.RestartBackoff.Min > o.RestartBackoff.Max {
		errs = append(errs, fmt.Errorf("RestartBackoff.Min %v: more than Max %v", o.RestartBackoff.Min, o.RestartBackoff.Max))
	}
	return o, errors.Join(errs...)
}

// ChecksumState says how a plugin's file relates to its plugins.yaml pin.
type ChecksumState string

const (
	ChecksumPinnedOK ChecksumState = "pinned-ok" // pinned, and the file matches
	ChecksumUnpinned ChecksumState = "unpinned"  // no pin in plugins.yaml
	ChecksumMismatch ChecksumState = "mismatch"  // pinned, the file differs: refused
)

// Info describes one discovered plugin, loaded or refused.
type Info struct {
	Name     string        `json:"name"`              // NAME of hookflow-plugin-NAME
	Path     string        `json:"path"`              // as found in the plugins directory
	Version  string        `json:"version,omitempty"` // announced by Describe
	SHA256   string        `json:"sha256,omitempty"`  // of the file, hex
	Checksum ChecksumState `json:"checksum"`          // pinned-ok, unpinned or mismatch
	Actions  []ActionInfo  `json:"actions,omitempty"` // announced by Describe, in its order
	Error    string        `json:"error,omitempty"`   // why the plugin was refused
}

// Loaded reports whether the plugin serves its actions.
func (i Info) Loaded() bool { return i.Error == "" }

// ActionInfo describes one action of a plugin.
type ActionInfo struct {
	Name         string          `json:"name"` // as in PLUGIN.NAME
	Description  string          `json:"description,omitempty"`
	InputSchema  json.RawMessage `json:"input_schema,omitempty"`
	OutputSchema json.RawMessage `json:"output_schema,omitempty"`
}

// Host runs the plugins of one directory. Its methods are safe for
// concurrent use.
type Host struct {
	opts     Options
	infos    []Info
	procs    map[string]*proc
	problems []error
	killWG   sync.WaitGroup

	closeOnce sync.Once
}

// Open discovers the plugins of opts.Dir, launches each and asks it to
// Describe itself. A plugin that cannot be loaded does not fail Open: it is
// refused, logged and reported by Problems and Plugins, and the others load.
// Open fails when the options are invalid, the directory cannot be read or
// plugins.yaml is malformed. Call Close when done, also after an error.
func Open(ctx context.Context, opts Options) (*Host, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, fmt.Errorf("plugins: options: %w", err)
	}
	h := &Host{opts: opts, procs: map[string]*proc{}}
	if opts.Dir == "" {
		return h, nil
	}
	realDir, err := filepath.EvalSymlinks(opts.Dir)
	if err != nil {
		return nil, fmt.Errorf("plugins: %w", err)
	}
	if realDir, err = filepath.Abs(realDir); err != nil {
		return nil, fmt.Errorf("plugins: %w", err)
	}
	pins, err := readManifest(opts.Dir)
	if err != nil {
		return nil, fmt.Errorf("plugins: %w", err)
	}
	cands, err := discover(opts.Dir)
	if err != nil {
		return nil, fmt.Errorf("plugins: %w", err)
	}
	found := map[string]bool{}
	for _, c := range cands {
		c.pin = pins[c.name]
		found[c.name] = true
	}
	for _, name := range sortedKeys(pins) {
		if !found[name] {
			err := fmt.Errorf("plugins: %s pins %q but there is no %s%s", ManifestFile, name, FilePrefix, name)
			h.problems = append(h.problems, err)
			opts.Logger.Warn("plugin pinned but not found", "plugin", name, "error", err)
		}
	}

	type result struct {
		info Info
		proc *proc
		err  error
	}
	results := make([]result, len(cands))
	var wg sync.WaitGroup
	for i, c := range cands {
		wg.Go(func() {
			info, p, err := h.load(ctx, c, realDir)
			results[i] = result{info, p, err}
		})
	}
	wg.Wait()
	for _, r := range results {
		log := opts.Logger.With("plugin", r.info.Name)
		if r.err != nil {
			r.info.Error = r.err.Error()
			h.problems = append(h.problems, fmt.Errorf("plugins: %w", r.err))
			log.Error("plugin refused", "error", r.err)
		} else {
			h.procs[r.info.Name] = r.proc
			log.Info("plugin loaded", "version", r.info.Version, "actions", len(r.info.Actions), "checksum", string(r.info.Checksum))
		}
		h.infos = append(h.infos, r.info)
	}
	return h, nil
}

// load checks, launches and describes one candidate.
func (h *Host) load(ctx context.Context, c *candidate, realDir string) (Info, *proc, error) {
	info := Info{Name: c.name, Path: c.path, Checksum: ChecksumUnpinned}
	if c.pin != "" {
		info.Checksum = ChecksumPinnedOK
	}
	err := c.check(realDir)
	info.SHA256 = c.sum
	if c.pin != "" && c.sum != "" && c.sum != c.pin {
		info.Checksum = ChecksumMismatch
	}
	if err != nil {
		return info, nil, err
	}
	p := &proc{
		name:   c.name,
		path:   c.real,
		pin:    sumBytes(c.pin),
		opts:   &h.opts,
		log:    h.opts.Logger.With("plugin", c.name),
		killWG: &h.killWG,
	}
	inst, err := p.start()
	if err != nil {
		return info, nil, fmt.Errorf("%s: %w", c.path, err)
	}
	ctx, cancel := context.WithTimeout(ctx, h.opts.StartTimeout)
	defer cancel()
	d, err := inst.rpc.Describe(ctx, &pluginv1.DescribeRequest{HostProtocolVersions: []uint32{pluginv1.ProtocolVersion}})
	if err == nil {
		err = checkDescribe(d)
	}
	if err != nil {
		inst.kill()
		return info, nil, fmt.Errorf("%s: describe: %w", c.path, err)
	}
	if d.GetName() != c.name {
		p.log.Warn("plugin calls itself by another name; workflows address it by its file name",
			"described_name", d.GetName(), "file", c.path)
	}
	info.Version = d.GetVersion()
	for _, a := range d.GetActions() {
		info.Actions = append(info.Actions, ActionInfo{
			Name:         a.GetName(),
			Description:  a.GetDescription(),
			InputSchema:  json.RawMessage(a.GetInputSchema()),
			OutputSchema: json.RawMessage(a.GetOutputSchema()),
		})
	}
	p.cur = inst
	return info, p, nil
}

// checkDescribe refuses an answer the host cannot use.
func checkDescribe(d *pluginv1.DescribeResponse) error {
	if !slices.Contains(d.GetProtocolVersions(), pluginv1.ProtocolVersion) {
		return fmt.Errorf("plugin speaks protocol versions %v, this hookflow speaks %d", d.GetProtocolVersions(), pluginv1.ProtocolVersion)
	}
	seen := map[string]bool{}
	var errs []error
	for _, a := range d.GetActions() {
		switch {
		case !actionNamePattern.MatchString(a.GetName()):
			errs = append(errs, fmt.Errorf("action %q: invalid name (want [a-z0-9][a-z0-9_-]*)", a.GetName()))
		case seen[a.GetName()]:
			errs = append(errs, fmt.Errorf("action %q: announced twice", a.GetName()))
		}
		seen[a.GetName()] = true
		if err := checkSchema(a.GetInputSchema()); err != nil {
			errs = append(errs, fmt.Errorf("action %q: input schema: %w", a.GetName(), err))
		}
		if err := checkSchema(a.GetOutputSchema()); err != nil {
			errs = append(errs, fmt.Errorf("action %q: output schema: %w", a.GetName(), err))
		}
	}
	return errors.Join(errs...)
}

func checkSchema(b []byte) error {
	if len(b) == 0 {
		return nil
	}
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		return fmt.Errorf("not valid JSON: %w", err)
	}
	if _, ok := v.(map[string]any); !ok {
		if _, ok := v.(bool); !ok {
			return errors.New("not a JSON Schema (an object or a boolean)")
		}
	}
	return nil
}

// Plugins describes every discovered plugin, loaded or refused, by name.
func (h *Host) Plugins() []Info {
	return slices.Clone(h.infos)
}

// Problems returns why plugins were refused, and pins without a plugin.
func (h *Host) Problems() []error {
	return slices.Clone(h.problems)
}

// Register adds every action of every loaded plugin to r as "PLUGIN.ACTION".
func (h *Host) Register(r *actions.Registry) error {
	var errs []error
	for _, info := range h.infos {
		p, ok := h.procs[info.Name]
		if !ok {
			continue
		}
		for _, a := range info.Actions {
			name := info.Name + "." + a.Name
			if err := r.Register(name, &action{proc: p, info: a}); err != nil {
				errs = append(errs, fmt.Errorf("plugins: %w", err))
			}
		}
	}
	return errors.Join(errs...)
}

// Close kills every plugin process and waits until they are gone. Calls
// after Close fail retryably. Close is idempotent; it also serves the
// daemon's shutdown path.
func (h *Host) Close() error {
	h.closeOnce.Do(func() {
		var wg sync.WaitGroup
		for _, p := range h.procs {
			wg.Go(p.close)
		}
		wg.Wait()
		h.killWG.Wait()
	})
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
