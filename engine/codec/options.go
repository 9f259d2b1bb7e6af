package codec

import (
	"errors"
	"fmt"
	"io"

	"github.com/cepengine/cep/engine"
	"github.com/cepengine/cep/engine/event"
)

// TimeUnit is the unit of epoch numbers in time (and duration) fields.
type TimeUnit uint8

// The units; the zero value is milliseconds.
const (
	Millis TimeUnit = iota
	Seconds
	Micros
	Nanos
)

// ParseTimeUnit parses "s", "ms", "us" or "ns".
func ParseTimeUnit(s string) (TimeUnit, error) {
	switch s {
	case "s":
		return Seconds, nil
	case "ms", "":
		return Millis, nil
	case "us", "µs":
		return Micros, nil
	case "ns":
		return Nanos, nil
	}
	return 0, fmt.Errorf("codec: unknown time unit %q; want s, ms, us or ns", s)
}

func (u TimeUnit) nanos() int64 {
	switch u {
	case Seconds:
		return 1e9
	case Micros:
		return 1e3
	case Nanos:
		return 1
	}
	return 1e6
}

func (u TimeUnit) String() string {
	switch u {
	case Seconds:
		return "s"
	case Micros:
		return "us"
	case Nanos:
		return "ns"
	}
	return "ms"
}

// Options configure a decoder. The zero value decodes JSON Lines whose
// records name their type in a "type" field, with epoch times in
// milliseconds.
type Options struct {
	// TypeField names the field that holds a record's event type.
	// Default "type".
	TypeField string
	// Type, if set, is the type of every record (required for CSV); the
	// type field is then not needed and not checked.
	Type string
	// TimeUnit is the unit of epoch numbers in time and duration fields.
	TimeUnit TimeUnit
	// Source names the input in positions ("events.jsonl").
	Source string
	// MaxLineBytes bounds a JSON line; a longer one is an invalid record.
	// Default 1 MiB.
	MaxLineBytes int
	// Intern sizes the cache of decoded strings: a string value of at most
	// 64 bytes found in the cache is shared rather than allocated, so
	// repeated values (tickers, user names) allocate once. The cache is
	// direct-mapped with this many slots (rounded up to a power of two) and
	// never grows. Default 4096; negative: off.
	Intern int
}

func (o *Options) defaults() {
	if o.TypeField == "" {
		o.TypeField = "type"
	}
	if o.MaxLineBytes <= 0 {
		o.MaxLineBytes = 1 << 20
	}
	if o.Intern == 0 {
		o.Intern = 4096
	}
}

// Sentinel errors of decoding; records rejected for their content wrap
// engine.ErrUnknownType, engine.ErrFieldType or engine.ErrMissingTime.
var (
	ErrSyntax      = errors.New("codec: invalid JSON")
	ErrCSV         = errors.New("codec: invalid CSV")
	ErrLineTooLong = errors.New("codec: line too long")
)

// Error is an invalid record: where it is and what is wrong with it.
type Error struct {
	Pos engine.Pos
	Msg string
	Err error // the sentinel: ErrSyntax, engine.ErrFieldType, ...
}

func (e *Error) Error() string { return e.Pos.String() + ": " + e.Msg }

func (e *Error) Unwrap() error { return e.Err }

// Reason is the message without the position (engine.Record uses it).
func (e *Error) Reason() string { return e.Msg }

// Decoder reads typed events. Next fills ev (reusing ev.Fields) with the
// next record's event, or returns *Error for an invalid record (the decoder
// moves on to the next one), io.EOF at the end, or another error if the
// reader fails. Pos is the position of the record Next returned last.
type Decoder interface {
	Next(ev *event.Event) error
	Pos() engine.Pos
}

// Feed decodes every record and gives it to the matcher: events to
// ProcessAt, invalid records to Reject. It returns at the end of the input
// (nil) or on a read error; it does not Close the matcher.
func Feed(d Decoder, m *engine.Matcher) error {
	var ev event.Event
	for {
		err := d.Next(&ev)
		if err == nil {
			m.ProcessAt(d.Pos(), &ev)
			continue
		}
		if err == io.EOF {
			return nil
		}
		var rec *Error
		if errors.As(err, &rec) {
			m.Reject(rec.Pos, rec)
			continue
		}
		return err
	}
}
