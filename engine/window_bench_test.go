package engine

import (
	"fmt"
	"math/rand/v2"
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
// sub-benchmarks of one run (benchstat over -count=6 or more); "B/key" is
// the heap held per key after the warm-up (keys: those the stream uses).
//
//	W2  VWAP per symbol, emit sum(px * vol) / sum(vol) on every arrival
//	    (and, for time windows, at every expiry instant with no arrival,
//	    which the baseline finds in a queue of all events in arrival
//	    order): sliding count 1000 and sliding 1s (1000 events a key in the
//	    window) over 1K keys; sliding count 10 and sliding 10s (10 events a
//	    key) over 10K and 1M keys.
//	W3  group-by running sum with having: the language has no unbounded
//	    window, so tumbling 1h (add-only, like a running aggregate; the
//	    window never closes during the run): sum(vol), having
//	    sum(vol) >= 1e8, evaluated at close. 1K, 10K and 1M keys.
//	W9  sliding 24h median per sensor (non-invertible): ~500 events a key
//	    in the window, percentile(px, 0.5) (exact).
//
// Keys are drawn uniformly or Zipf(1.1) distributed, with a fixed seed,
// before the run (the draw is not timed); both sides read the same
// sequence. Event times step evenly, so that a time window holds on
// average the stated events per key.

// keyStream is the benchmarks' key data: the key strings and the sequence
// of key indices, shared by the engine and the baseline of a case.
type keyStream struct {
	syms []string
	seq  []int32 // length a power of two
	used int     // distinct keys in seq
}

var keyStreams = map[string]*keyStream{}

// keysOf returns the key stream of keys keys drawn from dist ("uniform",
// "zipf" for Zipf(1.1)): at least 4 draws a key, at least 2^20.
func keysOf(keys int, dist string) *keyStream {
	name := fmt.Sprint(keys, dist)
	if s := keyStreams[name]; s != nil {
		return s
	}
	s := &keyStream{syms: make([]string, keys)}
	for i := range s.syms {
		s.syms[i] = "S" + strconv.Itoa(i)
	}
	n := 1 << 20
	for n < 4*keys {
		n *= 2
	}
	r := rand.New(rand.NewPCG(1, uint64(keys)))
	z := rand.NewZipf(r, 1.1, 1, uint64(keys-1))
	// The Zipf ranks are permuted, so that the hot keys are not the
	// first ones created.
	perm := r.Perm(keys)
	seen := make([]bool, keys)
	s.seq = make([]int32, n)
	for i := range s.seq {
		k := r.IntN(keys)
		if dist == "zipf" {
			k = perm[z.Uint64()]
		}
		s.seq[i] = int32(k)
		if !seen[k] {
			seen[k] = true
			s.used++
		}
	}
	keyStreams[name] = s
	return s
}

// windowStream is a benchmark's input: one event, reused, its key drawn
// from the key stream, times step apart.
type windowStream struct {
	ev   event.Event
	ks   *keyStream
	step int64
	now  int64
	i    int
}

func newWindowStream(ks *keyStream, step time.Duration) *windowStream {
	return &windowStream{ks: ks, step: int64(step), now: t0, ev: event.Event{Fields: make([]event.Value, 4)}}
}

// next returns the next event: the next key of the stream, price and
// volume varying.
func (s *windowStream) next() *event.Event {
	k := s.ks.seq[s.i&(len(s.ks.seq)-1)]
	s.i++
	s.now += s.step
	f := s.ev.Fields[:4]
	f[0] = event.StringValue(s.ks.syms[k])
	f[1] = event.FloatValue(float64(s.i*7919%1000)/10 + 1)
	f[2] = event.IntValue(int64(s.i%97 + 1))
	f[3] = event.TimeValue(s.now)
	return &s.ev
}

// measureLoop is the timed loop of every window benchmark, a function of
// its own so that callgrind can count its instructions alone
// (--toggle-collect='*measureLoop*').
//
//go:noinline
func measureLoop(b *testing.B, step func()) {
	for b.Loop() {
		step()
	}
}

// runWindowBench warms up (every window at its working size, every key
// seen), then measures step, reporting ns/event and the heap held per key.
func runWindowBench(b *testing.B, ks *keyStream, warm int, setup func() (step func(), done func())) {
	base := heapInUse()
	step, done := setup()
	for range max(warm, len(ks.seq)) {
		step()
	}
	perKey := float64(heapInUse()-base) / float64(ks.used)
	b.ReportAllocs()
	b.ResetTimer()
	measureLoop(b, step)
	b.StopTimer()
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/event")
	b.ReportMetric(perKey, "B/key")
	done()
}

// benchEngine runs a one-rule program over the stream.
func benchEngine(b *testing.B, rule func(p *Builder), ks *keyStream, step time.Duration, warm int) {
	runWindowBench(b, ks, warm, func() (func(), func()) { return engineStep(b, rule, ks, step) })
}

// engineStep returns the step of a matcher running a one-rule program
// over the stream (one event a call, its derived events counted by a
// subscriber), and what ends the run.
func engineStep(b testing.TB, rule func(p *Builder), ks *keyStream, step time.Duration) (func(), func()) {
	p := marketProgram(0)
	rule(p)
	m := mustBuild(b, p).NewMatcher(Config{})
	n := 0
	if _, err := m.Subscribe(AllDerived, func(d *Derived) { n++ }); err != nil {
		b.Fatal(err)
	}
	s := newWindowStream(ks, step)
	return func() { m.Process(s.next()) }, func() {
		runtime.KeepAlive(m)
		sink += n
	}
}

// runPaired measures the engine and its hand-written loop in one
// process, in alternating chunks of events (each b.Loop iteration one
// chunk of each, the order alternating), after warming both up: the
// ratio of each pair of chunks is measured under the same conditions of
// the machine, where separate runs on a shared one differ by up to 3x in
// the loop's own time. It reports the median of the chunks' ratios
// ("ratio"), and the ns/event of each side over the whole run.
func runPaired(b *testing.B, warm int, engine, loop func() (func(), func())) {
	estep, edone := engine()
	lstep, ldone := loop()
	for range warm {
		estep()
		lstep()
	}
	const chunk = 50000
	var ratios []float64
	var te, tl time.Duration
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		run := func(step func()) time.Duration {
			t0 := time.Now()
			pairedChunk(step, chunk)
			return time.Since(t0)
		}
		var e, l time.Duration
		if i%2 == 0 {
			e, l = run(estep), run(lstep)
		} else {
			l, e = run(lstep), run(estep)
		}
		te, tl = te+e, tl+l
		ratios = append(ratios, float64(e)/float64(l))
	}
	b.StopTimer()
	slices.Sort(ratios)
	b.ReportMetric(ratios[len(ratios)/2], "ratio")
	b.ReportMetric(float64(te.Nanoseconds())/float64(chunk*len(ratios)), "engine-ns/event")
	b.ReportMetric(float64(tl.Nanoseconds())/float64(chunk*len(ratios)), "loop-ns/event")
	edone()
	ldone()
}

// pairedChunk runs n steps; a function of its own, as measureLoop.
//
//go:noinline
func pairedChunk(step func(), n int) {
	for range n {
		step()
	}
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

// vwapEntry is an event in a baseline's window: its time and the two
// summed values.
type vwapEntry struct {
	t     int64
	pv, v float64
}

// vwapSlot is a baseline's state of one key: a growable ring of the
// window's entries and the two running sums.
type vwapSlot struct {
	ring   []vwapEntry // length a power of two
	head   int
	n      int
	seq0   uint64 // sequence number of the oldest entry
	spv, s float64
	sym    string // the key, owned
}

// expiry is an entry of a time baseline's expiry queue: every event of
// every window in arrival order (all windows have one length, so that is
// expiry order), to emit at the expiry instants with no arrival, as the
// engine does, with the key (in the queue, read in order, not in the
// slot: the cheapest place for the loop).
type expiry struct {
	at  int64
	st  *vwapSlot
	seq uint64
	sym string
}

// expiryQueue is a growable FIFO ring of expiries.
type expiryQueue struct {
	ring []expiry
	head int
	n    int
}

func (q *expiryQueue) push(e expiry) {
	if q.n == len(q.ring) {
		nr := make([]expiry, max(1024, 2*len(q.ring)))
		for j := range q.n {
			nr[j] = q.ring[(q.head+j)&(len(q.ring)-1)]
		}
		q.ring, q.head = nr, 0
	}
	q.ring[(q.head+q.n)&(len(q.ring)-1)] = e
	q.n++
}

func (st *vwapSlot) push(e vwapEntry) {
	if st.n == len(st.ring) {
		nr := make([]vwapEntry, max(4, 2*len(st.ring)))
		for j := range st.n {
			nr[j] = st.ring[(st.head+j)&(len(st.ring)-1)]
		}
		st.ring, st.head = nr, 0
	}
	st.ring[(st.head+st.n)&(len(st.ring)-1)] = e
	st.n++
}

func BenchmarkWindowW2(b *testing.B) {
	for _, c := range []struct {
		window WindowSpec
		keys   int
		step   time.Duration
	}{
		{SlidingCount(1000), 1000, time.Microsecond},
		{Sliding(time.Second), 1000, time.Microsecond},
		{SlidingCount(10), 10000, time.Second / 10000},
		{Sliding(10 * time.Second), 10000, time.Second / 10000},
		{SlidingCount(10), 1000000, time.Second / 1000000},
		{Sliding(10 * time.Second), 1000000, time.Second / 1000000},
	} {
		for _, dist := range []string{"uniform", "zipf"} {
			perKey := 10
			if c.keys == 1000 {
				perKey = 1000
			}
			warm := 2*perKey*c.keys + c.keys
			name := fmt.Sprintf("%s/keys=%d/%s", strings.ReplaceAll(c.window.String(), " ", "_"), c.keys, dist)
			b.Run(name+"/engine", func(b *testing.B) {
				benchEngine(b, w2Rule(c.window), keysOf(c.keys, dist), c.step, warm)
			})
			b.Run(name+"/baseline", func(b *testing.B) {
				ks := keysOf(c.keys, dist)
				runWindowBench(b, ks, warm, func() (func(), func()) {
					return w2Loop(ks, c.window, c.step)
				})
			})
		}
	}
}

// w2Rule is W2's rule over window: VWAP per symbol.
func w2Rule(window WindowSpec) func(p *Builder) {
	return func(p *Builder) {
		p.Rule("vwap").From("Market").PartitionBy("sym").Window(window).
			Emit("Vwap", Field{Name: "sym"}, Field{Name: "vwap", Expr: "sum(px * vol) / sum(vol)"})
	}
}

// w2Loop is W2's hand-written loop: per symbol a ring of the window's
// (time, px*vol, vol) and two running sums; evict by count or by time,
// add, emit. It returns the step and what ends the run.
func w2Loop(ks *keyStream, window WindowSpec, step time.Duration) (func(), func()) {
	byCount := window.Kind == WindowSlidingCount
	count, d := window.Count, int64(window.Size)
	state := map[string]*vwapSlot{}
	var o vwapOut
	n := 0
	handler := func(o *vwapOut) { n++ }
	s := newWindowStream(ks, step)
	var q expiryQueue
	evict := func(st *vwapSlot) {
		e := &st.ring[st.head]
		st.spv -= e.pv
		st.s -= e.v
		st.head = (st.head + 1) & (len(st.ring) - 1)
		st.n--
		st.seq0++
	}
	return func() {
			ev := s.next()
			sym, px, vol, t := ev.Fields[0].Str(), ev.Fields[1].Float(), float64(ev.Fields[2].Int()), ev.Fields[3].Time()
			// Expiry instants before t, one emission each per key (those
			// at t fold into an arrival at t).
			for q.n > 0 && q.ring[q.head].at < t {
				e := q.ring[q.head]
				q.head = (q.head + 1) & (len(q.ring) - 1)
				q.n--
				if st := e.st; e.seq >= st.seq0 { // not evicted by an arrival yet
					for st.n > 0 && st.ring[st.head].t+d <= e.at {
						evict(st)
					}
					o.sym, o.v, o.time = e.sym, st.spv/st.s, e.at
					handler(&o)
				}
			}
			st := state[sym]
			if st == nil {
				st = &vwapSlot{sym: strings.Clone(sym)}
				state[st.sym] = st
			}
			for st.n > 0 && (byCount && st.n == count || !byCount && st.ring[st.head].t+d <= t) {
				evict(st)
			}
			st.push(vwapEntry{t, px * vol, vol})
			if !byCount {
				q.push(expiry{t + d, st, st.seq0 + uint64(st.n) - 1, st.sym})
			}
			st.spv += px * vol
			st.s += vol
			o.sym, o.v, o.time = sym, st.spv/st.s, t
			handler(&o)
		}, func() {
			sink += n + len(state)
		}
}

// BenchmarkWindowW2Paired runs W2's cases at 10K keys as runPaired does:
// engine and loop in alternating chunks of one process, the ratio of each
// pair reported (median). Run it with -benchtime=Nx: N pairs of chunks.
func BenchmarkWindowW2Paired(b *testing.B) {
	for _, window := range []WindowSpec{SlidingCount(10), Sliding(10 * time.Second)} {
		for _, dist := range []string{"uniform", "zipf"} {
			const keys = 10000
			step := time.Second / keys
			name := fmt.Sprintf("%s/keys=%d/%s", strings.ReplaceAll(window.String(), " ", "_"), keys, dist)
			b.Run(name, func(b *testing.B) {
				ks := keysOf(keys, dist)
				runPaired(b, max(2*10*keys+keys, len(ks.seq)), func() (func(), func()) {
					return engineStep(b, w2Rule(window), ks, step)
				}, func() (func(), func()) { return w2Loop(ks, window, step) })
			})
		}
	}
}

func BenchmarkWindowW3(b *testing.B) {
	for _, keys := range []int{1000, 10000, 1000000} {
		for _, dist := range []string{"uniform", "zipf"} {
			name := fmt.Sprintf("tumbling_1h/keys=%d/%s", keys, dist)
			b.Run(name+"/engine", func(b *testing.B) {
				benchEngine(b, func(p *Builder) {
					p.Rule("groupby").From("Market").PartitionBy("sym").Window(Tumbling(time.Hour)).
						Having("sum(vol) >= 1e8").Emit("Total", Field{Name: "sym"}, Field{Name: "total", Expr: "sum(vol)"})
				}, keysOf(keys, dist), time.Microsecond, 2*keys)
			})
			b.Run(name+"/baseline", func(b *testing.B) {
				// Per key: a running sum (the window's end is checked per
				// event, as the engine's close would be).
				type slot struct {
					sum int64
					end int64
				}
				ks := keysOf(keys, dist)
				runWindowBench(b, ks, 2*keys, func() (func(), func()) {
					state := map[string]*slot{}
					var o vwapOut
					n := 0
					handler := func(o *vwapOut) { n++ }
					s := newWindowStream(ks, time.Microsecond)
					hour := int64(time.Hour)
					return func() {
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
						}, func() {
							sink += n + len(state)
						}
				})
			})
		}
	}
}

func BenchmarkWindowW9(b *testing.B) {
	const keys = 1000
	// ~500 events per key in a 24h window: a key every 24h/500, so an
	// event every 24h/500/keys.
	step := 24 * time.Hour / 500 / keys
	warm := 2 * 500 * keys
	b.Run("sliding_24h_median/keys=1000/uniform/engine", func(b *testing.B) {
		benchEngine(b, func(p *Builder) {
			p.Rule("median").From("Market").PartitionBy("sym").Window(Sliding(24*time.Hour)).
				Emit("Median", Field{Name: "sym"}, Field{Name: "median", Expr: "percentile(px, 0.5)"})
		}, keysOf(keys, "uniform"), step, warm)
	})
	b.Run("sliding_24h_median/keys=1000/uniform/baseline", func(b *testing.B) {
		// Per sensor: the window's events in arrival order (a ring of
		// time and value) and its values sorted (insert and remove by
		// binary search and memmove), the median read at rank.
		type entry struct {
			t int64
			x float64
		}
		type slot struct {
			ring   []entry
			head   int
			n      int
			sorted []float64
		}
		ks := keysOf(keys, "uniform")
		runWindowBench(b, ks, warm, func() (func(), func()) {
			state := map[string]*slot{}
			var o vwapOut
			n := 0
			handler := func(o *vwapOut) { n++ }
			s := newWindowStream(ks, step)
			d := int64(24 * time.Hour)
			return func() {
					ev := s.next()
					sym, px, t := ev.Fields[0].Str(), ev.Fields[1].Float(), ev.Fields[3].Time()
					st := state[sym]
					if st == nil {
						st = &slot{}
						state[strings.Clone(sym)] = st
					}
					for st.n > 0 && st.ring[st.head].t+d <= t {
						x := st.ring[st.head].x
						j := sort.SearchFloat64s(st.sorted, x)
						st.sorted = slices.Delete(st.sorted, j, j+1)
						st.head = (st.head + 1) & (len(st.ring) - 1)
						st.n--
					}
					if st.n == len(st.ring) {
						nr := make([]entry, max(4, 2*len(st.ring)))
						for j := range st.n {
							nr[j] = st.ring[(st.head+j)&(len(st.ring)-1)]
						}
						st.ring, st.head = nr, 0
					}
					st.ring[(st.head+st.n)&(len(st.ring)-1)] = entry{t, px}
					st.n++
					j := sort.SearchFloat64s(st.sorted, px)
					st.sorted = slices.Insert(st.sorted, j, px)
					k := (len(st.sorted) + 1) / 2 // nearest rank of q = 0.5
					o.sym, o.v, o.time = sym, st.sorted[k-1], t
					handler(&o)
				}, func() {
					sink += n + len(state)
				}
		})
	})
}
