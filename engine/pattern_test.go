package engine

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/cepengine/cep/engine/eval"
	"github.com/cepengine/cep/engine/event"
	"github.com/cepengine/cep/engine/pattern"
)

// The pattern tests' type: E { user, v, at }.
var patternFields = []event.Field{{Name: "user", Type: event.String}, {Name: "v", Type: event.Int}, {Name: "at", Type: event.Time}}

func patternBuilder() *Builder {
	b := NewBuilder()
	td := b.Event("E")
	for _, f := range patternFields {
		td.Field(f.Name, f.Type)
	}
	td.Time("at")
	return b
}

func ev(user string, v int64, t time.Duration) event.Event {
	return event.Event{Type: 0, Fields: []event.Value{event.StringValue(user), event.IntValue(v), event.TimeValue(at(t))}}
}

// cond compiles an element condition over E's events.
func cond(t testing.TB, src string) *eval.Program {
	t.Helper()
	env := eval.NewEnv()
	env.Event(event.NewSchema("E", patternFields, "at", 0))
	p, err := eval.Compile(src, env, eval.ExpectBool(), eval.NoAggregates())
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// followedBy is a:E(v == 1) -> b:E(v == 2) within d (no within when 0),
// with the edge given.
func followedBy(t testing.TB, edge pattern.Edge, within time.Duration) PatternMatch {
	s := &pattern.Spec{
		Elements: []pattern.Element{
			{Name: "a", Cond: cond(t, "v == 1"), Local: true, Min: 1, Max: 1, Slot: 0},
			{Name: "b", Cond: cond(t, "v == 2"), Local: true, Min: 1, Max: 1, Slot: 1},
		},
		Root: pattern.Node{Kind: pattern.NodeSequence, Children: []pattern.Node{
			{Kind: pattern.NodeElement, Element: 0}, {Kind: pattern.NodeElement, Element: 1, Edge: edge}}},
		Within: within, Bound: 2, SkipTarget: -1,
	}
	return PatternMatch{Spec: s, Types: []string{"E", "E"},
		Aliases: []PatternAlias{{Name: "a", Type: "E", Slot: 0}, {Name: "b", Type: "E", Slot: 1}}}
}

// TestPattern_run runs a keyed followed-by rule through the builder and a
// matcher: matches per key, expiry by within on the watermark, chaining
// into a filter rule, and the graph's dump.
func TestPattern_run(t *testing.T) {
	b := patternBuilder()
	b.Rule("pair").Match(followedBy(t, pattern.Relaxed, 10*time.Millisecond)).PartitionBy("user").
		Having("b.at - a.at > duration('1ms')").
		Emit("Pair", Field{Name: "user"}, Field{Name: "gap", Expr: "b.at - a.at"})
	b.Rule("slow").From("Pair").Where("gap > duration('5ms')").Emit("Slow", Field{Name: "user"})
	g := mustBuild(t, b)
	for _, want := range []string{
		"node 3 pattern Pair match E E within 10ms by 1 keys having `b.at - a.at > duration('1ms')` {user: `user`, gap: `b.at - a.at`} <- 0 -> 4 [pair]",
		"rule 0 pair: match E emit Pair chain 3,4",
	} {
		if !strings.Contains(g.String(), want) {
			t.Errorf("graph has no %q:\n%s", want, g)
		}
	}
	m := g.NewMatcher(Config{})
	var rec recorder
	rec.attach(t, m)
	for _, e := range []event.Event{
		ev("ann", 1, 0), ev("bob", 1, time.Millisecond), ev("ann", 2, 2*time.Millisecond), // ann: gap 2ms
		ev("bob", 2, 8*time.Millisecond),                                   // bob: gap 7ms, slow
		ev("cy", 1, 10*time.Millisecond), ev("cy", 2, 30*time.Millisecond), // cy: expired
		ev("dee", 1, 31*time.Millisecond), ev("dee", 2, 31*time.Millisecond+500*time.Microsecond), // having: too close
	} {
		m.Process(&e)
	}
	m.Close()
	want := strings.Join([]string{
		`pair Pair@2ms {user="ann", gap=2ms}`,
		`pair Pair@8ms {user="bob", gap=7ms}`,
		`slow Slow@8ms {user="bob"}`,
	}, "\n")
	if got := rec.String(); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	checkInvariant(t, m)
	// Every key is freed once its matcher is idle: none is left at Close.
	if s := m.Stats(); s.Keys != 0 || s.Derived != 3 {
		t.Errorf("stats %+v", s)
	}
}

// TestPattern_buildErrors: what Build reports about pattern rules.
func TestPattern_buildErrors(t *testing.T) {
	tests := []struct {
		name string
		rule func(b *Builder)
		want error
		msg  string
	}{
		{"timeout without within", func(b *Builder) {
			b.Rule("r").Match(followedBy(t, pattern.Relaxed, 0)).Emit("X", Field{Name: "n", Expr: "1"}).
				OnTimeoutEmit("Y", Field{Name: "n", Expr: "1"})
		}, ErrRule, "on timeout emit needs within"},
		{"timeout expr", func(b *Builder) {
			b.Rule("r").Match(followedBy(t, pattern.Relaxed, time.Second)).Emit("X", Field{Name: "n", Expr: "1"}).
				OnTimeoutEmit("Y", Field{Name: "n", Expr: "c.v"})
		}, ErrExpr, "field n"},
		{"timeout twice", func(b *Builder) {
			b.Rule("r").Match(followedBy(t, pattern.Relaxed, time.Second)).Emit("X", Field{Name: "n", Expr: "1"}).
				OnTimeoutEmit("Y", Field{Name: "n", Expr: "1"}).OnTimeoutEmit("Z", Field{Name: "n", Expr: "1"})
		}, ErrRule, "second on timeout emit clause"},
		{"timeout type clash", func(b *Builder) {
			b.Rule("r").Match(followedBy(t, pattern.Relaxed, time.Second)).Emit("X", Field{Name: "n", Expr: "1"}).
				OnTimeoutEmit("X", Field{Name: "m", Expr: "1"})
		}, ErrSchemaMismatch, "emits X"},
		{"types", func(b *Builder) {
			pm := followedBy(t, pattern.Relaxed, 0)
			pm.Types = pm.Types[:1]
			b.Rule("r").Match(pm).Emit("X", Field{Name: "n", Expr: "1"})
		}, ErrRule, "match names 1 types for 2 elements"},
		{"unknown type", func(b *Builder) {
			pm := followedBy(t, pattern.Relaxed, 0)
			pm.Types[1] = "F"
			b.Rule("r").Match(pm).Emit("X", Field{Name: "n", Expr: "1"})
		}, ErrUnknownType, "unknown event type F"},
		{"emit expr", func(b *Builder) {
			b.Rule("r").Match(followedBy(t, pattern.Relaxed, 0)).Emit("X", Field{Name: "n", Expr: "c.v"})
		}, ErrExpr, "field n"},
		{"key for a type", func(b *Builder) {
			pm := followedBy(t, pattern.Relaxed, 0)
			pm.Keys = []PatternKey{{Name: "user", Exprs: map[string]string{"F": "user"}}}
			b.Rule("r").Match(pm).Emit("X", Field{Name: "n", Expr: "1"})
		}, ErrExpr, "partition key 1 has no expression for E"},
		{"invalid spec", func(b *Builder) {
			pm := followedBy(t, pattern.Relaxed, 0)
			pm.Spec.Elements[0].Negated = true
			b.Rule("r").Match(pm).Emit("X", Field{Name: "n", Expr: "1"})
		}, ErrRule, "pattern: invalid description"},
		{"clause order", func(b *Builder) {
			b.Rule("r").Match(followedBy(t, pattern.Relaxed, 0)).Emit("X", Field{Name: "n", Expr: "1"}).PartitionBy("user")
		}, ErrRule, "partition by clause after emit"},
		{"window", func(b *Builder) {
			b.Rule("r").Match(followedBy(t, pattern.Relaxed, 0)).Window(Tumbling(time.Second)).Emit("X", Field{Name: "n", Expr: "1"})
		}, ErrRule, "window clause in a pattern rule"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := patternBuilder()
			tc.rule(b)
			_, err := b.Build()
			if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("got %v; want %v with %q", err, tc.want, tc.msg)
			}
		})
	}
}

// TestPattern_overflow: partial matches beyond MaxPartials are dropped,
// counted and reported on the refused stream; the matcher goes on.
func TestPattern_overflow(t *testing.T) {
	b := patternBuilder()
	pm := followedBy(t, pattern.Any, 0)
	pm.Spec.Skip = pattern.SkipNone
	b.Rule("pairs").Match(pm).Emit("Pair", Field{Name: "a", Expr: "a.user"})
	m := mustBuild(t, b).NewMatcher(Config{MaxPartials: 3})
	var refused []string
	m.SubscribeRefused(func(r *Record) { refused = append(refused, r.Err.Error()) })
	n := 0
	if _, err := m.Subscribe(AllDerived, func(*Derived) { n++ }); err != nil {
		t.Fatal(err)
	}
	for i := range 10 {
		e := ev(fmt.Sprint("u", i), 1, time.Duration(i)*time.Millisecond)
		m.Process(&e)
	}
	e := ev("z", 2, time.Second)
	m.Process(&e)
	m.Close()
	if s := m.Stats(); s.Refused == 0 || s.Refused != uint64(len(refused)) {
		t.Errorf("refused %d, reported %d", s.Refused, len(refused))
	}
	if len(refused) == 0 || !strings.Contains(refused[0], "rule pairs dropped partial matches") || !strings.Contains(refused[0], "3, the limit") {
		t.Errorf("refused records %q", refused)
	}
	if n == 0 || n >= 10 {
		t.Errorf("%d matches; want some, fewer than the 10 without a limit", n)
	}
	checkInvariant(t, m)
}

// TestPattern_explain: with Explain a match's derived event carries the
// matched events in time order.
func TestPattern_explain(t *testing.T) {
	b := patternBuilder()
	b.Rule("pair").Match(followedBy(t, pattern.Relaxed, 0)).Emit("Pair", Field{Name: "a", Expr: "a.user"})
	m := mustBuild(t, b).NewMatcher(Config{Explain: true})
	var got []string
	if _, err := m.Subscribe(AllDerived, func(d *Derived) {
		for _, in := range d.Inputs {
			got = append(got, fmt.Sprint(in.Fields[0].Str(), in.Fields[1].Int()))
		}
	}); err != nil {
		t.Fatal(err)
	}
	for _, e := range []event.Event{ev("x", 1, 0), ev("y", 3, 1), ev("z", 2, 2)} {
		m.Process(&e)
	}
	m.Close()
	if strings.Join(got, " ") != "x1 z2" {
		t.Errorf("inputs %q", got)
	}
}

// TestPattern_allocs guards the pattern path: once every key, matcher,
// timer and free list has reached its working size, an event of a keyed
// a -> b within d rule allocates nothing, with matches, expiries on the
// watermark and chaining into a filter rule.
func TestPattern_allocs(t *testing.T) {
	b := patternBuilder()
	b.Rule("pair").Match(followedBy(t, pattern.Relaxed, 5*time.Millisecond)).PartitionBy("user").
		Emit("Pair", Field{Name: "user"}, Field{Name: "gap", Expr: "b.at - a.at"})
	b.Rule("chained").From("Pair").Where("gap > duration('1ms')").Emit("Slow", Field{Name: "user"})
	m := mustBuild(t, b).NewMatcher(Config{})
	n := 0
	if _, err := m.Subscribe(AllDerived, func(*Derived) { n++ }); err != nil {
		t.Fatal(err)
	}
	users := make([]event.Value, 16) // 8 busy ones, 8 that only start partial matches
	for i := range users {
		users[i] = event.StringValue(fmt.Sprint("u", i))
	}
	e := ev("", 0, 0)
	now := t0
	i := 0
	step := func() {
		i++
		now += int64(time.Millisecond) / 8
		e.Fields[0] = users[(i*5)%8]
		e.Fields[1] = event.IntValue(int64(1 + i%3)) // 1, 2 and 3 (neither)
		if i%16 == 0 {
			// A lonely user's a, every 16ms for each: it expires.
			e.Fields[0], e.Fields[1] = users[8+(i/16)%8], event.IntValue(1)
		}
		e.Fields[2] = event.TimeValue(now)
		m.Process(&e)
	}
	for range 30000 {
		step()
	}
	before := m.Stats()
	if got := testing.AllocsPerRun(1, func() {
		for range 2000 {
			step()
		}
	}); got != 0 {
		t.Errorf("%v allocations in 2000 events, want 0", got)
	}
	after := m.Stats()
	if after.Derived == before.Derived || after.TimersDone == before.TimersDone {
		t.Errorf("no matches or no expiries in the measured run: before %+v after %+v", before, after)
	}
	m.Close()
	checkInvariant(t, m)
	if n == 0 {
		t.Error("no derived events")
	}
}

// TestPattern_timeout runs on timeout emit through the builder and a
// matcher: a partial match of each key that within discards emits the
// timeout type at first + within, on the watermark or at Close, with the
// unbound alias nil; a completed match emits nothing on timeout; timeout
// events chain into a filter rule.
func TestPattern_timeout(t *testing.T) {
	b := patternBuilder()
	b.Rule("pair").Match(followedBy(t, pattern.Relaxed, 10*time.Millisecond)).PartitionBy("user").
		Emit("Pair", Field{Name: "user"}).
		OnTimeoutEmit("Lone", Field{Name: "user"}, Field{Name: "first", Expr: "a.at"}, Field{Name: "second", Expr: "b == nil"})
	b.Rule("lone_ann").From("Lone").Where("user == 'ann'").Emit("AnnAlone", Field{Name: "user"})
	g := mustBuild(t, b)
	if want := "node 6 emit Lone <- 4 -> 2 [pair]"; !strings.Contains(g.String(), want) {
		t.Errorf("graph has no %q:\n%s", want, g)
	}
	m := g.NewMatcher(Config{})
	var rec recorder
	rec.attach(t, m)
	for _, e := range []event.Event{
		ev("ann", 1, 0), ev("bob", 1, time.Millisecond), ev("bob", 2, 2*time.Millisecond), // bob matches
		ev("cy", 1, 20*time.Millisecond), // ann timed out at 10ms, before this event
		ev("ann", 1, 25*time.Millisecond),
	} {
		m.Process(&e)
	}
	m.Close() // cy at 30ms, ann at 35ms
	want := strings.Join([]string{
		`pair Pair@2ms {user="bob"}`,
		`pair Lone@10ms {user="ann", first=0s, second=true}`,
		`lone_ann AnnAlone@10ms {user="ann"}`,
		`pair Lone@30ms {user="cy", first=20ms, second=true}`,
		`pair Lone@35ms {user="ann", first=25ms, second=true}`,
		`lone_ann AnnAlone@35ms {user="ann"}`,
	}, "\n")
	if got := rec.String(); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	checkInvariant(t, m)
}
