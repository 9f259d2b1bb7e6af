package window

import "math"

// Acc is the incremental state of every aggregate of an Aggs over one
// window. Used directly it is a running (unbounded, add-only) aggregate,
// e.g. for a group-by without a window; the window types embed it, and the
// sliding ones also remove from it.
//
// Layout, chosen for memory per key: the numeric aggregates share one slice
// of 32-byte scalar states; first/last values of add-only windows sit in
// one slice of V; deques, distinct sets, percentiles and min/max over Val
// hang off one pointer that stays nil unless the aggregates need them.
type Acc[V any] struct {
	aggs    *Aggs[V]
	n       int64
	removed int64 // sliding: removals since the variances were last recomputed
	sc      []scalar
	fv      []V
	hv      *heavy[V]
}

type heavy[V any] struct {
	dq  []MonoDeque[float64] // sliding min/max
	ds  []Distinct
	pc  []Percentile
	vdq []valDeque[V]   // sliding min/max over Val
	vx  []valExtreme[V] // add-only min/max over Val
}

// NewAcc returns an empty running aggregate.
func NewAcc[V any](aggs *Aggs[V]) *Acc[V] {
	a := new(Acc[V])
	a.init(aggs, false)
	return a
}

// init sizes the state; sliding selects the removable layout (deques for
// min/max, duplicate counts in Distinct, first/last read from the events).
func (a *Acc[V]) init(aggs *Aggs[V], sliding bool) {
	a.aggs, a.n = aggs, 0
	if aggs.nScalar > 0 {
		a.sc = make([]scalar, aggs.nScalar)
	}
	if !sliding && aggs.nVal > 0 {
		a.fv = make([]V, aggs.nVal)
	}
	needDeques := sliding && aggs.nMinMax > 0
	if aggs.nDistinct == 0 && aggs.nPct == 0 && aggs.nValMM == 0 && !needDeques {
		return
	}
	h := &heavy[V]{}
	if needDeques {
		h.dq = make([]MonoDeque[float64], aggs.nMinMax)
		for _, g := range aggs.prog {
			if g.op == OpMin || g.op == OpMax {
				h.dq[g.dq] = NewMonoDeque[float64](g.op == OpMax)
			}
		}
	}
	if aggs.nDistinct > 0 {
		h.ds = make([]Distinct, aggs.nDistinct)
		for i := range h.ds {
			h.ds[i].addOnly = !sliding
		}
	}
	if aggs.nPct > 0 {
		h.pc = make([]Percentile, aggs.nPct)
	}
	if aggs.nValMM > 0 {
		if sliding {
			h.vdq = make([]valDeque[V], aggs.nValMM)
			for _, g := range aggs.prog {
				if g.op == opMaxVal {
					h.vdq[g.dq].max = true
				}
			}
		} else {
			h.vx = make([]valExtreme[V], aggs.nValMM)
		}
	}
	a.hv = h
}

// Aggs returns the aggregates a computes.
func (a *Acc[V]) Aggs() *Aggs[V] { return a.aggs }

// Add adds one event's row.
func (a *Acc[V]) Add(row Row[V]) error {
	if !a.aggs.fits(&row) {
		return ErrRowShape
	}
	a.add(&row)
	return nil
}

// Count returns the number of events added.
func (a *Acc[V]) Count() int64 { return a.n }

// Float returns the value of numeric aggregate i; ok is false when it has
// none (see the package documentation) and for first and last.
func (a *Acc[V]) Float(i int) (float64, bool) { return a.float(i, nil) }

// Value returns the value of first or last aggregate i, or of min or max
// over Val; ok is false when there is none (an empty window; for min and
// max, no value that is not missing) and for the other aggregates.
func (a *Acc[V]) Value(i int) (V, bool) { return a.value(i, nil) }

// Reset empties a, keeping its buffers.
func (a *Acc[V]) Reset() {
	a.n, a.removed = 0, 0
	clear(a.sc)
	clear(a.fv)
	if h := a.hv; h != nil {
		for i := range h.dq {
			h.dq[i].Reset()
		}
		for i := range h.ds {
			h.ds[i].Reset()
		}
		for i := range h.pc {
			h.pc[i].Reset()
		}
		for i := range h.vdq {
			h.vdq[i].reset()
		}
		clear(h.vx)
	}
}

// add adds a row in the add-only layout.
func (a *Acc[V]) add(r *Row[V]) {
	a.n++
	if a.aggs.sumsOnly {
		for _, g := range a.aggs.sums {
			if s, x := &a.sc[g.slot], r.Num[g.arg]; finite(x) {
				s.compensated(x)
			} else {
				s.nf.add(x)
			}
		}
		return
	}
	first := a.n == 1
	prog := a.aggs.prog
	for k := range prog {
		g := &prog[k] // by pointer: copying the struct stalls store forwarding
		switch g.op {
		case OpSum, OpAvg: // sumAdd, written out so that it inlines
			if s, x := &a.sc[g.slot], r.Num[g.arg]; finite(x) {
				s.compensated(x)
			} else {
				s.nf.add(x)
			}
		case OpVar, OpStddev:
			a.sc[g.slot].welAdd(r.Num[g.arg], a.n)
		case OpMin:
			s, x := &a.sc[g.slot], r.Num[g.arg]
			switch {
			case x != x && missingNaN(x):
				s.nf.miss++
			case s.present(a.n) == 1:
				s.a = x
			default:
				s.a = min(s.a, x) // the builtin: NaN wins, as in the reference
			}
		case OpMax:
			s, x := &a.sc[g.slot], r.Num[g.arg]
			switch {
			case x != x && missingNaN(x):
				s.nf.miss++
			case s.present(a.n) == 1:
				s.a = x
			default:
				s.a = max(s.a, x)
			}
		case OpFirst:
			if first {
				a.fv[g.slot] = r.Val[g.arg]
			}
		case OpLast:
			a.fv[g.slot] = r.Val[g.arg]
		case OpCountDistinct:
			if g.skip < 0 || !IsMissing(r.Num[g.skip]) {
				a.hv.ds[g.slot].Add(r.Key[g.arg])
			}
		case OpPercentile:
			a.hv.pc[g.slot].Add(r.Num[g.arg])
		case opMinVal, opMaxVal:
			a.hv.vx[g.slot].add(a.aggs, r.Val[g.arg], g.op == opMaxVal)
		}
	}
}

// addSliding adds, in the removable layout, the newest event of ev (already
// pushed), reading its columns from the ring.
func (a *Acc[V]) addSliding(ev *eventRing[V]) {
	a.n++
	j := ev.n - 1
	i := ev.slot(j)
	num := ev.num[i*a.aggs.wNum : (i+1)*a.aggs.wNum]
	if a.aggs.sumsOnly {
		for _, g := range a.aggs.sums {
			if s, x := &a.sc[g.slot], num[g.arg]; finite(x) {
				s.compensated(x)
			} else {
				s.nf.add(x)
			}
		}
		return
	}
	prog := a.aggs.prog
	for k := range prog {
		g := &prog[k]
		switch g.op {
		case OpSum, OpAvg: // sumAdd, written out so that it inlines
			if s, x := &a.sc[g.slot], num[g.arg]; finite(x) {
				s.compensated(x)
			} else {
				s.nf.add(x)
			}
		case OpVar, OpStddev:
			a.sc[g.slot].welAdd(num[g.arg], a.n)
		case OpMin, OpMax:
			if x := num[g.arg]; x != x {
				a.sc[g.slot].nf.add(x) // a NaN, or missing
			} else {
				a.hv.dq[g.dq].Push(x, ev.seq0+uint64(j))
			}
		case OpCountDistinct:
			if g.skip < 0 || !IsMissing(num[g.skip]) {
				a.hv.ds[g.slot].Add(ev.key[i*a.aggs.wKey+int(g.arg)])
			}
		case OpPercentile:
			a.hv.pc[g.slot].Add(num[g.arg])
		case opMinVal, opMaxVal:
			v := ev.val[i*a.aggs.wVal+int(g.arg)]
			if a.aggs.missing == nil || !a.aggs.missing(v) {
				a.hv.vdq[g.dq].push(v, ev.seq0+uint64(j), a.aggs.less)
			}
		}
	}
}

// removeOldest removes the oldest event of ev from the state (the caller
// then pops it from the ring).
func (a *Acc[V]) removeOldest(ev *eventRing[V]) {
	a.n--
	i := ev.head
	num := ev.num[i*a.aggs.wNum : (i+1)*a.aggs.wNum]
	if a.aggs.sumsOnly {
		for _, g := range a.aggs.sums {
			s, x := &a.sc[g.slot], num[g.arg]
			switch {
			case !finite(x):
				s.nf.remove(x)
			case a.n <= s.nf.total():
				s.a, s.b = 0, 0 // as below
			default:
				s.compensated(-x)
			}
		}
		return
	}
	prog := a.aggs.prog
	for k := range prog {
		g := &prog[k]
		switch g.op {
		case OpSum, OpAvg: // the inverse of sumAdd, written out to inline
			s, x := &a.sc[g.slot], num[g.arg]
			switch {
			case !finite(x):
				s.nf.remove(x)
			case a.n <= s.nf.total():
				// No finite value left: restart from an exact zero rather
				// than a rounding residue.
				s.a, s.b = 0, 0
			default:
				s.compensated(-x)
			}
		case OpVar, OpStddev:
			if a.sc[g.slot].welRemove(num[g.arg], a.n) {
				a.removed = math.MaxInt32 // recompute in afterRemove
			}
		case OpMin, OpMax:
			if x := num[g.arg]; x != x {
				a.sc[g.slot].nf.remove(x)
			}
			a.hv.dq[g.dq].Expire(ev.seq0 + 1)
		case OpCountDistinct:
			if g.skip < 0 || !IsMissing(num[g.skip]) {
				a.hv.ds[g.slot].Remove(ev.key[i*a.aggs.wKey+int(g.arg)])
			}
		case OpPercentile:
			a.hv.pc[g.slot].Remove(num[g.arg])
		case opMinVal, opMaxVal:
			a.hv.vdq[g.dq].expire(ev.seq0 + 1)
		}
	}
}

// afterRemove runs after removals from a sliding window, with ev holding
// the events left. It recomputes the variances from the values once there
// have been more removals than values left, which bounds the rounding drift
// of Welford's inverse recurrence to that of about 2n operations at an
// amortized O(1) cost, or at once when a removal cancelled (see welRemove).
// (Compensated sums need no such care: their error stays within a few ulps
// of the largest value however long they slide; TestAgg_SumAccuracy.) It
// also returns small sketched percentiles to exact mode.
func (a *Acc[V]) afterRemove(ev *eventRing[V], removed int) {
	if a.aggs.nVar > 0 {
		a.removed += int64(removed)
		if a.removed > a.n {
			a.recomputeVariances(ev)
		}
	}
	if a.aggs.nPct > 0 {
		a.rebuildPercentiles(ev)
	}
}

// recomputeVariances recomputes mean and M2 with two passes over the values
// held, the mean from a compensated sum.
func (a *Acc[V]) recomputeVariances(ev *eventRing[V]) {
	a.removed = 0
	w := a.aggs.wNum
	prog := a.aggs.prog
	for k := range prog {
		g := &prog[k]
		if g.op != OpVar && g.op != OpStddev {
			continue
		}
		var s scalar
		for j := 0; j < ev.n; j++ {
			s.sumAdd(ev.num[ev.slot(j)*w+int(g.arg)])
		}
		if k := a.n - s.nf.total(); k > 0 {
			mean := (s.a + s.b) / float64(k)
			var m2 float64
			for j := 0; j < ev.n; j++ {
				if x := ev.num[ev.slot(j)*w+int(g.arg)]; finite(x) {
					m2 += (x - mean) * (x - mean)
				}
			}
			s.a, s.b = mean, m2
		} else {
			s.a, s.b = 0, 0
		}
		a.sc[g.slot] = s
	}
}

// rebuildPercentiles returns sketched percentiles that have become small to
// exact mode, from the values still in the window.
func (a *Acc[V]) rebuildPercentiles(ev *eventRing[V]) {
	prog := a.aggs.prog
	for k := range prog {
		g := &prog[k]
		if g.op != OpPercentile || !a.hv.pc[g.slot].needsRebuild() {
			continue
		}
		p := &a.hv.pc[g.slot]
		p.Reset()
		for j := 0; j < ev.n; j++ {
			p.Add(ev.num[ev.slot(j)*a.aggs.wNum+int(g.arg)])
		}
	}
}

// float computes numeric aggregate i; ev is the event ring of a sliding
// window, nil for the add-only layout.
func (a *Acc[V]) float(i int, ev *eventRing[V]) (float64, bool) {
	g := &a.aggs.prog[i]
	if a.aggs.sumsOnly { // count, sum or avg: the commonest, first
		if g.op == OpCount {
			return float64(a.n), true
		}
		s := &a.sc[g.slot]
		k := s.present(a.n)
		if k <= 0 {
			return 0, false
		}
		f := s.a + s.b // s.sum(), the common case inline
		if s.nf.special() {
			f = s.sum()
		}
		if g.op == OpAvg {
			return f / float64(k), true
		}
		return f, true
	}
	switch g.op {
	case OpCount:
		return float64(a.n), true
	case OpCountDistinct:
		return float64(a.hv.ds[g.slot].Len()), true
	}
	if a.n == 0 {
		return 0, false
	}
	switch g.op {
	case OpSum, OpAvg:
		s := &a.sc[g.slot]
		k := s.present(a.n)
		if k == 0 {
			return 0, false
		}
		if g.op == OpAvg {
			return s.sum() / float64(k), true
		}
		return s.sum(), true
	case OpVar:
		return a.sc[g.slot].variance(a.n)
	case OpStddev:
		v, ok := a.sc[g.slot].variance(a.n)
		return math.Sqrt(v), ok
	case OpMin, OpMax:
		s := &a.sc[g.slot]
		if s.present(a.n) == 0 {
			return 0, false
		}
		if ev == nil {
			return s.a, true
		}
		if s.nf.nan > 0 {
			return math.NaN(), true
		}
		return a.hv.dq[g.dq].Front()
	case OpPercentile:
		return a.hv.pc[g.slot].Quantile(g.q)
	}
	return 0, false
}

// value returns first/last aggregate i, or min/max over Val.
func (a *Acc[V]) value(i int, ev *eventRing[V]) (v V, ok bool) {
	g := &a.aggs.prog[i]
	if g.op == opMinVal || g.op == opMaxVal {
		if ev == nil {
			x := &a.hv.vx[g.slot]
			return x.v, x.has
		}
		return a.hv.vdq[g.dq].front()
	}
	if a.n == 0 || (g.op != OpFirst && g.op != OpLast) {
		return v, false
	}
	if ev == nil {
		return a.fv[g.slot], true
	}
	j := 0
	if g.op == OpLast {
		j = ev.n - 1
	}
	return ev.val[ev.slot(j)*a.aggs.wVal+int(g.arg)], true
}

func (a *Acc[V]) sizeBytes() int {
	b := 32*cap(a.sc) + vSize[V]()*cap(a.fv)
	if h := a.hv; h != nil {
		b += 72
		for i := range h.dq {
			b += 40 + 16*cap(h.dq[i].buf)
		}
		for i := range h.ds {
			b += 100 + h.ds[i].sizeBytes()
		}
		for i := range h.pc {
			b += 64 + h.pc[i].sizeBytes()
		}
		vs := vSize[V]()
		for i := range h.vdq {
			b += 40 + (vs+8)*cap(h.vdq[i].buf)
		}
		b += (vs + 8) * cap(h.vx)
	}
	return b
}
