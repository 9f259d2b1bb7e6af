package window

import (
	"errors"
	"math"
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
				cols.Advance(k, ts, &got[k])
				ref[k].Advance(ts, &want[k])
				check(i, k)
				continue
			}
			v := data[j+2]
			x := float64(int8(v))
			switch v {
			case 255:
				x = math.NaN()
			case 254:
				x = math.Inf(1)
			case 253:
				x = math.Inf(-1)
			case 252:
				x = Missing
			}
			row := Row[int]{Num: []float64{x, float64(v / 3)}}
			err1 := cols.Insert(k, ts, row, &got[k])
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
