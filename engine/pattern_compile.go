package engine

import (
	"slices"
	"strconv"
	"strings"

	"github.com/cepengine/cep/engine/eval"
	"github.com/cepengine/cep/engine/event"
	"github.com/cepengine/cep/engine/pattern"
)

// patternRule gathers a pattern rule's clauses while the compiler checks
// its structure.
type patternRule struct {
	match   *clause
	keys    []keyDecl // partition by: the same expression for every type
	having  *clause
	timeout *clause
	reads   []string // the types the elements name, first use first
	plan    *patternPlan
	tout    *event.Schema // the type on timeout emit emits
	tfields []Field
}

// patternPlan is the immutable compiled form of a pattern operator. Every
// matcher of the graph runs it with its own patternOp state.
type patternPlan struct {
	index int32 // among the graph's pattern operators, in rule order
	rule  int32
	node  int32
	emit  int32
	rank  int // in dependency order: Close flushes upstream rules first

	pat   *pattern.Pattern
	reads []int32       // type ids read, first use first
	keys  [][]fieldProg // per type id: the partition keys over its events (nil: not read)

	// Until graph() registers the derived types, their schemas have no
	// id: the compiler keeps schemas, and graphPattern resolves the ids
	// (reads, keys, the elements' types) and compiles the pattern.
	spec        pattern.Spec
	elemSchemas []*event.Schema // per element
	readSchemas []*event.Schema // per type read
	readKeys    [][]fieldProg   // per type read: its keys
	nKeys       int
	progs       []*eval.Program // emitted fields, over the match frame
	widen       []bool
	desc        string // Graph.String

	// A counting rule (PatternMatch.CountOnly): having and the emitted
	// fields read count() from Vars[countVar], after the key; having is
	// evaluated by the engine on the count, not by the matcher per match.
	count    bool
	countVar int
	chaving  *eval.Program

	// on timeout emit: its fields over the timed-out partial match's
	// frame, and its emit node (temit -1 without the clause).
	tprogs []*eval.Program
	twiden []bool
	temit  int32
}

func isPatternRule(r *Rule) bool { return len(r.clauses) > 0 && r.clauses[0].kind == clauseMatch }

// patternStructure checks the clause order of a pattern rule: match, keys,
// having, emit, on timeout emit.
func (c *compiler) patternStructure(st *ruleState, bad func(Pos, error, string, ...any)) {
	pr := &patternRule{}
	st.pat = pr
	rank := map[clauseKind]int{clauseMatch: 1, clausePartition: 2, clauseHaving: 3, clauseEmit: 4, clauseTimeout: 5}
	last := clauseKind(0)
	for j := range st.r.clauses {
		cl := &st.r.clauses[j]
		if r, known := rank[cl.kind]; known && r < rank[last] {
			bad(cl.pos, ErrRule, "%s clause after %s; a pattern rule's clauses are match, partition by, having, emit, on timeout emit", clauseNames[cl.kind], clauseNames[last])
			continue
		}
		switch cl.kind {
		case clauseMatch:
			if pr.match != nil {
				bad(cl.pos, ErrRule, "second match clause; a rule has one pattern")
				continue
			}
			pr.match = cl
			m := cl.match
			switch {
			case m.Spec == nil:
				bad(cl.pos, ErrRule, "match without a pattern spec")
			case len(m.Types) != len(m.Spec.Elements):
				bad(cl.pos, ErrRule, "match names %d types for %d elements; want one type per element", len(m.Types), len(m.Spec.Elements))
			}
			for _, t := range m.Types {
				if !slices.Contains(pr.reads, t) {
					pr.reads = append(pr.reads, t)
				}
			}
		case clausePartition:
			if len(cl.k.keys) == 0 {
				bad(cl.pos, ErrRule, "partition by without keys")
			}
			for _, e := range cl.k.keys {
				if strings.TrimSpace(e) == "" {
					bad(cl.pos, ErrExpr, "empty partition key")
					continue
				}
				pr.keys = append(pr.keys, keyDecl{expr: e, pos: cl.pos})
			}
		case clauseHaving:
			if pr.having != nil {
				bad(cl.pos, ErrRule, "second having clause; combine the conditions with and")
				continue
			}
			pr.having = cl
			if strings.TrimSpace(cl.expr) == "" {
				bad(cl.pos, ErrExpr, "empty having expression")
			}
		case clauseEmit:
			if st.emit != nil {
				bad(cl.pos, ErrRule, "second emit clause")
				continue
			}
			st.emit = cl
			switch {
			case cl.name == "":
				bad(cl.pos, ErrRule, "emit clause without an event type")
			case reservedTypes[cl.name]:
				bad(cl.pos, ErrReserved, "cannot emit %q: the name is reserved for the built-in stream", cl.name)
			}
		case clauseTimeout:
			if pr.timeout != nil {
				bad(cl.pos, ErrRule, "second on timeout emit clause")
				continue
			}
			pr.timeout = cl
			switch {
			case cl.name == "":
				bad(cl.pos, ErrRule, "on timeout emit clause without an event type")
			case reservedTypes[cl.name]:
				bad(cl.pos, ErrReserved, "cannot emit %q: the name is reserved for the built-in stream", cl.name)
			}
		default:
			bad(cl.pos, ErrRule, "%s clause in a pattern rule; a pattern rule has match, partition by, having, emit", clauseNames[cl.kind])
		}
		last = cl.kind
	}
	if st.emit == nil {
		bad(st.r.pos, ErrRule, "rule has no emit clause")
	}
}

// resolvePattern resolves the types a pattern rule reads, and the rules it
// depends on.
func (c *compiler) resolvePattern(i int, st *ruleState, emitters map[string][]int) {
	pr := st.pat
	if pr.match == nil {
		return
	}
	for _, name := range pr.reads {
		_, declared := c.declared[name]
		prod, emitted := emitters[name]
		if !declared && !emitted {
			c.errorf(i, pr.match.pos, st.r.name, ErrUnknownType, "unknown event type %s%s", name, suggest(name, c.typeNames(emitters)))
			st.ok = false
			continue
		}
		for _, p := range prod {
			if !slices.Contains(st.producer, p) {
				st.producer = append(st.producer, p)
			}
		}
	}
}

// compilePatternRule compiles a pattern rule: the element types, the
// partition keys per type, having and the emitted fields over the match,
// the pattern itself and the emitted type.
func (c *compiler) compilePatternRule(i int, st *ruleState) {
	pr := st.pat
	m := pr.match.match
	name := st.r.name
	schemas := map[string]*event.Schema{}
	for _, t := range pr.reads {
		s := c.schemaOf(t)
		if s == nil {
			return // broken type, reported where it broke
		}
		schemas[t] = s
	}
	if m.pattern != nil { // Rule.Pattern: a fluent pattern (pattern_api.go)
		if m = c.patternMatch(i, name, m.pattern, schemas); m == nil {
			return
		}
	}
	spec := *m.Spec
	spec.Elements = slices.Clone(m.Spec.Elements)
	counting := m.CountOnly || m.Spec.CountOnly
	spec.CountOnly = counting
	for k := range spec.Elements {
		spec.Elements[k].Type = schemas[m.Types[k]].ID
	}
	ok := true
	plan := &patternPlan{rule: int32(i), rank: c.nPattern}
	c.nPattern++
	for k := range spec.Elements {
		plan.elemSchemas = append(plan.elemSchemas, schemas[m.Types[k]])
	}
	for _, t := range pr.reads {
		plan.readSchemas = append(plan.readSchemas, schemas[t])
	}
	plan.readKeys = make([][]fieldProg, len(pr.reads))

	// The keys: those of partition by apply to every type; PatternKeys
	// give an expression per type.
	type keySpec struct {
		name  string
		exprs map[string]string
		pos   Pos
	}
	var keys []keySpec
	for _, kd := range pr.keys {
		text := strings.TrimSpace(kd.expr)
		// Its name: the field it reads, when it is a plain field (user,
		// Type.user) of every type, of one name.
		ks := keySpec{exprs: map[string]string{}, pos: kd.pos}
		for r, t := range pr.reads {
			ks.exprs[t] = kd.expr
			tmp := &ruleState{schema: schemas[t]}
			nm := c.keyName(tmp, text)
			if r == 0 {
				ks.name = nm
			} else if nm != ks.name {
				ks.name = ""
			}
		}
		keys = append(keys, ks)
	}
	for _, k := range m.Keys {
		keys = append(keys, keySpec{name: k.Name, exprs: k.Exprs, pos: k.Pos})
	}
	plan.nKeys = len(keys)
	out := eval.NewEnv()
	seenName := map[string]bool{}
	for j, k := range keys {
		var typ event.Type
		for ti, t := range pr.reads {
			expr, has := k.exprs[t]
			if !has || strings.TrimSpace(expr) == "" {
				c.errorf(i, k.pos, name, ErrExpr, "partition key %d has no expression for %s; every type the pattern reads needs one", j+1, t)
				ok = false
				continue
			}
			s := schemas[t]
			env := c.keyEnv(&ruleState{schema: s})
			p, err := eval.Compile(expr, env, eval.NoAggregates(), eval.Clause("partition by"))
			if err != nil {
				c.exprErrors(i, k.pos, "partition key on "+t, expr, err)
				ok = false
				continue
			}
			pt := p.Type()
			if pt.Kind == event.KindList {
				c.errorf(i, k.pos, name, ErrExpr, "partition key %s is a list (%s); a key must be a single value", strings.TrimSpace(expr), pt)
				ok = false
				continue
			}
			if ti == 0 || typ.Kind == event.KindNil || typ.Kind == event.KindAny {
				typ = pt
			}
			tmp := &ruleState{schema: s}
			plan.readKeys[ti] = append(plan.readKeys[ti], fieldProg{prog: p, slot: c.copySlot(tmp, keyField(tmp, strings.TrimSpace(expr)))})
		}
		if typ.Kind == event.KindNil {
			typ = event.Any
		}
		if k.name != "" && !seenName[k.name] {
			seenName[k.name] = true
			out.Var(k.name, typ, j)
		}
	}
	// A counting rule sees no alias: count(), after the keys, instead.
	var opts []eval.Option
	hint := ""
	emitClause := "emit (to count matches, set PatternMatch.CountOnly)"
	if counting {
		hint = " (a counting rule reads count(), the partition keys and constants; no alias)"
		emitClause = "emit"
		plan.count = true
		if len(keys) > 0 {
			out.Var("·key", event.Any, len(keys)-1) // count() goes after every key
		}
		args := eval.NewEnv()
		for _, kc := range c.consts {
			args.Const(kc.name, kc.val)
		}
		opts = append(opts, eval.Aggregates(args))
	} else {
		opts = append(opts, eval.NoAggregates())
	}
	for _, a := range m.Aliases {
		if counting {
			break
		}
		s, found := schemas[a.Type]
		if !found {
			s = c.schemaOf(a.Type)
		}
		if s == nil {
			c.errorf(i, pr.match.pos, name, ErrUnknownType, "alias %s has type %s, which the pattern does not read", a.Name, a.Type)
			ok = false
			continue
		}
		if a.List {
			out.ListAlias(a.Name, s, a.Slot)
		} else {
			out.Alias(a.Name, s, a.Slot)
		}
	}
	for _, kc := range c.consts {
		out.Const(kc.name, kc.val)
	}
	if h := pr.having; h != nil {
		p, err := eval.Compile(h.expr, out, append(opts, eval.ExpectBool(), eval.Clause("having"))...)
		switch {
		case err != nil:
			c.exprErrors(i, h.pos, "having"+hint, h.expr, err)
			ok = false
		case counting:
			ok = c.onlyCount(i, h.pos, name, "having", p) && ok
			plan.chaving = p
		default:
			spec.Having = p
		}
	}
	seen := map[string]bool{}
	var fields []event.Field
	for _, f := range st.emit.fields {
		if f.Expr == "" {
			f.Expr = f.Name
		}
		st.fields = append(st.fields, f)
		if !c.emitName(i, name, f, seen) {
			ok = false
			continue
		}
		p, err := eval.Compile(f.Expr, out, append(opts, eval.Clause(emitClause))...)
		if err != nil {
			c.exprErrors(i, f.Pos, "field "+f.Name+hint, f.Expr, err)
			ok = false
			continue
		}
		if counting && !c.onlyCount(i, f.Pos, name, "field "+f.Name, p) {
			ok = false
			continue
		}
		t := p.Type()
		if t.Kind == event.KindNil {
			t = event.Any
		}
		plan.progs = append(plan.progs, p)
		fields = append(fields, event.Field{Name: f.Name, Type: t})
	}
	var tfields []event.Field
	if tc := pr.timeout; tc != nil {
		if counting {
			c.errorf(i, tc.pos, name, ErrRule, "on timeout emit in a rule that counts its matches: counted partial matches are not kept")
			ok = false
		} else {
			tfields, ok = c.timeoutFields(i, st, &spec, plan, out, ok)
		}
	}
	if counting {
		plan.countVar = len(keys)
		for _, a := range out.Aggregates() {
			plan.countVar = a.Var // count() is the only one
		}
	}
	if !ok {
		return
	}
	// Checked here; compiled again by graphPattern with the final ids.
	if _, err := pattern.Compile(&spec); err != nil {
		c.errorf(i, pr.match.pos, name, ErrRule, "%v", err)
		return
	}
	plan.spec = spec
	plan.widen = make([]bool, len(fields))
	out2 := st.emit.name
	if decl, isDecl := c.declared[out2]; isDecl {
		if decl == nil {
			return
		}
		if msg := matchDeclared(decl, fields, plan.widen); msg != "" {
			c.errorf(i, st.emit.pos, name, ErrSchemaMismatch, "emits %s %s, but %s is declared %s: %s", out2, fieldList(fields), out2, fieldList(decl.Fields), msg)
			return
		}
		st.out = decl
	} else if t, found := c.inferred[out2]; found {
		if msg := matchInferred(t.schema.Fields, fields); msg != "" {
			c.errorf(i, st.emit.pos, name, ErrSchemaMismatch, "emits %s %s, but rule %s emits %s %s: %s; declare %s to pin its fields", out2, fieldList(fields), c.rules[t.first].r.name, out2, fieldList(t.schema.Fields), msg, out2)
			return
		}
		st.out = t.schema
	} else {
		st.out = event.NewSchema(out2, fields, "", 0)
		c.inferred[out2] = &inferredType{schema: st.out, first: i}
	}
	if tc := pr.timeout; tc != nil {
		if pr.tout = c.emittedSchema(i, tc, tfields, &plan.twiden); pr.tout == nil {
			return
		}
	}
	st.schema = schemas[pr.reads[0]]
	plan.desc = describePattern(m, &spec, len(keys))
	if spec.CountOnly {
		plan.desc += " count"
		if plan.chaving != nil {
			plan.desc += " having `" + strings.TrimSpace(plan.chaving.Source()) + "`"
		}
	}
	pr.plan = plan
	st.compiled = true
}

// describePattern is a pattern node's spec in Graph.String.
func describePattern(m *PatternMatch, s *pattern.Spec, nKeys int) string {
	var b strings.Builder
	b.WriteString("match")
	for k, el := range s.Elements {
		b.WriteByte(' ')
		if el.Negated {
			b.WriteString("not ")
		}
		b.WriteString(m.Types[k])
		if el.Quantified {
			b.WriteString("{" + strconv.Itoa(el.Min) + ",")
			if el.Max >= 0 {
				b.WriteString(strconv.Itoa(el.Max))
			}
			b.WriteByte('}')
		}
	}
	if s.Within > 0 {
		b.WriteString(" within ")
		if s.WithinGap {
			b.WriteString("gap ")
		}
		b.WriteString(formatDuration(s.Within))
	}
	if nKeys > 0 {
		b.WriteString(" by " + strconv.Itoa(nKeys) + " keys")
	}
	if s.Having != nil {
		b.WriteString(" having `" + strings.TrimSpace(s.Having.Source()) + "`")
	}
	return b.String()
}

// graphPattern lays out a pattern rule: its pattern node, fed by the
// source of every type it reads, and its emit node.
func (c *compiler) graphPattern(g *Graph, rid int32, st *ruleState) {
	plan := st.pat.plan
	maxType := int32(0)
	for _, s := range plan.readSchemas {
		plan.reads = append(plan.reads, s.ID)
		maxType = max(maxType, s.ID)
	}
	plan.keys = make([][]fieldProg, maxType+1)
	for r, s := range plan.readSchemas {
		plan.keys[s.ID] = plan.readKeys[r]
	}
	for k, s := range plan.elemSchemas {
		plan.spec.Elements[k].Type = s.ID
	}
	cp, err := pattern.Compile(&plan.spec)
	if err != nil {
		panic("engine: pattern checked at compile time fails with the final type ids: " + err.Error())
	}
	plan.pat = cp
	out := st.out.ID
	g.derived[out] = true
	info := RuleInfo{ID: rid, Name: st.r.name, Pos: st.r.pos, Source: plan.reads[0], Emits: out, Reads: plan.reads}
	pid := int32(len(g.nodes))
	g.nodes = append(g.nodes, Node{ID: pid, Op: OpPattern, Type: out, Inputs: slices.Clone(plan.reads), Expr: plan.desc,
		Fields: st.fields, Pos: st.pat.match.pos, pat: plan})
	for _, t := range plan.reads {
		g.nodes[t].Outputs = append(g.nodes[t].Outputs, pid)
		g.readers[t] = append(g.readers[t], rid)
	}
	eid := int32(len(g.nodes))
	g.nodes = append(g.nodes, Node{ID: eid, Op: OpEmit, Type: out, Pos: st.emit.pos, Inputs: []int32{pid}, Outputs: []int32{out}})
	g.nodes[pid].Outputs = []int32{eid}
	info.Chain = []int32{pid, eid}
	for _, id := range info.Chain {
		g.nodes[id].Rules = append(g.nodes[id].Rules, rid)
	}
	plan.temit = -1
	if tc := st.pat.timeout; tc != nil {
		// The timeout's emit node hangs off the pattern node; it is not
		// in the chain an event of the rule walks (timeouts come from
		// the matcher's timers, not from an event).
		tout := st.pat.tout.ID
		g.derived[tout] = true
		tid := int32(len(g.nodes))
		g.nodes = append(g.nodes, Node{ID: tid, Op: OpEmit, Type: tout, Pos: tc.pos, Inputs: []int32{pid}, Outputs: []int32{tout},
			Fields: st.pat.tfields, Rules: []int32{rid}})
		g.nodes[pid].Outputs = append(g.nodes[pid].Outputs, tid)
		plan.temit = tid
	}
	plan.index, plan.node, plan.emit = int32(len(g.patterns)), pid, eid
	g.patterns = append(g.patterns, plan)
	g.rules = append(g.rules, info)
}

// writePattern writes a pattern node's spec and emitted fields for
// Graph.String.
func writePattern(b *strings.Builder, n *Node) {
	b.WriteByte(' ')
	b.WriteString(n.Expr)
	b.WriteString(" {")
	for i, f := range n.Fields {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(f.Name)
		b.WriteString(": `")
		b.WriteString(f.Expr)
		b.WriteByte('`')
	}
	b.WriteByte('}')
}

// timeoutFields compiles the fields of on timeout emit over the match
// frame (out): on a timed-out partial match the aliases not bound yet are
// nil and the lists hold what was taken. It needs within, and asks the
// pattern for timed-out partial matches.
func (c *compiler) timeoutFields(i int, st *ruleState, spec *pattern.Spec, plan *patternPlan, out *eval.Env, ok bool) ([]event.Field, bool) {
	tc := st.pat.timeout
	name := st.r.name
	if spec.Within <= 0 {
		c.errorf(i, tc.pos, name, ErrRule, "on timeout emit needs within: a partial match times out when within runs out")
		return nil, false
	}
	spec.Timeout = true
	seen := map[string]bool{}
	var fields []event.Field
	for _, f := range tc.fields {
		if f.Expr == "" {
			f.Expr = f.Name
		}
		if !c.emitName(i, name, f, seen) {
			ok = false
			continue
		}
		st.pat.tfields = append(st.pat.tfields, f)
		p, err := eval.Compile(f.Expr, out, eval.NoAggregates(), eval.Clause("on timeout emit"))
		if err != nil {
			c.exprErrors(i, f.Pos, "field "+f.Name, f.Expr, err)
			ok = false
			continue
		}
		t := p.Type()
		if t.Kind == event.KindNil {
			t = event.Any
		}
		plan.tprogs = append(plan.tprogs, p)
		fields = append(fields, event.Field{Name: f.Name, Type: t})
	}
	return fields, ok
}

// emittedSchema resolves the type an emit-like clause emits with fields:
// its declaration, the type another rule emits, or a new inferred type.
// nil: a mismatch, reported.
func (c *compiler) emittedSchema(i int, cl *clause, fields []event.Field, widen *[]bool) *event.Schema {
	name := cl.name
	*widen = make([]bool, len(fields))
	if decl, isDecl := c.declared[name]; isDecl {
		if decl == nil {
			return nil
		}
		if msg := matchDeclared(decl, fields, *widen); msg != "" {
			c.errorf(i, cl.pos, c.rules[i].r.name, ErrSchemaMismatch, "emits %s %s, but %s is declared %s: %s", name, fieldList(fields), name, fieldList(decl.Fields), msg)
			return nil
		}
		return decl
	}
	if t, found := c.inferred[name]; found {
		if msg := matchInferred(t.schema.Fields, fields); msg != "" {
			c.errorf(i, cl.pos, c.rules[i].r.name, ErrSchemaMismatch, "emits %s %s, but rule %s emits %s %s: %s; declare %s to pin its fields", name, fieldList(fields), c.rules[t.first].r.name, name, fieldList(t.schema.Fields), msg, name)
			return nil
		}
		return t.schema
	}
	s := event.NewSchema(name, fields, "", 0)
	c.inferred[name] = &inferredType{schema: s, first: i}
	return s
}

// onlyCount reports the aggregates of a counting rule's expression other
// than count(), the one aggregate of pattern rules.
func (c *compiler) onlyCount(i int, pos Pos, name, what string, p *eval.Program) bool {
	for _, a := range p.Aggregates() {
		if a.Func != "count" || a.Arg != nil {
			c.errorf(i, pos, name, ErrExpr, "%s: aggregate %s is not available in a pattern rule; count() (no argument) is the number of matches that complete at an event", what, a.Func)
			return false
		}
	}
	return true
}
