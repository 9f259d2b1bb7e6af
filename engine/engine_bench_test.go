package engine

import (
	"strconv"
	"testing"
	"time"

	"github.com/cepengine/cep/engine/event"
)

// Benchmarks of the per-event path, each beside a baseline in the same run:
// compare the ns/event of the sub-benchmarks (benchstat over -count=10).

var sink int

func marketEvents(n int) []event.Event {
	evs := make([]event.Event, n)
	for i := range evs {
		evs[i] = event.Event{Type: 0, Fields: []event.Value{
			event.StringValue("S" + strconv.Itoa(i%1000)), event.FloatValue(float64(i%200) + 0.5),
			event.IntValue(int64(i % 700)), event.TimeValue(0),
		}}
	}
	return evs
}

func marketProgram(lateness time.Duration) *Builder {
	b := NewBuilder()
	b.Event("Market").Field("sym", event.String).Field("px", event.Float).Field("vol", event.Int).Field("ts", event.Time).
		Time("ts").Lateness(lateness)
	return b
}

// runEngine feeds the events round robin with increasing times (plus
// jitter within the lateness, if any) and reports ns/event.
func runEngine(b *testing.B, g *Graph, jitter time.Duration) {
	m := g.NewMatcher(Config{})
	n := 0
	m.Subscribe(AllDerived, func(d *Derived) { n++ })
	evs := marketEvents(1024)
	now := t0
	i := 0
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		ev := &evs[i&1023]
		i++
		now += int64(time.Microsecond)
		t := now
		if jitter > 0 {
			t -= int64(i*7919) % int64(jitter)
		}
		ev.Fields[3] = event.TimeValue(t)
		m.Process(ev)
	}
	b.StopTimer()
	m.Close()
	sink += n
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/event")
}

// BenchmarkFilter: one rule `from Market where px > 100 emit Out {sym, px}`
// against a hand-written loop that filters the same events and hands the
// same fields to a handler.
func BenchmarkFilter(b *testing.B) {
	b.Run("engine", func(b *testing.B) {
		p := marketProgram(0)
		p.Rule("f").From("Market").Where("px > 100").Emit("Out", Field{Name: "sym"}, Field{Name: "px"})
		runEngine(b, mustBuild(b, p), 0)
	})
	b.Run("baseline", func(b *testing.B) {
		evs := marketEvents(1024)
		type out struct {
			sym  string
			px   float64
			time int64
		}
		n := 0
		handler := func(o *out) { n++ }
		var o out
		now := t0
		i := 0
		b.ReportAllocs()
		for b.Loop() {
			ev := &evs[i&1023]
			i++
			now += int64(time.Microsecond)
			ev.Fields[3] = event.TimeValue(now)
			if ev.Fields[1].Float() > 100 {
				o.sym, o.px, o.time = ev.Fields[0].Str(), ev.Fields[1].Float(), ev.Fields[3].Time()
				handler(&o)
			}
		}
		sink += n
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/event")
	})
}

// BenchmarkChain: three rules chained (Market -> A -> B -> C) against the
// same three rules all reading Market: the same filters, projections and
// emits per event; the difference is the cost of re-entering the graph.
func BenchmarkChain(b *testing.B) {
	b.Run("chained", func(b *testing.B) {
		p := marketProgram(0)
		p.Rule("a").From("Market").Where("px > 0").Emit("A", Field{Name: "sym"}, Field{Name: "px"})
		p.Rule("b").From("A").Where("px > 0").Emit("B", Field{Name: "sym"}, Field{Name: "px"})
		p.Rule("c").From("B").Where("px > 0").Emit("C", Field{Name: "sym"}, Field{Name: "px"})
		runEngine(b, mustBuild(b, p), 0)
	})
	b.Run("unchained", func(b *testing.B) {
		p := marketProgram(0)
		p.Rule("a").From("Market").Where("px > 0").Emit("A", Field{Name: "sym"}, Field{Name: "px"})
		p.Rule("b").From("Market").Where("px > 0.0").Emit("B", Field{Name: "sym"}, Field{Name: "px"})
		p.Rule("c").From("Market").Where("px > 0.00").Emit("C", Field{Name: "sym"}, Field{Name: "px"})
		runEngine(b, mustBuild(b, p), 0)
	})
}

// BenchmarkReorder: the filter rule with events in order (lateness 0)
// against events jittered by up to 1ms or 100ms with that lateness: every
// event goes through the reorder buffer, with ~1k or ~100k of them pending
// (events are 1µs apart).
func BenchmarkReorder(b *testing.B) {
	for _, c := range []struct {
		name   string
		jitter time.Duration
	}{{"in_order", 0}, {"jitter=1ms", time.Millisecond}, {"jitter=100ms", 100 * time.Millisecond}} {
		b.Run(c.name, func(b *testing.B) {
			p := marketProgram(c.jitter)
			p.Rule("f").From("Market").Where("px > 100").Emit("Out", Field{Name: "sym"}, Field{Name: "px"})
			runEngine(b, mustBuild(b, p), c.jitter)
		})
	}
}

// BenchmarkTimerQueue: set one timer and fire one, with pending timers in
// the queue (W7's shape: many pending absence timers).
func BenchmarkTimerQueue(b *testing.B) {
	for _, pending := range []int{1000, 1000000} {
		b.Run("pending="+strconv.Itoa(pending), func(b *testing.B) {
			var q timerQueue
			when := int64(0)
			for i := range pending {
				q.set(int64(i*7919%pending), 0, 0)
			}
			when = int64(pending)
			b.ReportAllocs()
			for b.Loop() {
				when++
				q.set(when, 0, 0)
				q.pop()
			}
		})
	}
}
