package scripttest

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"strings"

	"github.com/cepengine/cep/engine"
	"github.com/cepengine/cep/engine/codec"
	"github.com/cepengine/cep/engine/event"
	"github.com/cepengine/cep/lang"
)

// Result is the outcome of one script.
type Result struct {
	Name string
	// Err is a problem that kept the script from running or from being
	// compared: a bad script, rules with errors, an unknown type.
	Err error
	// Failures describe every way the output differed from the
	// expectation, or a metamorphic run from the plain one.
	Failures []string
}

// Failed reports whether the script failed.
func (r *Result) Failed() bool { return r.Err != nil || len(r.Failures) > 0 }

// String reports the result for a person: ok, or every failure.
func (r *Result) String() string {
	if !r.Failed() {
		return "ok   " + r.Name
	}
	var b strings.Builder
	b.WriteString("FAIL " + r.Name + "\n")
	if r.Err != nil {
		b.WriteString(indent(r.Err.Error()))
	}
	for _, f := range r.Failures {
		b.WriteString(indent(f))
	}
	return strings.TrimRight(b.String(), "\n")
}

func indent(s string) string {
	var b strings.Builder
	for _, l := range strings.Split(strings.TrimRight(s, "\n"), "\n") {
		b.WriteString("    " + l + "\n")
	}
	return b.String()
}

// RunFile reads, parses and runs a script file.
func RunFile(path string) *Result {
	src, err := os.ReadFile(path)
	if err != nil {
		return &Result{Name: path, Err: err}
	}
	s, err := Parse(path, src)
	if err != nil {
		return &Result{Name: path, Err: err}
	}
	return Run(s)
}

// output is everything a run produced, rendered as script lines.
type output struct {
	derived []string
	late    []string
	invalid []string
	stats   engine.Stats
}

// feeding says how a run hands events to the matcher.
type feeding struct {
	name  string
	split func(n int) []int // sizes of the batches a run of n events is cut into; nil: one at a time
}

// Run runs a script: the plain run is compared with the expectation, and
// every metamorphic run with the plain one.
func Run(s *Script) *Result {
	res := &Result{Name: s.Name}
	g, err := compile(s.Name, s.Rules)
	if err != nil {
		res.Err = err
		return res
	}
	want, err := s.expected(g)
	if err != nil {
		res.Err = err
		return res
	}
	plain, err := s.run(g, feeding{name: "one event at a time"})
	if err != nil {
		res.Err = err
		return res
	}
	res.compare("derived events", want.derived, plain.derived)
	res.compare("late events", want.late, plain.late)
	res.compareInvalid(s, plain.invalid)
	if st := plain.stats; st.In != st.Processed+st.Late+st.Invalid {
		res.Failures = append(res.Failures, fmt.Sprintf("events in (%d) != processed (%d) + late (%d) + invalid (%d)", st.In, st.Processed, st.Late, st.Invalid))
	}

	// Metamorphic runs: the output must not depend on how events are fed
	// nor on the rules' layout.
	rng := rand.New(rand.NewPCG(1, uint64(len(s.Inputs))))
	variants := []feeding{
		{name: "one batch", split: func(n int) []int { return []int{n} }},
		{name: "random batches", split: func(n int) []int { return randomSplit(rng, n) }},
	}
	for _, v := range variants {
		out, err := s.run(g, v)
		if err != nil {
			res.Failures = append(res.Failures, fmt.Sprintf("%s: %v", v.name, err))
			continue
		}
		res.same(v.name, plain, out)
	}
	formatted, err := lang.FormatSource(s.Name, []byte(s.Rules))
	if err != nil {
		res.Failures = append(res.Failures, fmt.Sprintf("formatting the rules: %v", err))
		return res
	}
	fg, err := compile(s.Name+" (formatted)", string(formatted))
	if err != nil {
		res.Failures = append(res.Failures, fmt.Sprintf("the formatted rules do not compile: %v", err))
		return res
	}
	out, err := s.run(fg, feeding{name: "formatted rules"})
	if err != nil {
		res.Failures = append(res.Failures, fmt.Sprintf("formatted rules: %v", err))
		return res
	}
	res.same("formatted rules", plain, out)
	return res
}

func randomSplit(rng *rand.Rand, n int) []int {
	var sizes []int
	for n > 0 {
		k := 1 + rng.IntN(min(n, 5))
		sizes = append(sizes, k)
		n -= k
	}
	return sizes
}

func compile(name, rules string) (*engine.Graph, error) {
	p, err := lang.LoadSource(name, []byte(rules))
	if err != nil {
		return nil, listErr(err)
	}
	g, err := lang.Compile(p)
	if err != nil {
		return nil, listErr(err)
	}
	return g, nil
}

// listErr shows every error of an ErrorList, one per line.
func listErr(err error) error {
	if l, ok := err.(lang.ErrorList); ok {
		return fmt.Errorf("%s", strings.TrimRight(l.String(), "\n"))
	}
	return err
}

// expected renders the expect sections in the output's own form.
func (s *Script) expected(g *engine.Graph) (*output, error) {
	out := &output{}
	for _, sec := range []struct {
		lines []Line
		dst   *[]string
	}{{s.Expect, &out.derived}, {s.Late, &out.late}} {
		for _, l := range sec.lines {
			schema, ok := g.Schema(l.Type)
			if !ok {
				return nil, &Error{File: s.Name, Line: l.Line, Msg: fmt.Sprintf("unknown event type %s", l.Type)}
			}
			fields, err := fieldsOf(l.Fields, schema)
			if err != nil {
				return nil, &Error{File: s.Name, Line: l.Line, Msg: err.Error()}
			}
			if sec.dst == &out.late {
				fillTime(schema, fields, l.Time)
			}
			*sec.dst = append(*sec.dst, s.render(l.Time, schema, fields))
		}
	}
	return out, nil
}

// fillTime sets an event's time field from its line unless the line set it.
func fillTime(schema *event.Schema, fields []event.Value, t int64) {
	if schema.TimeSlot >= 0 && fields[schema.TimeSlot].IsNil() {
		fields[schema.TimeSlot] = event.TimeValue(t)
	}
}

// run feeds the script's inputs to a new matcher of g and collects what
// comes out.
func (s *Script) run(g *engine.Graph, f feeding) (*output, error) {
	m := g.NewMatcher(engine.Config{ProcessingTime: s.Processing})
	out := &output{}
	if _, err := m.Subscribe("*", func(d *engine.Derived) {
		out.derived = append(out.derived, s.render(d.Event.Time, d.Schema, d.Event.Fields))
	}); err != nil {
		return nil, err
	}
	m.SubscribeLate(func(r *engine.Record) {
		if r.Event != nil && r.Schema != nil {
			out.late = append(out.late, s.render(r.Event.Time, r.Schema, r.Event.Fields))
		} else {
			out.late = append(out.late, r.Reason())
		}
	})
	m.SubscribeInvalid(func(r *engine.Record) { out.invalid = append(out.invalid, r.Reason()) })

	var pending []event.Event
	flush := func() {
		if len(pending) == 0 {
			return
		}
		if f.split == nil {
			for i := range pending {
				m.Process(&pending[i])
			}
		} else {
			at := 0
			for _, k := range f.split(len(pending)) {
				m.ProcessBatch(pending[at : at+k])
				at += k
			}
		}
		pending = pending[:0]
	}
	var now int64
	for _, in := range s.Inputs {
		switch in.Kind {
		case InputEvent:
			now = in.Time
			schema, ok := g.Schema(in.Type)
			if !ok {
				return nil, &Error{File: s.Name, Line: in.Line, Msg: fmt.Sprintf("unknown event type %s; to test an unknown type, write a json line", in.Type)}
			}
			fields, err := fieldsOf(in.Fields, schema)
			if err != nil {
				return nil, &Error{File: s.Name, Line: in.Line, Msg: err.Error()}
			}
			fillTime(schema, fields, in.Time)
			pending = append(pending, event.Event{Type: schema.ID, Time: in.Time, Fields: fields})
		case InputJSON:
			flush()
			dec, err := codec.NewJSONDecoder(bytes.NewReader(nil), g.Registry(), codec.Options{Source: s.Name})
			if err != nil {
				return nil, err
			}
			ev := event.Event{}
			if err := dec.DecodeLine([]byte(in.JSON), &ev); err != nil {
				m.Reject(engine.Pos{File: s.Name, Line: in.Line, Col: 1}, err)
				continue
			}
			if g.Registry().ByID(ev.Type).TimeSlot < 0 || s.Processing {
				ev.Time = now
			}
			m.ProcessAt(engine.Pos{File: s.Name, Line: in.Line, Col: 1}, &ev)
		case InputWatermark:
			flush()
			if err := m.Advance(in.Time); err != nil {
				return nil, &Error{File: s.Name, Line: in.Line, Msg: err.Error()}
			}
		}
	}
	flush()
	if err := m.Close(); err != nil {
		return nil, err
	}
	out.stats = m.Stats()
	return out, nil
}

func (r *Result) compare(what string, want, got []string) {
	if equal(want, got) {
		return
	}
	r.Failures = append(r.Failures, fmt.Sprintf("%s differ:\n%s", what, diff(want, got)))
}

func (r *Result) compareInvalid(s *Script, got []string) {
	if len(got) != len(s.Invalid) {
		r.Failures = append(r.Failures, fmt.Sprintf("invalid records: want %d, got %d:\n%s", len(s.Invalid), len(got), strings.Join(got, "\n")))
		return
	}
	for i, re := range s.Invalid {
		if !re.MatchString(got[i]) {
			r.Failures = append(r.Failures, fmt.Sprintf("invalid record %d (script line %d): %q does not match %q", i+1, s.InvalidLines[i], got[i], re))
		}
	}
}

func (r *Result) same(name string, plain, other *output) {
	for _, c := range []struct {
		what        string
		want, other []string
	}{{"derived events", plain.derived, other.derived}, {"late events", plain.late, other.late}, {"invalid records", plain.invalid, other.invalid}} {
		if !equal(c.want, c.other) {
			r.Failures = append(r.Failures, fmt.Sprintf("%s: %s differ from the plain run:\n%s", name, c.what, diff(c.want, c.other)))
		}
	}
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// diff shows two line lists as an edit script: "-" wanted, "+" got.
func diff(want, got []string) string {
	// Longest common subsequence; scripts are small.
	n, m := len(want), len(got)
	l := make([][]int, n+1)
	for i := range l {
		l[i] = make([]int, m+1)
	}
	for i := n - 1; i >= 0; i-- {
		for j := m - 1; j >= 0; j-- {
			if want[i] == got[j] {
				l[i][j] = l[i+1][j+1] + 1
			} else {
				l[i][j] = max(l[i+1][j], l[i][j+1])
			}
		}
	}
	var b strings.Builder
	i, j := 0, 0
	for i < n || j < m {
		switch {
		case i < n && j < m && want[i] == got[j]:
			b.WriteString("  " + want[i] + "\n")
			i++
			j++
		case j < m && (i == n || l[i][j+1] >= l[i+1][j]):
			b.WriteString("+ " + got[j] + "\n")
			j++
		default:
			b.WriteString("- " + want[i] + "\n")
			i++
		}
	}
	return b.String()
}
