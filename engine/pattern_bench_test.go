package engine

import (
	"flag"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/cepengine/cep/engine/eval"
	"github.com/cepengine/cep/engine/event"
	"github.com/cepengine/cep/engine/pattern"
)

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

// w4Graph is the W4 rule through the builder: partition by k, match
// a:A -> b:B within 10m, emit M {k}. Type C is noise the rule does not read.
func w4Graph(t testing.TB) *Graph {
	bl := NewBuilder()
	bl.Event("A").Field("k", event.Int).Field("at", event.Time).Time("at")
	bl.Event("B").Field("k", event.Int).Field("at", event.Time).Time("at")
	bl.Event("C").Field("k", event.Int).Field("at", event.Time).Time("at")
	bl.Rule("w4").Match(PatternMatch{Spec: w4Spec(), Types: []string{"A", "B"},
		Aliases: []PatternAlias{{Name: "a", Type: "A", Slot: 0}, {Name: "b", Type: "B", Slot: 1}}}).
		PartitionBy("k").Emit("M", Field{Name: "k"})
	return mustBuild(t, bl)
}

// w4Stream generates the W4 stream: event i is at i ms, its key uniform
// over keys (a seeded hash of i, the same stream every run), its type A or
// B half and half (aPct 50), or with aPct 1 1% A, 2% B and 97% C (noise
// the rule does not read, as in Esper's W4 figure).
type w4Stream struct {
	keys int
	aPct int
}

const w4Step = int64(time.Millisecond)

func (s w4Stream) fill(i int, e *event.Event) {
	x := uint64(i) + 0x9e3779b97f4a7c15
	x = mix64(x)
	e.Type = 1
	switch r := int(x>>40) % 100; {
	case r < s.aPct:
		e.Type = 0
	case s.aPct < 50 && r >= 3*s.aPct:
		e.Type = 2
	}
	t := int64(i) * w4Step
	e.Time = t
	e.Fields[0] = event.IntValue(int64(x % uint64(s.keys)))
	e.Fields[1] = event.TimeValue(t)
}

// w4Hand is the hand-written W4: per key the time of the last A since
// the last B. A B matches when that A is within 10m (then so is the
// earliest A still within 10m, the one the pattern pairs it with; the
// emitted event, the key, is the same) and clears the key.
type w4Hand struct {
	last    map[int64]int64
	matches int
}

func (h *w4Hand) process(e *event.Event) {
	k := e.Fields[0].Int()
	switch e.Type {
	case 0:
		h.last[k] = e.Time
	case 1:
		if t0, ok := h.last[k]; ok {
			if e.Time-t0 < int64(10*time.Minute) {
				h.matches++
			}
			delete(h.last, k)
		}
	}
}

// w4HandBounded is w4Hand with the engine's memory bound: a key is
// forgotten when its last A runs out of within (a FIFO of the A's in time
// order, each checked against the key's last A when it comes due), so that
// its map holds the keys with a pending A, as the engine's key table holds
// the keys with a partial match; the plain loop keeps every key it ever
// saw an A for. The FIFO holds an entry per A of the last 10 minutes.
type w4HandBounded struct {
	last    map[int64]int64
	fifo    []w4Pending // [head:] pending, by time
	head    int
	matches int
}

type w4Pending struct{ t, k int64 }

func (h *w4HandBounded) process(e *event.Event) {
	const within = int64(10 * time.Minute)
	for h.head < len(h.fifo) && h.fifo[h.head].t+within <= e.Time {
		p := h.fifo[h.head]
		h.head++
		if t0, ok := h.last[p.k]; ok && t0 == p.t {
			delete(h.last, p.k)
		}
	}
	if h.head > 1024 && 2*h.head > len(h.fifo) {
		h.fifo = h.fifo[:copy(h.fifo, h.fifo[h.head:])]
		h.head = 0
	}
	k := e.Fields[0].Int()
	switch e.Type {
	case 0:
		h.last[k] = e.Time // as w4Hand: the last A stands for the pending ones
		h.fifo = append(h.fifo, w4Pending{e.Time, k})
	case 1:
		if _, ok := h.last[k]; ok { // within: the expired ones are gone
			h.matches++
			delete(h.last, k)
		}
	}
}

// BenchmarkPatternW4Paired runs W4 at 1M keys as runPaired does: the
// engine and the hand-written loop in alternating chunks of one process,
// over the same stream, the ratio of each pair reported (median). Run it
// with -benchtime=Nx: N pairs of chunks.
func BenchmarkPatternW4Paired(b *testing.B) {
	for _, aPct := range []int{50, 1} {
		s := w4Stream{keys: 1_000_000, aPct: aPct}
		b.Run(fmt.Sprintf("keys=%d/A=%d%%", s.keys, aPct), func(b *testing.B) {
			runPaired(b, max(3*s.keys, 1_000_000), func() (func(), func()) {
				m := w4Graph(b).NewMatcher(Config{})
				matches := 0
				if _, err := m.Subscribe(AllDerived, func(*Derived) { matches++ }); err != nil {
					b.Fatal(err)
				}
				e := &event.Event{Fields: make([]event.Value, 2)}
				i := 0
				return func() {
					s.fill(i, e)
					m.Process(e)
					i++
				}, func() { sink += matches }
			}, func() (func(), func()) {
				h := &w4Hand{last: map[int64]int64{}}
				e := &event.Event{Fields: make([]event.Value, 2)}
				i := 0
				return func() {
					s.fill(i, e)
					h.process(e)
					i++
				}, func() { sink += h.matches }
			})
		})
	}
}

// w4Timed runs the timed loop of a W4 benchmark, a function of its own so
// that callgrind can count it alone (--toggle-collect='*w4Timed*'), without
// the warm-up.
//
//go:noinline
func w4Timed(loop func()) { loop() }

// w4Warm overrides the warm-up length (for profiling under callgrind).
var w4Warm = flag.Int("w4warm", -1, "W4 benchmarks: warm-up events (-1: max(3 x keys, 1M))")

// heapBytes is the live heap after a collection.
func heapBytes() int64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return int64(ms.HeapAlloc)
}

// BenchmarkPatternW4 is keyed A -> B within 10m (BENCHMARKS.md, W4) at 1K,
// 10K and 1M uniform keys, 50/50 and 1% A, through the engine (a pattern
// rule: keying, the per-key matcher, deadlines, the emitted fields),
// against engine/pattern's Matchers in a map keyed by hand (the matcher's
// own cost) and the hand-written loop. One op is one event. Each run is
// warmed up with max(3 x keys, 1M) events first, so that the key space is
// in its steady state; B/key is the live heap that state takes, per key.
// The timed loops are written out, not shared through a func value, so
// that each calls its implementation directly, as a hand loop would.
func BenchmarkPatternW4(b *testing.B) {
	for _, keys := range []int{1_000, 10_000, 1_000_000} {
		for _, aPct := range []int{50, 1} {
			s := w4Stream{keys: keys, aPct: aPct}
			name := fmt.Sprintf("keys=%d/A=%d%%", keys, aPct)
			warm := max(3*keys, 1_000_000)
			if *w4Warm >= 0 {
				warm = *w4Warm
			}
			b.Run(name+"/handwritten", func(b *testing.B) {
				h0 := heapBytes()
				h := &w4Hand{last: map[int64]int64{}}
				e := &event.Event{Fields: make([]event.Value, 2)}
				for i := range warm {
					s.fill(i, e)
					h.process(e)
				}
				perKey := float64(heapBytes()-h0) / float64(keys)
				b.ReportAllocs()
				i := warm
				h.matches = 0
				w4Timed(func() {
					for b.Loop() {
						s.fill(i, e)
						h.process(e)
						i++
					}
				})
				b.ReportMetric(float64(h.matches)/float64(i-warm), "matches/op")
				b.ReportMetric(perKey, "B/key")
			})
			b.Run(name+"/handwritten_bounded", func(b *testing.B) {
				h0 := heapBytes()
				h := &w4HandBounded{last: map[int64]int64{}}
				e := &event.Event{Fields: make([]event.Value, 2)}
				for i := range warm {
					s.fill(i, e)
					h.process(e)
				}
				perKey := float64(heapBytes()-h0) / float64(keys)
				b.ReportAllocs()
				i := warm
				h.matches = 0
				w4Timed(func() {
					for b.Loop() {
						s.fill(i, e)
						h.process(e)
						i++
					}
				})
				b.ReportMetric(float64(h.matches)/float64(i-warm), "matches/op")
				b.ReportMetric(perKey, "B/key")
				b.ReportMetric(float64(len(h.last)), "livekeys")
			})
			b.Run(name+"/pattern", func(b *testing.B) {
				p, err := pattern.Compile(w4Spec())
				if err != nil {
					b.Fatal(err)
				}
				h0 := heapBytes()
				mach := eval.NewMachine()
				matches := 0
				parts := map[int64]*pattern.Matcher{}
				emit := func(*pattern.Match) { matches++ }
				e := &event.Event{Fields: make([]event.Value, 2)}
				run := func(i int) {
					s.fill(i, e)
					if e.Type == 2 {
						return
					}
					k := e.Fields[0].Int()
					mt := parts[k]
					if mt == nil {
						mt = pattern.NewMatcher(p, mach, pattern.Config{}, nil, emit)
						parts[k] = mt
					}
					_ = mt.Process(e)
				}
				for i := range warm {
					run(i)
				}
				perKey := float64(heapBytes()-h0) / float64(keys)
				b.ReportAllocs()
				i := warm
				matches = 0
				for b.Loop() {
					run(i)
					i++
				}
				b.ReportMetric(float64(matches)/float64(i-warm), "matches/op")
				b.ReportMetric(perKey, "B/key")
			})
			b.Run(name+"/engine", func(b *testing.B) {
				g := w4Graph(b)
				h0 := heapBytes()
				m := g.NewMatcher(Config{})
				matches := 0
				if _, err := m.Subscribe(AllDerived, func(*Derived) { matches++ }); err != nil {
					b.Fatal(err)
				}
				e := &event.Event{Fields: make([]event.Value, 2)}
				for i := range warm {
					s.fill(i, e)
					m.Process(e)
				}
				perKey := float64(heapBytes()-h0) / float64(keys)
				b.ReportAllocs()
				i := warm
				matches = 0
				w4Timed(func() {
					for b.Loop() {
						s.fill(i, e)
						m.Process(e)
						i++
					}
				})
				b.ReportMetric(float64(matches)/float64(i-warm), "matches/op")
				b.ReportMetric(perKey, "B/key")
				b.ReportMetric(float64(m.Stats().Keys), "livekeys")
			})
		}
	}
}
