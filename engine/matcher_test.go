package engine

import (
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cepengine/cep/engine/event"
)

type stepClock struct{ t int64 }

func (c *stepClock) Now() int64 { c.t += int64(time.Second); return c.t }

func TestMatcher_rules(t *testing.T) {
	tests := []struct {
		name  string
		build func(b *Builder)
		cfg   Config
		feed  func(m *Matcher)
		want  string
	}{
		{
			name: "filter, project, chain in rule order then first in first out",
			build: func(b *Builder) {
				b.Rule("large").From("Trade").Where("px > big").Emit("Large", Field{Name: "sym"}, Field{Name: "notional", Expr: "px * qty"})
				b.Rule("huge").From("Large").Where("notional >= 1000").Emit("Huge", Field{Name: "sym"}, Field{Name: "n", Expr: "notional"})
				b.Rule("seen").From("Trade").Emit("Seen", Field{Name: "sym"}, Field{Name: "dear", Expr: "px > big"})
				b.Rule("page").From("Huge").Emit("Page", Field{Name: "msg", Expr: `"huge " + sym`})
			},
			feed: func(m *Matcher) {
				for _, ev := range []event.Event{trade("A", 50, 1, 0), trade("B", 200, 10, time.Second), trade("C", 101, 1, 2*time.Second)} {
					m.Process(&ev)
				}
			},
			// Trade's lateness is 2s: A is released by C, the rest by Close.
			want: `seen Seen@0s {sym="A", dear=false}
large Large@1s {sym="B", notional=2000}
seen Seen@1s {sym="B", dear=true}
huge Huge@1s {sym="B", n=2000}
page Page@1s {msg="huge B"}
large Large@2s {sym="C", notional=101}
seen Seen@2s {sym="C", dear=true}`,
		},
		{
			name: "reorder within lateness, late beyond it, close flushes",
			build: func(b *Builder) {
				b.Rule("all").From("Trade").Emit("T", Field{Name: "sym"})
			},
			feed: func(m *Matcher) {
				for _, ev := range []event.Event{trade("a", 1, 1, 5*time.Second), trade("b", 1, 1, 3*time.Second), trade("c", 1, 1, 4*time.Second),
					trade("d", 1, 1, 2*time.Second), trade("e", 1, 1, 3*time.Second), trade("f", 1, 1, 8*time.Second)} {
					m.Process(&ev)
				}
				m.ProcessAt(Pos{File: "in.jsonl", Line: 7, Col: 1}, ptr(trade("g", 1, 1, 5*time.Second)))
			},
			want: `all T@3s {sym="b"}
input #4: late: event time 2024-01-01T00:00:02Z is 1s behind the watermark 2024-01-01T00:00:03Z
all T@3s {sym="e"}
all T@4s {sym="c"}
all T@5s {sym="a"}
in.jsonl:7:1: late: event time 2024-01-01T00:00:05Z is 1s behind the watermark 2024-01-01T00:00:06Z
all T@8s {sym="f"}`,
		},
		{
			name: "invalid events of the Go API",
			build: func(b *Builder) {
				b.Rule("all").From("Trade").Emit("T", Field{Name: "sym"}, Field{Name: "px"})
			},
			feed: func(m *Matcher) {
				m.Process(&event.Event{Type: 9})
				m.Process(&event.Event{Type: 0, Fields: []event.Value{event.StringValue("x")}})
				m.Process(&event.Event{Type: 0, Fields: []event.Value{event.IntValue(1), event.FloatValue(1), event.IntValue(1), event.TimeValue(t0)}})
				m.Process(&event.Event{Type: 0, Fields: []event.Value{event.StringValue("x"), event.FloatValue(1), event.IntValue(1), event.IntValue(5)}})
				m.ProcessAt(Pos{Line: 3}, &event.Event{Type: 0, Fields: []event.Value{event.StringValue("x"), event.FloatValue(1), event.IntValue(1), event.Nil}})
				m.Reject(Pos{File: "in.csv", Line: 9, Col: 4}, errors.New("codec: bad cell"))
				// An int in a float field is widened.
				m.Process(&event.Event{Type: 0, Fields: []event.Value{event.StringValue("w"), event.IntValue(7), event.IntValue(1), event.TimeValue(t0)}})
			},
			want: `input #1: invalid: unknown event type id 9
input #2: invalid: Trade has 4 fields, event has 1
input #3: invalid: field sym: expected string, found int
input #4: invalid: field at: expected time, found int
3: invalid: missing event time: field at of Trade is not a time
in.csv:9:4: invalid: codec: bad cell
all T@0s {sym="w", px=7}`,
		},
		{
			name: "arrival time from the clock, explain",
			cfg:  Config{Clock: &stepClock{t: t0}, Explain: true},
			build: func(b *Builder) {
				b.Rule("ticks").From("Tick").Where("n % 2 == 0").Emit("Even", Field{Name: "n"})
				b.Rule("evens").From("Even").Emit("Again", Field{Name: "twice", Expr: "n * 2"})
			},
			feed: func(m *Matcher) {
				for i := range 4 {
					m.Process(&event.Event{Type: 1, Time: 42, Fields: []event.Value{event.IntValue(int64(i))}})
				}
			},
			// The watermark trails by Trade's 2s lateness, so ticks wait;
			// "from #N" is the input's sequence number.
			want: `ticks Even@1s {n=0} from #1
evens Again@1s {twice=0} from #4
ticks Even@3s {n=2} from #3
evens Again@3s {twice=4} from #7`,
		},
		{
			name: "arrival time stamped by the caller",
			build: func(b *Builder) {
				b.Rule("ticks").From("Tick").Emit("T", Field{Name: "n"})
			},
			feed: func(m *Matcher) {
				m.Process(&event.Event{Type: 1, Time: at(time.Minute), Fields: []event.Value{event.IntValue(1)}})
				m.Process(&event.Event{Type: 1, Time: at(time.Second), Fields: []event.Value{event.IntValue(2)}})
			},
			want: `input #2: late: event time 2024-01-01T00:00:01Z is 59s behind the watermark 2024-01-01T00:01:00Z
ticks T@1m0s {n=1}`,
		},
		{
			name: "processing time ignores time fields",
			cfg:  Config{ProcessingTime: true, Clock: &stepClock{t: t0}},
			build: func(b *Builder) {
				b.Rule("all").From("Trade").Emit("T", Field{Name: "sym"}, Field{Name: "at"})
			},
			feed: func(m *Matcher) {
				m.Process(ptr(trade("a", 1, 1, time.Hour)))
				m.Process(ptr(trade("b", 1, 1, 0)))
			},
			want: `all T@1s {sym="a", at=1h0m0s}
all T@2s {sym="b", at=0s}`,
		},
		{
			name: "advance releases and makes later events late; after close all is late",
			build: func(b *Builder) {
				b.Rule("all").From("Trade").Emit("T", Field{Name: "sym"})
			},
			feed: func(m *Matcher) {
				m.Process(ptr(trade("a", 1, 1, 10*time.Second)))
				if err := m.Advance(at(20 * time.Second)); err != nil {
					panic(err)
				}
				m.Process(ptr(trade("b", 1, 1, 19*time.Second)))
				m.Process(ptr(trade("c", 1, 1, 21*time.Second)))
				m.Close()
				m.Process(ptr(trade("d", 1, 1, 30*time.Second)))
			},
			want: `all T@10s {sym="a"}
input #2: late: event time 2024-01-01T00:00:19Z is 1s behind the watermark 2024-01-01T00:00:20Z
all T@21s {sym="c"}
input #4: late: event time 2024-01-01T00:00:30Z arrived after Close`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := marketBuilder()
			tt.build(b)
			m := mustBuild(t, b).NewMatcher(tt.cfg)
			var r recorder
			r.attach(t, m)
			tt.feed(m)
			m.Close()
			if got := r.String(); got != tt.want {
				t.Errorf("got\n%s\nwant\n%s", got, tt.want)
			}
			checkInvariant(t, m)
			if s := m.Stats(); s.Buffered != 0 {
				t.Errorf("after Close %d events buffered", s.Buffered)
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

// TestMatcher_invariant feeds random valid, invalid, late and rejected
// input and checks In == Processed + Late + Invalid + Buffered after every
// call, and Buffered == 0 after Close.
func TestMatcher_invariant(t *testing.T) {
	for seed := range uint64(20) {
		r := rand.New(rand.NewPCG(seed, 99))
		b := marketBuilder()
		b.Rule("large").From("Trade").Where("px > 50").Emit("Large", Field{Name: "sym"}, Field{Name: "px"})
		b.Rule("again").From("Large").Where("px > 75").Emit("Again", Field{Name: "sym"})
		m := mustBuild(t, b).NewMatcher(Config{MaxBuffered: int(seed % 4 * 5)})
		var derived uint64
		m.Subscribe(AllDerived, func(*Derived) { derived++ })
		now := time.Duration(0)
		for range 2000 {
			now += time.Duration(r.IntN(1000)) * time.Millisecond
			ev := trade("s", float64(r.IntN(100)), 1, now-time.Duration(r.IntN(3000))*time.Millisecond)
			switch r.IntN(20) {
			case 0:
				ev.Fields[1] = event.StringValue("bad")
			case 1:
				ev.Fields[3] = event.Nil
			case 2:
				m.Reject(Pos{Line: 1}, errors.New("bad line"))
				checkInvariant(t, m)
				continue
			case 3:
				if err := m.Advance(at(now - 2*time.Second)); err != nil {
					t.Fatal(err)
				}
			}
			m.Process(&ev)
			checkInvariant(t, m)
		}
		m.Close()
		checkInvariant(t, m)
		s := m.Stats()
		if s.Buffered != 0 || s.Late == 0 || s.Invalid == 0 || s.Processed == 0 || s.Derived != derived {
			t.Fatalf("seed %d: stats %+v, derived delivered %d", seed, s, derived)
		}
	}
}

// TestReorder_reference checks the order events reach the graph, and which
// are late, against a plain model: an event is late if it is behind the
// watermark or more than its type's lateness behind the largest time seen;
// the rest come out sorted by (time, arrival).
func TestReorder_reference(t *testing.T) {
	for seed := range uint64(30) {
		r := rand.New(rand.NewPCG(seed, 7))
		b := NewBuilder()
		late1, late2 := time.Duration(r.IntN(5))*time.Second, time.Duration(r.IntN(5))*time.Second
		b.Event("A").Field("id", event.Int).Field("at", event.Time).Time("at").Lateness(late1)
		b.Event("B").Field("id", event.Int).Field("at", event.Time).Time("at").Lateness(late2)
		m := mustBuild(t, b).NewMatcher(Config{})
		var got []int64
		for _, typ := range []string{"A", "B"} {
			m.Subscribe(typ, func(d *Derived) { got = append(got, d.Event.Fields[0].Int()) })
		}
		var gotLate []int64
		m.SubscribeLate(func(rec *Record) { gotLate = append(gotLate, rec.Event.Fields[0].Int()) })

		type in struct {
			id, t int64
			typ   int32
		}
		var accepted []in
		var wantLate []int64
		maxSeen, wm := int64(math.MinInt64), int64(math.MinInt64)
		maxLate := int64(max(late1, late2))
		now := int64(0)
		for id := range int64(500) {
			now += int64(r.IntN(800)) * int64(time.Millisecond)
			ts := at(time.Duration(now - int64(r.IntN(6000))*int64(time.Millisecond)))
			if r.IntN(10) == 0 {
				ts = at(time.Duration(now)) // ties are common
				now -= 0
			}
			typ := int32(r.IntN(2))
			lat := int64(late1)
			if typ == 1 {
				lat = int64(late2)
			}
			bound := wm
			if maxSeen != math.MinInt64 {
				bound = max(bound, maxSeen-lat)
			}
			if ts < bound {
				wantLate = append(wantLate, id)
			} else {
				accepted = append(accepted, in{id, ts, typ})
				maxSeen = max(maxSeen, ts)
				wm = max(wm, maxSeen-maxLate)
			}
			m.Process(&event.Event{Type: typ, Fields: []event.Value{event.IntValue(id), event.TimeValue(ts)}})
			if r.IntN(50) == 0 {
				w := at(time.Duration(now - int64(r.IntN(3000))*int64(time.Millisecond)))
				wm = max(wm, w)
				m.Advance(w)
			}
		}
		m.Close()
		slices.SortStableFunc(accepted, func(a, b in) int {
			if a.t != b.t {
				if a.t < b.t {
					return -1
				}
				return 1
			}
			return 0
		})
		var want []int64
		for _, a := range accepted {
			want = append(want, a.id)
		}
		if !slices.Equal(got, want) {
			t.Fatalf("seed %d: processed order\n got %v\nwant %v", seed, got, want)
		}
		if !slices.Equal(gotLate, wantLate) {
			t.Fatalf("seed %d: late\n got %v\nwant %v", seed, gotLate, wantLate)
		}
		checkInvariant(t, m)
	}
}

// TestTimerQueue_reference runs random set, cancel, reset and pop against
// a sorted slice.
func TestTimerQueue_reference(t *testing.T) {
	type ref struct {
		when int64
		seq  uint64
		arg  uint64
		id   timerID
	}
	for seed := range uint64(20) {
		r := rand.New(rand.NewPCG(seed, 3))
		var q timerQueue
		var model []ref
		var seq uint64
		sortModel := func() {
			slices.SortFunc(model, func(a, b ref) int {
				if a.when != b.when {
					if a.when < b.when {
						return -1
					}
					return 1
				}
				if a.seq < b.seq {
					return -1
				}
				return 1
			})
		}
		var stale []timerID
		for op := range 5000 {
			switch k := r.IntN(10); {
			case k < 5:
				when := int64(r.IntN(200))
				seq++
				id := q.set(when, 1, uint64(op))
				model = append(model, ref{when, seq, uint64(op), id})
			case k < 6 && len(model) > 0:
				i := r.IntN(len(model))
				if !q.cancel(model[i].id) {
					t.Fatalf("seed %d: cancel of a pending timer failed", seed)
				}
				stale = append(stale, model[i].id)
				model = slices.Delete(model, i, i+1)
			case k < 7 && len(model) > 0:
				i := r.IntN(len(model))
				when := int64(r.IntN(200))
				seq++
				if !q.reset(model[i].id, when) {
					t.Fatalf("seed %d: reset of a pending timer failed", seed)
				}
				model[i].when, model[i].seq = when, seq
			case k < 8 && len(stale) > 0:
				id := stale[r.IntN(len(stale))]
				if q.cancel(id) || q.reset(id, 5) {
					t.Fatalf("seed %d: stale id %v accepted", seed, id)
				}
			default:
				limit := int64(r.IntN(200))
				sortModel()
				for len(model) > 0 && model[0].when <= limit {
					w, ok := q.peek()
					if !ok || w != model[0].when {
						t.Fatalf("seed %d: peek %d %v, want %d", seed, w, ok, model[0].when)
					}
					ft := q.pop()
					if ft.when != model[0].when || ft.arg != model[0].arg {
						t.Fatalf("seed %d: popped %+v, want %+v", seed, ft, model[0])
					}
					stale = append(stale, model[0].id)
					model = model[1:]
				}
				if w, ok := q.peek(); ok && w <= limit {
					t.Fatalf("seed %d: timer at %d left after popping to %d", seed, w, limit)
				}
			}
			if q.len() != len(model) {
				t.Fatalf("seed %d: queue has %d timers, model %d", seed, q.len(), len(model))
			}
		}
	}
}

// TestMatcher_timers checks timers against events: they fire when the
// watermark reaches them, before events of the same time, in setting order
// on ties, and all of them at Close.
func TestMatcher_timers(t *testing.T) {
	b := marketBuilder()
	b.Rule("all").From("Trade").Emit("T", Field{Name: "sym"})
	m := mustBuild(t, b).NewMatcher(Config{})
	var log []string
	m.Subscribe("T", func(d *Derived) { log = append(log, "event "+show(d)) })
	m.timerHook = func(ft firedTimer) {
		log = append(log, "timer "+time.Duration(ft.when-t0).String()+" "+string(rune('a'+ft.arg)))
	}
	m.setTimer(at(5*time.Second), -1, 0)
	m.setTimer(at(3*time.Second), -1, 1)
	id := m.setTimer(at(3*time.Second), -1, 2)
	m.setTimer(at(3*time.Second), -1, 3)
	m.setTimer(at(time.Hour), -1, 4)
	gone := m.setTimer(at(4*time.Second), -1, 5)
	m.resetTimer(id, at(3*time.Second)) // now after d
	m.cancelTimer(gone)
	for _, s := range []time.Duration{3, 2, 6, 7} { // lateness 2s
		m.Process(ptr(trade(string(rune('0'+s)), 1, 1, s*time.Second)))
	}
	log = append(log, "close")
	m.Close()
	want := `event all T@2s {sym="2"}
timer 3s b
timer 3s d
timer 3s c
event all T@3s {sym="3"}
timer 5s a
close
event all T@6s {sym="6"}
event all T@7s {sym="7"}
timer 1h0m0s e`
	if got := strings.Join(log, "\n"); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	if s := m.Stats(); s.TimersSet != 6 || s.TimersDone != 5 {
		t.Errorf("timers set %d, fired %d; want 6, 5", s.TimersSet, s.TimersDone)
	}
}

// TestMatcher_timerLanes: the matcher timers of window and pattern rules
// (keyDeadlines, lanes of their own) fire with the timer queue's in
// (time, setting order); moving one to a new time puts it after the timers
// already set for that time, as resetTimer does.
func TestMatcher_timerLanes(t *testing.T) {
	b := marketBuilder()
	b.Rule("all").From("Trade").Emit("T", Field{Name: "sym"})
	m := mustBuild(t, b).NewMatcher(Config{})
	m.keyed.node, m.patterns.node = -1, -1 // fired to timerHook, as the queue's of no operator
	var log []string
	m.timerHook = func(ft firedTimer) {
		name := string(rune('a' + ft.arg))
		if ft.arg == 0 { // a lane's
			name = "lane"
		}
		log = append(log, time.Duration(ft.when-t0).String()+" "+name)
	}
	m.setTimer(at(3*time.Second), -1, 1)            // b
	m.patterns.syncAt(m, at(3*time.Second), true)   // after b
	m.setTimer(at(3*time.Second), -1, 2)            // c, after the patterns' lane
	m.keyed.syncAt(m, at(2*time.Second), true)      // moved below: after d
	m.setTimer(at(4*time.Second), -1, 3)            // d
	m.keyed.syncAt(m, at(4*time.Second), true)      // after d
	m.patterns.syncAt(m, at(3*time.Second), true)   // unchanged: keeps its place
	m.setTimer(at(5*time.Second), -1, 4)            // e
	m.Process(ptr(trade("x", 1, 1, 9*time.Second))) // lateness 2s: watermark 7s
	want := "3s b\n3s lane\n3s c\n4s d\n4s lane\n5s e"
	if got := strings.Join(log, "\n"); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	if s := m.Stats(); s.TimersSet != 6 || s.TimersDone != 6 {
		t.Errorf("timers set %d, fired %d; want 6, 6", s.TimersSet, s.TimersDone)
	}
}

func TestMatcher_reentrant(t *testing.T) {
	b := marketBuilder()
	b.Rule("all").From("Trade").Emit("T", Field{Name: "sym"})
	m := mustBuild(t, b).NewMatcher(Config{})
	var errs []error
	m.Subscribe("T", func(d *Derived) {
		m.Process(ptr(trade("x", 1, 1, 0)))
		errs = append(errs, m.Advance(0), m.Close())
	})
	var invalid []string
	m.SubscribeInvalid(func(r *Record) { invalid = append(invalid, r.Reason()) })
	m.Process(ptr(trade("a", 1, 1, 0)))
	if err := m.Advance(at(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if len(errs) != 2 {
		t.Fatalf("handler ran %d times", len(errs)/2)
	}
	if !errors.Is(errs[0], ErrReentrant) || !errors.Is(errs[1], ErrReentrant) || len(invalid) != 1 || invalid[0] != ErrReentrant.Error() {
		t.Errorf("re-entrant calls: %v, invalid %v", errs, invalid)
	}
	checkInvariant(t, m)
	m.Close()
	if err := m.Advance(0); !errors.Is(err, ErrClosed) {
		t.Errorf("Advance after Close: %v", err)
	}
}
