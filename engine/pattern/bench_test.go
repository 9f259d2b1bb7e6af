package pattern

import (
	"testing"
	"time"

	"github.com/cepengine/cep/engine/eval"
	"github.com/cepengine/cep/engine/event"
)

const w4Keys = 1000

// BenchmarkW4 is keyed A -> B within 10m at 1K keys: one Matcher per key
// in a map, against a hand-written loop (last A per key). One op is one
// event.
func BenchmarkW4(b *testing.B) {
	evs := make([]event.Event, 2*w4Keys)
	for i := range evs {
		evs[i] = event.Event{Type: int32(i / w4Keys % 2), Fields: []event.Value{event.IntValue(int64(i % w4Keys)), event.IntValue(0)}}
	}
	b.Run("pattern", func(b *testing.B) {
		p := mustCompile(b, seqSpec(Relaxed, 10*time.Minute))
		mach := eval.NewMachine()
		matches := 0
		parts := map[int64]*Matcher{}
		emit := func(*Match) { matches++ }
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			e := &evs[i%len(evs)]
			e.Time = int64(i) * int64(100*time.Millisecond)
			k := e.Fields[0].Int()
			m := parts[k]
			if m == nil {
				m = NewMatcher(p, mach, Config{}, nil, emit)
				parts[k] = m
			}
			_ = m.Process(e)
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
			e.Time = int64(i) * int64(100*time.Millisecond)
			k := e.Fields[0].Int()
			if e.Type == 0 {
				if _, ok := last[k]; !ok {
					last[k] = e.Time
				}
			} else if t, ok := last[k]; ok {
				if e.Time-t < int64(10*time.Minute) {
					matches++
				}
				delete(last, k)
			}
			i++
		}
		b.ReportMetric(float64(matches), "matches")
	})
}

// BenchmarkW6 is a ->> b+ ->> c within 8 events, skip none, counting
// matches, against a hand-written count (per a: 2^bs - 1 subsets per c).
// The matcher enumerates every match: its cost grows with 2^(b's in the
// window), the gap the count-only mode must close.
func BenchmarkW6(b *testing.B) {
	const period = 8
	mk := func(i int) *event.Event {
		typ := int32(1) // b
		switch i % period {
		case 0:
			typ = 0 // a
		case period - 1:
			typ = 2 // c
		}
		return &event.Event{Type: typ, Time: int64(i), Fields: []event.Value{event.IntValue(0), event.IntValue(0)}}
	}
	b.Run("pattern", func(b *testing.B) {
		s := &Spec{
			Elements: []Element{
				{Name: "a", Type: 0, Min: 1, Max: 1, Slot: 0, Local: true},
				{Name: "b", Type: 1, Quantified: true, Min: 1, Max: -1, Slot: 0, List: true, Local: true},
				{Name: "c", Type: 2, Min: 1, Max: 1, Slot: 1, Local: true},
			},
			Root: Node{Kind: NodeSequence, Children: []Node{{Kind: NodeElement, Element: 0},
				{Kind: NodeElement, Element: 1, Edge: Any}, {Kind: NodeElement, Element: 2, Edge: Any}}},
			Within: period, Skip: SkipNone, Bound: 2, Lists: 1, SkipTarget: -1,
		}
		p := mustCompile(b, s)
		n := 0
		m := NewMatcher(p, eval.NewMachine(), Config{}, nil, func(*Match) { n++ })
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			_ = m.Process(mk(i))
			i++
		}
		b.ReportMetric(float64(n), "matches")
	})
	b.Run("handwritten", func(b *testing.B) {
		n, bs, open := 0, 0, false
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			switch e := mk(i); e.Type {
			case 0:
				open, bs = true, 0
			case 1:
				if open {
					bs++
				}
			case 2:
				if open {
					n += 1<<bs - 1
					open = false
				}
			}
			i++
		}
		b.ReportMetric(float64(n), "matches")
	})
}
