package scripttest

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cepengine/cep/engine"
	"github.com/cepengine/cep/engine/event"
	"github.com/cepengine/cep/engine/pattern"
	"github.com/cepengine/cep/lang"
)

// The fluent pattern API (engine.Begin ...) must express every pattern
// the language can, and run it the same. For every pattern rule of every
// script, the rule's AST is translated into fluent calls; the program is
// built once through lang and once with its pattern rules built through
// the fluent API; the specs must agree, and the script's events must give
// the same derived, late and invalid events through both.

// TestPatternAPI_differential runs every script both ways.
func TestPatternAPI_differential(t *testing.T) {
	var files []string
	for _, glob := range []string{"../../testdata/conformance/*.test", "../../testdata/scripts/*.test"} {
		m, err := filepath.Glob(glob)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, m...)
	}
	if len(files) < 100 {
		t.Fatalf("found %d scripts; want the conformance cases and the scripts", len(files))
	}
	rules, scripts := 0, 0
	seen := map[string]int{}
	for _, path := range files {
		src, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		s, err := Parse(path, src)
		if err != nil {
			t.Fatal(err)
		}
		prog, err := lang.LoadSource(path, []byte(s.Rules))
		if err != nil {
			continue // scripts of rule errors (invalid.test) have no program
		}
		n := 0
		for _, ri := range prog.Rules {
			if ri.Kind == lang.PatternRule {
				n++
				constructs(ri, seen)
			}
		}
		if n == 0 {
			continue
		}
		t.Run(filepath.Base(path), func(t *testing.T) {
			want, err := lang.Compile(prog)
			if err != nil {
				t.Fatal(err)
			}
			for _, viaRule := range []bool{false, true} {
				got, err := fluentProgram(t, prog, viaRule)
				if err != nil {
					t.Fatal(err)
				}
				sameRun(t, s, want, got, viaRule)
			}
		})
		rules += n
		scripts++
	}
	t.Logf("compared %d pattern rules of %d scripts; constructs: %v", rules, scripts, seen)
	if rules < 100 {
		t.Errorf("compared only %d pattern rules", rules)
	}
	requireCoverage(t, "script", seen, "allOf", "having") // no script has them: TestPatternAPI_random does
}

// sameRun runs s's events through the graph lang built (want) and the one
// built with fluent patterns (got), one at a time and in one batch, and
// requires the same derived, late and invalid events.
func sameRun(t *testing.T, s *Script, want, got *engine.Graph, viaRule bool) {
	t.Helper()
	how := "CompilePattern"
	if viaRule {
		how = "Rule.Pattern"
	}
	for _, f := range []feeding{{name: "one event at a time"}, {name: "one batch", split: func(n int) []int { return []int{n} }}} {
		a, err := s.run(want, f)
		if err != nil {
			t.Fatal(err)
		}
		b, err := s.run(got, f)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			what      string
			want, got []string
		}{{"derived", a.derived, b.derived}, {"late", a.late, b.late}, {"invalid", a.invalid, b.invalid}} {
			if !slices.Equal(c.want, c.got) {
				t.Errorf("%s, %s, %s events differ (lang, then fluent):\n%s", how, f.name, c.what, diff(c.want, c.got))
			}
		}
		if a.stats != b.stats {
			t.Errorf("%s, %s: stats differ: lang %+v, fluent %+v", how, f.name, a.stats, b.stats)
		}
	}
}

// allConstructs are the constructs constructs counts.
var allConstructs = []string{"next", "followedBy", "followedByAny", "notNext", "notFollowedBy", "trailing not", "optional", "zeroOrMore",
	"oneOrMore", "times", "timesRange", "timesOrMore", "greedy", "reluctant", "consecutive", "relaxed", "any", "until", "group",
	"or", "allOf", "within", "within gap", "skip none", "skip to next", "skip past last", "skip to first", "skip to last", "having",
	"on timeout emit", "prev", "keys"}

func requireCoverage(t *testing.T, what string, seen map[string]int, except ...string) {
	t.Helper()
	for _, c := range allConstructs {
		if seen[c] == 0 && !slices.Contains(except, c) {
			t.Errorf("no %s has %s: the differential test does not cover it", what, c)
		}
	}
}

// constructs counts the constructs of a rule, to show the coverage.
func constructs(ri *lang.RuleInfo, seen map[string]int) {
	d := ri.Decl
	var walk func(p *lang.Pattern)
	walk = func(p *lang.Pattern) {
		if len(p.Alts) > 1 {
			seen["or"]++
		}
		for _, seq := range p.Alts {
			for i, st := range seq.Steps {
				if len(st.Term.Factors) > 1 {
					seen["allOf"]++
				}
				for _, f := range st.Term.Factors {
					switch {
					case f.Not && st.Edge == lang.Strict:
						seen["notNext"]++
					case f.Not:
						seen["notFollowedBy"]++
						if i == len(seq.Steps)-1 {
							seen["trailing not"]++
						}
					case i > 0 && st.Edge == lang.Strict:
						seen["next"]++
					case st.Edge == lang.Relaxed:
						seen["followedBy"]++
					case st.Edge == lang.AnyEdge:
						seen["followedByAny"]++
					}
					if f.Group != nil {
						seen["group"]++
						walk(f.Group)
					}
					if f.Elem != nil && f.Elem.Cond != nil && strings.Contains(f.Elem.Cond.Text, "prev") {
						seen["prev"]++
					}
					if q := f.Quant; q != nil {
						lo, hi := q.Bounds()
						switch {
						case q.Op == "?":
							seen["optional"]++
						case q.Op == "*":
							seen["zeroOrMore"]++
						case q.Op == "+":
							seen["oneOrMore"]++
						case lo == hi:
							seen["times"]++
						case hi < 0:
							seen["timesOrMore"]++
						default:
							seen["timesRange"]++
						}
						switch {
						case q.Greedy():
							seen["greedy"]++
						case q.Reluctant():
							seen["reluctant"]++
						}
						if q.Loop != "" {
							seen[q.Loop]++
						}
						if q.Until != nil {
							seen["until"]++
						}
					}
				}
			}
		}
	}
	walk(d.Match().Pattern)
	if w := d.Within(); w != nil {
		if w.Gap {
			seen["within gap"]++
		} else {
			seen["within"]++
		}
	}
	if s := d.Skip(); s != nil {
		seen[map[string]string{"none": "skip none", "next": "skip to next", "past": "skip past last", "first": "skip to first", "last": "skip to last"}[s.Kind]]++
	}
	if d.Having() != nil {
		seen["having"]++
	}
	if d.Timeout() != nil {
		seen["on timeout emit"]++
	}
	if len(ri.Partition) > 0 {
		seen["keys"]++
	}
}

// fluentProgram builds prog with the engine's builder, its pattern rules
// through the fluent API. A pattern rule that reads the events of a later
// rule needs that rule's schema: the builder of the previous pass (which
// holds every rule that compiled then) provides it.
//
// viaRule gives the fluent patterns to Rule.Pattern instead, which
// compiles them in Build (one pass).
func fluentProgram(t *testing.T, prog *lang.Program, viaRule bool) (*engine.Graph, error) {
	var prev *engine.Builder
	for pass := 0; pass < 4; pass++ {
		b := newBuilder(prog)
		complete := true
		for _, ri := range prog.Rules {
			if ri.Kind != lang.PatternRule {
				fromRule(b, ri)
				continue
			}
			pat := fluentPattern(ri, pass)
			if viaRule {
				rulePattern(b.Rule(ri.Name).Pattern(pat), ri)
				continue
			}
			pm, err := b.CompilePattern(pat)
			if err != nil && prev != nil {
				pm, err = prev.CompilePattern(pat)
			}
			if err != nil {
				complete = false
				continue
			}
			checkSpec(t, ri, pm)
			rulePattern(b.Rule(ri.Name).Match(pm), ri)
		}
		if complete {
			return b.Build()
		}
		prev = b
	}
	return nil, fmt.Errorf("the fluent patterns did not compile in 4 passes")
}

// rulePattern adds a pattern rule's having, emit and on timeout emit.
func rulePattern(r *engine.Rule, ri *lang.RuleInfo) {
	if ri.Having != nil {
		r.Having(ri.Having.Expr.Text)
	}
	r.Emit(ri.Emit.Type.Name, emitFields(ri.Emit)...)
	if ri.Timeout != nil {
		r.OnTimeoutEmit(ri.Timeout.Type.Name, emitFields(ri.Timeout)...)
	}
}

// fluentPattern translates a pattern rule's match, within, skip and
// partition keys into fluent calls. variant picks between equivalent
// spellings (ZeroOrMore or OneOrMore().Optional()).
func fluentPattern(ri *lang.RuleInfo, variant int) *engine.Pattern {
	d := ri.Decl
	p := fluentAlts(d.Match().Pattern, variant)
	if w := d.Within(); w != nil {
		if w.Gap {
			p.WithinGap(w.Duration.Value)
		} else {
			p.Within(w.Duration.Value)
		}
	}
	if s := d.Skip(); s != nil {
		switch s.Kind {
		case "none":
			p.Skip(engine.NoSkip())
		case "next":
			p.Skip(engine.SkipToNext())
		case "past":
			p.Skip(engine.SkipPastLastEvent())
		case "first":
			p.Skip(engine.SkipToFirst(s.Target.Name))
		case "last":
			p.Skip(engine.SkipToLast(s.Target.Name))
		}
	}
	if ri.Counts {
		p.CountOnly()
	}
	for _, k := range ri.Partition {
		pk := engine.PatternKey{Name: k.Name, Exprs: map[string]string{}}
		for i, typ := range ri.Reads {
			if x := k.Exprs[i]; x != nil {
				pk.Exprs[typ.Name] = x.Expr.Text
			}
		}
		p.KeyBy(pk)
	}
	return p
}

func fluentAlts(p *lang.Pattern, variant int) *engine.Pattern {
	if len(p.Alts) == 1 {
		return fluentSeq(p.Alts[0], variant)
	}
	var alts []*engine.Pattern
	for _, seq := range p.Alts {
		alts = append(alts, fluentSeq(seq, variant))
	}
	return engine.Or(alts...)
}

func fluentSeq(seq *lang.Sequence, variant int) *engine.Pattern {
	var p *engine.Pattern
	for _, st := range seq.Steps {
		fs := st.Term.Factors
		if len(fs) > 1 {
			var parts []*engine.Pattern
			for _, f := range fs {
				parts = append(parts, fluentFactor(nil, lang.Strict, f, variant))
			}
			all := engine.AllOf(parts...)
			switch {
			case p == nil:
				p = engine.BeginGroup(all)
			case st.Edge == lang.Strict:
				p.NextGroup(all)
			case st.Edge == lang.Relaxed:
				p.FollowedByGroup(all)
			default:
				p.FollowedByAnyGroup(all)
			}
			continue
		}
		p = fluentFactor(p, st.Edge, fs[0], variant)
	}
	return p
}

// fluentFactor appends one factor to p (or begins a pattern with it when p
// is nil) after the edge e.
func fluentFactor(p *engine.Pattern, e lang.Edge, f *lang.Factor, variant int) *engine.Pattern {
	switch {
	case f.Not:
		switch e {
		case lang.Strict:
			p.NotNext(f.Elem.Type.Name)
		case lang.Relaxed:
			p.NotFollowedBy(f.Elem.Type.Name)
		default:
			p.NotFollowedByAny(f.Elem.Type.Name)
		}
		if f.Elem.Cond != nil {
			p.Where(f.Elem.Cond.Text)
		}
		return p
	case f.Group != nil:
		g := fluentAlts(f.Group, variant)
		switch {
		case p == nil:
			p = engine.BeginGroup(g)
		case e == lang.Strict:
			p.NextGroup(g)
		case e == lang.Relaxed:
			p.FollowedByGroup(g)
		default:
			p.FollowedByAnyGroup(g)
		}
	default:
		alias, typ := "", f.Elem.Type.Name
		if f.Elem.Alias != nil {
			alias = f.Elem.Alias.Name
		}
		switch {
		case p == nil:
			p = engine.Begin(alias, typ)
		case e == lang.Strict:
			p.Next(alias, typ)
		case e == lang.Relaxed:
			p.FollowedBy(alias, typ)
		default:
			p.FollowedByAny(alias, typ)
		}
		if f.Elem.Cond != nil {
			p.Where(f.Elem.Cond.Text)
		}
	}
	q := f.Quant
	if q == nil {
		return p
	}
	lo, hi := q.Bounds()
	switch {
	case q.Op == "?":
		p.Optional()
	case q.Op == "*" && variant%2 == 0:
		p.ZeroOrMore()
	case q.Op == "*":
		p.OneOrMore().Optional()
	case q.Op == "+":
		p.OneOrMore()
	case lo == hi:
		p.Times(lo)
	case hi < 0:
		p.TimesOrMore(lo)
	default:
		p.TimesRange(lo, hi)
	}
	switch {
	case q.Greedy():
		p.Greedy()
	case q.Reluctant():
		p.Reluctant()
	}
	switch q.Loop {
	case "consecutive":
		p.Consecutive()
	case "relaxed":
		p.Relaxed()
	case "any":
		p.AllowCombinations()
	}
	if q.Until != nil {
		p.Until(q.Until.Text)
	}
	return p
}

// checkSpec compares the fluent spec with lang's: same elements, tree,
// slots, within and skip, and conditions of the same source.
func checkSpec(t *testing.T, ri *lang.RuleInfo, pm engine.PatternMatch) {
	t.Helper()
	want := lang.PatternSpec(ri)
	if got, w := specString(pm.Spec), specString(want); got != w {
		t.Errorf("rule %s: fluent spec differs from lang's:\nfluent %s\nlang   %s", ri.Name, got, w)
	}
	var types []string
	for _, el := range ri.Pattern.Elements {
		types = append(types, el.Type.Name)
	}
	if !slices.Equal(types, pm.Types) {
		t.Errorf("rule %s: element types %v, lang %v", ri.Name, pm.Types, types)
	}
	var aliases []engine.PatternAlias
	for _, a := range ri.Pattern.Aliases {
		aliases = append(aliases, engine.PatternAlias{Name: a.Name, Type: a.Type.Name, Slot: a.Slot, List: a.List})
	}
	if !slices.Equal(aliases, pm.Aliases) {
		t.Errorf("rule %s: aliases %v, lang %v", ri.Name, pm.Aliases, aliases)
	}
}

// specString renders a spec with its programs as their source text.
func specString(s *pattern.Spec) string {
	var b strings.Builder
	for _, e := range s.Elements {
		cond, until := "", ""
		if e.Cond != nil {
			cond = e.Cond.Source()
		}
		if e.Until != nil {
			until = e.Until.Source()
		}
		fmt.Fprintf(&b, "[%s not=%v q=%v %d..%d mode=%d loop=%d slot=%d list=%v cond=%q until=%q] ", e.Name, e.Negated, e.Quantified, e.Min, e.Max, e.Mode, e.Loop, e.Slot, e.List, cond, until)
	}
	fmt.Fprintf(&b, "root=%+v within=%v gap=%v skip=%d target=%d bound=%d lists=%d", s.Root, s.Within, s.WithinGap, s.Skip, s.SkipTarget, s.Bound, s.Lists)
	return b.String()
}

// newBuilder declares prog's types and constants, as lang.Compile does.
func newBuilder(prog *lang.Program) *engine.Builder {
	b := engine.NewBuilder()
	for _, t := range prog.Types {
		if !t.Declared() {
			continue
		}
		td := b.Event(t.Name)
		for _, f := range t.Schema.Fields {
			td.Field(f.Name, f.Type)
		}
		if d := t.Decl; d.Time != nil {
			td.Time(d.Time.Name)
		}
		if d := t.Decl; d.Lateness != nil {
			td.Lateness(d.Lateness.Value)
		}
	}
	for _, c := range prog.Consts {
		b.Const(c.Name, c.Value)
	}
	return b
}

// fromRule adds a filter or window rule, as lang.Compile does.
func fromRule(b *engine.Builder, ri *lang.RuleInfo) {
	r := b.Rule(ri.Name).From(ri.Source.Name)
	if ri.Alias != "" {
		r.As(ri.Alias)
	}
	if ri.Where != nil {
		r.Where(ri.Where.Expr.Text)
	}
	for _, k := range ri.Partition {
		r.PartitionBy(k.Exprs[0].Expr.Text)
	}
	if w := ri.Window; w != nil {
		var spec engine.WindowSpec
		switch w.Kind {
		case lang.WindowTumbling:
			spec = engine.Tumbling(w.Size)
		case lang.WindowHopping:
			spec = engine.Hopping(w.Size, w.Step)
		case lang.WindowSliding:
			spec = engine.Sliding(w.Size)
		case lang.WindowCount:
			spec = engine.CountWindow(w.Count)
		case lang.WindowSlidingCount:
			spec = engine.SlidingCount(w.Count)
		default:
			spec = engine.Session(w.Gap)
		}
		r.Window(spec)
	}
	if ri.Having != nil {
		r.Having(ri.Having.Expr.Text)
	}
	r.Emit(ri.Emit.Type.Name, emitFields(ri.Emit)...)
	if o := ri.Output; o != nil {
		r.Output(outputMode(o), o.Every)
	}
}

func outputMode(o *lang.Output) engine.OutputMode {
	if o.Last {
		return engine.OutputLast
	}
	return engine.OutputFirst
}

// emitFields lists an emit's fields, a declared type's in its order, as
// lang.Compile does.
func emitFields(e *lang.EmitInfo) []engine.Field {
	byName := map[string]*lang.EmitFieldInfo{}
	var out []engine.Field
	for _, f := range e.Fields {
		byName[f.Name] = f
		if !e.Type.Declared() {
			out = append(out, engine.Field{Name: f.Name, Expr: f.Value.Expr.Text})
		}
	}
	if !e.Type.Declared() {
		return out
	}
	for _, sf := range e.Type.Schema.Fields {
		if f, ok := byName[sf.Name]; ok {
			out = append(out, engine.Field{Name: f.Name, Expr: f.Value.Expr.Text})
		} else {
			out = append(out, engine.Field{Name: sf.Name, Expr: "nil"})
		}
	}
	return out
}

// TestPatternAPI_random runs generated pattern rules both ways: every
// construct, conditions over earlier aliases (single and lists) and prev,
// having, emitted aliases and lists, partition keys and on timeout emit.
// A rule lang rejects must be rejected by the fluent API too.
func TestPatternAPI_random(t *testing.T) {
	ran, rejected := 0, 0
	seen := map[string]int{}
	for seed := uint64(1); seed <= 1500; seed++ {
		if os.Getenv("PATDEBUG") != "" {
			fmt.Fprintln(os.Stderr, "seed", seed)
		}
		r := rand.New(rand.NewPCG(seed, 7))
		g := &ruleGen{r: r}
		src := g.rule()
		prog, err := lang.LoadSource("gen.cep", []byte(src))
		if err != nil {
			rejected++
			pat := g.fluent
			b := engine.NewBuilder()
			b.Event("E").Field("k", event.Int).Field("v", event.Int).Field("ts", event.Time).Time("ts")
			if _, ferr := b.CompilePattern(pat); ferr == nil && strings.Contains(err.Error(), "gen.cep:") && g.patternOnly(err) {
				t.Errorf("seed %d: lang rejects the rule, the fluent API accepts it\n%s\nlang: %v", seed, src, err)
			}
			continue
		}
		want, err := lang.Compile(prog)
		if err != nil {
			rejected++
			continue
		}
		s := &Script{Name: "gen.cep", Rules: src}
		tm := int64(0)
		for i := range r.IntN(14) {
			tm += int64(r.IntN(3)) * 1e6
			s.Inputs = append(s.Inputs, Input{Line: i + 1, Kind: InputEvent, Time: tm, Type: "E",
				Fields: fmt.Sprintf("{ k: %d, v: %d }", r.IntN(2), r.IntN(3))})
		}
		got, err := fluentProgram(t, prog, seed%2 == 0)
		if err != nil {
			t.Fatalf("seed %d: lang builds the rule, the fluent API does not: %v\n%s", seed, err, src)
		}
		// The generator's own fluent calls, written without lang's AST,
		// must give lang's spec too.
		b0 := engine.NewBuilder()
		b0.Event("E").Field("k", event.Int).Field("v", event.Int).Field("ts", event.Time).Time("ts")
		pm, err := b0.CompilePattern(g.fluent)
		if err != nil {
			t.Fatalf("seed %d: the generated fluent pattern %s does not compile: %v\n%s", seed, g.fluent, err, src)
		}
		checkSpec(t, prog.Rules[0], pm)
		a, err := s.run(want, feeding{name: "lang"})
		if err != nil {
			t.Fatal(err)
		}
		b, err := s.run(got, feeding{name: "fluent"})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(a.derived, b.derived) {
			t.Fatalf("seed %d: derived events differ (lang, then fluent):\n%s\n%s", seed, src, diff(a.derived, b.derived))
		}
		constructs(prog.Rules[0], seen)
		ran++
	}
	t.Logf("%d generated rules compared, %d rejected by lang; constructs: %v", ran, rejected, seen)
	requireCoverage(t, "generated rule", seen, "trailing not", "skip to last")
	if ran < 500 {
		t.Errorf("only %d generated rules ran", ran)
	}
}

// ruleGen writes a random pattern rule over event E { k, v, ts } in the
// language and, alongside, the same pattern with fluent calls written
// independently of lang's AST (so the translation of the differential test
// is not the only one).
type ruleGen struct {
	r       *rand.Rand
	b       strings.Builder
	fluent  *engine.Pattern
	aliases []genAlias
	n       int
	inLoop  int
	lines   map[int]string // the clause on each line of the rule
}

type genAlias struct {
	name string
	list bool
}

// patternOnly reports whether lang's errors are about the pattern (not
// having or emit, which the fluent API does not compile).
func (g *ruleGen) patternOnly(err error) bool {
	l, ok := err.(lang.ErrorList)
	if !ok {
		return false
	}
	for _, e := range l {
		if g.lines[e.Pos.Line] != "match" {
			return false
		}
	}
	return true
}

func (g *ruleGen) rule() string {
	r := g.r
	head := "event E { k: int, v: int, ts: time } time ts\nrule g\n"
	if r.IntN(2) == 0 {
		head += "  partition by k\n"
	}
	g.b.WriteString("  match ")
	g.fluent = g.sequence(0)
	if r.IntN(8) == 0 {
		if r.IntN(2) == 0 {
			g.b.WriteString(" not E(v == 1)")
			g.fluent.NotNext("E").Where("v == 1")
		} else {
			g.b.WriteString(" -> not E(v == 1)")
			g.fluent.NotFollowedBy("E").Where("v == 1")
		}
	}
	within := r.IntN(3) == 0
	if within {
		d := time.Duration(2+r.IntN(6)) * time.Millisecond
		if r.IntN(2) == 0 {
			fmt.Fprintf(&g.b, "\n  within gap %dms", d.Milliseconds())
			g.fluent.WithinGap(d)
		} else {
			fmt.Fprintf(&g.b, "\n  within %dms", d.Milliseconds())
			g.fluent.Within(d)
		}
	}
	switch r.IntN(6) {
	case 0:
		g.b.WriteString("\n  skip none")
		g.fluent.Skip(engine.NoSkip())
	case 1:
		g.b.WriteString("\n  skip to next")
		g.fluent.Skip(engine.SkipToNext())
	case 2:
		g.b.WriteString("\n  skip to last e1")
		g.fluent.Skip(engine.SkipToLast("e1"))
	case 3:
		g.b.WriteString("\n  skip to first e1")
		g.fluent.Skip(engine.SkipToFirst("e1"))
	case 4:
		g.b.WriteString("\n  skip past last")
		g.fluent.Skip(engine.SkipPastLastEvent())
	}
	if r.IntN(4) == 0 && len(g.aliases) > 0 {
		g.b.WriteString("\n  having " + g.read(g.aliases[0]) + " != 1")
	}
	g.b.WriteString("\n  emit M { n: 1")
	for _, a := range g.aliases {
		fmt.Fprintf(&g.b, ", %s: %s", a.name, g.emitRead(a))
	}
	g.b.WriteString(" }")
	if within && r.IntN(2) == 0 {
		g.b.WriteString("\n  on timeout emit T { n: 2")
		for _, a := range g.aliases {
			fmt.Fprintf(&g.b, ", %s: %s", a.name, g.emitRead(a))
		}
		g.b.WriteString(" }")
	}
	src := head + g.b.String() + "\n"
	g.lines = map[int]string{}
	for i, l := range strings.Split(src, "\n") {
		switch f := strings.Fields(l); {
		case len(f) > 0 && (f[0] == "match" || f[0] == "within" || f[0] == "skip"):
			g.lines[i+1] = "match"
		case len(f) > 0:
			g.lines[i+1] = f[0]
		}
	}
	return src
}

func (g *ruleGen) read(a genAlias) string {
	if a.list {
		return "(len(" + a.name + ") > 0 ? " + a.name + "[-1].v : -1)"
	}
	return "(" + a.name + "?.v ?? -1)"
}

func (g *ruleGen) emitRead(a genAlias) string {
	if a.list {
		return "sum(map(" + a.name + ", .v))"
	}
	return a.name + "?.v"
}

func (g *ruleGen) cond() string {
	r := g.r
	switch r.IntN(7) {
	case 0, 1:
		return ""
	case 2:
		return fmt.Sprintf("v == %d", r.IntN(3))
	case 3:
		return fmt.Sprintf("v != %d", r.IntN(3))
	case 4:
		return "v >= prev.v"
	default:
		if len(g.aliases) == 0 {
			return fmt.Sprintf("v < %d", 1+r.IntN(2))
		}
		a := g.aliases[r.IntN(len(g.aliases))]
		return "v != " + g.read(a)
	}
}

var genEdges = []string{" ", " -> ", " ->> "}

func (g *ruleGen) sequence(depth int) *engine.Pattern {
	r := g.r
	var p *engine.Pattern
	n := 1 + r.IntN(3)
	if depth > 0 {
		n = 1 + r.IntN(2)
	}
	for i := range n {
		e := 0
		if i > 0 {
			e = r.IntN(3)
			g.b.WriteString(genEdges[e])
			if g.inLoop == 0 && r.IntN(6) == 0 {
				ne := r.IntN(3)
				fmt.Fprintf(&g.b, "not E(v == 2)%s", genEdges[ne])
				[]func(string) *engine.Pattern{p.NotNext, p.NotFollowedBy, p.NotFollowedByAny}[e]("E").Where("v == 2")
				e = ne
			}
		}
		if depth < 2 && r.IntN(4) == 0 {
			// A group, an alternation or an &, maybe quantified.
			quant := r.IntN(2) == 0
			kind := r.IntN(7)
			if quant && kind != 0 { // 0 is ?, which does not repeat
				g.inLoop++
			}
			var sub *engine.Pattern
			g.b.WriteString("(")
			switch r.IntN(3) {
			case 0:
				sub = g.sequence(depth + 1)
			case 1:
				a := g.sequence(depth + 1)
				g.b.WriteString(" | ")
				sub = engine.Or(a, g.sequence(depth+1))
			default:
				a := g.elemPattern()
				g.b.WriteString(" & ")
				sub = engine.AllOf(a, g.elemPattern())
			}
			g.b.WriteString(")")
			if quant && kind != 0 {
				g.inLoop--
			}
			switch {
			case p == nil:
				p = engine.BeginGroup(sub)
			default:
				[]func(*engine.Pattern) *engine.Pattern{p.NextGroup, p.FollowedByGroup, p.FollowedByAnyGroup}[e](sub)
			}
			if quant {
				g.quantKind(p, kind, false)
			}
			continue
		}
		name := fmt.Sprintf("e%d", g.n)
		g.n++
		cond := g.cond()
		fmt.Fprintf(&g.b, "%s:E", name)
		if cond != "" {
			g.b.WriteString("(" + cond + ")")
		}
		if p == nil {
			p = engine.Begin(name, "E")
		} else {
			[]func(string, string) *engine.Pattern{p.Next, p.FollowedBy, p.FollowedByAny}[e](name, "E")
		}
		if cond != "" {
			p.Where(cond)
		}
		list := g.inLoop > 0
		if r.IntN(3) == 0 {
			list = g.quant(p, true) || list
		}
		g.aliases = append(g.aliases, genAlias{name: name, list: list})
	}
	return p
}

// elemPattern is one element as a pattern of its own (a part of &).
func (g *ruleGen) elemPattern() *engine.Pattern {
	name := fmt.Sprintf("e%d", g.n)
	g.n++
	v := g.r.IntN(3)
	fmt.Fprintf(&g.b, "%s:E(v == %d)", name, v)
	p := engine.Begin(name, "E").Where(fmt.Sprintf("v == %d", v))
	list := g.inLoop > 0
	if g.r.IntN(3) == 0 {
		list = g.quant(p, true) || list
	}
	g.aliases = append(g.aliases, genAlias{name: name, list: list})
	return p
}

// quant writes a random quantifier after the last element or group; it
// reports whether it repeats.
func (g *ruleGen) quant(p *engine.Pattern, until bool) bool {
	return g.quantKind(p, g.r.IntN(7), until)
}

func (g *ruleGen) quantKind(p *engine.Pattern, kind int, until bool) bool {
	r := g.r
	repeats := true
	switch kind {
	case 0:
		g.b.WriteString("?")
		p.Optional()
		repeats = false
	case 1:
		g.b.WriteString("*")
		p.OneOrMore().Optional()
	case 2:
		g.b.WriteString("+")
		p.OneOrMore()
	case 3:
		g.b.WriteString("{2}")
		p.Times(2)
	case 4:
		g.b.WriteString("{1,2}")
		p.TimesRange(1, 2)
	case 5:
		g.b.WriteString("{0,2}")
		p.TimesRange(0, 2)
	default:
		g.b.WriteString("{2,}")
		p.TimesOrMore(2)
	}
	switch r.IntN(4) {
	case 0:
		if g.inLoop > 0 {
			// No greedy loop inside a loop: the engine does not end on
			// e0:E ->> (e1:E*! any)*! (a greedy loop that may take
			// nothing, repeated), reported to the lead.
			break
		}
		g.b.WriteString("!")
		p.Greedy()
	case 1:
		g.b.WriteString("?")
		p.Reluctant()
	}
	if !repeats {
		return false
	}
	switch r.IntN(5) {
	case 0:
		g.b.WriteString(" consecutive")
		p.Consecutive()
	case 1:
		g.b.WriteString(" relaxed")
		p.Relaxed()
	case 2:
		g.b.WriteString(" any")
		p.AllowCombinations()
	}
	if until && r.IntN(4) == 0 {
		g.b.WriteString(" until(v == 2)")
		p.Until("v == 2")
	}
	return true
}
