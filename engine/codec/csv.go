package codec

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"
	"unsafe"

	"github.com/cepengine/cep/engine"
	"github.com/cepengine/cep/engine/event"
)

// CSVDecoder decodes CSV with a header row; every record is of one type
// (Options.Type, required). Columns are matched to fields by the header's
// names; other columns are ignored, missing ones are nil. Cells are text,
// converted by the field's declared type: string as is; int, float with
// Go's number syntax; bool true/false (also 1/0, t/f); time as RFC 3339 or
// an epoch number in Options.TimeUnit; duration as a Go duration or a
// number in Options.TimeUnit; [T] as a JSON array; any as int, float or
// bool if the text is one, else string. An empty cell is nil.
type CSVDecoder struct {
	r      *csv.Reader
	schema *event.Schema
	opts   Options
	cols   []int // per column: the field slot, or -1
	pos    engine.Pos
	json   *JSONDecoder // for list cells
	header bool
}

// NewCSVDecoder returns a decoder of CSV from r. It fails if opts.Type is
// not set or names no type of reg.
func NewCSVDecoder(r io.Reader, reg *event.Registry, opts Options) (*CSVDecoder, error) {
	opts.defaults()
	if opts.Type == "" {
		return nil, errors.New("codec: CSV input needs its event type (Options.Type)")
	}
	s, ok := reg.Lookup(opts.Type)
	if !ok {
		return nil, fmt.Errorf("%w %s", engine.ErrUnknownType, opts.Type)
	}
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1 // we check the count ourselves, to report it
	cr.ReuseRecord = true
	jd, _ := NewJSONDecoder(nil, reg, Options{Type: opts.Type, TimeUnit: opts.TimeUnit, Intern: -1})
	return &CSVDecoder{r: cr, schema: s, opts: opts, json: jd}, nil
}

// Pos returns the position of the record Next returned last.
func (d *CSVDecoder) Pos() engine.Pos { return d.pos }

func (d *CSVDecoder) errorf(line, col int, sentinel error, format string, args ...any) error {
	return &Error{Pos: engine.Pos{File: d.opts.Source, Line: line, Col: col, Offset: -1}, Msg: fmt.Sprintf(format, args...), Err: sentinel}
}

// Next decodes the next record into ev. See Decoder. A malformed header is
// returned as *Error too, and every later call returns it again.
func (d *CSVDecoder) Next(ev *event.Event) error {
	if !d.header {
		if err := d.readHeader(); err != nil {
			return err
		}
	}
	start := d.r.InputOffset()
	rec, err := d.r.Read()
	if err != nil {
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			d.pos = engine.Pos{File: d.opts.Source, Line: pe.Line, Col: pe.Column, Offset: -1}
			return &Error{Pos: d.pos, Msg: pe.Err.Error(), Err: ErrCSV}
		}
		return err
	}
	line, _ := d.r.FieldPos(0)
	d.pos = engine.Pos{File: d.opts.Source, Line: line, Col: 1, Offset: start}
	if len(rec) != len(d.cols) {
		return d.errorf(line, 1, ErrCSV, "record has %d fields, header has %d", len(rec), len(d.cols))
	}
	s := d.schema
	if cap(ev.Fields) < len(s.Fields) {
		ev.Fields = make([]event.Value, len(s.Fields))
	} else {
		ev.Fields = ev.Fields[:len(s.Fields)]
		clear(ev.Fields)
	}
	for c, cell := range rec {
		slot := d.cols[c]
		if slot < 0 || cell == "" {
			continue
		}
		f := s.Fields[slot]
		v, ok := d.cell(cell, f.Type)
		if !ok {
			l, col := d.r.FieldPos(c)
			return d.errorf(l, col, engine.ErrFieldType, "field %s: expected %s, found %q", f.Name, f.Type, cell)
		}
		ev.Fields[slot] = v
	}
	ev.Type, ev.Seq, ev.Time = s.ID, 0, 0
	if s.TimeSlot >= 0 {
		v := ev.Fields[s.TimeSlot]
		if v.Kind() != event.KindTime {
			return d.errorf(line, 1, engine.ErrMissingTime, "missing event time: field %s of %s is absent", s.Fields[s.TimeSlot].Name, s.Name)
		}
		ev.Time = v.Time()
	}
	return nil
}

func (d *CSVDecoder) readHeader() error {
	if d.cols != nil {
		return d.errorf(1, 1, ErrCSV, "invalid header")
	}
	rec, err := d.r.Read()
	if err != nil {
		if err == io.EOF {
			return err
		}
		d.cols = []int{}
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			return d.errorf(pe.Line, pe.Column, ErrCSV, "header: %v", pe.Err)
		}
		return err
	}
	cols := make([]int, len(rec))
	seen := map[string]int{}
	for c, name := range rec {
		cols[c] = -1
		if slot, ok := d.schema.Slot(name); ok {
			if prev, dup := seen[name]; dup {
				d.cols = []int{}
				return d.errorf(1, 1, ErrCSV, "header names column %s twice (columns %d and %d)", name, prev+1, c+1)
			}
			seen[name] = c
			cols[c] = slot
		}
	}
	d.cols = cols
	d.header = true
	return nil
}

func (d *CSVDecoder) cell(cell string, t event.Type) (event.Value, bool) {
	b := unsafe.Slice(unsafe.StringData(cell), len(cell))
	switch t.Kind {
	case event.KindString:
		return event.StringValue(cell), true
	case event.KindInt:
		n, err := strconv.ParseInt(cell, 10, 64)
		return event.IntValue(n), err == nil
	case event.KindFloat:
		f, err := strconv.ParseFloat(cell, 64)
		return event.FloatValue(f), err == nil
	case event.KindBool:
		v, err := strconv.ParseBool(cell)
		return event.BoolValue(v), err == nil
	case event.KindTime:
		if ns, ok := parseRFC3339(b); ok {
			return event.TimeValue(ns), true
		}
		if end, isInt, ok := scanNumber(b, 0); ok && end == len(b) {
			ns, ok := epochNanos(b, isInt, d.opts.TimeUnit)
			return event.TimeValue(ns), ok
		}
	case event.KindDuration:
		if dur, err := time.ParseDuration(cell); err == nil {
			return event.DurationValue(dur), true
		}
		if end, isInt, ok := scanNumber(b, 0); ok && end == len(b) {
			ns, ok := epochNanos(b, isInt, d.opts.TimeUnit)
			return event.DurationValue(time.Duration(ns)), ok
		}
	case event.KindList:
		v, _, ok := d.json.value(b, skipSpace(b, 0), t, "")
		d.json.errMsg, d.json.errSen = "", nil
		if ok && v.Kind() == event.KindList {
			return v, true // its strings are copies (no interning)
		}
	case event.KindAny:
		if n, err := strconv.ParseInt(cell, 10, 64); err == nil {
			return event.IntValue(n), true
		}
		if f, err := strconv.ParseFloat(cell, 64); err == nil {
			return event.FloatValue(f), true
		}
		if v, err := strconv.ParseBool(cell); err == nil {
			return event.BoolValue(v), true
		}
		return event.StringValue(cell), true
	}
	return event.Nil, false
}
