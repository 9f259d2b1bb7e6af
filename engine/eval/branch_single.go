package eval

import "github.com/cepengine/cep/engine/event"

// Single-test programs. Most filters are one comparison of a field with a
// constant (`px > 100`, `sym == "IBM"`); for them leafBranch's loop, its
// dispatch and its jumps cost more than the test itself. Such a program
// gets one of these functions instead, each a leafBranch case on its own,
// with the same semantics: a missing or nil field makes the test false
// (then neg does not apply: nil fails `x > 1` and `x <= 1` alike).
//
// branchProgram emits a single-test program with yes = accept and
// no = reject; singleTest is set only then.

// singleOps are the functions of the single-test programs, by test op.
var singleOps = [numTestOps]func(*Machine, *Program, *Frame) bool{
	tBool:  singleBool,
	tIsNil: singleIsNil,

	tFloatEq: singleFloatEq, tFloatNe: singleFloatNe,
	tFloatLt: singleFloatLt, tFloatLe: singleFloatLe,
	tFloatGt: singleFloatGt, tFloatGe: singleFloatGe,

	tIntEq: singleIntEq, tIntNe: singleIntNe,
	tIntLt: singleIntLt, tIntLe: singleIntLe,
	tIntGt: singleIntGt, tIntGe: singleIntGe,

	tStrEq0: singleStrEq0, tStrEq4: singleStrEq4, tStrEq8: singleStrEq8,
}

// singleFunc returns the function for a program of the one test t, or nil.
func singleFunc(code []test) func(*Machine, *Program, *Frame) bool {
	if len(code) != 1 || code[0].yes != accept || code[0].no != reject {
		return nil
	}
	return singleOps[code[0].op]
}

// field returns the field at slot of f's current event, or nil.
func field(f *Frame, slot int) *event.Value {
	if f != nil && f.Current != nil && uint(slot) < uint(len(f.Current.Fields)) {
		return &f.Current.Fields[slot]
	}
	return &nilValue
}

func singleBool(_ *Machine, p *Program, f *Frame) bool {
	x := field(f, p.one.slot)
	return !x.IsNil() && x.Bool() != p.one.neg
}

func singleIsNil(_ *Machine, p *Program, f *Frame) bool {
	return field(f, p.one.slot).IsNil() != p.one.neg
}

func singleFloatEq(_ *Machine, p *Program, f *Frame) bool {
	x := field(f, p.one.slot)
	return !x.IsNil() && (x.Float() == p.one.num) != p.one.neg
}

func singleFloatNe(_ *Machine, p *Program, f *Frame) bool {
	x := field(f, p.one.slot)
	return !x.IsNil() && (x.Float() != p.one.num) != p.one.neg
}

func singleFloatLt(_ *Machine, p *Program, f *Frame) bool {
	x := field(f, p.one.slot)
	return !x.IsNil() && (x.Float() < p.one.num) != p.one.neg
}

func singleFloatLe(_ *Machine, p *Program, f *Frame) bool {
	x := field(f, p.one.slot)
	return !x.IsNil() && (x.Float() <= p.one.num) != p.one.neg
}

func singleFloatGt(_ *Machine, p *Program, f *Frame) bool {
	x := field(f, p.one.slot)
	return !x.IsNil() && (x.Float() > p.one.num) != p.one.neg
}

func singleFloatGe(_ *Machine, p *Program, f *Frame) bool {
	x := field(f, p.one.slot)
	return !x.IsNil() && (x.Float() >= p.one.num) != p.one.neg
}

func singleIntEq(_ *Machine, p *Program, f *Frame) bool {
	x := field(f, p.one.slot)
	return !x.IsNil() && (x.Int() == p.one.i) != p.one.neg
}

func singleIntNe(_ *Machine, p *Program, f *Frame) bool {
	x := field(f, p.one.slot)
	return !x.IsNil() && (x.Int() != p.one.i) != p.one.neg
}

func singleIntLt(_ *Machine, p *Program, f *Frame) bool {
	x := field(f, p.one.slot)
	return !x.IsNil() && (x.Int() < p.one.i) != p.one.neg
}

func singleIntLe(_ *Machine, p *Program, f *Frame) bool {
	x := field(f, p.one.slot)
	return !x.IsNil() && (x.Int() <= p.one.i) != p.one.neg
}

func singleIntGt(_ *Machine, p *Program, f *Frame) bool {
	x := field(f, p.one.slot)
	return !x.IsNil() && (x.Int() > p.one.i) != p.one.neg
}

func singleIntGe(_ *Machine, p *Program, f *Frame) bool {
	x := field(f, p.one.slot)
	return !x.IsNil() && (x.Int() >= p.one.i) != p.one.neg
}

// singleStrEq0 is tStrEq0: a string of up to 3 bytes is equal to the
// constant when its length and its first, middle and last byte are.
func singleStrEq0(_ *Machine, p *Program, f *Frame) bool {
	x := field(f, p.one.slot)
	if x.IsNil() {
		return false
	}
	s := x.Str()
	eq := len(s) == len(p.one.str) && (len(s) == 0 || load3(s) == p.one.strLo)
	return eq != p.one.neg
}

// singleStrEq4 and singleStrEq8 are tStrEq4 and tStrEq8: a string of 4 to
// 8 (9 to 16) bytes is equal to the constant when its length and its first
// and last 4 (8) bytes are.
func singleStrEq4(_ *Machine, p *Program, f *Frame) bool {
	x := field(f, p.one.slot)
	if x.IsNil() {
		return false
	}
	s := x.Str()
	eq := len(s) == len(p.one.str) && uint64(load32(s)) == p.one.strLo && uint64(load32(s[len(s)-4:])) == p.one.strHi
	return eq != p.one.neg
}

func singleStrEq8(_ *Machine, p *Program, f *Frame) bool {
	x := field(f, p.one.slot)
	if x.IsNil() {
		return false
	}
	s := x.Str()
	eq := len(s) == len(p.one.str) && load64(s) == p.one.strLo && load64(s[len(s)-8:]) == p.one.strHi
	return eq != p.one.neg
}
