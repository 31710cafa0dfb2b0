package plugins

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files")

func TestWriteList(t *testing.T) {
	t.Parallel()
	tests := []struct {
		golden string
		infos  []Info
	}{
		{"list-empty.txt", nil},
		{"list.txt", []Info{
			{Name: "chat", Version: "1.0.0", Checksum: ChecksumPinnedOK, Actions: []ActionInfo{
				{Name: "post_message", Description: "Post a Slack-compatible message"},
				{Name: "digest", Description: "Hash or HMAC a string\n(hex or base64)"},
			}},
			{Name: "crm", Checksum: ChecksumMismatch, Error: "/plugins/hookflow-plugin-crm: sha256 mismatch"},
			{Name: "idle", Version: "0.0.1", Checksum: ChecksumUnpinned},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.golden, func(t *testing.T) {
			var buf bytes.Buffer
			if err := WriteList(&buf, tt.infos); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join("testdata", "golden", tt.golden)
			if *update {
				if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(buf.Bytes(), want) {
				t.Errorf("WriteList:\n%s\nwant:\n%s", buf.Bytes(), want)
			}
		})
	}
}
