package sdk

import (
	"go/build"
	"strings"
	"testing"
)

// TestImports keeps the SDK a small, stable surface: the standard library,
// go-plugin, gRPC, protobuf and the protocol package only.
func TestImports(t *testing.T) {
	t.Parallel()
	allowed := []string{
		"github.com/hashicorp/go-plugin",
		"google.golang.org/grpc",
		"google.golang.org/protobuf/",
		"github.com/hookflow/hookflow/plugins/proto/v1",
	}
	pkg, err := build.ImportDir(".", 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, imp := range pkg.Imports {
		first, _, _ := strings.Cut(imp, "/")
		if !strings.Contains(first, ".") {
			continue // standard library
		}
		ok := false
		for _, a := range allowed {
			ok = ok || imp == a || strings.HasPrefix(imp, a)
		}
		if !ok {
			t.Errorf("sdk imports %s", imp)
		}
	}
}
