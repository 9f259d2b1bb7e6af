package window

// eventRing keeps the events of a sliding window, oldest first, as parallel
// columns on one circular index (capacity a power of two, grown by
// doubling, never shrunk): times, then each event's Num, Key and Val
// columns side by side. Event j from the front has sequence number seq0+j.
type eventRing[V any] struct {
	head, n int
	seq0    uint64
	ts      []int64
	num     []float64
	key     []uint64
	val     []V
}

func (e *eventRing[V]) slot(j int) int { return (e.head + j) & (len(e.ts) - 1) }

func (e *eventRing[V]) frontTs() int64 { return e.ts[e.head] }

func (e *eventRing[V]) push(a *Aggs[V], ts int64, r *Row[V]) {
	if e.n == len(e.ts) {
		e.grow(a)
	}
	i := e.slot(e.n)
	e.ts[i] = ts
	// Loops rather than copy: rows are a few columns, and a call to
	// memmove per column costs more than the copy.
	num := e.num[i*a.wNum : (i+1)*a.wNum]
	for j := range num {
		num[j] = r.Num[j]
	}
	if a.wKey > 0 {
		key := e.key[i*a.wKey : (i+1)*a.wKey]
		for j := range key {
			key[j] = r.Key[j]
		}
	}
	if a.wVal > 0 {
		val := e.val[i*a.wVal : (i+1)*a.wVal]
		for j := range val {
			val[j] = r.Val[j]
		}
	}
	e.n++
}

func (e *eventRing[V]) pop(a *Aggs[V]) {
	if a.wVal > 0 {
		clear(e.val[e.head*a.wVal : (e.head+1)*a.wVal]) // release references
	}
	e.head = (e.head + 1) & (len(e.ts) - 1)
	e.n--
	e.seq0++
}

func (e *eventRing[V]) reset() {
	clear(e.val)
	e.head, e.n = 0, 0
}

func (e *eventRing[V]) grow(a *Aggs[V]) {
	c := max(4, 2*len(e.ts))
	ts := make([]int64, c)
	num := make([]float64, c*a.wNum)
	key := make([]uint64, c*a.wKey)
	val := make([]V, c*a.wVal)
	for j := 0; j < e.n; j++ {
		i := e.slot(j)
		ts[j] = e.ts[i]
		copy(num[j*a.wNum:], e.num[i*a.wNum:(i+1)*a.wNum])
		copy(key[j*a.wKey:], e.key[i*a.wKey:(i+1)*a.wKey])
		copy(val[j*a.wVal:], e.val[i*a.wVal:(i+1)*a.wVal])
	}
	e.ts, e.num, e.key, e.val, e.head = ts, num, key, val, 0
}

func (e *eventRing[V]) sizeBytes() int {
	return 8*(cap(e.ts)+cap(e.num)+cap(e.key)) + vSize[V]()*cap(e.val)
}
