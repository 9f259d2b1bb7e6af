package eval

import (
	"math"
	"testing"

	"github.com/cepengine/cep/engine/event"
)

// TestArith_matchesEval holds Arith.Eval to Machine.Eval over every
// operation, operand kind, int and float mix and nil.
func TestArith_matchesEval(t *testing.T) {
	s := event.NewSchema("T", []event.Field{{Name: "i", Type: event.Int}, {Name: "f", Type: event.Float},
		{Name: "a", Type: event.Any}}, "", 0)
	env := NewEnv()
	env.Event(s)
	env.Var("vi", event.Int, 0)
	env.Var("vf", event.Float, 1)
	env.Var("va", event.Any, 2)
	values := []event.Value{event.Nil, event.IntValue(7), event.IntValue(-3), event.IntValue(0),
		event.FloatValue(2.5), event.FloatValue(0), event.FloatValue(math.Inf(1)), event.FloatValue(math.NaN())}
	operands := []string{"i", "f", "a", "vi", "vf", "va", "3", "1.5"}
	var srcs []string
	for _, x := range operands {
		srcs = append(srcs, x)
		for _, op := range []string{"+", "-", "*", "/"} {
			for _, y := range operands {
				srcs = append(srcs, x+" "+op+" "+y)
			}
		}
	}
	m := NewMachine()
	shaped := 0
	for _, src := range srcs {
		p, err := Compile(src, env)
		if err != nil {
			continue // int and any mixes the checker refuses
		}
		a, ok := p.Arith()
		if !ok {
			continue
		}
		shaped++
		for _, x := range values {
			for _, y := range values {
				ev := &event.Event{Fields: []event.Value{x, y, y}}
				if x.Kind() != event.KindInt && !x.IsNil() {
					ev.Fields[0] = event.Nil // i holds ints only
				}
				if y.Kind() == event.KindInt {
					ev.Fields[1] = event.FloatValue(y.Float())
				}
				vars := []event.Value{ev.Fields[0], ev.Fields[1], x}
				f := &Frame{Current: ev, Vars: vars}
				want, got := m.Eval(p, f), a.Eval(ev.Fields, vars)
				if want.Kind() != got.Kind() || !(want.Equal(got) || want.Kind() == event.KindFloat && want.Float() != want.Float() && got.Float() != got.Float()) {
					t.Errorf("%s over %v, %v: Arith %v, Eval %v", src, ev.Fields, vars, got, want)
				}
			}
		}
	}
	t.Logf("%d of %d programs shaped", shaped, len(srcs))
	if shaped < 100 {
		t.Errorf("%d programs have the Arith shape, want most of %d", shaped, len(srcs))
	}
	for _, src := range []string{"i % 2", "-f", "i + f * 2", "i > 2"} {
		if p, err := Compile(src, env); err != nil {
			t.Fatal(err)
		} else if _, ok := p.Arith(); ok {
			t.Errorf("%s: has the Arith shape", src)
		}
	}
}

// TestArith_shape checks what Shape reports of each operand kind.
func TestArith_shape(t *testing.T) {
	s := event.NewSchema("T", []event.Field{{Name: "i", Type: event.Int}, {Name: "f", Type: event.Float}}, "", 0)
	env := NewEnv()
	env.Event(s)
	env.Var("vi", event.Int, 0)
	env.Var("vf", event.Float, 1)
	v := func(slot int) ArithOperand { return ArithOperand{Var: slot, Field: -1} }
	f := func(slot int) ArithOperand { return ArithOperand{Var: -1, Field: slot} }
	c := func(x event.Value) ArithOperand { return ArithOperand{Var: -1, Field: -1, Const: x} }
	none := ArithOperand{Var: -1, Field: -1}
	for _, tc := range []struct {
		src   string
		op    byte
		x, y  ArithOperand
		float bool
	}{
		{"vf / vi", '/', v(1), v(0), true},
		{"f * 2", '*', f(1), c(event.IntValue(2)), true},
		{"vi - i", '-', v(0), f(0), false},
		{"1.5 + vi", '+', c(event.FloatValue(1.5)), v(0), true},
		{"vf", 0, v(1), none, true},
		{"i", 0, f(0), none, false},
	} {
		p, err := Compile(tc.src, env)
		if err != nil {
			t.Fatal(err)
		}
		a, ok := p.Arith()
		if !ok {
			t.Fatalf("%s: no Arith shape", tc.src)
		}
		op, x, y, float := a.Shape()
		if op != tc.op || x != tc.x || y != tc.y || float != tc.float {
			t.Errorf("%s: Shape() = %q, %+v, %+v, %v; want %q, %+v, %+v, %v", tc.src, op, x, y, float, tc.op, tc.x, tc.y, tc.float)
		}
	}
}
