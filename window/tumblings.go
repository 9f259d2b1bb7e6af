package window

import (
	"fmt"
	"math"
	"unsafe"
)

// Tumblings holds the tumbling windows of many keys in columns, when every
// aggregate is count, sum or avg (Aggs.SumsOnly): a key's window is its
// start, its count and its running sums, kept in slices indexed by the
// key's number, with no object per key. A Tumbling per key costs an object
// of about 150 bytes (its Acc, its sums apart); here a key costs 16 bytes
// and 24 per sum or avg. It behaves as one Tumbling per key, for callers
// that give it times in order across all keys (the engine's (time,
// sequence) order): an Insert or Advance earlier than the latest time given
// for any key is refused (ErrEventTime) or ignored, where a Tumbling
// checks each key's own.
//
// Keys are numbered from 0 by the caller (the engine's key ids); Grow makes
// room for them. A key whose window is empty (Empty) holds nothing but its
// zeroed columns, and Reset empties one for reuse by another key.
type Tumblings[V any] struct {
	aggs  *Aggs[V]
	size  int64
	now   int64
	start []int64  // per key: start of the open window
	n     []int64  // per key: events in it; 0 when none is open
	sc    []addSum // per key: aggs.nScalar running sums
	view  Acc[V]   // the Acc a Result reads: a key's count and sums, copied in
}

// addSum is the running sum of a sum or avg of an add-only window: a
// scalar, less the counts of the non-finite values, of which a result
// that only grows needs to know whether each kind was seen (nonFinite.sumOf
// reads no more); the missing values are counted (avg divides by the
// others). 24 bytes where a scalar takes 32.
type addSum struct {
	a, b float64 // running sum and Neumaier compensation (scalar.compensated)
	miss uint32
	seen uint32 // sawNaN | sawPInf | sawNInf
}

const (
	sawNaN = 1 << iota
	sawPInf
	sawNInf
)

// addNonFinite adds x, not finite (finite values: neumaier).
func (s *addSum) addNonFinite(x float64) {
	switch {
	case x != x && missingNaN(x):
		s.miss++
	case x != x:
		s.seen |= sawNaN
	case x > 0:
		s.seen |= sawPInf
	default:
		s.seen |= sawNInf
	}
}

// scalar returns s as the scalar of a window that saw the same values:
// its counts of NaNs and infinities stand at 1 for each kind seen.
func (s addSum) scalar() scalar {
	return scalar{a: s.a, b: s.b, nf: nonFinite{
		nan: s.seen & sawNaN, pinf: s.seen & sawPInf >> 1, ninf: s.seen & sawNInf >> 2, miss: s.miss,
	}}
}

// NewTumblings returns tumbling windows of size > 0 nanoseconds for
// aggregates that are all count, sum or avg, with room for no key.
func NewTumblings[V any](aggs *Aggs[V], size int64) (*Tumblings[V], error) {
	if size <= 0 {
		return nil, fmt.Errorf("%w: tumbling size %d, want > 0", ErrParam, size)
	}
	if !aggs.sumsOnly {
		return nil, fmt.Errorf("%w: Tumblings keeps count, sum and avg only", ErrParam)
	}
	w := &Tumblings[V]{aggs: aggs, size: size, now: math.MinInt64}
	w.view.init(aggs, false)
	return w, nil
}

// SumsOnly reports whether every aggregate of a is count, sum or avg: the
// aggregates Tumblings keeps.
func (a *Aggs[V]) SumsOnly() bool { return a.sumsOnly }

// Grow makes room for keys 0 .. keys-1, their windows empty.
func (w *Tumblings[V]) Grow(keys int) {
	if keys <= len(w.n) {
		return
	}
	w.start = append(w.start, make([]int64, keys-len(w.start))...)
	w.n = append(w.n, make([]int64, keys-len(w.n))...)
	w.sc = append(w.sc, make([]addSum, keys*w.aggs.nScalar-len(w.sc))...)
}

func (w *Tumblings[V]) sums(k int) []addSum {
	ns := w.aggs.nScalar
	return w.sc[k*ns : k*ns+ns : k*ns+ns]
}

// Insert adds an event of key k at ts, first closing k's open window if ts
// is at or past its end (as Tumbling.Insert).
func (w *Tumblings[V]) Insert(k int, ts int64, row Row[V], sink Sink[V]) error {
	if !timeOK(ts, w.now, w.size) {
		return ErrEventTime
	}
	if !w.aggs.fits(&row) {
		return ErrRowShape
	}
	w.Advance(k, ts, sink)
	if w.n[k] == 0 {
		w.start[k] = ts - floorMod(ts, w.size)
	}
	w.n[k]++
	sc := w.sums(k)
	for _, g := range w.aggs.sums {
		if s, x := &sc[g.slot], row.Num[g.arg]; finite(x) {
			s.a, s.b = neumaier(s.a, s.b, x)
		} else {
			s.addNonFinite(x)
		}
	}
	return nil
}

// Add is Insert's common case, for callers that count every instruction:
// an event of key k at ts that falls in k's open window, which it neither
// opens nor closes, so that k's deadline (NextDeadline) stays as it was.
// Then it adds num (a Row's Num, of the shape Insert would check) and
// returns true. Otherwise (no open window, ts at or past its end, ts
// refused) it changes nothing and returns false: the caller calls Insert.
func (w *Tumblings[V]) Add(k int, ts int64, num []float64) bool {
	if w.n[k] == 0 || ts >= w.start[k]+w.size || !timeOK(ts, w.now, w.size) {
		return false
	}
	w.now = ts
	// Insert's loop, written out: as a shared function it is not inlined,
	// and its call costs W3 ~20 instructions an event (3%).
	w.n[k]++
	sc := w.sums(k)
	for _, g := range w.aggs.sums {
		if s, x := &sc[g.slot], num[g.arg]; finite(x) {
			s.a, s.b = neumaier(s.a, s.b, x)
		} else {
			s.addNonFinite(x)
		}
	}
	return true
}

// Advance closes key k's open window if its end is <= wm.
func (w *Tumblings[V]) Advance(k int, wm int64, sink Sink[V]) {
	w.now = max(w.now, wm)
	if w.n[k] == 0 {
		return
	}
	if end := w.start[k] + w.size; end <= wm {
		if sink != nil {
			w.view.n = w.n[k]
			for i, s := range w.sums(k) {
				w.view.sc[i] = s.scalar()
			}
			sink.Emit(Result[V]{Start: w.start[k], End: end, Time: end, Changed: true, acc: &w.view})
		}
		w.Reset(k)
	}
}

// NextDeadline returns the end of key k's open window.
func (w *Tumblings[V]) NextDeadline(k int) (int64, bool) {
	if w.n[k] == 0 {
		return 0, false
	}
	return w.start[k] + w.size, true
}

// Empty reports whether key k has no open window.
func (w *Tumblings[V]) Empty(k int) bool { return w.n[k] == 0 }

// Reset drops key k's open window.
func (w *Tumblings[V]) Reset(k int) {
	w.n[k] = 0
	clear(w.sums(k))
}

// SizeBytes estimates the heap bytes the windows hold, struct included.
func (w *Tumblings[V]) SizeBytes() int {
	return int(unsafe.Sizeof(*w)) + 8*cap(w.start) + 8*cap(w.n) + int(unsafe.Sizeof(addSum{}))*cap(w.sc) + w.view.sizeBytes()
}
