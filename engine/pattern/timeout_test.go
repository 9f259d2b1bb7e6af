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
// nothing is reported; Spec.Timeout needs within, and the general path
// rejects it.
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
	s = seqSpec(Relaxed, 10)
	s.Timeout = true
	s.Root.Children[1] = Node{Kind: NodeAlternation, Edge: Relaxed, Children: []Node{{Kind: NodeElement, Element: 1}}}
	if _, err := Compile(s); !errors.Is(err, ErrUnsupported) {
		t.Fatalf("timeout on the general path: got %v, want ErrUnsupported", err)
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
