package engine

import (
	"slices"
	"strconv"
	"strings"

	"github.com/cepengine/cep/engine/eval"
	"github.com/cepengine/cep/engine/event"
	"github.com/cepengine/cep/engine/pattern"
)

// Compiling a fluent pattern (pattern_api.go) into an engine/pattern Spec:
// the checks and the scoping of lang's checker (lang/check_pattern.go) and
// its conversion (lang/compile_pattern.go), redone over the fluent tree so
// that engine need not import lang.

// CompilePattern checks p and compiles it against the event types of b
// (declared, or emitted by b's rules) and b's constants: the conditions,
// the aliases and their slots, within and skip. The result goes to
// Rule.Match; the rule's Having, Emit and OnTimeoutEmit then read the
// pattern's aliases. On error it returns an ErrorList with every mistake,
// each with its position (At) or the element it concerns.
func (b *Builder) CompilePattern(p *Pattern) (PatternMatch, error) {
	c := &compiler{
		b:        b,
		reg:      event.NewRegistry(),
		declared: map[string]*event.Schema{},
		declPos:  map[string]Pos{},
		inferred: map[string]*inferredType{},
	}
	c.declare()
	c.constants()
	c.compileRules() // for the schemas of the types b's rules emit
	c.errs, c.seq = nil, 0
	if p == nil {
		c.errorf(-1, Pos{}, "", ErrRule, "CompilePattern of a nil pattern")
		return PatternMatch{}, c.errs
	}
	types := p.types()
	schemas := map[string]*event.Schema{}
	for _, t := range types {
		s := c.schemaOf(t)
		if s == nil {
			if _, known := c.declared[t]; !known {
				var names []string
				for _, d := range b.types {
					names = append(names, d.name)
				}
				for n := range c.inferred {
					names = append(names, n)
				}
				slices.Sort(names)
				c.errorf(-1, p.typePos(t), "", ErrUnknownType, "unknown event type %s%s", t, suggest(t, names))
			}
			continue
		}
		schemas[t] = s
	}
	if len(c.errs) > 0 {
		return PatternMatch{}, c.errs
	}
	m := c.patternMatch(-1, "", p, schemas)
	if len(c.errs) > 0 {
		c.errs.sort()
		return PatternMatch{}, c.errs
	}
	return *m, nil
}

// clone is a deep copy of p's tree and options.
func (p *Pattern) clone() *Pattern {
	cp := *p
	cp.last, cp.wrapped = nil, nil
	cp.alts = make([]*patSeq, len(p.alts))
	for i, seq := range p.alts {
		ns := &patSeq{steps: make([]*patStep, len(seq.steps))}
		for j, st := range seq.steps {
			nst := &patStep{edge: st.edge, factors: make([]*patFactor, len(st.factors))}
			for k, f := range st.factors {
				nf := *f
				if f.q != nil {
					q := *f.q
					nf.q = &q
				}
				if f.group != nil {
					nf.group = f.group.clone()
				}
				nst.factors[k] = &nf
			}
			ns.steps[j] = nst
		}
		cp.alts[i] = ns
	}
	return &cp
}

// empty reports a pattern, or a group in it, with nothing to match (a
// zero Pattern, never started with Begin).
func (p *Pattern) empty() bool {
	if len(p.alts) == 0 {
		return true
	}
	for _, seq := range p.alts {
		if len(seq.steps) == 0 {
			return true
		}
		for _, st := range seq.steps {
			if len(st.factors) == 0 {
				return true
			}
			for _, f := range st.factors {
				if f.group != nil && f.group.empty() {
					return true
				}
			}
		}
	}
	return false
}

// types lists the event types p's elements name (negated ones too), first
// use first.
func (p *Pattern) types() []string {
	var out []string
	p.eachElem(func(f *patFactor) {
		if !slices.Contains(out, f.typ) {
			out = append(out, f.typ)
		}
	})
	return out
}

func (p *Pattern) typePos(t string) Pos {
	pos := p.pos
	p.eachElem(func(f *patFactor) {
		if f.typ == t && f.pos.IsValid() && !pos.IsValid() {
			pos = f.pos
		}
	})
	return pos
}

// eachElem calls fn on every element factor in source order.
func (p *Pattern) eachElem(fn func(*patFactor)) {
	for _, seq := range p.alts {
		for _, st := range seq.steps {
			for _, f := range st.factors {
				if f.group != nil {
					f.group.eachElem(fn)
				} else {
					fn(f)
				}
			}
		}
	}
}

// patElem is one element of a pattern being compiled.
type patElem struct {
	f        *patFactor
	index    int
	schema   *event.Schema
	repeated bool
	alias    *patAlias
}

type patAlias struct {
	name     string
	list     bool
	slot     int
	elem     *patElem
	implicit bool
}

// patCompile compiles one fluent pattern: it mirrors lang's checker
// (check_pattern.go) and its conversion to a Spec (compile_pattern.go), so
// that a pattern written either way runs the same.
type patCompile struct {
	c       *compiler
	order   int
	rule    string
	p       *Pattern
	schemas map[string]*event.Schema
	reads   []string
	elems   []*patElem
	byF     map[*patFactor]*patElem
	byAlias map[string]*patAlias
	aliases []*patAlias
	scopes  []elemScope
	bound   int
	lists   int
	ok      bool
}

func (pc *patCompile) errorf(pos Pos, sentinel error, format string, args ...any) {
	if !pos.IsValid() {
		pos = pc.p.pos
	}
	pc.c.errorf(pc.order, pos, pc.rule, sentinel, format, args...)
	pc.ok = false
}

// patternMatch compiles p for rule (order: its index, -1 outside a
// Build) against the schemas of the types it names. It reports every
// mistake and returns nil when there was one.
func (c *compiler) patternMatch(order int, rule string, p *Pattern, schemas map[string]*event.Schema) *PatternMatch {
	// A copy, in which a sub-pattern used twice is two (the elements are
	// told apart by their factors).
	p = p.clone()
	pc := &patCompile{c: c, order: order, rule: rule, p: p, schemas: schemas, reads: p.types(),
		byF: map[*patFactor]*patElem{}, byAlias: map[string]*patAlias{}, ok: true}
	for _, m := range p.misuse {
		pc.errorf(m.pos, ErrRule, "pattern: %s", m.msg)
	}
	if !pc.ok {
		return nil
	}
	if p.empty() {
		pc.errorf(p.pos, ErrRule, "pattern: an empty pattern or group; start one with Begin")
		return nil
	}
	pc.structure(p, false)
	pc.ends()
	pc.bindAliases()
	for _, el := range pc.elems {
		if el.schema == nil {
			// CompilePattern and Build resolve every type the pattern
			// names first; one unknown here was added to the pattern
			// after Rule.Pattern took its types.
			pc.errorf(el.f.pos, ErrUnknownType, "pattern: %s: its type was added to the pattern after Rule.Pattern; finish the pattern first", el.f.describe())
			return nil
		}
	}
	pc.scopePattern(p, nil)
	spec := &pattern.Spec{Within: p.within, WithinGap: p.gap, Bound: pc.bound, Lists: pc.lists, SkipTarget: -1}
	for _, el := range pc.elems {
		e := pattern.Element{Name: el.f.typ, Type: el.schema.ID, Negated: el.f.not, Min: 1, Max: 1, Slot: -1}
		if a := el.alias; a != nil {
			e.Slot, e.List = a.slot, a.list
		}
		spec.Elements = append(spec.Elements, e)
	}
	spec.Root = pc.specPattern(spec, p)
	pc.skip(spec)
	for _, el := range pc.elems {
		pc.compileConds(spec, el)
	}
	if !pc.ok {
		return nil
	}
	spec.CountOnly = p.countOnly
	m := &PatternMatch{Spec: spec, Keys: slices.Clone(p.keys), CountOnly: p.countOnly}
	for _, el := range pc.elems {
		m.Types = append(m.Types, el.f.typ)
	}
	for _, a := range pc.aliases {
		m.Aliases = append(m.Aliases, PatternAlias{Name: a.name, Type: a.elem.f.typ, Slot: a.slot, List: a.list})
	}
	return m
}

// structure checks quantifiers, not and &, and collects the elements in
// source order (lang: patternChecker.structure).
func (pc *patCompile) structure(p *Pattern, repeated bool) {
	for _, seq := range p.alts {
		for _, st := range seq.steps {
			if len(st.factors) > 1 {
				for _, f := range st.factors {
					if f.not {
						pc.errorf(f.pos, ErrRule, "pattern: not cannot be a part of AllOf; AllOf needs events that occur")
					}
				}
			}
			for _, f := range st.factors {
				pc.factor(f, repeated)
			}
		}
	}
}

func (pc *patCompile) factor(f *patFactor, repeated bool) {
	rep := repeated
	if q := f.q; q != nil {
		pos := f.qpos
		if !pos.IsValid() {
			pos = f.pos
		}
		what := f.describe()
		switch {
		case f.not:
			pc.errorf(pos, ErrRule, "pattern: %s cannot take a quantifier; not B already means no B at all", what)
		case q.lo < 0:
			pc.errorf(pos, ErrRule, "pattern: %s: quantifier %s has a negative minimum", what, q.text())
		case q.hi >= 0 && q.hi < q.lo:
			pc.errorf(pos, ErrRule, "pattern: %s: quantifier %s: the maximum %d is less than the minimum %d", what, q.text(), q.hi, q.lo)
		case q.hi == 0:
			pc.errorf(pos, ErrRule, "pattern: %s: quantifier %s matches nothing; the maximum must be at least 1", what, q.text())
		case q.hi == 1 && q.loop != pattern.LoopDefault:
			pc.errorf(pos, ErrRule, "pattern: %s: a loop modifier needs a quantifier that repeats (OneOrMore, TimesOrMore, Times or TimesRange with a maximum above 1), found %s", what, q.text())
		case q.hi == 1 && q.hasUntil:
			pc.errorf(pos, ErrRule, "pattern: %s: Until needs a quantifier that repeats (OneOrMore, TimesOrMore, Times or TimesRange with a maximum above 1), found %s", what, q.text())
		}
		if q.hi < 0 || q.hi > 1 {
			rep = true
		}
	}
	if f.group != nil {
		pc.structure(f.group, rep)
		return
	}
	switch {
	case f.typ == "":
		pc.errorf(f.pos, ErrRule, "pattern: an element without an event type")
	case f.not && f.alias != "":
		pc.errorf(f.pos, ErrRule, "pattern: a not element binds nothing; drop the alias %q", f.alias)
	}
	el := &patElem{f: f, index: len(pc.elems), schema: pc.schemas[f.typ], repeated: rep}
	pc.elems = append(pc.elems, el)
	pc.byF[f] = el
}

// ends checks the first and last elements a match can have (lang:
// patternChecker.ends).
func (pc *patCompile) ends() {
	p := pc.p
	startNot := map[*patFactor]bool{}
	for _, f := range edgeFactorsOf(p, true) {
		if f.not {
			pc.errorf(f.pos, ErrRule, "pattern: a pattern cannot start with not; absence is measured from an earlier event, so put an element first")
			startNot[f] = true
		}
	}
	if len(startNot) == 0 && p.nullable() {
		pc.errorf(p.pos, ErrRule, "pattern: the pattern can match no events at all; at least one element must be required (not Optional, ZeroOrMore or TimesRange(0, n))")
	}
	if !p.withinSet {
		strictNot := map[*patFactor]bool{}
		p.strictNots(strictNot)
		for _, f := range edgeFactorsOf(p, false) {
			if f.not && !startNot[f] && !strictNot[f] {
				pc.errorf(f.pos, ErrRule, "pattern: a trailing NotFollowedBy(%s) needs Within: the absence is established when within expires", f.typ)
			}
		}
	}
}

func (p *Pattern) strictNots(out map[*patFactor]bool) {
	for _, seq := range p.alts {
		for i, st := range seq.steps {
			for _, f := range st.factors {
				if f.not && i > 0 && st.edge == pattern.Strict {
					out[f] = true
				}
				if f.group != nil {
					f.group.strictNots(out)
				}
			}
		}
	}
}

func (p *Pattern) nullable() bool {
	for _, seq := range p.alts {
		all := true
		for _, st := range seq.steps {
			if !st.nullable() {
				all = false
				break
			}
		}
		if all {
			return true
		}
	}
	return false
}

func (st *patStep) nullable() bool {
	for _, f := range st.factors {
		if !f.nullable() {
			return false
		}
	}
	return true
}

func (f *patFactor) nullable() bool {
	switch {
	case f.not:
		return true
	case f.q != nil && f.q.lo == 0:
		return true
	case f.group != nil:
		return f.group.nullable()
	}
	return false
}

// edgeFactorsOf returns the element factors (negated ones too) that can be
// the first (or last) of a match of p (lang: edgeFactors).
func edgeFactorsOf(p *Pattern, first bool) []*patFactor {
	var out []*patFactor
	for _, seq := range p.alts {
		steps := seq.steps
		if !first {
			steps = slices.Clone(steps)
			slices.Reverse(steps)
		}
		for _, st := range steps {
			for _, f := range st.factors {
				if f.group != nil {
					out = append(out, edgeFactorsOf(f.group, first)...)
				} else {
					out = append(out, f)
				}
			}
			if !st.nullable() || (len(st.factors) == 1 && st.factors[0].not) {
				break
			}
		}
	}
	return out
}

// bindAliases checks the explicit aliases, binds the implicit ones and
// assigns slots (lang: patternChecker.aliases).
func (pc *patCompile) bindAliases() {
	unaliased := map[string]int{}
	for _, el := range pc.elems {
		f := el.f
		if f.alias == "" {
			if !f.not {
				unaliased[f.typ]++
			}
			continue
		}
		if f.not {
			continue // reported by structure
		}
		name := f.alias
		if name == "prev" {
			pc.errorf(f.pos, ErrReserved, "pattern: alias \"prev\" is reserved: prev is the previous event of the partition")
			continue
		}
		if !validName(name) {
			pc.errorf(f.pos, ErrRule, "pattern: alias %q is not a name (a letter or _, then letters, digits or _)", name)
			continue
		}
		if prev, dup := pc.byAlias[name]; dup {
			pc.errorf(f.pos, ErrDuplicate, "pattern: alias %q is used twice (%s and %s)", name, prev.elem.f.describe(), f.describe())
			continue
		}
		if t := pc.fieldOfAny(name); t != "" {
			pc.errorf(f.pos, ErrRule, "pattern: alias %q is also a field of %s; choose another alias (in a condition a bare name is a field)", name, t)
			continue
		}
		a := &patAlias{name: name, list: el.repeated, elem: el}
		el.alias = a
		pc.byAlias[name] = a
	}
	for _, el := range pc.elems {
		f := el.f
		if f.alias != "" || f.not || unaliased[f.typ] != 1 || pc.byAlias[f.typ] != nil || pc.fieldOfAny(f.typ) != "" {
			continue
		}
		a := &patAlias{name: f.typ, list: el.repeated, elem: el, implicit: true}
		el.alias = a
		pc.byAlias[f.typ] = a
	}
	for _, el := range pc.elems {
		a := el.alias
		if a == nil {
			continue
		}
		if a.list {
			a.slot = pc.lists
			pc.lists++
		} else {
			a.slot = pc.bound
			pc.bound++
		}
		pc.aliases = append(pc.aliases, a)
	}
}

// fieldOfAny returns the first type the pattern reads that has a field
// called name, or "".
func (pc *patCompile) fieldOfAny(name string) string {
	for _, t := range pc.reads {
		if s := pc.schemas[t]; s != nil {
			if _, ok := s.Slot(name); ok {
				return t
			}
		}
	}
	return ""
}

func validName(s string) bool {
	for i, r := range s {
		letter := r == '_' || r == '$' || 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || r > 0x7f
		if !letter && (i == 0 || r < '0' || r > '9') {
			return false
		}
	}
	return s != ""
}

// scope: the aliases visible to each element (lang: scopePattern). The
// element's visible scope is recorded for compileConds.
func (pc *patCompile) scopePattern(p *Pattern, scope []*patAlias) []*patAlias {
	out := scope
	for _, seq := range p.alts {
		s := scope
		for _, st := range seq.steps {
			after := s
			for _, f := range st.factors {
				after = unionAliases(after, pc.scopeFactor(f, s))
			}
			s = after
		}
		out = unionAliases(out, s)
	}
	return out
}

func (pc *patCompile) scopeFactor(f *patFactor, scope []*patAlias) []*patAlias {
	if f.group != nil {
		return pc.scopePattern(f.group, scope)
	}
	el := pc.byF[f]
	pc.scopes = append(pc.scopes, elemScope{el: el, scope: slices.Clip(scope)})
	if el.alias != nil {
		return append(slices.Clip(scope), el.alias)
	}
	return scope
}

type elemScope struct {
	el    *patElem
	scope []*patAlias
}

func unionAliases(a, b []*patAlias) []*patAlias {
	out := slices.Clip(a)
	for _, x := range b {
		if !slices.Contains(out, x) {
			out = append(out, x)
		}
	}
	return out
}

// compileConds compiles the condition and until of el with the aliases in
// scope there (lang: scopeFactor and elementEnv).
func (pc *patCompile) compileConds(spec *pattern.Spec, el *patElem) {
	var scope []*patAlias
	for _, s := range pc.scopes {
		if s.el == el {
			scope = s.scope
		}
	}
	f := el.f
	e := &spec.Elements[el.index]
	if f.cond != "" {
		e.Cond = pc.compileCond(f.cond, el, scope, "the condition of "+f.describe())
	}
	if f.q != nil && f.q.hasUntil {
		e.Until = pc.compileCond(f.q.until, el, scope, "until of "+f.describe())
	}
}

func (pc *patCompile) compileCond(src string, el *patElem, scope []*patAlias, what string) *eval.Program {
	if pc.listMisuse(src, el, scope, what) {
		return nil
	}
	s := el.schema
	env := eval.NewEnv()
	env.Event(s)
	taken := map[string]bool{}
	for _, a := range append(slices.Clip(scope), el.alias) {
		if a == nil {
			continue
		}
		if _, isField := s.Slot(a.name); isField {
			continue // an implicit alias never hides a field
		}
		as := a.elem.schema
		if a.list {
			env.ListAlias(a.name, as, a.slot)
		} else {
			env.Alias(a.name, as, a.slot)
		}
		taken[a.name] = true
	}
	if _, ok := s.Slot("prev"); !ok {
		env.Prev(s)
		taken["prev"] = true
	}
	for _, k := range pc.c.consts {
		if _, isField := s.Slot(k.name); !isField && !taken[k.name] {
			env.Const(k.name, k.val)
			taken[k.name] = true
		}
	}
	p, err := eval.Compile(src, env, eval.ExpectBool(), eval.NoAggregates(), eval.Clause(what))
	if err != nil {
		hint := pc.unbound(src, el, scope)
		pos := el.f.pos
		for _, e := range evalErrors(err) {
			if !pos.IsValid() {
				pc.errorf(Pos{File: pos.File}, ErrExpr, "pattern: %s `%s`: %d:%d: %s%s", what, src, e.line, e.col, e.msg, hint)
				continue
			}
			at := pos
			if e.line > 1 {
				at.Line += e.line - 1
				at.Col = e.col
			} else if e.col > 0 {
				at.Col += e.col - 1
			}
			pc.errorf(at, ErrExpr, "pattern: %s: %s%s", what, e.msg, hint)
		}
		return nil
	}
	if k := p.Type().Kind; k != event.KindBool && k != event.KindAny {
		pc.errorf(el.f.pos, ErrExpr, "pattern: %s must be bool, found %s", what, p.Type())
		return nil
	}
	return p
}

// unbound explains a failed condition that names an alias not in scope at
// its element (lang: aliasMisuse).
func (pc *patCompile) unbound(src string, el *patElem, scope []*patAlias) string {
	for _, id := range identifiersIn(src) {
		if _, isField := el.schema.Slot(id); isField {
			continue
		}
		a := pc.byAlias[id]
		if a == nil || a == el.alias || slices.Contains(scope, a) {
			continue
		}
		return "; alias " + strconv.Quote(id) + " is not bound here: a condition sees only the elements before it and its own alias (the parts of AllOf do not see each other)"
	}
	return ""
}

// listMisuse reports, with better words than the type checker's, a list
// alias read like one event (a.v for a repeating a); lang: aliasMisuse.
func (pc *patCompile) listMisuse(src string, el *patElem, scope []*patAlias, what string) bool {
	bad := false
	for _, id := range fieldReads(src) {
		if _, isField := el.schema.Slot(id[0]); isField {
			continue
		}
		a := pc.byAlias[id[0]]
		if a == nil || !a.list || a != el.alias && !slices.Contains(scope, a) {
			continue
		}
		n, f := a.name, id[1]
		at := what
		if !el.f.pos.IsValid() {
			at += " `" + src + "`"
		}
		pc.errorf(el.f.pos, ErrExpr, "pattern: %s: %s is a list of %s events (its element repeats); write %s[0].%s, %s[-1].%s or map(%s, .%s)", at, n, a.elem.f.typ, n, f, n, f, n, f)
		bad = true
	}
	return bad
}

// fieldReads lists the name.field reads of an expression whose name is
// not itself after a dot (a rough scan, for messages only).
func fieldReads(src string) [][2]string {
	var out [][2]string
	ids := identifierSpans(src)
	for i, id := range ids {
		if id.afterDot || i+1 >= len(ids) {
			continue
		}
		next := ids[i+1]
		if next.afterDot && strings.TrimSpace(src[id.end:next.start]) == "." {
			out = append(out, [2]string{src[id.start:id.end], src[next.start:next.end]})
		}
	}
	return out
}

// identifiersIn lists the names in an expression that are not after a dot
// and not inside a string literal (a rough scan, for hints only).
func identifiersIn(src string) []string {
	var out []string
	for _, id := range identifierSpans(src) {
		if !id.afterDot {
			out = append(out, src[id.start:id.end])
		}
	}
	return out
}

type identSpan struct {
	start, end int
	afterDot   bool
}

func identifierSpans(src string) []identSpan {
	var out []identSpan
	for i := 0; i < len(src); {
		ch := src[i]
		switch {
		case ch == '"' || ch == '\'' || ch == '`':
			j := i + 1
			for j < len(src) && src[j] != ch {
				if src[j] == '\\' && ch != '`' {
					j++
				}
				j++
			}
			i = j + 1
		case ch == '_' || ch == '$' || 'a' <= ch && ch <= 'z' || 'A' <= ch && ch <= 'Z':
			j := i
			for j < len(src) && (src[j] == '_' || src[j] == '$' || 'a' <= src[j] && src[j] <= 'z' || 'A' <= src[j] && src[j] <= 'Z' || '0' <= src[j] && src[j] <= '9') {
				j++
			}
			out = append(out, identSpan{start: i, end: j, afterDot: i > 0 && src[i-1] == '.'})
			i = j
		case '0' <= ch && ch <= '9':
			for i < len(src) && ('0' <= src[i] && src[i] <= '9' || src[i] == '.' || src[i] == '_' || 'a' <= src[i] && src[i] <= 'z') {
				i++
			}
		default:
			i++
		}
	}
	return out
}

// specPattern converts the tree (lang: specPattern, specSequence,
// specFactor).
func (pc *patCompile) specPattern(s *pattern.Spec, p *Pattern) pattern.Node {
	if len(p.alts) > 1 {
		n := pattern.Node{Kind: pattern.NodeAlternation}
		for _, seq := range p.alts {
			n.Children = append(n.Children, pc.specSequence(s, seq))
		}
		return n
	}
	return pc.specSequence(s, p.alts[0])
}

func (pc *patCompile) specSequence(s *pattern.Spec, seq *patSeq) pattern.Node {
	n := pattern.Node{Kind: pattern.NodeSequence}
	for _, st := range seq.steps {
		var c pattern.Node
		if len(st.factors) > 1 {
			c.Kind = pattern.NodeAll
			for _, f := range st.factors {
				c.Children = append(c.Children, pc.specFactor(s, f))
			}
		} else {
			c = pc.specFactor(s, st.factors[0])
		}
		c.Edge = st.edge
		n.Children = append(n.Children, c)
	}
	return n
}

func (pc *patCompile) specFactor(s *pattern.Spec, f *patFactor) pattern.Node {
	q := f.q
	if f.group != nil {
		g := pc.specPattern(s, f.group)
		if g.Kind == pattern.NodeSequence && len(g.Children) == 1 && q == nil {
			return g.Children[0]
		}
		if q != nil {
			g.Quantified, g.Min, g.Max, g.Mode, g.Loop = true, q.lo, q.hi, q.mode, q.loop
		}
		return g
	}
	el := pc.byF[f]
	if q != nil {
		e := &s.Elements[el.index]
		e.Quantified, e.Min, e.Max, e.Mode, e.Loop = true, q.lo, q.hi, q.mode, q.loop
	}
	return pattern.Node{Kind: pattern.NodeElement, Element: el.index}
}

// skip resolves the skip strategy: to first/last needs an element that
// binds that name and is not where the match begins (lang:
// patternChecker.skip).
func (pc *patCompile) skip(spec *pattern.Spec) {
	p := pc.p
	if !p.skipSet {
		spec.Skip = pattern.SkipPastLast
		return
	}
	spec.Skip = p.skip.kind
	if k := p.skip.kind; k != pattern.SkipToFirst && k != pattern.SkipToLast {
		return
	}
	name := p.skip.target
	a := pc.byAlias[name]
	if a == nil {
		var names []string
		ambiguous := false
		for _, el := range pc.elems {
			if el.alias != nil {
				names = append(names, el.alias.name)
			}
			if !el.f.not && el.f.alias == "" && el.f.typ == name {
				ambiguous = true
			}
		}
		if ambiguous {
			pc.errorf(p.skipPos, ErrRule, "pattern: %s: several elements have type %s; give the one you mean an alias", p.skip, name)
		} else {
			pc.errorf(p.skipPos, ErrRule, "pattern: %s: no element of the pattern is named %q%s", p.skip, name, suggest(name, names))
		}
		return
	}
	spec.SkipTarget = a.elem.index
	if !slices.Contains(edgeFactorsOf(p, true), a.elem.f) {
		return
	}
	if p.skip.kind == pattern.SkipToFirst || !a.list {
		pc.errorf(p.skipPos, ErrRule, "pattern: %s: %s can be the first element of a match, so the next search would start where this one did; skip to a later element", p.skip, name)
	}
}
