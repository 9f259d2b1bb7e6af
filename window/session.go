package window

import (
	"fmt"
	"math"
	"unsafe"
)

// Session groups events less than gap apart: it closes gap after its last
// event, and an event exactly gap after the previous one starts a new
// session (at that instant the old one has closed). It is emitted with
// Start = its first event's time, End = its last event's time + gap, and
// Time = End.
type Session[V any] struct {
	acc         Acc[V]
	gap         int64
	start, last int64
	now         int64
}

// NewSession returns an empty session window with gap > 0 nanoseconds.
func NewSession[V any](aggs *Aggs[V], gap int64) (*Session[V], error) {
	if gap <= 0 {
		return nil, fmt.Errorf("%w: session gap %d, want > 0", ErrParam, gap)
	}
	w := &Session[V]{gap: gap, now: math.MinInt64}
	w.acc.init(aggs, false)
	return w, nil
}

// Insert adds an event at ts, first closing the open session if ts is gap
// or more after its last event.
func (w *Session[V]) Insert(ts int64, row Row[V], sink Sink[V]) error {
	if !timeOK(ts, w.now, w.gap) {
		return ErrEventTime
	}
	if !w.acc.aggs.fits(&row) {
		return ErrRowShape
	}
	w.Advance(ts, sink)
	if w.acc.n == 0 {
		w.start = ts
	}
	w.last = ts
	w.acc.add(&row)
	return nil
}

// Advance closes the open session if its last event is gap or more before
// wm.
func (w *Session[V]) Advance(wm int64, sink Sink[V]) {
	if wm <= w.now {
		return
	}
	w.now = wm
	if w.acc.n == 0 {
		return
	}
	if end := w.last + w.gap; end <= wm {
		if sink != nil {
			sink.Emit(Result[V]{Start: w.start, End: end, Time: end, Changed: true, acc: &w.acc})
		}
		w.acc.Reset()
	}
}

// NextDeadline returns when the open session closes if no event comes.
func (w *Session[V]) NextDeadline() (int64, bool) {
	if w.acc.n == 0 {
		return 0, false
	}
	return w.last + w.gap, true
}

// Empty reports whether no session is open.
func (w *Session[V]) Empty() bool { return w.acc.n == 0 }

// Reset drops the open session and the window's time, keeping buffers.
func (w *Session[V]) Reset() {
	w.acc.Reset()
	w.now = math.MinInt64
}

// SizeBytes estimates the heap bytes the window holds.
func (w *Session[V]) SizeBytes() int { return int(unsafe.Sizeof(*w)) + w.acc.sizeBytes() }

// CountTumbling closes every n events: it is emitted at the n-th, with
// Start and End the times of its first and last event and Time = End. A
// partial window is never emitted, not even at end of input.
type CountTumbling[V any] struct {
	acc   Acc[V]
	size  int64
	start int64
	now   int64
}

// NewCountTumbling returns an empty window of n > 0 events.
func NewCountTumbling[V any](aggs *Aggs[V], n int) (*CountTumbling[V], error) {
	if n <= 0 {
		return nil, fmt.Errorf("%w: count %d, want > 0", ErrParam, n)
	}
	w := &CountTumbling[V]{size: int64(n), now: math.MinInt64}
	w.acc.init(aggs, false)
	return w, nil
}

// Insert adds an event at ts, emitting the window if it is the n-th.
func (w *CountTumbling[V]) Insert(ts int64, row Row[V], sink Sink[V]) error {
	if !timeOK(ts, w.now, 0) {
		return ErrEventTime
	}
	if !w.acc.aggs.fits(&row) {
		return ErrRowShape
	}
	w.now = ts
	if w.acc.n == 0 {
		w.start = ts
	}
	w.acc.add(&row)
	if w.acc.n == w.size {
		if sink != nil {
			sink.Emit(Result[V]{Start: w.start, End: ts, Time: ts, Changed: true, acc: &w.acc})
		}
		w.acc.Reset()
	}
	return nil
}

// Advance only moves the window's time: count windows close on count.
func (w *CountTumbling[V]) Advance(wm int64, _ Sink[V]) { w.now = max(w.now, wm) }

// NextDeadline reports none: only arrivals emit.
func (w *CountTumbling[V]) NextDeadline() (int64, bool) { return 0, false }

// Len returns the number of events of the partial window.
func (w *CountTumbling[V]) Len() int { return int(w.acc.n) }

// Empty reports whether the partial window holds no events.
func (w *CountTumbling[V]) Empty() bool { return w.acc.n == 0 }

// Reset drops the partial window and the window's time, keeping buffers.
func (w *CountTumbling[V]) Reset() {
	w.acc.Reset()
	w.now = math.MinInt64
}

// SizeBytes estimates the heap bytes the window holds.
func (w *CountTumbling[V]) SizeBytes() int { return int(unsafe.Sizeof(*w)) + w.acc.sizeBytes() }

// Compile-time checks that every kind is a Window.
var (
	_ Window[int] = (*Tumbling[int])(nil)
	_ Window[int] = (*Hopping[int])(nil)
	_ Window[int] = (*Session[int])(nil)
	_ Window[int] = (*CountTumbling[int])(nil)
	_ Window[int] = (*Sliding[int])(nil)
	_ Window[int] = (*CountSliding[int])(nil)
)
