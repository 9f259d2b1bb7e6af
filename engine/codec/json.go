package codec

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"
	"unsafe"

	"github.com/cepengine/cep/engine"
	"github.com/cepengine/cep/engine/event"
)

// JSONDecoder decodes JSON Lines: one object a line, its event type named by
// the type field. Declared fields are decoded by their declared type;
// undeclared fields are skipped (but must be valid JSON); a missing field or
// null is nil. Blank lines are skipped.
//
// Values by declared type: string, bool, int (an integer, or a number with
// an integral value), float (any number), time (an RFC 3339 string or an
// epoch number in Options.TimeUnit), duration (a Go duration string such as
// "1m30s", or a number in Options.TimeUnit), [T] (an array), any (a string,
// number — int if written as an integer —, bool or array). Objects only in
// undeclared fields.
type JSONDecoder struct {
	r    *bufio.Reader
	reg  *event.Registry
	opts Options

	fixed *event.Schema
	typeF []byte
	index [][]fieldKey // per type: field names for lookup

	line    int   // line number of the current record
	offset  int64 // byte offset of its start
	next    int64 // byte offset of the next line
	pos     engine.Pos
	long    []byte // a line longer than the reader's buffer
	scratch []byte // unescaped strings
	pending []member

	intern []string // direct-mapped string cache; nil: off
	last   *event.Schema

	// error of the current record
	errCol int
	errMsg string
	errSen error
}

type fieldKey struct {
	name string
	kind event.Kind
}

type member struct {
	key, val int // offsets of the key's quote and of the value
	keyEnd   int
	esc      bool
}

// NewJSONDecoder returns a decoder of JSON Lines from r for the types of
// reg. It fails only if opts.Type names no type.
func NewJSONDecoder(r io.Reader, reg *event.Registry, opts Options) (*JSONDecoder, error) {
	opts.defaults()
	d := &JSONDecoder{r: bufio.NewReaderSize(r, 64<<10), reg: reg, opts: opts, typeF: []byte(opts.TypeField)}
	if opts.Type != "" {
		s, ok := reg.Lookup(opts.Type)
		if !ok {
			return nil, fmt.Errorf("%w %s", engine.ErrUnknownType, opts.Type)
		}
		d.fixed = s
	}
	d.index = make([][]fieldKey, reg.Len())
	for _, s := range reg.Schemas() {
		keys := make([]fieldKey, len(s.Fields))
		for i, f := range s.Fields {
			keys[i] = fieldKey{name: f.Name, kind: f.Type.Kind}
		}
		d.index[s.ID] = keys
	}
	if opts.Intern > 0 {
		n := 1
		for n < opts.Intern {
			n <<= 1
		}
		d.intern = make([]string, n)
	}
	return d, nil
}

// Pos returns the position of the record Next returned last.
func (d *JSONDecoder) Pos() engine.Pos { return d.pos }

// Next decodes the next record into ev. See Decoder.
func (d *JSONDecoder) Next(ev *event.Event) error {
	for {
		line, err := d.readLine()
		if err != nil {
			if errors.Is(err, ErrLineTooLong) {
				d.pos = engine.Pos{File: d.opts.Source, Line: d.line, Col: 1, Offset: d.offset}
				return &Error{Pos: d.pos, Msg: fmt.Sprintf("line longer than %d bytes", d.opts.MaxLineBytes), Err: ErrLineTooLong}
			}
			return err
		}
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		d.pos = engine.Pos{File: d.opts.Source, Line: d.line, Col: 1, Offset: d.offset}
		return d.DecodeLine(line, ev)
	}
}

// readLine returns the next line without its line break. The slice is
// valid until the next call.
func (d *JSONDecoder) readLine() ([]byte, error) {
	d.line++
	d.offset = d.next
	line, err := d.r.ReadSlice('\n')
	if err == bufio.ErrBufferFull {
		d.long = append(d.long[:0], line...)
		tooLong := false
		for err == bufio.ErrBufferFull {
			line, err = d.r.ReadSlice('\n')
			if len(d.long)+len(line) > d.opts.MaxLineBytes {
				tooLong = true
			}
			if !tooLong {
				d.long = append(d.long, line...)
			}
			d.next += int64(len(line))
		}
		d.next += int64(len(d.long))
		if tooLong {
			if err != nil && err != io.EOF {
				return nil, err
			}
			return nil, ErrLineTooLong
		}
		line = d.long
	} else {
		d.next += int64(len(line))
	}
	if err != nil && err != io.EOF {
		return nil, err
	}
	if err == io.EOF && len(line) == 0 {
		return nil, io.EOF
	}
	if n := len(line); n > 0 && line[n-1] == '\n' {
		line = line[:n-1]
	}
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	if len(line) > d.opts.MaxLineBytes {
		return nil, ErrLineTooLong
	}
	return line, nil
}

func (d *JSONDecoder) fail(i int, sentinel error, format string, args ...any) bool {
	if d.errMsg == "" {
		d.errCol, d.errSen, d.errMsg = i+1, sentinel, fmt.Sprintf(format, args...)
	}
	return false
}

func (d *JSONDecoder) failed() error {
	p := d.pos
	p.Col = d.errCol
	p.Offset += int64(d.errCol - 1)
	err := &Error{Pos: p, Msg: d.errMsg, Err: d.errSen}
	d.errMsg, d.errSen = "", nil
	return err
}

// DecodeLine decodes one JSON object into ev; on error it returns *Error
// positioned in the line (as line Pos().Line of Options.Source).
func (d *JSONDecoder) DecodeLine(line []byte, ev *event.Event) error {
	if !d.decode(line, ev) {
		if d.errSen != ErrSyntax {
			// A record that is not JSON reports that, whatever else is
			// wrong with it.
			col, sen, msg := d.errCol, d.errSen, d.errMsg
			d.errMsg = ""
			if d.valid(line) {
				d.errCol, d.errSen, d.errMsg = col, sen, msg
			}
		}
		return d.failed()
	}
	return nil
}

// valid checks the syntax of a whole line.
func (d *JSONDecoder) valid(b []byte) bool {
	i := skipSpace(b, 0)
	end, ok := d.skipValue(b, i, 0)
	if !ok {
		return false
	}
	if i = skipSpace(b, end); i < len(b) {
		return d.fail(i, ErrSyntax, "unexpected %s after the object", found(b, i))
	}
	return true
}

func (d *JSONDecoder) decode(b []byte, ev *event.Event) bool {
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return d.fail(i, ErrSyntax, "expected a JSON object, found %s", found(b, i))
	}
	var s *event.Schema
	var keys []fieldKey
	if d.fixed != nil {
		s = d.fixed
		keys = d.index[s.ID]
		d.reset(ev, s)
	}
	d.pending = d.pending[:0]
	hint := 0
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		i++
	} else {
		for {
			if i >= len(b) || b[i] != '"' {
				return d.fail(i, ErrSyntax, "expected a field name, found %s", found(b, i))
			}
			kstart := i
			kend, esc, bad := scanString(b, i)
			if bad >= 0 {
				return d.badString(b, i, bad)
			}
			i = skipSpace(b, kend)
			if i >= len(b) || b[i] != ':' {
				return d.fail(i, ErrSyntax, "expected ':' after field name, found %s", found(b, i))
			}
			i = skipSpace(b, i+1)
			m := member{key: kstart, keyEnd: kend, val: i, esc: esc}
			var end int
			var ok bool
			switch {
			case s != nil:
				end, ok = d.member(b, m, s, keys, ev, &hint)
			case d.isTypeField(b, m):
				if s, ok = d.typeOf(b, i); !ok {
					return false
				}
				keys = d.index[s.ID]
				d.reset(ev, s)
				for _, p := range d.pending {
					if _, ok := d.member(b, p, s, keys, ev, &hint); !ok {
						return false
					}
				}
				// The type field may itself be a declared field.
				end, ok = d.member(b, m, s, keys, ev, &hint)
			default:
				d.pending = append(d.pending, m)
				end, ok = d.skipValue(b, i, 0)
			}
			if !ok {
				return false
			}
			i = skipSpace(b, end)
			if i < len(b) && b[i] == ',' {
				i = skipSpace(b, i+1)
				continue
			}
			if i < len(b) && b[i] == '}' {
				i++
				break
			}
			return d.fail(i, ErrSyntax, "expected ',' or '}' after a field value, found %s", found(b, i))
		}
	}
	if i = skipSpace(b, i); i < len(b) {
		return d.fail(i, ErrSyntax, "unexpected %s after the object", found(b, i))
	}
	if s == nil {
		return d.fail(0, engine.ErrUnknownType, "missing %q field naming the event type", d.opts.TypeField)
	}
	ev.Type = s.ID
	ev.Seq = 0
	if s.TimeSlot >= 0 {
		v := ev.Fields[s.TimeSlot]
		if v.Kind() != event.KindTime {
			return d.fail(0, engine.ErrMissingTime, "missing event time: field %s of %s is absent", s.Fields[s.TimeSlot].Name, s.Name)
		}
		ev.Time = v.Time()
	} else {
		ev.Time = 0
	}
	return true
}

func (d *JSONDecoder) isTypeField(b []byte, m member) bool {
	key := b[m.key+1 : m.keyEnd-1]
	if m.esc {
		d.scratch = unescape(d.scratch[:0], key)
		key = d.scratch
	}
	return string(key) == unsafe.String(unsafe.SliceData(d.typeF), len(d.typeF))
}

func (d *JSONDecoder) reset(ev *event.Event, s *event.Schema) {
	n := len(s.Fields)
	if cap(ev.Fields) < n {
		ev.Fields = make([]event.Value, n)
	} else {
		ev.Fields = ev.Fields[:n]
		clear(ev.Fields)
	}
}

func (d *JSONDecoder) typeOf(b []byte, i int) (*event.Schema, bool) {
	if i >= len(b) || b[i] != '"' {
		if _, ok := d.skipValue(b, i, 0); !ok {
			return nil, false
		}
		return nil, d.fail(i, engine.ErrUnknownType, "field %q: expected a type name string, found %s", d.opts.TypeField, found(b, i))
	}
	end, esc, bad := scanString(b, i)
	if bad >= 0 {
		return nil, d.badString(b, i, bad)
	}
	name := b[i+1 : end-1]
	if esc {
		d.scratch = unescape(d.scratch[:0], name)
		name = d.scratch
	}
	// Streams carry few types: try the last one before the map.
	if d.last != nil && d.last.Name == string(name) {
		return d.last, true
	}
	s, ok := d.reg.Lookup(unsafe.String(unsafe.SliceData(name), len(name)))
	if !ok {
		return nil, d.fail(i, engine.ErrUnknownType, "unknown event type %q", name)
	}
	d.last = s
	return s, true
}

// member decodes one object member into its slot if the key is a field,
// and returns the index after the value.
func (d *JSONDecoder) member(b []byte, m member, s *event.Schema, keys []fieldKey, ev *event.Event, hint *int) (int, bool) {
	key := b[m.key+1 : m.keyEnd-1]
	if m.esc {
		d.scratch = unescape(d.scratch[:0], key)
		key = d.scratch
	}
	slot := -1
	// Fields usually come in declaration order: try the next one first.
	if h := *hint; h < len(keys) && keys[h].name == string(key) {
		slot = h
	} else {
		for k := range keys {
			if keys[k].name == string(key) {
				slot = k
				break
			}
		}
	}
	if slot < 0 {
		return d.skipValue(b, m.val, 0)
	}
	*hint = slot + 1
	v, end, ok := d.value(b, m.val, s.Fields[slot].Type, s.Fields[slot].Name)
	if !ok {
		return end, false
	}
	ev.Fields[slot] = v
	return end, true
}

// value decodes the value at b[i] as type t and returns the index after it.
func (d *JSONDecoder) value(b []byte, i int, t event.Type, field string) (event.Value, int, bool) {
	if i >= len(b) {
		return event.Nil, i, d.fail(i, ErrSyntax, "expected a value, found end of line")
	}
	c := b[i]
	switch {
	case c == 'n':
		if !bytes.HasPrefix(b[i:], []byte("null")) {
			return event.Nil, i, d.fail(i, ErrSyntax, "expected a value, found %s", found(b, i))
		}
		return event.Nil, i + 4, true
	case c == '"':
		end, esc, bad := scanString(b, i)
		if bad >= 0 {
			return event.Nil, i, d.badString(b, i, bad)
		}
		raw := b[i+1 : end-1]
		if esc {
			d.scratch = unescape(d.scratch[:0], raw)
			raw = d.scratch
		}
		switch t.Kind {
		case event.KindString, event.KindAny:
			return event.StringValue(d.str(raw)), end, true
		case event.KindTime:
			ns, ok := parseRFC3339(raw)
			if !ok {
				return event.Nil, i, d.fail(i, engine.ErrFieldType, "field %s: expected an RFC 3339 time, found %s", field, found(b, i))
			}
			return event.TimeValue(ns), end, true
		case event.KindDuration:
			dur, err := time.ParseDuration(string(raw))
			if err != nil {
				return event.Nil, i, d.fail(i, engine.ErrFieldType, "field %s: expected a duration, found %s", field, found(b, i))
			}
			return event.DurationValue(dur), end, true
		}
	case c == '-' || '0' <= c && c <= '9':
		end, isInt, ok := scanNumber(b, i)
		if !ok {
			return event.Nil, i, d.fail(i, ErrSyntax, "invalid number %s", found(b, i))
		}
		num := b[i:end]
		switch t.Kind {
		case event.KindFloat:
			f, ok := parseFloat(num)
			if !ok {
				return event.Nil, i, d.fail(i, engine.ErrFieldType, "field %s: number %s out of range", field, num)
			}
			return event.FloatValue(f), end, true
		case event.KindInt, event.KindAny:
			if isInt {
				n, ok := parseInt(num)
				if !ok {
					return event.Nil, i, d.fail(i, engine.ErrFieldType, "field %s: integer %s out of range", field, num)
				}
				return event.IntValue(n), end, true
			}
			f, ok := parseFloat(num)
			if !ok {
				return event.Nil, i, d.fail(i, engine.ErrFieldType, "field %s: number %s out of range", field, num)
			}
			if t.Kind == event.KindAny {
				return event.FloatValue(f), end, true
			}
			if f != float64(int64(f)) || f >= 9.223372036854775807e18 || f < -9.223372036854775808e18 {
				return event.Nil, i, d.fail(i, engine.ErrFieldType, "field %s: expected int, found %s", field, num)
			}
			return event.IntValue(int64(f)), end, true
		case event.KindTime:
			ns, ok := epochNanos(num, isInt, d.opts.TimeUnit)
			if !ok {
				return event.Nil, i, d.fail(i, engine.ErrFieldType, "field %s: epoch time %s out of range", field, num)
			}
			return event.TimeValue(ns), end, true
		case event.KindDuration:
			ns, ok := epochNanos(num, isInt, d.opts.TimeUnit)
			if !ok {
				return event.Nil, i, d.fail(i, engine.ErrFieldType, "field %s: duration %s out of range", field, num)
			}
			return event.DurationValue(time.Duration(ns)), end, true
		}
	case c == 't' || c == 'f':
		var v bool
		end := i + 5
		switch {
		case bytes.HasPrefix(b[i:], []byte("true")):
			v, end = true, i+4
		case bytes.HasPrefix(b[i:], []byte("false")):
		default:
			return event.Nil, i, d.fail(i, ErrSyntax, "expected a value, found %s", found(b, i))
		}
		if t.Kind == event.KindBool || t.Kind == event.KindAny {
			return event.BoolValue(v), end, true
		}
	case c == '[':
		if t.Kind == event.KindList || t.Kind == event.KindAny {
			return d.list(b, i, t, field)
		}
	case c == '{':
	default:
		return event.Nil, i, d.fail(i, ErrSyntax, "expected a value, found %s", found(b, i))
	}
	if _, ok := d.skipValue(b, i, 0); !ok {
		return event.Nil, i, false
	}
	return event.Nil, i, d.fail(i, engine.ErrFieldType, "field %s: expected %s, found %s", field, t, kindOf(c))
}

func (d *JSONDecoder) list(b []byte, i int, t event.Type, field string) (event.Value, int, bool) {
	elem := event.Any
	if t.Kind == event.KindList && t.Elem != nil {
		elem = *t.Elem
	}
	var items []event.Value
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == ']' {
		return event.ListValue([]event.Value{}), i + 1, true
	}
	for {
		v, end, ok := d.value(b, i, elem, field+"["+strconv.Itoa(len(items))+"]")
		if !ok {
			return event.Nil, end, false
		}
		items = append(items, v)
		i = skipSpace(b, end)
		if i < len(b) && b[i] == ',' {
			i = skipSpace(b, i+1)
			continue
		}
		if i < len(b) && b[i] == ']' {
			return event.ListValue(items), i + 1, true
		}
		return event.Nil, i, d.fail(i, ErrSyntax, "expected ',' or ']' in an array, found %s", found(b, i))
	}
}

// str returns raw as a string. Short strings go through a direct-mapped
// cache of Options.Intern slots (hash of the bytes -> the last string with
// that hash): repeated values allocate once, and the cache never grows.
func (d *JSONDecoder) str(raw []byte) string {
	if d.intern == nil || len(raw) > 64 {
		return string(raw)
	}
	h := uint32(2166136261)
	for _, c := range raw {
		h = (h ^ uint32(c)) * 16777619
	}
	slot := &d.intern[h&uint32(len(d.intern)-1)]
	if *slot == string(raw) {
		return *slot
	}
	s := string(raw)
	*slot = s
	return s
}

const maxDepth = 1000

// skipValue validates the value at b[i] and returns the index after it.
func (d *JSONDecoder) skipValue(b []byte, i, depth int) (int, bool) {
	if i >= len(b) {
		return i, d.fail(i, ErrSyntax, "expected a value, found end of line")
	}
	switch c := b[i]; {
	case c == '"':
		end, _, bad := scanString(b, i)
		if bad >= 0 {
			return i, d.badString(b, i, bad)
		}
		return end, true
	case c == '-' || '0' <= c && c <= '9':
		end, _, ok := scanNumber(b, i)
		if !ok {
			return i, d.fail(i, ErrSyntax, "invalid number %s", found(b, i))
		}
		return end, true
	case c == 't':
		if bytes.HasPrefix(b[i:], []byte("true")) {
			return i + 4, true
		}
	case c == 'f':
		if bytes.HasPrefix(b[i:], []byte("false")) {
			return i + 5, true
		}
	case c == 'n':
		if bytes.HasPrefix(b[i:], []byte("null")) {
			return i + 4, true
		}
	case c == '[' || c == '{':
		if depth >= maxDepth {
			return i, d.fail(i, ErrSyntax, "nested deeper than %d", maxDepth)
		}
		closer := byte(']')
		if c == '{' {
			closer = '}'
		}
		i = skipSpace(b, i+1)
		if i < len(b) && b[i] == closer {
			return i + 1, true
		}
		for {
			if c == '{' {
				if i >= len(b) || b[i] != '"' {
					return i, d.fail(i, ErrSyntax, "expected a field name, found %s", found(b, i))
				}
				end, _, bad := scanString(b, i)
				if bad >= 0 {
					return i, d.badString(b, i, bad)
				}
				i = skipSpace(b, end)
				if i >= len(b) || b[i] != ':' {
					return i, d.fail(i, ErrSyntax, "expected ':' after field name, found %s", found(b, i))
				}
				i = skipSpace(b, i+1)
			}
			end, ok := d.skipValue(b, i, depth+1)
			if !ok {
				return i, false
			}
			i = skipSpace(b, end)
			if i < len(b) && b[i] == ',' {
				i = skipSpace(b, i+1)
				continue
			}
			if i < len(b) && b[i] == closer {
				return i + 1, true
			}
			return i, d.fail(i, ErrSyntax, "expected ',' or '%c', found %s", closer, found(b, i))
		}
	}
	return i, d.fail(i, ErrSyntax, "expected a value, found %s", found(b, i))
}

func (d *JSONDecoder) badString(b []byte, start, at int) bool {
	switch {
	case at >= len(b):
		return d.fail(start, ErrSyntax, "unterminated string")
	case b[at] == '\\':
		return d.fail(at, ErrSyntax, "invalid escape in string")
	}
	return d.fail(at, ErrSyntax, "control character %q in string", b[at])
}

// found describes what is at b[i] for an error message.
func found(b []byte, i int) string {
	if i >= len(b) {
		return "end of line"
	}
	end := i + 1
	switch c := b[i]; {
	case c == '"':
		if e, _, bad := scanString(b, i); bad < 0 {
			end = e
		} else {
			end = len(b)
		}
	case c == '-' || '0' <= c && c <= '9' || 'a' <= c && c <= 'z':
		for end < len(b) && !isSpace(b[end]) && b[end] != ',' && b[end] != '}' && b[end] != ']' {
			end++
		}
	}
	if end-i > 40 {
		return strconv.Quote(string(b[i:i+37])) + "..."
	}
	if b[i] == '"' {
		return "string " + string(b[i:end])
	}
	return strconv.Quote(string(b[i:end]))
}

func kindOf(c byte) string {
	switch {
	case c == '"':
		return "string"
	case c == 't' || c == 'f':
		return "bool"
	case c == '[':
		return "array"
	case c == '{':
		return "object"
	case c == 'n':
		return "null"
	}
	return "number"
}
