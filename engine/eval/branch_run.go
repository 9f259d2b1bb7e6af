package eval

import "github.com/cepengine/cep/engine/event"

// EvalBool evaluates p over f as a condition: true only if the result is
// true; nil and runtime errors are false. A non-bool result (possible only
// for a program whose static type is any) is a counted runtime error.
//
// It is small enough to be inlined into the caller, so that for a program
// of leaf tests the call of leafBranch is the only call.
func (m *Machine) EvalBool(p *Program, f *Frame) bool {
	return p.evalBool(m, p, f)
}

// nilValue is what a missing field reads as.
var nilValue event.Value

// currentField returns the field at slot, or nil when there is none.
func currentField(fields []event.Value, slot int) *event.Value {
	if uint(slot) < uint(len(fields)) {
		return &fields[slot]
	}
	return &nilValue
}

// leafBranch runs a branch program of leaf tests over f. It calls nothing,
// so that it needs no stack frame; its cases are also branch's.
func leafBranch(_ *Machine, p *Program, f *Frame) bool {
	if f == nil {
		f = &emptyFrame
	}
	code := p.tests
	var fields []event.Value
	if f.Current != nil {
		fields = f.Current.Fields
	}
	pc := int32(0)
	for {
		t := &code[pc]
		var ok bool
		switch t.op {
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

		case tStrEq0:
			x := currentField(fields, t.slot)
			if !x.IsNil() {
				s := x.Str()
				eq := len(s) == len(t.str) && (len(s) == 0 || load3(s) == t.strLo)
				ok = eq != t.neg
			}
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
		case tStrInPacked:
			x := currentField(fields, t.slot)
			if !x.IsNil() {
				// packString by hand: a call would cost leafBranch its
				// frameless entry.
				s := x.Str()
				n := len(s)
				var lo, hi uint64
				switch {
				case n > 16:
					n = -1 // matches no candidate
				case n >= 8:
					lo, hi = load64(s), load64(s[n-8:])
				case n >= 4:
					lo, hi = uint64(load32(s)), uint64(load32(s[n-4:]))
				case n > 0:
					lo = load3(s)
				}
				found := false
				for i := range t.packs {
					c := &t.packs[i]
					if c.lo == lo && c.hi == hi && c.n == n {
						found = true
						break
					}
				}
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

// branch runs any branch program over f.
func branch(m *Machine, p *Program, f *Frame) bool {
	if f == nil {
		f = &emptyFrame
	}
	code := p.tests
	var fields []event.Value
	if f.Current != nil {
		fields = f.Current.Fields
	}
	pc := int32(0)
	for {
		t := &code[pc]
		var ok bool
		switch t.op {
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

		case tStrEq0:
			x := currentField(fields, t.slot)
			if !x.IsNil() {
				s := x.Str()
				eq := len(s) == len(t.str) && (len(s) == 0 || load3(s) == t.strLo)
				ok = eq != t.neg
			}
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
		case tStrInPacked:
			x := currentField(fields, t.slot)
			if !x.IsNil() {
				// packString by hand: a call would cost leafBranch its
				// frameless entry.
				s := x.Str()
				n := len(s)
				var lo, hi uint64
				switch {
				case n > 16:
					n = -1 // matches no candidate
				case n >= 8:
					lo, hi = load64(s), load64(s[n-8:])
				case n >= 4:
					lo, hi = uint64(load32(s)), uint64(load32(s[n-4:]))
				case n > 0:
					lo = load3(s)
				}
				found := false
				for i := range t.packs {
					c := &t.packs[i]
					if c.lo == lo && c.hi == hi && c.n == n {
						found = true
						break
					}
				}
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
		case tStrEq:
			x := currentField(fields, t.slot)
			ok = !x.IsNil() && (x.Str() == t.str) != t.neg
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

// Strings of up to 16 bytes compare as their length and two words: their
// first and last 8 bytes, or 4 (which overlap and together cover every
// byte), or for up to 3 bytes the first, middle and last byte. That is a
// few loads and integer compares, where == on strings calls memequal.

// packedString is a string of up to 16 bytes packed by packString.
type packedString struct {
	lo, hi uint64
	n      int
}

// packString packs a string of up to 16 bytes.
func packString(s string) (lo, hi uint64) {
	n := len(s)
	switch {
	case n >= 8:
		return load64(s), load64(s[n-8:])
	case n >= 4:
		return uint64(load32(s)), uint64(load32(s[n-4:]))
	case n > 0:
		return load3(s), 0
	}
	return 0, 0
}

func load64(s string) uint64 {
	_ = s[7]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}

func load32(s string) uint32 {
	_ = s[3]
	return uint32(s[0]) | uint32(s[1])<<8 | uint32(s[2])<<16 | uint32(s[3])<<24
}

// load3 packs a string of 1 to 3 bytes: its first, middle and last byte.
func load3(s string) uint64 {
	n := len(s)
	return uint64(s[0]) | uint64(s[n/2])<<8 | uint64(s[n-1])<<16
}

// strTest is the test of a string field == s (!= is == with neg flipped).
func strTest(slot int, s string, neg bool) test {
	t := test{op: tStrEq, slot: slot, str: s, neg: neg}
	if len(s) <= 16 {
		t.strLo, t.strHi = packString(s)
		switch {
		case len(s) >= 8:
			t.op = tStrEq8
		case len(s) >= 4:
			t.op = tStrEq4
		default:
			t.op = tStrEq0
		}
	}
	return t
}
