package pattern

import (
	"fmt"
	"math"
	"slices"

	"github.com/cepengine/cep/engine/eval"
	"github.com/cepengine/cep/engine/event"
)

// Count-only mode (Spec.CountOnly): when the caller needs how many matches
// complete at each event and no bindings, partial matches that share their
// future are one run carrying how many partial matches it stands for. The
// future of a run of the step automaton is decided by its step, its loop
// count (only up to the point where the bounds stop telling counts
// apart), its edge and loop entry edge, and its expiry (first take time +
// within); under the preconditions of validateCountOnly nothing else (no
// alias a condition reads, no guard, no greedy filter, no skip) can tell
// two such runs apart. Each event emits at most one Match whose Count is
// the number of matches that complete at it.
//
// Two modes run this. The affine mode (countonly_affine.go), chosen by
// Compile whenever the pattern's automaton is small enough, keeps one
// vector of runs per first-take event and aggregates them as a sliding
// window of affine maps: an event costs O(1) amortized, whatever the
// window and the matches. The run-based counter below, for larger
// patterns and as the affine mode's reference in tests, keeps the runs
// themselves: an event costs O(distinct states x distinct first-take
// times within the window). Both share advance, take and the other
// transition functions: the affine mode's tables are built by running
// them on unit runs.

// validateCountOnly checks the preconditions of Spec.CountOnly on a flat
// spec that is otherwise valid.
func (s *Spec) validateCountOnly() error {
	switch {
	case !s.flat():
		return fmt.Errorf("%w: count-only with groups, | or &", ErrUnsupported)
	case s.Having != nil:
		return fmt.Errorf("%w: count-only with having (it reads the bindings)", ErrInvalid)
	case s.Skip != SkipNone:
		return fmt.Errorf("%w: count-only with a skip strategy other than skip none", ErrUnsupported)
	case s.Timeout:
		return fmt.Errorf("%w: count-only with timed-out partial matches", ErrUnsupported)
	case s.WithinGap:
		return fmt.Errorf("%w: count-only with within gap (the expiry depends on the last take)", ErrUnsupported)
	}
	for i := range s.Elements {
		el := &s.Elements[i]
		switch {
		case el.Negated:
			return fmt.Errorf("%w: count-only with not %s", ErrUnsupported, el.Name)
		case el.Until != nil:
			return fmt.Errorf("%w: count-only with until on %s", ErrUnsupported, el.Name)
		case el.Mode != Branching:
			return fmt.Errorf("%w: count-only with a greedy or reluctant loop %s", ErrUnsupported, el.Name)
		case el.Cond != nil && !el.Local:
			return fmt.Errorf("%w: count-only with a condition of %s that reads other aliases", ErrUnsupported, el.Name)
		}
	}
	return nil
}

// crun is a count-only run: the partial matches that share a future.
type crun struct {
	k, iter     int32 // step; loop count class (iterClass)
	edge, entry edgeKind
	started     bool   // it took its first event
	firstT      int64  // time of the first take; 0 without within
	n           uint64 // partial matches it stands for, saturating
}

func (a *crun) sameFuture(b *crun) bool {
	return a.k == b.k && a.iter == b.iter && a.edge == b.edge && a.entry == b.entry && a.started == b.started && a.firstT == b.firstT
}

// counter is the count-only state of a Matcher. cur is ordered by firstT
// (runs are born in time order and their successors keep it), so the runs
// of one first-take time form a block: merging scans one block only.
type counter struct {
	cur, next, tmp []crun
	block          int    // start of the last block of next
	done           uint64 // matches completed by the current event
	// sig has bit k set when step k's element accepts the current event
	// (conditions are Local: acceptance depends on the event alone, so it
	// is evaluated once per event, not once per run).
	sig uint64
	// trust skips the within check of a take: in the affine mode every
	// live run is within the window by construction (expired buckets are
	// gone before the event is applied), and in the table's simulations
	// there is no time at all.
	trust bool

	aff    *affine // the transition tables, nil: the run-based counter above
	win    window  // the affine mode's window of buckets
	inited bool
}

func satAdd(a, b uint64) uint64 {
	if s := a + b; s >= a {
		return s
	}
	return math.MaxUint64
}

// push adds r to next, merged into the run of the same future if any.
func (c *counter) push(mt *Matcher, r crun) {
	if c.block > len(c.next) || len(c.next) > 0 && c.next[len(c.next)-1].firstT != r.firstT {
		c.block = len(c.next)
	}
	for i := c.block; i < len(c.next); i++ {
		if x := &c.next[i]; x.sameFuture(&r) {
			x.n = satAdd(x.n, r.n)
			return
		}
	}
	if len(c.next) >= mt.cfg.MaxPartials {
		mt.stats.Dropped++
		mt.overflow = true
		return
	}
	c.next = append(c.next, r)
}

func (c *counter) process(mt *Matcher, ev *event.Event) error {
	c.init(mt)
	if c.aff != nil {
		return c.processAffine(mt, ev)
	}
	mt.overflow = false
	p := mt.store(ev)
	c.sig = c.signature(mt, p)
	c.done = 0
	c.next, c.block = c.next[:0], 0
	w := mt.p.within
	for i := range c.cur {
		r := c.cur[i]
		if w > 0 && ev.Time >= r.firstT+w {
			continue
		}
		if c.advance(mt, &r, p) {
			c.push(mt, r)
		}
	}
	c.startAt(mt, p)
	c.cur, c.next = c.next, c.cur
	mt.base = p // no run needs an earlier event: conditions read the candidate and prev
	c.emitCount(mt, ev.Time)
	if mt.overflow {
		return fmt.Errorf("%w: partition holds %d count-only runs (MaxPartials)", ErrOverflow, mt.cfg.MaxPartials)
	}
	return nil
}

// emitCount emits the matches completed by the current event, if any, as
// one Match carrying their number.
func (c *counter) emitCount(mt *Matcher, t int64) {
	if c.done == 0 {
		return
	}
	for i := range mt.elems {
		mt.elems[i] = mt.elems[i][:0]
	}
	clear(mt.bound)
	for i := range mt.lists {
		mt.lists[i] = mt.lists[i][:0]
	}
	mt.frame = eval.Frame{Bound: mt.bound, Lists: mt.lists, Vars: mt.key}
	mt.match.Time = t
	mt.match.Count = c.done
	mt.stats.Matches = satAdd(mt.stats.Matches, c.done)
	mt.emit(&mt.match)
	mt.match.Count = 1
}

// signature evaluates, once, which steps' elements accept the event at p.
func (c *counter) signature(mt *Matcher, p int64) uint64 {
	var sig uint64
	for k := range mt.p.steps {
		if mt.accepts(mt.p.steps[k].el, nil, p) {
			sig |= 1 << k
		}
	}
	return sig
}

func (c *counter) accepts(k int32) bool { return c.sig>>k&1 != 0 }

// startAt begins the runs whose first take is the event at p.
func (c *counter) startAt(mt *Matcher, p int64) {
	out, block := c.next, c.block
	c.next, c.block = c.tmp[:0], 0
	c.seq(mt, crun{n: 1, edge: edgeStart}, 0)
	starts := c.next
	c.next, c.block = out, block
	for i := range starts {
		r := starts[i]
		c.advance(mt, &r, p)
	}
	c.tmp = starts[:0]
}

// advance mirrors Matcher.advance without guards, until and bindings.
func (c *counter) advance(mt *Matcher, r *crun, p int64) bool {
	switch r.edge {
	case edgeStart, edgeStrict:
		if c.accepts(r.k) && c.withinOK(mt, r, p) {
			c.take(mt, *r, p)
		}
		return false
	case edgeRelaxed:
		if c.accepts(r.k) {
			if c.withinOK(mt, r, p) {
				c.take(mt, *r, p)
			}
			return false
		}
	case edgeAny:
		if c.accepts(r.k) && c.withinOK(mt, r, p) {
			c.take(mt, *r, p)
		}
	}
	return true
}

func (c *counter) withinOK(mt *Matcher, r *crun, p int64) bool {
	w := mt.p.within
	return c.trust || w <= 0 || !r.started || mt.evAt(p).Time-r.firstT < w
}

func (c *counter) take(mt *Matcher, s crun, p int64) {
	st := &mt.p.steps[s.k]
	if !s.started {
		s.started = true
		if mt.p.within > 0 && !c.trust {
			s.firstT = mt.evAt(p).Time
		}
	}
	if st.loop {
		c.iterate(mt, s, int(s.k), int(s.iter)+1)
	} else {
		c.seq(mt, s, int(s.k)+1)
	}
}

func (c *counter) seq(mt *Matcher, s crun, k int) {
	if k == len(mt.p.steps) {
		if s.started {
			c.done = satAdd(c.done, s.n)
		}
		return
	}
	st := &mt.p.steps[k]
	if k > 0 && s.started {
		s.edge = st.edge
	}
	s.k = int32(k)
	if st.loop {
		s.entry = s.edge
		c.iterate(mt, s, k, 0)
		return
	}
	s.iter = 0
	c.push(mt, s)
}

// iterate goes round loop k again and leaves it after i iterations (in
// any order: counts do not depend on preference).
func (c *counter) iterate(mt *Matcher, s crun, k, i int) {
	st := &mt.p.steps[k]
	if st.hi < 0 || i < st.hi {
		r := s
		r.k, r.iter = int32(k), iterClass(st, i)
		if i > 0 {
			r.edge = mt.iterEdge(st, r.entry)
		}
		c.push(mt, r)
	}
	if i >= st.lo {
		c.seq(mt, s, k+1)
	}
}

// iterClass is the loop count as far as the future can tell: exact under
// an upper bound, else capped at max(lo, 1) (past the lower bound only
// "some iterations" matters, for the iteration edge).
func iterClass(st *cstep, i int) int32 {
	if st.hi < 0 {
		return int32(min(i, max(st.lo, 1)))
	}
	return int32(i)
}

func (c *counter) deadline(mt *Matcher) (int64, bool) {
	c.init(mt)
	if c.aff != nil {
		return c.win.deadline(mt.p.within)
	}
	if mt.p.within <= 0 || len(c.cur) == 0 {
		return math.MaxInt64, false
	}
	return c.cur[0].firstT + mt.p.within, true
}

// expire drops the runs whose within ran out by watermark (they are the
// oldest, at the front).
func (c *counter) expire(mt *Matcher, watermark int64) {
	c.init(mt)
	if mt.p.within <= 0 {
		return
	}
	if c.aff != nil {
		c.win.expire(watermark - mt.p.within)
		return
	}
	j := 0
	for j < len(c.cur) && c.cur[j].firstT+mt.p.within <= watermark {
		j++
	}
	c.cur = append(c.cur[:0], c.cur[j:]...)
}

// flush drops every partial match (the end of input: count-only rules
// have nothing to settle).
func (c *counter) flush() {
	c.cur = c.cur[:0]
	c.win.clear()
}

// idle reports whether the counter holds no partial match: no run, or in
// the affine mode no bucket and, without within, a zero running sum.
func (c *counter) idle() bool {
	if c.aff != nil {
		return c.win.len() == 0 && !slices.ContainsFunc(c.win.sum, func(x uint64) bool { return x != 0 })
	}
	return len(c.cur) == 0
}

// partials is the number of live partial matches (runs), or in the affine
// mode the number of buckets kept.
func (c *counter) partials() int {
	if c.aff != nil {
		return c.win.len()
	}
	return len(c.cur)
}
