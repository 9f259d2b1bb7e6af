package lang

import (
	"errors"

	"github.com/cepengine/cep/engine"
)

// Compile turns a checked program into the engine's operator graph through
// the engine's builder API, the same API a Go program uses. Every rule is
// compiled; all errors are reported as an ErrorList with rule-file
// positions.
func Compile(p *Program) (*engine.Graph, error) {
	b := engine.NewBuilder()
	for _, t := range p.Types {
		if !t.Declared() {
			continue // inferred from the emits by the engine
		}
		d := t.Decl
		td := b.Event(t.Name).At(enginePos(d.Pos))
		for _, f := range t.Schema.Fields {
			td.Field(f.Name, f.Type)
		}
		if d.Time != nil {
			td.Time(d.Time.Name).At(enginePos(d.Time.Pos))
		}
		if d.Lateness != nil {
			td.Lateness(d.Lateness.Value).At(enginePos(d.Lateness.Pos))
		}
	}
	for _, c := range p.Consts {
		b.ConstAt(enginePos(c.Decl.Pos), c.Name, c.Value)
	}
	for _, ri := range p.Rules {
		if ri.Kind == PatternRule {
			compileMatch(b, ri) // compile_pattern.go
			continue
		}
		compileFrom(b, ri)
	}
	g, err := b.Build()
	if err != nil {
		return nil, buildErrors(err)
	}
	return g, nil
}

// compileFrom compiles a filter or window rule: from, where, partition by,
// window, having, emit and output.
func compileFrom(b *engine.Builder, ri *RuleInfo) {
	r := b.Rule(ri.Name).At(enginePos(ri.Decl.Pos))
	from := ri.Decl.From()
	r.From(ri.Source.Name).At(enginePos(from.Pos))
	if ri.Alias != "" {
		r.As(ri.Alias).At(enginePos(from.Alias.Pos))
	}
	if ri.Where != nil {
		r.Where(ri.Where.Expr.Text).At(enginePos(ri.Where.Expr.Pos))
	}
	for _, k := range ri.Partition {
		// A from rule reads one type: its key expression is Exprs[0].
		x := k.Exprs[0].Expr
		r.PartitionBy(x.Text).At(enginePos(x.Pos))
	}
	if w := ri.Window; w != nil {
		r.Window(engineWindow(w)).At(enginePos(ri.Decl.Window().Pos))
	}
	if ri.Having != nil {
		r.Having(ri.Having.Expr.Text).At(enginePos(ri.Having.Expr.Pos))
	}
	r.Emit(ri.Emit.Type.Name, emitFields(ri.Emit)...).At(enginePos(ri.Emit.Clause.Pos))
	if o := ri.Output; o != nil {
		mode := engine.OutputFirst
		if o.Last {
			mode = engine.OutputLast
		}
		r.Output(mode, o.Every).At(enginePos(ri.Decl.Output().Pos))
	}
}

// engineWindow is the engine's spec of a checked window.
func engineWindow(w *Window) engine.WindowSpec {
	switch w.Kind {
	case WindowTumbling:
		return engine.Tumbling(w.Size)
	case WindowHopping:
		return engine.Hopping(w.Size, w.Step)
	case WindowSliding:
		return engine.Sliding(w.Size)
	case WindowCount:
		return engine.CountWindow(w.Count)
	case WindowSlidingCount:
		return engine.SlidingCount(w.Count)
	}
	return engine.Session(w.Gap)
}

// emitFields lists an emit's fields for the builder. A declared type gets
// every field of its declaration, in declaration order; the ones the emit
// leaves out are nil.
func emitFields(e *EmitInfo) []engine.Field {
	if !e.Type.Declared() {
		out := make([]engine.Field, 0, len(e.Fields))
		for _, f := range e.Fields {
			out = append(out, engine.Field{Name: f.Name, Expr: f.Value.Expr.Text, Pos: enginePos(f.Value.Expr.Pos)})
		}
		return out
	}
	byName := map[string]*EmitFieldInfo{}
	for _, f := range e.Fields {
		byName[f.Name] = f
	}
	out := make([]engine.Field, 0, len(e.Type.Schema.Fields))
	for _, sf := range e.Type.Schema.Fields {
		if f, ok := byName[sf.Name]; ok {
			out = append(out, engine.Field{Name: f.Name, Expr: f.Value.Expr.Text, Pos: enginePos(f.Value.Expr.Pos)})
		} else {
			out = append(out, engine.Field{Name: sf.Name, Expr: "nil", Pos: enginePos(e.Clause.Pos)})
		}
	}
	return out
}

func enginePos(p Position) engine.Pos {
	return engine.Pos{File: p.Filename, Line: p.Line, Col: p.Column, Offset: int64(p.Offset)}
}

// buildErrors maps the engine's build errors to positioned lang errors.
func buildErrors(err error) error {
	var list engine.ErrorList
	if !errors.As(err, &list) {
		return ErrorList{&Error{Msg: err.Error()}}
	}
	var out ErrorList
	for _, e := range list {
		out = append(out, &Error{Pos: Position{Filename: e.Pos.File, Line: e.Pos.Line, Column: e.Pos.Col, Offset: int(e.Pos.Offset)}, Msg: e.Msg})
	}
	return out.Err()
}
