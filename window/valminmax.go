package window

// valExtreme is the state of min or max over Val in an add-only window: the
// extreme so far, kept on the first of equal values.
type valExtreme[V any] struct {
	v   V
	has bool
}

func (e *valExtreme[V]) add(a *Aggs[V], x V, isMax bool) {
	if a.missing != nil && a.missing(x) {
		return
	}
	if !e.has || (!isMax && a.less(x, e.v)) || (isMax && a.less(e.v, x)) {
		e.v, e.has = x, true
	}
}

// valDeque is MonoDeque for values ordered by a less function instead of
// cmp.Ordered: min or max over Val in a sliding window. Dropped entries are
// cleared so that the window does not keep their values reachable.
type valDeque[V any] struct {
	buf  []valEntry[V]
	head int
	n    int
	max  bool
}

type valEntry[V any] struct {
	v   V
	seq uint64
}

// push appends v with sequence number seq, above every earlier one, first
// dropping the entries v dominates (for a minimum those not less than v).
func (d *valDeque[V]) push(v V, seq uint64, less func(a, b V) bool) {
	mask := len(d.buf) - 1
	for d.n > 0 {
		i := (d.head + d.n - 1) & mask
		back := d.buf[i].v
		if (d.max && less(v, back)) || (!d.max && less(back, v)) {
			break
		}
		d.buf[i] = valEntry[V]{}
		d.n--
	}
	if d.n == len(d.buf) {
		d.grow()
		mask = len(d.buf) - 1
	}
	d.buf[(d.head+d.n)&mask] = valEntry[V]{v: v, seq: seq}
	d.n++
}

// expire drops the entries whose sequence number is below seq.
func (d *valDeque[V]) expire(seq uint64) {
	for d.n > 0 && d.buf[d.head].seq < seq {
		d.buf[d.head] = valEntry[V]{}
		d.head = (d.head + 1) & (len(d.buf) - 1)
		d.n--
	}
}

// front returns the extreme of the entries left; ok is false when none.
func (d *valDeque[V]) front() (v V, ok bool) {
	if d.n == 0 {
		return v, false
	}
	return d.buf[d.head].v, true
}

func (d *valDeque[V]) reset() {
	clear(d.buf)
	d.head, d.n = 0, 0
}

func (d *valDeque[V]) grow() {
	c := max(4, 2*len(d.buf))
	nb := make([]valEntry[V], c)
	for j := range d.n {
		nb[j] = d.buf[(d.head+j)&(len(d.buf)-1)]
	}
	d.buf, d.head = nb, 0
}
