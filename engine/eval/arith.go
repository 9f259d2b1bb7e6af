package eval

import "github.com/cepengine/cep/engine/event"

// Arith is the direct form of a program that is one operand, or one of
// + - * / on two operands, each a field of the current event, a Frame.Vars
// slot or a constant: the shape of most aggregate arguments (px * vol) and
// emitted fields (sum(px * vol) / sum(vol)) of window rules. Its Eval
// gives Machine.Eval's result without the machine (these operations cannot
// fail), for callers that run such a program once per event.
type Arith struct {
	op    op // opField, opVar or opConst alone, or opAdd, opSub, opMul, opDiv
	a, b  arithOperand
	float bool // an int result is converted, as Eval does for float programs
}

type arithOperand struct {
	op   op // opField, opVar or opConst
	slot int
	val  event.Value
}

// Arith returns the direct form of p, or false when p has another shape.
func (p *Program) Arith() (*Arith, bool) {
	operand := func(n *node) (arithOperand, bool) {
		switch n.op {
		case opField, opVar, opConst:
			return arithOperand{op: n.op, slot: n.slot, val: n.val}, true
		}
		return arithOperand{}, false
	}
	a := &Arith{op: p.root.op, float: p.typ.Kind == event.KindFloat}
	switch p.root.op {
	case opField, opVar, opConst:
		a.a, _ = operand(p.root)
		return a, true
	case opAdd, opSub, opMul, opDiv:
		var ok1, ok2 bool
		a.a, ok1 = operand(p.root.a)
		a.b, ok2 = operand(p.root.b)
		return a, ok1 && ok2
	}
	return nil, false
}

func (o *arithOperand) value(cur, vars []event.Value) event.Value {
	switch o.op {
	case opField:
		if uint(o.slot) < uint(len(cur)) {
			return cur[o.slot]
		}
	case opVar:
		if uint(o.slot) < uint(len(vars)) {
			return vars[o.slot]
		}
	case opConst:
		return o.val
	}
	return event.Nil
}

// Eval computes the program over the current event's fields cur and the
// frame's vars, as Machine.Eval would.
func (a *Arith) Eval(cur, vars []event.Value) event.Value {
	x := a.a.value(cur, vars)
	var v event.Value
	switch a.op {
	case opField, opVar, opConst:
		v = x
	default:
		y := a.b.value(cur, vars)
		if x.IsNil() || y.IsNil() {
			return event.Nil
		}
		switch a.op {
		case opAdd:
			if bothInts(x, y) {
				v = event.IntValue(x.Int() + y.Int())
				break
			}
			v = event.FloatValue(x.Float() + y.Float())
		case opSub:
			if bothInts(x, y) {
				v = event.IntValue(x.Int() - y.Int())
				break
			}
			v = event.FloatValue(x.Float() - y.Float())
		case opMul:
			if bothInts(x, y) {
				v = event.IntValue(x.Int() * y.Int())
				break
			}
			v = event.FloatValue(x.Float() * y.Float())
		default: // opDiv
			return event.FloatValue(x.Float() / y.Float())
		}
	}
	if a.float && v.Kind() == event.KindInt {
		return event.FloatValue(float64(v.Int()))
	}
	return v
}

// ArithOperand is an operand of an Arith, for callers that compute a
// program from values they hold elsewhere: a Frame.Vars slot (Var >= 0), a
// field of the current event (Field >= 0), or else the constant Const.
type ArithOperand struct {
	Var, Field int
	Const      event.Value
}

// Shape returns a's operation ('+', '-', '*', '/', or 0 when a is its
// operand x alone), its operands (y unused when alone) and whether an int
// result is converted to a float.
func (a *Arith) Shape() (op byte, x, y ArithOperand, float bool) {
	switch a.op {
	case opAdd:
		op = '+'
	case opSub:
		op = '-'
	case opMul:
		op = '*'
	case opDiv:
		op = '/'
	}
	return op, a.a.export(), a.b.export(), a.float
}

func (o *arithOperand) export() ArithOperand {
	x := ArithOperand{Var: -1, Field: -1}
	switch o.op {
	case opVar:
		x.Var = o.slot
	case opField:
		x.Field = o.slot
	default:
		x.Const = o.val
	}
	return x
}
