package pattern

import (
	"fmt"
	"math"
	"math/bits"
	"slices"

	"github.com/cepengine/cep/engine/event"
)

// The affine mode of count-only matching: time per event independent of
// the window.
//
// Under the preconditions of Spec.CountOnly an event acts on every live
// run alike, whatever its first-take time: which runs take it depends only
// on the run's automaton state and on which elements accept the event
// (conditions are Local), and within only decides which runs are still
// alive. So the runs begun by one event (a bucket, all with that event's
// time as first take) are a vector of multiplicities over the S automaton
// states, and an event maps every bucket's vector by the same linear map
// A, begins a new bucket s, and completes d·v matches of a bucket v. The
// sum V of the live buckets' vectors is what an event needs: it completes
// d·V matches (plus those of its own new bucket). An event is thus the
// affine map x -> A x + s, and V is the composition of the maps of the
// events since the oldest live bucket, applied to 0. Within drops buckets
// from the old end and events append maps at the new end: a sliding
// window over a monoid without inverse (affine maps under composition),
// which the two-stacks algorithm aggregates in O(1) compositions per event
// amortized. A composition costs O(S^3) for a handful of states; events
// that change nothing (no element accepts them and no run waits on a
// strict edge) cost a signature and a table lookup.
//
// A and s depend on the event only through its signature (the set of
// steps whose element accepts it), so Compile tabulates them per
// signature, by running the run-based counter on unit runs. Patterns with
// more than maxAffineStates states or maxAffineSigs signatures keep the
// run-based counter. Counts saturate at 2^64-1: with non-negative
// integers, saturating sums and products give min(true value, 2^64-1)
// whatever the order of the operations, so the window's compositions are
// exact up to saturation.

const (
	maxAffineStates = 16
	maxAffineSigs   = 4096
)

// affine is the transition table of a count-only pattern, shared by its
// matchers (immutable once built).
type affine struct {
	n     int               // S, the number of states
	trans map[uint64]*amove // per signature
	small []*amove          // per signature when every step fits in smallSig bits
	zero  *amove            // the empty signature
}

const smallSig = 10

// amove is an event's effect on the window: x -> A x + s, with d·x
// matches completed from x and c0 from the event's own new bucket.
type amove struct {
	ident  bool     // A is the identity, s, d and c0 are zero: nothing to do
	noop   bool     // A is the identity and s zero: the window stays as it is
	aIdent bool     // A is the identity
	a      []uint64 // S x S, a[i*S+j]: runs moved from state j to state i
	s      []uint64 // the new bucket
	d      []uint64 // matches completed per run of each state
	c0     uint64
	hasD   bool // d is not all zero
}

type stateKey struct {
	k, iter     int32
	edge, entry edgeKind
}

func keyOf(r *crun) stateKey { return stateKey{r.k, r.iter, r.edge, r.entry} }

func satMul(a, b uint64) uint64 {
	hi, lo := bits.Mul64(a, b)
	if hi != 0 {
		return math.MaxUint64
	}
	return lo
}

// buildAffine tabulates p's count-only transitions, or returns nil when
// the pattern has too many states or signatures for the affine mode.
func buildAffine(p *Pattern) *affine {
	if len(p.steps) > 63 {
		return nil
	}
	// The signatures an event can have: for each type, the subsets of the
	// steps whose element has that type.
	byType := map[int32]uint64{}
	for k, st := range p.steps {
		byType[st.el.Type] |= 1 << k
	}
	sigs := []uint64{0}
	for _, mask := range byType {
		if bits.OnesCount64(mask) > 12 {
			return nil
		}
		for sub := mask; sub != 0; sub = (sub - 1) & mask {
			sigs = append(sigs, sub)
		}
		if len(sigs) > maxAffineSigs {
			return nil
		}
	}
	slices.Sort(sigs)
	sigs = slices.Compact(sigs)

	mt := NewMatcher(p, nil, Config{MaxPartials: math.MaxInt32}, nil, nil)
	c := &counter{trust: true, inited: true}
	var states []crun
	index := map[stateKey]int{}
	add := func(runs []crun) bool {
		for i := range runs {
			r := runs[i]
			if _, ok := index[keyOf(&r)]; ok {
				continue
			}
			if len(states) == maxAffineStates {
				return false
			}
			r.n, r.firstT = 1, 0
			index[keyOf(&r)] = len(states)
			states = append(states, r)
		}
		return true
	}
	start := func(sig uint64) []crun {
		c.sig, c.done = sig, 0
		c.next, c.block = c.next[:0], 0
		c.startAt(mt, 0)
		return c.next
	}
	step := func(sig uint64, r crun) []crun {
		c.sig, c.done = sig, 0
		c.next, c.block = c.next[:0], 0
		if c.advance(mt, &r, 0) {
			c.push(mt, r)
		}
		return c.next
	}
	for _, sig := range sigs {
		if !add(start(sig)) {
			return nil
		}
	}
	for j := 0; j < len(states); j++ {
		for _, sig := range sigs {
			if !add(step(sig, states[j])) {
				return nil
			}
		}
	}
	n := len(states)
	a := &affine{n: n, trans: map[uint64]*amove{}}
	for _, sig := range sigs {
		m := &amove{a: make([]uint64, n*n), s: make([]uint64, n), d: make([]uint64, n)}
		for _, r := range start(sig) {
			m.s[index[keyOf(&r)]] = satAdd(m.s[index[keyOf(&r)]], r.n)
		}
		m.c0 = c.done
		for j := range states {
			for _, r := range step(sig, states[j]) {
				i := index[keyOf(&r)]
				m.a[i*n+j] = satAdd(m.a[i*n+j], r.n)
			}
			m.d[j] = c.done
			m.hasD = m.hasD || c.done != 0
		}
		m.aIdent = true
		for i := 0; i < n && m.aIdent; i++ {
			for j := 0; j < n && m.aIdent; j++ {
				want := uint64(0)
				if i == j {
					want = 1
				}
				m.aIdent = m.a[i*n+j] == want
			}
		}
		m.noop = m.aIdent && !nonZero(m.s)
		m.ident = m.noop && m.c0 == 0 && !m.hasD
		a.trans[sig] = m
	}
	a.zero = a.trans[0]
	if len(p.steps) <= smallSig {
		a.small = make([]*amove, 1<<len(p.steps))
		for sig, m := range a.trans {
			a.small[sig] = m
		}
	}
	return a
}

func (a *affine) move(sig uint64) *amove {
	if a.small != nil {
		if m := a.small[sig]; m != nil {
			return m
		}
	} else if m, ok := a.trans[sig]; ok {
		return m
	}
	return a.zero
}

// init picks the mode on first use: the pattern's table when it has one.
func (c *counter) init(mt *Matcher) {
	if c.inited {
		return
	}
	c.inited = true
	if a := mt.p.affineTable(); a != nil {
		c.aff, c.trust = a, true
		c.win.init(a.n)
	}
}

// processAffine is process in the affine mode.
func (c *counter) processAffine(mt *Matcher, ev *event.Event) error {
	mt.overflow = false
	p := mt.store(ev)
	w := mt.p.within
	if w > 0 {
		c.win.expire(ev.Time - w)
	}
	c.sig = c.signature(mt, p)
	mt.base = p // conditions read the candidate and prev only
	m := c.aff.move(c.sig)
	if m.ident {
		return nil
	}
	c.done = m.c0
	if m.hasD {
		c.done = satAdd(c.done, c.win.dot(m.d, w > 0))
	}
	if !m.noop && !c.win.apply(m, ev.Time, w > 0, mt.cfg.MaxPartials) {
		mt.stats.Dropped++
		mt.overflow = true
	}
	c.emitCount(mt, ev.Time)
	if mt.overflow {
		return errOverflowCount(mt.cfg.MaxPartials)
	}
	return nil
}

// window holds the live buckets of the affine mode as the two-stacks
// sliding-window aggregate of their affine maps. front is the older part,
// as a stack whose top (the end) is the oldest entry, each entry holding
// the composition of itself and every newer front entry; back is the
// newer part in arrival order, with the composition of all of it in
// backAgg. Without within nothing expires, and only the sum vector is
// kept (sum).
type window struct {
	n           int
	front, back []wentry
	backAgg     amap
	free        []wentry
	tmp         amap
	sum         []uint64 // without within: the live runs per state
	scratch     []uint64
}

// wentry is an entry of the window: the maps of the events from a bucket's
// event (or, when bucket is false, from an event that began no bucket)
// up to the next entry.
type wentry struct {
	t      int64
	bucket bool
	f, agg amap
}

// amap is the affine map x -> m x + v over S states.
type amap struct {
	m, v []uint64
}

func (w *window) newMap() amap {
	return amap{m: make([]uint64, w.n*w.n), v: make([]uint64, w.n)}
}

func (w *window) init(n int) {
	w.n = n
	w.backAgg = w.newMap()
	w.setIdentity(&w.backAgg)
	w.tmp = w.newMap()
	w.sum = make([]uint64, n)
	w.scratch = make([]uint64, n)
}

func (w *window) setIdentity(a *amap) {
	clear(a.m)
	clear(a.v)
	for i := 0; i < w.n; i++ {
		a.m[i*w.n+i] = 1
	}
}

func (w *window) len() int { return len(w.front) + len(w.back) }

func (w *window) clear() {
	w.free = append(w.free, w.front...)
	w.free = append(w.free, w.back...)
	w.front, w.back = w.front[:0], w.back[:0]
	if w.n > 0 {
		w.setIdentity(&w.backAgg)
		clear(w.sum)
	}
}

func (w *window) entry() wentry {
	if k := len(w.free); k > 0 {
		e := w.free[k-1]
		w.free = w.free[:k-1]
		return e
	}
	return wentry{f: w.newMap(), agg: w.newMap()}
}

// compose sets dst to g∘f: x -> g.m (f.m x + f.v) + g.v. dst aliases
// neither.
func (w *window) compose(dst, g, f *amap) {
	n := w.n
	for i := 0; i < n; i++ {
		gi := g.m[i*n : i*n+n]
		v := g.v[i]
		for k, gk := range gi {
			if gk != 0 {
				v = satAdd(v, satMul(gk, f.v[k]))
			}
		}
		dst.v[i] = v
		row := dst.m[i*n : i*n+n]
		clear(row)
		for k, gk := range gi {
			if gk == 0 {
				continue
			}
			fk := f.m[k*n : k*n+n]
			for j, x := range fk {
				if x != 0 {
					row[j] = satAdd(row[j], satMul(gk, x))
				}
			}
		}
	}
}

// applyTo sets dst = m.a x + s.
func (w *window) applyTo(dst []uint64, m *amove, x []uint64) {
	n := w.n
	for i := 0; i < n; i++ {
		v := m.s[i]
		for j, a := range m.a[i*n : i*n+n] {
			if a != 0 && x[j] != 0 {
				v = satAdd(v, satMul(a, x[j]))
			}
		}
		dst[i] = v
	}
}

func (m *amove) asMap() amap { return amap{m: m.a, v: m.s} }

func nonZero(v []uint64) bool {
	for _, x := range v {
		if x != 0 {
			return true
		}
	}
	return false
}

// apply appends an event's map. bounded: within applies (else only the
// sum is kept). It reports false when the event's new bucket was dropped
// because the window holds limit entries.
func (w *window) apply(m *amove, t int64, bounded bool, limit int) bool {
	if !bounded {
		w.applyTo(w.scratch, m, w.sum)
		w.sum, w.scratch = w.scratch, w.sum
		return true
	}
	bucket := nonZero(m.s)
	ok := true
	if bucket && limit > 0 && w.len() >= limit {
		bucket, ok = false, false
	}
	mm := m.asMap()
	if !bucket {
		if !ok {
			mm = amap{m: m.a, v: w.zeroVec()}
		}
		switch {
		case len(w.back) > 0:
			top := &w.back[len(w.back)-1]
			w.compose(&w.tmp, &mm, &top.f)
			top.f, w.tmp = w.tmp, top.f
		case len(w.front) == 0:
			return ok // no live bucket for the map to act on
		default:
			e := w.entry()
			e.t, e.bucket = t, false
			copy(e.f.m, mm.m)
			copy(e.f.v, mm.v)
			w.back = append(w.back, e)
		}
	} else {
		e := w.entry()
		e.t, e.bucket = t, true
		copy(e.f.m, mm.m)
		copy(e.f.v, mm.v)
		w.back = append(w.back, e)
	}
	if m.aIdent {
		// A new bucket under the identity: the composition only adds s.
		for i, x := range mm.v {
			w.backAgg.v[i] = satAdd(w.backAgg.v[i], x)
		}
		return ok
	}
	w.compose(&w.tmp, &mm, &w.backAgg)
	w.backAgg, w.tmp = w.tmp, w.backAgg
	return ok
}

func (w *window) zeroVec() []uint64 {
	clear(w.scratch)
	return w.scratch
}

// flip moves the back entries to the front, computing their suffix
// compositions, newest first.
func (w *window) flip() {
	for i := len(w.back) - 1; i >= 0; i-- {
		e := w.back[i]
		if len(w.front) == 0 {
			copy(e.agg.m, e.f.m)
			copy(e.agg.v, e.f.v)
		} else {
			w.compose(&e.agg, &w.front[len(w.front)-1].agg, &e.f)
		}
		w.front = append(w.front, e)
	}
	w.back = w.back[:0]
	w.setIdentity(&w.backAgg)
}

// expire drops the buckets of events at or before limit (their within
// has run out), and entries that begin no bucket once nothing older is
// left (their maps act on nothing).
func (w *window) expire(limit int64) {
	for {
		if len(w.front) == 0 {
			if len(w.back) == 0 {
				return
			}
			w.flip()
		}
		top := &w.front[len(w.front)-1]
		if top.bucket && top.t > limit {
			return
		}
		w.free = append(w.free, *top)
		w.front = w.front[:len(w.front)-1]
	}
}

// dot returns d·V, V the sum of the live buckets' vectors.
func (w *window) dot(d []uint64, bounded bool) uint64 {
	v := w.sum
	if bounded {
		v = w.vector()
	}
	var s uint64
	for i, x := range d {
		if x != 0 && v[i] != 0 {
			s = satAdd(s, satMul(x, v[i]))
		}
	}
	return s
}

// vector returns V = backAgg(frontTop.agg(0)) in scratch.
func (w *window) vector() []uint64 {
	n := w.n
	out := w.scratch
	if len(w.front) == 0 {
		copy(out, w.backAgg.v)
		return out
	}
	fv := w.front[len(w.front)-1].agg.v
	for i := 0; i < n; i++ {
		v := w.backAgg.v[i]
		for j, a := range w.backAgg.m[i*n : i*n+n] {
			if a != 0 && fv[j] != 0 {
				v = satAdd(v, satMul(a, fv[j]))
			}
		}
		out[i] = v
	}
	return out
}

// deadline is the expiry of the oldest live bucket.
func (w *window) deadline(within int64) (int64, bool) {
	if within <= 0 {
		return math.MaxInt64, false
	}
	for i := len(w.front) - 1; i >= 0; i-- {
		if w.front[i].bucket {
			return w.front[i].t + within, true
		}
	}
	for i := range w.back {
		if w.back[i].bucket {
			return w.back[i].t + within, true
		}
	}
	return math.MaxInt64, false
}

func (p *Pattern) affineTable() *affine { return p.aff }

func errOverflowCount(limit int) error {
	return fmt.Errorf("%w: partition holds %d count-only buckets (MaxPartials)", ErrOverflow, limit)
}
