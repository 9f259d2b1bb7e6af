package patternref

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/cepengine/cep/engine/eval"
	"github.com/cepengine/cep/engine/pattern"
	"github.com/cepengine/cep/lang"
)

// TestTimeout_generalInvariants runs engine/pattern's general path with
// timed-out partial matches (Spec.Timeout) on generated rules with groups,
// | and & (genNestedRule, within added where missing) and holds it to
// what the reference cannot check (it has no timeouts): asking for
// timeouts changes no match (the timers that then fire one expiry at a
// time, before the events of their time, leave the matches as they
// were), timeouts come out in expiry order, each at a time a partial
// match of its events can expire (first + within, or last + within with
// within gap), and no two have the same events and time.
func TestTimeout_generalInvariants(t *testing.T) {
	ran, timeouts := 0, 0
	for seed := uint64(1); seed <= 1500; seed++ {
		r := rand.New(rand.NewPCG(seed, 0x7e1))
		src := genNestedRule(r)
		if !strings.Contains(src, "within") {
			src = strings.Replace(src, "\n  skip", fmt.Sprintf("\n  within %dms\n  skip", 2+r.IntN(6)), 1)
		}
		p, err := lang.LoadSource("gen.cep", []byte(src))
		if err != nil {
			continue
		}
		evs := genEvents(r, p)
		ri := p.Rules[0]
		type out struct {
			matches, timeouts []string
			times             []int64
		}
		run := func(timeout bool) out {
			spec, _ := toSpec(ri)
			spec.Timeout = timeout
			cp, err := pattern.Compile(spec)
			if err != nil {
				t.Fatalf("seed %d: %v\n%s", seed, err, src)
			}
			var o out
			seqs := func(m *pattern.Match) string {
				var b strings.Builder
				for _, es := range m.Elements {
					for _, e := range es {
						fmt.Fprintf(&b, "%d,", e.Seq)
					}
					b.WriteByte('|')
				}
				return b.String()
			}
			mt := pattern.NewMatcher(cp, eval.NewMachine(), pattern.Config{MaxPartials: 1 << 20, Timeout: func(m *pattern.Match) {
				o.timeouts = append(o.timeouts, fmt.Sprintf("%s@%d", seqs(m), m.Time))
				o.times = append(o.times, m.Time)
				first, last := int64(-1), int64(-1)
				for _, es := range m.Elements {
					for _, e := range es {
						if first < 0 || e.Time < first {
							first = e.Time
						}
						last = max(last, e.Time)
					}
				}
				want := first + int64(ri.Within)
				if ri.WithinGap {
					want = last + int64(ri.Within)
				}
				if first < 0 || m.Time != want {
					t.Fatalf("seed %d: timeout %s at %d, want first/last + within = %d\n%s", seed, seqs(m), m.Time, want, src)
				}
			}}, nil, func(m *pattern.Match) { o.matches = append(o.matches, fmt.Sprintf("%s@%d", seqs(m), m.Time)) })
			for i := range evs {
				if i%3 == 2 {
					mt.Expire(evs[i].Time - 1)
				}
				if err := mt.Process(&evs[i]); err != nil {
					t.Fatal(err)
				}
			}
			mt.Flush()
			return o
		}
		off, on := run(false), run(true)
		if fmt.Sprint(off.matches) != fmt.Sprint(on.matches) {
			t.Fatalf("seed %d: asking for timeouts changed the matches\n%s\n without %v\n with    %v", seed, src, off.matches, on.matches)
		}
		seen := map[string]bool{}
		for i, x := range on.timeouts {
			if i > 0 && on.times[i] < on.times[i-1] {
				t.Fatalf("seed %d: timeouts out of expiry order: %v\n%s", seed, on.timeouts, src)
			}
			if seen[x] {
				t.Fatalf("seed %d: timeout %s reported twice\n%s", seed, x, src)
			}
			seen[x] = true
		}
		ran++
		timeouts += len(on.timeouts)
	}
	if ran < 700 || timeouts < 2000 {
		t.Fatalf("%d rules ran, %d timeouts; the generator drifted", ran, timeouts)
	}
	t.Logf("%d generated rules with groups, | or &: matches unchanged by timeouts, %d timeouts in order", ran, timeouts)
}
