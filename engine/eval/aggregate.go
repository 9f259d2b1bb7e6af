package eval

import (
	"strconv"
	"strings"

	"github.com/cepengine/cep/engine/event"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/file"
	"github.com/expr-lang/expr/parser/lexer"
)

// Aggregate is one aggregate call of a window rule's expression.
type Aggregate struct {
	// Func is count, sum, avg, min, max, first, last, stddev, var,
	// count_distinct or percentile.
	Func string
	// Arg is the argument compiled against the argument Env; nil for
	// count() (count(x) counts the events where x is not nil). Its Source
	// is its own text; its error positions are in the whole expression.
	Arg *Program
	// Q is percentile's q, in [0,1].
	Q float64
	// Line and Col are the position of the call.
	Line, Col int
	// Var is the Frame.Vars slot the result is read from.
	Var int
	// Type is the result type: int for count and count_distinct; float for
	// avg, stddev, var and percentile; sum's is int over ints, else float;
	// min, max, first and last have their argument's type.
	Type event.Type
}

// aggregates rewrites the aggregate calls under *slot. In window rules they
// become reads of Vars slots; elsewhere they are errors, except for the
// builtins of the same names applied to lists (sum(map(f, .x))).
func (b *builder) aggregates(slot *ast.Node) {
	n := *slot
	if bn, ok := n.(*ast.BuiltinNode); ok && aggregateNames[bn.Name] && len(bn.Arguments) == 1 && b.opts.aggArg == nil {
		b.ambiguous = append(b.ambiguous, bn) // from a parse without the overrides
	}
	if call, ok := n.(*ast.CallNode); ok {
		if id, ok := call.Callee.(*ast.IdentifierNode); ok && aggregateNames[id.Value] {
			if _, shadowed := b.env.lookup(id.Value); !shadowed {
				b.aggregateCall(slot, call, id.Value)
				return
			}
		}
	}
	for _, c := range children(n) {
		b.aggregates(c)
	}
}

// asBuiltin turns a call parsed as a plain call back into expr's builtin,
// as expr's parser would have built it: count and sum take a list and an
// optional predicate.
func (b *builder) asBuiltin(slot *ast.Node, call *ast.CallNode, name string) *ast.BuiltinNode {
	args := call.Arguments
	if name == "count" || name == "sum" {
		switch len(args) {
		case 0:
			b.errorAt(call, "not enough arguments to call %s", name)
			return nil
		case 1:
		case 2:
			if _, ok := args[1].(*ast.PredicateNode); !ok {
				pred := &ast.PredicateNode{Node: args[1]}
				pred.SetLocation(args[1].Location())
				args = []ast.Node{args[0], pred}
			}
		default:
			b.errorAt(call, "too many arguments to call %s", name)
			return nil
		}
	}
	bn := &ast.BuiltinNode{Name: name, Arguments: args}
	ast.Patch(slot, bn)
	for i := range bn.Arguments {
		b.aggregates(&bn.Arguments[i])
	}
	return bn
}

func (b *builder) aggregateCall(slot *ast.Node, call *ast.CallNode, name string) {
	nargs := len(call.Arguments)
	isBuiltin := name == "count" || name == "sum" || name == "min" || name == "max" || name == "first" || name == "last"

	if b.opts.aggArg == nil {
		switch {
		case !isBuiltin || name == "count" && nargs == 0:
			b.notAllowed(call, name)
		case nargs == 1:
			if bn := b.asBuiltin(slot, call, name); bn != nil {
				b.ambiguous = append(b.ambiguous, bn)
			}
		default:
			b.asBuiltin(slot, call, name)
		}
		return
	}

	if (name == "min" || name == "max") && nargs >= 2 {
		b.asBuiltin(slot, call, name) // min(a, b): expr's builtin over values
		return
	}
	want := 1
	switch name {
	case "count":
		if nargs == 0 {
			want = 0
		}
	case "percentile":
		want = 2
	}
	if nargs != want {
		switch want {
		case 0, 1:
			if name == "count" {
				b.errorAt(call, "count takes at most one argument, found %d", nargs)
			} else {
				b.errorAt(call, "%s takes one argument, found %d", name, nargs)
			}
		default:
			b.errorAt(call, "percentile takes two arguments (a value and q in [0,1]), found %d", nargs)
		}
		return
	}

	line, col := b.pos(call)
	agg := Aggregate{Func: name, Line: line, Col: col}
	key := name + "()"
	if nargs > 0 {
		argNode := call.Arguments[0]
		sub := *b.opts
		sub.aggArg, sub.inAgg, sub.expectBool, sub.clause = nil, true, false, ""
		// The argument compiles within the whole source, so that its
		// errors have their positions there; its Source is its own text.
		prog, errs := compileTree(b.src, argNode, b.opts.aggArg, &sub)
		b.errs = append(b.errs, errs...)
		if prog == nil {
			return
		}
		prog.src = b.argText(call, 0)
		if !b.argTypeOK(name, prog.typ, argNode) {
			return
		}
		agg.Arg = prog
		key = name + "(" + argNode.String() + ")"
		if name == "percentile" {
			q, ok := b.constNumber(call.Arguments[1])
			if !ok || q < 0 || q > 1 {
				b.errorAt(call.Arguments[1], "percentile needs a constant q in [0,1], found %s", call.Arguments[1].String())
				return
			}
			agg.Q = q
			key += "@" + strconv.FormatFloat(q, 'g', -1, 64)
		}
	}
	agg.Type = aggregateType(name, agg.Arg)
	agg.Var = b.env.allocAggregate(key, agg)
	b.aggs = append(b.aggs, agg)
	ast.Patch(slot, &ast.IdentifierNode{Value: aggName(agg.Var)})
}

// allocAggregate returns the Vars slot of an aggregate, shared by every
// expression compiled against this Env that uses the same one.
func (e *Env) allocAggregate(key string, agg Aggregate) int {
	if a, ok := e.aggKey[key]; ok {
		return a.agg.Var
	}
	agg.Var = e.varEnd + len(e.aggs)
	a := &aggSlot{agg: agg, key: key}
	e.aggs = append(e.aggs, a)
	e.aggKey[key] = a
	e.addAggregateName(agg)
	return agg.Var
}

func (b *builder) argTypeOK(name string, t event.Type, arg ast.Node) bool {
	k := t.Kind
	ok := true
	need := ""
	switch name {
	case "sum", "avg", "stddev", "var", "percentile":
		ok, need = k == event.KindInt || k == event.KindFloat, "a number"
	case "min", "max":
		ok = k == event.KindInt || k == event.KindFloat || k == event.KindString || k == event.KindTime || k == event.KindDuration
		need = "a number, string, time or duration"
	case "count_distinct":
		ok, need = k != event.KindList, "a scalar"
	}
	if !ok {
		b.errorAt(arg, "%s needs %s, found %s", name, need, t)
	}
	return ok
}

func aggregateType(name string, arg *Program) event.Type {
	switch name {
	case "count", "count_distinct":
		return event.Int
	case "avg", "stddev", "var", "percentile":
		return event.Float
	case "sum":
		if arg.typ.Kind == event.KindInt {
			return event.Int
		}
		return event.Float
	}
	return arg.typ
}

// constNumber is the value of a numeric literal or numeric constant name.
func (b *builder) constNumber(n ast.Node) (float64, bool) {
	switch n := n.(type) {
	case *ast.IntegerNode:
		return float64(n.Value), true
	case *ast.FloatNode:
		return n.Value, true
	case *ast.IdentifierNode:
		if bd, ok := b.env.lookup(n.Value); ok && bd.kind == bindConst {
			switch bd.val.Kind() {
			case event.KindInt, event.KindFloat:
				return bd.val.Float(), true
			}
		}
	}
	return 0, false
}

// tokens lexes the whole source, once per builder, for the spans of calls.
func (b *builder) tokens() []lexer.Token {
	if b.toks == nil {
		b.toks, _ = lexer.Lex(file.NewSource(b.src))
	}
	return b.toks
}

// callArgs returns the rune spans [from, to) of the arguments of the call
// whose name starts at rune offset from, and the offset past its ")".
func (b *builder) callArgs(from int) (args [][2]int, end int) {
	toks := b.tokens()
	i := 0
	for i < len(toks) && toks[i].From != from {
		i++
	}
	if i+1 >= len(toks) || !toks[i+1].Is(lexer.Bracket, "(") {
		return nil, from + 1
	}
	depth := 0
	start := toks[i+1].To
	for j := i + 1; j < len(toks); j++ {
		t := toks[j]
		switch {
		case t.Kind == lexer.Bracket && (t.Value == "(" || t.Value == "[" || t.Value == "{"):
			depth++
		case t.Kind == lexer.Bracket && (t.Value == ")" || t.Value == "]" || t.Value == "}"):
			depth--
			if depth == 0 {
				if t.From > start || len(args) > 0 {
					args = append(args, [2]int{start, t.From})
				}
				return args, t.To
			}
		case depth == 1 && t.Is(lexer.Operator, ","):
			args = append(args, [2]int{start, t.From})
			start = t.To
		}
	}
	return args, len([]rune(b.src))
}

func (b *builder) callEnd(from int) int {
	_, end := b.callArgs(from)
	return end
}

// argText returns the source text of argument i of a call.
func (b *builder) argText(call *ast.CallNode, i int) string {
	args, _ := b.callArgs(call.Location().From)
	if i >= len(args) {
		return call.Arguments[i].String()
	}
	return strings.TrimSpace(runeSlice(b.src, args[i][0], args[i][1]))
}

func runeSlice(s string, from, to int) string {
	bFrom, bTo := len(s), len(s)
	i := 0
	for off := range s {
		if i == from {
			bFrom = off
		}
		if i == to {
			bTo = off
			break
		}
		i++
	}
	if bFrom > bTo {
		return ""
	}
	return s[bFrom:bTo]
}
