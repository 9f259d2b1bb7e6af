package engine

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// TestTimerQueue_lanes runs set, cancel, reset, peek, due and pop against
// a sorted slice with timers mostly set in time order (now + a span, the
// FIFO lane) and some out of order (the heap), so that both lanes, stale
// FIFO entries and ties across the lanes are exercised.
func TestTimerQueue_lanes(t *testing.T) {
	type ref struct {
		when int64
		seq  uint64
		arg  uint64
		id   timerID
	}
	fifoUsed, heapUsed := 0, 0
	for seed := range uint64(40) {
		r := rand.New(rand.NewPCG(seed, 11))
		var q timerQueue
		var model []ref
		var seq uint64
		now := int64(0)
		when := func() int64 {
			if r.IntN(5) == 0 {
				return now + int64(r.IntN(50)) // out of order, often
			}
			return now + 50 + int64(r.IntN(3)) // now + span: in order, with ties
		}
		var stale []timerID
		for op := range 4000 {
			switch k := r.IntN(12); {
			case k < 6:
				w := when()
				seq++
				id := q.set(w, 1, uint64(op))
				if q.slots[id.slot].pos == inFIFO {
					fifoUsed++
				} else {
					heapUsed++
				}
				model = append(model, ref{w, seq, uint64(op), id})
			case k < 7 && len(model) > 0:
				i := r.IntN(len(model))
				if !q.cancel(model[i].id) {
					t.Fatalf("seed %d: cancel of a pending timer failed", seed)
				}
				stale = append(stale, model[i].id)
				model = slices.Delete(model, i, i+1)
			case k < 8 && len(model) > 0:
				i := r.IntN(len(model))
				w := when()
				seq++
				if !q.reset(model[i].id, w) {
					t.Fatalf("seed %d: reset of a pending timer failed", seed)
				}
				model[i].when, model[i].seq = w, seq
			case k < 9 && len(stale) > 0:
				id := stale[r.IntN(len(stale))]
				if q.cancel(id) || q.reset(id, now) {
					t.Fatalf("seed %d: stale id %v accepted", seed, id)
				}
			default:
				now += int64(r.IntN(8))
				slices.SortFunc(model, func(a, b ref) int {
					if a.when != b.when {
						return int(a.when - b.when)
					}
					return int(int64(a.seq) - int64(b.seq))
				})
				if want := len(model) > 0 && model[0].when <= now; q.due(now) != want {
					t.Fatalf("seed %d: due(%d) = %v, want %v", seed, now, !want, want)
				}
				for len(model) > 0 && model[0].when <= now {
					w, ok := q.peek()
					if !ok || w != model[0].when {
						t.Fatalf("seed %d: peek %d %v, want %d", seed, w, ok, model[0].when)
					}
					ft := q.pop()
					if ft.when != model[0].when || ft.arg != model[0].arg {
						t.Fatalf("seed %d: popped %+v, want %+v", seed, ft, model[0])
					}
					stale = append(stale, model[0].id)
					model = model[1:]
				}
				if q.due(now) {
					t.Fatalf("seed %d: a timer is due at %d after popping", seed, now)
				}
			}
			if q.len() != len(model) {
				t.Fatalf("seed %d: queue has %d timers, model %d", seed, q.len(), len(model))
			}
			// peek is the earliest time after every change (it reads the
			// time renext keeps).
			w, ok := q.peek()
			if ok != (len(model) > 0) {
				t.Fatalf("seed %d: peek ok %v with %d timers", seed, ok, len(model))
			}
			for _, m := range model {
				if m.when < w {
					t.Fatalf("seed %d: peek %d, but a timer is at %d", seed, w, m.when)
				}
			}
			if ok && !slices.ContainsFunc(model, func(m ref) bool { return m.when == w }) {
				t.Fatalf("seed %d: peek %d, no timer at that time", seed, w)
			}
		}
	}
	if fifoUsed < heapUsed || heapUsed < 1000 {
		t.Fatalf("lanes used: FIFO %d, heap %d: the test does not exercise both", fifoUsed, heapUsed)
	}
}
