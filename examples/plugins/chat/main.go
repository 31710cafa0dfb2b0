// Command hookflow-plugin-chat is an example hookflow plugin: it posts
// messages to Slack-compatible incoming webhooks and hashes or signs text.
//
// Build and install it into a plugins directory:
//
//	go build -o plugins/hookflow-plugin-chat ./examples/plugins/chat
//	hookflow serve --plugins plugins --workflows examples/workflows
//
// Workflows then use chat.post_message and chat.digest; see
// examples/plugins/chat/workflows/plugin-chat.yaml and docs/plugins.md.
package main

import (
	"net/http"

	"github.com/hookflow/hookflow/sdk"
)

// version is the plugin's version, shown by `hookflow plugins list`.
const version = "1.0.0"

func main() {
	sdk.Serve(chatPlugin(http.DefaultTransport))
}

// chatPlugin is the plugin, its HTTP transport injected for tests.
func chatPlugin(rt http.RoundTripper) sdk.Plugin {
	p := &poster{client: &http.Client{Transport: rt}}
	return sdk.Plugin{
		Name:    "chat",
		Version: version,
		Actions: []sdk.Action{
			sdk.Typed("post_message", "Post a message to a Slack-compatible incoming webhook", p.post),
			sdk.Typed("digest", "Hash or HMAC a text (sha256, sha512, sha1; hex or base64)", digest),
		},
	}
}
