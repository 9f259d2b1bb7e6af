package lang

import (
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/cepengine/cep/engine/event"
)

// checkEmit checks an emit clause: field names (a bare name or path names
// the field after its last component), unique names, the expressions, and,
// for a declared type, that every field exists with a compatible type.
func (c *checker) checkEmit(ri *RuleInfo, scope *ruleScope, e *EmitClause) *EmitInfo {
	if e.Type == nil {
		return nil
	}
	t, ok := c.types[e.Type.Name]
	if !ok {
		return nil // a reserved name, reported
	}
	info := &EmitInfo{Clause: e, Type: t}
	declared := t.Decl != nil && t.Schema != nil && !t.unknown
	seen := map[string]Position{}
	for _, f := range e.Fields {
		if f.Value == nil {
			continue
		}
		var name string
		var pos Position
		if f.Name != nil {
			name, pos = f.Name.Name, f.Name.Pos
		} else if n := pathName(f.Value); n != "" {
			name, pos = n, f.Value.Pos
		} else {
			if strings.Contains(f.Value.Text, "\n") {
				c.errorf(f.Value.Pos, "emitted field %q needs a name; is a comma missing between fields?", f.Value.Text)
			} else {
				c.errorf(f.Value.Pos, "emitted field %q needs a name; write name: %s (only a name or a path such as s.user names itself)", f.Value.Text, f.Value.Text)
			}
			continue
		}
		if reservedOutputField[name] {
			c.errorf(pos, "emitted field name %q is reserved: a derived event's output already has the keys type, time, rule and events; choose another name", name)
			continue
		}
		if p, dup := seen[name]; dup {
			c.errorf(pos, "field %q is emitted twice in emit %s (first at %s)", name, t.Name, where(p, pos))
			continue
		}
		seen[name] = pos
		fi := &EmitFieldInfo{Name: name, Pos: pos, Type: event.Any, Slot: -1}
		if env, opts, ok := c.outputEnv(ri, scope, f.Value, "emit"); ok {
			fi.Value = c.compile(f.Value, env, opts...)
			if ri.Counts && fi.Value != nil && !c.onlyCount(f.Value, fi.Value) {
				fi.Value = nil
			}
		}
		if fi.Value != nil {
			fi.Type = fi.Value.Type()
		}
		switch {
		case declared:
			slot, ok := t.Schema.Slot(name)
			if !ok {
				c.errorf(pos, "event type %s has no field %q%s", t.Name, name, didYouMean(name, t.Schema.FieldNames()))
				break
			}
			if want := t.Schema.Fields[slot].Type; fi.Value != nil && !assignable(want, fi.Type) {
				c.errorf(f.Value.Pos, "field %q of %s is %s, but the expression is %s", name, t.Name, want, fi.Type)
			}
		case fi.Value != nil && (fi.Type.Kind == event.KindNil || strings.TrimSpace(f.Value.Text) == "nil"):
			c.errorf(f.Value.Pos, "cannot infer the type of field %q of %s from nil; declare event %s { ... } to give it a type", name, t.Name, t.Name)
			fi.Type = event.Any
		}
		info.Fields = append(info.Fields, fi)
	}
	return info
}

// assignable reports whether a value of type got may be stored in a field
// declared want: the same type, an int into a float, anything into any, and
// a dynamic (any) or nil value into anything (checked when it is stored).
func assignable(want, got event.Type) bool {
	switch {
	case want.Kind == event.KindAny, got.Kind == event.KindAny, got.Kind == event.KindNil:
		return true
	case want.Kind == event.KindFloat && got.Kind == event.KindInt:
		return true
	case want.Kind == event.KindList && got.Kind == event.KindList:
		if want.Elem == nil || got.Elem == nil {
			return true
		}
		return assignable(*want.Elem, *got.Elem)
	}
	return want.Equal(got)
}

// inferSchema builds the schema of a type that only rules emit: the fields
// of its first emitter in source order. Every other emit of the type must
// have the same fields with agreeing types.
func (c *checker) inferSchema(t *EventType) {
	if t.Decl != nil || t.unknown || c.inferred[t] {
		return
	}
	c.inferred[t] = true
	var infos []*EmitInfo
	var rules []*RuleInfo
	for _, ri := range t.Emits {
		if !c.checked[ri] {
			t.unknown = true // in a cycle: reported there
			return
		}
		for _, cl := range []*EmitClause{ri.Decl.Emit(), timeoutEmit(ri.Decl)} {
			if cl == nil || cl.Type == nil || cl.Type.Name != t.Name {
				continue
			}
			var info *EmitInfo
			switch {
			case ri.Emit != nil && ri.Emit.Clause == cl:
				info = ri.Emit
			case ri.Timeout != nil && ri.Timeout.Clause == cl:
				info = ri.Timeout
			}
			if info == nil {
				t.unknown = true // the rule has structural errors, reported
				return
			}
			infos = append(infos, info)
			rules = append(rules, ri)
		}
	}
	if len(infos) == 0 {
		t.unknown = true
		return
	}
	first := infos[0]
	fields := make([]event.Field, len(first.Fields))
	for i, f := range first.Fields {
		fields[i] = event.Field{Name: f.Name, Type: f.Type}
	}
	for _, info := range infos[1:] {
		if !sameNames(first.Fields, info.Fields) {
			c.errorf(info.Clause.Type.Pos, "emit %s %s does not match emit %s %s of rule %q (%s); rules that emit an undeclared type must emit the same fields, or declare event %s",
				t.Name, fieldSet(info.Fields), t.Name, fieldSet(first.Fields), rules[0].Name, where(first.Clause.Type.Pos, info.Clause.Type.Pos), t.Name)
			continue
		}
		for _, f := range info.Fields {
			i := slices.IndexFunc(fields, func(g event.Field) bool { return g.Name == f.Name })
			switch {
			case !agree(fields[i].Type, f.Type):
				c.errorf(f.Pos, "field %q of %s is %s here but %s in rule %q (%s); declare event %s to fix its type",
					f.Name, t.Name, f.Type, fields[i].Type, rules[0].Name, where(first.Clause.Type.Pos, f.Pos), t.Name)
			case fields[i].Type.Kind == event.KindAny:
				fields[i].Type = f.Type
			}
		}
	}
	t.Schema = event.NewSchema(t.Name, fields, "", 0)
}

func timeoutEmit(r *Rule) *EmitClause {
	if t := r.Timeout(); t != nil {
		return t.Emit
	}
	return nil
}

func sameNames(a, b []*EmitFieldInfo) bool {
	if len(a) != len(b) {
		return false
	}
	for _, f := range a {
		if !slices.ContainsFunc(b, func(g *EmitFieldInfo) bool { return g.Name == f.Name }) {
			return false
		}
	}
	return true
}

func fieldSet(fs []*EmitFieldInfo) string {
	names := make([]string, len(fs))
	for i, f := range fs {
		names[i] = f.Name
	}
	return "{" + strings.Join(names, ", ") + "}"
}

// fillEmitSlots resolves each emitted field to its slot in the final schema.
func (c *checker) fillEmitSlots() {
	for _, ri := range c.rules {
		for _, info := range []*EmitInfo{ri.Emit, ri.Timeout} {
			if info == nil || info.Type.Schema == nil {
				continue
			}
			for _, f := range info.Fields {
				if slot, ok := info.Type.Schema.Slot(f.Name); ok {
					f.Slot = slot
				}
			}
		}
	}
}

// orderRules reports cycles between rules (a rule emits a type that a rule
// reads, and so on back to the first) and orders the rules so that every
// rule comes after the rules whose output it reads; independent rules keep
// their source order.
func (c *checker) orderRules() {
	n := len(c.rules)
	succ := make([][]int, n)
	via := map[[2]int]*EventType{}
	indeg := make([]int, n)
	for _, a := range c.rules {
		for _, t := range a.Emits {
			for _, b := range t.Reads {
				e := [2]int{a.Index, b.Index}
				if _, ok := via[e]; ok {
					continue
				}
				via[e] = t
				succ[a.Index] = append(succ[a.Index], b.Index)
				indeg[b.Index]++
			}
		}
	}
	for _, comp := range sccs(succ) {
		self := len(comp) == 1 && slices.Contains(succ[comp[0]], comp[0])
		if len(comp) < 2 && !self {
			continue
		}
		start := slices.Min(comp)
		r := c.rules[start]
		if self {
			c.errorf(r.Decl.Name.Pos, "rule %q reads %s, which it emits itself; a rule's output cannot feed the rule", r.Name, via[[2]int{start, start}].Name)
			continue
		}
		path := cyclePath(succ, comp, start)
		var parts []string
		for i, a := range path {
			b := path[(i+1)%len(path)]
			parts = append(parts, fmt.Sprintf("%s emits %s, which %s reads", c.rules[a].Name, via[[2]int{a, b}].Name, c.rules[b].Name))
		}
		c.errorf(r.Decl.Name.Pos, "rules form a cycle: %s", strings.Join(parts, "; "))
	}
	// Kahn's algorithm, always taking the ready rule that comes first.
	done := make([]bool, n)
	for len(c.order) < n {
		next := -1
		for i := 0; i < n; i++ {
			if !done[i] && indeg[i] == 0 {
				next = i
				break
			}
		}
		if next < 0 {
			// Only rules in or after a cycle are left: keep source order.
			for i := 0; i < n; i++ {
				if !done[i] {
					done[i] = true
					c.order = append(c.order, c.rules[i])
				}
			}
			break
		}
		done[next] = true
		c.order = append(c.order, c.rules[next])
		for _, b := range succ[next] {
			indeg[b]--
		}
	}
}

// sccs returns the strongly connected components of a graph (Tarjan).
func sccs(succ [][]int) [][]int {
	n := len(succ)
	index := make([]int, n)
	low := make([]int, n)
	on := make([]bool, n)
	for i := range index {
		index[i] = -1
	}
	var stack []int
	var out [][]int
	next := 0
	var visit func(v int)
	visit = func(v int) {
		index[v], low[v] = next, next
		next++
		stack = append(stack, v)
		on[v] = true
		for _, w := range succ[v] {
			if index[w] < 0 {
				visit(w)
				low[v] = min(low[v], low[w])
			} else if on[w] {
				low[v] = min(low[v], index[w])
			}
		}
		if low[v] == index[v] {
			var comp []int
			for {
				w := stack[len(stack)-1]
				stack = stack[:len(stack)-1]
				on[w] = false
				comp = append(comp, w)
				if w == v {
					break
				}
			}
			slices.Sort(comp)
			out = append(out, comp)
		}
	}
	for v := range n {
		if index[v] < 0 {
			visit(v)
		}
	}
	slices.SortFunc(out, func(a, b []int) int { return a[0] - b[0] })
	return out
}

// cyclePath finds a shortest cycle through start inside comp (breadth
// first, neighbours in index order).
func cyclePath(succ [][]int, comp []int, start int) []int {
	in := map[int]bool{}
	for _, v := range comp {
		in[v] = true
	}
	parent := map[int]int{}
	queue := []int{start}
	seen := map[int]bool{start: true}
	for len(queue) > 0 {
		v := queue[0]
		queue = queue[1:]
		nb := slices.Clone(succ[v])
		slices.Sort(nb)
		for _, w := range nb {
			if !in[w] {
				continue
			}
			if w == start {
				path := []int{v}
				for path[0] != start {
					path = append([]int{parent[path[0]]}, path...)
				}
				return path
			}
			if !seen[w] {
				seen[w] = true
				parent[w] = v
				queue = append(queue, w)
			}
		}
	}
	return []int{start}
}

// pathName returns the last name of an expression that is a name or a path
// of names (user, s.user, s?.user); "" otherwise.
func pathName(x *Expr) string {
	toks := exprTokenValues(x.Text, -1)
	if len(toks)%2 == 0 {
		return ""
	}
	for i, t := range toks {
		if i%2 == 0 && (!isName(t) || isExprWord(t)) {
			return ""
		}
		if i%2 == 1 && t != "." && t != "?." {
			return ""
		}
	}
	return toks[len(toks)-1]
}

// exprTokenValues returns up to max token values of expression text (all
// when max < 0), comments and spaces left out.
func exprTokenValues(text string, max int) []string {
	toks := scanExpr(text, max)
	out := make([]string, len(toks))
	for i, t := range toks {
		out[i] = t.text
	}
	return out
}

// isName reports a token that is a name (an identifier or a reserved word
// after a dot).
func isName(s string) bool {
	r, _ := utf8.DecodeRuneInString(s)
	return r == '_' || r == '$' || unicode.IsLetter(r)
}

// reservedOutputField holds the keys that cepctl run writes for every derived
// event before its fields.
var reservedOutputField = map[string]bool{"type": true, "time": true, "rule": true, "events": true}
