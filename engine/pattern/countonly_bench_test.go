package pattern

import (
	"fmt"
	"testing"

	"github.com/cepengine/cep/engine/eval"
)

// BenchmarkW6CountOnly is W6: a:A ->> b:B+ ->> c:C, skip none, within
// window events-worth of time, over a seeded stream of A, B, C and 6 noise
// types (one event per time unit). One op is one event.
//
//   - count: count-only mode (Spec.CountOnly), one Match per event with
//     the number of matches completed at it;
//   - enumerate: the same pattern enumerating every match (BenchmarkW6's
//     matcher), at window=10 and 30 only: at window=100 (about 6300
//     matches per event) 3000 events took over two minutes, and at 1000
//     about 110 b's per window make some 2^100 matches per c;
//   - handwritten: the same count by hand (per live a, the number of
//     non-empty subsets of its b's, s = 2s+1), in float64 so that
//     matches/event stays exact-ish where the uint64 count saturates.
//
// Counts saturate at 2^64-1 (Match.Count): at window=1000 the count's
// matches/event is a floor; the handwritten one is the true figure.
func BenchmarkW6CountOnly(b *testing.B) {
	evs := w6Stream(1 << 16)
	for _, window := range []int64{10, 30, 100, 1000} {
		b.Run(fmt.Sprintf("count/window=%d", window), func(b *testing.B) {
			p := mustCompile(b, w6Spec(window, true))
			var matches float64
			m := NewMatcher(p, eval.NewMachine(), Config{}, nil, func(mc *Match) { matches += float64(mc.Count) })
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				e := &evs[i%len(evs)]
				e.Time = int64(i)
				_ = m.Process(e)
				i++
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(i), "ns/event")
			b.ReportMetric(matches/float64(i), "matches/event")
		})
		if window <= 30 {
			b.Run(fmt.Sprintf("enumerate/window=%d", window), func(b *testing.B) {
				p := mustCompile(b, w6Spec(window, false))
				var matches float64
				m := NewMatcher(p, eval.NewMachine(), Config{MaxPartials: 1 << 24}, nil, func(*Match) { matches++ })
				b.ReportAllocs()
				i := 0
				for b.Loop() {
					e := &evs[i%len(evs)]
					e.Time = int64(i)
					_ = m.Process(e)
					i++
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(i), "ns/event")
				b.ReportMetric(matches/float64(i), "matches/event")
			})
		}
		b.Run(fmt.Sprintf("handwritten/window=%d", window), func(b *testing.B) {
			type open struct {
				t int64
				s float64
			}
			var live []open
			var matches float64
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				e := &evs[i%len(evs)]
				t := int64(i)
				j := 0
				for j < len(live) && live[j].t+window <= t {
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
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(i), "ns/event")
			b.ReportMetric(matches/float64(i), "matches/event")
		})
	}
}
