package eval_test

import (
	"sync"
	"testing"

	"github.com/cepengine/cep/engine/eval"
	"github.com/cepengine/cep/engine/eval/evaltest"
)

// TestProgram_concurrent shares programs, lowered and on the VM, between
// goroutines that each own a Machine (run with -race).
func TestProgram_concurrent(t *testing.T) {
	env := newEnv()
	var progs []*eval.Program
	for _, src := range []string{`sym matches "^A" and price > 100`, `upper(sym) + a.sym`, `sum(map(f, .price))`, `all(f, .qty > 1 or # == nil)`} {
		p, err := eval.Compile(src, env)
		if err != nil {
			t.Fatal(err)
		}
		progs = append(progs, p)
	}
	frames := evaltest.RandomFrames(5, shape, 50)
	want := make([][]string, len(progs))
	m := eval.NewMachine()
	for i, p := range progs {
		for _, f := range frames {
			want[i] = append(want[i], evaltest.Format(m.Eval(p, f)))
		}
	}
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			m := eval.NewMachine()
			for i, p := range progs {
				for j, f := range frames {
					if got := evaltest.Format(m.Eval(p, f)); got != want[i][j] {
						t.Errorf("%q frame %d: %s, want %s", p.Source(), j, got, want[i][j])
					}
				}
			}
		}()
	}
	wg.Wait()
}

// TestCompile_concurrentEnvs compiles on distinct Envs from several
// goroutines at once (run with -race): the tables Compile shares between
// Envs are read-only.
func TestCompile_concurrentEnvs(t *testing.T) {
	cases := compileCases()
	want := make([]string, len(cases))
	for i, c := range cases {
		p, err := eval.Compile(c.src, c.env(), c.opts()...)
		if err != nil {
			t.Fatal(err)
		}
		want[i] = p.Type().String()
	}
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 5 {
				for i, c := range cases {
					env := c.env()
					p, err := eval.Compile(c.src, env, c.opts()...)
					if err != nil {
						t.Error(err)
						return
					}
					if _, err := eval.Compile(`prise > 1`, env); err == nil {
						t.Errorf("unknown name compiled")
					}
					if got := p.Type().String(); got != want[i] {
						t.Errorf("%q: type %s, want %s", c.src, got, want[i])
					}
				}
			}
		}()
	}
	wg.Wait()
}
