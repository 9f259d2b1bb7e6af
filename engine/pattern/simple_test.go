package pattern

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/cepengine/cep/engine/eval"
	"github.com/cepengine/cep/engine/event"
)

// simpleRun feeds evs to a matcher of s, calling Expire at the given
// watermarks between events, and records everything observable: matches
// (their takes by Seq, and time), deadlines, errors and stats.
func simpleRun(t *testing.T, s *Spec, max int, evs []*event.Event, marks []int64, forceStep bool) (string, bool) {
	noSimple = forceStep
	defer func() { noSimple = false }()
	p := mustCompile(t, s)
	var out []string
	m := NewMatcher(p, eval.NewMachine(), Config{MaxPartials: max}, nil, func(mc *Match) {
		var seqs []uint64
		for _, el := range mc.Elements {
			for _, e := range el {
				seqs = append(seqs, e.Seq)
			}
		}
		out = append(out, fmt.Sprintf("match %v @%d", seqs, mc.Time))
	})
	for i, e := range evs {
		if marks[i] >= 0 {
			m.Expire(marks[i])
		}
		err := m.Process(e)
		d, ok := m.Deadline()
		if !ok {
			d = -1 // the time is meaningless without a deadline
		}
		out = append(out, fmt.Sprintf("ev %d err %v dl %d %v partials %d", i, errors.Is(err, ErrOverflow), d, ok, m.Stats().Partials))
	}
	m.Flush()
	st := m.Stats()
	out = append(out, fmt.Sprintf("stats %+v", st))
	return fmt.Sprint(out), m.isSimple
}

// TestSimple_differential holds the simple path (a -> b -> ... with
// relaxed nots between and after, local conditions, skip past last) equal to the step automaton on random
// patterns and streams: matches, their order, deadlines, overflow and
// stats.
func TestSimple_differential(t *testing.T) {
	matched, overflowed := 0, 0
	for seed := uint64(1); seed <= 4000; seed++ {
		r := rand.New(rand.NewPCG(seed, 7))
		s, max := randomSimple(r)
		var evs []*event.Event
		var marks []int64
		tm := int64(0)
		for i := range 10 + r.IntN(60) {
			tm += int64(r.IntN(4))
			marks = append(marks, -1)
			if r.IntN(5) == 0 {
				marks[i] = tm
				tm += int64(r.IntN(3))
			}
			evs = append(evs, ev(int32(r.IntN(4)), tm, uint64(i), 0))
		}
		want, _ := simpleRun(t, s, max, slices.Clone(evs), marks, true)
		got, simple := simpleRun(t, s, max, evs, marks, false)
		if !simple {
			t.Fatalf("seed %d: the simple path did not run", seed)
		}
		if got != want {
			t.Fatalf("seed %d: simple path differs\n got %s\nwant %s", seed, got, want)
		}
		if strings.Contains(got, "match ") {
			matched++
		}
		if strings.Contains(got, "err true") {
			overflowed++
		}
	}
	if matched < 1000 || overflowed < 100 {
		t.Fatalf("only %d runs matched, %d overflowed: the test is too weak", matched, overflowed)
	}
}

// TestSimple_allocs: the simple path (a -> b, a -> not B -> c, o -> not
// Ship) and the step automaton on the same shapes allocate nothing per
// event once warm.
func TestSimple_allocs(t *testing.T) {
	notBetween := seqSpec(Relaxed, 100)
	notBetween.Elements = []Element{notBetween.Elements[0],
		{Name: "B", Type: 2, Min: 1, Max: 1, Slot: -1, Local: true, Negated: true}, notBetween.Elements[1]}
	notBetween.Root.Children = []Node{{Kind: NodeElement, Element: 0},
		{Kind: NodeElement, Element: 1, Edge: Relaxed}, {Kind: NodeElement, Element: 2, Edge: Relaxed}}
	absence := seqSpec(Relaxed, 100)
	absence.Elements[1].Negated, absence.Elements[1].Slot = true, -1
	for _, tc := range []struct {
		name string
		s    *Spec
	}{{"followed by", seqSpec(Relaxed, 100)}, {"not between", notBetween}, {"absence", absence}} {
		for _, step := range []bool{false, true} {
			p := mustCompile(t, tc.s)
			n := 0
			noSimple = step
			m := NewMatcher(p, eval.NewMachine(), Config{}, nil, func(*Match) { n++ })
			noSimple = false
			if m.isSimple == step {
				t.Fatalf("%s: simple path %v, want %v", tc.name, m.isSimple, !step)
			}
			// a b x a x x x x: each shape matches once a round (the
			// second a expires with no b).
			evs := []*event.Event{ev(0, 0, 0, 0), ev(1, 0, 0, 0), ev(2, 0, 0, 0), ev(0, 0, 0, 0),
				ev(2, 0, 0, 0), ev(2, 0, 0, 0), ev(2, 0, 0, 0), ev(2, 0, 0, 0)}
			tm := int64(0)
			feed := func() {
				for _, e := range evs {
					tm += 30
					e.Time = tm
					_ = m.Process(e)
				}
			}
			for range 100 {
				feed()
			}
			if allocs := testing.AllocsPerRun(1000, feed); allocs != 0 {
				t.Errorf("%s (step automaton %v): %v allocs per run, want 0", tc.name, step, allocs)
			}
			if n == 0 {
				t.Errorf("%s (step automaton %v): no match", tc.name, step)
			}
		}
	}
}
