package eval_test

import (
	"math"
	"testing"

	"github.com/cepengine/cep/engine/eval"
	"github.com/cepengine/cep/engine/eval/evaltest"
	"github.com/cepengine/cep/engine/event"
)

// fusedCases are conditions with the branch program each must compile to:
// every fused test in both senses, mirrored constants, int against float,
// and the and/or whose right side can fail, which must stay one truth test.
var fusedCases = []struct {
	src   string
	shape string
}{
	{`price > 100`, "floatGt"},
	{`price >= 150.5`, "floatGe"},
	{`price < 1`, "floatLt"},
	{`price <= 150.5`, "floatLe"},
	{`price == 150.5`, "floatEq"},
	{`price != 150.5`, "floatNe"},
	{`100 < price`, "floatGt"},
	{`150.5 >= price`, "floatLe"},
	{`price > big`, "floatGt"},
	{`qty > 6.5`, "floatGt"},
	{`qty == 7.0`, "floatEq"},
	{`qty == 7`, "intEq"},
	{`qty != 7`, "intNe"},
	{`qty < 7`, "intLt"},
	{`qty <= 7`, "intLe"},
	{`qty > 7`, "intGt"},
	{`qty >= limit`, "intGe"},
	{`3 > qty`, "intLt"},
	{`sym == ""`, "strEq0"},
	{`sym == "A"`, "strEq0"},
	{`sym == "AAP"`, "strEq0"},
	{`sym == "AAPL"`, "strEq4"},
	{`sym == "abcde"`, "strEq4"},
	{`sym != "AAPL"`, "!strEq4"},
	{`"AAPL" == sym`, "strEq4"},
	{`sym == "AAPLAAPL"`, "strEq8"},
	{`sym == "AAPLxAAPL"`, "strEq8"},
	{`sym == "0123456789abcdef"`, "strEq8"},
	{`sym == "0123456789abcdef0"`, "strEq"},
	{`sym < "B"`, "strLt"},
	{`sym <= "AAPL"`, "strLe"},
	{`sym > "AAPL"`, "strGt"},
	{`"B" <= sym`, "strGe"},
	{`ok`, "bool"},
	{`not ok`, "!bool"},
	{`!!ok`, "bool"},
	{`ok == true`, "bool"},
	{`ok == false`, "!bool"},
	{`ok != false`, "bool"},
	{`false != ok`, "bool"},
	{`side == nil`, "isNil"},
	{`side != nil`, "!isNil"},
	{`nil == side`, "isNil"},
	{`not (side != nil)`, "isNil"},
	{`sym in ["AAPL", "MSFT"]`, "strInPacked"},
	{`sym in ["", "A", "AB", "abcd", "abcdefgh", "0123456789abcdef"]`, "strInPacked"},
	{`sym in ["AAPL", "0123456789abcdef0"]`, "strIn"},
	{`sym in ["a", "b", "c", "d", "e", "f", "g", "h", "AAPL"]`, "strInPacked"},
	{`sym in ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l", "m", "n", "o", "p", "AAPL"]`, "strInMap"},
	{`sym not in ["X", "AAPL"]`, "!strInPacked"},
	{`sym in watch`, "strInPacked"},
	{`qty in [1, 2, 7]`, "intIn"},
	{`qty in [1, 2, 3, 4, 5, 6, 7, 8, 9]`, "intIn"},
	{`qty in [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17]`, "intInMap"},
	{`not (qty in [1, 2, 3, 4, 5, 6, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18])`, "!intInMap"},
	{`qty in [7.0, 8]`, "truth"},
	{`price > 100 and sym == "AAPL"`, "floatGt strEq4"},
	{`not (price > 100 and sym == "AAPL")`, "!floatGt !strEq4"},
	{`price > 100 or qty < 3 and not ok`, "floatGt intLt !bool"},
	{`not (price > 100 or side == "x")`, "!floatGt !strEq0"},
	{`side == "x" or ok`, "strEq0 bool"},
	{`not (side == "x" and ok)`, "!strEq0 !bool"},
	// A ternary's branches are emitted else first; one of them runs.
	{`ok ? price > 1 : qty > 1`, "bool intGt floatGt"},
	{`not (side == "buy" ? price > 1 : qty in [1, 7])`, "strEq0 !intIn !floatGt"},
	{`a.price < price and price > 1`, "truth floatGt"},
	{`price > 1 or upper(sym) == "AAPL"`, "floatGt truth"},
	// The right side can fail: the tree evaluates it when the left is
	// nil, where the shortcut would not, so the node is one truth test.
	{`side == "x" and qty % (qty - 7) == 0`, "truth"},
	{`price > 1 and upper(sym) == "AAPL"`, "truth"},
	{`not (side == "x" or qty % (qty - 7) == 0)`, "!truth"},
	{`side == "x" or qty % (qty - 7) == 0`, "strEq0 truth"},
	{`not (side == "x" and f[5].ok)`, "!strEq0 !truth"},
}

// fusedFrames are frames aimed at the fused tests' edges: NaN, infinities
// and -0, extreme ints, strings one byte away from the constants at either
// end, missing fields, a short event and no event at all.
func fusedFrames() []*eval.Frame {
	frames := evaltest.RandomFrames(11, shape, 200)
	frames = append(frames, fixedFrame(), emptyFrame())
	for _, p := range []float64{math.NaN(), math.Inf(1), math.Inf(-1), math.Copysign(0, -1), 0, 100, 150.5, 1, 6.5, 7, 1000} {
		f := fixedFrame()
		f.Current.Fields[fPrice] = event.FloatValue(p)
		frames = append(frames, f)
	}
	for _, q := range []int64{math.MinInt64, math.MaxInt64, -1, 0, 3, 6, 7, 8, 9} {
		f := fixedFrame()
		f.Current.Fields[fQty] = event.IntValue(q)
		frames = append(frames, f)
	}
	for _, s := range []string{"", "A", "AAP", "AAPL", "AAPM", "BAPL", "abcde", "abcdf", "bbcde", "abcd",
		"AAPLAAPL", "AAPLAAPM", "BAPLAAPL", "AAPLxAAPL", "AAPLyAAPL", "0123456789abcdef", "0123456789abcdeF",
		"x123456789abcdef", "0123456789abcdef0", "0123456789abcdef1", "é", "B"} {
		f := fixedFrame()
		f.Current.Fields[fSym] = event.StringValue(s)
		frames = append(frames, f)
	}
	for _, slot := range []int{fSym, fPrice, fQty, fOk, fSide} {
		f := fixedFrame()
		f.Current.Fields[slot] = event.Nil
		frames = append(frames, f)
		g := fixedFrame()
		g.Current.Fields[fSide] = event.StringValue("buy")
		g.Current.Fields[slot] = event.Nil
		frames = append(frames, g)
	}
	short := fixedFrame()
	short.Current.Fields = short.Current.Fields[:fPrice]
	frames = append(frames, short)
	none := fixedFrame()
	none.Current = nil
	frames = append(frames, none)
	return frames
}

// TestEvalBool_fused checks that each condition compiles to its branch
// program, and that EvalBool and Eval agree with expr's VM on it, failures
// included.
func TestEvalBool_fused(t *testing.T) {
	env := newEnv()
	frames := fusedFrames()
	for _, tc := range fusedCases {
		p, err := eval.Compile(tc.src, env, eval.ExpectBool())
		if err != nil {
			t.Errorf("%q: %v", tc.src, err)
			continue
		}
		if got := eval.BranchShape(p); got != tc.shape {
			t.Errorf("%q compiles to %q, want %q", tc.src, got, tc.shape)
		}
		evaltest.Differential(t, tc.src, env, frames, eval.ExpectBool())
	}
}

// TestEvalBool_noBranchProgram: programs that are not bool, and programs
// forced onto the VM, evaluate over the tree.
func TestEvalBool_noBranchProgram(t *testing.T) {
	env := newEnv()
	for _, tc := range []struct {
		src  string
		opts []eval.Option
	}{
		{`price`, nil},
		{`note`, nil},
		{`price > 100`, []eval.Option{eval.ForceVM()}},
	} {
		p, err := eval.Compile(tc.src, env, tc.opts...)
		if err != nil {
			t.Fatal(err)
		}
		if got := eval.BranchShape(p); got != "" {
			t.Errorf("%q has a branch program %q", tc.src, got)
		}
	}
}

// TestEvalBool_nilFrame: a nil frame is the empty frame on every path.
func TestEvalBool_nilFrame(t *testing.T) {
	env := newEnv()
	m := eval.NewMachine()
	for _, src := range []string{`side == nil`, `price > 1`, `not (sym == "x")`} {
		p, err := eval.Compile(src, env)
		if err != nil {
			t.Fatal(err)
		}
		want := src == `side == nil`
		if got := m.EvalBool(p, nil); got != want {
			t.Errorf("%q on a nil frame: %v, want %v", src, got, want)
		}
	}
}
