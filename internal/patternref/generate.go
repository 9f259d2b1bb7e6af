package patternref

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/cepengine/cep/lang/scripttest"
)

// Deviations lists the cases where cep's documented semantics differ from
// the outside engine's on purpose; their scripts expect cep's result. The
// reason is written into the script and into testdata/conformance/README.md.
var Deviations = map[string]string{
	"flink-AfterMatchSkipITCase-testSkipToFirstNonExistentPosition": "skip to first b where b bound nothing discards nothing and is not an error; cep has no throwExceptionOnMiss() (docs/language.md, Changes 18).",
	"trino-TestRowPatternMatching-testAfterMatchSkip-TO-D-error":    "skip to last d where d bound nothing discards nothing and is not an error (docs/language.md, skip and Changes 18), so the next search starts after the match's first row and the matches overlap.",
}

// Outcome is how a generated script relates to its outside case.
type Outcome uint8

// The outcomes.
const (
	Agrees       Outcome = iota // the reference gives the outside expectation
	Deviates                    // it differs on purpose (Deviations)
	Disagrees                   // it differs and nobody said why: a bug to fix
	Untranslated                // the language cannot express it (no script)
)

// Generate translates a case and fills its expect section from the
// reference matcher: the outside expectation, in the reference's order,
// when they agree; the reference's result when the case is a documented
// deviation; else the outside expectation in a canonical order (so the
// script fails until the reference is fixed or the deviation documented).
func Generate(c *Case) (*Translation, Outcome, error) {
	var t *Translation
	var err error
	switch c.Kind {
	case "flink-pattern":
		t, err = TranslateFlink(c)
	case "match-recognize":
		t, err = TranslateTrino(c)
	default:
		err = fmt.Errorf("%s: unknown kind %q", c.ID, c.Kind)
	}
	if err != nil {
		return nil, Disagrees, err
	}
	s, err := scripttest.Parse(c.ID+".test", []byte(t.Text()))
	if err != nil {
		return nil, Disagrees, err
	}
	_, ms, lines, err := RunScript(s)
	if err != nil {
		if c.ExpectedError != nil {
			// The outside engine fails at run time; cep rejects the rule.
			msg := err.Error()
			if i := strings.Index(msg, ".test:"); i >= 0 {
				if j := strings.Index(msg[i:], ": "); j >= 0 {
					msg = msg[i+j+2:] // drop the generated file's position
				}
			}
			return nil, Disagrees, &Untranslatable{c.ID, fmt.Sprintf("cep rejects the rule when it is checked (%s), where the outside test expects the run-time error %q", msg, *c.ExpectedError)}
		}
		return nil, Disagrees, err
	}
	var agree bool
	var want string
	if c.Kind == "flink-pattern" {
		got := make([][]int, len(ms))
		for i, m := range ms {
			got[i] = m.Events()
		}
		agree = c.ExpectedError == nil && sameMultiset(flatKeys(got), flatKeys(c.ExpectedFlat))
		want = flatText(c.ExpectedFlat)
		if c.ExpectedError != nil {
			want = "an error (" + *c.ExpectedError + ")"
		}
	} else {
		cmp := lines
		if t.IgnoreTime {
			cmp = make([]string, len(lines))
			for i, l := range lines {
				cmp[i] = stripTime(l)
			}
		}
		agree = c.ExpectedError == nil && sameMultiset(cmp, t.Lines)
		want = strings.Join(t.Lines, "; ")
		if c.ExpectedError != nil {
			want = "an error (" + *c.ExpectedError + ")"
		}
	}
	engine := "Flink"
	if c.Kind == "match-recognize" {
		engine = "Trino"
	}
	switch dev, isDev := Deviations[c.ID]; {
	case agree:
		t.Expect = lines
		t.ExpectNote = "Expected: " + engine + "'s assertion (a multiset), in the reference matcher's order (internal/patternref; docs/language.md, Match order)."
		return t, Agrees, nil
	case isDev:
		t.Expect = lines
		t.Deviation = dev
		t.ExpectNote = "DEVIATION: cep differs from " + engine + " here on purpose: " + dev + " " + engine + " expects " + want + "; this script expects cep's result (the reference matcher's)."
		return t, Deviates, nil
	}
	t.Expect = t.outsideLines(ms)
	t.ExpectNote = "MISMATCH: the reference matcher does not give " + engine + "'s expectation; it gives " + strings.Join(lines, "; ") + ". Expected: " + engine + "'s assertion, in a canonical order."
	return t, Disagrees, nil
}

// outsideLines renders the outside expectation as expect lines, sorted.
func (t *Translation) outsideLines(ms []*Match) []string {
	if t.Lines != nil {
		out := slices.Clone(t.Lines)
		if t.IgnoreTime {
			for i, l := range out {
				out[i] = "0s  " + l
			}
		}
		slices.Sort(out)
		return out
	}
	var out []string
	for _, f := range t.Flat {
		if len(f) == 0 {
			continue
		}
		times := t.eventTimes()
		last := slices.Max(f)
		tm := "0s"
		if last < len(times) {
			tm = times[last]
		}
		out = append(out, fmt.Sprintf("%-6s Match { m: %s }", tm, intsText(f)))
	}
	sort.Strings(out)
	return out
}

// eventTimes reads the times back from the events section.
func (t *Translation) eventTimes() []string {
	out := make([]string, len(t.Events))
	for i, l := range t.Events {
		out[i] = strings.Fields(l)[0]
	}
	return out
}

func intsText(xs []int) string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = fmt.Sprint(x)
	}
	return "[" + strings.Join(s, ", ") + "]"
}

func flatText(f [][]int) string {
	s := make([]string, len(f))
	for i, m := range f {
		s[i] = intsText(m)
	}
	return "[" + strings.Join(s, ", ") + "]"
}

func flatKeys(f [][]int) []string {
	out := make([]string, len(f))
	for i, m := range f {
		m = slices.Clone(m)
		slices.Sort(m)
		out[i] = intsText(m)
	}
	return out
}

// sameMultiset compares two lists ignoring order.
func sameMultiset(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}
