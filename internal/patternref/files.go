package patternref

import (
	"fmt"
	"sort"
	"strings"
)

// FileName is the script file of a case: its id with the characters that
// file systems and shells mind spelled out (Trino's assertion labels hold
// quantifiers and parentheses): * plus ? | $ ^ become star plus q or end
// start, braces and parentheses and quotes go, and the rest become _.
func FileName(id string) string {
	var b strings.Builder
	for _, r := range id {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_', r == '.':
			b.WriteRune(r)
		case r == '*':
			b.WriteString("star")
		case r == '+':
			b.WriteString("plus")
		case r == '?':
			b.WriteString("q")
		case r == '|':
			b.WriteString("or")
		case r == '$':
			b.WriteString("end")
		case r == '^':
			b.WriteString("start")
		case r == '{', r == '}', r == '(', r == ')', r == '\'', r == '"':
		default:
			b.WriteByte('_')
		}
	}
	return b.String() + ".test"
}

// Result is the outcome of one case, for the README.
type Result struct {
	Case    *Case
	Outcome Outcome
	Reason  string // Untranslatable: why; Deviates: the deviation
}

// Summary renders the generated part of testdata/conformance/README.md:
// the counts, the deviations and the cases not translated.
func Summary(rs []Result) string {
	var b strings.Builder
	type count struct{ total, translated, agree, deviate, disagree int }
	counts := map[string]*count{}
	var kinds []string
	for _, r := range rs {
		k := r.Case.Kind
		if counts[k] == nil {
			counts[k] = &count{}
			kinds = append(kinds, k)
		}
		c := counts[k]
		c.total++
		switch r.Outcome {
		case Agrees:
			c.translated++
			c.agree++
		case Deviates:
			c.translated++
			c.deviate++
		case Disagrees:
			c.translated++
			c.disagree++
		}
	}
	sort.Strings(kinds)
	b.WriteString("| kind | cases | translated | reference agrees | deviates on purpose | disagrees |\n| --- | --- | --- | --- | --- | --- |\n")
	for _, k := range kinds {
		c := counts[k]
		fmt.Fprintf(&b, "| %s | %d | %d | %d | %d | %d |\n", k, c.total, c.translated, c.agree, c.deviate, c.disagree)
	}
	b.WriteString("\n### Deviations\n\nThe script expects cep's result; the header of the file repeats the outside expectation.\n\n| case | why |\n| --- | --- |\n")
	for _, r := range rs {
		if r.Outcome == Deviates {
			fmt.Fprintf(&b, "| `%s` | %s |\n", mdCell(r.Case.ID), mdCell(r.Reason))
		}
	}
	b.WriteString("\n### Not translated\n\n| case | reason |\n| --- | --- |\n")
	for _, r := range rs {
		if r.Outcome == Untranslated {
			fmt.Fprintf(&b, "| `%s` | %s |\n", mdCell(r.Case.ID), mdCell(r.Reason))
		}
	}
	return b.String()
}

func mdCell(s string) string {
	return strings.NewReplacer("|", `\|`, "\n", " ").Replace(s)
}
