package window

import (
	"cmp"
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestSlidings_perKey holds Slidings to a Sliding per key: random streams
// of several keys, merged in time order, with watermarks in between, give
// every key the same emissions (times, Changed, counts, sums and averages
// bit for bit, missing and non-finite values), deadlines and lengths, and
// a key reset and reused behaves as new.
func TestSlidings_perKey(t *testing.T) {
	specSets := map[string][]AggSpec{
		"sums":  {{Op: OpSum, Arg: 0}, {Op: OpCount}, {Op: OpAvg, Arg: 1}, {Op: OpAvg, Arg: 0}, {Op: OpSum, Arg: 1}},
		"count": {{Op: OpCount}},
		"sum":   {{Op: OpSum, Arg: 1}},
	}
	configs := map[string]streamConfig{
		"dense":   {events: 120, start: -57, grid: 10, maxStep: 4, advances: 0.3},
		"sparse":  {events: 80, start: 1000, grid: 10, maxStep: 40, advances: 0.5},
		"special": {events: 100, start: -3, grid: 5, maxStep: 7, advances: 0.2, special: true, missing: 0.3},
	}
	type step struct {
		key int
		op
	}
	for sname, specs := range specSets {
		for cname, cfg := range configs {
			for _, size := range []int64{1, 7, 10, 60} {
				aggs, err := testAggs(specs, nil)
				if err != nil {
					t.Fatal(err)
				}
				for seed := range uint64(4) {
					rng := rand.New(rand.NewPCG(seed, 47))
					const keys = 5
					var steps []step
					for k := range keys {
						for _, o := range genStream(rng, cfg) {
							steps = append(steps, step{k, o})
						}
					}
					slices.SortStableFunc(steps, func(a, b step) int { return cmp.Compare(a.ts, b.ts) })
					cw, err := NewSlidings(aggs, size)
					if err != nil {
						t.Fatal(err)
					}
					cw.Grow(keys)
					for round := range 2 { // the second after Reset of every key
						got, want := make([]recorder, keys), make([]recorder, keys)
						ref := make([]*Sliding[int], keys)
						for k := range ref {
							ref[k], _ = NewSliding(aggs, size)
						}
						if round == 1 {
							for k := range keys {
								cw.Reset(k)
							}
							cw.now = math.MinInt64 // (Reset of one key keeps the table's time)
						}
						for i, s := range steps {
							got[s.key].op, want[s.key].op = i, i
							if s.insert {
								err1 := cw.Insert(s.key, s.ts, s.row(), &got[s.key])
								err2 := ref[s.key].Insert(s.ts, s.row(), &want[s.key])
								if !errors.Is(err1, err2) && err1 != err2 {
									t.Fatalf("%s/%s/%d seed %d step %d: Insert: %v, want %v", sname, cname, size, seed, i, err1, err2)
								}
							} else {
								cw.Advance(s.key, s.ts, &got[s.key])
								ref[s.key].Advance(s.ts, &want[s.key])
							}
							gd, gok := cw.NextDeadline(s.key)
							wd, wok := ref[s.key].NextDeadline()
							if gd != wd || gok != wok || cw.Len(s.key) != ref[s.key].Len() || cw.Empty(s.key) != ref[s.key].Empty() {
								t.Fatalf("%s/%s/%d seed %d step %d: deadline %d %v len %d, want %d %v %d", sname, cname, size, seed, i, gd, gok, cw.Len(s.key), wd, wok, ref[s.key].Len())
							}
						}
						for k := range keys {
							cw.Advance(k, math.MaxInt64, &got[k])
							ref[k].Advance(math.MaxInt64, &want[k])
							if len(want[k].out) == 0 {
								t.Fatalf("%s/%s/%d seed %d key %d: no emission: the stream is too weak", sname, cname, size, seed, k)
							}
							compareEmissions(t, specs, got[k].out, want[k].out, true)
							if len(got[k].out) != len(want[k].out) {
								t.Fatalf("%s/%s/%d seed %d key %d: %d emissions, want %d", sname, cname, size, seed, k, len(got[k].out), len(want[k].out))
							}
							for i := range want[k].out {
								g, w := got[k].out[i], want[k].out[i]
								for j := range w.num {
									if math.Float64bits(g.num[j]) != math.Float64bits(w.num[j]) || g.changed != w.changed {
										t.Fatalf("%s/%s/%d seed %d key %d emission %d: %s = %v (changed %v), want %v (%v) bit for bit",
											sname, cname, size, seed, k, i, specs[j].Op, g.num[j], g.changed, w.num[j], w.changed)
									}
								}
							}
						}
					}
				}
			}
		}
	}
}

// TestSlidings_refused: aggregates beyond count, sum and avg are refused;
// an event earlier than the latest time given (any key's) is ErrEventTime;
// a narrow row is ErrRowShape.
func TestSlidings_refused(t *testing.T) {
	aggs, _ := testAggs([]AggSpec{{Op: OpMin, Arg: 0}}, nil)
	if _, err := NewSlidings(aggs, 10); !errors.Is(err, ErrParam) {
		t.Errorf("min: %v, want ErrParam", err)
	}
	aggs, _ = testAggs([]AggSpec{{Op: OpSum, Arg: 0}}, nil)
	if _, err := NewSlidings(aggs, 0); !errors.Is(err, ErrParam) {
		t.Errorf("length 0: %v, want ErrParam", err)
	}
	w, _ := NewSlidings(aggs, 10)
	w.Grow(2)
	row := Row[int]{Num: []float64{1, 2, 3}}
	if err := w.Insert(0, 50, row, nil); err != nil {
		t.Fatal(err)
	}
	if err := w.Insert(1, 49, row, nil); !errors.Is(err, ErrEventTime) {
		t.Errorf("key 1 behind key 0: %v, want ErrEventTime", err)
	}
	if err := w.Insert(1, 50, Row[int]{}, nil); !errors.Is(err, ErrRowShape) {
		t.Errorf("narrow row: %v, want ErrRowShape", err)
	}
	if err := w.Insert(1, math.MaxInt64-5, row, nil); !errors.Is(err, ErrEventTime) {
		t.Errorf("a window past the end of time: %v, want ErrEventTime", err)
	}
}
