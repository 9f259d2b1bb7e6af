package engine

import (
	"errors"
	"slices"

	"github.com/cepengine/cep/engine/eval"
	"github.com/cepengine/cep/engine/event"
	"github.com/cepengine/cep/engine/pattern"
)

// The runtime of pattern rules.
//
// Each pattern operator of a matcher keeps a table of partition keys (the
// keyTable of window rules) and, per key, an engine/pattern Matcher. An
// event of a type the pattern reads is keyed with that type's key
// expressions and fed to its key's matcher, in the engine's (time,
// sequence) order; the matcher emits the matches it completes before
// Process returns, and each becomes a derived event stamped with the
// match's time, delivered and queued for the rules that read its type.
//
// Time. A key's matcher says when it next has work without an event (a
// partial match runs out of within, a trailing not completes):
// Deadline. Every key with a deadline holds an entry in the operators'
// deadline queue, or on the flat path in its operator's expiry FIFO
// (patternOp.exp), and one matcher timer stands for the earliest entry.
// When it fires at T, the keys due at or before T are expired to T in
// rule order, then key order (the order keys were born: a key is born at
// the first event that leaves it a partial match; a key freed and seen
// again keeps its place, as long as the key table keeps its retired
// entry; one deleted to bound the table's memory is new when it comes
// back), so matches of one time step come out in a fixed order. At Close
// every key's matcher is flushed (timers to the end, greedy tails
// settled), rules in dependency order, so that the
// matches of one pattern rule reach the pattern rules that read them
// before those are flushed.
//
// A key is freed as soon as its matcher is idle (pattern.Matcher.Idle: no
// partial match, no deadline, and no prev its conditions read): its entry
// is retired in the key table (revived without allocating when the key
// comes back) and its matcher kept for reuse, so that a million keys that
// come and go cost only the keys with partial matches. Config.MaxKeys
// bounds the live keys (ErrKeyLimit, as for window rules);
// Config.MaxPartials bounds the partial matches of each key: partial
// matches beyond it are not created, and the event that would have created
// them is reported on the refused stream (ErrPartialLimit) and counted in
// Stats.Refused.

// ErrPartialLimit is the refused stream's error for an event some of whose
// partial matches were dropped by Config.MaxPartials.
var ErrPartialLimit = errors.New("engine: partial match limit reached")

// patternRuntime is a matcher's state of every pattern operator.
type patternRuntime struct {
	ops    []*patternOp // per patternPlan.index
	expOps []*patternOp // the ops with an expiry FIFO, in rule order
	keyDeadlines
}

// patternOp is one pattern operator's state in a matcher.
type patternOp struct {
	p      *patternPlan
	m      *Matcher
	rule   *RuleInfo
	keys   keyTable[patternKey] // the keys, each with its state
	mts    []*pattern.Matcher   // by key id: its matcher (off the flat path); nil while retired
	qids   []timerID            // by key id, off runFIFO: its deadline-queue entry, when it has one
	dues   []int64              // by key id, off runFIFO: its deadline in the queue, or noDeadline
	idle   []*pattern.Matcher   // matchers of freed keys, for reuse
	shared *pattern.Shared      // the working memory all its matchers share
	// flat runs every key of a simple-shaped pattern (pattern.Flat), nil
	// otherwise: its keys keep a FlatPart (patternKey.fp) and no matcher.
	flat *pattern.Flat
	// On the flat path (with within, and not noKeyFIFO: runFIFO) every
	// run that begins puts its expiry in exp: runs begin in time order, so
	// it goes at the end, and every deadline a key can have (its earliest
	// live run's expiry: pattern.Flat.Began) is in exp before it is the
	// key's. A key's deadline then never goes to the deadline queue: no
	// timer slot per key, O(1) to set, move and fire. An entry is live
	// while it is its key's deadline (dueAt); rearm drops stale
	// ones at the front.
	exp     expiryFIFO
	runFIFO bool
	births  uint64
	newborn int32 // the key born by the event being run, or -1
	kv      []event.Value
	slot1   []int32        // per type id: the slot of the key when it is one field, else -1
	ekv     [1]event.Value // expiryKey's
	emit    func(*pattern.Match)
	tout    func(*pattern.Match) // emitTimeout, nil without on timeout emit
	tfree   []*Derived           // recycled timeout events
	shift   event.Event          // an event behind the current step, at the step's time
	rerr    RefusedError
	cnt     *countEmit    // a counting rule's frame (pattern_count.go), nil otherwise
	arith   []*eval.Arith // per emitted field: its direct form (a key, a constant, one + - * /), or nil
}

// patternKey is the state of one key of a pattern operator, in its
// record in the key table (one visit finds the key and its state): what
// the flat path reads. The rest is beside it, by key id, for the paths
// that use it (patternOp.mts, qids, dues), so that a million keys on
// the flat path do not carry it.
type patternKey struct {
	fp    pattern.FlatPart // the key's partial matches on the flat path
	birth uint64           // order of the key's birth (see the top of the file)
}

// maxIdle bounds the matchers kept for reuse: enough to absorb the churn
// of keys that come and go, never much more than the live ones.
func (op *patternOp) maxIdle() int { return max(1024, op.keys.Len()/32) }

func (rt *patternRuntime) init(m *Matcher) {
	g := m.g
	if len(g.patterns) == 0 {
		return
	}
	rt.node = g.patterns[0].node
	for _, p := range g.patterns {
		op := &patternOp{p: p, m: m, rule: &g.rules[p.rule], newborn: -1}
		op.keys.init(p.nKeys)
		op.shared = pattern.NewShared(p.pat)
		op.kv = make([]event.Value, p.nKeys)
		op.slot1 = make([]int32, len(p.keys))
		for t, keys := range p.keys {
			op.slot1[t] = -1
			if len(keys) == 1 && keys[0].slot >= 0 {
				op.slot1[t] = int32(keys[0].slot)
			}
		}
		op.emit = op.emitMatch
		op.arith = make([]*eval.Arith, len(p.progs))
		for i, prog := range p.progs {
			if a, ok := prog.Arith(); ok {
				op.arith[i] = a
			}
		}
		if p.count {
			op.cnt, op.emit = newCountEmit(p), op.emitCount
		}
		if p.temit >= 0 {
			op.tout = op.emitTimeout
		}
		// The events of a match are kept only for what reads them: an
		// emit beyond the direct forms (which read the key and constants),
		// or Explain.
		noEvents := !m.cfg.Explain && !p.count
		for _, a := range op.arith {
			noEvents = noEvents && a != nil
		}
		if f, ok := pattern.NewFlat(p.pat, m.vm, pattern.Config{MaxPartials: m.cfg.MaxPartials, Timeout: op.tout, NoEvents: noEvents}, op.emit); ok {
			op.flat = f
			if !noKeyFIFO && f.Within() > 0 {
				op.runFIFO = true
				rt.expOps = append(rt.expOps, op)
			}
		}
		rt.ops = append(rt.ops, op)
	}
}

// liveKeys returns the number of keys held by all pattern operators.
func (rt *patternRuntime) liveKeys() uint64 {
	n := 0
	for _, op := range rt.ops {
		n += op.keys.Len()
	}
	return uint64(n)
}

// patternEvent runs an event through a pattern node.
func (m *Matcher) patternEvent(n *execNode, ev *event.Event) {
	op := m.patterns.ops[n.pat.index]
	m.frame.Current = ev
	m.bound[0] = ev
	h, id := op.keyOf(ev)
	if id < 0 || op.keys.dormant(id) {
		if op.flat != nil && !op.flat.Starts(ev) {
			// Nothing to hold: the key stays as it was (absent or
			// retired), and a key is born at its first partial match.
			return
		}
		if id = op.born(ev, h, id); id < 0 {
			return
		}
	}
	in := ev
	if ev.Time < m.now {
		// A derived event stamped behind the current step (a match that
		// waited for older partial matches) enters at the step's time:
		// derived events are never late.
		op.shift = *ev
		op.shift.Time = m.now
		in = &op.shift
	}
	var err error
	if op.flat != nil {
		// The key's values for the emitted fields: the event's own when
		// they are the key's exactly (one int, time, duration or bool:
		// no interned string, no float's -0 or NaN to tell apart), which
		// spares a visit to the key table's values.
		key := op.kv
		if v := op.kv; len(v) != 1 || !exactScalar(v[0].Kind()) {
			key = op.keys.key(id)
		}
		err = op.flat.Process(&op.keys.state(id).fp, key, in)
		if op.runFIFO && op.flat.Began() {
			if w := in.Time + op.flat.Within(); !op.exp.pushEnd(w, id) {
				op.exp.pushSlow(w, id)
			}
		}
	} else {
		err = op.mts[id].Process(in)
	}
	if in != ev {
		op.shift = event.Event{}
	}
	if err != nil {
		limit := m.cfg.MaxPartials
		if limit <= 0 {
			limit = 10000 // engine/pattern's default
		}
		m.refusePattern(op, ev, ErrPartialLimit, limit)
	}
	op.settle(id)
	op.newborn = -1
}

// expiryKey returns the values of key id for its expiry: a lone scalar's
// rebuilt from its record (which the expiry reads anyway) in a scratch
// slice, where the key table's copy would cost a visit to its values for
// what only a timeout or a trailing not's match reads.
func (op *patternOp) expiryKey(id int32) []event.Value {
	if !op.keys.loneScalar(id) {
		return op.keys.key(id)
	}
	op.ekv[0] = op.keys.scalarKey(id)
	return op.ekv[:1:1]
}

// exactScalar reports whether a key value of kind k is the same Value as
// the key table keeps for it (see keyTable: ownValue, sameKey).
func exactScalar(k event.Kind) bool {
	return k == event.KindInt || k == event.KindTime || k == event.KindDuration || k == event.KindBool
}

// keyOf keys ev (into op.kv) and returns the key's hash and id (live or
// dormant), or -1 if the key is new. The common key, one field of the
// event, is looked up by its kind without the general path's loops.
func (op *patternOp) keyOf(ev *event.Event) (uint64, int32) {
	if s := op.slot1[ev.Type]; s >= 0 {
		v := ev.Fields[s]
		op.kv[0] = v
		if exactScalar(v.Kind()) {
			return op.keys.findScalar(v, v.Bits())
		}
		if h, id, ok := op.keys.findOne(v); ok {
			return h, id
		}
	}
	keys := op.p.keys[ev.Type]
	m := op.m
	for j := range keys {
		op.kv[j] = m.evalField(&keys[j], ev)
	}
	h := op.keys.hash(op.kv)
	return h, op.keys.find(op.kv, h)
}

// born makes the key of ev (op.kv, hash h; id its retired entry or -1)
// live with an empty matcher, and returns its id; -1 when Config.MaxKeys
// refuses it.
func (op *patternOp) born(ev *event.Event, h uint64, id int32) int32 {
	m := op.m
	if m.cfg.MaxKeys > 0 && op.keys.Len() >= m.cfg.MaxKeys {
		m.refusePattern(op, ev, ErrKeyLimit, m.cfg.MaxKeys)
		return -1
	}
	revived := id >= 0 // a retired key keeps its birth: its place among the keys
	if revived {
		op.keys.revive(id)
	} else {
		id = op.keys.insert(op.kv, h)
	}
	st := op.keys.state(id)
	if !revived {
		op.births++
		st.birth = op.births
		op.newborn = id
	}
	if op.flat != nil {
		return id
	}
	for int(id) >= len(op.mts) {
		op.mts = append(op.mts, nil)
	}
	if n := len(op.idle); n > 0 {
		op.mts[id] = op.idle[n-1]
		op.idle[n-1] = nil
		op.idle = op.idle[:n-1]
		op.mts[id].Reset(op.keys.key(id))
	} else {
		op.mts[id] = pattern.NewMatcher(op.p.pat, m.vm, pattern.Config{MaxPartials: m.cfg.MaxPartials, Timeout: op.tout, Shared: op.shared}, op.keys.key(id), op.emit)
	}
	return id
}

// settle schedules key id's deadline after its matcher ran, or frees the
// key when the matcher is idle.
func (op *patternOp) settle(id int32) {
	st := op.keys.state(id)
	if op.flat != nil {
		op.schedule(id)
		if st.fp.Len() == 0 {
			op.free(id)
		}
		return
	}
	mt := op.mts[id]
	if !mt.Idle() {
		op.schedule(id)
		return
	}
	if len(op.idle) < op.maxIdle() {
		op.idle = append(op.idle, mt)
	}
	op.mts[id] = nil
	op.schedule(id) // cancels a deadline, if one is left (an idle matcher has none)
	op.free(id)
}

// free retires idle key id, or deletes it when the event being run gave
// it birth: a key is born at the first event that leaves it a partial
// match (the order of keys, at the top of the file, is of those births).
func (op *patternOp) free(id int32) {
	if id == op.newborn {
		op.keys.delete(id)
		return
	}
	op.keys.retire(id)
}

// emitMatch receives a match of the key being run (pattern's emit callback):
// it computes the emitted fields over the match and emits the derived event.
func (op *patternOp) emitMatch(mc *pattern.Match) {
	m := op.m
	p := op.p
	n := &m.exec[p.emit]
	// Without a rule to read it, the event is done with when delivered:
	// the rule's spare one serves every match.
	d := m.derived(op.rule.ID, n.queue)
	var cur []event.Value
	if mc.Frame.Current != nil {
		cur = mc.Frame.Current.Fields
	}
	for i, prog := range p.progs {
		var v event.Value
		if a := op.arith[i]; a != nil {
			v = a.Eval(cur, mc.Frame.Vars)
		} else {
			v = m.vm.Eval(prog, mc.Frame)
		}
		if p.widen[i] && v.Kind() == event.KindInt {
			v = event.FloatValue(v.Float())
		}
		d.Event.Fields[i] = v
	}
	if m.cfg.Explain {
		d.Inputs = d.Inputs[:0]
		for _, evs := range mc.Elements {
			d.Inputs = append(d.Inputs, evs...)
		}
		slices.SortFunc(d.Inputs, compareEvents)
	}
	m.seq++
	d.Event.Time, d.Event.Seq = mc.Time, m.seq
	m.stats.Derived++
	if h := m.subs.lone[n.typ]; h != nil {
		h(d)
	} else if subs := m.subs.derived[n.typ]; len(subs) > 0 {
		m.deliver(subs, d)
	}
	if n.queue {
		m.queue = append(m.queue, d)
	}
}

// emitTimeout receives a timed-out partial match of the key being run
// (pattern's Timeout callback): on timeout emit's fields over its frame,
// emitted as a derived event of the timeout type stamped with the expiry
// time, delivered and queued like a match.
func (op *patternOp) emitTimeout(mc *pattern.Match) {
	m := op.m
	p := op.p
	n := &m.exec[p.temit]
	var d *Derived
	if k := len(op.tfree); k > 0 {
		d = op.tfree[k-1]
		op.tfree = op.tfree[:k-1]
	} else {
		s := m.types[n.typ].schema
		d = &Derived{Event: event.Event{Type: n.typ, Fields: make([]event.Value, len(s.Fields))}, Schema: s, Rule: op.rule.Name, RuleID: op.rule.ID}
	}
	for i, prog := range p.tprogs {
		v := m.vm.Eval(prog, mc.Frame)
		if p.twiden[i] && v.Kind() == event.KindInt {
			v = event.FloatValue(v.Float())
		}
		d.Event.Fields[i] = v
	}
	d.Inputs = d.Inputs[:0]
	if m.cfg.Explain {
		for _, evs := range mc.Elements {
			d.Inputs = append(d.Inputs, evs...)
		}
		slices.SortFunc(d.Inputs, compareEvents)
	}
	m.seq++
	d.Event.Time, d.Event.Seq = mc.Time, m.seq
	m.stats.Derived++
	if subs := m.subs.derived[n.typ]; len(subs) > 0 {
		m.deliver(subs, d)
	}
	if n.queue {
		m.queue = append(m.queue, d)
	} else {
		op.tfree = append(op.tfree, d)
	}
}

func compareEvents(a, b *event.Event) int {
	switch {
	case a.Time != b.Time:
		if a.Time < b.Time {
			return -1
		}
		return 1
	case a.Seq < b.Seq:
		return -1
	case a.Seq > b.Seq:
		return 1
	}
	return 0
}

// deadline returns key id's deadline: its matcher's next work without an
// event, or noDeadline.
func (op *patternOp) deadline(id int32) int64 {
	if op.flat != nil {
		if t, ok := op.flat.Deadline(&op.keys.state(id).fp); ok {
			return t
		}
	} else if mt := op.mts[id]; mt != nil {
		if t, ok := mt.Deadline(); ok {
			return t
		}
	}
	return noDeadline
}

// dueAt reports whether when is key id's deadline: whether an entry of
// exp (runFIFO) or of the deadline queue for it at when is live.
func (op *patternOp) dueAt(id int32, when int64) bool {
	if op.runFIFO {
		t, ok := op.flat.Deadline(&op.keys.state(id).fp)
		return ok && t == when
	}
	return int(id) < len(op.dues) && op.dues[id] == when
}

// schedule keeps key id's entry in the deadline queue at its matcher's
// deadline, and the matcher timer at the earliest live entry.
func (op *patternOp) schedule(id int32) {
	rt := &op.m.patterns
	if op.runFIFO {
		// Its deadlines are in exp already (see patternOp.exp). The
		// matcher timer stands for the earliest live entry, and rearm
		// leaves exp's front live: only a change of the key at the front
		// (its entry gone stale, or just pushed to an empty exp) moves
		// it, and any other spares rearm a visit to the front key's state.
		if !rt.firing && op.exp.n > 0 && op.exp.front().id == id {
			rt.rearm(op.m)
		}
		return
	}
	due := op.deadline(id)
	for int(id) >= len(op.dues) {
		op.dues = append(op.dues, noDeadline)
		op.qids = append(op.qids, timerID{})
	}
	if due == op.dues[id] {
		return
	}
	op.dues[id] = due
	q := &op.qids[id]
	switch {
	case due == noDeadline:
		rt.q.cancel(*q)
		*q = timerID{}
	case !rt.q.reset(*q, due):
		*q = rt.q.set(due, op.p.index, uint64(id))
	}
	if !rt.firing {
		rt.rearm(op.m)
	}
}

// patternFire expires every key due at or before now, in rule order, then
// key order.
func (m *Matcher) patternFire(now int64) {
	rt := &m.patterns
	rt.mtSet = false
	rt.firing = true
	rt.batch = rt.batch[:0]
	for rt.q.due(now) {
		ft := rt.q.pop()
		op := rt.ops[ft.node]
		id := int32(ft.arg)
		op.qids[id], op.dues[id] = timerID{}, noDeadline
		rt.batch = append(rt.batch, dueKey{op: ft.node, id: id, birth: op.keys.state(id).birth})
	}
	for _, op := range rt.expOps {
		for op.exp.n > 0 && op.exp.front().when <= now {
			e := op.exp.front()
			op.exp.pop()
			op.prefetchAhead()
			if op.dueAt(e.id, e.when) {
				rt.batch = append(rt.batch, dueKey{op: op.p.index, id: e.id, birth: op.keys.state(e.id).birth})
			}
		}
	}
	if len(rt.batch) > 1 {
		// A key with two live entries in exp due now (runs begun at one
		// instant, their entries apart) is in the batch twice: sorted,
		// side by side, and run once.
		slices.SortFunc(rt.batch, compareDue)
	}
	for i, b := range rt.batch {
		if i > 0 && b == rt.batch[i-1] {
			continue
		}
		op := rt.ops[b.op]
		if op.flat != nil {
			var key []event.Value // (read only by what the expiry emits)
			if op.flat.EmitsAtExpiry() {
				key = op.expiryKey(b.id)
			}
			op.flat.Expire(&op.keys.state(b.id).fp, key, now)
		} else {
			op.mts[b.id].Expire(now)
		}
		op.settle(b.id)
	}
	rt.firing = false
	rt.rearm(m)
}

// prefetchAhead hints the keys of the op's next expiries into the caches,
// as keyedOp.prefetchAhead does: the record (state and hash) of the entry
// pfFar ahead, and the slot of the entry pfNear ahead (where its deletion,
// the common end of an expired key, looks; found from the record's hash,
// fetched before).
func (op *patternOp) prefetchAhead() {
	q := &op.exp
	if q.n > pfFar {
		op.keys.prefetchRecord(q.at(pfFar).id)
	}
	if q.n > pfNear {
		op.keys.prefetchSlot(q.at(pfNear).id)
	}
}

// rearm keeps the matcher timer at the earliest live entry of the deadline
// queue and the expiry FIFOs.
func (rt *patternRuntime) rearm(m *Matcher) {
	t, ok := rt.q.peek()
	for _, op := range rt.expOps {
		for op.exp.n > 0 {
			e := op.exp.front()
			if op.dueAt(e.id, e.when) {
				if !ok || e.when < t {
					t, ok = e.when, true
				}
				break
			}
			op.exp.pop()
		}
	}
	rt.syncAt(m, t, ok)
}

// patternClose flushes every key's matcher at the end of input, rules in
// dependency order, running what each flush derives (and the timers it
// sets) before the next rule's.
func (m *Matcher) patternClose() {
	rt := &m.patterns
	if len(rt.ops) == 0 {
		return
	}
	ops := slices.Clone(rt.ops)
	slices.SortFunc(ops, func(a, b *patternOp) int { return a.p.rank - b.p.rank })
	for _, op := range ops {
		for id := range op.keys.ids() {
			st := op.keys.state(int32(id))
			switch {
			case op.flat != nil && st.fp.Len() > 0:
				op.flat.Flush(&st.fp, op.keys.key(int32(id)))
			case op.flat == nil && id < len(op.mts) && op.mts[id] != nil:
				op.mts[id].Flush()
			default:
				continue
			}
			op.settle(int32(id))
			m.flush()
		}
		m.drain()
	}
}

// refusePattern records that a pattern rule refused ev (or some of the
// partial matches it would have started): counted, and delivered to the
// refused stream.
func (m *Matcher) refusePattern(op *patternOp, ev *event.Event, err error, limit int) {
	m.stats.Refused++
	if len(m.subs.refused) == 0 {
		return
	}
	op.rerr = RefusedError{Rule: op.rule.Name, Limit: limit, Err: err}
	r := &m.rec
	*r = Record{Stream: StreamRefused, Err: &op.rerr, Event: ev, Schema: m.types[ev.Type].schema, Field: -1}
	m.deliverRecord(m.subs.refused, r)
	*r = Record{}
}
