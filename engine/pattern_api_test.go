package engine

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/cepengine/cep/engine/pattern"
)

// TestPatternAPI_syntax checks that every method builds the construct it
// names: the pattern's String is the rule language's spelling.
func TestPatternAPI_syntax(t *testing.T) {
	for _, tc := range []struct {
		name string
		pat  *Pattern
		want string
	}{
		{"begin", Begin("a", "E").Where("v == 1"), "a:E(v == 1)"},
		{"no alias", Begin("", "E"), "E"},
		{"next", Begin("a", "E").Next("b", "E"), "a:E b:E"},
		{"followedBy", Begin("a", "E").FollowedBy("b", "E"), "a:E -> b:E"},
		{"followedByAny", Begin("a", "E").FollowedByAny("b", "E"), "a:E ->> b:E"},
		{"notNext", Begin("a", "E").NotNext("E").Where("v == 2").FollowedBy("c", "E"), "a:E not E(v == 2) -> c:E"},
		{"notFollowedBy", Begin("a", "E").NotFollowedBy("E").FollowedBy("c", "E"), "a:E -> not E -> c:E"},
		{"notFollowedByAny", Begin("a", "E").NotFollowedByAny("E").Next("c", "E"), "a:E ->> not E c:E"},
		{"trailing not", Begin("a", "E").NotFollowedBy("E").Within(time.Minute), "a:E -> not E within 1m"},
		{"where and", Begin("a", "E").Where("v > 1").Where("v < 5"), "a:E((v > 1) and (v < 5))"},
		{"where or", Begin("a", "E").Where("v > 1").Where("v < 5").OrWhere("v == 9"), "a:E(((v > 1) and (v < 5)) or (v == 9))"},
		{"optional", Begin("a", "E").Next("b", "E").Optional(), "a:E b:E?"},
		{"oneOrMore", Begin("a", "E").OneOrMore(), "a:E+"},
		{"zeroOrMore", Begin("a", "E").Next("b", "E").ZeroOrMore(), "a:E b:E*"},
		{"oneOrMore optional", Begin("a", "E").Next("b", "E").OneOrMore().Optional(), "a:E b:E*"},
		{"times", Begin("a", "E").Times(3), "a:E{3}"},
		{"timesRange", Begin("a", "E").TimesRange(2, 4), "a:E{2,4}"},
		{"timesRange from 0", Begin("a", "E").Next("b", "E").TimesRange(0, 4), "a:E b:E{0,4}"},
		{"timesRange 1 optional", Begin("a", "E").Next("b", "E").TimesRange(1, 4).Optional(), "a:E b:E{0,4}"},
		{"times optional", Begin("a", "E").Next("b", "E").Times(2).Optional().Greedy(), "a:E (b:E{2}!)?"},
		{"timesOrMore", Begin("a", "E").TimesOrMore(2), "a:E{2,}"},
		{"greedy", Begin("a", "E").OneOrMore().Greedy().Next("b", "E"), "a:E+! b:E"},
		{"reluctant", Begin("a", "E").OneOrMore().Reluctant().Next("b", "E"), "a:E+? b:E"},
		{"consecutive", Begin("a", "E").FollowedBy("b", "E").OneOrMore().Consecutive(), "a:E -> b:E+ consecutive"},
		{"relaxed", Begin("a", "E").Next("b", "E").OneOrMore().Relaxed(), "a:E b:E+ relaxed"},
		{"any", Begin("a", "E").FollowedByAny("b", "E").OneOrMore().AllowCombinations(), "a:E ->> b:E+ any"},
		{"until", Begin("a", "E").FollowedBy("b", "E").OneOrMore().Greedy().Consecutive().Until("v == 0"), "a:E -> b:E+! consecutive until(v == 0)"},
		{"group", Begin("x", "E").FollowedByGroup(Begin("a", "E").Next("b", "E")).TimesOrMore(2), "x:E -> (a:E b:E){2,}"},
		{"begin group", BeginGroup(Begin("a", "E").Next("b", "E")).OneOrMore().FollowedBy("c", "E"), "(a:E b:E)+ -> c:E"},
		{"next group", Begin("x", "E").NextGroup(Begin("a", "E")), "x:E (a:E)"},
		{"any group", Begin("x", "E").FollowedByAnyGroup(Begin("a", "E")).Optional(), "x:E ->> (a:E)?"},
		{"or", Or(Begin("a", "E").Next("b", "E"), Begin("c", "E")), "a:E b:E | c:E"},
		{"or group", Begin("x", "E").FollowedByGroup(Or(Begin("a", "E"), Begin("b", "E"))), "x:E -> (a:E | b:E)"},
		{"allOf", Begin("x", "E").FollowedByGroup(AllOf(Begin("a", "E"), Begin("b", "E").OneOrMore())), "x:E -> (a:E & b:E+)"},
		{"allOf of a sequence", AllOf(Begin("a", "E"), Begin("b", "E").Next("c", "E")), "a:E & (b:E c:E)"},
		{"within gap", Begin("a", "E").FollowedBy("b", "E").WithinGap(5 * time.Second), "a:E -> b:E within gap 5s"},
		{"skip none", Begin("a", "E").Skip(NoSkip()), "a:E skip none"},
		{"skip to next", Begin("a", "E").Skip(SkipToNext()), "a:E skip to next"},
		{"skip past last", Begin("a", "E").Skip(SkipPastLastEvent()), "a:E skip past last"},
		{"skip to first", Begin("a", "E").Next("b", "E").Skip(SkipToFirst("b")), "a:E b:E skip to first b"},
		{"skip to last", Begin("a", "E").Next("b", "E").Skip(SkipToLast("b")), "a:E b:E skip to last b"},
	} {
		if got := tc.pat.String(); got != tc.want {
			t.Errorf("%s: got %q, want %q", tc.name, got, tc.want)
		}
	}
}

// TestPatternAPI_run runs fluent patterns through Build and a matcher:
// the contiguities on the streams of docs/language.md, lists and prev in
// conditions, aliases of earlier elements, Optional on Times(2), absence,
// having and on timeout emit.
func TestPatternAPI_run(t *testing.T) {
	type in struct {
		user string
		v    int64
		at   time.Duration
	}
	ms := time.Millisecond
	a1b1b2 := []in{{"u", 1, 0}, {"u", 2, ms}, {"u", 2, 2 * ms}}
	a1a2b1 := []in{{"u", 1, 0}, {"u", 1, ms}, {"u", 2, 2 * ms}}
	for _, tc := range []struct {
		name   string
		pat    *Pattern
		having string
		fields []Field
		events []in
		want   string
	}{
		{"next", Begin("a", "E").Where("v == 1").Next("b", "E").Where("v == 2").Skip(NoSkip()), "",
			[]Field{{Name: "a", Expr: "a.at"}, {Name: "b", Expr: "b.at"}}, a1b1b2,
			"r M@1ms {a=0s, b=1ms}"},
		{"followedBy", Begin("a", "E").Where("v == 1").FollowedBy("b", "E").Where("v == 2").Skip(NoSkip()), "",
			[]Field{{Name: "a", Expr: "a.at"}, {Name: "b", Expr: "b.at"}}, a1b1b2,
			"r M@1ms {a=0s, b=1ms}"},
		{"followedByAny", Begin("a", "E").Where("v == 1").FollowedByAny("b", "E").Where("v == 2").Skip(NoSkip()), "",
			[]Field{{Name: "a", Expr: "a.at"}, {Name: "b", Expr: "b.at"}}, a1b1b2,
			"r M@1ms {a=0s, b=1ms}\nr M@2ms {a=0s, b=2ms}"},
		{"next broken", Begin("a", "E").Where("v == 1").Next("b", "E").Where("v == 2").Skip(NoSkip()), "",
			[]Field{{Name: "a", Expr: "a.at"}}, a1a2b1,
			"r M@2ms {a=1ms}"},
		{"followedBy both", Begin("a", "E").Where("v == 1").FollowedBy("b", "E").Where("v == 2").Skip(NoSkip()), "",
			[]Field{{Name: "a", Expr: "a.at"}}, a1a2b1,
			"r M@2ms {a=0s}\nr M@2ms {a=1ms}"},
		{"list and prev", Begin("r", "E").Where("v > prev.v").Times(3), "",
			[]Field{{Name: "n", Expr: "len(r)"}, {Name: "first", Expr: "r[0].v"}}, []in{{"u", 1, 0}, {"u", 2, ms}, {"u", 3, 2 * ms}, {"u", 4, 3 * ms}, {"u", 5, 4 * ms}},
			"r M@3ms {n=3, first=2}"},
		{"earlier alias", Begin("a", "E").FollowedBy("b", "E").Where("v > a.v"), "",
			[]Field{{Name: "b", Expr: "b.v"}}, []in{{"u", 5, 0}, {"u", 3, ms}, {"u", 7, 2 * ms}},
			"r M@2ms {b=7}"},
		{"list so far", Begin("s", "E").Where("v == 0").FollowedBy("m", "E").Where("len(m) == 0 or v > m[-1].v").OneOrMore().Greedy().FollowedBy("e", "E").Where("v == 9"), "",
			[]Field{{Name: "n", Expr: "len(m)"}, {Name: "s", Expr: "sum(map(m, .v))"}}, []in{{"u", 0, 0}, {"u", 2, ms}, {"u", 1, 2 * ms}, {"u", 3, 3 * ms}, {"u", 9, 4 * ms}},
			"r M@4ms {n=2, s=5}"},
		{"optional times 2", Begin("a", "E").Where("v == 1").Next("b", "E").Where("v == 2").Times(2).Optional().Next("c", "E").Where("v == 3").Skip(NoSkip()), "",
			[]Field{{Name: "n", Expr: "len(b)"}}, []in{{"u", 1, 0}, {"u", 3, ms}, {"u", 1, 2 * ms}, {"u", 2, 3 * ms}, {"u", 3, 4 * ms}, {"u", 1, 5 * ms}, {"u", 2, 6 * ms}, {"u", 2, 7 * ms}, {"u", 3, 8 * ms}},
			"r M@1ms {n=0}\nr M@8ms {n=2}"},
		{"absence", Begin("a", "E").Where("v == 1").NotFollowedBy("E").Where("v == 2").Within(3 * ms), "",
			[]Field{{Name: "a", Expr: "a.at"}}, []in{{"u", 1, 0}, {"u", 2, ms}, {"u", 1, 2 * ms}, {"u", 0, 9 * ms}},
			"r M@5ms {a=2ms}"},
		{"having", Begin("a", "E").FollowedByAny("b", "E").Skip(NoSkip()), "b.v == a.v * 2",
			[]Field{{Name: "b", Expr: "b.v"}}, []in{{"u", 2, 0}, {"u", 3, ms}, {"u", 4, 2 * ms}},
			"r M@2ms {b=4}"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := patternBuilder()
			pm, err := b.CompilePattern(tc.pat)
			if err != nil {
				t.Fatal(err)
			}
			r := b.Rule("r").Match(pm).PartitionBy("user")
			if tc.having != "" {
				r.Having(tc.having)
			}
			r.Emit("M", tc.fields...)
			m := mustBuild(t, b).NewMatcher(Config{})
			var rec recorder
			rec.attach(t, m)
			for _, e := range tc.events {
				x := ev(e.user, e.v, e.at)
				m.Process(&x)
			}
			if err := m.Close(); err != nil {
				t.Fatal(err)
			}
			if got := rec.String(); got != tc.want {
				t.Errorf("%s:\ngot\n%s\nwant\n%s", tc.pat, got, tc.want)
			}
		})
	}
}

// TestPatternAPI_sharedGroup uses one sub-pattern twice: each use is its
// own element.
func TestPatternAPI_sharedGroup(t *testing.T) {
	b := patternBuilder()
	two := Begin("", "E").Where("v == 2")
	pm, err := b.CompilePattern(Begin("a", "E").Where("v == 1").NextGroup(two).NextGroup(two))
	if err != nil {
		t.Fatal(err)
	}
	s := pm.Spec
	if len(s.Elements) != 3 || len(s.Root.Children) != 3 || s.Root.Children[1].Element != 1 || s.Root.Children[2].Element != 2 {
		t.Fatalf("spec %+v", s)
	}
	b.Rule("r").Match(pm).Emit("M", Field{Name: "a", Expr: "a.at"})
	m := mustBuild(t, b).NewMatcher(Config{})
	var rec recorder
	rec.attach(t, m)
	for i, v := range []int64{1, 2, 1, 2, 2} {
		e := ev("u", v, time.Duration(i)*time.Millisecond)
		m.Process(&e)
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	if got, want := rec.String(), "r M@4ms {a=2ms}"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

// TestPatternAPI_timeout runs on timeout emit on a fluent pattern.
func TestPatternAPI_timeout(t *testing.T) {
	b := patternBuilder()
	pm, err := b.CompilePattern(Begin("o", "E").Where("v == 1").FollowedBy("p", "E").Where("v == 2").Within(10 * time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	b.Rule("r").Match(pm).PartitionBy("user").Emit("Done", Field{Name: "user"}).
		OnTimeoutEmit("Stuck", Field{Name: "user"}, Field{Name: "since", Expr: "o.at"})
	m := mustBuild(t, b).NewMatcher(Config{})
	var rec recorder
	rec.attach(t, m)
	for _, x := range []struct {
		user string
		v    int64
		at   time.Duration
	}{{"a", 1, 0}, {"b", 1, time.Millisecond}, {"a", 2, 2 * time.Millisecond}, {"a", 0, 30 * time.Millisecond}} {
		e := ev(x.user, x.v, x.at)
		m.Process(&e)
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	want := "r Done@2ms {user=\"a\"}\nr Stuck@11ms {user=\"b\", since=1ms}"
	if got := rec.String(); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

// TestPatternAPI_errors checks every mistake the fluent API reports, with
// its whole message.
func TestPatternAPI_errors(t *testing.T) {
	pos := Pos{File: "x.go", Line: 7, Col: 3}
	for _, tc := range []struct {
		name string
		pat  *Pattern
		want []string
		is   error
	}{
		{"unknown type", Begin("a", "F"), []string{"unknown event type F; did you mean E?"}, ErrUnknownType},
		{"unknown field", Begin("a", "E").Where("vv > 1").At(pos), []string{"x.go:7:3: pattern: the condition of element a:E: unknown name vv; did you mean v?"}, ErrExpr},
		{"not bool", Begin("a", "E").Where("v + 1"), []string{"pattern: the condition of element a:E `v + 1`: 1:1: the condition of element a:E must be bool, found int"}, ErrExpr},
		{"alias not yet bound", Begin("a", "E").Where("v > b.v").FollowedBy("b", "E"),
			[]string{"pattern: the condition of element a:E `v > b.v`: 1:5: unknown name b; alias \"b\" is not bound here: a condition sees only the elements before it and its own alias (the parts of AllOf do not see each other)"}, ErrExpr},
		{"list read as event", Begin("a", "E").OneOrMore().FollowedBy("b", "E").Where("v > a.v"),
			[]string{"pattern: the condition of element b:E `v > a.v`: a is a list of E events (its element repeats); write a[0].v, a[-1].v or map(a, .v)"}, ErrExpr},
		{"duplicate alias", Begin("a", "E").FollowedBy("a", "E"), []string{"pattern: alias \"a\" is used twice (element a:E and element a:E)"}, ErrDuplicate},
		{"alias is a field", Begin("v", "E"), []string{"pattern: alias \"v\" is also a field of E; choose another alias (in a condition a bare name is a field)"}, ErrRule},
		{"alias prev", Begin("prev", "E"), []string{"pattern: alias \"prev\" is reserved: prev is the previous event of the partition"}, ErrReserved},
		{"bad alias", Begin("a b", "E"), []string{"pattern: alias \"a b\" is not a name (a letter or _, then letters, digits or _)"}, ErrRule},
		{"max below min", Begin("a", "E").TimesRange(3, 2).At(pos), []string{"x.go:7:3: pattern: element a:E: quantifier {3,2}: the maximum 2 is less than the minimum 3"}, ErrRule},
		{"max 0", Begin("a", "E").Next("b", "E").TimesRange(0, 0), []string{"pattern: element b:E: quantifier {0} matches nothing; the maximum must be at least 1"}, ErrRule},
		{"loop modifier on ?", Begin("a", "E").Next("b", "E").Optional().Consecutive(),
			[]string{"pattern: element b:E: a loop modifier needs a quantifier that repeats (OneOrMore, TimesOrMore, Times or TimesRange with a maximum above 1), found ?"}, ErrRule},
		{"until on ?", Begin("a", "E").Next("b", "E").Optional().Until("v == 1"),
			[]string{"pattern: element b:E: Until needs a quantifier that repeats (OneOrMore, TimesOrMore, Times or TimesRange with a maximum above 1), found ?"}, ErrRule},
		{"greedy without quantifier", Begin("a", "E").Greedy(), []string{"pattern: Greedy needs a quantifier on element a:E first (OneOrMore, Times, TimesRange, TimesOrMore, Optional)"}, ErrRule},
		{"two quantifiers", Begin("a", "E").OneOrMore().Times(2), []string{"pattern: Times: element a:E already has the quantifier +"}, ErrRule},
		{"quantified not", Begin("a", "E").NotFollowedBy("E").OneOrMore().FollowedBy("c", "E"),
			[]string{"pattern: not E cannot take a quantifier; not B already means no B at all"}, ErrRule},
		{"optional not", Begin("a", "E").NotNext("E").Optional(), []string{"pattern: not E: not cannot be optional; not B already means no B at all"}, ErrRule},
		{"until on group", BeginGroup(Begin("a", "E")).OneOrMore().Until("v == 1"),
			[]string{"pattern: Until applies to an element, not a group; put it on the element whose loop it ends"}, ErrRule},
		{"where on group", Begin("x", "E").FollowedByGroup(Begin("a", "E")).Where("v == 1"),
			[]string{"pattern: Where applies to an element, not a group; put it on the element inside"}, ErrRule},
		{"starts with not", BeginGroup(Begin("a", "E").Optional()).NotNext("E").FollowedBy("b", "E"),
			[]string{"pattern: a pattern cannot start with not; absence is measured from an earlier event, so put an element first"}, ErrRule},
		{"nullable", Begin("a", "E").Optional(), []string{"pattern: the pattern can match no events at all; at least one element must be required (not Optional, ZeroOrMore or TimesRange(0, n))"}, ErrRule},
		{"trailing not without within", Begin("a", "E").NotFollowedBy("E"),
			[]string{"pattern: a trailing NotFollowedBy(E) needs Within: the absence is established when within expires"}, ErrRule},
		{"skip target unknown", Begin("a", "E").Next("bb", "E").Skip(SkipToLast("bx")),
			[]string{"pattern: skip to last bx: no element of the pattern is named \"bx\"; did you mean bb?"}, ErrRule},
		{"skip to first element", Begin("a", "E").Next("b", "E").Skip(SkipToFirst("a")),
			[]string{"pattern: skip to first a: a can be the first element of a match, so the next search would start where this one did; skip to a later element"}, ErrRule},
		{"skip ambiguous", Begin("", "E").Next("", "E").Skip(SkipToLast("E")),
			[]string{"pattern: skip to last E: several elements have type E; give the one you mean an alias"}, ErrRule},
		{"within in a group", Begin("x", "E").FollowedByGroup(Begin("a", "E").Within(time.Second)),
			[]string{"pattern: a group: within applies to the whole pattern; set it on the outer pattern"}, ErrRule},
		{"append to an alternation", Or(Begin("a", "E"), Begin("b", "E")).FollowedBy("c", "E"),
			[]string{"pattern: cannot append to an alternation; use Or(...) as a group: BeginGroup(Or(...)).FollowedBy(...)"}, ErrRule},
		{"or of one", Or(Begin("a", "E")), []string{"pattern: Or needs at least two patterns, found 1"}, ErrRule},
		{"zero pattern", &Pattern{}, []string{"pattern: an empty pattern or group; start one with Begin"}, ErrRule},
		{"negative within", Begin("a", "E").Within(-time.Second), []string{"pattern: within -1s: the duration must be positive"}, ErrRule},
		{"several", Begin("a", "E").Where("nope").FollowedBy("b", "E").Where("v > zz"),
			[]string{"pattern: the condition of element a:E `nope`: 1:1: unknown name nope",
				"pattern: the condition of element b:E `v > zz`: 1:5: unknown name zz"}, ErrExpr},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := patternBuilder().CompilePattern(tc.pat)
			var list ErrorList
			if !errors.As(err, &list) {
				t.Fatalf("got %v, want an ErrorList", err)
			}
			var got []string
			for _, e := range list {
				got = append(got, e.Error())
			}
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("%s:\ngot\n%s\nwant\n%s", tc.pat, strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
			if !errors.Is(err, tc.is) {
				t.Errorf("error does not wrap %v", tc.is)
			}
		})
	}
}

// TestPatternAPI_spec checks the Spec a fluent pattern compiles to: slots
// (lists and single events apart, in element order), the implicit alias,
// the group Optional puts around Times(2), the skip target, within gap.
func TestPatternAPI_spec(t *testing.T) {
	b := patternBuilder()
	pm, err := b.CompilePattern(Begin("a", "E").FollowedBy("", "E").Where("v > a.v").OneOrMore().
		Next("c", "E").Times(2).Optional().FollowedBy("d", "E").Skip(SkipToLast("d")).WithinGap(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	s := pm.Spec
	wantAliases := []PatternAlias{{Name: "a", Type: "E", Slot: 0}, {Name: "E", Type: "E", Slot: 0, List: true},
		{Name: "c", Type: "E", Slot: 1, List: true}, {Name: "d", Type: "E", Slot: 1}}
	if len(pm.Aliases) != len(wantAliases) {
		t.Fatalf("aliases %v, want %v", pm.Aliases, wantAliases)
	}
	for i := range wantAliases {
		if pm.Aliases[i] != wantAliases[i] {
			t.Errorf("alias %d: %v, want %v", i, pm.Aliases[i], wantAliases[i])
		}
	}
	if s.Bound != 2 || s.Lists != 2 || s.SkipTarget != 3 || s.Skip != pattern.SkipToLast || !s.WithinGap || s.Within != time.Second {
		t.Errorf("spec %+v", s)
	}
	root := s.Root
	if root.Kind != pattern.NodeSequence || len(root.Children) != 4 {
		t.Fatalf("root %+v", root)
	}
	g := root.Children[2]
	if g.Kind != pattern.NodeSequence || !g.Quantified || g.Min != 0 || g.Max != 1 || g.Edge != pattern.Strict ||
		len(g.Children) != 1 || g.Children[0].Element != 2 {
		t.Errorf("Times(2).Optional() is %+v, want the group (c:E{2})?", g)
	}
	if e := s.Elements[2]; !e.Quantified || e.Min != 2 || e.Max != 2 {
		t.Errorf("c is %+v", e)
	}
	if s.Elements[1].Cond == nil || s.Elements[0].Cond != nil {
		t.Errorf("conditions: %+v", s.Elements)
	}
	if _, err := pattern.Compile(s); err != nil {
		t.Errorf("the spec does not compile: %v", err)
	}
}
