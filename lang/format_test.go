package lang

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// checkFormat checks the formatter's contract on a file that parses: the
// output parses to the same tree, formats to itself, ends in one newline,
// has no trailing white space, and keeps every comment's text.
func checkFormat(t *testing.T, name string, f *File) []byte {
	t.Helper()
	out := Format(f)
	again, err := Parse(name, out)
	if err != nil {
		t.Fatalf("formatted %s does not parse: %v\n%s", name, err, out)
	}
	if want, got := Dump(f), Dump(again); want != got {
		t.Fatalf("formatting %s changed its tree:\n%s", name, diffLines(want, got))
	}
	if twice := Format(again); !bytes.Equal(twice, out) {
		t.Fatalf("formatting %s is not idempotent:\n%s", name, diffLines(string(out), string(twice)))
	}
	if len(out) > 0 && (!bytes.HasSuffix(out, []byte("\n")) || bytes.HasSuffix(out, []byte("\n\n"))) {
		t.Errorf("formatted %s does not end in exactly one newline: %q", name, out[max(0, len(out)-10):])
	}
	for i, l := range strings.Split(string(out), "\n") {
		if strings.TrimRight(l, " \t") != l && !insideComment(again, i+1) {
			t.Errorf("formatted %s: line %d has trailing white space: %q", name, i+1, l)
		}
	}
	for _, c := range f.Comments {
		if !bytes.Contains(out, []byte(strings.TrimRight(c.Text, " \t\r"))) {
			t.Errorf("formatting %s lost comment %q", name, c.Text)
		}
	}
	return out
}

// insideComment reports whether line is inside a multi-line /* */ comment
// of f, whose text the formatter keeps as written.
func insideComment(f *File, line int) bool {
	for _, c := range f.Comments {
		if end := commentEnd(c); c.Pos.Line < line && line <= end.Line {
			return true
		}
	}
	return false
}

// diffLines shows the first line where want and got differ, with context.
func diffLines(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	i := 0
	for i < len(w) && i < len(g) && w[i] == g[i] {
		i++
	}
	lo := max(0, i-3)
	var b strings.Builder
	b.WriteString("first difference at line " + strconv.Itoa(i+1) + "\n--- want\n")
	b.WriteString(strings.Join(w[lo:min(len(w), i+4)], "\n"))
	b.WriteString("\n--- got\n")
	b.WriteString(strings.Join(g[lo:min(len(g), i+4)], "\n"))
	return b.String()
}

func TestFormat_golden(t *testing.T) {
	inputs, err := filepath.Glob(filepath.Join("..", "testdata", "fmt", "*.cep"))
	if err != nil {
		t.Fatal(err)
	}
	if len(inputs) == 0 {
		t.Fatal("no inputs in testdata/fmt")
	}
	for _, in := range inputs {
		t.Run(filepath.Base(in), func(t *testing.T) {
			src, err := os.ReadFile(in)
			if err != nil {
				t.Fatal(err)
			}
			f, err := Parse(in, src)
			if err != nil {
				t.Fatal(err)
			}
			got := checkFormat(t, in, f)
			golden := strings.TrimSuffix(in, ".cep") + ".golden"
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test ./lang -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s differs from %s:\n%s", in, golden, diffLines(string(want), string(got)))
			}
			// The golden file is canonical itself.
			if again, err := FormatSource(golden, want); err != nil || !bytes.Equal(again, want) {
				t.Errorf("%s is not a fixed point of the formatter (err %v)", golden, err)
			}
		})
	}
}

// TestFormat_roundTrip checks every .cep file of the repository that
// parses (rules, test inputs; files with deliberate errors are skipped).
func TestFormat_roundTrip(t *testing.T) {
	root := repoRoot(t)
	var files []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && path != root && (strings.HasPrefix(d.Name(), ".") || d.Name() == "node_modules") {
			return filepath.SkipDir
		}
		if !d.IsDir() && filepath.Ext(path) == ".cep" {
			files = append(files, path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	parsed := 0
	for _, path := range files {
		rel, _ := filepath.Rel(root, path)
		t.Run(filepath.ToSlash(rel), func(t *testing.T) {
			src, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			f, err := Parse(rel, src)
			if err != nil {
				t.Skipf("does not parse: %v", err)
			}
			parsed++
			checkFormat(t, rel, f)
		})
	}
	t.Logf("%d .cep files, %d parse and round-trip", len(files), parsed)
}

func repoRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test directory")
		}
		dir = parent
	}
}

// formatCases are input and canonical output; each output must also be a
// fixed point, which the test checks.
var formatCases = []struct {
	name, in, want string
}{
	{
		name: "empty file",
		in:   "  \n\n",
		want: "",
	},
	{
		name: "only comments",
		in:   "// one\n\n\n// two\n/* three */",
		want: "// one\n\n// two\n/* three */\n",
	},
	{
		name: "trailing comments aligned in a rule",
		in:   "rule r // head\n  from A // from\n  partition by key // key\n  emit X {} // emit\n",
		want: "rule r // head\n  from A           // from\n  partition by key // key\n  emit X {}        // emit\n",
	},
	{
		name: "a clause without comment breaks the alignment",
		in:   "rule r\n  from A // a\n  partition by key\n  emit X {} // b\n",
		want: "rule r\n  from A // a\n  partition by key\n  emit X {} // b\n",
	},
	{
		name: "leading comment of a clause, blank lines in a rule dropped",
		in:   "rule r\n  from A\n\n  // lead\n\n  emit X {}\n",
		want: "rule r\n  from A\n  // lead\n  emit X {}\n",
	},
	{
		name: "indented comments after a rule stay with it",
		in:   "rule r from A emit X {}\n  // hang one\n    // hang two\n// doc of q\nrule q from A emit X {}\n",
		want: "rule r\n  from A\n  emit X {}\n  // hang one\n  // hang two\n\n// doc of q\nrule q\n  from A\n  emit X {}\n",
	},
	{
		name: "an indented comment after a blank line leads the next rule",
		in:   "rule r from A emit X {}\n\n  // about q\nrule q from A emit X {}\n",
		want: "rule r\n  from A\n  emit X {}\n\n// about q\nrule q\n  from A\n  emit X {}\n",
	},
	{
		name: "blank line between a comment and its declaration kept",
		in:   "// header\n\n// doc\nconst a = 1\n// tail\n",
		want: "// header\n\n// doc\nconst a = 1\n// tail\n",
	},
	{
		name: "event fields and trailing comments aligned",
		in:   "event A { x: int // x\n  yy: string\n  zzz: bool // z\n}\n",
		want: "event A {\n  x:   int // x\n  yy:  string\n  zzz: bool // z\n}\n",
	},
	{
		name: "comments in the middle of a line move to its end",
		in:   "rule r from /* t */ A /* a */ where x > 1 emit X {}\n",
		want: "rule r\n  from A where x > 1 /* t */ /* a */\n  emit X {}\n",
	},
	{
		name: "a // comment moved to the end goes after block comments",
		in:   "rule r match a:A // first\n  -> b:B /* then */ -> c:C\n  emit X {}\n",
		want: "rule r\n  match a:A -> b:B -> c:C /* then */ // first\n  emit X {}\n",
	},
	{
		name: "comment inside an emit forces one field per line",
		in:   "rule r from A emit X { a: 1, // one\n b: 2 }\n",
		want: "rule r\n  from A\n  emit X {\n    a: 1, // one\n    b: 2,\n  }\n",
	},
	{
		name: "block comment inside an expression stays in place",
		in:   "rule r from A emit X { a: 1 /* one */ + 2, b: 2 }\n",
		want: "rule r\n  from A\n  emit X { a: 1 /* one */ + 2, b: 2 }\n",
	},
	{
		name: "line comment inside an expression breaks the line",
		in:   "rule r from A where x // a\n  > 1 // b\n emit X {}\n",
		want: "rule r\n  from A where x // a\n    > 1 // b\n  emit X {}\n",
	},
	{
		name: "line comment inside an emit field expression",
		in:   "rule r from A emit X { a: x // c\n + 1 }\n",
		want: "rule r\n  from A\n  emit X {\n    a: x // c\n      + 1,\n  }\n",
	},
	{
		name: "fields groups, comments before the closing brace",
		in:   "rule r from A emit X {\n  a: 1,\n\n\n  // group two\n  b: 2,\n  // end\n}\n",
		want: "rule r\n  from A\n  emit X {\n    a: 1,\n\n    // group two\n    b: 2,\n    // end\n  }\n",
	},
	{
		name: "no blank line after an opening or before a closing brace",
		// A comment keeps the declaration on several lines.
		in:   "event A {\n\n  x: int // the x\n\n}\n",
		want: "event A {\n  x: int // the x\n}\n",
	},
	{
		name: "multi-line block comments kept as written",
		in:   "/* multi\n   line */ rule r from A emit X {} /* trailing\n multi */\n",
		want: "/* multi\n   line */\nrule r\n  from A\n  emit X {} /* trailing\n multi */\n",
	},
	{
		// Found by FuzzFormat: a // comment after a multi-line comment
		// that trails a line trails it too.
		name: "comments before an expression move after it",
		in:   "rule A from A where //\n/*\n*/0",
		want: "rule A\n  from A where 0 /*\n*/ //\n",
	},
	{
		name: "block then line comment trailing",
		in:   "rule r from A where x > 1 /* a */ // b\n emit X {}\n",
		want: "rule r\n  from A where x > 1 /* a */ // b\n  emit X {}\n",
	},
	{
		name: "comment between the brace and time",
		in:   "event A { x: int } /* c */ time x // t\n",
		want: "event A { x: int } time x /* c */ // t\n",
	},
	{
		name: "empty bodies keep block comments inside",
		in:   "rule r from A emit X { /* nothing */ }\nevent E /* a */ { /* b */ } time t\n",
		want: "rule r\n  from A\n  emit X { /* nothing */ }\n\nevent E { /* a */ /* b */ } time t\n",
	},
	{
		name: "empty bodies with a line comment",
		in:   "event E { // none\n}\nrule r from A emit Y {} on timeout emit X { // none\n}\n",
		want: "event E { // none\n}\n\nrule r\n  from A\n  emit Y {}\n  on timeout emit X { // none\n  }\n",
	},
	{
		name: "adjacent constants stay together",
		in:   "const a = 1 // one\nconst bbbb = 22 // two\n// c is next\nconst c = 3\n\n\nconst d = 4\nrule r from A emit X {}\nconst e = 5\n",
		want: "const a = 1 // one\nconst bbbb = 22 // two\n// c is next\nconst c = 3\n\nconst d = 4\n\nrule r\n  from A\n  emit X {}\n\nconst e = 5\n",
	},
	{
		name: "comment before the first declaration",
		in:   "\n\n  // lead\nrule r from A emit X {}",
		want: "// lead\nrule r\n  from A\n  emit X {}\n",
	},
	{
		name: "CRLF line endings",
		in:   "rule r // c\r\n  from A\r\n  emit X {}\r\n",
		want: "rule r // c\n  from A\n  emit X {}\n",
	},
	{
		name: "group after an element keeps its space",
		in:   "rule r match A (B C) D(x) (E) emit X {}\n",
		want: "rule r\n  match A (B C) D(x) (E)\n  emit X {}\n",
	},
	{
		name: "edges, juxtaposition, conditions",
		in:   "rule r match a:A( x>1 )->>b:B->  not C   D&E|F emit X {}\n",
		want: "rule r\n  match a:A(x>1) ->> b:B -> not C D & E | F\n  emit X {}\n",
	},
	{
		name: "quantifiers",
		in:   "rule r match A ?? B{2, 3}! C{2,}? D+ consecutive until( x > 1 ) emit X {}\n",
		want: "rule r\n  match A?? B{2,3}! C{2,}? D+ consecutive until(x > 1)\n  emit X {}\n",
	},
	{
		name: "expressions: white space collapsed outside strings",
		in:   "const s = \"a   b\"   +\n   'c   d'   +   `e\n   f`\n",
		want: "const s = \"a   b\" + 'c   d' + `e\n   f`\n",
	},
	{
		name: "durations and counts as written",
		in:   "rule r from A window hopping 1h30m every 90s emit X {}\nrule q from A window count 1_000 emit X {}\n",
		want: "rule r\n  from A\n  window hopping 1h30m every 90s\n  emit X {}\n\nrule q\n  from A\n  window count 1_000\n  emit X {}\n",
	},
	{
		name: "emit at exactly the width limit stays on one line",
		in:   "rule r from A emit Eighty { abcdefghij: 1, abcdefghijk: 2, abcdefghijkl: 34567, m: 1234567 }\n",
		want: "rule r\n  from A\n  emit Eighty { abcdefghij: 1, abcdefghijk: 2, abcdefghijkl: 34567, m: 1234567 }\n",
	},
	{
		name: "emit one past the width limit is one field per line",
		in:   "rule r from A emit Eighty { abcdefghij: 1, abcdefghijk: 2, abcdefghijkl: 34567, m: 12345678 }\n",
		want: "rule r\n  from A\n  emit Eighty {\n    abcdefghij:   1,\n    abcdefghijk:  2,\n    abcdefghijkl: 34567,\n    m:            12345678,\n  }\n",
	},
	{
		name: "bare emit fields break key alignment",
		in:   "rule r from A emit Long { alpha: 1, b, gamma_delta: 2, epsilon_zeta_eta_theta: three(x, y, z) }\n",
		want: "rule r\n  from A\n  emit Long {\n    alpha: 1,\n    b,\n    gamma_delta:            2,\n    epsilon_zeta_eta_theta: three(x, y, z),\n  }\n",
	},
}

func TestFormat_cases(t *testing.T) {
	for _, tc := range formatCases {
		t.Run(tc.name, func(t *testing.T) {
			f, err := ParseString("in.cep", tc.in)
			if err != nil {
				t.Fatal(err)
			}
			got := string(checkFormat(t, "in.cep", f))
			if got != tc.want {
				t.Errorf("got:\n%s\nwant:\n%s\n%s", got, tc.want, diffLines(tc.want, got))
			}
			if again, err := FormatSource("want.cep", []byte(tc.want)); err != nil || string(again) != tc.want {
				t.Errorf("want is not a fixed point: err %v\n%s", err, again)
			}
		})
	}
}

func TestFormat_sourceErrors(t *testing.T) {
	for _, src := range []string{
		"rule r from A where x > emit B {}\nrule q from",
		"event A { x: }",
		"rule r match a:A(x > 1 -> b:B emit X {}",
		"rule r from A where x == \"abc emit X {}",
	} {
		out, err := FormatSource("bad.cep", []byte(src))
		if out != nil {
			t.Errorf("FormatSource(%q) printed %q for a file with errors", src, out)
		}
		var list ErrorList
		if !errors.As(err, &list) || len(list) == 0 {
			t.Errorf("FormatSource(%q) error = %v, want an ErrorList", src, err)
		}
	}
}

// TestFormat_withoutSource formats trees that have no source: built by
// hand, or parsed and then edited. The expression text is used, and no
// comment is lost.
func TestFormat_withoutSource(t *testing.T) {
	f, err := ParseString("in.cep", "rule r\n  from A where x > 1 /* c */ && y\n  emit X { v: x }\n")
	if err != nil {
		t.Fatal(err)
	}
	f.Src = nil
	if got, want := string(Format(f)), "rule r\n  from A where x > 1 && y /* c */\n  emit X { v: x }\n"; got != want {
		t.Errorf("without Src:\n%s\nwant:\n%s", got, want)
	}

	f, err = ParseString("in.cep", "rule r\n  from A where x > 1 /* c */ && y\n  emit X { v: x }\n")
	if err != nil {
		t.Fatal(err)
	}
	f.Decls[0].(*Rule).From().Where.Text = "z  <  2"
	if got, want := string(Format(f)), "rule r\n  from A where z < 2 /* c */\n  emit X { v: x }\n"; got != want {
		t.Errorf("edited expression:\n%s\nwant:\n%s", got, want)
	}

	built := &File{Decls: []Decl{
		&EventDecl{Name: &Ident{Name: "A"}, Fields: []*FieldDecl{
			{Name: &FieldName{Name: "x"}, Type: &TypeRef{Name: "int"}},
			{Name: &FieldName{Name: "tags"}, Type: &TypeRef{Elem: &TypeRef{Name: "string"}}},
		}},
		&Rule{Name: &Ident{Name: "r"}, Clauses: []Clause{
			&MatchClause{Pattern: &Pattern{Alts: []*Sequence{{Steps: []*Step{
				{Term: &Term{Factors: []*Factor{{Elem: &Element{Alias: &Ident{Name: "a"}, Type: &Ident{Name: "A"}, Cond: &Expr{Text: "x > 1"}}}}}},
				{Edge: Relaxed, Term: &Term{Factors: []*Factor{{Group: &Pattern{Alts: []*Sequence{{Steps: []*Step{
					{Term: &Term{Factors: []*Factor{{Elem: &Element{Type: &Ident{Name: "B"}}}}}},
				}}}}, Quant: &Quantifier{Op: "+"}}}}},
			}}}}},
			&EmitClause{Type: &Ident{Name: "X"}, Fields: []*EmitField{{Value: &Expr{Text: "a.x"}}}},
		}},
	}}
	want := "event A { x: int, tags: [string] }\n\nrule r\n  match a:A(x > 1) -> (B)+\n  emit X { a.x }\n"
	if got := string(Format(built)); got != want {
		t.Errorf("built by hand:\n%s\nwant:\n%s", got, want)
	}
	if Format(nil) != nil {
		t.Error("Format(nil) is not nil")
	}
}

// TestDump_ignoresLayout checks the equality the formatter tests rely on:
// layout and comments do not change a dump, anything else does.
func TestDump_ignoresLayout(t *testing.T) {
	base := "rule r from A where x > 1 emit X { a: 1 }"
	same := []string{
		"rule r\n  from A where x >\n    1 // c\n  emit X {\n    a: 1,\n  }\n",
		"/* c */ rule   r from A where x   > 1 emit X { a: 1, }",
	}
	different := []string{
		"rule r from A where x >= 1 emit X { a: 1 }",
		"rule r from A where x > 1 emit X { b: 1 }",
		"rule r from A where x > 1 emit X { a }",
		"rule r from A where x>1 emit X { a: 1 }",
		"rule q from A where x > 1 emit X { a: 1 }",
		"rule r from A a where x > 1 emit X { a: 1 }",
	}
	dump := func(src string) string {
		f, err := ParseString("in.cep", src)
		if err != nil {
			t.Fatalf("%q: %v", src, err)
		}
		return Dump(f)
	}
	want := dump(base)
	for _, src := range same {
		if got := dump(src); got != want {
			t.Errorf("Dump(%q) differs from Dump(%q):\n%s", src, base, diffLines(want, got))
		}
	}
	for _, src := range different {
		if dump(src) == want {
			t.Errorf("Dump(%q) equals Dump(%q)", src, base)
		}
	}
	pats := []string{"A+", "A+?", "A+!", "A+ any", "A+ until(x)", "A{1,}", "A{1}", "A -> B", "A ->> B", "A B", "A & B", "A | B", "not A", "(A)", "a:A", "A(x)"}
	seen := map[string]string{}
	for _, p := range pats {
		d := dump("rule r match " + p + " emit X {}")
		if q, ok := seen[d]; ok {
			t.Errorf("patterns %q and %q dump the same", p, q)
		}
		seen[d] = p
	}
}

// commentKinds are inserted between tokens by TestFormat_commentsEverywhere.
var commentKinds = []string{
	" /* c */ ",
	" // c\n",
	"\n/* a\n   b */\n",
	"\n\n// c\n\n",
	"/**/",
	"\n    // c\n",
}

// TestFormat_commentsEverywhere inserts comments into every gap between
// tokens that holds white space, one kind per variant and all kinds in
// rotation: the tree must not change, and the formatter's contract must
// hold for every variant.
func TestFormat_commentsEverywhere(t *testing.T) {
	inputs, err := filepath.Glob(filepath.Join("..", "testdata", "fmt", "*.cep"))
	if err != nil {
		t.Fatal(err)
	}
	sources := map[string]string{}
	for _, in := range inputs {
		src, err := os.ReadFile(in)
		if err != nil {
			t.Fatal(err)
		}
		sources[filepath.Base(in)] = string(src)
	}
	for _, tc := range formatCases {
		sources[tc.name] = tc.in
	}
	for name, src := range sources {
		f, err := ParseString("in.cep", src)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		want := Dump(f)
		toks, err := tokenize("in.cep", []byte(src))
		if err != nil {
			t.Fatal(err)
		}
		var gaps []int // offsets of white space tokens
		for _, tok := range toks {
			if tok.Type == tokWhitespace {
				gaps = append(gaps, tok.Pos.Offset)
			}
		}
		for v := range len(commentKinds) + 1 {
			var b strings.Builder
			last := 0
			for i, g := range gaps {
				kind := (i + v) % len(commentKinds) // v == len: rotate
				if v < len(commentKinds) {
					kind = v
				}
				b.WriteString(src[last:g])
				b.WriteString(commentKinds[kind])
				last = g
			}
			b.WriteString(src[last:])
			variant := b.String()
			vf, err := ParseString("in.cep", variant)
			if err != nil {
				t.Errorf("%s variant %d does not parse: %v\n%s", name, v, err, variant)
				continue
			}
			if got := Dump(vf); got != want {
				t.Errorf("%s variant %d: comments changed the tree:\n%s", name, v, diffLines(want, got))
				continue
			}
			t.Run(name+"/"+strconv.Itoa(v), func(t *testing.T) { checkFormat(t, "in.cep", vf) })
		}
	}
}
