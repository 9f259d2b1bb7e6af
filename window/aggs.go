package window

import (
	"errors"
	"fmt"
	"math"
)

// Errors. Window constructors and NewAggs wrap ErrSpec or ErrParam with the
// details; Insert returns ErrEventTime or ErrRowShape as they are.
var (
	ErrSpec      = errors.New("window: invalid aggregate")
	ErrParam     = errors.New("window: invalid window parameter")
	ErrEventTime = errors.New("window: event time before the window's time, or within one window length of the int64 limits")
	ErrRowShape  = errors.New("window: row has fewer columns than the aggregates read")
)

// Op is an aggregate function.
type Op uint8

// The aggregate functions, as written in rules.
const (
	OpCount         Op = iota + 1 // count(): events in the window
	OpSum                         // sum(x)
	OpAvg                         // avg(x)
	OpMin                         // min(x)
	OpMax                         // max(x)
	OpFirst                       // first(x): x of the oldest event
	OpLast                        // last(x): x of the newest event
	OpStddev                      // stddev(x): sample standard deviation
	OpVar                         // var(x): sample variance
	OpCountDistinct               // count_distinct(x)
	OpPercentile                  // percentile(x, q)
)

var opNames = [...]string{
	OpCount: "count", OpSum: "sum", OpAvg: "avg", OpMin: "min", OpMax: "max",
	OpFirst: "first", OpLast: "last", OpStddev: "stddev", OpVar: "var",
	OpCountDistinct: "count_distinct", OpPercentile: "percentile",
}

// String returns the name of the function as written in rules.
func (o Op) String() string {
	if o >= OpCount && int(o) < len(opNames) {
		return opNames[o]
	}
	return fmt.Sprintf("op(%d)", uint8(o))
}

// column tells which Row column an op reads.
func (o Op) column() column {
	switch o {
	case OpCount:
		return colNone
	case OpFirst, OpLast:
		return colVal
	case OpCountDistinct:
		return colKey
	}
	return colNum
}

type column uint8

const (
	colNone column = iota
	colNum
	colKey
	colVal
)

// AggSpec is one aggregate of a rule.
type AggSpec struct {
	Op Op
	// Arg is the column the aggregate reads: an index into Row.Num for the
	// numeric functions, Row.Key for OpCountDistinct, Row.Val for OpFirst
	// and OpLast (and for OpMin and OpMax with Val). OpCount reads nothing
	// and requires 0.
	Arg int
	// Q is the quantile of OpPercentile, in [0, 1] (0.5 is the median).
	Q float64
	// Val makes OpMin and OpMax read Row.Val, ordered by the Less function
	// of the Aggs (NewAggsFuncs), for values a float64 cannot hold exactly:
	// strings, times, large integers. Values for which Missing is true are
	// ignored.
	Val bool
	// Skip, for OpCountDistinct, is 1 + the index of a Num column: events
	// whose value there is Missing are ignored (a Key column has no room for
	// a missing value). 0: no such column.
	Skip int
}

// Missing is the Num column value of a missing argument (SQL's NULL): every
// aggregate ignores it, as it ignores a row whose Skip column holds it. It
// is a NaN with a payload that arithmetic does not produce; a NaN that is a
// real value (which aggregates count, making sum, min and the others NaN)
// must be passed with another payload, such as math.NaN()'s.
var Missing = math.Float64frombits(missingBits)

const missingBits = 0x7ff8_0000_4d49_5353 // a quiet NaN; the payload spells "MISS"

// IsMissing reports whether x is Missing.
func IsMissing(x float64) bool { return math.Float64bits(x) == missingBits }

// missingNaN reports whether a NaN x is Missing; callers test x != x first,
// so that the common (non-NaN) path costs one comparison.
func missingNaN(x float64) bool { return math.Float64bits(x) == missingBits }

// Row is what one event supplies to the aggregates: the values of their
// arguments, by column. The window copies what it keeps; for Val that is a
// shallow copy, so V must not refer to memory the caller reuses.
type Row[V any] struct {
	Num []float64
	Key []uint64
	Val []V
}

// MaxAggs is the most aggregates one Aggs may hold.
const MaxAggs = 64

// Aggs is a compiled, immutable list of aggregates over rows carrying
// first/last values of type V. One Aggs serves every window of a rule.
type Aggs[V any] struct {
	specs   []AggSpec
	prog    []agg // one per spec, what the per-event loops read
	equal   func(a, b V) bool
	less    func(a, b V) bool
	missing func(v V) bool

	nScalar, nVal, nMinMax, nDistinct, nPct, nVar, nValMM int
	wNum, wKey, wVal                                      int // columns each Row must have

	// sumsOnly: every aggregate is count, sum or avg (the commonest
	// rules), so that the per-event loops run over sums alone, with no
	// dispatch on the op.
	sumsOnly bool
	sums     []sumAgg // the sum and avg aggregates
}

// sumAgg is a sum or avg aggregate: its scalar slot and Num column.
type sumAgg struct {
	slot, arg int32
}

// agg is a compiled aggregate: its op, the column it reads, and where its
// state lives in an Acc (slot indexes sc, fv, ds, pc or vx by op; dq is the
// sliding deque of min/max; skip is count_distinct's Skip column, or -1).
type agg struct {
	op   Op
	arg  int32
	slot int32
	dq   int32
	skip int32
	q    float64
}

// Internal ops of the compiled program: min and max over Row.Val.
const (
	opMinVal Op = 100 + iota
	opMaxVal
)

// ValFuncs are the functions an Aggs applies to Row.Val values.
type ValFuncs[V any] struct {
	// Equal tells whether a sliding result changed for first, last, and
	// min/max over Val. Nil: first and last compare by event identity (a
	// new oldest or newest event counts as a change), min and max by Less.
	Equal func(a, b V) bool
	// Less orders the values of min and max over Val (AggSpec.Val): a
	// strict weak order. Required when a spec has Val.
	Less func(a, b V) bool
	// Missing tells the values min and max over Val ignore; nil: none.
	// First and last keep every value, missing or not.
	Missing func(v V) bool
}

// NewAggs compiles specs. equal compares first/last values to tell whether a
// sliding result changed; nil compares by event identity instead (a new
// oldest or newest event counts as a change). Specs with Val need
// NewAggsFuncs.
func NewAggs[V any](specs []AggSpec, equal func(a, b V) bool) (*Aggs[V], error) {
	return NewAggsFuncs(specs, ValFuncs[V]{Equal: equal})
}

// NewAggsFuncs compiles specs with the functions f over Row.Val values.
func NewAggsFuncs[V any](specs []AggSpec, f ValFuncs[V]) (*Aggs[V], error) {
	if len(specs) > MaxAggs {
		return nil, fmt.Errorf("%w: %d aggregates, at most %d", ErrSpec, len(specs), MaxAggs)
	}
	a := &Aggs[V]{specs: append([]AggSpec(nil), specs...), equal: f.Equal, less: f.Less, missing: f.Missing}
	a.prog = make([]agg, len(specs))
	for i, sp := range specs {
		if sp.Op < OpCount || sp.Op > OpPercentile {
			return nil, fmt.Errorf("%w: aggregate %d: unknown op %d", ErrSpec, i, sp.Op)
		}
		if sp.Arg < 0 || sp.Arg > 1<<20 || (sp.Op == OpCount && sp.Arg != 0) {
			return nil, fmt.Errorf("%w: aggregate %d (%s): column %d", ErrSpec, i, sp.Op, sp.Arg)
		}
		if sp.Op == OpPercentile && !(sp.Q >= 0 && sp.Q <= 1) {
			return nil, fmt.Errorf("%w: aggregate %d (percentile): quantile %v outside [0, 1]", ErrSpec, i, sp.Q)
		}
		if sp.Op != OpPercentile && sp.Q != 0 {
			return nil, fmt.Errorf("%w: aggregate %d (%s): quantile given", ErrSpec, i, sp.Op)
		}
		if sp.Val && sp.Op != OpMin && sp.Op != OpMax {
			return nil, fmt.Errorf("%w: aggregate %d (%s): Val is for min and max", ErrSpec, i, sp.Op)
		}
		if sp.Val && f.Less == nil {
			return nil, fmt.Errorf("%w: aggregate %d (%s over Val): no Less function", ErrSpec, i, sp.Op)
		}
		if sp.Skip != 0 && (sp.Op != OpCountDistinct || sp.Skip < 0 || sp.Skip > 1<<20+1) {
			return nil, fmt.Errorf("%w: aggregate %d (%s): skip column %d", ErrSpec, i, sp.Op, sp.Skip-1)
		}
		g := agg{op: sp.Op, arg: int32(sp.Arg), slot: -1, dq: -1, skip: int32(sp.Skip) - 1, q: sp.Q}
		next := func(n *int) int32 { *n++; return int32(*n - 1) }
		col := sp.Op.column()
		switch sp.Op {
		case OpSum, OpAvg:
			g.slot = next(&a.nScalar)
		case OpStddev, OpVar:
			g.slot = next(&a.nScalar)
			a.nVar++
		case OpMin, OpMax:
			if sp.Val {
				g.op = opMinVal + (sp.Op - OpMin)
				g.slot = next(&a.nValMM)
				g.dq = g.slot
				col = colVal
				break
			}
			g.slot, g.dq = next(&a.nScalar), next(&a.nMinMax)
		case OpFirst, OpLast:
			g.slot = next(&a.nVal)
		case OpCountDistinct:
			g.slot = next(&a.nDistinct)
			if g.skip >= 0 {
				a.wNum = max(a.wNum, int(g.skip)+1)
			}
		case OpPercentile:
			g.slot = next(&a.nPct)
		}
		a.prog[i] = g
		if sp.Op == OpSum || sp.Op == OpAvg {
			a.sums = append(a.sums, sumAgg{slot: g.slot, arg: g.arg})
		}
		switch col {
		case colNum:
			a.wNum = max(a.wNum, sp.Arg+1)
		case colKey:
			a.wKey = max(a.wKey, sp.Arg+1)
		case colVal:
			a.wVal = max(a.wVal, sp.Arg+1)
		}
	}
	a.sumsOnly = a.nScalar == len(a.sums) && a.nVal == 0 && a.nDistinct == 0 && a.nPct == 0 && a.nValMM == 0
	return a, nil
}

// valEqual compares two Val values for Result.Changed of min and max over
// Val: Equal when given, else equivalence under Less.
func (a *Aggs[V]) valEqual(x, y V) bool {
	if a.equal != nil {
		return a.equal(x, y)
	}
	return !a.less(x, y) && !a.less(y, x)
}

// Len returns the number of aggregates.
func (a *Aggs[V]) Len() int { return len(a.specs) }

// Spec returns the i-th aggregate.
func (a *Aggs[V]) Spec(i int) AggSpec { return a.specs[i] }

// Columns returns how many Num, Key and Val columns a Row must have.
func (a *Aggs[V]) Columns() (num, key, val int) { return a.wNum, a.wKey, a.wVal }

func (a *Aggs[V]) fits(r *Row[V]) bool {
	return len(r.Num) >= a.wNum && len(r.Key) >= a.wKey && len(r.Val) >= a.wVal
}
