package archtest

import (
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

const module = "github.com/cepengine/cep"

// TestImports_direction checks every package's dependencies with go list:
// window sees only the standard library, roaring and internal/prefetch (a
// leaf); engine never sees lang, participle or cmd; lang never sees cmd.
func TestImports_direction(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("go tool not on PATH")
	}
	statSources(t)
	out, err := exec.Command("go", "list", "-f", "{{.ImportPath}} {{join .Deps \" \"}} | {{join .Imports \" \"}}", module+"/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	rules := []struct {
		pkgPrefix string
		forbidden []string
		onlyStd   bool // plus roaring and its own deps
	}{
		{pkgPrefix: module + "/window", onlyStd: true},
		{pkgPrefix: module + "/internal/prefetch", onlyStd: true},
		{pkgPrefix: module + "/engine", forbidden: []string{module + "/lang", module + "/cmd", "github.com/alecthomas/participle"}},
		{pkgPrefix: module + "/lang", forbidden: []string{module + "/cmd"}},
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		all, direct, _ := strings.Cut(line, "|")
		fields := strings.Fields(all)
		if len(fields) == 0 {
			continue
		}
		pkg, deps, imports := fields[0], fields[1:], strings.Fields(direct)
		for _, r := range rules {
			if pkg != r.pkgPrefix && !strings.HasPrefix(pkg, r.pkgPrefix+"/") {
				continue
			}
			for _, d := range deps {
				for _, f := range r.forbidden {
					if d == f || strings.HasPrefix(d, f+"/") {
						t.Errorf("%s imports %s, which it must not", pkg, d)
					}
				}
			}
			// window's own imports: the standard library, roaring,
			// internal/prefetch and itself (roaring's dependencies are
			// roaring's business).
			for _, d := range imports {
				if r.onlyStd && strings.Contains(strings.Split(d, "/")[0], ".") &&
					!strings.HasPrefix(d, "github.com/RoaringBitmap/") && !strings.HasPrefix(d, module+"/window") &&
					d != module+"/internal/prefetch" {
					t.Errorf("%s imports %s; window may import only the standard library, roaring and internal/prefetch", pkg, d)
				}
			}
		}
	}
}

// statSources stats every Go file of the module. go test caches a passing
// result and reruns it only when what the test read has changed; it
// cannot see what go list read, so without this an import added to a
// package kept an old pass (it did once: window's first import of
// internal/prefetch). The stats make the sources the test's inputs.
func statSources(t *testing.T) {
	err := filepath.WalkDir("../..", func(path string, d fs.DirEntry, err error) error {
		switch {
		case err != nil:
			return err
		case d.IsDir() && path != "../.." && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata"):
			return filepath.SkipDir
		case !d.IsDir() && (strings.HasSuffix(path, ".go") || d.Name() == "go.mod"):
			_, err = os.Stat(path)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}
