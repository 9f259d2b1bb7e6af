package lang

import (
	"slices"

	"github.com/cepengine/cep/engine/eval"
	"github.com/cepengine/cep/engine/event"
)

// Pattern scoping, as the checker defines it:
//
//   - Inside an element's condition, bare names are the candidate event's
//     fields; aliases of earlier elements are in scope (single events, or
//     lists when the element repeats); the element's own alias is in scope
//     too (the candidate itself, or for a repeating element the iterations
//     accepted so far); prev is in scope.
//   - "Earlier" follows the sequence: each alternative of a|b starts from
//     the scope before the alternation, and after it the aliases of every
//     alternative are in scope (those of the branch not taken are nil). The
//     factors of a&b do not see each other (their order is not known).
//   - An alias inside a repeating group binds a list, wherever it is read.
//   - prev is the previous event of the same type in the same partition,
//     so it has the element's schema (with one type this is SQL's PREV).
//     Where there is none prev is nil and a comparison with it is false. A
//     type with a field named prev keeps its field: prev is not added.
//   - An element without an alias is bound under its type name when it is
//     the only unaliased element of that type and no alias or field takes
//     the name (an implicit alias): match Login -> Purchase(user == Login.user).
//   - A not element binds nothing: it may not have an alias.

type patternChecker struct {
	c       *checker
	ri      *RuleInfo
	pi      *PatternInfo
	factors map[*ElementInfo]*Factor
}

// checkPattern checks a match clause: structure, aliases, conditions, skip.
func (c *checker) checkPattern(ri *RuleInfo) {
	m := ri.Decl.Match()
	if m == nil || m.Pattern == nil {
		return
	}
	pi := &PatternInfo{Pattern: m.Pattern, byElem: map[*Element]*ElementInfo{}, byAlias: map[string]*AliasInfo{}}
	ri.Pattern = pi
	pc := &patternChecker{c: c, ri: ri, pi: pi, factors: map[*ElementInfo]*Factor{}}
	pc.structure(m.Pattern, false)
	pc.ends(m.Pattern)
	pc.aliases()
	for _, t := range ri.Reads {
		if c.schema(t) == nil {
			pi.incomplete = true
		}
	}
	if !pi.incomplete {
		pc.scopePattern(m.Pattern, nil)
	}
	pc.skip()
}

// structure checks edges, negation, quantifiers and groups, and collects
// the elements in source order.
func (pc *patternChecker) structure(p *Pattern, repeated bool) {
	for _, seq := range p.Alts {
		for i, st := range seq.Steps {
			if i == 0 && st.Edge != Strict {
				pc.c.errorf(st.Pos, "a pattern cannot start with the edge %s; an edge goes between two elements", st.Edge)
			}
			if st.Term == nil {
				continue
			}
			if len(st.Term.Factors) > 1 {
				for _, f := range st.Term.Factors {
					if f.Not {
						pc.c.errorf(f.Pos, "not cannot be combined with &; & needs events that occur")
					}
				}
			}
			for _, f := range st.Term.Factors {
				pc.factor(f, repeated)
			}
		}
	}
}

func (pc *patternChecker) factor(f *Factor, repeated bool) {
	c := pc.c
	rep := repeated
	if q := f.Quant; q != nil {
		lo, hi := q.Bounds()
		text := quantText(q)
		switch {
		case f.Not:
			c.errorf(q.Pos, "not cannot take a quantifier; not B already means no B at all")
		case hi >= 0 && hi < lo:
			c.errorf(q.Pos, "quantifier %s: the maximum %d is less than the minimum %d", text, hi, lo)
		case hi == 0:
			c.errorf(q.Pos, "quantifier %s matches nothing; the maximum must be at least 1", text)
		case hi == 1 && q.Loop != "":
			c.errorf(q.Pos, "loop modifier %s needs a quantifier that repeats (+, *, {n,} or {n,m} with m > 1), found %s", q.Loop, text)
		case hi == 1 && q.Until != nil:
			c.errorf(q.Until.Pos, "until needs a quantifier that repeats (+, *, {n,} or {n,m} with m > 1), found %s", text)
		}
		if q.Until != nil && f.Group != nil {
			c.errorf(q.Until.Pos, "until applies to an element, not a group; put it on the element whose loop it ends")
		}
		if hi < 0 || hi > 1 {
			rep = true
		}
	}
	if f.Not && f.Group != nil {
		c.errorf(f.Pos, "not applies to one element, not a group")
	}
	switch {
	case f.Group != nil:
		pc.structure(f.Group, rep)
	case f.Elem != nil:
		el := &ElementInfo{Elem: f.Elem, Index: len(pc.pi.Elements), Type: c.types[f.Elem.Type.Name], Negated: f.Not, Repeated: rep}
		pc.pi.Elements = append(pc.pi.Elements, el)
		pc.pi.byElem[f.Elem] = el
		pc.factors[el] = f
	}
}

func quantText(q *Quantifier) string {
	if q.Op != "" {
		return q.Op
	}
	lo := ""
	if q.Min != nil {
		lo = q.Min.Text
	}
	switch {
	case !q.Comma:
		return "{" + lo + "}"
	case q.Max == nil:
		return "{" + lo + ",}"
	}
	return "{" + lo + "," + q.Max.Text + "}"
}

// ends checks the first and last elements a match can have: a pattern
// cannot start with not, a trailing not needs within, and a pattern must
// need at least one event.
func (pc *patternChecker) ends(p *Pattern) {
	c := pc.c
	startNot := map[*Factor]bool{}
	for _, f := range edgeFactors(p, true) {
		if f.Not {
			c.errorf(f.Pos, "a pattern cannot start with not; absence is measured from an earlier event, so put an element first")
			startNot[f] = true
		}
	}
	if len(startNot) == 0 && nullable(p) {
		c.errorf(p.Pos, "the pattern can match no events at all; at least one element must be required (not ?, * or {0,n})")
	}
	if pc.ri.Decl.Within() == nil {
		strictNot := map[*Factor]bool{}
		collectStrictNots(p, strictNot)
		for _, f := range edgeFactors(p, false) {
			// A strict trailing not (Flink's notNext) is decided by the next
			// event, so it needs no within.
			if f.Not && !startNot[f] && !strictNot[f] {
				c.errorf(f.Pos, "a trailing not needs within: the absence is established when within expires")
			}
		}
	}
}

// collectStrictNots records the negated factors that a strict edge leads to.
func collectStrictNots(p *Pattern, out map[*Factor]bool) {
	for _, seq := range p.Alts {
		for i, st := range seq.Steps {
			if st.Term == nil {
				continue
			}
			for _, f := range st.Term.Factors {
				if f.Not && i > 0 && st.Edge == Strict {
					out[f] = true
				}
				if f.Group != nil {
					collectStrictNots(f.Group, out)
				}
			}
		}
	}
}

// nullable reports whether p can match the empty sequence.
func nullable(p *Pattern) bool {
	for _, seq := range p.Alts {
		if seqNullable(seq.Steps) {
			return true
		}
	}
	return false
}

func seqNullable(steps []*Step) bool {
	for _, st := range steps {
		if !termNullable(st.Term) {
			return false
		}
	}
	return true
}

func termNullable(t *Term) bool {
	if t == nil {
		return true
	}
	for _, f := range t.Factors {
		if !factorNullable(f) {
			return false
		}
	}
	return true
}

func factorNullable(f *Factor) bool {
	if f.Not {
		return true // matches no event of its own
	}
	if f.Quant != nil {
		if lo, _ := f.Quant.Bounds(); lo == 0 {
			return true
		}
	}
	if f.Group != nil {
		return nullable(f.Group)
	}
	return false
}

// edgeFactors returns the element factors (negated ones included) that can
// be the first (or last) of a match of p, looking through groups and past
// optional elements. A not factor is transparent for matching but is
// itself at the edge.
func edgeFactors(p *Pattern, first bool) []*Factor {
	var out []*Factor
	for _, seq := range p.Alts {
		steps := seq.Steps
		if !first {
			steps = slices.Clone(steps)
			slices.Reverse(steps)
		}
		for _, st := range steps {
			if st.Term == nil {
				continue
			}
			for _, f := range st.Term.Factors {
				if f.Group != nil {
					out = append(out, edgeFactors(f.Group, first)...)
				} else {
					out = append(out, f)
				}
			}
			if !termNullable(st.Term) || (len(st.Term.Factors) == 1 && st.Term.Factors[0].Not) {
				break
			}
		}
	}
	return out
}

// aliases checks explicit aliases, binds implicit ones and assigns slots.
func (pc *patternChecker) aliases() {
	c, pi, ri := pc.c, pc.pi, pc.ri
	unaliased := map[string]int{}
	for _, el := range pi.Elements {
		id := el.Elem.Alias
		if id == nil {
			if !el.Negated {
				unaliased[el.Elem.Type.Name]++
			}
			continue
		}
		name := id.Name
		switch {
		case el.Negated:
			c.errorf(id.Pos, "a not element binds nothing; drop the alias %q", name)
			continue
		case name == "prev":
			c.errorf(id.Pos, "alias \"prev\" is reserved: prev is the previous event of the partition")
			continue
		}
		if prev, dup := pi.byAlias[name]; dup {
			c.errorf(id.Pos, "alias %q is already used at %s", name, where(prev.Pos, id.Pos))
			continue
		}
		for _, t := range ri.Reads {
			if s := c.schema(t); s != nil {
				if _, ok := s.Slot(name); ok {
					c.errorf(id.Pos, "alias %q is also a field of %s; choose another alias (in a condition a bare name is a field)", name, t.Name)
					break
				}
			}
		}
		a := &AliasInfo{Name: name, Pos: id.Pos, Type: el.Type, List: el.Repeated, Element: el}
		el.Alias = a
		pi.byAlias[name] = a
	}
	for _, el := range pi.Elements {
		name := el.Elem.Type.Name
		if el.Elem.Alias != nil || el.Negated || unaliased[name] != 1 || pi.byAlias[name] != nil || c.isFieldOfAny(ri, name) {
			continue
		}
		a := &AliasInfo{Name: name, Pos: el.Elem.Type.Pos, Type: el.Type, List: el.Repeated, Implicit: true, Element: el}
		el.Alias = a
		pi.byAlias[name] = a
	}
	for _, el := range pi.Elements {
		a := el.Alias
		if a == nil {
			continue
		}
		if a.List {
			a.Slot = pi.Lists
			pi.Lists++
		} else {
			a.Slot = pi.Bound
			pi.Bound++
		}
		pi.Aliases = append(pi.Aliases, a)
	}
}

// scopePattern compiles conditions with the aliases in scope at each
// element; it returns the scope after p.
func (pc *patternChecker) scopePattern(p *Pattern, scope []*AliasInfo) []*AliasInfo {
	out := scope
	for _, seq := range p.Alts {
		s := scope
		for _, st := range seq.Steps {
			if st.Term != nil {
				s = pc.scopeTerm(st.Term, s)
			}
		}
		out = union(out, s)
	}
	return out
}

func (pc *patternChecker) scopeTerm(t *Term, scope []*AliasInfo) []*AliasInfo {
	out := scope
	for _, f := range t.Factors {
		out = union(out, pc.scopeFactor(f, scope))
	}
	return out
}

func (pc *patternChecker) scopeFactor(f *Factor, scope []*AliasInfo) []*AliasInfo {
	if f.Group != nil {
		return pc.scopePattern(f.Group, scope)
	}
	if f.Elem == nil {
		return scope
	}
	el := pc.pi.byElem[f.Elem]
	visible := append(slices.Clip(scope), el.Alias)
	if x := f.Elem.Cond; x != nil && !pc.c.aliasMisuse(pc.pi, x, visible, el.Type.Schema) {
		el.Cond = pc.c.compileCond(x, pc.elementEnv(el, scope), "the condition of "+f.Elem.Name())
	}
	if f.Quant != nil && f.Quant.Until != nil {
		if x := f.Quant.Until; !pc.c.aliasMisuse(pc.pi, x, visible, el.Type.Schema) {
			el.Until = pc.c.compileCond(x, pc.elementEnv(el, scope), "until")
		}
	}
	if el.Alias != nil {
		return append(slices.Clip(scope), el.Alias)
	}
	return scope
}

// elementEnv is the scope of an element's condition and until.
func (pc *patternChecker) elementEnv(el *ElementInfo, scope []*AliasInfo) *eval.Env {
	s := el.Type.Schema
	env := eval.NewEnv()
	env.Event(s)
	for _, a := range append(slices.Clip(scope), el.Alias) {
		if a == nil {
			continue
		}
		if _, isField := s.Slot(a.Name); isField {
			continue // an implicit alias never hides a field
		}
		if a.List {
			env.ListAlias(a.Name, a.Type.Schema, a.Slot)
		} else {
			env.Alias(a.Name, a.Type.Schema, a.Slot)
		}
	}
	if _, ok := s.Slot("prev"); !ok {
		env.Prev(s)
	}
	pc.c.addConsts(env)
	return env
}

func union(a, b []*AliasInfo) []*AliasInfo {
	out := slices.Clip(a)
	for _, x := range b {
		if !slices.Contains(out, x) {
			out = append(out, x)
		}
	}
	return out
}

// skip checks the skip clause: to first/last needs an element that binds
// that name and is not where the match begins.
func (pc *patternChecker) skip() {
	c, pi := pc.c, pc.pi
	sc := pc.ri.Decl.Skip()
	if sc == nil {
		return
	}
	switch sc.Kind {
	case "none":
		pc.ri.Skip.Kind = SkipNone
	case "next":
		pc.ri.Skip.Kind = SkipToNext
	case "past":
		pc.ri.Skip.Kind = SkipPastLast
	case "first", "last":
		pc.ri.Skip.Kind = SkipToFirst
		if sc.Kind == "last" {
			pc.ri.Skip.Kind = SkipToLast
		}
		if sc.Target == nil {
			return
		}
		name := sc.Target.Name
		a := pi.byAlias[name]
		if a == nil {
			var names []string
			ambiguous := false
			for _, el := range pi.Elements {
				if el.Alias != nil {
					names = append(names, el.Alias.Name)
				}
				if !el.Negated && el.Elem.Alias == nil && el.Elem.Type.Name == name {
					ambiguous = true
				}
			}
			if ambiguous {
				c.errorf(sc.Target.Pos, "skip to %s %s: several elements have type %s; give the one you mean an alias", sc.Kind, name, name)
			} else {
				c.errorf(sc.Target.Pos, "skip to %s %s: no element of the pattern is named %q%s", sc.Kind, name, name, didYouMean(name, names))
			}
			return
		}
		pc.ri.Skip.Target = a
		f := pc.factors[a.Element]
		if !slices.Contains(edgeFactors(pi.Pattern, true), f) {
			return
		}
		if sc.Kind == "first" || !a.List {
			c.errorf(sc.Target.Pos, "skip to %s %s: %s can be the first element of a match, so the next search would start where this one did; skip to a later element", sc.Kind, name, name)
		}
	}
}

// aliasMisuse reports, with better words than the type checker's, an alias
// read where it is not bound yet and a list alias read like one event
// (f.ip for a repeating f). visible nil means every alias is in scope; cur
// is the schema whose fields are bare names, if any.
func (c *checker) aliasMisuse(pi *PatternInfo, x *Expr, visible []*AliasInfo, cur *event.Schema) bool {
	bad := false
	for _, id := range identifiers(x) {
		if id.call {
			continue
		}
		if cur != nil {
			if _, ok := cur.Slot(id.name); ok {
				continue
			}
		}
		a := pi.byAlias[id.name]
		if a == nil {
			continue
		}
		if visible != nil && !slices.Contains(visible, a) {
			c.errorf(id.pos, "alias %q is not bound here: a condition sees only the elements before it and its own alias", id.name)
			bad = true
			continue
		}
		if a.List && id.field != "" {
			f := id.field
			c.errorf(id.pos, "%s is a list of %s events (its element repeats); write %s[0].%s, %s[-1].%s or map(%s, .%s)", a.Name, a.Type.Name, a.Name, f, a.Name, f, a.Name, f)
			bad = true
		}
	}
	return bad
}
