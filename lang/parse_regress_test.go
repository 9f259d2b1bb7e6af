package lang

import (
	"errors"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

// Regression tests for parser bugs found while building the formatter and
// its fuzz targets.

// TestParse_exprEndPos checks that an expression's EndPos is just after its
// last token, in offset, line and column: the formatter slices the source
// with it.
func TestParse_exprEndPos(t *testing.T) {
	for _, tc := range []struct{ src, want string }{
		{"const k = 1 + 2 // c\n", "1 + 2"},
		{"const k = 1 +\n  2\n\n", "1 +\n  2"},
		{"const k = \"é\" + `a\nbé`  \n", "\"é\" + `a\nbé`"},
		{"rule r from A where x /* c */ > 1\n  emit X {}", "x /* c */ > 1"},
		{"rule r match A(x > (1)) emit X {}", "x > (1)"},
		{"rule r from A emit X { a: f(x, y) , b }", "f(x, y)"},
	} {
		f, err := ParseString("in.cep", tc.src)
		if err != nil {
			t.Fatalf("%q: %v", tc.src, err)
		}
		var e *Expr
		switch d := f.Decls[0].(type) {
		case *ConstDecl:
			e = d.Value
		case *Rule:
			switch {
			case d.From() != nil && d.From().Where != nil:
				e = d.From().Where
			case d.Match() != nil:
				e = d.Match().Pattern.Alts[0].Steps[0].Term.Factors[0].Elem.Cond
			default:
				e = d.Emit().Fields[0].Value
			}
		}
		if got := tc.src[e.Pos.Offset:e.EndPos.Offset]; got != tc.want {
			t.Errorf("%q: source[Pos:EndPos] = %q, want %q", tc.src, got, tc.want)
		}
		if want := positionAt("in.cep", tc.src, e.EndPos.Offset); e.EndPos != want {
			t.Errorf("%q: EndPos = %+v, want %+v", tc.src, e.EndPos, want)
		}
	}
}

// positionAt computes the line and column of a byte offset.
func positionAt(filename, src string, offset int) Position {
	before := src[:offset]
	line := strings.Count(before, "\n") + 1
	col := utf8.RuneCountInString(before[strings.LastIndex(before, "\n")+1:]) + 1
	return Position{Filename: filename, Offset: offset, Line: line, Column: col}
}

// TestParse_recoveryPositions checks that the declarations recovered after
// a syntax error keep their byte offsets, also after multi-byte text (the
// chunks used to be re-lexed with one blank byte per rune before them).
func TestParse_recoveryPositions(t *testing.T) {
	src := "const é = \"ünïcödé\" /* ü */ rule broken from\nconst k = 1 rule r from A where x > 1 emit X { v: \"ß\" }\n"
	f, err := ParseString("in.cep", src)
	if err == nil {
		t.Fatal("no error for a broken rule")
	}
	if len(f.Decls) != 3 {
		t.Fatalf("recovered %d declarations, want 3", len(f.Decls))
	}
	for _, d := range f.Decls {
		pos := d.Start()
		if want := positionAt("in.cep", src, pos.Offset); pos != want {
			t.Errorf("declaration at %+v, want %+v", pos, want)
		}
	}
	r := f.Decls[2].(*Rule)
	w := r.From().Where
	if got := src[w.Pos.Offset:w.EndPos.Offset]; got != "x > 1" {
		t.Errorf("recovered where clause spans %q", got)
	}
	var list ErrorList
	if !errors.As(err, &list) || len(list) != 1 {
		t.Fatalf("error = %v, want one error", err)
	}
	if got, want := list[0].Error(), `in.cep:2:1: unexpected "const"`; !strings.HasPrefix(got, want) {
		t.Errorf("error = %q, want it to start with %q", got, want)
	}
}

// TestParse_quantifierBounds: {n m} without a comma used to parse, with m
// ignored.
func TestParse_quantifierBounds(t *testing.T) {
	for _, tc := range []struct {
		quant  string
		lo, hi int
		errMsg string
	}{
		{quant: "{2}", lo: 2, hi: 2},
		{quant: "{2,}", lo: 2, hi: -1},
		{quant: "{2,5}", lo: 2, hi: 5},
		{quant: "{0 0}", errMsg: `in.cep:1:18: unexpected "0" (expected "}")`},
	} {
		f, err := ParseString("in.cep", "rule r match A"+tc.quant+" emit X {}")
		if tc.errMsg != "" {
			if err == nil || err.Error() != tc.errMsg {
				t.Errorf("%s: error %v, want %s", tc.quant, err, tc.errMsg)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tc.quant, err)
			continue
		}
		q := f.Decls[0].(*Rule).Match().Pattern.Alts[0].Steps[0].Term.Factors[0].Quant
		if lo, hi := q.Bounds(); lo != tc.lo || hi != tc.hi {
			t.Errorf("%s: bounds %d, %d; want %d, %d", tc.quant, lo, hi, tc.lo, tc.hi)
		}
	}
}

// TestParse_nestingLimit: deep nesting used to take time quadratic in the
// depth and, deep enough, to overflow the stack.
func TestParse_nestingLimit(t *testing.T) {
	ok := "rule r match " + strings.Repeat("(", maxNesting) + "A" + strings.Repeat(")", maxNesting) + " emit X {}"
	if _, err := ParseString("in.cep", ok); err != nil {
		t.Errorf("nesting %d deep: %v", maxNesting, err)
	}
	for _, src := range []string{
		"rule r match " + strings.Repeat("(", maxNesting+1) + "A" + strings.Repeat(")", maxNesting+1) + " emit X {}",
		"event A { x: " + strings.Repeat("[", 100000),
		"rule r from A where " + strings.Repeat("f(", 5000),
	} {
		_, err := ParseString("in.cep", src)
		var list ErrorList
		if !errors.As(err, &list) || len(list) != 1 {
			t.Fatalf("error = %v, want one error", err)
		}
		// The error is at the first bracket too deep.
		col, n := 0, 0
		for i, c := range src {
			if c == '(' || c == '[' || c == '{' {
				if n++; n == maxNesting+1 {
					col = i + 1
					break
				}
			}
		}
		want := "in.cep:1:" + strconv.Itoa(col) + ": brackets nested more than 1000 deep"
		if list[0].Error() != want {
			t.Errorf("error = %q, want %q", list[0].Error(), want)
		}
	}
}
