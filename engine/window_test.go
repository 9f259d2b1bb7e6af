package engine

import (
	"errors"
	"fmt"
	"math"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/cepengine/cep/engine/event"
)

// run feeds evs to a new matcher of b's graph and returns what it said.
func runLines(t *testing.T, b *Builder, cfg Config, evs ...event.Event) (*recorder, *Matcher) {
	t.Helper()
	m := mustBuild(t, b).NewMatcher(cfg)
	rec := &recorder{}
	rec.attach(t, m)
	m.SubscribeRefused(func(r *Record) { rec.lines = append(rec.lines, r.String()) })
	for i := range evs {
		m.Process(&evs[i])
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	checkInvariant(t, m)
	return rec, m
}

func checkLines(t *testing.T, rec *recorder, want ...string) {
	t.Helper()
	if got := rec.String(); got != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", got, strings.Join(want, "\n"))
	}
}

// TestWindow_stepOrder checks the order of the results of one time step:
// rule order, then the order in which the keys appeared, whatever the
// order in which their deadlines were set.
func TestWindow_stepOrder(t *testing.T) {
	b := marketBuilder()
	b.Rule("s2").From("Trade").PartitionBy("sym").Window(Session(5*time.Second)).
		Emit("S2", Field{Name: "sym"}, Field{Name: "n", Expr: "count()"})
	b.Rule("s1").From("Trade").PartitionBy("sym").Window(Session(5*time.Second)).
		Emit("S1", Field{Name: "sym"}, Field{Name: "n", Expr: "count()"})
	// Deadlines: C at 0 -> 5; A at 1 -> 6; B at 1 -> 6; C at 1 -> 6
	// (set last). At 6 the keys close in their order of appearance.
	rec, _ := runLines(t, b, Config{},
		trade("C", 1, 1, 0), trade("A", 1, 1, time.Second), trade("B", 1, 1, time.Second), trade("C", 1, 1, time.Second))
	checkLines(t, rec,
		`s2 S2@6s {sym="C", n=2}`,
		`s2 S2@6s {sym="A", n=1}`,
		`s2 S2@6s {sym="B", n=1}`,
		`s1 S1@6s {sym="C", n=2}`,
		`s1 S1@6s {sym="A", n=1}`,
		`s1 S1@6s {sym="B", n=1}`,
	)
}

// TestWindow_keyLifecycle checks that a key's state is freed when its
// windows are empty: live keys stay bounded by the keys of open windows
// while ever new keys come, and the windows are reused.
func TestWindow_keyLifecycle(t *testing.T) {
	for _, w := range []WindowSpec{Tumbling(time.Second), Sliding(time.Second), Session(time.Second),
		Hopping(2*time.Second, time.Second), CountWindow(1)} {
		t.Run(w.String(), func(t *testing.T) {
			b := marketBuilder()
			b.Rule("w").From("Trade").PartitionBy("sym").Window(w).Emit("W", Field{Name: "sym"}, Field{Name: "n", Expr: "count()"})
			m := mustBuild(t, b).NewMatcher(Config{})
			peak := uint64(0)
			for i := range 5000 {
				ev := trade(fmt.Sprint("k", i), 1, 1, time.Duration(i)*100*time.Millisecond)
				m.Process(&ev)
				peak = max(peak, m.Stats().Keys)
			}
			// A key lives at most its window plus the lateness (2s): 100ms
			// apart, that is a few dozen keys.
			if peak > 60 {
				t.Errorf("%d live keys at the peak", peak)
			}
			// Retired keys stay dormant (revivable without allocating) up
			// to minDormant; beyond, ids are reused.
			op := m.keyed.ops[0]
			if n := len(op.state); n > minDormant+64 {
				t.Errorf("%d key slots for at most %d live keys: ids are not reused", n, peak)
			}
			m.Close()
			if s := m.Stats(); s.Keys != 0 {
				t.Errorf("%d keys live after Close", s.Keys)
			}
		})
	}
	// A sliding count window never empties: its keys live on.
	b := marketBuilder()
	b.Rule("w").From("Trade").PartitionBy("sym").Window(SlidingCount(2)).Emit("W", Field{Name: "n", Expr: "count()"})
	_, m := runLines(t, b, Config{}, trade("A", 1, 1, 0), trade("B", 1, 1, 0))
	if s := m.Stats(); s.Keys != 2 {
		t.Errorf("sliding count: %d keys live, want 2", s.Keys)
	}
}

// TestWindow_maxKeys checks the overflow policy: an event with a new key
// beyond Config.MaxKeys is refused by that rule (counted, sent to the
// refused stream), the other rules still see it, and keys freed make room.
func TestWindow_maxKeys(t *testing.T) {
	b := marketBuilder()
	b.Rule("w").From("Trade").PartitionBy("sym").Window(Tumbling(10*time.Second)).
		Emit("W", Field{Name: "sym"}, Field{Name: "n", Expr: "count()"})
	b.Rule("all").From("Trade").Where("qty == 7").Emit("Seen", Field{Name: "sym"})
	var refused []*Record
	m := mustBuild(t, b).NewMatcher(Config{MaxKeys: 2})
	rec := &recorder{}
	rec.attach(t, m)
	m.SubscribeRefused(func(r *Record) {
		c := *r
		refused = append(refused, &c)
		rec.lines = append(rec.lines, r.String())
	})
	for _, ev := range []event.Event{trade("A", 1, 1, 0), trade("B", 1, 1, time.Second), trade("C", 1, 7, 2*time.Second),
		trade("A", 1, 1, 3*time.Second), trade("C", 1, 1, 15*time.Second)} {
		m.Process(&ev)
	}
	m.Close()
	checkInvariant(t, m)
	checkLines(t, rec,
		"input #0: refused: rule w refused the event: it has 2 partition keys, the limit (Config.MaxKeys)",
		`all Seen@2s {sym="C"}`,
		`w W@10s {sym="A", n=2}`,
		`w W@10s {sym="B", n=1}`,
		`w W@20s {sym="C", n=1}`,
	)
	if s := m.Stats(); s.Refused != 1 {
		t.Errorf("Stats.Refused = %d, want 1", s.Refused)
	}
	if len(refused) != 1 || !errors.Is(refused[0].Err, ErrKeyLimit) || refused[0].Stream != StreamRefused {
		t.Fatalf("refused records %v", refused)
	}
	var re *RefusedError
	if !errors.As(refused[0].Err, &re) || re.Rule != "w" || re.Limit != 2 {
		t.Errorf("refused error %#v", refused[0].Err)
	}
}

// TestWindow_lateForClosedWindow checks that an event for a window the
// watermark has closed goes to the late stream with the reason, and does
// not change the window's result.
func TestWindow_lateForClosedWindow(t *testing.T) {
	b := marketBuilder() // lateness 2s
	b.Rule("w").From("Trade").PartitionBy("sym").Window(Tumbling(10*time.Second)).
		Emit("W", Field{Name: "sym"}, Field{Name: "n", Expr: "count()"}, Field{Name: "q", Expr: "sum(qty)"})
	rec, m := runLines(t, b, Config{},
		trade("A", 1, 1, 0), trade("A", 1, 2, 9*time.Second), trade("A", 1, 4, 13*time.Second),
		trade("A", 1, 8, 9500*time.Millisecond), // [0s,10s) closed at watermark 11s
		trade("A", 1, 16, 11500*time.Millisecond))
	checkLines(t, rec,
		`w W@10s {sym="A", n=2, q=3}`,
		"input #4: late: event time 2024-01-01T00:00:09.5Z is 1.5s behind the watermark 2024-01-01T00:00:11Z",
		`w W@20s {sym="A", n=2, q=20}`,
	)
	if s := m.Stats(); s.Late != 1 {
		t.Errorf("late = %d", s.Late)
	}
}

// TestWindow_chainedExpiry chains a tumbling window rule onto the results
// of a sliding window, whose expiry results are stamped with their expiry
// instant but established a nanosecond later: they enter the downstream
// windows at the step's time and are never late.
func TestWindow_chainedExpiry(t *testing.T) {
	b := marketBuilder()
	b.Rule("slide").From("Trade").PartitionBy("sym").Window(Sliding(5*time.Second)).
		Emit("Level", Field{Name: "sym"}, Field{Name: "n", Expr: "count()"})
	b.Rule("per10").From("Level").Window(Tumbling(5*time.Second)).
		Emit("Changes", Field{Name: "n", Expr: "count()"}, Field{Name: "lo", Expr: "min(n)"}, Field{Name: "hi", Expr: "max(n)"})
	b.Rule("quiet").From("Level").Where("n == 0").Emit("Quiet", Field{Name: "sym"})
	rec, m := runLines(t, b, Config{}, trade("A", 1, 1, 0), trade("B", 1, 1, 0), trade("A", 1, 1, 3*time.Second))
	checkLines(t, rec,
		`slide Level@0s {sym="A", n=1}`,
		`slide Level@0s {sym="B", n=1}`,
		`slide Level@3s {sym="A", n=2}`,
		// [0s, 5s) closes at 5s; the expiries at 5s are established at
		// 5s plus 1ns and enter [5s, 10s).
		`per10 Changes@5s {n=3, lo=1, hi=2}`,
		`slide Level@5s {sym="A", n=1}`,
		`slide Level@5s {sym="B", n=0}`,
		`quiet Quiet@5s {sym="B"}`,
		`slide Level@8s {sym="A", n=0}`,
		`quiet Quiet@8s {sym="A"}`,
		`per10 Changes@10s {n=3, lo=0, hi=1}`,
	)
	if s := m.Stats(); s.Late != 0 || s.Refused != 0 {
		t.Errorf("stats %+v", s)
	}
}

// TestOutput_filterRules checks output first and last on a partitioned
// filter rule.
func TestOutput_filterRules(t *testing.T) {
	evs := []event.Event{trade("A", 1, 1, 0), trade("A", 2, 1, time.Second), trade("B", 3, 1, 1500*time.Millisecond),
		trade("A", 4, 1, 5*time.Second), trade("A", 5, 1, 9*time.Second), trade("B", 6, 1, 12*time.Second)}
	b := marketBuilder()
	b.Rule("f").From("Trade").PartitionBy("sym").Emit("F", Field{Name: "sym"}, Field{Name: "px"}).Output(OutputFirst, 5*time.Second)
	rec, _ := runLines(t, b, Config{}, evs...)
	checkLines(t, rec,
		`f F@0s {sym="A", px=1}`,
		`f F@1.5s {sym="B", px=3}`,
		`f F@5s {sym="A", px=4}`,
		`f F@12s {sym="B", px=6}`,
	)
	b = marketBuilder()
	b.Rule("l").From("Trade").PartitionBy("sym").Emit("L", Field{Name: "sym"}, Field{Name: "px"}).Output(OutputLast, 5*time.Second)
	rec, m := runLines(t, b, Config{}, evs...)
	checkLines(t, rec,
		`l L@5s {sym="A", px=2}`,
		`l L@5s {sym="B", px=3}`,
		`l L@10s {sym="A", px=5}`,
		`l L@15s {sym="B", px=6}`,
	)
	if s := m.Stats(); s.Keys != 0 {
		t.Errorf("%d keys live after Close", s.Keys)
	}
}

// TestWindow_nilAndTypes checks aggregates over missing values and over
// strings, times and durations (min and max exact, by value order), and
// that a NaN is a value while nil is not.
func TestWindow_nilAndTypes(t *testing.T) {
	b := NewBuilder()
	b.Event("E").Field("k", event.String).Field("x", event.Float).Field("d", event.Duration).Field("big", event.Int).
		Field("at", event.Time).Time("at")
	b.Rule("w").From("E").Window(Tumbling(time.Minute)).Emit("W",
		Field{Name: "n", Expr: "count()"}, Field{Name: "nx", Expr: "count(x)"}, Field{Name: "s", Expr: "sum(x)"},
		Field{Name: "a", Expr: "avg(x)"}, Field{Name: "sd", Expr: "stddev(x)"}, Field{Name: "p", Expr: "percentile(x, 1)"},
		Field{Name: "lo", Expr: "min(k)"}, Field{Name: "hi", Expr: "max(k)"}, Field{Name: "dmax", Expr: "max(d)"},
		Field{Name: "first", Expr: "min(at)"}, Field{Name: "cd", Expr: "count_distinct(k)"},
		Field{Name: "bmax", Expr: "max(big)"}, Field{Name: "f", Expr: "first(x)"})
	mk := func(k event.Value, x event.Value, d time.Duration, big int64, at time.Duration) event.Event {
		return event.Event{Type: 0, Fields: []event.Value{k, x, event.DurationValue(d), event.IntValue(big), event.TimeValue(t0 + int64(at))}}
	}
	big := int64(1)<<62 + 1 // beyond float64's exact integers
	rec, _ := runLines(t, b, Config{},
		mk(event.Nil, event.Nil, time.Second, big, 0),
		mk(event.StringValue("kiwi"), event.FloatValue(2), 3*time.Hour, big+2, time.Second),
		mk(event.StringValue("apple"), event.Nil, time.Minute, big-2, 2*time.Second),
		mk(event.StringValue("kiwi"), event.FloatValue(4), 0, 7, 3*time.Second),
	)
	checkLines(t, rec, fmt.Sprintf(`w W@1m0s {n=4, nx=2, s=6, a=3, sd=1.4142135623730951, p=4, lo="apple", hi="kiwi", dmax=3h0m0s, first=0s, cd=2, bmax=%d, f=nil}`, int64(float64(big+2))))
	// max(big) reads ints as float64: exact below 2^53 only (documented).

	b2 := NewBuilder()
	b2.Event("E").Field("x", event.Float).Field("at", event.Time).Time("at")
	b2.Rule("w").From("E").Window(Sliding(time.Second)).Emit("W", Field{Name: "s", Expr: "sum(x)"}, Field{Name: "m", Expr: "min(x)"})
	rec, _ = runLines(t, b2, Config{},
		event.Event{Type: 0, Fields: []event.Value{event.FloatValue(math.NaN()), event.TimeValue(t0)}},
		event.Event{Type: 0, Fields: []event.Value{event.Nil, event.TimeValue(t0 + int64(500*time.Millisecond))}},
		event.Event{Type: 0, Fields: []event.Value{event.FloatValue(1), event.TimeValue(t0 + int64(1200*time.Millisecond))}},
	)
	// 0.5s (nil) and the expiry at 1.5s change nothing: no result.
	checkLines(t, rec,
		`w W@0s {s=NaN, m=NaN}`,
		`w W@1s {s=nil, m=nil}`,
		`w W@1.2s {s=1, m=1}`,
		`w W@2.2s {s=nil, m=nil}`,
	)
}

// TestBuild_windowErrors checks the errors of keyed clauses.
func TestBuild_windowErrors(t *testing.T) {
	p := func(line, col int) Pos { return Pos{File: "w.cep", Line: line, Col: col} }
	tests := []struct {
		name  string
		build func(r *Rule)
		want  []string
	}{
		{"having without window", func(r *Rule) {
			r.From("Trade").Having("count() > 1").At(p(1, 5)).Emit("X", Field{Name: "sym"})
		}, []string{"w.cep:1:5: rule r: having needs a window; a filter rule filters with where"}},
		{"bad windows", func(r *Rule) {
			r.From("Trade").Window(Tumbling(0)).At(p(2, 3)).Window(Sliding(time.Second)).At(p(3, 3)).Emit("X", Field{Name: "n", Expr: "count()"})
		}, []string{"w.cep:2:3: rule r: tumbling window size 0s; want a positive duration",
			"w.cep:3:3: rule r: second window clause; a rule has one window"}},
		{"hopping overlap", func(r *Rule) {
			r.From("Trade").Window(Hopping(time.Hour, time.Millisecond)).At(p(2, 3)).Emit("X", Field{Name: "n", Expr: "count()"})
		}, []string{"w.cep:2:3: rule r: hopping window 1h0m0s every 1ms puts each event in 3600000 windows, at most 4096"}},
		{"counts", func(r *Rule) {
			r.From("Trade").Window(SlidingCount(0)).At(p(2, 3)).Emit("X", Field{Name: "n", Expr: "count()"}).Output(OutputLast, 0).At(p(4, 3))
		}, []string{"w.cep:2:3: rule r: sliding count window of 0 events; want at least 1",
			"w.cep:4:3: rule r: output every 0s; want a positive duration"}},
		{"non-key field in emit", func(r *Rule) {
			r.From("Trade").PartitionBy("sym").Window(Tumbling(time.Second)).
				Emit("X", Field{Name: "sym"}, Field{Name: "px", Pos: p(5, 10)})
		}, []string{"w.cep:5:10: rule r: field px: unknown name px"}},
		{"aggregate in where", func(r *Rule) {
			r.From("Trade").Where("count() > 1").At(p(6, 8)).Window(Tumbling(time.Second)).Emit("X", Field{Name: "n", Expr: "count()"})
		}, nil},
		{"key errors", func(r *Rule) {
			r.From("Trade").PartitionBy("sym").At(p(7, 14)).PartitionBy("sym").At(p(7, 19)).PartitionBy("nope").At(p(7, 24)).
				Window(Tumbling(time.Second)).Emit("X", Field{Name: "n", Expr: "count()"})
		}, []string{"w.cep:7:19: rule r: partition key sym listed twice",
			"w.cep:7:24: rule r: partition key: unknown name nope"}},
		{"having not bool", func(r *Rule) {
			r.From("Trade").Window(Tumbling(time.Second)).Having("sum(px)").At(p(8, 10)).Emit("X", Field{Name: "n", Expr: "count()"})
		}, nil},
		{"window after having", func(r *Rule) {
			r.From("Trade").Window(Tumbling(time.Second)).Having("true").Window(Tumbling(time.Second)).At(p(9, 1)).Emit("X", Field{Name: "n", Expr: "count()"})
		}, []string{"w.cep:9:1: rule r: second window clause; a rule has one window"}},
		{"partition after window", func(r *Rule) {
			r.From("Trade").Window(Tumbling(time.Second)).PartitionBy("sym").At(p(9, 2)).Emit("X", Field{Name: "n", Expr: "count()"})
		}, []string{"w.cep:9:2: rule r: partition by clause after window; partition by comes before window and having"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := marketBuilder()
			tt.build(b.Rule("r"))
			_, err := b.Build()
			if err == nil {
				t.Fatal("Build succeeded")
			}
			var list ErrorList
			if !errors.As(err, &list) {
				t.Fatalf("error %T", err)
			}
			if tt.want == nil {
				return
			}
			var got []string
			for _, e := range list {
				got = append(got, e.Error())
			}
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

// TestGraph_goldenWindows pins the dump of window and output nodes.
func TestGraph_goldenWindows(t *testing.T) {
	b := marketBuilder()
	b.Rule("vwap").From("Trade").As("t").Where("qty > 0").PartitionBy("t.sym").Window(SlidingCount(1000)).
		Having("count() >= 2").Emit("Vwap", Field{Name: "sym"}, Field{Name: "vwap", Expr: "sum(px * qty) / sum(qty)"}).
		Output(OutputLast, time.Minute)
	b.Rule("bursts").From("Trade").PartitionBy("sym", "qty > 100").Window(Hopping(10*time.Minute, time.Minute)).
		Emit("Burst", Field{Name: "sym"}, Field{Name: "n", Expr: "count()"})
	b.Rule("sessions").From("Vwap").Window(Session(90*time.Second)).Emit("Quiet", Field{Name: "n", Expr: "count()"})
	b.Rule("first_big").From("Trade").Where("px > big").PartitionBy("Trade.sym").Emit("Big", Field{Name: "sym"}).
		Output(OutputFirst, time.Hour)
	golden(t, "graph_windows.golden", mustBuild(t, b).String())
}

// TestWindow_memoryPerKey measures the heap a key costs, per window kind,
// two ways: the engine's estimate (key table, key state, window) and the
// heap growth of the process; the figures are in docs/performance.md. It
// fails if the two disagree grossly or a key costs far more than expected.
func TestWindow_memoryPerKey(t *testing.T) {
	if testing.Short() {
		t.Skip("measures the heap")
	}
	const keys = 20000
	for _, c := range []struct {
		w      WindowSpec
		fields []Field
		limit  float64 // bytes per key, measured
	}{
		{Tumbling(time.Hour), []Field{{Name: "sym"}, {Name: "s", Expr: "sum(qty)"}}, 250}, // W3: the hand loop's ~220
		{Tumbling(time.Hour), []Field{{Name: "sym"}, {Name: "n", Expr: "count()"}, {Name: "s", Expr: "sum(px)"},
			{Name: "a", Expr: "avg(px)"}, {Name: "lo", Expr: "min(px)"}, {Name: "hi", Expr: "max(px)"}, {Name: "l", Expr: "last(px)"}}, 1000},
		{Session(time.Hour), []Field{{Name: "sym"}, {Name: "s", Expr: "sum(qty)"}}, 700},
		{Sliding(time.Hour), []Field{{Name: "sym"}, {Name: "s", Expr: "sum(qty)"}}, 1500},
		{SlidingCount(100), []Field{{Name: "sym"}, {Name: "s", Expr: "sum(qty)"}}, 1500},
		{SlidingCount(10), []Field{{Name: "sym"}, {Name: "s", Expr: "sum(qty)"}}, 700}, // in columns
	} {
		name := c.w.String() + fmt.Sprintf("/%d_fields", len(c.fields))
		t.Run(name, func(t *testing.T) {
			b := NewBuilder() // Trade without lateness: events are processed in place
			b.Event("Trade").Field("sym", event.String).Field("px", event.Float).Field("qty", event.Int).Field("at", event.Time).Time("at")
			b.Rule("w").From("Trade").PartitionBy("sym").Window(c.w).Emit("W", c.fields...)
			g := mustBuild(t, b)
			syms := make([]event.Event, keys)
			for i := range syms {
				syms[i] = trade(fmt.Sprint("SYM", i), 1, 1, time.Duration(i)*time.Microsecond)
			}
			before := heapInUse()
			m := g.NewMatcher(Config{})
			for i := range syms {
				m.Process(&syms[i])
			}
			if s := m.Stats(); s.Keys != keys {
				t.Fatalf("%d keys live", s.Keys)
			}
			measured := float64(heapInUse()-before) / keys
			estimate := float64(m.keyed.sizeBytes()) / keys
			t.Logf("%s: %.0f bytes per key measured, %.0f estimated (one event per key)", name, measured, estimate)
			if measured > c.limit || estimate > 2*measured || estimate < measured/2 {
				t.Errorf("%.0f bytes per key measured (limit %.0f), %.0f estimated", measured, c.limit, estimate)
			}
			runtime.KeepAlive(m)
		})
	}
}

// TestWindow_extremeTimes: a time whose windows would leave the int64 range
// is refused by the window rule (refused stream), never a crash; output
// intervals saturate at the end of time.
func TestWindow_extremeTimes(t *testing.T) {
	b := NewBuilder()
	b.Event("E").Field("k", event.String).Field("at", event.Time).Time("at")
	b.Rule("w").From("E").PartitionBy("k").Window(Tumbling(time.Hour)).Emit("W", Field{Name: "k"}, Field{Name: "n", Expr: "count()"}).
		Output(OutputLast, time.Hour)
	b.Rule("f").From("E").Emit("F", Field{Name: "k"}).Output(OutputLast, time.Hour)
	ev := func(k string, ts int64) event.Event {
		return event.Event{Type: 0, Fields: []event.Value{event.StringValue(k), event.TimeValue(ts)}}
	}
	m := mustBuild(t, b).NewMatcher(Config{})
	var got []string
	m.Subscribe(AllDerived, func(d *Derived) { got = append(got, d.Event.Fields[0].Str()+" "+FormatTime(d.Event.Time)) })
	m.SubscribeRefused(func(r *Record) { got = append(got, r.Reason()) })
	for _, e := range []event.Event{ev("lo", math.MinInt64+1), ev("hi", math.MaxInt64-1)} {
		m.Process(&e)
	}
	m.Close()
	want := []string{
		"rule w refused the event: its time is within one window length of the limits of int64 nanoseconds (years 1677 and 2262)",
		"lo 1677-09-21T01:00:00Z", // the end of its hour, when the watermark passes it
		"rule w refused the event: its time is within one window length of the limits of int64 nanoseconds (years 1677 and 2262)",
		"hi +inf", // saturated
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if s := m.Stats(); s.Refused != 2 || s.Keys != 0 {
		t.Errorf("stats %+v", s)
	}
}
