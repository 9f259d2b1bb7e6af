package engine

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/cepengine/cep/engine/event"
)

// TestPattern_scalarKeyPath runs a:A -> b:B within 10m partitioned by one
// int, time or bool field (the one-scalar-key lookup, findScalar) and by
// the same field plus a constant one (the general path: hash, find), over
// random keys (0, negatives, the extremes, payloads equal in their low
// half) with runs that expire: the same matches, in the same order, and
// the same keys live.
func TestPattern_scalarKeyPath(t *testing.T) {
	graph := func(keys ...string) *Graph {
		bl := NewBuilder()
		for _, name := range []string{"A", "B"} {
			bl.Event(name).Field("k", event.Int).Field("tk", event.Time).Field("bk", event.Bool).Field("one", event.Bool).Field("at", event.Time).Time("at")
		}
		bl.Rule("w4").Match(PatternMatch{Spec: w4Spec(), Types: []string{"A", "B"},
			Aliases: []PatternAlias{{Name: "a", Type: "A", Slot: 0}, {Name: "b", Type: "B", Slot: 1}}}).
			PartitionBy(keys...).Emit("M", Field{Name: "ta", Expr: "a.at"}, Field{Name: "tb", Expr: "b.at"})
		return mustBuild(t, bl)
	}
	pool := []int64{0, -1, 1, math.MinInt64, math.MaxInt64, 1 << 32, -1 << 32, 2 << 32}
	rng := rand.New(rand.NewPCG(11, 5))
	for len(pool) < 400 {
		switch rng.IntN(3) {
		case 0:
			pool = append(pool, int64(rng.IntN(1000))-500)
		case 1:
			pool = append(pool, int64(rng.IntN(1<<10))<<32)
		default:
			pool = append(pool, int64(rng.Uint64()))
		}
	}
	for _, key := range []string{"k", "tk", "bk"} {
		run := func(g *Graph) ([]string, []uint64) {
			m := g.NewMatcher(Config{})
			var got []string
			if _, err := m.Subscribe(AllDerived, func(d *Derived) {
				got = append(got, fmt.Sprintf("%d-%d@%d", d.Event.Fields[0].Time(), d.Event.Fields[1].Time(), d.Event.Time))
			}); err != nil {
				t.Fatal(err)
			}
			var live []uint64
			rng := rand.New(rand.NewPCG(3, 9))
			e := &event.Event{Fields: make([]event.Value, 5)}
			for i := range 40_000 {
				n := pool[rng.IntN(len(pool))]
				tm := int64(i) * int64(100*time.Millisecond)
				e.Type = int32(rng.IntN(2))
				e.Time = tm
				e.Fields[0] = event.IntValue(n)
				e.Fields[1] = event.TimeValue(n)
				e.Fields[2] = event.BoolValue(n&1 == 1)
				e.Fields[3] = event.BoolValue(true)
				e.Fields[4] = event.TimeValue(tm)
				m.Process(e)
				if i%101 == 0 {
					live = append(live, m.Stats().Keys)
				}
			}
			if err := m.Close(); err != nil {
				t.Fatal(err)
			}
			return got, live
		}
		fast, fastLive := run(graph(key))
		general, generalLive := run(graph(key, "one"))
		if !slices.Equal(fast, general) {
			t.Errorf("by %s: %d matches, the general path %d; first difference at %d", key, len(fast), len(general), firstDiff(fast, general))
		}
		if !slices.Equal(fastLive, generalLive) {
			t.Errorf("by %s: live keys differ from the general path's", key)
		}
		if len(fast) < 1000 {
			t.Errorf("by %s: only %d matches: the test is too weak", key, len(fast))
		}
	}
}
