package plugins

import (
	"strings"
	"testing"

	pluginv1 "github.com/hookflow/hookflow/plugins/proto/v1"
)

func TestCheckDescribe(t *testing.T) {
	t.Parallel()
	spec := func(name, in string) *pluginv1.ActionSpec {
		return &pluginv1.ActionSpec{Name: name, InputSchema: []byte(in)}
	}
	tests := []struct {
		name    string
		resp    *pluginv1.DescribeResponse
		wantErr string
	}{
		{"ok", &pluginv1.DescribeResponse{ProtocolVersions: []uint32{1}, Actions: []*pluginv1.ActionSpec{spec("a", `{"type":"object"}`), spec("b_2", "")}}, ""},
		{"boolean schema", &pluginv1.DescribeResponse{ProtocolVersions: []uint32{2, 1}, Actions: []*pluginv1.ActionSpec{spec("a", `true`)}}, ""},
		{"other protocol", &pluginv1.DescribeResponse{ProtocolVersions: []uint32{2}}, "plugin speaks protocol versions [2], this hookflow speaks 1"},
		{"no protocol", &pluginv1.DescribeResponse{}, "plugin speaks protocol versions [], this hookflow speaks 1"},
		{"bad name", &pluginv1.DescribeResponse{ProtocolVersions: []uint32{1}, Actions: []*pluginv1.ActionSpec{spec("Post.Message", "")}}, `action "Post.Message": invalid name`},
		{"twice", &pluginv1.DescribeResponse{ProtocolVersions: []uint32{1}, Actions: []*pluginv1.ActionSpec{spec("a", ""), spec("a", "")}}, `action "a": announced twice`},
		{"bad json", &pluginv1.DescribeResponse{ProtocolVersions: []uint32{1}, Actions: []*pluginv1.ActionSpec{spec("a", "{")}}, `action "a": input schema: not valid JSON`},
		{"not a schema", &pluginv1.DescribeResponse{ProtocolVersions: []uint32{1}, Actions: []*pluginv1.ActionSpec{spec("a", "[1]")}}, `action "a": input schema: not a JSON Schema`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := checkDescribe(tt.resp)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("err = %v, want %q", err, tt.wantErr)
			}
		})
	}
}
