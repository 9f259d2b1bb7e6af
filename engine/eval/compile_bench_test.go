package eval_test

import (
	"testing"

	"github.com/cepengine/cep/engine/eval"
	"github.com/expr-lang/expr/builtin"
	"github.com/expr-lang/expr/conf"
	"github.com/expr-lang/expr/parser"
)

// compileCase is one expression of BenchmarkCompile with the scope a rule
// checker would compile it in.
type compileCase struct {
	src  string
	env  func() *eval.Env
	opts func() []eval.Option
}

// compileCases are the shapes a rule file is made of: where predicates,
// pattern conditions over aliases, prev and list aliases, and a window
// rule's having and emit with aggregates.
func compileCases() []compileCase {
	boolOpt := func() []eval.Option { return []eval.Option{eval.ExpectBool(), eval.Clause("where")} }
	none := func() []eval.Option { return nil }
	aggs := func() []eval.Option {
		_, arg := aggregateEnvs()
		return []eval.Option{eval.Aggregates(arg)}
	}
	having := func() *eval.Env { h, _ := aggregateEnvs(); return h }
	return []compileCase{
		{`price > 100 and sym == "AAPL"`, newEnv, boolOpt},
		{`sym in ["AAPL", "MSFT", "GOOG"] and qty >= limit`, newEnv, boolOpt},
		{`ok and side != nil and price * qty > big`, newEnv, boolOpt},
		{`price > a.price and at - prev.at < duration("5m")`, newEnv, boolOpt},
		{`all(f, .qty > 1) and f[-1].price < price`, newEnv, boolOpt},
		{`sum(map(f, .price))`, newEnv, none},
		{`count() > 3 and sum(price) > big`, having, aggs},
		{`sum(price * qty) / count()`, having, aggs},
	}
}

var sinkProgram *eval.Program

// BenchmarkCompile measures eval.Compile on typical expressions, each
// iteration compiling the whole set: against Envs built once (the
// expressions of one rule share their Env) and against a fresh Env per
// expression (the first compile of a scope). The baseline is expr's parser
// alone on the same sources, the floor of any compile.
func BenchmarkCompile(b *testing.B) {
	cases := compileCases()
	perExpr := func(b *testing.B) {
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(cases)), "ns/expr")
	}
	b.Run("parseOnly", func(b *testing.B) {
		// Aggregate names parse as plain calls, as Compile parses them.
		cfg := conf.CreateNew()
		for _, name := range []string{"count", "sum"} {
			cfg.Functions[name] = &builtin.Function{Name: name, Func: func(...any) (any, error) { return nil, nil }}
		}
		b.ReportAllocs()
		for b.Loop() {
			for _, c := range cases {
				if _, err := parser.ParseWithConfig(c.src, cfg); err != nil {
					b.Fatal(err)
				}
			}
		}
		perExpr(b)
	})
	b.Run("sameEnv", func(b *testing.B) {
		envs := make([]*eval.Env, len(cases))
		opts := make([][]eval.Option, len(cases))
		for i, c := range cases {
			envs[i], opts[i] = c.env(), c.opts()
		}
		b.ReportAllocs()
		for b.Loop() {
			for i, c := range cases {
				p, err := eval.Compile(c.src, envs[i], opts[i]...)
				if err != nil {
					b.Fatal(err)
				}
				sinkProgram = p
			}
		}
		perExpr(b)
	})
	b.Run("freshEnv", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			for _, c := range cases {
				p, err := eval.Compile(c.src, c.env(), c.opts()...)
				if err != nil {
					b.Fatal(err)
				}
				sinkProgram = p
			}
		}
		perExpr(b)
	})
}
