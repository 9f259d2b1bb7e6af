package lang

import (
	"fmt"
	"os"
	"slices"
	"time"

	"github.com/cepengine/cep/engine/eval"
	"github.com/cepengine/cep/engine/event"
)

// This file is the checker's public face: Load, LoadSource and Check, and
// the Program they return, which holds every resolved fact a later stage
// (the compile step to the engine's builder) needs. The checks themselves
// live in check_decl.go (event types and consts), check_rule.go (rule
// structure, sources, partitions, windows, having), check_pattern.go
// (patterns) and check_emit.go (emitted schemas, cycles, rule order).

// Program is a checked set of rule files: every name resolved and every
// expression compiled. It is never built from files that have any error. A
// Program is immutable and safe for concurrent use.
type Program struct {
	Files []*File
	// Registry holds every event type: the declared ones in declaration
	// order, then the types only rules emit, in the order of their first
	// emitting rule. Schema.ID indexes Types.
	Registry *event.Registry
	Types    []*EventType
	Consts   []*Const    // declaration order
	Rules    []*RuleInfo // source order: file order, then position
	// Order lists the rules so that a rule comes after every rule whose
	// emitted type it reads (rules never form a cycle); rules that do not
	// depend on each other keep their source order.
	Order []*RuleInfo

	typeByName  map[string]*EventType
	constByName map[string]*Const
	ruleByName  map[string]*RuleInfo
}

// Type returns the event type of that name, or nil.
func (p *Program) Type(name string) *EventType { return p.typeByName[name] }

// Const returns the constant of that name, or nil.
func (p *Program) Const(name string) *Const { return p.constByName[name] }

// Rule returns the rule of that name, or nil.
func (p *Program) Rule(name string) *RuleInfo { return p.ruleByName[name] }

// EventType is one event type of a program: declared with `event`, or
// inferred from the emit clauses of the rules that derive it.
type EventType struct {
	Name   string
	Schema *event.Schema
	Decl   *EventDecl  // nil: the type is inferred from its emitters
	Emits  []*RuleInfo // rules that emit the type (emit or on timeout emit), source order
	Reads  []*RuleInfo // rules that read it, source order

	pos     Position // of the declaration or of the first emit naming it
	unknown bool     // its schema is unknown (a broken declaration or an emitter with errors)
}

// Declared reports whether the type has an event declaration.
func (t *EventType) Declared() bool { return t.Decl != nil }

// Const is a checked constant.
type Const struct {
	Name  string
	Decl  *ConstDecl
	Type  event.Type
	Value event.Value
}

// RuleKind tells filter, window and pattern rules apart.
type RuleKind uint8

// The rule kinds.
const (
	FilterRule  RuleKind = iota // from, no window: one output per accepted event
	WindowRule                  // from and window: aggregates per key and window
	PatternRule                 // match: a sequence pattern
)

func (k RuleKind) String() string {
	switch k {
	case FilterRule:
		return "filter"
	case WindowRule:
		return "window"
	case PatternRule:
		return "pattern"
	}
	return "kind(?)"
}

// RuleInfo is a checked rule.
//
// Expression frames (eval.Frame) the compile step must provide:
//   - from/where and partition keys: Current is the event; Bound[0] is the
//     same event (it backs the from alias and Type.field qualified keys).
//   - window having/emit: Vars[i] is partition key i (PartitionKey.Var);
//     aggregate results go where eval's Aggregate.Var says.
//   - pattern element conditions and until: Current is the candidate event,
//     Prev the previous event of the same type in the same partition (nil if
//     none), Bound/Lists hold the aliases bound so far (AliasInfo.Slot); the
//     element's own single alias reads Bound[slot] = the candidate, its own
//     list alias the iterations accepted so far.
//   - pattern having/emit/on timeout emit: Bound/Lists as matched (unbound
//     aliases nil), Vars[i] partition key i.
type RuleInfo struct {
	Name  string
	Decl  *Rule
	Kind  RuleKind
	Index int // in Program.Rules

	// Reads lists the event types the rule reads, in first-use order: the
	// from type, or every element type of the pattern (negated ones too).
	Reads []*EventType
	// Emits lists the types the rule emits: emit, then on timeout emit.
	Emits []*EventType

	// Filter and window rules.
	Source *EventType
	Alias  string    // from alias, "" when none
	Where  *Compiled // nil when there is no where

	Partition []*PartitionKey // nil without partition by
	Window    *Window         // window rules

	// Pattern rules.
	Pattern   *PatternInfo
	Within    time.Duration // 0: no within
	WithinGap bool          // within gap: bound between consecutive events
	Skip      Skip

	// Counts marks a pattern rule whose having or emit calls count(): it
	// emits one event per input event that completes matches, count()
	// being how many (docs/language.md, Counting matches).
	Counts bool

	Having *Compiled // nil when there is no having
	// Aggregates lists a window rule's aggregates, shared by its having and
	// emit expressions (one state each; results in Frame.Vars[Var]).
	Aggregates []eval.Aggregate
	Emit       *EmitInfo
	Timeout    *EmitInfo // nil without on timeout emit
	Output     *Output   // nil without output

	confused bool // both from and match (reported): its outputs are not checked
}

// Compiled is one checked expression: its source, the names it saw and the
// program eval compiled.
type Compiled struct {
	Expr    *Expr
	Env     *eval.Env
	Program *eval.Program
}

// Type returns the expression's static type.
func (c *Compiled) Type() event.Type { return c.Program.Type() }

// PartitionKey is one key of partition by. Exprs holds its expression per
// input type (aligned with RuleInfo.Reads): the same text for an unqualified
// key, the Type.expr form for a qualified one.
type PartitionKey struct {
	Name  string     // name in having/emit ("" when the key is not a plain field)
	Type  event.Type // agreed type
	Var   int        // Frame.Vars slot in having/emit
	Exprs []*Compiled
}

// WindowKind is the kind of a window.
type WindowKind uint8

// The window kinds.
const (
	WindowTumbling WindowKind = iota
	WindowHopping
	WindowSliding
	WindowCount
	WindowSlidingCount
	WindowSession
)

func (k WindowKind) String() string {
	return [...]string{"tumbling", "hopping", "sliding", "count", "sliding count", "session"}[k]
}

// Window is a checked window spec.
type Window struct {
	Spec  WindowSpec
	Kind  WindowKind
	Size  time.Duration // tumbling, hopping, sliding
	Step  time.Duration // hopping
	Count int           // count, sliding count
	Gap   time.Duration // session
}

// SkipKind is the after-match skip strategy.
type SkipKind uint8

// The skip strategies.
const (
	SkipPastLast SkipKind = iota // the default
	SkipNone
	SkipToNext
	SkipToFirst
	SkipToLast
)

// Skip is a checked skip clause.
type Skip struct {
	Kind   SkipKind
	Target *AliasInfo // to first / to last
}

// Output is a checked output clause.
type Output struct {
	Last  bool // output last (else first)
	Every time.Duration
}

// EmitInfo is a checked emit clause.
type EmitInfo struct {
	Clause *EmitClause
	Type   *EventType
	Fields []*EmitFieldInfo // clause order
}

// EmitFieldInfo is one emitted field.
type EmitFieldInfo struct {
	Name  string
	Pos   Position
	Slot  int        // in Type.Schema
	Type  event.Type // the expression's type
	Value *Compiled
}

// PatternInfo is a checked pattern.
type PatternInfo struct {
	Pattern  *Pattern
	Elements []*ElementInfo // source order
	Aliases  []*AliasInfo   // source order
	Bound    int            // len(Frame.Bound) the rule needs
	Lists    int            // len(Frame.Lists) the rule needs

	byElem     map[*Element]*ElementInfo
	byAlias    map[string]*AliasInfo
	incomplete bool // a type it reads has no known schema (reported)
}

// Element returns the checked element of an AST element.
func (p *PatternInfo) Element(e *Element) *ElementInfo { return p.byElem[e] }

// Alias returns the alias of that name, or nil.
func (p *PatternInfo) Alias(name string) *AliasInfo { return p.byAlias[name] }

// ElementInfo is one checked pattern element.
type ElementInfo struct {
	Elem     *Element
	Index    int // in PatternInfo.Elements
	Type     *EventType
	Alias    *AliasInfo // nil when the element binds no name
	Negated  bool
	Repeated bool      // it or a group around it has a repeating quantifier: its alias binds a list
	Cond     *Compiled // nil without a condition
	Until    *Compiled // until(cond) of its own quantifier
}

// AliasInfo is a name a pattern binds: an explicit alias, or the type name of
// the only unaliased element of that type (Implicit).
type AliasInfo struct {
	Name     string
	Pos      Position
	Type     *EventType
	List     bool // bound to a list of events (Frame.Lists) rather than one (Frame.Bound)
	Slot     int
	Implicit bool
	Element  *ElementInfo
}

// Load reads, parses and checks rule files as one program. A file that
// cannot be read is a plain error; rule errors are an ErrorList holding
// every syntax and semantic error of every file.
func Load(paths ...string) (*Program, error) {
	var files []*File
	var errs ErrorList
	for _, path := range paths {
		src, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("lang: %w", err)
		}
		f, err := Parse(path, src)
		errs = appendErrors(errs, err)
		files = append(files, f)
	}
	return finish(files, errs)
}

// LoadSource parses and checks one rule file given as source.
func LoadSource(name string, src []byte) (*Program, error) {
	f, err := Parse(name, src)
	return finish([]*File{f}, appendErrors(nil, err))
}

func finish(files []*File, errs ErrorList) (*Program, error) {
	p, err := Check(files...)
	errs = appendErrors(errs, err)
	if len(errs) > 0 {
		return nil, errs.Err()
	}
	return p, nil
}

func appendErrors(errs ErrorList, err error) ErrorList {
	switch e := err.(type) {
	case nil:
	case ErrorList:
		errs = append(errs, e...)
	case *Error:
		errs = append(errs, e)
	default:
		errs = append(errs, &Error{Msg: e.Error()})
	}
	return errs
}

// Check checks parsed files together as one program: declarations of every
// file are visible in every other. It returns the Program, or nil and an
// ErrorList with every error found (sorted, one per position and message).
// Files that came from Parse with syntax errors may be passed: their good
// declarations are checked and names of the broken ones are not reported as
// unknown; the caller reports the syntax errors.
func Check(files ...*File) (*Program, error) {
	c := newChecker(files)
	c.run()
	if len(c.errs) > 0 {
		return nil, c.errs.Err()
	}
	return c.program(), nil
}

// checker holds the state of one Check.
type checker struct {
	files []*File
	errs  ErrorList

	types     map[string]*EventType
	typeList  []*EventType // declaration order, then inferred in first-emit order
	typeNames []string     // for suggestions

	consts     map[string]*Const
	constList  []*Const
	constDecl  map[string]*ConstDecl // every declared const, for "declared later"
	brokenName map[string]bool       // consts of broken declarations

	rules      []*RuleInfo
	ruleByName map[string]*RuleInfo
	order      []*RuleInfo
	checked    map[*RuleInfo]bool
	inferred   map[*EventType]bool // inferred schema built
}

func newChecker(files []*File) *checker {
	return &checker{
		files:      files,
		types:      map[string]*EventType{},
		consts:     map[string]*Const{},
		constDecl:  map[string]*ConstDecl{},
		brokenName: map[string]bool{},
		ruleByName: map[string]*RuleInfo{},
		checked:    map[*RuleInfo]bool{},
		inferred:   map[*EventType]bool{},
	}
}

func (c *checker) errorf(pos Position, format string, args ...any) {
	c.errs.Add(pos, format, args...)
}

func (c *checker) run() {
	c.declareEvents()
	c.declareBroken()
	c.declareRules()
	c.checkConsts()
	c.resolveReads()
	c.orderRules()
	for _, r := range c.order {
		c.checkRule(r)
	}
	for _, t := range c.typeList {
		c.inferSchema(t)
	}
	c.fillEmitSlots()
}

func (c *checker) program() *Program {
	p := &Program{
		Files:       c.files,
		Registry:    event.NewRegistry(),
		Consts:      c.constList,
		Rules:       c.rules,
		Order:       c.order,
		typeByName:  c.types,
		constByName: c.consts,
		ruleByName:  c.ruleByName,
	}
	for _, t := range c.typeList {
		p.Registry.Add(t.Schema)
		p.Types = append(p.Types, t)
	}
	return p
}

// allDecls calls fn for every declaration of every file in program order.
func (c *checker) allDecls(fn func(Decl)) {
	for _, f := range c.files {
		if f == nil {
			continue
		}
		for _, d := range f.Decls {
			fn(d)
		}
	}
}

// lookupType resolves a type name read or emitted by a rule. It reports an
// unknown name (with a suggestion) and returns nil; a type whose declaration
// is broken resolves to a type with an unknown schema, silently.
func (c *checker) lookupType(id *Ident) *EventType {
	if t, ok := c.types[id.Name]; ok {
		return t
	}
	c.errorf(id.Pos, "unknown event type %q%s", id.Name, didYouMean(id.Name, c.typeNames))
	// Remember it as unknown so that later uses are not reported again.
	t := &EventType{Name: id.Name, pos: id.Pos, unknown: true}
	c.types[id.Name] = t
	return t
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
