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
// Machine.truth.
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

	tStrEq  // a string field == a string constant (!= has neg flipped)
	tStrEq4 // the same, the constant having 4 to 7 bytes
	tStrEq8 // the same, the constant having 8 to 16 bytes
	tStrLt  // a string field against a string constant
	tStrLe
	tStrGt
	tStrGe

	tStrIn    // a string field in a few constant strings
	tStrInMap // a string field in many constant strings
	tIntIn    // an int field in a few constant ints
	tIntInMap // an int field in many constant ints
)

// Branch targets that end the program.
const (
	accept int32 = -1
	reject int32 = -2
)

// test is one instruction of a branch program.
type test struct {
	op      testOp
	neg     bool  // the test asks whether the node is false instead of true
	slot    int32 // field slot of Frame.Current
	yes, no int32 // next test on yes and on no, or accept or reject
	num     float64
	i       int64
	str     string
	strLo   uint64 // tStrEq4, tStrEq8: the first and last 4 or 8 bytes of str
	strHi   uint64
	strs    []string
	ints    []int64
	set     *valueSet
	n       *node // tTruth
}

// maxLinearSet is the largest constant set scanned rather than hashed: a
// scan of a few strings or ints beats hashing one.
const maxLinearSet = 8

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
		return test{op: tFloatEq + testOp(n.cmp), slot: int32(n.slot), num: n.num}
	case opFieldCmpInt:
		return test{op: tIntEq + testOp(n.cmp), slot: int32(n.slot), i: n.val.Int()}
	case opFieldCmpStr:
		switch n.cmp {
		case cmpEq, cmpNe:
			return strTest(n.slot, n.val.Str(), n.cmp == cmpNe)
		}
		return test{op: tStrLt + testOp(n.cmp-cmpLt), slot: int32(n.slot), str: n.val.Str()}
	case opField:
		if n.kind == event.KindBool {
			return test{op: tBool, slot: int32(n.slot)}
		}
	case opCmpBool:
		// f == true is f, f == false is not f, also when f is nil.
		f, c := n.a, n.b
		if f.op == opConst {
			f, c = c, f
		}
		if f.op == opField && c.op == opConst && c.val.Kind() == event.KindBool {
			return test{op: tBool, slot: int32(f.slot), neg: c.val.Bool() != (n.cmp == cmpEq)}
		}
	case opIsNil, opNotNil:
		if n.a.op == opField {
			return test{op: tIsNil, slot: int32(n.a.slot), neg: n.op == opNotNil}
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
	t := test{slot: int32(n.a.slot), set: n.set}
	switch n.a.kind {
	case event.KindString:
		for _, it := range items {
			if it.Kind() != event.KindString {
				return test{}, false
			}
			t.strs = append(t.strs, it.Str())
		}
		t.op = tStrIn
		if len(items) > maxLinearSet && t.set.strs != nil {
			t.op, t.strs = tStrInMap, nil
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
	case opListField, opMod, opSum, opVM:
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

// nilValue is what a missing field reads as.
var nilValue event.Value

// currentField returns the field at slot, or nil when there is none.
func currentField(fields []event.Value, slot int32) *event.Value {
	if uint(slot) < uint(len(fields)) {
		return &fields[slot]
	}
	return &nilValue
}

// EvalBool evaluates p over f as a condition: true only if the result is
// true; nil and runtime errors are false. A non-bool result (possible only
// for a program whose static type is any) is a counted runtime error.
//
// A bool program runs as its branch program, in this function's loop: the
// caller's one call is the whole cost of dispatch.
func (m *Machine) EvalBool(p *Program, f *Frame) bool {
	code := p.tests
	if code == nil || f == nil {
		return m.evalBool(p, f)
	}
	var fields []event.Value
	if f.Current != nil {
		fields = f.Current.Fields
	}
	pc := int32(0)
	for {
		t := &code[pc]
		var ok bool
		switch t.op {
		case tTruth:
			want := triTrue
			if t.neg {
				want = triFalse
			}
			m.failed = false
			ok = m.truth(t.n, f) == want
			if m.failed {
				// The result is false whatever follows, and the first
				// error is the one kept: stopping here is the same as
				// going on, as the tree evaluator does.
				m.errors++
				m.last.Source = p.origin
				return false
			}
		case tBool:
			x := currentField(fields, t.slot)
			ok = !x.IsNil() && x.Bool() != t.neg
		case tIsNil:
			ok = currentField(fields, t.slot).IsNil() != t.neg

		case tFloatEq:
			x := currentField(fields, t.slot)
			ok = !x.IsNil() && (x.Float() == t.num) != t.neg
		case tFloatNe:
			x := currentField(fields, t.slot)
			ok = !x.IsNil() && (x.Float() != t.num) != t.neg
		case tFloatLt:
			x := currentField(fields, t.slot)
			ok = !x.IsNil() && (x.Float() < t.num) != t.neg
		case tFloatLe:
			x := currentField(fields, t.slot)
			ok = !x.IsNil() && (x.Float() <= t.num) != t.neg
		case tFloatGt:
			x := currentField(fields, t.slot)
			ok = !x.IsNil() && (x.Float() > t.num) != t.neg
		case tFloatGe:
			x := currentField(fields, t.slot)
			ok = !x.IsNil() && (x.Float() >= t.num) != t.neg

		case tIntEq:
			x := currentField(fields, t.slot)
			ok = !x.IsNil() && (x.Int() == t.i) != t.neg
		case tIntNe:
			x := currentField(fields, t.slot)
			ok = !x.IsNil() && (x.Int() != t.i) != t.neg
		case tIntLt:
			x := currentField(fields, t.slot)
			ok = !x.IsNil() && (x.Int() < t.i) != t.neg
		case tIntLe:
			x := currentField(fields, t.slot)
			ok = !x.IsNil() && (x.Int() <= t.i) != t.neg
		case tIntGt:
			x := currentField(fields, t.slot)
			ok = !x.IsNil() && (x.Int() > t.i) != t.neg
		case tIntGe:
			x := currentField(fields, t.slot)
			ok = !x.IsNil() && (x.Int() >= t.i) != t.neg

		case tStrEq:
			x := currentField(fields, t.slot)
			ok = !x.IsNil() && (x.Str() == t.str) != t.neg
		case tStrEq4:
			x := currentField(fields, t.slot)
			if !x.IsNil() {
				s := x.Str()
				eq := len(s) == len(t.str) && uint64(load32(s)) == t.strLo && uint64(load32(s[len(s)-4:])) == t.strHi
				ok = eq != t.neg
			}
		case tStrEq8:
			x := currentField(fields, t.slot)
			if !x.IsNil() {
				s := x.Str()
				eq := len(s) == len(t.str) && load64(s) == t.strLo && load64(s[len(s)-8:]) == t.strHi
				ok = eq != t.neg
			}
		case tStrLt:
			x := currentField(fields, t.slot)
			ok = !x.IsNil() && (x.Str() < t.str) != t.neg
		case tStrLe:
			x := currentField(fields, t.slot)
			ok = !x.IsNil() && (x.Str() <= t.str) != t.neg
		case tStrGt:
			x := currentField(fields, t.slot)
			ok = !x.IsNil() && (x.Str() > t.str) != t.neg
		case tStrGe:
			x := currentField(fields, t.slot)
			ok = !x.IsNil() && (x.Str() >= t.str) != t.neg

		case tStrIn:
			x := currentField(fields, t.slot)
			if !x.IsNil() {
				s, found := x.Str(), false
				for _, c := range t.strs {
					if c == s {
						found = true
						break
					}
				}
				ok = found != t.neg
			}
		case tStrInMap:
			x := currentField(fields, t.slot)
			if !x.IsNil() {
				_, found := t.set.strs[x.Str()]
				ok = found != t.neg
			}
		case tIntIn:
			x := currentField(fields, t.slot)
			if !x.IsNil() {
				v, found := x.Int(), false
				for _, c := range t.ints {
					if c == v {
						found = true
						break
					}
				}
				ok = found != t.neg
			}
		case tIntInMap:
			x := currentField(fields, t.slot)
			if !x.IsNil() {
				_, found := t.set.ints[x.Int()]
				ok = found != t.neg
			}
		}
		if ok {
			pc = t.yes
		} else {
			pc = t.no
		}
		if pc < 0 {
			return pc == accept
		}
	}
}

// Strings of 4 to 16 bytes compare as two overlapping loads of 4 or 8
// bytes (the first and the last), which together cover every byte: a few
// instructions, where == on strings calls memequal.

func load64(s string) uint64 {
	_ = s[7]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}

func load32(s string) uint32 {
	_ = s[3]
	return uint32(s[0]) | uint32(s[1])<<8 | uint32(s[2])<<16 | uint32(s[3])<<24
}

// strTest is the test of a string field == s (!= is == with neg flipped).
func strTest(slot int, s string, neg bool) test {
	t := test{op: tStrEq, slot: int32(slot), str: s, neg: neg}
	switch n := len(s); {
	case n >= 8 && n <= 16:
		t.op, t.strLo, t.strHi = tStrEq8, load64(s), load64(s[n-8:])
	case n >= 4 && n < 8:
		t.op, t.strLo, t.strHi = tStrEq4, uint64(load32(s)), uint64(load32(s[n-4:]))
	}
	return t
}
