package engine

import (
	"errors"

	"github.com/cepengine/cep/engine/pattern"
)

// The builder clauses of pattern rules. A pattern rule is
//
//	b.Rule("brute_force").Match(engine.PatternMatch{Spec: spec,
//		Types:   []string{"Login", "Login"},
//		Aliases: []engine.PatternAlias{{Name: "f", Type: "Login", Slot: 0, List: true}}}).
//		PartitionBy("user").
//		Having("len(f) >= 3").
//		Emit("Alert", engine.Field{Name: "user"}, engine.Field{Name: "n", Expr: "len(f)"})
//
// A rule that needs only how many matches complete at each event sets
// PatternMatch.CountOnly and reads count():
//
//	b.Rule("w6").Match(engine.PatternMatch{Spec: spec, Types: types, CountOnly: true}).
//		Emit("Matches", engine.Field{Name: "n", Expr: "count()"})
//
// Clauses come in that order: Match (first, in place of From), PartitionBy
// (any number of calls) or the per-type keys of PatternMatch.Keys, Having,
// Emit, OnTimeoutEmit. The pattern itself is an engine/pattern Spec: its
// element conditions are compiled programs (lang compiles them from the
// rule language); Having and the emitted fields are expression texts,
// compiled here over the match: the aliases (single events and lists, as
// the Spec's slots say), the named partition keys and the constants.

// ErrUnsupported marks a rule the engine cannot run yet.
var ErrUnsupported = errors.New("engine: not supported yet")

// PatternMatch describes what a pattern rule matches.
type PatternMatch struct {
	// Spec is the pattern. Its elements' Type ids are ignored: Types names
	// each element's event type, and Build resolves the names. Build does
	// not modify Spec; it compiles a copy (with Having set).
	Spec *pattern.Spec
	// Types holds the event type of each element of Spec.Elements.
	Types []string
	// Aliases are the names Having and Emit see: each an event of Type in
	// Frame.Bound[Slot], or (List) a list of them in Frame.Lists[Slot].
	Aliases []PatternAlias
	// Keys are partition keys given per type, for patterns whose types
	// name the key differently; PartitionBy adds keys that every type
	// computes with the same expression.
	Keys []PatternKey
	// CountOnly makes the rule count its matches instead of enumerating
	// them: it emits one derived event per input event that completes
	// matches (per key), and Having and Emit read count(), the number of
	// matches completed at that event (an int; the matcher's count
	// saturates at 2^64-1, count() at 2^63-1), beside the named partition
	// keys and the constants; they see no alias, and count() is their one
	// aggregate. The pattern must fit engine/pattern's Spec.CountOnly
	// (setting Spec.CountOnly has the same effect): a flat pattern with
	// skip none, no not, until, within gap, greedy or reluctant loop, and
	// Local conditions; and the rule has no OnTimeoutEmit. Time per event
	// then follows the live partial matches, not the matches.
	CountOnly bool

	// pattern is a fluent pattern (Rule.Pattern): Build compiles it
	// against the types as it resolves them into Spec, Types and Aliases.
	pattern *Pattern
}

// PatternAlias is a name a pattern binds.
type PatternAlias struct {
	Name string
	Type string
	Slot int
	List bool
}

// PatternKey is one partition key of a pattern rule: its name in Having
// and Emit ("" when it has none) and its expression over each type the
// pattern reads (type name to expression; every read type needs one).
type PatternKey struct {
	Name  string
	Exprs map[string]string
	Pos   Pos
}

// Match makes the rule a pattern rule. It replaces From: the rule reads
// every type its pattern's elements name, and its partial matches are kept
// per partition key.
func (r *Rule) Match(m PatternMatch) *Rule {
	cp := m
	cp.Types = append([]string(nil), m.Types...)
	cp.Aliases = append([]PatternAlias(nil), m.Aliases...)
	cp.Keys = append([]PatternKey(nil), m.Keys...)
	return r.add(clause{kind: clauseMatch, match: &cp})
}

// Pattern makes the rule a pattern rule that matches p, a fluent pattern
// (Begin, pattern_api.go): Match, with p compiled by Build against the
// event types as Build resolves them (declared, or emitted by other
// rules), so that p's mistakes are reported by Build with the rule's
// others. Build reads p then; the element types it names are taken now.
func (r *Rule) Pattern(p *Pattern) *Rule {
	if p == nil {
		return r.add(clause{kind: clauseMatch, match: &PatternMatch{}}) // Build: match without a pattern spec
	}
	m := &PatternMatch{pattern: p, Spec: &pattern.Spec{}}
	p.eachElem(func(f *patFactor) {
		m.Types = append(m.Types, f.typ)
		m.Spec.Elements = append(m.Spec.Elements, pattern.Element{})
	})
	return r.add(clause{kind: clauseMatch, match: m})
}

// OnTimeoutEmit declares what a pattern rule emits for a partial match that
// runs out of its within: a derived event of typeName, its fields computed
// over the timed-out partial match (the aliases taken so far; the others
// nil, lists as far as they got), stamped with the expiry time (first +
// within; last + gap with within gap), delivered and chained like a match.
// It needs within. Which partial matches time out: engine/pattern's
// Config.Timeout.
func (r *Rule) OnTimeoutEmit(typeName string, fields ...Field) *Rule {
	return r.add(clause{kind: clauseTimeout, name: typeName, fields: append([]Field(nil), fields...)})
}
