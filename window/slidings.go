package window

import (
	"fmt"
	"math"
	"unsafe"

	"github.com/cepengine/cep/internal/prefetch"
)

// Slidings holds the time-based sliding windows of length d of many keys,
// when every aggregate is count, sum or avg (Aggs.SumsOnly): a key is a
// 48-byte record in a slice (its ring's head and length, its oldest
// event's time, and one buffer) whose buffer holds its running sums, its
// last emitted results (for Result.Changed) and a ring of its events (each
// its time and its Num columns), grown by doubling. A Sliding per key
// costs an object of about 300 bytes and five more allocations (sums,
// times, columns, snapshot, results); here one, and an event touches the
// record, the head of the buffer and one or two ring slots.
//
// It behaves as one Sliding per key for callers that give it times in
// order across all keys (the engine's (time, sequence) order): an Insert
// earlier than the latest time given for any key is refused
// (ErrEventTime), where a Sliding checks each key's own. Keys are numbered
// from 0 by the caller; Grow makes room for them, and Reset empties a
// key's window (keeping its buffer) for reuse by another key.
type Slidings[V any] struct {
	aggs  *Aggs[V]
	d     int64
	nSpec int // aggregates: a result word each
	entry int // words an event: its time, then its Num columns
	ring  int // offset of the ring in a buffer
	res   int // offset of the results in a buffer (the flags word follows them)
	prog  []agg
	now   int64
	recs  []slideRec
	view  Acc[V]      // the Acc a Result reads: a key's count, its sums in place
	snap  snapshot[V] // the snapshot a Result reads: a key's results in place
}

// slideRec is a key's window: buf holds, in 64-bit words, the running sums
// (scalarWords each), the results last emitted (one each, float64 bits),
// a word of flags (bit i: result i has a value; bit 63: a result was
// emitted), then the ring: cap entries of entry words, cap a power of two.
type slideRec struct {
	buf     []uint64
	head, n int32
	c       int32 // the ring's capacity in events (a division of len(buf) otherwise, on every event)
	// front is the time of the oldest event, when n > 0: a copy, so that
	// an event's check for what leaves, and the engine's for a key's
	// deadline, read the record alone, not the ring's oldest slot (a line
	// of its own, a cache miss an event at 10K keys and more).
	front int64
}

// validBit flags, in a key's flags word, that it emitted a result.
const validBit = uint64(1) << 63

// NewSlidings returns sliding windows of length d > 0 nanoseconds for
// aggregates that are all count, sum or avg, with room for no key.
func NewSlidings[V any](aggs *Aggs[V], d int64) (*Slidings[V], error) {
	if d <= 0 {
		return nil, fmt.Errorf("%w: sliding length %d, want > 0", ErrParam, d)
	}
	if !aggs.sumsOnly {
		return nil, fmt.Errorf("%w: Slidings keeps count, sum and avg only", ErrParam)
	}
	if len(aggs.specs) > 63 {
		return nil, fmt.Errorf("%w: Slidings keeps at most 63 aggregates", ErrParam)
	}
	nSpec := len(aggs.specs)
	w := &Slidings[V]{aggs: aggs, d: d, nSpec: nSpec, entry: 1 + aggs.wNum,
		ring: aggs.nScalar*scalarWords + nSpec + 1, now: math.MinInt64}
	w.res, w.prog = aggs.nScalar*scalarWords, aggs.prog
	w.view.init(aggs, false)
	return w, nil
}

// Grow makes room for keys 0 .. keys-1, their windows empty.
func (w *Slidings[V]) Grow(keys int) {
	if keys > len(w.recs) {
		w.recs = append(w.recs, make([]slideRec, keys-len(w.recs))...)
	}
}

// sums returns the running sums in buf, in place (see CountSlidings.sums).
func (w *Slidings[V]) sums(buf []uint64) []scalar {
	if w.aggs.nScalar == 0 {
		return nil
	}
	return unsafe.Slice((*scalar)(unsafe.Pointer(&buf[0])), w.aggs.nScalar)
}

// frontTs is the time of r's oldest event (r.n > 0).
func (w *Slidings[V]) frontTs(r *slideRec) int64 { return r.front }

// Insert adds an event of key k at ts (see Sliding.Insert): it emits k's
// expiry instants before ts, then expires what leaves at ts, adds the
// event, and emits once.
func (w *Slidings[V]) Insert(k int, ts int64, row Row[V], sink Sink[V]) error {
	r, err := w.insert(k, ts, row.Num, sink)
	if err != nil {
		return err
	}
	w.emit(r, ts, sink)
	return nil
}

// InsertSums is Insert for a caller that reads every result through
// Result.Sums, given the event's Num columns (a Row's Num: these windows
// read no other): the results of the event's change (not the expiry
// instants before it, which go to sink) are returned, as Sums gives them,
// with whether they changed, where Insert would emit them (a Result, an
// interface call and a Row's copies fewer). out is k's record of them,
// valid until k's window next changes.
func (w *Slidings[V]) InsertSums(k int, ts int64, num []float64, sink Sink[V]) (n int64, out []float64, ok uint64, changed bool, err error) {
	r, err := w.insert(k, ts, num, sink)
	if err != nil {
		return 0, nil, 0, false, err
	}
	n, out, ok, changed = w.results(r)
	return n, out, ok, changed, nil
}

// insert is Insert without the emission of the event's change, given the
// event's Num columns (Aggs.fits: sums-only aggregates read no other): it
// returns k's record.
func (w *Slidings[V]) insert(k int, ts int64, num []float64, sink Sink[V]) (*slideRec, error) {
	if !timeOK(ts, w.now, w.d) {
		return nil, ErrEventTime
	}
	if len(num) < w.aggs.wNum {
		return nil, ErrRowShape
	}
	w.now = ts
	r := &w.recs[k]
	if r.n > 0 {
		if at := w.frontTs(r) + w.d; at < ts {
			w.expireBefore(r, ts, sink)
		}
		if r.n > 0 && w.frontTs(r)+w.d <= ts {
			w.expire(r, ts)
		}
	}
	if r.buf == nil || r.n == r.c {
		w.grow(r)
	}
	c := r.c
	i := r.head + r.n
	if i >= c {
		i -= c
	}
	slot := r.buf[w.ring+int(i)*w.entry : w.ring+int(i+1)*w.entry]
	slot[0] = uint64(ts)
	for j, x := range num[:w.entry-1] {
		slot[1+j] = math.Float64bits(x)
	}
	if r.n == 0 {
		r.front = ts
	}
	r.n++
	sc := w.sums(r.buf)
	for _, g := range w.aggs.sums { // (range evaluates w.aggs.sums once)
		if s, x := &sc[g.slot], num[g.arg]; finite(x) {
			s.compensated(x)
		} else {
			s.nf.add(x)
		}
	}
	return r, nil
}

// Advance emits key k's expiry instants before wm, in order, one emission
// each.
func (w *Slidings[V]) Advance(k int, wm int64, sink Sink[V]) {
	w.now = max(w.now, wm)
	if r := &w.recs[k]; r.n > 0 && w.frontTs(r)+w.d < wm {
		w.expireBefore(r, wm, sink)
	}
}

// AdvanceSums is Advance for a caller that reads every result through
// Result.Sums, one expiry instant a call: it moves the windows' time to
// wm and, when key k has an expiry instant before wm, expires the first
// and returns it (due) with its results, as InsertSums does, where
// Advance would emit them. Called until it reports none, it does what
// Advance does.
func (w *Slidings[V]) AdvanceSums(k int, wm int64) (at, n int64, num []float64, ok uint64, changed, due bool) {
	w.now = max(w.now, wm)
	r := &w.recs[k]
	if r.n == 0 {
		return 0, 0, nil, 0, false, false
	}
	if at = w.frontTs(r) + w.d; at >= wm {
		return 0, 0, nil, 0, false, false
	}
	w.expire(r, at)
	n, num, ok, changed = w.results(r)
	return at, n, num, ok, changed, true
}

func (w *Slidings[V]) expireBefore(r *slideRec, wm int64, sink Sink[V]) {
	for r.n > 0 {
		at := w.frontTs(r) + w.d
		if at >= wm {
			break
		}
		w.expire(r, at)
		w.emit(r, at, sink)
	}
}

// expire removes the events that have left by instant at (t+d <= at), as
// Acc.removeOldest does.
func (w *Slidings[V]) expire(r *slideRec, at int64) {
	sc := w.sums(r.buf)
	c := r.c
	for r.n > 0 && w.frontTs(r)+w.d <= at {
		r.n--
		old := r.buf[w.ring+int(r.head)*w.entry+1:]
		for _, g := range w.aggs.sums {
			s, x := &sc[g.slot], math.Float64frombits(old[g.arg])
			switch {
			case !finite(x):
				s.nf.remove(x)
			case int64(r.n) <= s.nf.total():
				s.a, s.b = 0, 0 // no finite value left: an exact zero, no residue
			default:
				s.compensated(-x)
			}
		}
		if r.head++; r.head == c {
			r.head = 0
		}
		if r.n > 0 {
			r.front = int64(r.buf[w.ring+int(r.head)*w.entry])
		}
	}
}

// emit computes the results of r at t and emits.
func (w *Slidings[V]) emit(r *slideRec, t int64, sink Sink[V]) {
	n, num, ok, changed := w.results(r)
	if sink != nil {
		w.view.n, w.view.sc = n, w.sums(r.buf)
		w.snap.num, w.snap.ok = num, ok
		sink.Emit(Result[V]{Start: t - w.d, End: t, Time: t, Changed: changed, acc: &w.view, snap: &w.snap})
	}
}

// results computes the results of r, in place in its buffer, and compares
// them with the last emitted ones (as snapshot.updateSums).
func (w *Slidings[V]) results(r *slideRec) (n int64, num []float64, ok uint64, changed bool) {
	// The sums, results and flags are the buffer's first words (ring
	// words follow): views in place, from one check of the length.
	hdr := r.buf[:w.ring]
	base := unsafe.Pointer(unsafe.SliceData(hdr))
	num = unsafe.Slice((*float64)(unsafe.Add(base, 8*w.res)), w.nSpec)
	flags := (*uint64)(unsafe.Add(base, 8*(w.res+w.nSpec)))
	n = int64(r.n)
	ok, changed = sumResults(w.prog, n, unsafe.Slice((*scalar)(base), w.aggs.nScalar), num, *flags, *flags&validBit != 0)
	*flags = ok | validBit
	return n, num, ok, changed
}

// grow doubles r's ring (4 events at first), keeping its sums and results.
func (w *Slidings[V]) grow(r *slideRec) {
	c := int32(4)
	if r.buf != nil {
		c = 2 * r.c
	}
	buf := make([]uint64, w.ring+int(c)*w.entry)
	copy(buf, r.buf[:min(len(r.buf), w.ring)])
	if r.buf != nil {
		oc := r.c
		for j := int32(0); j < r.n; j++ {
			from := (r.head + j) % oc
			copy(buf[w.ring+int(j)*w.entry:w.ring+int(j+1)*w.entry], r.buf[w.ring+int(from)*w.entry:])
		}
	}
	r.buf, r.head, r.c = buf, 0, c
}

// NextDeadline returns the smallest watermark at which Advance(k, ...)
// emits: just after the oldest event's expiry instant.
func (w *Slidings[V]) NextDeadline(k int) (int64, bool) {
	r := &w.recs[k]
	if r.n == 0 {
		return 0, false
	}
	return w.frontTs(r) + w.d + 1, true
}

// PrefetchRecord hints that key k's window will be visited soon: the first
// of two steps (its record says where its buffer is; see PrefetchWindow),
// for a caller that knows which keys come next (an expiry queue).
func (w *Slidings[V]) PrefetchRecord(k int) {
	if uint(k) < uint(len(w.recs)) {
		prefetch.Line(unsafe.Pointer(&w.recs[k]))
	}
}

// PrefetchWindow hints that key k's window will be visited soon: the lines
// of its buffer an expiry reads (the sums, results and flags; the oldest
// event, and the next, whose time becomes the front). It reads k's record,
// which PrefetchRecord fetched a step before.
func (w *Slidings[V]) PrefetchWindow(k int) {
	if uint(k) >= uint(len(w.recs)) {
		return
	}
	r := &w.recs[k]
	if r.buf == nil {
		return
	}
	p := unsafe.Pointer(unsafe.SliceData(r.buf))
	prefetch.Line3(p, unsafe.Add(p, 8*(w.ring-1)), unsafe.Add(p, 8*(w.ring+int(r.head)*w.entry)))
}

// Empty reports whether key k's window holds no events.
func (w *Slidings[V]) Empty(k int) bool { return w.recs[k].n == 0 }

// Reset empties key k's window, keeping its buffer.
func (w *Slidings[V]) Reset(k int) {
	r := &w.recs[k]
	r.head, r.n = 0, 0
	if r.buf != nil {
		clear(r.buf[:w.ring]) // sums, results and flags; the ring is rewritten before it is read
	}
}

// SizeBytes estimates the heap bytes the windows hold, struct included.
func (w *Slidings[V]) SizeBytes() int {
	b := int(unsafe.Sizeof(*w)) + int(unsafe.Sizeof(slideRec{}))*cap(w.recs)
	for i := range w.recs {
		b += 8 * cap(w.recs[i].buf)
	}
	return b
}
