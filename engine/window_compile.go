package engine

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/cepengine/cep/engine/eval"
	"github.com/cepengine/cep/engine/event"
	"github.com/cepengine/cep/window"
)

// keyedRule gathers a rule's keyed clauses while the compiler checks its
// structure, and their compiled form.
type keyedRule struct {
	keys   []keyDecl
	window *clause // Kind != 0
	having *clause
	output *clause
	plan   *keyedPlan
}

type keyDecl struct {
	expr string
	pos  Pos
}

// keyedPlan is the immutable compiled form of a keyed operator: a window
// operator (a window rule, in place of its projection) or an output
// operator (a filter rule's output rate limit, after its projection). Every
// matcher of the graph runs it with its own keyedOp state.
type keyedPlan struct {
	index int32 // among the graph's keyed operators, in rule order
	rule  int32
	emit  int32 // the rule's emit node
	node  int32 // this operator's node

	keys []fieldProg // partition keys over the source event

	// Window operators.
	window WindowSpec // Kind 0: an output operator
	aggs   *window.Aggs[event.Value]
	args   []fieldProg // distinct aggregate arguments
	num    []numCol    // Row.Num columns
	// numOnly: argument i is Num column i and nothing else (no Key, Val
	// or presence columns), so it is evaluated straight into the row.
	numOnly bool
	// numSlots: numOnly, and every argument a plain field: argument i is
	// field numSlots[i] of the source event, read in place.
	numSlots []int
	// numArith: numOnly, and every argument a field or one + - * / over
	// fields and constants (px * vol): computed straight into its column
	// (see numArg), without the value the direct form of a program returns.
	numArith []numArg
	keyCol   []int     // Row.Key columns: the argument each hashes
	valCol   []int     // Row.Val columns: the argument each holds
	reads    []aggRead // how each aggregate's result reaches Frame.Vars
	nVars    int
	having   *eval.Program
	progs    []*eval.Program // emitted fields
	keyVar   []int           // per emitted field: the key it copies (Frame.Vars slot), or -1
	arith    []*eval.Arith   // per emitted field: its direct form, or nil
	widen    []bool
	direct   *directPlan // the emitted fields' direct form (see window_direct.go), or nil
	oneKey   int         // the one key is this field of the source event, or -1 (keyTable.findOne)

	// Output rate limit (window and output operators); mode 0: none.
	mode  OutputMode
	every int64
}

// fieldProg is an expression over the source event; slot >= 0 when it is a
// plain field, read directly; arith, when not nil, is its direct form
// (px * vol), computed without the machine.
type fieldProg struct {
	prog  *eval.Program
	slot  int
	arith *eval.Arith
}

// numCol is a Num column: an argument's value, or (presence) 1 when it is
// not nil and window.Missing when it is, for count(x) and as the Skip
// column of count_distinct(x).
type numCol struct {
	arg      int
	presence bool
}

// aggRead says how an aggregate's result is read from a window result.
type aggRead struct {
	v    int // Frame.Vars slot
	agg  int // window aggregate index
	kind readKind
}

type readKind uint8

const (
	readCount    readKind = iota // count(): the window's event count
	readCountArg                 // count(x), count_distinct(x): an int, 0 when none
	readInt                      // sum, min, max of ints: an int or nil
	readFloat                    // a float or nil
	readValue                    // first, last, min and max over Val: the value or nil
)

// keyedClause records a partition by, window, having or output clause while
// the compiler checks the rule's structure.
func (c *compiler) keyedClause(st *ruleState, cl *clause, bad func(Pos, error, string, ...any)) {
	if st.keyed == nil {
		st.keyed = &keyedRule{}
	}
	k := st.keyed
	switch cl.kind {
	case clausePartition:
		if k.window != nil || k.having != nil {
			bad(cl.pos, ErrRule, "partition by clause after %s; partition by comes before window and having", clauseNames[k.lastKind()])
		}
		if len(cl.k.keys) == 0 {
			bad(cl.pos, ErrRule, "partition by without keys")
		}
		for _, e := range cl.k.keys {
			if strings.TrimSpace(e) == "" {
				bad(cl.pos, ErrExpr, "empty partition key")
				continue
			}
			k.keys = append(k.keys, keyDecl{expr: e, pos: cl.pos})
		}
	case clauseWindow:
		switch {
		case k.window != nil:
			bad(cl.pos, ErrRule, "second window clause; a rule has one window")
			return
		case k.having != nil:
			bad(cl.pos, ErrRule, "window clause after having; window comes first")
		}
		k.window = cl
		if msg := windowSpecError(cl.k.window); msg != "" {
			bad(cl.pos, ErrRule, "%s", msg)
		}
	case clauseHaving:
		if k.having != nil {
			bad(cl.pos, ErrRule, "second having clause; combine the conditions with and")
			return
		}
		k.having = cl
		if strings.TrimSpace(cl.expr) == "" {
			bad(cl.pos, ErrExpr, "empty having expression")
		}
	case clauseOutput:
		if k.output != nil {
			bad(cl.pos, ErrRule, "second output clause; a rule has one output rate limit")
			return
		}
		k.output = cl
		switch {
		case cl.k.mode != OutputFirst && cl.k.mode != OutputLast:
			bad(cl.pos, ErrRule, "output mode %s; want OutputFirst or OutputLast", cl.k.mode)
		case cl.k.every <= 0:
			bad(cl.pos, ErrRule, "output every %s; want a positive duration", cl.k.every)
		}
	}
}

func (k *keyedRule) lastKind() clauseKind {
	if k.having != nil {
		return clauseHaving
	}
	return clauseWindow
}

// windowSpecError checks a window spec's parameters.
func windowSpecError(w WindowSpec) string {
	switch w.Kind {
	case WindowTumbling, WindowSliding:
		if w.Size <= 0 {
			return fmt.Sprintf("%s window size %s; want a positive duration", w.Kind, w.Size)
		}
	case WindowHopping:
		switch {
		case w.Size <= 0 || w.Step <= 0:
			return fmt.Sprintf("hopping window %s every %s; want positive durations", w.Size, w.Step)
		case (w.Size-1)/w.Step+1 > window.MaxHoppingOverlap:
			return fmt.Sprintf("hopping window %s every %s puts each event in %d windows, at most %d",
				w.Size, w.Step, (w.Size-1)/w.Step+1, window.MaxHoppingOverlap)
		}
	case WindowCount, WindowSlidingCount:
		if w.Count < 1 {
			return fmt.Sprintf("%s window of %d events; want at least 1", w.Kind, w.Count)
		}
	case WindowSession:
		if w.Gap <= 0 {
			return fmt.Sprintf("session gap %s; want a positive duration", w.Gap)
		}
	default:
		return "window without a kind; use Tumbling, Hopping, Sliding, CountWindow, SlidingCount or Session"
	}
	return ""
}

// checkKeyed checks what needs the whole rule: having needs a window.
func (c *compiler) checkKeyed(st *ruleState, bad func(Pos, error, string, ...any)) {
	if k := st.keyed; k != nil && k.having != nil && k.window == nil {
		bad(k.having.pos, ErrRule, "having needs a window; a filter rule filters with where")
	}
}

// keyEnv is the scope of partition keys: the source's fields, its alias,
// the constants, and the type's name as a qualifier (Trade.sym) when that
// name is free.
func (c *compiler) keyEnv(st *ruleState) *eval.Env {
	env := c.env(st)
	name := st.schema.Name
	_, isField := st.schema.Slot(name)
	isConst := false
	for _, k := range c.consts {
		isConst = isConst || k.name == name
	}
	if name != st.alias && !isField && !isConst {
		env.Alias(name, st.schema, 0)
	}
	return env
}

// compileKeys compiles the partition keys of rule i. It returns their
// programs and, per key, the name it has in having and emit ("" when it is
// not a plain field, or its field is named by an earlier key) and its type.
func (c *compiler) compileKeys(i int, st *ruleState) ([]fieldProg, []string, []event.Type, bool) {
	k := st.keyed
	if len(k.keys) == 0 {
		return nil, nil, nil, true
	}
	env := c.keyEnv(st)
	ok := true
	var progs []fieldProg
	var names []string
	var types []event.Type
	seenExpr := map[string]bool{}
	seenName := map[string]bool{}
	for _, kd := range k.keys {
		text := strings.TrimSpace(kd.expr)
		if seenExpr[text] {
			c.errorf(i, kd.pos, st.r.name, ErrDuplicate, "partition key %s listed twice", text)
			ok = false
			continue
		}
		seenExpr[text] = true
		p, err := eval.Compile(kd.expr, env, eval.NoAggregates(), eval.Clause("partition by"))
		if err != nil {
			c.exprErrors(i, kd.pos, "partition key", kd.expr, err)
			ok = false
			continue
		}
		t := p.Type()
		switch t.Kind {
		case event.KindList:
			c.errorf(i, kd.pos, st.r.name, ErrExpr, "partition key %s is a list (%s); a key must be a single value", text, t)
			ok = false
			continue
		case event.KindNil:
			t = event.Any
		}
		name := c.keyName(st, text)
		if seenName[name] {
			name = ""
		}
		if name != "" {
			seenName[name] = true
		}
		progs = append(progs, fieldProg{prog: p, slot: c.copySlot(st, keyField(st, text))})
		names = append(names, name)
		types = append(types, t)
	}
	return progs, names, types, ok
}

// keyName is the name a key has in having and emit: its field's, when it
// is a plain field (user, alias.user, Type.user).
func (c *compiler) keyName(st *ruleState, text string) string {
	f := keyField(st, text)
	if _, isField := st.schema.Slot(f); isField && isIdent(f) {
		return f
	}
	return ""
}

// keyField strips a qualifier (the alias or the type's name) from a key.
func keyField(st *ruleState, text string) string {
	if q, f, ok := strings.Cut(text, "."); ok {
		q, f = strings.TrimSpace(q), strings.TrimSpace(f)
		if (q == st.alias || q == st.schema.Name) && isIdent(f) {
			return f
		}
		return text
	}
	return text
}

func isIdent(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		if r != '_' && !(r >= 'a' && r <= 'z') && !(r >= 'A' && r <= 'Z') && !(i > 0 && r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

// compileOutputKeys compiles the keyed clauses of a filter rule: its keys
// and its output rate limit (a filter rule with keys and no output only
// checks its keys).
func (c *compiler) compileOutputKeys(i int, st *ruleState) bool {
	keys, _, _, ok := c.compileKeys(i, st)
	if !ok {
		return false
	}
	if o := st.keyed.output; o != nil {
		st.keyed.plan = &keyedPlan{rule: int32(i), keys: keys, mode: o.k.mode, every: int64(o.k.every), oneKey: oneKey(keys)}
	}
	return true
}

// compileWindowRule compiles a window rule: its where filters, keys,
// having and emitted fields (with aggregates), the window's aggregates and
// the emitted type.
func (c *compiler) compileWindowRule(i int, st *ruleState) {
	k := st.keyed
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
	keys, names, types, kok := c.compileKeys(i, st)
	ok = ok && kok

	// having and emit see the named keys (Frame.Vars[j]), the constants,
	// and aggregates over the source (allocated after the keys).
	out := eval.NewEnv()
	for j, name := range names {
		if name != "" {
			out.Var(name, types[j], j)
		}
	}
	for _, kc := range c.consts {
		out.Const(kc.name, kc.val)
	}
	plan := &keyedPlan{rule: int32(i), keys: keys, window: k.window.k.window, oneKey: oneKey(keys)}
	if h := k.having; h != nil {
		p, err := eval.Compile(h.expr, out, eval.ExpectBool(), eval.Aggregates(env), eval.Clause("having"))
		if err != nil {
			c.exprErrors(i, h.pos, "having", h.expr, err)
			ok = false
		}
		plan.having = p
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
		p, err := eval.Compile(f.Expr, out, eval.Aggregates(env), eval.Clause("emit"))
		if err != nil {
			c.exprErrors(i, f.Pos, "field "+f.Name, f.Expr, err)
			ok = false
			continue
		}
		t := p.Type()
		if t.Kind == event.KindNil {
			t = event.Any
		}
		plan.progs = append(plan.progs, p)
		plan.keyVar = append(plan.keyVar, keyVarOf(f.Expr, names, c.consts))
		a, _ := p.Arith()
		plan.arith = append(plan.arith, a)
		fields = append(fields, event.Field{Name: f.Name, Type: t})
	}
	if !ok {
		return
	}
	if err := c.planAggregates(plan, st, out.Aggregates(), len(keys)); err != nil {
		c.errorf(i, k.window.pos, st.r.name, ErrRule, "%v", err)
		return
	}
	if o := k.output; o != nil {
		plan.mode, plan.every = o.k.mode, int64(o.k.every)
	}
	plan.widen = make([]bool, len(fields))
	name := st.emit.name
	if decl, isDecl := c.declared[name]; isDecl {
		if decl == nil {
			return
		}
		if msg := matchDeclared(decl, fields, plan.widen); msg != "" {
			c.errorf(i, st.emit.pos, st.r.name, ErrSchemaMismatch, "emits %s %s, but %s is declared %s: %s", name, fieldList(fields), name, fieldList(decl.Fields), msg)
			return
		}
		st.out = decl
	} else if t, found := c.inferred[name]; found {
		if msg := matchInferred(t.schema.Fields, fields); msg != "" {
			c.errorf(i, st.emit.pos, st.r.name, ErrSchemaMismatch, "emits %s %s, but rule %s emits %s %s: %s; declare %s to pin its fields", name, fieldList(fields), c.rules[t.first].r.name, name, fieldList(t.schema.Fields), msg, name)
			return
		}
		st.out = t.schema
	} else {
		st.out = event.NewSchema(name, fields, "", 0)
		c.inferred[name] = &inferredType{schema: st.out, first: i}
	}
	plan.direct = newDirectPlan(plan)
	k.plan = plan
	st.compiled = true
}

// keyVarOf returns the Frame.Vars slot of the named key an emitted field
// is (its expression is the key's name, not shadowed by a constant), or -1:
// such a field is copied, not evaluated.
func keyVarOf(expr string, names []string, consts []constDecl) int {
	e := strings.TrimSpace(expr)
	for _, k := range consts {
		if k.name == e {
			return -1
		}
	}
	for j, name := range names {
		if name != "" && name == e {
			return j
		}
	}
	return -1
}

// planAggregates lays out the window's aggregates: one window aggregate per
// eval aggregate, over Row columns shared by equal arguments, and how each
// result reaches Frame.Vars.
func (c *compiler) planAggregates(plan *keyedPlan, st *ruleState, aggs []eval.Aggregate, nKeys int) error {
	argIndex := map[string]int{}
	arg := func(p *eval.Program) int {
		src := strings.TrimSpace(p.Source())
		if j, ok := argIndex[src]; ok {
			return j
		}
		argIndex[src] = len(plan.args)
		fp := fieldProg{prog: p, slot: c.copySlot(st, src)}
		if a, ok := p.Arith(); ok && fp.slot < 0 {
			fp.arith = a
		}
		plan.args = append(plan.args, fp)
		return len(plan.args) - 1
	}
	colIndex := map[string]int{}
	col := func(kind string, a int, cols *[]int) int {
		key := fmt.Sprint(kind, a)
		if j, ok := colIndex[key]; ok {
			return j
		}
		colIndex[key] = len(*cols)
		*cols = append(*cols, a)
		return len(*cols) - 1
	}
	var numArgs []int // the argument of each Num column, -1-arg for presence columns
	numColOf := func(a int, presence bool) int {
		code := a
		if presence {
			code = -1 - a
		}
		return col("num", code, &numArgs)
	}
	specs := make([]window.AggSpec, 0, len(aggs))
	plan.nVars = nKeys
	for _, a := range aggs {
		rd := aggRead{v: a.Var, agg: len(specs), kind: readFloat}
		var sp window.AggSpec
		switch a.Func {
		case "count":
			if a.Arg == nil {
				sp, rd.kind = window.AggSpec{Op: window.OpCount}, readCount
				break
			}
			sp, rd.kind = window.AggSpec{Op: window.OpSum, Arg: numColOf(arg(a.Arg), true)}, readCountArg
		case "count_distinct":
			x := arg(a.Arg)
			sp = window.AggSpec{Op: window.OpCountDistinct, Arg: col("key", x, &plan.keyCol), Skip: 1 + numColOf(x, true)}
			rd.kind = readCountArg
		case "sum", "avg", "stddev", "var", "percentile":
			op := map[string]window.Op{"sum": window.OpSum, "avg": window.OpAvg, "stddev": window.OpStddev,
				"var": window.OpVar, "percentile": window.OpPercentile}[a.Func]
			sp = window.AggSpec{Op: op, Arg: numColOf(arg(a.Arg), false), Q: a.Q}
			if a.Type.Kind == event.KindInt {
				rd.kind = readInt
			}
		case "min", "max":
			op := window.OpMin
			if a.Func == "max" {
				op = window.OpMax
			}
			switch a.Arg.Type().Kind {
			case event.KindInt, event.KindFloat:
				sp = window.AggSpec{Op: op, Arg: numColOf(arg(a.Arg), false)}
				if a.Type.Kind == event.KindInt {
					rd.kind = readInt
				}
			default: // strings, times, durations: exact, by the values' order
				sp = window.AggSpec{Op: op, Arg: col("val", arg(a.Arg), &plan.valCol), Val: true}
				rd.kind = readValue
			}
		case "first", "last":
			op := window.OpFirst
			if a.Func == "last" {
				op = window.OpLast
			}
			sp, rd.kind = window.AggSpec{Op: op, Arg: col("val", arg(a.Arg), &plan.valCol)}, readValue
		default:
			return fmt.Errorf("aggregate %s is not supported", a.Func)
		}
		specs = append(specs, sp)
		plan.reads = append(plan.reads, rd)
		plan.nVars = max(plan.nVars, a.Var+1)
	}
	plan.numOnly = len(plan.keyCol) == 0 && len(plan.valCol) == 0 && len(numArgs) == len(plan.args)
	for c, code := range numArgs {
		if code < 0 {
			plan.num = append(plan.num, numCol{arg: -1 - code, presence: true})
		} else {
			plan.num = append(plan.num, numCol{arg: code})
		}
		plan.numOnly = plan.numOnly && code == c
	}
	if plan.numOnly {
		for _, a := range plan.args {
			if a.slot < 0 {
				plan.numSlots = nil
				break
			}
			plan.numSlots = append(plan.numSlots, a.slot)
		}
		if plan.numSlots == nil {
			plan.numArith = numArgsOf(plan.args)
		}
	}
	aggsC, err := window.NewAggsFuncs(specs, window.ValFuncs[event.Value]{Equal: sameResult, Less: lessValue, Missing: event.Value.IsNil})
	if err != nil {
		return err
	}
	plan.aggs = aggsC
	if _, err := plan.newWindow(); err != nil {
		return err
	}
	return nil
}

// sameResult compares two values of first, last, min or max for a sliding
// window's "changed": same kind and value, NaN equal to NaN.
func sameResult(a, b event.Value) bool {
	if a.Kind() != b.Kind() {
		return false
	}
	if a.Kind() == event.KindFloat {
		x, y := a.Float(), b.Float()
		return x == y || (x != x && y != y)
	}
	return a.Equal(b)
}

// lessValue orders the values of min and max over strings, times and
// durations (and ints, which are ordered too).
func lessValue(a, b event.Value) bool {
	switch a.Kind() {
	case event.KindString:
		return a.Str() < b.Str()
	case event.KindTime:
		return a.Time() < b.Time()
	case event.KindDuration:
		return a.Duration() < b.Duration()
	case event.KindInt:
		return a.Int() < b.Int()
	case event.KindFloat:
		return a.Float() < b.Float()
	}
	return false
}

// newWindow returns an empty window of the plan's spec.
func (p *keyedPlan) newWindow() (window.Window[event.Value], error) {
	w := p.window
	switch w.Kind {
	case WindowTumbling:
		return window.NewTumbling(p.aggs, int64(w.Size))
	case WindowHopping:
		return window.NewHopping(p.aggs, int64(w.Size), int64(w.Step))
	case WindowSliding:
		return window.NewSliding(p.aggs, int64(w.Size))
	case WindowCount:
		return window.NewCountTumbling(p.aggs, w.Count)
	case WindowSlidingCount:
		cw, err := window.NewCountSliding(p.aggs, w.Count)
		if err == nil {
			cw.NoChanged() // every arrival emits: Changed is not read
		}
		return cw, err
	case WindowSession:
		return window.NewSession(p.aggs, int64(w.Gap))
	}
	return nil, fmt.Errorf("window without a kind")
}

// keyedNode returns the graph node of a rule's keyed operator: a window
// node for a window rule, an output node for a filter rule with output,
// ok false for a rule without either.
func (c *compiler) keyedNode(st *ruleState) (Node, bool) {
	if st.keyed == nil || st.keyed.plan == nil {
		return Node{}, false
	}
	p := st.keyed.plan
	n := Node{Type: st.schema.ID, Alias: st.alias, keyed: p}
	var b strings.Builder
	if len(st.keyed.keys) > 0 {
		b.WriteString("by ")
		for j, kd := range st.keyed.keys {
			if j > 0 {
				b.WriteString(", ")
			}
			b.WriteString("`" + strings.TrimSpace(kd.expr) + "`")
		}
	}
	if p.window.Kind != 0 {
		n.Op, n.Pos, n.Fields = OpWindow, st.keyed.window.pos, st.fields
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(p.window.String())
		if h := st.keyed.having; h != nil {
			b.WriteString(" having `" + strings.TrimSpace(h.expr) + "`")
		}
	} else {
		n.Op, n.Pos = OpOutput, st.keyed.output.pos
	}
	if p.mode != 0 {
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString("output " + p.mode.String() + " every " + formatDuration(time.Duration(p.every)))
	}
	n.Expr = b.String()
	return n, true
}

// satAdd is a + b for b >= 0, saturating at math.MaxInt64.
func satAdd(a, b int64) int64 {
	if a > math.MaxInt64-b {
		return math.MaxInt64
	}
	return a + b
}

// writeKeyed writes a window or output node's spec for Graph.String, and a
// window's emitted fields as a projection's are written.
func writeKeyed(b *strings.Builder, n *Node) {
	b.WriteByte(' ')
	b.WriteString(n.Expr)
	if n.Op != OpWindow {
		return
	}
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

// addKeyed registers a keyed operator of rule rid, at node id, emitting
// through node emit.
func (g *Graph) addKeyed(p *keyedPlan, rid, id, emit int32) {
	p.index, p.rule, p.node, p.emit = int32(len(g.keyed)), rid, id, emit
	g.keyed = append(g.keyed, p)
}

// oneKey is keyedPlan.oneKey: the slot of a partition key that is one plain
// field, or -1.
func oneKey(keys []fieldProg) int {
	if len(keys) == 1 && keys[0].slot >= 0 {
		return keys[0].slot
	}
	return -1
}
