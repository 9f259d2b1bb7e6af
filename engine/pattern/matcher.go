package pattern

import (
	"fmt"
	"math"
	"slices"

	"github.com/cepengine/cep/engine/eval"
	"github.com/cepengine/cep/engine/event"
)

// Config bounds a Matcher.
type Config struct {
	// MaxPartials caps the partial matches (runs and completed matches
	// waiting for their emission) of one partition; 0 means 10000. When a
	// partition is full, new partial matches are not created (the older
	// ones keep running): each refused one is counted in Stats.Dropped
	// and the call that refused it returns an error wrapping ErrOverflow.
	// Matches may then be missed; the matcher never crashes or grows
	// without bound.
	MaxPartials int
	// Timeout, when set (and the Spec asks for it with Timeout), receives
	// every partial match that within discards (see fireTimers for which
	// ones count), as a Match: Time is the expiry time (first + within,
	// or last + gap for within gap), Frame binds the aliases taken so far
	// (the others nil, lists as far as they got), Elements the events
	// taken. Like emit's Match, it is valid only during the call.
	Timeout func(*Match)
	// Shared, when made by NewShared for the same Pattern, is working
	// memory (the bindings and the emitted Match) that the matchers of
	// every partition of one pattern share, instead of a copy each: it
	// saves a keyed pattern a few hundred bytes per key. They must then
	// run on one goroutine, and the emit and Timeout callbacks must not
	// call another of them.
	Shared *Shared
	// NoEvents (Flat only) says that nothing reads the events of a match:
	// emit reads only the partition key and constants. They are then
	// neither copied nor bound: the Match has no alias bound and empty
	// Elements, which saves a keyed followed-by most of its memory.
	NoEvents bool
}

// Shared is working memory the matchers of one pattern may share
// (Config.Shared). It is not safe for concurrent use.
type Shared struct {
	p  *Pattern
	sc scratch
}

// NewShared returns working memory for the matchers of p.
func NewShared(p *Pattern) *Shared {
	s := &Shared{p: p}
	s.sc.init(p)
	return s
}

// scratch is a matcher's working memory: the frame conditions, having
// and emit see, and the Match it emits. Everything in it is set afresh
// by each use, so the matchers of one goroutine may share one.
type scratch struct {
	bound []*event.Event
	lists [][]*event.Event
	frame eval.Frame
	match Match
	elems [][]*event.Event
}

func (sc *scratch) init(p *Pattern) {
	sc.bound = make([]*event.Event, p.spec.Bound)
	sc.lists = make([][]*event.Event, p.spec.Lists)
	sc.elems = make([][]*event.Event, len(p.spec.Elements))
	sc.match.Frame = &sc.frame
	sc.match.Elements = sc.elems
	sc.match.Count = 1
}

// Stats are a Matcher's counters.
type Stats struct {
	Partials int    // live partial matches now
	Dropped  uint64 // partial matches refused by MaxPartials
	Matches  uint64 // matches emitted
	Timeouts uint64 // timed-out partial matches reported
}

// Match is one emitted match. It and everything it points to are valid
// only during the emit callback; the matcher reuses them.
type Match struct {
	// Time is the derived event's time: the last matched event's, or the
	// expiry time for a pattern that ends in -> not B.
	Time int64
	// Frame binds the aliases as matched (unbound single aliases nil,
	// lists oldest first) and Vars to the partition key: the frame of
	// having and emit.
	Frame *eval.Frame
	// Elements holds per element (Spec.Elements order) the events it took,
	// oldest first.
	Elements [][]*event.Event
	// Count is the number of matches this Match stands for: 1, except in
	// count-only mode (Spec.CountOnly), where one Match per event carries
	// the number of matches that complete at it (Time is the event's),
	// Frame binds no alias (Vars is the partition key) and Elements are
	// empty. The count saturates: math.MaxUint64 means at least that many.
	Count uint64
}

// step is a point of the processing timeline (docs/language.md, Time): an
// event, a timer (before the events of its time) or the end of input.
type step struct {
	time  int64
	phase int8 // 0 timer, 1 event, 2 end of input
	pos   int64
}

func (s step) less(t step) bool {
	if s.time != t.time {
		return s.time < t.time
	}
	if s.phase != t.phase {
		return s.phase < t.phase
	}
	return s.pos < t.pos
}

func maxStep(a, b step) step {
	if a.less(b) {
		return b
	}
	return a
}

var endStep = step{time: math.MaxInt64, phase: 2}

// guard is a pending not: no event its element accepts may occur after
// from (up to the next take for ->, up to and including the event right
// after the last take for a strict not).
type guard struct {
	step int32
	from int64
}

// growth is a greedy loop a completed match ends with: the match is final
// when the loop can no longer grow.
type growth struct {
	step int32
	edge edgeKind
	done bool
	at   step
}

// item is a partial match: a run waiting at a step for its next take, or
// a completed match waiting to be final and emitted. Items are values;
// their trace lives in the shared buffer (node), shared by every item
// forked from the same prefix.
type item struct {
	complete bool
	final    bool // complete and every trailing condition settled
	checked  bool // final and past the greedy/reluctant filter and having
	needNext bool // a strict trailing not waits for the next event
	relaxedG bool // a relaxed trailing not waits for the expiry

	start     int64 // position of the first take (of the start event before it)
	node      int32 // trace tail, -1 before the first take
	ntake     int32
	last      int64 // position of the last take, -1
	lf        int64 // first take of the current loop
	loopFirst int64 // first take of the loop that just ended, -1
	firstT    int64
	lastT     int64
	k, iter   int32
	edge      edgeKind
	entry     edgeKind // edge into the current loop
	ng, ngr   uint8
	guards    [maxGuards]guard
	grows     [maxGrows]growth
	at        step  // completion: when it is complete and final (so far)
	time      int64 // completion: the derived event's time
	pool      int32 // index in the filter pool, -1
}

// node is one take in the shared buffer: the event at pos taken by elem,
// after the takes of parent. Nodes are reference counted and recycled.
type node struct {
	pos    int64
	elem   int32
	parent int32
	refs   int32
}

// prevSlot is the prev of one buffered event.
type prevSlot struct {
	ev  event.Event
	has bool
}

type take struct {
	elem int32
	pos  int64
}

type poolEntry struct {
	start int64
	item  *item // nil once emitted or dropped
	trace []take
	dead  bool // its match was refused (guard, missing next event): it does not count
	final bool // its match is final: it counts
}

// Matcher matches one compiled pattern over the events of one partition.
// Events must come in (time, arrival) order; the engine owns the timers:
// it calls Expire when the watermark passes Deadline, and Flush at the end
// of input. A Matcher is not safe for concurrent use.
//
// Complexity: each event advances every live partial match once (a
// condition evaluation or two each), so an event costs O(partials) plus,
// for conditions that read aliases, O(trace) to bind them. Partial matches
// share their prefixes in a reference-counted buffer of takes (as Flink's
// SharedBuffer), so forking under ->> copies a fixed-size run, never a
// trace; events are buffered once per partition from the oldest live start.
type Matcher struct {
	// The fields every event reads come first, a few cache lines for a
	// partition that a million others push out of the cache.
	p         *Pattern
	m         *eval.Machine
	isSimple  bool // the simple path (simple.go) runs
	overflow  bool
	dlValid   bool // dl and dlOK hold the step automaton's deadline
	dlOK      bool
	dl        int64
	cfg       Config
	key       []event.Value
	sim       simple
	nodes     []node
	free      []int32
	buf       []event.Event // ring of the buffered events, by position
	prevs     []prevSlot    // their prevs, beside buf; only when the pattern reads prev
	base, n   int64         // buffered positions [base, n)
	threshold int64
	emit      func(*Match)

	prevCopy []event.Event
	hasPrev  []bool

	*scratch
	stats Stats

	gen *general // the general path (groups, |, &), nil for the step automaton
	cnt *counter // count-only mode (Spec.CountOnly), nil otherwise
	// The step automaton's state, nil on the other paths: a matcher on
	// the simple path stays small.
	*stepState
}

// stepState is the state only the step automaton uses.
type stepState struct {
	cur, next, tmp []item
	tr             []take
	pool           []poolEntry
	now            step
	stepOf         []int32
	// timedOut holds the traces reported at the current expiry time, each
	// behind a header take whose pos is its length.
	timedOut []take
}

// NewMatcher returns a matcher for one partition. key is the partition key
// (Frame.Vars of having and of the emitted frame); m evaluates conditions
// and may be shared by the matchers of one goroutine; emit receives every
// match in the documented order (docs/language.md, Match order).
func NewMatcher(p *Pattern, m *eval.Machine, cfg Config, key []event.Value, emit func(*Match)) *Matcher {
	if cfg.MaxPartials <= 0 {
		cfg.MaxPartials = 10000
	}
	mt := &Matcher{p: p, m: m, cfg: cfg, emit: emit, key: key}
	if cfg.Shared != nil && cfg.Shared.p == p {
		mt.scratch = &cfg.Shared.sc
	} else {
		mt.scratch = &scratch{}
		mt.scratch.init(p)
	}
	// The buffer starts small and doubles (store): most partitions of a
	// keyed pattern hold an event or two, and a million of them must stay
	// small. prev is kept only for patterns whose conditions read it.
	if p.readsPrev {
		mt.prevCopy = make([]event.Event, p.ntype)
		mt.hasPrev = make([]bool, p.ntype)
	}
	switch {
	case p.spec.CountOnly:
		mt.cnt = &counter{}
	case p.general:
		mt.gen = &general{mt: mt}
	case simpleShape(p, &cfg):
		mt.isSimple = true
	default:
		mt.stepState = &stepState{stepOf: make([]int32, len(p.spec.Elements))}
		for k, st := range p.steps {
			mt.stepOf[st.elem] = int32(k)
		}
	}
	return mt
}

// Idle reports whether the matcher holds nothing a later event could
// see: no partial match, no match waiting to be emitted, no pending
// deadline, and no previous events that conditions read (prev). An idle
// matcher behaves as a new one: the engine may drop it, or Reset it for
// another partition. The general path (groups, |, &) is never idle.
func (mt *Matcher) Idle() bool {
	if mt.p.readsPrev || mt.gen != nil {
		return false
	}
	switch {
	case mt.cnt != nil:
		return mt.cnt.idle()
	case mt.isSimple:
		return len(mt.sim.runs) == 0
	}
	return len(mt.cur) == 0 && len(mt.pool) == 0
}

// Reset makes an idle matcher (Idle) a new one for the partition key,
// keeping its buffers: reusing matchers makes a key that comes and goes
// cost no allocation. Resetting a matcher that is not idle discards its
// state.
func (mt *Matcher) Reset(key []event.Value) {
	if mt.stepState != nil {
		mt.cur = mt.cur[:0]
		mt.pool = mt.pool[:0]
		mt.now = step{}
	}
	mt.sim.runs = mt.sim.runs[:0]
	if mt.cnt != nil {
		mt.cnt.flush() // the runs, and the affine mode's window
	}
	if mt.gen != nil {
		mt.gen = &general{mt: mt}
	}
	mt.nodes, mt.free = mt.nodes[:0], mt.free[:0]
	mt.key = key
	mt.base, mt.n, mt.threshold = 0, 0, 0
	mt.stats = Stats{}
	mt.overflow = false
	mt.dlValid = false
	clear(mt.hasPrev)
}

// Stats returns the counters.
func (mt *Matcher) Stats() Stats {
	s := mt.stats
	if mt.stepState != nil {
		s.Partials = len(mt.cur)
	}
	if mt.gen != nil {
		s.Partials = len(mt.gen.starts)
	}
	if mt.cnt != nil {
		s.Partials = mt.cnt.partials()
	}
	if mt.isSimple {
		s.Partials = len(mt.sim.runs)
	}
	return s
}

// Deadline returns the earliest time at which Expire has work to do (a
// partial match expires by within, or a trailing not completes), and
// false when there is none.
func (mt *Matcher) Deadline() (int64, bool) {
	d, ok := int64(math.MaxInt64), false
	if mt.cnt != nil {
		return mt.cnt.deadline(mt)
	}
	if mt.gen != nil {
		if mt.gen.hasDL {
			return mt.gen.deadline, true
		}
		return d, false
	}
	if mt.isSimple {
		return mt.sim.deadline(mt)
	}
	if mt.p.within <= 0 {
		return d, false
	}
	if mt.dlValid {
		return mt.dl, mt.dlOK
	}
	for i := range mt.cur {
		it := &mt.cur[i]
		if it.ntake == 0 || it.complete && it.final {
			continue
		}
		if e := mt.expiry(it); e < d {
			d, ok = e, true
		}
	}
	mt.dl, mt.dlOK, mt.dlValid = d, ok, true
	return d, ok
}

// Process feeds one event of the partition. The event is copied; the caller
// may reuse it. Matches completed by it (and by timers up to its time) are
// emitted before Process returns. The error, if any, wraps ErrOverflow.
func (mt *Matcher) Process(ev *event.Event) error {
	if mt.isSimple {
		return mt.sim.process(mt, ev)
	}
	if mt.cnt != nil {
		return mt.cnt.process(mt, ev)
	}
	mt.overflow = false
	if mt.gen != nil {
		mt.gen.process(mt.store(ev))
		if mt.overflow {
			return fmt.Errorf("%w: partition holds %d live starts (MaxPartials)", ErrOverflow, mt.cfg.MaxPartials)
		}
		return nil
	}
	mt.fireTimers(ev.Time, true)
	p := mt.store(ev)
	mt.now = step{time: ev.Time, phase: 1, pos: p}
	mt.next = mt.next[:0]
	for i := range mt.cur {
		it := mt.cur[i]
		if it.complete {
			if it.final || mt.updateDone(&it, p) {
				mt.next = append(mt.next, it)
			} else {
				mt.drop(&it)
			}
			continue
		}
		if mt.advance(&it, p) {
			mt.next = append(mt.next, it)
		} else {
			mt.release(it.node)
		}
	}
	if p >= mt.threshold {
		mt.startAt(p)
	}
	mt.cur, mt.next = mt.next, mt.cur
	mt.settle()
	mt.dlValid = false
	if mt.overflow {
		return errOverflow(mt)
	}
	return nil
}

func errOverflow(mt *Matcher) error {
	return fmt.Errorf("%w: partition holds %d (MaxPartials)", ErrOverflow, mt.cfg.MaxPartials)
}

// Expire fires the timers due at or before watermark: partial matches
// that run out of within die, trailing nots complete.
func (mt *Matcher) Expire(watermark int64) {
	if mt.cnt != nil {
		mt.cnt.expire(mt, watermark)
		return
	}
	if mt.gen != nil {
		mt.gen.expire(watermark)
		return
	}
	if mt.isSimple {
		if mt.p.within > 0 {
			mt.sim.expire(mt, watermark)
		}
		return
	}
	mt.fireTimers(watermark, false)
}

// Flush ends the input: every timer fires, then the matches that waited
// for more input are settled (a greedy tail is final; a strict trailing
// not without a next event fails). The matcher is empty afterwards.
func (mt *Matcher) Flush() {
	if mt.cnt != nil {
		mt.cnt.flush()
		return
	}
	if mt.gen != nil {
		mt.gen.flush()
		return
	}
	if mt.isSimple {
		mt.sim.flush(mt)
		return
	}
	mt.fireTimers(math.MaxInt64, false)
	mt.now = endStep
	mt.next = mt.next[:0]
	for i := range mt.cur {
		it := mt.cur[i]
		if !it.complete || it.needNext {
			mt.drop(&it)
			continue
		}
		for g := 0; g < int(it.ngr); g++ {
			if !it.grows[g].done {
				it.grows[g].done, it.grows[g].at = true, endStep
				it.at = maxStep(it.at, endStep)
			}
		}
		mt.checkFinal(&it)
		mt.next = append(mt.next, it)
	}
	mt.cur, mt.next = mt.next, mt.cur
	mt.settle()
	mt.dlValid = false
}

// fireTimers processes every expiry time <= t, in time order (an event at
// time t comes after the timers of t).
func (mt *Matcher) fireTimers(t int64, _ bool) {
	if mt.p.within <= 0 {
		return
	}
	for {
		d, ok := mt.Deadline()
		if !ok || d > t {
			return
		}
		mt.now = step{time: d, phase: 0}
		mt.next = mt.next[:0]
		mt.timedOut = mt.timedOut[:0]
		for i := range mt.cur {
			it := mt.cur[i]
			if it.ntake == 0 || it.complete && it.final || mt.expiry(&it) > d {
				mt.next = append(mt.next, it)
				continue
			}
			if !it.complete {
				mt.timeout(&it, d)
				mt.drop(&it)
				continue
			}
			if it.needNext {
				mt.drop(&it)
				continue
			}
			if it.relaxedG {
				it.relaxedG = false
				it.time = d
				it.at = maxStep(it.at, mt.now)
			}
			for g := 0; g < int(it.ngr); g++ {
				if !it.grows[g].done {
					it.grows[g].done, it.grows[g].at = true, mt.now
					it.at = maxStep(it.at, mt.now)
				}
			}
			mt.checkFinal(&it)
			mt.next = append(mt.next, it)
		}
		mt.cur, mt.next = mt.next, mt.cur
		mt.settle()
		mt.dlValid = false
	}
}

// timeout reports a run that within discards at d: a partial match that
// has begun (it took its first event) and has not completed. Runs that
// contiguity, a not, until or a skip strategy killed earlier are gone
// before their expiry and never reported; completed matches that wait for
// a trailing condition are matches, not timeouts. Runs with the same
// takes (one waits to repeat a loop, another to leave it: Flink's one
// computation state) are one partial match, reported once. Within one
// expiry time the reports come in the order of the live runs: by start,
// then preference; expiry times are fired in time order.
func (mt *Matcher) timeout(it *item, d int64) {
	if mt.cfg.Timeout == nil || !mt.p.spec.Timeout {
		return
	}
	mt.bind(it.node)
	for i := 0; i < len(mt.timedOut); {
		n := int(mt.timedOut[i].pos)
		if slices.Equal(mt.timedOut[i+1:i+1+n], mt.tr) {
			return
		}
		i += 1 + n
	}
	mt.timedOut = append(mt.timedOut, take{pos: int64(len(mt.tr))})
	mt.timedOut = append(mt.timedOut, mt.tr...)
	for i := range mt.elems {
		mt.elems[i] = mt.elems[i][:0]
	}
	for _, t := range mt.tr {
		mt.elems[t.elem] = append(mt.elems[t.elem], mt.evAt(t.pos))
	}
	mt.match.Time = d
	mt.stats.Timeouts++
	mt.cfg.Timeout(&mt.match)
}

// drop discards an item that will never be emitted.
func (mt *Matcher) drop(it *item) {
	if it.pool >= 0 {
		mt.pool[it.pool].dead = true
		mt.pool[it.pool].item = nil
	}
	mt.release(it.node)
}

func (mt *Matcher) expiry(it *item) int64 {
	if mt.p.spec.WithinGap {
		return it.lastT + mt.p.within
	}
	return it.firstT + mt.p.within
}

// store copies ev into the partition buffer and returns its position.
func (mt *Matcher) store(ev *event.Event) int64 {
	if mt.n-mt.base == int64(len(mt.buf)) {
		mt.grow()
	}
	p := mt.n
	mt.n++
	i := p & int64(len(mt.buf)-1)
	copyEvent(&mt.buf[i], ev)
	if !mt.p.readsPrev {
		return p
	}
	s := &mt.prevs[i]
	s.has = false
	if int(ev.Type) < len(mt.p.types) {
		if t := mt.p.types[ev.Type]; t >= 0 {
			if mt.hasPrev[t] {
				copyEvent(&s.ev, &mt.prevCopy[t])
				s.has = true
			}
			copyEvent(&mt.prevCopy[t], ev)
			mt.hasPrev[t] = true
		}
	}
	return p
}

// grow doubles the event buffer (and the prevs beside it).
func (mt *Matcher) grow() {
	n := max(2*len(mt.buf), 2)
	nb := make([]event.Event, n)
	var np []prevSlot
	if mt.p.readsPrev {
		np = make([]prevSlot, n)
	}
	for p := mt.base; p < mt.n; p++ {
		i, j := p&int64(n-1), p&int64(len(mt.buf)-1)
		nb[i] = mt.buf[j]
		if np != nil {
			np[i] = mt.prevs[j]
		}
	}
	mt.buf, mt.prevs = nb, np
}

func copyEvent(dst, src *event.Event) {
	dst.Type, dst.Time, dst.Seq = src.Type, src.Time, src.Seq
	dst.Fields = append(dst.Fields[:0], src.Fields...)
}

func (mt *Matcher) evAt(p int64) *event.Event { return &mt.buf[p&int64(len(mt.buf)-1)] }

func (mt *Matcher) prevAt(p int64) *event.Event {
	if !mt.p.readsPrev {
		return nil
	}
	s := &mt.prevs[p&int64(len(mt.prevs)-1)]
	if !s.has {
		return nil
	}
	return &s.ev
}

// The shared buffer of takes.

func (mt *Matcher) newNode(pos int64, elem int, parent int32) int32 {
	var i int32
	if n := len(mt.free); n > 0 {
		i = mt.free[n-1]
		mt.free = mt.free[:n-1]
	} else {
		i = int32(len(mt.nodes))
		mt.nodes = append(mt.nodes, node{})
	}
	mt.nodes[i] = node{pos: pos, elem: int32(elem), parent: parent, refs: 1}
	mt.retain(parent)
	return i
}

func (mt *Matcher) retain(i int32) {
	if i >= 0 {
		mt.nodes[i].refs++
	}
}

func (mt *Matcher) release(i int32) {
	for i >= 0 {
		n := &mt.nodes[i]
		n.refs--
		if n.refs > 0 {
			return
		}
		mt.free = append(mt.free, i)
		i = n.parent
	}
}

// trace lists the takes of a node, oldest first, into mt.tr.
func (mt *Matcher) trace(nd int32) []take {
	mt.tr = mt.tr[:0]
	for ; nd >= 0; nd = mt.nodes[nd].parent {
		mt.tr = append(mt.tr, take{elem: mt.nodes[nd].elem, pos: mt.nodes[nd].pos})
	}
	slices.Reverse(mt.tr)
	return mt.tr
}

// bind sets the frame's aliases to a trace's events.
func (mt *Matcher) bind(nd int32) {
	clear(mt.bound)
	for i := range mt.lists {
		mt.lists[i] = mt.lists[i][:0]
	}
	for _, t := range mt.trace(nd) {
		el := &mt.p.spec.Elements[t.elem]
		if el.Slot < 0 {
			continue
		}
		if el.List {
			mt.lists[el.Slot] = append(mt.lists[el.Slot], mt.evAt(t.pos))
		} else {
			mt.bound[el.Slot] = mt.evAt(t.pos)
		}
	}
	mt.frame = eval.Frame{Bound: mt.bound, Lists: mt.lists, Vars: mt.key}
}

// bindTakes sets the frame's aliases to the events of a trace.
func (mt *Matcher) bindTakes(tr []gTake) {
	clear(mt.bound)
	for i := range mt.lists {
		mt.lists[i] = mt.lists[i][:0]
	}
	for _, t := range tr {
		el := &mt.p.spec.Elements[t.elem]
		if el.Slot < 0 {
			continue
		}
		if el.List {
			mt.lists[el.Slot] = append(mt.lists[el.Slot], mt.evAt(t.pos))
		} else {
			mt.bound[el.Slot] = mt.evAt(t.pos)
		}
	}
	mt.frame = eval.Frame{Bound: mt.bound, Lists: mt.lists, Vars: mt.key}
}

// holds evaluates a condition of el for the event at p with the bindings
// of it.
func (mt *Matcher) holds(prog *eval.Program, el *Element, it *item, p int64) bool {
	ev := mt.evAt(p)
	if ev.Type != el.Type {
		return false
	}
	if prog == nil {
		return true
	}
	if el.Local {
		mt.frame = eval.Frame{Bound: mt.bound, Lists: mt.lists, Vars: mt.key}
	} else {
		mt.bind(it.node)
	}
	mt.frame.Current = ev
	mt.frame.Prev = mt.prevAt(p)
	if el.Slot >= 0 && !el.List {
		mt.bound[el.Slot] = ev
	}
	return mt.m.EvalBool(prog, &mt.frame)
}

func (mt *Matcher) accepts(el *Element, it *item, p int64) bool {
	return mt.holds(el.Cond, el, it, p)
}

func (mt *Matcher) stops(st *cstep, it *item, p int64) bool {
	return st.loop && st.el.Until != nil && mt.holds(st.el.Until, st.el, it, p)
}

func (mt *Matcher) withinOK(it *item, p int64) bool {
	w := mt.p.within
	if w <= 0 || it.ntake == 0 {
		return true
	}
	t := mt.evAt(p).Time
	if mt.p.spec.WithinGap {
		return t-it.lastT < w
	}
	return t-it.firstT < w
}

// push appends a new item to the next generation, unless the partition is
// full.
func (mt *Matcher) push(it item) {
	if len(mt.next) >= mt.cfg.MaxPartials {
		mt.stats.Dropped++
		mt.overflow = true
		return
	}
	it.pool = -1
	mt.retain(it.node)
	mt.next = append(mt.next, it)
}

// guardHit reports whether the event at p breaks one of it's guards of
// the given strictness.
func (mt *Matcher) guardHit(it *item, p int64, strict bool) bool {
	for g := 0; g < int(it.ng); g++ {
		st := &mt.p.steps[it.guards[g].step]
		if (st.edge == edgeStrict) != strict || p <= it.guards[g].from {
			continue
		}
		if strict && p != it.last+1 {
			continue
		}
		if mt.accepts(st.el, it, p) {
			return true
		}
	}
	return false
}

// advance moves a run over the event at p: it may take it (the successors
// go to mt.next), and reports whether the run itself waits on.
func (mt *Matcher) advance(r *item, p int64) bool {
	if mt.p.within > 0 && r.ntake > 0 && mt.evAt(p).Time >= mt.expiry(r) {
		return false
	}
	if r.ng > 0 && p == r.last+1 && mt.guardHit(r, p, true) {
		return false
	}
	st := &mt.p.steps[r.k]
	running := st.loop && r.iter > 0
	switch r.edge {
	case edgeStart, edgeStrict:
		if mt.accepts(st.el, r, p) && !mt.stops(st, r, p) && mt.withinOK(r, p) {
			mt.take(*r, p)
		}
		return false
	case edgeRelaxed:
		if running && mt.stops(st, r, p) {
			return false
		}
		if mt.accepts(st.el, r, p) {
			if !mt.stops(st, r, p) && mt.withinOK(r, p) {
				mt.take(*r, p)
			}
			return false
		}
	case edgeAny:
		if running && mt.stops(st, r, p) {
			return false
		}
		if mt.accepts(st.el, r, p) && !mt.stops(st, r, p) && mt.withinOK(r, p) {
			mt.take(*r, p)
		}
	}
	return !(r.ng > 0 && mt.guardHit(r, p, false))
}

// take extends s with the event at p and continues the pattern.
func (mt *Matcher) take(s item, p int64) {
	st := &mt.p.steps[s.k]
	ev := mt.evAt(p)
	nd := mt.newNode(p, st.elem, s.node)
	s.node = nd
	if s.ntake == 0 {
		s.firstT = ev.Time
		s.start = p
	}
	s.ntake++
	s.last, s.lastT = p, ev.Time
	s.ng, s.ngr = 0, 0
	s.loopFirst = -1
	if st.loop {
		if s.iter == 0 {
			s.lf = p
		}
		mt.iterate(s, int(s.k), int(s.iter)+1)
	} else {
		mt.seq(s, int(s.k)+1)
	}
	mt.release(nd)
}

// startAt begins the partial matches whose first take is the event at p.
func (mt *Matcher) startAt(p int64) {
	out := mt.next
	mt.next = mt.tmp[:0]
	mt.seq(item{start: p, node: -1, last: -1, lf: -1, loopFirst: -1, edge: edgeStart}, 0)
	starts := mt.next
	mt.next = out
	for i := range starts {
		r := starts[i]
		mt.advance(&r, p)
		mt.release(r.node)
	}
	mt.tmp = starts[:0]
}

// seq continues s at step k: the closure over nots, skipped optional
// elements and loop exits, in preference order (docs: Match order).
func (mt *Matcher) seq(s item, k int) {
	if k == len(mt.p.steps) {
		mt.complete(s)
		return
	}
	st := &mt.p.steps[k]
	if k > 0 && s.ntake > 0 {
		s.edge = st.edge
	}
	if st.not {
		from := s.last
		if s.loopFirst >= 0 {
			from = s.loopFirst
		}
		s.guards[s.ng] = guard{step: int32(k), from: from}
		s.ng++
		for x := from + 1; x <= s.last; x++ { // the part of the span already seen
			if mt.accepts(st.el, &s, x) {
				return
			}
		}
		mt.seq(s, k+1)
		return
	}
	s.k = int32(k)
	if st.loop {
		s.entry = s.edge
		mt.iterate(s, k, 0)
		return
	}
	s.iter = 0
	mt.push(s)
}

func (mt *Matcher) iterEdge(st *cstep, entry edgeKind) edgeKind {
	if st.mod {
		return st.iterEdge
	}
	if entry == edgeStart {
		return edgeStrict
	}
	return entry
}

// iterate: after i iterations, go round again and leave the loop, in the
// loop's order of preference.
func (mt *Matcher) iterate(s item, k, i int) {
	st := &mt.p.steps[k]
	if st.reluct {
		mt.exit(s, k, i)
		mt.more(s, k, i)
	} else {
		mt.more(s, k, i)
		mt.exit(s, k, i)
	}
}

func (mt *Matcher) more(s item, k, i int) {
	st := &mt.p.steps[k]
	if st.hi >= 0 && i >= st.hi {
		return
	}
	s.k, s.iter = int32(k), int32(i)
	if i > 0 {
		s.edge = mt.iterEdge(st, s.entry)
	}
	mt.push(s)
}

func (mt *Matcher) exit(s item, k, i int) {
	st := &mt.p.steps[k]
	if i < st.lo {
		return
	}
	s.loopFirst = -1
	if i > 0 {
		s.loopFirst = s.lf
	}
	if st.greedy && (st.hi < 0 || i < st.hi) {
		e := s.entry
		if i > 0 {
			e = mt.iterEdge(st, s.entry)
		}
		s.grows[s.ngr] = growth{step: int32(k), edge: e}
		s.ngr++
	}
	mt.seq(s, k+1)
}

// complete turns s, at the end of the pattern, into a completed match
// that waits for its trailing conditions.
func (mt *Matcher) complete(s item) {
	if s.ntake == 0 {
		return
	}
	s.complete = true
	s.at = step{time: s.lastT, phase: 1, pos: s.last}
	s.time = s.lastT
	for g := 0; g < int(s.ng); g++ {
		if mt.p.steps[s.guards[g].step].edge == edgeStrict {
			s.needNext = true
		} else {
			s.relaxedG = true
		}
	}
	mt.checkFinal(&s)
	n := len(mt.next)
	mt.push(s)
	if len(mt.next) > n && len(mt.p.levels) > 0 {
		it := &mt.next[n]
		it.pool = int32(len(mt.pool))
		mt.pool = append(mt.pool, poolEntry{start: s.start, trace: slices.Clone(mt.trace(s.node))})
	}
}

func (mt *Matcher) checkFinal(it *item) {
	if it.needNext || it.relaxedG {
		return
	}
	for g := 0; g < int(it.ngr); g++ {
		if !it.grows[g].done {
			return
		}
	}
	it.final = true
}

// updateDone advances a completed match over the event at p; false: it
// fails.
func (mt *Matcher) updateDone(c *item, p int64) bool {
	evStep := step{time: mt.evAt(p).Time, phase: 1, pos: p}
	if c.needNext && p == c.last+1 {
		if mt.guardHit(c, p, true) {
			return false
		}
		c.needNext = false
		c.at = maxStep(c.at, evStep)
	}
	if c.relaxedG && mt.guardHit(c, p, false) {
		return false
	}
	for g := 0; g < int(c.ngr); g++ {
		gr := &c.grows[g]
		if gr.done {
			continue
		}
		st := &mt.p.steps[gr.step]
		if gr.edge == edgeStrict || gr.edge == edgeStart {
			gr.done, gr.at = true, evStep
		} else if st.el.Until != nil && mt.holds(st.el.Until, st.el, c, p) {
			gr.done, gr.at = true, evStep
		}
		if gr.done {
			c.at = maxStep(c.at, evStep)
		}
	}
	mt.checkFinal(c)
	return true
}

// settle filters the newly final matches, emits what the order allows and
// trims the buffer.
func (mt *Matcher) settle() {
	for i := range mt.cur {
		if it := &mt.cur[i]; it.final && it.pool >= 0 {
			mt.pool[it.pool].final = true
		}
	}
	items := mt.cur[:0]
	for i := range mt.cur {
		it := mt.cur[i]
		if it.complete && it.final && !it.checked {
			ok, wait := mt.accept(&it)
			if wait {
				items = append(items, it)
				continue
			}
			if !ok {
				if it.pool >= 0 {
					mt.pool[it.pool].item = nil
				}
				mt.release(it.node)
				continue
			}
			it.checked = true
		}
		items = append(items, it)
	}
	mt.cur = items
	if mt.p.spec.Skip == SkipNone {
		// Every match when it completes, by (completion, start,
		// preference); a final match whose filter waits holds back the
		// ones after it.
		for {
			best := -1
			for j := range mt.cur {
				if it := &mt.cur[j]; it.final && (best < 0 || it.at.less(mt.cur[best].at)) {
					best = j
				}
			}
			if best < 0 || !mt.cur[best].checked {
				break
			}
			it := mt.cur[best]
			mt.cur = slices.Delete(mt.cur, best, best+1)
			mt.send(&it)
		}
	} else {
		mt.emitOrdered()
	}
	mt.trim()
}

// emitOrdered emits, with a skip strategy, in order of first event, then
// completion, then preference; a match waits for the partial matches that
// began before it (conformance README, point 1).
func (mt *Matcher) emitOrdered() {
	for len(mt.cur) > 0 {
		s := mt.cur[0].start
		best := -1
		for j := 0; j < len(mt.cur) && mt.cur[j].start == s; j++ {
			if it := &mt.cur[j]; it.final && (best < 0 || it.at.less(mt.cur[best].at)) {
				best = j
			}
		}
		if best < 0 || !mt.cur[best].checked {
			return
		}
		it := mt.cur[best]
		mt.cur = slices.Delete(mt.cur, best, best+1)
		mt.threshold = max(mt.threshold, mt.skipTo(&it))
		mt.send(&it)
		j := 0
		for j < len(mt.cur) && mt.cur[j].start < mt.threshold {
			mt.drop(&mt.cur[j])
			j++
		}
		mt.cur = slices.Delete(mt.cur, 0, j)
	}
}

// skipTo is the first position a match may begin at after m.
func (mt *Matcher) skipTo(it *item) int64 {
	sp := &mt.p.spec
	switch sp.Skip {
	case SkipPastLast:
		return it.last + 1
	case SkipToNext:
		return it.start + 1
	case SkipToFirst, SkipToLast:
		t := int64(-1)
		for _, tk := range mt.trace(it.node) {
			if int(tk.elem) == sp.SkipTarget && (t < 0 || sp.Skip == SkipToLast) {
				t = tk.pos
			}
		}
		return t
	}
	return 0
}

// accept applies the greedy and reluctant filters and having to a final
// match. wait: the filter depends on a match of the same start that is
// not final yet (it may still fail), so the decision waits.
func (mt *Matcher) accept(it *item) (ok, wait bool) {
	if it.pool >= 0 {
		dropped, undecided := mt.filtered(int(it.pool), len(mt.p.levels))
		if undecided {
			return false, true
		}
		if dropped {
			return false, false
		}
	}
	if h := mt.p.spec.Having; h != nil {
		mt.bind(it.node)
		if !mt.m.EvalBool(h, &mt.frame) {
			return false, false
		}
	}
	return true, false
}

// filtered reports whether pool entry r is dropped by the filter of one of
// the first n levels (innermost loop first): a greedy loop drops a match
// when the same match with iterations appended to that loop exists, a
// reluctant loop when the same match with iterations removed exists
// (conformance README, point 4).
func (mt *Matcher) filtered(r, n int) (dropped, undecided bool) {
	for l := 0; l < n; l++ {
		k := mt.p.levels[l]
		for o := range mt.pool {
			if o == r || mt.pool[o].dead || mt.pool[o].start != mt.pool[r].start {
				continue
			}
			if !mt.related(k, mt.pool[r].trace, mt.pool[o].trace) {
				continue
			}
			if !mt.pool[o].final {
				return false, true
			}
			od, ou := mt.filtered(o, l)
			if ou {
				return false, true
			}
			if !od {
				return true, false
			}
		}
		if mt.p.steps[k].greedy && mt.mayGrow(k, &mt.pool[r]) {
			return false, true
		}
	}
	return false, false
}

// mayGrow reports whether a live run of r's start could still complete the
// same match as r with more iterations of greedy loop k: the filter then
// waits (the until or the end that completed r need not stop a loop
// entered with ->>).
func (mt *Matcher) mayGrow(k int, r *poolEntry) bool {
	pr, lr, rr := mt.split(k, r.trace)
	if len(rr) > 0 {
		// The grown match would take its extra iterations before rr[0],
		// and every live run has been offered every event up to r's last.
		return false
	}
	for i := range mt.cur {
		x := &mt.cur[i]
		if x.complete || x.start != r.start || int(x.k) > k {
			continue
		}
		tx := mt.trace(x.node)
		// A live run takes only events after the current one, so it can
		// grow r's loop only if it already holds all of r's loop part.
		if int(x.k) < k {
			if len(lr) == 0 && slices.Equal(tx, pr) {
				return true
			}
			continue
		}
		px, lx, _ := mt.split(k, tx)
		if slices.Equal(px, pr) && len(lx) >= len(lr) && slices.Equal(lx[:len(lr)], lr) {
			return true
		}
	}
	return false
}

func (mt *Matcher) related(k int, r, o []take) bool {
	pr, lr, rr := mt.split(k, r)
	po, lo, ro := mt.split(k, o)
	if !slices.Equal(pr, po) || !slices.Equal(rr, ro) {
		return false
	}
	if mt.p.steps[k].greedy {
		return len(lr) < len(lo) && slices.Equal(lr, lo[:len(lr)])
	}
	return len(lo) < len(lr) && slices.Equal(lo, lr[:len(lo)])
}

func (mt *Matcher) split(k int, tr []take) (p, l, r []take) {
	i := 0
	for i < len(tr) && int(mt.stepOf[tr[i].elem]) < k {
		i++
	}
	j := i
	for j < len(tr) && int(mt.stepOf[tr[j].elem]) == k {
		j++
	}
	return tr[:i], tr[i:j], tr[j:]
}

// send emits a match and releases it.
func (mt *Matcher) send(it *item) {
	mt.sendRun(it.node, it.time)
	mt.release(it.node)
}

// sendRun emits the match whose trace ends at node nd, stamped t.
func (mt *Matcher) sendRun(nd int32, t int64) {
	mt.bind(nd)
	for i := range mt.elems {
		mt.elems[i] = mt.elems[i][:0]
	}
	for _, t := range mt.tr {
		mt.elems[t.elem] = append(mt.elems[t.elem], mt.evAt(t.pos))
	}
	mt.match.Time = t
	mt.stats.Matches++
	mt.emit(&mt.match)
}

// trim forgets the buffered events and filter pool entries no live item
// needs.
func (mt *Matcher) trim() {
	low := mt.n
	for i := range mt.cur {
		low = min(low, mt.cur[i].start)
	}
	if len(mt.pool) > 0 {
		live := mt.pool[:0]
		for _, e := range mt.pool {
			if e.start >= low && mt.hasStart(e.start) {
				live = append(live, e)
			}
		}
		if len(live) != len(mt.pool) {
			mt.pool = live
			mt.reindexPool()
		}
	}
	mt.base = max(mt.base, low)
}

func (mt *Matcher) hasStart(s int64) bool {
	for i := range mt.cur {
		if mt.cur[i].start == s {
			return true
		}
	}
	return false
}

func (mt *Matcher) reindexPool() {
	for i := range mt.cur {
		mt.cur[i].pool = -1
	}
	for pi := range mt.pool {
		e := &mt.pool[pi]
		if e.trace == nil {
			continue
		}
		for i := range mt.cur {
			it := &mt.cur[i]
			if it.complete && it.start == e.start && it.pool < 0 && slices.Equal(mt.trace(it.node), e.trace) {
				it.pool = int32(pi)
				break
			}
		}
	}
}
