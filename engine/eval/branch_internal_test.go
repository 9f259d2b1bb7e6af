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

// TestBranch_singleTests holds every single-test function to leafBranch
// running the same test, over values of every kind the tests meet (nil,
// bools, ints and floats around the constant, strings around it, a missing
// field, no event, no frame), both senses of neg.
func TestBranch_singleTests(t *testing.T) {
	m := NewMachine()
	values := []event.Value{
		event.Nil, event.BoolValue(true), event.BoolValue(false),
		event.IntValue(-1), event.IntValue(4), event.IntValue(5), event.IntValue(6),
		event.FloatValue(4.5), event.FloatValue(5), event.FloatValue(5.5),
		event.StringValue(""), event.StringValue("ab"), event.StringValue("abc"), event.StringValue("abcd"),
		event.StringValue("IBM_"), event.StringValue("IBMX"), event.StringValue("abcdefghi"),
		event.StringValue("abcdefghij"), event.StringValue("abcdefghiJ"),
	}
	// Numeric constants go with every non-string op; a string constant
	// only with the op strTest fuses it to.
	type constant struct {
		t     test
		strOp bool
	}
	consts := []constant{{t: test{num: 5, i: 5}}, {t: test{num: -1, i: -1}}}
	for _, s := range []string{"", "ab", "abc", "abcd", "IBMX", "abcdefghij"} {
		st := strTest(0, s, false)
		consts = append(consts, constant{t: test{str: s, strLo: st.strLo, strHi: st.strHi, op: st.op}, strOp: true})
	}
	isStrOp := func(op testOp) bool { return op == tStrEq0 || op == tStrEq4 || op == tStrEq8 }
	ops := 0
	for op := range testOp(numTestOps) {
		if singleOps[op] == nil {
			continue
		}
		ops++
		for _, cc := range consts {
			if cc.strOp != isStrOp(op) || cc.strOp && cc.t.op != op {
				continue
			}
			c := cc.t
			for _, neg := range []bool{false, true} {
				tst := c
				tst.op, tst.neg, tst.yes, tst.no = op, neg, accept, reject
				p := &Program{tests: []test{tst}, one: tst}
				if singleFunc(p.tests) == nil {
					t.Fatalf("%s: no single-test function", testOpNames[op])
				}
				frames := []*Frame{nil, {}, {Current: &event.Event{}}}
				for _, v := range values {
					frames = append(frames, &Frame{Current: &event.Event{Fields: []event.Value{v}}})
				}
				for _, f := range frames {
					want := leafBranch(m, p, f)
					if got := singleOps[op](m, p, f); got != want {
						t.Errorf("%s (neg %v, const %v %v %q) over %v: single %v, leafBranch %v",
							testOpNames[op], neg, c.num, c.i, c.str, f, got, want)
					}
				}
			}
		}
	}
	if ops < 16 {
		t.Errorf("only %d ops have single-test functions", ops)
	}
	// A test that jumps anywhere but accept and reject is not single.
	if singleFunc([]test{{op: tIntEq, yes: reject, no: accept}}) != nil {
		t.Error("a negated jump got a single-test function")
	}
}
