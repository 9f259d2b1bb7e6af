package window

import (
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"testing"
)

// TestAgg_Ring compares Ring with a slice on random operations.
func TestAgg_Ring(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var r Ring[int]
	var model []int
	for i := range 20000 {
		switch c := rng.IntN(10); {
		case c < 5:
			r.PushBack(i)
			model = append(model, i)
		case c < 8 && len(model) > 0:
			if got := r.PopFront(); got != model[0] {
				t.Fatalf("PopFront = %d, want %d", got, model[0])
			}
			model = model[1:]
		case c < 9 && len(model) > 0:
			if got := r.PopBack(); got != model[len(model)-1] {
				t.Fatalf("PopBack = %d, want %d", got, model[len(model)-1])
			}
			model = model[:len(model)-1]
		case len(model) > 0:
			j := rng.IntN(len(model))
			if r.At(j) != model[j] || r.Front() != model[0] || r.Back() != model[len(model)-1] {
				t.Fatalf("At/Front/Back disagree with the model")
			}
		}
		if r.Len() != len(model) || r.Cap()&(r.Cap()-1) != 0 {
			t.Fatalf("Len %d (want %d), Cap %d", r.Len(), len(model), r.Cap())
		}
	}
	r.Reset()
	if r.Len() != 0 || r.Cap() == 0 {
		t.Fatalf("Reset: Len %d Cap %d", r.Len(), r.Cap())
	}
	for _, f := range []func(){func() { r.PopFront() }, func() { r.PopBack() }, func() { r.Front() }, func() { r.At(0) }} {
		func() {
			defer func() {
				if recover() == nil {
					t.Error("no panic on an empty Ring")
				}
			}()
			f()
		}()
	}
}

// TestAgg_MonoDeque compares sliding min and max over random windows with a
// rescan.
func TestAgg_MonoDeque(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, isMax := range []bool{false, true} {
		d := NewMonoDeque[int](isMax)
		var vals []int
		lo := 0 // index (= seq) of the oldest value in the window
		for seq := range 5000 {
			v := rng.IntN(50)
			vals = append(vals, v)
			d.Push(v, uint64(seq))
			for rng.IntN(3) == 0 && lo < seq {
				lo++
				d.Expire(uint64(lo))
			}
			want := vals[lo]
			for _, x := range vals[lo : seq+1] {
				if isMax {
					want = max(want, x)
				} else {
					want = min(want, x)
				}
			}
			if got, ok := d.Front(); !ok || got != want {
				t.Fatalf("max=%v seq %d: Front = %d, %v; want %d", isMax, seq, got, ok, want)
			}
			if d.Len() > seq+1-lo {
				t.Fatalf("deque holds %d candidates for a window of %d", d.Len(), seq+1-lo)
			}
		}
		d.Expire(math.MaxUint64)
		if _, ok := d.Front(); ok {
			t.Fatal("Front of an expired deque")
		}
	}
}

// TestAgg_CountTable compares the hash table with a map, with keys chosen to
// collide (multiples of a power of two) and to wrap around the table.
func TestAgg_CountTable(t *testing.T) {
	for _, stride := range []uint64{1, 1 << 20, 1 << 61, 0x9E3779B97F4A7C15} {
		rng := rand.New(rand.NewPCG(stride, 5))
		var tab countTable
		model := map[uint64]uint32{}
		for range 50000 {
			k := uint64(rng.IntN(300)) * stride
			if rng.IntN(2) == 0 {
				tab.inc(k)
				model[k]++
			} else {
				got := tab.dec(k)
				if got != (model[k] > 0) {
					t.Fatalf("dec(%d) = %v, model count %d", k, got, model[k])
				}
				if model[k] > 0 {
					model[k]--
					if model[k] == 0 {
						delete(model, k)
					}
				}
			}
			if tab.len() != len(model) {
				t.Fatalf("len %d, want %d", tab.len(), len(model))
			}
		}
		for k, c := range model {
			if tab.get(k) != c {
				t.Fatalf("get(%d) = %d, want %d", k, tab.get(k), c)
			}
		}
		tab.reset()
		if tab.len() != 0 || tab.get(0) != 0 {
			t.Fatal("reset left keys")
		}
	}
}

// TestAgg_Distinct compares Distinct with a multiset over small, large and
// negative-as-uint64 keys.
func TestAgg_Distinct(t *testing.T) {
	rng := rand.New(rand.NewPCG(6, 7))
	var d Distinct
	model := map[uint64]int{}
	var live []uint64
	for range 40000 {
		if rng.IntN(5) < 3 || len(live) == 0 {
			var k uint64
			switch rng.IntN(3) {
			case 0:
				k = uint64(rng.IntN(100))
			case 1:
				k = uint64(rng.IntN(100)) << 40
			default:
				k = uint64(-int64(rng.IntN(100)) - 1)
			}
			d.Add(k)
			model[k]++
			live = append(live, k)
		} else {
			j := rng.IntN(len(live))
			k := live[j]
			live[j] = live[len(live)-1]
			live = live[:len(live)-1]
			if !d.Remove(k) {
				t.Fatalf("Remove(%d) = false", k)
			}
			if model[k]--; model[k] == 0 {
				delete(model, k)
			}
		}
		if d.Len() != uint64(len(model)) {
			t.Fatalf("Len %d, want %d", d.Len(), len(model))
		}
	}
	if d.Remove(12345678) {
		t.Error("Remove of an absent key succeeded")
	}
	d.Reset()
	if d.Len() != 0 || d.Remove(live[0]) {
		t.Error("Reset left keys")
	}
}

// TestAgg_PercentileExact compares the exact mode with a sorted slice under
// random adds and removes, up to PercentileExactMax values.
func TestAgg_PercentileExact(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 9))
	var p Percentile
	var model []float64
	qs := []float64{0, 0.001, 0.1, 0.25, 0.5, 0.75, 0.9, 0.999, 1}
	for i := range 12000 {
		if (rng.IntN(2) == 0 || len(model) == 0) && len(model) < PercentileExactMax {
			x := float64(rng.IntN(200) - 100)
			if rng.IntN(50) == 0 {
				x = math.Inf(1 - 2*rng.IntN(2))
			}
			p.Add(x)
			model = append(model, x)
		} else {
			j := rng.IntN(len(model))
			if !p.Remove(model[j]) {
				t.Fatalf("Remove(%v) = false", model[j])
			}
			model = slices.Delete(model, j, j+1)
		}
		if !p.Exact() || p.Len() != int64(len(model)) {
			t.Fatalf("step %d: Exact %v Len %d, want exact and %d", i, p.Exact(), p.Len(), len(model))
		}
		q := qs[i%len(qs)]
		got, ok := p.Quantile(q)
		if len(model) == 0 {
			if ok {
				t.Fatal("value for an empty Percentile")
			}
			continue
		}
		if want := refPercentile(model, q); !ok || got != want {
			t.Fatalf("step %d: Quantile(%v) = %v, want %v", i, q, got, want)
		}
	}
	if p.Remove(0.5) {
		t.Error("Remove of an absent value succeeded")
	}
	p.Add(math.NaN())
	if v, ok := p.Quantile(0.5); !ok || !math.IsNaN(v) {
		t.Errorf("with a NaN: %v, %v; want NaN", v, ok)
	}
	if !p.Remove(math.NaN()) {
		t.Error("Remove(NaN) = false")
	}
}

// checkSketchBound fails unless every quantile of p is within the relative
// error bound of the exact nearest-rank quantile of model.
func checkSketchBound(t *testing.T, p *Percentile, model []float64, what string) {
	t.Helper()
	sorted := slices.Clone(model)
	sort.Float64s(sorted)
	for _, q := range []float64{0, 0.001, 0.01, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.999, 1} {
		want := sorted[rankOf(q, int64(len(sorted)))-1]
		got, ok := p.Quantile(q)
		if !ok {
			t.Fatalf("%s: no value", what)
		}
		// The bound is exact in real arithmetic; allow for the rounding of
		// the log and exp that place and represent the buckets.
		if math.Abs(got-want) > PercentileAccuracy*math.Abs(want)*(1+1e-9) {
			t.Fatalf("%s: q=%v: got %v, exact %v, relative error %.4g > %v",
				what, q, got, want, math.Abs(got-want)/math.Abs(want), PercentileAccuracy)
		}
	}
}

// TestAgg_PercentileSketch tests the sketch's error bound on random data of
// several distributions, signs and ranges, with and without removal.
func TestAgg_PercentileSketch(t *testing.T) {
	dists := []struct {
		name string
		gen  func(*rand.Rand) float64
	}{
		{"uniform", func(r *rand.Rand) float64 { return r.Float64() * 1000 }},
		{"normal", func(r *rand.Rand) float64 { return r.NormFloat64() * 100 }},
		{"lognormal", func(r *rand.Rand) float64 { return math.Exp(r.NormFloat64() * 3) }},
		{"exponential", func(r *rand.Rand) float64 { return r.ExpFloat64() }},
		{"ints_with_zeros", func(r *rand.Rand) float64 { return float64(r.IntN(21) - 10) }},
		{"wide", func(r *rand.Rand) float64 { return math.Copysign(math.Pow(10, r.Float64()*16-8), r.Float64()-0.5) }},
		{"tiny", func(r *rand.Rand) float64 { return r.Float64() * 1e-300 }},
		{"with_infinities", func(r *rand.Rand) float64 {
			if r.IntN(100) == 0 {
				return math.Inf(1 - 2*r.IntN(2))
			}
			return r.NormFloat64()
		}},
	}
	for _, d := range dists {
		for seed := range uint64(4) {
			rng := rand.New(rand.NewPCG(seed, 10))
			var p Percentile
			var model []float64
			for range 20000 {
				x := d.gen(rng)
				p.Add(x)
				model = append(model, x)
			}
			if p.Exact() {
				t.Fatal("20000 values still exact")
			}
			checkSketchBound(t, &p, model, d.name+"/add")
			// Slide: remove the oldest, add a new one, and check along the
			// way.
			for i := range 20000 {
				p.Remove(model[0])
				model = model[1:]
				x := d.gen(rng)
				p.Add(x)
				model = append(model, x)
				if i%2000 == 0 {
					checkSketchBound(t, &p, model, d.name+"/slide")
				}
			}
			// Drain to empty: back to exact mode.
			for len(model) > 0 {
				p.Remove(model[0])
				model = model[1:]
			}
			if !p.Exact() || p.Len() != 0 {
				t.Fatalf("%s: drained sketch: Exact %v Len %d", d.name, p.Exact(), p.Len())
			}
		}
	}
}

// TestAgg_PercentileCollapse checks the documented limit: past a span of
// 2048 buckets the smallest magnitudes merge, and quantiles above them keep
// the bound.
func TestAgg_PercentileCollapse(t *testing.T) {
	var p Percentile
	var model []float64
	for i := range 5000 {
		x := math.Pow(10, float64(i%600)-300) // 1e-300 .. 1e299: 34000 buckets
		p.Add(x)
		model = append(model, x)
	}
	sorted := slices.Clone(model)
	sort.Float64s(sorted)
	// The largest value is 1e299; 2048 buckets reach down to 1e299/6e17,
	// about 1.7e281, so exponents 282..299 (the top 3%) keep the bound and
	// everything below answers with the merged bucket's representative.
	for _, q := range []float64{0.98, 0.99, 1, 0.5} {
		want := sorted[rankOf(q, int64(len(sorted)))-1]
		got, _ := p.Quantile(q)
		within := math.Abs(got-want) <= PercentileAccuracy*want*(1+1e-9)
		if within != (q != 0.5) {
			t.Errorf("q=%v: got %v, want %v (bound expected: %v)", q, got, want, q != 0.5)
		}
	}
	if n := len(p.sk.pos.buf); n > sketchMaxBuckets {
		t.Errorf("store grew to %d buckets", n)
	}
	for _, x := range model { // removal maps collapsed values consistently
		if !p.Remove(x) {
			t.Fatalf("Remove(%v) failed after collapse", x)
		}
	}
	if p.Len() != 0 || !p.Exact() {
		t.Errorf("after removing all: Len %d Exact %v", p.Len(), p.Exact())
	}
}

// TestAgg_PercentileSlidingModes checks the switch to the sketch above
// PercentileExactMax and the rebuild to exact at PercentileExactMax/2 in a
// sliding window, against the reference.
func TestAgg_PercentileSlidingModes(t *testing.T) {
	specs := []AggSpec{{Op: OpPercentile, Q: 0.5}, {Op: OpPercentile, Q: 0.99}}
	aggs, _ := NewAggs[int](specs, nil)
	w, _ := NewSliding(aggs, 3000)
	rng := rand.New(rand.NewPCG(11, 12))
	var model []op
	var exactSeen, sketchSeen, rebuilt int
	wasSketch := false
	for ts := int64(0); ts < 20000; ts++ {
		// Rate varies so that the window grows past 1024 (3000 values)
		// and shrinks below 512 (300) repeatedly.
		if (ts/5000)%2 == 1 && ts%10 != 0 {
			continue
		}
		o := op{insert: true, ts: ts, num: []float64{float64(rng.IntN(100000)) / 7}}
		model = append(model, o)
		var res []float64
		err := w.Insert(ts, o.row(), SinkFunc[int](func(r Result[int]) {
			if r.Time == ts && r.Count() == int64(w.Len()) {
				a, _ := r.Float(0)
				b, _ := r.Float(1)
				res = append(res, a, b)
			}
		}))
		if err != nil {
			t.Fatal(err)
		}
		for model[0].ts <= ts-3000 {
			model = model[1:]
		}
		p := &w.acc.hv.pc[0]
		if wasSketch && p.Exact() {
			rebuilt++
		}
		wasSketch = !p.Exact()
		if len(model) <= PercentileExactMax/2 && !p.Exact() {
			t.Fatalf("ts %d: %d values and not exact", ts, len(model))
		}
		if ts%4 != 0 {
			continue
		}
		win := make([]float64, len(model))
		for i, m := range model {
			win[i] = m.num[0]
		}
		wantMed, want99 := refPercentile(win, 0.5), refPercentile(win, 0.99)
		got := res[len(res)-2:]
		if p.Exact() {
			exactSeen++
			if got[0] != wantMed || got[1] != want99 {
				t.Fatalf("ts %d exact: %v, want %v %v", ts, got, wantMed, want99)
			}
		} else {
			sketchSeen++
			if math.Abs(got[0]-wantMed) > PercentileAccuracy*wantMed*(1+1e-9) || math.Abs(got[1]-want99) > PercentileAccuracy*want99*(1+1e-9) {
				t.Fatalf("ts %d sketch: %v, want %v %v", ts, got, wantMed, want99)
			}
		}
	}
	if exactSeen == 0 || sketchSeen == 0 || rebuilt == 0 {
		t.Fatalf("modes not all exercised: exact %d, sketch %d, rebuilt %d", exactSeen, sketchSeen, rebuilt)
	}
}

// TestAgg_SumAccuracy slides over values of widely different magnitudes and
// compares the compensated sum with the exactly rounded one: the error stays
// within a few ulps of the largest magnitude in the window, where a plain
// running sum drifts by far more.
func TestAgg_SumAccuracy(t *testing.T) {
	aggs, _ := NewAggs[int]([]AggSpec{{Op: OpSum}, {Op: OpAvg}}, nil)
	w, _ := NewCountSliding(aggs, 100)
	rng := rand.New(rand.NewPCG(13, 14))
	var xs []float64
	var naive float64
	var worstNaive float64
	for i := range 6000 {
		x := math.Ldexp(rng.Float64()-0.5, rng.IntN(80)-20)
		xs = append(xs, x)
		naive += x
		if len(xs) > 100 {
			naive -= xs[len(xs)-101]
		}
		var got float64
		_ = w.Insert(int64(i), Row[int]{Num: []float64{x}}, SinkFunc[int](func(r Result[int]) { got, _ = r.Float(0) }))
		win := xs[max(0, len(xs)-100):]
		want := refSum(win)
		scale := 0.0
		for _, v := range win {
			scale = max(scale, math.Abs(v))
		}
		if math.Abs(got-want) > 4*0x1p-52*scale {
			t.Fatalf("step %d: sum %v, exact %v, error %g (scale %g)", i, got, want, got-want, scale)
		}
		worstNaive = max(worstNaive, math.Abs(naive-want)/scale)
	}
	if worstNaive < 1e-10 {
		t.Logf("naive running sum was accurate too (%g); the data is too easy", worstNaive)
	}
}

// TestAgg_WelfordStability checks var with a large offset, where the
// sum-of-squares formula loses every digit, across a level shift that
// removes huge outliers from a narrow window, and after many removals, in
// both sliding kinds.
func TestAgg_WelfordStability(t *testing.T) {
	aggs, _ := NewAggs[int]([]AggSpec{{Op: OpVar}, {Op: OpStddev}}, nil)
	byCount, _ := NewCountSliding(aggs, 50)
	byTime, _ := NewSliding(aggs, 50)
	for _, w := range []Window[int]{byCount, byTime} {
		rng := rand.New(rand.NewPCG(15, 16))
		var xs []float64
		for i := range 60000 {
			x := 1e9 + rng.NormFloat64() // variance 1 on an offset of 1e9
			if i > 30000 {
				x = -3e6 + 10*rng.NormFloat64() // a level shift
			}
			xs = append(xs, x)
			var v, s float64
			_ = w.Insert(int64(i), Row[int]{Num: []float64{x}}, SinkFunc[int](func(r Result[int]) {
				v, _ = r.Float(0)
				s, _ = r.Float(1)
			}))
			if i < 2 {
				continue
			}
			want := refVar(xs[max(0, len(xs)-50):])
			if math.Abs(v-want) > 1e-6*want || math.Abs(s-math.Sqrt(want)) > 1e-6*math.Sqrt(want) {
				t.Fatalf("%T step %d: var %v stddev %v, two-pass %v", w, i, v, s, want)
			}
		}
	}
}

// TestAgg_Acc checks the running aggregate against the reference.
func TestAgg_Acc(t *testing.T) {
	aggs, _ := testAggs(allSpecs, intEqual)
	acc := NewAcc(aggs)
	if acc.Aggs() != aggs || aggs.Len() != len(allSpecs) || aggs.Spec(3) != allSpecs[3] {
		t.Fatal("accessors disagree with the specs")
	}
	ops := genStream(rand.New(rand.NewPCG(17, 18)), streamConfig{events: 600, grid: 10, maxStep: 3, special: true, missing: 0.2})
	var evs []refEvent
	for _, o := range ops {
		if !o.insert {
			continue
		}
		if err := acc.Add(o.row()); err != nil {
			t.Fatal(err)
		}
		evs = append(evs, refEvent{len(evs), o})
		want := refResult(allSpecs, evs)
		got := emission{count: acc.Count(), changed: true}
		for i := range aggs.Len() {
			f, ok := acc.Float(i)
			v, vok := acc.Value(i)
			got.num, got.ok, got.val, got.vok = append(got.num, f), append(got.ok, ok), append(got.val, v), append(got.vok, vok)
		}
		compareEmissions(t, allSpecs, []emission{got}, []emission{want}, false)
	}
	acc.Reset()
	if acc.Count() != 0 {
		t.Fatal("Reset kept events")
	}
	if _, ok := acc.Float(1); ok {
		t.Fatal("sum of an empty Acc has a value")
	}
}

// TestAgg_OpNames pins the names used in messages.
func TestAgg_OpNames(t *testing.T) {
	var got []string
	for o := OpCount; o <= OpPercentile+1; o++ {
		got = append(got, o.String())
	}
	want := []string{"count", "sum", "avg", "min", "max", "first", "last", "stddev", "var", "count_distinct", "percentile", "op(12)"}
	if !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}
