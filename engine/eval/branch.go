package eval

import (
	"github.com/cepengine/cep/engine/event"
)

// A branch program is how EvalBool runs a bool program: and, or, not and
// bool ternaries become jumps between tests, as a compiler lowers && and ||
// to branches, and the commonest tests (a field of the current event
// against a constant, a bool field, a nil check, `in` over constant strings
// or ints) are fused into one instruction each that reads the field in
// place. One loop with one switch runs it: no recursion, no 24-byte value
// copies, no interface calls. Any other bool subtree is a test that calls
// Machine.truth. A program of tests that call nothing (no memequal, no map
// lookup, no truth) runs in leafBranch, which makes no call at all and so
// sets up no stack frame (branch_run.go).
//
// EvalBool only asks whether the condition is true, so three-valued logic
// reduces to two questions: is a node true, is it false (nil is neither).
// not swaps them, and by De Morgan
//
//	true(x and y) = true(x) && true(y)     false(x and y) = false(x) || false(y)
//	true(x or y)  = true(x) || true(y)     false(x or y)  = false(x) && false(y)
//
// Each test carries which question it answers (neg: "is it false?") and
// where to go on yes and on no. The jumps skip y in true(x and y) when x is
// nil, where the tree evaluator evaluates y (and false(x or y) likewise): a
// runtime error in y would then go uncounted, so that shortcut is only taken
// when y cannot fail (pure), and the whole node is one truth test otherwise.
// The program thus evaluates every operation that can fail exactly when
// the tree evaluator does, in the same order, with the same first error.

// testOp is the operation of one test.
type testOp uint8

const (
	tTruth testOp = iota // any bool node: Machine.truth(n)
	tBool                // a bool field
	tIsNil               // the field is nil (never unknown)

	tFloatEq // a number field against a float constant, compared as floats
	tFloatNe
	tFloatLt
	tFloatLe
	tFloatGt
	tFloatGe

	tIntEq // an int field against an int constant
	tIntNe
	tIntLt
	tIntLe
	tIntGt
	tIntGe

	tStrEq0 // a string field == a constant of 0 to 3 bytes (!= has neg flipped)
	tStrEq4 // the same, the constant having 4 to 7 bytes
	tStrEq8 // the same, the constant having 8 to 16 bytes
	tStrEq  // the same, a longer constant
	tStrLt  // a string field against a string constant
	tStrLe
	tStrGt
	tStrGe

	tStrInPacked // a string field in a few constants of up to 16 bytes
	tStrIn       // a string field in a few constant strings
	tStrInMap    // a string field in many constant strings
	tIntIn       // an int field in a few constant ints
	tIntInMap    // an int field in many constant ints

	numTestOps
)

// leafOps are the tests leafBranch runs: those that call no function.
var leafOps = [numTestOps]bool{
	tBool: true, tIsNil: true,
	tFloatEq: true, tFloatNe: true, tFloatLt: true, tFloatLe: true, tFloatGt: true, tFloatGe: true,
	tIntEq: true, tIntNe: true, tIntLt: true, tIntLe: true, tIntGt: true, tIntGe: true,
	tStrEq0: true, tStrEq4: true, tStrEq8: true,
	tStrInPacked: true, tIntIn: true,
}

// leafTests reports whether leafBranch can run code.
func leafTests(code []test) bool {
	for _, t := range code {
		if !leafOps[t.op] {
			return false
		}
	}
	return true
}

// Branch targets that end the program.
const (
	accept int32 = -1
	reject int32 = -2
)

// test is one instruction of a branch program.
type test struct {
	op      testOp
	neg     bool  // the test asks whether the node is false instead of true
	slot    int   // field slot of Frame.Current
	yes, no int32 // next test on yes and on no, or accept or reject
	num     float64
	i       int64
	str     string
	strLo   uint64 // tStrEq0, tStrEq4, tStrEq8: str packed by packString
	strHi   uint64
	packs   []packedString // tStrInPacked
	strs    []string       // tStrIn
	ints    []int64        // tIntIn
	set     *valueSet      // tStrInMap, tIntInMap
	n       *node          // tTruth
}

// maxLinearSet is the largest constant set scanned rather than hashed: a
// scan of a few strings (packed: a few integer compares each) or ints beats
// hashing one.
const maxLinearSet = 16

// branchBuilder compiles a bool node to a branch program. It emits the
// code backwards, so that the targets of every test are known when it is
// emitted (its successors come after it), and reverses it at the end.
type branchBuilder struct {
	code []test
}

// branchProgram compiles a bool-kinded root.
func branchProgram(root *node) []test {
	var bb branchBuilder
	bb.emit(root, false, accept, reject)
	code := bb.code
	last := int32(len(code) - 1)
	for i, j := 0, len(code)-1; i < j; i, j = i+1, j-1 {
		code[i], code[j] = code[j], code[i]
	}
	for i := range code {
		if code[i].yes >= 0 {
			code[i].yes = last - code[i].yes
		}
		if code[i].no >= 0 {
			code[i].no = last - code[i].no
		}
	}
	return code
}

// emit emits the code that goes to yes when n is true (false if neg), and
// to no otherwise, and returns its first test (in emission order).
func (bb *branchBuilder) emit(n *node, neg bool, yes, no int32) int32 {
	switch n.op {
	case opNot:
		return bb.emit(n.a, !neg, yes, no)
	case opAnd:
		if !neg {
			if !pure(n.b) {
				break
			}
			y := bb.emit(n.b, false, yes, no)
			return bb.emit(n.a, false, y, no)
		}
		y := bb.emit(n.b, true, yes, no)
		return bb.emit(n.a, true, yes, y)
	case opOr:
		if !neg {
			y := bb.emit(n.b, false, yes, no)
			return bb.emit(n.a, false, yes, y)
		}
		if !pure(n.b) {
			break
		}
		y := bb.emit(n.b, true, yes, no)
		return bb.emit(n.a, true, y, no)
	case opCond:
		// c ? x : y takes y when c is false or nil.
		if n.b.kind != event.KindBool || n.c.kind != event.KindBool {
			break
		}
		x := bb.emit(n.b, neg, yes, no)
		y := bb.emit(n.c, neg, yes, no)
		return bb.emit(n.a, false, x, y)
	}
	t := fuse(n)
	t.neg = t.neg != neg
	t.yes, t.no = yes, no
	bb.code = append(bb.code, t)
	return int32(len(bb.code) - 1)
}

// fuse returns the test for a bool node: a fused test when the node is one
// of the common shapes, a truth test otherwise.
func fuse(n *node) test {
	switch n.op {
	case opFieldCmpFloat:
		return test{op: tFloatEq + testOp(n.cmp), slot: n.slot, num: n.num}
	case opFieldCmpInt:
		return test{op: tIntEq + testOp(n.cmp), slot: n.slot, i: n.val.Int()}
	case opFieldCmpStr:
		switch n.cmp {
		case cmpEq, cmpNe:
			return strTest(n.slot, n.val.Str(), n.cmp == cmpNe)
		}
		return test{op: tStrLt + testOp(n.cmp-cmpLt), slot: n.slot, str: n.val.Str()}
	case opField:
		if n.kind == event.KindBool {
			return test{op: tBool, slot: n.slot}
		}
	case opCmpBool:
		// f == true is f, f == false is not f, also when f is nil.
		f, c := n.a, n.b
		if f.op == opConst {
			f, c = c, f
		}
		if f.op == opField && c.op == opConst && c.val.Kind() == event.KindBool {
			return test{op: tBool, slot: f.slot, neg: c.val.Bool() != (n.cmp == cmpEq)}
		}
	case opIsNil, opNotNil:
		if n.a.op == opField {
			return test{op: tIsNil, slot: n.a.slot, neg: n.op == opNotNil}
		}
	case opInSet:
		if n.a.op != opField {
			break
		}
		if t, ok := fuseSet(n); ok {
			return t
		}
	}
	return test{op: tTruth, n: n}
}

// fuseSet fuses `field in [constants]` when the field and every constant
// are strings, or all ints.
func fuseSet(n *node) (test, bool) {
	items := n.set.items
	if len(items) == 0 {
		return test{}, false
	}
	t := test{slot: n.a.slot, set: n.set}
	switch n.a.kind {
	case event.KindString:
		packed := true
		for _, it := range items {
			if it.Kind() != event.KindString {
				return test{}, false
			}
			t.strs = append(t.strs, it.Str())
			packed = packed && len(it.Str()) <= 16
		}
		switch {
		case len(items) > maxLinearSet && t.set.strs != nil:
			t.op, t.strs = tStrInMap, nil
		case packed:
			t.op = tStrInPacked
			for _, c := range t.strs {
				lo, hi := packString(c)
				t.packs = append(t.packs, packedString{lo: lo, hi: hi, n: len(c)})
			}
			t.strs = nil
		default:
			t.op = tStrIn
		}
	case event.KindInt:
		for _, it := range items {
			if it.Kind() != event.KindInt {
				return test{}, false
			}
			t.ints = append(t.ints, it.Int())
		}
		t.op = tIntIn
		if len(items) > maxLinearSet && t.set.ints != nil {
			t.op, t.ints = tIntInMap, nil
		}
	default:
		return test{}, false
	}
	return t, true
}

// pure reports whether evaluating n can never fail, so that skipping it
// is unobservable.
func pure(n *node) bool {
	if n == nil {
		return true
	}
	switch n.op {
	case opListField, opMod, opSum, opVM, opTimeAddDur, opDurAddTime, opTimeSubDur:
		return false
	}
	if !pure(n.a) || !pure(n.b) || !pure(n.c) {
		return false
	}
	for _, x := range n.args {
		if !pure(x) {
			return false
		}
	}
	return true
}
