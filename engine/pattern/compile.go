package pattern

import (
	"fmt"
	"strings"

	"github.com/cepengine/cep/engine/eval"
)

// edgeKind is the contiguity that decides which event the next take of a
// partial match may be.
type edgeKind uint8

const (
	edgeStart   edgeKind = iota // the first take: exactly the start event
	edgeStrict                  // the very next event of the partition
	edgeRelaxed                 // the first later event the element accepts
	edgeAny                     // any later event the element accepts
)

func edgeKindOf(e Edge) edgeKind {
	switch e {
	case Relaxed:
		return edgeRelaxed
	case Any:
		return edgeAny
	}
	return edgeStrict
}

// cstep is one compiled step of the sequence: an element, a loop, or a
// not guard. The steps form the automaton's states: a partial match waits
// at a step (for an iteration count when it loops) under an edge kind.
type cstep struct {
	el       *Element
	elem     int // index in Spec.Elements
	edge     edgeKind
	not      bool
	loop     bool
	lo, hi   int
	mod      bool     // a loop modifier sets the iteration edge
	iterEdge edgeKind // with mod
	greedy   bool
	reluct   bool
}

// Pattern is a compiled, immutable Spec. It may be shared by any number
// of Matchers (one per partition).
type Pattern struct {
	spec   Spec
	steps  []cstep
	levels []int // steps of greedy and reluctant loops, last first
	within int64
	// types maps event type ids to dense indexes (-1: not read).
	types []int16
	ntype int
	// general: the tree is not flat; matchers take the general path.
	general bool
	// aff is the count-only transition table (countonly_affine.go), nil
	// without CountOnly or for a pattern too large for it.
	aff *affine
	// readsPrev: some condition may read prev, so matchers keep the
	// previous event of each type. Decided on the source text: a program
	// that does not mention prev cannot read it.
	readsPrev bool
	// simple is the plan of the simple path (simple.go), nil when the
	// pattern does not have its shape.
	simple *simplePlan
}

// Compile validates s and compiles it.
func Compile(s *Spec) (*Pattern, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	p := &Pattern{spec: *s, within: int64(s.Within), general: !s.flat()}
	p.spec.Elements = append([]Element(nil), s.Elements...)
	var order []int
	if !p.general {
		order, _ = s.flatten()
	}
	for i, ei := range order {
		el := &p.spec.Elements[ei]
		st := cstep{el: el, elem: ei, edge: edgeKindOf(s.Root.stepEdge(i)), not: el.Negated}
		if el.Quantified {
			st.loop = true
			st.lo, st.hi = el.Min, el.Max
			st.greedy = el.Mode == Greedy
			st.reluct = el.Mode == Reluctant
			switch el.Loop {
			case LoopConsecutive:
				st.mod, st.iterEdge = true, edgeStrict
			case LoopRelaxed:
				st.mod, st.iterEdge = true, edgeRelaxed
			case LoopAny:
				st.mod, st.iterEdge = true, edgeAny
			}
		}
		p.steps = append(p.steps, st)
	}
	if !p.general {
		p.simple = planSimple(p)
	}
	for k := len(p.steps) - 1; k >= 0; k-- {
		if p.steps[k].greedy || p.steps[k].reluct {
			p.levels = append(p.levels, k)
		}
	}
	for _, el := range p.spec.Elements {
		for _, prog := range []*eval.Program{el.Cond, el.Until} {
			if prog != nil && strings.Contains(prog.Source(), "prev") {
				p.readsPrev = true
			}
		}
		if el.Type < 0 {
			return nil, fmt.Errorf("%w: element %s has type id %d", ErrInvalid, el.Name, el.Type)
		}
		for int(el.Type) >= len(p.types) {
			p.types = append(p.types, -1)
		}
		if p.types[el.Type] < 0 {
			p.types[el.Type] = int16(p.ntype)
			p.ntype++
		}
	}
	if s.CountOnly {
		p.aff = buildAffine(p)
	}
	return p, nil
}

// Reads reports whether the pattern reads events of type id t: events of
// other types are not part of its stream and must not be passed to
// Process (they would break strict contiguity).
func (p *Pattern) Reads(t int32) bool {
	return t >= 0 && int(t) < len(p.types) && p.types[t] >= 0
}

// Spec returns the description the pattern was compiled from.
func (p *Pattern) Spec() *Spec { return &p.spec }
