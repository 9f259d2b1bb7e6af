package engine

// expiryFIFO is a ring (length a power of two) of key wake-ups sorted by
// time: the deadlines of an operator whose keys' deadlines come, as a
// rule, in time order (a fixed span after an event: sliding windows'
// expiries, a pattern's within; a window's end). It takes and fires them
// in O(1) each, reading memory in order, where the deadline queue's heap
// costs a timer slot per key and O(log n). An entry is stale when its key's
// deadline has since moved (the operator checks: its window's next
// deadline, keyState.due, patternKey.due); stale entries are dropped when
// they reach the front.
//
// A ring, not a slice consumed from the front: it holds an entry per
// pending wake-up, and a ring grows to at most twice that, where a slice
// compacted now and then holds up to four times as much.
type expiryFIFO struct {
	ring []keyExpiry
	head int
	n    int
	last int64 // the last entry's time, when n > 0
}

// keyExpiry wakes key id at when, if that is still its deadline.
type keyExpiry struct {
	when int64
	id   int32
}

// push adds a wake-up of key id at when: at the end when it fits, else
// moved back to its place by time, so that no order of arrivals can make
// a wake-up late. A repeat of the last entry is dropped (the events of one
// key and instant leave together).
func (q *expiryFIFO) push(when int64, id int32) {
	if !q.pushEnd(when, id) {
		q.pushSlow(when, id)
	}
}

// pushEnd is push's common case, room at the end after an earlier entry:
// false, having done nothing, in any other. It inlines (push does not:
// the call and its frame cost W4 ~15 instructions an event), for the
// operators' per-event calls: if !q.pushEnd(...) { q.pushSlow(...) }.
func (q *expiryFIFO) pushEnd(when int64, id int32) bool {
	if q.n == 0 || q.n == len(q.ring) || q.last >= when {
		return false
	}
	q.ring[(q.head+q.n)&(len(q.ring)-1)] = keyExpiry{when: when, id: id}
	q.n++
	q.last = when
	return true
}

// pushSlow is push when the ring is empty or full, or the entry goes
// before the last or repeats it.
func (q *expiryFIFO) pushSlow(when int64, id int32) {
	mask := len(q.ring) - 1
	if q.n > 0 {
		if last := &q.ring[(q.head+q.n-1)&mask]; last.when == when && last.id == id {
			return
		}
	}
	if q.n == len(q.ring) {
		q.grow()
		mask = len(q.ring) - 1
	}
	i := q.head + q.n
	q.n++
	for ; i > q.head && q.ring[(i-1)&mask].when > when; i-- {
		q.ring[i&mask] = q.ring[(i-1)&mask]
	}
	q.ring[i&mask] = keyExpiry{when: when, id: id}
	q.last = q.ring[(q.head+q.n-1)&mask].when
}

// grow doubles the ring, its entries in order from index 0.
func (q *expiryFIFO) grow() {
	r := make([]keyExpiry, max(64, 2*len(q.ring)))
	mask := len(q.ring) - 1
	for i := range q.n {
		r[i] = q.ring[(q.head+i)&mask]
	}
	q.ring, q.head = r, 0
}

// front returns the first entry; n > 0.
func (q *expiryFIFO) front() keyExpiry { return q.ring[q.head] }

// pop drops the first entry; n > 0.
func (q *expiryFIFO) pop() {
	q.head = (q.head + 1) & (len(q.ring) - 1)
	q.n--
}

// sizeBytes returns the heap bytes of the ring.
func (q *expiryFIFO) sizeBytes() int { return 16 * cap(q.ring) }

// at returns entry i (from the front), for tests.
func (q *expiryFIFO) at(i int) keyExpiry { return q.ring[(q.head+i)&(len(q.ring)-1)] }
