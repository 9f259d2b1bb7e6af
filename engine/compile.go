package engine

import (
	"errors"
	"fmt"
	"strings"

	"github.com/cepengine/cep/engine/eval"
	"github.com/cepengine/cep/engine/event"
)

// reservedTypes are the built-in streams and the subscription wildcard.
var reservedTypes = map[string]bool{"late": true, "invalid": true, AllDerived: true}

// reservedOutput are the keys the JSON Lines encoder writes before the
// emitted fields; an emitted field of the same name would be ambiguous.
var reservedOutput = map[string]bool{"type": true, "time": true, "rule": true, "events": true}

// Build checks and compiles everything declared so far into a Graph. On
// error it returns an ErrorList with every error found (nothing is
// half-built). Build does not modify the Builder and may be called again.
func (b *Builder) Build() (*Graph, error) {
	c := &compiler{
		b:        b,
		reg:      event.NewRegistry(),
		declared: map[string]*event.Schema{},
		declPos:  map[string]Pos{},
		inferred: map[string]*inferredType{},
	}
	c.declare()
	c.constants()
	c.compileRules()
	if len(c.errs) > 0 {
		c.errs.sort()
		return nil, c.errs
	}
	return c.graph(), nil
}

type inferredType struct {
	schema *event.Schema
	first  int // index of the rule whose emit defined it
}

type ruleState struct {
	r        *Rule
	from     *clause
	alias    string
	filters  []*clause
	emit     *clause
	producer []int // rules whose output this rule reads
	ok       bool  // structure valid
	compiled bool
	keyed    *keyedRule   // partition by, window, having, output: window_compile.go
	pat      *patternRule // match: pattern_compile.go

	schema *event.Schema // type read
	out    *event.Schema // type emitted
	fprogs []*eval.Program
	eprogs []*eval.Program
	copy   []int // per emitted field: the source slot it copies, or -1
	fields []Field
	widen  []bool
}

type compiler struct {
	b        *Builder
	reg      *event.Registry
	declared map[string]*event.Schema
	declPos  map[string]Pos
	inferred map[string]*inferredType
	consts   []constDecl
	rules    []*ruleState
	errs     ErrorList
	seq      int
	nPattern int // pattern rules compiled so far: their rank in dependency order
}

func (c *compiler) errorf(order int, pos Pos, rule string, sentinel error, format string, args ...any) {
	c.seq++
	c.errs = append(c.errs, &BuildError{Pos: pos, Rule: rule, Msg: fmt.Sprintf(format, args...), Err: sentinel, order: order, seq: c.seq})
}

func (c *compiler) declare() {
	for _, t := range c.b.types {
		switch {
		case t.name == "":
			c.errorf(-1, t.pos, "", ErrRule, "event type without a name")
			continue
		case reservedTypes[t.name]:
			c.errorf(-1, t.pos, "", ErrReserved, "event type name %q is reserved for the built-in stream", t.name)
			continue
		}
		if _, dup := c.declared[t.name]; dup {
			c.errorf(-1, t.pos, "", ErrDuplicate, "event type %s declared twice (first at %s)", t.name, posOrUnknown(c.declPos[t.name]))
			continue
		}
		ok := true
		fields := make([]event.Field, 0, len(t.fields))
		seen := map[string]Pos{}
		for _, f := range t.fields {
			if f.name == "" {
				c.errorf(-1, f.pos, "", ErrRule, "event type %s: field without a name", t.name)
				ok = false
				continue
			}
			if p, dup := seen[f.name]; dup {
				c.errorf(-1, f.pos, "", ErrDuplicate, "event type %s: field %s declared twice (first at %s)", t.name, f.name, posOrUnknown(p))
				ok = false
				continue
			}
			if !validType(f.typ) {
				c.errorf(-1, f.pos, "", ErrRule, "event type %s: field %s has no valid type", t.name, f.name)
				ok = false
				continue
			}
			seen[f.name] = f.pos
			fields = append(fields, event.Field{Name: f.name, Type: f.typ})
		}
		if t.timeField != "" {
			var ft *event.Field
			for i := range fields {
				if fields[i].Name == t.timeField {
					ft = &fields[i]
				}
			}
			switch {
			case ft == nil:
				c.errorf(-1, t.timePos, "", ErrUnknownField, "event type %s: time field %s is not one of its fields%s", t.name, t.timeField, suggest(t.timeField, fieldNames(fields)))
				ok = false
			case ft.Type.Kind != event.KindTime:
				c.errorf(-1, t.timePos, "", ErrFieldType, "event type %s: time field %s has type %s; want time", t.name, t.timeField, ft.Type)
				ok = false
			}
		}
		if t.lateness < 0 {
			c.errorf(-1, t.latePos, "", ErrRule, "event type %s: lateness %s is negative", t.name, t.lateness)
			ok = false
		}
		c.declPos[t.name] = t.pos
		if !ok {
			c.declared[t.name] = nil // known name, broken declaration: no cascade of errors
			continue
		}
		s := event.NewSchema(t.name, fields, t.timeField, t.lateness)
		c.declared[t.name] = s
		c.reg.Add(s)
	}
}

func validType(t event.Type) bool {
	switch t.Kind {
	case event.KindBool, event.KindInt, event.KindFloat, event.KindString, event.KindTime, event.KindDuration, event.KindAny:
		return true
	case event.KindList:
		return t.Elem == nil || validType(*t.Elem)
	}
	return false
}

func (c *compiler) constants() {
	seen := map[string]Pos{}
	for _, k := range c.b.consts {
		if p, dup := seen[k.name]; dup {
			c.errorf(-1, k.pos, "", ErrDuplicate, "constant %s declared twice (first at %s)", k.name, posOrUnknown(p))
			continue
		}
		seen[k.name] = k.pos
		c.consts = append(c.consts, k)
	}
}

// structure checks the clause order of each rule and resolves names.
func (c *compiler) structure() map[string][]int {
	emitters := map[string][]int{}
	names := map[string]Pos{}
	for i, r := range c.b.rules {
		st := &ruleState{r: r, ok: true}
		c.rules = append(c.rules, st)
		bad := func(pos Pos, sentinel error, format string, args ...any) {
			c.errorf(i, pos, r.name, sentinel, format, args...)
			st.ok = false
		}
		if r.name == "" {
			bad(r.pos, ErrRule, "rule without a name")
		} else if p, dup := names[r.name]; dup {
			bad(r.pos, ErrDuplicate, "rule %s declared twice (first at %s)", r.name, posOrUnknown(p))
		} else {
			names[r.name] = r.pos
		}
		if isPatternRule(r) {
			c.patternStructure(st, bad)
			if st.emit != nil && st.emit.name != "" && !reservedTypes[st.emit.name] {
				emitters[st.emit.name] = append(emitters[st.emit.name], i)
			}
			if tc := st.pat.timeout; tc != nil && tc.name != "" && !reservedTypes[tc.name] && (st.emit == nil || tc.name != st.emit.name) {
				emitters[tc.name] = append(emitters[tc.name], i)
			}
			continue
		}
		hasFrom := false
		for _, cl := range r.clauses {
			hasFrom = hasFrom || cl.kind == clauseFrom
		}
		if !hasFrom {
			bad(r.pos, ErrRule, "rule has no from clause")
		}
		for j := range r.clauses {
			cl := &r.clauses[j]
			switch {
			case !hasFrom:
				if cl.kind == clauseEmit {
					st.emit = cl
				}
			case st.emit != nil && cl.kind != clauseOutput:
				bad(cl.pos, ErrRule, "%s clause after emit; emit must come last", clauseNames[cl.kind])
			case cl.kind == clauseFrom && st.from != nil:
				bad(cl.pos, ErrRule, "second from clause; a rule reads one source")
			case cl.kind != clauseFrom && st.from == nil:
				bad(cl.pos, ErrRule, "%s clause before from; from must come first", clauseNames[cl.kind])
			case cl.kind == clauseFrom:
				st.from = cl
				if cl.name == "" {
					bad(cl.pos, ErrUnknownType, "from clause without an event type")
				}
			case cl.kind == clauseAs:
				if j == 0 || r.clauses[j-1].kind != clauseFrom {
					bad(cl.pos, ErrRule, "as clause must follow from")
				} else if cl.name == "" {
					bad(cl.pos, ErrRule, "as clause without an alias")
				}
				st.alias = cl.name
			case cl.kind == clauseWhere:
				if strings.TrimSpace(cl.expr) == "" {
					bad(cl.pos, ErrExpr, "empty where expression")
				}
				st.filters = append(st.filters, cl)
			case cl.kind == clauseWhereFunc:
				if cl.fn == nil {
					bad(cl.pos, ErrRule, "where func %s is nil", cl.name)
				}
				st.filters = append(st.filters, cl)
			case cl.kind == clauseEmit:
				st.emit = cl
				switch {
				case cl.name == "":
					bad(cl.pos, ErrRule, "emit clause without an event type")
				case reservedTypes[cl.name]:
					bad(cl.pos, ErrReserved, "cannot emit %q: the name is reserved for the built-in stream", cl.name)
				}
			case cl.kind >= clausePartition:
				c.keyedClause(st, cl, bad)
			}
		}
		if st.emit == nil {
			bad(r.pos, ErrRule, "rule has no emit clause")
		}
		c.checkKeyed(st, bad)
		if st.emit != nil && st.emit.name != "" && !reservedTypes[st.emit.name] {
			emitters[st.emit.name] = append(emitters[st.emit.name], i)
		}
	}
	return emitters
}

func (c *compiler) compileRules() {
	emitters := c.structure()
	// Resolve sources, and the dependencies between rules.
	for i, st := range c.rules {
		if st.pat != nil {
			c.resolvePattern(i, st, emitters)
			continue
		}
		if st.from == nil || st.from.name == "" {
			continue
		}
		name := st.from.name
		_, declared := c.declared[name]
		prod, emitted := emitters[name]
		if !declared && !emitted {
			c.errorf(i, st.from.pos, st.r.name, ErrUnknownType, "unknown event type %s%s", name, suggest(name, c.typeNames(emitters)))
			st.ok = false
			continue
		}
		st.producer = prod
	}
	for _, i := range c.order(emitters) {
		c.compileRule(i)
	}
}

func (c *compiler) typeNames(emitters map[string][]int) []string {
	var names []string
	for _, t := range c.b.types {
		names = append(names, t.name)
	}
	for _, st := range c.rules {
		if st.emit != nil {
			if _, ok := emitters[st.emit.name]; ok {
				names = append(names, st.emit.name)
			}
		}
		if st.pat != nil && st.pat.timeout != nil {
			if _, ok := emitters[st.pat.timeout.name]; ok {
				names = append(names, st.pat.timeout.name)
			}
		}
	}
	return names
}

// order sorts the rules so that every rule comes after the rules whose
// output it reads (Kahn's algorithm, lowest rule index first, so the order
// is deterministic), and reports the cycles that prevent it.
func (c *compiler) order(emitters map[string][]int) []int {
	n := len(c.rules)
	indeg := make([]int, n)
	consumers := make([][]int, n)
	for i, st := range c.rules {
		indeg[i] = len(st.producer)
		for _, p := range st.producer {
			consumers[p] = append(consumers[p], i)
		}
	}
	var h intHeap
	for i := range n {
		if indeg[i] == 0 {
			h.push(i)
		}
	}
	out := make([]int, 0, n)
	for h.len() > 0 {
		i := h.pop()
		out = append(out, i)
		for _, j := range consumers[i] {
			indeg[j]--
			if indeg[j] == 0 {
				h.push(j)
			}
		}
	}
	if len(out) == n {
		return out
	}
	// Report each cycle once, at its lowest-numbered rule.
	inCycle := make([]bool, n)
	for start := range n {
		if indeg[start] == 0 || inCycle[start] {
			continue
		}
		// Walk producers that are still blocked until a rule repeats.
		seenAt := map[int]int{}
		var path []int
		i := start
		for {
			if k, ok := seenAt[i]; ok {
				cycle := path[k:]
				fresh := true
				for _, j := range cycle {
					if inCycle[j] {
						fresh = false
					}
				}
				if fresh {
					c.reportCycle(cycle)
					for _, j := range cycle {
						inCycle[j] = true
					}
				}
				break
			}
			seenAt[i] = len(path)
			path = append(path, i)
			next := -1
			for _, p := range c.rules[i].producer {
				if indeg[p] > 0 && (next < 0 || p < next) {
					next = p
				}
			}
			if next < 0 {
				break
			}
			i = next
		}
	}
	return out
}

func (c *compiler) reportCycle(cycle []int) {
	// cycle lists rules each reading the output of the next; print it in
	// the direction events flow, starting at its lowest-numbered rule.
	low := 0
	for k, i := range cycle {
		if i < cycle[low] {
			low = k
		}
	}
	var b strings.Builder
	for k := range len(cycle) + 1 {
		i := cycle[(low-k+len(cycle)*2)%len(cycle)]
		st := c.rules[i]
		if k > 0 {
			b.WriteString(" -> ")
		}
		b.WriteString(st.r.name)
		if k < len(cycle) {
			b.WriteString(" (emits ")
			b.WriteString(st.emit.name)
			b.WriteByte(')')
		}
	}
	st := c.rules[cycle[low]]
	c.errorf(cycle[low], st.r.pos, st.r.name, ErrCycle, "cycle between rules: %s", b.String())
}

// schemaOf returns the schema of a type a rule reads, or nil if the type is
// broken (an error was reported where it broke).
func (c *compiler) schemaOf(name string) *event.Schema {
	if s, ok := c.declared[name]; ok {
		return s
	}
	if t, ok := c.inferred[name]; ok {
		return t.schema
	}
	return nil
}

func (c *compiler) env(st *ruleState) *eval.Env {
	env := eval.NewEnv()
	env.Event(st.schema)
	if st.alias != "" {
		env.Alias(st.alias, st.schema, 0)
	}
	for _, k := range c.consts {
		env.Const(k.name, k.val)
	}
	return env
}

func (c *compiler) compileRule(i int) {
	st := c.rules[i]
	if !st.ok {
		return
	}
	if st.pat != nil {
		c.compilePatternRule(i, st)
		return
	}
	st.schema = c.schemaOf(st.from.name)
	if st.schema == nil {
		return
	}
	if st.keyed != nil && st.keyed.window != nil {
		c.compileWindowRule(i, st)
		return
	}
	ok := true
	env := c.env(st)
	for _, f := range st.filters {
		if f.kind != clauseWhere {
			st.fprogs = append(st.fprogs, nil)
			continue
		}
		p, err := eval.Compile(f.expr, env, eval.ExpectBool(), eval.NoAggregates(), eval.Clause("where"))
		if err != nil {
			c.exprErrors(i, f.pos, "where", f.expr, err)
			ok = false
		}
		st.fprogs = append(st.fprogs, p)
	}
	seen := map[string]bool{}
	var fields []event.Field
	for _, f := range st.emit.fields {
		if f.Expr == "" {
			f.Expr = f.Name
		}
		st.fields = append(st.fields, f)
		if !c.emitName(i, st.r.name, f, seen) {
			ok = false
			continue
		}
		p, err := eval.Compile(f.Expr, env, eval.NoAggregates(), eval.Clause("emit"))
		if err != nil {
			c.exprErrors(i, f.Pos, "field "+f.Name, f.Expr, err)
			ok = false
			continue
		}
		t := p.Type()
		if t.Kind == event.KindNil {
			t = event.Any
		}
		st.eprogs = append(st.eprogs, p)
		st.copy = append(st.copy, c.copySlot(st, f.Expr))
		fields = append(fields, event.Field{Name: f.Name, Type: t})
	}
	if !ok {
		return
	}
	name := st.emit.name
	st.widen = make([]bool, len(fields))
	if decl, isDecl := c.declared[name]; isDecl {
		if decl == nil {
			return
		}
		if msg := matchDeclared(decl, fields, st.widen); msg != "" {
			c.errorf(i, st.emit.pos, st.r.name, ErrSchemaMismatch, "emits %s %s, but %s is declared %s: %s", name, fieldList(fields), name, fieldList(decl.Fields), msg)
			return
		}
		st.out = decl
	} else if t, ok := c.inferred[name]; ok {
		if msg := matchInferred(t.schema.Fields, fields); msg != "" {
			c.errorf(i, st.emit.pos, st.r.name, ErrSchemaMismatch, "emits %s %s, but rule %s emits %s %s: %s; declare %s to pin its fields", name, fieldList(fields), c.rules[t.first].r.name, name, fieldList(t.schema.Fields), msg, name)
			return
		}
		st.out = t.schema
	} else {
		st.out = event.NewSchema(name, fields, "", 0)
		c.inferred[name] = &inferredType{schema: st.out, first: i}
	}
	if st.keyed != nil && !c.compileOutputKeys(i, st) {
		return
	}
	st.compiled = true
}

// copySlot returns the source slot an emitted field copies unchanged (its
// expression is a field name, or alias.field, not shadowed by a constant),
// or -1. The matcher copies such fields without evaluating anything.
func (c *compiler) copySlot(st *ruleState, expr string) int {
	name := strings.TrimSpace(expr)
	if st.alias != "" && strings.HasPrefix(name, st.alias+".") {
		name = name[len(st.alias)+1:]
	}
	for _, k := range c.consts {
		if k.name == name {
			return -1
		}
	}
	if slot, ok := st.schema.Slot(name); ok && name != "" {
		return slot
	}
	return -1
}

// matchDeclared checks emitted fields against a declared type. An int
// expression may fill a float field (marked in widen); any field takes
// anything.
func matchDeclared(decl *event.Schema, fields []event.Field, widen []bool) string {
	if len(decl.Fields) != len(fields) {
		return fmt.Sprintf("%d fields, want %d", len(fields), len(decl.Fields))
	}
	for k, f := range fields {
		d := decl.Fields[k]
		switch {
		case d.Name != f.Name:
			return fmt.Sprintf("field %d is %s, want %s", k+1, f.Name, d.Name)
		case d.Type.Kind == event.KindAny || f.Type.Kind == event.KindAny || d.Type.Equal(f.Type):
		case d.Type.Kind == event.KindFloat && f.Type.Kind == event.KindInt:
			widen[k] = true
		default:
			return fmt.Sprintf("field %s has type %s, want %s", f.Name, f.Type, d.Type)
		}
	}
	return ""
}

func matchInferred(have, fields []event.Field) string {
	if len(have) != len(fields) {
		return fmt.Sprintf("%d fields against %d", len(fields), len(have))
	}
	for k, f := range fields {
		switch {
		case have[k].Name != f.Name:
			return fmt.Sprintf("field %d is %s against %s", k+1, f.Name, have[k].Name)
		case !have[k].Type.Equal(f.Type):
			return fmt.Sprintf("field %s has type %s against %s", f.Name, f.Type, have[k].Type)
		}
	}
	return ""
}

func fieldList(fields []event.Field) string {
	var b strings.Builder
	b.WriteByte('{')
	for i, f := range fields {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(f.Name)
		b.WriteString(": ")
		b.WriteString(f.Type.String())
	}
	b.WriteByte('}')
	return b.String()
}

// exprErrors reports the errors of one expression, mapped from positions in
// the expression source to positions in the rule file when pos is known.
func (c *compiler) exprErrors(rule int, pos Pos, what, src string, err error) {
	name := c.rules[rule].r.name
	for _, e := range evalErrors(err) {
		if !pos.IsValid() {
			c.errorf(rule, Pos{File: pos.File}, name, ErrExpr, "%s `%s`: %d:%d: %s", what, src, e.line, e.col, e.msg)
			continue
		}
		p := pos
		if e.line > 1 {
			p.Line += e.line - 1
			p.Col = e.col
		} else if e.col > 0 {
			p.Col += e.col - 1
		}
		c.errorf(rule, p, name, ErrExpr, "%s: %s", what, e.msg)
	}
}

type exprError struct {
	line, col int
	msg       string
}

func evalErrors(err error) []exprError {
	var list *eval.ErrorList
	if errors.As(err, &list) && list != nil {
		out := make([]exprError, 0, len(*list))
		for _, e := range *list {
			out = append(out, exprError{e.Line, e.Col, e.Msg})
		}
		return out
	}
	var one *eval.Error
	if errors.As(err, &one) {
		return []exprError{{one.Line, one.Col, one.Msg}}
	}
	return []exprError{{1, 1, err.Error()}}
}

// graph lays out the nodes: one source per type (id == type id), then per
// rule in rule order its filters (shared when equal), project and emit.
func (c *compiler) graph() *Graph {
	// Derived types not declared are registered in the order of the first
	// rule that emits them, so ids do not depend on the compile order.
	for _, st := range c.rules {
		names := []string{st.emit.name}
		if st.pat != nil && st.pat.timeout != nil {
			names = append(names, st.pat.timeout.name)
		}
		for _, name := range names {
			if t, ok := c.inferred[name]; ok {
				if _, done := c.reg.Lookup(name); !done {
					c.reg.Add(t.schema)
				}
			}
		}
	}
	nt := c.reg.Len()
	g := &Graph{
		reg:      c.reg,
		readers:  make([][]int32, nt),
		derived:  make([]bool, nt),
		declared: make([]bool, nt),
		consts:   c.consts,
	}
	for _, s := range c.reg.Schemas() {
		kinds := make([]event.Kind, len(s.Fields))
		for i, f := range s.Fields {
			kinds[i] = f.Type.Kind
		}
		g.kinds = append(g.kinds, kinds)
		if _, ok := c.declared[s.Name]; ok {
			g.declared[s.ID] = true
			if s.Lateness > g.maxLate {
				g.maxLate = s.Lateness
			}
		}
		g.nodes = append(g.nodes, Node{ID: s.ID, Op: OpSource, Type: s.ID})
	}
	shared := map[string]int32{}
	add := func(n Node, input int32) int32 {
		n.ID = int32(len(g.nodes))
		n.Inputs = []int32{input}
		g.nodes = append(g.nodes, n)
		g.nodes[input].Outputs = append(g.nodes[input].Outputs, n.ID)
		return n.ID
	}
	for i, st := range c.rules {
		rid := int32(i)
		if st.pat != nil {
			c.graphPattern(g, rid, st)
			continue
		}
		in := st.schema.ID
		out := st.out.ID
		g.derived[out] = true
		info := RuleInfo{ID: rid, Name: st.r.name, Pos: st.r.pos, Source: in, Alias: st.alias, Emits: out, Reads: []int32{in}}
		prev := in
		for k, f := range st.filters {
			var id int32
			if f.kind == clauseWhere {
				key := fmt.Sprintf("%d\x00%s\x00%s", prev, st.alias, strings.TrimSpace(f.expr))
				if got, ok := shared[key]; ok {
					id = got
				} else {
					id = add(Node{Op: OpFilter, Type: in, Expr: strings.TrimSpace(f.expr), Alias: st.alias, Pos: f.pos, prog: st.fprogs[k]}, prev)
					shared[key] = id
				}
			} else {
				id = add(Node{Op: OpFilter, Type: in, Expr: "func " + f.name, Alias: st.alias, Pos: f.pos, fn: f.fn}, prev)
			}
			info.Chain = append(info.Chain, id)
			prev = id
		}
		var proj int32
		kn, keyed := c.keyedNode(st)
		if keyed && kn.Op == OpWindow {
			proj = add(kn, prev) // the window computes the fields
		} else {
			proj = add(Node{Op: OpProject, Type: out, Alias: st.alias, Fields: st.fields, Pos: st.emit.pos, progs: st.eprogs, widen: st.widen, copy: st.copy}, prev)
		}
		if keyed && kn.Op == OpOutput {
			info.Chain = append(info.Chain, proj)
			proj = add(kn, proj)
		}
		emit := add(Node{Op: OpEmit, Type: out, Pos: st.emit.pos}, proj)
		g.nodes[emit].Outputs = []int32{out}
		info.Chain = append(info.Chain, proj, emit)
		if keyed {
			g.addKeyed(kn.keyed, rid, proj, emit)
		}
		for _, id := range info.Chain {
			g.nodes[id].Rules = append(g.nodes[id].Rules, rid)
		}
		g.rules = append(g.rules, info)
		g.readers[in] = append(g.readers[in], rid)
	}
	for i := range g.nodes {
		n := &g.nodes[i]
		if n.Op == OpFilter {
			g.nFilters++
		}
		plain := n.Op == OpProject
		for k := range n.copy {
			plain = plain && n.copy[k] >= 0 && !n.widen[k]
		}
		g.exec = append(g.exec, execNode{op: n.Op, typ: n.Type, prog: n.prog, fn: n.fn, progs: n.progs, widen: n.widen, copy: n.copy,
			memo: n.Op == OpFilter && n.fn == nil && len(n.Rules) > 1, plain: plain,
			queue: (n.Op == OpEmit || n.Op == OpProject) && len(g.readers[n.Type]) > 0, keyed: n.keyed, pat: n.pat})
	}
	g.plans = make([][]rulePlan, nt)
	for t, rids := range g.readers {
		for _, rid := range rids {
			p := rulePlan{rule: rid}
			for _, id := range g.rules[rid].Chain {
				switch n := g.exec[id]; n.op {
				case OpWindow, OpOutput, OpPattern:
					// Keyed and pattern rules run node by node (runRule).
					p.general = &g.rules[rid]
				case OpFilter:
					p.filters = append(p.filters, filterStep{fn: n.fn, prog: n.prog, id: id, memo: n.memo})
				case OpProject:
					p.proj = n
				case OpEmit:
					p.emit = n
				}
			}
			g.plans[t] = append(g.plans[t], p)
		}
	}
	return g
}

func posOrUnknown(p Pos) string {
	if !p.IsValid() {
		return "an unknown position"
	}
	return p.String()
}

func fieldNames(fields []event.Field) []string {
	names := make([]string, len(fields))
	for i, f := range fields {
		names[i] = f.Name
	}
	return names
}

// suggest returns "; did you mean X?" for the closest name within a small
// edit distance, or "".
func suggest(name string, names []string) string {
	best, bestD := "", 3
	for _, n := range names {
		if n == name {
			continue
		}
		if d := editDistance(name, n); d < bestD || (d == bestD && best != "" && n < best) {
			best, bestD = n, d
		}
	}
	if best == "" || bestD > len(name)/2+1 {
		return ""
	}
	return "; did you mean " + best + "?"
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// intHeap is a min-heap of rule indexes.
type intHeap []int

func (h *intHeap) len() int { return len(*h) }

func (h *intHeap) push(x int) {
	*h = append(*h, x)
	s := *h
	for i := len(s) - 1; i > 0; {
		p := (i - 1) / 2
		if s[p] <= s[i] {
			break
		}
		s[p], s[i] = s[i], s[p]
		i = p
	}
}

func (h *intHeap) pop() int {
	s := *h
	top := s[0]
	last := len(s) - 1
	s[0] = s[last]
	s = s[:last]
	for i := 0; ; {
		l, r, m := 2*i+1, 2*i+2, i
		if l < len(s) && s[l] < s[m] {
			m = l
		}
		if r < len(s) && s[r] < s[m] {
			m = r
		}
		if m == i {
			break
		}
		s[m], s[i] = s[i], s[m]
		i = m
	}
	*h = s
	return top
}

// emitName checks the name of an emitted field of rule i: present, not a
// key of the output record, not emitted twice. It records the name in seen.
func (c *compiler) emitName(i int, rule string, f Field, seen map[string]bool) bool {
	switch {
	case f.Name == "":
		c.errorf(i, f.Pos, rule, ErrRule, "emitted field without a name")
		return false
	case reservedOutput[f.Name]:
		c.errorf(i, f.Pos, rule, ErrReserved, "emitted field name %q is reserved for the output record; rename it", f.Name)
		return false
	case seen[f.Name]:
		c.errorf(i, f.Pos, rule, ErrDuplicate, "field %s emitted twice", f.Name)
		return false
	}
	seen[f.Name] = true
	return true
}
