package pattern

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/cepengine/cep/engine/eval"
)

// altSpec is a (b | a) skip none over types A (0) and B (1): the written
// alternative first.
func altSpec(skip SkipKind, within time.Duration) *Spec {
	return &Spec{
		Elements: []Element{
			{Name: "a", Type: 0, Min: 1, Max: 1, Slot: 0, Local: true},
			{Name: "b", Type: 1, Min: 1, Max: 1, Slot: 1, Local: true},
			{Name: "a2", Type: 0, Min: 1, Max: 1, Slot: 2, Local: true},
		},
		Root: Node{Kind: NodeSequence, Children: []Node{
			{Kind: NodeElement, Element: 0},
			{Kind: NodeAlternation, Edge: Relaxed, Children: []Node{
				{Kind: NodeElement, Element: 1},
				{Kind: NodeElement, Element: 2},
			}},
		}},
		Within: within, Skip: skip, Bound: 3, SkipTarget: -1,
	}
}

func TestGeneral_alternationOrder(t *testing.T) {
	tests := []struct {
		name string
		skip SkipKind
		want []string // per match: seq of each element's events
	}{
		{"skip none", SkipNone, []string{"[[1] [] [2]]", "[[1] [3] []]", "[[2] [3] []]"}},
		{"skip past last", SkipPastLast, []string{"[[1] [] [2]]"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := mustCompile(t, altSpec(tt.skip, 0))
			var got []string
			m := NewMatcher(p, eval.NewMachine(), Config{}, nil, func(m *Match) {
				var s [][]uint64
				for _, evs := range m.Elements {
					var x []uint64
					for _, e := range evs {
						x = append(x, e.Seq)
					}
					s = append(s, x)
				}
				got = append(got, fmt.Sprint(s))
			})
			for i, typ := range []int32{0, 0, 1} { // A A B
				if err := m.Process(ev(typ, int64(i), uint64(i+1), 0)); err != nil {
					t.Fatal(err)
				}
			}
			m.Flush()
			if !slices.Equal(got, tt.want) {
				t.Fatalf("matches %v, want %v", got, tt.want)
			}
		})
	}
}

// TestGeneral_deadline: a pending alternative expires by within through
// Deadline and Expire, and the finished start is forgotten.
func TestGeneral_deadline(t *testing.T) {
	p := mustCompile(t, altSpec(SkipPastLast, 10))
	n := 0
	m := NewMatcher(p, eval.NewMachine(), Config{}, nil, func(*Match) { n++ })
	if err := m.Process(ev(0, 0, 1, 0)); err != nil {
		t.Fatal(err)
	}
	d, ok := m.Deadline()
	if !ok || d != 10 {
		t.Fatalf("Deadline = %d, %v; want 10, true", d, ok)
	}
	m.Expire(10)
	if s := m.Stats(); s.Partials != 0 || n != 0 {
		t.Fatalf("after expiry: %d live starts, %d matches; want 0, 0", s.Partials, n)
	}
}
