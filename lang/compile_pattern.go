package lang

import (
	"github.com/cepengine/cep/engine"
	"github.com/cepengine/cep/engine/pattern"
)

// compileMatch compiles a pattern rule: its pattern (an engine/pattern
// Spec with the checked element conditions), its aliases, partition keys
// per type, having, emit and on timeout emit. A rule that counts its
// matches (RuleInfo.Counts) runs in engine/pattern's count-only mode.
func compileMatch(b *engine.Builder, ri *RuleInfo) {
	r := b.Rule(ri.Name).At(enginePos(ri.Decl.Pos))
	spec := PatternSpec(ri)
	pm := engine.PatternMatch{Spec: spec, CountOnly: ri.Counts}
	for _, el := range ri.Pattern.Elements {
		pm.Types = append(pm.Types, el.Type.Name)
	}
	for _, a := range ri.Pattern.Aliases {
		pm.Aliases = append(pm.Aliases, engine.PatternAlias{Name: a.Name, Type: a.Type.Name, Slot: a.Slot, List: a.List})
	}
	for _, k := range ri.Partition {
		pk := engine.PatternKey{Name: k.Name, Exprs: map[string]string{}}
		for i, t := range ri.Reads {
			if x := k.Exprs[i]; x != nil {
				pk.Exprs[t.Name] = x.Expr.Text
				if !pk.Pos.IsValid() {
					pk.Pos = enginePos(x.Expr.Pos)
				}
			}
		}
		pm.Keys = append(pm.Keys, pk)
	}
	r.Match(pm).At(enginePos(ri.Decl.Match().Pos))
	if ri.Having != nil {
		r.Having(ri.Having.Expr.Text).At(enginePos(ri.Having.Expr.Pos))
	}
	r.Emit(ri.Emit.Type.Name, emitFields(ri.Emit)...).At(enginePos(ri.Emit.Clause.Pos))
	if t := ri.Timeout; t != nil {
		r.OnTimeoutEmit(t.Type.Name, emitFields(t)...).At(enginePos(ri.Decl.Timeout().Pos))
	}
}

// PatternSpec converts a checked pattern rule into engine/pattern's
// description: elements in source order with their compiled conditions,
// the pattern tree, within, skip, and CountOnly for a rule that counts its
// matches. An element whose condition and until read no alias other than
// its own single one is Local. Element.Type holds the schema ids of the
// program's registry. Having is left nil: the engine compiles it over the
// match (engine.Rule.Having); the checker's program is RuleInfo.Having.
func PatternSpec(ri *RuleInfo) *pattern.Spec {
	pi := ri.Pattern
	s := &pattern.Spec{Within: ri.Within, WithinGap: ri.WithinGap, Bound: pi.Bound, Lists: pi.Lists, SkipTarget: -1, CountOnly: ri.Counts}
	for _, el := range pi.Elements {
		e := pattern.Element{Name: el.Elem.Type.Name, Type: el.Type.Schema.ID, Negated: el.Negated, Min: 1, Max: 1, Slot: -1}
		e.Local = true
		if el.Cond != nil {
			e.Cond = el.Cond.Program
			_, _, reads := readsAlias(pi, el, el.Cond.Expr)
			e.Local = !reads
		}
		if el.Until != nil {
			e.Until = el.Until.Program
			if _, _, reads := readsAlias(pi, el, el.Until.Expr); reads {
				e.Local = false
			}
		}
		if a := el.Alias; a != nil {
			e.Slot, e.List = a.Slot, a.List
		}
		s.Elements = append(s.Elements, e)
	}
	s.Root = specPattern(pi, s, pi.Pattern)
	switch ri.Skip.Kind {
	case SkipPastLast:
		s.Skip = pattern.SkipPastLast
	case SkipNone:
		s.Skip = pattern.SkipNone
	case SkipToNext:
		s.Skip = pattern.SkipToNext
	case SkipToFirst:
		s.Skip, s.SkipTarget = pattern.SkipToFirst, ri.Skip.Target.Element.Index
	case SkipToLast:
		s.Skip, s.SkipTarget = pattern.SkipToLast, ri.Skip.Target.Element.Index
	}
	return s
}

func specPattern(pi *PatternInfo, s *pattern.Spec, p *Pattern) pattern.Node {
	if len(p.Alts) > 1 {
		n := pattern.Node{Kind: pattern.NodeAlternation}
		for _, seq := range p.Alts {
			n.Children = append(n.Children, specSequence(pi, s, seq))
		}
		return n
	}
	return specSequence(pi, s, p.Alts[0])
}

func specSequence(pi *PatternInfo, s *pattern.Spec, seq *Sequence) pattern.Node {
	n := pattern.Node{Kind: pattern.NodeSequence}
	for _, st := range seq.Steps {
		var c pattern.Node
		if len(st.Term.Factors) > 1 {
			c.Kind = pattern.NodeAll
			for _, f := range st.Term.Factors {
				c.Children = append(c.Children, specFactor(pi, s, f))
			}
		} else {
			c = specFactor(pi, s, st.Term.Factors[0])
		}
		switch st.Edge {
		case Relaxed:
			c.Edge = pattern.Relaxed
		case AnyEdge:
			c.Edge = pattern.Any
		}
		n.Children = append(n.Children, c)
	}
	return n
}

var loopKinds = map[string]pattern.LoopKind{"": pattern.LoopDefault, "consecutive": pattern.LoopConsecutive,
	"relaxed": pattern.LoopRelaxed, "any": pattern.LoopAny}

func specFactor(pi *PatternInfo, s *pattern.Spec, f *Factor) pattern.Node {
	on := f.Quant != nil
	var lo, hi int
	mode, loop := pattern.Branching, pattern.LoopDefault
	if on {
		lo, hi = f.Quant.Bounds()
		switch {
		case f.Quant.Greedy():
			mode = pattern.Greedy
		case f.Quant.Reluctant():
			mode = pattern.Reluctant
		}
		loop = loopKinds[f.Quant.Loop]
	}
	if f.Group != nil {
		g := specPattern(pi, s, f.Group)
		if g.Kind == pattern.NodeSequence && len(g.Children) == 1 && !on {
			return g.Children[0]
		}
		if on {
			g.Quantified, g.Min, g.Max, g.Mode, g.Loop = true, lo, hi, mode, loop
		}
		return g
	}
	el := pi.Element(f.Elem)
	if on {
		e := &s.Elements[el.Index]
		e.Quantified, e.Min, e.Max, e.Mode, e.Loop = true, lo, hi, mode, loop
	}
	return pattern.Node{Kind: pattern.NodeElement, Element: el.Index}
}
