package codec

import (
	"io"
	"math"
	"strconv"
	"unicode/utf8"

	"github.com/cepengine/cep/engine"
	"github.com/cepengine/cep/engine/event"
)

// Encoder writes derived events as JSON Lines, one object a line, with keys
// in a fixed order: "type", "time" (RFC 3339 in UTC, trailing zero digits of
// the fraction trimmed: 2024-01-01T00:00:03Z, 2024-01-01T00:00:03.5Z),
// "rule" (absent for an input event handed to subscribers of its type),
// then the emitted fields in emit order, and with explain an
// "events" array of the input events (each {"type", "time", fields...}).
// The same events give the same bytes.
//
// Values: strings JSON-escaped (no HTML escaping; invalid UTF-8 becomes
// U+FFFD); ints in decimal; floats in the shortest form that reads back to
// the same float64, as encoding/json and JavaScript print them — integral
// floats without a fraction (35, not 35.0), exponents only below 1e-6 and
// from 1e21 (1e-7, 1e+21) —, NaN and infinities as null (JSON has none);
// times as RFC 3339 strings like "time"; durations as Go duration strings
// ("1m30s"); lists as arrays; nil as null.
type Encoder struct {
	w       io.Writer
	reg     *event.Registry
	explain bool
	buf     []byte
}

// NewEncoder returns an encoder writing to w (wrap a file in a
// bufio.Writer: Encode writes once per event). reg resolves the types of the
// explained input events.
func NewEncoder(w io.Writer, reg *event.Registry, explain bool) *Encoder {
	return &Encoder{w: w, reg: reg, explain: explain}
}

// Encode writes one derived event and a newline.
func (e *Encoder) Encode(d *engine.Derived) error {
	e.buf = AppendDerived(e.buf[:0], e.reg, d, e.explain)
	e.buf = append(e.buf, '\n')
	_, err := e.w.Write(e.buf)
	return err
}

// AppendDerived appends the JSON object of a derived event (no newline).
func AppendDerived(b []byte, reg *event.Registry, d *engine.Derived, explain bool) []byte {
	b = append(b, `{"type":`...)
	b = AppendString(b, d.Schema.Name)
	b = append(b, `,"time":`...)
	b = appendTime(b, d.Event.Time)
	if d.Rule != "" {
		b = append(b, `,"rule":`...)
		b = AppendString(b, d.Rule)
	}
	b = appendFields(b, d.Schema, d.Event.Fields)
	if explain {
		b = append(b, `,"events":[`...)
		for i, in := range d.Inputs {
			if i > 0 {
				b = append(b, ',')
			}
			b = AppendEvent(b, reg.ByID(in.Type), in)
		}
		b = append(b, ']')
	}
	return append(b, '}')
}

// AppendEvent appends an event as {"type", "time", fields...}.
func AppendEvent(b []byte, s *event.Schema, ev *event.Event) []byte {
	b = append(b, `{"type":`...)
	b = AppendString(b, s.Name)
	b = append(b, `,"time":`...)
	b = appendTime(b, ev.Time)
	b = appendFields(b, s, ev.Fields)
	return append(b, '}')
}

func appendFields(b []byte, s *event.Schema, fields []event.Value) []byte {
	for i, v := range fields {
		b = append(b, ',')
		b = AppendString(b, s.Fields[i].Name)
		b = append(b, ':')
		b = AppendValue(b, v)
	}
	return b
}

func appendTime(b []byte, t int64) []byte {
	b = append(b, '"')
	b = engine.AppendTime(b, t)
	return append(b, '"')
}

// AppendValue appends a value as JSON.
func AppendValue(b []byte, v event.Value) []byte {
	switch v.Kind() {
	case event.KindBool:
		return strconv.AppendBool(b, v.Bool())
	case event.KindInt:
		return strconv.AppendInt(b, v.Int(), 10)
	case event.KindFloat:
		return AppendFloat(b, v.Float())
	case event.KindString:
		return AppendString(b, v.Str())
	case event.KindTime:
		return appendTime(b, v.Time())
	case event.KindDuration:
		b = append(b, '"')
		b = append(b, v.Duration().String()...)
		return append(b, '"')
	case event.KindList:
		b = append(b, '[')
		for i, x := range v.List() {
			if i > 0 {
				b = append(b, ',')
			}
			b = AppendValue(b, x)
		}
		return append(b, ']')
	}
	return append(b, "null"...)
}

// AppendFloat appends f in the shortest form that parses back to f, in the
// style of encoding/json: plain decimals from 1e-6 to below 1e21, exponent
// form outside (1e-7, 1e+21), null for NaN and infinities.
func AppendFloat(b []byte, f float64) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return append(b, "null"...)
	}
	abs := math.Abs(f)
	format := byte('f')
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		// 1e-07 -> 1e-7, as encoding/json does.
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}

const hexDigits = "0123456789abcdef"

// AppendString appends s as a JSON string.
func AppendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
