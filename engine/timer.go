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
	node   int32
	pos    int32 // index in heap; inFIFO in the FIFO lane; -1 when the slot is free
	gen    uint32
	ticket uint32 // the slot's current FIFO entry (older entries are stale)
	arg    uint64
}

// inFIFO is timerSlot.pos of a timer in the FIFO lane.
const inFIFO = -2

// fifoEntry is a timer of the FIFO lane; stale when its slot has since
// been cancelled, reset or reused (ticket).
type fifoEntry struct {
	heapEntry
	ticket uint32
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

// timerQueue holds timers on event time, ordered by (when, setting
// order), in two lanes: a FIFO for the timers set no earlier than the
// latest one in it, and an indexed 4-ary min-heap for the others. Window
// close, within expiry, absence and session gaps are its users.
//
// Why two lanes. Most timers are set at now + a fixed span (within,
// absence, a window's size), so they come in time order: the FIFO takes
// them in O(1) and fires them in O(1), reading memory in order. A million
// pending absence timers (W7) in a heap cost a pop ~10 levels of cache
// misses, twice over (the entries and their slots' positions). A timer
// set out of order goes to the heap, O(log n). Cancel is O(1) in the
// FIFO (the entry goes stale and is skipped when it comes to the front;
// the front is never stale), O(log n) in the heap; reset re-sets. Slots
// are recycled through a free list, so a steady state allocates nothing.
type timerQueue struct {
	slots []timerSlot
	free  []uint32
	heap  []heapEntry
	fifo  []fifoEntry // [head:] pending, sorted; the front is live
	head  int
	live  int // timers pending in the FIFO
	seq   uint64
	// next is the earliest pending timer's time, when has: kept by every
	// change of either lane, so that due, asked once or twice per event,
	// is one compare.
	next int64
	has  bool
}

// renext recomputes next after a change of a lane.
func (q *timerQueue) renext() {
	hok, fok := len(q.heap) > 0, q.head < len(q.fifo)
	switch {
	case hok && fok:
		q.next, q.has = min(q.heap[0].when, q.fifo[q.head].when), true
	case hok:
		q.next, q.has = q.heap[0].when, true
	case fok:
		q.next, q.has = q.fifo[q.head].when, true
	default:
		q.has = false
	}
}

func (q *timerQueue) len() int { return len(q.heap) + q.live }

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
	sl := &q.slots[s]
	sl.gen++
	sl.node, sl.arg = node, arg
	q.place0(s, when)
	return timerID{slot: s, gen: sl.gen}
}

// place0 puts slot s, not in a lane, in one for time when, after the
// timers set before it.
func (q *timerQueue) place0(s uint32, when int64) {
	q.seq++
	e := heapEntry{when: when, seq: q.seq, slot: s}
	if n := len(q.fifo); n == q.head || q.fifo[n-1].when <= when {
		sl := &q.slots[s]
		sl.pos = inFIFO
		sl.ticket++
		if q.head > 1024 && 2*q.head > len(q.fifo) {
			q.fifo = q.fifo[:copy(q.fifo, q.fifo[q.head:])]
			q.head = 0
		}
		q.fifo = append(q.fifo, fifoEntry{heapEntry: e, ticket: sl.ticket})
		q.live++
		q.renext()
		return
	}
	q.heap = append(q.heap, e)
	q.up(len(q.heap) - 1)
	q.renext()
}

// fifoLive reports whether FIFO entry e is its slot's current one.
func (q *timerQueue) fifoLive(e *fifoEntry) bool {
	sl := &q.slots[e.slot]
	return sl.pos == inFIFO && sl.ticket == e.ticket
}

// skipStale drops the stale entries at the FIFO's front.
func (q *timerQueue) skipStale() {
	for q.head < len(q.fifo) && !q.fifoLive(&q.fifo[q.head]) {
		q.head++
	}
	if q.head == len(q.fifo) {
		q.fifo, q.head = q.fifo[:0], 0
	}
	q.renext()
}

// unfifo takes slot s out of the FIFO lane (its entry goes stale).
func (q *timerQueue) unfifo(s uint32) {
	q.slots[s].pos = -1
	q.live--
	q.skipStale()
}

func (q *timerQueue) valid(id timerID) bool {
	return id.gen != 0 && int(id.slot) < len(q.slots) && q.slots[id.slot].gen == id.gen &&
		(q.slots[id.slot].pos >= 0 || q.slots[id.slot].pos == inFIFO)
}

// cancel removes a pending timer; false if it already fired or was cancelled.
func (q *timerQueue) cancel(id timerID) bool {
	if !q.valid(id) {
		return false
	}
	if q.slots[id.slot].pos == inFIFO {
		q.unfifo(id.slot)
		q.freeSlot(id.slot)
		return true
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
	if q.slots[id.slot].pos == inFIFO {
		q.unfifo(id.slot)
		q.place0(id.slot, when)
		return true
	}
	q.seq++
	i := int(q.slots[id.slot].pos)
	q.heap[i].when, q.heap[i].seq = when, q.seq
	q.up(i)
	q.down(int(q.slots[id.slot].pos))
	q.renext()
	return true
}

// freeSlot recycles slot s; ids of its use are stale from now on.
func (q *timerQueue) freeSlot(s uint32) {
	q.slots[s].pos = -1
	q.slots[s].gen++
	q.free = append(q.free, s)
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
	q.freeSlot(s) // ids of this use are now stale
	q.renext()
}

// front returns the earliest timer's entry and whether it is the FIFO's.
func (q *timerQueue) front() (*heapEntry, bool, bool) {
	hok, fok := len(q.heap) > 0, q.head < len(q.fifo)
	switch {
	case fok && (!hok || q.fifo[q.head].before(&q.heap[0])):
		return &q.fifo[q.head].heapEntry, true, true
	case hok:
		return &q.heap[0], false, true
	}
	return nil, false, false
}

// peek returns the time of the earliest timer.
func (q *timerQueue) peek() (int64, bool) {
	return q.next, q.has // (front's time, kept by renext: one load, inlined)
}

// pop removes and returns the earliest timer.
func (q *timerQueue) pop() firedTimer {
	e, inFifo, _ := q.front()
	sl := &q.slots[e.slot]
	t := firedTimer{when: e.when, node: sl.node, arg: sl.arg}
	if inFifo {
		s := e.slot
		q.head++
		q.unfifo(s)
		q.freeSlot(s)
	} else {
		q.remove(0)
	}
	return t
}

// due reports whether a timer is due at or before t.
func (q *timerQueue) due(t int64) bool {
	return q.has && q.next <= t
}

// keyDeadlines is the deadline queue of one kind of keyed operator (window
// and output rules, or pattern rules): one entry per key that has a
// deadline, backed by a single matcher timer kept at the earliest entry, so
// that a million keys cost the matcher one timer.
//
// The matcher timer is a lane of the matcher's own (Matcher.nextTimer), not
// an entry of its timer queue: it moves at nearly every expiry (the next
// key's deadline), and a time and a place in the queue's setting order
// (seq, drawn from the queue's counter, so that timers of equal time fire
// in the order they were set, across the lanes) cost a few stores where a
// queue entry cost a slot, a lane and their bookkeeping.
type keyDeadlines struct {
	q      timerQueue // key deadlines: node = operator index, arg = key id
	node   int32      // node of the matcher timer (any node of the kind)
	mtWhen int64      // the matcher timer, at q's earliest deadline, when mtSet
	mtSeq  uint64     // its place in the setting order (timerQueue.seq)
	mtSet  bool
	firing bool // while the due keys run: sync once at the end
	batch  []dueKey
}

// syncAt keeps the matcher timer at t (none when !ok).
func (kd *keyDeadlines) syncAt(m *Matcher, t int64, ok bool) {
	switch {
	case !ok:
		if !kd.mtSet {
			return
		}
		kd.mtSet = false
	case kd.mtSet && kd.mtWhen == t:
		return
	default:
		if !kd.mtSet {
			m.stats.TimersSet++ // (moving it is not setting one, as for the queue's)
		}
		m.timers.seq++
		kd.mtWhen, kd.mtSeq, kd.mtSet = t, m.timers.seq, true
	}
	m.redue()
}
