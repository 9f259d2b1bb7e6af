package engine

import (
	"math"

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
	// rules still process it. 0: unbounded.
	MaxKeys int
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

	Refused uint64 // events a rule refused (refused stream): key limit, time out of window range
	Keys    uint64 // live partition keys of window rules and output rate limits
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
	now     int64 // time of the current step
	closed  bool
	busy    bool

	buf    reorderBuffer
	timers timerQueue
	evFree []*event.Event

	memo []uint64 // per node: gen<<1 | filter result
	gen  uint64

	queue []*Derived // derived events of the current step, first in first out
	qhead int
	free  [][]*Derived // per rule: recycled derived events

	schemas []*event.Schema // per type
	kinds   [][]event.Kind  // per type
	exec    []execNode      // per node
	input   Derived         // wrapper handing input events to subscribers
	rec     Record

	subs      subscriptions
	stats     Stats
	timerHook func(firedTimer) // tests: called for timers of no operator
	lateness  []int64          // per type

	keyed keyedRuntime // window rules and output rate limits: window_op.go
}

// NewMatcher returns a matcher for the graph.
func (g *Graph) NewMatcher(cfg Config) *Matcher {
	m := &Matcher{
		g:       g,
		cfg:     cfg,
		vm:      eval.NewMachine(),
		maxSeen: math.MinInt64,
		wm:      math.MinInt64,
		now:     math.MinInt64,
		memo:    make([]uint64, len(g.nodes)),
		free:    make([][]*Derived, len(g.rules)),
		schemas: g.reg.Schemas(),
		kinds:   g.kinds,
		exec:    g.exec,
		gen:     1,
	}
	m.frame.Bound = m.bound[:]
	m.lateness = make([]int64, g.reg.Len())
	for _, s := range g.reg.Schemas() {
		m.lateness[s.ID] = int64(s.Lateness)
	}
	m.input.RuleID = -1
	m.subs.init(g)
	m.keyed.init(m)
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
	s.Keys = m.keyed.liveKeys()
	return s
}

// Process takes one event. The event time is read from the type's time
// field (ev.Time is ignored), or for types without one is the arrival time
// (Config.Clock, else ev.Time as the caller stamped it). Process stamps
// ev.Time with the event time and ev.Seq with the arrival sequence. It
// copies what it keeps: the caller may reuse ev and its Fields afterwards
// (string and list values are kept by reference and must not be mutated).
// Invalid events go to the invalid stream, late ones to the late stream.
func (m *Matcher) Process(ev *event.Event) { m.ProcessAt(Pos{}, ev) }

// ProcessAt is Process with the event's source position, reported with it
// if it turns out late.
func (m *Matcher) ProcessAt(pos Pos, ev *event.Event) {
	m.stats.In++
	m.seq++
	if m.busy {
		m.invalid(pos, ev, nil, ErrReentrant, -1)
		return
	}
	if ev.Type < 0 || int(ev.Type) >= len(m.schemas) {
		m.invalid(pos, ev, nil, ErrUnknownType, -1)
		return
	}
	s := m.schemas[ev.Type]
	kinds := m.kinds[ev.Type]
	if len(ev.Fields) != len(kinds) {
		m.invalid(pos, ev, s, ErrFieldCount, -1)
		return
	}
	widen := false
	for i := range ev.Fields {
		k, want := ev.Fields[i].Kind(), kinds[i]
		if k == want || k == event.KindNil || want == event.KindAny {
			if k == event.KindList && !listConforms(ev.Fields[i], s.Fields[i].Type) {
				m.invalid(pos, ev, s, ErrFieldType, i)
				return
			}
			continue
		}
		if want == event.KindFloat && k == event.KindInt {
			widen = true
			continue
		}
		m.invalid(pos, ev, s, ErrFieldType, i)
		return
	}
	t := ev.Time
	if s.TimeSlot >= 0 && !m.cfg.ProcessingTime {
		v := ev.Fields[s.TimeSlot]
		if v.Kind() != event.KindTime {
			m.invalid(pos, ev, s, ErrMissingTime, -1)
			return
		}
		t = v.Time()
	} else if m.cfg.Clock != nil {
		t = m.cfg.Clock.Now()
	}

	bound := m.wm
	if m.maxSeen != math.MinInt64 {
		bound = max(bound, satSub(m.maxSeen, m.lateness[ev.Type]))
	}
	if t < bound || m.closed {
		m.late(pos, ev, s, t, bound)
		return
	}
	if t > m.maxSeen {
		m.maxSeen = t
		m.wm = max(m.wm, satSub(t, int64(m.g.maxLate)))
	}

	m.busy = true
	ev.Time, ev.Seq = t, m.seq
	if !widen && m.buf.len() == 0 && t <= m.wm {
		// In order and already released: process in place, no copy.
		if m.timers.len() > 0 {
			m.fireUpTo(t)
		}
		m.processInput(ev)
	} else {
		m.buf.push(m.own(ev, s, t, widen))
		if m.cfg.MaxBuffered > 0 && m.buf.len() > m.cfg.MaxBuffered {
			top, _ := m.buf.peekTime()
			m.wm = max(m.wm, top)
			m.stats.Forced++
		}
	}
	if m.buf.len() > 0 || m.timers.len() > 0 {
		m.drain()
	}
	m.busy = false
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
	m.invalid(pos, nil, nil, err, -1)
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
		if tt, ok := m.timers.peek(); ok && tt <= m.wm && (!eok || tt <= et) {
			m.fire(m.timers.pop())
			continue
		}
		if !eok || et > m.wm {
			return
		}
		e := m.buf.pop()
		m.processInput(e)
		m.release(e)
	}
}

// fireUpTo fires the timers due at or before t.
func (m *Matcher) fireUpTo(t int64) {
	for {
		tt, ok := m.timers.peek()
		if !ok || tt > t {
			return
		}
		m.fire(m.timers.pop())
	}
}

// setTimer asks for fire(node, arg) when the watermark reaches when. It is
// the timer API of operators (windows, patterns).
func (m *Matcher) setTimer(when int64, node int32, arg uint64) timerID {
	m.stats.TimersSet++
	return m.timers.set(when, node, arg)
}

// cancelTimer removes a pending timer; false if it already fired.
func (m *Matcher) cancelTimer(id timerID) bool { return m.timers.cancel(id) }

// resetTimer moves a pending timer; false if it already fired.
func (m *Matcher) resetTimer(id timerID, when int64) bool { return m.timers.reset(id, when) }

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
		}
	}
	if m.timerHook != nil {
		m.timerHook(t)
	}
	m.flush()
}

// processInput runs one released input event through the graph, then the
// events derived from it.
func (m *Matcher) processInput(ev *event.Event) {
	m.stats.Processed++
	m.now = ev.Time
	if subs := m.subs.input[ev.Type]; len(subs) > 0 {
		d := &m.input
		d.Event, d.Schema = *ev, m.g.reg.ByID(ev.Type)
		m.deliver(subs, d)
		d.Event, d.Schema = event.Event{}, nil
	}
	m.run(ev)
	if len(m.queue) > 0 {
		m.flush()
	}
}

// flush runs the queued derived events through the graph, first in first
// out (each may queue more), then recycles them.
func (m *Matcher) flush() {
	for m.qhead < len(m.queue) {
		d := m.queue[m.qhead]
		m.qhead++
		m.run(&d.Event)
	}
	for i, d := range m.queue {
		m.recycle(d)
		m.queue[i] = nil
	}
	m.queue = m.queue[:0]
	m.qhead = 0
}

// run executes the rules that read ev's type, in rule order.
func (m *Matcher) run(ev *event.Event) {
	g := m.g
	readers := g.readers[ev.Type]
	if len(readers) == 0 {
		return
	}
	m.gen++
	m.frame.Current = ev
	m.bound[0] = ev
	for _, rid := range readers {
		m.runRule(&g.rules[rid], ev)
	}
}

func (m *Matcher) runRule(r *RuleInfo, ev *event.Event) {
	var d *Derived
	exec := m.exec
	for _, id := range r.Chain {
		n := &exec[id]
		switch n.op {
		case OpFilter:
			if !m.filter(id, n, ev) {
				return
			}
		case OpWindow:
			m.windowEvent(n, ev)
			return
		case OpOutput:
			if !m.outputGate(n, ev, d) {
				return
			}
		case OpProject:
			d = m.derived(r)
			m.frame.Current = ev
			m.bound[0] = ev
			for i, p := range n.progs {
				if c := n.copy[i]; c >= 0 && !n.widen[i] {
					d.Event.Fields[i] = ev.Fields[c]
					continue
				}
				v := m.vm.Eval(p, &m.frame)
				if n.widen[i] && v.Kind() == event.KindInt {
					v = event.FloatValue(v.Float())
				}
				d.Event.Fields[i] = v
			}
		case OpEmit:
			m.seq++
			d.Event.Time, d.Event.Seq = ev.Time, m.seq
			if m.cfg.Explain {
				d.Inputs = append(d.Inputs, ev)
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

func (m *Matcher) filter(id int32, n *execNode, ev *event.Event) bool {
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

// derived returns a recycled or new derived event of the rule. Free lists
// are per rule, so the rule, type and schema are set once.
func (m *Matcher) derived(r *RuleInfo) *Derived {
	if l := m.free[r.ID]; len(l) > 0 {
		d := l[len(l)-1]
		m.free[r.ID] = l[:len(l)-1]
		return d
	}
	s := m.schemas[r.Emits]
	return &Derived{Event: event.Event{Type: r.Emits, Fields: make([]event.Value, len(s.Fields))}, Schema: s, Rule: r.Name, RuleID: r.ID}
}

// recycle returns a derived event to its free list. Its fields are not
// cleared: the next use overwrites every slot.
func (m *Matcher) recycle(d *Derived) {
	d.Inputs = d.Inputs[:0]
	m.free[d.RuleID] = append(m.free[d.RuleID], d)
}

func (m *Matcher) invalid(pos Pos, ev *event.Event, s *event.Schema, err error, field int) {
	m.stats.Invalid++
	if len(m.subs.invalid) == 0 {
		return
	}
	r := &m.rec
	*r = Record{Stream: StreamInvalid, Pos: pos, Err: err, Event: ev, Schema: s, Field: field, Index: m.stats.In}
	m.deliverRecord(m.subs.invalid, r)
	*r = Record{}
}

func (m *Matcher) late(pos Pos, ev *event.Event, s *event.Schema, t, bound int64) {
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
	*r = Record{Stream: StreamLate, Pos: pos, Err: err, Event: ev, Schema: s, Field: -1, Bound: bound, Index: m.stats.In}
	m.deliverRecord(m.subs.late, r)
	*r = Record{}
}
