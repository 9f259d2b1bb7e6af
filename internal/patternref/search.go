package patternref

import (
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/cepengine/cep/engine/eval"
	"github.com/cepengine/cep/engine/event"
	"github.com/cepengine/cep/lang"
)

// The search: for one start event of one partition, every way the pattern
// can match, found by walking the pattern's syntax tree with a
// continuation. Each function below is one rule of docs/language.md's
// Patterns section; positions are indexes into the partition's stream.

// edgeKind is the contiguity that decides which event the next take may be.
type edgeKind uint8

const (
	edgeStart   edgeKind = iota // the first take of a match: exactly the start event
	edgeStrict                  // the very next event of the stream
	edgeRelaxed                 // the first later event the element accepts
	edgeAny                     // any later event the element accepts
)

func edgeOf(e lang.Edge) edgeKind {
	switch e {
	case lang.Relaxed:
		return edgeRelaxed
	case lang.AnyEdge:
		return edgeAny
	}
	return edgeStrict
}

// take records that an element took an event.
type take struct{ elem, ev int }

// guard is a pending `not B`: no event accepted by el may occur in the
// guarded span. Strict (notNext): the events after from, up to and
// including the one right after last. Relaxed (notFollowedBy): the events
// after from and before the next take (or, trailing, before within
// expires).
type guard struct {
	el     *lang.ElementInfo
	strict bool
	from   int
	last   int
	trace  []take // the bindings its condition sees
}

// growth is a greedy loop (or greedy optional) that ended without reaching
// its maximum and has nothing taken after it: it could still grow, so a
// match ending there is final only when it no longer can.
type growth struct {
	edge  edgeKind
	el    *lang.ElementInfo // nil for a group
	until *lang.Compiled
	first bool // the loop has taken nothing yet: its entry edge decides
}

// state is a partial match. It is a value: every extension copies what it
// changes.
type state struct {
	trace     []take
	last      int // last taken event, -1 before the first take
	edge      edgeKind
	start     int // the event the first take must be
	guards    []guard
	loopFirst int // first event of the loop that just ended (for a following not), -1
	growable  []growth
}

// withEdge sets the contiguity of the next take. Until the match has taken
// its first event, that take is pinned to the start event whatever the
// edge (elements skipped at the start do not move it).
func withEdge(s state, e edgeKind) state {
	if len(s.trace) > 0 {
		s.edge = e
	}
	return s
}

// found is a complete match of one start event.
type found struct {
	trace []take
	done  step  // when it is complete and known final
	time  int64 // the derived event's time
}

type cont func(s state) []found

// loopCtx tells element() it takes an iteration of a loop.
type loopCtx struct {
	until *lang.Compiled
	first bool // the loop has taken nothing yet
}

type search struct {
	rr *ruleRun
	ps *pstream
	pi *lang.PatternInfo
}

func (sr *search) n() int { return len(sr.ps.evs) }

func (sr *search) ev(i int) *event.Event { return &sr.rr.events[sr.ps.evs[i]] }

func (sr *search) evStep(i int) step {
	g := sr.ps.evs[i]
	return step{time: sr.rr.events[g].Time, phase: 1, seq: g}
}

// pattern: an alternation tries each alternative, the first written first.
func (sr *search) pattern(p *lang.Pattern, s state, k cont) []found {
	var out []found
	for _, seq := range p.Alts {
		out = append(out, sr.sequence(seq.Steps, 0, s, k)...)
	}
	return out
}

// sequence: each step's edge governs the next take after it, measured from
// the last event taken (so an edge after a skipped element, or after a
// not, joins the next element to the element before them). The first step
// of a group keeps the edge that leads into the group.
func (sr *search) sequence(steps []*lang.Step, i int, s state, k cont) []found {
	if i == len(steps) {
		return k(s)
	}
	st := steps[i]
	edge := s.edge
	if i > 0 {
		edge = edgeOf(st.Edge)
	}
	return sr.term(st.Term, edge, s, func(s2 state) []found { return sr.sequence(steps, i+1, s2, k) })
}

// term: the parts of a & b match in any order, each entered with the edge
// that leads into the term; the written order is preferred.
func (sr *search) term(t *lang.Term, edge edgeKind, s state, k cont) []found {
	if len(t.Factors) == 1 {
		return sr.factor(t.Factors[0], edge, s, k)
	}
	var out []found
	for _, perm := range permutations(len(t.Factors)) {
		out = append(out, sr.allOf(t.Factors, perm, 0, edge, s, k)...)
	}
	return out
}

func (sr *search) allOf(fs []*lang.Factor, perm []int, j int, edge edgeKind, s state, k cont) []found {
	if j == len(perm) {
		return k(s)
	}
	return sr.factor(fs[perm[j]], edge, s, func(s2 state) []found { return sr.allOf(fs, perm, j+1, edge, s2, k) })
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

func (sr *search) factor(f *lang.Factor, edge edgeKind, s state, k cont) []found {
	s = withEdge(s, edge)
	switch {
	case f.Not:
		return sr.negation(f, edge, s, k)
	case f.Quant != nil:
		return sr.loop(f, s, k)
	case f.Group != nil:
		return sr.pattern(f.Group, s, k)
	}
	return sr.element(sr.pi.Element(f.Elem), s, nil, k)
}

// negation adds a guard for the gap after the last take. After a loop the
// guard starts at the loop's first event: a B between two iterations ends
// the loop (Flink's behaviour, testNotFollowedByAnyAfterOneOrMore* and
// testNotNextAfterOneOrMoreSkipTillNext).
func (sr *search) negation(f *lang.Factor, edge edgeKind, s state, k cont) []found {
	from := s.last
	if s.loopFirst >= 0 {
		from = s.loopFirst
	}
	g := guard{el: sr.pi.Element(f.Elem), strict: edge == edgeStrict, from: from, last: s.last, trace: s.trace}
	s.guards = append(slices.Clip(s.guards), g)
	return k(s)
}

// element takes one event for el: every candidate the edge allows.
func (sr *search) element(el *lang.ElementInfo, s state, lc *loopCtx, k cont) []found {
	var out []found
	for _, e := range sr.candidates(el, s, lc) {
		if s2, ok := sr.take(el, s, e); ok {
			out = append(out, k(s2)...)
		}
	}
	return out
}

// candidates lists the events el may take next under s.edge.
//
// until: an event that satisfies it is never taken. Once the loop has
// begun, such an event ends it (for relaxed and any-subset loops too: it
// cannot be skipped). Before the first iteration, under a relaxed edge the
// first event the element accepts decides (if it satisfies until the loop
// cannot begin), and under ->> events that satisfy until are passed over,
// so a later event may begin the loop (Flink: until is folded into the take
// and inner-ignore conditions, not into the outer ignore condition).
func (sr *search) candidates(el *lang.ElementInfo, s state, lc *loopCtx) []int {
	n := sr.n()
	stops := func(e int) bool { return lc != nil && lc.until != nil && sr.holds(lc.until, el, s, e) }
	running := lc != nil && !lc.first
	switch s.edge {
	case edgeStart:
		if s.start < n && sr.accepts(el, s, s.start) && !stops(s.start) {
			return []int{s.start}
		}
	case edgeStrict:
		if e := s.last + 1; e < n && sr.accepts(el, s, e) && !stops(e) {
			return []int{e}
		}
	case edgeRelaxed:
		for e := s.last + 1; e < n; e++ {
			if running && stops(e) {
				return nil
			}
			if sr.accepts(el, s, e) {
				if stops(e) {
					return nil
				}
				return []int{e}
			}
		}
	case edgeAny:
		var out []int
		for e := s.last + 1; e < n; e++ {
			if running && stops(e) {
				break
			}
			if sr.accepts(el, s, e) && !stops(e) {
				out = append(out, e)
			}
		}
		return out
	}
	return nil
}

// take extends s with el taking e, if within and the pending guards allow.
func (sr *search) take(el *lang.ElementInfo, s state, e int) (state, bool) {
	if w := int64(sr.rr.r.Within); w > 0 && len(s.trace) > 0 {
		t := sr.ev(e).Time
		if sr.rr.r.WithinGap {
			if t-sr.ev(s.last).Time >= w {
				return s, false
			}
		} else if t-sr.ev(s.trace[0].ev).Time >= w {
			return s, false
		}
	}
	for _, g := range s.guards {
		if sr.violated(g, e) {
			return s, false
		}
	}
	s.trace = append(slices.Clip(s.trace), take{elem: el.Index, ev: e})
	s.last = e
	s.guards = nil
	s.loopFirst = -1
	s.growable = nil
	return s, true
}

// violated reports whether a guard's span, ending before upTo (relaxed),
// holds an event its element accepts.
func (sr *search) violated(g guard, upTo int) bool {
	end := upTo // exclusive
	if g.strict {
		end = min(g.last+2, sr.n())
	}
	for x := g.from + 1; x < end; x++ {
		if sr.accepts(g.el, state{trace: g.trace}, x) {
			return true
		}
	}
	return false
}

// loop runs a quantified element or group. Iteration 1 is found under the
// edge into the factor, the others under the loop's contiguity: its loop
// modifier, else the entering edge (strict for the first element of a
// pattern). After each iteration from the minimum on, the match may go on
// with the rest of the pattern ("exit"). Preference: more iterations first
// (branching and greedy), fewer first (reluctant). Greedy then drops a
// match when the same match with more iterations of this loop appended
// exists; reluctant drops it when the same match with iterations removed
// from its end exists.
func (sr *search) loop(f *lang.Factor, s state, k cont) []found {
	q := f.Quant
	lo, hi := q.Bounds()
	entry := s.edge
	iterEdge := entry
	if entry == edgeStart {
		iterEdge = edgeStrict
	}
	switch q.Loop {
	case "consecutive":
		iterEdge = edgeStrict
	case "relaxed":
		iterEdge = edgeRelaxed
	case "any":
		iterEdge = edgeAny
	}
	var el *lang.ElementInfo
	var until *lang.Compiled
	if f.Elem != nil {
		el = sr.pi.Element(f.Elem)
		until = el.Until
	}
	entryLen := len(s.trace)
	type exited struct {
		exitLen int
		f       found
	}
	var results []exited
	seen := map[string]bool{}
	var iter func(s state, i int)
	iter = func(s state, i int) {
		count := i
		if hi < 0 && count > lo {
			count = lo // beyond the minimum an unbounded loop's count changes nothing
		}
		key := stateKey(s) + "#" + strconv.Itoa(count)
		if seen[key] {
			return // the same partial match again (as in (a+)+): same results
		}
		seen[key] = true
		exit := func() {
			if i < lo {
				return
			}
			s2 := s
			s2.loopFirst = -1
			if len(s.trace) > entryLen {
				s2.loopFirst = s.trace[entryLen].ev
			}
			if q.Greedy() && (hi < 0 || i < hi) {
				e := iterEdge
				if i == 0 {
					e = entry
				}
				s2.growable = append(slices.Clip(s.growable), growth{edge: e, el: el, until: until, first: i == 0})
			}
			for _, r := range k(s2) {
				results = append(results, exited{exitLen: len(s.trace), f: r})
			}
		}
		more := func() {
			if hi >= 0 && i >= hi {
				return
			}
			s1 := s
			if i > 0 {
				s1 = withEdge(s, iterEdge)
			}
			next := func(s3 state) []found {
				if i >= lo && len(s3.trace) == len(s.trace) {
					return nil // an iteration past the minimum takes an event (docs/language.md)
				}
				iter(s3, i+1)
				return nil
			}
			if el != nil {
				sr.element(el, s1, &loopCtx{until: until, first: i == 0}, next)
			} else {
				sr.pattern(f.Group, s1, next)
			}
		}
		if q.Reluctant() {
			exit()
			more()
		} else {
			more()
			exit()
		}
	}
	iter(s, 0)

	loopPart := func(r exited) []take { return r.f.trace[entryLen:r.exitLen] }
	rest := func(r exited) []take { return r.f.trace[r.exitLen:] }
	var out []found
	for _, r := range results {
		dropped := false
		for _, o := range results {
			if !slices.Equal(rest(r), rest(o)) {
				continue
			}
			if q.Greedy() && properPrefix(loopPart(r), loopPart(o)) || q.Reluctant() && properPrefix(loopPart(o), loopPart(r)) {
				dropped = true
				break
			}
		}
		if !dropped {
			out = append(out, r.f)
		}
	}
	return out
}

func properPrefix(a, b []take) bool {
	return len(a) < len(b) && slices.Equal(a, b[:len(a)])
}

// complete is the continuation at the end of the pattern: it settles the
// trailing guards and when the match is known complete.
func (sr *search) complete(s state) []found {
	if len(s.trace) == 0 {
		return nil
	}
	r := sr.rr.r
	w := int64(r.Within)
	done := sr.evStep(s.last)
	tm := sr.ev(s.last).Time
	for _, g := range s.guards {
		if g.strict {
			// Flink's notNext at the end: decided by the next event.
			nx := g.last + 1
			if nx >= sr.n() || w > 0 && sr.ev(nx).Time >= sr.expiry(s) || sr.violated(g, nx) {
				return nil
			}
			done = maxStep(done, sr.evStep(nx))
			continue
		}
		// Absence: no B before within expires; the match is emitted then.
		if w == 0 {
			return nil // the checker requires within
		}
		t := sr.expiry(s)
		for x := g.from + 1; x < sr.n() && sr.ev(x).Time < t; x++ {
			if sr.accepts(g.el, state{trace: g.trace}, x) {
				return nil
			}
		}
		done = maxStep(done, step{time: t})
		tm = t
	}
	for _, g := range s.growable {
		done = maxStep(done, sr.growthStep(g, s))
	}
	return []found{{trace: s.trace, done: done, time: tm}}
}

// expiry is when a partial match with s's events runs out of within.
func (sr *search) expiry(s state) int64 {
	r := sr.rr.r
	if r.WithinGap {
		return sr.ev(s.last).Time + int64(r.Within)
	}
	return sr.ev(s.trace[0].ev).Time + int64(r.Within)
}

// growthStep is when a greedy tail can no longer grow: the next event under
// strict contiguity, else the first event that satisfies until, within's
// expiry, or the end of input (docs: "greedy ! emits one match when the
// loop can no longer grow"). A loop that has taken nothing yet begins as
// element's rules say (see element): under -> the first event the element
// accepts decides, so an event that satisfies until but not the element's
// condition ends nothing; under ->> such events are passed over.
func (sr *search) growthStep(g growth, s state) step {
	limit := endStep
	if sr.rr.r.Within > 0 {
		limit = step{time: sr.expiry(s)}
	}
	if g.edge == edgeStrict || g.edge == edgeStart {
		if nx := s.last + 1; nx < sr.n() {
			return minStep(sr.evStep(nx), limit)
		}
		return limit
	}
	if g.first && g.until != nil && g.el != nil {
		if g.edge == edgeAny {
			return limit
		}
		for e := s.last + 1; e < sr.n(); e++ {
			if sr.accepts(g.el, s, e) {
				return minStep(sr.evStep(e), limit)
			}
		}
		return limit
	}
	if g.until != nil && g.el != nil {
		for e := s.last + 1; e < sr.n(); e++ {
			if sr.holds(g.until, g.el, s, e) {
				return minStep(sr.evStep(e), limit)
			}
		}
	}
	return limit
}

// accepts reports whether event e is of el's type and satisfies its
// condition, with the aliases bound by s.
func (sr *search) accepts(el *lang.ElementInfo, s state, e int) bool {
	if sr.ev(e).Type != el.Type.Schema.ID {
		return false
	}
	if el.Cond == nil {
		return true
	}
	return sr.holds(el.Cond, el, s, e)
}

// holds evaluates a condition of el (its own or its until) for candidate e.
func (sr *search) holds(c *lang.Compiled, el *lang.ElementInfo, s state, e int) bool {
	if sr.ev(e).Type != el.Type.Schema.ID {
		return false
	}
	f := sr.frame(s.trace)
	f.Current = sr.ev(e)
	if p := sr.ps.prev[e]; p >= 0 {
		f.Prev = sr.ev(p)
	}
	if a := el.Alias; a != nil && !a.List {
		f.Bound[a.Slot] = f.Current // the element's own single alias is the candidate
	}
	return sr.rr.m.EvalBool(c.Program, f)
}

// frame binds the aliases of a trace: single aliases to their event, list
// aliases to their events oldest first; unbound ones stay nil.
func (sr *search) frame(trace []take) *eval.Frame {
	f := &eval.Frame{Bound: make([]*event.Event, sr.pi.Bound), Lists: make([][]*event.Event, sr.pi.Lists)}
	for _, t := range trace {
		a := sr.pi.Elements[t.elem].Alias
		if a == nil {
			continue
		}
		if a.List {
			f.Lists[a.Slot] = append(f.Lists[a.Slot], sr.ev(t.ev))
		} else {
			f.Bound[a.Slot] = sr.ev(t.ev)
		}
	}
	return f
}

// stateKey identifies a partial match within one loop run.
func stateKey(s state) string {
	var b strings.Builder
	b.WriteString(traceKey(s.trace))
	b.WriteString("|" + strconv.Itoa(s.last) + "|" + strconv.Itoa(int(s.edge)) + "|" + strconv.Itoa(s.loopFirst) + "|")
	for _, g := range s.guards {
		b.WriteString(strconv.Itoa(g.el.Index) + "," + strconv.FormatBool(g.strict) + "," + strconv.Itoa(g.from) + "," + strconv.Itoa(g.last) + ";")
	}
	b.WriteByte('|')
	for _, g := range s.growable {
		b.WriteString(strconv.Itoa(int(g.edge)) + ";")
	}
	return b.String()
}

func traceKey(tr []take) string {
	var b strings.Builder
	for _, t := range tr {
		b.WriteString(strconv.Itoa(t.elem) + ":" + strconv.Itoa(t.ev) + " ")
	}
	return b.String()
}

// matchPartition finds every match of one partition and applies having and
// the skip strategy.
//
// Order (docs: Match order and preference, extended): matches are taken in
// order of their first event, then of the step that completes them, then of
// preference (the search's order). With a skip strategy a completed match
// waits for the partial matches that began before it (Flink's NFA does so;
// testSkipBeforeOtherAlreadyCompleted), so the emitted order is that order
// and a match is emitted at the latest completion step so far. With skip
// none every match is emitted when it completes.
func (rr *ruleRun) matchPartition(ps *pstream) ([]*Match, error) {
	sr := &search{rr: rr, ps: ps, pi: rr.pi}
	type cand struct {
		f     found
		start int
		pref  int
	}
	var cands []cand
	for st := range ps.evs {
		res := sr.pattern(rr.pi.Pattern, state{last: -1, edge: edgeStart, start: st, loopFirst: -1}, sr.complete)
		seen := map[string]bool{}
		for _, f := range res {
			key := traceKey(f.trace)
			if seen[key] {
				continue
			}
			seen[key] = true
			if h := rr.r.Having; h != nil && !rr.m.EvalBool(h.Program, sr.resultFrame(f.trace, ps)) {
				continue
			}
			cands = append(cands, cand{f: f, start: st, pref: len(cands)})
		}
	}
	skip := rr.r.Skip
	if skip.Kind == lang.SkipNone {
		sort.SliceStable(cands, func(i, j int) bool {
			a, b := cands[i], cands[j]
			if a.f.done != b.f.done {
				return a.f.done.less(b.f.done)
			}
			return a.start < b.start
		})
	} else {
		sort.SliceStable(cands, func(i, j int) bool {
			a, b := cands[i], cands[j]
			if a.start != b.start {
				return a.start < b.start
			}
			return a.f.done.less(b.f.done)
		})
	}
	var out []*Match
	threshold := 0 // matches that begin before it are discarded
	var at step
	for _, c := range cands {
		if c.start < threshold {
			continue
		}
		tr := c.f.trace
		switch skip.Kind {
		case lang.SkipPastLast:
			threshold = max(threshold, tr[len(tr)-1].ev+1)
		case lang.SkipToNext:
			threshold = max(threshold, tr[0].ev+1)
		case lang.SkipToFirst, lang.SkipToLast:
			var evs []int
			for _, t := range tr {
				if t.elem == skip.Target.Element.Index {
					evs = append(evs, t.ev)
				}
			}
			if len(evs) > 0 { // a target that bound nothing discards nothing
				if skip.Kind == lang.SkipToFirst {
					threshold = max(threshold, evs[0])
				} else {
					threshold = max(threshold, evs[len(evs)-1])
				}
			}
		}
		at = maxStep(at, c.f.done)
		if skip.Kind == lang.SkipNone {
			at = c.f.done
		}
		out = append(out, rr.match(sr, ps, c.f, at))
	}
	return out, nil
}

// resultFrame is the frame of having and emit: aliases as matched,
// partition keys in Vars.
func (sr *search) resultFrame(trace []take, ps *pstream) *eval.Frame {
	f := sr.frame(trace)
	f.Vars = ps.key
	return f
}

func (rr *ruleRun) match(sr *search, ps *pstream, f found, at step) *Match {
	m := &Match{Rule: rr.r, Key: ps.key, Elements: make([][]int, len(rr.pi.Elements)), Time: f.time, at: at}
	for _, t := range f.trace {
		m.Elements[t.elem] = append(m.Elements[t.elem], rr.input[ps.evs[t.ev]])
	}
	if e := rr.r.Emit; e != nil {
		m.Fields = make([]event.Value, len(e.Type.Schema.Fields))
		fr := sr.resultFrame(f.trace, ps)
		for _, fi := range e.Fields {
			m.Fields[fi.Slot] = rr.m.Eval(fi.Value.Program, fr)
		}
	}
	return m
}
