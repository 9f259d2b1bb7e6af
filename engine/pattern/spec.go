package pattern

import (
	"errors"
	"fmt"
	"time"

	"github.com/cepengine/cep/engine/eval"
)

// Sentinel errors. Every error the package returns wraps one of them.
var (
	// ErrInvalid marks a description that breaks a rule of the language
	// (the checker in lang should have caught it; the matcher re-checks).
	ErrInvalid = errors.New("pattern: invalid description")
	// ErrUnsupported marks a construct the matcher does not run yet.
	ErrUnsupported = errors.New("pattern: not supported yet")
	// ErrOverflow reports that partial matches were dropped because a
	// partition reached Config.MaxPartials.
	ErrOverflow = errors.New("pattern: too many partial matches")
)

// Edge is the contiguity between two neighbouring steps of a sequence.
type Edge uint8

// The edges (docs/language.md, Edges).
const (
	Strict  Edge = iota // juxtaposition: the very next event
	Relaxed             // ->: the first later event the element accepts
	Any                 // ->>: every later event the element accepts
)

// LoopKind is a loop modifier: how the iterations of a loop are joined.
type LoopKind uint8

// The loop modifiers.
const (
	LoopDefault     LoopKind = iota // the edge into the element (strict for the first element)
	LoopConsecutive                 // consecutive
	LoopRelaxed                     // relaxed
	LoopAny                         // any
)

// Mode is a quantifier's suffix.
type Mode uint8

// The modes.
const (
	Branching Mode = iota // no suffix: every loop length
	Greedy                // !: the longest loop
	Reluctant             // ?: the shortest loop
)

// SkipKind is the after-match skip strategy.
type SkipKind uint8

// The skip strategies (docs/language.md, skip).
const (
	SkipPastLast SkipKind = iota
	SkipNone
	SkipToNext
	SkipToFirst
	SkipToLast
)

// Element is one element of a pattern: [alias:]Type[(Cond)] with its
// quantifier, or a negated element (not Type(Cond)).
type Element struct {
	Name string // for messages (the alias or the type name)
	Type int32  // event.Schema.ID of the element's type
	// Cond and Until are bool programs over the frame described in lang's
	// RuleInfo: Current is the candidate, Prev the previous event of the
	// same type in the partition, Bound/Lists the aliases bound so far
	// (the element's own single alias is the candidate). Nil Cond: any
	// event of Type.
	Cond, Until *eval.Program
	// Local promises that Cond and Until read only the candidate and
	// prev, no alias: the matcher then does not build bindings for them,
	// and Config.CountOnly may merge partial matches.
	Local   bool
	Negated bool
	// Min and Max are the quantifier's bounds; Max -1 is unbounded. A
	// plain element is 1, 1.
	Min, Max   int
	Quantified bool // it has a quantifier (even {1}): it is a loop
	Mode       Mode
	Loop       LoopKind
	// Slot is the alias's slot in Frame.Bound (List false) or Frame.Lists
	// (List true); -1 when the element binds no name.
	Slot int
	List bool
}

// NodeKind tells the nodes of a pattern tree apart.
type NodeKind uint8

// The node kinds.
const (
	NodeElement     NodeKind = iota // one element (Element indexes Spec.Elements)
	NodeSequence                    // Children joined by their Edge
	NodeAlternation                 // one of Children, the first preferred
	NodeAll                         // all Children in any order, &; the written order preferred
)

// Node is a pattern tree: the shape of lang's Pattern (alternation,
// sequence, term, factor) reduced to what the matcher needs.
type Node struct {
	Kind NodeKind
	// Edge is the edge that leads into this node from the previous child
	// of its sequence; ignored for a first child.
	Edge     Edge
	Element  int
	Children []Node
	// A quantified group (a sequence or alternation; an & is wrapped in a
	// one-child sequence to be quantified) repeats Children.
	Quantified bool
	Min, Max   int
	Mode       Mode
	Loop       LoopKind
}

// Spec describes a pattern rule's matching part. It is a plain value:
// build it by hand or from a checked rule, then Compile it.
type Spec struct {
	Elements   []Element
	Root       Node
	Within     time.Duration // 0: none
	WithinGap  bool
	Skip       SkipKind
	SkipTarget int           // element index for SkipToFirst / SkipToLast
	Having     *eval.Program // nil: none; frame as emit's (bindings as matched, Vars = key)
	Bound      int           // len(Frame.Bound)
	Lists      int           // len(Frame.Lists)
	// Timeout asks for timed-out partial matches (Config.Timeout): it
	// needs Within.
	Timeout bool
	// CountOnly asks for the number of matches completed at each event
	// instead of the matches (Match.Count; countonly.go). Set it only when
	// nothing reads a match's bindings: no having, and an emit that reads
	// no alias (Frame.Vars, the key, is still set). It holds for a flat
	// tree with skip none, no having, no timeout, no within gap, no not,
	// no until, branching loops only, and every condition Local; Validate
	// rejects anything else (ErrInvalid for having, ErrUnsupported for the
	// rest). Partial matches with the same future are merged, and
	// (countonly_affine.go) those of one first-take event are one vector
	// over the automaton's states, aggregated as a sliding window of
	// affine maps: an event costs O(1) amortized, not O(matches) nor
	// O(window).
	CountOnly bool
}

const (
	maxGuards = 4 // consecutive not elements between two takes
	maxGrows  = 4 // greedy loops that may end a match without a take after them
)

// Validate reports the first problem of s: an ErrInvalid for a broken
// description, an ErrUnsupported for a construct the matcher cannot run
// yet. A flat tree (one element, or one sequence of elements) runs on the
// step automaton: every edge, quantifiers with all three modes, loop
// modifiers, until, not between elements and trailing, within and within
// gap, and the five skip strategies. Any other tree (groups, quantified
// groups, alternation |, &) runs on the general path (general.go) with
// the same semantics, slower; it returns no ErrUnsupported.
func (s *Spec) Validate() error {
	if s.Timeout && s.Within <= 0 {
		return fmt.Errorf("%w: timeout handling without within", ErrInvalid)
	}
	if s.CountOnly {
		if err := s.validateCountOnly(); err != nil {
			return err
		}
	}
	if !s.flat() {
		if err := s.validateNode(&s.Root); err != nil {
			return err
		}
		return s.validateCommon()
	}
	steps, err := s.flatten()
	if err != nil {
		return err
	}
	if len(steps) == 0 {
		return fmt.Errorf("%w: empty pattern", ErrInvalid)
	}
	need := false
	nots, grows := 0, 0
	for i, st := range steps {
		el := &s.Elements[st]
		if el.Negated {
			if i == 0 {
				return fmt.Errorf("%w: the pattern begins with not %s", ErrInvalid, el.Name)
			}
			if el.Quantified {
				return fmt.Errorf("%w: not %s has a quantifier", ErrInvalid, el.Name)
			}
			nots++
			if nots > maxGuards {
				return fmt.Errorf("%w: more than %d not elements in a row", ErrUnsupported, maxGuards)
			}
			if i == len(steps)-1 && s.Root.stepEdge(i) != Strict && s.Within <= 0 {
				return fmt.Errorf("%w: a pattern ending in -> not %s needs within", ErrInvalid, el.Name)
			}
			continue
		}
		nots = 0
		lo, hi := 1, 1
		if el.Quantified {
			lo, hi = el.Min, el.Max
			if lo < 0 || hi == 0 || hi > 0 && hi < lo {
				return fmt.Errorf("%w: element %s has bounds {%d,%d}", ErrInvalid, el.Name, lo, hi)
			}
			if el.Mode == Greedy {
				grows++
			}
		} else if el.Mode != Branching || el.Loop != LoopDefault || el.Until != nil {
			return fmt.Errorf("%w: element %s has a mode, loop modifier or until without a quantifier", ErrInvalid, el.Name)
		}
		if lo > 0 {
			need = true
		}
	}
	if grows > maxGrows {
		return fmt.Errorf("%w: more than %d greedy loops", ErrUnsupported, maxGrows)
	}
	if !need {
		return fmt.Errorf("%w: the pattern can match no event", ErrInvalid)
	}
	return s.validateCommon()
}

// validateCommon checks what does not depend on the tree's shape.
func (s *Spec) validateCommon() error {
	if s.Skip == SkipToFirst || s.Skip == SkipToLast {
		if s.SkipTarget < 0 || s.SkipTarget >= len(s.Elements) || s.Elements[s.SkipTarget].Negated {
			return fmt.Errorf("%w: skip target %d is not an element that binds events", ErrInvalid, s.SkipTarget)
		}
	}
	for i, el := range s.Elements {
		if el.Slot >= 0 && (el.List && el.Slot >= s.Lists || !el.List && el.Slot >= s.Bound) {
			return fmt.Errorf("%w: element %d (%s) has slot %d beyond the frame", ErrInvalid, i, el.Name, el.Slot)
		}
	}
	if s.Within < 0 {
		return fmt.Errorf("%w: negative within", ErrInvalid)
	}
	return nil
}

// flat reports whether the tree is a single element or one sequence of
// elements: the shape the step automaton runs. Other trees take the
// general path (general.go).
func (s *Spec) flat() bool {
	r := &s.Root
	switch r.Kind {
	case NodeElement:
		return true
	case NodeSequence:
		if r.Quantified {
			return false
		}
		for i := range r.Children {
			if r.Children[i].Kind != NodeElement {
				return false
			}
		}
		return true
	}
	return false
}

// validateNode checks a tree of the general path.
func (s *Spec) validateNode(n *Node) error {
	if n.Edge > Any {
		return fmt.Errorf("%w: edge %d", ErrInvalid, n.Edge)
	}
	switch n.Kind {
	case NodeElement:
		if n.Element < 0 || n.Element >= len(s.Elements) {
			return fmt.Errorf("%w: element index %d out of range", ErrInvalid, n.Element)
		}
		if n.Quantified {
			return fmt.Errorf("%w: element node %d carries a group quantifier", ErrInvalid, n.Element)
		}
		el := &s.Elements[n.Element]
		switch {
		case el.Negated && el.Quantified:
			return fmt.Errorf("%w: not %s has a quantifier", ErrInvalid, el.Name)
		case el.Quantified:
			if el.Min < 0 || el.Max == 0 || el.Max > 0 && el.Max < el.Min {
				return fmt.Errorf("%w: element %s has bounds {%d,%d}", ErrInvalid, el.Name, el.Min, el.Max)
			}
		case el.Mode != Branching || el.Loop != LoopDefault || el.Until != nil:
			return fmt.Errorf("%w: element %s has a mode, loop modifier or until without a quantifier", ErrInvalid, el.Name)
		}
		return nil
	case NodeSequence, NodeAlternation, NodeAll:
	default:
		return fmt.Errorf("%w: node kind %d", ErrInvalid, n.Kind)
	}
	if len(n.Children) == 0 {
		return fmt.Errorf("%w: empty group", ErrInvalid)
	}
	if n.Quantified {
		if n.Kind == NodeAll {
			return fmt.Errorf("%w: a quantified & (wrap it in a group)", ErrInvalid)
		}
		if n.Min < 0 || n.Max == 0 || n.Max > 0 && n.Max < n.Min {
			return fmt.Errorf("%w: group with bounds {%d,%d}", ErrInvalid, n.Min, n.Max)
		}
	} else if n.Mode != Branching || n.Loop != LoopDefault {
		return fmt.Errorf("%w: group with a mode or loop modifier without a quantifier", ErrInvalid)
	}
	for i := range n.Children {
		c := &n.Children[i]
		if n.Kind == NodeAll && c.Kind == NodeElement && c.Element >= 0 && c.Element < len(s.Elements) && s.Elements[c.Element].Negated {
			return fmt.Errorf("%w: not %s is a part of &", ErrInvalid, s.Elements[c.Element].Name)
		}
		if err := s.validateNode(c); err != nil {
			return err
		}
	}
	return nil
}

// flatten returns the element indexes of a flat tree in order.
func (s *Spec) flatten() ([]int, error) {
	r := &s.Root
	switch r.Kind {
	case NodeElement:
		if r.Element < 0 || r.Element >= len(s.Elements) {
			return nil, fmt.Errorf("%w: element index %d out of range", ErrInvalid, r.Element)
		}
		return []int{r.Element}, nil
	case NodeSequence:
		if r.Quantified {
			return nil, fmt.Errorf("%w: quantified groups", ErrUnsupported)
		}
		out := make([]int, 0, len(r.Children))
		for i := range r.Children {
			c := &r.Children[i]
			switch {
			case c.Kind == NodeAlternation:
				return nil, fmt.Errorf("%w: alternation |", ErrUnsupported)
			case c.Kind == NodeAll:
				return nil, fmt.Errorf("%w: & (all in any order)", ErrUnsupported)
			case c.Kind != NodeElement:
				return nil, fmt.Errorf("%w: groups", ErrUnsupported)
			case c.Element < 0 || c.Element >= len(s.Elements):
				return nil, fmt.Errorf("%w: element index %d out of range", ErrInvalid, c.Element)
			case c.Edge > Any:
				return nil, fmt.Errorf("%w: edge %d", ErrInvalid, c.Edge)
			}
			out = append(out, c.Element)
		}
		return out, nil
	case NodeAlternation:
		return nil, fmt.Errorf("%w: alternation |", ErrUnsupported)
	case NodeAll:
		return nil, fmt.Errorf("%w: & (all in any order)", ErrUnsupported)
	}
	return nil, fmt.Errorf("%w: node kind %d", ErrInvalid, r.Kind)
}

// stepEdge is the edge into step i of a flat root.
func (n *Node) stepEdge(i int) Edge {
	if n.Kind == NodeSequence {
		return n.Children[i].Edge
	}
	return Strict
}
