package engine

import (
	"fmt"
	"testing"
	"time"

	"github.com/cepengine/cep/engine/event"
)

// TestWindow_allocs guards the window path: once every window, key, timer
// and free list has reached its working size, an event allocates nothing,
// whatever the window kind, with having, an output rate limit, disorder
// within the lateness and keys that come and go (retired and revived).
func TestWindow_allocs(t *testing.T) {
	windows := []WindowSpec{Tumbling(50 * time.Millisecond), Hopping(100*time.Millisecond, 30*time.Millisecond),
		Sliding(80 * time.Millisecond), CountWindow(7), SlidingCount(20), Session(15 * time.Millisecond)}
	for _, w := range windows {
		for _, out := range []OutputMode{0, OutputFirst, OutputLast} {
			for _, lateness := range []time.Duration{0, 5 * time.Millisecond} {
				t.Run(fmt.Sprintf("%s/output_%d/lateness_%s", w, out, lateness), func(t *testing.T) {
					b := NewBuilder()
					b.Event("Q").Field("sym", event.String).Field("px", event.Float).Field("qty", event.Int).
						Field("at", event.Time).Time("at").Lateness(lateness)
					r := b.Rule("w").From("Q").Where("qty > 0").PartitionBy("sym").Window(w).Having("count() >= 1").
						Emit("Out", Field{Name: "sym"}, Field{Name: "n", Expr: "count()"},
							Field{Name: "vwap", Expr: "sum(px * qty) / sum(qty)"}, Field{Name: "lo", Expr: "min(px)"},
							Field{Name: "hi", Expr: "max(px)"}, Field{Name: "p50", Expr: "percentile(px, 0.5)"},
							Field{Name: "sd", Expr: "stddev(px)"}, Field{Name: "last", Expr: "last(sym)"},
							Field{Name: "top", Expr: "max(sym)"}, Field{Name: "since", Expr: "first(at)"})
					if out != 0 {
						r.Output(out, 40*time.Millisecond)
					}
					b.Rule("chained").From("Out").Where("n > 1").Emit("Big", Field{Name: "sym"}, Field{Name: "n"})
					m := mustBuild(t, b).NewMatcher(Config{})
					n := 0
					if _, err := m.Subscribe(AllDerived, func(d *Derived) { n++ }); err != nil {
						t.Fatal(err)
					}
					syms := make([]event.Value, 40)
					for i := range syms {
						syms[i] = event.StringValue(fmt.Sprint("S", i))
					}
					ev := event.Event{Type: 0, Fields: []event.Value{syms[0], event.FloatValue(1), event.IntValue(1), event.TimeValue(t0)}}
					now := t0
					i := 0
					step := func() {
						i++
						now += int64(time.Millisecond) / 4
						ts := now
						if lateness > 0 {
							ts -= int64(i*7919) % int64(lateness)
						}
						// Keys in bursts: a key is quiet for a while, so that
						// its state is freed and revived.
						ev.Fields[0] = syms[(i/16)%len(syms)]
						ev.Fields[1] = event.FloatValue(float64(i%97) + 0.5)
						ev.Fields[2] = event.IntValue(int64(i%5 + 1))
						ev.Fields[3] = event.TimeValue(ts)
						m.Process(&ev)
					}
					for range 30000 {
						step()
					}
					// AllocsPerRun divides by the runs with an integer
					// division: one run of 2000 events counts every one.
					if got := testing.AllocsPerRun(1, func() {
						for range 2000 {
							step()
						}
					}); got != 0 {
						t.Errorf("%v allocations in 2000 events, want 0", got)
					}
					if n == 0 {
						t.Error("no derived events")
					}
					m.Close()
					checkInvariant(t, m)
					if s := m.Stats(); s.Late != 0 || s.Keys != 0 && w.Kind != WindowSlidingCount && w.Kind != WindowCount {
						t.Errorf("stats %+v", s)
					}
				})
			}
		}
	}
}

// TestWindow_allocsDirect guards the direct paths of window rules (one
// string key, arguments straight into Num columns (numArg), emitted fields
// computed without the machine, and for the vwap rule from the results
// alone: direct emission, InsertSums, AdvanceSums) and count_distinct,
// whose tables are reused when windows close, drain and refill: no
// allocation per event.
func TestWindow_allocsDirect(t *testing.T) {
	for _, w := range []WindowSpec{Sliding(30 * time.Millisecond), SlidingCount(10), Tumbling(20 * time.Millisecond)} {
		t.Run(w.String(), func(t *testing.T) {
			b := NewBuilder()
			b.Event("Q").Field("sym", event.String).Field("px", event.Float).Field("qty", event.Int).
				Field("user", event.Int).Field("at", event.Time).Time("at")
			b.Rule("vwap").From("Q").PartitionBy("sym").Window(w).
				Emit("Vwap", Field{Name: "sym"}, Field{Name: "vwap", Expr: "sum(px * qty) / sum(qty)"},
					Field{Name: "n", Expr: "count()"}, Field{Name: "avg", Expr: "avg(px) + 1"})
			b.Rule("users").From("Q").PartitionBy("sym").Window(w).Having("count_distinct(user) > 1").
				Emit("Users", Field{Name: "sym"}, Field{Name: "users", Expr: "count_distinct(user)"},
					Field{Name: "syms", Expr: "count_distinct(sym)"})
			m := mustBuild(t, b).NewMatcher(Config{})
			n := 0
			if _, err := m.Subscribe(AllDerived, func(d *Derived) { n++ }); err != nil {
				t.Fatal(err)
			}
			syms := make([]event.Value, 30)
			for i := range syms {
				syms[i] = event.StringValue(fmt.Sprint("S", i))
			}
			ev := event.Event{Type: 0, Fields: []event.Value{syms[0], event.FloatValue(1), event.IntValue(1), event.IntValue(0), event.TimeValue(t0)}}
			now := t0
			i := 0
			step := func() {
				i++
				now += int64(time.Millisecond) / 4
				ev.Fields[0] = syms[(i/16)%len(syms)] // keys in bursts: freed and revived
				ev.Fields[1] = event.FloatValue(float64(i%97) + 0.5)
				ev.Fields[2] = event.IntValue(int64(i%5 + 1))
				ev.Fields[3] = event.IntValue(int64(i * 7919 % 50 << (i % 40)))
				ev.Fields[4] = event.TimeValue(now)
				m.Process(&ev)
			}
			for range 30000 {
				step()
			}
			if got := testing.AllocsPerRun(1, func() {
				for range 2000 {
					step()
				}
			}); got != 0 {
				t.Errorf("%v allocations in 2000 events, want 0", got)
			}
			if n == 0 {
				t.Error("no derived events")
			}
		})
	}
}
