package engine

import (
	"fmt"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cepengine/cep/engine/event"
)

// Window workloads of BENCHMARKS.md (W2, W3, W9), each beside a
// hand-written Go loop doing the same job with no engine: a map from the
// key to a struct of slots, one lookup per event, the same algorithm, the
// same fields handed to a handler. Compare the ns/event of the
// sub-benchmarks of one run (benchstat over -count=10); "B/key" is the
// heap held per key after the run.
//
//	W2  VWAP per symbol: sliding count 1000, and sliding 1s (1000 events a
//	    key in the window), emit sum(px * vol) / sum(vol), every arrival.
//	W3  group-by running sum with having: the language has no unbounded
//	    window, so tumbling 1h (add-only, like a running aggregate; the
//	    window never closes during the run): sum(vol), having
//	    sum(vol) >= 1e8, evaluated at close.
//	W9  sliding 24h median per sensor (non-invertible): ~500 events a key
//	    in the window, percentile(px, 0.5) (exact).

// windowStream is a benchmark's input: keys round robin, times step apart.
type windowStream struct {
	evs  []event.Event
	step time.Duration
	now  int64
	i    int
}

func newWindowStream(keys int, step time.Duration) *windowStream {
	s := &windowStream{evs: make([]event.Event, keys), step: step, now: t0}
	for i := range s.evs {
		s.evs[i] = event.Event{Type: 0, Fields: []event.Value{
			event.StringValue("S" + strconv.Itoa(i)), event.FloatValue(0), event.IntValue(0), event.TimeValue(0)}}
	}
	return s
}

// next returns the next event: key i mod keys, price and volume varying.
func (s *windowStream) next() *event.Event {
	ev := &s.evs[s.i%len(s.evs)]
	s.i++
	s.now += int64(s.step)
	ev.Fields[1] = event.FloatValue(float64(s.i*7919%1000)/10 + 1)
	ev.Fields[2] = event.IntValue(int64(s.i%97 + 1))
	ev.Fields[3] = event.TimeValue(s.now)
	return ev
}

// benchEngine runs a one-rule program over the stream: warm-up (every
// window at its working size), then the measured loop, reporting ns/event
// and the heap held per key.
func benchEngine(b *testing.B, rule func(p *Builder), keys int, step time.Duration, warm int) {
	p := marketProgram(0)
	rule(p)
	g := mustBuild(b, p)
	base := heapInUse()
	m := g.NewMatcher(Config{})
	n := 0
	if _, err := m.Subscribe(AllDerived, func(d *Derived) { n++ }); err != nil {
		b.Fatal(err)
	}
	s := newWindowStream(keys, step)
	for range warm {
		m.Process(s.next())
	}
	perKey := float64(heapInUse()-base) / float64(keys)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		m.Process(s.next())
	}
	b.StopTimer()
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/event")
	b.ReportMetric(perKey, "B/key")
	runtime.KeepAlive(m)
	sink += n
}

// heapInUse returns the live heap after a collection.
func heapInUse() uint64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// vwapOut is what the baselines hand their handler: the fields of the
// engine's derived event.
type vwapOut struct {
	sym  string
	v    float64
	time int64
}

func BenchmarkWindowW2(b *testing.B) {
	const keys = 1000
	for _, c := range []struct {
		name   string
		window WindowSpec
	}{{"sliding_count_1000", SlidingCount(1000)}, {"sliding_1s", Sliding(time.Second)}} {
		b.Run(c.name+"/keys=1000/engine", func(b *testing.B) {
			benchEngine(b, func(p *Builder) {
				p.Rule("vwap").From("Market").PartitionBy("sym").Window(c.window).
					Emit("Vwap", Field{Name: "sym"}, Field{Name: "vwap", Expr: "sum(px * vol) / sum(vol)"})
			}, keys, time.Microsecond, 2*1000*keys)
		})
		b.Run(c.name+"/keys=1000/baseline", func(b *testing.B) {
			// Per symbol: a ring of the window's (time, px*vol, vol) and
			// two running sums; evict by count or by time, add, emit.
			type slot struct {
				t      []int64
				pv, v  []float64
				head   int
				n      int
				spv, s float64
			}
			base := heapInUse()
			state := map[string]*slot{}
			var o vwapOut
			n := 0
			handler := func(o *vwapOut) { n++ }
			s := newWindowStream(keys, time.Microsecond)
			byCount := c.window.Kind == WindowSlidingCount
			d := int64(c.window.Size)
			step := func() {
				ev := s.next()
				sym, px, vol, t := ev.Fields[0].Str(), ev.Fields[1].Float(), float64(ev.Fields[2].Int()), ev.Fields[3].Time()
				st := state[sym]
				if st == nil {
					st = &slot{t: make([]int64, 1024), pv: make([]float64, 1024), v: make([]float64, 1024)}
					state[strings.Clone(sym)] = st
				}
				for st.n > 0 && (byCount && st.n == 1000 || !byCount && st.t[st.head]+d <= t) {
					st.spv -= st.pv[st.head]
					st.s -= st.v[st.head]
					st.head = (st.head + 1) & 1023
					st.n--
				}
				i := (st.head + st.n) & 1023
				st.t[i], st.pv[i], st.v[i] = t, px*vol, vol
				st.n++
				st.spv += px * vol
				st.s += vol
				o.sym, o.v, o.time = sym, st.spv/st.s, t
				handler(&o)
			}
			for range 2 * 1000 * keys {
				step()
			}
			perKey := float64(heapInUse()-base) / float64(keys)
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				step()
			}
			b.StopTimer()
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/event")
			b.ReportMetric(perKey, "B/key")
			sink += n + len(state)
		})
	}
}

func BenchmarkWindowW3(b *testing.B) {
	for _, keys := range []int{1000, 100000} {
		name := fmt.Sprintf("tumbling_1h/keys=%d", keys)
		b.Run(name+"/engine", func(b *testing.B) {
			benchEngine(b, func(p *Builder) {
				p.Rule("groupby").From("Market").PartitionBy("sym").Window(Tumbling(time.Hour)).
					Having("sum(vol) >= 1e8").Emit("Total", Field{Name: "sym"}, Field{Name: "total", Expr: "sum(vol)"})
			}, keys, time.Microsecond, 2*keys)
		})
		b.Run(name+"/baseline", func(b *testing.B) {
			// Per key: a running sum (the window's end is checked per event,
			// as the engine's close would be).
			type slot struct {
				sum int64
				end int64
			}
			base := heapInUse()
			state := map[string]*slot{}
			var o vwapOut
			n := 0
			handler := func(o *vwapOut) { n++ }
			s := newWindowStream(keys, time.Microsecond)
			hour := int64(time.Hour)
			step := func() {
				ev := s.next()
				sym, vol, t := ev.Fields[0].Str(), ev.Fields[2].Int(), ev.Fields[3].Time()
				st := state[sym]
				if st == nil {
					st = &slot{}
					state[strings.Clone(sym)] = st
				}
				if st.end <= t {
					if st.sum >= 1e8 {
						o.sym, o.v, o.time = sym, float64(st.sum), st.end
						handler(&o)
					}
					st.sum, st.end = 0, t-t%hour+hour
				}
				st.sum += vol
			}
			for range 2 * keys {
				step()
			}
			perKey := float64(heapInUse()-base) / float64(keys)
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				step()
			}
			b.StopTimer()
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/event")
			b.ReportMetric(perKey, "B/key")
			sink += n + len(state)
		})
	}
}

func BenchmarkWindowW9(b *testing.B) {
	const keys = 1000
	// ~500 events per key in a 24h window: a key every 24h/500, so an
	// event every 24h/500/keys.
	step := 24 * time.Hour / 500 / keys
	b.Run("sliding_24h_median/keys=1000/engine", func(b *testing.B) {
		benchEngine(b, func(p *Builder) {
			p.Rule("median").From("Market").PartitionBy("sym").Window(Sliding(24*time.Hour)).
				Emit("Median", Field{Name: "sym"}, Field{Name: "median", Expr: "percentile(px, 0.5)"})
		}, keys, step, 2*500*keys)
	})
	b.Run("sliding_24h_median/keys=1000/baseline", func(b *testing.B) {
		// Per sensor: the window's events in arrival order (a ring of
		// time and value) and its values sorted (insert and remove by
		// binary search and memmove), the median read at rank.
		type slot struct {
			t      []int64
			x      []float64
			head   int
			n      int
			sorted []float64
		}
		base := heapInUse()
		state := map[string]*slot{}
		var o vwapOut
		n := 0
		handler := func(o *vwapOut) { n++ }
		s := newWindowStream(keys, step)
		d := int64(24 * time.Hour)
		stepFn := func() {
			ev := s.next()
			sym, px, t := ev.Fields[0].Str(), ev.Fields[1].Float(), ev.Fields[3].Time()
			st := state[sym]
			if st == nil {
				st = &slot{t: make([]int64, 1024), x: make([]float64, 1024), sorted: make([]float64, 0, 1024)}
				state[strings.Clone(sym)] = st
			}
			for st.n > 0 && st.t[st.head]+d <= t {
				x := st.x[st.head]
				j := sort.SearchFloat64s(st.sorted, x)
				st.sorted = slices.Delete(st.sorted, j, j+1)
				st.head = (st.head + 1) & 1023
				st.n--
			}
			i := (st.head + st.n) & 1023
			st.t[i], st.x[i] = t, px
			st.n++
			j := sort.SearchFloat64s(st.sorted, px)
			st.sorted = slices.Insert(st.sorted, j, px)
			k := (len(st.sorted) + 1) / 2 // nearest rank of q = 0.5
			o.sym, o.v, o.time = sym, st.sorted[k-1], t
			handler(&o)
		}
		for range 2 * 500 * keys {
			stepFn()
		}
		perKey := float64(heapInUse()-base) / float64(keys)
		b.ReportAllocs()
		b.ResetTimer()
		for b.Loop() {
			stepFn()
		}
		b.StopTimer()
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/event")
		b.ReportMetric(perKey, "B/key")
		sink += n + len(state)
	})
}
