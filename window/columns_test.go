package window

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// columns is what Tumblings, Slidings and CountSlidings share: many keys'
// windows in columns.
type columns interface {
	Grow(keys int)
	Insert(k int, ts int64, row Row[int], sink Sink[int]) error
	Advance(k int, wm int64, sink Sink[int])
	NextDeadline(k int) (int64, bool)
	Empty(k int) bool
	Reset(k int)
}

// insertCols is cols.Insert, or when add is set its other entries: by
// Tumblings.Add first (where Add takes the event, it must leave the
// deadline as it was and emit nothing), or by InsertSums for Slidings and
// CountSlidings, whose results are emitted here as the Result Insert
// would emit (which the comparisons with the reference see).
func insertCols(t testing.TB, cols columns, add bool, k int, ts int64, row Row[int], sink Sink[int]) error {
	if !add {
		return cols.Insert(k, ts, row, sink)
	}
	switch w := cols.(type) {
	case *Tumblings[int]:
		d0, ok0 := w.NextDeadline(k)
		if w.Add(k, ts, row.Num) {
			if d, ok := w.NextDeadline(k); !ok0 || d != d0 || !ok {
				t.Fatalf("key %d: Add at %d moved the deadline %d %v to %d %v", k, ts, d0, ok0, d, ok)
			}
			return nil
		}
	case *Slidings[int]:
		n, num, ok, changed, err := w.InsertSums(k, ts, row.Num, sink)
		if err == nil {
			sink.Emit(sumsResult(w.aggs, ts-w.d, ts, changed, n, num, ok))
		}
		return err
	case *CountSlidings[int]:
		num := make([]float64, w.aggs.Len())
		n, ok, err := w.InsertSums(k, ts, row.Num, num)
		if err == nil {
			b := w.block(k)
			start := int64(b[w.ring+int(b[0]>>32)*w.entry])
			sink.Emit(sumsResult(w.aggs, start, ts, true, n, num, ok))
		}
		return err
	}
	return cols.Insert(k, ts, row, sink)
}

// advanceCols is cols.Advance, or when sums is set and cols is a
// Slidings, AdvanceSums until it reports no instant, each instant's
// results emitted here as the Result Advance would emit.
func advanceCols(cols columns, sums bool, k int, wm int64, sink Sink[int]) {
	w, ok := cols.(*Slidings[int])
	if !sums || !ok {
		cols.Advance(k, wm, sink)
		return
	}
	for {
		at, n, num, ok, changed, due := w.AdvanceSums(k, wm)
		if !due {
			return
		}
		sink.Emit(sumsResult(w.aggs, at-w.d, at, changed, n, num, ok))
	}
}

// sumsResult is the Result a window emits for results its InsertSums or
// AdvanceSums returned: of the window [start, end), at end.
func sumsResult(aggs *Aggs[int], start, end int64, changed bool, n int64, num []float64, ok uint64) Result[int] {
	return Result[int]{Start: start, End: end, Time: end, Changed: changed,
		acc: &Acc[int]{aggs: aggs, n: n}, snap: &snapshot[int]{num: num, ok: ok}}
}

// FuzzColumns decodes a column layout, its parameter and a stream of
// events and watermarks of four keys from the input, and holds the columns
// to one window of the same kind per key (which FuzzWindow holds to the
// reference): the same emissions, bit for bit with Changed, the same
// deadlines and emptiness after every operation, and a key reset and
// reused behaves as new.
//
// Layout: data[0] layout (Tumblings, Slidings, CountSlidings), data[1] the
// size (1..32); then three bytes per operation: the first's top bit makes
// it an Advance, its low 5 bits the time step; the second's low 2 bits the
// key, its bit 7 a Reset of that key first; the third the value (255, 254,
// 253, 252 give NaN, +Inf, -Inf, Missing in column 0).
func FuzzColumns(f *testing.F) {
	f.Add([]byte{0, 10, 0, 0, 1, 9, 1, 2, 1, 2, 3, 0x81, 0, 0, 5, 3, 4})
	f.Add([]byte{1, 10, 0, 0, 1, 4, 1, 2, 6, 2, 3, 0x85, 1, 0, 5, 0, 255, 0, 0x81, 7})
	f.Add([]byte{2, 3, 0, 0, 1, 4, 1, 2, 0, 0, 5, 0x83, 3, 2, 1, 1, 254})
	f.Add([]byte{1, 1, 0, 0, 253, 0, 1, 252, 1, 0, 4, 0, 0x80, 1, 0x9f, 2, 0})
	specs := []AggSpec{{Op: OpSum, Arg: 0}, {Op: OpCount}, {Op: OpAvg, Arg: 1}, {Op: OpAvg, Arg: 0}, {Op: OpSum, Arg: 1}}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) < 2 || len(data) > 902 {
			return
		}
		aggs, err := testAggs(specs, nil)
		if err != nil {
			t.Fatal(err)
		}
		size := int64(data[1]%32 + 1)
		var cols columns
		var perKey func() Window[int]
		switch data[0] % 3 {
		case 0:
			cols, _ = NewTumblings(aggs, size)
			perKey = func() Window[int] { w, _ := NewTumbling(aggs, size); return w }
		case 1:
			cols, _ = NewSlidings(aggs, size)
			perKey = func() Window[int] { w, _ := NewSliding(aggs, size); return w }
		default:
			cols, _ = NewCountSlidings(aggs, int(size))
			perKey = func() Window[int] {
				w, _ := NewCountSliding(aggs, int(size))
				w.NoChanged()
				return w
			}
		}
		const keys = 4
		cols.Grow(keys)
		ref := make([]Window[int], keys)
		for k := range ref {
			ref[k] = perKey()
		}
		got, want := make([]recorder, keys), make([]recorder, keys)
		check := func(i, k int) {
			gd, gok := cols.NextDeadline(k)
			wd, wok := ref[k].NextDeadline()
			if gd != wd || gok != wok || cols.Empty(k) != ref[k].Empty() {
				t.Fatalf("op %d key %d: deadline %d %v empty %v, want %d %v %v", i, k, gd, gok, cols.Empty(k), wd, wok, ref[k].Empty())
			}
		}
		ts := int64(-40)
		for i, j := 0, 2; j+2 < len(data); i, j = i+1, j+3 {
			ts += int64(data[j] & 0x1f)
			k := int(data[j+1] & 3)
			got[k].op, want[k].op = i, i
			if data[j+1]&0x80 != 0 {
				cols.Reset(k)
				ref[k].Reset()
			}
			if data[j]&0x80 != 0 {
				advanceCols(cols, data[j+1]&0x40 != 0, k, ts, &got[k])
				ref[k].Advance(ts, &want[k])
				check(i, k)
				continue
			}
			v := data[j+2]
			row := Row[int]{Num: []float64{fuzzValue(v), float64(v / 3)}}
			err1 := insertCols(t, cols, data[j+1]&0x40 != 0, k, ts, row, &got[k])
			err2 := ref[k].Insert(ts, row, &want[k])
			if (err1 == nil) != (err2 == nil) || err1 != nil && !errors.Is(err1, err2) {
				t.Fatalf("op %d key %d: Insert: %v, want %v", i, k, err1, err2)
			}
			check(i, k)
		}
		for k := range keys {
			cols.Advance(k, math.MaxInt64, &got[k])
			ref[k].Advance(math.MaxInt64, &want[k])
			g, w := got[k].out, want[k].out
			if len(g) != len(w) {
				t.Fatalf("key %d: %d emissions, want %d", k, len(g), len(w))
			}
			for e := range w {
				if g[e].op != w[e].op || g[e].start != w[e].start || g[e].end != w[e].end || g[e].time != w[e].time ||
					g[e].count != w[e].count || g[e].changed != w[e].changed {
					t.Fatalf("key %d emission %d: %+v, want %+v", k, e, g[e], w[e])
				}
				for a := range specs {
					if g[e].ok[a] != w[e].ok[a] || math.Float64bits(g[e].num[a]) != math.Float64bits(w[e].num[a]) {
						t.Fatalf("key %d emission %d: %s = %v (%v), want %v (%v)", k, e, specs[a].Op, g[e].num[a], g[e].ok[a], w[e].num[a], w[e].ok[a])
					}
				}
			}
		}
	})
}

// TestColumns_perKey holds Tumblings, Slidings and CountSlidings to one
// window of the same kind per key: random streams of several keys, merged
// in time order, with watermarks in between, give every key the same
// emissions (times, Changed, counts, sums and averages bit for bit,
// missing and non-finite values), deadlines and emptiness after every
// operation, and a key reset and reused behaves as new.
func TestColumns_perKey(t *testing.T) {
	layouts := []struct {
		name   string
		sizes  []int64
		cols   func(a *Aggs[int], size int64) (columns, error)
		perKey func(a *Aggs[int], size int64) Window[int]
	}{
		{"tumblings", []int64{10, 7, 1},
			func(a *Aggs[int], size int64) (columns, error) { return NewTumblings(a, size) },
			func(a *Aggs[int], size int64) Window[int] { w, _ := NewTumbling(a, size); return w }},
		{"slidings", []int64{1, 7, 10, 60},
			func(a *Aggs[int], size int64) (columns, error) { return NewSlidings(a, size) },
			func(a *Aggs[int], size int64) Window[int] { w, _ := NewSliding(a, size); return w }},
		{"countslidings", []int64{1, 3, 10},
			func(a *Aggs[int], size int64) (columns, error) { return NewCountSlidings(a, int(size)) },
			func(a *Aggs[int], size int64) Window[int] {
				w, _ := NewCountSliding(a, int(size))
				w.NoChanged()
				return w
			}},
	}
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
	for _, l := range layouts {
		for sname, specs := range specSets {
			for cname, cfg := range configs {
				for _, size := range l.sizes {
					aggs, err := testAggs(specs, nil)
					if err != nil {
						t.Fatal(err)
					}
					for seed := range uint64(4) {
						where := fmt.Sprintf("%s/%s/%s/%d seed %d", l.name, sname, cname, size, seed)
						rng := rand.New(rand.NewPCG(seed, 41))
						const keys = 5
						var steps []step
						for k := range keys {
							for _, o := range genStream(rng, cfg) {
								steps = append(steps, step{k, o})
							}
						}
						slices.SortStableFunc(steps, func(a, b step) int { return cmp.Compare(a.ts, b.ts) })
						cw, err := l.cols(aggs, size)
						if err != nil {
							t.Fatal(err)
						}
						cw.Grow(keys)
						for round := range 2 { // the second after Reset of every key
							got, want := make([]recorder, keys), make([]recorder, keys)
							ref := make([]Window[int], keys)
							for k := range ref {
								ref[k] = l.perKey(aggs, size)
							}
							if round == 1 {
								for k := range keys {
									cw.Reset(k)
								}
								// Reset of one key keeps the columns' time.
								switch c := cw.(type) {
								case *Tumblings[int]:
									c.now = math.MinInt64
								case *Slidings[int]:
									c.now = math.MinInt64
								case *CountSlidings[int]:
									c.now = math.MinInt64
								}
							}
							for i, s := range steps {
								got[s.key].op, want[s.key].op = i, i
								if s.insert {
									err1 := insertCols(t, cw, i%2 == 0, s.key, s.ts, s.row(), &got[s.key])
									err2 := ref[s.key].Insert(s.ts, s.row(), &want[s.key])
									if !errors.Is(err1, err2) && err1 != err2 {
										t.Fatalf("%s step %d: Insert: %v, want %v", where, i, err1, err2)
									}
								} else {
									advanceCols(cw, i%2 == 0, s.key, s.ts, &got[s.key])
									ref[s.key].Advance(s.ts, &want[s.key])
								}
								gd, gok := cw.NextDeadline(s.key)
								wd, wok := ref[s.key].NextDeadline()
								if gd != wd || gok != wok || cw.Empty(s.key) != ref[s.key].Empty() {
									t.Fatalf("%s step %d: deadline %d %v empty %v, want %d %v %v", where, i, gd, gok, cw.Empty(s.key), wd, wok, ref[s.key].Empty())
								}
							}
							for k := range keys {
								cw.Advance(k, math.MaxInt64, &got[k])
								ref[k].Advance(math.MaxInt64, &want[k])
								g, w := got[k].out, want[k].out
								if len(w) == 0 {
									t.Fatalf("%s key %d: no emission: the stream is too weak", where, k)
								}
								compareEmissions(t, specs, g, w, l.name == "slidings")
								if len(g) != len(w) {
									t.Fatalf("%s key %d: %d emissions, want %d", where, k, len(g), len(w))
								}
								for e := range w {
									if g[e].changed != w[e].changed {
										t.Fatalf("%s key %d emission %d: changed %v, want %v", where, k, e, g[e].changed, w[e].changed)
									}
									for j := range w[e].num {
										if math.Float64bits(g[e].num[j]) != math.Float64bits(w[e].num[j]) {
											t.Fatalf("%s key %d emission %d: %s = %v, want %v bit for bit", where, k, e, specs[j].Op, g[e].num[j], w[e].num[j])
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
}

// TestColumns_refused: each column layout refuses aggregates beyond count,
// sum and avg and a size of 0 (ErrParam), an event earlier than the
// latest time given for any key (ErrEventTime) and a narrow row
// (ErrRowShape).
func TestColumns_refused(t *testing.T) {
	minAggs, _ := testAggs([]AggSpec{{Op: OpMin, Arg: 0}}, nil)
	sumAggs, _ := testAggs([]AggSpec{{Op: OpSum, Arg: 0}}, nil)
	for _, l := range []struct {
		name string
		make func(a *Aggs[int], size int64) (columns, error)
	}{
		{"tumblings", func(a *Aggs[int], size int64) (columns, error) { return NewTumblings(a, size) }},
		{"slidings", func(a *Aggs[int], size int64) (columns, error) { return NewSlidings(a, size) }},
		{"countslidings", func(a *Aggs[int], size int64) (columns, error) { return NewCountSlidings(a, int(size)) }},
	} {
		if _, err := l.make(minAggs, 10); !errors.Is(err, ErrParam) {
			t.Errorf("%s: min: %v, want ErrParam", l.name, err)
		}
		if _, err := l.make(sumAggs, 0); !errors.Is(err, ErrParam) {
			t.Errorf("%s: size 0: %v, want ErrParam", l.name, err)
		}
		w, err := l.make(sumAggs, 10)
		if err != nil {
			t.Fatal(err)
		}
		w.Grow(2)
		row := Row[int]{Num: []float64{1, 2, 3}}
		if err := w.Insert(0, 50, row, nil); err != nil {
			t.Fatal(err)
		}
		if err := w.Insert(1, 49, row, nil); !errors.Is(err, ErrEventTime) {
			t.Errorf("%s: key 1 behind key 0: %v, want ErrEventTime", l.name, err)
		}
		if err := w.Insert(1, 50, Row[int]{}, nil); !errors.Is(err, ErrRowShape) {
			t.Errorf("%s: narrow row: %v, want ErrRowShape", l.name, err)
		}
	}
	// Tumblings.Add takes an event in an open window only, and counts its
	// time as Insert does.
	tb, _ := NewTumblings(sumAggs, 10)
	tb.Grow(2)
	row := Row[int]{Num: []float64{1}}
	if tb.Add(0, 50, row.Num) {
		t.Error("tumblings: Add opened a window")
	}
	if err := tb.Insert(0, 50, row, nil); err != nil {
		t.Fatal(err)
	}
	if !tb.Add(0, 55, row.Num) || tb.Add(0, 60, row.Num) || tb.Add(1, 55, row.Num) {
		t.Error("tumblings: Add at 55 refused or at 60 (the window's end) or in no window taken")
	}
	if err := tb.Insert(1, 54, row, nil); !errors.Is(err, ErrEventTime) {
		t.Errorf("tumblings: key 1 behind key 0's Add: %v, want ErrEventTime", err)
	}
	if tb.Add(0, 54, row.Num) {
		t.Error("tumblings: Add behind the latest time taken")
	}
	// InsertSums refuses as Insert does.
	cs, _ := NewCountSlidings(sumAggs, 10)
	cs.Grow(2)
	out := make([]float64, 1)
	if _, _, err := cs.InsertSums(0, 50, nil, out); !errors.Is(err, ErrRowShape) {
		t.Errorf("countslidings: InsertSums of no column: %v, want ErrRowShape", err)
	}
	if n, ok, err := cs.InsertSums(0, 50, []float64{2}, out); err != nil || n != 1 || ok != 1 || out[0] != 2 {
		t.Errorf("countslidings: InsertSums = %d, %b, %v, sum %v; want 1, 1, nil, 2", n, ok, err, out[0])
	}
	if _, _, err := cs.InsertSums(1, 49, []float64{2}, out); !errors.Is(err, ErrEventTime) {
		t.Errorf("countslidings: InsertSums behind: %v, want ErrEventTime", err)
	}
	ss, _ := NewSlidings(sumAggs, 10)
	ss.Grow(2)
	if _, _, _, _, err := ss.InsertSums(0, 50, nil, nil); !errors.Is(err, ErrRowShape) {
		t.Errorf("slidings: InsertSums of a narrow row: %v, want ErrRowShape", err)
	}
	w, _ := NewCountSlidings(sumAggs, 10)
	if w.BlockBytes() != 8*(1+4+10*2) {
		t.Errorf("countslidings: block %d bytes, want %d", w.BlockBytes(), 8*(1+4+10*2))
	}
	s, _ := NewSlidings(sumAggs, 10)
	s.Grow(1)
	if err := s.Insert(0, math.MaxInt64-5, Row[int]{Num: []float64{1}}, nil); !errors.Is(err, ErrEventTime) {
		t.Errorf("slidings: a window past the end of time: %v, want ErrEventTime", err)
	}
}

// TestWindow_noResidue: when the last finite value of a sum leaves while
// only non-finite or missing values stay, the running sum restarts from
// an exact zero. Removing it by compensated subtraction leaves a residue
// for some values (6e9, -7e19, -2e-5 leave 5e-14), which the sum would
// carry into the values that come later: three 1s after them must sum to
// 3, not 3.00000000000005. Every window that removes values, per key and
// in columns, with NaN and with missing values in between.
func TestWindow_noResidue(t *testing.T) {
	aggs, err := testAggs([]AggSpec{{Op: OpSum, Arg: 0}, {Op: OpAvg, Arg: 0}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	mixed, err := testAggs([]AggSpec{{Op: OpSum, Arg: 0}, {Op: OpMin, Arg: 0}}, nil) // (not sums-only: Acc's other loop)
	if err != nil {
		t.Fatal(err)
	}
	for _, filler := range []float64{math.NaN(), Missing} {
		xs := []float64{6e9, -7e19, -2e-5, filler, filler, filler, 1, 1, 1}
		layouts := map[string]func() Window[int]{
			"count sliding":        func() Window[int] { w, _ := NewCountSliding(aggs, 3); return w },
			"sliding":              func() Window[int] { w, _ := NewSliding(aggs, 3); return w },
			"count sliding, mixed": func() Window[int] { w, _ := NewCountSliding(mixed, 3); return w },
			"sliding, mixed":       func() Window[int] { w, _ := NewSliding(mixed, 3); return w },
		}
		for name, mk := range layouts {
			var sum float64
			var ok bool
			sink := SinkFunc[int](func(r Result[int]) { sum, ok = r.Float(0) })
			w := mk()
			for i, x := range xs {
				if err := w.Insert(int64(i), Row[int]{Num: []float64{x}}, sink); err != nil {
					t.Fatal(err)
				}
			}
			if !ok || sum != 3 {
				t.Errorf("%s, filler %v: sum %v (ok %v), want exactly 3", name, filler, sum, ok)
			}
		}
		cs, _ := NewCountSlidings(aggs, 3)
		ss, _ := NewSlidings(aggs, 3)
		cs.Grow(1)
		ss.Grow(1)
		out := make([]float64, 2)
		for i, x := range xs {
			if _, _, err := cs.InsertSums(0, int64(i), []float64{x}, out); err != nil {
				t.Fatal(err)
			}
		}
		if out[0] != 3 {
			t.Errorf("count slidings, filler %v: sum %v, want exactly 3", filler, out[0])
		}
		var num []float64
		for i, x := range xs {
			if _, num, _, _, err = ss.InsertSums(0, int64(i), []float64{x}, nil); err != nil {
				t.Fatal(err)
			}
		}
		if num[0] != 3 {
			t.Errorf("slidings, filler %v: sum %v, want exactly 3", filler, num[0])
		}
	}
}

// TestSlidings_prefetch: the prefetch hints take any key, with or without
// a buffer, in range or not, and change nothing.
func TestSlidings_prefetch(t *testing.T) {
	a, _ := testAggs([]AggSpec{{Op: OpSum, Arg: 0}}, nil)
	w, err := NewSlidings(a, 10)
	if err != nil {
		t.Fatal(err)
	}
	w.Grow(3)
	if err := w.Insert(1, 5, Row[int]{Num: []float64{2}}, nil); err != nil {
		t.Fatal(err)
	}
	for _, k := range []int{-1, 0, 1, 2, 3, 1 << 40} {
		w.PrefetchRecord(k)
		w.PrefetchWindow(k)
	}
	if at, ok := w.NextDeadline(1); !ok || at != 16 || !w.Empty(0) || !w.Empty(2) {
		t.Errorf("after the hints: key 1 due %d %v, keys 0 and 2 empty %v %v; want 16 true, true true", at, ok, w.Empty(0), w.Empty(2))
	}
}
