package lang

import (
	"fmt"
	"strings"
	"testing"

	"github.com/cepengine/cep/engine/eval"
	"github.com/cepengine/cep/engine/event"
)

// benchTypes is how many event types the generated program declares.
const benchTypes = 10

// generateRules writes a program of n rules: filter, window and pattern
// rules in turn, every tenth filter rule reading the type an earlier filter
// rule emits (chaining).
func generateRules(n int) string {
	var b strings.Builder
	for k := range benchTypes {
		fmt.Fprintf(&b, "event T%d { user: string, n: int, amount: float, ok: bool, ip: string, at: time } time at lateness 5s\n", k)
	}
	b.WriteString("const limit = 100.0\n\n")
	for i := range n {
		k, k2 := i%benchTypes, (i+1)%benchTypes
		switch {
		case i%30 == 3:
			fmt.Fprintf(&b, "rule c%d\n  from F%d where total > limit and user != \"\"\n  emit C%d { user, total }\n\n", i, i-3, i)
		case i%3 == 0:
			fmt.Fprintf(&b, "rule f%d\n  from T%d where amount > %d.5 and ok\n  emit F%d { user, n, total: amount * 2.0 }\n\n", i, k, i, i)
		case i%3 == 1:
			fmt.Fprintf(&b, "rule w%d\n  from T%d where n > %d\n  partition by user\n  window sliding 5m\n  having count() > 3 and sum(amount) > limit\n  emit W%d { user, c: count(), s: sum(amount), m: max(n) }\n  output first every 1m\n\n", i, k, i, i)
		default:
			fmt.Fprintf(&b, "rule p%d\n  partition by user\n  match a:T%d(ok) -> b:T%d(amount > a.amount)+ -> c:T%d(ip == a.ip)\n  within 10m\n  emit P%d { user: a.user, n: len(b), total: sum(map(b, .amount)) }\n\n", i, k, k2, k, i)
		}
	}
	return b.String()
}

const benchRules = 1000

var (
	benchSink    *Program
	benchFile    *File
	benchProgSum int
)

// TestBench_generatedProgramChecks makes sure the benchmark measures the
// success path: the generated program (smaller here) has no errors and
// mixes the three rule kinds and chaining.
func TestBench_generatedProgramChecks(t *testing.T) {
	const n = 120
	p, err := LoadSource("gen.cep", []byte(generateRules(n)))
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[RuleKind]int{}
	for _, r := range p.Rules {
		kinds[r.Kind]++
	}
	if len(p.Rules) != n || kinds[FilterRule] < n/4 || kinds[WindowRule] < n/4 || kinds[PatternRule] < n/4 {
		t.Fatalf("rules %d, kinds %v", len(p.Rules), kinds)
	}
	if c := p.Rule("c3"); c == nil || c.Source != p.Type("F0") {
		t.Fatalf("chained rule c3 = %+v", c)
	}
}

// BenchmarkCheck measures parse+check of a 1000-rule program, with two
// baselines from the same run: parsing alone, and compiling every
// expression of the program with eval alone (the type-checking floor the
// checker cannot go below).
func BenchmarkCheck(b *testing.B) {
	src := []byte(generateRules(benchRules))
	perRule := func(b *testing.B) {
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*benchRules), "ns/rule")
	}
	b.Run(fmt.Sprintf("parse/rules=%d", benchRules), func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			f, err := Parse("gen.cep", src)
			if err != nil {
				b.Fatal(err)
			}
			benchFile = f
		}
		perRule(b)
	})
	b.Run(fmt.Sprintf("eval-only/rules=%d", benchRules), func(b *testing.B) {
		exprs, envFor := benchExprs(b, src)
		b.ResetTimer()
		b.ReportAllocs()
		for b.Loop() {
			for _, x := range exprs {
				env, opts := envFor(x)
				p, err := eval.Compile(x.src, env, opts...)
				if err != nil {
					b.Fatal(err)
				}
				benchProgSum += len(p.Source())
			}
		}
		perRule(b)
	})
	b.Run(fmt.Sprintf("check/rules=%d", benchRules), func(b *testing.B) {
		f, err := Parse("gen.cep", src)
		if err != nil {
			b.Fatal(err)
		}
		b.ResetTimer()
		b.ReportAllocs()
		for b.Loop() {
			p, err := Check(f)
			if err != nil {
				b.Fatal(err)
			}
			benchSink = p
		}
		perRule(b)
	})
	b.Run(fmt.Sprintf("load/rules=%d", benchRules), func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			p, err := LoadSource("gen.cep", src)
			if err != nil {
				b.Fatal(err)
			}
			benchSink = p
		}
		perRule(b)
	})
}

type benchExpr struct {
	src  string
	rule *RuleInfo
	opts []eval.Option
	kind int // 0 where, 1 window output, 2 pattern condition, 3 pattern output, 4 filter output
	elem *ElementInfo
}

// benchExprs lists every expression of the checked program with the scope
// it needs, so that the baseline compiles exactly what the checker does
// (minus the checker's own work) with pre-built schemas.
func benchExprs(b *testing.B, src []byte) ([]benchExpr, func(benchExpr) (*eval.Env, []eval.Option)) {
	p, err := LoadSource("gen.cep", src)
	if err != nil {
		b.Fatal(err)
	}
	var out []benchExpr
	for _, r := range p.Rules {
		if w := r.Decl.From(); w != nil && w.Where != nil {
			out = append(out, benchExpr{src: w.Where.Text, rule: r, kind: 0, opts: []eval.Option{eval.ExpectBool()}})
		}
		for _, k := range r.Partition {
			for _, x := range k.Exprs {
				out = append(out, benchExpr{src: x.Expr.Text, rule: r, kind: 0})
			}
		}
		if r.Pattern != nil {
			for _, el := range r.Pattern.Elements {
				if el.Cond != nil {
					out = append(out, benchExpr{src: el.Cond.Expr.Text, rule: r, kind: 2, elem: el, opts: []eval.Option{eval.ExpectBool()}})
				}
			}
		}
		kind := 4
		switch r.Kind {
		case WindowRule:
			kind = 1
		case PatternRule:
			kind = 3
		}
		if r.Having != nil {
			out = append(out, benchExpr{src: r.Having.Expr.Text, rule: r, kind: kind, opts: []eval.Option{eval.ExpectBool()}})
		}
		for _, f := range r.Emit.Fields {
			out = append(out, benchExpr{src: f.Value.Expr.Text, rule: r, kind: kind})
		}
	}
	limit := p.Const("limit").Value
	envFor := func(x benchExpr) (*eval.Env, []eval.Option) {
		env := eval.NewEnv()
		opts := x.opts
		r := x.rule
		switch x.kind {
		case 0, 4:
			env.Event(r.Reads[0].Schema)
		case 1:
			env.Var("user", event.String, 0)
			arg := eval.NewEnv()
			arg.Event(r.Source.Schema)
			arg.Const("limit", limit)
			opts = append(opts[:len(opts):len(opts)], eval.Aggregates(arg))
		case 2, 3:
			if x.kind == 2 {
				env.Event(x.elem.Type.Schema)
				env.Prev(x.elem.Type.Schema)
			}
			for _, a := range r.Pattern.Aliases {
				if a.List {
					env.ListAlias(a.Name, a.Type.Schema, a.Slot)
				} else {
					env.Alias(a.Name, a.Type.Schema, a.Slot)
				}
			}
		}
		env.Const("limit", limit)
		return env, opts
	}
	return out, envFor
}
