package window

import "cmp"

// MonoDeque answers the minimum (or maximum) of a sliding sequence in O(1)
// amortized time per element: it keeps, in arrival order, only the elements
// that can still become the extreme, so each element is pushed and popped at
// most once. Elements carry a caller-chosen increasing sequence number;
// Expire drops those that left the window. Its buffer is a power-of-two
// ring that grows by doubling and never shrinks.
//
// Values must be totally ordered: a float NaN must not be pushed (the Acc
// counts NaNs apart).
type MonoDeque[T cmp.Ordered] struct {
	buf  []dequeEntry[T]
	head int
	n    int
	max  bool
}

type dequeEntry[T cmp.Ordered] struct {
	v   T
	seq uint64
}

// NewMonoDeque returns an empty deque for the maximum if max is true, for the
// minimum otherwise.
func NewMonoDeque[T cmp.Ordered](max bool) MonoDeque[T] {
	return MonoDeque[T]{max: max}
}

// Push appends v with sequence number seq, which must exceed every earlier
// one. Older elements that v dominates are dropped: for a minimum those >= v,
// so of equal values the newest survives and the deque stays short.
func (d *MonoDeque[T]) Push(v T, seq uint64) {
	mask := len(d.buf) - 1
	if d.max {
		for d.n > 0 && d.buf[(d.head+d.n-1)&mask].v <= v {
			d.n--
		}
	} else {
		for d.n > 0 && d.buf[(d.head+d.n-1)&mask].v >= v {
			d.n--
		}
	}
	if d.n == len(d.buf) {
		d.grow()
		mask = len(d.buf) - 1
	}
	d.buf[(d.head+d.n)&mask] = dequeEntry[T]{v: v, seq: seq}
	d.n++
}

// Expire drops the elements whose sequence number is below seq: the window
// now starts at seq.
func (d *MonoDeque[T]) Expire(seq uint64) {
	for d.n > 0 && d.buf[d.head].seq < seq {
		d.head = (d.head + 1) & (len(d.buf) - 1)
		d.n--
	}
}

// Front returns the extreme of the elements not expired; ok is false when
// there is none.
func (d *MonoDeque[T]) Front() (v T, ok bool) {
	if d.n == 0 {
		return v, false
	}
	return d.buf[d.head].v, true
}

// Len returns the number of candidates held (not the window length).
func (d *MonoDeque[T]) Len() int { return d.n }

// Reset empties the deque and keeps its buffer. Dropped entries stay in the
// buffer until overwritten; for strings that keeps at most Cap old values
// reachable.
func (d *MonoDeque[T]) Reset() { d.head, d.n = 0, 0 }

func (d *MonoDeque[T]) grow() {
	c := max(4, 2*len(d.buf))
	nb := make([]dequeEntry[T], c)
	for j := range d.n {
		nb[j] = d.buf[(d.head+j)&(len(d.buf)-1)]
	}
	d.buf, d.head = nb, 0
}
