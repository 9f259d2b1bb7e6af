package scripttest

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestScripts runs every rule script under testdata/scripts and the tests
// of the example libraries in rules/.
func TestScripts(t *testing.T) {
	var files []string
	for _, dir := range []string{filepath.Join("..", "..", "testdata", "scripts"), filepath.Join("..", "..", "rules")} {
		more, err := filepath.Glob(filepath.Join(dir, "*.test"))
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, more...)
	}
	if len(files) == 0 {
		t.Fatal("no scripts found under testdata/scripts")
	}
	for _, f := range files {
		t.Run(strings.TrimSuffix(filepath.Base(f), ".test"), func(t *testing.T) {
			if r := RunFile(f); r.Failed() {
				t.Error(r.String())
			}
		})
	}
}

// TestRun_detectsFailures checks that the runner can fail: a wrong
// expectation, a missing one, and rules with errors.
func TestRun_detectsFailures(t *testing.T) {
	for _, tc := range []struct {
		name, src, want string
	}{
		{"wrong field", `rules
  event T { v: int, at: time } time at
  rule r from T where v > 1 emit U { v }
events
  0s T { v: 2 }
expect
  0s U { v: 3 }
`, "- 0s  U { v: 3 }"},
		{"missing output", `rules
  event T { v: int, at: time } time at
  rule r from T where v > 1 emit U { v }
events
  0s T { v: 2 }
expect
`, "+ 0s  U { v: 2 }"},
		{"rule error", `rules
  event T { v: int, at: time } time at
  rule r from T where w > 1 emit U { v }
events
  0s T { v: 2 }
`, `t.test:3:23: unknown name "w"`},
		{"invalid count", `rules
  event T { v: int, at: time } time at
  rule r from T emit U { v }
events
  json {"type": "T", "v": "x", "at": 0}
expect
`, "invalid records: want 0, got 1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Parse("t.test", []byte(tc.src))
			if err != nil {
				t.Fatal(err)
			}
			r := Run(s)
			if !r.Failed() {
				t.Fatalf("script passed; want a failure containing %q", tc.want)
			}
			if !strings.Contains(r.String(), tc.want) {
				t.Errorf("report does not contain %q:\n%s", tc.want, r)
			}
		})
	}
}

func TestParse_errors(t *testing.T) {
	for _, tc := range []struct{ src, want string }{
		{"events\n  0s T {}\n", "t.test:1: script has no rules section"},
		{"rules\nbogus\n", `t.test:2: unknown section "bogus"`},
		{"rules\nevents\n  soon T {}\n", `t.test:3: expected a time`},
		{"rules\nexpect invalid\n  nope\n", `t.test:3: expected a quoted regexp`},
		{"rules\noptions\n  fast\n", `t.test:3: unknown option "fast"`},
		{"rules\nevents\n  0s T { a: 1\n", `t.test:3: field list of T does not end with }`},
	} {
		_, err := Parse("t.test", []byte(tc.src))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Parse(%q) = %v; want %q", tc.src, err, tc.want)
		}
	}
}
