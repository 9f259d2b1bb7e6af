package scripttest

import (
	"fmt"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/expr-lang/expr"

	"github.com/cepengine/cep/engine/event"
)

// durLiteral finds duration literals (5m, 1h30m) outside strings; they are
// rewritten to a call expr understands.
var durLiteral = regexp.MustCompile(`(^|[^\w.$])((?:\d+(?:ns|us|µs|ms|s|m|h|d))+)\b`)

// evalFields evaluates a field literal "{ a: 1, b: "x" }" to a map.
func evalFields(src string) (map[string]any, []string, error) {
	rewritten := rewriteDurations(src)
	env := map[string]any{"__dur": func(ns int) time.Duration { return time.Duration(ns) }}
	out, err := expr.Eval(rewritten, env)
	if err != nil {
		return nil, nil, fmt.Errorf("field list %s: %v", src, firstLine(err.Error()))
	}
	m, ok := out.(map[string]any)
	if !ok {
		return nil, nil, fmt.Errorf("field list %s is not a { name: value } map", src)
	}
	return m, literalOrder(src, m), nil
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

// rewriteDurations replaces duration literals outside string literals by
// __dur(nanoseconds).
func rewriteDurations(src string) string {
	var b strings.Builder
	inStr := byte(0)
	start := 0
	flush := func(end int) {
		seg := src[start:end]
		b.WriteString(durLiteral.ReplaceAllStringFunc(seg, func(m string) string {
			sub := durLiteral.FindStringSubmatch(m)
			d, err := parseDuration(sub[2])
			if err != nil {
				return m
			}
			return sub[1] + "__dur(" + strconv.FormatInt(int64(d), 10) + ")"
		}))
		start = end
	}
	for i := 0; i < len(src); i++ {
		c := src[i]
		switch {
		case inStr != 0:
			if c == '\\' {
				i++
			} else if c == inStr {
				inStr = 0
				b.WriteString(src[start : i+1])
				start = i + 1
			}
		case c == '"' || c == '\'' || c == '`':
			flush(i)
			inStr = c
		}
	}
	if inStr == 0 {
		flush(len(src))
	} else {
		b.WriteString(src[start:])
	}
	return b.String()
}

// literalOrder returns the map's keys in the order the literal writes them.
func literalOrder(src string, m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		a, b := keyIndex(src, keys[i]), keyIndex(src, keys[j])
		if a != b {
			return a < b
		}
		return keys[i] < keys[j]
	})
	return keys
}

func keyIndex(src, key string) int {
	re := regexp.MustCompile(`(^|[{,\s"'])` + regexp.QuoteMeta(key) + `["']?\s*:`)
	if loc := re.FindStringIndex(src); loc != nil {
		return loc[0]
	}
	return len(src)
}

// toValue converts a literal's value to a value of type t.
func toValue(v any, t event.Type) (event.Value, error) {
	if v == nil {
		return event.Nil, nil
	}
	switch t.Kind {
	case event.KindAny:
		return anyValue(v)
	case event.KindBool:
		if b, ok := v.(bool); ok {
			return event.BoolValue(b), nil
		}
	case event.KindInt:
		switch x := v.(type) {
		case int:
			return event.IntValue(int64(x)), nil
		case int64:
			return event.IntValue(x), nil
		case float64:
			if x == math.Trunc(x) {
				return event.IntValue(int64(x)), nil
			}
		}
	case event.KindFloat:
		switch x := v.(type) {
		case int:
			return event.FloatValue(float64(x)), nil
		case int64:
			return event.FloatValue(float64(x)), nil
		case float64:
			return event.FloatValue(x), nil
		}
	case event.KindString:
		if s, ok := v.(string); ok {
			return event.StringValue(s), nil
		}
	case event.KindTime:
		switch x := v.(type) {
		case time.Duration:
			return event.TimeValue(int64(x)), nil
		case time.Time:
			return event.TimeValue(x.UnixNano()), nil
		case string:
			tt, err := time.Parse(time.RFC3339Nano, x)
			if err == nil {
				return event.TimeValue(tt.UnixNano()), nil
			}
		}
	case event.KindDuration:
		switch x := v.(type) {
		case time.Duration:
			return event.DurationValue(x), nil
		case int:
			return event.DurationValue(time.Duration(x)), nil
		}
	case event.KindList:
		items, ok := v.([]any)
		if !ok {
			break
		}
		elem := event.Any
		if t.Elem != nil {
			elem = *t.Elem
		}
		out := make([]event.Value, len(items))
		for i, it := range items {
			x, err := toValue(it, elem)
			if err != nil {
				return event.Nil, fmt.Errorf("item %d: %v", i, err)
			}
			out[i] = x
		}
		return event.ListValue(out), nil
	}
	return event.Nil, fmt.Errorf("expected %s, found %v (%T)", t, v, v)
}

func anyValue(v any) (event.Value, error) {
	switch x := v.(type) {
	case bool:
		return event.BoolValue(x), nil
	case int:
		return event.IntValue(int64(x)), nil
	case float64:
		return event.FloatValue(x), nil
	case string:
		return event.StringValue(x), nil
	case time.Duration:
		return event.DurationValue(x), nil
	case time.Time:
		return event.TimeValue(x.UnixNano()), nil
	case []any:
		return toValue(x, event.ListOf(event.Any))
	}
	return event.Nil, fmt.Errorf("unsupported value %v (%T)", v, v)
}

// fieldsOf builds an event's slots from a literal for schema s.
func fieldsOf(src string, s *event.Schema) ([]event.Value, error) {
	m, order, err := evalFields(src)
	if err != nil {
		return nil, err
	}
	vals := make([]event.Value, len(s.Fields))
	for _, k := range order {
		slot, ok := s.Slot(k)
		if !ok {
			return nil, fmt.Errorf("%s has no field %q (fields: %s)", s.Name, k, strings.Join(s.FieldNames(), ", "))
		}
		v, err := toValue(m[k], s.Fields[slot].Type)
		if err != nil {
			return nil, fmt.Errorf("field %s: %v", k, err)
		}
		vals[slot] = v
	}
	return vals, nil
}

// render prints an event as a script line: TIME Type { f: v, ... }, fields
// in schema order, nil fields left out.
func (s *Script) render(t int64, schema *event.Schema, fields []event.Value) string {
	var b strings.Builder
	b.WriteString(s.FormatTime(t))
	b.WriteString("  ")
	b.WriteString(schema.Name)
	b.WriteString(" {")
	n := 0
	for i, f := range schema.Fields {
		if i >= len(fields) || fields[i].IsNil() {
			continue
		}
		if n > 0 {
			b.WriteByte(',')
		}
		n++
		b.WriteByte(' ')
		b.WriteString(f.Name)
		b.WriteString(": ")
		s.writeValue(&b, fields[i])
	}
	if n > 0 {
		b.WriteByte(' ')
	}
	b.WriteByte('}')
	return b.String()
}

func (s *Script) writeValue(b *strings.Builder, v event.Value) {
	switch v.Kind() {
	case event.KindNil:
		b.WriteString("nil")
	case event.KindBool:
		b.WriteString(strconv.FormatBool(v.Bool()))
	case event.KindInt:
		b.WriteString(strconv.FormatInt(v.Int(), 10))
	case event.KindFloat:
		b.WriteString(formatFloat(v.Float()))
	case event.KindString:
		b.WriteString(strconv.Quote(v.Str()))
	case event.KindTime:
		if s.Absolute {
			b.WriteString(strconv.Quote(time.Unix(0, v.Time()).UTC().Format(time.RFC3339Nano)))
		} else {
			b.WriteString(formatOffset(time.Duration(v.Time())))
		}
	case event.KindDuration:
		b.WriteString(formatOffset(v.Duration()))
	case event.KindList:
		b.WriteByte('[')
		for i, it := range v.List() {
			if i > 0 {
				b.WriteString(", ")
			}
			s.writeValue(b, it)
		}
		b.WriteByte(']')
	}
}

// formatFloat prints a float with at most 12 significant digits, so that
// the last bits of a sum do not make scripts brittle, and always in a form
// expr reads back as a float when it has a fraction.
func formatFloat(f float64) string {
	switch {
	case math.IsNaN(f):
		return "nan"
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	}
	return strconv.FormatFloat(f, 'g', 12, 64)
}
