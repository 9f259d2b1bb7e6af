package eval

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/cepengine/cep/engine/event"
)

// TestBranch_packedStrings holds the fused string tests (== and `in` over
// packed strings) to ==, in both runners, over strings of every length up
// to 20 drawn from two letters, so that most pairs differ in one byte.
func TestBranch_packedStrings(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	word := func(n int) string {
		b := make([]byte, n)
		for i := range b {
			b[i] = "ab"[r.IntN(2)]
		}
		return string(b)
	}
	fields := make([]event.Value, 1)
	f := &Frame{Current: &event.Event{Fields: fields}}
	m := NewMachine()
	run := func(tst test) (leaf, general bool) {
		tst.yes, tst.no = accept, reject
		p := &Program{tests: []test{tst}}
		return leafBranch(m, p, f), branch(m, p, f)
	}
	for range 20000 {
		c := word(r.IntN(21))
		s := c
		switch r.IntN(3) {
		case 0:
			s = word(len(c)) // same length
		case 1:
			s = word(r.IntN(21))
		}
		fields[0] = event.StringValue(s)
		for _, neg := range []bool{false, true} {
			want := (s == c) != neg
			tst := strTest(0, c, neg)
			leaf, general := run(tst)
			if general != want || leafOps[tst.op] && leaf != want {
				t.Fatalf("%q == %q (neg %v, op %s): leafBranch %v, branch %v, want %v", s, c, neg, testOpNames[tst.op], leaf, general, want)
			}
		}

		set := []string{c, word(len(c)), word(r.IntN(21))}[:1+r.IntN(3)]
		items := make([]event.Value, len(set))
		for i, x := range set {
			items[i] = event.StringValue(x)
		}
		n := &node{op: opInSet, a: &node{op: opField, kind: event.KindString}, set: newValueSet(items)}
		tst, ok := fuseSet(n)
		if !ok {
			t.Fatalf("%q in %q does not fuse", s, set)
		}
		want := slices.Contains(set, s)
		leaf, general := run(tst)
		if general != want || leafOps[tst.op] && leaf != want {
			t.Fatalf("%q in %q (op %s): leafBranch %v, branch %v, want %v", s, set, testOpNames[tst.op], leaf, general, want)
		}
	}
}
