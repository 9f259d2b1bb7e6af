package eval_test

import (
	"testing"

	"github.com/cepengine/cep/engine/eval"
	"github.com/cepengine/cep/engine/eval/evaltest"
	"github.com/cepengine/cep/engine/event"
)

// TestEval_differential runs every expression of the tables lowered and
// on expr's VM over random frames (fixed seeds, missing fields included)
// and requires the same values and the same failures.
func TestEval_differential(t *testing.T) {
	env := newEnv()
	frames := evaltest.RandomFrames(1, shape, 300)
	frames = append(frames, fixedFrame(), emptyFrame())
	for _, tc := range valueCases {
		evaltest.Differential(t, tc.src, env, frames)
	}
	for _, tc := range errorCases {
		if diff, _ := evaltest.Compare(tc.src, env, frames, tc.opts...); diff != "" {
			t.Errorf("%q: %s", tc.src, diff)
		}
	}
	for _, tc := range aggregateCases {
		if tc.err != "" {
			continue
		}
		// Vars hold the partition key, then the aggregates, each of its
		// type, as the engine fills them.
		henv, argEnv := aggregateEnvs()
		if _, err := eval.Compile(tc.src, henv, eval.Aggregates(argEnv)); err != nil {
			t.Fatalf("%q: %v", tc.src, err)
		}
		vars := []event.Type{event.String}
		for _, a := range henv.Aggregates() {
			vars = append(vars, a.Type)
			if a.Arg != nil {
				evaltest.Differential(t, a.Arg.Source(), argEnv, frames)
			}
		}
		aggFrames := evaltest.RandomFrames(3, evaltest.Shape{Vars: vars}, 200)
		evaltest.Differential(t, tc.src, henv, aggFrames, eval.Aggregates(argEnv))
	}
}

// TestEval_differentialGenerated does the same over generated expressions.
func TestEval_differentialGenerated(t *testing.T) {
	env := newEnv()
	frames := evaltest.RandomFrames(2, shape, 60)
	n := 3000
	if testing.Short() {
		n = 300
	}
	g := newExprGen(7)
	compiled := 0
	for i := 0; i < n; i++ {
		kind := g.pick("bool", "int", "float", "str", "time", "dur")
		src := g.gen(kind, 4)
		diff, err := evaltest.Compare(src, env, frames)
		if err == nil {
			compiled++
		} else if testing.Verbose() {
			t.Logf("%q: %v", src, err)
		}
		if diff != "" {
			t.Errorf("%q: %s", src, diff)
		}
	}
	if compiled < n*9/10 {
		t.Errorf("only %d of %d generated expressions compiled", compiled, n)
	}
}
