package engine

import (
	"math/rand/v2"
	"strconv"
	"testing"
	"time"

	"github.com/cepengine/cep/engine/event"
)

// slowOnly makes every event take processSlow: admit refuses any event
// whose kinds do not conform, and no type is exact any more.
func slowOnly(m *Matcher) {
	for i := range m.types {
		m.types[i].exact, m.types[i].fastKinds = false, false
	}
}

// TestMatcher_fastPath runs random input through two matchers of one
// graph, one with the short path of process (admit) and one that takes the
// full checks for every event, and requires the same output, record for
// record: derived and input events in order, late and invalid records,
// timers, stats. The input mixes what admit must refuse: events behind the
// largest time seen (late or not), ties, wrong kinds, nil fields, ints in
// float fields, Advance past the newest event, due timers, arrival-time
// events with a Clock, and for some seeds a lateness that makes events of
// one type wait in the buffer and events of another (lateness 0) late at
// the watermark itself.
func TestMatcher_fastPath(t *testing.T) {
	for seed := range uint64(40) {
		r := rand.New(rand.NewPCG(seed, 11))
		lateness := time.Duration(0)
		if seed%4 == 3 {
			lateness = time.Duration(r.IntN(3)) * time.Second
		}
		b := NewBuilder()
		b.Event("Q").Field("sym", event.String).Field("px", event.Float).Field("n", event.Int).Field("at", event.Time).
			Time("at").Lateness(lateness)
		b.Event("Tick").Field("n", event.Int)
		b.Event("Any").Field("v", event.Any).Field("tags", event.ListOf(event.String)).Field("at", event.Time).Time("at")
		b.Event("R").Field("x", event.Int).Field("at", event.Time).Time("at")
		b.Rule("rs").From("R").Emit("RS", Field{Name: "x"})
		b.Rule("big").From("Q").Where("px > 50").Emit("Big", Field{Name: "sym"}, Field{Name: "px"})
		b.Rule("big_n").From("Q").Where("px > 50").Where("n % 2 == 0").Emit("BigN", Field{Name: "sym"}, Field{Name: "twice", Expr: "n * 2"})
		b.Rule("odd").From("Q").WhereFunc("odd", func(e *event.Event) bool { return e.Fields[2].Int()%2 == 1 }).
			Emit("Odd", Field{Name: "sym"}, Field{Name: "n"})
		b.Rule("huge").From("Big").Where("px > 90").Emit("Huge", Field{Name: "sym"})
		b.Rule("ticks").From("Tick").Emit("T", Field{Name: "n"})
		b.Rule("anys").From("Any").Emit("A", Field{Name: "v"}, Field{Name: "tags"})
		g := mustBuild(t, b)

		run := func(fast bool) (string, Stats) {
			clock := &stepClock{t: t0}
			m := g.NewMatcher(Config{Clock: clock, Explain: seed%2 == 0})
			if !fast {
				slowOnly(m)
			}
			var rec recorder
			rec.attach(t, m)
			if _, err := m.Subscribe("Q", func(d *Derived) { rec.lines = append(rec.lines, "input "+show(d)) }); err != nil {
				t.Fatal(err)
			}
			m.timerHook = func(ft firedTimer) {
				rec.lines = append(rec.lines, "timer "+time.Duration(ft.when-t0).String()+" "+strconv.FormatUint(ft.arg, 10))
			}
			r := rand.New(rand.NewPCG(seed, 12)) // the same input for both
			now := t0
			for i := range 600 {
				now += int64(r.IntN(3)) * int64(100*time.Millisecond) // ties are common
				ts := now
				if r.IntN(8) == 0 {
					ts -= int64(r.IntN(4000)) * int64(time.Millisecond) // older: late, or not with lateness
				}
				ev := event.Event{Type: 0, Fields: []event.Value{
					event.StringValue("s" + strconv.Itoa(r.IntN(5))), event.FloatValue(float64(r.IntN(100))),
					event.IntValue(int64(r.IntN(10))), event.TimeValue(ts),
				}}
				switch r.IntN(30) {
				case 0:
					ev.Fields[1] = event.StringValue("bad")
				case 1:
					ev.Fields[1] = event.Nil
				case 2:
					ev.Fields[1] = event.IntValue(77) // widened
				case 3:
					ev.Fields[3] = event.Nil
				case 4:
					ev.Fields = ev.Fields[:2]
				case 5:
					ev = event.Event{Type: 1, Fields: []event.Value{event.IntValue(int64(i))}}
				case 6:
					ev = event.Event{Type: 2, Fields: []event.Value{event.IntValue(int64(i)),
						event.ListValue([]event.Value{event.StringValue("x")}), event.TimeValue(ts)}}
				case 7:
					ev = event.Event{Type: 2, Fields: []event.Value{event.StringValue("v"),
						event.ListValue([]event.Value{event.IntValue(1)}), event.TimeValue(ts)}} // bad list element
				case 8:
					ev.Type = 9
				case 11, 12:
					// At the watermark, behind Q's lateness: late, as R's
					// own lateness is 0, yet not behind the watermark.
					ev = event.Event{Type: 3, Fields: []event.Value{event.IntValue(int64(i)), event.TimeValue(now - int64(lateness))}}
				case 9:
					m.setTimer(now+int64(r.IntN(2000))*int64(time.Millisecond), -1, uint64(i))
				case 10:
					if err := m.Advance(now + int64(r.IntN(1500))*int64(time.Millisecond)); err != nil {
						t.Fatal(err)
					}
				}
				m.ProcessAt(Pos{File: "in", Line: i + 1, Col: 1}, &ev)
				checkInvariant(t, m)
			}
			m.Close()
			checkInvariant(t, m)
			return rec.String(), m.Stats()
		}
		fastOut, fastStats := run(true)
		slowOut, slowStats := run(false)
		if fastOut != slowOut {
			t.Fatalf("seed %d: the short path changes the output\nshort path:\n%s\n\nfull checks:\n%s", seed, fastOut, slowOut)
		}
		if fastStats != slowStats {
			t.Fatalf("seed %d: stats differ\nshort path:  %+v\nfull checks: %+v", seed, fastStats, slowStats)
		}
		if fastStats.Processed == 0 || fastStats.Late == 0 || fastStats.Invalid == 0 || fastStats.TimersDone == 0 {
			t.Fatalf("seed %d: the input misses a case: %+v", seed, fastStats)
		}
	}
}

// TestMatcher_admit checks that the short path is taken where it should be
// (TestMatcher_fastPath would pass vacuously if it never were) and refused
// where it must be.
func TestMatcher_admit(t *testing.T) {
	b := NewBuilder()
	b.Event("Q").Field("px", event.Float).Field("at", event.Time).Time("at")
	b.Event("Tick").Field("n", event.Int)
	// Five fields: the kinds checked by hand, four at a time.
	b.Event("Wide").Field("a", event.String).Field("b", event.Int).Field("c", event.Float).Field("at", event.Time).
		Field("e", event.Bool).Time("at")
	g := mustBuild(t, b)
	b.Event("Slow").Field("px", event.Float).Field("at", event.Time).Time("at").Lateness(time.Second)
	gl := mustBuild(t, b) // the watermark trails the newest event by a second
	q := func(px event.Value, at time.Duration) *event.Event {
		return &event.Event{Type: 0, Fields: []event.Value{px, event.TimeValue(t0 + int64(at))}}
	}
	wide := func(i int, v event.Value) *event.Event {
		fs := []event.Value{event.StringValue("s"), event.IntValue(1), event.FloatValue(1), event.TimeValue(t0), event.BoolValue(true)}
		if i >= 0 {
			fs[i] = v
		}
		return &event.Event{Type: 2, Fields: fs}
	}
	tests := []struct {
		name  string
		graph *Graph
		cfg   Config
		prep  func(m *Matcher)
		ev    *event.Event
		want  bool
	}{
		{"first event", g, Config{}, nil, q(event.FloatValue(1), 0), true},
		{"newer", g, Config{}, func(m *Matcher) { m.Process(q(event.FloatValue(1), 0)) }, q(event.FloatValue(1), time.Second), true},
		{"tie", g, Config{}, func(m *Matcher) { m.Process(q(event.FloatValue(1), time.Second)) }, q(event.FloatValue(1), time.Second), true},
		{"older", g, Config{}, func(m *Matcher) { m.Process(q(event.FloatValue(1), time.Second)) }, q(event.FloatValue(1), 0), false},
		{"behind an advanced watermark", g, Config{}, func(m *Matcher) { m.Advance(t0 + int64(time.Hour)) }, q(event.FloatValue(1), time.Second), false},
		{"int in a float field", g, Config{}, nil, q(event.IntValue(1), 0), false},
		{"nil field", g, Config{}, nil, q(event.Nil, 0), false},
		{"wrong kind", g, Config{}, nil, q(event.StringValue("x"), 0), false},
		{"unknown type", g, Config{}, nil, &event.Event{Type: 7}, false},
		{"arrival time stamped by the caller", g, Config{}, nil, &event.Event{Type: 1, Time: t0, Fields: []event.Value{event.IntValue(1)}}, true},
		{"arrival time from a Clock", g, Config{Clock: &stepClock{t: t0}}, nil, &event.Event{Type: 1, Fields: []event.Value{event.IntValue(1)}}, false},
		{"closed", g, Config{}, func(m *Matcher) { m.Close() }, q(event.FloatValue(1), 0), false},
		{"lateness: the event must wait", gl, Config{}, nil, &event.Event{Type: 3, Fields: []event.Value{event.FloatValue(1), event.TimeValue(t0)}}, false},
		{"five fields", g, Config{}, nil, wide(-1, event.Nil), true},
		{"five fields, first kind wrong", g, Config{}, nil, wide(0, event.IntValue(1)), false},
		{"five fields, last kind wrong", g, Config{}, nil, wide(4, event.IntValue(1)), false},
		{"five fields, int in a float field", g, Config{}, nil, wide(2, event.IntValue(1)), false},
		{"five fields, time field nil", g, Config{}, nil, wide(3, event.Nil), false},
		{"five fields, one missing", g, Config{}, nil, &event.Event{Type: 2, Fields: wide(-1, event.Nil).Fields[:4]}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := tt.graph.NewMatcher(tt.cfg)
			if tt.prep != nil {
				tt.prep(m)
			}
			slow := m.slow
			m.Process(tt.ev)
			if got := m.slow == slow; got != tt.want {
				t.Errorf("short path taken = %v, want %v", got, tt.want)
			}
		})
	}
}
