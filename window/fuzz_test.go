package window

import (
	"math"
	"testing"
)

// FuzzWindow decodes a window kind, its parameters and a stream from the
// input, runs the window and compares every emission and deadline with the
// reference model.
//
// Layout: data[0] kind, data[1] and data[2] parameters (1..32); then two
// bytes per operation: the first's top bit makes it an Advance, its low 5
// bits the time step; the second is the value (255, 254, 253, 252 give NaN,
// +Inf, -Inf, Missing in column 0; multiples of 7 a missing Skip column and
// a missing Val).
func FuzzWindow(f *testing.F) {
	f.Add([]byte{0, 10, 0, 0, 1, 9, 2, 1, 3, 0x81, 0, 5, 4})
	f.Add([]byte{1, 10, 3, 0, 1, 4, 2, 6, 3, 0x85, 0, 5, 255, 0, 7})
	f.Add([]byte{2, 5, 0, 0, 1, 4, 2, 5, 3, 0x85, 0, 1, 254})
	f.Add([]byte{3, 3, 0, 0, 1, 0, 2, 0, 3, 1, 4})
	f.Add([]byte{4, 10, 0, 0, 1, 5, 2, 5, 3, 0x8a, 0, 0, 253, 0, 255})
	f.Add([]byte{5, 3, 0, 0, 1, 1, 2, 1, 2, 0, 3, 2, 9})
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) < 3 || len(data) > 603 {
			return
		}
		p1, p2 := int64(data[1]%32+1), int64(data[2]%32+1)
		var k kindCase
		switch data[0] % 6 {
		case 0:
			k = kindCase{build: func(a *Aggs[int]) (Window[int], error) { return NewTumbling(a, p1) },
				ref: func(s []AggSpec, ops []op) ([]emission, []int64) { return refTumbling(s, ops, p1) }}
		case 1:
			k = kindCase{build: func(a *Aggs[int]) (Window[int], error) { return NewHopping(a, p1, p2) },
				ref: func(s []AggSpec, ops []op) ([]emission, []int64) { return refHopping(s, ops, p1, p2) }}
		case 2:
			k = kindCase{build: func(a *Aggs[int]) (Window[int], error) { return NewSession(a, p1) },
				ref: func(s []AggSpec, ops []op) ([]emission, []int64) { return refSession(s, ops, p1) }}
		case 3:
			k = kindCase{build: func(a *Aggs[int]) (Window[int], error) { return NewCountTumbling(a, int(p1)) },
				ref: func(s []AggSpec, ops []op) ([]emission, []int64) { return refCountTumbling(s, ops, int(p1)) }}
		case 4:
			k = kindCase{build: func(a *Aggs[int]) (Window[int], error) { return NewSliding(a, p1) },
				ref:     func(s []AggSpec, ops []op) ([]emission, []int64) { return refSliding(s, ops, p1) },
				sliding: true}
		case 5:
			k = kindCase{build: func(a *Aggs[int]) (Window[int], error) { return NewCountSliding(a, int(p1)) },
				ref:     func(s []AggSpec, ops []op) ([]emission, []int64) { return refCountSliding(s, ops, int(p1)) },
				sliding: true}
		}
		var ops []op
		ts := int64(-40)
		for i := 3; i+1 < len(data); i += 2 {
			ts += int64(data[i] & 0x1f)
			if data[i]&0x80 != 0 {
				ops = append(ops, op{ts: ts})
				continue
			}
			v := data[i+1]
			x := fuzzValue(v)
			x2, val := 0.0, int(v%4)
			if v%7 == 0 {
				x2, val = Missing, -1
			}
			ops = append(ops, op{insert: true, ts: ts, num: []float64{x, float64(v / 3), x2},
				key: []uint64{uint64(v % 16)}, val: []int{val}})
		}
		ops = append(ops, op{ts: math.MaxInt64})
		aggs, err := testAggs(allSpecs, intEqual)
		if err != nil {
			t.Fatal(err)
		}
		w, err := k.build(aggs)
		if err != nil {
			t.Fatal(err)
		}
		got, gotDl, err := drive(w, ops)
		if err != nil {
			t.Fatal(err)
		}
		want, wantDl := k.ref(allSpecs, ops)
		compareEmissions(t, allSpecs, got, want, k.sliding)
		for i := range ops {
			if gotDl[i] != wantDl[i] {
				t.Fatalf("after op %d: NextDeadline %d, want %d", i, gotDl[i], wantDl[i])
			}
		}
	})
}

// fuzzValue decodes a fuzzed byte as a numeric column value: its signed
// value, or NaN, +Inf, -Inf, Missing for 255, 254, 253, 252.
func fuzzValue(v byte) float64 {
	switch v {
	case 255:
		return math.NaN()
	case 254:
		return math.Inf(1)
	case 253:
		return math.Inf(-1)
	case 252:
		return Missing
	}
	return float64(int8(v))
}
