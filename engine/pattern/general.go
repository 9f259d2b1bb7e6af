package pattern

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/cepengine/cep/engine/eval"
)

// The general path runs the patterns the step automaton does not:
// groups (quantified or not), alternation | and & (all in any order). It
// is a search over the pattern tree with a continuation, rule for rule the
// one of internal/patternref, run over the events buffered so far: where
// the search needs an event or a time that has not come yet, the branch
// or result is pending, and nothing that could be ordered after a
// pending result is emitted before it is settled.
//
// Cost: each Process re-runs the search of every live start (a start is
// live until its matches are emitted and nothing of it is pending), so
// an event costs O(live starts x search) and the search enumerates every
// partial match (exponential in the events a ->> may take). It allocates.
// This is the exact path; folding groups into the step automaton is the
// next step (see Spec.Validate).
//
// Timed-out partial matches (Spec.Timeout) follow the step automaton's
// rule branch by branch: with timeouts, timers fire one expiry time at a
// time (fireTimers), before the events of their time (the current event
// is hidden from the search meanwhile), and a branch of the search that
// waits for its next event when the timer of its expiry fires times out
// (pendingBranch); branches of one start with the same takes are one
// partial match; starts a skip discarded report none. The order is the
// step automaton's: expiry time, start, then its run order (the branches
// that moved on from a partial match before the one that stays).

// gStatus is what the search knows of one found match.
type gStatus uint8

const (
	gOK      gStatus = iota // complete, final and kept
	gWait                   // complete and final, but a loop filter waits
	gPending                // complete, not final yet: its completion step is unknown
)

type gTake struct {
	elem int32
	pos  int64
}

type gGuard struct {
	el     *Element
	elem   int
	strict bool
	from   int64
	last   int64
	trace  []gTake
}

type gGrowth struct {
	edge edgeKind
	el   *Element // nil for a group
}

type gState struct {
	trace     []gTake
	last      int64
	edge      edgeKind
	start     int64
	guards    []gGuard
	loopFirst int64
	growable  []gGrowth
}

func gWithEdge(s gState, e edgeKind) gState {
	if len(s.trace) > 0 {
		s.edge = e
	}
	return s
}

type gFound struct {
	trace []gTake
	done  step
	time  int64
	st    gStatus
}

type gCont func(s gState) []gFound

// gLoop is one running loop invocation: a pending branch inside its body
// (not in what follows the loop) could still grow it.
type gLoop struct {
	inRest int
	// pending holds the traces of the pending branches inside the body.
	pending [][]gTake
}

// mayGrow reports whether a pending branch of the loop holds all of part
// (a loop part of this invocation, which began at trace index entryLen):
// only such a branch can append iterations to it, as a pending branch
// takes only events not seen yet.
func (l *gLoop) mayGrow(part []gTake, entryLen int) bool {
	for _, tr := range l.pending {
		if len(tr)-entryLen >= len(part) && slices.Equal(tr[entryLen:entryLen+len(part)], part) {
			return true
		}
	}
	return false
}

// gStart is one start event of the partition and what was emitted of it.
type gStart struct {
	pos     int64
	emitted map[string]bool
	// Of the last search:
	entries []gEntry
	pending bool
	// timedOut holds the traces of the partial matches the last search
	// found waiting at their expiry, the time of the search's timer.
	timedOut [][]gTake
}

// gEntry is one distinct match (trace) of a start, in preference order.
type gEntry struct {
	key   string
	trace []gTake
	done  step // exact when ok, a lower bound otherwise
	time  int64
	ok    bool
	pref  int
	start int64
}

// general is the state of the general path of one Matcher.
type general struct {
	mt         *Matcher
	starts     []*gStart
	threshold  int64
	now        step
	closed     bool
	deadline   int64
	hasDL      bool
	loops      []*gLoop
	pendingHit bool

	// Timed-out partial matches (Spec.Timeout): a branch of the search
	// that waits for its next event when a timer fires at its expiry is
	// a partial match that times out there. The search of each start
	// collects its own (cur, by trace, the first found first: the
	// start's preference order); resolve reports those of the starts no
	// skip has discarded, before the matches of the same step.
	cur          *gStart
	waitTimedOut bool  // set by pendingBranch: the branch waiting in candidates timed out
	hideNew      bool  // a timer before the current event: the search sees events before end only
	end          int64 // with hideNew
}

func (g *general) n() int64 {
	if g.hideNew {
		return g.end
	}
	return g.mt.n
}

func (g *general) spec() *Spec { return &g.mt.p.spec }

// pendingBranch records that state s waits for an event not seen yet.
func (g *general) pendingBranch(s gState) {
	if g.closed {
		return
	}
	if w := g.mt.p.within; w > 0 {
		e := g.expiry(s)
		if e == g.now.time && g.now.phase == 0 && g.cur != nil && len(s.trace) > 0 {
			g.waitTimedOut = true // element records it after the branches that took events
		}
		if e <= g.now.time {
			return // no later event can be taken in time
		}
		g.noteDeadline(e)
	}
	for _, gd := range s.guards {
		if g.violated(gd, g.n()) {
			return
		}
	}
	g.pendingHit = true
	for _, l := range g.loops {
		if l.inRest == 0 {
			l.pending = append(l.pending, s.trace)
		}
	}
}

// timedOut records that the waiting branch s times out at the current
// timer: unless a not between its last take and now broke it, or another
// branch with the same takes (waiting elsewhere: to repeat a loop or to
// leave it, in another alternative or order of &) was recorded already.
func (g *general) timedOut(s gState) {
	for _, gd := range s.guards {
		if g.violated(gd, g.n()) {
			return
		}
	}
	for _, tr := range g.cur.timedOut {
		if slices.Equal(tr, s.trace) {
			return
		}
	}
	g.cur.timedOut = append(g.cur.timedOut, s.trace)
}

func (g *general) noteDeadline(e int64) {
	if !g.hasDL || e < g.deadline {
		g.deadline, g.hasDL = e, true
	}
}

func (g *general) expiry(s gState) int64 {
	mt := g.mt
	if mt.p.spec.WithinGap {
		return mt.evAt(s.last).Time + mt.p.within
	}
	return mt.evAt(s.trace[0].pos).Time + mt.p.within
}

func (g *general) evStep(p int64) step {
	return step{time: g.mt.evAt(p).Time, phase: 1, pos: p}
}

// pattern: each alternative, the first written first.
func (g *general) pattern(n *Node, s gState, k gCont) []gFound {
	if n.Kind == NodeAlternation {
		var out []gFound
		for i := range n.Children {
			out = append(out, g.sequenceOf(&n.Children[i], s, k)...)
		}
		return out
	}
	return g.sequenceOf(n, s, k)
}

func (g *general) sequenceOf(n *Node, s gState, k gCont) []gFound {
	if n.Kind == NodeSequence {
		return g.sequence(n.Children, 0, s, k)
	}
	return g.sequence(slices.Clip([]Node{*n}), 0, s, k)
}

// sequence: the first step keeps the edge into the group.
func (g *general) sequence(steps []Node, i int, s gState, k gCont) []gFound {
	if i == len(steps) {
		return k(s)
	}
	edge := s.edge
	if i > 0 {
		edge = edgeKindOf(steps[i].Edge)
	}
	return g.term(&steps[i], edge, s, func(s2 gState) []gFound { return g.sequence(steps, i+1, s2, k) })
}

// term: the parts of & in every order, the written order first, each
// entered with the edge into the term.
func (g *general) term(n *Node, edge edgeKind, s gState, k gCont) []gFound {
	if n.Kind != NodeAll {
		return g.factor(n, edge, s, k)
	}
	var out []gFound
	for _, perm := range permutations(len(n.Children)) {
		out = append(out, g.allOf(n.Children, perm, 0, edge, s, k)...)
	}
	return out
}

func (g *general) allOf(fs []Node, perm []int, j int, edge edgeKind, s gState, k gCont) []gFound {
	if j == len(perm) {
		return k(s)
	}
	return g.factor(&fs[perm[j]], edge, s, func(s2 gState) []gFound { return g.allOf(fs, perm, j+1, edge, s2, k) })
}

// permutations lists the orders of n parts, the identity first.
func permutations(n int) [][]int {
	var out [][]int
	var rec func(cur []int, used []bool)
	rec = func(cur []int, used []bool) {
		if len(cur) == n {
			out = append(out, slices.Clone(cur))
			return
		}
		for i := 0; i < n; i++ {
			if !used[i] {
				used[i] = true
				rec(append(cur, i), used)
				used[i] = false
			}
		}
	}
	rec(nil, make([]bool, n))
	return out
}

func (g *general) factor(n *Node, edge edgeKind, s gState, k gCont) []gFound {
	s = gWithEdge(s, edge)
	if n.Kind == NodeElement {
		el := &g.spec().Elements[n.Element]
		switch {
		case el.Negated:
			return g.negation(n.Element, edge, s, k)
		case el.Quantified:
			return g.loop(n, el, s, k)
		}
		return g.element(n.Element, s, nil, k)
	}
	if n.Quantified {
		return g.loop(n, nil, s, k)
	}
	return g.pattern(n, s, k)
}

func (g *general) negation(elem int, edge edgeKind, s gState, k gCont) []gFound {
	from := s.last
	if s.loopFirst >= 0 {
		from = s.loopFirst
	}
	gd := gGuard{el: &g.spec().Elements[elem], elem: elem, strict: edge == edgeStrict, from: from, last: s.last, trace: s.trace}
	s.guards = append(slices.Clip(s.guards), gd)
	return k(s)
}

type gLoopCtx struct {
	first bool
}

func (g *general) element(elem int, s gState, lc *gLoopCtx, k gCont) []gFound {
	var out []gFound
	g.waitTimedOut = false
	cands := g.candidates(elem, s, lc)
	waited := g.waitTimedOut
	g.waitTimedOut = false
	for _, e := range cands {
		if s2, ok := g.take(elem, s, e); ok {
			out = append(out, k(s2)...)
		}
	}
	if waited {
		// After the partial matches that moved on from s: the order of
		// the step automaton's runs (successors before the run that
		// stays).
		g.timedOut(s)
	}
	return out
}

func (g *general) candidates(elem int, s gState, lc *gLoopCtx) []int64 {
	el := &g.spec().Elements[elem]
	n := g.n()
	stops := func(e int64) bool { return lc != nil && el.Until != nil && g.holds(el.Until, el, s.trace, e) }
	running := lc != nil && !lc.first
	switch s.edge {
	case edgeStart:
		if s.start < n && g.holds(el.Cond, el, s.trace, s.start) && !stops(s.start) {
			return []int64{s.start}
		}
	case edgeStrict:
		e := s.last + 1
		if e >= n {
			g.pendingBranch(s)
			return nil
		}
		if g.holds(el.Cond, el, s.trace, e) && !stops(e) {
			return []int64{e}
		}
	case edgeRelaxed:
		for e := s.last + 1; e < n; e++ {
			if running && stops(e) {
				return nil
			}
			if g.holds(el.Cond, el, s.trace, e) {
				if stops(e) {
					return nil
				}
				return []int64{e}
			}
		}
		g.pendingBranch(s)
	case edgeAny:
		var out []int64
		for e := s.last + 1; e < n; e++ {
			if running && stops(e) {
				return out
			}
			if g.holds(el.Cond, el, s.trace, e) && !stops(e) {
				out = append(out, e)
			}
		}
		g.pendingBranch(s)
		return out
	}
	return nil
}

func (g *general) take(elem int, s gState, e int64) (gState, bool) {
	mt := g.mt
	if w := mt.p.within; w > 0 && len(s.trace) > 0 {
		t := mt.evAt(e).Time
		if mt.p.spec.WithinGap {
			if t-mt.evAt(s.last).Time >= w {
				return s, false
			}
		} else if t-mt.evAt(s.trace[0].pos).Time >= w {
			return s, false
		}
	}
	for _, gd := range s.guards {
		if g.violated(gd, e) {
			return s, false
		}
	}
	s.trace = append(slices.Clip(s.trace), gTake{elem: int32(elem), pos: e})
	s.last = e
	s.guards = nil
	s.loopFirst = -1
	s.growable = nil
	return s, true
}

// violated reports whether a guard's span, ending before upTo (relaxed),
// holds an event its element accepts.
func (g *general) violated(gd gGuard, upTo int64) bool {
	end := upTo
	if gd.strict {
		end = min(gd.last+2, g.n())
	}
	for x := gd.from + 1; x < end; x++ {
		if g.holds(gd.el.Cond, gd.el, gd.trace, x) {
			return true
		}
	}
	return false
}

// loop runs a quantified element or group (patternref's loop, with the
// filters waiting on pending results).
func (g *general) loop(n *Node, el *Element, s gState, k gCont) []gFound {
	lo, hi, mode, lk := n.Min, n.Max, n.Mode, n.Loop
	elem := -1
	if el != nil {
		lo, hi, mode, lk = el.Min, el.Max, el.Mode, el.Loop
		elem = n.Element
	}
	greedy, reluct := mode == Greedy, mode == Reluctant
	entry := s.edge
	iterEdge := entry
	if entry == edgeStart {
		iterEdge = edgeStrict
	}
	switch lk {
	case LoopConsecutive:
		iterEdge = edgeStrict
	case LoopRelaxed:
		iterEdge = edgeRelaxed
	case LoopAny:
		iterEdge = edgeAny
	}
	entryLen := len(s.trace)
	type exited struct {
		exitLen int
		f       gFound
	}
	var results []exited
	seen := map[string]bool{}
	inv := &gLoop{}
	g.loops = append(g.loops, inv)
	var iter func(s gState, i int)
	iter = func(s gState, i int) {
		count := i
		if hi < 0 && count > lo {
			count = lo
		}
		key := gStateKey(s) + "#" + strconv.Itoa(count)
		if seen[key] {
			return
		}
		seen[key] = true
		exit := func() {
			if i < lo {
				return
			}
			s2 := s
			s2.loopFirst = -1
			if len(s.trace) > entryLen {
				s2.loopFirst = s.trace[entryLen].pos
			}
			if greedy && (hi < 0 || i < hi) {
				e := iterEdge
				if i == 0 {
					e = entry
				}
				s2.growable = append(slices.Clip(s.growable), gGrowth{edge: e, el: el})
			}
			inv.inRest++
			rs := k(s2)
			inv.inRest--
			for _, r := range rs {
				results = append(results, exited{exitLen: len(s.trace), f: r})
			}
		}
		more := func() {
			if hi >= 0 && i >= hi {
				return
			}
			s1 := s
			if i > 0 {
				s1 = gWithEdge(s, iterEdge)
			}
			next := func(s3 gState) []gFound {
				if i >= lo && len(s3.trace) == len(s.trace) {
					// An iteration past the minimum that took no event
					// (a body that can match empty, as (x*)*) matches
					// what stopping does, and repeating it never ends.
					return nil
				}
				iter(s3, i+1)
				return nil
			}
			if el != nil {
				g.element(elem, s1, &gLoopCtx{first: i == 0}, next)
			} else {
				g.pattern(n, s1, next)
			}
		}
		if reluct {
			exit()
			more()
		} else {
			more()
			exit()
		}
	}
	iter(s, 0)
	g.loops = g.loops[:len(g.loops)-1]

	loopPart := func(r exited) []gTake { return r.f.trace[entryLen:r.exitLen] }
	rest := func(r exited) []gTake { return r.f.trace[r.exitLen:] }
	var out []gFound
	for _, r := range results {
		dropped, wait := false, false
		for _, o := range results {
			if !slices.Equal(rest(r), rest(o)) {
				continue
			}
			if greedy && gProperPrefix(loopPart(r), loopPart(o)) || reluct && gProperPrefix(loopPart(o), loopPart(r)) {
				if o.f.st == gOK {
					dropped = true
					break
				}
				wait = true
			}
		}
		if dropped {
			continue
		}
		if greedy && len(rest(r)) == 0 && inv.mayGrow(loopPart(r), entryLen) {
			wait = true // a pending iteration may still extend it
		}
		f := r.f
		if wait && f.st == gOK {
			f.st = gWait
		}
		out = append(out, f)
	}
	return out
}

func gProperPrefix(a, b []gTake) bool {
	return len(a) < len(b) && slices.Equal(a, b[:len(a)])
}

// complete settles the trailing guards and when the match is final; a
// condition that needs the future makes the result pending.
func (g *general) complete(s gState) []gFound {
	if len(s.trace) == 0 {
		return nil
	}
	mt := g.mt
	w := mt.p.within
	done := g.evStep(s.last)
	tm := mt.evAt(s.last).Time
	pending := false
	for _, gd := range s.guards {
		if gd.strict {
			nx := gd.last + 1
			if nx >= g.n() {
				if g.closed || w > 0 && g.expiry(s) <= g.now.time {
					return nil
				}
				if w > 0 {
					g.noteDeadline(g.expiry(s))
				}
				pending = true
				continue
			}
			if w > 0 && mt.evAt(nx).Time >= g.expiry(s) || g.violated(gd, nx) {
				return nil
			}
			done = maxStep(done, g.evStep(nx))
			continue
		}
		if w == 0 {
			return nil
		}
		t := g.expiry(s)
		x := gd.from + 1
		for ; x < g.n() && mt.evAt(x).Time < t; x++ {
			if g.holds(gd.el.Cond, gd.el, gd.trace, x) {
				return nil
			}
		}
		if x == g.n() && !g.closed && t > g.now.time {
			g.noteDeadline(t)
			pending = true
			continue
		}
		done = maxStep(done, step{time: t})
		tm = t
	}
	for _, gr := range s.growable {
		st, ok := g.growthStep(gr, s)
		if !ok {
			pending = true
			continue
		}
		done = maxStep(done, st)
	}
	f := gFound{trace: s.trace, done: done, time: tm}
	if pending {
		f.st = gPending
		g.pendingHit = true
	}
	return []gFound{f}
}

// growthStep is when a greedy tail can no longer grow; false: not known
// yet.
func (g *general) growthStep(gr gGrowth, s gState) (step, bool) {
	mt := g.mt
	limit := endStep
	reached := g.closed
	if mt.p.within > 0 {
		e := g.expiry(s)
		limit = step{time: e}
		reached = reached || e <= g.now.time
		if !reached {
			g.noteDeadline(e)
		}
	}
	if gr.edge == edgeStrict || gr.edge == edgeStart {
		if nx := s.last + 1; nx < g.n() {
			return minStep(g.evStep(nx), limit), true
		}
		return limit, reached
	}
	if gr.el != nil && gr.el.Until != nil {
		for e := s.last + 1; e < g.n(); e++ {
			if g.holds(gr.el.Until, gr.el, s.trace, e) {
				return minStep(g.evStep(e), limit), true
			}
		}
	}
	return limit, reached
}

func minStep(a, b step) step {
	if a.less(b) {
		return a
	}
	return b
}

func gStateKey(s gState) string {
	var b strings.Builder
	b.WriteString(gTraceKey(s.trace))
	fmt.Fprintf(&b, "|%d|%d|%d|", s.last, s.edge, s.loopFirst)
	for _, gd := range s.guards {
		fmt.Fprintf(&b, "%d,%t,%d,%d;", gd.elem, gd.strict, gd.from, gd.last)
	}
	b.WriteByte('|')
	for _, gr := range s.growable {
		b.WriteString(strconv.Itoa(int(gr.edge)) + ";")
	}
	return b.String()
}

func gTraceKey(tr []gTake) string {
	var b strings.Builder
	for _, t := range tr {
		b.WriteString(strconv.Itoa(int(t.elem)))
		b.WriteByte(':')
		b.WriteString(strconv.FormatInt(t.pos, 10))
		b.WriteByte(' ')
	}
	return b.String()
}

// holds evaluates a condition of el (nil: true) for the event at p with
// the aliases of trace bound; the event must be of el's type.
func (g *general) holds(prog *eval.Program, el *Element, trace []gTake, p int64) bool {
	mt := g.mt
	ev := mt.evAt(p)
	if ev.Type != el.Type {
		return false
	}
	if prog == nil {
		return true
	}
	mt.bindTakes(trace)
	mt.frame.Current = ev
	mt.frame.Prev = mt.prevAt(p)
	if el.Slot >= 0 && !el.List {
		mt.bound[el.Slot] = ev
	}
	return mt.m.EvalBool(prog, &mt.frame)
}

// search runs the search of one start and turns its results into the
// start's entries: one per distinct trace (the first found), in
// preference order, having applied.
func (g *general) search(st *gStart) {
	g.pendingHit = false
	g.loops = g.loops[:0]
	st.timedOut = st.timedOut[:0]
	if g.spec().Timeout && g.mt.cfg.Timeout != nil {
		g.cur = st
	}
	res := g.pattern(&g.spec().Root, gState{last: -1, edge: edgeStart, start: st.pos, loopFirst: -1}, g.complete)
	g.cur = nil
	st.pending = g.pendingHit
	st.entries = st.entries[:0]
	idx := map[string]int{} // key -> entry index
	decided := map[string]bool{}
	h := g.spec().Having
	for _, f := range res {
		key := gTraceKey(f.trace)
		if decided[key] || st.emitted[key] {
			continue
		}
		if h != nil {
			g.mt.bindTakes(f.trace)
			if !g.mt.m.EvalBool(h, &g.mt.frame) {
				decided[key] = true
				continue
			}
		}
		done := f.done
		if f.st == gPending {
			done = step{time: g.now.time, phase: g.now.phase, pos: g.now.pos + 1} // no earlier than the next step
		}
		if i, ok := idx[key]; ok {
			// an earlier copy is undecided: this one may yet be the match
			e := &st.entries[i]
			if done.less(e.done) {
				e.done = done
			}
			if f.st == gOK {
				decided[key] = true
			}
			continue
		}
		idx[key] = len(st.entries)
		st.entries = append(st.entries, gEntry{key: key, trace: f.trace, done: done, time: f.time, ok: f.st == gOK, pref: len(st.entries), start: st.pos})
		if f.st == gOK {
			decided[key] = true
		} else {
			st.pending = true
		}
	}
}

// less is how the entries of the live starts are ordered for emission.
func (g *general) less(a, b *gEntry) bool {
	if g.spec().Skip != SkipNone && a.start != b.start {
		return a.start < b.start
	}
	if a.done != b.done {
		return a.done.less(b.done)
	}
	if a.start != b.start {
		return a.start < b.start
	}
	return a.pref < b.pref
}

// resolve re-runs the search of every live start and emits what is
// settled, in the reference's order.
func (g *general) resolve() {
	g.hasDL = false
	for _, st := range g.starts {
		g.search(st)
	}
	g.reportTimeouts()
	if g.spec().Skip == SkipNone {
		var all []*gEntry
		for _, st := range g.starts {
			for i := range st.entries {
				all = append(all, &st.entries[i])
			}
		}
		sort.SliceStable(all, func(i, j int) bool { return g.less(all[i], all[j]) })
		for _, e := range all {
			if !e.ok || g.now.less(e.done) {
				break
			}
			g.send(e)
		}
	} else {
	starts:
		for _, st := range g.starts {
			if st.pos < g.threshold {
				continue
			}
			es := make([]*gEntry, len(st.entries))
			for i := range st.entries {
				es[i] = &st.entries[i]
			}
			sort.SliceStable(es, func(i, j int) bool { return g.less(es[i], es[j]) })
			for _, e := range es {
				if !e.ok || g.now.less(e.done) {
					break starts
				}
				g.threshold = max(g.threshold, g.skipTo(e))
				g.send(e)
				if st.pos < g.threshold {
					continue starts
				}
			}
			if st.pending || g.unsent(st) {
				break
			}
		}
	}
	// Forget the finished starts.
	live := g.starts[:0]
	for _, st := range g.starts {
		if st.pos < g.threshold && g.spec().Skip != SkipNone {
			continue
		}
		if !st.pending && !g.unsent(st) {
			continue
		}
		live = append(live, st)
	}
	clear(g.starts[len(live):])
	g.starts = live
	low := g.n() // with a timer before the current event, that event stays
	for _, st := range g.starts {
		low = min(low, st.pos)
	}
	g.mt.base = max(g.mt.base, low)
}

func (g *general) unsent(st *gStart) bool {
	for i := range st.entries {
		if !st.emitted[st.entries[i].key] {
			return true
		}
	}
	return false
}

func (g *general) skipTo(e *gEntry) int64 {
	sp := g.spec()
	switch sp.Skip {
	case SkipPastLast:
		return e.trace[len(e.trace)-1].pos + 1
	case SkipToNext:
		return e.trace[0].pos + 1
	case SkipToFirst, SkipToLast:
		t := int64(-1)
		for _, tk := range e.trace {
			if int(tk.elem) == sp.SkipTarget && (t < 0 || sp.Skip == SkipToLast) {
				t = tk.pos
			}
		}
		return t
	}
	return 0
}

func (g *general) send(e *gEntry) {
	for _, st := range g.starts {
		if st.pos == e.start {
			st.emitted[e.key] = true
		}
	}
	mt := g.mt
	mt.bindTakes(e.trace)
	for i := range mt.elems {
		mt.elems[i] = mt.elems[i][:0]
	}
	for _, t := range e.trace {
		mt.elems[t.elem] = append(mt.elems[t.elem], mt.evAt(t.pos))
	}
	mt.match.Time = e.time
	mt.stats.Matches++
	mt.emit(&mt.match)
}

// reportTimeouts reports the partial matches the searches found timed
// out at the current timer: by start, then preference; those of starts a
// skip discarded are not reported.
func (g *general) reportTimeouts() {
	mt := g.mt
	for _, st := range g.starts {
		if g.spec().Skip != SkipNone && st.pos < g.threshold {
			continue
		}
		for _, tr := range st.timedOut {
			mt.bindTakes(tr)
			for i := range mt.elems {
				mt.elems[i] = mt.elems[i][:0]
			}
			for _, t := range tr {
				mt.elems[t.elem] = append(mt.elems[t.elem], mt.evAt(t.pos))
			}
			mt.match.Time = g.now.time
			mt.stats.Timeouts++
			mt.cfg.Timeout(&mt.match)
		}
		st.timedOut = st.timedOut[:0]
	}
}

// fireTimers runs the timers due at or before t one expiry time at a
// time, so that each partial match times out at its own expiry, in
// time order (Spec.Timeout). With hide, the newest event (at end) is
// not seen: the timers of a time come before its events.
func (g *general) fireTimers(t int64, hide bool, end int64) {
	g.hideNew, g.end = hide, end
	for g.hasDL && g.deadline <= t {
		g.now = step{time: g.deadline, phase: 0}
		g.resolve()
	}
	g.hideNew = false
}

func (g *general) process(p int64) {
	if g.spec().Timeout {
		g.fireTimers(g.mt.evAt(p).Time, true, p)
	}
	if len(g.starts) >= g.mt.cfg.MaxPartials {
		g.mt.stats.Dropped++
		g.mt.overflow = true
	} else {
		g.starts = append(g.starts, &gStart{pos: p, emitted: map[string]bool{}})
	}
	g.now = step{time: g.mt.evAt(p).Time, phase: 1, pos: p}
	g.resolve()
}

func (g *general) expire(wm int64) {
	if !g.hasDL || g.deadline > wm {
		return
	}
	if g.spec().Timeout {
		g.fireTimers(wm, false, 0)
		return
	}
	g.now = step{time: wm, phase: 0}
	g.resolve()
}

func (g *general) flush() {
	if g.spec().Timeout {
		g.fireTimers(math.MaxInt64, false, 0)
	}
	g.closed = true
	g.now = endStep
	g.resolve()
	g.starts = g.starts[:0]
	g.closed = false
}
