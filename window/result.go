package window

import (
	"math"
	"unsafe"
)

// Sink receives the results of a window. The engine implements it once per
// operator (a pointer type converts to the interface without allocating).
type Sink[V any] interface {
	Emit(r Result[V])
}

// SinkFunc adapts a function to Sink.
type SinkFunc[V any] func(r Result[V])

// Emit calls f(r).
func (f SinkFunc[V]) Emit(r Result[V]) { f(r) }

// Result is one emitted window result. It reads the window's live state, so
// it is valid only during the Emit call that receives it.
type Result[V any] struct {
	// Start and End bound the window; see the table in the package
	// documentation for each kind (half-open [Start, End) for time
	// windows, (Start, End] for Sliding, event times for count windows).
	Start, End int64
	// Time is the event time of the result: the window's end, or for
	// sliding windows the time of the change.
	Time int64
	// Changed reports whether an aggregate differs from the previous
	// result of this window. Always true for windows that emit on close.
	Changed bool

	acc  *Acc[V]
	ev   *eventRing[V]
	snap *snapshot[V]
}

// Count returns the number of events in the window.
func (r Result[V]) Count() int64 { return r.acc.n }

// Float returns numeric aggregate i (see Acc.Float).
func (r Result[V]) Float(i int) (float64, bool) {
	if s := r.snap; s != nil { // small enough to inline: the engine's hot read
		return s.num[i], s.ok&(1<<i) != 0
	}
	return r.acc.float(i, r.ev)
}

// Sums returns, when every aggregate is count, sum or avg (Aggs.SumsOnly),
// the window's event count and all the results at once: num[i] and bit i
// of ok are what Float(i) returns. buf is room for the results when they
// must be computed (len at least the aggregates); num may be buf, or the
// window's own record of them. For callers that read every result of
// every emission, one call where Float is one per aggregate; with other
// aggregates, ok is false.
func (r Result[V]) Sums(buf []float64) (n int64, num []float64, ok uint64, sums bool) {
	a := r.acc
	switch {
	case !a.aggs.sumsOnly:
		return 0, nil, 0, false
	case r.snap != nil:
		return a.n, r.snap.num, r.snap.ok, true
	}
	ok, _ = sumResults(a.aggs.prog, a.n, a.sc, buf, 0, true)
	return a.n, buf, ok, true
}

// Value returns first/last aggregate i (see Acc.Value).
func (r Result[V]) Value(i int) (V, bool) { return r.acc.value(i, r.ev) }

// Window is what every window kind offers, for engines that prefer one
// code path to one per kind (an interface call per event).
type Window[V any] interface {
	// Insert adds an event at ts, after Advance(ts). It returns
	// ErrEventTime if ts is below the window's time, or if a window
	// containing ts would reach math.MinInt64 or math.MaxInt64 (times
	// within one window length of the int64 limits, years 1677 and 2262);
	// ErrRowShape if row is too narrow. The event is then ignored.
	Insert(ts int64, row Row[V], sink Sink[V]) error
	// Advance moves the window's time to wm, emitting the windows that
	// end at or before wm and the sliding expiry instants before wm. A wm
	// at or below the window's time does nothing.
	Advance(wm int64, sink Sink[V])
	// NextDeadline returns the smallest watermark at which Advance would
	// emit; ok is false when only an Insert can cause an emission.
	NextDeadline() (t int64, ok bool)
	// Empty reports whether the window holds no events, so that the engine
	// may recycle it (after Reset) for another key.
	Empty() bool
	// Reset returns the window to its initial state, keeping its buffers.
	Reset()
	// SizeBytes estimates the heap bytes the window holds, struct included.
	SizeBytes() int
}

// snapshot keeps the last emitted result of a sliding window, to compute
// Result.Changed and to serve Result.Float without recomputing.
type snapshot[V any] struct {
	num               []float64 // numeric result of each aggregate
	fv                []V       // first/last values, kept only with an equal function
	mv                []V       // min/max over Val
	ok                uint64    // bit i: numeric aggregate i has a value
	vok               uint64    // bit i: first/last aggregate i has a value
	firstSeq, lastSeq uint64    // identity of the oldest and newest event
	valid             bool      // false until the first emission
}

func (s *snapshot[V]) init(aggs *Aggs[V]) {
	s.num = make([]float64, len(aggs.specs))
	if aggs.equal != nil && aggs.nVal > 0 {
		s.fv = make([]V, aggs.nVal)
	}
	if aggs.nValMM > 0 {
		s.mv = make([]V, aggs.nValMM)
	}
}

func (s *snapshot[V]) reset() {
	clear(s.fv)
	clear(s.mv)
	s.ok, s.vok, s.valid = 0, 0, false
}

// update recomputes every aggregate and reports whether any differs from
// the previous snapshot.
func (s *snapshot[V]) update(a *Acc[V], ev *eventRing[V]) bool {
	aggs := a.aggs
	if aggs.sumsOnly {
		return s.updateSums(a, ev)
	}
	changed := !s.valid
	var ok, vok uint64
	firstSeq, lastSeq := ev.seq0, ev.seq0+uint64(ev.n)-1
	num := s.num[:len(aggs.prog)]
	for i := range aggs.prog {
		g, bit := &aggs.prog[i], uint64(1)<<i
		had := (s.ok|s.vok)&bit != 0
		var f float64
		has := true
		switch g.op {
		case OpCount: // the common ops inline, the others through float
			f = float64(a.n)
		case OpSum, OpAvg:
			sc := &a.sc[g.slot]
			k := sc.present(a.n)
			if k == 0 {
				has = false
				break
			}
			f = sc.sum()
			if g.op == OpAvg {
				f /= float64(k)
			}
		case OpMin, OpMax:
			switch sc := &a.sc[g.slot]; {
			case sc.present(a.n) == 0:
				has = false
			case sc.nf.nan > 0:
				f = math.NaN()
			default:
				d := &a.hv.dq[g.dq]
				f = d.buf[d.head].v
			}
		case opMinVal, opMaxVal:
			v, ok := a.value(i, ev)
			if !ok {
				changed = changed || had
				var zero V
				s.mv[g.slot] = zero
				continue
			}
			vok |= bit
			if !had || !aggs.valEqual(s.mv[g.slot], v) {
				changed = true
			}
			s.mv[g.slot] = v
			continue
		case OpFirst, OpLast:
			if ev.n == 0 {
				changed = changed || had
				if s.fv != nil {
					var zero V
					s.fv[g.slot] = zero
				}
				continue
			}
			vok |= bit
			seq, prev := firstSeq, s.firstSeq
			if g.op == OpLast {
				seq, prev = lastSeq, s.lastSeq
			}
			if !had || seq != prev {
				if s.fv == nil {
					changed = true
					continue
				}
				v, _ := a.value(i, ev)
				if !had || !aggs.equal(s.fv[g.slot], v) {
					changed = true
				}
				s.fv[g.slot] = v
			}
			continue
		default:
			f, has = a.float(i, ev)
		}
		if has {
			ok |= bit
			if !had || !sameFloat(num[i], f) {
				changed = true
			}
		} else if had {
			changed = true
		}
		num[i] = f
	}
	s.ok, s.vok, s.firstSeq, s.lastSeq, s.valid = ok, vok, firstSeq, lastSeq, true
	return changed
}

// updateSums is update for aggregates that are all count, sum or avg.
func (s *snapshot[V]) updateSums(a *Acc[V], ev *eventRing[V]) bool {
	ok, changed := sumResults(a.aggs.prog, a.n, a.sc, s.num[:len(a.aggs.prog)], s.ok, s.valid)
	s.ok, s.vok, s.valid = ok, 0, true
	s.firstSeq, s.lastSeq = ev.seq0, ev.seq0+uint64(ev.n)-1
	return changed
}

// sumResults computes into num the results of count, sum and avg
// aggregates prog over n events with running sums sc, and compares them
// with the results num held: prev has bit i set when result i had a value,
// valid when num holds results at all. It returns the new bits and whether
// any result differs (NaN equal to NaN).
func sumResults(prog []agg, n int64, sc []scalar, num []float64, prev uint64, valid bool) (ok uint64, changed bool) {
	changed = !valid
	num = num[:len(prog)]
	for i := range prog {
		g, bit := &prog[i], uint64(1)<<i
		f := float64(n)
		if g.op != OpCount {
			s := &sc[g.slot]
			k := s.present(n)
			if k == 0 {
				changed = changed || prev&bit != 0
				num[i] = 0
				continue
			}
			if f = s.a + s.b; s.nf.special() { // s.sum(), the common case inline
				f = s.sum()
			}
			if g.op == OpAvg {
				f /= float64(k)
			}
		}
		ok |= bit
		if prev&bit == 0 || !sameFloat(num[i], f) {
			changed = true
		}
		num[i] = f
	}
	return ok, changed
}

// sameFloat is numeric equality where NaN equals NaN.
func sameFloat(a, b float64) bool { return a == b || (a != a && b != b) }

func vSize[V any]() int {
	var v V
	return int(unsafe.Sizeof(v))
}
