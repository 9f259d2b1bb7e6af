package eval_test

import (
	"testing"

	"github.com/cepengine/cep/engine/eval"
)

// TestEval_allocs guards the hot path: lowered programs allocate nothing.
func TestEval_allocs(t *testing.T) {
	env := newEnv()
	m := eval.NewMachine()
	for _, tc := range []struct {
		src     string
		boolean bool
	}{
		{`price > 100 and sym == "AAPL"`, true},
		{`price > 100 or qty < 3 and not ok`, true},
		{`sym in ["AAPL", "MSFT", "GOOG", "IBM", "ORCL", "SAP"]`, true},
		{`qty in [1, 2, 3, 7]`, true},
		{`sym in watch and "x" in tags`, true},
		{`sym startsWith "A" or sym matches "^M" or sym contains "PL" or sym endsWith "x"`, true},
		{`(price * qty) / 2 > 100 and qty % 4 == 3 and -qty < 0`, true},
		{`a.price < price and f[-1].qty > 1 and len(f) > 2 and f[0].sym == sym`, true},
		{`at - prev.at > duration("5m") and wait * 2 < duration("1h")`, true},
		{`(prev.qty ?? 0) >= 0 and (side == nil or side != "x")`, true},
		{`key == sym and n + qty > 3`, true},
		{`qty in [1, 2, 3, 4, 5, 6, 7, 8, 9] or sym in ["a", "b", "c", "d", "e", "f", "g", "h", "AAPL"]`, true},
		{`not (100 < price and sym == "AAPLAAPL") and side != nil or ok == false`, true},
		{`sym == "0123456789abcdef0" or sym >= "B" or qty != 7`, true},
		{`ok ? price > 1 : qty > 1`, true},
		{`len(sym) == 4 and len(tags) == 2`, true},
		{`price * qty`, false},
		{`at + wait`, false},
		{`f[-1].sym`, false},
		{`prev.qty + 1`, false},
		{`f[7].qty`, false}, // a runtime error: still no allocation
	} {
		p, err := eval.Compile(tc.src, env)
		if err != nil {
			t.Fatalf("%q: %v", tc.src, err)
		}
		if !p.Lowered() {
			t.Errorf("%q does not lower", tc.src)
			continue
		}
		for _, f := range []*eval.Frame{fixedFrame(), emptyFrame()} {
			var allocs float64
			if tc.boolean {
				allocs = testing.AllocsPerRun(100, func() { m.EvalBool(p, f) })
			} else {
				allocs = testing.AllocsPerRun(100, func() { m.Eval(p, f) })
			}
			if allocs != 0 {
				t.Errorf("%q: %v allocations per run, want 0", tc.src, allocs)
			}
		}
	}
}
