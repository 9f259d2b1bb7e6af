package engine

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/cepengine/cep/engine/eval"
	"github.com/cepengine/cep/engine/event"
	"github.com/cepengine/cep/engine/pattern"
)

// TestPattern_keysFreed runs W4 (a:A -> b:B within 10m by k) over 3000
// keys, more than the key table keeps dormant, so that freed keys are
// revived and deleted ones' ids reused, against a model (the last A per
// key since its last B): the same matches in the same order, and after
// every event exactly the keys with a live partial match are live (a key
// is freed by its match, and by the timer that expires its last run).
func TestPattern_keysFreed(t *testing.T) {
	const keys = 3000
	g := w4Graph(t)
	m := g.NewMatcher(Config{})
	var got []string
	if _, err := m.Subscribe(AllDerived, func(d *Derived) {
		got = append(got, fmt.Sprintf("%d@%d", d.Event.Fields[0].Int(), d.Event.Time))
	}); err != nil {
		t.Fatal(err)
	}
	within := int64(10 * time.Minute)
	last := map[int64]int64{}
	var want []string
	e := &event.Event{Fields: make([]event.Value, 2)}
	peak := uint64(0)
	for i := range 60_000 {
		w4Stream{keys: keys, aPct: 50}.fill(i, e)
		tm := int64(i) * int64(300*time.Millisecond) // a key comes back every ~15m: some runs expire
		e.Fields[1] = event.TimeValue(tm)
		k := e.Fields[0].Int()
		if e.Type == 0 {
			last[k] = tm
		} else if t0, ok := last[k]; ok {
			if tm-t0 < within {
				want = append(want, fmt.Sprintf("%d@%d", k, tm))
			}
			delete(last, k)
		}
		m.Process(e)
		if i%997 == 0 {
			live := 0
			for _, t0 := range last {
				if tm-t0 < within {
					live++
				}
			}
			if s := m.Stats(); s.Keys != uint64(live) {
				t.Fatalf("event %d: %d live keys, want %d", i, s.Keys, live)
			}
		}
		peak = max(peak, m.Stats().Keys)
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("%d matches, want %d; first difference at %d", len(got), len(want), firstDiff(got, want))
	}
	if len(want) < 5000 {
		t.Fatalf("only %d matches: the test is too weak", len(want))
	}
	if s := m.Stats(); s.Keys != 0 {
		t.Fatalf("%d keys live after Close", s.Keys)
	}
	if peak >= keys {
		t.Fatalf("peak %d live keys: keys are not freed", peak)
	}
}

func firstDiff(a, b []string) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// TestPattern_keysKeptForPrev: a key whose pattern reads prev keeps its
// matcher (prev is state) even with no partial match, and prev still
// sees the event before a match.
func TestPattern_keysKeptForPrev(t *testing.T) {
	env := eval.NewEnv()
	s := event.NewSchema("E", patternFields, "at", 0)
	env.Event(s)
	env.Prev(s)
	prevCond, err := eval.Compile("v == 2 && prev.v == 7", env, eval.ExpectBool(), eval.NoAggregates())
	if err != nil {
		t.Fatal(err)
	}
	pm := followedBy(t, pattern.Relaxed, time.Minute)
	pm.Spec.Elements[1].Cond = prevCond
	b := patternBuilder()
	b.Rule("pair").Match(pm).PartitionBy("user").Emit("Pair", Field{Name: "user"})
	m := mustBuild(t, b).NewMatcher(Config{})
	var rec recorder
	rec.attach(t, m)
	for _, e := range []event.Event{
		ev("ann", 7, 0), ev("bob", 7, 0), // prev for the b's below; no partial match
		ev("ann", 1, time.Second), ev("ann", 2, 2*time.Second), // prev.v 1: no match
		ev("bob", 1, 3*time.Second), ev("bob", 7, 4*time.Second), ev("bob", 2, 5*time.Second), // match
	} {
		m.Process(&e)
	}
	if s := m.Stats(); s.Keys != 2 {
		t.Fatalf("%d live keys, want 2 (prev is kept)", s.Keys)
	}
	m.Close()
	if got, want := rec.String(), `pair Pair@5s {user="bob"}`; got != want {
		t.Fatalf("got\n%s\nwant\n%s", got, want)
	}
}

// TestPattern_W4Allocs: W4 through the engine allocates nothing per event
// once warm, keys freed and revived included.
func TestPattern_W4Allocs(t *testing.T) {
	for _, aPct := range []int{50, 1} {
		m := w4Graph(t).NewMatcher(Config{})
		matches := 0
		if _, err := m.Subscribe(AllDerived, func(*Derived) { matches++ }); err != nil {
			t.Fatal(err)
		}
		s := w4Stream{keys: 1000, aPct: aPct}
		e := &event.Event{Fields: make([]event.Value, 2)}
		i := 0
		step := func() {
			s.fill(i, e)
			m.Process(e)
			i++
		}
		for range 200_000 {
			step()
		}
		if a := testing.AllocsPerRun(20_000, step); a != 0 {
			t.Errorf("A=%d%%: %v allocs per event, want 0", aPct, a)
		}
		if matches == 0 {
			t.Errorf("A=%d%%: no match", aPct)
		}
	}
}

// TestPattern_keyBirth pins the order of matches that time completes at
// one instant across keys: the order the keys were born, a key being born
// at the first event that leaves it a partial match. bob's first event
// starts nothing, so ann, whose first event starts a run, is born first,
// though bob was seen first. On the flat path (skip past last) and on the
// step automaton (skip to next) alike.
func TestPattern_keyBirth(t *testing.T) {
	for _, skip := range []pattern.SkipKind{pattern.SkipPastLast, pattern.SkipToNext} {
		pm := followedBy(t, pattern.Relaxed, time.Minute)
		pm.Spec.Elements[1].Negated, pm.Spec.Elements[1].Slot = true, -1
		pm.Spec.Bound, pm.Aliases = 1, pm.Aliases[:1]
		pm.Spec.Skip = skip
		b := patternBuilder()
		b.Rule("quiet").Match(pm).PartitionBy("user").Emit("Quiet", Field{Name: "user"})
		m := mustBuild(t, b).NewMatcher(Config{})
		var rec recorder
		rec.attach(t, m)
		for _, e := range []event.Event{
			ev("bob", 5, 0),                                      // starts nothing: bob is not born
			ev("ann", 1, time.Second), ev("bob", 1, time.Second), // ann is born, then bob
			ev("cid", 9, 2*time.Minute),
		} {
			m.Process(&e)
		}
		m.Close()
		want := "quiet Quiet@1m1s {user=\"ann\"}\nquiet Quiet@1m1s {user=\"bob\"}"
		if got := rec.String(); got != want {
			t.Fatalf("skip %v: got\n%s\nwant\n%s", skip, got, want)
		}
	}
}

// TestPattern_deadlineFIFO holds the flat path's expiry FIFO
// (patternOp.exp) to the deadline queue it stands in for: a -> b within
// and a -> not b within (whose matches time completes, in key order) over
// random streams of a few to many keys, several runs a key; the output,
// line for line, and the counters are the same, and the FIFO took keys.
func TestPattern_deadlineFIFO(t *testing.T) {
	strong := 0
	for seed := uint64(1); seed <= 120; seed++ {
		r := rand.New(rand.NewPCG(seed, 5))
		trailing := r.IntN(2) == 0
		within := time.Duration(1+r.IntN(20)) * time.Second
		nkeys := 1 + r.IntN(30)
		var evs []event.Event
		tm := time.Duration(0)
		step := time.Millisecond
		if seed%3 == 0 { // many events per instant: runs of one key begun at once, their entries apart
			step = time.Second
		}
		for range 50 + r.IntN(300) {
			if seed%3 == 0 {
				tm += time.Duration(r.IntN(3)/2) * step
			} else {
				tm += time.Duration(r.IntN(900)) * step
			}
			evs = append(evs, ev(fmt.Sprint("u", r.IntN(nkeys)), int64(1+r.IntN(3)), tm))
		}
		run := func(queue bool) (string, Stats, int) {
			noKeyFIFO = queue
			defer func() { noKeyFIFO = false }()
			pm := followedBy(t, pattern.Relaxed, within)
			if trailing {
				pm.Spec.Elements[1].Negated, pm.Spec.Elements[1].Slot = true, -1
				pm.Spec.Bound, pm.Aliases = 1, pm.Aliases[:1]
			}
			b := patternBuilder()
			b.Rule("r").Match(pm).PartitionBy("user").Emit("Out", Field{Name: "user"})
			m := mustBuild(t, b).NewMatcher(Config{})
			var rec recorder
			rec.attach(t, m)
			pushed := 0
			for i := range evs {
				e := evs[i]
				m.Process(&e)
				if op := m.patterns.ops[0]; op.exp.n > 0 {
					pushed++
				}
			}
			if err := m.Close(); err != nil {
				t.Fatal(err)
			}
			return rec.String(), m.Stats(), pushed
		}
		want, ws, _ := run(true)
		got, gs, pushed := run(false)
		if got != want {
			t.Fatalf("seed %d: the FIFO's output differs\n got:\n%s\nwant:\n%s", seed, got, want)
		}
		if gs.Derived != ws.Derived || gs.Processed != ws.Processed || gs.Keys != ws.Keys {
			t.Fatalf("seed %d: stats %+v, want %+v", seed, gs, ws)
		}
		if pushed > 0 && ws.Derived > 0 {
			strong++
		}
	}
	if strong < 100 {
		t.Fatalf("only %d runs used the FIFO and matched: the test is too weak", strong)
	}
}

// TestPattern_keyLimitStarters: under Config.MaxKeys a pattern key is live
// while it holds a partial match; on the flat path an event that cannot
// start one for a new key takes no key, so it is not refused, while one
// that would start one beyond the limit is.
func TestPattern_keyLimitStarters(t *testing.T) {
	m := w4Graph(t).NewMatcher(Config{MaxKeys: 1})
	var refused []string
	m.SubscribeRefused(func(r *Record) { refused = append(refused, r.String()) })
	for i, e := range []event.Event{
		{Type: 0, Fields: []event.Value{event.IntValue(1), event.TimeValue(1)}}, // A k=1: the one key
		{Type: 1, Fields: []event.Value{event.IntValue(2), event.TimeValue(2)}}, // B k=2: starts nothing
		{Type: 0, Fields: []event.Value{event.IntValue(2), event.TimeValue(3)}}, // A k=2: beyond the limit
	} {
		m.Process(&e)
		if want := i / 2; len(refused) != want {
			t.Fatalf("after event %d: %d refused, want %d: %v", i, len(refused), want, refused)
		}
	}
	if s := m.Stats(); s.Refused != 1 || s.Keys != 1 {
		t.Fatalf("refused %d, keys %d; want 1, 1", s.Refused, s.Keys)
	}
}
