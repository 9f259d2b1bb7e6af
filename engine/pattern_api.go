package engine

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/cepengine/cep/engine/pattern"
)

// The fluent pattern API: Flink's Pattern API for Go. A Pattern is built
// step by step, and every construct of the rule language's match clause
// has a method:
//
//	pat := engine.Begin("f", "FraudWarning").Where("amount > 10").
//		FollowedBy("p", "PINChange").Where("p.amount > f.amount").
//		Within(10 * time.Minute)
//	pm, err := b.CompilePattern(pat)
//	b.Rule("w4").Match(pm).PartitionBy("acct").Emit("Alert", engine.Field{Name: "acct"})
//
// The language's spelling of each method:
//
//	Begin(a, T)            a:T                  first element
//	Next(b, T)             a b                  strict: the very next event
//	FollowedBy(b, T)       a -> b               relaxed: the first later b
//	FollowedByAny(b, T)    a ->> b              every later b
//	NotNext(T)             a not T              the next event is not a T
//	NotFollowedBy(T)       a -> not T -> c      no T in between (at the end: within)
//	NotFollowedByAny(T)    a ->> not T -> c     no T in between, after a ->> edge
//	Where(c) / OrWhere(c)  T(c)                 condition (and / or: Flink's where, or)
//	Optional()             ?                    (on times(n>=2): the group (b{n,m})?)
//	OneOrMore()            +                    (then Optional(): *)
//	ZeroOrMore()           *
//	Times(n)               {n}
//	TimesRange(n, m)       {n,m}
//	TimesOrMore(n)         {n,}
//	Greedy() / Reluctant() ! / ?                suffix of the quantifier
//	Consecutive() / Relaxed() / AllowCombinations()  loop modifier consecutive / relaxed / any
//	Until(c)               until(c)
//	BeginGroup(p), NextGroup(p), FollowedByGroup(p), FollowedByAnyGroup(p)   ( p ), quantifiable
//	Or(p, q, ...)          p | q
//	AllOf(p, q, ...)       p & q                all, in any order
//	Within(d) / WithinGap(d)   within d / within gap d
//	Skip(NoSkip() | SkipToNext() | SkipPastLastEvent() | SkipToFirst(a) | SkipToLast(a))
//	KeyBy(PatternKey{...})     partition by Login.user, Payment.account
//
// The semantics are the language's (docs/language.md, Patterns): a
// pattern written either way compiles to the same engine/pattern Spec and
// runs the same (lang/scripttest's TestPatternAPI tests hold every pattern
// rule of the test scripts, and generated ones, to that).
//
// Conditions are expr-lang expressions, as in the language: bare names are
// the candidate event's fields; the aliases of earlier elements are in
// scope (an event, or a list for a repeating element or one inside a
// repeating group), as are the element's own alias (the candidate, or the
// iterations accepted so far), prev (the previous event of the same type
// in the partition) and the builder's constants. An element without an
// alias is named by its type when it is the only unaliased element of
// that type. Having, Emit, OnTimeoutEmit and PartitionBy stay clauses of
// the Rule.
//
// A Pattern records; it never fails or panics. Every mistake (a quantifier
// on a not, an alias used twice, an unknown field in a condition, ...) is
// reported by CompilePattern, with the position given by At or else the
// element's name. A Pattern's methods change it and return it; a pattern
// used as a group inside another is read, never changed, when compiled.

// Pattern is a pattern being built. Start one with Begin, BeginGroup, Or or
// AllOf.
type Pattern struct {
	alts []*patSeq // the alternatives; one for a plain sequence
	last *patFactor
	// wrapped is the optional group Optional() put around last (Flink's
	// optional() on times(n) with n >= 2); nil otherwise.
	wrapped *patFactor

	within     time.Duration
	gap        bool
	withinSet  bool
	withinPos  Pos
	skip       Skip
	skipSet    bool
	skipPos    Pos
	keys       []PatternKey
	countOnly  bool
	pos        Pos
	misuse     []patMisuse // mistakes found while building, reported at compile
	lastPosFor int         // what At positions: 0 the pattern, 1 last factor, 2 its quantifier, 3 within, 4 skip
}

type patMisuse struct {
	pos Pos
	msg string
}

type patSeq struct {
	steps []*patStep
}

type patStep struct {
	edge    pattern.Edge
	factors []*patFactor
}

// patFactor is an element or a group, with its quantifier: the Factor of
// the language's grammar.
type patFactor struct {
	not   bool
	group *Pattern
	alias string
	typ   string
	cond  string
	conds int // Where/OrWhere calls so far
	q     *patQuant
	pos   Pos
	qpos  Pos
}

type patQuant struct {
	lo, hi   int // hi -1: unbounded
	mode     pattern.Mode
	loop     pattern.LoopKind
	until    string
	hasUntil bool
}

// Skip is an after-match skip strategy (docs/language.md, skip).
type Skip struct {
	kind   pattern.SkipKind
	target string
}

// NoSkip keeps every match (Flink's noSkip, the language's skip none).
func NoSkip() Skip { return Skip{kind: pattern.SkipNone} }

// SkipToNext discards the partial matches that began at a match's first
// event (skip to next).
func SkipToNext() Skip { return Skip{kind: pattern.SkipToNext} }

// SkipPastLastEvent discards the partial matches that began at or before a
// match's last event: matches never overlap (skip past last, the default).
func SkipPastLastEvent() Skip { return Skip{kind: pattern.SkipPastLast} }

// SkipToFirst discards the partial matches that began before the first
// event bound to alias (skip to first alias).
func SkipToFirst(alias string) Skip { return Skip{kind: pattern.SkipToFirst, target: alias} }

// SkipToLast discards the partial matches that began before the last event
// bound to alias (skip to last alias).
func SkipToLast(alias string) Skip { return Skip{kind: pattern.SkipToLast, target: alias} }

func (s Skip) String() string {
	switch s.kind {
	case pattern.SkipNone:
		return "skip none"
	case pattern.SkipToNext:
		return "skip to next"
	case pattern.SkipToFirst:
		return "skip to first " + s.target
	case pattern.SkipToLast:
		return "skip to last " + s.target
	}
	return "skip past last"
}

// Begin starts a pattern with an element: an event of type typ, named
// alias ("" for none) in later conditions, Having and Emit.
func Begin(alias, typ string) *Pattern {
	p := &Pattern{}
	p.alts = []*patSeq{{}}
	p.step(pattern.Strict, &patFactor{alias: alias, typ: typ})
	return p
}

// BeginGroup starts a pattern with a group: the sub-pattern g, which
// the quantifier methods then repeat as a whole (Flink's begin(Pattern)).
func BeginGroup(g *Pattern) *Pattern {
	p := &Pattern{}
	p.alts = []*patSeq{{}}
	p.step(pattern.Strict, &patFactor{group: g})
	return p
}

// Or is the alternation of the patterns: a match of any of them (p | q),
// the first written preferred. Use it as a whole pattern or as a group.
func Or(alts ...*Pattern) *Pattern {
	p := &Pattern{}
	if len(alts) < 2 {
		p.misused("Or needs at least two patterns, found %d", len(alts))
	}
	for _, a := range alts {
		if a == nil {
			p.misused("Or of a nil pattern")
			continue
		}
		a.groupUse(p, "Or")
		p.alts = append(p.alts, a.alts...)
	}
	return p
}

// AllOf matches all the patterns, in any order (p & q): with an edge before
// it (NextGroup, FollowedByGroup), that edge leads into each part. The
// parts do not see each other's aliases; relate them in Having.
func AllOf(parts ...*Pattern) *Pattern {
	p := &Pattern{}
	if len(parts) < 2 {
		p.misused("AllOf needs at least two patterns, found %d", len(parts))
	}
	st := &patStep{edge: pattern.Strict}
	for _, a := range parts {
		if a == nil {
			p.misused("AllOf of a nil pattern")
			continue
		}
		a.groupUse(p, "AllOf")
		st.factors = append(st.factors, a.asFactor())
	}
	p.alts = []*patSeq{{steps: []*patStep{st}}}
	return p
}

// asFactor is a as one factor of an &: its only element or group, when it
// is one, else a group around it.
func (a *Pattern) asFactor() *patFactor {
	if len(a.alts) == 1 && len(a.alts[0].steps) == 1 && len(a.alts[0].steps[0].factors) == 1 {
		return a.alts[0].steps[0].factors[0]
	}
	return &patFactor{group: a}
}

// groupUse records the misuse of rule-level options on a pattern used
// inside another.
func (a *Pattern) groupUse(outer *Pattern, how string) {
	if a.withinSet {
		outer.misusedAt(a.withinPos, "%s: within applies to the whole pattern; set it on the outer pattern", how)
	}
	if a.skipSet {
		outer.misusedAt(a.skipPos, "%s: the skip strategy applies to the whole pattern; set it on the outer pattern", how)
	}
	if len(a.keys) > 0 {
		outer.misused("%s: partition keys apply to the whole pattern; set them on the outer pattern", how)
	}
	outer.misuse = append(outer.misuse, a.misuse...)
}

// Next appends an element that must be the very next event of the
// partition (strict contiguity; the language's juxtaposition a b).
func (p *Pattern) Next(alias, typ string) *Pattern {
	return p.step(pattern.Strict, &patFactor{alias: alias, typ: typ})
}

// FollowedBy appends an element found by skipping events until the first
// that it accepts (relaxed contiguity, a -> b).
func (p *Pattern) FollowedBy(alias, typ string) *Pattern {
	return p.step(pattern.Relaxed, &patFactor{alias: alias, typ: typ})
}

// FollowedByAny appends an element that every later event it accepts
// extends a copy of the partial match with (a ->> b).
func (p *Pattern) FollowedByAny(alias, typ string) *Pattern {
	return p.step(pattern.Any, &patFactor{alias: alias, typ: typ})
}

// NextGroup appends the group g right after (strict), as Flink's
// next(Pattern).
func (p *Pattern) NextGroup(g *Pattern) *Pattern {
	return p.groupStep(pattern.Strict, g)
}

// FollowedByGroup appends the group g with relaxed contiguity.
func (p *Pattern) FollowedByGroup(g *Pattern) *Pattern {
	return p.groupStep(pattern.Relaxed, g)
}

// FollowedByAnyGroup appends the group g with non-deterministic relaxed
// contiguity.
func (p *Pattern) FollowedByAnyGroup(g *Pattern) *Pattern {
	return p.groupStep(pattern.Any, g)
}

// NotNext forbids the very next event to be a typ (that satisfies the
// Where that follows): a not T. At the end of a pattern it is decided by
// the next event.
func (p *Pattern) NotNext(typ string) *Pattern {
	return p.step(pattern.Strict, &patFactor{not: true, typ: typ})
}

// NotFollowedBy forbids a typ (that satisfies the Where that follows)
// between the element before and the one after (a -> not T -> c); at the
// end of a pattern, within a Within of the element before (absence).
func (p *Pattern) NotFollowedBy(typ string) *Pattern {
	return p.step(pattern.Relaxed, &patFactor{not: true, typ: typ})
}

// NotFollowedByAny is NotFollowedBy after a ->> edge (a ->> not T): the
// element after it is found as by FollowedByAny.
func (p *Pattern) NotFollowedByAny(typ string) *Pattern {
	return p.step(pattern.Any, &patFactor{not: true, typ: typ})
}

func (p *Pattern) groupStep(e pattern.Edge, g *Pattern) *Pattern {
	if g == nil {
		p.misused("a nil group")
		return p
	}
	g.groupUse(p, "a group")
	return p.step(e, &patFactor{group: g})
}

func (p *Pattern) step(e pattern.Edge, f *patFactor) *Pattern {
	if len(p.alts) != 1 {
		p.misused("cannot append to an alternation; use Or(...) as a group: BeginGroup(Or(...)).FollowedBy(...)")
		return p
	}
	seq := p.alts[0]
	seq.steps = append(seq.steps, &patStep{edge: e, factors: []*patFactor{f}})
	p.last, p.wrapped = f, nil
	p.lastPosFor = 1
	return p
}

// Where sets the condition of the last element, or and-s it to the one
// already set (Flink's where).
func (p *Pattern) Where(cond string) *Pattern { return p.where(cond, "and") }

// OrWhere or-s cond to the last element's condition (Flink's or).
func (p *Pattern) OrWhere(cond string) *Pattern { return p.where(cond, "or") }

func (p *Pattern) where(cond, op string) *Pattern {
	f := p.lastElem("Where")
	if f == nil {
		return p
	}
	if strings.TrimSpace(cond) == "" {
		p.misusedAt(f.pos, "%s: an empty condition", f.describe())
		return p
	}
	if f.conds == 0 {
		f.cond = cond
	} else {
		f.cond = "(" + f.cond + ") " + op + " (" + cond + ")"
	}
	f.conds++
	return p
}

// lastElem is the element the last step added, or nil (reported) when the
// last step added a group or nothing.
func (p *Pattern) lastElem(what string) *patFactor {
	switch {
	case p.last == nil:
		p.misused("%s: no element to apply it to", what)
		return nil
	case p.last.group != nil:
		p.misusedAt(p.last.pos, "%s applies to an element, not a group; put it on the element inside", what)
		return nil
	}
	return p.last
}

// Optional makes the last element or group optional: ? on a plain one, *
// after OneOrMore, {0,m} after TimesRange(1, m), and after Times or
// TimesOrMore with a minimum of 2 or more the group (b{n,m})?: none, or
// n to m (Flink's optional()).
func (p *Pattern) Optional() *Pattern {
	f := p.last
	if f == nil {
		p.misused("Optional: no element or group to apply it to")
		return p
	}
	switch {
	case f.not:
		p.misusedAt(f.pos, "%s: not cannot be optional; not B already means no B at all", f.describe())
	case p.wrapped != nil:
		p.misusedAt(f.pos, "%s: Optional twice", f.describe())
	case f.q == nil:
		f.q = &patQuant{lo: 0, hi: 1}
	case f.q.lo == 1:
		f.q.lo = 0
	case f.q.lo == 0:
		p.misusedAt(f.pos, "%s: Optional twice", f.describe())
	default:
		// Flink's optional() on times(n) with n >= 2: zero, or n..m.
		inner := *f
		w := &Pattern{alts: []*patSeq{{steps: []*patStep{{factors: []*patFactor{&inner}}}}}}
		*f = patFactor{group: w, pos: inner.pos, q: &patQuant{lo: 0, hi: 1}}
		p.last, p.wrapped = &inner, f
	}
	return p
}

// OneOrMore repeats the last element or group one or more times (+).
func (p *Pattern) OneOrMore() *Pattern { return p.quant("OneOrMore", 1, -1) }

// ZeroOrMore repeats the last element or group any number of times (*),
// as OneOrMore().Optional().
func (p *Pattern) ZeroOrMore() *Pattern { return p.quant("ZeroOrMore", 0, -1) }

// Times repeats the last element or group exactly n times ({n}).
func (p *Pattern) Times(n int) *Pattern { return p.quant("Times", n, n) }

// TimesRange repeats the last element or group n to m times ({n,m}; Flink's
// times(from, to)).
func (p *Pattern) TimesRange(n, m int) *Pattern { return p.quant("TimesRange", n, m) }

// TimesOrMore repeats the last element or group n or more times ({n,}).
func (p *Pattern) TimesOrMore(n int) *Pattern { return p.quant("TimesOrMore", n, -1) }

func (p *Pattern) quant(what string, lo, hi int) *Pattern {
	f := p.last
	switch {
	case f == nil:
		p.misused("%s: no element or group to apply it to", what)
		return p
	case f.q != nil || p.wrapped != nil:
		p.misusedAt(f.pos, "%s: %s already has the quantifier %s", what, f.describe(), f.q.text())
		return p
	}
	f.q = &patQuant{lo: lo, hi: hi}
	p.lastPosFor = 2
	return p
}

// Greedy keeps only the longest loop of the last element or group (the
// suffix !).
func (p *Pattern) Greedy() *Pattern { return p.mode("Greedy", pattern.Greedy) }

// Reluctant keeps only the shortest loop of the last element or group (the
// suffix ?).
func (p *Pattern) Reluctant() *Pattern { return p.mode("Reluctant", pattern.Reluctant) }

func (p *Pattern) mode(what string, m pattern.Mode) *Pattern {
	if q := p.quantOf(what); q != nil {
		if q.mode != pattern.Branching {
			p.misusedAt(p.last.pos, "%s: %s already has a mode", what, p.last.describe())
		}
		q.mode = m
	}
	return p
}

// Consecutive joins the iterations of the last loop strictly: a
// non-matching event ends it (the loop modifier consecutive).
func (p *Pattern) Consecutive() *Pattern { return p.loop("Consecutive", pattern.LoopConsecutive) }

// Relaxed joins the iterations of the last loop relaxed: it skips
// non-matching events and takes every matching one (the loop modifier
// relaxed, Flink's default for loops).
func (p *Pattern) Relaxed() *Pattern { return p.loop("Relaxed", pattern.LoopRelaxed) }

// AllowCombinations lets the last loop take any subset of the matching
// events (the loop modifier any).
func (p *Pattern) AllowCombinations() *Pattern { return p.loop("AllowCombinations", pattern.LoopAny) }

func (p *Pattern) loop(what string, k pattern.LoopKind) *Pattern {
	if q := p.quantOf(what); q != nil {
		if q.loop != pattern.LoopDefault {
			p.misusedAt(p.last.pos, "%s: %s already has a loop modifier", what, p.last.describe())
		}
		q.loop = k
	}
	return p
}

// Until ends the last element's loop at the first event that satisfies
// cond, without taking it (until(cond)). In cond the loop's alias holds
// the iterations taken so far.
func (p *Pattern) Until(cond string) *Pattern {
	q := p.quantOf("Until")
	if q == nil {
		return p
	}
	switch {
	case p.last.group != nil:
		p.misusedAt(p.last.pos, "Until applies to an element, not a group; put it on the element whose loop it ends")
	case q.hasUntil:
		p.misusedAt(p.last.pos, "%s: Until twice", p.last.describe())
	case strings.TrimSpace(cond) == "":
		p.misusedAt(p.last.pos, "%s: an empty until condition", p.last.describe())
	default:
		q.until, q.hasUntil = cond, true
	}
	return p
}

// quantOf is the quantifier of the last element or group, or nil
// (reported) when it has none.
func (p *Pattern) quantOf(what string) *patQuant {
	f := p.last
	switch {
	case f == nil:
		p.misused("%s: no element or group to apply it to", what)
		return nil
	case f.q == nil:
		p.misusedAt(f.pos, "%s needs a quantifier on %s first (OneOrMore, Times, TimesRange, TimesOrMore, Optional)", what, f.describe())
		return nil
	}
	return f.q
}

// Within bounds a whole match: its last event is less than d after its
// first (within d).
func (p *Pattern) Within(d time.Duration) *Pattern { return p.setWithin(d, false) }

// WithinGap bounds every gap of a match: consecutive events of a match are
// less than d apart (within gap d).
func (p *Pattern) WithinGap(d time.Duration) *Pattern { return p.setWithin(d, true) }

func (p *Pattern) setWithin(d time.Duration, gap bool) *Pattern {
	switch {
	case p.withinSet:
		p.misused("within set twice")
	case d <= 0:
		p.misused("within %s: the duration must be positive", d)
	}
	p.within, p.gap, p.withinSet = d, gap, true
	p.lastPosFor = 3
	return p
}

// Skip sets the after-match skip strategy; without it, SkipPastLastEvent.
func (p *Pattern) Skip(s Skip) *Pattern {
	if p.skipSet {
		p.misused("skip strategy set twice")
	}
	p.skip, p.skipSet = s, true
	p.lastPosFor = 4
	return p
}

// CountOnly makes the rule count its matches instead of enumerating them
// (PatternMatch.CountOnly, the language's count() in a pattern rule): it
// emits one derived event per input event that completes matches, and
// Having and Emit read count().
func (p *Pattern) CountOnly() *Pattern {
	p.countOnly = true
	return p
}

// KeyBy adds partition keys given per event type, for patterns whose types
// name the key differently (partition by Login.user, Payment.account);
// Rule.PartitionBy adds keys that every type computes alike.
func (p *Pattern) KeyBy(keys ...PatternKey) *Pattern {
	p.keys = append(p.keys, keys...)
	return p
}

// At sets the source position of what was set last: the last element or
// group, its quantifier, Within or Skip; or of the pattern before any.
func (p *Pattern) At(pos Pos) *Pattern {
	switch p.lastPosFor {
	case 1:
		p.last.pos = pos
	case 2:
		p.last.qpos = pos
	case 3:
		p.withinPos = pos
	case 4:
		p.skipPos = pos
	default:
		p.pos = pos
	}
	return p
}

func (p *Pattern) misused(format string, args ...any) { p.misusedAt(Pos{}, format, args...) }

func (p *Pattern) misusedAt(pos Pos, format string, args ...any) {
	if !pos.IsValid() {
		pos = p.pos
	}
	p.misuse = append(p.misuse, patMisuse{pos: pos, msg: fmt.Sprintf(format, args...)})
}

func (f *patFactor) describe() string {
	switch {
	case f.group != nil:
		return "the group"
	case f.not:
		return "not " + f.typ
	case f.alias != "":
		return "element " + f.alias + ":" + f.typ
	}
	return "element " + f.typ
}

func (q *patQuant) text() string {
	if q == nil {
		return "Optional"
	}
	switch {
	case q.lo == 0 && q.hi == 1:
		return "?"
	case q.lo == 0 && q.hi < 0:
		return "*"
	case q.lo == 1 && q.hi < 0:
		return "+"
	case q.lo == q.hi:
		return "{" + strconv.Itoa(q.lo) + "}"
	case q.hi < 0:
		return "{" + strconv.Itoa(q.lo) + ",}"
	}
	return "{" + strconv.Itoa(q.lo) + "," + strconv.Itoa(q.hi) + "}"
}

// String is the pattern in the rule language's syntax (with its within and
// skip), for messages and tests.
func (p *Pattern) String() string {
	var b strings.Builder
	p.write(&b)
	if p.withinSet {
		b.WriteString(" within ")
		if p.gap {
			b.WriteString("gap ")
		}
		b.WriteString(formatDuration(p.within))
	}
	if p.skipSet {
		b.WriteString(" " + p.skip.String())
	}
	return b.String()
}

func (p *Pattern) write(b *strings.Builder) {
	for i, seq := range p.alts {
		if i > 0 {
			b.WriteString(" | ")
		}
		for j, st := range seq.steps {
			if j > 0 {
				switch st.edge {
				case pattern.Strict:
					b.WriteString(" ")
				case pattern.Relaxed:
					b.WriteString(" -> ")
				case pattern.Any:
					b.WriteString(" ->> ")
				}
			}
			for k, f := range st.factors {
				if k > 0 {
					b.WriteString(" & ")
				}
				f.write(b)
			}
		}
	}
}

func (f *patFactor) write(b *strings.Builder) {
	if f.not {
		b.WriteString("not ")
	}
	if f.group != nil {
		b.WriteString("(")
		f.group.write(b)
		b.WriteString(")")
	} else {
		if f.alias != "" {
			b.WriteString(f.alias + ":")
		}
		b.WriteString(f.typ)
		if f.cond != "" {
			b.WriteString("(" + f.cond + ")")
		}
	}
	q := f.q
	if q == nil {
		return
	}
	b.WriteString(q.text())
	switch q.mode {
	case pattern.Greedy:
		b.WriteString("!")
	case pattern.Reluctant:
		b.WriteString("?")
	}
	switch q.loop {
	case pattern.LoopConsecutive:
		b.WriteString(" consecutive")
	case pattern.LoopRelaxed:
		b.WriteString(" relaxed")
	case pattern.LoopAny:
		b.WriteString(" any")
	}
	if q.hasUntil {
		b.WriteString(" until(" + q.until + ")")
	}
}
