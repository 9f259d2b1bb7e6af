package engine

import "github.com/cepengine/cep/engine/event"

// reorderBuffer holds events the watermark has not yet passed, as a 4-ary
// min-heap on (time, seq). The keys live in the heap entries, so sifting
// compares without touching the events (which the matcher owns).
type reorderBuffer struct {
	h []bufEntry
}

type bufEntry struct {
	time int64
	seq  uint64
	ev   *event.Event
}

func (a *bufEntry) before(b *bufEntry) bool {
	return a.time < b.time || a.time == b.time && a.seq < b.seq
}

func (b *reorderBuffer) len() int { return len(b.h) }

func (b *reorderBuffer) push(e *event.Event) {
	b.h = append(b.h, bufEntry{time: e.Time, seq: e.Seq, ev: e})
	h := b.h
	i := len(h) - 1
	x := h[i]
	for i > 0 {
		p := (i - 1) / 4
		if !x.before(&h[p]) {
			break
		}
		h[i] = h[p]
		i = p
	}
	h[i] = x
}

// peekTime returns the time of the earliest buffered event.
func (b *reorderBuffer) peekTime() (int64, bool) {
	if len(b.h) == 0 {
		return 0, false
	}
	return b.h[0].time, true
}

func (b *reorderBuffer) pop() *event.Event {
	h := b.h
	top := h[0].ev
	last := len(h) - 1
	x := h[last]
	h[last] = bufEntry{}
	h = h[:last]
	b.h = h
	if last == 0 {
		return top
	}
	i := 0
	for {
		c := 4*i + 1
		if c >= len(h) {
			break
		}
		m := c
		for k := c + 1; k < c+4 && k < len(h); k++ {
			if h[k].before(&h[m]) {
				m = k
			}
		}
		if !h[m].before(&x) {
			break
		}
		h[i] = h[m]
		i = m
	}
	h[i] = x
	return top
}
