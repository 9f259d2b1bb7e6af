package lang

import (
	"time"

	"github.com/alecthomas/participle/v2/lexer"
)

// Position is a place in a rule file: file name, byte offset, 1-based line
// and 1-based column (in runes).
type Position = lexer.Position

// Node is any syntax tree node.
type Node interface {
	Start() Position
}

// File is one parsed rule file.
type File struct {
	Pos   Position
	Decls []Decl `parser:"@@*"`

	Name     string    // file name as given to Parse
	Src      []byte    // the source, for tools that want raw text
	Comments []Comment // every comment, in source order (for the formatter)
	// Broken lists the declarations that failed to parse, so that the checker
	// does not report their names as unknown.
	Broken []BrokenDecl
}

// Comment is one comment, // or /* */, with its text as written.
type Comment struct {
	Pos  Position
	Text string
}

// BrokenDecl is a declaration that did not parse: its keyword and, when it
// could be read, its name.
type BrokenDecl struct {
	Pos  Position
	Kind string // "event", "const" or "rule"
	Name string
}

// Decl is a top-level declaration: *EventDecl, *ConstDecl or *Rule.
type Decl interface {
	Node
	decl()
}

// Ident is a name with its position.
type Ident struct {
	Pos  Position
	Name string `parser:"@Ident"`
}

// FieldName is a name that may also be a reserved word (event fields and
// emitted fields may be called "from" or "window").
type FieldName struct {
	Pos  Position
	Name string `parser:"@(Ident | Keyword)"`
}

// Duration is a duration literal such as 500ms, 5m or 1h30m.
type Duration struct {
	Pos   Position
	Text  string `parser:"@Duration"`
	Value time.Duration
}

// Count is a non-negative integer literal (window sizes, quantifier bounds).
type Count struct {
	Pos   Position
	Text  string `parser:"@Int"`
	Value int
}

// EventDecl declares an event type: event Name { field: type, ... } [time f] [lateness d].
type EventDecl struct {
	Pos      Position
	EndPos   Position
	Name     *Ident       `parser:"\"event\" @@"`
	Fields   []*FieldDecl `parser:"\"{\" ( @@ \",\"? )* \"}\""`
	Time     *Ident       `parser:"( \"time\" @@ )?"`
	Lateness *Duration    `parser:"( \"lateness\" @@ )?"`
}

// FieldDecl is one field of an event declaration.
type FieldDecl struct {
	Pos  Position
	Name *FieldName `parser:"@@ \":\""`
	Type *TypeRef   `parser:"@@"`
}

// TypeRef is a field type as written: a name (int, string, ...) or [T].
type TypeRef struct {
	Pos  Position
	Elem *TypeRef `parser:"(  \"[\" @@ \"]\""`
	Name string   `parser:"  | @Ident )"`
}

// ConstDecl declares a named constant: const name = literal.
type ConstDecl struct {
	Pos    Position
	EndPos Position
	Name   *Ident `parser:"\"const\" @@ \"=\""`
	Value  *Expr  `parser:"@@"`
}

// Rule is a rule: its name and clauses, in source order.
type Rule struct {
	Pos     Position
	EndPos  Position
	Name    *Ident   `parser:"\"rule\" @@"`
	Clauses []Clause `parser:"@@*"`
}

func (d *EventDecl) decl() {}
func (d *ConstDecl) decl() {}
func (d *Rule) decl()      {}

// Start returns the node's position.
func (d *EventDecl) Start() Position { return d.Pos }

// Start returns the node's position.
func (d *ConstDecl) Start() Position { return d.Pos }

// Start returns the node's position.
func (d *Rule) Start() Position { return d.Pos }

// Clause is one clause of a rule.
type Clause interface {
	Node
	clause()
	// Keyword is the clause's name as it appears in messages ("from",
	// "partition by", "on timeout emit", ...).
	Keyword() string
}

// FromClause: from Type [alias] [where expr].
type FromClause struct {
	Pos   Position
	Type  *Ident `parser:"\"from\" @@"`
	Alias *Ident `parser:"@@?"`
	Where *Expr  `parser:"( \"where\" @@ )?"`
}

// PartitionClause: partition by expr, ...
type PartitionClause struct {
	Pos  Position
	Keys []*Expr `parser:"\"partition\" \"by\" @@ ( \",\" @@ )*"`
}

// WindowClause: window spec.
type WindowClause struct {
	Pos  Position
	Spec WindowSpec `parser:"\"window\" @@"`
}

// MatchClause: match pattern.
type MatchClause struct {
	Pos     Position
	Pattern *Pattern `parser:"\"match\" @@"`
}

// WithinClause: within [gap] duration.
type WithinClause struct {
	Pos      Position
	Gap      bool      `parser:"\"within\" @\"gap\"?"`
	Duration *Duration `parser:"@@"`
}

// SkipClause: skip none | skip to next | skip past last | skip to first a |
// skip to last a. Kind is "none", "next", "past", "first" or "last".
type SkipClause struct {
	Pos    Position
	Kind   string `parser:"\"skip\" ( @\"none\" | @\"past\" \"last\" | \"to\" ( @\"next\" | @( \"first\" | \"last\" )"`
	Target *Ident `parser:"@@ ) )"`
}

// HavingClause: having expr.
type HavingClause struct {
	Pos  Position
	Cond *Expr `parser:"\"having\" @@"`
}

// EmitClause: emit Type { field: expr, ... }.
type EmitClause struct {
	Pos    Position
	EndPos Position
	Type   *Ident       `parser:"\"emit\" @@ \"{\""`
	Fields []*EmitField `parser:"( @@ ( \",\" @@ )* \",\"? )? \"}\""`
}

// EmitField is name: expr, or a bare name or path (user, s.user) that names
// the field after its last component.
type EmitField struct {
	Pos   Position
	Name  *FieldName `parser:"( @@ \":\" )?"`
	Value *Expr      `parser:"@@"`
}

// TimeoutClause: on timeout emit Type { ... }.
type TimeoutClause struct {
	Pos  Position
	Emit *EmitClause `parser:"\"on\" \"timeout\" @@"`
}

// OutputClause: output first|last every duration.
type OutputClause struct {
	Pos   Position
	Which string    `parser:"\"output\" @( \"first\" | \"last\" )"`
	Every *Duration `parser:"\"every\" @@"`
}

func (*FromClause) clause()      {}
func (*PartitionClause) clause() {}
func (*WindowClause) clause()    {}
func (*MatchClause) clause()     {}
func (*WithinClause) clause()    {}
func (*SkipClause) clause()      {}
func (*HavingClause) clause()    {}
func (*EmitClause) clause()      {}
func (*TimeoutClause) clause()   {}
func (*OutputClause) clause()    {}

// Start returns the node's position.
func (c *FromClause) Start() Position { return c.Pos }

// Start returns the node's position.
func (c *PartitionClause) Start() Position { return c.Pos }

// Start returns the node's position.
func (c *WindowClause) Start() Position { return c.Pos }

// Start returns the node's position.
func (c *MatchClause) Start() Position { return c.Pos }

// Start returns the node's position.
func (c *WithinClause) Start() Position { return c.Pos }

// Start returns the node's position.
func (c *SkipClause) Start() Position { return c.Pos }

// Start returns the node's position.
func (c *HavingClause) Start() Position { return c.Pos }

// Start returns the node's position.
func (c *EmitClause) Start() Position { return c.Pos }

// Start returns the node's position.
func (c *TimeoutClause) Start() Position { return c.Pos }

// Start returns the node's position.
func (c *OutputClause) Start() Position { return c.Pos }

// Keyword names the clause.
func (*FromClause) Keyword() string { return "from" }

// Keyword names the clause.
func (*PartitionClause) Keyword() string { return "partition by" }

// Keyword names the clause.
func (*WindowClause) Keyword() string { return "window" }

// Keyword names the clause.
func (*MatchClause) Keyword() string { return "match" }

// Keyword names the clause.
func (*WithinClause) Keyword() string { return "within" }

// Keyword names the clause.
func (*SkipClause) Keyword() string { return "skip" }

// Keyword names the clause.
func (*HavingClause) Keyword() string { return "having" }

// Keyword names the clause.
func (*EmitClause) Keyword() string { return "emit" }

// Keyword names the clause.
func (*TimeoutClause) Keyword() string { return "on timeout emit" }

// Keyword names the clause.
func (*OutputClause) Keyword() string { return "output" }

// ClauseOrder is the order clauses must appear in, by Keyword.
var ClauseOrder = []string{"from", "partition by", "window", "match", "within", "skip", "having", "emit", "on timeout emit", "output"}

// Rule accessors return the first clause of each kind, or nil. The checker
// reports duplicates and clauses out of order.

// From returns the rule's from clause.
func (r *Rule) From() *FromClause { return firstClause[*FromClause](r) }

// Partition returns the rule's partition by clause.
func (r *Rule) Partition() *PartitionClause { return firstClause[*PartitionClause](r) }

// Window returns the rule's window clause.
func (r *Rule) Window() *WindowClause { return firstClause[*WindowClause](r) }

// Match returns the rule's match clause.
func (r *Rule) Match() *MatchClause { return firstClause[*MatchClause](r) }

// Within returns the rule's within clause.
func (r *Rule) Within() *WithinClause { return firstClause[*WithinClause](r) }

// Skip returns the rule's skip clause.
func (r *Rule) Skip() *SkipClause { return firstClause[*SkipClause](r) }

// Having returns the rule's having clause.
func (r *Rule) Having() *HavingClause { return firstClause[*HavingClause](r) }

// Emit returns the rule's emit clause.
func (r *Rule) Emit() *EmitClause { return firstClause[*EmitClause](r) }

// Timeout returns the rule's on timeout emit clause.
func (r *Rule) Timeout() *TimeoutClause { return firstClause[*TimeoutClause](r) }

// Output returns the rule's output clause.
func (r *Rule) Output() *OutputClause { return firstClause[*OutputClause](r) }

func firstClause[T Clause](r *Rule) T {
	var zero T
	for _, c := range r.Clauses {
		if t, ok := c.(T); ok {
			return t
		}
	}
	return zero
}

// WindowSpec is one of the six window kinds.
type WindowSpec interface {
	Node
	windowSpec()
}

// TumblingWindow: tumbling d.
type TumblingWindow struct {
	Pos  Position
	Size *Duration `parser:"\"tumbling\" @@"`
}

// HoppingWindow: hopping d every step.
type HoppingWindow struct {
	Pos  Position
	Size *Duration `parser:"\"hopping\" @@"`
	Step *Duration `parser:"\"every\" @@"`
}

// SlidingCountWindow: sliding count n.
type SlidingCountWindow struct {
	Pos   Position
	Count *Count `parser:"\"sliding\" \"count\" @@"`
}

// SlidingWindow: sliding d.
type SlidingWindow struct {
	Pos  Position
	Size *Duration `parser:"\"sliding\" @@"`
}

// CountWindow: count n (tumbling by count).
type CountWindow struct {
	Pos   Position
	Count *Count `parser:"\"count\" @@"`
}

// SessionWindow: session gap d.
type SessionWindow struct {
	Pos Position
	Gap *Duration `parser:"\"session\" \"gap\" @@"`
}

func (*TumblingWindow) windowSpec()     {}
func (*HoppingWindow) windowSpec()      {}
func (*SlidingCountWindow) windowSpec() {}
func (*SlidingWindow) windowSpec()      {}
func (*CountWindow) windowSpec()        {}
func (*SessionWindow) windowSpec()      {}

// Start returns the node's position.
func (w *TumblingWindow) Start() Position { return w.Pos }

// Start returns the node's position.
func (w *HoppingWindow) Start() Position { return w.Pos }

// Start returns the node's position.
func (w *SlidingCountWindow) Start() Position { return w.Pos }

// Start returns the node's position.
func (w *SlidingWindow) Start() Position { return w.Pos }

// Start returns the node's position.
func (w *CountWindow) Start() Position { return w.Pos }

// Start returns the node's position.
func (w *SessionWindow) Start() Position { return w.Pos }

// Pattern is an alternation: seq | seq | ... (the loosest binding).
type Pattern struct {
	Pos  Position
	Alts []*Sequence `parser:"@@ ( \"|\" @@ )*"`
}

// Sequence is terms joined by edges. The first step has no edge (the
// checker reports one that has).
type Sequence struct {
	Pos   Position
	Steps []*Step `parser:"@@+"`
}

// Edge is the contiguity between neighbouring pattern terms.
type Edge string

// The edges.
const (
	Strict  Edge = ""    // juxtaposition: the very next event
	Relaxed Edge = "->"  // skip till next match
	AnyEdge Edge = "->>" // skip till any match
)

// Step is an edge and the term it leads to.
type Step struct {
	Pos  Position
	Edge Edge  `parser:"@( \"->>\" | \"->\" )?"`
	Term *Term `parser:"@@"`
}

// Term is factors joined by & (all of them, in any order); & binds tighter
// than edges.
type Term struct {
	Pos     Position
	Factors []*Factor `parser:"@@ ( \"&\" @@ )*"`
}

// Factor is an optionally negated element or group with an optional
// quantifier.
type Factor struct {
	Pos   Position
	Not   bool        `parser:"@\"not\"?"`
	Group *Pattern    `parser:"( \"(\" @@ \")\""`
	Elem  *Element    `parser:"| @@ )"`
	Quant *Quantifier `parser:"@@?"`
}

// Element is [alias:]Type[(condition)]. The condition's parenthesis must
// follow the type name directly: "A (b c)" is A followed by a group.
type Element struct {
	Pos   Position
	Alias *Ident // nil when the element has no alias
	Type  *Ident
	Cond  *Expr // nil when the element has no condition
}

// Quantifier is ? * + {n} {n,} {n,m}, then ? (reluctant) or ! (greedy), a
// loop modifier and until(cond).
type Quantifier struct {
	Pos   Position
	Op    string `parser:"( @( \"??\" | \"?\" | \"*\" | \"+\" )"`
	Min   *Count `parser:"| \"{\" @@?"`
	Comma bool   `parser:"  ( @\",\""`
	Max   *Count `parser:"    @@? )? \"}\" )"`
	Mode  string `parser:"@( \"?\" | \"!\" )?"`
	Loop  string `parser:"@( \"consecutive\" | \"relaxed\" | \"any\" )?"`
	Until *Expr  `parser:"( \"until\" \"(\" @@ \")\" )?"`
}

// Bounds returns the quantifier's minimum and maximum (-1: unbounded).
func (q *Quantifier) Bounds() (lo, hi int) {
	switch q.Op {
	case "?":
		return 0, 1
	case "*":
		return 0, -1
	case "+":
		return 1, -1
	}
	if q.Min != nil { // {,m} is {0,m}, as in SQL
		lo = q.Min.Value
	}
	switch {
	case !q.Comma:
		hi = lo
	case q.Max == nil:
		hi = -1
	default:
		hi = q.Max.Value
	}
	return lo, hi
}

// Reluctant reports a trailing ?: the loop prefers fewer iterations.
func (q *Quantifier) Reluctant() bool { return q.Mode == "?" }

// Greedy reports a trailing !: only the longest loop is kept.
func (q *Quantifier) Greedy() bool { return q.Mode == "!" }

// Start returns the node's position.
func (p *Pattern) Start() Position { return p.Pos }

// Start returns the node's position.
func (s *Sequence) Start() Position { return s.Pos }

// Start returns the node's position.
func (s *Step) Start() Position { return s.Pos }

// Start returns the node's position.
func (t *Term) Start() Position { return t.Pos }

// Start returns the node's position.
func (f *Factor) Start() Position { return f.Pos }

// Start returns the node's position.
func (e *Element) Start() Position { return e.Pos }

// Start returns the node's position.
func (q *Quantifier) Start() Position { return q.Pos }

// Name returns the element's alias, or its type name when it has none.
func (e *Element) Name() string {
	if e.Alias != nil {
		return e.Alias.Name
	}
	return e.Type.Name
}

// Expr is an expr-lang/expr expression, kept as source text. Text has the
// expression's line structure and columns: comments inside it are blanked,
// and every line after the first is indented to its column in the file, so
// that a position in Text maps back to the file by Pos alone (see MapPos).
type Expr struct {
	Pos    Position
	EndPos Position // just after the last token
	Text   string
}

// Start returns the node's position.
func (e *Expr) Start() Position { return e.Pos }

// MapPos maps a 1-based line and column inside e.Text to the file.
func (e *Expr) MapPos(line, col int) Position {
	p := e.Pos
	if line <= 1 {
		p.Column += col - 1
		return p
	}
	p.Line += line - 1
	p.Column = col
	return p
}

// Start returns the node's position.
func (i *Ident) Start() Position { return i.Pos }
