package eval

import (
	"errors"
	"reflect"
	"slices"
	"time"

	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/builtin"
	"github.com/expr-lang/expr/file"
)

// names reports every unknown name, and every unknown field of an alias,
// of prev or of a list element, each with a suggestion: expr's checker
// stops at the first error, this pass finds them all.
func (b *builder) names(n ast.Node, scope []string) {
	switch n := n.(type) {
	case nil:
		return
	case *ast.IdentifierNode:
		if !b.known(n.Value, scope) {
			b.errorAt(n, "%s", withSuggestion("unknown name "+n.Value, n.Value, append(b.env.Names(), scope...)))
		}
		return
	case *ast.CallNode:
		if id, ok := n.Callee.(*ast.IdentifierNode); ok {
			if !b.known(id.Value, scope) {
				cands := append(b.env.Names(), builtinNames()...)
				b.errorAt(id, "%s", withSuggestion("unknown name "+id.Value, id.Value, cands))
			}
		} else {
			b.names(n.Callee, scope)
		}
		for _, a := range n.Arguments {
			b.names(a, scope)
		}
		return
	case *ast.VariableDeclaratorNode:
		b.names(n.Value, scope)
		b.names(n.Expr, append(slices.Clip(scope), n.Name))
		return
	case *ast.MemberNode:
		b.names(n.Node, scope)
		prop, ok := n.Property.(*ast.StringNode)
		if !ok {
			b.names(n.Property, scope)
			return
		}
		if n.Method {
			return
		}
		if bd := b.eventBase(n.Node, scope); bd != nil {
			if _, ok := bd.schema.Slot(prop.Value); !ok {
				b.errorAt(prop, "%s", withSuggestion("unknown field "+prop.Value+" on "+bd.schema.Name, prop.Value, bd.schema.FieldNames()))
			}
		}
		return
	}
	for _, c := range children(n) {
		b.names(*c, scope)
	}
}

// eventBase returns the binding of an alias, prev or list element that a
// member access reads from, or nil.
func (b *builder) eventBase(base ast.Node, scope []string) *binding {
	switch base := base.(type) {
	case *ast.IdentifierNode:
		if slices.Contains(scope, base.Value) {
			return nil
		}
		if bd, ok := b.env.lookup(base.Value); ok && (bd.kind == bindAlias || bd.kind == bindPrev) {
			return bd
		}
	case *ast.MemberNode:
		if _, isStr := base.Property.(*ast.StringNode); isStr {
			return nil
		}
		if id, ok := base.Node.(*ast.IdentifierNode); ok && !slices.Contains(scope, id.Value) {
			if bd, ok := b.env.lookup(id.Value); ok && bd.kind == bindList {
				return bd
			}
		}
	}
	return nil
}

func (b *builder) known(name string, scope []string) bool {
	if name == "$env" || slices.Contains(scope, name) {
		return true
	}
	if _, ok := b.env.lookup(name); ok {
		return true
	}
	if _, ok := builtin.Index[name]; ok && !slices.Contains(disabledBuiltins, name) {
		return true
	}
	return false
}

func builtinNames() []string {
	var out []string
	for _, f := range builtin.Builtins {
		if !slices.Contains(disabledBuiltins, f.Name) {
			out = append(out, f.Name)
		}
	}
	return out
}

// validate reports errors the VM would only find at run time but that are
// certain at compile time: an invalid constant duration.
func (b *builder) validate(root ast.Node) {
	walk(root, func(n ast.Node) bool {
		if bn, ok := n.(*ast.BuiltinNode); ok && bn.Name == "duration" && len(bn.Arguments) == 1 {
			if s, ok := bn.Arguments[0].(*ast.StringNode); ok {
				if _, err := time.ParseDuration(s.Value); err != nil {
					b.errorAt(s, "invalid duration %q: expected a number with a unit such as 500ms, 10s, 5m, 2h", s.Value)
				}
			}
		}
		return true
	})
}

// checkAmbiguous reports sum(x), min(x), first(x)... over a value that is
// not a list outside window rules: they are aggregates there. It returns the
// source spans of those calls, inside which the checker's own complaint
// ("builtin sum takes only array") is redundant.
func (b *builder) checkAmbiguous() [][2]int {
	var spans [][2]int
	for _, bn := range b.ambiguous {
		arg := bn.Arguments[0]
		nt := arg.Nature()
		if nt.IsArray() || nt.Type == nil && !nt.Nil || nt.Type != nil && nt.Type.Kind() == reflect.Interface {
			continue // a list, or unknown until run time: expr's builtin
		}
		b.notAllowed(bn, bn.Name)
		spans = append(spans, [2]int{bn.Location().From, b.callEnd(bn.Location().From)})
	}
	return spans
}

// addCheckError adds the checker's error unless it falls inside one of the
// spans already reported.
func (b *builder) addCheckError(root ast.Node, err error, spans [][2]int) {
	var fe *file.Error
	if errors.As(err, &fe) {
		for _, s := range spans {
			if fe.From >= s[0] && fe.From < s[1] {
				return
			}
		}
	}
	b.checkError(root, err)
}

func (b *builder) notAllowed(n ast.Node, name string) {
	where := "here"
	switch {
	case b.opts.inAgg:
		where = "inside an aggregate"
	case b.opts.clause != "":
		where = "in " + b.opts.clause
	}
	b.errorAt(n, "aggregate %s is not allowed %s", name, where)
}
