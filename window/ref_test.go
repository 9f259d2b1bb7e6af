package window

// The reference model: every window kind and aggregate recomputed from
// scratch, at every operation, from the whole list of events so far. It is
// slow and obviously correct; the property tests compare the incremental
// structures with it.

import (
	"fmt"
	"math"
	"math/big"
	"math/rand/v2"
	"slices"
	"sort"
)

// op is one step of a test stream: Insert(ts, row) or Advance(ts).
type op struct {
	insert bool
	ts     int64
	num    []float64
	key    []uint64
	val    []int
}

func (o op) row() Row[int] { return Row[int]{Num: o.num, Key: o.key, Val: o.val} }

// emission is a recorded Result, copied out during Emit.
type emission struct {
	op               int // index of the operation that emitted it
	start, end, time int64
	changed          bool
	count            int64
	num              []float64
	ok               []bool
	val              []int
	vok              []bool
}

// recorder is the Sink of the tests.
type recorder struct {
	op  int
	out []emission
}

func (r *recorder) Emit(res Result[int]) {
	aggs := res.acc.aggs
	e := emission{op: r.op, start: res.Start, end: res.End, time: res.Time,
		changed: res.Changed, count: res.Count()}
	for i := range aggs.Len() {
		f, ok := res.Float(i)
		v, vok := res.Value(i)
		e.num, e.ok = append(e.num, f), append(e.ok, ok)
		e.val, e.vok = append(e.val, v), append(e.vok, vok)
	}
	// Sums, where it answers, gives what Float gives, bit for bit (the
	// engine reads sums-only results through it).
	if n, num, ok, sums := res.Sums(make([]float64, aggs.Len())); sums {
		for i := range aggs.Len() {
			if n != e.count || ok&(1<<i) != 0 != e.ok[i] || math.Float64bits(num[i]) != math.Float64bits(e.num[i]) && e.ok[i] {
				panic(fmt.Sprintf("Result.Sums: count %d, aggregate %d = %v (ok %v); Count and Float give %d, %v (ok %v)",
					n, i, num[i], ok&(1<<i) != 0, e.count, e.num[i], e.ok[i]))
			}
		}
	}
	r.out = append(r.out, e)
}

// drive runs ops through w and returns the emissions and, after each
// operation, NextDeadline (math.MinInt64 for none).
func drive(w Window[int], ops []op) ([]emission, []int64, error) {
	rec := &recorder{}
	deadlines := make([]int64, len(ops))
	for i, o := range ops {
		rec.op = i
		if o.insert {
			if err := w.Insert(o.ts, o.row(), rec); err != nil {
				return nil, nil, err
			}
		} else {
			w.Advance(o.ts, rec)
		}
		deadlines[i] = math.MinInt64
		if d, ok := w.NextDeadline(); ok {
			deadlines[i] = d
		}
	}
	return rec.out, deadlines, nil
}

// refEvent is an inserted event, numbered in arrival order.
type refEvent struct {
	id int
	op
}

// refResult computes every aggregate of specs over evs from scratch.
func refResult(specs []AggSpec, evs []refEvent) emission {
	e := emission{count: int64(len(evs))}
	n := len(evs)
	for _, sp := range specs {
		var f float64
		var v int
		xs := make([]float64, 0, n) // the values, missing ones left out
		for _, ev := range evs {
			if sp.Op.column() == colNum && !sp.Val && !IsMissing(ev.num[sp.Arg]) {
				xs = append(xs, ev.num[sp.Arg])
			}
		}
		ok, vok := len(xs) > 0, false
		switch {
		case sp.Val:
			ok = false
			for _, ev := range evs {
				x := ev.val[sp.Arg]
				if intMissing(x) {
					continue
				}
				if !vok || (sp.Op == OpMin && x < v) || (sp.Op == OpMax && x > v) {
					v, vok = x, true
				}
			}
		case sp.Op == OpCount:
			f, ok = float64(n), true
		case sp.Op == OpSum:
			if ok {
				f = refSum(xs)
			}
		case sp.Op == OpAvg:
			if ok {
				f = refSum(xs) / float64(len(xs))
			}
		case sp.Op == OpMin || sp.Op == OpMax:
			if ok {
				f = xs[0]
				for _, x := range xs[1:] {
					if sp.Op == OpMin {
						f = min(f, x)
					} else {
						f = max(f, x)
					}
				}
			}
		case sp.Op == OpFirst || sp.Op == OpLast:
			ok = false
			if n > 0 {
				vok = true
				if sp.Op == OpFirst {
					v = evs[0].val[sp.Arg]
				} else {
					v = evs[n-1].val[sp.Arg]
				}
			}
		case sp.Op == OpVar || sp.Op == OpStddev:
			ok = len(xs) >= 2
			if ok {
				f = refVar(xs)
				if sp.Op == OpStddev {
					f = math.Sqrt(f)
				}
			}
		case sp.Op == OpCountDistinct:
			set := map[uint64]bool{}
			for _, ev := range evs {
				if sp.Skip == 0 || !IsMissing(ev.num[sp.Skip-1]) {
					set[ev.key[sp.Arg]] = true
				}
			}
			f, ok = float64(len(set)), true
		case sp.Op == OpPercentile:
			if ok {
				f = refPercentile(xs, sp.Q)
			}
		}
		if !ok {
			f = 0
		}
		e.num, e.ok, e.val, e.vok = append(e.num, f), append(e.ok, ok), append(e.val, v), append(e.vok, vok)
	}
	return e
}

// refSum is the exactly rounded sum of the finite values, with IEEE rules
// for the others.
func refSum(xs []float64) float64 {
	var nan, pinf, ninf bool
	s := new(big.Float).SetPrec(2300)
	for _, x := range xs {
		switch {
		case math.IsNaN(x):
			nan = true
		case math.IsInf(x, 1):
			pinf = true
		case math.IsInf(x, -1):
			ninf = true
		default:
			s.Add(s, new(big.Float).SetFloat64(x))
		}
	}
	switch {
	case nan || (pinf && ninf):
		return math.NaN()
	case pinf:
		return math.Inf(1)
	case ninf:
		return math.Inf(-1)
	}
	f, _ := s.Float64()
	return f
}

// refVar is the two-pass sample variance.
func refVar(xs []float64) float64 {
	for _, x := range xs {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return math.NaN()
		}
	}
	mean := refSum(xs) / float64(len(xs))
	var m2 float64
	for _, x := range xs {
		m2 += (x - mean) * (x - mean)
	}
	return m2 / float64(len(xs)-1)
}

// refPercentile is the nearest-rank percentile: the smallest k >= q*n, at
// least 1, by counting rather than by formula.
func refPercentile(xs []float64, q float64) float64 {
	s := slices.Clone(xs)
	for _, x := range s {
		if math.IsNaN(x) {
			return math.NaN()
		}
	}
	sort.Float64s(s)
	k := 1
	for float64(k) < q*float64(len(s)) {
		k++
	}
	return s[min(k, len(s))-1]
}

// window semantics, from scratch.

// refTimeWindows simulates windows given by a membership function: member
// returns the ids (window starts) an event at ts belongs to, with their
// end. Windows close, in order of end then start, at the first operation
// whose time reaches their end.
func refTimeWindows(specs []AggSpec, ops []op, member func(ts int64) [][2]int64) ([]emission, []int64) {
	type win struct {
		start, end int64
		evs        []refEvent
	}
	open := map[int64]*win{} // by start; closed windows leave the map
	var out []emission
	deadlines := make([]int64, len(ops))
	now := int64(math.MinInt64)
	id := 0
	for i, o := range ops {
		now = max(now, o.ts)
		var closing []*win
		for _, w := range open {
			if w.end <= now {
				closing = append(closing, w)
			}
		}
		sort.Slice(closing, func(a, b int) bool {
			if closing[a].end != closing[b].end {
				return closing[a].end < closing[b].end
			}
			return closing[a].start < closing[b].start
		})
		for _, w := range closing {
			e := refResult(specs, w.evs)
			e.op, e.start, e.end, e.time, e.changed = i, w.start, w.end, w.end, true
			out = append(out, e)
			delete(open, w.start)
		}
		if o.insert {
			for _, se := range member(o.ts) {
				w := open[se[0]]
				if w == nil {
					w = &win{start: se[0], end: se[1]}
					open[se[0]] = w
				}
				w.evs = append(w.evs, refEvent{id, o})
			}
			id++
		}
		deadlines[i] = math.MinInt64
		for _, w := range open {
			if deadlines[i] == math.MinInt64 || w.end < deadlines[i] {
				deadlines[i] = w.end
			}
		}
	}
	return out, deadlines
}

func refTumbling(specs []AggSpec, ops []op, size int64) ([]emission, []int64) {
	return refTimeWindows(specs, ops, func(ts int64) [][2]int64 {
		// The window whose start is the largest multiple of size <= ts.
		start := ts / size * size
		for start > ts {
			start -= size
		}
		for start+size <= ts {
			start += size
		}
		return [][2]int64{{start, start + size}}
	})
}

func refHopping(specs []AggSpec, ops []op, size, step int64) ([]emission, []int64) {
	return refTimeWindows(specs, ops, func(ts int64) [][2]int64 {
		var out [][2]int64
		k := ts / step
		for k*step > ts {
			k--
		}
		for k*step+step <= ts {
			k++
		}
		for ; k*step+size > ts; k-- {
			out = append(out, [2]int64{k * step, k*step + size})
		}
		slices.Reverse(out)
		return out
	})
}

func refSession(specs []AggSpec, ops []op, gap int64) ([]emission, []int64) {
	var out []emission
	deadlines := make([]int64, len(ops))
	now := int64(math.MinInt64)
	var cur []refEvent
	id := 0
	for i, o := range ops {
		now = max(now, o.ts)
		if len(cur) > 0 && cur[len(cur)-1].ts+gap <= now {
			e := refResult(specs, cur)
			e.op, e.start, e.end, e.changed = i, cur[0].ts, cur[len(cur)-1].ts+gap, true
			e.time = e.end
			out = append(out, e)
			cur = nil
		}
		if o.insert {
			cur = append(cur, refEvent{id, o})
			id++
		}
		deadlines[i] = math.MinInt64
		if len(cur) > 0 {
			deadlines[i] = cur[len(cur)-1].ts + gap
		}
	}
	return out, deadlines
}

func refCountTumbling(specs []AggSpec, ops []op, n int) ([]emission, []int64) {
	var out []emission
	deadlines := make([]int64, len(ops))
	var all []refEvent
	for i, o := range ops {
		deadlines[i] = math.MinInt64
		if !o.insert {
			continue
		}
		all = append(all, refEvent{len(all), o})
		if len(all)%n == 0 {
			w := all[len(all)-n:]
			e := refResult(specs, w)
			e.op, e.start, e.end, e.time, e.changed = i, w[0].ts, o.ts, o.ts, true
			out = append(out, e)
		}
	}
	return out, deadlines
}

// refCountSliding and refSliding emit after every arrival (and expiry
// instant), with Changed computed by refChanged against the previous
// emission.
func refCountSliding(specs []AggSpec, ops []op, n int) ([]emission, []int64) {
	var out []emission
	deadlines := make([]int64, len(ops))
	var all []refEvent
	var prev *emission
	for i, o := range ops {
		deadlines[i] = math.MinInt64
		if !o.insert {
			continue
		}
		all = append(all, refEvent{len(all), o})
		w := all[max(0, len(all)-n):]
		e := refResult(specs, w)
		e.op, e.start, e.end, e.time = i, w[0].ts, o.ts, o.ts
		e.changed = refChanged(specs, prev, &e)
		out = append(out, e)
		prev = &out[len(out)-1]
	}
	return out, deadlines
}

func refSliding(specs []AggSpec, ops []op, d int64) ([]emission, []int64) {
	var out []emission
	deadlines := make([]int64, len(ops))
	var all []refEvent
	var prev *emission
	now := int64(math.MinInt64)
	in := func(t int64) []refEvent { // the window at time t: t-d < ts <= t
		var w []refEvent
		for _, ev := range all {
			if ev.ts > t-d && ev.ts <= t {
				w = append(w, ev)
			}
		}
		return w
	}
	emit := func(i int, t int64) {
		w := in(t)
		e := refResult(specs, w)
		e.op, e.start, e.end, e.time = i, t-d, t, t
		e.changed = refChanged(specs, prev, &e)
		out = append(out, e)
		prev = &out[len(out)-1]
	}
	for i, o := range ops {
		if o.ts > now {
			// Expiry instants in [now, o.ts), in order: those at o.ts itself
			// wait for a possible arrival at o.ts.
			var inst []int64
			for _, ev := range all {
				if x := ev.ts + d; x >= now && x < o.ts {
					inst = append(inst, x)
				}
			}
			slices.Sort(inst)
			for _, x := range slices.Compact(inst) {
				emit(i, x)
			}
			now = o.ts
		}
		if o.insert {
			all = append(all, refEvent{len(all), o})
			emit(i, o.ts)
			now = o.ts + 1 // the instant o.ts is emitted
		}
		deadlines[i] = math.MinInt64
		if w := in(now - 1); len(w) > 0 {
			deadlines[i] = w[0].ts + d + 1
		}
	}
	return out, deadlines
}

// refChanged reports whether e differs from prev. First/last compare by
// value (the tests give Aggs an equal function); numeric aggregates compare
// exactly except var and stddev, which compare within tolerance because the
// incremental and the two-pass computations round differently.
func refChanged(specs []AggSpec, prev, e *emission) bool {
	if prev == nil {
		return true
	}
	for i, sp := range specs {
		if prev.ok[i] != e.ok[i] || prev.vok[i] != e.vok[i] {
			return true
		}
		if e.vok[i] && prev.val[i] != e.val[i] {
			return true
		}
		if !e.ok[i] {
			continue
		}
		a, b := prev.num[i], e.num[i]
		if inexact(sp.Op) {
			if !closeTo(a, b, 1e-9) {
				return true
			}
		} else if !sameFloat(a, b) {
			return true
		}
	}
	return false
}

func inexact(o Op) bool { return o == OpVar || o == OpStddev }

// closeTo compares with a relative tolerance (absolute near zero); NaN
// equals NaN and infinities must match exactly.
func closeTo(a, b, tol float64) bool {
	if math.IsNaN(a) || math.IsNaN(b) {
		return math.IsNaN(a) && math.IsNaN(b)
	}
	if math.IsInf(a, 0) || math.IsInf(b, 0) {
		return a == b
	}
	return math.Abs(a-b) <= tol*max(1, math.Abs(a), math.Abs(b))
}

// streams.

// streamConfig shapes a random stream.
type streamConfig struct {
	events   int
	start    int64   // first event time
	grid     int64   // times are often multiples of grid (window boundaries)
	maxStep  int64   // largest gap between events
	advances float64 // probability of an Advance before an event
	special  bool    // mix NaN, infinities and -0 into column 0
	missing  float64 // probability of a missing value in each column
}

// genStream returns a random stream: events with three numeric columns (the
// third, 0 or Missing, is count_distinct's Skip column), one key column and
// one value column (-1 is missing for min and max over it), Advances in
// between, and a final Advance to the end of time.
func genStream(rng *rand.Rand, c streamConfig) []op {
	var ops []op
	t := c.start
	for i := range c.events {
		if i > 0 {
			switch r := rng.IntN(10); {
			case r < 3: // same instant
			case r < 6:
				t += rng.Int64N(c.maxStep) + 1
			case r < 8: // land exactly on the next grid point
				t += c.grid - floorMod(t, c.grid)
			default: // one grid cell exactly, keeps phase
				t += c.grid
			}
		}
		if rng.Float64() < c.advances {
			// A watermark at or below the next event: somewhere between the
			// window's time and t, often exactly t.
			wm := t
			if rng.IntN(2) == 0 && len(ops) > 0 {
				last := ops[len(ops)-1].ts
				wm = last + rng.Int64N(t-last+1)
			}
			ops = append(ops, op{ts: wm})
		}
		x0 := float64(rng.IntN(41) - 20)
		if c.special {
			switch rng.IntN(12) {
			case 0:
				x0 = math.NaN()
			case 1:
				x0 = math.Inf(1)
			case 2:
				x0 = math.Inf(-1)
			case 3:
				x0 = math.Copysign(0, -1)
			}
		}
		x1 := float64(rng.IntN(1000)) / 8
		if c.special && rng.IntN(40) == 0 {
			x1 = [...]float64{math.NaN(), math.Inf(1), math.Inf(-1)}[rng.IntN(3)]
		}
		x2, val := 0.0, rng.IntN(5)
		if rng.Float64() < c.missing {
			x0 = Missing
		}
		if rng.Float64() < c.missing {
			x1 = Missing
		}
		if rng.Float64() < c.missing {
			x2 = Missing
		}
		if rng.Float64() < c.missing {
			val = -1
		}
		ops = append(ops, op{insert: true, ts: t,
			num: []float64{x0, x1, x2},
			key: []uint64{uint64(rng.IntN(30))},
			val: []int{val},
		})
	}
	return append(ops, op{ts: math.MaxInt64})
}

// allSpecs uses every aggregate, on both numeric columns.
var allSpecs = []AggSpec{
	{Op: OpCount},
	{Op: OpSum, Arg: 0},
	{Op: OpAvg, Arg: 1},
	{Op: OpMin, Arg: 0},
	{Op: OpMax, Arg: 0},
	{Op: OpMin, Arg: 1},
	{Op: OpMax, Arg: 1},
	{Op: OpFirst, Arg: 0},
	{Op: OpLast, Arg: 0},
	{Op: OpStddev, Arg: 1},
	{Op: OpVar, Arg: 1},
	{Op: OpCountDistinct, Arg: 0},
	{Op: OpPercentile, Arg: 0, Q: 0.5},
	{Op: OpPercentile, Arg: 1, Q: 0.9},
	{Op: OpPercentile, Arg: 1, Q: 0},
	{Op: OpPercentile, Arg: 0, Q: 1},
	{Op: OpAvg, Arg: 0},
	{Op: OpSum, Arg: 1},
	{Op: OpMin, Arg: 0, Val: true},
	{Op: OpMax, Arg: 0, Val: true},
	{Op: OpCountDistinct, Arg: 0, Skip: 3},
}

func intEqual(a, b int) bool { return a == b }
func intLess(a, b int) bool  { return a < b }
func intMissing(v int) bool  { return v < 0 }

// testAggs compiles specs with the test's functions over int values.
func testAggs(specs []AggSpec, equal func(a, b int) bool) (*Aggs[int], error) {
	return NewAggsFuncs(specs, ValFuncs[int]{Equal: equal, Less: intLess, Missing: intMissing})
}
