package eval

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/cepengine/cep/engine/event"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/builtin"
	"github.com/expr-lang/expr/checker"
	"github.com/expr-lang/expr/compiler"
	"github.com/expr-lang/expr/file"
	"github.com/expr-lang/expr/parser"
)

// leaf compiles the subtree n for expr's VM. The subtree is first copied
// with the rewrites that give the VM the lowered code's nil semantics, so
// that both paths agree (the differential tests hold them to it).
func (b *builder) leaf(n ast.Node, typ event.Type) *node {
	p := &patcher{b: b}
	t := p.tree(n)
	tree := &parser.Tree{Node: t, Source: file.NewSource(b.src)}
	line, col := b.pos(n)
	fail := func(err error) *node {
		b.errs.add(line, col, "internal error compiling for the VM: %v", err)
		return &node{op: opConst}
	}
	if _, err := checker.Check(tree, b.cfg); err != nil {
		return fail(err)
	}
	prog, err := compiler.Compile(tree, b.cfg)
	if err != nil {
		return fail(err)
	}
	var needs []*binding
	seen := map[string]bool{}
	walk(t, func(x ast.Node) bool {
		if id, ok := x.(*ast.IdentifierNode); ok && !seen[id.Value] {
			seen[id.Value] = true
			if bd, ok := b.env.lookup(id.Value); ok && !p.isLet(id.Value) {
				needs = append(needs, bd)
			}
		}
		return true
	})
	b.vmUsed = true
	return &node{op: opVM, kind: typ.Kind, vm: &vmProg{prog: prog, needs: needs, src: b.src, typ: typ}, line: int32(line), col: int32(col)}
}

// patcher copies a checked subtree for the VM, rewriting the operators whose
// nil behaviour in expr differs from the engine's (see the package doc):
//
//	x < y         let $a = x; let $b = y; $a == nil || $b == nil ? nil : $a < $b
//	x and y       let $a = x; $a == false ? false : let $b = y; $b == false ? false : ($a == nil || $b == nil ? nil : true)
//	not x         let $a = x; $a == nil ? nil : not $a
//	c ? x : y     c == true ? x : y
//	all(l, p)     all(l, p == true)
//
// Only operands that may be nil are rewritten. The lets keep every operand
// evaluated once, in source order, as the lowered code does.
type patcher struct {
	b *builder
}

// letPrefix names the variables of the rewrite; "·" is not a letter to
// expr's lexer, so no source can name them.
const letPrefix = "$·v"

func (p *patcher) isLet(name string) bool { return strings.HasPrefix(name, letPrefix) }

func (p *patcher) let(value ast.Node, loc ast.Node, body func(ref func() ast.Node) ast.Node) ast.Node {
	name := letPrefix + strconv.Itoa(p.b.lets)
	p.b.lets++
	ref := func() ast.Node { return at(&ast.IdentifierNode{Value: name}, loc) }
	return at(&ast.VariableDeclaratorNode{Name: name, Value: value, Expr: body(ref)}, loc)
}

func at(n ast.Node, loc ast.Node) ast.Node {
	n.SetLocation(loc.Location())
	return n
}

func isLiteral(n ast.Node) bool {
	switch n.(type) {
	case *ast.IntegerNode, *ast.FloatNode, *ast.StringNode, *ast.BoolNode:
		return true
	}
	return false
}

func isNilLit(n ast.Node) bool {
	_, ok := n.(*ast.NilNode)
	return ok
}

// tree returns the rewritten copy of n. A time computed by the VM (time
// arithmetic, date(), a method such as AddDate) is passed through
// timeCheck: time.Time reaches past the nanoseconds in an int64 that a time
// value holds, and the lowered code fails where the sum overflows, so the
// VM must fail there too.
func (p *patcher) tree(n ast.Node) ast.Node {
	out := p.rewrite(n)
	if !computesTime(n) {
		return out
	}
	return at(&ast.CallNode{Callee: at(&ast.IdentifierNode{Value: timeCheckName}, n), Arguments: []ast.Node{out}}, n)
}

// computesTime reports whether n computes a time, rather than reading one.
func computesTime(n ast.Node) bool {
	switch n := n.(type) {
	case *ast.BinaryNode:
		if n.Operator != "+" && n.Operator != "-" {
			return false
		}
	case *ast.CallNode, *ast.BuiltinNode:
	default:
		return false
	}
	return n.Nature().Type == timeType
}

// timeCheckName names timeCheck in the VM's functions; "·" is not a
// letter to expr's lexer, so no source can call it.
const timeCheckName = "$·time"

// timeCheck is the identity on times in range (and nil), an error
// otherwise.
var timeCheck = &builtin.Function{
	Name: timeCheckName,
	Func: func(args ...any) (any, error) {
		if t, ok := args[0].(time.Time); ok && !timeInRange(t) {
			return nil, fmt.Errorf("%w: %s", ErrTimeRange, t.Format(time.RFC3339))
		}
		return args[0], nil
	},
	Validate: func(args []reflect.Type) (reflect.Type, error) {
		if len(args) != 1 {
			return nil, fmt.Errorf("%s takes one argument", timeCheckName)
		}
		return timeType, nil
	},
}

// rewrite returns the rewritten copy of n, but for timeCheck.
func (p *patcher) rewrite(n ast.Node) ast.Node {
	switch n := n.(type) {
	case *ast.UnaryNode:
		x := p.tree(n.Node)
		if (n.Operator == "not" || n.Operator == "!" || n.Operator == "-") && p.b.nullable(n.Node) {
			return p.let(x, n, func(v func() ast.Node) ast.Node {
				return p.ifNil(n, []func() ast.Node{v}, at(&ast.UnaryNode{Operator: n.Operator, Node: v()}, n))
			})
		}
		return at(&ast.UnaryNode{Operator: n.Operator, Node: x}, n)

	case *ast.BinaryNode:
		l, r := p.tree(n.Left), p.tree(n.Right)
		switch n.Operator {
		case "??":
			return at(&ast.BinaryNode{Operator: n.Operator, Left: l, Right: r}, n)
		case "and", "&&", "or", "||":
			if !p.b.nullable(n.Left) {
				// expr already yields the right operand as is: true and nil = nil.
				return at(&ast.BinaryNode{Operator: n.Operator, Left: l, Right: r}, n)
			}
			stop, goOn := false, true // and: false stops; or: true stops
			if n.Operator == "or" || n.Operator == "||" {
				stop, goOn = true, false
			}
			return p.let(l, n, func(a func() ast.Node) ast.Node {
				return p.cond(n, p.eq(n, a(), p.boolLit(n, stop)), p.boolLit(n, stop),
					p.let(r, n, func(bv func() ast.Node) ast.Node {
						return p.cond(n, p.eq(n, bv(), p.boolLit(n, stop)), p.boolLit(n, stop),
							p.ifNil(n, []func() ast.Node{a, bv}, p.boolLit(n, goOn)))
					}))
			})
		case "==", "!=":
			if isNilLit(n.Left) || isNilLit(n.Right) {
				return at(&ast.BinaryNode{Operator: n.Operator, Left: l, Right: r}, n)
			}
		}
		if !p.b.nullable(n.Left) && !p.b.nullable(n.Right) {
			return at(&ast.BinaryNode{Operator: n.Operator, Left: l, Right: r}, n)
		}
		if _, constRe := n.Right.(*ast.StringNode); constRe && n.Operator == "matches" {
			// The regexp stays a literal so that expr precompiles it.
			return p.let(l, n, func(a func() ast.Node) ast.Node {
				return p.ifNil(n, []func() ast.Node{a}, at(&ast.BinaryNode{Operator: n.Operator, Left: a(), Right: r}, n))
			})
		}
		// A literal operand is never nil and cannot fail: it needs no let.
		switch {
		case isLiteral(n.Right):
			return p.let(l, n, func(a func() ast.Node) ast.Node {
				return p.ifNil(n, []func() ast.Node{a}, at(&ast.BinaryNode{Operator: n.Operator, Left: a(), Right: r}, n))
			})
		case isLiteral(n.Left):
			return p.let(r, n, func(bv func() ast.Node) ast.Node {
				return p.ifNil(n, []func() ast.Node{bv}, at(&ast.BinaryNode{Operator: n.Operator, Left: l, Right: bv()}, n))
			})
		}
		return p.let(l, n, func(a func() ast.Node) ast.Node {
			return p.let(r, n, func(bv func() ast.Node) ast.Node {
				return p.ifNil(n, []func() ast.Node{a, bv}, at(&ast.BinaryNode{Operator: n.Operator, Left: a(), Right: bv()}, n))
			})
		})

	case *ast.ConditionalNode:
		c := p.tree(n.Cond)
		if p.b.nullable(n.Cond) {
			c = p.eq(n.Cond, c, p.boolLit(n.Cond, true))
		}
		return at(&ast.ConditionalNode{Ternary: n.Ternary, Cond: c, Exp1: p.tree(n.Exp1), Exp2: p.tree(n.Exp2)}, n)

	case *ast.MemberNode:
		// An unbound alias and a missing prev are nil in the VM, so that
		// `prev == nil` holds; their fields are read with ?. so that they
		// are nil too, as in the lowered code.
		if id, ok := n.Node.(*ast.IdentifierNode); ok && !n.Method {
			if bd, ok := p.b.env.lookup(id.Value); ok && (bd.kind == bindAlias || bd.kind == bindPrev) {
				m := at(&ast.MemberNode{Node: p.tree(n.Node), Property: p.tree(n.Property), Optional: true}, n)
				return at(&ast.ChainNode{Node: m}, n)
			}
		}
		return p.copy(n)

	case *ast.BuiltinNode:
		args := make([]ast.Node, len(n.Arguments))
		for i, a := range n.Arguments {
			args[i] = p.tree(a)
		}
		switch n.Name {
		case "all", "any", "none", "one", "filter", "count", "find", "findIndex", "findLast", "findLastIndex":
			if len(n.Arguments) == 2 {
				if pred, ok := n.Arguments[1].(*ast.PredicateNode); ok && p.b.nullable(pred.Node) {
					body := args[1].(*ast.PredicateNode)
					body.Node = p.eq(pred.Node, body.Node, p.boolLit(pred.Node, true))
				}
			}
		case "len":
			if len(args) == 1 && p.b.nullable(n.Arguments[0]) {
				return p.let(args[0], n, func(a func() ast.Node) ast.Node {
					return p.ifNil(n, []func() ast.Node{a}, at(&ast.BuiltinNode{Name: n.Name, Arguments: []ast.Node{a()}}, n))
				})
			}
		}
		return at(&ast.BuiltinNode{Name: n.Name, Arguments: args, Throws: n.Throws}, n)
	}
	return p.copy(n)
}

// ifNil is `v1 == nil || v2 == nil ? nil : then`.
func (p *patcher) ifNil(loc ast.Node, vars []func() ast.Node, then ast.Node) ast.Node {
	var test ast.Node
	for _, v := range vars {
		t := at(&ast.BinaryNode{Operator: "==", Left: v(), Right: at(&ast.NilNode{}, loc)}, loc)
		if test == nil {
			test = t
		} else {
			test = at(&ast.BinaryNode{Operator: "||", Left: test, Right: t}, loc)
		}
	}
	return p.cond(loc, test, at(&ast.NilNode{}, loc), then)
}

func (p *patcher) cond(loc, c, x, y ast.Node) ast.Node {
	return at(&ast.ConditionalNode{Ternary: true, Cond: c, Exp1: x, Exp2: y}, loc)
}

func (p *patcher) eq(loc, x, y ast.Node) ast.Node {
	return at(&ast.BinaryNode{Operator: "==", Left: x, Right: y}, loc)
}

func (p *patcher) boolLit(loc ast.Node, v bool) ast.Node {
	return at(&ast.BoolNode{Value: v}, loc)
}

// copy copies one node, rewriting its children.
func (p *patcher) copy(n ast.Node) ast.Node {
	var out ast.Node
	switch n := n.(type) {
	case *ast.NilNode:
		out = &ast.NilNode{}
	case *ast.IdentifierNode:
		out = &ast.IdentifierNode{Value: n.Value}
	case *ast.IntegerNode:
		out = &ast.IntegerNode{Value: n.Value}
	case *ast.FloatNode:
		out = &ast.FloatNode{Value: n.Value}
	case *ast.BoolNode:
		out = &ast.BoolNode{Value: n.Value}
	case *ast.StringNode:
		out = &ast.StringNode{Value: n.Value}
	case *ast.BytesNode:
		out = &ast.BytesNode{Value: n.Value}
	case *ast.ConstantNode:
		out = &ast.ConstantNode{Value: n.Value}
	case *ast.ChainNode:
		out = &ast.ChainNode{Node: p.tree(n.Node)}
	case *ast.MemberNode:
		out = &ast.MemberNode{Node: p.tree(n.Node), Property: p.tree(n.Property), Optional: n.Optional, Method: n.Method}
	case *ast.SliceNode:
		s := &ast.SliceNode{Node: p.tree(n.Node)}
		if n.From != nil {
			s.From = p.tree(n.From)
		}
		if n.To != nil {
			s.To = p.tree(n.To)
		}
		out = s
	case *ast.CallNode:
		c := &ast.CallNode{Callee: p.tree(n.Callee)}
		for _, a := range n.Arguments {
			c.Arguments = append(c.Arguments, p.tree(a))
		}
		out = c
	case *ast.PredicateNode:
		out = &ast.PredicateNode{Node: p.tree(n.Node)}
	case *ast.PointerNode:
		out = &ast.PointerNode{Name: n.Name}
	case *ast.VariableDeclaratorNode:
		out = &ast.VariableDeclaratorNode{Name: n.Name, Value: p.tree(n.Value), Expr: p.tree(n.Expr)}
	case *ast.SequenceNode:
		s := &ast.SequenceNode{}
		for _, x := range n.Nodes {
			s.Nodes = append(s.Nodes, p.tree(x))
		}
		out = s
	case *ast.ArrayNode:
		a := &ast.ArrayNode{}
		for _, x := range n.Nodes {
			a.Nodes = append(a.Nodes, p.tree(x))
		}
		out = a
	case *ast.MapNode:
		m := &ast.MapNode{}
		for _, x := range n.Pairs {
			m.Pairs = append(m.Pairs, p.tree(x))
		}
		out = m
	case *ast.PairNode:
		out = &ast.PairNode{Key: p.tree(n.Key), Value: p.tree(n.Value)}
	case *ast.UnaryNode, *ast.BinaryNode, *ast.ConditionalNode, *ast.BuiltinNode:
		return p.tree(n)
	default:
		panic("eval: unknown expr node") // unreachable: every expr node type is listed
	}
	out.SetLocation(n.Location())
	return out
}

// nullable reports whether a checked node may evaluate to nil. It may say
// yes wrongly (the rewrite is then only slower), never no wrongly.
func (b *builder) nullable(n ast.Node) bool {
	switch n := n.(type) {
	case *ast.IntegerNode, *ast.FloatNode, *ast.BoolNode, *ast.StringNode, *ast.BytesNode,
		*ast.ArrayNode, *ast.MapNode:
		return false
	case *ast.ConstantNode:
		return n.Value == nil
	case *ast.IdentifierNode:
		if bd, ok := b.env.lookup(n.Value); ok {
			switch bd.kind {
			case bindList:
				return false
			case bindConst:
				return bd.val.IsNil()
			}
		}
		return true
	case *ast.UnaryNode:
		return b.nullable(n.Node)
	case *ast.BinaryNode:
		switch n.Operator {
		case "==", "!=":
			if isNilLit(n.Left) || isNilLit(n.Right) {
				return false
			}
		case "??":
			return b.nullable(n.Right)
		case "..":
			return false
		}
		return b.nullable(n.Left) || b.nullable(n.Right)
	case *ast.ConditionalNode:
		return b.nullable(n.Exp1) || b.nullable(n.Exp2)
	case *ast.BuiltinNode:
		switch n.Name {
		case "all", "any", "none", "one", "count", "filter", "map":
			return false
		case "len":
			return len(n.Arguments) == 1 && b.nullable(n.Arguments[0])
		}
	}
	return true
}
