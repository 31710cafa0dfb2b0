package sdk

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite golden files")

type schemaBase struct {
	ID     string `json:"id" hookflow:"required" desc:"Unique id"`
	Shadow int    `json:"shadow"`
}

type schemaNode struct {
	Name     string        `json:"name"`
	Children []*schemaNode `json:"children,omitempty"`
}

type schemaAll struct {
	schemaBase
	Shadow   string            `json:"shadow" desc:"The outer field wins"`
	Text     string            `json:"text" hookflow:"required"`
	Encoding string            `json:"encoding,omitempty" enum:"hex,base64" desc:"Output encoding"`
	Level    int               `json:"level,omitempty" enum:"1,2,3"`
	Ratio    float64           `json:"ratio"`
	On       *bool             `json:"on,omitempty"`
	Raw      []byte            `json:"raw,omitempty"`
	Tags     []string          `json:"tags,omitempty"`
	Headers  map[string]string `json:"headers,omitempty"`
	Any      any               `json:"any,omitempty"`
	JSON     json.RawMessage   `json:"json,omitempty"`
	When     time.Time         `json:"when"`
	Tree     schemaNode        `json:"tree"`
	Quoted   int               `json:"quoted,string"`
	NoTag    bool
	Skipped  string `json:"-"`
	private  string
}

func TestSchemaFor(t *testing.T) {
	t.Parallel()
	tests := []struct {
		golden string
		typ    reflect.Type
	}{
		{"schema-all.json", reflect.TypeFor[schemaAll]()},
		{"schema-pointer.json", reflect.TypeFor[*schemaBase]()},
		{"schema-map.json", reflect.TypeFor[map[string]int]()},
		{"schema-empty.json", reflect.TypeFor[struct{}]()},
	}
	for _, tt := range tests {
		t.Run(tt.golden, func(t *testing.T) {
			s, err := schemaFor(tt.typ)
			if err != nil {
				t.Fatal(err)
			}
			got, err := json.MarshalIndent(s, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, '\n')
			path := filepath.Join("testdata", tt.golden)
			if *update {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != string(want) {
				t.Errorf("schema:\n%s\nwant:\n%s", got, want)
			}
		})
	}
}

func TestSchemaForRefuses(t *testing.T) {
	t.Parallel()
	tests := []struct {
		typ     reflect.Type
		wantErr string
	}{
		{reflect.TypeFor[string](), "string is not an object type"},
		{reflect.TypeFor[[]int](), "[]int is not an object type"},
		{reflect.TypeFor[map[int]string](), "is not an object type"},
		{reflect.TypeFor[struct{ C chan int }](), "field C: schema: chan int (chan) has no JSON encoding"},
		{reflect.TypeFor[struct {
			E string `enum:"a"`
			N bool   `enum:"true"`
		}](), "field N: enum is only supported on string and number fields"},
		{reflect.TypeFor[struct {
			N int `enum:"one"`
		}](), `field N: enum value "one" is not an integer`},
	}
	for _, tt := range tests {
		t.Run(tt.typ.String(), func(t *testing.T) {
			_, err := schemaFor(tt.typ)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("err = %v, want it to contain %q", err, tt.wantErr)
			}
		})
	}
}
