package plugins_test

import (
	"os"

	"github.com/hookflow/hookflow/plugins"
)

// The table of `hookflow plugins list`.
func ExampleWriteList() {
	plugins.WriteList(os.Stdout, []plugins.Info{
		{Name: "chat", Version: "1.0.0", Checksum: plugins.ChecksumPinnedOK, Actions: []plugins.ActionInfo{
			{Name: "post_message", Description: "Post a message to a Slack-compatible incoming webhook"},
			{Name: "digest", Description: "Hash or HMAC a text"},
		}},
		{Name: "crm", Checksum: plugins.ChecksumUnpinned, Error: "plugins/hookflow-plugin-crm: not executable (mode -rw-r--r--)"},
	})
	// Output:
	// PLUGIN  VERSION  CHECKSUM   ACTION             DESCRIPTION
	// chat    1.0.0    pinned-ok  chat.post_message  Post a message to a Slack-compatible incoming webhook
	//                             chat.digest        Hash or HMAC a text
	// crm     -        unpinned   -                  refused: plugins/hookflow-plugin-crm: not executable (mode -rw-r--r--)
}
