package engine

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cepengine/cep/engine/event"
)

var update = flag.Bool("update", false, "rewrite golden files")

func TestBuild_errors(t *testing.T) {
	p := func(line, col int) Pos { return Pos{File: "r.cep", Line: line, Col: col} }
	tests := []struct {
		name  string
		build func(b *Builder)
		want  []string
		is    error
	}{
		{"unknown source", func(b *Builder) {
			b.Rule("r").At(p(3, 1)).From("Trades").At(p(4, 8)).Emit("X", Field{Name: "sym"})
		}, []string{"r.cep:4:8: rule r: unknown event type Trades; did you mean Trade?"}, ErrUnknownType},
		{"bad where", func(b *Builder) {
			b.Rule("r").From("Trade").Where("px > \"a\"").At(p(5, 14)).Emit("X", Field{Name: "sym"})
		}, nil, ErrExpr},
		{"unknown field in where, no position", func(b *Builder) {
			b.Rule("r").From("Trade").Where("pz > 1").Emit("X", Field{Name: "sym"})
		}, nil, ErrExpr},
		{"where not bool", func(b *Builder) {
			b.Rule("r").From("Trade").Where("px + 1").Emit("X", Field{Name: "sym"})
		}, nil, ErrExpr},
		{"structure", func(b *Builder) {
			b.Rule("a").At(p(1, 1)).Where("true").At(p(1, 9)).From("Trade").Emit("X").From("Trade").At(p(1, 40))
			b.Rule("b").At(p(2, 1)).From("Trade")
			b.Rule("a").At(p(3, 1)).From("Trade").Emit("Y")
			b.Rule("").At(p(4, 1)).From("Trade").Emit("Z")
		}, []string{
			"r.cep:1:9: rule a: where clause before from; from must come first",
			"r.cep:1:40: rule a: from clause after emit; emit must come last",
			"r.cep:2:1: rule b: rule has no emit clause",
			"r.cep:3:1: rule a: rule a declared twice (first at r.cep:1:1)",
			"r.cep:4:1: rule without a name",
		}, ErrRule},
		{"no from", func(b *Builder) {
			b.Rule("a").At(p(1, 1)).Where("true").Emit("X")
		}, []string{"r.cep:1:1: rule a: rule has no from clause"}, ErrRule},
		{"declarations", func(b *Builder) {
			b.Event("Trade").At(p(9, 1)).Field("x", event.Int)
			b.Event("late").At(p(10, 1))
			b.Event("E").Field("a", event.Int).At(p(11, 10)).Field("a", event.String).At(p(11, 20)).Time("b").At(p(11, 30))
			b.Event("F").Field("s", event.String).Time("s").At(p(12, 5)).Lateness(-time.Second).At(p(12, 9))
			b.Event("G").Field("u", event.Type{}).At(p(13, 3))
			b.ConstAt(p(14, 1), "big", event.IntValue(1))
		}, []string{
			"r.cep:9:1: event type Trade declared twice (first at an unknown position)",
			`r.cep:10:1: event type name "late" is reserved for the built-in stream`,
			"r.cep:11:20: event type E: field a declared twice (first at r.cep:11:10)",
			"r.cep:11:30: event type E: time field b is not one of its fields; did you mean a?",
			"r.cep:12:5: event type F: time field s has type string; want time",
			"r.cep:12:9: event type F: lateness -1s is negative",
			"r.cep:13:3: event type G: field u has no valid type",
			"r.cep:14:1: constant big declared twice (first at an unknown position)",
		}, ErrDuplicate},
		{"emit fields", func(b *Builder) {
			b.Rule("r").From("Trade").Emit("X", Field{Name: "time", Expr: "at", Pos: p(2, 3)}, Field{Name: "sym", Pos: p(2, 10)}, Field{Name: "sym", Pos: p(2, 15)}, Field{Name: "", Expr: "px", Pos: p(2, 20)}, Field{Name: "q", Expr: "qty +", Pos: p(2, 30)})
			b.Rule("s").From("Trade").Emit("late").At(p(3, 20))
		}, []string{
			`r.cep:2:3: rule r: emitted field name "time" is reserved for the output record; rename it`,
			"r.cep:2:15: rule r: field sym emitted twice",
			"r.cep:2:20: rule r: emitted field without a name",
			"r.cep:2:34: rule r: field q: unexpected token EOF",
			`r.cep:3:20: rule s: cannot emit "late": the name is reserved for the built-in stream`,
		}, ErrReserved},
		{"schema mismatch", func(b *Builder) {
			b.Rule("r").From("Trade").Emit("X", Field{Name: "a", Expr: "sym"})
			b.Rule("s").From("Trade").Emit("X", Field{Name: "a", Expr: "qty"}).At(p(7, 3))
			b.Event("Pinned").Field("a", event.Float).Field("b", event.String)
			b.Rule("t").From("Trade").Emit("Pinned", Field{Name: "a", Expr: "qty"}, Field{Name: "b", Expr: "px"}).At(p(8, 3))
			b.Rule("u").From("Trade").Emit("Pinned", Field{Name: "a", Expr: "qty"}, Field{Name: "b", Expr: "sym"})
		}, []string{
			"r.cep:7:3: rule s: emits X {a: int}, but rule r emits X {a: string}: field a has type int against string; declare X to pin its fields",
			"r.cep:8:3: rule t: emits Pinned {a: int, b: float}, but Pinned is declared {a: float, b: string}: field b has type float, want string",
		}, ErrSchemaMismatch},
		{"cycle", func(b *Builder) {
			b.Rule("a").At(p(1, 1)).From("C").Emit("A", Field{Name: "x"})
			b.Rule("b").At(p(2, 1)).From("A").Emit("B", Field{Name: "x"})
			b.Rule("c").At(p(3, 1)).From("B").Emit("C", Field{Name: "x"})
			b.Rule("d").At(p(4, 1)).From("C").Emit("D", Field{Name: "x"})
			b.Rule("self").At(p(5, 1)).From("S").Emit("S", Field{Name: "x"})
		}, []string{
			"r.cep:1:1: rule a: cycle between rules: a (emits A) -> b (emits B) -> c (emits C) -> a",
			"r.cep:5:1: rule self: cycle between rules: self (emits S) -> self",
		}, ErrCycle},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := marketBuilder()
			tt.build(b)
			g, err := b.Build()
			if err == nil {
				t.Fatalf("Build succeeded:\n%s", g)
			}
			var list ErrorList
			if !errors.As(err, &list) {
				t.Fatalf("error %T, want ErrorList", err)
			}
			var got []string
			for _, e := range list {
				got = append(got, e.Error())
			}
			if tt.want != nil && strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
			if tt.want == nil {
				t.Logf("errors:\n%s", strings.Join(got, "\n"))
			}
			if !errors.Is(err, tt.is) {
				t.Errorf("errors.Is(err, %v) = false", tt.is)
			}
		})
	}
}

// TestBuild_exprPositions checks that expression errors are placed in the
// rule file: the clause position plus the offset inside the expression.
func TestBuild_exprPositions(t *testing.T) {
	b := marketBuilder()
	b.Rule("r").From("Trade").Where("px > 1 and\n  pz < 2").At(Pos{File: "f.cep", Line: 3, Col: 9}).
		Emit("X", Field{Name: "s", Expr: "sym + sum", Pos: Pos{File: "f.cep", Line: 5, Col: 12}})
	_, err := b.Build()
	var list ErrorList
	if !errors.As(err, &list) || len(list) != 2 {
		t.Fatalf("errors: %v", err)
	}
	if p := list[0].Pos; p.Line != 4 || p.Col != 3 {
		t.Errorf("where error at %v, want f.cep:4:3: %v", p, list[0])
	}
	if p := list[1].Pos; p.Line != 5 || p.Col != 16 {
		t.Errorf("emit error at %v, want f.cep:5:16 (the +): %v", p, list[1])
	}
	if !strings.Contains(list[0].Msg, "pz") {
		t.Errorf("where error does not name pz: %v", list[0])
	}
}

func TestGraph_golden(t *testing.T) {
	b := marketBuilder()
	b.Event("Alert").Field("sym", event.String).Field("px", event.Float)
	b.Rule("large").From("Trade").Where("px > big").Emit("Large", Field{Name: "sym"}, Field{Name: "px"}, Field{Name: "notional", Expr: "px * qty"})
	b.Rule("large_a").From("Trade").Where(" px > big ").Where("sym == \"A\"").Emit("Alert", Field{Name: "sym"}, Field{Name: "px", Expr: "qty"})
	b.Rule("aliased").From("Trade").As("t").Where("px > big").Emit("Alert", Field{Name: "sym", Expr: "t.sym"}, Field{Name: "px", Expr: "t.px"})
	b.Rule("cheap").From("Trade").Where("px < 1").WhereFunc("even_qty", func(e *event.Event) bool { return e.Fields[2].Int()%2 == 0 }).Emit("Cheap", Field{Name: "sym"})
	b.Rule("huge").From("Large").Where("notional > 1e6").Emit("Huge", Field{Name: "sym"})
	b.Rule("ticks").From("Tick").Emit("Counted", Field{Name: "n"}, Field{Name: "big", Expr: "n > 10"})
	b.Rule("alert_huge").From("Huge").Emit("Alert", Field{Name: "sym"}, Field{Name: "px", Expr: "0.0"})
	g := mustBuild(t, b)
	golden(t, "graph.golden", g.String())
	// Structural facts the dump shows.
	if r := g.Rules()[1]; len(r.Chain) != 4 || r.Chain[0] != g.Rules()[0].Chain[0] {
		t.Errorf("large_a does not share the px > big filter of large: %v vs %v", r.Chain, g.Rules()[0].Chain)
	}
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs (run with -update to accept):\ngot\n%s\nwant\n%s", path, got, want)
	}
}
