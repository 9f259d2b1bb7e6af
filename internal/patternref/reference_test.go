package patternref

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/cepengine/cep/engine/event"
	"github.com/cepengine/cep/lang"
)

// decls declares the types of the semantic tests: every event has a name n
// (what the tests print), a number x and a key k.
const decls = `
event A { n: string, x: int, k: string, at: time } time at
event B { n: string, x: int, k: string, at: time } time at
event C { n: string, x: int, k: string, at: time } time at
event D { n: string, x: int, k: string, at: time } time at
`

// runRef checks rules and runs the reference over events written as
// "a1@3:x=5:k=p" (type from the name's first letter, time in ms, default
// the position), returning each match as the names of its events (in time
// order) and, with a leading time, the derived event's time.
func runRef(t *testing.T, rules, events string) []string {
	t.Helper()
	p, err := lang.LoadSource("t.cep", []byte(decls+rules))
	if err != nil {
		t.Fatalf("rules: %v", err)
	}
	var evs []event.Event
	for i, tok := range strings.Fields(events) {
		parts := strings.Split(tok, ":")
		name, at := parts[0], int64(i)
		if j := strings.IndexByte(name, '@'); j >= 0 {
			fmt.Sscan(name[j+1:], &at)
			name = name[:j]
		}
		typ := p.Type(strings.ToUpper(name[:1]))
		if typ == nil {
			t.Fatalf("no type for %s", tok)
		}
		s := typ.Schema
		f := make([]event.Value, len(s.Fields))
		slot := func(n string) int { i, _ := s.Slot(n); return i }
		f[slot("n")] = event.StringValue(name)
		f[slot("at")] = event.TimeValue(at * 1e6)
		for _, kv := range parts[1:] {
			k, v, _ := strings.Cut(kv, "=")
			var x int64
			if _, err := fmt.Sscan(v, &x); err == nil && k == "x" {
				f[slot(k)] = event.IntValue(x)
			} else {
				f[slot(k)] = event.StringValue(v)
			}
		}
		evs = append(evs, event.Event{Type: s.ID, Time: at * 1e6, Seq: uint64(i), Fields: f})
	}
	ms, err := Run(p, evs)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, m := range ms {
		var names []string
		for _, i := range m.Events() {
			names = append(names, evs[i].Fields[0].Str())
		}
		out = append(out, fmt.Sprintf("%dms %s", m.Time/1e6, strings.Join(names, " ")))
	}
	return out
}

// TestReference_semantics pins docs/language.md's examples and the
// decisions listed in testdata/conformance/README.md.
func TestReference_semantics(t *testing.T) {
	for _, tc := range []struct {
		name, rules, events string
		want                []string
	}{
		// Edges: contiguity (the manual's example).
		{"strict", "rule r match a:A b:B skip none emit M {}", "a1 b1 b2", []string{"1ms a1 b1"}},
		{"relaxed", "rule r match a:A -> b:B skip none emit M {}", "a1 b1 b2", []string{"1ms a1 b1"}},
		{"any", "rule r match a:A ->> b:B skip none emit M {}", "a1 b1 b2", []string{"1ms a1 b1", "2ms a1 b2"}},
		{"strict broken", "rule r match a:A b:B skip none emit M {}", "a1 a2 b1", []string{"2ms a2 b1"}},
		{"relaxed two starts", "rule r match a:A -> b:B skip none emit M {}", "a1 a2 b1", []string{"2ms a1 b1", "2ms a2 b1"}},
		{"other types are not in the stream", "rule r match a:A b:B skip none emit M {}", "a1 c1 b1", []string{"2ms a1 b1"}},

		// Branching, greedy and reluctant (the manual's table).
		{"branching", "rule r match s:A -> m:B+ -> e:C skip none emit M {}", "a1 b1 b2 c1", []string{"3ms a1 b1 b2 c1", "3ms a1 b1 c1"}},
		{"greedy", "rule r match s:A -> m:B+! -> e:C skip none emit M {}", "a1 b1 b2 c1", []string{"3ms a1 b1 b2 c1"}},
		{"reluctant", "rule r match s:A -> m:B+? -> e:C skip none emit M {}", "a1 b1 b2 c1", []string{"3ms a1 b1 c1"}},
		{"any loop", "rule r match s:A -> m:B+ any -> e:C skip none emit M {}", "a1 b1 b2 c1", []string{"3ms a1 b1 b2 c1", "3ms a1 b1 c1"}},
		{"any edge and loop", "rule r match s:A ->> m:B+ any -> e:C skip none emit M {}", "a1 b1 b2 c1", []string{"3ms a1 b1 b2 c1", "3ms a1 b1 c1", "3ms a1 b2 c1"}},
		{"greedy gives back", "rule r match b:B+! c:B(x > 5) skip none emit M {}", "b1 b2 b3:x=9", []string{"2ms b1 b2 b3", "2ms b2 b3"}},
		{"greedy at the end waits for the loop's end", "rule r match a:A b:B+! emit M {}", "a1 b1 b2 c1", []string{"2ms a1 b1 b2"}},
		{"branching at the end: past last keeps the first", "rule r match a:A b:B+ emit M {}", "a1 b1 b2", []string{"1ms a1 b1"}},

		// until.
		{"until stops the loop", "rule r match a:A -> b:B+ until(x > 5) skip none emit M {}", "a1 b1 b2:x=9 b3", []string{"1ms a1 b1"}},
		{"until on the first candidate", "rule r match a:A -> b:B+ until(x > 5) skip none emit M {}", "a1 b1:x=9 b2", nil},
		{"until then the next element", "rule r match a:A -> b:B+ until(x > 5) -> c:B(x > 5) skip none emit M {}", "a1 b1 b2:x=9", []string{"2ms a1 b1 b2"}},

		// Negation.
		{"not between", "rule r match a:A -> not B -> c:C skip none emit M {}", "a1 b1 c1 a2 c2", []string{"4ms a2 c2"}},
		{"not next", "rule r match a:A not B -> c:C skip none emit M {}", "a1 b1 c1 a2 c0 b2 c2", []string{"4ms a2 c0"}},
		{"not next ignores other types", "rule r match a:A not B -> c:C skip none emit M {}", "a1 d1 b1 c1", nil},
		{"not after a loop guards the loop", "rule r match a:A -> b:B+ -> not C -> d:D skip none emit M {}", "a1 b1 c1 b2 d1", nil},
		{"absence at expiry", "rule r match a:A -> not B within 5ms skip none emit M {}", "a1@0 b1@3 a2@10 b2@15 a3@16", []string{"15ms a2", "21ms a3"}},
		{"trailing strict not waits for the next event", "rule r match a:A not B skip none emit M {}", "a1 c1 a2 b1 a3", []string{"0ms a1"}},

		// within.
		{"within is exclusive", "rule r match a:A -> b:B within 10ms skip none emit M {}", "a1@1 b1@11 a2@20 b2@29", []string{"29ms a2 b2"}},
		{"within gap", "rule r match a:A -> b:B -> c:C within gap 5ms skip none emit M {}", "a1@0 b1@4 c1@8 a2@10 b2@16 c2@17", []string{"8ms a1 b1 c1"}},

		// prev, partitions, alternation, &.
		{"prev", "rule r match a:A(x > prev.x)+! emit M {}", "a1:x=5 a2:x=6 a3:x=7 a4:x=1", []string{"2ms a2 a3"}},
		{"partition by", "rule r partition by k match a:A -> b:B skip none emit M {}", "a1:k=p a2:k=q b1:k=q b2:k=p", []string{"2ms a2 b1", "3ms a1 b2"}},
		{"alternation prefers the first", "rule r match a:A (p:B | q:B(x > 0)) emit M {}", "a1 b1:x=3", []string{"1ms a1 b1"}},
		{"any order", "rule r match a:A (b:B & c:C) skip none emit M {}", "a1 c1 b1 a2 b2 c2 a3 b3 d1 c3", []string{"2ms a1 c1 b1", "5ms a2 b2 c2", "9ms a3 b3 c3"}},

		// Skip strategies and the order of matches.
		{"skip past last", "rule r match a:A -> b:B emit M {}", "a1 a2 b1 a3 b2", []string{"2ms a1 b1", "4ms a3 b2"}},
		{"skip to next", "rule r match a:A ->> b:B skip to next emit M {}", "a1 b1 a2 b2", []string{"1ms a1 b1", "3ms a2 b2"}},
		{"skip to first", "rule r match a:A{2} b:B skip to first b emit M {}", "a1 a2 a3 b1", []string{"3ms a2 a3 b1"}},
		{"skip to last", "rule r match a:A+! b:B skip to last a emit M {}", "a1 a2 a3 b1", []string{"3ms a1 a2 a3 b1", "3ms a3 b1"}},
		{"skip to a missing target discards nothing", "rule r match a:A b:B? -> c:C skip to first b emit M {}", "a1 c1 a2 c2", []string{"1ms a1 c1", "3ms a2 c2"}},
		// A completed match waits for an older partial match (Flink's
		// testSkipBeforeOtherAlreadyCompleted, rebuilt here): a2's match
		// completes first but a1's, which began earlier, is emitted first.
		{"a match waits for older partial matches", "rule r match a:A -> c:C -> b:B(x == a.x) skip to first c emit M {}", "a1:x=0 c1 a2:x=1 c2 b1:x=1 b2:x=0", []string{"5ms a1 c1 b2", "4ms a2 c2 b1"}},
		{"skip none emits at completion", "rule r match a:A -> c:C -> b:B(x == a.x) skip none emit M {}", "a1:x=0 c1 a2:x=1 c2 b1:x=1 b2:x=0", []string{"4ms a2 c2 b1", "5ms a1 c1 b2"}},

		// Groups.
		{"group loop", "rule r match s:A -> (m:B -> o:C)+ -> e:D skip none emit M {}", "a1 b1 c1 b2 c2 d1", []string{"5ms a1 b1 c1 b2 c2 d1", "5ms a1 b1 c1 d1"}},
		{"nested loops collapse", "rule r match (a:A+!)+! b:B emit M {}", "a1 a2 a3 b1", []string{"3ms a1 a2 a3 b1"}},
		{"having", "rule r match a:A -> b:B skip none having b.x > a.x emit M {}", "a1:x=1 b1:x=0 a2:x=0 b2:x=5", []string{"3ms a2 b2"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := runRef(t, tc.rules, tc.events)
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("%s\n on %s\n got  %q\n want %q", tc.rules, tc.events, got, tc.want)
			}
		})
	}
}

func TestReference_unsupported(t *testing.T) {
	p, err := lang.LoadSource("t.cep", []byte(decls+"rule r match a:A -> b:B within 1s emit M {} on timeout emit T {}\nrule f from A emit F {}"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := RunRule(p, p.Rule("r"), nil); !errors.Is(err, ErrUnsupported) {
		t.Errorf("on timeout emit: err = %v, want ErrUnsupported", err)
	}
	if _, err := RunRule(p, p.Rule("f"), nil); !errors.Is(err, ErrUnsupported) {
		t.Errorf("filter rule: err = %v, want ErrUnsupported", err)
	}
}

func TestReference_matchFields(t *testing.T) {
	p, err := lang.LoadSource("t.cep", []byte(decls+"rule r partition by k match a:A -> b:B+! -> c:C emit M { k, n: len(b), last: b[-1].x }"))
	if err != nil {
		t.Fatal(err)
	}
	mk := func(typ string, x int64, at int64) event.Event {
		sc := p.Type(typ).Schema
		f := make([]event.Value, len(sc.Fields))
		f[0], f[1], f[2], f[3] = event.StringValue(typ), event.IntValue(x), event.StringValue("p"), event.TimeValue(at)
		return event.Event{Type: sc.ID, Time: at, Fields: f}
	}
	evs := []event.Event{mk("A", 0, 1), mk("B", 7, 2), mk("B", 8, 3), mk("C", 0, 4)}
	ms, err := Run(p, evs)
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != 1 {
		t.Fatalf("got %d matches, want 1", len(ms))
	}
	m := ms[0]
	if got := fmt.Sprintf("%v %v %s %d", m.Alias("b"), m.Alias("a"), m.Key[0].Str(), m.Time); got != "[1 2] [0] p 4" {
		t.Errorf("alias/key/time = %s", got)
	}
	line := RenderLine(m.Time, p.Type("M").Schema, m.Fields)
	if line != `4ns  M { k: "p", n: 2, last: 8 }` {
		t.Errorf("line = %s", line)
	}
}
