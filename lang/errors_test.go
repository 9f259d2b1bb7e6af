package lang

import (
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// The files in testdata/errors hold rule files with planted mistakes (go/parser's
// error_test.go idea). Each expected error is a comment on the line it is
// reported at:
//
//	rule r from Purchse            // ERROR "unknown event type \"Purchse\""
//	window hopping 0s every 0m     // ERROR 18 "size must be positive" 27 "step must be positive"
//
// After ERROR come one or more expectations, each an optional column
// number and a Go string literal ("..." or `...`) holding a regular
// expression. An error matches an expectation of its line, at its column
// when the expectation gives one, whose regexp matches its message. Each
// expectation matches exactly one error. The test fails on every error no
// expectation matches and on every expectation no error matched.

var (
	errorComment = regexp.MustCompile(`//\s*ERROR\s+(.*)$`)
	expectation  = regexp.MustCompile("^\\s*(?:(\\d+)\\s+)?(\"(?:[^\"\\\\]|\\\\.)*\"|`[^`]*`)")
)

type expectedError struct {
	line, col int // col 0: any column
	re        *regexp.Regexp
	text      string
	matched   bool
}

// expectedErrors reads the ERROR comments of a file.
func expectedErrors(t *testing.T, name string, src []byte) []*expectedError {
	t.Helper()
	var out []*expectedError
	for i, line := range strings.Split(string(src), "\n") {
		m := errorComment.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		rest := m[1]
		for strings.TrimSpace(rest) != "" {
			e := expectation.FindStringSubmatch(rest)
			if e == nil {
				t.Fatalf("%s:%d: malformed ERROR comment at %q", name, i+1, rest)
			}
			rest = rest[len(e[0]):]
			col := 0
			if e[1] != "" {
				col, _ = strconv.Atoi(e[1])
			}
			text, err := strconv.Unquote(e[2])
			if err != nil {
				t.Fatalf("%s:%d: bad string %s: %v", name, i+1, e[2], err)
			}
			re, err := regexp.Compile(text)
			if err != nil {
				t.Fatalf("%s:%d: bad regexp %q: %v", name, i+1, text, err)
			}
			out = append(out, &expectedError{line: i + 1, col: col, re: re, text: text})
		}
	}
	return out
}

func TestCheck_errorFiles(t *testing.T) {
	files, err := filepath.Glob("../testdata/errors/*.cep")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 5 {
		t.Fatalf("found %d files in testdata/errors, want at least 5", len(files))
	}
	total := 0
	for _, path := range files {
		name := filepath.Base(path)
		t.Run(name, func(t *testing.T) {
			src, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			want := expectedErrors(t, name, src)
			total += len(want)
			if len(want) == 0 {
				t.Fatalf("%s has no ERROR comments", name)
			}
			p, err := LoadSource(name, src)
			if err == nil {
				t.Fatalf("%s: no errors reported", name)
			}
			if p != nil {
				t.Errorf("%s: a Program was returned along with errors", name)
			}
			var list ErrorList
			if !errors.As(err, &list) {
				t.Fatalf("%s: error is %T, want ErrorList: %v", name, err, err)
			}
			for _, e := range list {
				if e.Pos.Filename != name {
					t.Errorf("error with file name %q, want %q: %v", e.Pos.Filename, name, e)
				}
				if !matchExpectation(want, e) {
					t.Errorf("unexpected error %v", e)
				}
			}
			for _, w := range want {
				if !w.matched {
					if w.col > 0 {
						t.Errorf("%s:%d:%d: missing error matching %q", name, w.line, w.col, w.text)
					} else {
						t.Errorf("%s:%d: missing error matching %q", name, w.line, w.text)
					}
				}
			}
		})
	}
	// The issue asks for at least 40 distinct planted mistakes.
	if total < 40 {
		t.Errorf("testdata/errors holds %d expected errors, want at least 40", total)
	}
}

func matchExpectation(want []*expectedError, e *Error) bool {
	for _, w := range want {
		if w.matched || w.line != e.Pos.Line || (w.col != 0 && w.col != e.Pos.Column) {
			continue
		}
		if w.re.MatchString(e.Msg) {
			w.matched = true
			return true
		}
	}
	return false
}

// TestCheck_errorHarness makes sure the harness itself can fail: a missing
// and an unexpected error must both be detected.
func TestCheck_errorHarness(t *testing.T) {
	src := []byte("event A { x: int }\nrule r from B emit C { x } // ERROR 13 \"unknown event type\" \"never reported\"\n")
	want := expectedErrors(t, "h.cep", src)
	if len(want) != 2 || want[0].col != 13 || want[1].col != 0 {
		t.Fatalf("parsed expectations %+v", want)
	}
	_, err := LoadSource("h.cep", src)
	var list ErrorList
	if !errors.As(err, &list) || len(list) != 1 {
		t.Fatalf("got %v, want one error", err)
	}
	if !matchExpectation(want, list[0]) {
		t.Fatalf("error %v did not match %q", list[0], want[0].text)
	}
	if want[1].matched {
		t.Fatal("the second expectation matched no error but is marked matched")
	}
	moved := &Error{Pos: Position{Filename: "h.cep", Line: 2, Column: 14}, Msg: list[0].Msg}
	if matchExpectation(want, moved) {
		t.Fatal("an error at another column matched a column expectation")
	}
}
