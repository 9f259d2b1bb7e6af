package pattern

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cepengine/cep/engine/eval"
	"github.com/cepengine/cep/engine/event"
)

// timedOut is one reported partial match: its expiry time and the
// positions (Seq) of the events it took, in order.
type timedOut struct {
	time int64
	seqs []uint64
}

func (t timedOut) String() string { return fmt.Sprintf("%d:%v", t.time, t.seqs) }

// timeoutOracle enumerates, by brute force, the partial matches of a
// sequence of plain elements (types typ, edges edge[1:]) over evs (one
// partition, in order; Seq = index) that within d discards: every prefix of
// 1..n-1 takes the pattern allows (each take less than d after the first;
// strict: the very next event; relaxed: the first later event of the
// element's type; any: any later one) whose run is still waiting at
// first + d: no event before that time moved it on (relaxed) or broke it
// (strict). Any-match runs wait until they expire.
func timeoutOracle(typ []int32, edge []Edge, evs []*event.Event, d int64) []timedOut {
	var out []timedOut
	var walk func(pos []int)
	walk = func(pos []int) {
		k := len(pos)
		if k == len(typ) {
			return
		}
		first := evs[pos[0]].Time
		exp := first + d
		last := pos[k-1]
		// Is the run waiting at element k alive at exp?
		alive := true
		switch edge[k] {
		case Strict:
			alive = last+1 >= len(evs) || evs[last+1].Time >= exp
		case Relaxed:
			for x := last + 1; x < len(evs) && evs[x].Time < exp; x++ {
				if evs[x].Type == typ[k] {
					alive = false
					break
				}
			}
		}
		if alive {
			seqs := make([]uint64, k)
			for j, p := range pos {
				seqs[j] = evs[p].Seq
			}
			out = append(out, timedOut{time: exp, seqs: seqs})
		}
		for x := last + 1; x < len(evs); x++ {
			if evs[x].Time-first >= d {
				break
			}
			if edge[k] == Strict && x != last+1 {
				break
			}
			if evs[x].Type != typ[k] {
				continue
			}
			walk(append(slices.Clone(pos), x))
			if edge[k] != Any {
				break // strict and relaxed take the first event they accept
			}
		}
	}
	for i := range evs {
		if evs[i].Type == typ[0] {
			walk([]int{i})
		}
	}
	return out
}

func sortTimedOut(ts []timedOut) {
	slices.SortFunc(ts, func(a, b timedOut) int {
		if a.time != b.time {
			return int(a.time - b.time)
		}
		return slices.Compare(a.seqs, b.seqs)
	})
}

// TestMatcher_timeoutDifferential holds the step automaton's timed-out
// partial matches equal (as a multiset) to the brute-force oracle, on
// random sequences of three plain elements with random edges over random
// streams, skip none; and checks the report order (expiry time, then
// start).
func TestMatcher_timeoutDifferential(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for iter := range 3000 {
		n := 2 + rng.IntN(2)
		typ := make([]int32, n)
		edge := make([]Edge, n)
		s := &Spec{Root: Node{Kind: NodeSequence}, Skip: SkipNone, SkipTarget: -1, Bound: n, Timeout: true}
		for j := range n {
			typ[j] = int32(rng.IntN(2))
			if j > 0 {
				edge[j] = Edge(rng.IntN(3))
			}
			s.Elements = append(s.Elements, Element{Name: string(rune('a' + j)), Type: typ[j], Min: 1, Max: 1, Slot: j, Local: true})
			s.Root.Children = append(s.Root.Children, Node{Kind: NodeElement, Element: j, Edge: edge[j]})
		}
		d := int64(1 + rng.IntN(6))
		s.Within = time.Duration(d)
		var evs []*event.Event
		tm := int64(0)
		for x := range rng.IntN(10) {
			tm += int64(rng.IntN(3))
			evs = append(evs, ev(int32(rng.IntN(2)), tm, uint64(x), 0))
		}
		p := mustCompile(t, s)
		var got []timedOut
		m := NewMatcher(p, eval.NewMachine(), Config{Timeout: func(mc *Match) {
			var seqs []uint64
			for _, b := range mc.Frame.Bound {
				if b != nil {
					seqs = append(seqs, b.Seq)
				}
			}
			got = append(got, timedOut{time: mc.Time, seqs: seqs})
		}}, nil, func(*Match) {})
		for i, e := range evs {
			if i%3 == 2 {
				m.Expire(e.Time - 1) // a watermark between events
			}
			if err := m.Process(e); err != nil {
				t.Fatal(err)
			}
		}
		m.Flush()
		for i := 1; i < len(got); i++ {
			a, b := got[i-1], got[i]
			if a.time > b.time || a.time == b.time && a.seqs[0] > b.seqs[0] {
				t.Fatalf("iter %d: out of order: %v before %v", iter, a, b)
			}
		}
		want := timeoutOracle(typ, edge, evs, d)
		sortTimedOut(got)
		sortTimedOut(want)
		if fmt.Sprint(got) != fmt.Sprint(want) {
			var b strings.Builder
			for _, e := range evs {
				fmt.Fprintf(&b, " %c@%d", 'A'+rune(e.Type), e.Time)
			}
			t.Fatalf("iter %d: types %v edges %v within %d, events%s\n got  %v\n want %v", iter, typ, edge, d, b.String(), got, want)
		}
		if st := m.Stats(); st.Timeouts != uint64(len(got)) {
			t.Fatalf("iter %d: Stats.Timeouts %d, reported %d", iter, st.Timeouts, len(got))
		}
	}
}

// TestMatcher_timeoutOff: without Spec.Timeout (or without the callback)
// nothing is reported; Spec.Timeout needs within, on either path.
func TestMatcher_timeoutOff(t *testing.T) {
	s := seqSpec(Relaxed, 10)
	p := mustCompile(t, s)
	called := false
	m := NewMatcher(p, eval.NewMachine(), Config{Timeout: func(*Match) { called = true }}, nil, func(*Match) {})
	if err := m.Process(ev(0, 0, 1, 0)); err != nil {
		t.Fatal(err)
	}
	m.Flush()
	if called {
		t.Fatal("timeout reported without Spec.Timeout")
	}
	s = seqSpec(Relaxed, 0)
	s.Timeout = true
	if _, err := Compile(s); !errors.Is(err, ErrInvalid) {
		t.Fatalf("timeout without within: got %v, want ErrInvalid", err)
	}
	s = seqSpec(Relaxed, 0)
	s.Timeout = true
	s.Root.Children[1] = Node{Kind: NodeAlternation, Edge: Relaxed, Children: []Node{{Kind: NodeElement, Element: 1}}}
	if _, err := Compile(s); !errors.Is(err, ErrInvalid) {
		t.Fatalf("timeout without within on the general path: got %v, want ErrInvalid", err)
	}
}

// TestMatcher_timeoutFrame: the reported frame binds what was taken, the
// rest nil, at first + within.
func TestMatcher_timeoutFrame(t *testing.T) {
	s := seqSpec(Relaxed, 10)
	s.Timeout = true
	p := mustCompile(t, s)
	var got []string
	m := NewMatcher(p, eval.NewMachine(), Config{Timeout: func(mc *Match) {
		got = append(got, fmt.Sprintf("%d a=%v b=%v", mc.Time, mc.Frame.Bound[0] != nil, mc.Frame.Bound[1] != nil))
	}}, nil, func(*Match) {})
	for _, e := range []*event.Event{ev(0, 0, 1, 0), ev(0, 5, 2, 0), ev(1, 7, 3, 0)} {
		if err := m.Process(e); err != nil {
			t.Fatal(err)
		}
	}
	m.Expire(100)
	// a@0 -> b@7 matched; a@5 was skipped past (skip past last), so no
	// partial match is left to time out.
	if len(got) != 0 {
		t.Fatalf("got %v, want none", got)
	}
	if err := m.Process(ev(0, 200, 4, 0)); err != nil {
		t.Fatal(err)
	}
	m.Expire(209)
	if len(got) != 0 {
		t.Fatalf("expired early: %v", got)
	}
	m.Expire(210)
	if want := []string{"210 a=true b=false"}; !slices.Equal(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
}

// report is what a matcher reported, in order: matches (M) and timed-out
// partial matches (T), each with its time and the Seq of its events per
// element.
type report struct {
	kind byte
	time int64
	seqs [][]uint64
}

func (r report) String() string { return fmt.Sprintf("%c%d%v", r.kind, r.time, r.seqs) }

func recorder(out *[]report, kind byte) func(*Match) {
	return func(m *Match) {
		r := report{kind: kind, time: m.Time, seqs: make([][]uint64, len(m.Elements))}
		for i, evs := range m.Elements {
			for _, e := range evs {
				r.seqs[i] = append(r.seqs[i], e.Seq)
			}
		}
		*out = append(*out, r)
	}
}

// randTimeoutSpec is a random flat pattern over types 0..2 with timeouts:
// every edge, quantifiers with every mode and loop modifier, not between
// elements and trailing, within or within gap, every skip strategy.
func randTimeoutSpec(r *rand.Rand) *Spec {
	bounds := [][2]int{{1, -1}, {0, -1}, {0, 1}, {1, 2}, {2, -1}, {1, 1}}
	for {
		n := 1 + r.IntN(3)
		s := &Spec{Skip: SkipKind(r.IntN(5)), SkipTarget: 0, Timeout: true, Root: Node{Kind: NodeSequence},
			Within: time.Duration(1 + r.IntN(6)), WithinGap: r.IntN(4) == 0}
		add := func(el Element, edge Edge) {
			s.Elements = append(s.Elements, el)
			s.Root.Children = append(s.Root.Children, Node{Kind: NodeElement, Element: len(s.Elements) - 1, Edge: edge})
		}
		for i := range n {
			if i > 0 && r.IntN(5) == 0 {
				add(Element{Name: "not", Type: int32(r.IntN(3)), Negated: true, Min: 1, Max: 1, Slot: -1, Local: true}, Edge(r.IntN(3)))
			}
			el := Element{Name: fmt.Sprintf("e%d", i), Type: int32(r.IntN(3)), Min: 1, Max: 1, Slot: -1, Local: true}
			if r.IntN(2) == 0 {
				b := bounds[r.IntN(len(bounds))]
				el.Quantified, el.Min, el.Max = true, b[0], b[1]
				el.Mode, el.Loop = Mode(r.IntN(3)), LoopKind(r.IntN(4))
			}
			add(el, Edge(r.IntN(3)))
		}
		if r.IntN(6) == 0 {
			add(Element{Name: "not", Type: int32(r.IntN(3)), Negated: true, Min: 1, Max: 1, Slot: -1, Local: true}, Edge(r.IntN(3)))
		}
		if (s.Skip == SkipToFirst || s.Skip == SkipToLast) && s.Elements[0].Negated || notBeforeTake(s) {
			continue
		}
		if s.Validate() == nil {
			return s
		}
	}
}

// kinds is the sequence of report kinds: how matches and timeouts
// interleave.
func kinds(rs []report) string {
	b := make([]byte, len(rs))
	for i, r := range rs {
		b[i] = r.kind
	}
	return string(b)
}

// split is the reports of one kind, in order.
func split(rs []report, kind byte) string {
	var out []report
	for _, r := range rs {
		if r.kind == kind {
			out = append(out, r)
		}
	}
	return fmt.Sprint(out)
}

// notBeforeTake reports a not that only optional elements precede: the
// step automaton and the general path (with internal/patternref) read it
// differently (the general path guards the partition's events before the
// start too), a difference of matches, not of timeouts.
func notBeforeTake(s *Spec) bool {
	for _, el := range s.Elements {
		if el.Negated {
			return true
		}
		if !el.Quantified || el.Min > 0 {
			return false
		}
	}
	return false
}

// TestGeneral_timeoutDifferential: on flat patterns wrapped in a
// one-alternative group (so that they take the general path), the general
// path reports the same timed-out partial matches as the step automaton,
// in the same order, and the same matches, on random streams with
// watermarks between events; the step automaton's timeouts are held to
// the documented semantics by TestMatcher_timeoutDifferential. Cases
// where the paths already differ without timeouts (on the matches, or on
// the moment they emit them, which with a skip strategy decides which
// partial matches are discarded before they can time out) are counted
// apart: the general path can settle a match a step earlier than the step
// automaton.
func TestGeneral_timeoutDifferential(t *testing.T) {
	compared, timeouts, matchDiffs := 0, 0, 0
	for seed := range uint64(1500) {
		r := rand.New(rand.NewPCG(seed, 13))
		fs := randTimeoutSpec(r)
		gs := *fs
		gs.Root = Node{Kind: NodeAlternation, Children: []Node{fs.Root}}
		fp, err := Compile(fs)
		if errors.Is(err, ErrUnsupported) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		gp := mustCompile(t, &gs)
		if !gp.general || fp.general {
			t.Fatal("the wrapped pattern does not take the general path")
		}
		// The stream: events, and watermarks between them.
		type input struct {
			e      *event.Event
			expire bool
		}
		var in []input
		var evs []string
		tm := int64(0)
		for i := range 3 + r.IntN(9) {
			tm += int64(r.IntN(3))
			e := ev(int32(r.IntN(3)), tm, uint64(i), 0)
			evs = append(evs, fmt.Sprintf("%d@%d", e.Type, tm))
			in = append(in, input{e: e, expire: r.IntN(3) == 0})
		}
		// run returns the reports, and the matches each with the input
		// at which it was emitted.
		run := func(p *Pattern) ([]report, string) {
			var out []report
			var at []string
			step := 0
			rec := recorder(&out, 'M')
			m := NewMatcher(p, eval.NewMachine(), Config{Timeout: recorder(&out, 'T')}, nil, func(mc *Match) {
				rec(mc)
				at = append(at, fmt.Sprintf("%v@%d", out[len(out)-1], step))
			})
			for _, x := range in {
				step++
				if x.expire {
					m.Expire(x.e.Time - 1)
				}
				if err := m.Process(x.e); err != nil {
					t.Fatal(err)
				}
			}
			step++
			m.Flush()
			if st := m.Stats(); int(st.Timeouts) != strings.Count(fmt.Sprint(out), "T") {
				t.Fatalf("seed %d: Stats.Timeouts %d, reported %v", seed, st.Timeouts, out)
			}
			return out, strings.Join(at, " ")
		}
		// Where the two paths disagree on the matches alone (without
		// timeouts), or on when they emit them (a skip then discards
		// different partial matches before they time out), the
		// difference is not the timeouts': counted apart.
		fs.Timeout, gs.Timeout = false, false
		_, fat := run(mustCompile(t, fs))
		_, gat := run(mustCompile(t, &gs))
		if fat != gat {
			matchDiffs++
			continue
		}
		fr, _ := run(fp)
		gr, _ := run(gp)
		if fs.Skip != SkipNone && kinds(fr) != kinds(gr) {
			// A match settled at another moment: a skip strategy then
			// discards different partial matches before they time out.
			matchDiffs++
			continue
		}
		if split(fr, 'T') != split(gr, 'T') || split(fr, 'M') != split(gr, 'M') {
			t.Fatalf("seed %d: the general path differs from the step automaton\nspec %+v within %d gap %v skip %d\nevents %v\n flat    %v\n general %v",
				seed, fs.Elements, fs.Within, fs.WithinGap, fs.Skip, evs, fr, gr)
		}
		compared++
		timeouts += strings.Count(split(gr, 'T'), "T")
	}
	if compared < 1000 || timeouts < 1000 {
		t.Fatalf("compared %d patterns with %d timeouts; the generator drifted", compared, timeouts)
	}
	t.Logf("%d patterns, %d timeouts agree; %d patterns whose matches, or the moments the paths emit them, differ without timeouts", compared, timeouts, matchDiffs)
}
