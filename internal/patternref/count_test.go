package patternref

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/cepengine/cep/engine"
	"github.com/cepengine/cep/engine/event"
	"github.com/cepengine/cep/lang"
)

// Counting rules (docs/language.md, Counting matches): a pattern rule that
// emits count() must emit, per key and per input event that completes
// matches, one event whose count() is the number of matches the same rule
// enumerates there. The oracle is the reference matcher run on the
// enumerating form of the rule; the counted form runs through lang and the
// whole engine (engine/pattern's count-only mode).

// genCountRule writes a random countable pattern (a flat sequence with
// every edge, branching quantifiers with loop modifiers, conditions over
// the candidate and prev, optional within, skip none) as two rules over
// `event E { k: int, v: int, ts: time }`: the enumerating one and the
// counting one, and reports the having threshold of the counting one (0:
// no having).
func genCountRule(r *rand.Rand) (enum, count string, atLeast int) {
	var b strings.Builder
	n := 1 + r.IntN(3)
	edges := []string{" ", " -> ", " ->> "}
	for i := range n {
		if i > 0 {
			b.WriteString(edges[r.IntN(3)])
		}
		fmt.Fprintf(&b, "e%d:E", i)
		switch r.IntN(6) {
		case 0:
		case 1:
			fmt.Fprintf(&b, "(v != %d)", r.IntN(3))
		case 2:
			b.WriteString("(v >= prev.v)")
		default:
			fmt.Fprintf(&b, "(v == %d)", r.IntN(3))
		}
		if r.IntN(2) == 0 {
			b.WriteString([]string{"?", "*", "+", "{2}", "{1,3}", "{2,}"}[r.IntN(6)])
			b.WriteString([]string{"", "", " consecutive", " relaxed", " any"}[r.IntN(5)])
		}
	}
	part := r.IntN(2) == 0
	head := "event E { k: int, v: int, ts: time } time ts\nrule g\n"
	if part {
		head += "  partition by k\n"
	}
	head += "  match " + b.String() + "\n"
	if r.IntN(2) == 0 {
		head += fmt.Sprintf("  within %dms\n", 2+r.IntN(6))
	}
	head += "  skip none\n"
	enum = head + "  emit M { n: 1 }\n"
	fields := "n: count()"
	if part {
		fields = "k, " + fields
	}
	if r.IntN(3) == 0 {
		atLeast = 2
		head += "  having count() >= 2\n"
	}
	count = head + "  emit C { " + fields + " }\n"
	return enum, count, atLeast
}

func genKeyedEvents(r *rand.Rand) [][3]int64 {
	n := r.IntN(13)
	out := make([][3]int64, n) // k, v, time
	t := int64(0)
	for i := range out {
		t += int64(r.IntN(3)) * 1e6
		out[i] = [3]int64{int64(r.IntN(2)), int64(r.IntN(3)), t}
	}
	return out
}

type countStats struct {
	events, multi int
	maxN          int64
}

// counted is one count event as compared: the completing event's time and
// the count.
type counted struct {
	time int64
	n    int64
}

// checkCount compares, for one seed, the counting rule through the engine
// with the enumerated matches of the reference. It returns false when the
// generated pattern is rejected (a pattern that needs no event).
func checkCount(t *testing.T, seed uint64, st *countStats) bool {
	r := rand.New(rand.NewPCG(seed, seed^0x51ed2701))
	enumSrc, countSrc, atLeast := genCountRule(r)
	ep, err := lang.LoadSource("enum.cep", []byte(enumSrc))
	if err != nil {
		return false
	}
	cp, err := lang.LoadSource("count.cep", []byte(countSrc))
	if err != nil {
		t.Fatalf("seed %d: the enumerating rule checks but the counting one does not: %v\n%s", seed, err, countSrc)
	}
	raw := genKeyedEvents(r)
	partitioned := strings.Contains(countSrc, "partition by")

	// The reference: enumerate, then count per key and completing event.
	ty := ep.Type("E").Schema
	evs := make([]event.Event, len(raw))
	for i, x := range raw {
		evs[i] = event.Event{Type: ty.ID, Time: x[2], Seq: uint64(i), Fields: []event.Value{event.IntValue(x[0]), event.IntValue(x[1]), event.TimeValue(x[2])}}
	}
	ms, err := RunRule(ep, ep.Rules[0], evs)
	if err != nil {
		t.Fatalf("seed %d: reference: %v\n%s", seed, err, enumSrc)
	}
	per := map[string]map[int]int64{} // key -> completing index -> matches
	for _, m := range ms {
		last := -1
		for _, idx := range m.Events() {
			last = max(last, idx)
		}
		k := ""
		if partitioned {
			k = fmt.Sprint(raw[last][0])
		}
		if per[k] == nil {
			per[k] = map[int]int64{}
		}
		per[k][last]++
	}
	want := map[string][]counted{}
	for k, byIdx := range per {
		idxs := make([]int, 0, len(byIdx))
		for i := range byIdx {
			idxs = append(idxs, i)
		}
		slices.Sort(idxs)
		for _, i := range idxs {
			if byIdx[i] >= int64(atLeast) {
				want[k] = append(want[k], counted{time: raw[i][2], n: byIdx[i]})
			}
		}
	}

	// The engine, counting.
	g, err := lang.Compile(cp)
	if err != nil {
		t.Fatalf("seed %d: compile: %v\n%s", seed, err, countSrc)
	}
	m := g.NewMatcher(engine.Config{})
	got := map[string][]counted{}
	if _, err := m.Subscribe("C", func(d *engine.Derived) {
		k := ""
		if partitioned {
			k = fmt.Sprint(d.Event.Fields[0].Int())
		}
		got[k] = append(got[k], counted{time: d.Event.Time, n: d.Event.Fields[len(d.Event.Fields)-1].Int()})
	}); err != nil {
		t.Fatal(err)
	}
	s, _ := g.Schema("E")
	for _, x := range raw {
		ev := event.Event{Type: s.ID, Time: x[2], Fields: []event.Value{event.IntValue(x[0]), event.IntValue(x[1]), event.TimeValue(x[2])}}
		m.Process(&ev)
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	for _, cs := range got {
		for _, c := range cs {
			st.events++
			st.maxN = max(st.maxN, c.n)
			if c.n > 1 {
				st.multi++
			}
		}
	}
	if fmt.Sprint(want) != fmt.Sprint(got) {
		var vs []string
		for _, x := range raw {
			vs = append(vs, fmt.Sprintf("k%d:v%d@%dms", x[0], x[1], x[2]/1e6))
		}
		t.Fatalf("seed %d: count() differs from the enumerated matches\n%s\nevents: %s\nwant (time, n) per key: %v\n got: %v", seed, countSrc, strings.Join(vs, " "), want, got)
	}
	return true
}

// TestCount_differential: count() equals the number of enumerated matches
// per completing event, on generated countable patterns and streams
// (fixed seeds).
func TestCount_differential(t *testing.T) {
	ran := 0
	var st countStats
	for seed := uint64(1); seed <= 1500; seed++ {
		if checkCount(t, seed, &st) {
			ran++
		}
	}
	if ran < 1000 || st.multi < 500 {
		t.Fatalf("only %d of 1500 generated rules ran, %d count events above 1; the generator drifted", ran, st.multi)
	}
	t.Logf("%d generated counting rules agree with the reference: %d count events, %d above 1, the largest %d", ran, st.events, st.multi, st.maxN)
}
