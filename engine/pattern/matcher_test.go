package pattern

import (
	"errors"
	"testing"
	"time"

	"github.com/cepengine/cep/engine/eval"
	"github.com/cepengine/cep/engine/event"
)

// Types of the tests: A and B with one int field k (the key) and v.
var (
	schemaA = event.NewSchema("A", []event.Field{{Name: "k", Type: event.Int}, {Name: "v", Type: event.Int}}, "", 0)
	schemaB = event.NewSchema("B", []event.Field{{Name: "k", Type: event.Int}, {Name: "v", Type: event.Int}}, "", 0)
)

func init() { schemaA.ID, schemaB.ID = 0, 1 }

// seqSpec is a -> b within d (no conditions).
func seqSpec(edge Edge, within time.Duration) *Spec {
	return &Spec{
		Elements: []Element{
			{Name: "a", Type: 0, Min: 1, Max: 1, Slot: 0, Local: true},
			{Name: "b", Type: 1, Min: 1, Max: 1, Slot: 1, Local: true},
		},
		Root:   Node{Kind: NodeSequence, Children: []Node{{Kind: NodeElement, Element: 0}, {Kind: NodeElement, Element: 1, Edge: edge}}},
		Within: within, Skip: SkipPastLast, Bound: 2, SkipTarget: -1,
	}
}

func mustCompile(t testing.TB, s *Spec) *Pattern {
	t.Helper()
	p, err := Compile(s)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestValidate_errors(t *testing.T) {
	tests := []struct {
		name string
		edit func(s *Spec)
		want error
	}{
		{"empty alternation", func(s *Spec) { s.Root.Children[1] = Node{Kind: NodeAlternation} }, ErrInvalid},
		{"empty all", func(s *Spec) { s.Root.Children[1] = Node{Kind: NodeAll} }, ErrInvalid},
		{"empty group", func(s *Spec) { s.Root.Children[1] = Node{Kind: NodeSequence} }, ErrInvalid},
		{"not in all", func(s *Spec) {
			s.Elements[1].Negated = true
			s.Root.Children[1] = Node{Kind: NodeAll, Children: []Node{{Kind: NodeElement, Element: 0}, {Kind: NodeElement, Element: 1}}}
		}, ErrInvalid},
		{"group bounds", func(s *Spec) {
			s.Root = Node{Kind: NodeSequence, Quantified: true, Min: 2, Max: 1, Children: s.Root.Children}
		}, ErrInvalid},
		{"begins with not", func(s *Spec) { s.Elements[0].Negated = true }, ErrInvalid},
		{"only optional", func(s *Spec) {
			for i := range s.Elements {
				s.Elements[i].Quantified, s.Elements[i].Min, s.Elements[i].Max = true, 0, 1
			}
		}, ErrInvalid},
		{"bad bounds", func(s *Spec) { s.Elements[1].Quantified, s.Elements[1].Min, s.Elements[1].Max = true, 3, 2 }, ErrInvalid},
		{"trailing not without within", func(s *Spec) { s.Elements[1].Negated = true; s.Within = 0 }, ErrInvalid},
		{"bad slot", func(s *Spec) { s.Elements[1].Slot = 7 }, ErrInvalid},
		{"bad skip target", func(s *Spec) { s.Skip, s.SkipTarget = SkipToLast, 9 }, ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := seqSpec(Relaxed, time.Minute)
			tt.edit(s)
			if _, err := Compile(s); !errors.Is(err, tt.want) {
				t.Fatalf("Compile: got %v, want %v", err, tt.want)
			}
		})
	}
}

func ev(typ int32, tm int64, seq uint64, k int64) *event.Event {
	return &event.Event{Type: typ, Time: tm, Seq: seq, Fields: []event.Value{event.IntValue(k), event.IntValue(0)}}
}

func TestMatcher_withinAndTimers(t *testing.T) {
	p := mustCompile(t, seqSpec(Relaxed, 10))
	var got [][2]uint64
	m := NewMatcher(p, eval.NewMachine(), Config{}, nil, func(m *Match) {
		got = append(got, [2]uint64{m.Elements[0][0].Seq, m.Elements[1][0].Seq})
	})
	must := func(err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	must(m.Process(ev(0, 0, 1, 0)))
	if d, ok := m.Deadline(); !ok || d != 10 {
		t.Fatalf("Deadline = %d, %v; want 10, true", d, ok)
	}
	m.Expire(10)
	if s := m.Stats(); s.Partials != 0 {
		t.Fatalf("after expiry %d partials remain", s.Partials)
	}
	must(m.Process(ev(1, 11, 2, 0))) // b after a expired: nothing
	must(m.Process(ev(0, 12, 3, 0)))
	must(m.Process(ev(1, 21, 4, 0)))
	m.Flush()
	if len(got) != 1 || got[0] != [2]uint64{3, 4} {
		t.Fatalf("matches %v, want [[3 4]]", got)
	}
}

func TestMatcher_overflow(t *testing.T) {
	s := seqSpec(Any, 0)
	s.Skip = SkipNone
	p := mustCompile(t, s)
	m := NewMatcher(p, eval.NewMachine(), Config{MaxPartials: 3}, nil, func(*Match) {})
	var err error
	for i := range 10 {
		err = errors.Join(err, m.Process(ev(0, int64(i), uint64(i), 0)))
	}
	if !errors.Is(err, ErrOverflow) {
		t.Fatalf("want ErrOverflow, got %v", err)
	}
	if st := m.Stats(); st.Partials > 3 || st.Dropped != 7 {
		t.Fatalf("stats %+v, want at most 3 partials and 7 dropped", st)
	}
}

// TestMatcher_allocs: a -> b within d allocates nothing per event once
// warm.
func TestMatcher_allocs(t *testing.T) {
	p := mustCompile(t, seqSpec(Relaxed, 100))
	n := 0
	m := NewMatcher(p, eval.NewMachine(), Config{}, nil, func(*Match) { n++ })
	a, b := ev(0, 0, 0, 0), ev(1, 0, 0, 0)
	tm := int64(0)
	feed := func() {
		tm += 3
		a.Time, b.Time = tm, tm+1
		_ = m.Process(a)
		_ = m.Process(b)
	}
	for range 100 {
		feed()
	}
	if allocs := testing.AllocsPerRun(1000, feed); allocs != 0 {
		t.Fatalf("allocs per event pair = %v, want 0", allocs)
	}
	if n == 0 {
		t.Fatal("no match")
	}
}
