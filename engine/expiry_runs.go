package engine

// runFIFO is an expiryFIFO for wake-ups that come in runs of one time:
// the window ends of a tumbling or hopping rule, aligned to the epoch, so
// that its keys' wake-ups are due together. It keeps the time once per run
// (12 bytes) beside 4 bytes an entry, where an expiryFIFO entry takes 16:
// a tumbling rule's keys cost 4 bytes each. Wake-ups of distinct times
// cost 16 bytes here too, and a few instructions more (two rings), which
// is why sliding windows and patterns keep the expiryFIFO.
type runFIFO struct {
	ids  []int32 // ring of the entries' keys, in order
	n    int     // entries
	head uint32  // entries popped so far: the front is ids[head & mask]
	// The runs: a ring of their times (increasing) and of their ends,
	// each the count of entries pushed up to the run's last (modulo 2^32:
	// the ring holds fewer), so that pop compares, and writes nothing.
	whens []int64
	ends  []uint32
	rhead int
	runs  int
}

// fits reports whether when goes at the end: not earlier than the last
// entry.
func (q *runFIFO) fits(when int64) bool {
	return q.runs == 0 || q.whens[(q.rhead+q.runs-1)&(len(q.whens)-1)] <= when
}

// push adds a wake-up of key id at when: at the end when it fits, else
// moved back to its place by time, after the entries of its time, so that
// no order of arrivals can make a wake-up late. A repeat of the last entry
// is dropped (the events of one key and instant leave together).
func (q *runFIFO) push(when int64, id int32) {
	if q.n == len(q.ids) || q.runs == len(q.whens) {
		q.grow()
	}
	tail := q.head + uint32(q.n)
	if q.runs > 0 {
		last := (q.rhead + q.runs - 1) & (len(q.whens) - 1)
		switch lw := q.whens[last]; {
		case lw == when:
			if q.ids[(tail-1)&uint32(len(q.ids)-1)] == id {
				return
			}
			q.ids[tail&uint32(len(q.ids)-1)] = id
			q.n++
			q.ends[last] = tail + 1
			return
		case lw > when:
			q.insert(when, id)
			return
		}
	}
	q.ids[tail&uint32(len(q.ids)-1)] = id
	q.n++
	j := (q.rhead + q.runs) & (len(q.whens) - 1)
	q.whens[j], q.ends[j] = when, tail+1
	q.runs++
}

// grow doubles the rings that are full, their contents in order from
// index 0 (the entries' positions, and so the runs' ends, stay).
func (q *runFIFO) grow() {
	if q.n == len(q.ids) {
		r := make([]int32, max(64, 2*len(q.ids)))
		for i := range uint32(q.n) {
			p := q.head + i
			r[p&uint32(len(r)-1)] = q.ids[p&uint32(len(q.ids)-1)]
		}
		q.ids = r
	}
	if q.runs == len(q.whens) {
		w, e := make([]int64, max(16, 2*len(q.whens))), make([]uint32, max(16, 2*len(q.whens)))
		for i := range q.runs {
			j := (q.rhead + i) & (len(q.whens) - 1)
			w[i], e[i] = q.whens[j], q.ends[j]
		}
		q.whens, q.ends, q.rhead = w, e, 0
	}
}

// insert puts a wake-up earlier than the last in its place: after the
// entries at or before when. O(entries after it), as events reach windows
// in time order and only a bug elsewhere would send one. The rings have
// room for one more (push grew them).
func (q *runFIFO) insert(when int64, id int32) {
	rmask, mask := len(q.whens)-1, uint32(len(q.ids)-1)
	// r: the last run at or before when (-1: none); at: its end.
	r, at := q.runs-1, q.head
	for ; r >= 0 && q.whens[(q.rhead+r)&rmask] > when; r-- {
	}
	if r >= 0 {
		at = q.ends[(q.rhead+r)&rmask]
	}
	for p := q.head + uint32(q.n); p != at; p-- {
		q.ids[p&mask] = q.ids[(p-1)&mask]
	}
	q.ids[at&mask] = id
	q.n++
	for i := r + 1; i < q.runs; i++ {
		q.ends[(q.rhead+i)&rmask]++
	}
	if r >= 0 && q.whens[(q.rhead+r)&rmask] == when {
		q.ends[(q.rhead+r)&rmask]++
		return
	}
	for i := q.runs; i > r+1; i-- {
		a, b := (q.rhead+i)&rmask, (q.rhead+i-1)&rmask
		q.whens[a], q.ends[a] = q.whens[b], q.ends[b]
	}
	q.whens[(q.rhead+r+1)&rmask], q.ends[(q.rhead+r+1)&rmask] = when, at+1
	q.runs++
}

// front returns the first entry; n > 0.
func (q *runFIFO) front() keyExpiry {
	return keyExpiry{when: q.whens[q.rhead], id: q.ids[q.head&uint32(len(q.ids)-1)]}
}

// pop drops the first entry; n > 0.
func (q *runFIFO) pop() {
	q.head++
	q.n--
	if q.head == q.ends[q.rhead] {
		q.rhead = (q.rhead + 1) & (len(q.whens) - 1)
		q.runs--
	}
}

// sizeBytes returns the heap bytes of the rings.
func (q *runFIFO) sizeBytes() int { return 4*cap(q.ids) + 12*cap(q.whens) }

// at returns entry i (from the front), for tests.
func (q *runFIFO) at(i int) keyExpiry {
	rmask := len(q.whens) - 1
	p := q.head + uint32(i)
	r := 0
	for p-q.head >= q.ends[(q.rhead+r)&rmask]-q.head {
		r++
	}
	return keyExpiry{when: q.whens[(q.rhead+r)&rmask], id: q.ids[p&uint32(len(q.ids)-1)]}
}
