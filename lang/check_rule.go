package lang

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/cepengine/cep/engine/eval"
	"github.com/cepengine/cep/engine/event"
)

var clauseRank = func() map[string]int {
	m := map[string]int{}
	for i, k := range ClauseOrder {
		m[k] = i
	}
	return m
}()

var clauseOrderText = strings.Join(ClauseOrder, ", ")

// declareRules checks rule names and structure, and records the types each
// rule emits (inferring a type for every emitted name nobody declared).
func (c *checker) declareRules() {
	c.allDecls(func(d Decl) {
		r, ok := d.(*Rule)
		if !ok {
			return
		}
		ri := &RuleInfo{Name: r.Name.Name, Decl: r, Index: len(c.rules)}
		c.rules = append(c.rules, ri)
		if prev, ok := c.ruleByName[ri.Name]; ok {
			c.errorf(r.Name.Pos, "rule %q is already declared at %s", ri.Name, where(prev.Decl.Name.Pos, r.Name.Pos))
		} else {
			c.ruleByName[ri.Name] = ri
		}
		c.checkStructure(ri)
		if e := r.Emit(); e != nil {
			c.emitType(ri, e.Type)
		}
		if t := r.Timeout(); t != nil && t.Emit != nil {
			c.emitType(ri, t.Emit.Type)
		}
	})
	c.typeNames = sortedKeys(c.types)
}

// emitType records that ri emits the type named id.
func (c *checker) emitType(ri *RuleInfo, id *Ident) {
	if what, ok := reservedTypes[id.Name]; ok {
		c.errorf(id.Pos, "cannot emit %q: the name is reserved for %s", id.Name, what)
		return
	}
	t, ok := c.types[id.Name]
	if !ok {
		t = &EventType{Name: id.Name, pos: id.Pos}
		c.types[id.Name] = t
		c.typeList = append(c.typeList, t)
	}
	if len(t.Emits) == 0 || t.Emits[len(t.Emits)-1] != ri {
		t.Emits = append(t.Emits, ri)
	}
	if !containsType(ri.Emits, t) {
		ri.Emits = append(ri.Emits, t)
	}
}

func containsType(ts []*EventType, t *EventType) bool {
	for _, u := range ts {
		if u == t {
			return true
		}
	}
	return false
}

// checkStructure checks which clauses a rule has and their order, and sets
// its kind.
func (c *checker) checkStructure(ri *RuleInfo) {
	r := ri.Decl
	seen := map[string]Clause{}
	last, lastKw := -1, ""
	for _, cl := range r.Clauses {
		kw := cl.Keyword()
		if first, dup := seen[kw]; dup {
			c.errorf(cl.Start(), "duplicate %s clause; rule %q already has one at %s", kw, ri.Name, where(first.Start(), cl.Start()))
			continue
		}
		seen[kw] = cl
		if rank := clauseRank[kw]; rank < last {
			c.errorf(cl.Start(), "%s must come before %s; clauses go in the order %s", kw, lastKw, clauseOrderText)
		} else {
			last, lastKw = rank, kw
		}
	}
	from, match := r.From(), r.Match()
	switch {
	case match != nil:
		ri.Kind = PatternRule
		if from != nil {
			c.errorf(match.Pos, "rule %q has both from and match; a rule reads either one type (from) or a pattern (match)", ri.Name)
			ri.confused = true
		}
	case from != nil && r.Window() != nil:
		ri.Kind = WindowRule
	case from != nil:
		ri.Kind = FilterRule
	default:
		c.errorf(r.Name.Pos, "rule %q needs a from clause (filter and window rules) or a match clause (pattern rules)", ri.Name)
	}
	if w := r.Window(); w != nil && match != nil {
		c.errorf(w.Pos, "window needs from; a match rule cannot have a window")
	}
	if r.Emit() == nil {
		c.errorf(r.Name.Pos, "rule %q has no emit clause; every rule must emit an event", ri.Name)
	}
	if match == nil {
		if w := r.Within(); w != nil {
			c.errorf(w.Pos, "within needs a match clause; it bounds the time of a pattern")
		}
		if s := r.Skip(); s != nil {
			c.errorf(s.Pos, "skip needs a match clause; it says where to search after a pattern matched")
		}
		if t := r.Timeout(); t != nil {
			c.errorf(t.Pos, "on timeout emit needs a match clause with within")
		}
		if h := r.Having(); h != nil && r.Window() == nil && from != nil {
			c.errorf(h.Pos, "having needs a window or a match; a filter rule filters with where")
		}
	} else if t := r.Timeout(); t != nil && r.Within() == nil {
		c.errorf(t.Pos, "on timeout emit needs a within clause: a partial match times out when within expires")
	}
	if w := r.Within(); w != nil {
		c.positive(w.Duration, "within")
	}
	if o := r.Output(); o != nil {
		c.positive(o.Every, "output every")
	}
}

// positive reports a duration that is zero.
func (c *checker) positive(d *Duration, what string) {
	if d != nil && d.Value <= 0 {
		c.errorf(d.Pos, "%s must be a positive duration, found %s", what, d.Text)
	}
}

// resolveReads resolves the types every rule reads.
func (c *checker) resolveReads() {
	for _, ri := range c.rules {
		r := ri.Decl
		switch {
		case ri.Kind == PatternRule:
			m := r.Match()
			if m.Pattern == nil {
				continue
			}
			walkFactors(m.Pattern, func(fa *Factor) {
				if fa.Elem != nil {
					c.addRead(ri, c.lookupType(fa.Elem.Type))
				}
			})
		case r.From() != nil && r.From().Type != nil:
			ri.Source = c.lookupType(r.From().Type)
			c.addRead(ri, ri.Source)
		}
	}
}

func (c *checker) addRead(ri *RuleInfo, t *EventType) {
	if containsType(ri.Reads, t) {
		return
	}
	ri.Reads = append(ri.Reads, t)
	t.Reads = append(t.Reads, ri)
}

// schema returns the schema of t, inferring it from its emitters when
// needed; nil when it is unknown (already reported).
func (c *checker) schema(t *EventType) *event.Schema {
	if t == nil || t.unknown {
		return nil
	}
	if t.Schema == nil {
		c.inferSchema(t)
	}
	return t.Schema
}

// checkRule checks a rule's expressions and emitted fields. Rules are
// checked in dependency order, so the schemas of the types a rule reads are
// known when it is checked.
func (c *checker) checkRule(ri *RuleInfo) {
	defer func() { c.checked[ri] = true }()
	r := ri.Decl
	scope := &ruleScope{}
	switch ri.Kind {
	case FilterRule, WindowRule:
		if r.From() == nil {
			return
		}
		c.checkFrom(ri)
	case PatternRule:
		c.checkPattern(ri)
	}
	c.checkPartition(ri, scope)
	if ri.Kind == WindowRule {
		c.checkWindow(ri)
	}
	if o := r.Output(); o != nil && o.Every != nil {
		ri.Output = &Output{Last: o.Which == "last", Every: o.Every.Value}
	}
	if w := r.Within(); w != nil && w.Duration != nil {
		ri.Within, ri.WithinGap = w.Duration.Value, w.Gap
	}
	if ri.Kind == PatternRule {
		c.checkCounts(ri)
	}
	if h := r.Having(); h != nil && h.Cond != nil && ri.Kind != FilterRule {
		if env, opts, ok := c.outputEnv(ri, scope, h.Cond, "having"); ok {
			ri.Having = c.compileCond(h.Cond, env, "having", opts...)
			if ri.Counts && ri.Having != nil && !c.onlyCount(h.Cond, ri.Having) {
				ri.Having = nil
			}
		}
	}
	if e := r.Emit(); e != nil {
		ri.Emit = c.checkEmit(ri, scope, e)
	}
	if t := r.Timeout(); t != nil && t.Emit != nil && ri.Kind == PatternRule && !ri.Counts {
		ri.Timeout = c.checkEmit(ri, scope, t.Emit)
	}
	if ri.Kind == WindowRule && scope.outEnv != nil {
		ri.Aggregates = scope.outEnv.Aggregates()
	}
}

// ruleScope carries what a rule's later clauses see of its earlier ones.
type ruleScope struct {
	keysBad bool // partition keys failed: having/emit may miss names

	outDone bool
	outEnv  *eval.Env // scope of having and emit; nil when incomplete
	outOpts []eval.Option
}

// checkFrom checks the from clause of a filter or window rule.
func (c *checker) checkFrom(ri *RuleInfo) {
	from := ri.Decl.From()
	s := c.schema(ri.Source)
	if from.Alias != nil {
		ri.Alias = from.Alias.Name
		if s != nil {
			if _, ok := s.Slot(ri.Alias); ok {
				c.errorf(from.Alias.Pos, "alias %q hides the field %q of %s; choose another alias", ri.Alias, ri.Alias, s.Name)
			}
		}
	}
	if from.Where == nil || s == nil {
		return
	}
	ri.Where = c.compileCond(from.Where, c.sourceEnv(ri, s), "where", eval.NoAggregates())
}

// sourceEnv is the scope of a from rule's where and keys: the fields of the
// source, its alias (Frame.Bound[0]) and the consts.
func (c *checker) sourceEnv(ri *RuleInfo, s *event.Schema) *eval.Env {
	env := eval.NewEnv()
	env.Event(s)
	if ri.Alias != "" {
		env.Alias(ri.Alias, s, 0)
	}
	c.addConsts(env)
	return env
}

// compileCond compiles a condition: its type must be bool.
func (c *checker) compileCond(x *Expr, env *eval.Env, what string, opts ...eval.Option) *Compiled {
	comp := c.compile(x, env, append(opts, eval.ExpectBool(), eval.Clause(what))...)
	if comp == nil {
		return nil
	}
	if k := comp.Type().Kind; k != event.KindBool && k != event.KindAny {
		c.errorf(x.Pos, "%s must be bool, found %s", what, comp.Type())
		return nil
	}
	return comp
}

// compile compiles an expression with eval, mapping its errors to the rule
// file.
func (c *checker) compile(x *Expr, env *eval.Env, opts ...eval.Option) *Compiled {
	return c.compilePrefixed("", x, env, opts...)
}

// compilePrefixed is compile with a prefix on every error message.
func (c *checker) compilePrefixed(prefix string, x *Expr, env *eval.Env, opts ...eval.Option) *Compiled {
	p, err := eval.Compile(x.Text, env, opts...)
	if err != nil {
		c.evalErrors(prefix, x, err)
		return nil
	}
	return &Compiled{Expr: x, Env: env, Program: p}
}

// evalErrors maps eval's errors (positions relative to the expression text)
// to the rule file.
func (c *checker) evalErrors(prefix string, x *Expr, err error) {
	add := func(e *eval.Error) {
		pos := x.Pos
		if e.Line > 0 && e.Col > 0 {
			pos = x.MapPos(e.Line, e.Col)
		}
		c.errorf(pos, "%s%s", prefix, quoteNames(e.Msg))
	}
	var list *eval.ErrorList
	var one *eval.Error
	switch {
	case errors.As(err, &list):
		for _, e := range *list {
			add(e)
		}
	case errors.As(err, &one):
		add(one)
	default:
		c.errorf(x.Pos, "%s%v", prefix, err)
	}
}

// evalUnknown matches eval's unknown-name messages, whose names are bare.
var evalUnknown = regexp.MustCompile(`^unknown (name|field) ([^\s;"]+)( on ([^\s;"]+))?(; did you mean ([^\s;"?]+)\?)?$`)

// quoteNames rewrites "unknown field amout on Payment; did you mean amount?"
// into this package's style, with the names quoted, and expr's "unexpected
// token EOF" into words; other messages pass unchanged.
func quoteNames(msg string) string {
	if msg == "unexpected token EOF" {
		return "the expression ends too early"
	}
	m := evalUnknown.FindStringSubmatch(msg)
	if m == nil {
		return msg
	}
	out := fmt.Sprintf("unknown %s %q", m[1], m[2])
	if m[4] != "" {
		out += " on " + m[4]
	}
	if m[6] != "" {
		out += fmt.Sprintf("; did you mean %q?", m[6])
	}
	return out
}

// checkWindow checks a window spec.
func (c *checker) checkWindow(ri *RuleInfo) {
	wc := ri.Decl.Window()
	if wc == nil || wc.Spec == nil {
		return
	}
	w := &Window{Spec: wc.Spec}
	switch s := wc.Spec.(type) {
	case *TumblingWindow:
		w.Kind, w.Size = WindowTumbling, durationOf(s.Size)
		c.positive(s.Size, "tumbling window size")
	case *HoppingWindow:
		w.Kind, w.Size, w.Step = WindowHopping, durationOf(s.Size), durationOf(s.Step)
		c.positive(s.Size, "hopping window size")
		c.positive(s.Step, "hopping window step")
	case *SlidingWindow:
		w.Kind, w.Size = WindowSliding, durationOf(s.Size)
		c.positive(s.Size, "sliding window size")
	case *CountWindow:
		w.Kind, w.Count = WindowCount, countOf(s.Count)
		c.atLeastOne(s.Count, "count window size")
	case *SlidingCountWindow:
		w.Kind, w.Count = WindowSlidingCount, countOf(s.Count)
		c.atLeastOne(s.Count, "sliding count window size")
	case *SessionWindow:
		w.Kind, w.Gap = WindowSession, durationOf(s.Gap)
		c.positive(s.Gap, "session gap")
	}
	ri.Window = w
}

func countOf(n *Count) int {
	if n == nil {
		return 0
	}
	return n.Value
}

func (c *checker) atLeastOne(n *Count, what string) {
	if n != nil && n.Value < 1 {
		c.errorf(n.Pos, "%s must be at least 1, found %s", what, n.Text)
	}
}

// checkPartition checks partition by. A key applies to every type the rule
// reads, unless it is written Type.expr for one of them (a qualified key).
// Key i of a type is the i-th key, in clause order, that applies to it; all
// types need the same number of keys and the keys' types must agree.
func (c *checker) checkPartition(ri *RuleInfo, scope *ruleScope) {
	pc := ri.Decl.Partition()
	if pc == nil {
		return
	}
	type keyExpr struct {
		x    *Expr
		qual bool
	}
	perType := make([][]keyExpr, len(ri.Reads))
	seenText := map[string]Position{}
	for _, k := range pc.Keys {
		if p, dup := seenText[k.Text]; dup {
			c.errorf(k.Pos, "duplicate partition key %q (first at %s)", k.Text, where(p, k.Pos))
			scope.keysBad = true
			continue
		}
		seenText[k.Text] = k.Pos
		head, dotted := leadingName(k)
		if dotted && ri.Pattern != nil && ri.Pattern.byAlias[head] != nil && !ri.Pattern.byAlias[head].Implicit {
			c.errorf(k.Pos, "partition key cannot use the alias %q: a key is computed from each event alone; write a field, or Type.field for one type", head)
			scope.keysBad = true
			continue
		}
		qual := -1
		if dotted && head != ri.Alias && !c.isFieldOfAny(ri, head) {
			if t, ok := c.types[head]; ok {
				qual = indexOfType(ri.Reads, t)
				if qual < 0 {
					c.errorf(k.Pos, "partition key %q names %s, which rule %q does not read", k.Text, head, ri.Name)
					scope.keysBad = true
					continue
				}
			}
		}
		for i := range ri.Reads {
			if qual < 0 || qual == i {
				perType[i] = append(perType[i], keyExpr{x: k, qual: qual >= 0})
			}
		}
	}
	if len(ri.Reads) == 0 {
		return
	}
	// Every type needs the same number of keys.
	n := len(perType[0])
	for i := range perType {
		if len(perType[i]) != n {
			c.errorf(pc.Pos, "partition by gives %s %d key(s) but %s %d; every type needs the same keys (write one per type as Type.field)",
				ri.Reads[0].Name, n, ri.Reads[i].Name, len(perType[i]))
			scope.keysBad = true
			return
		}
	}
	keys := make([]*PartitionKey, n)
	for j := range keys {
		keys[j] = &PartitionKey{Var: j, Exprs: make([]*Compiled, len(ri.Reads))}
	}
	typeAt := make([]string, n) // type name that fixed key j's type
	for i, t := range ri.Reads {
		s := c.schema(t)
		if s == nil {
			scope.keysBad = true
			continue
		}
		for j, ke := range perType[i] {
			env := eval.NewEnv()
			env.Event(s)
			if ri.Alias != "" {
				env.Alias(ri.Alias, s, 0)
			}
			if ke.qual && t.Name != ri.Alias {
				env.Alias(t.Name, s, 0)
			}
			c.addConsts(env)
			if name, ok := bareName(ke.x); ok && !hasName(env, name) {
				msg := fmt.Sprintf("partition key %q is not a field of %s%s", name, t.Name, didYouMean(name, s.FieldNames()))
				if len(ri.Reads) > 1 {
					msg += fmt.Sprintf("; a key must be a field of every type the pattern reads, or be written per type as %s.field", t.Name)
				}
				c.errorf(ke.x.Pos, "%s", msg)
				scope.keysBad = true
				continue
			}
			prefix := ""
			if len(ri.Reads) > 1 && !ke.qual {
				prefix = fmt.Sprintf("partition key on %s: ", t.Name)
			}
			comp := c.compilePrefixed(prefix, ke.x, env, eval.NoAggregates())
			if comp == nil {
				scope.keysBad = true
				continue
			}
			keys[j].Exprs[i] = comp
			typ := comp.Type()
			if typ.Kind == event.KindList {
				c.errorf(ke.x.Pos, "partition key %q is a list (%s); a key must be a single value", ke.x.Text, typ)
				scope.keysBad = true
				continue
			}
			switch {
			case typeAt[j] == "":
				keys[j].Type, typeAt[j] = typ, t.Name
			case !agree(keys[j].Type, typ):
				c.errorf(ke.x.Pos, "partition key %d is %s on %s but %s on %s; the keys of all types must have the same type",
					j+1, typ, t.Name, keys[j].Type, typeAt[j])
				scope.keysBad = true
			case keys[j].Type.Kind == event.KindAny:
				keys[j].Type = typ
			}
		}
	}
	// A key's name in having/emit: the field it reads, when every type's
	// expression is a plain field (user, Login.user, alias.user) of one name.
	names := map[string]bool{}
	for j, k := range keys {
		name := ""
		for i := range ri.Reads {
			if j >= len(perType[i]) {
				continue
			}
			nm := keyFieldName(perType[i][j].x)
			if nm == "" || (name != "" && nm != name) {
				name = ""
				break
			}
			name = nm
		}
		if name != "" && !names[name] {
			k.Name = name
			names[name] = true
		}
	}
	ri.Partition = keys
}

func indexOfType(ts []*EventType, t *EventType) int {
	for i, u := range ts {
		if u == t {
			return i
		}
	}
	return -1
}

func (c *checker) isFieldOfAny(ri *RuleInfo, name string) bool {
	for _, t := range ri.Reads {
		if s := c.schema(t); s != nil {
			if _, ok := s.Slot(name); ok {
				return true
			}
		}
	}
	return false
}

func hasName(env *eval.Env, name string) bool {
	for _, n := range env.Names() {
		if n == name {
			return true
		}
	}
	return false
}

// agree reports whether two key or field types are compatible: equal, or
// one of them dynamic (any).
func agree(a, b event.Type) bool {
	if a.Kind == event.KindAny || b.Kind == event.KindAny {
		return true
	}
	if a.Kind == event.KindList && b.Kind == event.KindList {
		if a.Elem == nil || b.Elem == nil {
			return true
		}
		return agree(*a.Elem, *b.Elem)
	}
	return a.Equal(b)
}

// outputEnv returns the scope of having and emit expressions, built once
// per rule so that a window rule's expressions share their aggregate slots:
// for window rules the partition keys and aggregates over the source, for
// pattern rules the aliases and keys, for filter rules the source event. It
// reports false when the scope is incomplete because of earlier errors, or
// when x names a non-key field in a window rule (reported here).
func (c *checker) outputEnv(ri *RuleInfo, scope *ruleScope, x *Expr, what string) (*eval.Env, []eval.Option, bool) {
	if !scope.outDone {
		scope.outDone = true
		scope.outEnv, scope.outOpts = c.buildOutputEnv(ri, scope)
	}
	if scope.outEnv == nil {
		return nil, nil, false
	}
	if ri.Kind == WindowRule && c.nonKeyNames(ri, c.schema(ri.Source), x, what) {
		return nil, nil, false
	}
	if ri.Kind == PatternRule && ri.Counts && c.countMisuse(ri.Pattern, x, what) {
		return nil, nil, false
	}
	if ri.Kind == PatternRule && c.aliasMisuse(ri.Pattern, x, nil, nil) {
		return nil, nil, false
	}
	if what == "emit" && ri.Kind != WindowRule && !ri.Counts {
		// Names the context in "aggregate count is not allowed in ...".
		what = "emit of a " + ri.Kind.String() + " rule (aggregates need a window)"
	}
	return scope.outEnv, append(slices.Clip(scope.outOpts), eval.Clause(what)), true
}

func (c *checker) buildOutputEnv(ri *RuleInfo, scope *ruleScope) (*eval.Env, []eval.Option) {
	if scope.keysBad || ri.confused {
		return nil, nil
	}
	switch ri.Kind {
	case FilterRule:
		s := c.schema(ri.Source)
		if s == nil {
			return nil, nil
		}
		env := eval.NewEnv()
		env.Event(s)
		if ri.Alias != "" {
			env.Alias(ri.Alias, s, 0)
		}
		c.addKeys(env, ri)
		c.addConsts(env)
		return env, []eval.Option{eval.NoAggregates()}
	case WindowRule:
		s := c.schema(ri.Source)
		if s == nil {
			return nil, nil
		}
		env := eval.NewEnv()
		c.addKeys(env, ri)
		c.addConsts(env)
		return env, []eval.Option{eval.Aggregates(c.sourceEnv(ri, s))}
	case PatternRule:
		pi := ri.Pattern
		if pi == nil || pi.incomplete {
			return nil, nil
		}
		env := eval.NewEnv()
		if ri.Counts {
			// A counting rule: count(), the keys and the constants.
			c.addKeys(env, ri)
			c.addConsts(env)
			args := eval.NewEnv()
			c.addConsts(args)
			return env, []eval.Option{eval.Aggregates(args)}
		}
		for _, a := range pi.Aliases {
			if a.List {
				env.ListAlias(a.Name, a.Type.Schema, a.Slot)
			} else {
				env.Alias(a.Name, a.Type.Schema, a.Slot)
			}
		}
		c.addKeys(env, ri)
		c.addConsts(env)
		return env, []eval.Option{eval.NoAggregates()}
	}
	return nil, nil
}

// addKeys adds the named partition keys as variables.
func (c *checker) addKeys(env *eval.Env, ri *RuleInfo) {
	taken := map[string]bool{}
	for _, n := range env.Names() {
		taken[n] = true
	}
	for _, k := range ri.Partition {
		if k.Name != "" && !taken[k.Name] {
			env.Var(k.Name, k.Type, k.Var)
		}
	}
}

// nonKeyNames reports names of a window rule's having or emit that are read
// outside any aggregate and are not partition keys: such a value differs
// between the events of one window, so it has no single value.
func (c *checker) nonKeyNames(ri *RuleInfo, s *event.Schema, x *Expr, what string) bool {
	var keys []string
	isKey := map[string]bool{}
	for _, k := range ri.Partition {
		if k.Name != "" {
			keys = append(keys, k.Name)
			isKey[k.Name] = true
		}
	}
	found := false
	for _, id := range identifiers(x) {
		if id.aggDepth > 0 || id.call || isKey[id.name] {
			continue
		}
		_, field := s.Slot(id.name)
		if !field && id.name != ri.Alias {
			continue
		}
		name := id.name
		if !field && id.field != "" {
			name += "." + id.field
			if isKey[id.field] {
				c.errorf(id.pos, "%s is the partition key %q; in a window rule's %s write it as %s", name, id.field, what, id.field)
				found = true
				continue
			}
		}
		var msg string
		if len(keys) == 0 {
			msg = fmt.Sprintf("%q is read outside an aggregate, but rule %q has no partition keys; a window rule's %s may name fields only inside an aggregate, e.g. last(%s)", name, ri.Name, what, name)
		} else {
			msg = fmt.Sprintf("%q is not a partition key; outside an aggregate, a window rule's %s may name only the partition keys (%s); aggregate it, e.g. last(%s)", name, what, strings.Join(keys, ", "), name)
		}
		c.errorf(id.pos, "%s", msg)
		found = true
	}
	return found
}

// leadingName returns the expression's first name and whether a "." follows
// it (Type.field, alias.field).
func leadingName(x *Expr) (string, bool) {
	toks := exprTokenValues(x.Text, 2)
	if len(toks) == 0 || !isName(toks[0]) {
		return "", false
	}
	return toks[0], len(toks) > 1 && (toks[1] == "." || toks[1] == "?.")
}

// bareName reports an expression that is a single name.
func bareName(x *Expr) (string, bool) {
	toks := exprTokenValues(x.Text, 2)
	if len(toks) == 1 && isName(toks[0]) && !isExprWord(toks[0]) {
		return toks[0], true
	}
	return "", false
}

// keyFieldName returns the field a key reads when the key is a plain field,
// user, or a path of one step, Login.user or l.user.
func keyFieldName(x *Expr) string {
	toks := exprTokenValues(x.Text, 4)
	switch {
	case len(toks) == 1 && isName(toks[0]):
		return toks[0]
	case len(toks) == 3 && isName(toks[0]) && toks[1] == "." && isName(toks[2]):
		return toks[2]
	}
	return ""
}
