package engine

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/cepengine/cep/engine/event"
	"github.com/cepengine/cep/engine/pattern"
)

// anyKleene is a:E(v == 1) ->> b:E(v == 2)+ ->> c:E(v == 3) within d,
// skip none: the W6 shape over E.
func anyKleene(t testing.TB, within time.Duration) PatternMatch {
	s := &pattern.Spec{
		Elements: []pattern.Element{
			{Name: "a", Cond: cond(t, "v == 1"), Local: true, Min: 1, Max: 1, Slot: 0},
			{Name: "b", Cond: cond(t, "v == 2"), Local: true, Quantified: true, Min: 1, Max: -1, Slot: 0, List: true},
			{Name: "c", Cond: cond(t, "v == 3"), Local: true, Min: 1, Max: 1, Slot: 1},
		},
		Root: pattern.Node{Kind: pattern.NodeSequence, Children: []pattern.Node{
			{Kind: pattern.NodeElement, Element: 0}, {Kind: pattern.NodeElement, Element: 1, Edge: pattern.Any},
			{Kind: pattern.NodeElement, Element: 2, Edge: pattern.Any}}},
		Within: within, Skip: pattern.SkipNone, Bound: 2, Lists: 1, SkipTarget: -1,
	}
	return PatternMatch{Spec: s, Types: []string{"E", "E", "E"},
		Aliases: []PatternAlias{{Name: "a", Type: "E", Slot: 0}, {Name: "b", Type: "E", Slot: 0, List: true}, {Name: "c", Type: "E", Slot: 1}}}
}

// TestPatternCount_run: a counting rule (PatternMatch.CountOnly) emits, per
// key and per event that completes matches, the number of matches the
// same rule enumerates there; having filters on count(); the rule's dump
// says it counts.
func TestPatternCount_run(t *testing.T) {
	b := patternBuilder()
	b.Rule("enum").Match(anyKleene(t, 10*time.Second)).PartitionBy("user").
		Emit("M", Field{Name: "user"})
	cm := anyKleene(t, 10*time.Second)
	cm.CountOnly = true
	b.Rule("count").Match(cm).PartitionBy("user").
		Emit("N", Field{Name: "user"}, Field{Name: "n", Expr: "count()"}, Field{Name: "twice", Expr: "count() * 2"})
	hm := anyKleene(t, 10*time.Second)
	hm.CountOnly = true
	b.Rule("many").Match(hm).PartitionBy("user").Having("count() >= 3").
		Emit("Many", Field{Name: "n", Expr: "count()"})
	g := mustBuild(t, b)
	if s := g.String(); !strings.Contains(s, "count having `count() >= 3`") {
		t.Errorf("graph dump lacks the counting rule's having:\n%s", s)
	}
	m := g.NewMatcher(Config{})
	type key struct {
		user string
		t    int64
	}
	enum := map[key]int64{}
	var counts, many []string
	if _, err := m.Subscribe("M", func(d *Derived) { enum[key{d.Event.Fields[0].Str(), d.Event.Time}]++ }); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Subscribe("N", func(d *Derived) {
		counts = append(counts, fmt.Sprintf("%s@%v:%d/%d", d.Event.Fields[0].Str(), time.Duration(d.Event.Time-t0), d.Event.Fields[1].Int(), d.Event.Fields[2].Int()))
		if got, want := d.Event.Fields[1].Int(), enum[key{d.Event.Fields[0].Str(), d.Event.Time}]; got != want {
			t.Errorf("count at %v for %s is %d, the enumerating rule emitted %d", time.Duration(d.Event.Time-t0), d.Event.Fields[0].Str(), got, want)
		}
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Subscribe("Many", func(d *Derived) { many = append(many, fmt.Sprint(d.Event.Fields[0].Int())) }); err != nil {
		t.Fatal(err)
	}
	for _, e := range []event.Event{
		ev("x", 1, 0), ev("x", 2, time.Second), ev("y", 1, time.Second), ev("x", 1, 2*time.Second),
		ev("y", 3, 2*time.Second), ev("x", 2, 3*time.Second), ev("x", 3, 4*time.Second),
		ev("y", 2, 5*time.Second), ev("y", 3, 6*time.Second), ev("x", 3, 11*time.Second),
	} {
		m.Process(&e)
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	// x@4s: a@0 with {b@1,b@3} non-empty subsets (3), a@2 with {b@3} (1).
	// x@11s: a@0 ran out of within; a@2 with {b@3}. y@6s: a@1 with {b@5}.
	if got, want := strings.Join(counts, " "), "x@4s:4/8 y@6s:1/2 x@11s:1/2"; got != want {
		t.Errorf("counts %s, want %s", got, want)
	}
	if got, want := strings.Join(many, " "), "4"; got != want {
		t.Errorf("having count() >= 3 passed %s, want %s", got, want)
	}
}

// TestPatternCount_buildErrors: what a counting rule may not have.
func TestPatternCount_buildErrors(t *testing.T) {
	counting := func(t *testing.T) PatternMatch {
		pm := anyKleene(t, time.Second)
		pm.CountOnly = true
		return pm
	}
	tests := []struct {
		name string
		rule func(b *Builder)
		want error
		msg  string
	}{
		{"alias in emit", func(b *Builder) {
			b.Rule("r").Match(counting(t)).Emit("X", Field{Name: "n", Expr: "count()"}, Field{Name: "v", Expr: "a.v"})
		}, ErrExpr, "field v (a counting rule reads count(), the partition keys and constants; no alias)"},
		{"alias in having", func(b *Builder) {
			b.Rule("r").Match(counting(t)).Having("len(b) > 1").Emit("X", Field{Name: "n", Expr: "count()"})
		}, ErrExpr, "having"},
		{"other aggregate", func(b *Builder) {
			b.Rule("r").Match(counting(t)).Emit("X", Field{Name: "n", Expr: "max(count(), 2)"}, Field{Name: "s", Expr: "sum(1)"})
		}, ErrExpr, "aggregate sum is not available in a pattern rule"},
		{"count of x", func(b *Builder) {
			b.Rule("r").Match(counting(t)).Emit("X", Field{Name: "n", Expr: "count(1)"})
		}, ErrExpr, "aggregate count is not available"},
		{"timeout", func(b *Builder) {
			b.Rule("r").Match(counting(t)).Emit("X", Field{Name: "n", Expr: "count()"}).OnTimeoutEmit("Y", Field{Name: "n", Expr: "1"})
		}, ErrRule, "on timeout emit in a rule that counts its matches"},
		{"skip", func(b *Builder) {
			pm := counting(t)
			pm.Spec.Skip = pattern.SkipPastLast
			b.Rule("r").Match(pm).Emit("X", Field{Name: "n", Expr: "count()"})
		}, ErrRule, "count-only with a skip strategy other than skip none"},
		{"count outside a counting rule", func(b *Builder) {
			b.Rule("r").Match(anyKleene(t, time.Second)).Emit("X", Field{Name: "n", Expr: "count()"})
		}, ErrExpr, "to count matches, set PatternMatch.CountOnly"},
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

// TestPatternCount_allocs: a counting rule through the engine allocates
// nothing per event once warm.
func TestPatternCount_allocs(t *testing.T) {
	b := patternBuilder()
	pm := anyKleene(t, 100*time.Millisecond)
	pm.CountOnly = true
	b.Rule("count").Match(pm).PartitionBy("user").Having("count() > 0").
		Emit("N", Field{Name: "user"}, Field{Name: "n", Expr: "count()"})
	m := mustBuild(t, b).NewMatcher(Config{})
	var total int64
	if _, err := m.Subscribe(AllDerived, func(d *Derived) { total += d.Event.Fields[1].Int() }); err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(1, 2))
	users := []event.Value{event.StringValue("u0"), event.StringValue("u1"), event.StringValue("u2")}
	e := ev("", 0, 0)
	now := t0
	step := func() {
		now += int64(time.Millisecond)
		e.Fields[0] = users[r.IntN(len(users))]
		e.Fields[1] = event.IntValue(int64(1 + r.IntN(4)))
		e.Fields[2] = event.TimeValue(now)
		m.Process(&e)
	}
	for range 5000 {
		step()
	}
	before := total
	if got := testing.AllocsPerRun(1, func() {
		for range 2000 {
			step()
		}
	}); got != 0 {
		t.Errorf("%v allocations in 2000 events, want 0", got)
	}
	if total == before {
		t.Error("no counts in the measured run")
	}
}

// TestPatternCount_saturates: count() is the matcher's count (saturating
// at 2^64-1) as an int, saturating at 2^63-1.
func TestPatternCount_saturates(t *testing.T) {
	for _, tc := range []struct {
		n    uint64
		want int64
	}{{0, 0}, {1, 1}, {math.MaxInt64, math.MaxInt64}, {math.MaxInt64 + 1, math.MaxInt64}, {math.MaxUint64, math.MaxInt64}} {
		if got := countInt(tc.n); got != tc.want {
			t.Errorf("countInt(%d) = %d, want %d", tc.n, got, tc.want)
		}
	}
}
