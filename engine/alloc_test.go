package engine

import (
	"testing"
	"time"

	"github.com/cepengine/cep/engine/event"
)

// TestMatcher_allocs guards the hot path: a steady-state event allocates
// nothing, through a filter rule, a chain of rules, the reorder buffer and
// subscriber delivery.
func TestMatcher_allocs(t *testing.T) {
	tests := []struct {
		name     string
		lateness time.Duration
		at       bool // through ProcessAt, with a position
		build    func(b *Builder)
	}{
		{"filter", 0, false, func(b *Builder) {
			b.Rule("f").From("Q").Where(`px > 10 and sym != "ZZZ"`).Emit("Out", Field{Name: "sym"}, Field{Name: "px"})
		}},
		{"filter, ProcessAt", 0, true, func(b *Builder) {
			b.Rule("f").From("Q").Where("px > 10").Emit("Out", Field{Name: "sym"}, Field{Name: "px"})
		}},
		{"chain", 0, false, func(b *Builder) {
			b.Rule("a").From("Q").Where("px > 10").Emit("A", Field{Name: "sym"}, Field{Name: "v", Expr: "px * 2"})
			b.Rule("b").From("A").Where("v > 0").Emit("B", Field{Name: "sym"}, Field{Name: "v"})
			b.Rule("c").From("B").Emit("C", Field{Name: "sym"}, Field{Name: "v", Expr: "v + 1"})
		}},
		{"filter, reordered", 3 * time.Second, false, func(b *Builder) {
			b.Rule("f").From("Q").Where("px > 10").Emit("Out", Field{Name: "sym"}, Field{Name: "px"})
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := NewBuilder()
			b.Event("Q").Field("sym", event.String).Field("px", event.Float).Field("at", event.Time).Time("at").Lateness(tt.lateness)
			tt.build(b)
			m := mustBuild(t, b).NewMatcher(Config{Explain: true})
			var n int
			if _, err := m.Subscribe(AllDerived, func(d *Derived) { n++ }); err != nil {
				t.Fatal(err)
			}
			ev := event.Event{Type: 0, Fields: []event.Value{event.StringValue("ABC"), event.FloatValue(20), event.TimeValue(t0)}}
			now := t0
			step := func() {
				now += int64(time.Millisecond)
				// a little disorder, within the lateness
				ev.Fields[2] = event.TimeValue(now - (now/int64(time.Millisecond)%3)*int64(tt.lateness)/4)
				if tt.at {
					m.ProcessAt(Pos{File: "in.jsonl", Line: int(now % 1000), Col: 1}, &ev)
				} else {
					m.Process(&ev)
				}
			}
			for range 10000 { // past the lateness: the buffer is full
				step()
			}
			if got := testing.AllocsPerRun(1000, step); got != 0 {
				t.Errorf("%v allocations per event, want 0", got)
			}
			if n == 0 {
				t.Error("no derived events")
			}
			checkInvariant(t, m)
			if s := m.Stats(); s.Late != 0 {
				t.Errorf("%d late events", s.Late)
			}
		})
	}
}
