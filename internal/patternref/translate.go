package patternref

import (
	"fmt"
	"strings"
	"time"
)

// Translation is a case turned into a rule script.
type Translation struct {
	ID      string
	Comment []string // header comment lines, without "# "
	Rules   []string // the rules section, unindented
	Events  []string // the events section, unindented
	Expect  []string // the expect section, unindented; set by the generator
	// ExpectNote explains where the expect section comes from (a comment
	// line above it).
	ExpectNote string

	// Flat is the outside expectation of a Flink case: each match as its
	// sorted event indexes (a multiset).
	Flat [][]int
	// Lines is the outside expectation of a Trino case, rendered as the
	// expect lines (a multiset).
	Lines []string
	// IgnoreTime: Lines have no times (ONE ROW PER MATCH does not say
	// which rows matched, so the derived event's time is cep's).
	IgnoreTime bool
	// Deviation, when set, says why cep's documented semantics differ from
	// the outside expectation on purpose; the script then expects cep's
	// result.
	Deviation string
}

// Untranslatable reports a case the rule language cannot express.
type Untranslatable struct {
	ID     string
	Reason string
}

func (u *Untranslatable) Error() string { return u.ID + ": not translatable: " + u.Reason }

// Text renders the script file.
func (t *Translation) Text() string {
	var b strings.Builder
	for _, c := range t.Comment {
		b.WriteString(strings.TrimRight("# "+c, " ") + "\n")
	}
	b.WriteString("rules\n")
	for _, l := range t.Rules {
		b.WriteString(strings.TrimRight("  "+l, " ") + "\n")
	}
	b.WriteString("events\n")
	for _, l := range t.Events {
		b.WriteString("  " + l + "\n")
	}
	if t.ExpectNote != "" {
		for _, l := range wrap(t.ExpectNote, 76) {
			b.WriteString("# " + l + "\n")
		}
	}
	b.WriteString("expect\n")
	for _, l := range t.Expect {
		b.WriteString("  " + l + "\n")
	}
	return b.String()
}

// wrap cuts text into lines of at most width runes at spaces.
func wrap(text string, width int) []string {
	var out []string
	for _, para := range strings.Split(text, "\n") {
		line := ""
		for _, w := range strings.Fields(para) {
			switch {
			case line == "":
				line = w
			case len([]rune(line))+1+len([]rune(w)) > width:
				out = append(out, line)
				line = w
			default:
				line += " " + w
			}
		}
		if line != "" {
			out = append(out, line)
		}
	}
	return out
}

// timeText prints milliseconds as a script time (3ms, 0s, 1s500ms).
func timeText(ms int64) string {
	return formatOffset(time.Duration(ms) * time.Millisecond)
}

// floatText prints a float so that expr reads it back as a float.
func floatText(f float64) string {
	s := fmt.Sprintf("%g", f)
	if !strings.ContainsAny(s, ".eEn") {
		s += ".0"
	}
	return s
}
