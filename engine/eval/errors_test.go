package eval_test

import (
	"errors"
	"testing"

	"github.com/cepengine/cep/engine/eval"
)

type errorCase struct {
	src  string
	opts []eval.Option
	want string // the whole error text
}

var errorCases = []errorCase{
	{`prise > 1`, nil, `1:1: unknown name prise; did you mean price?`},
	{`sm == "x"`, nil, `1:1: unknown name sm; did you mean sym?`},
	{`zzz`, nil, `1:1: unknown name zzz`},
	{`a.prise`, nil, `1:3: unknown field prise on Trade; did you mean price?`},
	{`prev.sim == "x"`, nil, `1:6: unknown field sim on Trade; did you mean sym?`},
	{`f[0].prise > 1`, nil, `1:6: unknown field prise on Trade; did you mean price?`},
	{`all(f, .prise > 1)`, nil, `1:9: unknown field prise; did you mean price?`},
	{`prise > 1 and qtty < 2`, nil, `1:1: unknown name prise; did you mean price? (and 1 more errors)`},
	{"price > 1 and\n  qyt > 2", nil, `2:3: unknown name qyt; did you mean qty?`},
	{`uper(sym)`, nil, `1:1: unknown name uper; did you mean upper?`},
	{`now()`, nil, `1:1: unknown name now`},
	{`sym + 1`, nil, `1:5: invalid operation: + (mismatched types string and int)`},
	{`price >`, nil, `1:7: unexpected token EOF`},
	{`sym matches "("`, nil, "1:5: error parsing regexp: missing closing ): `(`"},
	{`duration("5x") > wait`, nil, `1:10: invalid duration "5x": expected a number with a unit such as 500ms, 10s, 5m, 2h`},
	{`price`, []eval.Option{eval.ExpectBool()}, `1:1: expected bool, found float`},
	{`  sym`, []eval.Option{eval.ExpectBool(), eval.Clause("where")}, `1:3: where must be bool, found string`},
	{`nil`, []eval.Option{eval.ExpectBool()}, `1:1: expected bool, found nil`},
	{`count() > 1`, nil, `1:1: aggregate count is not allowed here`},
	{`qty > 1 and count() > 1`, []eval.Option{eval.Clause("where")}, `1:13: aggregate count is not allowed in where`},
	{`sum(price) > 1`, []eval.Option{eval.NoAggregates()}, `1:1: aggregate sum is not allowed here`},
	{`first(sym)`, nil, `1:1: aggregate first is not allowed here`},
	{`max(qty) > 1`, nil, `1:1: aggregate max is not allowed here`},
	{`avg(price)`, nil, `1:1: aggregate avg is not allowed here`},
	{`count(f, .ok) > 1 and sum(price) > 2`, nil, `1:23: aggregate sum is not allowed here`},
	{`price > 1 and percentile(price, 0.5) > 2`, nil, `1:15: aggregate percentile is not allowed here`},
	{`filter(f, .ok)`, nil, `1:1: the expression must be a value, found [event]`},
	{`a`, nil, `1:1: the expression must be a value, found event`},
	{`{"k": 1}`, nil, `1:1: the expression must be a value, found event`},
	{`sum()`, nil, `1:1: not enough arguments to call sum`}, // fuzz regression: crashed expr's checker
	{`count(f, ok, 1)`, nil, `1:1: too many arguments to call count`},
}

func TestCompile_errors(t *testing.T) {
	env := newEnv()
	for _, tc := range errorCases {
		t.Run(tc.src, func(t *testing.T) {
			_, err := eval.Compile(tc.src, env, tc.opts...)
			if err == nil {
				t.Fatalf("compiled, want error %q", tc.want)
			}
			if err.Error() != tc.want {
				t.Errorf("got  %q\nwant %q", err.Error(), tc.want)
			}
			var list *eval.ErrorList
			if !errors.As(err, &list) || len(*list) == 0 {
				t.Errorf("error %T is not a non-empty *eval.ErrorList", err)
			}
			var first *eval.Error
			if !errors.As(err, &first) || first.Line < 1 || first.Col < 1 {
				t.Errorf("error does not unwrap to a positioned *eval.Error: %v", err)
			}
		})
	}
}

func TestCompile_allErrors(t *testing.T) {
	_, err := eval.Compile("prise > 1 and qtty < 2 or a.sim == \"\"", newEnv())
	var list *eval.ErrorList
	if !errors.As(err, &list) {
		t.Fatalf("got %v, want an *ErrorList", err)
	}
	want := []string{
		"1:1: unknown name prise; did you mean price?",
		"1:15: unknown name qtty; did you mean qty?",
		"1:29: unknown field sim on Trade; did you mean sym?",
	}
	if len(*list) != len(want) {
		t.Fatalf("got %d errors %v, want %d", len(*list), err, len(want))
	}
	for i, e := range *list {
		if e.Error() != want[i] {
			t.Errorf("error %d: got %q, want %q", i, e.Error(), want[i])
		}
	}
}
