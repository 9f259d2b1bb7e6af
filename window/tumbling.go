package window

import (
	"fmt"
	"math"
	"unsafe"
)

// Tumbling is a fixed-size, non-overlapping time window aligned to the
// epoch: an event at t falls in [t - t mod size, that + size). A window
// closes when time reaches its end (Advance(end), or an event at or after
// it) and is emitted with Time = End.
type Tumbling[V any] struct {
	acc   Acc[V]
	size  int64
	start int64 // start of the open window, when acc holds events
	now   int64
}

// NewTumbling returns an empty tumbling window of size > 0 nanoseconds.
func NewTumbling[V any](aggs *Aggs[V], size int64) (*Tumbling[V], error) {
	if size <= 0 {
		return nil, fmt.Errorf("%w: tumbling size %d, want > 0", ErrParam, size)
	}
	w := &Tumbling[V]{size: size, now: math.MinInt64}
	w.acc.init(aggs, false)
	return w, nil
}

// Insert adds an event at ts, first closing the open window if ts is at or
// past its end.
func (w *Tumbling[V]) Insert(ts int64, row Row[V], sink Sink[V]) error {
	if !timeOK(ts, w.now, w.size) {
		return ErrEventTime
	}
	if !w.acc.aggs.fits(&row) {
		return ErrRowShape
	}
	w.Advance(ts, sink)
	if w.acc.n == 0 {
		w.start = ts - floorMod(ts, w.size)
	}
	w.acc.add(&row)
	return nil
}

// Advance closes the open window if its end is <= wm.
func (w *Tumbling[V]) Advance(wm int64, sink Sink[V]) {
	if wm <= w.now {
		return
	}
	w.now = wm
	if w.acc.n == 0 {
		return
	}
	if end := w.start + w.size; end <= wm {
		if sink != nil {
			sink.Emit(Result[V]{Start: w.start, End: end, Time: end, Changed: true, acc: &w.acc})
		}
		w.acc.Reset()
	}
}

// NextDeadline returns the end of the open window.
func (w *Tumbling[V]) NextDeadline() (int64, bool) {
	if w.acc.n == 0 {
		return 0, false
	}
	return w.start + w.size, true
}

// Empty reports whether no window is open.
func (w *Tumbling[V]) Empty() bool { return w.acc.n == 0 }

// Reset drops the open window and the window's time, keeping buffers.
func (w *Tumbling[V]) Reset() {
	w.acc.Reset()
	w.now = math.MinInt64
}

// SizeBytes estimates the heap bytes the window holds.
func (w *Tumbling[V]) SizeBytes() int { return int(unsafe.Sizeof(*w)) + w.acc.sizeBytes() }

// Hopping is a fixed-size time window advancing by step, aligned to the
// epoch: windows [k*step, k*step+size) for every integer k. An event is in
// every window that contains it (about size/step of them; none if step >
// size and it falls between windows) and is added to each, so the cost per
// event is O(size/step); windows close in order of their end and are
// emitted with Time = End.
type Hopping[V any] struct {
	aggs       *Aggs[V]
	size, step int64
	wins       []Acc[V] // window k lives in wins[k mod len(wins)]
	k0         int64    // oldest open window
	open       int64    // open windows: k0 .. k0+open-1
	now        int64
}

// MaxHoppingOverlap bounds size/step of a Hopping window: each window open
// at once costs an Acc per key and an update per event.
const MaxHoppingOverlap = 4096

// NewHopping returns an empty hopping window; size and step are > 0.
func NewHopping[V any](aggs *Aggs[V], size, step int64) (*Hopping[V], error) {
	if size <= 0 || step <= 0 {
		return nil, fmt.Errorf("%w: hopping size %d every %d, want both > 0", ErrParam, size, step)
	}
	if (size-1)/step+1 > MaxHoppingOverlap {
		return nil, fmt.Errorf("%w: hopping size %d every %d overlaps %d windows, at most %d",
			ErrParam, size, step, (size-1)/step+1, MaxHoppingOverlap)
	}
	return &Hopping[V]{aggs: aggs, size: size, step: step, now: math.MinInt64}, nil
}

// Insert adds an event at ts to every window containing it, first closing
// the windows that end at or before ts.
func (w *Hopping[V]) Insert(ts int64, row Row[V], sink Sink[V]) error {
	if !timeOK(ts, w.now, w.size) {
		return ErrEventTime
	}
	if !w.aggs.fits(&row) {
		return ErrRowShape
	}
	w.Advance(ts, sink)
	hi := floorDiv(ts, w.step)
	lo := floorDiv(ts-w.size, w.step) + 1
	if lo > hi {
		return nil // between windows
	}
	if w.wins == nil {
		// At most ceil(size/step) windows contain one instant, and open
		// windows always contain the latest event time.
		w.wins = make([]Acc[V], (w.size-1)/w.step+1)
	}
	if w.open == 0 {
		w.k0 = lo
	}
	// Open windows are consecutive and all contain ts (those that did not
	// have just closed), so the new ones go at the end.
	for k := w.k0 + w.open; k <= hi; k++ {
		a := w.win(k)
		if a.aggs == nil {
			a.init(w.aggs, false)
		}
		w.open++
	}
	for k := lo; k <= hi; k++ {
		w.win(k).add(&row)
	}
	return nil
}

func (w *Hopping[V]) win(k int64) *Acc[V] {
	return &w.wins[floorMod(k, int64(len(w.wins)))]
}

// Advance closes, in order, the windows whose end is <= wm.
func (w *Hopping[V]) Advance(wm int64, sink Sink[V]) {
	if wm <= w.now {
		return
	}
	w.now = wm
	for w.open > 0 {
		start := w.k0 * w.step
		end := start + w.size
		if end > wm {
			return
		}
		a := w.win(w.k0)
		if sink != nil {
			sink.Emit(Result[V]{Start: start, End: end, Time: end, Changed: true, acc: a})
		}
		a.Reset()
		w.k0++
		w.open--
	}
}

// NextDeadline returns the end of the oldest open window.
func (w *Hopping[V]) NextDeadline() (int64, bool) {
	if w.open == 0 {
		return 0, false
	}
	return w.k0*w.step + w.size, true
}

// Empty reports whether no window is open.
func (w *Hopping[V]) Empty() bool { return w.open == 0 }

// Reset drops the open windows and the window's time, keeping buffers.
func (w *Hopping[V]) Reset() {
	for k := w.k0; k < w.k0+w.open; k++ {
		w.win(k).Reset()
	}
	w.open = 0
	w.now = math.MinInt64
}

// SizeBytes estimates the heap bytes the window holds.
func (w *Hopping[V]) SizeBytes() int {
	b := int(unsafe.Sizeof(*w)) + int(unsafe.Sizeof(Acc[V]{}))*cap(w.wins)
	for i := range w.wins {
		if w.wins[i].aggs != nil {
			b += w.wins[i].sizeBytes()
		}
	}
	return b
}
