package engine

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/cepengine/cep/engine/event"
)

// TestWindow_expiryTimers checks the expiry FIFO of sliding time windows
// against the matcher's timer: it fires once per instant at which a key
// is due, never for a stale entry (an arrival at an event's expiry instant
// has expired it; a key freed and revived), beside keys of other operators
// in the deadline queue (a tumbling rule) and a sliding window of derived
// events. The figures are those of the per-key deadline queue the FIFO
// replaced (same lines, same timers set and fired).
func TestWindow_expiryTimers(t *testing.T) {
	for _, c := range []struct {
		name       string
		evs        []event.Event
		lines      int
		set, fired uint64
	}{
		// A@10s folds the expiry of A@0 into its arrival: the entry at
		// 10s+1ns is stale; A leaves at 20s+1ns, B at 22s+1ns.
		{"arrival at expiry", []event.Event{trade("A", 1, 1, 0), trade("A", 2, 1, 10*time.Second),
			trade("B", 3, 1, 12*time.Second)}, 18, 10, 10},
		// A freed at 10s+1ns and revived at 15s: the same key id, a new
		// entry; the events of one instant share one expiry.
		{"freed and revived", []event.Event{trade("A", 1, 1, 0), trade("A", 1, 2, 0), trade("B", 1, 1, 5*time.Second),
			trade("A", 2, 1, 15*time.Second), trade("A", 3, 1, 16*time.Second)}, 29, 15, 15},
		// Many keys, each arrival later than the last: one timer per
		// expiry instant.
		{"keys in turn", func() []event.Event {
			var evs []event.Event
			for i := range 30 {
				evs = append(evs, trade(fmt.Sprint("k", i%4), float64(i), 1, time.Duration(i)*time.Second))
			}
			return evs
		}(), 200, 72, 72},
	} {
		t.Run(c.name, func(t *testing.T) {
			b := marketBuilder()
			b.Rule("s10").From("Trade").PartitionBy("sym").Window(Sliding(10*time.Second)).
				Emit("S10", Field{Name: "sym"}, Field{Name: "n", Expr: "count()"}, Field{Name: "v", Expr: "sum(px * qty)"})
			b.Rule("tumble").From("Trade").PartitionBy("sym").Window(Tumbling(7*time.Second)).
				Emit("T", Field{Name: "sym"}, Field{Name: "n", Expr: "count()"})
			b.Rule("s3").From("S10").PartitionBy("sym").Window(Sliding(3*time.Second)).
				Emit("S3", Field{Name: "sym"}, Field{Name: "n", Expr: "count()"})
			rec, m := runLines(t, b, Config{}, c.evs...)
			s := m.Stats()
			if len(rec.lines) != c.lines || s.TimersSet != c.set || s.TimersDone != c.fired {
				for _, l := range rec.lines {
					t.Log(l)
				}
				t.Errorf("%d lines, timers set %d, fired %d; want %d, %d, %d",
					len(rec.lines), s.TimersSet, s.TimersDone, c.lines, c.set, c.fired)
			}
			for _, op := range m.keyed.ops {
				if n := op.exp.n + op.ends.n; n != 0 {
					t.Errorf("rule %s: %d expiries left after Close", op.rule.Name, n)
				}
			}
		})
	}
}

// expiries returns the entries of op's expiry FIFO in order (ends, for
// tumbling and hopping windows).
func expiries(op *keyedOp) []keyExpiry {
	var r []keyExpiry
	if op.fifo {
		for i := range op.ends.n {
			r = append(r, op.ends.at(i))
		}
		return r
	}
	for i := range op.exp.n {
		r = append(r, op.exp.at(i))
	}
	return r
}

// TestWindow_expiryFIFO checks the FIFOs themselves (expiryFIFO, and
// runFIFO, which keeps runs of one time): an expiry behind the last goes
// in its place by time (events reach windows in time order, so only a bug
// elsewhere would send one), one instant of a key is one entry, the front
// drops stale entries, and the rings keep their order as they wrap around
// and grow.
func TestWindow_expiryFIFO(t *testing.T) {
	for _, runs := range []bool{false, true} {
		op := &keyedOp{state: make([]keyState, 4), fifo: runs}
		for i := range op.state {
			op.state[i].due = noDeadline
		}
		push, pop, front, n := op.exp.push, op.exp.pop, op.exp.front, func() int { return op.exp.n }
		if runs {
			push, pop, front, n = op.ends.push, op.ends.pop, op.ends.front, func() int { return op.ends.n }
		}
		push(10, 0)
		push(10, 0) // the same instant of the same key: one entry
		push(20, 1)
		push(15, 2) // behind the last: in its place
		push(5, 3)  // behind all
		push(20, 3)
		push(15, 1) // equal times: after those already in
		push(12, 0) // a time of its own, between runs
		want := []keyExpiry{{5, 3}, {10, 0}, {12, 0}, {15, 2}, {15, 1}, {20, 1}, {20, 3}}
		if got := expiries(op); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("runs %v: FIFO %v, want %v", runs, got, want)
		}
		// Key 3 is due at 20 (its entry at 5 is stale), key 2 at 15.
		op.state[3].due, op.state[2].due = 20, 15
		if w, ok := op.nextExpiry(); !ok || w != 15 || front() != (keyExpiry{15, 2}) {
			t.Fatalf("runs %v: front %d %v at %v, want 15 at {15 2}", runs, w, ok, expiries(op))
		}
		op.state[2].due = noDeadline
		if w, ok := op.nextExpiry(); !ok || w != 20 || front() != (keyExpiry{20, 3}) {
			t.Fatalf("runs %v: front %d %v at %v, want 20 at {20 3}", runs, w, ok, expiries(op))
		}
		op.state[3].due = noDeadline
		if w, ok := op.nextExpiry(); ok || n() != 0 {
			t.Fatalf("runs %v: front %d %v, FIFO %v; want empty", runs, w, ok, expiries(op))
		}

		// The rings wrap around (pushes and pops in turn, some behind the
		// last) and grow while wrapped; they hold what was pushed, in
		// order.
		var ref []keyExpiry
		when := int64(100)
		for i := range 5000 {
			when += int64(i % 3)
			e := keyExpiry{when: when, id: int32(i % 4)}
			if i%11 == 0 {
				e.when -= 2 // behind the last
			}
			push(e.when, e.id)
			j := len(ref)
			for j > 0 && ref[j-1].when > e.when {
				j--
			}
			if len(ref) == 0 || ref[len(ref)-1] != e {
				ref = append(ref[:j], append([]keyExpiry{e}, ref[j:]...)...)
			}
			if i%3 == 0 && i < 3000 { // the FIFO grows in the second part
				pop()
				ref = ref[1:]
			}
		}
		if got := expiries(op); fmt.Sprint(got) != fmt.Sprint(ref) {
			t.Fatalf("runs %v: FIFO holds %d entries, want %d; first %v, want %v", runs, len(got), len(ref), got[:4], ref[:4])
		}
	}
}

// TestWindow_deadlineFIFO holds the deadline FIFO of tumbling and hopping
// windows (keyedOp.fifo) to the deadline queue it stands in for: random
// rules over random streams with disorder within and beyond the
// lateness, many keys, chained rules; the output, line for line, and the
// counters are the same.
func TestWindow_deadlineFIFO(t *testing.T) {
	for seed := uint64(1); seed <= 150; seed++ {
		r := rand.New(rand.NewPCG(seed, 3))
		size := time.Duration(1+r.IntN(8)) * time.Second
		hopping := r.IntN(2) == 0
		step := time.Duration(1+r.IntN(int(size/time.Second))) * time.Second
		size2 := time.Duration(2+r.IntN(5)) * time.Second
		build := func() *Builder {
			b := marketBuilder()
			win := Tumbling(size)
			if hopping {
				win = Hopping(size, step)
			}
			b.Rule("w").From("Trade").PartitionBy("sym").Window(win).
				Emit("W", Field{Name: "sym"}, Field{Name: "n", Expr: "count()"}, Field{Name: "v", Expr: "sum(px)"})
			b.Rule("w2").From("W").PartitionBy("sym").Window(Tumbling(size2)).
				Emit("W2", Field{Name: "sym"}, Field{Name: "n", Expr: "count()"})
			return b
		}
		evs := randomTrades(r, 1+int(seed%20), func(i int) (float64, int64) { return float64(i), 1 })
		run := func(heap bool) (string, Stats, uint64) {
			noKeyFIFO = heap
			defer func() { noKeyFIFO = false }()
			m := mustBuild(t, build()).NewMatcher(Config{})
			return runRecorded(t, m, evs), m.Stats(), m.keyed.q.seq
		}
		want, ws, _ := run(true)
		got, gs, _ := run(false)
		if got != want {
			t.Fatalf("seed %d: the FIFO's output differs\n got:\n%s\nwant:\n%s", seed, got, want)
		}
		if gs.Derived != ws.Derived || gs.Late != ws.Late || gs.Processed != ws.Processed {
			t.Fatalf("seed %d: stats %+v, want %+v", seed, gs, ws)
		}
	}
}

// TestWindow_deadlineFIFOFallback: a deadline earlier than the FIFO's last
// entry (events reach windows in time order, so tumbling and hopping
// windows do not make one; the FIFO must not depend on it) goes to the
// deadline queue, and moving back to the FIFO cancels it there.
func TestWindow_deadlineFIFOFallback(t *testing.T) {
	b := marketBuilder()
	b.Rule("w").From("Trade").PartitionBy("sym").Window(Tumbling(10*time.Second)).
		Emit("W", Field{Name: "sym"}, Field{Name: "n", Expr: "count()"})
	m := mustBuild(t, b).NewMatcher(Config{})
	for _, e := range []event.Event{trade("a", 1, 1, 0), trade("b", 1, 1, 0), trade("c", 1, 1, 5*time.Second)} {
		m.Process(&e)
	}
	rt := &m.keyed
	op := rt.ops[0]
	if !op.fifo || rt.q.len() != 0 || op.ends.n != 2 {
		t.Fatalf("fifo %v, %d in the queue, %d in the FIFO; want true, 0, 2", op.fifo, rt.q.len(), op.ends.n)
	}
	end := op.ends.front().when
	rt.schedule(m, op, 1, end-1) // before the FIFO's last entry
	if rt.q.len() != 1 || op.ends.n != 2 || !rt.q.valid(*op.qid(1)) {
		t.Fatalf("%d in the queue, %d in the FIFO; want 1, 2", rt.q.len(), op.ends.n)
	}
	rt.schedule(m, op, 1, end+1) // back to the FIFO
	if rt.q.len() != 0 || op.ends.n != 3 {
		t.Fatalf("%d in the queue, %d in the FIFO; want 0, 3", rt.q.len(), op.ends.n)
	}
}

// TestWindow_expiryRepeat: the events of one key at one instant, other
// keys' between them, leave several wake-ups of that key in a sliding
// window's FIFO (a repeat is dropped only when it follows itself), all
// live until the key runs (its deadline is its window's: keyedOp.live).
// The key runs once: its window empties and it is freed once, so the live
// keys are counted right and Config.MaxKeys holds.
func TestWindow_expiryRepeat(t *testing.T) {
	for _, agg := range []string{"sum(px)", "min(px)"} { // columns, a window per key
		b := marketBuilder()
		b.Rule("w").From("Trade").PartitionBy("sym").Window(Sliding(10*time.Second)).
			Emit("W", Field{Name: "sym"}, Field{Name: "n", Expr: "count()"}, Field{Name: "v", Expr: agg})
		m := mustBuild(t, b).NewMatcher(Config{MaxKeys: 2})
		var got []string
		empty := 0
		m.Subscribe(AllDerived, func(d *Derived) {
			got = append(got, show(d))
			if d.Event.Fields[1].Int() == 0 {
				empty++
			}
		})
		refused := 0
		m.SubscribeRefused(func(*Record) { refused++ })
		for _, e := range []event.Event{trade("a", 1, 1, 0), trade("b", 2, 1, 0), trade("a", 3, 1, 0)} {
			m.Process(&e)
		}
		if err := m.Advance(at(time.Second)); err != nil { // released from the reorder buffer
			t.Fatal(err)
		}
		if op := m.keyed.ops[0]; op.exp.n != 3 {
			t.Fatalf("%s: %d wake-ups in the FIFO, want 3 (a, b, a)", agg, op.exp.n)
		}
		// The watermark passes 10s: a and b empty, once each.
		for _, e := range []event.Event{trade("c", 4, 1, 20*time.Second), trade("d", 5, 1, 20*time.Second), trade("e", 6, 1, 20*time.Second)} {
			m.Process(&e)
		}
		if err := m.Advance(at(21 * time.Second)); err != nil {
			t.Fatal(err)
		}
		if s := m.Stats(); s.Keys != 2 || refused != 1 || empty != 2 {
			t.Errorf("%s: %d live keys, %d refused, %d empty results; want 2 (c, d), 1 (e), 2 (a, b)\n%v", agg, s.Keys, refused, empty, got)
		}
	}
}

// TestWindow_columns holds the columns of windows of count, sum and avg
// (keyedOp.cols: tumbling, sliding, small sliding count) to a window per
// key (noColumns): per layout, 150 random rules with having, output first
// and last (whose keys use the deadline queue, not the expiry FIFO), a key
// limit, sizes too large for columns (sliding count 200), over random
// streams with disorder within and beyond the lateness and many keys that
// come and go, chained into a rule that reads them; the output, line for
// line, and the counters are the same.
func TestWindow_columns(t *testing.T) {
	for _, c := range []struct {
		name   string
		stream uint64
		// spec draws the rule's window, the chained rule's, the output
		// interval and whether the rule runs in columns.
		spec func(r *rand.Rand) (w, w2 WindowSpec, every time.Duration, columns bool)
	}{
		{"tumbling", 9, func(r *rand.Rand) (WindowSpec, WindowSpec, time.Duration, bool) {
			size := time.Duration(1+r.IntN(8)) * time.Second
			return Tumbling(size), Tumbling(2 * size), size/2 + time.Second, true
		}},
		{"sliding", 13, func(r *rand.Rand) (WindowSpec, WindowSpec, time.Duration, bool) {
			size := time.Duration(1+r.IntN(8)) * time.Second / time.Duration(1+r.IntN(3))
			return Sliding(size), Sliding(2 * size), size/2 + time.Second, true
		}},
		{"sliding count", 11, func(r *rand.Rand) (WindowSpec, WindowSpec, time.Duration, bool) {
			size := []int{1, 2, 3, 5, 10, 200}[r.IntN(6)]
			return SlidingCount(size), SlidingCount(3), time.Second, size < 200
		}},
	} {
		inColumns := 0
		for seed := uint64(1); seed <= 150; seed++ {
			r := rand.New(rand.NewPCG(seed, c.stream))
			w, w2, every, columns := c.spec(r)
			aggs := [][]Field{
				{{Name: "n", Expr: "count()"}, {Name: "v", Expr: "sum(px)"}},
				{{Name: "a", Expr: "avg(qty)"}},
				{{Name: "v", Expr: "sum(px * qty) / sum(qty)"}, {Name: "a", Expr: "avg(px)"}, {Name: "n", Expr: "count(px)"}},
			}[r.IntN(3)]
			having := r.IntN(3) == 0
			mode := OutputMode(r.IntN(3)) // none, first, last
			cfg := Config{}
			if r.IntN(4) == 0 {
				cfg.MaxKeys = 1 + r.IntN(5)
			}
			build := func() *Builder {
				b := marketBuilder()
				rule := b.Rule("w").From("Trade").PartitionBy("sym").Window(w)
				if having {
					rule.Having("count() > 1")
				}
				if mode != 0 {
					rule.Output(mode, every)
				}
				rule.Emit("W", append([]Field{{Name: "sym"}}, aggs...)...)
				b.Rule("w2").From("W").PartitionBy("sym").Window(w2).
					Emit("W2", Field{Name: "sym"}, Field{Name: "n", Expr: "count()"})
				return b
			}
			evs := randomTrades(r, 1+int(seed%20), func(i int) (float64, int64) { return float64(i%7)/3 - 0.7, int64(1 + i%3) })
			run := func(perKey bool) (string, Stats) {
				noColumns = perKey
				defer func() { noColumns = false }()
				m := mustBuild(t, build()).NewMatcher(cfg)
				if op := m.keyed.ops[0]; (op.cols != nil) != (columns && !perKey) {
					t.Fatalf("%s seed %d: %v: columns %v, per key %v", c.name, seed, w, op.cols != nil, perKey)
				}
				if !perKey && columns {
					inColumns++
				}
				return runRecorded(t, m, evs), m.Stats()
			}
			want, ws := run(true)
			got, gs := run(false)
			if got != want {
				t.Fatalf("%s seed %d: the columns' output differs\n got:\n%s\nwant:\n%s", c.name, seed, got, want)
			}
			if gs != ws {
				t.Fatalf("%s seed %d: stats %+v, want %+v", c.name, seed, gs, ws)
			}
		}
		if inColumns < 100 {
			t.Fatalf("%s: %d of 150 programs ran in columns, want most", c.name, inColumns)
		}
	}
}

// runRecorded runs evs (copies: the matcher may keep their fields) through
// m to Close and returns every derived event it delivered, as recorder
// prints them.
func runRecorded(t *testing.T, m *Matcher, evs []event.Event) string {
	t.Helper()
	rec := &recorder{}
	rec.attach(t, m)
	for i := range evs {
		e := evs[i]
		e.Fields = append([]event.Value(nil), e.Fields...)
		m.Process(&e)
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	return rec.String()
}

// randomTrades returns 40 to 240 trades over keys k0 ... k(keys-1), up to
// 0.7s apart, some late beyond the 2s lateness; pxQty gives the i-th
// trade's price and quantity.
func randomTrades(r *rand.Rand, keys int, pxQty func(i int) (float64, int64)) []event.Event {
	var evs []event.Event
	tm := time.Duration(0)
	for i := range 40 + r.IntN(200) {
		tm += time.Duration(r.IntN(700)) * time.Millisecond
		at := tm - time.Duration(r.IntN(3000))*time.Millisecond
		px, qty := pxQty(i)
		evs = append(evs, trade(fmt.Sprint("k", r.IntN(keys)), px, qty, at))
	}
	return evs
}

// TestWindow_birthsRenumbered: when a rule's birth numbers (uint32) run
// out, its keys are renumbered in their order of birth, not of id: keys
// revived in the order y, x (ids x < y) keep it, and a key born after
// comes last, in the numbers and in the results of one instant.
func TestWindow_birthsRenumbered(t *testing.T) {
	b := marketBuilder()
	b.Rule("w").From("Trade").PartitionBy("sym").Window(Tumbling(10*time.Second)).
		Emit("W", Field{Name: "sym"}, Field{Name: "n", Expr: "count()"})
	m := mustBuild(t, b).NewMatcher(Config{})
	var got []string
	if _, err := m.Subscribe(AllDerived, func(d *Derived) { got = append(got, d.Event.Fields[0].Str()) }); err != nil {
		t.Fatal(err)
	}
	op := m.keyed.ops[0]
	// (Lateness 2s: z waits in the reorder buffer, and comes at Close.)
	for _, e := range []event.Event{trade("x", 1, 1, 0), trade("y", 1, 1, time.Second),
		trade("y", 1, 1, 11*time.Second), trade("x", 1, 1, 12*time.Second), trade("z", 1, 1, 20*time.Second)} {
		m.Process(&e)
	}
	op.births = math.MaxUint32
	m.Close()
	births := map[string]uint32{}
	for _, k := range []string{"x", "y", "z"} {
		_, id := op.keys.findString(k)
		births[k] = *op.keys.state(id)
	}
	if births["y"] != 1 || births["x"] != 2 || births["z"] != 3 || op.births != 3 {
		t.Errorf("births %v, last %d; want y 1, x 2, z 3, last 3", births, op.births)
	}
	if fmt.Sprint(got) != "[x y y x z]" {
		t.Errorf("results of keys %v, want [x y y x z]", got)
	}
}
