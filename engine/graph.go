package engine

import (
	"strconv"
	"strings"
	"time"

	"github.com/cepengine/cep/engine/eval"
	"github.com/cepengine/cep/engine/event"
)

// Op is the operation of a graph node. The matcher dispatches on it with a
// switch.
type Op uint8

// The operations.
const (
	// OpSource is the entry of one event type: node id == type id. Its
	// outputs are the first nodes of the rules that read the type.
	OpSource Op = iota
	// OpFilter passes the event on if its predicate (an expression or a Go
	// func) holds. Expression filters with the same input, alias and source
	// text are one node, evaluated once per event.
	OpFilter
	// OpProject computes the fields of a derived event.
	OpProject
	// OpEmit stamps the derived event with its rule, hands it to the
	// subscribers and queues it for the rules that read its type.
	OpEmit
	// OpWindow keeps a window rule's windows per partition key and emits
	// their results (having, fields, output rate limit) through the
	// rule's emit node: window_op.go.
	OpWindow
	// OpOutput rate-limits a filter rule's derived events per key.
	OpOutput
	// OpPattern keeps a pattern rule's partial matches per partition key
	// (an engine/pattern Matcher each) and emits its matches through the
	// rule's emit node: pattern_op.go.
	OpPattern
)

var opNames = [...]string{OpSource: "source", OpFilter: "filter", OpProject: "project", OpEmit: "emit",
	OpWindow: "window", OpOutput: "output", OpPattern: "pattern"}

func (o Op) String() string {
	if int(o) < len(opNames) {
		return opNames[o]
	}
	return "op(" + strconv.Itoa(int(o)) + ")"
}

// Node is one operator of the graph. Graph.Node returns a copy; its slices
// are shared with the graph and must not be modified.
type Node struct {
	ID      int32
	Op      Op
	Type    int32   // source, filter: the type read; project, emit: the type emitted
	Inputs  []int32 // nodes that feed this one
	Outputs []int32 // nodes this one feeds (emit: the source of its type)
	Rules   []int32 // rules running through this node, in rule order
	Expr    string  // filter: the expression, or "func NAME" for a Go predicate; window, output: the spec
	Alias   string  // filter, project: the source alias in scope
	Fields  []Field // project, window: the emitted fields, Expr filled in
	Pos     Pos

	prog  *eval.Program           // filter
	fn    func(*event.Event) bool // filter
	progs []*eval.Program         // project, one per field
	widen []bool                  // project: int results stored into float fields
	copy  []int                   // project: per field, a source slot copied as is, or -1
	keyed *keyedPlan              // window, output
	pat   *patternPlan            // pattern
}

// execNode is the part of a node the matcher reads per event, kept compact
// and apart from the descriptive fields so the hot loop touches few cache
// lines. exec[i] is node i.
type execNode struct {
	op    Op
	typ   int32
	prog  *eval.Program
	fn    func(*event.Event) bool
	progs []*eval.Program
	widen []bool
	copy  []int
	memo  bool // filter: shared by several rules, so evaluated once per event and remembered
	plain bool // project: every field is a source field copied as is
	queue bool // project, emit: some rule reads the emitted type

	keyed *keyedPlan   // window, output
	pat   *patternPlan // pattern
}

// rulePlan is a rule as the matcher runs it: its filters in order, then
// its projection and emit, copied out of the node slice so an event walks
// one small struct with no lookups by node id and no dispatch on the op.
// plans[t] holds the plans of the rules that read type t, in rule order.
// Window, output and pattern rules set general and run node by node.
type rulePlan struct {
	rule    int32
	general *RuleInfo // non-nil: a window, output or pattern rule, run node by node
	filters []filterStep
	proj    execNode
	emit    execNode
}

// filterStep is one filter of a plan: a Go predicate, or an expression,
// remembered per event (memo) when several rules share it.
type filterStep struct {
	fn   func(*event.Event) bool
	prog *eval.Program
	id   int32 // node id, the memo's index
	memo bool
}

// RuleInfo describes a compiled rule.
type RuleInfo struct {
	ID     int32
	Name   string
	Pos    Pos
	Source int32   // type read
	Alias  string  // source alias, "" if none
	Emits  int32   // type emitted
	Chain  []int32 // nodes run for each event of Source, in order
	// Reads lists every type the rule reads: Source for a from rule, the
	// element types of a pattern rule in first-use order.
	Reads []int32
}

// Graph is a compiled program: event types, rules and the operator graph.
// It is immutable and safe to share between goroutines and matchers.
type Graph struct {
	reg      *event.Registry
	nodes    []Node
	exec     []execNode // per node: what the matcher runs
	rules    []RuleInfo
	readers  [][]int32      // per type: the rules that read it, in rule order
	plans    [][]rulePlan   // per type: the plans of those rules
	derived  []bool         // per type: emitted by some rule
	declared []bool         // per type: declared with Event
	kinds    [][]event.Kind // per type: the field kinds, for checking input
	consts   []constDecl
	maxLate  time.Duration
	nFilters int
	keyed    []*keyedPlan   // window and output operators, in rule order
	patterns []*patternPlan // pattern operators, in rule order
}

// Registry returns the event types: declared ones in declaration order, then
// derived ones in the order of the first rule that emits them.
func (g *Graph) Registry() *event.Registry { return g.reg }

// Schema returns the schema of an event type by name.
func (g *Graph) Schema(name string) (*event.Schema, bool) { return g.reg.Lookup(name) }

// Len returns the number of nodes.
func (g *Graph) Len() int { return len(g.nodes) }

// Node returns node id.
func (g *Graph) Node(id int32) Node { return g.nodes[id] }

// Rules returns the rules in rule order. The caller must not modify them.
func (g *Graph) Rules() []RuleInfo { return g.rules }

// Readers returns the rules that read a type, in rule order.
func (g *Graph) Readers(typeID int32) []int32 { return g.readers[typeID] }

// IsDerived reports whether some rule emits the type.
func (g *Graph) IsDerived(typeID int32) bool { return g.derived[typeID] }

// MaxLateness returns the largest lateness of any type: how far the
// watermark trails the largest event time seen.
func (g *Graph) MaxLateness() time.Duration { return g.maxLate }

// String returns a stable, line-oriented dump of the graph: types, nodes and
// rules, by id. cepctl graph prints it; golden tests compare it.
func (g *Graph) String() string {
	var b strings.Builder
	b.WriteString("graph: ")
	b.WriteString(strconv.Itoa(g.reg.Len()))
	b.WriteString(" types, ")
	b.WriteString(strconv.Itoa(len(g.nodes)))
	b.WriteString(" nodes, ")
	b.WriteString(strconv.Itoa(len(g.rules)))
	b.WriteString(" rules, watermark lag ")
	b.WriteString(g.maxLate.String())
	b.WriteByte('\n')
	for _, s := range g.reg.Schemas() {
		b.WriteString("type ")
		b.WriteString(strconv.Itoa(int(s.ID)))
		b.WriteByte(' ')
		b.WriteString(s.Name)
		b.WriteString(" {")
		for i, f := range s.Fields {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(f.Name)
			b.WriteString(": ")
			b.WriteString(f.Type.String())
		}
		b.WriteByte('}')
		if s.TimeSlot >= 0 {
			b.WriteString(" time ")
			b.WriteString(s.Fields[s.TimeSlot].Name)
		}
		if s.Lateness != 0 {
			b.WriteString(" lateness ")
			b.WriteString(s.Lateness.String())
		}
		switch {
		case g.declared[s.ID] && g.derived[s.ID]:
			b.WriteString(" declared, derived")
		case g.derived[s.ID]:
			b.WriteString(" derived")
		}
		b.WriteByte('\n')
	}
	for i := range g.nodes {
		n := &g.nodes[i]
		b.WriteString("node ")
		b.WriteString(strconv.Itoa(int(n.ID)))
		b.WriteByte(' ')
		b.WriteString(n.Op.String())
		b.WriteByte(' ')
		b.WriteString(g.reg.ByID(n.Type).Name)
		switch n.Op {
		case OpFilter:
			if n.Alias != "" {
				b.WriteString(" as ")
				b.WriteString(n.Alias)
			}
			if n.fn != nil {
				b.WriteString(" where ")
				b.WriteString(n.Expr)
			} else {
				b.WriteString(" where `")
				b.WriteString(n.Expr)
				b.WriteByte('`')
			}
		case OpWindow, OpOutput:
			writeKeyed(&b, n)
		case OpPattern:
			writePattern(&b, n)
		case OpProject:
			b.WriteString(" {")
			for i, f := range n.Fields {
				if i > 0 {
					b.WriteString(", ")
				}
				b.WriteString(f.Name)
				b.WriteString(": `")
				b.WriteString(f.Expr)
				b.WriteByte('`')
			}
			b.WriteByte('}')
		}
		writeIDs(&b, " <- ", n.Inputs)
		writeIDs(&b, " -> ", n.Outputs)
		if len(n.Rules) > 0 {
			b.WriteString(" [")
			for i, r := range n.Rules {
				if i > 0 {
					b.WriteByte(' ')
				}
				b.WriteString(g.rules[r].Name)
			}
			b.WriteByte(']')
		}
		b.WriteByte('\n')
	}
	for _, r := range g.rules {
		b.WriteString("rule ")
		b.WriteString(strconv.Itoa(int(r.ID)))
		b.WriteByte(' ')
		b.WriteString(r.Name)
		if g.exec[r.Chain[0]].op == OpPattern {
			b.WriteString(": match")
			for i, t := range r.Reads {
				if i > 0 {
					b.WriteByte(',')
				}
				b.WriteByte(' ')
				b.WriteString(g.reg.ByID(t).Name)
			}
		} else {
			b.WriteString(": from ")
			b.WriteString(g.reg.ByID(r.Source).Name)
		}
		b.WriteString(" emit ")
		b.WriteString(g.reg.ByID(r.Emits).Name)
		writeIDs(&b, " chain ", r.Chain)
		b.WriteByte('\n')
	}
	return b.String()
}

func writeIDs(b *strings.Builder, label string, ids []int32) {
	if len(ids) == 0 {
		return
	}
	b.WriteString(label)
	for i, id := range ids {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.Itoa(int(id)))
	}
}
