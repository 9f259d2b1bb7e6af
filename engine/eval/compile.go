package eval

import (
	"errors"
	"reflect"
	"slices"
	"strings"

	"github.com/cepengine/cep/engine/event"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/builtin"
	"github.com/expr-lang/expr/checker"
	"github.com/expr-lang/expr/checker/nature"
	"github.com/expr-lang/expr/conf"
	"github.com/expr-lang/expr/file"
	"github.com/expr-lang/expr/parser"
	"github.com/expr-lang/expr/parser/lexer"
)

// Option configures one Compile.
type Option func(*options)

type options struct {
	expectBool bool
	aggArg     *Env // non-nil: aggregates allowed, their arguments compile against it
	forceVM    bool
	clause     string // "where", "having"...: names the context in messages
	inAgg      bool   // compiling an aggregate's argument
}

// ExpectBool requires a bool result (a where clause, a condition).
func ExpectBool() Option { return func(o *options) { o.expectBool = true } }

// Aggregates allows aggregate calls (window rules' having and emit): they
// become reads of Frame.Vars slots allocated in the Env passed to Compile,
// and their argument compiles against arg.
func Aggregates(arg *Env) Option { return func(o *options) { o.aggArg = arg } }

// NoAggregates makes an aggregate call an error. It is the default; the
// option exists to say so at the call site.
func NoAggregates() Option { return func(o *options) { o.aggArg = nil } }

// ForceVM compiles everything for expr's VM, for differential tests.
func ForceVM() Option { return func(o *options) { o.forceVM = true } }

// Clause names the context of the expression in error messages: with
// Clause("where"), "where must be bool, found float" and "aggregate sum is
// not allowed in where".
func Clause(name string) Option { return func(o *options) { o.clause = name } }

// Program is a compiled expression. It is immutable and may be shared.
type Program struct {
	src    string
	origin string // the text positions are relative to: src, or for an aggregate's argument the whole expression
	typ    event.Type
	root   *node
	tests  []test // the branch program of a bool program
	one    test   // tests[0] of a single-test program (branch_single.go)
	// evalBool is EvalBool's implementation for this program: a single
	// test's function, leafBranch, branch or evalTree.
	evalBool func(m *Machine, p *Program, f *Frame) bool
	lowered  bool
	aggs     []Aggregate
}

// Type returns the static result type; event.Any when only known at run time.
func (p *Program) Type() event.Type { return p.typ }

// Source returns the expression's source text.
func (p *Program) Source() string { return p.src }

// Lowered reports whether the program runs entirely as direct code, with no
// part on expr's VM.
func (p *Program) Lowered() bool { return p.lowered }

// Aggregates returns the aggregate calls of the program, in source order,
// with the Frame.Vars slots their results are read from.
func (p *Program) Aggregates() []Aggregate { return p.aggs }

// aggregateNames are the functions that become aggregates in window rules.
var aggregateNames = map[string]bool{
	"count": true, "sum": true, "avg": true, "min": true, "max": true,
	"first": true, "last": true, "stddev": true, "var": true,
	"count_distinct": true, "percentile": true,
}

// disabledBuiltins are expr builtins a deterministic engine must not offer.
var disabledBuiltins = []string{"now"}

// Compile parses, type-checks and compiles src against env (nil: no names).
func Compile(src string, env *Env, opts ...Option) (*Program, error) {
	if env == nil {
		env = NewEnv()
	}
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	tree, perr := parse(src, env, o.aggArg != nil)
	if perr != nil {
		return nil, perr
	}
	p, errs := compileTree(src, tree.Node, env, &o)
	if len(errs) > 0 {
		errs.sortDedup()
		return nil, &errs
	}
	return p, nil
}

// parse parses src. Aggregate names are parsed as plain calls so that
// count() parses; a predicate form such as count(f, .ok) does not parse that
// way, so outside window rules a failed parse is retried with expr's own
// builtins.
func parse(src string, env *Env, aggregates bool) (*parser.Tree, *ErrorList) {
	cfgs := env.configs()
	tree, err := parser.ParseWithConfig(src, cfgs.parse)
	if err == nil {
		return tree, nil
	}
	if !aggregates {
		if plain, err2 := parser.ParseWithConfig(src, cfgs.plain); err2 == nil {
			return plain, nil
		} else {
			err = err2
		}
	}
	var errs ErrorList
	errs.addExpr(src, err)
	return nil, &errs
}

// exprConfigs are expr's configurations for one Env, built once by its
// first Compile (conf.CreateNew copies every builtin into fresh maps and the
// type environment is a tree of maps: rebuilding them per Compile was most
// of its cost). Both share one type environment, whose Fields map gains the
// aggregates' names as Compile allocates them, and the package's immutable
// tables. Parser, checker and compiler only read a configuration, apart
// from its nature cache, which is why an Env is not safe for concurrent use.
type exprConfigs struct {
	fields map[string]nature.Nature // the names of the type environment
	parse  *conf.Config             // aggregate names parse as plain calls
	plain  *conf.Config             // expr's builtins: the parse retry, the checker, the VM compiler
}

var (
	// exprBuiltins is expr's builtin table without the disabled builtins.
	exprBuiltins = func() conf.FunctionsTable {
		t := make(conf.FunctionsTable, len(builtin.Builtins))
		for _, f := range builtin.Builtins {
			if !slices.Contains(disabledBuiltins, f.Name) {
				t[f.Name] = f
			}
		}
		return t
	}()
	disabledSet = func() map[string]bool {
		m := map[string]bool{}
		for _, name := range disabledBuiltins {
			m[name] = true
		}
		return m
	}()
	// aggregateFuncs override expr's builtins of the aggregate names while
	// parsing, so that count() parses; the checker never sees them (the
	// aggregates pass rewrites every such call).
	aggregateFuncs = func() conf.FunctionsTable {
		t := conf.FunctionsTable{}
		for name := range aggregateNames {
			t[name] = &builtin.Function{Name: name, Func: func(...any) (any, error) { return nil, nil }}
		}
		return t
	}()
	// vmFuncs are the functions the patched VM code calls (vmpatch.go).
	vmFuncs = conf.FunctionsTable{timeCheckName: timeCheck}
)

// configs returns the Env's expr configurations, building them if a method
// changed the Env since the last Compile.
func (e *Env) configs() *exprConfigs {
	if e.cfg != nil {
		return e.cfg
	}
	nt := e.envNature()
	e.cfg = &exprConfigs{fields: nt.Fields, parse: newConfig(nt, aggregateFuncs), plain: newConfig(nt, vmFuncs)}
	return e.cfg
}

// newConfig is conf.New(env) with the disabled builtins removed and
// functions funcs, sharing the package's tables instead of copying them.
func newConfig(env nature.Nature, funcs conf.FunctionsTable) *conf.Config {
	return &conf.Config{
		Env:          env,
		Strict:       env.Strict,
		Optimize:     true,
		ShortCircuit: true,
		MaxNodes:     conf.DefaultMaxNodes,
		Functions:    funcs,
		Builtins:     exprBuiltins,
		Disabled:     disabledSet,
	}
}

// addAggregateName adds an allocated aggregate to the cached type
// environment, so that allocating one does not rebuild it.
func (e *Env) addAggregateName(a Aggregate) {
	if e.cfg != nil {
		var nb natureBuilder
		e.cfg.fields[aggName(a.Var)] = nb.typ(a.Type)
	}
}

// addExpr adds an error reported by expr, positioned by its rune offset.
func (l *ErrorList) addExpr(src string, err error) {
	var fe *file.Error
	if errors.As(err, &fe) {
		line, col := position(src, fe.From)
		l.add(line, col, "%s", readableTypes(fe.Message))
		return
	}
	l.add(1, 1, "%s", readableTypes(err.Error()))
}

// readableTypes renames Go types in expr's messages to the rule language's.
var typeNamer = strings.NewReplacer(
	"time.Time", "time",
	"time.Duration", "duration",
	"float64", "float",
	"[]interface {}", "list",
	"map[string]interface {}", "event",
	"interface {}", "any",
)

func readableTypes(msg string) string { return typeNamer.Replace(msg) }

// builder compiles one checked tree.
type builder struct {
	src    string
	env    *Env
	opts   *options
	cfg    *conf.Config
	errs   ErrorList
	aggs   []Aggregate
	vmUsed bool
	lets   int
	// ambiguous are single-argument calls of builtins that are also
	// aggregate names (sum(x), first(x)...) outside window rules: they are
	// aggregates, hence errors, unless their argument is a list.
	ambiguous []*ast.BuiltinNode
	toks      []lexer.Token // the source's tokens, lexed by the first call of tokens
	// elems are the schemas of the list elements that pointer accesses
	// (.field) read inside lowered predicates, innermost last.
	elems []*event.Schema
}

func compileTree(src string, root ast.Node, env *Env, o *options) (*Program, ErrorList) {
	b := &builder{src: src, env: env, opts: o}
	b.aggregates(&root)
	if len(b.errs) > 0 {
		return nil, b.errs // the calls left in place would only add noise
	}
	b.names(root, nil)
	b.cfg = env.configs().plain
	tree := &parser.Tree{Node: root, Source: file.NewSource(src)}
	_, err := checker.Check(tree, b.cfg)
	spans := b.checkAmbiguous()
	if err != nil {
		b.addCheckError(root, err, spans)
	}
	if len(b.errs) > 0 {
		return nil, b.errs
	}
	b.validate(root)
	if len(b.errs) > 0 {
		return nil, b.errs
	}

	nt := root.Nature()
	typ, ok := natureType(nt)
	if !ok {
		line, col := b.start()
		b.errs.add(line, col, "%s must be a value, found %s", b.what(), natureName(nt))
		return nil, b.errs
	}
	if o.expectBool && (typ.Kind != event.KindBool && typ.Kind != event.KindAny || nt.Nil) {
		line, col := b.start()
		if o.clause != "" {
			b.errs.add(line, col, "%s must be bool, found %s", o.clause, natureName(nt))
		} else {
			b.errs.add(line, col, "expected bool, found %s", natureName(nt))
		}
		return nil, b.errs
	}

	var n *node
	if o.forceVM {
		n = b.leaf(root, typ)
	} else {
		n = b.expr(root)
		if n == nil {
			n = b.leaf(root, typ)
		}
	}
	if len(b.errs) > 0 {
		return nil, b.errs
	}
	p := &Program{src: src, origin: src, typ: typ, root: n, lowered: !b.vmUsed, aggs: b.aggs}
	p.evalBool = evalTree
	if typ.Kind == event.KindBool && !o.forceVM {
		p.tests = branchProgram(n)
		p.evalBool = branch
		if leafTests(p.tests) {
			p.evalBool = leafBranch
		}
		if fn := singleFunc(p.tests); fn != nil {
			p.one, p.evalBool = p.tests[0], fn
		}
	}
	return p, nil
}

func (b *builder) what() string {
	if b.opts.clause != "" {
		return b.opts.clause
	}
	return "the expression"
}

// start is the position of the first character of the source.
func (b *builder) start() (int, int) {
	off := 0
	for _, r := range b.src {
		if r != ' ' && r != '\t' && r != '\n' && r != '\r' {
			break
		}
		off++
	}
	return position(b.src, off)
}

func (b *builder) errorAt(n ast.Node, format string, args ...any) {
	line, col := position(b.src, n.Location().From)
	b.errs.add(line, col, format, args...)
}

// checkError adds the type checker's error, with a suggestion for an
// unknown name or field.
func (b *builder) checkError(root ast.Node, err error) {
	var fe *file.Error
	if !errors.As(err, &fe) {
		b.errs.add(1, 1, "%s", readableTypes(err.Error()))
		return
	}
	line, col := position(b.src, fe.From)
	msg := readableTypes(fe.Message)
	switch {
	case strings.HasPrefix(fe.Message, "unknown name "):
		name := strings.TrimPrefix(fe.Message, "unknown name ")
		msg = withSuggestion(msg, name, b.env.Names())
	case strings.HasPrefix(fe.Message, "unknown field "):
		name := strings.TrimPrefix(fe.Message, "unknown field ")
		if base := memberBaseAt(root, fe.From); base != nil {
			bn := base.Nature()
			var fields []string
			if bn.TypeData != nil {
				for f := range bn.Fields {
					fields = append(fields, f)
				}
			}
			msg = withSuggestion(msg, name, fields)
		}
	}
	b.errs.add(line, col, "%s", msg)
}

// memberBaseAt finds the base of the member access whose property starts
// at the rune offset from.
func memberBaseAt(root ast.Node, from int) ast.Node {
	var found ast.Node
	walk(root, func(n ast.Node) bool {
		if m, ok := n.(*ast.MemberNode); ok && m.Property.Location().From == from {
			found = m.Node
		}
		return found == nil
	})
	return found
}

// natureType maps a checked nature to a value type.
func natureType(nt *nature.Nature) (event.Type, bool) {
	if nt.Nil || nt.Type == nil {
		return event.Any, true
	}
	if (nt.Kind == reflect.Slice || nt.Kind == reflect.Array) && nt.Ref != nil {
		et, ok := natureType(nt.Ref)
		if !ok {
			return event.Type{}, false
		}
		return event.ListOf(et), true
	}
	return typeOf(nt.Type)
}

// natureName names a nature in messages with the rule language's words.
func natureName(nt *nature.Nature) string {
	if nt.Nil {
		return "nil"
	}
	if t, ok := natureType(nt); ok {
		return t.String()
	}
	if nt.Type != nil && nt.Type.Kind() == reflect.Map {
		return "event"
	}
	if nt.IsArray() && nt.Ref != nil {
		return "[" + natureName(nt.Ref) + "]"
	}
	return readableTypes(nt.String())
}

// walk visits n and its descendants in pre-order while fn returns true.
func walk(n ast.Node, fn func(ast.Node) bool) {
	if n == nil || !fn(n) {
		return
	}
	for _, c := range children(n) {
		walk(*c, fn)
	}
}

// children returns pointers to the child slots of n.
func children(n ast.Node) []*ast.Node {
	switch n := n.(type) {
	case *ast.UnaryNode:
		return []*ast.Node{&n.Node}
	case *ast.BinaryNode:
		return []*ast.Node{&n.Left, &n.Right}
	case *ast.ChainNode:
		return []*ast.Node{&n.Node}
	case *ast.MemberNode:
		return []*ast.Node{&n.Node, &n.Property}
	case *ast.SliceNode:
		out := []*ast.Node{&n.Node}
		if n.From != nil {
			out = append(out, &n.From)
		}
		if n.To != nil {
			out = append(out, &n.To)
		}
		return out
	case *ast.CallNode:
		out := []*ast.Node{&n.Callee}
		for i := range n.Arguments {
			out = append(out, &n.Arguments[i])
		}
		return out
	case *ast.BuiltinNode:
		out := make([]*ast.Node, len(n.Arguments))
		for i := range n.Arguments {
			out[i] = &n.Arguments[i]
		}
		return out
	case *ast.PredicateNode:
		return []*ast.Node{&n.Node}
	case *ast.VariableDeclaratorNode:
		return []*ast.Node{&n.Value, &n.Expr}
	case *ast.SequenceNode:
		out := make([]*ast.Node, len(n.Nodes))
		for i := range n.Nodes {
			out[i] = &n.Nodes[i]
		}
		return out
	case *ast.ConditionalNode:
		return []*ast.Node{&n.Cond, &n.Exp1, &n.Exp2}
	case *ast.ArrayNode:
		out := make([]*ast.Node, len(n.Nodes))
		for i := range n.Nodes {
			out[i] = &n.Nodes[i]
		}
		return out
	case *ast.MapNode:
		out := make([]*ast.Node, len(n.Pairs))
		for i := range n.Pairs {
			out[i] = &n.Pairs[i]
		}
		return out
	case *ast.PairNode:
		return []*ast.Node{&n.Key, &n.Value}
	}
	return nil
}
