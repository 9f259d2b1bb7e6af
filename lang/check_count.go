package lang

import (
	"slices"

	"github.com/cepengine/cep/engine/eval"
)

// Counting pattern rules (docs/language.md, Counting matches). A pattern
// rule whose having or emit calls count() emits one derived event per
// input event that completes matches, carrying how many; the engine then
// counts merged partial matches instead of enumerating them
// (engine/pattern's Spec.CountOnly), so the rule may read nothing of a
// single match: its having and emit see count(), the named partition keys
// and the constants, and its pattern must be one the counting matcher
// runs. The checker reports every construct that breaks this, at its
// place.

// countCalls returns the positions of the count() calls (count with no
// argument, not a method) in x.
func countCalls(x *Expr) []Position {
	toks := scanExpr(x.Text, -1)
	var out []Position
	for i := 0; i+2 < len(toks); i++ {
		t := toks[i]
		if !t.name || t.text != "count" || toks[i+1].text != "(" || toks[i+2].text != ")" {
			continue
		}
		if i > 0 && (toks[i-1].text == "." || toks[i-1].text == "?.") {
			continue
		}
		out = append(out, x.MapPos(t.line, t.col))
	}
	return out
}

// checkCounts decides whether a pattern rule counts its matches (its having
// or emit calls count()), and reports what a counting rule may not have.
// A key or constant named count hides the aggregate, as it does in window
// rules.
func (c *checker) checkCounts(ri *RuleInfo) {
	r := ri.Decl
	var first Position
	found := false
	look := func(x *Expr) {
		if x == nil || found {
			return
		}
		if ps := countCalls(x); len(ps) > 0 {
			first, found = ps[0], true
		}
	}
	if h := r.Having(); h != nil {
		look(h.Cond)
	}
	if e := r.Emit(); e != nil {
		for _, f := range e.Fields {
			look(f.Value)
		}
	}
	if !found || c.countHidden(ri) {
		return
	}
	ri.Counts = true
	const why = "a rule that emits count()"
	switch sc := r.Skip(); {
	case sc == nil:
		c.errorf(first, "%s needs skip none (it counts every match); the default is skip past last: add skip none before having and emit", why)
	case ri.Skip.Kind != SkipNone:
		c.errorf(sc.Pos, "%s needs skip none (it counts every match), found skip %s", why, skipText(sc))
	}
	if w := r.Within(); w != nil && w.Gap {
		c.errorf(w.Pos, "%s needs within, not within gap: it merges partial matches by their first event's time", why)
	}
	if t := r.Timeout(); t != nil {
		c.errorf(t.Pos, "on timeout emit is not available in a rule that emits count(): its partial matches are counted, not kept")
	}
	if m := r.Match(); m != nil && m.Pattern != nil && ri.Pattern != nil {
		c.countablePattern(ri.Pattern, m.Pattern, why)
	}
}

// countHidden reports a partition key or constant named count: then
// count() is not the aggregate (and calling it is reported as usual).
func (c *checker) countHidden(ri *RuleInfo) bool {
	for _, k := range ri.Partition {
		if k.Name == "count" {
			return true
		}
	}
	env := eval.NewEnv()
	c.addConsts(env)
	return slices.Contains(env.Names(), "count")
}

func skipText(sc *SkipClause) string {
	switch sc.Kind {
	case "next":
		return "to next"
	case "past":
		return "past last"
	case "first", "last":
		if sc.Target != nil {
			return "to " + sc.Kind + " " + sc.Target.Name
		}
		return "to " + sc.Kind
	}
	return sc.Kind
}

// countablePattern reports the parts of a pattern that the counting matcher
// does not run: it needs a sequence of elements (no |, & or groups), no
// not, branching loops without until, and conditions that read only the
// candidate and prev.
func (c *checker) countablePattern(pi *PatternInfo, p *Pattern, why string) {
	if len(p.Alts) > 1 {
		c.errorf(p.Alts[1].Pos, "%s needs a sequence of elements, without groups, | or &; found |", why)
		return
	}
	for _, st := range p.Alts[0].Steps {
		if st.Term == nil {
			continue
		}
		if len(st.Term.Factors) > 1 {
			c.errorf(st.Term.Pos, "%s needs a sequence of elements, without groups, | or &; found &", why)
			continue
		}
		f := st.Term.Factors[0]
		switch {
		case f.Group != nil && f.Quant == nil && len(f.Group.Alts) == 1 && len(f.Group.Alts[0].Steps) == 1:
			c.countablePattern(pi, f.Group, why) // (a:A) is a:A
			continue
		case f.Group != nil:
			c.errorf(f.Pos, "%s needs a sequence of elements, without groups, | or &; found a group", why)
			continue
		case f.Not:
			c.errorf(f.Pos, "%s cannot use not: it counts merged partial matches, which keep no guards", why)
			continue
		}
		if q := f.Quant; q != nil {
			switch {
			case q.Greedy() || q.Reluctant() || q.Op == "??":
				c.errorf(q.Pos, "%s needs branching loops (every loop length is a match); remove the %s after the quantifier", why, q.Mode)
			case q.Until != nil:
				c.errorf(q.Until.Pos, "%s cannot use until: it counts merged partial matches, which keep no loop contents", why)
			}
		}
		el := pi.Element(f.Elem)
		if el == nil || f.Elem.Cond == nil {
			continue
		}
		if name, pos, reads := readsAlias(pi, el, f.Elem.Cond); reads {
			c.errorf(pos, "in %s, a condition may read only its candidate event and prev (merged partial matches keep no events); this one reads the alias %s", why, name)
		}
	}
}

// readsAlias reports the first alias that x (a condition or until of el)
// reads, other than el's own single alias (the candidate itself).
func readsAlias(pi *PatternInfo, el *ElementInfo, x *Expr) (string, Position, bool) {
	for _, id := range identifiers(x) {
		if id.call {
			continue
		}
		a := pi.byAlias[id.name]
		if a == nil || a.Element == el && !a.List {
			continue
		}
		if el.Type != nil && el.Type.Schema != nil {
			if _, field := el.Type.Schema.Slot(id.name); field {
				continue
			}
		}
		return id.name, id.pos, true
	}
	return "", Position{}, false
}

// countMisuse reports the aliases that x (a counting rule's having or
// emit) reads: such a rule emits one event per completing event, not per
// match, so no match's events are at hand.
func (c *checker) countMisuse(pi *PatternInfo, x *Expr, what string) bool {
	bad := false
	for _, id := range identifiers(x) {
		if id.call || pi.byAlias[id.name] == nil {
			continue
		}
		c.errorf(id.pos, "%s reads the pattern alias %s, but a rule that emits count() emits one event per completing event, not per match: %s may read count(), the named partition keys and constants", what, id.name, what)
		bad = true
	}
	return bad
}

// onlyCount reports the aggregates of a counting rule's expression other
// than count(): count() is the one aggregate of pattern rules.
func (c *checker) onlyCount(x *Expr, comp *Compiled) bool {
	ok := true
	for _, a := range comp.Program.Aggregates() {
		if a.Func == "count" && a.Arg == nil {
			continue
		}
		name := a.Func
		if a.Func == "count" {
			name = "count(x)"
		}
		c.errorf(x.MapPos(a.Line, a.Col), "aggregate %s is not available in a pattern rule; count() (no argument) is the number of matches that complete at an event", name)
		ok = false
	}
	return ok
}
