package window

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// AllocsPerRun(1, f) calls f twice (a warm-up, then the measured run) and
// reports the allocations of the second call exactly: with one run, its
// integer division by the number of runs truncates nothing.

// readSink reads every aggregate of every result, as the engine would, into
// a fixed buffer.
type readSink struct {
	num [MaxAggs]float64
	val [MaxAggs]int
	n   int
}

func (s *readSink) Emit(r Result[int]) {
	for i := range r.acc.aggs.Len() {
		s.num[i], _ = r.Float(i)
		s.val[i], _ = r.Value(i)
	}
	s.n++
}

// replay inserts the events of ops shifted by shift, with their Advances.
func replay(t *testing.T, w Window[int], ops []op, shift int64, sink Sink[int]) {
	for _, o := range ops {
		if o.insert {
			if err := w.Insert(o.ts+shift, o.row(), sink); err != nil {
				t.Fatalf("Insert(%d) with shift %d: %v", o.ts, shift, err)
			}
		} else {
			w.Advance(o.ts+shift, sink)
		}
	}
}

// TestAlloc_SteadyState guards zero allocations per event: once a window has
// seen a stream, replaying the same stream later in time (shifted by a
// multiple of every window period, so that the same windows recur) must
// not allocate, whatever the kind.
func TestAlloc_SteadyState(t *testing.T) {
	noDistinct := slices.DeleteFunc(slices.Clone(allSpecs), func(s AggSpec) bool { return s.Op == OpCountDistinct })
	const period = 2 * 3 * 4 * 5 * 7 * 1000 // multiple of every size, step, gap, length below
	for _, c := range []struct {
		specs []AggSpec
		dense bool // a stream where time windows never empty
		name  string
	}{
		{noDistinct, false, "no_distinct"},
		{allSpecs, false, "all"},
		{allSpecs, true, "all_dense"},
	} {
		aggs, err := testAggs(c.specs, intEqual)
		if err != nil {
			t.Fatal(err)
		}
		cfg := streamConfig{events: 2000, grid: 10, maxStep: 12, advances: 0.3, special: true, missing: 0.1}
		if c.dense {
			cfg = streamConfig{events: 2000, grid: 1, maxStep: 1, advances: 0.3}
		}
		ops := genStream(rand.New(rand.NewPCG(21, 22)), cfg)
		ops = ops[:len(ops)-1] // no end of input between passes
		span := ops[len(ops)-1].ts - ops[0].ts
		shift := (span/period + 2) * period
		for _, k := range kindCases() {
			t.Run(k.name+"/"+c.name, func(t *testing.T) {
				w, err := k.build(aggs)
				if err != nil {
					t.Fatal(err)
				}
				sink := &readSink{}
				var s Sink[int] = sink
				replay(t, w, ops, 0, s)
				replay(t, w, ops, shift, s)
				emitted := sink.n
				pass := int64(1)
				// Three measured passes: a pass that allocates makes the
				// average at least 1, while a stray allocation of the runtime
				// on a loaded machine (seen once in CI-like runs) does not.
				allocs := testing.AllocsPerRun(3, func() { // a warm-up, then three measured
					pass++
					replay(t, w, ops, pass*shift, s)
				})
				if allocs != 0 {
					t.Errorf("%v allocations in a replayed pass of %d events", allocs, cfg.events)
				}
				if sink.n == emitted {
					t.Error("nothing emitted: the test measures nothing")
				}
			})
		}
	}
}

// TestAlloc_Distinct guards count_distinct across windows: a tumbling
// window that closes every 100 events and a sliding one that drains and
// refills reuse their tables, allocating nothing once at working size.
func TestAlloc_Distinct(t *testing.T) {
	aggs, _ := NewAggs[int]([]AggSpec{{Op: OpCountDistinct}}, nil)
	tumbling, _ := NewTumbling(aggs, 100)
	sliding, _ := NewSliding(aggs, 100)
	for _, w := range []Window[int]{tumbling, sliding} {
		rng := rand.New(rand.NewPCG(23, 24))
		sink := &readSink{}
		var s Sink[int] = sink
		row := Row[int]{Key: []uint64{0}}
		ts := int64(0)
		run := func() {
			for i := range 10000 {
				ts++
				if i%1000 == 0 {
					ts += 1000 // the sliding window drains
				}
				row.Key[0] = uint64(rng.IntN(1000)) << uint(rng.IntN(40))
				if err := w.Insert(ts, row, s); err != nil {
					t.Fatal(err)
				}
			}
		}
		run()
		before := sink.n
		if allocs := testing.AllocsPerRun(1, run); allocs != 0 {
			t.Errorf("%T: %v allocations in 10000 events", w, allocs)
		}
		if sink.n == before {
			t.Errorf("%T: nothing emitted", w)
		}
	}
}

// TestAlloc_Acc guards the running aggregate.
func TestAlloc_Acc(t *testing.T) {
	aggs, _ := testAggs(allSpecs, intEqual)
	acc := NewAcc(aggs)
	ops := genStream(rand.New(rand.NewPCG(25, 26)), streamConfig{events: 1000, grid: 10, maxStep: 3})
	run := func() {
		for _, o := range ops {
			if o.insert {
				_ = acc.Add(o.row())
			}
		}
	}
	for range 3 { // reach 1024 values: percentile in sketch mode
		run()
	}
	if allocs := testing.AllocsPerRun(1, run); allocs != 0 {
		t.Errorf("%v allocations in %d adds", allocs, len(ops))
	}
}
