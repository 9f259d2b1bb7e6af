package engine

import (
	"math"

	"github.com/cepengine/cep/engine/eval"
	"github.com/cepengine/cep/engine/event"
	"github.com/cepengine/cep/window"
)

// Direct emission: a window rule whose aggregates are all count, sum and
// avg, with no having, and whose emitted fields are each a key, an
// aggregate, or one of + - * / over aggregates and numeric constants with
// a float result (sum(px * vol) / sum(vol), avg(px) * 2), computes its
// fields straight from the window's results as float64s: from
// window.Result.Sums in Emit, and, for sliding and small sliding count
// windows in columns, from InsertSums and AdvanceSums, which return the
// results with no Result built and no Sink called (windowEvent,
// keyedFire). Emit's general path stores every aggregate and key in
// Frame.Vars as values, reads each result through a call, and evaluates
// the fields over Vars: about three times the instructions of a result
// for rules whose fields are this simple, the commonest. The values are
// the same as the general path's, bit for bit (TestWindow_direct).
//
// In the same way, a window rule whose aggregate arguments are all Num
// columns, each a field or one operation (px * vol), computes them into
// their columns as float64s (numArg, below).

// directPlan is the direct form of a rule's emitted fields: the keys it
// copies, and the fields it computes.
type directPlan struct {
	keys   []directKey
	fields []directField
	n      int // emitted fields
	// key1 is the field of the one key copied, of a key of one value
	// (the commonest: partition by sym), else -1.
	key1 int
}

// directKey is an emitted field that copies a key.
type directKey struct{ field, key int }

// directField is an emitted field computed by direct emission.
type directField struct {
	field int
	kind  directKind
	op    byte
	x, y  directOperand
	float bool // an int result is converted to a float (the program's type, or the declared field's)
	// aggs: x and y are both aggregates read as floats or ints (the
	// commonest: sum(px * vol) / sum(vol)); mask has their bits in ok.
	aggs bool
	mask uint64
}

type directKind uint8

const (
	directRead  directKind = iota // an aggregate, as Emit reads it
	directFloat                   // x op y, as float64s: nil when an operand is
)

// directOperand is an aggregate result (agg, read as kind says), or the
// constant c (kind readConst; cFloat when it is a float, not an int).
type directOperand struct {
	agg    int
	kind   readKind
	c      float64
	cFloat bool
}

const readConst readKind = 255

// newDirectPlan returns the direct form of plan's emitted fields, or nil
// when a field or the having clause needs the general path.
func newDirectPlan(plan *keyedPlan) *directPlan {
	if !plan.aggs.SumsOnly() || plan.having != nil {
		return nil
	}
	reads := map[int]aggRead{} // by Frame.Vars slot
	for _, rd := range plan.reads {
		reads[rd.v] = rd
	}
	operand := func(o eval.ArithOperand) (directOperand, bool) {
		switch {
		case o.Var >= 0:
			rd, ok := reads[o.Var]
			return directOperand{agg: rd.agg, kind: rd.kind}, ok && rd.kind != readValue
		case o.Field >= 0:
			return directOperand{}, false // no current event at emission
		}
		switch o.Const.Kind() {
		case event.KindInt, event.KindFloat:
			return directOperand{kind: readConst, c: o.Const.Float(), cFloat: o.Const.Kind() == event.KindFloat}, true
		}
		return directOperand{}, false
	}
	out := &directPlan{n: len(plan.progs), key1: -1}
	for i := range plan.progs {
		f := directField{field: i, float: plan.widen[i]}
		switch a := plan.arith[i]; {
		case plan.keyVar[i] >= 0:
			if plan.widen[i] {
				return nil // (an int key into a float field: rare)
			}
			out.keys = append(out.keys, directKey{field: i, key: plan.keyVar[i]})
			continue
		case a == nil:
			return nil
		default:
			op, x, y, float := a.Shape()
			var ok bool
			if f.x, ok = operand(x); !ok {
				return nil
			}
			if op == 0 {
				if f.x.kind == readConst {
					return nil // (folded by the compiler; not worth a kind)
				}
				f.kind, f.float = directRead, f.float || float
				break
			}
			if f.y, ok = operand(y); !ok {
				return nil
			}
			// A float result, whatever the operands' values: a division,
			// or a float operand. (Two ints add as ints, in the general
			// path.)
			if op != '/' && !f.x.isFloat() && !f.y.isFloat() {
				return nil
			}
			f.kind, f.op = directFloat, op
			plain := func(o directOperand) bool { return o.kind == readFloat || o.kind == readInt }
			if f.aggs = plain(f.x) && plain(f.y); f.aggs {
				f.mask = 1<<f.x.agg | 1<<f.y.agg
			}
		}
		out.fields = append(out.fields, f)
	}
	if len(out.keys) == 1 && len(plan.keys) == 1 {
		out.key1 = out.keys[0].field
	}
	return out
}

// isFloat reports whether the operand is a float for the general path:
// a float aggregate or a float constant.
func (o *directOperand) isFloat() bool { return o.kind == readFloat || o.kind == readConst && o.cFloat }

// value is the operand as a float64, and false when it is nil: what
// Value.Float of the value Emit puts in Frame.Vars gives.
func (o *directOperand) value(n int64, num []float64, ok uint64) (float64, bool) {
	switch o.kind {
	case readConst:
		return o.c, true
	case readCount:
		return float64(n), true
	case readCountArg:
		return float64(int64(num[o.agg])), true
	case readInt:
		return float64(int64(num[o.agg])), ok&(1<<o.agg) != 0
	}
	return num[o.agg], ok&(1<<o.agg) != 0
}

// read is the operand as Emit puts it in Frame.Vars.
func (o *directOperand) read(n int64, num []float64, ok uint64) event.Value {
	switch {
	case o.kind == readCount:
		return event.IntValue(n)
	case ok&(1<<o.agg) == 0 && o.kind != readCountArg:
		return event.Nil
	case o.kind == readFloat:
		return event.FloatValue(num[o.agg])
	}
	return event.IntValue(int64(num[o.agg]))
}

// value computes the field from the results.
func (f *directField) value(n int64, num []float64, ok uint64) event.Value {
	if f.aggs {
		// Two aggregates (operand.value's two cases, inline).
		if ok&f.mask != f.mask {
			return event.Nil
		}
		x, y := num[f.x.agg], num[f.y.agg]
		if f.x.kind == readInt {
			x = float64(int64(x))
		}
		if f.y.kind == readInt {
			y = float64(int64(y))
		}
		return event.FloatValue(arith(f.op, x, y))
	}
	if f.kind == directRead {
		v := f.x.read(n, num, ok)
		if f.float && v.Kind() == event.KindInt {
			v = event.FloatValue(float64(v.Int()))
		}
		return v
	}
	x, xok := f.x.value(n, num, ok)
	y, yok := f.y.value(n, num, ok)
	if !xok || !yok {
		return event.Nil
	}
	return event.FloatValue(arith(f.op, x, y))
}

// arith is x op y (op one of + - * /).
func arith(op byte, x, y float64) float64 {
	switch op {
	case '/':
		return x / y
	case '*':
		return x * y
	case '+':
		return x + y
	}
	return x - y
}

// emitDirect is Emit for a rule with direct fields, given the results;
// evKey, when not nil, is the event's own value of a one-value key, to
// copy in place of the stored one (see eventKey).
func (op *keyedOp) emitDirect(n int64, num []float64, ok uint64, t int64, evKey *event.Value) {
	m, p, dp := op.m, op.p, op.p.direct
	d := op.spareD
	if d == nil {
		d = m.derived(op.rule.ID, !op.spare)
	}
	fields := d.Event.Fields[:dp.n]
	kt := &op.keys
	if evKey != nil && dp.key1 >= 0 {
		fields[dp.key1] = *evKey
	} else if dp.key1 >= 0 && !kt.scalars && int(op.cur) < len(kt.vals) {
		// The key of one value, stored (no lone scalar: see keyTable.key).
		fields[dp.key1] = kt.vals[op.cur]
	} else if len(dp.keys) > 0 {
		// The key's values as keyTable.key returns them, read in place
		// when stored (no lone scalar in the table): key is a call here,
		// never inlined (a generic method).
		var key []event.Value
		if i := int(op.cur) * kt.width; !kt.scalars && i+kt.width <= len(kt.vals) {
			key = kt.vals[i : i+kt.width]
		} else {
			key = kt.key(op.cur)
		}
		for _, c := range dp.keys {
			fields[c.field] = key[c.key]
		}
	}
	for i := range dp.fields {
		f := &dp.fields[i]
		fields[f.field] = f.value(n, num, ok)
	}
	switch {
	case op.spare:
		m.emitSpare(op, d, t)
	case p.mode == 0 || op.gate(op.cur, d, t):
		m.emitKeyed(op, d, t)
	}
}

// numArg is an aggregate argument that is a field of the event, or one of
// + - * / over fields and constants, computed straight into its Num
// column: numOf of what the program gives (nil: window.Missing), bit for
// bit (TestWindow_direct), without building the value.
type numArg struct {
	op   byte // 0: x alone
	x, y numOperand
}

// numOperand is field slot of the event, or (slot < 0) the constant c.
type numOperand struct {
	slot int
	c    event.Value
}

// numArgsOf returns the numArg form of args, or nil when one has another
// shape.
func numArgsOf(args []fieldProg) []numArg {
	operand := func(o eval.ArithOperand) (numOperand, bool) {
		switch {
		case o.Field >= 0:
			return numOperand{slot: o.Field}, true
		case o.Var >= 0:
			return numOperand{}, false
		}
		return numOperand{slot: -1, c: o.Const}, true
	}
	out := make([]numArg, len(args))
	for i, a := range args {
		switch {
		case a.slot >= 0:
			out[i] = numArg{x: numOperand{slot: a.slot}}
		case a.arith == nil:
			return nil
		default:
			op, x, y, _ := a.arith.Shape()
			var ok1, ok2 bool
			out[i].op = op
			out[i].x, ok1 = operand(x)
			out[i].y, ok2 = operand(y)
			if !ok1 || op != 0 && !ok2 {
				return nil
			}
		}
	}
	return out
}

func (o *numOperand) value(f []event.Value) event.Value {
	if o.slot >= 0 {
		return f[o.slot]
	}
	return o.c
}

// num computes the argument over the event's fields f.
func (a *numArg) num(f []event.Value) float64 {
	x := a.x.value(f)
	if a.op == 0 {
		return numOf(x)
	}
	y := a.y.value(f)
	if x.IsNil() || y.IsNil() {
		return window.Missing
	}
	if a.op != '/' && x.Kind() == event.KindInt && y.Kind() == event.KindInt {
		// As the program: int arithmetic (wrapping), then the column's float.
		i, j := x.Int(), y.Int()
		switch a.op {
		case '+':
			return float64(i + j)
		case '-':
			return float64(i - j)
		}
		return float64(i * j)
	}
	var r float64
	switch u, v := x.Float(), y.Float(); a.op {
	case '+':
		r = u + v
	case '-':
		r = u - v
	case '*':
		r = u * v
	default:
		r = u / v
	}
	if r != r {
		return math.NaN() // as numOf: no NaN payload taken for Missing
	}
	return r
}
