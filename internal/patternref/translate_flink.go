package patternref

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// FlinkEvent is the event declaration of every translated Flink case.
// Flink's SubEvent (a subclass of Event with a volume) is the same type
// with kind "SubEvent": a Flink stage without subtype() accepts both
// classes, and in cep an element has one type, so one type with a kind
// field keeps every stage a single element. idx is the event's index in the
// case, which the emitted m lists (ids repeat in the Flink tests).
const FlinkEvent = "event Event { idx: int, id: int, name: string, price: float, volume: float, kind: string, ts: time } time ts"

// TranslateFlink turns a flink-pattern case into a script (without its
// expect section, which the generator fills).
func TranslateFlink(c *Case) (*Translation, error) {
	if c.Kind != "flink-pattern" {
		return nil, fmt.Errorf("%s: not a flink-pattern case", c.ID)
	}
	ft := &flinkTranslator{c: c, alias: map[string]string{}}
	ft.names(c.Stages)
	t := &Translation{ID: c.ID, Flat: c.ExpectedFlat}
	rule := ruleName(c.ID)

	stages := c.Stages
	var notes []string
	if allOptional(stages) && len(stages) == 1 {
		// cep rejects a pattern that can match nothing; Flink's never emits
		// an empty match, so its only optional stage is as good as required.
		s := stages[0]
		s.Quantifier.Optional = false
		stages = []Stage{s}
		notes = append(notes, "The pattern is one optional stage: Flink never emits an empty match, so it is translated as required (cep rejects a pattern that can match nothing).")
	}
	steps, err := ft.sequence(stages, false, false, false)
	if err != nil {
		return nil, err
	}
	t.Rules = append(t.Rules, FlinkEvent, "", "rule "+rule)
	for i, s := range steps {
		if i == 0 {
			t.Rules = append(t.Rules, "  match "+s)
		} else {
			t.Rules = append(t.Rules, "    "+s)
		}
	}
	if c.WithinMS != nil {
		w := "  within "
		if c.WithinType != nil && *c.WithinType == "PREVIOUS_AND_CURRENT" {
			w += "gap "
		}
		t.Rules = append(t.Rules, w+strconv.FormatInt(*c.WithinMS, 10)+"ms")
	}
	kind, target, throw, err := c.skipSpec()
	if err != nil {
		return nil, err
	}
	switch kind {
	case "noSkip":
		t.Rules = append(t.Rules, "  skip none")
	case "skipToNext":
		t.Rules = append(t.Rules, "  skip to next")
	case "skipPastLastEvent":
		t.Rules = append(t.Rules, "  skip past last")
	case "skipToFirst", "skipToLast":
		a, ok := ft.alias[target]
		if !ok {
			return nil, &Untranslatable{c.ID, "skip target " + target + " is not a stage"}
		}
		w := "first"
		if kind == "skipToLast" {
			w = "last"
		}
		t.Rules = append(t.Rules, "  skip to "+w+" "+a)
	default:
		return nil, fmt.Errorf("%s: unknown skip %q", c.ID, kind)
	}
	if throw {
		notes = append(notes, "throwExceptionOnMiss() has no equivalent: cep does not fail when the skip target bound nothing (docs/language.md, Changes 18).")
	}
	t.Rules = append(t.Rules, "  emit Match { m: "+ft.indexList()+" }")

	for i, e := range c.Events {
		line, err := flinkEventLine(i, e)
		if err != nil {
			return nil, fmt.Errorf("%s: event %d: %v", c.ID, i, err)
		}
		t.Events = append(t.Events, line)
	}
	t.Comment = append(t.Comment, c.ID, "source: "+c.Source)
	t.Comment = append(t.Comment, "Flink pattern:")
	for _, l := range javaPattern(c.Stages) {
		t.Comment = append(t.Comment, "  "+l)
	}
	t.Comment = append(t.Comment, "  "+skipJava(c))
	if c.Notes != "" {
		t.Comment = append(t.Comment, "Notes (from the case):")
		for _, l := range wrap(strings.TrimSpace(c.Notes), 74) {
			t.Comment = append(t.Comment, "  "+l)
		}
	}
	for _, n := range notes {
		t.Comment = append(t.Comment, wrap("Translation: "+n, 76)...)
	}
	if c.ExpectedError != nil {
		t.Comment = append(t.Comment, wrap("Flink expects an error ("+*c.ExpectedError+") instead of matches.", 76)...)
	}
	return t, nil
}

type flinkTranslator struct {
	c     *Case
	alias map[string]string // stage name -> alias
	parts []string          // m's parts, in element order
}

var nonIdent = regexp.MustCompile(`[^A-Za-z0-9_]+`)

// names gives every stage an alias: its name with other characters than
// letters, digits and _ replaced ("middle-first" -> middle_first, "b*" ->
// b_star).
func (ft *flinkTranslator) names(stages []Stage) {
	for _, s := range stages {
		if s.Group != nil {
			ft.names(s.Group)
			continue
		}
		n := strings.ReplaceAll(s.Name, "*", "_star")
		n = strings.Trim(nonIdent.ReplaceAllString(n, "_"), "_")
		ft.alias[s.Name] = n
	}
}

func allOptional(stages []Stage) bool {
	for _, s := range stages {
		if s.Contiguity == "notNext" || s.Contiguity == "notFollowedBy" {
			continue
		}
		if !s.Quantifier.Optional && s.Quantifier.Min > 0 {
			return false
		}
	}
	return true
}

// sequence translates stages into pattern steps, one per stage. followed
// says that a non-negated stage comes after these ones (outside a group);
// inRepeat and inOptional that they are inside a repeated or an optional
// group.
func (ft *flinkTranslator) sequence(stages []Stage, followed, inRepeat, inOptional bool) ([]string, error) {
	var out []string
	for i, s := range stages {
		laterTake := followed
		for _, t := range stages[i+1:] {
			if t.Contiguity != "notNext" && t.Contiguity != "notFollowedBy" {
				laterTake = true
			}
		}
		edge := ""
		switch s.Contiguity {
		case "begin":
		case "next", "notNext":
		case "followedBy", "notFollowedBy":
			edge = "-> "
		case "followedByAny":
			edge = "->> "
		default:
			return nil, fmt.Errorf("%s: unknown contiguity %q", ft.c.ID, s.Contiguity)
		}
		if s.Contiguity == "notNext" || s.Contiguity == "notFollowedBy" {
			cond, err := ft.cond(s.Where)
			if err != nil {
				return nil, err
			}
			out = append(out, edge+"not Event"+cond)
			continue
		}
		var body string
		if s.Group != nil {
			q := s.Quantifier
			rep := inRepeat || q.Max == nil || *q.Max > 1
			inner, err := ft.sequence(s.Group, laterTake, rep, inOptional || q.Optional || q.Min == 0)
			if err != nil {
				return nil, err
			}
			body = "(" + strings.Join(inner, " ") + ")"
		} else {
			cond, err := ft.cond(s.Where)
			if err != nil {
				return nil, err
			}
			body = ft.alias[s.Name] + ":Event" + cond
			ft.part(s, inRepeat, inOptional)
		}
		q, wrapGroup, err := ft.quantifier(s, laterTake)
		if err != nil {
			return nil, err
		}
		step := body + q
		if wrapGroup {
			step = "(" + step + ")?"
		}
		out = append(out, edge+step)
	}
	return out, nil
}

// quantifier translates a stage's quantifier: bounds, greedy `!` (only
// where another stage follows: Flink's greedy() on the last stage changes
// nothing), the loop modifier (Flink's inner default is skip-till-next,
// cep's follows the edge: relaxed is written unless the edge is ->) and
// until. wrap reports an optional times(n..) with n >= 2, written as the
// group (b{n,m})?.
func (ft *flinkTranslator) quantifier(s Stage, followed bool) (q string, wrap bool, err error) {
	qq := s.Quantifier
	lo := qq.Min
	repeats := qq.Max == nil || *qq.Max > 1
	switch {
	case qq.Max == nil && lo <= 1:
		q = "+"
		if qq.Optional || lo == 0 {
			q = "*"
		}
	case qq.Max == nil:
		q = "{" + strconv.Itoa(lo) + ",}"
		wrap = qq.Optional
	case *qq.Max == 1:
		if qq.Optional || lo == 0 {
			q = "?"
		}
	default:
		hi := *qq.Max
		if qq.Optional && lo == 1 {
			lo = 0
		} else if qq.Optional && lo >= 2 {
			wrap = true
		}
		if lo == hi {
			q = "{" + strconv.Itoa(lo) + "}"
		} else {
			q = "{" + strconv.Itoa(lo) + "," + strconv.Itoa(hi) + "}"
		}
	}
	if qq.Greedy && followed && repeats {
		q += "!"
	}
	if repeats {
		mod := ""
		switch {
		case qq.Consecutive:
			mod = "consecutive"
		case qq.AllowCombinations:
			mod = "any"
		case s.Contiguity != "followedBy":
			mod = "relaxed"
		}
		if mod != "" {
			q += " " + mod
		}
	}
	if s.Until != nil {
		if !repeats || s.Group != nil {
			return "", false, &Untranslatable{ft.c.ID, "until on a stage that does not loop, or on a group"}
		}
		u, err := ft.expr(*s.Until)
		if err != nil {
			return "", false, err
		}
		q += " until(" + u + ")"
	}
	return q, wrap, nil
}

func (ft *flinkTranslator) cond(where *string) (string, error) {
	if where == nil {
		return "", nil
	}
	x, err := ft.expr(*where)
	if err != nil {
		return "", err
	}
	return "(" + stripParens(x) + ")", nil
}

// stripParens drops parentheses around the whole expression.
func stripParens(x string) string {
	for strings.HasPrefix(x, "(") && strings.HasSuffix(x, ")") {
		depth := 0
		for i, r := range x {
			switch r {
			case '(':
				depth++
			case ')':
				depth--
			}
			if depth == 0 && i < len(x)-1 {
				return x
			}
		}
		x = x[1 : len(x)-1]
	}
	return x
}

var (
	flinkStrFn = regexp.MustCompile(`\b(startsWith|contains)\(\s*(\w+)\s*,\s*('(?:[^'\\]|\\.)*')\s*\)`)
	flinkSum   = regexp.MustCompile(`\bsum\(\s*([\w-]+)\.(\w+)\s*\)`)
	flinkCount = regexp.MustCompile(`\bcount\(\s*([\w-]+)\s*\)`)
	flinkIndex = regexp.MustCompile(`\b([\w-]+)\[(\d+)\]`)
	flinkType  = regexp.MustCompile(`\btype\b`)
)

// expr translates the cases' expression language to expr: the string
// functions become operators, type becomes kind, and the iterative forms
// read the stage's list alias.
func (ft *flinkTranslator) expr(src string) (string, error) {
	var bad error
	alias := func(stage string) string {
		a, ok := ft.alias[stage]
		if !ok {
			bad = &Untranslatable{ft.c.ID, "condition names the unknown stage " + stage}
		}
		return a
	}
	x := flinkStrFn.ReplaceAllString(src, "($2 $1 $3)")
	x = flinkSum.ReplaceAllStringFunc(x, func(m string) string {
		g := flinkSum.FindStringSubmatch(m)
		return "sum(map(" + alias(g[1]) + ", ." + g[2] + "))"
	})
	x = flinkCount.ReplaceAllStringFunc(x, func(m string) string {
		g := flinkCount.FindStringSubmatch(m)
		return "len(" + alias(g[1]) + ")"
	})
	x = flinkIndex.ReplaceAllStringFunc(x, func(m string) string {
		g := flinkIndex.FindStringSubmatch(m)
		return alias(g[1]) + "[" + g[2] + "]"
	})
	x = flinkType.ReplaceAllString(x, "kind")
	return x, bad
}

// part adds a stage's events to m: a list alias as map(a, .idx), a single
// one as [a.idx], or as [] when an optional stage bound nothing.
func (ft *flinkTranslator) part(s Stage, inRepeat, inOptional bool) {
	a := ft.alias[s.Name]
	q := s.Quantifier
	switch {
	case inRepeat || q.Max == nil || *q.Max > 1:
		ft.parts = append(ft.parts, "map("+a+", .idx)")
	case inOptional || q.Optional || q.Min == 0:
		ft.parts = append(ft.parts, a+" == nil ? [] : ["+a+".idx]")
	default:
		ft.parts = append(ft.parts, "["+a+".idx]")
	}
}

// indexList is m: the sorted indexes of every event of the match.
func (ft *flinkTranslator) indexList() string {
	return "sort(concat(" + strings.Join(ft.parts, ", ") + "))"
}

func flinkEventLine(i int, e CaseEvent) (string, error) {
	ms := int64(i)
	if e.TS != nil {
		ms = *e.TS
	}
	var f []string
	f = append(f, "idx: "+strconv.Itoa(i))
	num := func(k string) (float64, bool, error) {
		v, ok := e.Attrs[k]
		if !ok || v == nil {
			return 0, false, nil
		}
		n, isNum := v.(json.Number)
		if !isNum {
			return 0, false, fmt.Errorf("attr %s is %v, not a number", k, v)
		}
		x, err := n.Float64()
		return x, true, err
	}
	if id, ok, err := num("id"); err != nil {
		return "", err
	} else if ok {
		f = append(f, "id: "+strconv.FormatInt(int64(id), 10))
	}
	if n, ok := e.Attrs["name"].(string); ok {
		f = append(f, "name: "+strconv.Quote(n))
	}
	for _, k := range []string{"price", "volume"} {
		if x, ok, err := num(k); err != nil {
			return "", err
		} else if ok {
			f = append(f, k+": "+floatText(x))
		}
	}
	f = append(f, "kind: "+strconv.Quote(e.Type))
	return fmt.Sprintf("%-6s Event { %s }", timeText(ms), strings.Join(f, ", ")), nil
}

// ruleName is the rule's name: the test method of the case id.
func ruleName(id string) string {
	parts := strings.Split(id, "-")
	n := parts[len(parts)-1]
	if len(parts) >= 3 {
		n = parts[2]
	}
	return nonIdent.ReplaceAllString(n, "_")
}

// javaPattern renders the stages as Flink's Pattern API, one line per
// stage, for the header.
func javaPattern(stages []Stage) []string {
	var out []string
	for i, s := range stages {
		var b strings.Builder
		if i == 0 && s.Contiguity == "begin" {
			b.WriteString("Pattern.begin(")
		} else {
			b.WriteString("." + s.Contiguity + "(")
		}
		if s.Group != nil {
			b.WriteString(strings.Join(javaPattern(s.Group), "") + ")")
		} else {
			b.WriteString(strconv.Quote(s.Name) + ")")
			if s.Where != nil {
				b.WriteString(".where(" + *s.Where + ")")
			}
		}
		q := s.Quantifier
		switch {
		case q.Max == nil && q.Min <= 1:
			b.WriteString(".oneOrMore()")
		case q.Max == nil:
			fmt.Fprintf(&b, ".timesOrMore(%d)", q.Min)
		case *q.Max > 1 && q.Min == *q.Max:
			fmt.Fprintf(&b, ".times(%d)", q.Min)
		case *q.Max > 1:
			fmt.Fprintf(&b, ".times(%d, %d)", q.Min, *q.Max)
		}
		for _, m := range []struct {
			on   bool
			text string
		}{{q.Optional, ".optional()"}, {q.Consecutive, ".consecutive()"}, {q.AllowCombinations, ".allowCombinations()"}, {q.Greedy, ".greedy()"}} {
			if m.on {
				b.WriteString(m.text)
			}
		}
		if s.Until != nil {
			b.WriteString(".until(" + *s.Until + ")")
		}
		out = append(out, b.String())
	}
	return out
}

func skipJava(c *Case) string {
	var b strings.Builder
	kind, target, throw, _ := c.skipSpec()
	b.WriteString("skip: " + kind)
	if target != "" {
		b.WriteString("(" + strconv.Quote(target) + ")")
	}
	if throw {
		b.WriteString(".throwExceptionOnMiss()")
	}
	if c.WithinMS != nil {
		fmt.Fprintf(&b, "; within(%dms", *c.WithinMS)
		if c.WithinType != nil {
			b.WriteString(", " + *c.WithinType)
		}
		b.WriteString(")")
	}
	return b.String()
}
