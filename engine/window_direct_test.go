package engine

import (
	"math"
	"math/rand/v2"
	"strconv"
	"testing"
	"time"

	"github.com/cepengine/cep/engine/event"
)

// TestWindow_direct holds direct emission and the arguments computed into
// their columns (window_direct.go) to Emit's general path and evalField
// (noDirect): every window kind, in columns and per key, fields of every
// direct shape (keys, each kind of aggregate read, + - * / over float, int
// and count results and int and float constants, fields widened to a
// declared float), arguments of every operation over float and int fields
// and constants, with output first and last and a key limit, over random
// streams with NaN, infinite and nil prices, nil quantities, late events
// and windows that empty (nil results); the output, line for line with the
// kinds and bits of every value, and the counters are the same. A rule
// with a field that needs the general path (int + int) takes it.
func TestWindow_direct(t *testing.T) {
	fieldSets := []struct {
		fields []Field
		direct bool
	}{
		{[]Field{{Name: "sym"}, {Name: "n", Expr: "count()"}, {Name: "v", Expr: "sum(px)"}, {Name: "q", Expr: "sum(qty)"}, {Name: "a", Expr: "avg(qty)"}}, true},
		{[]Field{{Name: "v", Expr: "sum(px * qty) / sum(qty)"}, {Name: "sym"}, {Name: "d", Expr: "avg(px) * 2"},
			{Name: "e", Expr: "1.5 + sum(qty)"}, {Name: "c", Expr: "count(px)"}, {Name: "f", Expr: "sum(px) - avg(px)"}, {Name: "g", Expr: "count() / 3"}}, true},
		{[]Field{{Name: "sym"}, {Name: "r", Expr: "sum(qty) / count(qty)"}, {Name: "h", Expr: "avg(qty) - 0.5"},
			{Name: "m", Expr: "2.0 * sum(qty)"}, {Name: "b", Expr: "big * avg(px)"}, {Name: "s", Expr: "count() * 0.5"}}, true},
		{[]Field{{Name: "sym"}, {Name: "n", Expr: "count()"}, {Name: "p", Expr: "sum(qty) + 1"}}, false},
		// Arguments of every operation and operand kind (numArg).
		{[]Field{{Name: "sym"}, {Name: "a", Expr: "sum(qty * 2)"}, {Name: "b", Expr: "avg(px - qty)"}, {Name: "c", Expr: "sum(qty + qty)"},
			{Name: "d", Expr: "sum(px / qty)"}, {Name: "e", Expr: "avg(qty * qty)"}, {Name: "f", Expr: "sum(2 - px)"}, {Name: "g", Expr: "avg(qty / 2)"}}, true},
		{[]Field{{Name: "sym"}, {Name: "n", Expr: "count()"}, {Name: "v", Expr: "sum(qty)"}}, true}, // into D: both widened
	}
	windows := []func(r *rand.Rand) WindowSpec{
		func(r *rand.Rand) WindowSpec { return Tumbling(time.Duration(1+r.IntN(5)) * time.Second) },
		func(r *rand.Rand) WindowSpec {
			return Hopping(time.Duration(2+r.IntN(4))*time.Second, time.Duration(1+r.IntN(2))*time.Second)
		},
		func(r *rand.Rand) WindowSpec { return Sliding(time.Duration(1+r.IntN(5)) * time.Second / 2) },
		func(r *rand.Rand) WindowSpec { return SlidingCount([]int{1, 3, 10, 200}[r.IntN(4)]) },
		func(r *rand.Rand) WindowSpec { return Session(time.Duration(1+r.IntN(3)) * time.Second) },
		func(r *rand.Rand) WindowSpec { return CountWindow(1 + r.IntN(5)) },
	}
	direct := 0
	for seed := uint64(1); seed <= 360; seed++ {
		r := rand.New(rand.NewPCG(seed, 21))
		w := windows[r.IntN(len(windows))](r)
		set := r.IntN(len(fieldSets))
		fs := fieldSets[set]
		mode := OutputMode(r.IntN(3))
		perKey := r.IntN(3) == 0
		cfg := Config{}
		if r.IntN(4) == 0 {
			cfg.MaxKeys = 1 + r.IntN(5)
		}
		out := "W"
		if set == len(fieldSets)-1 {
			out = "D"
		}
		// Partitioned by an int (a lone scalar key, which the key table
		// does not store), by a string, or by both (a key of two values,
		// both emitted, the string second).
		keys, fields := []string{"sym"}, fs.fields
		switch k := r.IntN(4); {
		case out != "W":
		case k == 0:
			keys, fields = []string{"qty"}, nil
			for _, f := range fs.fields {
				if f.Name == "sym" {
					f.Name = "qty"
				}
				fields = append(fields, f)
			}
		case k == 1:
			keys, fields = []string{"qty", "sym"}, append([]Field{{Name: "qty"}}, fs.fields...)
		}
		build := func() *Builder {
			b := marketBuilder()
			b.Event("D").Field("sym", event.String).Field("n", event.Float).Field("v", event.Float)
			rule := b.Rule("w").From("Trade").PartitionBy(keys...).Window(w)
			if mode != 0 {
				rule.Output(mode, time.Second+time.Duration(r.IntN(3))*time.Second/2)
			}
			rule.Emit(out, fields...)
			return b
		}
		pxs := []float64{1.5, -0.25, 3, 1e300, math.NaN(), math.Inf(1), math.Inf(-1), 0}
		evs := randomTrades(r, 1+int(seed%6), func(i int) (float64, int64) {
			if r.IntN(6) == 0 {
				return pxs[3+r.IntN(5)], int64(r.IntN(4) - 1)
			}
			return pxs[r.IntN(3)] * float64(i%5), int64(1 + i%3)
		})
		for i := range evs { // nil prices and quantities (missing values)
			switch r.IntN(10) {
			case 0:
				evs[i].Fields[1] = event.Nil
			case 1:
				evs[i].Fields[2] = event.Nil
			}
		}
		g := mustBuild(t, build())
		if (g.keyed[0].direct != nil) != fs.direct {
			t.Fatalf("seed %d: field set %d: direct %v, want %v", seed, set, g.keyed[0].direct != nil, fs.direct)
		}
		if fs.direct {
			direct++
		}
		run := func(general bool) (string, Stats) {
			noDirect, noColumns = general, perKey
			defer func() { noDirect, noColumns = false, false }()
			m := g.NewMatcher(cfg)
			// The kinds and bits of the fields, beside the printed lines
			// (which show an int and an integral float alike).
			var bits []byte
			if _, err := m.Subscribe(AllDerived, func(d *Derived) {
				for _, v := range d.Event.Fields {
					bits = strconv.AppendUint(append(bits, byte('a'+v.Kind())), v.Bits(), 16)
				}
				bits = append(bits, '\n')
			}); err != nil {
				t.Fatal(err)
			}
			return runRecorded(t, m, evs) + string(bits), m.Stats()
		}
		want, ws := run(true)
		got, gs := run(false)
		if got != want {
			t.Fatalf("seed %d: %v, fields %d, mode %d: direct emission differs\n got:\n%s\nwant:\n%s", seed, w, set, mode, got, want)
		}
		if gs != ws {
			t.Fatalf("seed %d: stats %+v, want %+v", seed, gs, ws)
		}
	}
	if direct < 240 {
		t.Fatalf("%d of 360 rules emitted directly, want most", direct)
	}
}
