package pattern

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/cepengine/cep/engine/eval"
	"github.com/cepengine/cep/engine/event"
)

// randomSimple returns a random spec of the simple shape (a -> b -> ...
// with relaxed nots between and after, within or not) and its MaxPartials.
func randomSimple(r *rand.Rand) (*Spec, int) {
	n := 1 + r.IntN(4)
	s := &Spec{Bound: n, SkipTarget: -1}
	root := Node{Kind: NodeSequence}
	add := func(el Element) {
		root.Children = append(root.Children, Node{Kind: NodeElement, Element: len(s.Elements), Edge: Relaxed})
		s.Elements = append(s.Elements, el)
	}
	trailing := false
	for i := range n {
		add(Element{Name: fmt.Sprint("e", i), Type: int32(r.IntN(3)), Min: 1, Max: 1, Slot: i, Local: true})
		if r.IntN(3) == 0 {
			for range 1 + r.IntN(2) {
				add(Element{Name: "not", Type: int32(r.IntN(4)), Min: 1, Max: 1, Slot: -1, Local: true, Negated: true})
			}
			trailing = i == n-1
		}
	}
	s.Root = root
	if trailing || r.IntN(4) > 0 {
		s.Within = 1 + time.Duration(r.IntN(30))
	}
	max := 0
	if r.IntN(3) == 0 {
		max = 1 + r.IntN(4)
	}
	return s, max
}

// TestFlat_differential holds Flat equal to one simple-path Matcher per
// partition on random simple patterns and streams over 1 to 4
// partitions: matches (their events, fields and time) in emission order,
// per event the error, the deadline and whether the partition is idle,
// the watermarks' expiries (fired, as the engine does, only on the
// partitions whose deadline passed), the end of input and the counters.
func TestFlat_differential(t *testing.T) {
	matched, overflowed, kept := 0, 0, 0
	for seed := uint64(1); seed <= 3000; seed++ {
		r := rand.New(rand.NewPCG(seed, 11))
		s, max := randomSimple(r)
		p := mustCompile(t, s)
		nparts := 1 + r.IntN(4)
		var got, want []string
		out := func(dst *[]string, part int) func(*Match) {
			return func(mc *Match) {
				var b strings.Builder
				fmt.Fprintf(&b, "p%d match @%d", part, mc.Time)
				for _, el := range mc.Elements {
					for _, e := range el {
						fmt.Fprintf(&b, " %d/%d/%d/%v", e.Seq, e.Type, e.Time, e.Fields)
					}
				}
				for _, e := range mc.Frame.Bound {
					if e != nil {
						fmt.Fprintf(&b, " b%d", e.Seq)
					}
				}
				*dst = append(*dst, b.String())
			}
		}
		var cur int
		f, ok := NewFlat(p, eval.NewMachine(), Config{MaxPartials: max}, func(mc *Match) { out(&got, cur)(mc) })
		if !ok {
			t.Fatalf("seed %d: no flat path", seed)
		}
		// lean is the same without events (Config.NoEvents): its matches
		// bind nothing.
		var leanOut []string
		lean, _ := NewFlat(p, eval.NewMachine(), Config{MaxPartials: max, NoEvents: true}, func(mc *Match) {
			for _, e := range mc.Frame.Bound {
				if e != nil {
					t.Fatalf("seed %d: NoEvents bound an alias", seed)
				}
			}
			leanOut = append(leanOut, fmt.Sprintf("p%d match @%d", cur, mc.Time))
		})
		leanParts := make([]FlatPart, nparts)
		parts := make([]FlatPart, nparts)
		mts := make([]*Matcher, nparts)
		for i := range mts {
			mts[i] = NewMatcher(p, eval.NewMachine(), Config{MaxPartials: max}, nil, out(&want, i))
		}
		tm := int64(0)
		for i := range 10 + r.IntN(80) {
			tm += int64(r.IntN(4))
			if r.IntN(5) == 0 {
				for j := range nparts {
					cur = j
					if d, ok := f.Deadline(&parts[j]); ok && d <= tm {
						n := len(got)
						f.Expire(&parts[j], nil, tm)
						if len(got) > n && !f.EmitsAtExpiry() {
							t.Fatalf("seed %d: Expire emitted, EmitsAtExpiry says it cannot", seed)
						}
					}
					if d, ok := lean.Deadline(&leanParts[j]); ok && d <= tm {
						lean.Expire(&leanParts[j], nil, tm)
					}
					mts[j].Expire(tm)
				}
				tm += int64(r.IntN(3))
			}
			j := r.IntN(nparts)
			cur = j
			e := &event.Event{Type: int32(r.IntN(4)), Time: tm, Seq: uint64(i), Fields: []event.Value{event.IntValue(int64(i)), event.IntValue(int64(j))}}
			if r.IntN(8) == 0 {
				e.Fields = append(e.Fields, event.StringValue(fmt.Sprint("x", i)))
			}
			if f.Idle(&parts[j]) && !f.Starts(e) {
				if !mts[j].Idle() {
					t.Fatalf("seed %d: an idle partition is not idle on the simple path", seed)
				}
				_ = mts[j].Process(e)
				if !mts[j].Idle() {
					t.Fatalf("seed %d: a non-starting event made the simple path busy", seed)
				}
				continue
			}
			// The matcher's buffer copies the event; the flat path must too.
			e2 := *e
			e2.Fields = append([]event.Value(nil), e.Fields...)
			errF := f.Process(&parts[j], nil, &e2)
			errL := lean.Process(&leanParts[j], nil, e)
			dL, okL := lean.Deadline(&leanParts[j])
			if !okL {
				dL = -1
			}
			leanOut = append(leanOut, fmt.Sprintf("ev %d p%d err %v dl %d idle %v n %d", i, j, errors.Is(errL, ErrOverflow), dL, lean.Idle(&leanParts[j]), leanParts[j].Len()))
			e2.Fields[0] = event.IntValue(-1)
			errM := mts[j].Process(e)
			dF, okF := f.Deadline(&parts[j])
			dM, okM := mts[j].Deadline()
			if !okF {
				dF = -1
			}
			if !okM {
				dM = -1
			}
			got = append(got, fmt.Sprintf("ev %d p%d err %v dl %d idle %v n %d", i, j, errors.Is(errF, ErrOverflow), dF, f.Idle(&parts[j]), parts[j].Len()))
			want = append(want, fmt.Sprintf("ev %d p%d err %v dl %d idle %v n %d", i, j, errors.Is(errM, ErrOverflow), dM, mts[j].Idle(), mts[j].Stats().Partials))
		}
		for j := range nparts {
			cur = j
			f.Flush(&parts[j], nil)
			lean.Flush(&leanParts[j], nil)
			mts[j].Flush()
			if !f.Idle(&parts[j]) {
				t.Fatalf("seed %d: partition %d not empty after Flush", seed, j)
			}
		}
		var sm Stats
		for _, mt := range mts {
			st := mt.Stats()
			sm.Matches += st.Matches
			sm.Dropped += st.Dropped
		}
		got = append(got, fmt.Sprintf("matches %d dropped %d", f.Stats().Matches, f.Stats().Dropped))
		want = append(want, fmt.Sprintf("matches %d dropped %d", sm.Matches, sm.Dropped))
		g, w := strings.Join(got, "\n"), strings.Join(want, "\n")
		if g != w {
			t.Fatalf("seed %d (%d partitions): flat path differs\n got:\n%s\nwant:\n%s", seed, nparts, g, w)
		}
		var wantLean []string
		for _, l := range want[:len(want)-1] {
			if strings.Contains(l, " match @") {
				l = strings.Join(strings.Fields(l)[:3], " ")
			}
			wantLean = append(wantLean, l)
		}
		if g, w := strings.Join(leanOut, "\n"), strings.Join(wantLean, "\n"); g != w {
			t.Fatalf("seed %d (%d partitions): NoEvents differs\n got:\n%s\nwant:\n%s", seed, nparts, g, w)
		}
		if len(lean.slots) > 1 || len(lean.takes) > 0 {
			t.Fatalf("seed %d: NoEvents kept events", seed)
		}
		if sm.Matches > 0 {
			matched++
		}
		if sm.Dropped > 0 {
			overflowed++
		}
		if len(f.slots) > 1 {
			kept++
		}
	}
	if matched < 1000 || overflowed < 100 || kept < 1000 {
		t.Fatalf("only %d runs matched, %d overflowed, %d copied events: the test is too weak", matched, overflowed, kept)
	}
}

// TestFlat_allocs: the flat path allocates nothing per event once warm,
// over many partitions.
func TestFlat_allocs(t *testing.T) {
	p := mustCompile(t, seqSpec(Relaxed, 1000))
	n := 0
	f, _ := NewFlat(p, eval.NewMachine(), Config{}, func(*Match) { n++ })
	parts := make([]FlatPart, 64)
	e := ev(0, 0, 0, 0)
	tm, i := int64(0), 0
	feed := func() {
		for range 256 {
			i++
			tm += 3
			e.Type, e.Time, e.Seq = int32(i*7%3), tm, uint64(i)
			pt := &parts[i*13%len(parts)]
			if d, ok := f.Deadline(pt); ok && d <= tm {
				f.Expire(pt, nil, tm)
			}
			_ = f.Process(pt, nil, e)
		}
	}
	for range 100 {
		feed()
	}
	if allocs := testing.AllocsPerRun(200, feed); allocs != 0 {
		t.Errorf("%v allocs per run, want 0", allocs)
	}
	if n == 0 {
		t.Error("no match")
	}
}
