package engine

import (
	"time"

	"github.com/cepengine/cep/engine/event"
)

// Builder collects event types, constants and rules, and compiles them into
// a Graph with Build. Its methods record; they never fail or panic: every
// mistake is reported by Build, with its position when the caller gave one
// (At). A Builder is not safe for concurrent use.
type Builder struct {
	types  []*TypeDecl
	consts []constDecl
	rules  []*Rule
}

type constDecl struct {
	name string
	val  event.Value
	pos  Pos
}

// NewBuilder returns an empty builder.
func NewBuilder() *Builder { return &Builder{} }

// Event declares an event type. Add fields with Field, the event-time field
// with Time and the allowed out-of-orderness with Lateness.
func (b *Builder) Event(name string) *TypeDecl {
	t := &TypeDecl{name: name}
	b.types = append(b.types, t)
	return t
}

// Const declares a named constant that every expression may use.
func (b *Builder) Const(name string, v event.Value) *Builder {
	b.consts = append(b.consts, constDecl{name: name, val: v})
	return b
}

// ConstAt is Const with the declaration's position, for error messages.
func (b *Builder) ConstAt(pos Pos, name string, v event.Value) *Builder {
	b.consts = append(b.consts, constDecl{name: name, val: v, pos: pos})
	return b
}

// Rule starts a rule. Its clauses are added in order: From (required, first),
// As, Where and WhereFunc (any number, all must hold), PartitionBy, Window,
// Having, Emit (required), Output (see window_builder.go). A pattern rule
// starts with Match instead of From (see pattern_builder.go).
func (b *Builder) Rule(name string) *Rule {
	r := &Rule{name: name, index: len(b.rules)}
	b.rules = append(b.rules, r)
	return r
}

// TypeDecl is an event type being declared.
type TypeDecl struct {
	name      string
	pos       Pos
	fields    []declField
	timeField string
	timePos   Pos
	lateness  time.Duration
	latePos   Pos
	last      declPart // what At positions
}

type declPart uint8

const (
	partDecl declPart = iota
	partField
	partTime
	partLateness
)

type declField struct {
	name string
	typ  event.Type
	pos  Pos
}

// Field adds a field.
func (t *TypeDecl) Field(name string, typ event.Type) *TypeDecl {
	t.fields = append(t.fields, declField{name: name, typ: typ})
	t.last = partField
	return t
}

// Time names the event-time field (of type time). Without it the type's
// events take their arrival time.
func (t *TypeDecl) Time(field string) *TypeDecl {
	t.timeField = field
	t.last = partTime
	return t
}

// Lateness sets how far behind the largest event time seen an event of this
// type may arrive and still be put in order.
func (t *TypeDecl) Lateness(d time.Duration) *TypeDecl {
	t.lateness = d
	t.last = partLateness
	return t
}

// At sets the source position of the element added last (a field, the time
// clause, the lateness clause) or of the declaration itself.
func (t *TypeDecl) At(pos Pos) *TypeDecl {
	switch t.last {
	case partField:
		t.fields[len(t.fields)-1].pos = pos
	case partTime:
		t.timePos = pos
	case partLateness:
		t.latePos = pos
	default:
		t.pos = pos
	}
	return t
}

// Field is one field of an emitted event: its name and the expression that
// computes it. An empty Expr means the field of the same name ({ user } is
// { user: user }). Pos is the position of the field in the rule file.
type Field struct {
	Name string
	Expr string
	Pos  Pos
}

// Rule is a rule being declared.
type Rule struct {
	name    string
	index   int
	pos     Pos
	clauses []clause
}

type clauseKind uint8

const (
	clauseFrom clauseKind = iota + 1
	clauseAs
	clauseWhere
	clauseWhereFunc
	clauseEmit
	clausePartition // keyed clauses: window_builder.go
	clauseWindow
	clauseHaving
	clauseOutput
	clauseMatch // pattern rules: pattern_builder.go
	clauseTimeout
)

var clauseNames = [...]string{
	clauseFrom:      "from",
	clauseAs:        "as",
	clauseWhere:     "where",
	clauseWhereFunc: "where func",
	clauseEmit:      "emit",
	clausePartition: "partition by",
	clauseWindow:    "window",
	clauseHaving:    "having",
	clauseOutput:    "output",
	clauseMatch:     "match",
	clauseTimeout:   "on timeout emit",
}

type clause struct {
	kind   clauseKind
	pos    Pos
	name   string // from, emit: the type; as: the alias; where func: the func's name
	expr   string // where, having
	fn     func(*event.Event) bool
	fields []Field       // emit
	k      *keyedClause  // partition by, window, output
	match  *PatternMatch // match
}

func (r *Rule) add(c clause) *Rule {
	r.clauses = append(r.clauses, c)
	return r
}

// At sets the source position of the clause added last, or of the rule
// itself when no clause has been added yet.
func (r *Rule) At(pos Pos) *Rule {
	if len(r.clauses) > 0 {
		r.clauses[len(r.clauses)-1].pos = pos
		return r
	}
	r.pos = pos
	return r
}

// From sets the rule's source: the event type it reads (declared, or emitted
// by another rule).
func (r *Rule) From(typeName string) *Rule {
	return r.add(clause{kind: clauseFrom, name: typeName})
}

// As names the source event: expressions may then write alias.field as well
// as field.
func (r *Rule) As(alias string) *Rule { return r.add(clause{kind: clauseAs, name: alias}) }

// Where adds a filter: an expression (expr-lang syntax) over the source
// event's fields and the constants, which must be of type bool.
func (r *Rule) Where(expr string) *Rule { return r.add(clause{kind: clauseWhere, expr: expr}) }

// WhereFunc adds a Go predicate as a filter. name identifies it in
// Graph.String(). The predicate runs on the matcher's goroutine and must not
// keep the event after it returns. Func filters are never shared between
// rules.
func (r *Rule) WhereFunc(name string, fn func(*event.Event) bool) *Rule {
	return r.add(clause{kind: clauseWhereFunc, name: name, fn: fn})
}

// Emit sets what the rule produces: an event of typeName whose fields are
// computed by the given expressions, in order. The type's schema is inferred
// from the expression types, or checked against its declaration if
// typeName is declared.
func (r *Rule) Emit(typeName string, fields ...Field) *Rule {
	return r.add(clause{kind: clauseEmit, name: typeName, fields: append([]Field(nil), fields...)})
}
