package window

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// kindCase builds one window kind and its reference.
type kindCase struct {
	name    string
	build   func(a *Aggs[int]) (Window[int], error)
	ref     func(specs []AggSpec, ops []op) ([]emission, []int64)
	sliding bool
}

func kindCases() []kindCase {
	var cs []kindCase
	for _, size := range []int64{10, 7, 1} {
		cs = append(cs, kindCase{
			name:  fmt.Sprintf("tumbling_%d", size),
			build: func(a *Aggs[int]) (Window[int], error) { return NewTumbling(a, size) },
			ref:   func(s []AggSpec, ops []op) ([]emission, []int64) { return refTumbling(s, ops, size) },
		})
	}
	for _, ss := range [][2]int64{{10, 5}, {10, 3}, {3, 10}, {10, 10}, {20, 1}} {
		cs = append(cs, kindCase{
			name:  fmt.Sprintf("hopping_%d_every_%d", ss[0], ss[1]),
			build: func(a *Aggs[int]) (Window[int], error) { return NewHopping(a, ss[0], ss[1]) },
			ref:   func(s []AggSpec, ops []op) ([]emission, []int64) { return refHopping(s, ops, ss[0], ss[1]) },
		})
	}
	for _, gap := range []int64{5, 1, 10} {
		cs = append(cs, kindCase{
			name:  fmt.Sprintf("session_%d", gap),
			build: func(a *Aggs[int]) (Window[int], error) { return NewSession(a, gap) },
			ref:   func(s []AggSpec, ops []op) ([]emission, []int64) { return refSession(s, ops, gap) },
		})
	}
	for _, n := range []int{1, 4, 25} {
		cs = append(cs, kindCase{
			name:  fmt.Sprintf("count_%d", n),
			build: func(a *Aggs[int]) (Window[int], error) { return NewCountTumbling(a, n) },
			ref:   func(s []AggSpec, ops []op) ([]emission, []int64) { return refCountTumbling(s, ops, n) },
		})
	}
	for _, d := range []int64{10, 1, 25} {
		cs = append(cs, kindCase{
			name:    fmt.Sprintf("sliding_%d", d),
			build:   func(a *Aggs[int]) (Window[int], error) { return NewSliding(a, d) },
			ref:     func(s []AggSpec, ops []op) ([]emission, []int64) { return refSliding(s, ops, d) },
			sliding: true,
		})
	}
	for _, n := range []int{1, 5, 40} {
		cs = append(cs, kindCase{
			name:    fmt.Sprintf("sliding_count_%d", n),
			build:   func(a *Aggs[int]) (Window[int], error) { return NewCountSliding(a, n) },
			ref:     func(s []AggSpec, ops []op) ([]emission, []int64) { return refCountSliding(s, ops, n) },
			sliding: true,
		})
	}
	return cs
}

// compareEmissions fails t at the first difference between got and want.
func compareEmissions(t *testing.T, specs []AggSpec, got, want []emission, sliding bool) {
	t.Helper()
	strictChanged := !slices.ContainsFunc(specs, func(s AggSpec) bool { return inexact(s.Op) })
	for i := range min(len(got), len(want)) {
		g, w := got[i], want[i]
		where := fmt.Sprintf("emission %d (op %d, time %d)", i, w.op, w.time)
		if g.op != w.op || g.start != w.start || g.end != w.end || g.time != w.time || g.count != w.count {
			t.Fatalf("%s: got op %d [%d,%d) time %d count %d, want op %d [%d,%d) time %d count %d",
				where, g.op, g.start, g.end, g.time, g.count, w.op, w.start, w.end, w.time, w.count)
		}
		for j, sp := range specs {
			if g.ok[j] != w.ok[j] || g.vok[j] != w.vok[j] {
				t.Fatalf("%s: %s(col %d): has value %v/%v, want %v/%v", where, sp.Op, sp.Arg, g.ok[j], g.vok[j], w.ok[j], w.vok[j])
			}
			if g.vok[j] && g.val[j] != w.val[j] {
				t.Fatalf("%s: %s(col %d) = %d, want %d", where, sp.Op, sp.Arg, g.val[j], w.val[j])
			}
			if !g.ok[j] {
				continue
			}
			tol := 0.0
			switch sp.Op {
			case OpSum, OpAvg:
				tol = 1e-12
			case OpVar, OpStddev:
				tol = 1e-9
			}
			if (tol == 0 && !sameFloat(g.num[j], w.num[j])) || !closeTo(g.num[j], w.num[j], tol) {
				t.Fatalf("%s: %s(col %d, q %v) = %v, want %v", where, sp.Op, sp.Arg, sp.Q, g.num[j], w.num[j])
			}
		}
		if !sliding && !g.changed {
			t.Fatalf("%s: Changed false on close", where)
		}
		if sliding && w.changed && !g.changed {
			t.Fatalf("%s: Changed false, want true", where)
		}
		if sliding && strictChanged && !w.changed && g.changed {
			t.Fatalf("%s: Changed true, want false", where)
		}
	}
	if len(got) != len(want) {
		t.Fatalf("got %d emissions, want %d", len(got), len(want))
	}
}

// TestWindow_Reference runs every kind over random streams (fixed seeds)
// and compares every emission, and NextDeadline after every operation,
// with the reference model.
func TestWindow_Reference(t *testing.T) {
	exactSpecs := slices.DeleteFunc(slices.Clone(allSpecs), func(s AggSpec) bool { return inexact(s.Op) })
	specSets := []struct {
		name  string
		specs []AggSpec
		equal func(a, b int) bool
	}{
		{"all", allSpecs, intEqual},
		{"exact", exactSpecs, intEqual},
		{"count", []AggSpec{{Op: OpCount}}, nil},
		// count, sum and avg alone take the loops over sums (Aggs.sumsOnly).
		{"sums", []AggSpec{{Op: OpSum, Arg: 0}, {Op: OpCount}, {Op: OpAvg, Arg: 1}, {Op: OpAvg, Arg: 0}, {Op: OpSum, Arg: 1}}, nil},
	}
	configs := []struct {
		name string
		c    streamConfig
	}{
		{"dense", streamConfig{events: 250, start: -57, grid: 10, maxStep: 4, advances: 0.3}},
		{"sparse", streamConfig{events: 150, start: 1000, grid: 10, maxStep: 40, advances: 0.5}},
		{"special", streamConfig{events: 200, start: -3, grid: 5, maxStep: 7, advances: 0.2, special: true}},
		{"missing", streamConfig{events: 200, start: 11, grid: 10, maxStep: 5, advances: 0.2, special: true, missing: 0.3}},
		{"mostly_missing", streamConfig{events: 150, start: 0, grid: 10, maxStep: 5, advances: 0.2, missing: 0.9}},
	}
	for _, k := range kindCases() {
		for _, ss := range specSets {
			for _, cfg := range configs {
				t.Run(k.name+"/"+ss.name+"/"+cfg.name, func(t *testing.T) {
					aggs, err := testAggs(ss.specs, ss.equal)
					if err != nil {
						t.Fatal(err)
					}
					for seed := range uint64(6) {
						ops := genStream(rand.New(rand.NewPCG(seed, 99)), cfg.c)
						w, err := k.build(aggs)
						if err != nil {
							t.Fatal(err)
						}
						got, gotDl, err := drive(w, ops)
						if err != nil {
							t.Fatalf("seed %d: %v", seed, err)
						}
						want, wantDl := k.ref(ss.specs, ops)
						compareEmissions(t, ss.specs, got, want, k.sliding)
						for i := range ops {
							if gotDl[i] != wantDl[i] {
								t.Fatalf("seed %d: after op %d (%+v): NextDeadline %d, want %d", seed, i, ops[i], gotDl[i], wantDl[i])
							}
						}
						// Time windows all close or expire at the end of time;
						// count windows keep their partial or last n events.
						if !strings.Contains(k.name, "count") && !w.Empty() {
							t.Errorf("seed %d: not empty at end of input", seed)
						}
						// Reset must give a window that behaves as new.
						w.Reset()
						got, _, err = drive(w, ops)
						if err != nil {
							t.Fatal(err)
						}
						compareEmissions(t, ss.specs, got, want, k.sliding)
					}
				})
			}
		}
	}
}

// countSink formats emissions for the boundary tables.
type countSink struct{ out []string }

func (s *countSink) Emit(r Result[int]) {
	c := ""
	if r.Changed {
		c = " changed"
	}
	s.out = append(s.out, fmt.Sprintf("[%d,%d) t=%d n=%d%s", r.Start, r.End, r.Time, r.Count(), c))
}

// step is an operation of a boundary table: "i5" inserts at 5, "a12"
// advances to 12, "end" advances to the end of time.
func runSteps(t *testing.T, w Window[int], steps string) []string {
	t.Helper()
	sink := &countSink{}
	for _, s := range strings.Fields(steps) {
		sink.out = append(sink.out, "|"+s)
		var ts int64
		switch {
		case s == "end":
			w.Advance(math.MaxInt64, sink)
			continue
		case s[0] == 'i':
			fmt.Sscan(s[1:], &ts)
			if err := w.Insert(ts, Row[int]{}, sink); err != nil {
				sink.out = append(sink.out, err.Error())
			}
		case s[0] == 'a':
			fmt.Sscan(s[1:], &ts)
			w.Advance(ts, sink)
		}
	}
	return sink.out
}

// TestWindow_Boundaries pins the boundary decisions with hand-written
// expectations: events on window edges, empty windows, sessions split by
// exactly gap, expiry before arrival at one instant, end of input.
func TestWindow_Boundaries(t *testing.T) {
	aggs, err := NewAggs[int]([]AggSpec{{Op: OpCount}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	must := func(w Window[int], err error) Window[int] {
		if err != nil {
			t.Fatal(err)
		}
		return w
	}
	tests := []struct {
		name  string
		w     Window[int]
		steps string
		want  string // emissions after each step, "|step" marks the step
	}{
		{"tumbling end is exclusive", must(NewTumbling(aggs, 10)), "i0 i9 i10 a19 a20",
			"|i0 |i9 |i10 [0,10) t=10 n=2 changed |a19 |a20 [10,20) t=20 n=1 changed"},
		{"tumbling aligned to the epoch before 1970", must(NewTumbling(aggs, 10)), "i-11 i-10 i-1 i0 end",
			"|i-11 |i-10 [-20,-10) t=-10 n=1 changed |i-1 |i0 [-10,0) t=0 n=2 changed |end [0,10) t=10 n=1 changed"},
		{"tumbling skips empty windows", must(NewTumbling(aggs, 10)), "i5 i35 end",
			"|i5 |i35 [0,10) t=10 n=1 changed |end [30,40) t=40 n=1 changed"},
		{"tumbling closes on the watermark alone", must(NewTumbling(aggs, 10)), "i3 a9 a10 a50",
			"|i3 |a9 |a10 [0,10) t=10 n=1 changed |a50"},
		{"hopping event in two windows", must(NewHopping(aggs, 10, 5)), "i5 end",
			"|i5 |end [0,10) t=10 n=1 changed [5,15) t=15 n=1 changed"},
		{"hopping event on a boundary", must(NewHopping(aggs, 10, 5)), "i4 i10 end",
			"|i4 |i10 [-5,5) t=5 n=1 changed [0,10) t=10 n=1 changed |end [5,15) t=15 n=1 changed [10,20) t=20 n=1 changed"},
		{"hopping with gaps between windows", must(NewHopping(aggs, 3, 10)), "i2 i5 i12 i13 end",
			"|i2 |i5 [0,3) t=3 n=1 changed |i12 |i13 [10,13) t=13 n=1 changed |end"},
		{"session gap is exclusive", must(NewSession(aggs, 5)), "i0 i4 i9 a13 a14",
			"|i0 |i4 |i9 [0,9) t=9 n=2 changed |a13 |a14 [9,14) t=14 n=1 changed"},
		{"session closes at end of input", must(NewSession(aggs, 5)), "i0 i1 end",
			"|i0 |i1 |end [0,6) t=6 n=2 changed"},
		{"session one event per session", must(NewSession(aggs, 1)), "i0 i1 i1 end",
			"|i0 |i1 [0,1) t=1 n=1 changed |i1 |end [1,2) t=2 n=2 changed"},
		{"count window partial is dropped", must(NewCountTumbling(aggs, 2)), "i0 i0 i5 end",
			"|i0 |i0 [0,0) t=0 n=2 changed |i5 |end"},
		{"sliding expiry folded into a same-instant arrival", must(NewSliding(aggs, 10)), "i0 i5 i10",
			"|i0 [-10,0) t=0 n=1 changed |i5 [-5,5) t=5 n=2 changed |i10 [0,10) t=10 n=2"},
		{"sliding same-time events expire together", must(NewSliding(aggs, 10)), "i0 i0 i3 a20",
			"|i0 [-10,0) t=0 n=1 changed |i0 [-10,0) t=0 n=2 changed |i3 [-7,3) t=3 n=3 changed |a20 [0,10) t=10 n=1 changed [3,13) t=13 n=0 changed"},
		{"sliding expiry waits for the watermark to pass it", must(NewSliding(aggs, 10)), "i0 a9 a10 a11 a11",
			"|i0 [-10,0) t=0 n=1 changed |a9 |a10 |a11 [0,10) t=10 n=0 changed |a11"},
		{"sliding expiry then arrival at the watermark", must(NewSliding(aggs, 10)), "i0 i1 a10 i10 i10",
			"|i0 [-10,0) t=0 n=1 changed |i1 [-9,1) t=1 n=2 changed |a10 |i10 [0,10) t=10 n=2 |i10 [0,10) t=10 n=3 changed"},
		{"sliding count", must(NewCountSliding(aggs, 2)), "i0 i1 i1 end",
			"|i0 [0,0) t=0 n=1 changed |i1 [0,1) t=1 n=2 changed |i1 [1,1) t=1 n=2 |end"},
		{"late event rejected", must(NewTumbling(aggs, 10)), "i5 a7 i6 i7",
			"|i5 |a7 |i6 " + ErrEventTime.Error() + " |i7"},
		{"end of time is not an event time", must(NewSliding(aggs, 10)), "i9223372036854775807",
			"|i9223372036854775807 " + ErrEventTime.Error()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := strings.Join(runSteps(t, tt.w, tt.steps), " ")
			if got != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
}

// TestWindow_ExtremeTimes checks the int64 limits: an event whose window
// would reach them is refused, one just inside gets exact bounds.
func TestWindow_ExtremeTimes(t *testing.T) {
	aggs, _ := NewAggs[int]([]AggSpec{{Op: OpCount}}, nil)
	const lo, hi = math.MinInt64, math.MaxInt64
	build := map[string]func() (Window[int], error){
		"tumbling": func() (Window[int], error) { return NewTumbling(aggs, 1000) },
		"hopping":  func() (Window[int], error) { return NewHopping(aggs, 1000, 300) },
		"session":  func() (Window[int], error) { return NewSession(aggs, 1000) },
		"sliding":  func() (Window[int], error) { return NewSliding(aggs, 1000) },
		"count":    func() (Window[int], error) { return NewCountTumbling(aggs, 1) },
		"slcount":  func() (Window[int], error) { return NewCountSliding(aggs, 1) },
	}
	tests := []struct {
		kind string
		ts   int64
		want string // "" for ErrEventTime
	}{
		{"tumbling", lo + 999, ""},
		{"tumbling", lo + 1000, fmt.Sprintf("[%d,%d)", lo+1000-floorMod(lo+1000, 1000), lo+1000-floorMod(lo+1000, 1000)+1000)},
		{"tumbling", hi - 1000, ""},
		{"tumbling", hi - 1001, fmt.Sprintf("[%d,%d)", hi-1001-floorMod(hi-1001, 1000), hi-1001-floorMod(hi-1001, 1000)+1000)},
		{"hopping", lo + 999, ""},
		{"hopping", hi - 1000, ""},
		{"session", lo + 999, ""},
		{"session", hi - 1001, fmt.Sprintf("[%d,%d)", hi-1001, hi-1)},
		{"session", hi - 1000, ""},
		{"sliding", lo + 1000, fmt.Sprintf("[%d,%d)", lo, lo+1000)},
		{"sliding", hi - 1000, ""},
		{"count", hi - 1, fmt.Sprintf("[%d,%d)", hi-1, hi-1)},
		{"count", hi, ""},
		{"slcount", lo, fmt.Sprintf("[%d,%d)", lo, lo)},
		{"slcount", hi, ""},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s/%d", tt.kind, tt.ts), func(t *testing.T) {
			w, err := build[tt.kind]()
			if err != nil {
				t.Fatal(err)
			}
			sink := &countSink{}
			err = w.Insert(tt.ts, Row[int]{}, sink)
			if tt.want == "" {
				if err != ErrEventTime {
					t.Fatalf("Insert(%d) = %v, want ErrEventTime", tt.ts, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Insert(%d) = %v", tt.ts, err)
			}
			w.Advance(math.MaxInt64, sink)
			if len(sink.out) == 0 || !strings.HasPrefix(sink.out[0], tt.want) {
				t.Errorf("Insert(%d) then end: %v, want first %s", tt.ts, sink.out, tt.want)
			}
		})
	}
	// Hopping windows near the lower limit: each of the ceil(1000/300)
	// windows containing the event, in order, all exact.
	w, _ := NewHopping(aggs, 1000, 300)
	ts := int64(lo + 1000)
	sink := &countSink{}
	if err := w.Insert(ts, Row[int]{}, sink); err != nil {
		t.Fatal(err)
	}
	w.Advance(hi, sink)
	var want []string
	for k := floorDiv(ts-1000, 300) + 1; k*300 <= ts; k++ {
		want = append(want, fmt.Sprintf("[%d,%d) t=%d n=1 changed", k*300, k*300+1000, k*300+1000))
	}
	if !slices.Equal(sink.out, want) {
		t.Errorf("hopping near min: %v, want %v", sink.out, want)
	}
}

// TestWindow_Errors checks every error value.
func TestWindow_Errors(t *testing.T) {
	aggs, err := NewAggs[int]([]AggSpec{{Op: OpSum, Arg: 1}, {Op: OpCountDistinct}, {Op: OpLast, Arg: 2}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if n, k, v := aggs.Columns(); n != 2 || k != 1 || v != 3 {
		t.Fatalf("Columns() = %d, %d, %d; want 2, 1, 3", n, k, v)
	}
	specErrors := []struct {
		specs []AggSpec
		want  string
	}{
		{[]AggSpec{{Op: 0}}, "window: invalid aggregate: aggregate 0: unknown op 0"},
		{[]AggSpec{{Op: OpPercentile + 1}}, "window: invalid aggregate: aggregate 0: unknown op 12"},
		{[]AggSpec{{Op: OpSum, Arg: -1}}, "window: invalid aggregate: aggregate 0 (sum): column -1"},
		{[]AggSpec{{Op: OpCount, Arg: 2}}, "window: invalid aggregate: aggregate 0 (count): column 2"},
		{[]AggSpec{{Op: OpCount}, {Op: OpPercentile, Q: 1.5}}, "window: invalid aggregate: aggregate 1 (percentile): quantile 1.5 outside [0, 1]"},
		{[]AggSpec{{Op: OpPercentile, Q: math.NaN()}}, "window: invalid aggregate: aggregate 0 (percentile): quantile NaN outside [0, 1]"},
		{[]AggSpec{{Op: OpMax, Q: 0.5}}, "window: invalid aggregate: aggregate 0 (max): quantile given"},
		{make([]AggSpec, 65), "window: invalid aggregate: 65 aggregates, at most 64"},
		{[]AggSpec{{Op: OpMin, Val: true}}, "window: invalid aggregate: aggregate 0 (min over Val): no Less function"},
		{[]AggSpec{{Op: OpSum, Val: true}}, "window: invalid aggregate: aggregate 0 (sum): Val is for min and max"},
		{[]AggSpec{{Op: OpSum, Skip: 1}}, "window: invalid aggregate: aggregate 0 (sum): skip column 0"},
		{[]AggSpec{{Op: OpCountDistinct, Skip: -1}}, "window: invalid aggregate: aggregate 0 (count_distinct): skip column -2"},
	}
	for _, tt := range specErrors {
		_, err := NewAggs[int](tt.specs, nil)
		if err == nil || err.Error() != tt.want || !errors.Is(err, ErrSpec) {
			t.Errorf("NewAggs(%v) = %v, want %q", tt.specs, err, tt.want)
		}
	}
	paramErrors := []struct {
		build func() error
		want  string
	}{
		{func() error { _, err := NewTumbling(aggs, 0); return err }, "window: invalid window parameter: tumbling size 0, want > 0"},
		{func() error { _, err := NewHopping(aggs, 10, 0); return err }, "window: invalid window parameter: hopping size 10 every 0, want both > 0"},
		{func() error { _, err := NewHopping(aggs, 1e6, 1); return err }, "window: invalid window parameter: hopping size 1000000 every 1 overlaps 1000000 windows, at most 4096"},
		{func() error { _, err := NewSession(aggs, -1); return err }, "window: invalid window parameter: session gap -1, want > 0"},
		{func() error { _, err := NewCountTumbling(aggs, 0); return err }, "window: invalid window parameter: count 0, want > 0"},
		{func() error { _, err := NewSliding(aggs, 0); return err }, "window: invalid window parameter: sliding length 0, want > 0"},
		{func() error { _, err := NewCountSliding(aggs, 0); return err }, "window: invalid window parameter: sliding count 0, want > 0"},
	}
	for _, tt := range paramErrors {
		if err := tt.build(); err == nil || err.Error() != tt.want || !errors.Is(err, ErrParam) {
			t.Errorf("got %v, want %q", err, tt.want)
		}
	}
	good := Row[int]{Num: []float64{1, 2}, Key: []uint64{3}, Val: []int{4, 5, 6}}
	short := []Row[int]{
		{Num: []float64{1}, Key: []uint64{3}, Val: []int{4, 5, 6}},
		{Num: []float64{1, 2}, Val: []int{4, 5, 6}},
		{Num: []float64{1, 2}, Key: []uint64{3}, Val: []int{4, 5}},
	}
	for _, k := range kindCases() {
		w, err := k.build(aggs)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range short {
			if err := w.Insert(0, r, nil); err != ErrRowShape {
				t.Errorf("%s: Insert(short row %v) = %v, want ErrRowShape", k.name, r, err)
			}
		}
		if err := w.Insert(5, good, nil); err != nil {
			t.Errorf("%s: Insert = %v", k.name, err)
		}
		if err := w.Insert(4, good, nil); err != ErrEventTime {
			t.Errorf("%s: Insert(late) = %v, want ErrEventTime", k.name, err)
		}
	}
	acc := NewAcc(aggs)
	if err := acc.Add(short[0]); err != ErrRowShape {
		t.Errorf("Acc.Add(short) = %v, want ErrRowShape", err)
	}
}

// TestWindow_ChangedFirstLast checks Changed for first/last with and
// without an equal function: by value, or by event identity.
func TestWindow_ChangedFirstLast(t *testing.T) {
	specs := []AggSpec{{Op: OpLast}}
	for _, tt := range []struct {
		equal func(a, b int) bool
		want  []bool
	}{
		{intEqual, []bool{true, false, true, false}},
		{nil, []bool{true, true, true, true}},
	} {
		aggs, _ := NewAggs(specs, tt.equal)
		w, _ := NewCountSliding(aggs, 3)
		var got []bool
		sink := SinkFunc[int](func(r Result[int]) { got = append(got, r.Changed) })
		for _, v := range []int{7, 7, 8, 8} {
			if err := w.Insert(0, Row[int]{Val: []int{v}}, sink); err != nil {
				t.Fatal(err)
			}
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("equal=%v: Changed %v, want %v", tt.equal != nil, got, tt.want)
		}
	}
}

// TestWindow_SizeBytes checks that the estimate grows with the events held
// and is reported for every kind.
func TestWindow_SizeBytes(t *testing.T) {
	aggs, _ := testAggs(allSpecs, intEqual)
	for _, k := range kindCases() {
		w, _ := k.build(aggs)
		empty := w.SizeBytes()
		if empty <= 0 {
			t.Errorf("%s: SizeBytes() = %d", k.name, empty)
		}
		ops := genStream(rand.New(rand.NewPCG(1, 1)), streamConfig{events: 100, grid: 1000, maxStep: 1})
		for _, o := range ops[:len(ops)-1] {
			if o.insert {
				_ = w.Insert(o.ts, o.row(), nil)
			}
		}
		if k.sliding && w.SizeBytes() <= empty {
			t.Errorf("%s: SizeBytes() %d with events, %d empty", k.name, w.SizeBytes(), empty)
		}
		if l, ok := w.(interface{ Len() int }); ok && (l.Len() == 0) != w.Empty() {
			t.Errorf("%s: Len() %d but Empty() %v", k.name, l.Len(), w.Empty())
		}
	}
}

// recordSink keeps every result read in full.
type recordSink struct {
	got     []string
	changed []bool
}

func (s *recordSink) Emit(r Result[int]) {
	s.changed = append(s.changed, r.Changed)
	line := fmt.Sprint(r.Start, r.End, r.Time, r.Count())
	for i := range r.acc.aggs.Len() {
		f, ok := r.Float(i)
		v, vok := r.Value(i)
		line += fmt.Sprint(" ", f, ok, v, vok)
	}
	s.got = append(s.got, line)
}

// TestWindow_CountSlidingNoChanged holds a CountSliding that skips
// Changed to the same results as one that tracks it, Changed aside.
func TestWindow_CountSlidingNoChanged(t *testing.T) {
	for _, specs := range [][]AggSpec{allSpecs, {{Op: OpSum, Arg: 0}, {Op: OpCount}, {Op: OpAvg, Arg: 1}}} {
		aggs, err := testAggs(specs, intEqual)
		if err != nil {
			t.Fatal(err)
		}
		ops := genStream(rand.New(rand.NewPCG(31, 32)), streamConfig{events: 500, grid: 10, maxStep: 5, advances: 0.2, special: true, missing: 0.2})
		plain, _ := NewCountSliding(aggs, 7)
		quick, _ := NewCountSliding(aggs, 7)
		quick.NoChanged()
		var a, b recordSink
		replay(t, plain, ops, 0, &a)
		replay(t, quick, ops, 0, &b)
		if len(a.got) != len(b.got) || len(a.got) == 0 {
			t.Fatalf("%d results, want %d", len(b.got), len(a.got))
		}
		for i := range a.got {
			if b.got[i] != a.got[i] || !b.changed[i] {
				t.Fatalf("result %d: %s (changed %v), want %s (changed true)", i, b.got[i], b.changed[i], a.got[i])
			}
		}
	}
}
