package window

// Ring is a FIFO queue (with access at both ends) on a circular buffer whose
// capacity is a power of two. It grows by doubling and never shrinks, so a
// ring that has reached its working size allocates nothing more. The zero
// Ring is empty and ready to use.
type Ring[T any] struct {
	buf  []T
	head int
	n    int
}

// Len returns the number of elements.
func (r *Ring[T]) Len() int { return r.n }

// Cap returns the capacity of the buffer.
func (r *Ring[T]) Cap() int { return len(r.buf) }

// PushBack appends v at the back.
func (r *Ring[T]) PushBack(v T) {
	if r.n == len(r.buf) {
		r.grow()
	}
	r.buf[(r.head+r.n)&(len(r.buf)-1)] = v
	r.n++
}

// PopFront removes and returns the front element. It panics on an empty
// ring, like an index out of range.
func (r *Ring[T]) PopFront() T {
	if r.n == 0 {
		panic("window: PopFront on an empty Ring")
	}
	v := r.buf[r.head]
	var zero T
	r.buf[r.head] = zero // drop references so that the GC can free them
	r.head = (r.head + 1) & (len(r.buf) - 1)
	r.n--
	return v
}

// PopBack removes and returns the back element. It panics on an empty ring.
func (r *Ring[T]) PopBack() T {
	if r.n == 0 {
		panic("window: PopBack on an empty Ring")
	}
	r.n--
	i := (r.head + r.n) & (len(r.buf) - 1)
	v := r.buf[i]
	var zero T
	r.buf[i] = zero
	return v
}

// Front returns the front (oldest) element. It panics on an empty ring.
func (r *Ring[T]) Front() T {
	if r.n == 0 {
		panic("window: Front on an empty Ring")
	}
	return r.buf[r.head]
}

// Back returns the back (newest) element. It panics on an empty ring.
func (r *Ring[T]) Back() T {
	if r.n == 0 {
		panic("window: Back on an empty Ring")
	}
	return r.buf[(r.head+r.n-1)&(len(r.buf)-1)]
}

// At returns the i-th element from the front. It panics if i is out of
// range.
func (r *Ring[T]) At(i int) T {
	if uint(i) >= uint(r.n) {
		panic("window: Ring index out of range")
	}
	return r.buf[(r.head+i)&(len(r.buf)-1)]
}

// Reset empties the ring and keeps its buffer.
func (r *Ring[T]) Reset() {
	clear(r.buf)
	r.head, r.n = 0, 0
}

func (r *Ring[T]) grow() {
	c := 2 * len(r.buf)
	if c == 0 {
		c = 4
	}
	nb := make([]T, c)
	k := copy(nb, r.buf[r.head:])
	copy(nb[k:], r.buf[:r.head])
	r.buf, r.head = nb, 0
}
