package engine

// expiryFIFO is a ring (length a power of two) of key wake-ups sorted by
// time: the deadlines of an operator whose keys' deadlines come, as a
// rule, in time order (a fixed span after an event: sliding windows'
// expiries, a pattern's within; a window's end). It takes and fires them
// in O(1) each, reading memory in order, where the deadline queue's heap
// costs a timer slot per key and O(log n). An entry is stale when its key's
// deadline has since moved (the operator checks: keyState.due,
// patternKey.due); stale entries are dropped when they reach the front.
//
// A ring, not a slice consumed from the front: it holds an entry per
// pending wake-up, and a ring grows to at most twice that, where a slice
// compacted now and then holds up to four times as much.
//
// The times are kept once per run of equal times: the keys' ids in one
// ring (4 bytes an entry), each run's time and length in another. The
// windows of a tumbling rule end together (they are aligned to the
// epoch), so that its keys' wake-ups are one run, at 4 bytes a key rather
// than an entry of 16; wake-ups of distinct times (a sliding window's, an
// event's each) cost 4 + 12 bytes, as an entry of time and id would.
type expiryFIFO struct {
	ids   []int32 // ring of the entries' keys, in order
	head  int
	n     int      // entries
	whens []int64  // ring of the runs' times, increasing
	lens  []uint32 // per run (the same index as whens): its entries, > 0
	rhead int
	runs  int
}

// keyExpiry wakes key id at when, if that is still its deadline.
type keyExpiry struct {
	when int64
	id   int32
}

// fits reports whether when goes at the end: not earlier than the last
// entry.
func (q *expiryFIFO) fits(when int64) bool {
	return q.runs == 0 || q.whens[(q.rhead+q.runs-1)&(len(q.whens)-1)] <= when
}

// push adds a wake-up of key id at when: at the end when it fits, else
// moved back to its place by time, after the entries of its time, so that
// no order of arrivals can make a wake-up late. A repeat of the last entry
// is dropped (the events of one key and instant leave together).
func (q *expiryFIFO) push(when int64, id int32) {
	if q.runs > 0 {
		last := (q.rhead + q.runs - 1) & (len(q.whens) - 1)
		switch lw := q.whens[last]; {
		case lw == when:
			if q.ids[(q.head+q.n-1)&(len(q.ids)-1)] == id {
				return
			}
			q.pushID(id)
			q.lens[last]++
			return
		case lw > when:
			q.insert(when, id)
			return
		}
	}
	q.pushID(id)
	q.pushRun(when, 1)
}

// pushID appends id to the ids ring.
func (q *expiryFIFO) pushID(id int32) {
	if q.n == len(q.ids) {
		r := make([]int32, max(64, 2*len(q.ids)))
		for i := range q.n {
			r[i] = q.ids[(q.head+i)&(len(q.ids)-1)]
		}
		q.ids, q.head = r, 0
	}
	q.ids[(q.head+q.n)&(len(q.ids)-1)] = id
	q.n++
}

// pushRun appends a run of n entries at when.
func (q *expiryFIFO) pushRun(when int64, n uint32) {
	if q.runs == len(q.whens) {
		w, l := make([]int64, max(16, 2*len(q.whens))), make([]uint32, max(16, 2*len(q.whens)))
		for i := range q.runs {
			j := (q.rhead + i) & (len(q.whens) - 1)
			w[i], l[i] = q.whens[j], q.lens[j]
		}
		q.whens, q.lens, q.rhead = w, l, 0
	}
	j := (q.rhead + q.runs) & (len(q.whens) - 1)
	q.whens[j], q.lens[j] = when, n
	q.runs++
}

// insert puts a wake-up earlier than the last in its place: after the
// entries at or before when. O(entries after it), as events reach windows
// in time order and only a bug elsewhere would send one.
func (q *expiryFIFO) insert(when int64, id int32) {
	rmask := len(q.whens) - 1
	// r: the last run at or before when (-1: none); at: the entries up to
	// and including it.
	r, at := q.runs-1, q.n
	for ; r >= 0 && q.whens[(q.rhead+r)&rmask] > when; r-- {
		at -= int(q.lens[(q.rhead+r)&rmask])
	}
	q.pushID(id) // room for one more; then moved back to at
	mask := len(q.ids) - 1
	for i := q.n - 1; i > at; i-- {
		q.ids[(q.head+i)&mask] = q.ids[(q.head+i-1)&mask]
	}
	q.ids[(q.head+at)&mask] = id
	if r >= 0 && q.whens[(q.rhead+r)&rmask] == when {
		q.lens[(q.rhead+r)&rmask]++
		return
	}
	q.pushRun(0, 0) // room for one more; then the runs after r move back
	rmask = len(q.whens) - 1
	for i := q.runs - 1; i > r+1; i-- {
		a, b := (q.rhead+i)&rmask, (q.rhead+i-1)&rmask
		q.whens[a], q.lens[a] = q.whens[b], q.lens[b]
	}
	q.whens[(q.rhead+r+1)&rmask], q.lens[(q.rhead+r+1)&rmask] = when, 1
}

// front returns the first entry; n > 0.
func (q *expiryFIFO) front() keyExpiry {
	return keyExpiry{when: q.whens[q.rhead], id: q.ids[q.head]}
}

// pop drops the first entry; n > 0.
func (q *expiryFIFO) pop() {
	q.head = (q.head + 1) & (len(q.ids) - 1)
	q.n--
	if q.lens[q.rhead]--; q.lens[q.rhead] == 0 {
		q.rhead = (q.rhead + 1) & (len(q.whens) - 1)
		q.runs--
	}
}

// sizeBytes returns the heap bytes of the rings.
func (q *expiryFIFO) sizeBytes() int { return 4*cap(q.ids) + 12*cap(q.whens) }

// at returns entry i (from the front), for tests.
func (q *expiryFIFO) at(i int) keyExpiry {
	rmask := len(q.whens) - 1
	r := 0
	for skip := i; skip >= int(q.lens[(q.rhead+r)&rmask]); r++ {
		skip -= int(q.lens[(q.rhead+r)&rmask])
	}
	return keyExpiry{when: q.whens[(q.rhead+r)&rmask], id: q.ids[(q.head+i)&(len(q.ids)-1)]}
}
