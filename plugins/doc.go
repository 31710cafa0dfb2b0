// Package plugins is hookflow's plugin host: it finds the plugin executables
// of a directory, checks them, launches each as a hashicorp/go-plugin
// subprocess speaking protocol v1 over gRPC (package pluginv1), and serves
// their actions to the engine as ordinary actions.Action values named
// "PLUGIN.ACTION".
//
//	h, err := plugins.Open(ctx, plugins.Options{Dir: "/etc/hookflow/plugins", Logger: log})
//	if err != nil {
//		return err // bad options, unreadable directory, malformed plugins.yaml
//	}
//	defer h.Close()
//	for _, err := range h.Problems() {
//		log.Warn("plugin refused", "error", err) // the others still load
//	}
//	if err := h.Register(registry); err != nil {
//		return err
//	}
//
// # Discovery and trust
//
// A plugin is an executable regular file named hookflow-plugin-NAME, NAME
// matching [a-z0-9][a-z0-9_-]*. Symlinks are followed but must resolve inside
// the directory. An optional plugins.yaml pins checksums:
//
//	plugins:
//	  chat: { sha256: "9f86d081884c7d65..." }
//
// A pinned plugin is launched through go-plugin's SecureConfig, which checks
// the file again before every launch; a mismatch refuses it. A plugin that
// cannot be used (bad name, not executable, checksum mismatch, a handshake
// that never completes, a wrong protocol version, an unusable Describe)
// is refused with a message naming the file; Open still succeeds.
//
// # Processes
//
// Each plugin runs as one process shared by all concurrent calls. It gets a
// minimal environment (PATH, HOME, TMPDIR, TZ, LANG, LC_ALL, SSL_CERT_FILE,
// SSL_CERT_DIR and go-plugin's handshake variables), never the daemon's:
// secrets reach plugins only through step inputs. Its stderr and stdout
// become log records with plugin=NAME; the SDK's JSON log lines keep their
// level and attributes.
//
// A call's context carries the step timeout to the plugin (gRPC deadline and
// the request's deadline field). A call that outlives it is abandoned with a
// retryable error. A process that dies during a call fails that call
// retryably ("plugin X exited during the call"); the next call starts it
// again, at once after a first crash and then after a growing back-off
// (Options.RestartBackoff) while it keeps crashing; calls made during the
// back-off fail retryably with the time left as their retry hint. Close kills
// every process and waits until they are gone.
//
// # Caveats
//
// go-plugin's own ClientConfig.Managed / CleanupClients are not used: Close
// is the only way processes end, so call it on every shutdown path. Inputs
// and outputs travel as JSON inside gRPC messages; the plugin decides what
// an output contains, and a plugin's error messages are recorded as they
// are.
package plugins
