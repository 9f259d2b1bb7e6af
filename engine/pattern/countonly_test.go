package pattern

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/cepengine/cep/engine/eval"
	"github.com/cepengine/cep/engine/event"
)

// randCountSpec is a random count-only-eligible flat pattern over types
// 0..2: edges, quantifiers and loop modifiers of every kind, within or
// none.
func randCountSpec(r *rand.Rand) *Spec {
	bounds := [][2]int{{1, -1}, {0, -1}, {0, 1}, {1, 2}, {2, -1}, {2, 3}, {1, 1}}
	for {
		n := 1 + r.IntN(4)
		s := &Spec{Skip: SkipNone, SkipTarget: -1, CountOnly: true, Root: Node{Kind: NodeSequence}}
		for i := range n {
			el := Element{Name: fmt.Sprintf("e%d", i), Type: int32(r.IntN(3)), Min: 1, Max: 1, Slot: -1, Local: true}
			if r.IntN(2) == 0 {
				b := bounds[r.IntN(len(bounds))]
				el.Quantified, el.Min, el.Max = true, b[0], b[1]
				el.Loop = LoopKind(r.IntN(4))
			}
			s.Elements = append(s.Elements, el)
			s.Root.Children = append(s.Root.Children, Node{Kind: NodeElement, Element: i, Edge: Edge(r.IntN(3))})
		}
		if r.IntN(3) > 0 {
			s.Within = time.Duration(1 + r.IntN(8))
		}
		if s.Validate() == nil {
			return s
		}
	}
}

// TestCountOnly_differential: on random small streams and random eligible
// patterns, the count emitted at each event equals the number of matches
// the enumerating matcher emits at it (all with the event's time), in both
// count-only modes (the affine window and the run-based counter), and the
// deadlines agree: the run-based counter's exactly, the affine mode's at
// or before the enumerating matcher's (a bucket whose runs all died keeps
// its deadline until it expires; the expiry only frees memory).
func TestCountOnly_differential(t *testing.T) {
	for _, affineMode := range []bool{true, false} {
		t.Run(fmt.Sprintf("affine=%v", affineMode), func(t *testing.T) { countDifferential(t, affineMode) })
	}
}

func countDifferential(t *testing.T, affineMode bool) {
	for seed := range uint64(400) {
		r := rand.New(rand.NewPCG(seed, 7))
		cs := randCountSpec(r)
		es := *cs
		es.CountOnly = false
		cp, ep := mustCompile(t, cs), mustCompile(t, &es)
		if affineMode && cp.aff == nil {
			t.Fatalf("seed %d: no affine table for %+v", seed, cs.Root.Children)
		}
		if !affineMode {
			cp.aff = nil
		}
		var got, want uint64
		var gotEmits int
		var evTime int64
		bad := ""
		cm := NewMatcher(cp, eval.NewMachine(), Config{MaxPartials: 1 << 20}, nil, func(m *Match) {
			got += m.Count
			gotEmits++
			if m.Time != evTime {
				bad = fmt.Sprintf("count-only match at %d during event at %d", m.Time, evTime)
			}
		})
		em := NewMatcher(ep, eval.NewMachine(), Config{MaxPartials: 1 << 20}, nil, func(m *Match) {
			want += m.Count
			if m.Time != evTime {
				bad = fmt.Sprintf("enumerated match at %d during event at %d", m.Time, evTime)
			}
		})
		tm := int64(0)
		for i := range 16 {
			tm += int64(r.IntN(2))
			evTime = tm
			e := &event.Event{Type: int32(r.IntN(4)), Time: tm, Seq: uint64(i)}
			if r.IntN(3) == 0 {
				cm.Expire(tm)
				em.Expire(tm)
			}
			got, want, gotEmits = 0, 0, 0
			if err := cm.Process(e); err != nil {
				t.Fatal(err)
			}
			if err := em.Process(e); err != nil {
				t.Fatal(err)
			}
			if got != want || gotEmits > 1 || bad != "" {
				t.Fatalf("seed %d event %d (type %d, time %d): count %d in %d emits, enumerated %d %s\nspec %+v",
					seed, i, e.Type, tm, got, gotEmits, want, bad, cs.Root.Children)
			}
			cd, cok := cm.Deadline()
			ed, eok := em.Deadline()
			if affineMode && eok && cok && cd <= ed || affineMode && !eok {
				continue
			}
			if cd != ed || cok != eok {
				t.Fatalf("seed %d event %d: deadline %d %v, enumerating %d %v", seed, i, cd, cok, ed, eok)
			}
		}
		got, want = 0, 0
		cm.Flush()
		em.Flush()
		if got != 0 || want != 0 || cm.Stats().Partials != 0 {
			t.Fatalf("seed %d: flush emitted %d / %d", seed, got, want)
		}
	}
}

// TestCountOnly_validate: the preconditions are enforced.
func TestCountOnly_validate(t *testing.T) {
	base := func() *Spec {
		s := seqSpec(Any, 10)
		s.Skip, s.CountOnly = SkipNone, true
		return s
	}
	prog := &eval.Program{}
	tests := []struct {
		name string
		edit func(*Spec)
		want error
	}{
		{"ok", func(*Spec) {}, nil},
		{"having", func(s *Spec) { s.Having = prog }, ErrInvalid},
		{"skip past last", func(s *Spec) { s.Skip = SkipPastLast }, ErrUnsupported},
		{"within gap", func(s *Spec) { s.WithinGap = true }, ErrUnsupported},
		{"timeout", func(s *Spec) { s.Timeout = true }, ErrUnsupported},
		{"non-local condition", func(s *Spec) { s.Elements[1].Cond, s.Elements[1].Local = prog, false }, ErrUnsupported},
		{"greedy", func(s *Spec) {
			s.Elements[1].Quantified, s.Elements[1].Max, s.Elements[1].Mode = true, -1, Greedy
		}, ErrUnsupported},
		{"reluctant", func(s *Spec) {
			s.Elements[1].Quantified, s.Elements[1].Max, s.Elements[1].Mode = true, -1, Reluctant
		}, ErrUnsupported},
		{"until", func(s *Spec) {
			s.Elements[1].Quantified, s.Elements[1].Max, s.Elements[1].Until = true, -1, prog
		}, ErrUnsupported},
		{"not", func(s *Spec) {
			s.Elements = append(s.Elements, Element{Name: "n", Type: 1, Negated: true, Slot: -1})
			s.Root.Children = append(s.Root.Children[:1], Node{Kind: NodeElement, Element: 2, Edge: Relaxed}, s.Root.Children[1])
		}, ErrUnsupported},
		{"group", func(s *Spec) {
			s.Root = Node{Kind: NodeAlternation, Children: []Node{{Kind: NodeElement, Element: 0}, {Kind: NodeElement, Element: 1}}}
		}, ErrUnsupported},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := base()
			tc.edit(s)
			err := s.Validate()
			if tc.want == nil && err != nil || tc.want != nil && !errors.Is(err, tc.want) {
				t.Fatalf("Validate = %v, want %v", err, tc.want)
			}
		})
	}
}

// w6Spec is a:A ->> b:B+ ->> c:C, skip none, within window (types 0, 1, 2).
func w6Spec(window int64, countOnly bool) *Spec {
	return &Spec{
		Elements: []Element{
			{Name: "a", Type: 0, Min: 1, Max: 1, Slot: 0, Local: true},
			{Name: "b", Type: 1, Quantified: true, Min: 1, Max: -1, Slot: 0, List: true, Local: true},
			{Name: "c", Type: 2, Min: 1, Max: 1, Slot: 1, Local: true},
		},
		Root: Node{Kind: NodeSequence, Children: []Node{{Kind: NodeElement, Element: 0},
			{Kind: NodeElement, Element: 1, Edge: Any}, {Kind: NodeElement, Element: 2, Edge: Any}}},
		Within: time.Duration(window), Skip: SkipNone, Bound: 2, Lists: 1, SkipTarget: -1, CountOnly: countOnly,
	}
}

// w6Stream is the W6 stream: a seeded mix of A, B, C and 6 noise types
// (ids 3..8), one event per time unit.
func w6Stream(n int) []event.Event {
	r := rand.New(rand.NewPCG(6, 6))
	evs := make([]event.Event, n)
	for i := range evs {
		evs[i] = event.Event{Type: int32(r.IntN(9)), Seq: uint64(i), Fields: []event.Value{event.IntValue(0)}}
	}
	return evs
}

// TestCountOnly_allocs: count-only W6 allocates nothing per event once
// warm.
func TestCountOnly_allocs(t *testing.T) {
	p := mustCompile(t, w6Spec(100, true))
	var n uint64
	m := NewMatcher(p, eval.NewMachine(), Config{}, nil, func(mc *Match) { n = satAdd(n, mc.Count) })
	evs := w6Stream(4096)
	i := 0
	feed := func() {
		e := &evs[i%len(evs)]
		e.Time = int64(i)
		_ = m.Process(e)
		i++
	}
	for range 2 * len(evs) {
		feed()
	}
	if allocs := testing.AllocsPerRun(2000, feed); allocs != 0 {
		t.Fatalf("allocs per event = %v, want 0", allocs)
	}
	if n == 0 || n == math.MaxUint64 {
		t.Fatalf("count %d", n)
	}
}

// FuzzCountOnly: the affine mode and the run-based counter agree on the
// count at every event of a random eligible pattern and stream.
func FuzzCountOnly(f *testing.F) {
	for _, s := range []uint64{1, 7, 42, 1000} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, seed uint64) { affineAgrees(t, seed, 200) })
}

func affineAgrees(t *testing.T, seed uint64, n int) {
	r := rand.New(rand.NewPCG(seed, 11))
	cs := randCountSpec(r)
	if r.IntN(2) == 0 {
		cs.Within = time.Duration(5 + r.IntN(40))
	}
	ap, rp := mustCompile(t, cs), mustCompile(t, cs)
	rp.aff = nil
	var got, want uint64
	am := NewMatcher(ap, eval.NewMachine(), Config{MaxPartials: 1 << 20}, nil, func(m *Match) { got = satAdd(got, m.Count) })
	rm := NewMatcher(rp, eval.NewMachine(), Config{MaxPartials: 1 << 20}, nil, func(m *Match) { want = satAdd(want, m.Count) })
	tm := int64(0)
	for i := range n {
		tm += int64(r.IntN(3))
		if r.IntN(10) == 0 {
			am.Expire(tm)
			rm.Expire(tm)
		}
		e := &event.Event{Type: int32(r.IntN(4)), Time: tm, Seq: uint64(i)}
		got, want = 0, 0
		if err := am.Process(e); err != nil {
			t.Fatal(err)
		}
		if err := rm.Process(e); err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Fatalf("seed %d event %d: affine count %d, run-based %d\nspec %+v within %d", seed, i, got, want, cs.Root.Children, cs.Within)
		}
	}
}

// TestCountOnly_affineLong: on longer random streams than the enumerating
// matcher can follow, the affine mode's count at every event equals the
// run-based counter's (the two-stacks window flips many times, buckets
// expire by events and by Expire).
func TestCountOnly_affineLong(t *testing.T) {
	for seed := range uint64(200) {
		affineAgrees(t, seed, 400)
	}
}

// TestCountOnly_affineSaturates: W6 at window 1000 saturates the counts
// (2^n - 1 matches per c for n b's); the affine mode's saturated sums and
// products agree with the run-based counter's at every event.
func TestCountOnly_affineSaturates(t *testing.T) {
	ap, rp := mustCompile(t, w6Spec(1000, true)), mustCompile(t, w6Spec(1000, true))
	rp.aff = nil
	var got, want uint64
	am := NewMatcher(ap, eval.NewMachine(), Config{}, nil, func(m *Match) { got = m.Count })
	rm := NewMatcher(rp, eval.NewMachine(), Config{}, nil, func(m *Match) { want = m.Count })
	evs := w6Stream(5000)
	saturated := 0
	for i := range evs {
		e := evs[i]
		e.Time = int64(i)
		got, want = 0, 0
		_ = am.Process(&e)
		_ = rm.Process(&e)
		if got != want {
			t.Fatalf("event %d: affine count %d, run-based %d", i, got, want)
		}
		if got == math.MaxUint64 {
			saturated++
		}
	}
	if saturated == 0 {
		t.Fatal("no count saturated")
	}
}
