package patternref

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/expr-lang/expr"

	"github.com/cepengine/cep/engine/event"
	"github.com/cepengine/cep/lang"
	"github.com/cepengine/cep/lang/scripttest"
)

// RunScript checks a script's rules and runs the reference matcher over its
// events section. It returns the matches and, for each, the script line the
// engine must print for it (as an expect section writes it). Only event
// lines are supported: json lines and the processing clock are not;
// watermark lines change nothing here (timers fire by event time anyway).
func RunScript(s *scripttest.Script) (*lang.Program, []*Match, []string, error) {
	p, err := lang.LoadSource(s.Name, []byte(s.Rules))
	if err != nil {
		return nil, nil, nil, err
	}
	if s.Processing {
		return nil, nil, nil, fmt.Errorf("%w: %s: the processing clock", ErrUnsupported, s.Name)
	}
	var evs []event.Event
	for _, in := range s.Inputs {
		switch in.Kind {
		case scripttest.InputWatermark:
			continue
		case scripttest.InputJSON:
			return nil, nil, nil, fmt.Errorf("%w: %s:%d: json input lines", ErrUnsupported, s.Name, in.Line)
		}
		t := p.Type(in.Type)
		if t == nil {
			return nil, nil, nil, fmt.Errorf("%s:%d: unknown event type %s", s.Name, in.Line, in.Type)
		}
		fields, err := literalFields(in.Fields, t.Schema)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("%s:%d: %v", s.Name, in.Line, err)
		}
		if ts := t.Schema.TimeSlot; ts >= 0 && fields[ts].IsNil() {
			fields[ts] = event.TimeValue(in.Time)
		}
		evs = append(evs, event.Event{Type: t.Schema.ID, Time: in.Time, Seq: uint64(len(evs)), Fields: fields})
	}
	ms, err := Run(p, evs)
	if err != nil {
		return nil, nil, nil, err
	}
	lines := make([]string, len(ms))
	for i, m := range ms {
		lines[i] = RenderLine(m.Time, m.Rule.Emit.Type.Schema, m.Fields)
	}
	return p, ms, lines, nil
}

// ExpectLines renders a script's expect section as RunScript renders
// matches, so that the two compare as strings.
func ExpectLines(s *scripttest.Script, p *lang.Program) ([]string, error) {
	out := make([]string, len(s.Expect))
	for i, l := range s.Expect {
		t := p.Type(l.Type)
		if t == nil {
			return nil, fmt.Errorf("%s:%d: unknown event type %s", s.Name, l.Line, l.Type)
		}
		fields, err := literalFields(l.Fields, t.Schema)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %v", s.Name, l.Line, err)
		}
		out[i] = RenderLine(l.Time, t.Schema, fields)
	}
	return out, nil
}

// literalFields evaluates a field literal ({ a: 1, b: "x" }) for schema s.
// Times and durations are not written by the translations and are not
// supported here.
func literalFields(src string, s *event.Schema) ([]event.Value, error) {
	out, err := expr.Eval(src, nil)
	if err != nil {
		return nil, fmt.Errorf("field list %s: %v", src, err)
	}
	m, ok := out.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("field list %s is not a map", src)
	}
	vals := make([]event.Value, len(s.Fields))
	for k, v := range m {
		slot, ok := s.Slot(k)
		if !ok {
			return nil, fmt.Errorf("%s has no field %q", s.Name, k)
		}
		x, err := goValue(v, s.Fields[slot].Type)
		if err != nil {
			return nil, fmt.Errorf("field %s: %v", k, err)
		}
		vals[slot] = x
	}
	return vals, nil
}

func goValue(v any, t event.Type) (event.Value, error) {
	if v == nil {
		return event.Nil, nil
	}
	switch x := v.(type) {
	case bool:
		return event.BoolValue(x), nil
	case string:
		return event.StringValue(x), nil
	case int:
		if t.Kind == event.KindFloat {
			return event.FloatValue(float64(x)), nil
		}
		return event.IntValue(int64(x)), nil
	case float64:
		if t.Kind == event.KindInt && x == math.Trunc(x) {
			return event.IntValue(int64(x)), nil
		}
		return event.FloatValue(x), nil
	case []any:
		elem := event.Any
		if t.Elem != nil {
			elem = *t.Elem
		}
		items := make([]event.Value, len(x))
		for i, it := range x {
			y, err := goValue(it, elem)
			if err != nil {
				return event.Nil, err
			}
			items[i] = y
		}
		return event.ListValue(items), nil
	}
	return event.Nil, fmt.Errorf("unsupported value %v (%T)", v, v)
}

// RenderLine prints a derived event as a script line, as scripttest prints
// the engine's output: TIME  Type { f: v, ... }, fields in schema order,
// nil fields left out.
func RenderLine(t int64, s *event.Schema, fields []event.Value) string {
	var b strings.Builder
	b.WriteString(formatOffset(time.Duration(t)))
	b.WriteString("  " + s.Name + " {")
	n := 0
	for i, f := range s.Fields {
		if i >= len(fields) || fields[i].IsNil() {
			continue
		}
		if n > 0 {
			b.WriteByte(',')
		}
		n++
		b.WriteString(" " + f.Name + ": ")
		writeValue(&b, fields[i])
	}
	if n > 0 {
		b.WriteByte(' ')
	}
	b.WriteByte('}')
	return b.String()
}

func writeValue(b *strings.Builder, v event.Value) {
	switch v.Kind() {
	case event.KindNil:
		b.WriteString("nil")
	case event.KindBool:
		b.WriteString(strconv.FormatBool(v.Bool()))
	case event.KindInt:
		b.WriteString(strconv.FormatInt(v.Int(), 10))
	case event.KindFloat:
		b.WriteString(strconv.FormatFloat(v.Float(), 'g', 12, 64))
	case event.KindString:
		b.WriteString(strconv.Quote(v.Str()))
	case event.KindTime:
		b.WriteString(formatOffset(time.Duration(v.Time())))
	case event.KindDuration:
		b.WriteString(formatOffset(v.Duration()))
	case event.KindList:
		b.WriteByte('[')
		for i, it := range v.List() {
			if i > 0 {
				b.WriteString(", ")
			}
			writeValue(b, it)
		}
		b.WriteByte(']')
	}
}

// formatOffset prints a time as a script does: an offset from the epoch.
func formatOffset(d time.Duration) string {
	return (&scripttest.Script{}).FormatTime(int64(d))
}
