package engine

// timerID names a pending timer; the zero timerID names none. A timer's
// slot is reused after it fires or is cancelled; gen tells the uses apart,
// so a stale id is harmless.
type timerID struct {
	slot uint32
	gen  uint32
}

// firedTimer is what an operator gets back when its timer fires.
type firedTimer struct {
	when int64  // event time the timer was set for
	node int32  // graph node that set it (-1: none)
	arg  uint64 // operator's payload: a key, a partial-match id, ...
}

type timerSlot struct {
	node int32
	pos  int32 // index in heap; -1 when the slot is free
	gen  uint32
	arg  uint64
}

// heapEntry keeps the ordering key beside the slot number, so sifting
// compares without touching the slots.
type heapEntry struct {
	when int64
	seq  uint64 // setting order: equal times fire in the order they were set
	slot uint32
}

func (a *heapEntry) before(b *heapEntry) bool {
	return a.when < b.when || a.when == b.when && a.seq < b.seq
}

// timerQueue is an indexed 4-ary min-heap of timers on event time, ordered
// by (when, setting order). Set, cancel and reset are O(log n) through the
// slot's heap index; slots are recycled through a free list, so a steady
// state allocates nothing. Window close, within expiry, absence and session
// gaps are its users.
type timerQueue struct {
	slots []timerSlot
	free  []uint32
	heap  []heapEntry
	seq   uint64
}

func (q *timerQueue) len() int { return len(q.heap) }

func (q *timerQueue) place(i int, e heapEntry) {
	q.heap[i] = e
	q.slots[e.slot].pos = int32(i)
}

func (q *timerQueue) up(i int) {
	x := q.heap[i]
	for i > 0 {
		p := (i - 1) / 4
		if !x.before(&q.heap[p]) {
			break
		}
		q.place(i, q.heap[p])
		i = p
	}
	q.place(i, x)
}

func (q *timerQueue) down(i int) {
	h := q.heap
	x := h[i]
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
		q.place(i, h[m])
		i = m
	}
	q.place(i, x)
}

// set adds a timer for event time when.
func (q *timerQueue) set(when int64, node int32, arg uint64) timerID {
	var s uint32
	if n := len(q.free); n > 0 {
		s = q.free[n-1]
		q.free = q.free[:n-1]
	} else {
		s = uint32(len(q.slots))
		q.slots = append(q.slots, timerSlot{})
	}
	q.seq++
	sl := &q.slots[s]
	sl.gen++
	sl.node, sl.arg = node, arg
	q.heap = append(q.heap, heapEntry{when: when, seq: q.seq, slot: s})
	q.up(len(q.heap) - 1)
	return timerID{slot: s, gen: sl.gen}
}

func (q *timerQueue) valid(id timerID) bool {
	return id.gen != 0 && int(id.slot) < len(q.slots) && q.slots[id.slot].gen == id.gen && q.slots[id.slot].pos >= 0
}

// cancel removes a pending timer; false if it already fired or was cancelled.
func (q *timerQueue) cancel(id timerID) bool {
	if !q.valid(id) {
		return false
	}
	q.remove(int(q.slots[id.slot].pos))
	return true
}

// reset moves a pending timer to a new time, as if set anew (it goes after
// timers already set for that time); false if it is no longer pending.
func (q *timerQueue) reset(id timerID, when int64) bool {
	if !q.valid(id) {
		return false
	}
	q.seq++
	i := int(q.slots[id.slot].pos)
	q.heap[i].when, q.heap[i].seq = when, q.seq
	q.up(i)
	q.down(int(q.slots[id.slot].pos))
	return true
}

func (q *timerQueue) remove(i int) {
	s := q.heap[i].slot
	last := len(q.heap) - 1
	if i != last {
		q.place(i, q.heap[last])
	}
	q.heap = q.heap[:last]
	if i != last {
		q.down(i)
		q.up(i)
	}
	q.slots[s].pos = -1
	q.slots[s].gen++ // ids of this use are now stale
	q.free = append(q.free, s)
}

// peek returns the time of the earliest timer.
func (q *timerQueue) peek() (int64, bool) {
	if len(q.heap) == 0 {
		return 0, false
	}
	return q.heap[0].when, true
}

// pop removes and returns the earliest timer.
func (q *timerQueue) pop() firedTimer {
	e := q.heap[0]
	sl := &q.slots[e.slot]
	t := firedTimer{when: e.when, node: sl.node, arg: sl.arg}
	q.remove(0)
	return t
}

// due reports whether a timer is due at or before t: one compare when the
// queue is empty or its earliest timer is later.
func (q *timerQueue) due(t int64) bool {
	return len(q.heap) > 0 && q.heap[0].when <= t
}

// keyDeadlines is the deadline queue of one kind of keyed operator (window
// and output rules, or pattern rules): one entry per key that has a
// deadline, backed by a single matcher timer kept at the earliest entry, so
// that a million keys cost the matcher's timer queue one timer.
type keyDeadlines struct {
	q      timerQueue // key deadlines: node = operator index, arg = key id
	node   int32      // node of the matcher timer (any node of the kind)
	mt     timerID    // the matcher timer, at q's earliest deadline
	mtWhen int64
	mtSet  bool
	firing bool // while the due keys run: sync once at the end
	batch  []dueKey
}

// sync keeps the matcher timer at the deadline queue's earliest entry.
func (kd *keyDeadlines) sync(m *Matcher) {
	t, ok := kd.q.peek()
	if !ok {
		if kd.mtSet {
			m.cancelTimer(kd.mt)
			kd.mtSet = false
		}
		return
	}
	if kd.mtSet {
		if kd.mtWhen == t {
			return
		}
		if m.resetTimer(kd.mt, t) {
			kd.mtWhen = t
			return
		}
	}
	kd.mt, kd.mtSet, kd.mtWhen = m.setTimer(t, kd.node, 0), true, t
}
