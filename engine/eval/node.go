package eval

import (
	"math"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/cepengine/cep/engine/event"
)

// op is the operation of a lowered node. Evaluation dispatches on it with a
// switch: no interface calls, no closures.
type op uint8

const (
	opConst     op = iota
	opField        // Frame.Current.Fields[slot]
	opPrevField    // Frame.Prev.Fields[slot]
	opBound        // Frame.Bound[slot].Fields[field]
	opVar          // Frame.Vars[slot]
	opNoEvent      // Frame.Bound[slot] (field 0) or Frame.Prev (field 1) is nil
	opListField    // Frame.Lists[slot][a].Fields[field]
	opListLen      // len(Frame.Lists[slot])

	opNot
	opAnd
	opOr
	opIsNil
	opNotNil

	opCmpNum // cmp over numbers: as ints when both are ints, else as floats
	opCmpStr
	opCmpBool
	opCmpTime
	opCmpDur

	// Specialisations of the commonest predicate, field cmp constant.
	opFieldCmpInt   // an int field and an int constant
	opFieldCmpFloat // a number field and a constant, one of them float
	opFieldCmpStr

	// Numeric operations follow the operands' kinds at run time, as expr's
	// VM does: int op int is an int, any float makes a float. Statically
	// typed code only sees ints where the checker said int, but a VM leaf
	// such as sum([]) may return the int 0 where the checker said float.
	opAdd
	opSub
	opMul
	opMod
	opDiv
	opPow
	opNeg
	opConcat

	opTimeAddDur // time + duration
	opDurAddTime // duration + time
	opTimeSubTime
	opTimeSubDur
	opDurAdd
	opDurSub
	opDurMul // int*duration, duration*int, duration*duration

	opInSet  // a in constant set
	opInList // a in b (a list value)
	opInArgs // a in [args...] with computed elements
	opContains
	opStartsWith
	opEndsWith
	opMatches

	opCoalesce
	opCond
	opLenStr
	opLenList

	// Predicates over a list alias: the body reads the element through
	// Machine.elems[field] (field is the nesting depth).
	opElemField // Machine.elems[slot].Fields[field]
	opAll
	opAny
	opNone
	opOne
	opCount
	opSum

	opVM // a leaf compiled for expr's VM
)

// maxElemDepth bounds the nesting of lowered predicates over lists.
const maxElemDepth = 4

type cmpOp uint8

const (
	cmpEq cmpOp = iota
	cmpNe
	cmpLt
	cmpLe
	cmpGt
	cmpGe
)

// node is one operation of a lowered program.
type node struct {
	op    op
	cmp   cmpOp
	kind  event.Kind // static kind of the result; KindAny when dynamic
	a, b  *node
	c     *node
	args  []*node
	slot  int // field slot, or Frame slot
	field int // field slot within Bound/Lists events
	val   event.Value
	num   float64 // val as a float, for opFieldCmpFloat
	set   *valueSet
	re    *regexp.Regexp
	vm    *vmProg
	line  int32 // position of the operation, for runtime errors
	col   int32
}

// tri is a three-valued truth value: SQL's TRUE, FALSE and UNKNOWN (nil).
type tri uint8

const (
	triFalse tri = iota
	triTrue
	triNil
)

func triOf(v event.Value) tri {
	switch v.Kind() {
	case event.KindBool:
		if v.Bool() {
			return triTrue
		}
		return triFalse
	case event.KindNil:
		return triNil
	}
	return triFalse
}

func (t tri) value() event.Value {
	switch t {
	case triTrue:
		return event.BoolValue(true)
	case triFalse:
		return event.BoolValue(false)
	}
	return event.Nil
}

func boolTri(b bool) tri {
	if b {
		return triTrue
	}
	return triFalse
}

func fieldOf(e *event.Event, slot int) event.Value {
	if e == nil || uint(slot) >= uint(len(e.Fields)) {
		return event.Nil
	}
	return e.Fields[slot]
}

func (f *Frame) list(slot int) []*event.Event {
	if uint(slot) >= uint(len(f.Lists)) {
		return nil
	}
	return f.Lists[slot]
}

func (f *Frame) bound(slot int) *event.Event {
	if uint(slot) >= uint(len(f.Bound)) {
		return nil
	}
	return f.Bound[slot]
}

func (f *Frame) variable(slot int) event.Value {
	if uint(slot) >= uint(len(f.Vars)) {
		return event.Nil
	}
	return f.Vars[slot]
}

// truth evaluates a bool-kinded node to a three-valued truth.
func (m *Machine) truth(n *node, f *Frame) tri {
	switch n.op {
	case opAnd:
		x := m.truth(n.a, f)
		if x == triFalse {
			return triFalse
		}
		y := m.truth(n.b, f)
		if y == triFalse {
			return triFalse
		}
		if x == triNil || y == triNil {
			return triNil
		}
		return triTrue
	case opOr:
		x := m.truth(n.a, f)
		if x == triTrue {
			return triTrue
		}
		y := m.truth(n.b, f)
		if y == triTrue {
			return triTrue
		}
		if x == triNil || y == triNil {
			return triNil
		}
		return triFalse
	case opNot:
		switch m.truth(n.a, f) {
		case triTrue:
			return triFalse
		case triFalse:
			return triTrue
		}
		return triNil
	case opFieldCmpFloat:
		x := fieldOf(f.Current, n.slot)
		if x.IsNil() {
			return triNil
		}
		return boolTri(cmpFloat(n.cmp, x.Float(), n.num))
	case opFieldCmpInt:
		x := fieldOf(f.Current, n.slot)
		if x.IsNil() {
			return triNil
		}
		return boolTri(cmpInt(n.cmp, x.Int(), n.val.Int()))
	case opFieldCmpStr:
		x := fieldOf(f.Current, n.slot)
		if x.IsNil() {
			return triNil
		}
		return boolTri(cmpStr(n.cmp, x.Str(), n.val.Str()))
	}
	return m.truthOther(n, f)
}

// truthOther is truth for the rarer operations, kept out of truth so that
// the hot function stays small.
func (m *Machine) truthOther(n *node, f *Frame) tri {
	switch n.op {
	case opIsNil:
		return boolTri(m.eval(n.a, f).IsNil())
	case opNoEvent:
		if n.field == 1 {
			return boolTri(f.Prev == nil)
		}
		return boolTri(f.bound(n.slot) == nil)
	case opNotNil:
		return boolTri(!m.eval(n.a, f).IsNil())
	case opCmpNum, opCmpStr, opCmpBool, opCmpTime, opCmpDur:
		x := m.eval(n.a, f)
		y := m.eval(n.b, f)
		if x.IsNil() || y.IsNil() {
			return triNil
		}
		switch n.op {
		case opCmpNum:
			return boolTri(cmpNum(n.cmp, x, y))
		case opCmpStr:
			return boolTri(cmpStr(n.cmp, x.Str(), y.Str()))
		case opCmpBool:
			return boolTri(cmpBool(n.cmp, x.Bool(), y.Bool()))
		case opCmpTime:
			return boolTri(cmpInt(n.cmp, x.Time(), y.Time()))
		default:
			return boolTri(cmpInt(n.cmp, int64(x.Duration()), int64(y.Duration())))
		}
	}
	return triOf(m.eval(n, f))
}

// eval evaluates a node. A runtime error marks the machine failed; the
// caller of the whole program discards the value then.
func (m *Machine) eval(n *node, f *Frame) event.Value {
	switch n.op {
	case opConst:
		return n.val
	case opField:
		return fieldOf(f.Current, n.slot)
	case opPrevField:
		return fieldOf(f.Prev, n.slot)
	case opBound:
		return fieldOf(f.bound(n.slot), n.field)
	case opVar:
		return f.variable(n.slot)
	case opListField:
		lst := f.list(n.slot)
		i := m.eval(n.a, f)
		if i.Kind() != event.KindInt {
			m.fail(n, ErrIndexOutOfRange)
			return event.Nil
		}
		idx := i.Int()
		if idx < 0 {
			idx += int64(len(lst))
		}
		if idx < 0 || idx >= int64(len(lst)) {
			m.fail(n, ErrIndexOutOfRange)
			return event.Nil
		}
		return fieldOf(lst[idx], n.field)
	case opListLen:
		return event.IntValue(int64(len(f.list(n.slot))))

	case opNot, opAnd, opOr, opIsNil, opNotNil, opNoEvent,
		opCmpNum, opCmpStr, opCmpBool, opCmpTime, opCmpDur,
		opFieldCmpInt, opFieldCmpFloat, opFieldCmpStr:
		return m.truth(n, f).value()

	case opNeg:
		x := m.eval(n.a, f)
		switch x.Kind() {
		case event.KindInt:
			return event.IntValue(-x.Int())
		case event.KindFloat:
			return event.FloatValue(-x.Float())
		}
		return event.Nil

	case opCoalesce:
		if x := m.eval(n.a, f); !x.IsNil() {
			return x
		}
		return m.eval(n.b, f)
	case opCond:
		if m.truth(n.a, f) == triTrue {
			return m.eval(n.b, f)
		}
		return m.eval(n.c, f)

	case opLenStr:
		x := m.eval(n.a, f)
		if x.IsNil() {
			return event.Nil
		}
		return event.IntValue(int64(utf8.RuneCountInString(x.Str())))
	case opLenList:
		x := m.eval(n.a, f)
		if x.IsNil() {
			return event.Nil
		}
		return event.IntValue(int64(len(x.List())))

	case opInSet:
		x := m.eval(n.a, f)
		if x.IsNil() {
			return event.Nil
		}
		return event.BoolValue(n.set.has(x))
	case opInArgs:
		x := m.eval(n.a, f)
		found := false
		for _, arg := range n.args {
			// Every element is evaluated, as the VM builds the whole array.
			if y := m.eval(arg, f); !found && x.Equal(y) {
				found = true
			}
		}
		if x.IsNil() {
			return event.Nil
		}
		return event.BoolValue(found)

	case opMatches:
		x := m.eval(n.a, f)
		if x.IsNil() {
			return event.Nil
		}
		return event.BoolValue(n.re.MatchString(x.Str()))

	case opElemField:
		return fieldOf(m.elems[n.slot], n.field)
	case opAll, opAny, opNone:
		// all stops at the first element that is not true, any and none
		// at the first that is, as expr's loops do.
		want := n.op == opAll
		for _, e := range f.list(n.slot) {
			m.elems[n.field] = e
			if (m.truth(n.a, f) == triTrue) != want {
				return event.BoolValue(n.op == opAny)
			}
		}
		return event.BoolValue(n.op != opAny)
	case opOne, opCount:
		var count int64
		for _, e := range f.list(n.slot) {
			m.elems[n.field] = e
			if m.truth(n.a, f) == triTrue {
				count++
			}
		}
		if n.op == opOne {
			return event.BoolValue(count == 1)
		}
		return event.IntValue(count)
	case opSum:
		acc := event.IntValue(0)
		for _, e := range f.list(n.slot) {
			m.elems[n.field] = e
			x := m.eval(n.a, f)
			switch {
			case x.Kind() != event.KindInt && x.Kind() != event.KindFloat:
				m.fail(n, ErrNotNumber)
				return event.Nil
			case bothInts(x, acc):
				acc = event.IntValue(x.Int() + acc.Int())
			default:
				acc = event.FloatValue(x.Float() + acc.Float())
			}
		}
		return acc

	case opVM:
		return m.runVM(n, f)
	}
	return m.binary(n, f)
}

// binary evaluates the operations of two operands that yield nil when
// either operand is nil.
func (m *Machine) binary(n *node, f *Frame) event.Value {
	x := m.eval(n.a, f)
	y := m.eval(n.b, f)
	if x.IsNil() || y.IsNil() {
		return event.Nil
	}
	switch n.op {
	case opAdd:
		if bothInts(x, y) {
			return event.IntValue(x.Int() + y.Int())
		}
		return event.FloatValue(x.Float() + y.Float())
	case opSub:
		if bothInts(x, y) {
			return event.IntValue(x.Int() - y.Int())
		}
		return event.FloatValue(x.Float() - y.Float())
	case opMul:
		if bothInts(x, y) {
			return event.IntValue(x.Int() * y.Int())
		}
		return event.FloatValue(x.Float() * y.Float())
	case opMod:
		if !bothInts(x, y) {
			m.fail(n, ErrNotInt)
			return event.Nil
		}
		d := y.Int()
		if d == 0 {
			m.fail(n, ErrDivideByZero)
			return event.Nil
		}
		return event.IntValue(x.Int() % d)
	case opDiv:
		return event.FloatValue(x.Float() / y.Float())
	case opPow:
		return event.FloatValue(math.Pow(x.Float(), y.Float()))
	case opConcat:
		return event.StringValue(x.Str() + y.Str())

	case opTimeAddDur:
		return m.addTime(n, x.Time(), int64(y.Duration()))
	case opDurAddTime:
		return m.addTime(n, y.Time(), int64(x.Duration()))
	case opTimeSubTime:
		return event.DurationValue(time.Duration(subSaturating(x.Time(), y.Time())))
	case opTimeSubDur:
		// As the VM: t.Add(-d), -d wrapping around for the least duration.
		return m.addTime(n, x.Time(), -int64(y.Duration()))
	case opDurAdd:
		return event.DurationValue(x.Duration() + y.Duration())
	case opDurSub:
		return event.DurationValue(x.Duration() - y.Duration())
	case opDurMul:
		return event.DurationValue(time.Duration(rawInt(x) * rawInt(y)))

	case opInList:
		for _, it := range y.List() {
			if it.Equal(x) {
				return event.BoolValue(true)
			}
		}
		return event.BoolValue(false)
	case opContains:
		return event.BoolValue(strings.Contains(x.Str(), y.Str()))
	case opStartsWith:
		return event.BoolValue(strings.HasPrefix(x.Str(), y.Str()))
	case opEndsWith:
		return event.BoolValue(strings.HasSuffix(x.Str(), y.Str()))
	}
	panic("eval: unknown op") // unreachable: every op is handled above
}

// addTime is the time t + d, failing when it is out of range.
func (m *Machine) addTime(n *node, t, d int64) event.Value {
	s, ok := addTime(t, d)
	if !ok {
		m.fail(n, ErrTimeRange)
		return event.Nil
	}
	return event.TimeValue(s)
}

// rawInt is the integer payload of an int or a duration.
func rawInt(v event.Value) int64 {
	if v.Kind() == event.KindDuration {
		return int64(v.Duration())
	}
	return v.Int()
}

// subSaturating is a-b clamped to the int64 range, as time.Time.Sub clamps.
func subSaturating(a, b int64) int64 {
	d := a - b
	if (a >= 0) != (b >= 0) && (d >= 0) != (a >= 0) {
		if a > b {
			return math.MaxInt64
		}
		return math.MinInt64
	}
	return d
}

func bothInts(x, y event.Value) bool {
	return x.Kind() == event.KindInt && y.Kind() == event.KindInt
}

func cmpNum(op cmpOp, x, y event.Value) bool {
	if bothInts(x, y) {
		return cmpInt(op, x.Int(), y.Int())
	}
	return cmpFloat(op, x.Float(), y.Float())
}

func cmpInt(op cmpOp, x, y int64) bool {
	switch op {
	case cmpEq:
		return x == y
	case cmpNe:
		return x != y
	case cmpLt:
		return x < y
	case cmpLe:
		return x <= y
	case cmpGt:
		return x > y
	}
	return x >= y
}

func cmpFloat(op cmpOp, x, y float64) bool {
	switch op {
	case cmpEq:
		return x == y
	case cmpNe:
		return x != y
	case cmpLt:
		return x < y
	case cmpLe:
		return x <= y
	case cmpGt:
		return x > y
	}
	return x >= y
}

func cmpStr(op cmpOp, x, y string) bool {
	switch op {
	case cmpEq:
		return x == y
	case cmpNe:
		return x != y
	case cmpLt:
		return x < y
	case cmpLe:
		return x <= y
	case cmpGt:
		return x > y
	}
	return x >= y
}

func cmpBool(op cmpOp, x, y bool) bool {
	if op == cmpEq {
		return x == y
	}
	return x != y
}

// valueSet is a constant set for `in`: hashed for strings and ints, a scan
// otherwise (mixed kinds compare with Value.Equal).
type valueSet struct {
	strs  map[string]struct{}
	ints  map[int64]struct{}
	items []event.Value
}

func newValueSet(items []event.Value) *valueSet {
	s := &valueSet{items: items}
	allStr, allInt := len(items) > 0, len(items) > 0
	for _, it := range items {
		allStr = allStr && it.Kind() == event.KindString
		allInt = allInt && it.Kind() == event.KindInt
	}
	switch {
	case allStr && len(items) > 4:
		s.strs = make(map[string]struct{}, len(items))
		for _, it := range items {
			s.strs[it.Str()] = struct{}{}
		}
	case allInt && len(items) > 4:
		s.ints = make(map[int64]struct{}, len(items))
		for _, it := range items {
			s.ints[it.Int()] = struct{}{}
		}
	}
	return s
}

func (s *valueSet) has(x event.Value) bool {
	switch {
	case s.strs != nil:
		if x.Kind() != event.KindString {
			return false
		}
		_, ok := s.strs[x.Str()]
		return ok
	case s.ints != nil && x.Kind() == event.KindInt:
		_, ok := s.ints[x.Int()]
		return ok
	}
	for _, it := range s.items {
		if it.Equal(x) {
			return true
		}
	}
	return false
}
