package scripttest

import (
	"path/filepath"
	"strings"
	"testing"
)

// conformanceSkips lists the conformance scripts the engine does not pass
// yet, each with the reason.
var conformanceSkips = map[string]string{}

// TestConformance runs the translated outside cases of testdata/conformance
// through the engine: each must give the reference matcher's output, line
// for line, in every metamorphic run.
func TestConformance(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "..", "testdata", "conformance", "*.test"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 100 {
		t.Fatalf("%d conformance scripts; want the 111 of testdata/conformance", len(files))
	}
	passed := 0
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".test")
		t.Run(name, func(t *testing.T) {
			r := RunFile(f)
			if why, skip := conformanceSkips[name]; skip {
				if !r.Failed() {
					t.Errorf("listed in conformanceSkips (%s) but passes: remove it from the list", why)
				}
				t.Skip(why)
			}
			if r.Failed() {
				t.Error(r.String())
				return
			}
			passed++
		})
	}
	t.Logf("%d of %d conformance scripts pass, %d skipped", passed, len(files), len(conformanceSkips))
}
