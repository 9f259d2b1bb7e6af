package engine

import (
	"math"
	"unsafe"

	"github.com/cepengine/cep/engine/eval"
	"github.com/cepengine/cep/engine/event"
)

// Clock supplies arrival times, in Unix nanoseconds. The engine never reads
// the wall clock itself; a caller that wants wall time passes a Clock that
// calls time.Now, a test passes a fixed or stepping one.
type Clock interface {
	Now() int64
}

// Config holds a matcher's options and limits. The zero value works: event
// time from the types' time fields, arrival time stamped by the caller, no
// explain, an unbounded reorder buffer.
type Config struct {
	// Clock stamps the arrival time of events of types without a time field
	// (and of every event with ProcessingTime). Nil: the caller stamps it in
	// event.Event.Time before Process.
	Clock Clock
	// ProcessingTime makes every type take its arrival time, ignoring time
	// fields (cepctl --clock processing).
	ProcessingTime bool
	// Explain makes derived events carry their input events (Derived.Inputs).
	Explain bool
	// MaxBuffered bounds the reorder buffer. When it is exceeded the
	// watermark is pushed to the earliest buffered event, which is then
	// processed; later events behind it become late. Counted in
	// Stats.Forced. 0: unbounded.
	MaxBuffered int
	// MaxKeys bounds the live partition keys of each window rule (and of
	// each filter rule with an output rate limit). An event with a new key
	// beyond it is refused by that rule: counted in Stats.Refused and sent
	// to the refused stream (SubscribeRefused) with ErrKeyLimit; other
	// rules still process it. 0: unbounded. Pattern rules' keys are
	// bounded the same way; there a key is live while it holds a partial
	// match, and for the commonest shapes (a -> b -> ... within, with
	// nots) an event that cannot start one for a new key (W4's B with no
	// A before it) takes no key and is not refused.
	MaxKeys int
	// MaxPartials bounds the partial matches of each partition key of each
	// pattern rule (engine/pattern's Config.MaxPartials; 0: its default,
	// 10000). Partial matches beyond it are not started: the event is
	// reported on the refused stream with ErrPartialLimit and counted in
	// Stats.Refused; matches may then be missed.
	MaxPartials int
}

// Stats are a matcher's counters. In == Processed + Late + Invalid + Buffered
// holds at all times; after Close, Buffered is 0.
type Stats struct {
	In         uint64 // events and records given to Process*, Reject
	Processed  uint64 // input events run through the graph
	Late       uint64 // events sent to the late stream
	Invalid    uint64 // records sent to the invalid stream
	Buffered   uint64 // events waiting in the reorder buffer
	Derived    uint64 // events emitted by rules
	Dropped    uint64 // events dropped by DropNewest channel subscriptions
	Forced     uint64 // watermark pushes by MaxBuffered
	TimersSet  uint64
	TimersDone uint64 // timers fired
	EvalErrors uint64 // expression runtime errors (the value was nil)
	Watermark  int64  // current watermark, Unix nanoseconds; math.MinInt64 before any event

	Refused uint64 // events a rule refused (refused stream): key limit, time out of window range, partial match limit
	Keys    uint64 // live partition keys of window rules, output rate limits and pattern rules
}

// Matcher runs events through a Graph. It is NOT safe for concurrent use:
// one goroutine calls its methods, and handlers run on that goroutine. A
// handler must not call Process, Advance or Close of its own matcher (the
// call is refused: ErrReentrant).
type Matcher struct {
	g   *Graph
	cfg Config
	vm  *eval.Machine

	frame eval.Frame
	bound [1]*event.Event

	seq     uint64
	maxSeen int64
	wm      int64
	maxLate int64 // the graph's MaxLateness: the watermark trails maxSeen by it
	now     int64 // time of the current step
	closed  bool
	busy    bool
	slow    uint64 // events that took processSlow (tests)

	buf    reorderBuffer
	timers timerQueue
	dueAt  int64 // the earliest timer of any lane (timerDue), or MaxInt64
	evFree []*event.Event

	memo []uint64 // per node: gen<<1 | filter result
	gen  uint64

	queue []*Derived // derived events of the current step, first in first out
	qhead int
	free  [][]*Derived // per rule: recycled derived events
	spare []*Derived   // per rule whose output no rule reads: its one derived event, reused

	types []typeInfo // per type
	exec  []execNode // per node
	input Derived    // wrapper handing input events to subscribers
	rec   Record

	subs      subscriptions
	stats     Stats
	timerHook func(firedTimer) // tests: called for timers of no operator
	keyed     keyedRuntime     // window rules and output rate limits: window_op.go
	patterns  patternRuntime   // pattern rules: pattern_op.go
}

// typeInfo is what Process reads for each event of a type, in one place.
type typeInfo struct {
	schema    *event.Schema
	kinds     []event.Kind // the declared kind of each field
	quads     []kindQuad   // kinds packed four to a word (kindQuads)
	fastKinds bool         // exact, and 1 to 8 fields: see quad0, quad1, small
	fastLen   int          // the field count when fastKinds and timeSlot >= 0 (the short path), else -1
	small     uintptr      // 1 to 3 fields: their count, and quad0 packs their kinds; 0: quad0 and quad1 are the first and the last four
	quad0     uint32
	quad1     uint32
	lastAt    uintptr   // quad1's first field; 0: four fields, quad0 is all
	plans     []runPlan // the rules that read the type, in rule order
	// The one plan is a window's or a pattern's, run directly (run's one
	// step, without its loop); both nil: run the plans.
	window   *execNode
	pattern  *execNode
	input    []*sub // subscribers to input events of the type (Matcher.syncSubs)
	lateness int64
	timeSlot int // the time field's slot; -1: arrival time (no time field, or Config.ProcessingTime)
	// exact: an event whose field kinds all equal kinds is valid as it is.
	// False when a field is a typed list, whose elements need checking too.
	exact bool
}

// conforms reports whether the event's fields have exactly the declared
// kinds, which makes the event valid with nothing to widen. false says
// only that checkFields must decide (a nil field, an int in a float field,
// an any field, a typed list, or an invalid event).
//
// Every event of the Go API pays for this check, so it compares four kinds
// at a time, packed into a word (kindQuads), reading the kind bytes in
// place: a third of the instructions of a loop over the fields.
func (ti *typeInfo) conforms(fields []event.Value) bool {
	if len(fields) != len(ti.kinds) || !ti.exact {
		return false
	}
	if ti.fastKinds {
		base := unsafe.Pointer(unsafe.SliceData(fields))
		if ti.small != 0 {
			return kindsBelow4(base, ti.small) == ti.quad0
		}
		return kindsAt(base, 0) == ti.quad0 && (ti.lastAt == 0 || kindsAt(base, ti.lastAt) == ti.quad1)
	}
	return ti.conformsLong(fields)
}

// setKinds sets the declared kinds and their packed forms (after exact
// and timeSlot, which the short path's fastLen reads).
func (ti *typeInfo) setKinds(kinds []event.Kind) {
	ti.kinds, ti.quads = kinds, kindQuads(kinds)
	ti.fastKinds, ti.lastAt, ti.small = false, 0, 0
	if n := len(kinds); n > 0 && n < 4 {
		ti.fastKinds, ti.small = ti.exact, uintptr(n)
		ti.quad0 = 0
		for i, k := range kinds {
			ti.quad0 |= uint32(k) << (8 * i)
		}
	}
	if n := len(ti.quads); n > 0 && n <= 2 {
		ti.fastKinds, ti.quad0, ti.quad1 = ti.exact, ti.quads[0].kinds, ti.quads[n-1].kinds
		ti.lastAt = uintptr(ti.quads[n-1].at)
	}
	ti.fastLen = -1
	if ti.fastKinds && ti.timeSlot >= 0 {
		ti.fastLen = len(kinds)
	}
}

// kindsAt packs the kinds of the four values from index at on, as
// kindQuads does the declared kinds. The caller checks the bounds.
func kindsAt(base unsafe.Pointer, at uintptr) uint32 {
	p := unsafe.Add(base, at*valueSize+kindOffset)
	return uint32(*(*event.Kind)(p)) | uint32(*(*event.Kind)(unsafe.Add(p, valueSize)))<<8 |
		uint32(*(*event.Kind)(unsafe.Add(p, 2*valueSize)))<<16 | uint32(*(*event.Kind)(unsafe.Add(p, 3*valueSize)))<<24
}

// kindsBelow4 packs the kinds of the first n values, n from 1 to 3, as
// kindsAt packs four. The caller checks the bounds.
func kindsBelow4(base unsafe.Pointer, n uintptr) uint32 {
	p := unsafe.Add(base, kindOffset)
	k := uint32(*(*event.Kind)(p))
	if n > 1 {
		k |= uint32(*(*event.Kind)(unsafe.Add(p, valueSize))) << 8
	}
	if n > 2 {
		k |= uint32(*(*event.Kind)(unsafe.Add(p, 2*valueSize))) << 16
	}
	return k
}

// conformsLong is conforms for fewer than four or more than eight fields.
func (ti *typeInfo) conformsLong(fields []event.Value) bool {
	if len(fields) < 4 {
		for i := range fields {
			if fields[i].Kind() != ti.kinds[i] {
				return false
			}
		}
		return true
	}
	base := unsafe.Pointer(unsafe.SliceData(fields))
	for _, q := range ti.quads {
		// In bounds: q.at+3 < len(fields), as len(fields) == len(ti.kinds).
		if kindsAt(base, uintptr(q.at)) != q.kinds {
			return false
		}
	}
	return true
}

// Where a Value keeps its kind, for conforms; TestConforms holds them to
// event.Value's layout.
const (
	valueSize     = unsafe.Sizeof(event.Value{})
	kindOffset    = valueSize - 8 // the kind byte follows the pointer and the payload
	payloadOffset = 8             // the payload (an int, a float's bits, a time) follows the pointer
)

// kindQuad is four consecutive declared kinds, from field at on, packed
// into a word as conforms reads them.
type kindQuad struct {
	at    int
	kinds uint32
}

// kindQuads covers the kinds of a type of at least four fields with
// quads: fields 0-3, 4-7, ..., and when the count is not a multiple of
// four, the last four fields (overlapping the quad before).
func kindQuads(kinds []event.Kind) []kindQuad {
	n := len(kinds)
	if n < 4 {
		return nil
	}
	var qs []kindQuad
	pack := func(at int) {
		k := kinds[at : at+4]
		qs = append(qs, kindQuad{at, uint32(k[0]) | uint32(k[1])<<8 | uint32(k[2])<<16 | uint32(k[3])<<24})
	}
	for at := 0; at+4 <= n; at += 4 {
		pack(at)
	}
	if n%4 != 0 {
		pack(n - 4)
	}
	return qs
}

// NewMatcher returns a matcher for the graph.
func (g *Graph) NewMatcher(cfg Config) *Matcher {
	m := &Matcher{
		g:       g,
		cfg:     cfg,
		vm:      eval.NewMachine(),
		maxSeen: math.MinInt64,
		wm:      math.MinInt64,
		maxLate: int64(g.maxLate),
		now:     math.MinInt64,
		dueAt:   math.MaxInt64,
		memo:    make([]uint64, len(g.nodes)),
		free:    make([][]*Derived, len(g.rules)),
		spare:   make([]*Derived, len(g.rules)),
		exec:    g.exec,
		gen:     1,
	}
	m.frame.Bound = m.bound[:]
	m.types = make([]typeInfo, g.reg.Len())
	for _, s := range g.reg.Schemas() {
		ti := &m.types[s.ID]
		ti.schema = s
		ti.lateness = int64(s.Lateness)
		ti.timeSlot = s.TimeSlot
		if cfg.ProcessingTime {
			ti.timeSlot = -1
		}
		ti.exact = true
		for _, f := range s.Fields {
			if f.Type.Kind == event.KindList && f.Type.Elem != nil && f.Type.Elem.Kind != event.KindAny {
				ti.exact = false
			}
		}
		ti.setKinds(g.kinds[s.ID])
	}
	m.input.RuleID = -1
	m.subs.init(g)
	for _, s := range g.reg.Schemas() {
		ti := &m.types[s.ID]
		ti.plans = m.runPlans(g.plans[s.ID])
		if len(ti.plans) == 1 {
			ti.window, ti.pattern = ti.plans[0].window, ti.plans[0].pattern
		}
	}
	m.keyed.init(m)
	m.patterns.init(m)
	return m
}

// Graph returns the matcher's graph.
func (m *Matcher) Graph() *Graph { return m.g }

// Watermark returns the current watermark (Unix nanoseconds;
// math.MinInt64 before any event, math.MaxInt64 after Close).
func (m *Matcher) Watermark() int64 { return m.wm }

// Stats returns the counters.
func (m *Matcher) Stats() Stats {
	s := m.stats
	s.Buffered = uint64(m.buf.len())
	s.EvalErrors = m.vm.Errors()
	s.Watermark = m.wm
	s.Keys = m.keyed.liveKeys() + m.patterns.liveKeys()
	return s
}

// Process takes one event. The event time is read from the type's time
// field (ev.Time is ignored), or for types without one is the arrival time
// (Config.Clock, else ev.Time as the caller stamped it). Process stamps
// ev.Time with the event time and ev.Seq with the arrival sequence. It
// copies what it keeps: the caller may reuse ev and its Fields afterwards
// (string and list values are kept by reference and must not be mutated).
// Invalid events go to the invalid stream, late ones to the late stream.
func (m *Matcher) Process(ev *event.Event) { m.process(ev, nil) }

// ProcessAt is Process with the event's source position, reported with it
// if it turns out late or invalid.
func (m *Matcher) ProcessAt(pos Pos, ev *event.Event) { m.process(ev, &pos) }

// process is Process and ProcessAt (pos nil: no position). The position
// goes by pointer: only the rare late and invalid records read it.
//
// Nearly every event is valid, in order and released at once, and takes
// the short path: process decides that first, with no side effect but
// the counters, and the event runs in place. Any other event goes through
// processSlow, which decides everything afresh with the full checks. The
// short path requires:
//
//   - no handler running, and the matcher open;
//   - fields of exactly the declared kinds (valid, with nothing to widen);
//   - an event time read from the event, not from a Clock (which
//     processSlow must read once);
//   - t at or after both the largest time seen and the watermark: then the
//     event is not late for any lateness, as its bound, max(watermark,
//     largest seen - lateness), is at most t;
//   - nothing buffered, and t at or behind the new watermark, max(watermark,
//     t - largest lateness): so when the largest lateness is 0, or when
//     Advance has moved the watermark ahead.
//
// Such an event sorts before every event to come, in (time, sequence)
// order: the watermark is then at or past t, so a later event is either
// behind it, and late, or at t or after, and at t it has a larger sequence
// number. Running it now gives the order the reorder buffer would. Timers
// due at or before t fire first, as a timer goes before events of its
// time. (Nothing buffered and t at or after the largest time seen each
// follow from the other conditions, as a buffered event is newer than the
// watermark; they are checked anyway, at one compare each, so that the
// argument does not rest on that.)
//
// The checks are written out here rather than in a function of their own:
// every event pays for them, and the call and its three results cost a
// fifth of the short path.
func (m *Matcher) process(ev *event.Event, pos *Pos) {
	m.stats.In++
	m.seq++
	if m.busy || m.closed || uint(ev.Type) >= uint(len(m.types)) || m.buf.len() > 0 {
		m.processSlow(ev, pos)
		return
	}
	ti := &m.types[uint(ev.Type)]
	var t int64
	// ti.conforms and the time, by hand for the common 4 to 8 fields and a
	// time field (the compiler would not inline them).
	if fields := ev.Fields; len(fields) == ti.fastLen {
		base := unsafe.Pointer(unsafe.SliceData(fields))
		if ti.small != 0 {
			if kindsBelow4(base, ti.small) != ti.quad0 {
				m.processSlow(ev, pos)
				return
			}
		} else if kindsAt(base, 0) != ti.quad0 || ti.lastAt != 0 && kindsAt(base, ti.lastAt) != ti.quad1 {
			m.processSlow(ev, pos)
			return
		}
		// The field is a time, as the event conforms: its payload, in place.
		t = *(*int64)(unsafe.Add(base, uintptr(ti.timeSlot)*valueSize+payloadOffset))
	} else if tt, ok := m.admitTime(ev, ti); ok {
		t = tt
	} else {
		m.processSlow(ev, pos)
		return
	}
	wm := max(m.wm, satSub(t, m.maxLate))
	if t < m.maxSeen || t < m.wm || t > wm {
		m.processSlow(ev, pos)
		return
	}
	m.maxSeen, m.wm = t, wm
	m.busy = true
	ev.Time, ev.Seq = t, m.seq
	if m.timerDue(t) {
		m.fireUpTo(t)
	}
	m.stats.Processed++ // processInput, by hand
	m.now = t
	if len(ti.input) > 0 {
		m.deliverInput(ev, ti)
	}
	if len(ti.plans) > 0 {
		switch {
		case ti.window != nil:
			m.windowEvent(ti.window, ev)
		case ti.pattern != nil:
			m.patternEvent(ti.pattern, ev)
		default:
			m.run(ev, ti.plans)
		}
		if len(m.queue) > 0 {
			m.flush()
		}
	}
	if m.timerDue(m.wm) { // only when Advance moved the watermark past t
		m.drain()
	}
	m.busy = false
}

// admitTime is the short path's check of an event's kinds and its time
// for the types process does not check by hand: whether the event
// conforms and its time is its own (a time field, or stamped by the
// caller when there is no Clock).
func (m *Matcher) admitTime(ev *event.Event, ti *typeInfo) (int64, bool) {
	if !ti.conforms(ev.Fields) {
		return 0, false
	}
	switch {
	case ti.timeSlot >= 0:
		return ev.Fields[ti.timeSlot].Time(), true // conforms: the field is a time
	case m.cfg.Clock == nil:
		return ev.Time, true
	}
	return 0, false
}

// processSlow is process for every event the short path refuses, with every check:
// invalid and late events, events that must wait in the reorder buffer
// (lateness), ints widened into float fields, arrival times from a Clock.
func (m *Matcher) processSlow(ev *event.Event, pos *Pos) {
	m.slow++
	if m.busy {
		m.invalid(pos, ev, nil, ErrReentrant, -1)
		return
	}
	if uint(ev.Type) >= uint(len(m.types)) {
		m.invalid(pos, ev, nil, ErrUnknownType, -1)
		return
	}
	ti := &m.types[ev.Type]
	widen := false
	if !ti.conforms(ev.Fields) {
		var ok bool
		if widen, ok = m.checkFields(pos, ev, ti); !ok {
			return
		}
	}
	t := ev.Time
	if ti.timeSlot >= 0 {
		v := &ev.Fields[ti.timeSlot]
		if v.Kind() != event.KindTime {
			m.invalid(pos, ev, ti.schema, ErrMissingTime, -1)
			return
		}
		t = v.Time()
	} else if m.cfg.Clock != nil {
		t = m.cfg.Clock.Now()
	}
	bound := m.wm
	if m.maxSeen != math.MinInt64 {
		bound = max(bound, satSub(m.maxSeen, ti.lateness))
	}
	if t < bound || m.closed {
		m.late(pos, ev, ti.schema, t, bound)
		return
	}
	if t > m.maxSeen {
		m.maxSeen = t
		m.wm = max(m.wm, satSub(t, m.maxLate))
	}

	m.busy = true
	ev.Time, ev.Seq = t, m.seq
	if !widen && m.buf.len() == 0 && t <= m.wm {
		// Released on arrival: run in place, as in process (which says
		// why nothing to come can sort before it).
		if m.timerDue(t) {
			m.fireUpTo(t)
		}
		m.processInput(ev, ti)
	} else {
		m.buf.push(m.own(ev, ti.schema, t, widen))
		if m.cfg.MaxBuffered > 0 && m.buf.len() > m.cfg.MaxBuffered {
			top, _ := m.buf.peekTime()
			m.wm = max(m.wm, top)
			m.stats.Forced++
		}
	}
	m.drain()
	m.busy = false
}

// checkFields checks an event whose field kinds are not exactly the
// declared ones: nil fields, ints in float fields (widen), any fields and
// typed lists are valid; anything else goes to the invalid stream (false).
func (m *Matcher) checkFields(pos *Pos, ev *event.Event, ti *typeInfo) (widen, ok bool) {
	s, kinds := ti.schema, ti.kinds
	if len(ev.Fields) != len(kinds) {
		m.invalid(pos, ev, s, ErrFieldCount, -1)
		return false, false
	}
	for i := range ev.Fields {
		k, want := ev.Fields[i].Kind(), kinds[i]
		if k == want || k == event.KindNil || want == event.KindAny {
			if k == event.KindList && !listConforms(ev.Fields[i], s.Fields[i].Type) {
				m.invalid(pos, ev, s, ErrFieldType, i)
				return false, false
			}
			continue
		}
		if want == event.KindFloat && k == event.KindInt {
			widen = true
			continue
		}
		m.invalid(pos, ev, s, ErrFieldType, i)
		return false, false
	}
	return widen, true
}

// ProcessBatch processes the events in order, as Process does one by one.
func (m *Matcher) ProcessBatch(evs []event.Event) {
	for i := range evs {
		m.ProcessAt(Pos{}, &evs[i])
	}
}

// Reject records an input record that could not be made into an event (a
// decoding error, with its position) in the invalid stream. If err has a
// method Reason() string (as codec.Error has), that is the reason the record
// gives, so a positioned error does not repeat its position.
func (m *Matcher) Reject(pos Pos, err error) {
	m.stats.In++
	m.seq++
	m.invalid(&pos, nil, nil, err, -1)
}

// Advance moves the watermark forward to w (it never moves back): buffered
// events and timers up to w are processed, and later events behind w are
// late. Use it when the input is idle, or with processing time.
func (m *Matcher) Advance(w int64) error {
	if m.busy {
		return ErrReentrant
	}
	if m.closed {
		return ErrClosed
	}
	m.busy = true
	m.wm = max(m.wm, w)
	m.drain()
	m.busy = false
	return nil
}

// Close ends the input: the watermark moves to +infinity, every buffered
// event is processed, every pending timer fires, and the channels of channel
// subscriptions are closed. Later events are late. Close is idempotent.
func (m *Matcher) Close() error {
	if m.busy {
		return ErrReentrant
	}
	if m.closed {
		return nil
	}
	m.busy = true
	m.wm = math.MaxInt64
	m.drain()
	m.patternClose()
	m.closed = true
	m.busy = false
	m.subs.closeAll()
	return nil
}

func satSub(t, d int64) int64 {
	if d > 0 && t < math.MinInt64+d {
		return math.MinInt64
	}
	return t - d
}

func listConforms(v event.Value, t event.Type) bool {
	if t.Kind != event.KindList || t.Elem == nil || t.Elem.Kind == event.KindAny {
		return true
	}
	for _, x := range v.List() {
		k := x.Kind()
		if k == event.KindNil || k == t.Elem.Kind || (t.Elem.Kind == event.KindFloat && k == event.KindInt) {
			if k == event.KindList && !listConforms(x, *t.Elem) {
				return false
			}
			continue
		}
		return false
	}
	return true
}

// own copies an event into matcher-owned storage for the reorder buffer.
func (m *Matcher) own(ev *event.Event, s *event.Schema, t int64, widen bool) *event.Event {
	var e *event.Event
	if n := len(m.evFree); n > 0 {
		e = m.evFree[n-1]
		m.evFree = m.evFree[:n-1]
	} else {
		e = &event.Event{}
	}
	e.Type, e.Time, e.Seq = ev.Type, t, m.seq
	e.Fields = append(e.Fields[:0], ev.Fields...)
	if widen {
		for i := range e.Fields {
			if s.Fields[i].Type.Kind == event.KindFloat && e.Fields[i].Kind() == event.KindInt {
				e.Fields[i] = event.FloatValue(e.Fields[i].Float())
			}
		}
	}
	return e
}

func (m *Matcher) release(e *event.Event) {
	clear(e.Fields) // drop references to strings and lists
	e.Fields = e.Fields[:0]
	m.evFree = append(m.evFree, e)
}

// drain processes buffered events and fires timers up to the watermark, in
// time order; a timer goes before events of its own time.
func (m *Matcher) drain() {
	for {
		et, eok := m.buf.peekTime()
		if tt, lane, ok := m.nextTimer(); ok && tt <= m.wm && (!eok || tt <= et) {
			m.fire(m.popTimer(lane))
			continue
		}
		if !eok || et > m.wm {
			return
		}
		e := m.buf.pop()
		m.processInput(e, &m.types[e.Type])
		m.release(e)
	}
}

// fireUpTo fires the timers due at or before t.
func (m *Matcher) fireUpTo(t int64) {
	for m.timerDue(t) {
		// The timer of the keyed or the patterns lane alone, due (dueAt is
		// its time): the common fire of window or pattern rules, without
		// nextTimer's choice.
		if !m.timers.has && m.keyed.mtSet != m.patterns.mtSet {
			kd := &m.keyed.keyDeadlines
			if !kd.mtSet {
				kd = &m.patterns.keyDeadlines
			}
			kd.mtSet = false
			m.redue()
			m.fire(firedTimer{when: kd.mtWhen, node: kd.node})
			continue
		}
		tt, lane, ok := m.nextTimer()
		if !ok || tt > t { // (dueAt is MaxInt64 with no timer: t may be too)
			return
		}
		m.fire(m.popTimer(lane))
	}
}

// The matcher's timers are in three lanes: its timer queue, and the
// matcher timers of window (and output) rules and of pattern rules
// (keyDeadlines). Together they fire in (time, setting order).
const (
	laneQueue = iota
	laneKeyed
	lanePatterns
)

// timerDue reports whether a timer of any lane is due at or before t.
func (m *Matcher) timerDue(t int64) bool {
	return t >= m.dueAt
}

// redue recomputes dueAt after a change of a lane.
func (m *Matcher) redue() {
	d := int64(math.MaxInt64)
	if m.timers.has {
		d = m.timers.next
	}
	if m.keyed.mtSet {
		d = min(d, m.keyed.mtWhen)
	}
	if m.patterns.mtSet {
		d = min(d, m.patterns.mtWhen)
	}
	m.dueAt = d
}

// nextTimer returns the time and lane of the earliest timer.
func (m *Matcher) nextTimer() (int64, int, bool) {
	lane := m.nextLane()
	switch {
	case lane == laneKeyed:
		return m.keyed.mtWhen, lane, true
	case lane == lanePatterns:
		return m.patterns.mtWhen, lane, true
	case m.timers.has:
		return m.timers.next, lane, true
	}
	return 0, lane, false
}

// nextLane returns the lane of the earliest timer (laneQueue when there is
// none).
func (m *Matcher) nextLane() int {
	var when int64
	var seq uint64
	lane, ok := laneQueue, false
	if m.timers.has {
		e, _, _ := m.timers.front()
		when, seq, ok = e.when, e.seq, true
	}
	if kd := &m.keyed.keyDeadlines; kd.mtSet && (!ok || kd.mtWhen < when || kd.mtWhen == when && kd.mtSeq < seq) {
		when, seq, lane, ok = kd.mtWhen, kd.mtSeq, laneKeyed, true
	}
	if kd := &m.patterns.keyDeadlines; kd.mtSet && (!ok || kd.mtWhen < when || kd.mtWhen == when && kd.mtSeq < seq) {
		lane = lanePatterns
	}
	return lane
}

// popTimer removes the earliest timer of a lane and returns it.
func (m *Matcher) popTimer(lane int) firedTimer {
	switch lane {
	case laneKeyed:
		m.keyed.mtSet = false
		m.redue()
		return firedTimer{when: m.keyed.mtWhen, node: m.keyed.node}
	case lanePatterns:
		m.patterns.mtSet = false
		m.redue()
		return firedTimer{when: m.patterns.mtWhen, node: m.patterns.node}
	}
	t := m.timers.pop()
	m.redue()
	return t
}

// setTimer asks for fire(node, arg) when the watermark reaches when. It is
// the timer API of operators (windows, patterns).
func (m *Matcher) setTimer(when int64, node int32, arg uint64) timerID {
	m.stats.TimersSet++
	id := m.timers.set(when, node, arg)
	m.redue()
	return id
}

// cancelTimer removes a pending timer; false if it already fired.
func (m *Matcher) cancelTimer(id timerID) bool {
	ok := m.timers.cancel(id)
	m.redue()
	return ok
}

// resetTimer moves a pending timer; false if it already fired.
func (m *Matcher) resetTimer(id timerID, when int64) bool {
	ok := m.timers.reset(id, when)
	m.redue()
	return ok
}

func (m *Matcher) fire(t firedTimer) {
	m.stats.TimersDone++
	if t.when > m.now {
		m.now = t.when
	}
	if t.node >= 0 && int(t.node) < len(m.exec) {
		switch m.exec[t.node].op {
		// Window and pattern operators handle their timers here.
		case OpWindow, OpOutput:
			m.keyedFire(t.when)
		case OpPattern:
			m.patternFire(t.when)
		}
	}
	if m.timerHook != nil {
		m.timerHook(t)
	}
	m.flush()
}

// processInput runs one released input event through the graph, then the
// events derived from it.
func (m *Matcher) processInput(ev *event.Event, ti *typeInfo) {
	m.stats.Processed++
	m.now = ev.Time
	if len(ti.input) > 0 {
		m.deliverInput(ev, ti)
	}
	if len(ti.plans) > 0 {
		m.run(ev, ti.plans)
		if len(m.queue) > 0 {
			m.flush()
		}
	}
}

// deliverInput hands an input event to the subscribers of its type.
func (m *Matcher) deliverInput(ev *event.Event, ti *typeInfo) {
	d := &m.input
	d.Event, d.Schema = *ev, ti.schema
	m.deliver(ti.input, d)
	d.Event, d.Schema = event.Event{}, nil
}

// flush runs the queued derived events through the graph, first in first
// out (each may queue more), recycling each once it has run: its
// subscribers have had it when it was emitted, and nothing reads it after
// its own run (the Inputs of events derived from it are read only by their
// subscribers, at their emit). The queue keeps stale pointers to recycled
// events, which the matcher owns anyway.
func (m *Matcher) flush() {
	for m.qhead < len(m.queue) {
		d := m.queue[m.qhead]
		m.qhead++
		if plans := m.types[d.Event.Type].plans; len(plans) > 0 {
			m.run(&d.Event, plans)
		}
		m.recycle(d)
	}
	m.queue = m.queue[:0]
	m.qhead = 0
}

// runPlan is a rulePlan as one matcher runs it, with what run would
// otherwise look up per event resolved once: the one filter of most rules
// as a bare program, the reused derived event, the subscriber list.
type runPlan struct {
	pred    *eval.Program           // the rule's only filter, an expression no other rule shares; nil: filters
	fn      func(*event.Event) bool // the rule's only filter, a Go predicate; nil: pred or filters
	filters []filterStep            // the filters, when not pred or fn
	copy    []int                   // a plain projection: the source slot of each field; nil: proj
	spare   *Derived                // the derived event, reused, when no rule reads it; nil: one per event from the free list
	free    *[]*Derived             // the rule's free list (Matcher.free)
	subs    *[]*sub                 // the subscribers of the emitted type (subscriptions.derived)
	lone    *func(*Derived)         // their lone handler (subscriptions.lone)
	general *RuleInfo               // non-nil: a window, output or pattern rule, run node by node
	pattern *execNode               // general's first node when it is a pattern: run directly
	window  *execNode               // general's first node when it is a window: run directly
	proj    *execNode
	rule    int32
	queue   bool // some rule reads the emitted type
}

// runPlans makes the matcher's plans of one type.
func (m *Matcher) runPlans(plans []rulePlan) []runPlan {
	rps := make([]runPlan, len(plans))
	for i := range plans {
		p := &plans[i]
		rp := &rps[i]
		rp.rule, rp.general, rp.filters, rp.proj = p.rule, p.general, p.filters, &p.proj
		if p.general != nil {
			if ch := p.general.Chain; len(ch) > 0 {
				switch m.exec[ch[0]].op {
				case OpPattern:
					rp.pattern = &m.exec[ch[0]]
				case OpWindow:
					rp.window = &m.exec[ch[0]]
				}
			}
			continue
		}
		if len(p.filters) == 1 && !p.filters[0].memo {
			if f := p.filters[0]; f.fn != nil {
				rp.fn, rp.filters = f.fn, nil
			} else {
				rp.pred, rp.filters = f.prog, nil
			}
		}
		if p.proj.plain {
			rp.copy = p.proj.copy
		}
		rp.queue = p.proj.queue || p.emit.queue
		if !rp.queue {
			rp.spare = m.derived(p.rule, false)
		}
		rp.subs, rp.lone = &m.subs.derived[p.emit.typ], &m.subs.lone[p.emit.typ]
		rp.free = &m.free[p.rule]
	}
	return rps
}

// run executes the rules that read ev's type (plans), in rule order: each
// rule's filters until one rejects the event, then its projection and emit.
// One function, with no calls but the filters' and the subscribers', so
// that the loop state stays in registers.
func (m *Matcher) run(ev *event.Event, plans []runPlan) {
	m.gen++
	m.frame.Current = ev
	m.bound[0] = ev
	for p := range plans {
		plan := &plans[p]
		switch {
		case plan.pattern != nil: // runRule's first step, without its loop
			m.patternEvent(plan.pattern, ev)
			continue
		case plan.window != nil: // the same for a window
			m.windowEvent(plan.window, ev)
			continue
		case plan.pred != nil:
			if !m.vm.EvalBool(plan.pred, &m.frame) {
				continue
			}
		case plan.fn != nil:
			if !plan.fn(ev) {
				continue
			}
		case plan.general != nil:
			m.runRule(plan.general, ev)
			continue
		case len(plan.filters) > 0:
			if !m.filters(plan.filters, ev) {
				continue
			}
		}
		d := plan.spare
		if d == nil { // m.derived(plan.rule, true), by hand
			if l := *plan.free; len(l) > 0 {
				d = l[len(l)-1]
				*plan.free = l[:len(l)-1]
			} else {
				d = m.newDerived(plan.rule)
			}
		}
		if out := d.Event.Fields; plan.copy != nil {
			in, copy := ev.Fields, plan.copy[:len(out)]
			for k := range out {
				out[k] = in[copy[k]]
			}
		} else {
			m.project(plan.proj, out, ev.Fields)
		}
		m.seq++
		d.Event.Time, d.Event.Seq = ev.Time, m.seq
		if m.cfg.Explain {
			d.Inputs = append(d.Inputs[:0], ev)
		}
		m.stats.Derived++
		if h := *plan.lone; h != nil {
			h(d)
		} else if subs := *plan.subs; len(subs) > 0 {
			m.deliver(subs, d)
		}
		if plan.queue {
			m.queue = append(m.queue, d)
		}
	}
}

// filters runs a plan's filters in order, until one rejects the event.
func (m *Matcher) filters(fs []filterStep, ev *event.Event) bool {
	for i := range fs {
		f := &fs[i]
		var ok bool
		switch {
		case f.fn != nil:
			ok = f.fn(ev)
		case f.memo:
			ok = m.filterMemo(f)
		default:
			ok = m.vm.EvalBool(f.prog, &m.frame)
		}
		if !ok {
			return false
		}
	}
	return true
}

// runRule runs a rule node by node: the way of window and output rules,
// whose keyed operators take over from the plain plan (window_op.go).
func (m *Matcher) runRule(r *RuleInfo, ev *event.Event) {
	var d *Derived
	exec := m.exec
	for _, id := range r.Chain {
		n := &exec[id]
		switch n.op {
		case OpFilter:
			if !m.filterNode(id, n, ev) {
				return
			}
		case OpWindow:
			m.windowEvent(n, ev)
			return
		case OpPattern:
			m.patternEvent(n, ev)
			return
		case OpOutput:
			if !m.outputGate(n, ev, d) {
				return
			}
		case OpProject:
			d = m.derived(r.ID, true)
			m.frame.Current = ev
			m.bound[0] = ev
			m.project(n, d.Event.Fields, ev.Fields)
		case OpEmit:
			m.seq++
			d.Event.Time, d.Event.Seq = ev.Time, m.seq
			if m.cfg.Explain {
				d.Inputs = append(d.Inputs[:0], ev)
			}
			m.stats.Derived++
			if subs := m.subs.derived[n.typ]; len(subs) > 0 {
				m.deliver(subs, d)
			}
			if n.queue {
				m.queue = append(m.queue, d)
			} else {
				m.recycle(d) // nothing reads it: no need to queue
			}
		}
	}
}

// filterNode evaluates a filter node, remembered per event.
func (m *Matcher) filterNode(id int32, n *execNode, ev *event.Event) bool {
	if n.fn != nil {
		return n.fn(ev)
	}
	if e := m.memo[id]; e>>1 == m.gen {
		return e&1 == 1
	}
	m.frame.Current = ev
	m.bound[0] = ev
	ok := m.vm.EvalBool(n.prog, &m.frame)
	e := m.gen << 1
	if ok {
		e |= 1
	}
	m.memo[id] = e
	return ok
}

// project computes the fields of a derived event that are not plain
// copies. The frame is set by run.
func (m *Matcher) project(n *execNode, out, in []event.Value) {
	for k, prog := range n.progs {
		if c := n.copy[k]; c >= 0 && !n.widen[k] {
			out[k] = in[c]
			continue
		}
		v := m.vm.Eval(prog, &m.frame)
		if n.widen[k] && v.Kind() == event.KindInt {
			v = event.FloatValue(v.Float())
		}
		out[k] = v
	}
}

// filterMemo evaluates a filter that several rules share once per event.
// The frame is already set by run (subscription filters restore it).
func (m *Matcher) filterMemo(n *filterStep) bool {
	if e := m.memo[n.id]; e>>1 == m.gen {
		return e&1 == 1
	}
	ok := m.vm.EvalBool(n.prog, &m.frame)
	e := m.gen << 1
	if ok {
		e |= 1
	}
	m.memo[n.id] = e
	return ok
}

// derived returns the derived event a rule fills. A rule whose output no
// rule reads uses one spare event over and over: it is done with it when
// its subscribers return. Queued events come from per-rule free lists, so
// the rule, type and schema are set once.
func (m *Matcher) derived(rule int32, queued bool) *Derived {
	if !queued {
		if d := m.spare[rule]; d != nil {
			return d
		}
		d := m.newDerived(rule)
		m.spare[rule] = d // reused whole: Explain's Inputs are reset on each use
		return d
	}
	if l := m.free[rule]; len(l) > 0 {
		d := l[len(l)-1]
		m.free[rule] = l[:len(l)-1]
		return d
	}
	return m.newDerived(rule)
}

func (m *Matcher) newDerived(rule int32) *Derived {
	r := &m.g.rules[rule]
	s := m.types[r.Emits].schema
	return &Derived{Event: event.Event{Type: r.Emits, Fields: make([]event.Value, len(s.Fields))}, Schema: s, Rule: r.Name, RuleID: r.ID,
		home: &m.free[rule]}
}

// recycle returns a queued derived event to its free list. Its fields are
// not cleared: the next use overwrites every slot.
func (m *Matcher) recycle(d *Derived) {
	d.Inputs = d.Inputs[:0]
	if d.home != nil {
		*d.home = append(*d.home, d)
		return
	}
	if r := &m.g.rules[d.RuleID]; d.Event.Type != r.Emits {
		// An on timeout emit event: back to its pattern operator's list.
		for _, op := range m.patterns.ops {
			if op.rule.ID == d.RuleID {
				op.tfree = append(op.tfree, d)
				return
			}
		}
	}
	m.free[d.RuleID] = append(m.free[d.RuleID], d)
}

func (m *Matcher) invalid(pos *Pos, ev *event.Event, s *event.Schema, err error, field int) {
	m.stats.Invalid++
	if len(m.subs.invalid) == 0 {
		return
	}
	r := &m.rec
	*r = Record{Stream: StreamInvalid, Pos: posOf(pos), Err: err, Event: ev, Schema: s, Field: field, Index: m.stats.In}
	m.deliverRecord(m.subs.invalid, r)
	*r = Record{}
}

func (m *Matcher) late(pos *Pos, ev *event.Event, s *event.Schema, t, bound int64) {
	m.stats.Late++
	if len(m.subs.late) == 0 {
		return
	}
	ev.Time, ev.Seq = t, m.seq
	r := &m.rec
	err := ErrLate
	if m.closed {
		err = ErrClosed
	}
	*r = Record{Stream: StreamLate, Pos: posOf(pos), Err: err, Event: ev, Schema: s, Field: -1, Bound: bound, Index: m.stats.In}
	m.deliverRecord(m.subs.late, r)
	*r = Record{}
}

func posOf(p *Pos) Pos {
	if p == nil {
		return Pos{}
	}
	return *p
}
