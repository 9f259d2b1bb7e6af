package engine

import (
	"cmp"
	"errors"
	"math"
	"slices"
	"strconv"
	"unsafe"

	"github.com/cepengine/cep/engine/eval"
	"github.com/cepengine/cep/engine/event"
	"github.com/cepengine/cep/internal/prefetch"
	"github.com/cepengine/cep/window"
)

// The runtime of window rules and output rate limits (keyed operators).
//
// Each keyed operator of a matcher keeps a table of partition keys (see
// keyTable) and, per key, its window (a window.Window from the window
// package) and its output state. An event that reaches a window node is
// keyed, its aggregate arguments are evaluated into a window.Row, and the
// key's window takes it; the window calls back Emit for each result, which
// fills Frame.Vars with the keys and aggregates, checks having, computes
// the emitted fields and passes the output rate limit. A rule whose
// aggregates are all count, sum and avg keeps its tumbling, sliding or
// small sliding count windows (a ring of at most maxColumnBlock bytes) in
// columns instead (keyColumns: window.Tumblings, Slidings, CountSlidings):
// no object per key, a key's window where its id points, fewer cache lines
// an event; the output is the same (TestWindow_columns).
//
// Time. Windows close on the watermark only: every key whose window (or
// output interval) has a deadline holds an entry in the operators' shared
// deadline queue, and one matcher timer stands for the earliest entry.
// When it fires at T, every key due at or before T is advanced to T, in a
// fixed order: rule order, then the order in which the keys appeared (their
// first event since their state was last freed). So the results of one time
// step come out in rule order, then key order, never in map order.
//
// A sliding time window (without an output rate limit) keeps its keys
// out of that queue: every event it takes expires at its time plus the
// window's length, so the operator's expiries come in arrival order, and
// a FIFO of (expiry, key) per operator holds them in O(1) each, where a
// key's next deadline (the expiry of its oldest event, set when the
// previous one fires) would go to the queue's heap lane out of order, at
// O(log n) cache misses. A FIFO entry is a wake-up: it is live while its
// key's deadline is its time (the key's oldest event), stale once an
// arrival has expired that event or the key was freed; stale entries are
// skipped. The key's deadline is read from its window (keyedOp.live), not
// kept beside it: an event or an expiry visits the window anyway. The
// matcher timer stands for the earliest of the queue's and the FIFOs' live
// entries, so it fires at the same instants as before.
//
// A derived event whose time is behind the current step (the expiry result
// of a sliding window is stamped with its expiry instant but established
// one nanosecond later, when no event of that instant can come) enters
// windows at the step's time: derived events are never late.
//
// Key lifecycle. A key's state is freed, and its window reset and kept for
// reuse, as soon as its windows are empty and its output state is idle: a
// tumbling, hopping or session window after it closes, a sliding window
// after its last event expires (and its empty result is emitted), a count
// window after each n-th event. A sliding count window never empties, so
// its keys live until the end. Config.MaxKeys bounds the live keys of each
// keyed operator: an event with a new key beyond it is refused by that rule
// (ErrKeyLimit), counted in Stats.Refused and delivered to the refused
// stream, and the other rules still process it.

// Errors of the refused stream (Record.Err wraps one in a *RefusedError).
var (
	ErrKeyLimit   = errors.New("engine: partition key limit reached")
	ErrWindowTime = errors.New("engine: event time outside the range windows hold")
)

// RefusedError is the reason a rule refused an event: Record.Err of the
// refused stream. It is reused by the matcher; valid only while the
// handler runs.
type RefusedError struct {
	Rule  string
	Limit int // Config.MaxKeys, for ErrKeyLimit
	Err   error
}

func (e *RefusedError) Error() string { return "engine: " + e.Reason() }

// Reason describes the refusal without the package prefix.
func (e *RefusedError) Reason() string {
	switch {
	case errors.Is(e.Err, ErrKeyLimit):
		return "rule " + e.Rule + " refused the event: it has " + strconv.Itoa(e.Limit) +
			" partition keys, the limit (Config.MaxKeys)"
	case errors.Is(e.Err, ErrPartialLimit):
		return "rule " + e.Rule + " dropped partial matches of the event's partition: it holds " + strconv.Itoa(e.Limit) +
			", the limit (Config.MaxPartials)"
	case errors.Is(e.Err, ErrWindowTime):
		return "rule " + e.Rule + " refused the event: its time is within one window length of the limits of int64 nanoseconds (years 1677 and 2262)"
	}
	return "rule " + e.Rule + " refused the event: " + e.Err.Error()
}

func (e *RefusedError) Unwrap() error { return e.Err }

// SubscribeRefused calls h for every event a rule refused (the refused
// stream): a new partition key beyond Config.MaxKeys, or a time windows
// cannot hold.
func (m *Matcher) SubscribeRefused(h func(*Record)) Subscription {
	return m.subs.add(&sub{typ: -1, rh: h, stream: StreamRefused})
}

const noDeadline = math.MinInt64

// keyedRuntime is a matcher's state of every keyed operator.
type keyedRuntime struct {
	ops    []*keyedOp // per keyedPlan.index
	expOps []*keyedOp // the ops with an expiry FIFO, in rule order
	// solo: expOps' one op, a sliding window of direct sums in columns
	// (keyedFire's short path); nil when there are others, or none.
	solo *keyedOp
	keyDeadlines
}

type dueKey struct {
	op    int32
	id    int32
	birth uint64
}

func compareDue(a, b dueKey) int {
	if a.op != b.op {
		return int(a.op - b.op)
	}
	switch {
	case a.birth < b.birth:
		return -1
	case a.birth > b.birth:
		return 1
	}
	return 0
}

// noColumns gives the windows that could be kept in columns (cols) a
// window per key (tests compare the two).
var noColumns bool

// maxColumnBlock bounds the bytes a key's sliding count window may take in
// columns (window.CountSlidings allocates its whole ring per key): beyond,
// a window per key, whose ring grows with its events, costs less for keys
// with few events.
const maxColumnBlock = 1024

// noDirect gives every window rule Emit's general path (tests compare
// it with direct emission).
var noDirect bool

// noKeyFIFO keeps tumbling and hopping windows' deadlines in the deadline
// queue (tests compare the two).
var noKeyFIFO bool

// keyedOp is one keyed operator's state in a matcher.
type keyedOp struct {
	p    *keyedPlan
	m    *Matcher
	rule *RuleInfo
	// keys: the keys, each with its birth (see newBirth), in its record's
	// padding; the rest of their state is in state, beside outs.
	keys  keyTable[uint32]
	state []keyState // per key id
	outs  []outState // per key id, with an output rate limit
	// A window rule's windows: one per key id (wins, with the windows of
	// freed keys in pool for reuse), or, for tumbling, sliding and small
	// sliding count windows of count, sum and avg, all keys' in columns
	// (cols: no object per key).
	wins []window.Window[event.Value]
	cols keyColumns
	// The same columns by their type, for the per-event path: a call
	// through the interface costs a wrapper call more (the generic
	// method's dictionary), ~5% of W3's instructions.
	tab    *window.Tumblings[event.Value]
	sl     *window.Slidings[event.Value]
	cs     *window.CountSlidings[event.Value]
	qids   []timerID // per key id: its deadline-queue entry (see qid)
	noQid  timerID
	pool   []window.Window[event.Value]
	births uint32 // the last birth given (newBirth)
	cur    int32  // key whose window is running (for Emit)
	// spare: a result goes straight out (no rate limit to keep it, no
	// rule reading it), in the rule's spare derived event, as a filter
	// rule's does: nothing to recycle.
	spare   bool
	spareD  *Derived // the spare derived event (Matcher.derived's), when spare
	emitTyp int32    // the type of the rule's derived events (its emit node's)

	// A sliding time window without output rate limit: its keys'
	// deadlines are in exp, an entry per event in the windows (see the top
	// of this file), not in the deadline queue.
	expiring bool
	// A tumbling or hopping window without output rate limit: a key's
	// deadline goes to the expiry FIFO too when it is not earlier than
	// the FIFO's last entry (the common case: the deadline is set by the
	// key's first event in a window, and events come in time order),
	// else to the deadline queue. A key then costs no timer slot, and
	// setting and firing its deadline is O(1). The deadline changes once
	// a window, so the FIFO holds about one entry a key. Not sessions:
	// every event moves their deadline, and the FIFO would hold an entry
	// per event of the last gap.
	fifo bool
	exp  expiryFIFO // sliding: an entry per event
	// frontLive: exp's front entry is live, as nextExpiry found it, and
	// its key's window has not changed since (an arrival of the front
	// key clears it): the fire that pops it spares the second look.
	frontLive bool
	ends      runFIFO // tumbling, hopping: an entry per window, in runs of one end

	kv  []event.Value // key values of the current event
	av  []event.Value // aggregate arguments of the current event
	row window.Row[event.Value]
	// direct: the rule's fields are emitted directly (see window_direct.go),
	// their results read into sums (window.Result.Sums).
	direct   bool
	sums     []float64
	numArith []numArg   // keyedPlan.numArith (nil with noDirect, for tests)
	frame    eval.Frame // having and emit: Vars
	rerr     RefusedError
}

// keyColumns is the windows of every key of a window rule in columns
// (window.Tumblings, Slidings, CountSlidings), keys numbered by their ids.
type keyColumns interface {
	Insert(k int, ts int64, row window.Row[event.Value], sink window.Sink[event.Value]) error
	Advance(k int, wm int64, sink window.Sink[event.Value])
	NextDeadline(k int) (int64, bool)
	Empty(k int) bool
	Reset(k int)
	Grow(keys int)
	SizeBytes() int
}

type keyState struct {
	// due: the deadline in the queue or FIFO, or noDeadline; not kept
	// for an expiring op, whose keys' deadlines are their windows'.
	due int64
}

// newBirth returns a key's birth number, for a key that is new or
// revived: keys due at one instant run in the order of their births (of
// appearance). uint32, so that it fits in the key table's record; when
// they run out, the keys held are renumbered from 1 in their order, once
// every 2^32 births.
func (op *keyedOp) newBirth() uint32 {
	if op.births == math.MaxUint32 {
		op.renumberBirths()
	}
	op.births++
	return op.births
}

// renumberBirths numbers the births of the keys held (live and dormant)
// 1, 2, ... in their order. It runs before the key about to be born is
// in the table as live (a new key's record would rank by a stale number;
// a dormant key's old number is harmless, as its new one, given next, is
// the largest).
func (op *keyedOp) renumberBirths() {
	t := &op.keys
	var ids []int32
	for id := range t.meta {
		if t.meta[id].status != keyFree {
			ids = append(ids, int32(id))
		}
	}
	slices.SortFunc(ids, func(a, b int32) int { return cmp.Compare(t.meta[a].st, t.meta[b].st) })
	for i, id := range ids {
		t.meta[id].st = uint32(i + 1)
	}
	op.births = uint32(len(ids))
}

// qid returns key id's entry in the deadline queue: the zero timerID (at
// noQid, which stays zero) while the operator never queued one for so
// high an id. Keys of operators with an expiry FIFO seldom have one, so
// the entries are beside the keys' state, by id, grown only when used.
func (op *keyedOp) qid(id int32) *timerID {
	if int(id) < len(op.qids) {
		return &op.qids[id]
	}
	op.noQid = timerID{}
	return &op.noQid
}

// growQids makes room for key id's deadline-queue entry and returns it.
func (op *keyedOp) growQids(id int32) *timerID {
	for int(id) >= len(op.qids) {
		op.qids = append(op.qids, timerID{})
	}
	return &op.qids[id]
}

type outState struct {
	quiet   int64 // first: results before it are dropped
	pendEnd int64 // last: end of the pending result's interval
	pending bool
	fields  []event.Value // last: the pending result's fields
}

func (rt *keyedRuntime) init(m *Matcher) {
	g := m.g
	if len(g.keyed) == 0 {
		return
	}
	rt.node = g.keyed[0].node
	for _, p := range g.keyed {
		op := &keyedOp{p: p, m: m, rule: &g.rules[p.rule]}
		op.spare = p.mode == 0 && !m.exec[p.emit].queue
		if op.spare {
			op.spareD = m.derived(p.rule, false)
		}
		op.emitTyp = m.exec[p.emit].typ
		op.expiring = p.window.Kind == WindowSliding && p.mode == 0
		switch p.window.Kind {
		case WindowTumbling, WindowHopping:
			op.fifo = p.mode == 0 && !noKeyFIFO
		}
		if op.expiring || op.fifo {
			rt.expOps = append(rt.expOps, op)
		}

		if p.window.Kind != 0 && p.aggs.SumsOnly() && !noColumns {
			switch p.window.Kind {
			case WindowTumbling:
				op.tab, _ = window.NewTumblings(p.aggs, int64(p.window.Size)) // the size is checked at Build
				op.cols = op.tab
			case WindowSliding:
				op.sl, _ = window.NewSlidings(p.aggs, int64(p.window.Size))
				op.cols = op.sl
			case WindowSlidingCount:
				if cs, err := window.NewCountSlidings(p.aggs, p.window.Count); err == nil && cs.BlockBytes() <= maxColumnBlock {
					op.cs, op.cols = cs, cs
				}
			}
		}
		op.keys.init(len(p.keys))
		op.kv = make([]event.Value, len(p.keys))
		op.av = make([]event.Value, len(p.args))
		op.row.Num = make([]float64, len(p.num))
		op.row.Key = make([]uint64, len(p.keyCol))
		op.row.Val = make([]event.Value, len(p.valCol))
		op.frame.Vars = make([]event.Value, max(p.nVars, len(p.keys)))
		if !noDirect {
			op.numArith = p.numArith
		}
		if op.direct = p.direct != nil && !noDirect; op.direct {
			op.sums = make([]float64, p.aggs.Len())
		}
		if op.direct && op.expiring && op.sl != nil {
			rt.solo = op
		}
		rt.ops = append(rt.ops, op)
	}
	if len(rt.expOps) != 1 || rt.expOps[0] != rt.solo {
		rt.solo = nil
	}
}

// liveKeys returns the number of keys held by all keyed operators.
func (rt *keyedRuntime) liveKeys() uint64 {
	n := 0
	for _, op := range rt.ops {
		n += op.keys.Len()
	}
	return uint64(n)
}

// windowEvent runs an event through a window node.
func (m *Matcher) windowEvent(n *execNode, ev *event.Event) {
	op := m.keyed.ops[n.keyed.index]
	p := op.p
	m.frame.Current = ev
	m.bound[0] = ev
	id := op.keyOf(ev)
	if id < 0 {
		return
	}
	switch {
	case p.numSlots != nil:
		// Each argument is one Num column and a field: read in place.
		num := op.row.Num[:len(p.numSlots)]
		for c, j := range p.numSlots {
			num[c] = numOf(ev.Fields[j])
		}
	case op.numArith != nil:
		// Each argument is one Num column, a field or one operation.
		num := op.row.Num[:len(op.numArith)]
		for c := range op.numArith {
			num[c] = op.numArith[c].num(ev.Fields)
		}
	case p.numOnly:
		// Each argument is one Num column: no copy of the values.
		for c := range p.num {
			op.row.Num[c] = numOf(m.evalField(&p.args[c], ev))
		}
	default:
		op.fillRow(ev)
	}
	ts := max(ev.Time, m.now)
	// The common event of a tumbling window: it falls in its key's open
	// window, whose deadline stays as it was; nothing to settle.
	if op.tab != nil && op.outs == nil && op.tab.Add(int(id), ts, op.row.Num) {
		return
	}
	op.cur = id
	var err error
	switch {
	case op.tab != nil:
		err = op.tab.Insert(int(id), ts, op.row, op)
	case op.sl != nil && op.direct:
		// The event's result straight to emitDirect, not through Emit.
		n, num, ok, changed, e := op.sl.InsertSums(int(id), ts, op.row.Num, op)
		if err = e; e == nil && changed {
			op.emitDirect(n, num, ok, ts, op.eventKey(ev))
		}
	case op.sl != nil:
		err = op.sl.Insert(int(id), ts, op.row, op)
	case op.cs != nil && op.direct:
		n, ok, e := op.cs.InsertSums(int(id), ts, op.row.Num, op.sums)
		if err = e; e == nil {
			op.emitDirect(n, op.sums, ok, ts, op.eventKey(ev))
		}
	case op.cs != nil:
		err = op.cs.Insert(int(id), ts, op.row, op)
	default:
		err = op.wins[id].Insert(ts, op.row, op)
	}
	if err != nil {
		m.refuse(op, ev, ErrWindowTime)
		op.settle(id)
		return
	}
	if op.expiring {
		// The event's deadline, as window.Sliding.NextDeadline gives it
		// once the event is the oldest: just after it leaves.
		if w := ts + int64(p.window.Size) + 1; !op.exp.pushEnd(w, id) {
			op.exp.pushSlow(w, id)
		}
		// A key's deadline is its window's (keyedOp.live): nothing to
		// keep, and the key is not empty. Only a key at the FIFO's front
		// may have moved the matcher timer (its entry there now stale, or
		// the first).
		if op.exp.front().id == id {
			op.frontLive = false
			if !m.keyed.firing {
				m.keyed.rearm(m)
			}
		}
		return
	}
	if op.outs == nil {
		// A key's deadline moves when a tumbling window opens, or when a
		// sliding window's oldest event leaves: not after most events,
		// and then settle has nothing to do.
		var t int64
		ok := false
		switch {
		case op.tab != nil:
			t, ok = op.tab.NextDeadline(int(id))
		}
		if ok && t == op.state[id].due {
			return
		}
	}
	op.settle(id)
}

// eventKey returns the event's own value of its key for emitDirect, where
// it equals the stored one bit for bit: a key that is one string field
// (equal bytes; a float's -0 or NaN would differ), of a rule whose result
// goes straight to the handlers (spare: valid while they run, as the
// event is). The stored key is a cache line more an arrival (the event's
// is in hand); nil otherwise.
func (op *keyedOp) eventKey(ev *event.Event) *event.Value {
	if j := op.p.oneKey; j >= 0 && op.spare {
		if v := &ev.Fields[j]; v.Kind() == event.KindString {
			return v
		}
	}
	return nil
}

// fillRow evaluates the aggregate arguments of ev into op.row.
func (op *keyedOp) fillRow(ev *event.Event) {
	p, m := op.p, op.m
	for j := range p.args {
		op.av[j] = m.evalField(&p.args[j], ev)
	}
	for c, nc := range p.num {
		v := op.av[nc.arg]
		switch {
		case nc.presence && v.IsNil():
			op.row.Num[c] = window.Missing
		case nc.presence:
			op.row.Num[c] = 1
		default:
			op.row.Num[c] = numOf(v)
		}
	}
	for c, a := range p.keyCol {
		op.row.Key[c] = distinctKey(op.av[a])
	}
	for c, a := range p.valCol {
		op.row.Val[c] = op.av[a]
	}
}

// outputGate runs a filter rule's derived event d through its output node:
// true if it is to be emitted now.
func (m *Matcher) outputGate(n *execNode, ev *event.Event, d *Derived) bool {
	op := m.keyed.ops[n.keyed.index]
	m.frame.Current = ev
	m.bound[0] = ev
	id := op.keyOf(ev)
	if id < 0 {
		m.recycle(d)
		return false
	}
	pass := op.gate(id, d, ev.Time)
	op.settle(id)
	return pass
}

func (m *Matcher) evalField(f *fieldProg, ev *event.Event) event.Value {
	if f.slot >= 0 {
		return ev.Fields[f.slot]
	}
	if f.arith != nil {
		return f.arith.Eval(ev.Fields, nil)
	}
	return m.vm.Eval(f.prog, &m.frame)
}

// numOf is an aggregate argument as a Num column value: nil (and a value
// of another kind, which the checker rules out) is window.Missing; a NaN
// gets math.NaN()'s payload, so that no value is taken for Missing.
func numOf(v event.Value) float64 {
	switch v.Kind() {
	case event.KindFloat:
		f := v.Float()
		if f != f {
			return math.NaN()
		}
		return f
	case event.KindInt:
		return float64(v.Int())
	}
	return window.Missing
}

// distinctKey is count_distinct's key of a value: exact for bool, int,
// time and duration (the value itself) and float (its bits, -0 as 0, one
// NaN); a 64-bit hash (fixed, so results are reproducible) for strings and
// lists. Values of type any mix kinds, so the kind is part of the key.
func distinctKey(v event.Value) uint64 {
	switch v.Kind() {
	case event.KindString:
		return hashString(v.Str())
	case event.KindList:
		h := uint64(event.KindList)
		for _, x := range v.List() {
			h = mix64(h ^ distinctKey(x))
		}
		return h
	case event.KindBool, event.KindInt, event.KindFloat, event.KindTime, event.KindDuration:
		return payload(v)
	}
	return 0
}

// hashString is FNV-1a over 8-byte words, finished with mix64: fixed (no
// seed), so count_distinct is reproducible; a collision (probability about
// n²/2^65 for n distinct strings in a window) makes it one too low.
func hashString(s string) uint64 {
	h := uint64(14695981039346656037) ^ uint64(len(s))
	for len(s) >= 8 {
		w := uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
			uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
		h = (h ^ w) * 1099511628211
		h ^= h >> 29
		s = s[8:]
	}
	for i := 0; i < len(s); i++ {
		h = (h ^ uint64(s[i])) * 1099511628211
	}
	return mix64(h)
}

// keyOf returns the key id of ev (m.frame set), creating its state if the
// key is new; -1 if the rule refused the event.
func (op *keyedOp) keyOf(ev *event.Event) int32 {
	m := op.m
	var h uint64
	var id int32
	ok := false
	if j := op.p.oneKey; j >= 0 {
		// One key, a field: the key table's path for its kind (for a
		// string, the most common key, by hand).
		v := &ev.Fields[j]
		if v.Kind() == event.KindString {
			h, id = op.keys.findString(v.Str())
			if id >= 0 && !op.keys.dormant(id) {
				return id
			}
			ok = true
		} else {
			h, id, ok = op.keys.findOne(*v)
		}
		op.kv[0] = *v
	}
	if !ok {
		for j := range op.p.keys {
			op.kv[j] = m.evalField(&op.p.keys[j], ev)
		}
		h = op.keys.hash(op.kv)
		id = op.keys.find(op.kv, h)
	}
	if id >= 0 && !op.keys.dormant(id) {
		return id
	}
	if m.cfg.MaxKeys > 0 && op.keys.Len() >= m.cfg.MaxKeys {
		m.refuse(op, ev, ErrKeyLimit)
		return -1
	}
	birth := op.newBirth() // (before the key is in the table: see renumberBirths)
	if id >= 0 {
		op.keys.revive(id)
	} else {
		id = op.keys.insert(op.kv, h)
	}
	for !op.expiring && int(id) >= len(op.state) { // (see keyState)
		op.state = append(op.state, keyState{due: noDeadline})
		if op.p.mode != 0 {
			op.outs = append(op.outs, outState{quiet: math.MinInt64})
		}
	}
	*op.keys.state(id) = birth
	switch {
	case op.cols != nil:
		op.cols.Grow(int(id) + 1)
	case op.p.window.Kind != 0:
		for int(id) >= len(op.wins) {
			op.wins = append(op.wins, nil)
		}
		if n := len(op.pool); n > 0 {
			op.wins[id] = op.pool[n-1]
			op.pool[n-1] = nil
			op.pool = op.pool[:n-1]
		} else {
			op.wins[id], _ = op.p.newWindow() // checked at Build
		}
	}
	return id
}

// Emit receives a window result of key op.cur (window.Sink).
func (op *keyedOp) Emit(r window.Result[event.Value]) {
	p := op.p
	if !r.Changed && p.window.Kind == WindowSliding {
		return // a sliding window emits when its result changed
	}
	if op.direct {
		if n, num, ok, sums := r.Sums(op.sums); sums {
			op.emitDirect(n, num, ok, r.Time, nil)
			return
		}
	}
	m := op.m
	vars := op.frame.Vars
	for j, v := range op.keys.key(op.cur) {
		vars[j] = v // a loop: cheaper than copy's call for a key or two
	}
	for i := range p.reads {
		rd := &p.reads[i]
		switch rd.kind {
		case readCount:
			vars[rd.v] = event.IntValue(r.Count())
		case readValue:
			if v, ok := r.Value(rd.agg); ok {
				vars[rd.v] = v
			} else {
				vars[rd.v] = event.Nil
			}
		default: // a number
			f, ok := r.Float(rd.agg)
			switch {
			case rd.kind == readFloat && ok:
				vars[rd.v] = event.FloatValue(f)
			case rd.kind == readCountArg || ok:
				vars[rd.v] = event.IntValue(int64(f))
			default:
				vars[rd.v] = event.Nil
			}
		}
	}
	if p.having != nil && !m.vm.EvalBool(p.having, &op.frame) {
		return
	}
	d := m.derived(op.rule.ID, !op.spare)
	// (Locals: the stores to fields would make the compiler reload p's.)
	progs, keyVar, arith, widen := p.progs, p.keyVar, p.arith, p.widen
	fields := d.Event.Fields[:len(progs)]
	for i, prog := range progs {
		var v event.Value
		if j := keyVar[i]; j >= 0 {
			v = vars[j] // a key: copied, not evaluated
		} else if a := arith[i]; a != nil {
			v = a.Eval(nil, vars)
		} else {
			v = m.vm.Eval(prog, &op.frame)
		}
		if widen[i] && v.Kind() == event.KindInt {
			v = event.FloatValue(v.Float())
		}
		fields[i] = v
	}
	switch {
	case op.spare:
		m.emitSpare(op, d, r.Time)
	case p.mode == 0 || op.gate(op.cur, d, r.Time):
		m.emitKeyed(op, d, r.Time)
	}
}

// gate applies the output rate limit to result d of key id at time t: true
// if d is to be emitted now; otherwise d is recycled or kept as pending.
func (op *keyedOp) gate(id int32, d *Derived, t int64) bool {
	p := op.p
	switch p.mode {
	case OutputFirst:
		o := &op.outs[id]
		if t < o.quiet {
			op.m.recycle(d)
			return false
		}
		o.quiet = satAdd(t, p.every)
	case OutputLast:
		o := &op.outs[id]
		if o.pending && o.pendEnd <= t {
			op.flushPending(id)
		}
		o.fields = append(o.fields[:0], d.Event.Fields...)
		o.pending = true
		o.pendEnd = satAdd(t, p.every-floorMod(t, p.every)) // the interval's end, without underflow
		op.m.recycle(d)
		return false
	}
	return true
}

func floorMod(a, b int64) int64 {
	r := a % b
	if r < 0 {
		r += b
	}
	return r
}

// flushPending emits the pending result of key id (output last) at the end
// of its interval.
func (op *keyedOp) flushPending(id int32) {
	m := op.m
	o := &op.outs[id]
	d := m.derived(op.rule.ID, true)
	copy(d.Event.Fields, o.fields)
	clear(o.fields) // drop references
	o.pending = false
	m.emitKeyed(op, d, o.pendEnd)
}

// emitKeyed stamps and emits a derived event of a keyed operator's rule at
// time t, as the rule's emit node does.
func (m *Matcher) emitKeyed(op *keyedOp, d *Derived, t int64) {
	n := &m.exec[op.p.emit]
	m.seq++
	d.Event.Time, d.Event.Seq = t, m.seq
	m.stats.Derived++
	if subs := m.subs.derived[n.typ]; len(subs) > 0 {
		m.deliver(subs, d)
	}
	if n.queue {
		m.queue = append(m.queue, d)
	} else {
		m.recycle(d)
	}
}

// emitSpare is emitKeyed for the spare derived event of a rule whose
// output no rule reads.
func (m *Matcher) emitSpare(op *keyedOp, d *Derived, t int64) {
	m.seq++
	d.Event.Time, d.Event.Seq = t, m.seq
	m.stats.Derived++
	if h := m.subs.lone[op.emitTyp]; h != nil {
		h(d) // (deliver's loop for the commonest: one handler, no filter)
	} else if subs := m.subs.derived[op.emitTyp]; len(subs) > 0 {
		m.deliver(subs, d)
	}
}

// settle schedules key id's next deadline, or frees the key when its
// windows are empty and its output state idle.
func (op *keyedOp) settle(id int32) {
	if op.p.window.Kind == WindowSlidingCount && op.outs == nil {
		return // never a deadline, never empty after an event: nothing to do
	}
	m := op.m
	due := int64(noDeadline)
	if t, ok := op.windowDeadline(id); ok {
		due = t
	}
	empty := true
	switch {
	case op.sl != nil: // (by its type: see keyedOp.tab)
		empty = op.sl.Empty(int(id))
	case op.cols != nil:
		empty = op.cols.Empty(int(id))
	case int(id) < len(op.wins) && op.wins[id] != nil:
		empty = op.wins[id].Empty()
	}
	if op.outs != nil {
		o := &op.outs[id]
		if o.pending {
			empty = false
			if due == noDeadline || o.pendEnd < due {
				due = o.pendEnd
			}
		}
		if o.quiet > m.now {
			empty = false
			if due == noDeadline {
				due = o.quiet // only to free the key
			}
		}
	}
	if empty {
		op.free(id)
		return
	}
	m.keyed.schedule(m, op, id, due)
}

// windowDeadline returns the next deadline of key id's window, if it has
// one.
func (op *keyedOp) windowDeadline(id int32) (int64, bool) {
	switch {
	case op.sl != nil: // (by its type: see keyedOp.tab)
		return op.sl.NextDeadline(int(id))
	case op.cols != nil:
		return op.cols.NextDeadline(int(id))
	case int(id) < len(op.wins) && op.wins[id] != nil:
		return op.wins[id].NextDeadline()
	}
	return 0, false
}

// live reports whether wake-up e of op's FIFO is its key's deadline still.
// An expiring operator's is its window's (a key's state is not visited:
// one cache line fewer an event and an expiry); the others keep theirs in
// keyState.due.
func (op *keyedOp) live(e keyExpiry) bool {
	var t int64
	ok := false
	switch {
	case !op.expiring:
		return op.state[e.id].due == e.when
	case op.sl != nil:
		t, ok = op.sl.NextDeadline(int(e.id))
	default:
		t, ok = op.windowDeadline(e.id)
	}
	return ok && t == e.when
}

// free drops key id: its deadline, its window (reset, kept for reuse), its
// output state and its entry in the key table.
func (op *keyedOp) free(id int32) {
	op.frontLive = false // (the key may be exp's front)
	op.m.keyed.schedule(op.m, op, id, noDeadline)
	switch {
	case op.cols != nil:
		op.cols.Reset(int(id))
	case int(id) < len(op.wins) && op.wins[id] != nil:
		op.wins[id].Reset()
		op.pool = append(op.pool, op.wins[id])
		op.wins[id] = nil
	}
	if op.outs != nil {
		o := &op.outs[id]
		o.quiet, o.pending = math.MinInt64, false
	}
	op.keys.retire(id)
}

// nextExpiry drops the stale entries at the FIFO's front and returns the
// time of the first live one.
func (op *keyedOp) nextExpiry() (int64, bool) {
	if op.fifo {
		for op.ends.n > 0 {
			e := op.ends.front()
			if op.state[e.id].due == e.when {
				return e.when, true
			}
			op.ends.pop()
		}
		return 0, false
	}
	for op.exp.n > 0 {
		e := op.exp.front()
		if op.frontLive || op.live(e) {
			op.frontLive = op.expiring // (whose keys' deadlines are their windows')
			return e.when, true
		}
		op.exp.pop()
	}
	return 0, false
}

// schedule sets key id's entry in the deadline queue to due (noDeadline:
// none) and keeps the matcher timer at the queue's earliest entry. A key
// of an operator with an expiry FIFO has its entries there already: only
// its deadline changes.
func (rt *keyedRuntime) schedule(m *Matcher, op *keyedOp, id int32, due int64) {
	if op.expiring {
		// Its deadline is its window's, its wake-ups in op.exp already
		// (see windowEvent): only a key at the front may move the timer.
		if !rt.firing && op.exp.n > 0 && op.exp.front().id == id {
			rt.rearm(m)
		}
		return
	}
	st := &op.state[id]
	if due == st.due {
		return
	}
	qid := op.qid(id)
	queued := *qid != timerID{}
	st.due = due
	switch {
	case op.fifo && due != noDeadline && op.ends.fits(due):
		if queued {
			rt.q.cancel(*qid)
			*qid = timerID{}
		}
		op.ends.push(due, id)
	case due == noDeadline:
		if queued {
			rt.q.cancel(*qid)
			*qid = timerID{}
		}
	default:
		if qid == &op.noQid {
			qid = op.growQids(id)
		}
		if !rt.q.reset(*qid, due) {
			*qid = rt.q.set(due, op.p.index, uint64(id))
		}
	}
	if rt.firing {
		return
	}
	// As patternOp.schedule: a change that touched neither the deadline
	// queue nor the key at the front of its FIFO leaves the earliest live
	// entry, and the matcher timer, as they were.
	if !queued && *qid == (timerID{}) && op.fifo && op.ends.n > 0 && op.ends.front().id != id {
		return
	}
	rt.rearm(m)
}

// rearm keeps the matcher timer at the earliest live entry of the deadline
// queue and the expiry FIFOs (keyDeadlines.sync, over both).
func (rt *keyedRuntime) rearm(m *Matcher) {
	t, ok := rt.q.peek()
	for _, op := range rt.expOps {
		if w, wok := op.nextExpiry(); wok && (!ok || w < t) {
			t, ok = w, true
		}
	}
	rt.syncAt(m, t, ok)
}

// due adds the key of wake-up e, popped from the FIFO of window ends of
// op, to the batch, if e is its deadline still (once, for its key's
// entries of one instant).
func (rt *keyedRuntime) due(op *keyedOp, e keyExpiry) {
	if st := &op.state[e.id]; st.due == e.when {
		st.due = noDeadline
		rt.batch = append(rt.batch, dueKey{op: op.p.index, id: e.id}) // (birth: see keyedFire)
	}
}

// keyedFire advances every key due at or before now, in rule order, then
// key order (see the top of this file).
func (m *Matcher) keyedFire(now int64) {
	rt := &m.keyed
	rt.mtSet = false
	rt.firing = true
	if op := rt.solo; op != nil && (!rt.q.has || rt.q.next > now) && op.exp.n > 0 {
		// The commonest fire: the one expiring op of direct sums, no
		// deadline due in the queue, one entry due in its FIFO (the next
		// is later): its key, if the entry is live, runs at once, as the
		// batch of one below would run it.
		if e := op.exp.front(); e.when <= now && (op.exp.n == 1 || op.exp.at(1).when > now) {
			if e, live := op.popExpiry(); live {
				op.expireSliding(e.id, now)
			}
			rt.firing = false
			rt.rearm(m)
			return
		}
	}
	rt.batch = rt.batch[:0]
	for {
		t, ok := rt.q.peek()
		if !ok || t > now {
			break
		}
		ft := rt.q.pop()
		op := rt.ops[ft.node]
		id := int32(ft.arg)
		*op.qid(id), op.state[id].due = timerID{}, noDeadline
		rt.batch = append(rt.batch, dueKey{op: ft.node, id: id})
	}
	for _, op := range rt.expOps {
		for op.ends.n > 0 && op.ends.front().when <= now {
			e := op.ends.front()
			op.ends.pop()
			rt.due(op, e)
		}
		for op.exp.n > 0 && op.exp.front().when <= now { // (an expiring op's)
			if e, live := op.popExpiry(); live { // (no mark, as due makes: see below)
				rt.batch = append(rt.batch, dueKey{op: op.p.index, id: e.id})
			}
		}
	}
	if len(rt.batch) > 1 {
		// The births, only to order a batch of several: a batch of one
		// (the common expiry) spares the visit to its key's record.
		for i := range rt.batch {
			b := &rt.batch[i]
			b.birth = uint64(*rt.ops[b.op].keys.state(b.id))
		}
		slices.SortFunc(rt.batch, compareDue)
	}
	for _, b := range rt.batch {
		op := rt.ops[b.op]
		// An expiring op's key may come again in a batch of several (its
		// events at one instant, other keys' between them in the FIFO),
		// its deadline unmarked (keyedOp.live): it has run then, its
		// deadline later now, or it was freed.
		if op.expiring && len(rt.batch) > 1 {
			if t, ok := op.windowDeadline(b.id); !ok || t > now {
				continue
			}
		}
		op.cur = b.id
		if op.sl != nil && op.expiring {
			op.expireSliding(b.id, now)
			continue
		}
		switch {
		case op.sl != nil && op.direct:
			op.advanceDirect(int(b.id), now)
		case op.cols != nil:
			op.cols.Advance(int(b.id), now, op)
		case int(b.id) < len(op.wins) && op.wins[b.id] != nil:
			op.wins[b.id].Advance(now, op)
		}
		if op.outs != nil {
			if o := &op.outs[b.id]; o.pending && o.pendEnd <= now {
				op.flushPending(b.id)
			}
		}
		op.settle(b.id)
	}
	rt.firing = false
	rt.rearm(m)
}

// Prefetch distances of an expiring op's FIFO, in entries: the record
// and key of the entry pfFar ahead, the window of the entry pfNear ahead
// (whose record was fetched pfFar-pfNear expiries before). An expiry takes
// from about 0.3 µs (a burst of keys at one instant) to an event's time:
// two expiries cover a miss to memory. W2 sliding 10s at 10K keys: 1.6x
// the hand loop, from 2.3x, at any distance from (2, 1) to (16, 8).
const pfFar, pfNear = 4, 2

// prefetchAhead hints the keys of an expiring op's next expiries into the
// caches, in two steps (see Slidings.PrefetchWindow), so that their
// misses overlap the expiries before them, where each would wait for its
// own: the expiries are known in advance, in order, where arrivals are
// not.
func (op *keyedOp) prefetchAhead() {
	q := &op.exp
	if op.sl == nil {
		return
	}
	if q.n > pfFar {
		id := q.at(pfFar).id
		op.sl.PrefetchRecord(int(id))
		if i := int(id) * op.keys.width; i < len(op.keys.vals) {
			prefetch.Line(unsafe.Pointer(&op.keys.vals[i]))
		}
	}
	if q.n > pfNear {
		op.sl.PrefetchWindow(int(q.at(pfNear).id))
	}
}

// popExpiry pops the front of an expiring op's FIFO and reports whether
// it is live (its key to run), fetching the next ones ahead.
func (op *keyedOp) popExpiry() (keyExpiry, bool) {
	e := op.exp.front()
	live := op.frontLive || op.live(e)
	op.exp.pop()
	op.frontLive = false
	op.prefetchAhead()
	return e, live
}

// expireSliding runs the common expiry of a sliding window's columns,
// without settle's general path: the key's deadline is its window's, and
// keyedFire rearms the timer after.
func (op *keyedOp) expireSliding(id int32, now int64) {
	op.cur = id
	k := int(id)
	if op.direct {
		op.advanceDirect(k, now)
	} else {
		op.sl.Advance(k, now, op)
	}
	if op.sl.Empty(k) {
		op.free(id)
	}
}

// advanceDirect advances key k of a sliding window's columns to now, each
// expiry instant's result straight to emitDirect; the next instant asked
// of NextDeadline (inlined), which spares the common single instant a
// second call.
func (op *keyedOp) advanceDirect(k int, now int64) {
	for {
		at, n, num, ok, changed, due := op.sl.AdvanceSums(k, now)
		if !due {
			return
		}
		if changed {
			op.emitDirect(n, num, ok, at, nil)
		}
		if t, more := op.sl.NextDeadline(k); !more || t > now {
			return
		}
	}
}

// refuse records that a rule refused ev: counted, and delivered to the
// refused stream.
func (m *Matcher) refuse(op *keyedOp, ev *event.Event, err error) {
	m.stats.Refused++
	if len(m.subs.refused) == 0 {
		return
	}
	op.rerr = RefusedError{Rule: op.rule.Name, Limit: m.cfg.MaxKeys, Err: err}
	r := &m.rec
	*r = Record{Stream: StreamRefused, Err: &op.rerr, Event: ev, Schema: m.types[ev.Type].schema, Field: -1}
	m.deliverRecord(m.subs.refused, r)
	*r = Record{}
}

// keyedSizeBytes estimates the heap bytes the keyed operators hold: key
// tables, per-key state, windows (pooled ones included) and pending output.
func (rt *keyedRuntime) sizeBytes() int {
	b := 0
	for _, op := range rt.ops {
		b += op.keys.sizeBytes() + int(unsafe.Sizeof(keyState{}))*cap(op.state) + 56*cap(op.outs) + 16*cap(op.wins) + 16*cap(op.pool) + op.exp.sizeBytes() + op.ends.sizeBytes()
		for _, w := range op.wins {
			if w != nil {
				b += w.SizeBytes()
			}
		}
		if op.cols != nil {
			b += op.cols.SizeBytes()
		}
		for _, w := range op.pool {
			b += w.SizeBytes()
		}
		for i := range op.outs {
			b += 24 * cap(op.outs[i].fields)
		}
	}
	return b
}
