package engine

import (
	"testing"
	"time"

	"github.com/cepengine/cep/engine/eval"
	"github.com/cepengine/cep/engine/event"
	"github.com/cepengine/cep/engine/pattern"
)

const w4Keys = 1000

// w4Spec is a:A -> b:B within 10m, no conditions.
func w4Spec() *pattern.Spec {
	return &pattern.Spec{
		Elements: []pattern.Element{
			{Name: "a", Type: 0, Min: 1, Max: 1, Slot: 0, Local: true},
			{Name: "b", Type: 1, Min: 1, Max: 1, Slot: 1, Local: true},
		},
		Root: pattern.Node{Kind: pattern.NodeSequence, Children: []pattern.Node{
			{Kind: pattern.NodeElement, Element: 0}, {Kind: pattern.NodeElement, Element: 1, Edge: pattern.Relaxed}}},
		Within: 10 * time.Minute, Bound: 2, SkipTarget: -1,
	}
}

// BenchmarkPatternW4 is keyed A -> B within 10m at 1K keys through the
// engine (a pattern rule: keying, the per-key matcher, deadlines, the
// emitted fields), against engine/pattern's Matchers in a map keyed by
// hand (the matcher's own cost) and a hand-written loop (last A per key).
// One op is one event.
func BenchmarkPatternW4(b *testing.B) {
	evs := make([]event.Event, 2*w4Keys)
	for i := range evs {
		evs[i] = event.Event{Type: int32(i / w4Keys % 2), Fields: []event.Value{event.IntValue(int64(i % w4Keys)), event.TimeValue(0)}}
	}
	b.Run("engine", func(b *testing.B) {
		bl := NewBuilder()
		bl.Event("A").Field("k", event.Int).Field("at", event.Time).Time("at")
		bl.Event("B").Field("k", event.Int).Field("at", event.Time).Time("at")
		bl.Rule("w4").Match(PatternMatch{Spec: w4Spec(), Types: []string{"A", "B"},
			Aliases: []PatternAlias{{Name: "a", Type: "A", Slot: 0}, {Name: "b", Type: "B", Slot: 1}}}).
			PartitionBy("k").Emit("M", Field{Name: "k"})
		m := mustBuild(b, bl).NewMatcher(Config{})
		matches := 0
		if _, err := m.Subscribe(AllDerived, func(*Derived) { matches++ }); err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			e := &evs[i%len(evs)]
			e.Fields[1] = event.TimeValue(int64(i) * int64(100*time.Millisecond))
			m.Process(e)
			i++
		}
		b.ReportMetric(float64(matches), "matches")
	})
	b.Run("pattern", func(b *testing.B) {
		p, err := pattern.Compile(w4Spec())
		if err != nil {
			b.Fatal(err)
		}
		mach := eval.NewMachine()
		matches := 0
		parts := map[int64]*pattern.Matcher{}
		emit := func(*pattern.Match) { matches++ }
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			e := &evs[i%len(evs)]
			e.Time = int64(i) * int64(100*time.Millisecond)
			k := e.Fields[0].Int()
			mt := parts[k]
			if mt == nil {
				mt = pattern.NewMatcher(p, mach, pattern.Config{}, nil, emit)
				parts[k] = mt
			}
			_ = mt.Process(e)
			i++
		}
		b.ReportMetric(float64(matches), "matches")
	})
	b.Run("handwritten", func(b *testing.B) {
		last := map[int64]int64{}
		matches := 0
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			e := &evs[i%len(evs)]
			t := int64(i) * int64(100*time.Millisecond)
			k := e.Fields[0].Int()
			if e.Type == 0 {
				if _, ok := last[k]; !ok {
					last[k] = t
				}
			} else if t0, ok := last[k]; ok {
				if t-t0 < int64(10*time.Minute) {
					matches++
				}
				delete(last, k)
			}
			i++
		}
		b.ReportMetric(float64(matches), "matches")
	})
}
