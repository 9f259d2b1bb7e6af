package window

import (
	"errors"
	"fmt"
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
	// and OpLast. OpCount reads nothing and requires 0.
	Arg int
	// Q is the quantile of OpPercentile, in [0, 1] (0.5 is the median).
	Q float64
}

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
	specs []AggSpec
	prog  []agg // one per spec, what the per-event loops read
	equal func(a, b V) bool

	nScalar, nVal, nMinMax, nDistinct, nPct, nVar int
	wNum, wKey, wVal                              int // columns each Row must have
}

// agg is a compiled aggregate: its op, the column it reads, and where its
// state lives in an Acc (slot indexes sc, fv, ds or pc by op; dq is the
// sliding deque of min/max).
type agg struct {
	op   Op
	arg  int32
	slot int32
	dq   int32
	q    float64
}

// NewAggs compiles specs. equal compares first/last values to tell whether a
// sliding result changed; nil compares by event identity instead (a new
// oldest or newest event counts as a change).
func NewAggs[V any](specs []AggSpec, equal func(a, b V) bool) (*Aggs[V], error) {
	if len(specs) > MaxAggs {
		return nil, fmt.Errorf("%w: %d aggregates, at most %d", ErrSpec, len(specs), MaxAggs)
	}
	a := &Aggs[V]{specs: append([]AggSpec(nil), specs...), equal: equal}
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
		g := agg{op: sp.Op, arg: int32(sp.Arg), slot: -1, dq: -1, q: sp.Q}
		next := func(n *int) int32 { *n++; return int32(*n - 1) }
		switch sp.Op {
		case OpSum, OpAvg:
			g.slot = next(&a.nScalar)
		case OpStddev, OpVar:
			g.slot = next(&a.nScalar)
			a.nVar++
		case OpMin, OpMax:
			g.slot, g.dq = next(&a.nScalar), next(&a.nMinMax)
		case OpFirst, OpLast:
			g.slot = next(&a.nVal)
		case OpCountDistinct:
			g.slot = next(&a.nDistinct)
		case OpPercentile:
			g.slot = next(&a.nPct)
		}
		a.prog[i] = g
		switch sp.Op.column() {
		case colNum:
			a.wNum = max(a.wNum, sp.Arg+1)
		case colKey:
			a.wKey = max(a.wKey, sp.Arg+1)
		case colVal:
			a.wVal = max(a.wVal, sp.Arg+1)
		}
	}
	return a, nil
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
