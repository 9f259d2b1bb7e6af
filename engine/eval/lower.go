package eval

import (
	"reflect"
	"regexp"
	"time"

	"github.com/cepengine/cep/engine/event"
	"github.com/expr-lang/expr/ast"
)

// pos is the 1-based position of a node: its token, the operator for a
// binary operation.
func (b *builder) pos(n ast.Node) (int, int) { return position(b.src, n.Location().From) }

// kindOf is the static kind of a checked node when it is exactly one the
// lowered code implements (int, not int64; float64, not float32), KindNil
// for a nil literal's type, KindList for lists, and KindAny otherwise.
func kindOf(n ast.Node) event.Kind {
	nt := n.Nature()
	if nt.Nil {
		return event.KindNil
	}
	switch nt.Type {
	case intType:
		return event.KindInt
	case floatType:
		return event.KindFloat
	case stringType:
		return event.KindString
	case boolType:
		return event.KindBool
	case timeType:
		return event.KindTime
	case durationType:
		return event.KindDuration
	}
	if nt.Type != nil && nt.Type.Kind() == reflect.Slice {
		if _, ok := natureType(nt); ok {
			return event.KindList
		}
	}
	return event.KindAny
}

func isNum(k event.Kind) bool { return k == event.KindInt || k == event.KindFloat }

func numKind(a, b event.Kind) event.Kind {
	if a == event.KindInt && b == event.KindInt {
		return event.KindInt
	}
	return event.KindFloat
}

// expr lowers n, or compiles it as a VM leaf when it is outside the lowered
// subset. It returns nil when n has no value kind (an event, a map): its
// parent must then go to the VM whole.
func (b *builder) expr(n ast.Node) *node {
	if ln := b.lower(n); ln != nil {
		if ln.line == 0 {
			line, col := b.pos(n)
			ln.line, ln.col = int32(line), int32(col)
		}
		return ln
	}
	if len(b.elems) > 0 {
		// Inside a lowered predicate a VM leaf could not see the element:
		// the whole predicate goes to the VM instead.
		return nil
	}
	t, ok := natureType(n.Nature())
	if !ok || !concrete(t) {
		// A leaf of unknown type could yield a map or a struct, which the
		// lowered parent could not hold: the parent goes to the VM. Only
		// the root of a program may be such a leaf.
		return nil
	}
	return b.leaf(n, t)
}

// concrete reports whether every value of type t is a value the lowered
// code can hold: any is not, nor a list of any.
func concrete(t event.Type) bool {
	switch t.Kind {
	case event.KindAny:
		return false
	case event.KindList:
		return t.Elem != nil && concrete(*t.Elem)
	}
	return true
}

// lower returns the direct code for n, or nil if n is outside the subset.
func (b *builder) lower(n ast.Node) *node {
	switch n := n.(type) {
	case *ast.NilNode:
		return &node{op: opConst, kind: event.KindAny}
	case *ast.IntegerNode:
		if kindOf(n) == event.KindInt {
			return constNode(event.IntValue(int64(n.Value)))
		}
	case *ast.FloatNode:
		if kindOf(n) == event.KindFloat {
			return constNode(event.FloatValue(n.Value))
		}
	case *ast.BoolNode:
		return constNode(event.BoolValue(n.Value))
	case *ast.StringNode:
		return constNode(event.StringValue(n.Value))
	case *ast.IdentifierNode:
		return b.lowerIdent(n)
	case *ast.MemberNode:
		return b.lowerMember(n, false)
	case *ast.ChainNode:
		// a?.f on an alias or prev is a.f: both are nil when a is unbound.
		if m, ok := n.Node.(*ast.MemberNode); ok {
			if _, ok := m.Node.(*ast.IdentifierNode); ok {
				return b.lowerMember(m, true)
			}
		}
	case *ast.UnaryNode:
		return b.lowerUnary(n)
	case *ast.BinaryNode:
		return b.lowerBinary(n)
	case *ast.ConditionalNode:
		if kindOf(n.Cond) != event.KindBool {
			return nil
		}
		c, x, y := b.expr(n.Cond), b.expr(n.Exp1), b.expr(n.Exp2)
		if c == nil || x == nil || y == nil {
			return nil
		}
		return &node{op: opCond, kind: kindOf(n), a: c, b: x, c: y}
	case *ast.BuiltinNode:
		return b.lowerBuiltin(n)
	}
	return nil
}

func constNode(v event.Value) *node { return &node{op: opConst, kind: v.Kind(), val: v} }

func (b *builder) lowerIdent(n *ast.IdentifierNode) *node {
	bd, ok := b.env.lookup(n.Value)
	if !ok {
		return nil
	}
	switch bd.kind {
	case bindField:
		return &node{op: opField, kind: kindOf(n), slot: bd.slot}
	case bindConst:
		c := constNode(bd.val)
		c.kind = kindOf(n)
		return c
	case bindVar:
		return &node{op: opVar, kind: kindOf(n), slot: bd.slot}
	}
	return nil // aliases, lists and prev are events, not values
}

// lowerMember lowers alias.f, prev.f, list[i].f and .f in predicates;
// optional allows alias?.f.
func (b *builder) lowerMember(n *ast.MemberNode, optional bool) *node {
	prop, ok := n.Property.(*ast.StringNode)
	if !ok || n.Optional && !optional || n.Method {
		return nil
	}
	switch base := n.Node.(type) {
	case *ast.PointerNode:
		if base.Name != "" || len(b.elems) == 0 {
			return nil
		}
		depth := len(b.elems) - 1
		slot, ok := b.elems[depth].Slot(prop.Value)
		if !ok {
			return nil
		}
		return &node{op: opElemField, kind: kindOf(n), slot: depth, field: slot}
	case *ast.IdentifierNode:
		bd, ok := b.env.lookup(base.Value)
		if !ok || bd.kind != bindAlias && bd.kind != bindPrev {
			return nil
		}
		slot, ok := bd.schema.Slot(prop.Value)
		if !ok {
			return nil
		}
		switch bd.kind {
		case bindAlias:
			return &node{op: opBound, kind: kindOf(n), slot: bd.slot, field: slot}
		case bindPrev:
			return &node{op: opPrevField, kind: kindOf(n), slot: slot}
		}
	case *ast.MemberNode:
		id, ok := base.Node.(*ast.IdentifierNode)
		if !ok || base.Optional || base.Method || kindOf(base.Property) != event.KindInt {
			return nil
		}
		bd, ok := b.env.lookup(id.Value)
		if !ok || bd.kind != bindList {
			return nil
		}
		slot, ok := bd.schema.Slot(prop.Value)
		if !ok {
			return nil
		}
		idx := b.expr(base.Property)
		if idx == nil {
			return nil
		}
		line, col := b.pos(base)
		return &node{op: opListField, kind: kindOf(n), slot: bd.slot, field: slot, a: idx, line: int32(line), col: int32(col)}
	}
	return nil
}

func (b *builder) lowerUnary(n *ast.UnaryNode) *node {
	k := kindOf(n.Node)
	switch n.Operator {
	case "not", "!":
		if k != event.KindBool {
			return nil
		}
		if x := b.expr(n.Node); x != nil {
			return &node{op: opNot, kind: event.KindBool, a: x}
		}
	case "-":
		if !isNum(k) {
			return nil
		}
		if x := b.expr(n.Node); x != nil {
			return &node{op: opNeg, kind: k, a: x}
		}
	case "+":
		if isNum(k) {
			return b.expr(n.Node)
		}
	}
	return nil
}

var cmpOps = map[string]cmpOp{"==": cmpEq, "!=": cmpNe, "<": cmpLt, "<=": cmpLe, ">": cmpGt, ">=": cmpGe}

// mirror is the comparison with its operands swapped: a < b is b > a.
var mirror = [...]cmpOp{cmpEq: cmpEq, cmpNe: cmpNe, cmpLt: cmpGt, cmpLe: cmpGe, cmpGt: cmpLt, cmpGe: cmpLe}

func (b *builder) lowerBinary(n *ast.BinaryNode) *node {
	lk, rk := kindOf(n.Left), kindOf(n.Right)
	two := func(o op, kind event.Kind) *node {
		l := b.expr(n.Left)
		if l == nil {
			return nil
		}
		r := b.expr(n.Right)
		if r == nil {
			return nil
		}
		return &node{op: o, kind: kind, a: l, b: r}
	}
	B, I, F, S := event.KindBool, event.KindInt, event.KindFloat, event.KindString
	T, D := event.KindTime, event.KindDuration

	switch n.Operator {
	case "and", "&&", "or", "||":
		if lk != B || rk != B {
			return nil
		}
		if n.Operator == "and" || n.Operator == "&&" {
			return two(opAnd, B)
		}
		return two(opOr, B)

	case "==", "!=":
		if isNilLit(n.Left) || isNilLit(n.Right) {
			other := n.Left
			if isNilLit(n.Left) {
				other = n.Right
			}
			if id, ok := other.(*ast.IdentifierNode); ok {
				// prev == nil, a == nil: whether the event is there.
				if bd, ok := b.env.lookup(id.Value); ok && (bd.kind == bindAlias || bd.kind == bindPrev) {
					x := &node{op: opNoEvent, kind: B, slot: bd.slot}
					if bd.kind == bindPrev {
						x.field = 1
					}
					if n.Operator == "!=" {
						return &node{op: opNot, kind: B, a: x}
					}
					return x
				}
			}
			x := b.expr(other)
			if x == nil {
				return nil
			}
			if n.Operator == "==" {
				return &node{op: opIsNil, kind: B, a: x}
			}
			return &node{op: opNotNil, kind: B, a: x}
		}
		fallthrough
	case "<", "<=", ">", ">=":
		c := cmpOps[n.Operator]
		var o op
		switch {
		case isNum(lk) && isNum(rk):
			o = opCmpNum
		case lk == S && rk == S:
			o = opCmpStr
		case lk == T && rk == T:
			o = opCmpTime
		case lk == D && rk == D:
			o = opCmpDur
		case lk == B && rk == B && (c == cmpEq || c == cmpNe):
			o = opCmpBool
		default:
			return nil
		}
		x := two(o, B)
		if x != nil {
			x.cmp = c
			specialize(x)
		}
		return x

	case "+":
		switch {
		case isNum(lk) && isNum(rk):
			return two(opAdd, numKind(lk, rk))
		case lk == S && rk == S:
			return two(opConcat, S)
		case lk == T && rk == D:
			return two(opTimeAddDur, T)
		case lk == D && rk == T:
			return two(opDurAddTime, T)
		case lk == D && rk == D:
			return two(opDurAdd, D)
		}
	case "-":
		switch {
		case isNum(lk) && isNum(rk):
			return two(opSub, numKind(lk, rk))
		case lk == T && rk == T:
			return two(opTimeSubTime, D)
		case lk == T && rk == D:
			return two(opTimeSubDur, T)
		case lk == D && rk == D:
			return two(opDurSub, D)
		}
	case "*":
		switch {
		case isNum(lk) && isNum(rk):
			return two(opMul, numKind(lk, rk))
		case (lk == I && rk == D) || (lk == D && rk == I) || (lk == D && rk == D):
			return two(opDurMul, D)
		}
	case "/":
		if isNum(lk) && isNum(rk) {
			return two(opDiv, F)
		}
	case "%":
		if lk == I && rk == I {
			x := two(opMod, I)
			if x != nil {
				line, col := b.pos(n)
				x.line, x.col = int32(line), int32(col)
			}
			return x
		}
	case "**", "^":
		if isNum(lk) && isNum(rk) {
			return two(opPow, F)
		}
	case "contains":
		if lk == S && rk == S {
			return two(opContains, B)
		}
	case "startsWith":
		if lk == S && rk == S {
			return two(opStartsWith, B)
		}
	case "endsWith":
		if lk == S && rk == S {
			return two(opEndsWith, B)
		}
	case "matches":
		lit, ok := n.Right.(*ast.StringNode)
		if lk != S || !ok {
			return nil
		}
		re, err := regexp.Compile(lit.Value)
		if err != nil {
			return nil
		}
		x := b.expr(n.Left)
		if x == nil {
			return nil
		}
		return &node{op: opMatches, kind: B, a: x, re: re}
	case "in":
		return b.lowerIn(n, lk)
	case "??":
		x := two(opCoalesce, kindOf(n))
		return x
	}
	return nil
}

func isScalar(k event.Kind) bool {
	switch k {
	case event.KindBool, event.KindInt, event.KindFloat, event.KindString, event.KindTime, event.KindDuration:
		return true
	}
	return false
}

// lowerIn lowers `x in [...]` and `x in list`.
func (b *builder) lowerIn(n *ast.BinaryNode, lk event.Kind) *node {
	if !isScalar(lk) {
		return nil
	}
	switch r := n.Right.(type) {
	case *ast.ArrayNode:
		items := make([]event.Value, 0, len(r.Nodes))
		constant := true
		for _, el := range r.Nodes {
			v, ok := literal(el)
			if !ok {
				constant = false
				break
			}
			items = append(items, v)
		}
		x := b.expr(n.Left)
		if x == nil {
			return nil
		}
		if constant {
			return &node{op: opInSet, kind: event.KindBool, a: x, set: newValueSet(items)}
		}
		args := make([]*node, len(r.Nodes))
		for i, el := range r.Nodes {
			if !isScalar(kindOf(el)) && !isNilLit(el) {
				return nil
			}
			if args[i] = b.expr(el); args[i] == nil {
				return nil
			}
		}
		return &node{op: opInArgs, kind: event.KindBool, a: x, args: args}
	case *ast.IdentifierNode:
		if bd, ok := b.env.lookup(r.Value); ok && bd.kind == bindConst && bd.val.Kind() == event.KindList {
			x := b.expr(n.Left)
			if x == nil {
				return nil
			}
			return &node{op: opInSet, kind: event.KindBool, a: x, set: newValueSet(bd.val.List())}
		}
	}
	if kindOf(n.Right) != event.KindList {
		return nil
	}
	et, _ := natureType(n.Right.Nature())
	if et.Elem == nil || !(isScalar(et.Elem.Kind) || et.Elem.Kind == event.KindAny) {
		return nil
	}
	x, y := b.expr(n.Left), b.expr(n.Right)
	if x == nil || y == nil {
		return nil
	}
	return &node{op: opInList, kind: event.KindBool, a: x, b: y}
}

// literal is the value of a literal node.
func literal(n ast.Node) (event.Value, bool) {
	switch n := n.(type) {
	case *ast.IntegerNode:
		if kindOf(n) == event.KindInt {
			return event.IntValue(int64(n.Value)), true
		}
	case *ast.FloatNode:
		return event.FloatValue(n.Value), true
	case *ast.StringNode:
		return event.StringValue(n.Value), true
	case *ast.BoolNode:
		return event.BoolValue(n.Value), true
	case *ast.NilNode:
		return event.Nil, true
	}
	return event.Nil, false
}

func (b *builder) lowerBuiltin(n *ast.BuiltinNode) *node {
	switch n.Name {
	case "len":
		if len(n.Arguments) != 1 {
			return nil
		}
		arg := n.Arguments[0]
		if id, ok := arg.(*ast.IdentifierNode); ok {
			if bd, ok := b.env.lookup(id.Value); ok && bd.kind == bindList {
				return &node{op: opListLen, kind: event.KindInt, slot: bd.slot}
			}
		}
		switch kindOf(arg) {
		case event.KindString:
			if x := b.expr(arg); x != nil {
				return &node{op: opLenStr, kind: event.KindInt, a: x}
			}
		case event.KindList:
			if x := b.expr(arg); x != nil {
				return &node{op: opLenList, kind: event.KindInt, a: x}
			}
		}
	case "all", "any", "none", "one", "count":
		if len(n.Arguments) == 2 {
			ops := map[string]op{"all": opAll, "any": opAny, "none": opNone, "one": opOne, "count": opCount}
			kind := event.KindBool
			if n.Name == "count" {
				kind = event.KindInt
			}
			return b.lowerLoop(ops[n.Name], kind, n.Arguments[0], n.Arguments[1], event.KindBool)
		}
	case "sum":
		switch len(n.Arguments) {
		case 1:
			// sum(map(f, body)) without building the mapped list.
			if mp, ok := n.Arguments[0].(*ast.BuiltinNode); ok && mp.Name == "map" && len(mp.Arguments) == 2 {
				return b.lowerLoop(opSum, kindOf(n), mp.Arguments[0], mp.Arguments[1], event.KindAny)
			}
		case 2:
			return b.lowerLoop(opSum, kindOf(n), n.Arguments[0], n.Arguments[1], event.KindAny)
		}
	case "duration":
		if len(n.Arguments) != 1 {
			return nil
		}
		if s, ok := n.Arguments[0].(*ast.StringNode); ok {
			if d, err := time.ParseDuration(s.Value); err == nil {
				return constNode(event.DurationValue(d))
			}
		}
	}
	return nil
}

// lowerLoop lowers a predicate builtin over a list alias: the body is
// lowered with .field reading the element; it must lower entirely. For
// sum the body must be a number (bodyKind KindAny means int or float).
func (b *builder) lowerLoop(o op, kind event.Kind, list, body ast.Node, bodyKind event.Kind) *node {
	id, ok := list.(*ast.IdentifierNode)
	if !ok {
		return nil
	}
	bd, ok := b.env.lookup(id.Value)
	if !ok || bd.kind != bindList || len(b.elems) >= maxElemDepth {
		return nil
	}
	pred, ok := body.(*ast.PredicateNode)
	if !ok {
		return nil
	}
	bk := kindOf(pred.Node)
	if bodyKind == event.KindAny && !isNum(bk) || bodyKind != event.KindAny && bk != bodyKind {
		return nil
	}
	depth := len(b.elems)
	b.elems = append(b.elems, bd.schema)
	x := b.expr(pred.Node)
	b.elems = b.elems[:depth]
	if x == nil {
		return nil
	}
	line, col := b.pos(list)
	return &node{op: o, kind: kind, a: x, slot: bd.slot, field: depth, line: int32(line), col: int32(col)}
}

// specialize turns `field cmp constant` into one node, the commonest
// predicate, so that it costs one dispatch.
func specialize(n *node) {
	if n.a.op == opConst && n.b.op == opField {
		// c < f is f > c: both operands are read without side effects,
		// and IEEE comparisons mirror exactly, NaN included.
		n.a, n.b, n.cmp = n.b, n.a, mirror[n.cmp]
	}
	if n.a.op != opField || n.b.op != opConst {
		return
	}
	switch n.op {
	case opCmpNum:
		// A field holds its declared kind (the decoder checks it), so an
		// int field against an int constant compares as ints.
		if n.a.kind == event.KindInt && n.b.val.Kind() == event.KindInt {
			n.op = opFieldCmpInt
		} else {
			n.op = opFieldCmpFloat
			n.num = n.b.val.Float()
		}
	case opCmpStr:
		n.op = opFieldCmpStr
	default:
		return
	}
	n.slot, n.val = n.a.slot, n.b.val
}
