package eval_test

import (
	"errors"
	"testing"

	"github.com/cepengine/cep/engine/eval"
	"github.com/cepengine/cep/engine/eval/evaltest"
	"github.com/cepengine/cep/engine/event"
)

// TestEval_threeValuedLogic checks and, or, not and ternaries against SQL's
// truth tables, nil being UNKNOWN, on both paths.
func TestEval_threeValuedLogic(t *testing.T) {
	s := event.NewSchema("P", []event.Field{{Name: "x", Type: event.Bool}, {Name: "y", Type: event.Bool}}, "", 0)
	env := eval.NewEnv()
	env.Event(s)
	vals := map[string]event.Value{"T": event.BoolValue(true), "F": event.BoolValue(false), "N": event.Nil}
	show := map[string]string{"T": "true", "F": "false", "N": "nil"}
	// SQL: rows x = T, F, N; columns y = T, F, N.
	tables := map[string][3][3]string{
		"x and y": {{"T", "F", "N"}, {"F", "F", "F"}, {"N", "F", "N"}},
		"x or y":  {{"T", "T", "T"}, {"T", "F", "N"}, {"T", "N", "N"}},
		"not x":   {{"F", "F", "F"}, {"T", "T", "T"}, {"N", "N", "N"}},
		// A nil condition takes the else branch, as SQL's CASE WHEN does.
		"x ? y : not y": {{"T", "F", "N"}, {"F", "T", "N"}, {"F", "T", "N"}},
	}
	order := []string{"T", "F", "N"}
	m := eval.NewMachine()
	for src, table := range tables {
		for _, force := range []bool{false, true} {
			var opts []eval.Option
			if force {
				opts = append(opts, eval.ForceVM())
			}
			p, err := eval.Compile(src, env, opts...)
			if err != nil {
				t.Fatalf("%q: %v", src, err)
			}
			for i, x := range order {
				for j, y := range order {
					f := &eval.Frame{Current: &event.Event{Fields: []event.Value{vals[x], vals[y]}}}
					want := show[table[i][j]]
					if got := evaltest.Format(m.Eval(p, f)); got != want {
						t.Errorf("%s with x=%s y=%s (force %v): got %s, want %s", src, x, y, force, got, want)
					}
					if got := m.EvalBool(p, f); got != (want == "true") {
						t.Errorf("EvalBool %s with x=%s y=%s (force %v): got %v", src, x, y, force, got)
					}
				}
			}
		}
	}
}

// TestEval_runtimeErrors: runtime errors give nil, are counted, and keep
// their position and sentinel.
func TestEval_runtimeErrors(t *testing.T) {
	env := newEnv()
	for _, tc := range []struct {
		src  string
		line int
		col  int
		want error
	}{
		{`qty % (qty - 7)`, 1, 5, eval.ErrDivideByZero},
		{`f[3].qty > 1`, 1, 2, eval.ErrIndexOutOfRange},
		{"1 +\n  f[-9].qty", 2, 4, eval.ErrIndexOutOfRange},
		{`upper(side) == "X"`, 1, 1, eval.ErrVM},
		{`at + duration("2562047h") > at`, 1, 4, eval.ErrTimeRange},
	} {
		p, err := eval.Compile(tc.src, env)
		if err != nil {
			t.Fatal(err)
		}
		m := eval.NewMachine()
		if v := m.Eval(p, fixedFrame()); !v.IsNil() {
			t.Errorf("%q = %v, want nil", tc.src, evaltest.Format(v))
		}
		if m.EvalBool(p, fixedFrame()) {
			t.Errorf("%q: EvalBool true, want false", tc.src)
		}
		if m.Errors() != 2 {
			t.Errorf("%q: %d errors counted, want 2", tc.src, m.Errors())
		}
		var re *eval.RuntimeError
		err = m.LastError()
		if !errors.As(err, &re) || re.Line != tc.line || re.Col != tc.col || !errors.Is(err, tc.want) {
			t.Errorf("%q: LastError %v, want %v at %d:%d", tc.src, err, tc.want, tc.line, tc.col)
		}
	}
	if err := eval.NewMachine().LastError(); err != nil {
		t.Errorf("fresh machine LastError = %v, want nil", err)
	}
}
