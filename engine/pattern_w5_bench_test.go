package engine

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/cepengine/cep/engine/eval"
	"github.com/cepengine/cep/engine/event"
	"github.com/cepengine/cep/engine/pattern"
)

// W5: match s:Sell(name == "INTC") ->> b:Buy(name == "RIMM") ->>
// q:Buy(name == "QQQ") within W, over a synthetic stock stream, W swept
// from 500 events' worth of time to 1h.

// w5Symbols are the stream's tickers; INTC, RIMM and QQQ are 1 in 20 each.
var w5Symbols = []string{"INTC", "RIMM", "QQQ", "AAPL", "MSFT", "ORCL", "CSCO", "GOOG", "AMZN", "YHOO",
	"DELL", "EBAY", "AMAT", "SIRI", "JAVA", "QCOM", "NVDA", "ADBE", "INTU", "XLNX"}

const (
	w5Events = 224_000
	w5Gap    = 100 * time.Millisecond // mean time between events: the stream spans about 6.2h
)

var w5Fields = []event.Field{{Name: "name", Type: event.String}, {Name: "price", Type: event.Float}, {Name: "volume", Type: event.Int}, {Name: "at", Type: event.Time}}

// w5Stream is the seeded stock stream: Sell and Buy (type ids 0 and 1)
// half and half, tickers uniform, gaps uniform in [0, 2·w5Gap) (integral
// milliseconds). Times start at 0; span is the stream's length in time.
func w5Stream() (evs []event.Event, span int64) {
	r := rand.New(rand.NewPCG(5, 224))
	evs = make([]event.Event, w5Events)
	t := int64(0)
	for i := range evs {
		t += int64(r.IntN(2*int(w5Gap/time.Millisecond))) * int64(time.Millisecond)
		evs[i] = event.Event{Type: int32(r.IntN(2)), Time: t, Fields: []event.Value{
			event.StringValue(w5Symbols[r.IntN(len(w5Symbols))]), event.FloatValue(10 + 90*r.Float64()),
			event.IntValue(int64(100 * (1 + r.IntN(50)))), event.TimeValue(t)}}
	}
	return evs, t + int64(w5Gap)
}

func w5Builder() *Builder {
	b := NewBuilder()
	for _, name := range []string{"Sell", "Buy"} {
		td := b.Event(name)
		for _, f := range w5Fields {
			td.Field(f.Name, f.Type)
		}
		td.Time("at")
	}
	return b
}

// w5Match is the W5 pattern with within w and the skip strategy given.
func w5Match(tb testing.TB, w time.Duration, skip pattern.SkipKind, count bool) PatternMatch {
	env := eval.NewEnv()
	env.Event(event.NewSchema("Stock", w5Fields, "at", 0))
	name := func(sym string) *eval.Program {
		p, err := eval.Compile(`name == "`+sym+`"`, env, eval.ExpectBool(), eval.NoAggregates())
		if err != nil {
			tb.Fatal(err)
		}
		return p
	}
	s := &pattern.Spec{
		Elements: []pattern.Element{
			{Name: "s", Cond: name("INTC"), Local: true, Min: 1, Max: 1, Slot: 0},
			{Name: "b", Cond: name("RIMM"), Local: true, Min: 1, Max: 1, Slot: 1},
			{Name: "q", Cond: name("QQQ"), Local: true, Min: 1, Max: 1, Slot: 2},
		},
		Root: pattern.Node{Kind: pattern.NodeSequence, Children: []pattern.Node{
			{Kind: pattern.NodeElement, Element: 0}, {Kind: pattern.NodeElement, Element: 1, Edge: pattern.Any},
			{Kind: pattern.NodeElement, Element: 2, Edge: pattern.Any}}},
		Within: w, Skip: skip, Bound: 3, SkipTarget: -1,
	}
	return PatternMatch{Spec: s, Types: []string{"Sell", "Buy", "Buy"}, CountOnly: count,
		Aliases: []PatternAlias{{Name: "s", Type: "Sell", Slot: 0}, {Name: "b", Type: "Buy", Slot: 1}, {Name: "q", Type: "Buy", Slot: 2}}}
}

// w5Windows are the swept windows: 500, 2000 and 10000 events' worth of
// time, and 1h (about 36,000 events).
var w5Windows = []struct {
	name string
	w    time.Duration
}{{"500ev", 500 * w5Gap}, {"2000ev", 2000 * w5Gap}, {"10000ev", 10000 * w5Gap}, {"1h", time.Hour}}

// BenchmarkPatternW5 runs W5 through the engine over the 224k-event
// stream, repeated with shifted times; one op is one event:
//
//   - count: the counting rule (emit { n: count() }, skip none), the
//     number of matches per completing event;
//   - enumerate: every match (skip none) emitted with three fields, at
//     the smallest window only: the matches grow with the square of the
//     window (some 10,000 per event at 1h), and the enumerating matcher's
//     time per event with the partial matches (every one is advanced and
//     its condition evaluated at every event);
//   - enumerate-skip: the rule as usually written (the default skip past
//     last: after a match, the partial matches up to its last event go);
//   - handwritten: the count by hand, with no engine: per live INTC sell
//     the RIMM buys after it, from a running count and a queue of the
//     live sells with their running count and its sum.
func BenchmarkPatternW5(b *testing.B) {
	evs, span := w5Stream()
	run := func(b *testing.B, pm PatternMatch, fields ...Field) {
		bl := w5Builder()
		bl.Rule("w5").Match(pm).Emit("Match", fields...)
		m := mustBuild(b, bl).NewMatcher(Config{MaxPartials: 1 << 24})
		var matches float64
		count := pm.CountOnly
		if _, err := m.Subscribe("Match", func(d *Derived) {
			if count {
				matches += float64(d.Event.Fields[0].Int())
			} else {
				matches++
			}
		}); err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		i := 0
		var e event.Event
		for b.Loop() {
			src := &evs[i%len(evs)]
			e = *src
			t := int64(i/len(evs))*span + src.Time
			e.Time = t
			e.Fields = append(e.Fields[:0], src.Fields...)
			e.Fields[3] = event.TimeValue(t)
			m.Process(&e)
			i++
		}
		b.ReportMetric(matches/float64(i), "matches/event")
		b.ReportMetric(float64(i)/b.Elapsed().Seconds(), "events/s")
	}
	for _, win := range w5Windows {
		b.Run("count/W="+win.name, func(b *testing.B) {
			run(b, w5Match(b, win.w, pattern.SkipNone, true), Field{Name: "n", Expr: "count()"})
		})
		if win.w <= 500*w5Gap {
			b.Run("enumerate/W="+win.name, func(b *testing.B) {
				run(b, w5Match(b, win.w, pattern.SkipNone, false),
					Field{Name: "sell", Expr: "s.price"}, Field{Name: "buy", Expr: "b.price"}, Field{Name: "qqq", Expr: "q.price"})
			})
		}
		b.Run("enumerate-skip/W="+win.name, func(b *testing.B) {
			run(b, w5Match(b, win.w, pattern.SkipPastLast, false),
				Field{Name: "sell", Expr: "s.price"}, Field{Name: "buy", Expr: "b.price"}, Field{Name: "qqq", Expr: "q.price"})
		})
		b.Run("handwritten/W="+win.name, func(b *testing.B) {
			type live struct{ t, r int64 }
			var q []live
			var rimm, sumR int64
			var matches float64
			w := int64(win.w)
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				src := &evs[i%len(evs)]
				t := int64(i/len(evs))*span + src.Time
				j := 0
				for j < len(q) && q[j].t+w <= t {
					sumR -= q[j].r
					j++
				}
				if j > 0 {
					q = append(q[:0], q[j:]...)
				}
				name := src.Fields[0].Str()
				switch {
				case src.Type == 0 && name == "INTC":
					q = append(q, live{t: t, r: rimm})
					sumR += rimm
				case src.Type == 1 && name == "RIMM":
					rimm++
				case src.Type == 1 && name == "QQQ":
					matches += float64(int64(len(q))*rimm - sumR)
				}
				i++
			}
			b.ReportMetric(matches/float64(i), "matches/event")
			b.ReportMetric(float64(i)/b.Elapsed().Seconds(), "events/s")
		})
	}
}

// TestPatternW5_counts: on a prefix of the W5 stream, the counting rule's
// total equals the enumerating rule's number of matches, at two windows.
func TestPatternW5_counts(t *testing.T) {
	evs, _ := w5Stream()
	evs = evs[:6000]
	for _, w := range []time.Duration{500 * w5Gap, 1000 * w5Gap} {
		total := map[bool]int64{}
		for _, count := range []bool{true, false} {
			bl := w5Builder()
			fields := []Field{{Name: "n", Expr: "count()"}}
			if !count {
				fields = []Field{{Name: "n", Expr: "1"}}
			}
			bl.Rule("w5").Match(w5Match(t, w, pattern.SkipNone, count)).Emit("Match", fields...)
			m := mustBuild(t, bl).NewMatcher(Config{MaxPartials: 1 << 24})
			if _, err := m.Subscribe("Match", func(d *Derived) { total[count] += d.Event.Fields[0].Int() }); err != nil {
				t.Fatal(err)
			}
			for i := range evs {
				m.Process(&evs[i])
			}
			if err := m.Close(); err != nil {
				t.Fatal(err)
			}
		}
		if total[true] != total[false] || total[true] == 0 {
			t.Errorf("window %v: count() totals %d, enumerated matches %d", w, total[true], total[false])
		}
		t.Logf("window %v: %d matches in %d events", w, total[true], len(evs))
	}
}
