// Package evaltest checks compiled expressions differentially: the lowered
// code against expr's VM (eval.ForceVM) over the same frames. Any package
// that compiles expressions may reuse it in its tests.
//
// Stage: test support for engine/eval.
// Imports: engine/eval, engine/event and the standard library.
// Concurrency: functions are safe for concurrent use; frames are not shared.
package evaltest

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/cepengine/cep/engine/eval"
	"github.com/cepengine/cep/engine/event"
)

// Shape describes what the frames of an Env hold: the schema of the current
// event, of prev, of each Bound and Lists slot, and the type of each Vars
// slot. Nil schemas leave those parts of the frames empty.
type Shape struct {
	Current *event.Schema
	Prev    *event.Schema
	Bound   []*event.Schema
	Lists   []*event.Schema
	Vars    []event.Type
}

// Base is the time around which RandomFrames draws times.
var Base = time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)

// RandomFrames returns n frames drawn from a seeded generator: the same seed
// gives the same frames. About one field in six is nil; values are drawn
// from small domains so that comparisons often hold; prev, aliases and list
// elements are sometimes missing, lists sometimes empty.
func RandomFrames(seed uint64, shape Shape, n int) []*eval.Frame {
	g := &gen{r: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
	frames := make([]*eval.Frame, n)
	for i := range frames {
		f := &eval.Frame{}
		if shape.Current != nil {
			f.Current = g.event(shape.Current)
		}
		if shape.Prev != nil && g.r.IntN(5) > 0 {
			f.Prev = g.event(shape.Prev)
		}
		for _, s := range shape.Bound {
			var e *event.Event
			if g.r.IntN(5) > 0 {
				e = g.event(s)
			}
			f.Bound = append(f.Bound, e)
		}
		for _, s := range shape.Lists {
			lst := make([]*event.Event, g.r.IntN(4))
			for j := range lst {
				lst[j] = g.event(s)
			}
			f.Lists = append(f.Lists, lst)
		}
		for _, t := range shape.Vars {
			f.Vars = append(f.Vars, g.maybe(t))
		}
		frames[i] = f
	}
	return frames
}

type gen struct{ r *rand.Rand }

func (g *gen) event(s *event.Schema) *event.Event {
	e := &event.Event{Type: s.ID, Fields: make([]event.Value, len(s.Fields))}
	for i, f := range s.Fields {
		e.Fields[i] = g.maybe(f.Type)
	}
	if s.TimeSlot >= 0 && e.Fields[s.TimeSlot].Kind() == event.KindTime {
		e.Time = e.Fields[s.TimeSlot].Time()
	}
	return e
}

func (g *gen) maybe(t event.Type) event.Value {
	if g.r.IntN(6) == 0 {
		return event.Nil
	}
	return g.value(t)
}

var words = []string{"", "a", "b", "ab", "AAPL", "MSFT", "x", "é", "aé", "A"}

func (g *gen) value(t event.Type) event.Value {
	switch t.Kind {
	case event.KindBool:
		return event.BoolValue(g.r.IntN(2) == 0)
	case event.KindInt:
		switch g.r.IntN(20) {
		case 0:
			return event.IntValue(math.MaxInt64)
		case 1:
			return event.IntValue(math.MinInt64)
		}
		return event.IntValue(int64(g.r.IntN(13) - 3))
	case event.KindFloat:
		switch g.r.IntN(30) {
		case 0:
			return event.FloatValue(math.NaN())
		case 1:
			return event.FloatValue(math.Inf(1))
		case 2:
			return event.FloatValue(math.Copysign(0, -1))
		}
		if g.r.IntN(2) == 0 {
			return event.FloatValue(float64(g.r.IntN(13) - 3))
		}
		return event.FloatValue(float64(g.r.IntN(400)-100) / 8)
	case event.KindString:
		return event.StringValue(words[g.r.IntN(len(words))])
	case event.KindTime:
		return event.TimeValue(Base.Add(time.Duration(g.r.IntN(7200)-3600) * time.Second).UnixNano())
	case event.KindDuration:
		return event.DurationValue(time.Duration(g.r.IntN(1200)-300) * time.Second)
	case event.KindList:
		elem := event.Any
		if t.Elem != nil {
			elem = *t.Elem
		}
		items := make([]event.Value, g.r.IntN(4))
		for i := range items {
			items[i] = g.maybe(elem)
		}
		return event.ListValue(items)
	}
	kinds := []event.Type{event.Bool, event.Int, event.Float, event.String, event.Time, event.Duration}
	return g.value(kinds[g.r.IntN(len(kinds))])
}

// Compare compiles src against env lowered and with eval.ForceVM and
// evaluates both on every frame, with Eval and with EvalBool. It returns a
// description of the first frame on which the values, or whether the
// evaluation failed (was counted as a runtime error), differ; ""
// if none does. err is the compile error, if the expression does not
// compile (then neither form does, or the forms disagree about it).
func Compare(src string, env *eval.Env, frames []*eval.Frame, opts ...eval.Option) (string, error) {
	lowered, err := eval.Compile(src, env, opts...)
	forced, err2 := eval.Compile(src, env, append(append([]eval.Option{}, opts...), eval.ForceVM())...)
	for _, e := range []error{err, err2} {
		if e != nil && strings.Contains(e.Error(), "internal error") {
			return fmt.Sprintf("compile failed inside eval: %v", e), nil
		}
	}
	switch {
	case err != nil && err2 != nil:
		if err.Error() != err2.Error() {
			return fmt.Sprintf("compile errors differ: lowered %v, VM %v", err, err2), nil
		}
		return "", err
	case err != nil || err2 != nil:
		return fmt.Sprintf("only one form compiles: lowered %v, VM %v", err, err2), nil
	}
	if !lowered.Type().Equal(forced.Type()) {
		return fmt.Sprintf("types differ: lowered %v, VM %v", lowered.Type(), forced.Type()), nil
	}
	ml, mv := eval.NewMachine(), eval.NewMachine()
	for i, f := range frames {
		el, ev := ml.Errors(), mv.Errors()
		a, b := ml.Eval(lowered, f), mv.Eval(forced, f)
		failA, failB := ml.Errors() != el, mv.Errors() != ev
		if !Same(a, b) || failA != failB {
			return fmt.Sprintf("frame %d %s: lowered %s (failed %v: %v), VM %s (failed %v: %v)",
				i, FormatFrame(f), Format(a), failA, errOf(failA, ml), Format(b), failB, errOf(failB, mv)), nil
		}
		el, ev = ml.Errors(), mv.Errors()
		ba, bb := ml.EvalBool(lowered, f), mv.EvalBool(forced, f)
		failA, failB = ml.Errors() != el, mv.Errors() != ev
		if ba != bb || failA != failB {
			return fmt.Sprintf("frame %d %s: EvalBool lowered %v (failed %v: %v), VM %v (failed %v: %v)",
				i, FormatFrame(f), ba, failA, errOf(failA, ml), bb, failB, errOf(failB, mv)), nil
		}
	}
	return "", nil
}

func errOf(failed bool, m *eval.Machine) error {
	if !failed {
		return nil
	}
	return m.LastError()
}

// Differential fails t unless src compiles and the lowered program and the
// VM program agree on every frame.
func Differential(t testing.TB, src string, env *eval.Env, frames []*eval.Frame, opts ...eval.Option) {
	t.Helper()
	diff, err := Compare(src, env, frames, opts...)
	if err != nil {
		t.Errorf("%q: %v", src, err)
		return
	}
	if diff != "" {
		t.Errorf("%q: %s", src, diff)
	}
}

// Same reports whether two values are identical: same kind and payload,
// NaN equal to NaN and 0 distinct from -0, lists element by element.
func Same(a, b event.Value) bool {
	if a.Kind() != b.Kind() {
		return false
	}
	switch a.Kind() {
	case event.KindFloat:
		x, y := a.Float(), b.Float()
		return math.Float64bits(x) == math.Float64bits(y) || math.IsNaN(x) && math.IsNaN(y)
	case event.KindList:
		x, y := a.List(), b.List()
		if len(x) != len(y) {
			return false
		}
		for i := range x {
			if !Same(x[i], y[i]) {
				return false
			}
		}
		return true
	}
	return a.Equal(b)
}

// Format writes a value as a rule file would: 1, 2.5, "s", true, nil,
// 2024-03-01T12:00:00Z, 5m0s, [1, 2].
func Format(v event.Value) string {
	switch v.Kind() {
	case event.KindNil:
		return "nil"
	case event.KindBool:
		return fmt.Sprint(v.Bool())
	case event.KindInt:
		return fmt.Sprint(v.Int())
	case event.KindFloat:
		return fmt.Sprintf("%vf", v.Float())
	case event.KindString:
		return fmt.Sprintf("%q", v.Str())
	case event.KindTime:
		return time.Unix(0, v.Time()).UTC().Format(time.RFC3339Nano)
	case event.KindDuration:
		return v.Duration().String()
	case event.KindList:
		parts := make([]string, len(v.List()))
		for i, it := range v.List() {
			parts[i] = Format(it)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	}
	return "?"
}

// FormatFrame writes a frame's contents, for failure messages.
func FormatFrame(f *eval.Frame) string {
	var b strings.Builder
	ev := func(e *event.Event) string {
		if e == nil {
			return "none"
		}
		parts := make([]string, len(e.Fields))
		for i, v := range e.Fields {
			parts[i] = Format(v)
		}
		return "{" + strings.Join(parts, " ") + "}"
	}
	b.WriteString("cur=" + ev(f.Current))
	b.WriteString(" prev=" + ev(f.Prev))
	for i, e := range f.Bound {
		fmt.Fprintf(&b, " bound%d=%s", i, ev(e))
	}
	for i, l := range f.Lists {
		fmt.Fprintf(&b, " list%d=[", i)
		for j, e := range l {
			if j > 0 {
				b.WriteString(" ")
			}
			b.WriteString(ev(e))
		}
		b.WriteString("]")
	}
	for i, v := range f.Vars {
		fmt.Fprintf(&b, " var%d=%s", i, Format(v))
	}
	return b.String()
}
