package window

import (
	"fmt"
	"math"
	"unsafe"
)

// Sliding is a time-based sliding window of length d: at time now it holds
// the events with now-d < t <= now. An event at t leaves at t+d exactly.
//
// It emits once per arrival (Time = the event's time) and once per expiry
// instant at which nothing arrives (Time = t+d; the events of one time
// leave together), with Start = Time-d and End = Time. Expiries at the
// instant of an arrival are folded into the arrival's emission, so no
// result shows a state that lasted no time (a count dipping from 5 to 4 and
// back within one instant). Hence Advance(wm) emits the expiry instants
// strictly before wm: an event at wm may still come. When the last event
// expires the window emits once more, with count 0. Result.Changed tells
// whether the result differs from the previous emission.
type Sliding[V any] struct {
	acc  Acc[V]
	ev   eventRing[V]
	snap snapshot[V]
	d    int64
	now  int64 // expiry instants before now have been emitted
}

// NewSliding returns an empty sliding window of length d > 0 nanoseconds.
func NewSliding[V any](aggs *Aggs[V], d int64) (*Sliding[V], error) {
	if d <= 0 {
		return nil, fmt.Errorf("%w: sliding length %d, want > 0", ErrParam, d)
	}
	w := &Sliding[V]{d: d, now: math.MinInt64}
	w.acc.init(aggs, true)
	w.snap.init(aggs)
	return w, nil
}

// Insert adds an event at ts (see Window.Insert): it emits the expiry
// instants before ts, then expires what leaves at ts and adds the event,
// and emits once. A nil sink drops the emissions (the window still tracks
// Changed).
func (w *Sliding[V]) Insert(ts int64, row Row[V], sink Sink[V]) error {
	if !timeOK(ts, w.now, w.d) {
		return ErrEventTime
	}
	aggs := w.acc.aggs
	if !aggs.fits(&row) {
		return ErrRowShape
	}
	w.Advance(ts, sink)
	if w.ev.n > 0 && w.ev.frontTs()+w.d <= ts {
		w.expire(ts)
	}
	w.ev.push(aggs, ts, &row)
	w.acc.addSliding(&w.ev)
	w.emit(ts, sink)
	return nil
}

// Advance emits the expiry instants before wm, in order, one emission each.
func (w *Sliding[V]) Advance(wm int64, sink Sink[V]) {
	if wm <= w.now {
		return
	}
	w.now = wm
	if w.ev.n > 0 && w.ev.frontTs()+w.d < wm {
		w.expireBefore(wm, sink)
	}
}

func (w *Sliding[V]) expireBefore(wm int64, sink Sink[V]) {
	for w.ev.n > 0 {
		at := w.ev.frontTs() + w.d
		if at >= wm {
			break
		}
		w.expire(at)
		w.emit(at, sink)
	}
}

// expire removes the events that have left by instant at (t+d <= at).
func (w *Sliding[V]) expire(at int64) {
	removed := 0
	for w.ev.n > 0 && w.ev.frontTs()+w.d <= at {
		evictFront(&w.acc, &w.ev)
		removed++
	}
	w.acc.afterRemove(&w.ev, removed)
}

func evictFront[V any](acc *Acc[V], ev *eventRing[V]) {
	acc.removeOldest(ev)
	ev.pop(acc.aggs)
}

func (w *Sliding[V]) emit(t int64, sink Sink[V]) {
	changed := w.snap.update(&w.acc, &w.ev)
	if sink != nil {
		sink.Emit(Result[V]{Start: t - w.d, End: t, Time: t, Changed: changed,
			acc: &w.acc, ev: &w.ev, snap: &w.snap})
	}
}

// NextDeadline returns the smallest watermark at which Advance emits: just
// after the oldest event's expiry instant (an arrival at that instant would
// carry the expiry instead).
func (w *Sliding[V]) NextDeadline() (int64, bool) {
	if w.ev.n == 0 {
		return 0, false
	}
	return w.ev.frontTs() + w.d + 1, true
}

// Len returns the number of events in the window.
func (w *Sliding[V]) Len() int { return w.ev.n }

// Empty reports whether the window holds no events.
func (w *Sliding[V]) Empty() bool { return w.ev.n == 0 }

// Reset empties the window and its time, keeping buffers.
func (w *Sliding[V]) Reset() {
	w.acc.Reset()
	w.ev.reset()
	w.snap.reset()
	w.now = math.MinInt64
}

// SizeBytes estimates the heap bytes the window holds.
func (w *Sliding[V]) SizeBytes() int {
	return int(unsafe.Sizeof(*w)) + w.acc.sizeBytes() + w.ev.sizeBytes() + w.snap.sizeBytes()
}

func (s *snapshot[V]) sizeBytes() int { return 8*cap(s.num) + vSize[V]()*(cap(s.fv)+cap(s.mv)) }

// CountSliding holds the last n events. It emits after every arrival, with
// Start and End the times of the oldest and newest event and Time = End.
type CountSliding[V any] struct {
	acc       Acc[V]
	ev        eventRing[V]
	snap      snapshot[V]
	size      int
	now       int64
	noChanged bool
}

// NoChanged makes the window skip Result.Changed, which is then always
// true: for callers that take every result, it spares comparing each
// result with the previous one (results are then computed when read).
func (w *CountSliding[V]) NoChanged() { w.noChanged = true }

// NewCountSliding returns an empty window of the last n > 0 events.
func NewCountSliding[V any](aggs *Aggs[V], n int) (*CountSliding[V], error) {
	if n <= 0 {
		return nil, fmt.Errorf("%w: sliding count %d, want > 0", ErrParam, n)
	}
	w := &CountSliding[V]{size: n, now: math.MinInt64}
	w.acc.init(aggs, true)
	w.snap.init(aggs)
	return w, nil
}

// Insert adds an event at ts, evicting the oldest if the window is full.
func (w *CountSliding[V]) Insert(ts int64, row Row[V], sink Sink[V]) error {
	if !timeOK(ts, w.now, 0) {
		return ErrEventTime
	}
	aggs := w.acc.aggs
	if !aggs.fits(&row) {
		return ErrRowShape
	}
	w.now = ts
	if w.ev.n == w.size {
		evictFront(&w.acc, &w.ev)
		w.acc.afterRemove(&w.ev, 1)
	}
	w.ev.push(aggs, ts, &row)
	w.acc.addSliding(&w.ev)
	if w.noChanged {
		if sink != nil {
			sink.Emit(Result[V]{Start: w.ev.frontTs(), End: ts, Time: ts, Changed: true, acc: &w.acc, ev: &w.ev})
		}
		return nil
	}
	changed := w.snap.update(&w.acc, &w.ev)
	if sink != nil {
		sink.Emit(Result[V]{Start: w.ev.frontTs(), End: ts, Time: ts, Changed: changed,
			acc: &w.acc, ev: &w.ev, snap: &w.snap})
	}
	return nil
}

// Advance only moves the window's time: count windows do not expire.
func (w *CountSliding[V]) Advance(wm int64, _ Sink[V]) { w.now = max(w.now, wm) }

// NextDeadline reports none: only arrivals emit.
func (w *CountSliding[V]) NextDeadline() (int64, bool) { return 0, false }

// Len returns the number of events in the window.
func (w *CountSliding[V]) Len() int { return w.ev.n }

// Empty reports whether the window holds no events.
func (w *CountSliding[V]) Empty() bool { return w.ev.n == 0 }

// Reset empties the window and its time, keeping buffers.
func (w *CountSliding[V]) Reset() {
	w.acc.Reset()
	w.ev.reset()
	w.snap.reset()
	w.now = math.MinInt64
}

// SizeBytes estimates the heap bytes the window holds.
func (w *CountSliding[V]) SizeBytes() int {
	return int(unsafe.Sizeof(*w)) + w.acc.sizeBytes() + w.ev.sizeBytes() + w.snap.sizeBytes()
}
