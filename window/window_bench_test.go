package window

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"sort"
	"testing"
)

// Benchmarks of the per-event cost of sliding windows against hand-written
// loops that do the same job with no generality, in the same run; and of
// the memory one window instance (one key) holds.
//
//	go test ./window -run '^$' -bench . -benchtime 200000x

var benchSink float64 // keeps results alive

// engineSink reads the aggregates the way the engine will: every emission,
// every aggregate.
type engineSink struct {
	n   int
	sum float64
}

func (s *engineSink) Emit(r Result[int]) {
	for i := range r.acc.aggs.Len() {
		v, _ := r.Float(i)
		s.sum += v
	}
	s.n++
}

func benchValues() []float64 {
	rng := rand.New(rand.NewPCG(1, 1))
	xs := make([]float64, 4096)
	for i := range xs {
		xs[i] = rng.Float64() * 100
	}
	return xs
}

// 60 ms between events: 1000 events in 60 s. Each arrival also expires the
// event of 60 s before, at the same instant: one emission per event.
const benchStep = int64(60e6)

func reportPerEvent(b *testing.B) {
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/event")
}

// handRing is the hand-written baseline for a sliding count/avg by time:
// parallel rings of times and values, a running sum, expiry on insert.
type handRing struct {
	ts   []int64
	xs   []float64
	head int
	n    int
	sum  float64
}

// insert expires, then adds x, and returns the result.
func (h *handRing) insert(ts int64, x float64, d int64) (int, float64) {
	for h.n > 0 && h.ts[h.head]+d <= ts {
		h.sum -= h.xs[h.head]
		h.head = (h.head + 1) & (len(h.ts) - 1)
		h.n--
	}
	i := (h.head + h.n) & (len(h.ts) - 1)
	h.ts[i], h.xs[i] = ts, x
	h.n++
	h.sum += x
	return h.n, h.sum / float64(h.n)
}

func BenchmarkSliding(b *testing.B) {
	xs := benchValues()
	const d = 60e9
	b.Run("agg=count_avg/impl=window", func(b *testing.B) {
		aggs, _ := NewAggs[int]([]AggSpec{{Op: OpCount}, {Op: OpAvg}}, nil)
		w, _ := NewSliding(aggs, d)
		sink := &engineSink{}
		row := Row[int]{Num: make([]float64, 1)}
		ts := int64(0)
		b.ReportAllocs()
		for b.Loop() {
			ts += benchStep
			row.Num[0] = xs[ts/benchStep&4095]
			_ = w.Insert(ts, row, sink)
		}
		benchSink = sink.sum
		reportPerEvent(b)
	})
	b.Run("agg=count_avg/impl=handwritten", func(b *testing.B) {
		h := &handRing{ts: make([]int64, 2048), xs: make([]float64, 2048)}
		ts := int64(0)
		var acc float64
		b.ReportAllocs()
		for b.Loop() {
			ts += benchStep
			n, avg := h.insert(ts, xs[ts/benchStep&4095], d)
			acc += float64(n) + avg
		}
		benchSink = acc
		reportPerEvent(b)
	})
	b.Run("agg=min_max/impl=window", func(b *testing.B) {
		aggs, _ := NewAggs[int]([]AggSpec{{Op: OpMin}, {Op: OpMax}}, nil)
		w, _ := NewSliding(aggs, d)
		sink := &engineSink{}
		row := Row[int]{Num: make([]float64, 1)}
		ts := int64(0)
		b.ReportAllocs()
		for b.Loop() {
			ts += benchStep
			row.Num[0] = xs[ts/benchStep&4095]
			_ = w.Insert(ts, row, sink)
		}
		benchSink = sink.sum
		reportPerEvent(b)
	})
	b.Run("agg=min_max/impl=handwritten", func(b *testing.B) {
		// Two monotonic deques of (time, value) on fixed power-of-two rings.
		type ent struct {
			ts int64
			x  float64
		}
		const mask = 2047
		var mn, mx [2048]ent
		var mnH, mnN, mxH, mxN int
		ts := int64(0)
		var acc float64
		b.ReportAllocs()
		for b.Loop() {
			ts += benchStep
			x := xs[ts/benchStep&4095]
			for mnN > 0 && mn[mnH].ts+d <= ts {
				mnH, mnN = (mnH+1)&mask, mnN-1
			}
			for mxN > 0 && mx[mxH].ts+d <= ts {
				mxH, mxN = (mxH+1)&mask, mxN-1
			}
			for mnN > 0 && mn[(mnH+mnN-1)&mask].x >= x {
				mnN--
			}
			for mxN > 0 && mx[(mxH+mxN-1)&mask].x <= x {
				mxN--
			}
			mn[(mnH+mnN)&mask] = ent{ts, x}
			mnN++
			mx[(mxH+mxN)&mask] = ent{ts, x}
			mxN++
			acc += mn[mnH].x + mx[mxH].x
		}
		benchSink = acc
		reportPerEvent(b)
	})
	b.Run("agg=min_max/impl=rescan", func(b *testing.B) {
		// The naive O(window) rescan, to show what the deque saves.
		h := &handRing{ts: make([]int64, 2048), xs: make([]float64, 2048)}
		ts := int64(0)
		var acc float64
		b.ReportAllocs()
		for b.Loop() {
			ts += benchStep
			h.insert(ts, xs[ts/benchStep&4095], d)
			lo, hi := h.xs[h.head], h.xs[h.head]
			for j := 1; j < h.n; j++ {
				x := h.xs[(h.head+j)&2047]
				lo, hi = min(lo, x), max(hi, x)
			}
			acc += lo + hi
		}
		benchSink = acc
		reportPerEvent(b)
	})
	for _, n := range []int{1000, 20000} {
		b.Run(fmt.Sprintf("agg=median/events=%d/impl=window", n), func(b *testing.B) {
			aggs, _ := NewAggs[int]([]AggSpec{{Op: OpPercentile, Q: 0.5}}, nil)
			w, _ := NewCountSliding(aggs, n)
			sink := &engineSink{}
			row := Row[int]{Num: make([]float64, 1)}
			ts := int64(0)
			b.ReportAllocs()
			for b.Loop() {
				ts++
				row.Num[0] = xs[ts&4095] + float64(ts&7)/8
				_ = w.Insert(ts, row, sink)
			}
			benchSink = sink.sum
			reportPerEvent(b)
		})
		b.Run(fmt.Sprintf("agg=median/events=%d/impl=handwritten_sorted", n), func(b *testing.B) {
			// Exact: a FIFO of values and a sorted slice, binary search and
			// memmove on insert and remove.
			fifo := make([]float64, 0, n)
			sorted := make([]float64, 0, n)
			ts := int64(0)
			var acc float64
			b.ReportAllocs()
			for b.Loop() {
				ts++
				x := xs[ts&4095] + float64(ts&7)/8
				if len(fifo) == n {
					old := fifo[0]
					fifo = append(fifo[:0], fifo[1:]...)
					i := sort.SearchFloat64s(sorted, old)
					sorted = append(sorted[:i], sorted[i+1:]...)
				}
				fifo = append(fifo, x)
				i := sort.SearchFloat64s(sorted, x)
				sorted = append(sorted, 0)
				copy(sorted[i+1:], sorted[i:])
				sorted[i] = x
				acc += sorted[(len(sorted)-1)/2]
			}
			benchSink = acc
			reportPerEvent(b)
		})
	}
}

// BenchmarkCountSliding: the last 1000 events, count and avg.
func BenchmarkCountSliding(b *testing.B) {
	xs := benchValues()
	b.Run("agg=count_avg/impl=window", func(b *testing.B) {
		aggs, _ := NewAggs[int]([]AggSpec{{Op: OpCount}, {Op: OpAvg}}, nil)
		w, _ := NewCountSliding(aggs, 1000)
		sink := &engineSink{}
		row := Row[int]{Num: make([]float64, 1)}
		ts := int64(0)
		b.ReportAllocs()
		for b.Loop() {
			ts++
			row.Num[0] = xs[ts&4095]
			_ = w.Insert(ts, row, sink)
		}
		benchSink = sink.sum
		reportPerEvent(b)
	})
	b.Run("agg=count_avg/impl=handwritten", func(b *testing.B) {
		var ring [1000]float64
		var head, n int
		var sum, acc float64
		ts := int64(0)
		b.ReportAllocs()
		for b.Loop() {
			ts++
			x := xs[ts&4095]
			if n == len(ring) {
				sum -= ring[head]
				ring[head] = x
				head++
				if head == len(ring) {
					head = 0
				}
			} else {
				ring[n] = x
				n++
			}
			sum += x
			acc += float64(n) + sum/float64(n)
		}
		benchSink = acc
		reportPerEvent(b)
	})
}

// BenchmarkRunning: a running sum per key (W3's shape, without the map),
// through Acc against a float64 +=.
func BenchmarkRunning(b *testing.B) {
	xs := benchValues()
	b.Run("agg=count_sum/impl=acc", func(b *testing.B) {
		aggs, _ := NewAggs[int]([]AggSpec{{Op: OpCount}, {Op: OpSum}}, nil)
		acc := NewAcc(aggs)
		row := Row[int]{Num: make([]float64, 1)}
		var sum float64
		i := 0
		b.ReportAllocs()
		for b.Loop() {
			i++
			row.Num[0] = xs[i&4095]
			_ = acc.Add(row)
			v, _ := acc.Float(1)
			sum += v
		}
		benchSink = sum
		reportPerEvent(b)
	})
	b.Run("agg=count_sum/impl=handwritten", func(b *testing.B) {
		var n, s, sum float64
		i := 0
		b.ReportAllocs()
		for b.Loop() {
			i++
			n++
			s += xs[i&4095]
			sum += s
		}
		benchSink = sum + n
		reportPerEvent(b)
	})
}

// BenchmarkMemoryPerKey measures the heap bytes one window instance (one
// key) holds with a few events, over 10000 instances, and reports them as
// B/key beside the SizeBytes estimate. The timed loop creates and fills one
// instance per iteration.
func BenchmarkMemoryPerKey(b *testing.B) {
	const keys = 10000
	countAvg, _ := NewAggs[int]([]AggSpec{{Op: OpCount}, {Op: OpAvg}}, nil)
	vwap, _ := NewAggs[int]([]AggSpec{{Op: OpSum, Arg: 0}, {Op: OpSum, Arg: 1}}, nil)
	minMax, _ := NewAggs[int]([]AggSpec{{Op: OpCount}, {Op: OpMin}, {Op: OpMax}}, nil)
	cases := []struct {
		name   string
		events int
		build  func() Window[int]
	}{
		{"tumbling/count_avg/events=10", 10, func() Window[int] { w, _ := NewTumbling(countAvg, 1e12); return w }},
		{"session/count_avg/events=10", 10, func() Window[int] { w, _ := NewSession(countAvg, 1e12); return w }},
		{"hopping_5/count_avg/events=10", 10, func() Window[int] { w, _ := NewHopping(countAvg, 5e12, 1e12); return w }},
		{"sliding/count_avg/events=0", 0, func() Window[int] { w, _ := NewSliding(countAvg, 1e12); return w }},
		{"sliding/count_avg/events=1", 1, func() Window[int] { w, _ := NewSliding(countAvg, 1e12); return w }},
		{"sliding/count_avg/events=10", 10, func() Window[int] { w, _ := NewSliding(countAvg, 1e12); return w }},
		{"sliding/vwap_2sums/events=10", 10, func() Window[int] { w, _ := NewSliding(vwap, 1e12); return w }},
		{"sliding/count_min_max/events=10", 10, func() Window[int] { w, _ := NewSliding(minMax, 1e12); return w }},
		{"sliding/count_avg/events=1000", 1000, func() Window[int] { w, _ := NewSliding(countAvg, 1e12); return w }},
		{"count_sliding_100/count_avg/events=100", 100, func() Window[int] { w, _ := NewCountSliding(countAvg, 100); return w }},
	}
	row := Row[int]{Num: []float64{1, 2}}
	fill := func(w Window[int], events int) {
		for i := range events {
			_ = w.Insert(int64(i), row, nil)
		}
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				fill(c.build(), c.events)
			}
			ws := make([]Window[int], keys)
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			for i := range ws {
				ws[i] = c.build()
				fill(ws[i], c.events)
			}
			runtime.GC()
			runtime.ReadMemStats(&after)
			b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/keys, "B/key")
			b.ReportMetric(float64(ws[0].SizeBytes()), "est-B/key")
			runtime.KeepAlive(ws)
		})
	}
}
