package main

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// TestDiff_golden pins the unified diff format: headers, context, merged
// and separate hunks, empty ranges, missing final newlines.
func TestDiff_golden(t *testing.T) {
	lines := func(from, to int) string {
		var b strings.Builder
		for i := from; i <= to; i++ {
			fmt.Fprintf(&b, "l%d\n", i)
		}
		return b.String()
	}
	for _, tc := range []struct {
		name, a, b, want string
	}{
		{"equal", "x\n", "x\n", ""},
		{"one change in the middle", lines(1, 10), lines(1, 4) + "X\n" + lines(6, 10), `@@ -2,7 +2,7 @@
 l2
 l3
 l4
-l5
+X
 l6
 l7
 l8
`},
		{"two hunks", lines(1, 20), "X\n" + lines(2, 19) + "Y\n", `@@ -1,4 +1,4 @@
-l1
+X
 l2
 l3
 l4
@@ -17,4 +17,4 @@
 l17
 l18
 l19
-l20
+Y
`},
		{"changes 6 lines apart merge", lines(1, 8), "X\n" + lines(2, 7) + "Y\n", `@@ -1,8 +1,8 @@
-l1
+X
 l2
 l3
 l4
 l5
 l6
 l7
-l8
+Y
`},
		{"changes 7 lines apart split", lines(1, 9), "X\n" + lines(2, 8) + "Y\n", `@@ -1,4 +1,4 @@
-l1
+X
 l2
 l3
 l4
@@ -6,4 +6,4 @@
 l6
 l7
 l8
-l9
+Y
`},
		{"insert into empty", "", "a\n", `@@ -0,0 +1,1 @@
+a
`},
		{"delete all", "a\nb\n", "", `@@ -1,2 +0,0 @@
-a
-b
`},
		{"pure insertion names the line before", lines(1, 8), lines(1, 4) + "X\n" + lines(5, 8), `@@ -2,6 +2,7 @@
 l2
 l3
 l4
+X
 l5
 l6
 l7
`},
		{"missing final newline", "a\nb", "a\nb\n", `@@ -1,2 +1,2 @@
 a
-b
\ No newline at end of file
+b
`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := string(unifiedDiff("f.orig", "f", []byte(tc.a), []byte(tc.b)))
			want := tc.want
			if want != "" {
				want = "diff f.orig f\n--- f.orig\n+++ f\n" + want
			}
			if got != want {
				t.Errorf("got:\n%s\nwant:\n%s", got, want)
			}
		})
	}
}

// TestDiff_appliesAndIsMinimal checks random diffs against references: a
// simple patch applier must turn a into b with the diff (so headers,
// context and line counts are right), and the number of changed lines
// must equal len(a)+len(b)-2*LCS by a plain recursive LCS.
func TestDiff_appliesAndIsMinimal(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	randText := func() string {
		var b strings.Builder
		n := rng.IntN(25)
		for range n {
			b.WriteString(string(rune('a' + rng.IntN(4))))
			b.WriteByte('\n')
		}
		if n > 0 && rng.IntN(4) == 0 {
			return strings.TrimSuffix(b.String(), "\n")
		}
		return b.String()
	}
	for i := range 2000 {
		a, b := randText(), randText()
		d := unifiedDiff("x.orig", "x", []byte(a), []byte(b))
		if a == b {
			if d != nil {
				t.Fatalf("case %d: equal texts gave a diff:\n%s", i, d)
			}
			continue
		}
		got, err := applyDiff(a, string(d))
		if err != nil {
			t.Fatalf("case %d: %v\na=%q\nb=%q\ndiff:\n%s", i, err, a, b, d)
		}
		if got != b {
			t.Fatalf("case %d: applying the diff gave %q, want %q\ndiff:\n%s", i, got, b, d)
		}
		la, lb := splitLines([]byte(a)), splitLines([]byte(b))
		changed := 0
		for _, op := range editScript(la, lb) {
			if op.kind != ' ' {
				changed++
			}
		}
		if want := len(la) + len(lb) - 2*refLCS(la, lb); changed != want {
			t.Fatalf("case %d: %d changed lines, a shortest script has %d\na=%q\nb=%q", i, changed, want, a, b)
		}
	}
}

// TestDiff_largeFallback checks the bounded path: past maxDiffCells the
// diff is not minimal but still correct.
func TestDiff_largeFallback(t *testing.T) {
	var a, b strings.Builder
	for i := range 5000 {
		fmt.Fprintf(&a, "a%d\n", i)
		fmt.Fprintf(&b, "b%d\n", i)
	}
	d := unifiedDiff("x.orig", "x", []byte(a.String()), []byte(b.String()))
	got, err := applyDiff(a.String(), string(d))
	if err != nil || got != b.String() {
		t.Fatalf("fallback diff does not apply: %v", err)
	}
}

func refLCS(a, b [][]byte) int {
	memo := map[[2]int]int{}
	var f func(i, j int) int
	f = func(i, j int) int {
		if i == len(a) || j == len(b) {
			return 0
		}
		k := [2]int{i, j}
		if v, ok := memo[k]; ok {
			return v
		}
		v := max(f(i+1, j), f(i, j+1))
		if bytes.Equal(a[i], b[j]) {
			v = max(v, 1+f(i+1, j+1))
		}
		memo[k] = v
		return v
	}
	return f(0, 0)
}

var hunkHeader = regexp.MustCompile(`^@@ -(\d+),(\d+) \+(\d+),(\d+) @@$`)

// applyDiff is a strict patch: every context and removed line must match
// a at the place the hunk header says, and the counts must agree.
func applyDiff(a, diff string) (string, error) {
	src := splitLines([]byte(a))
	dl := strings.SplitAfter(diff, "\n")
	if len(dl) < 3 || !strings.HasPrefix(dl[0], "diff ") || !strings.HasPrefix(dl[1], "--- ") || !strings.HasPrefix(dl[2], "+++ ") {
		return "", fmt.Errorf("bad file header")
	}
	dl = dl[3:]
	var out []string
	pos := 0 // lines of a consumed
	for k := 0; k < len(dl) && dl[k] != ""; {
		m := hunkHeader.FindStringSubmatch(strings.TrimSuffix(dl[k], "\n"))
		if m == nil {
			return "", fmt.Errorf("bad hunk header %q", dl[k])
		}
		k++
		aStart, _ := strconv.Atoi(m[1])
		aCount, _ := strconv.Atoi(m[2])
		bCount, _ := strconv.Atoi(m[4])
		if aCount > 0 {
			aStart-- // 0-based
		}
		if aStart < pos {
			return "", fmt.Errorf("hunks overlap or go back")
		}
		for ; pos < aStart; pos++ {
			out = append(out, string(src[pos]))
		}
		na, nb := 0, 0
		for k < len(dl) && dl[k] != "" && !strings.HasPrefix(dl[k], "@@") {
			l := dl[k]
			k++
			text := l[1:]
			if k < len(dl) && dl[k] == "\\ No newline at end of file\n" {
				text = strings.TrimSuffix(text, "\n")
				k++
			}
			switch l[0] {
			case ' ', '-':
				if pos >= len(src) || string(src[pos]) != text {
					return "", fmt.Errorf("line %d of a: have %q, diff says %q", pos+1, lineAt(src, pos), text)
				}
				pos++
				na++
				if l[0] == ' ' {
					out = append(out, text)
					nb++
				}
			case '+':
				out = append(out, text)
				nb++
			default:
				return "", fmt.Errorf("bad diff line %q", l)
			}
		}
		if na != aCount || nb != bCount {
			return "", fmt.Errorf("hunk counts %d,%d; the hunk has %d,%d", aCount, bCount, na, nb)
		}
	}
	for ; pos < len(src); pos++ {
		out = append(out, string(src[pos]))
	}
	return strings.Join(out, ""), nil
}

func lineAt(src [][]byte, i int) string {
	if i < len(src) {
		return string(src[i])
	}
	return "<end>"
}
