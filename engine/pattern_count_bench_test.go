package engine

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/cepengine/cep/engine/event"
	"github.com/cepengine/cep/engine/pattern"
)

// w6Types are W6's types: A, B, C and 6 noise types, each { at: time }.
var w6Types = []string{"A", "B", "C", "N1", "N2", "N3", "N4", "N5", "N6"}

// w6Match is a:A ->> b:B+ ->> c:C within window ms, skip none, counting.
func w6Match(window int64) PatternMatch {
	s := &pattern.Spec{
		Elements: []pattern.Element{
			{Name: "a", Local: true, Min: 1, Max: 1, Slot: 0},
			{Name: "b", Local: true, Quantified: true, Min: 1, Max: -1, Slot: 0, List: true},
			{Name: "c", Local: true, Min: 1, Max: 1, Slot: 1},
		},
		Root: pattern.Node{Kind: pattern.NodeSequence, Children: []pattern.Node{
			{Kind: pattern.NodeElement, Element: 0}, {Kind: pattern.NodeElement, Element: 1, Edge: pattern.Any},
			{Kind: pattern.NodeElement, Element: 2, Edge: pattern.Any}}},
		Within: time.Duration(window) * time.Millisecond, Skip: pattern.SkipNone, Bound: 2, Lists: 1, SkipTarget: -1,
	}
	return PatternMatch{Spec: s, Types: []string{"A", "B", "C"}, CountOnly: true}
}

// w6Events is the W6 stream through the engine: a seeded uniform mix of
// the 9 types, one event per millisecond (so a window of n ms is n
// events' worth).
func w6Events(n int) []event.Event {
	r := rand.New(rand.NewPCG(6, 6))
	evs := make([]event.Event, n)
	for i := range evs {
		evs[i] = event.Event{Type: int32(r.IntN(len(w6Types))), Fields: []event.Value{event.TimeValue(0)}}
	}
	return evs
}

// BenchmarkPatternW6Count is W6 counted through the engine (a rule
// emitting count() per completing event: lang's `emit N { n: count() }`),
// windows of 10, 100 and 1000 events, beside a hand-written count of the
// same matches (per live a, its number of non-empty b subsets, s = 2s+1,
// in float64). One op is one event. The time per event follows the live
// a's in the window, not the matches (about 4,000 per event at window 100,
// 2^64-1 and beyond at 1000).
func BenchmarkPatternW6Count(b *testing.B) {
	evs := w6Events(1 << 16)
	for _, window := range []int64{10, 100, 1000} {
		b.Run(fmt.Sprintf("engine/window=%d", window), func(b *testing.B) {
			bl := NewBuilder()
			for _, name := range w6Types {
				bl.Event(name).Field("at", event.Time).Time("at")
			}
			bl.Rule("w6").Match(w6Match(window)).Emit("Matches", Field{Name: "n", Expr: "count()"})
			m := mustBuild(b, bl).NewMatcher(Config{})
			var matches float64
			if _, err := m.Subscribe("Matches", func(d *Derived) { matches += float64(d.Event.Fields[0].Int()) }); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				e := &evs[i%len(evs)]
				e.Fields[0] = event.TimeValue(t0 + int64(i)*int64(time.Millisecond))
				m.Process(e)
				i++
			}
			b.ReportMetric(matches/float64(i), "matches/event")
		})
		b.Run(fmt.Sprintf("handwritten/window=%d", window), func(b *testing.B) {
			type open struct {
				t int64
				s float64
			}
			var live []open
			var matches float64
			w := window * int64(time.Millisecond)
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				e := &evs[i%len(evs)]
				t := t0 + int64(i)*int64(time.Millisecond)
				j := 0
				for j < len(live) && live[j].t+w <= t {
					j++
				}
				live = append(live[:0], live[j:]...)
				switch e.Type {
				case 0:
					live = append(live, open{t: t})
				case 1:
					for k := range live {
						live[k].s = 2*live[k].s + 1
					}
				case 2:
					for k := range live {
						matches += live[k].s
					}
				}
				i++
			}
			b.ReportMetric(matches/float64(i), "matches/event")
		})
	}
}
