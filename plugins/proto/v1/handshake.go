package pluginv1

// The go-plugin handshake that the host and every plugin of protocol v1
// agree on. The magic cookie is not a security measure: it only lets a plugin
// binary that is run by hand say so instead of hanging.
const (
	// ProtocolVersion is the go-plugin application protocol version of this
	// package, and the version listed in DescribeResponse.protocol_versions.
	ProtocolVersion = 1
	// MagicCookieKey is the environment variable the host sets for a plugin.
	MagicCookieKey = "HOOKFLOW_PLUGIN"
	// MagicCookieValue is its value.
	MagicCookieValue = "d1c5a0e2-hookflow-action-plugin"
	// PluginSetKey is the go-plugin plugin-set name the service is
	// dispensed under.
	PluginSetKey = "actions"
)
