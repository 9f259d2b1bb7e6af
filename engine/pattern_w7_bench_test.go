package engine

import (
	"fmt"
	"testing"
	"time"

	"github.com/cepengine/cep/engine/event"
	"github.com/cepengine/cep/engine/pattern"
)

// W7 (BENCHMARKS.md): negation and absence, with a million pending
// absence timers.

// w7AbsenceGraph is `partition by id match o:Order -> not Ship within
// 1h emit Late {id}`: an order with no shipment within the hour.
func w7AbsenceGraph(t testing.TB) *Graph {
	bl := NewBuilder()
	bl.Event("Order").Field("id", event.Int).Field("at", event.Time).Time("at")
	bl.Event("Ship").Field("id", event.Int).Field("at", event.Time).Time("at")
	s := &pattern.Spec{
		Elements: []pattern.Element{
			{Name: "o", Min: 1, Max: 1, Slot: 0, Local: true},
			{Name: "Ship", Min: 1, Max: 1, Slot: -1, Local: true, Negated: true},
		},
		Root: pattern.Node{Kind: pattern.NodeSequence, Children: []pattern.Node{
			{Kind: pattern.NodeElement, Element: 0}, {Kind: pattern.NodeElement, Element: 1, Edge: pattern.Relaxed}}},
		Within: time.Hour, Bound: 1, SkipTarget: -1,
	}
	bl.Rule("late").Match(PatternMatch{Spec: s, Types: []string{"Order", "Ship"},
		Aliases: []PatternAlias{{Name: "o", Type: "Order", Slot: 0}}}).
		PartitionBy("id").Emit("Late", Field{Name: "id"})
	return mustBuild(t, bl)
}

// w7NotBetweenGraph is `partition by k match a:A -> not B -> c:C within
// 10m emit M {k}`.
func w7NotBetweenGraph(t testing.TB) *Graph {
	bl := NewBuilder()
	for _, n := range []string{"A", "B", "C"} {
		bl.Event(n).Field("k", event.Int).Field("at", event.Time).Time("at")
	}
	s := &pattern.Spec{
		Elements: []pattern.Element{
			{Name: "a", Min: 1, Max: 1, Slot: 0, Local: true},
			{Name: "B", Min: 1, Max: 1, Slot: -1, Local: true, Negated: true},
			{Name: "c", Min: 1, Max: 1, Slot: 1, Local: true},
		},
		Root: pattern.Node{Kind: pattern.NodeSequence, Children: []pattern.Node{
			{Kind: pattern.NodeElement, Element: 0}, {Kind: pattern.NodeElement, Element: 1, Edge: pattern.Relaxed},
			{Kind: pattern.NodeElement, Element: 2, Edge: pattern.Relaxed}}},
		Within: 10 * time.Minute, Bound: 2, SkipTarget: -1,
	}
	bl.Rule("w7").Match(PatternMatch{Spec: s, Types: []string{"A", "B", "C"},
		Aliases: []PatternAlias{{Name: "a", Type: "A", Slot: 0}, {Name: "c", Type: "C", Slot: 1}}}).
		PartitionBy("k").Emit("M", Field{Name: "k"})
	return mustBuild(t, bl)
}

// absenceStream: event i is an order for id i every 3.6ms (a million
// orders an hour, so a million pending once warm), and every tenth order
// is shipped 30 minutes later: event i is then also followed by the
// shipment of order i - 500,000 when i%10 == 0 (ids are unique keys).
const absenceStep = 3600 * time.Microsecond

// absenceHand is the hand-written absence check: orders in a FIFO by
// deadline (deadlines come in time order), shipped ones marked in a map.
type absenceHand struct {
	open    map[int64]int64 // id -> deadline
	fifo    []int64         // ids by deadline
	head    int
	matches int
}

func (h *absenceHand) advance(now int64) {
	for h.head < len(h.fifo) {
		id := h.fifo[h.head]
		d, ok := h.open[id]
		if ok && d > now {
			return
		}
		if ok {
			h.matches++
			delete(h.open, id)
		}
		h.head++
		if h.head > 1<<16 && h.head*2 > len(h.fifo) {
			h.fifo = append(h.fifo[:0], h.fifo[h.head:]...)
			h.head = 0
		}
	}
}

// BenchmarkPatternW7Absence is o:Order -> not Ship within 1h with a
// million pending orders (each an absence timer), through the engine and
// by hand. steady: one op is one order (and every tenth a shipment too),
// in the steady state where about one timer fires per order; fire: one op
// is one timer fired by Advance, a million pending. B/pending is the live
// heap per pending order.
func BenchmarkPatternW7Absence(b *testing.B) {
	const pending = 1_000_000
	step := int64(absenceStep)
	order := func(e *event.Event, i int) {
		e.Type, e.Fields[0], e.Fields[1] = 0, event.IntValue(int64(i)), event.TimeValue(int64(i)*step)
	}
	ship := func(e *event.Event, i int) bool {
		if i%10 != 0 || i < pending/2 {
			return false
		}
		e.Type, e.Fields[0], e.Fields[1] = 1, event.IntValue(int64(i-pending/2)), event.TimeValue(int64(i)*step)
		return true
	}
	b.Run("steady/handwritten", func(b *testing.B) {
		h0 := heapBytes()
		h := &absenceHand{open: map[int64]int64{}}
		e := &event.Event{Fields: make([]event.Value, 2)}
		run := func(i int) {
			order(e, i)
			t := e.Fields[1].Time()
			h.advance(t)
			h.open[int64(i)] = t + int64(time.Hour)
			h.fifo = append(h.fifo, int64(i))
			if ship(e, i) {
				delete(h.open, e.Fields[0].Int())
			}
		}
		for i := range pending * 3 / 2 {
			run(i)
		}
		perPending := float64(heapBytes()-h0) / float64(len(h.open))
		b.ReportAllocs()
		i, m0 := pending*3/2, h.matches
		for b.Loop() {
			run(i)
			i++
		}
		b.ReportMetric(float64(h.matches-m0)/float64(i-pending*3/2), "matches/op")
		b.ReportMetric(perPending, "B/pending")
	})
	b.Run("steady/engine", func(b *testing.B) {
		g := w7AbsenceGraph(b)
		h0 := heapBytes()
		m := g.NewMatcher(Config{})
		matches := 0
		if _, err := m.Subscribe(AllDerived, func(*Derived) { matches++ }); err != nil {
			b.Fatal(err)
		}
		e := &event.Event{Fields: make([]event.Value, 2)}
		run := func(i int) {
			order(e, i)
			m.Process(e)
			if ship(e, i) {
				m.Process(e)
			}
		}
		for i := range pending * 3 / 2 {
			run(i)
		}
		perPending := float64(heapBytes()-h0) / float64(m.Stats().Keys)
		b.ReportAllocs()
		i, m0 := pending*3/2, matches
		for b.Loop() {
			run(i)
			i++
		}
		b.ReportMetric(float64(matches-m0)/float64(i-pending*3/2), "matches/op")
		b.ReportMetric(perPending, "B/pending")
		b.ReportMetric(float64(m.Stats().Keys), "pending")
	})
	b.Run("fire/engine", func(b *testing.B) {
		g := w7AbsenceGraph(b)
		e := &event.Event{Fields: make([]event.Value, 2)}
		var m *Matcher
		matches, next, end := 0, 0, 0
		fill := func() {
			m = g.NewMatcher(Config{})
			if _, err := m.Subscribe(AllDerived, func(*Derived) { matches++ }); err != nil {
				b.Fatal(err)
			}
			for i := range pending {
				order(e, i)
				m.Process(e)
			}
			next, end = 0, pending
		}
		fill()
		b.ReportAllocs()
		for b.Loop() {
			if next == end {
				b.StopTimer()
				fill()
				b.StartTimer()
			}
			// The deadline of order next is its time + 1h.
			if err := m.Advance(int64(next)*step + int64(time.Hour)); err != nil {
				b.Fatal(err)
			}
			next++
		}
		if matches == 0 {
			b.Fatal("no timer fired")
		}
		b.ReportMetric(float64(pending-(end-next)), "fired")
	})
}

// BenchmarkPatternW7NotBetween is a:A -> not B -> c:C within 10m over 1K
// and 1M uniform keys (A 40%, B 20%, C 40%, an event a millisecond),
// through the engine, against the hand-written loop (per key the last A
// since the last B or match).
func BenchmarkPatternW7NotBetween(b *testing.B) {
	within := int64(10 * time.Minute)
	for _, keys := range []int{1_000, 1_000_000} {
		fill := func(i int, e *event.Event) {
			x := mix64(uint64(i) + 0x9e3779b97f4a7c15)
			e.Type = 0
			switch r := int(x>>40) % 10; {
			case r >= 6:
				e.Type = 2
			case r >= 4:
				e.Type = 1
			}
			t := int64(i) * w4Step
			e.Time = t
			e.Fields[0] = event.IntValue(int64(x % uint64(keys)))
			e.Fields[1] = event.TimeValue(t)
		}
		warm := max(3*keys, 1_000_000)
		if *w4Warm >= 0 {
			warm = *w4Warm
		}
		name := fmt.Sprintf("keys=%d", keys)
		b.Run(name+"/handwritten", func(b *testing.B) {
			h0 := heapBytes()
			last := map[int64]int64{}
			matches := 0
			e := &event.Event{Fields: make([]event.Value, 2)}
			run := func(i int) {
				fill(i, e)
				k := e.Fields[0].Int()
				switch e.Type {
				case 0:
					last[k] = e.Time
				case 1:
					delete(last, k)
				case 2:
					if t0, ok := last[k]; ok {
						if e.Time-t0 < within {
							matches++
						}
						delete(last, k)
					}
				}
			}
			for i := range warm {
				run(i)
			}
			perKey := float64(heapBytes()-h0) / float64(keys)
			b.ReportAllocs()
			i, m0 := warm, matches
			for b.Loop() {
				run(i)
				i++
			}
			b.ReportMetric(float64(matches-m0)/float64(i-warm), "matches/op")
			b.ReportMetric(perKey, "B/key")
		})
		b.Run(name+"/engine", func(b *testing.B) {
			g := w7NotBetweenGraph(b)
			h0 := heapBytes()
			m := g.NewMatcher(Config{})
			matches := 0
			if _, err := m.Subscribe(AllDerived, func(*Derived) { matches++ }); err != nil {
				b.Fatal(err)
			}
			e := &event.Event{Fields: make([]event.Value, 2)}
			for i := range warm {
				fill(i, e)
				m.Process(e)
			}
			perKey := float64(heapBytes()-h0) / float64(keys)
			b.ReportAllocs()
			i, m0 := warm, matches
			for b.Loop() {
				fill(i, e)
				m.Process(e)
				i++
			}
			b.ReportMetric(float64(matches-m0)/float64(i-warm), "matches/op")
			b.ReportMetric(perKey, "B/key")
			b.ReportMetric(float64(m.Stats().Keys), "livekeys")
		})
	}
}
