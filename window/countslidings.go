package window

import (
	"fmt"
	"math"
	"unsafe"
)

// CountSlidings holds the sliding count windows (the last size events) of
// many keys, when every aggregate is count, sum or avg (Aggs.SumsOnly), in
// one slab of fixed-size blocks, a block a key: its count and ring head in
// one word, its running sums (32 bytes each), then a ring of exactly size
// events (the time and the Num columns of each). A CountSliding per key
// costs an object of about 250 bytes and four more allocations (sums,
// times, columns, snapshot), five or six cache lines an event; here an
// event reads and writes the block's head and one ring slot (the new event
// takes the oldest one's place once the window is full).
//
// The ring is allocated whole, so a key holding one event costs as much as
// a full one: BlockBytes tells the caller what a key costs, to choose this
// layout only for small windows.
//
// It behaves as one CountSliding per key (with NoChanged: every result is
// Changed) for callers that give it times in order across all keys (the
// engine's (time, sequence) order): an Insert earlier than the latest time
// given for any key is refused (ErrEventTime), where a CountSliding checks
// each key's own. Keys are numbered from 0 by the caller; Grow makes room
// for them, and Reset empties a key's window for reuse by another key.
type CountSlidings[V any] struct {
	aggs   *Aggs[V]
	size   int // events a window holds
	entry  int // words an event: its time, then its Num columns
	ring   int // offset of the ring in a block
	stride int // words a block
	now    int64
	w      []uint64
	view   Acc[V] // the Acc a Result reads: a key's count, its sums in place
}

// NewCountSlidings returns sliding count windows of the last size > 0
// events for aggregates that are all count, sum or avg, with room for no
// key.
func NewCountSlidings[V any](aggs *Aggs[V], size int) (*CountSlidings[V], error) {
	if size <= 0 {
		return nil, fmt.Errorf("%w: sliding count %d, want > 0", ErrParam, size)
	}
	if !aggs.sumsOnly {
		return nil, fmt.Errorf("%w: CountSlidings keeps count, sum and avg only", ErrParam)
	}
	entry := 1 + aggs.wNum
	ring := 1 + aggs.nScalar*scalarWords
	if size > (math.MaxInt32-ring)/entry {
		return nil, fmt.Errorf("%w: sliding count %d too large for CountSlidings", ErrParam, size)
	}
	w := &CountSlidings[V]{aggs: aggs, size: size, entry: entry, ring: ring, stride: ring + size*entry, now: math.MinInt64}
	w.view.init(aggs, false)
	return w, nil
}

// scalarWords is the size of a scalar in 64-bit words.
const scalarWords = int(unsafe.Sizeof(scalar{}) / 8)

// BlockBytes is what a key costs: the bytes of its block.
func (w *CountSlidings[V]) BlockBytes() int { return 8 * w.stride }

// Grow makes room for keys 0 .. keys-1, their windows empty.
func (w *CountSlidings[V]) Grow(keys int) {
	if need := keys * w.stride; need > len(w.w) {
		w.w = append(w.w, make([]uint64, need-len(w.w))...)
	}
}

// block returns key k's block.
func (w *CountSlidings[V]) block(k int) []uint64 {
	return w.w[k*w.stride : (k+1)*w.stride : (k+1)*w.stride]
}

// sums returns the running sums of block b, in place: a scalar is four
// words with no pointer, so the slab holds them as it holds the times.
func (w *CountSlidings[V]) sums(b []uint64) []scalar {
	if w.aggs.nScalar == 0 {
		return nil
	}
	return unsafe.Slice((*scalar)(unsafe.Pointer(&b[1])), w.aggs.nScalar)
}

// Insert adds an event of key k at ts, evicting k's oldest if its window is
// full, and emits once (see CountSliding.Insert).
func (w *CountSlidings[V]) Insert(k int, ts int64, row Row[V], sink Sink[V]) error {
	b, err := w.insert(k, ts, row.Num)
	if err != nil || sink == nil {
		return err
	}
	head := int(b[0] >> 32)
	w.view.n, w.view.sc = int64(uint32(b[0])), w.sums(b)
	sink.Emit(Result[V]{Start: int64(b[w.ring+head*w.entry]), End: ts, Time: ts, Changed: true, acc: &w.view})
	return nil
}

// InsertSums is Insert for a caller that reads every result through
// Result.Sums, given the event's Num columns (a Row's Num: these windows
// read no other): the results go to out (len at least the aggregates),
// with the window's count and which have a value, where Insert would emit
// them (a Result, an interface call and a Row's copies fewer).
func (w *CountSlidings[V]) InsertSums(k int, ts int64, num, out []float64) (n int64, ok uint64, err error) {
	b, err := w.insert(k, ts, num)
	if err != nil {
		return 0, 0, err
	}
	n = int64(uint32(b[0]))
	ok, _ = sumResults(w.aggs.prog, n, w.sums(b), out, 0, true)
	return n, ok, nil
}

// insert is Insert without the emission, given the event's Num columns
// (Aggs.fits: sums-only aggregates read no other): it returns k's block.
func (w *CountSlidings[V]) insert(k int, ts int64, num []float64) ([]uint64, error) {
	if !timeOK(ts, w.now, 0) {
		return nil, ErrEventTime
	}
	if len(num) < w.aggs.wNum {
		return nil, ErrRowShape
	}
	w.now = ts
	b := w.block(k)
	sc := w.sums(b)
	n, head := int(uint32(b[0])), int(b[0]>>32)
	if n == w.size {
		// The oldest leaves (as Acc.removeOldest) and the new event takes
		// its slot: each sum drops the one and adds the other in one pass.
		slot := b[w.ring+head*w.entry : w.ring+(head+1)*w.entry]
		for _, g := range w.aggs.sums {
			s, x := &sc[g.slot], math.Float64frombits(slot[1+g.arg])
			switch {
			case !finite(x):
				s.nf.remove(x)
			case int64(n-1) <= s.nf.total():
				s.a, s.b = 0, 0 // no finite value left: an exact zero, no residue
			default:
				s.compensated(-x)
			}
			if y := num[g.arg]; finite(y) {
				s.compensated(y)
			} else {
				s.nf.add(y)
			}
		}
		slot[0] = uint64(ts)
		for j, x := range num[:w.entry-1] {
			slot[1+j] = math.Float64bits(x)
		}
		if head++; head == w.size {
			head = 0
		}
		b[0] = uint64(n) | uint64(head)<<32
		return b, nil
	}
	i := head + n
	if i >= w.size {
		i -= w.size
	}
	slot := b[w.ring+i*w.entry : w.ring+(i+1)*w.entry]
	slot[0] = uint64(ts)
	for j, x := range num[:w.entry-1] {
		slot[1+j] = math.Float64bits(x)
	}
	for _, g := range w.aggs.sums {
		if s, x := &sc[g.slot], num[g.arg]; finite(x) {
			s.compensated(x)
		} else {
			s.nf.add(x)
		}
	}
	n++
	b[0] = uint64(n) | uint64(head)<<32
	return b, nil
}

// Advance only moves the windows' time: count windows do not expire.
func (w *CountSlidings[V]) Advance(_ int, wm int64, _ Sink[V]) { w.now = max(w.now, wm) }

// NextDeadline reports none: only arrivals emit.
func (w *CountSlidings[V]) NextDeadline(int) (int64, bool) { return 0, false }

// Empty reports whether key k's window holds no events.
func (w *CountSlidings[V]) Empty(k int) bool { return uint32(w.w[k*w.stride]) == 0 }

// Reset empties key k's window.
func (w *CountSlidings[V]) Reset(k int) {
	clear(w.block(k)[:w.ring]) // count, head and sums; the ring is rewritten before it is read
}

// SizeBytes estimates the heap bytes the windows hold, struct included.
func (w *CountSlidings[V]) SizeBytes() int {
	return int(unsafe.Sizeof(*w)) + 8*cap(w.w) // (view's sums alias a block)
}
