package fuzz

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/cepengine/cep/lang"
)

// maxInput bounds a fuzz input: larger ones are skipped, so that the
// fuzzer spends its time on structure rather than on length.
const maxInput = 64 << 10

// handSeeds cover every construct of the language, with comments in the
// places the formatter has to move them.
var handSeeds = []string{
	"",
	"// only a comment\n",
	"event A { x: int, y: [string], at: time } time at lateness 5s\n",
	"event E {}\nevent F { /* empty */ }\n",
	"const big = 1000.0\nconst s = \"a  b\" // text\n",
	"rule r from A a where a.x > 1 emit B { x, y: a.x * 2 }\n",
	"rule r partition by user, ip window sliding 5m having count() >= 5 emit S { user, n: count() } output first every 5m\n",
	"rule r from A window tumbling 1m emit T { n: count() }\nrule q from A window hopping 5m every 1m emit T {}\n",
	"rule r from A window count 100 emit T {}\nrule q from A window sliding count 10 emit T {}\nrule s from A window session gap 30s emit T {}\n",
	"rule r partition by user match f:Login(not ok){3,} -> s:Login(ok and ip == f[0].ip) within 10m emit C { user: s.user, n: len(f) }\n",
	"rule r match p:P -> not Q within gap 30m skip to first p emit A { user: p.user }\non timeout emit T { user: p.user }\n",
	"rule r match a:A+? consecutive until(x > 1) ->> (b:B c:C)*! relaxed | D{2} & E{1,3}?? any emit X {}\n",
	"rule r match A (B | C)? -> not (D E) skip to next having true emit X {} skip none skip past last skip to last a\n",
	"rule r // why\n  // before from\n  from A where x > 1 // big\n    && y /* inline */ == 2\n  emit X { // fields\n    a: 1, // one\n    b,\n  }\n  // after\n",
	"rule r from A where x == `multi\nline` emit X { s: 'single' }\n",
	"rule r from A where x.from == 1 && x.rule > 2 emit Z { window: 2, from: x.from }\n",
	"event A { x: int } time\nrule r from A where x > emit B {}\n",
	"rule r match a:A(x > 1 -> b:B emit X {}\n",
	"rule r from A where x == \"abc emit X {}\n",
	"garbage here\nrule r from A emit X {}\n",
}

// seedFiles returns every .cep file under the repository's rules/ and
// testdata/ directories.
func seedFiles(t testing.TB) [][]byte {
	var out [][]byte
	for _, dir := range []string{"../rules", "../testdata"} {
		err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				if errors.Is(err, fs.ErrNotExist) {
					return nil
				}
				return err
			}
			if d.IsDir() || filepath.Ext(path) != ".cep" {
				return nil
			}
			src, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			if len(src) <= maxInput {
				out = append(out, src)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return out
}

func addSeeds(f *testing.F) {
	for _, s := range handSeeds {
		f.Add([]byte(s))
	}
	for _, src := range seedFiles(f) {
		f.Add(src)
	}
}

// FuzzParse feeds the parser any bytes: it must not panic, and an error
// must be a non-empty ErrorList whose every position lies inside the
// source and names the file. Formatting whatever tree it returns, even
// one recovered from errors, must not panic either.
func FuzzParse(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, src []byte) {
		if len(src) > maxInput {
			t.Skip()
		}
		file, err := lang.Parse("fuzz.cep", src)
		if file == nil {
			t.Fatal("Parse returned a nil file")
		}
		lang.Format(file)
		if err == nil {
			return
		}
		var list lang.ErrorList
		if !errors.As(err, &list) {
			t.Fatalf("error is %T, not an ErrorList: %v", err, err)
		}
		if len(list) == 0 {
			t.Fatal("empty ErrorList returned as an error")
		}
		for _, e := range list {
			if e.Pos.Filename != "fuzz.cep" {
				t.Errorf("error %q names file %q", e.Error(), e.Pos.Filename)
			}
			if !inside(src, e.Pos) {
				t.Errorf("error %q is outside the source (%d lines)", e.Error(), bytes.Count(src, []byte("\n"))+1)
			}
			if e.Msg == "" {
				t.Errorf("error at %v has no message", e.Pos)
			}
		}
	})
}

// inside reports whether pos is a place in src: a line that exists and a
// column at most one past the line's last character (the end of file).
func inside(src []byte, pos lang.Position) bool {
	lines := strings.Split(string(src), "\n")
	if pos.Line < 1 || pos.Line > len(lines) || pos.Column < 1 {
		return false
	}
	return pos.Column <= utf8.RuneCountInString(lines[pos.Line-1])+1
}

// FuzzFormat checks, for every input that parses: the formatted text
// parses, has the same syntax tree, formats to itself, and keeps every
// comment.
func FuzzFormat(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, src []byte) {
		if len(src) > maxInput {
			t.Skip()
		}
		file, err := lang.Parse("fuzz.cep", src)
		if err != nil {
			return
		}
		out := lang.Format(file)
		again, err := lang.Parse("fuzz.cep", out)
		if err != nil {
			t.Fatalf("formatted text does not parse: %v\ninput:\n%s\nformatted:\n%s", err, src, out)
		}
		if want, got := lang.Dump(file), lang.Dump(again); want != got {
			t.Fatalf("formatting changed the syntax tree\ninput:\n%s\nformatted:\n%s\nbefore:\n%s\nafter:\n%s", src, out, want, got)
		}
		if twice := lang.Format(again); !bytes.Equal(twice, out) {
			t.Fatalf("formatting is not idempotent\ninput:\n%s\nonce:\n%s\ntwice:\n%s", src, out, twice)
		}
		for _, c := range file.Comments {
			text := strings.TrimRight(c.Text, " \t\r")
			if !bytes.Contains(out, []byte(text)) {
				t.Fatalf("comment %q lost\ninput:\n%s\nformatted:\n%s", c.Text, src, out)
			}
		}
	})
}

// FuzzCheck runs the checker on every input that parses: it must not
// panic; an error must be a non-empty ErrorList of positions inside the
// source; a program must come back exactly when there is no error; and a
// clean program must compile for the engine or be refused with positioned
// errors, never a panic.
func FuzzCheck(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, src []byte) {
		if len(src) > maxInput {
			t.Skip()
		}
		file, err := lang.Parse("fuzz.cep", src)
		if err != nil {
			return
		}
		prog, err := lang.Check(file)
		if (prog == nil) == (err == nil) {
			t.Fatalf("Check returned program %v and error %v: want exactly one", prog != nil, err)
		}
		if err != nil {
			var list lang.ErrorList
			if !errors.As(err, &list) || len(list) == 0 {
				t.Fatalf("error is %T (%v), not a non-empty ErrorList", err, err)
			}
			for _, e := range list {
				if !inside(src, e.Pos) {
					t.Errorf("error %q is outside the source", e.Error())
				}
			}
			return
		}
		if _, err := lang.Compile(prog); err != nil {
			var list lang.ErrorList
			if !errors.As(err, &list) || len(list) == 0 {
				t.Fatalf("compile error is %T (%v), not a non-empty ErrorList", err, err)
			}
		}
	})
}
