package pattern

import (
	"github.com/cepengine/cep/engine/eval"
	"github.com/cepengine/cep/engine/event"
)

// The simple path: the step automaton specialised to the commonest
// shapes, a -> b -> ... within W (W4's keyed followed-by) and the same
// with relaxed nots between the elements and at the end (W7's a -> not B
// -> c and o -> not Ship within W): single elements and nots joined by
// ->, conditions that read no alias (Local), skip past last match, no
// having, no loop, no within gap and no timeout handling.
//
// Why it is exact with far less work. A partial match is then only its
// start, its first take's time, its next element and its trace: the nots
// it must watch follow from its next element (those written before it,
// or after the last element once complete), no greedy growth, no filter
// pool. Two runs waiting for the same element accept the same events, and
// the same nots refuse the same events (the conditions read no alias), so
// they move in lockstep; a run that began earlier is therefore never
// behind one that began later. Runs ordered by start thus have
// non-increasing steps and non-decreasing first-take times: the earliest
// run is the first to complete, the first to expire (the deadline is the
// expiry of the first run not yet final, O(1)), and with skip past last
// its match drops every run that began before its last event. Runs at the
// same element share one evaluation of its condition (and nots) per
// event.
//
// Within a run, the step automaton's precedence holds: an event its next
// element accepts is taken even when a not accepts it too; otherwise a
// not that accepts it ends the run. A completed run with trailing nots
// waits until its expiry (the match's time), unless a trailing not's
// event comes first. Overflow, timers and emission keep the step
// automaton's order: a new run is refused when the partition already
// holds MaxPartials; a match waits for the runs that began before it
// (emitOrdered).

// simplePlan is a pattern's shape on the simple path.
type simplePlan struct {
	elems []int32 // the steps of the elements, in order
	// guards[i] are the not steps a run waiting for element i watches;
	// guards[len(elems)] the trailing ones a completed run watches.
	guards [][]int32
}

// planSimple returns p's simple plan, nil when p does not have the shape.
func planSimple(p *Pattern) *simplePlan {
	sp := &p.spec
	if p.general || sp.CountOnly || sp.Skip != SkipPastLast || sp.Having != nil || sp.WithinGap {
		return nil
	}
	pl := &simplePlan{guards: make([][]int32, 1)}
	for k := range p.steps {
		st := &p.steps[k]
		if st.loop || st.el.List || !st.el.Local || k > 0 && st.edge != edgeRelaxed {
			return nil
		}
		if st.not {
			g := &pl.guards[len(pl.elems)]
			*g = append(*g, int32(k))
			continue
		}
		pl.elems = append(pl.elems, int32(k))
		pl.guards = append(pl.guards, nil)
	}
	return pl
}

// srun is a partial match of the simple path.
type srun struct {
	start  int64 // position of the first take
	firstT int64 // time of the first take
	time   int64 // time of the last take; the expiry for a trailing not
	node   int32 // trace tail in the shared buffer
	k      int32 // next element; len(elems) when complete
	wait   bool  // complete, waiting for its trailing nots to expire
}

type simple struct {
	runs []srun // by start
}

// noSimple turns the simple path off (tests compare it with the step
// automaton).
var noSimple bool

// simpleShape reports whether p (with cfg) runs on the simple path.
func simpleShape(p *Pattern, cfg *Config) bool {
	return !noSimple && p.simple != nil && !(p.spec.Timeout && cfg.Timeout != nil)
}

// final reports whether r is a match ready to be emitted.
func (s *simple) final(pl *simplePlan, r *srun) bool {
	return int(r.k) == len(pl.elems) && !r.wait
}

// notHit reports whether one of the not steps gs accepts the event at p.
func (mt *Matcher) notHit(gs []int32, p int64) bool {
	for _, g := range gs {
		if mt.accepts(mt.p.steps[g].el, nil, p) {
			return true
		}
	}
	return false
}

func (s *simple) process(mt *Matcher, ev *event.Event) error {
	mt.overflow = false
	if len(s.runs) > 0 && mt.p.within > 0 {
		s.expire(mt, ev.Time)
	}
	p := mt.store(ev)
	pl := mt.p.simple
	steps := mt.p.steps
	m := int32(len(pl.elems))
	// The runs are updated in place: each stays or ends, in order.
	j := 0
	lastK, acc, hit := int32(-1), false, false
	for i := range s.runs {
		r := s.runs[i]
		if r.k < m || r.wait {
			if r.k != lastK {
				lastK = r.k
				acc = r.k < m && mt.accepts(steps[pl.elems[r.k]].el, nil, p)
				hit = !acc && len(pl.guards[r.k]) > 0 && mt.notHit(pl.guards[r.k], p)
			}
			if hit {
				mt.release(r.node)
				continue
			}
			if acc {
				r.node = mt.takeNode(p, steps[pl.elems[r.k]].elem, r.node)
				r.k++
				r.time = ev.Time
				r.wait = r.k == m && len(pl.guards[m]) > 0
			}
		}
		s.runs[j] = r
		j++
	}
	s.runs = s.runs[:j]
	if p >= mt.threshold && mt.accepts(steps[pl.elems[0]].el, nil, p) {
		if len(s.runs) >= mt.cfg.MaxPartials {
			mt.stats.Dropped++
			mt.overflow = true
		} else {
			s.runs = append(s.runs, srun{start: p, firstT: ev.Time, time: ev.Time,
				node: mt.newNode(p, steps[pl.elems[0]].elem, -1), k: 1, wait: m == 1 && len(pl.guards[1]) > 0})
		}
	}
	s.settle(mt)
	if mt.overflow {
		return errOverflow(mt)
	}
	return nil
}

// takeNode extends the trace tail nd with the event at p taken by elem;
// the run that held nd holds the new node instead.
func (mt *Matcher) takeNode(p int64, elem int, nd int32) int32 {
	n := mt.newNode(p, elem, nd)
	mt.release(nd)
	return n
}

// expire fires the timers due at or before t: runs not complete whose
// first take is at least W ago end; completed runs waiting for their
// trailing nots become matches at their expiry. Then it emits what that
// lets through.
func (s *simple) expire(mt *Matcher, t int64) {
	if d, ok := s.deadline(mt); !ok || d > t {
		return
	}
	w := mt.p.within
	m := int32(len(mt.p.simple.elems))
	j := 0
	for _, r := range s.runs {
		if d := r.firstT + w; d <= t && (r.k < m || r.wait) {
			if r.k < m {
				mt.release(r.node)
				continue
			}
			r.wait, r.time = false, d
		}
		s.runs[j] = r
		j++
	}
	s.runs = s.runs[:j]
	s.settle(mt)
}

// settle emits the completed matches no earlier run holds back, drops the
// runs each one skips past, and trims the event buffer.
func (s *simple) settle(mt *Matcher) {
	pl := mt.p.simple
	for len(s.runs) > 0 && s.final(pl, &s.runs[0]) {
		r := s.runs[0]
		s.send(mt, r.node, r.time)
		// Skip past last: the runs that began before the match's last
		// event are dropped; the last event is the newest take of r.
		mt.threshold = max(mt.threshold, mt.nodes[r.node].pos+1)
		mt.release(r.node)
		j := 1
		for j < len(s.runs) && s.runs[j].start < mt.threshold {
			mt.release(s.runs[j].node)
			j++
		}
		s.runs = s.runs[:copy(s.runs, s.runs[j:])]
	}
	low := mt.n
	if len(s.runs) > 0 {
		low = s.runs[0].start
	}
	mt.base = max(mt.base, low)
}

// send emits the match whose trace ends at node nd, stamped t: each
// element took exactly one event.
func (s *simple) send(mt *Matcher, nd int32, t int64) {
	clear(mt.bound)
	for ; nd >= 0; nd = mt.nodes[nd].parent {
		n := &mt.nodes[nd]
		ev := mt.evAt(n.pos)
		if sl := mt.p.spec.Elements[n.elem].Slot; sl >= 0 {
			mt.bound[sl] = ev
		}
		mt.elems[n.elem] = append(mt.elems[n.elem][:0], ev)
	}
	mt.frame = eval.Frame{Bound: mt.bound, Lists: mt.lists, Vars: mt.key}
	mt.match.Time = t
	mt.stats.Matches++
	mt.emit(&mt.match)
}

// deadline is the expiry of the earliest run not yet final.
func (s *simple) deadline(mt *Matcher) (int64, bool) {
	if mt.p.within <= 0 {
		return 0, false
	}
	pl := mt.p.simple
	for i := range s.runs {
		if !s.final(pl, &s.runs[i]) {
			return s.runs[i].firstT + mt.p.within, true
		}
	}
	return 0, false
}

// flush ends the input: every timer fires (runs not complete end,
// completed ones waiting for trailing nots are matches at their expiry),
// then the matches are emitted.
func (s *simple) flush(mt *Matcher) {
	m := int32(len(mt.p.simple.elems))
	j := 0
	for _, r := range s.runs {
		if r.k < m {
			mt.release(r.node)
			continue
		}
		if r.wait {
			r.wait, r.time = false, r.firstT+mt.p.within
		}
		s.runs[j] = r
		j++
	}
	s.runs = s.runs[:j]
	s.settle(mt)
}
