package window

import (
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestWindow_Imports keeps the package at the bottom of the import graph:
// its non-test files import only the standard library, roaring and
// internal/prefetch (a leaf: one assembly instruction, no imports).
func TestWindow_Imports(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		ast, err := parser.ParseFile(token.NewFileSet(), f, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range ast.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			std := !strings.Contains(strings.Split(path, "/")[0], ".")
			if !std && !strings.HasPrefix(path, "github.com/RoaringBitmap/roaring/v2") && path != "github.com/cepengine/cep/internal/prefetch" {
				t.Errorf("%s imports %s: window may import only the standard library, roaring and internal/prefetch", f, path)
			}
		}
	}
}
