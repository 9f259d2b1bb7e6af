package eval_test

import (
	"testing"

	"github.com/cepengine/cep/engine/eval"
	"github.com/cepengine/cep/engine/eval/evaltest"
	"github.com/cepengine/cep/engine/event"
)

// FuzzEval compiles arbitrary source against the fixture env; whenever it
// compiles, the lowered program and the VM program must agree on random
// frames. Compile must never panic. Seeds: the tables, generated
// expressions, and testdata/fuzz/FuzzEval.
func FuzzEval(f *testing.F) {
	for _, tc := range valueCases {
		f.Add(tc.src, uint64(1))
	}
	for _, tc := range errorCases {
		f.Add(tc.src, uint64(2))
	}
	for _, tc := range aggregateCases {
		f.Add(tc.src, uint64(3))
	}
	g := newExprGen(99)
	for i := 0; i < 200; i++ {
		f.Add(g.gen(g.pick("bool", "int", "float", "str", "time", "dur"), 3), uint64(i))
	}
	env := newEnv()
	f.Fuzz(func(t *testing.T, src string, seed uint64) {
		if len(src) > 400 {
			return
		}
		frames := evaltest.RandomFrames(seed%16, shape, 24)
		frames = append(frames, fixedFrame(), emptyFrame())
		diff, _ := evaltest.Compare(src, env, frames)
		if diff != "" {
			t.Fatalf("%q: %s", src, diff)
		}
		// A bool context must compile or fail the same way.
		diff, _ = evaltest.Compare(src, env, frames, eval.ExpectBool())
		if diff != "" {
			t.Fatalf("%q (ExpectBool): %s", src, diff)
		}
		// And so must a window rule's expression, its aggregates read from
		// Vars of their types.
		having, arg := aggregateEnvs()
		if _, err := eval.Compile(src, having, eval.Aggregates(arg)); err != nil {
			return
		}
		vars := []event.Type{event.String}
		for _, a := range having.Aggregates() {
			vars = append(vars, a.Type)
		}
		diff, _ = evaltest.Compare(src, having, evaltest.RandomFrames(seed%16, evaltest.Shape{Vars: vars}, 24), eval.Aggregates(arg))
		if diff != "" {
			t.Fatalf("%q (Aggregates): %s", src, diff)
		}
	})
}
