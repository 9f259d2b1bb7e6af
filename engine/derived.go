package engine

import (
	"errors"
	"math"
	"strconv"
	"time"

	"github.com/cepengine/cep/engine/event"
)

// Derived is an event handed to subscribers: one a rule emitted, or an input
// event delivered to the subscribers of its type. It and everything it points
// to belong to the matcher and are valid only while the handler runs; keep a
// Clone to hold on to it.
type Derived struct {
	Event  event.Event   // type, event time, sequence, fields in schema order
	Schema *event.Schema // the event's type
	Rule   string        // the rule that emitted it; "" for an input event
	RuleID int32         // index in Graph.Rules; -1 for an input event
	// Inputs are the events the rule matched, with Config.Explain (for a
	// filter rule, the one event it read); nil otherwise.
	Inputs []*event.Event

	home *[]*Derived // the free list the matcher recycles it to; nil: its rule's operator decides
}

// Clone returns a deep copy that stays valid after the handler returns.
func (d *Derived) Clone() *Derived {
	c := &Derived{Event: d.Event, Schema: d.Schema, Rule: d.Rule, RuleID: d.RuleID}
	c.Event.Fields = append([]event.Value(nil), d.Event.Fields...)
	if d.Inputs != nil {
		c.Inputs = make([]*event.Event, len(d.Inputs))
		for i, in := range d.Inputs {
			e := *in
			e.Fields = append([]event.Value(nil), in.Fields...)
			c.Inputs[i] = &e
		}
	}
	return c
}

// Stream names a built-in stream.
type Stream uint8

// The built-in streams.
const (
	// StreamLate receives events behind the watermark.
	StreamLate Stream = iota + 1
	// StreamInvalid receives records that are not valid events.
	StreamInvalid
	// StreamRefused receives events a rule refused (window_op.go).
	StreamRefused
)

func (s Stream) String() string {
	switch s {
	case StreamLate:
		return "late"
	case StreamInvalid:
		return "invalid"
	case StreamRefused:
		return "refused"
	}
	return "stream(" + strconv.Itoa(int(s)) + ")"
}

// Record is an entry of a built-in stream: a late event or an invalid
// record, with its source position and the reason. The matcher reuses one
// Record; it is valid only while the handler runs.
type Record struct {
	Stream Stream
	Pos    Pos   // source position; zero for events given without one
	Err    error // the reason: wraps ErrLate, ErrUnknownType, ErrFieldType, ...
	// Event is the offending event when there is one (a late event, an
	// event of the Go API with a bad field); nil for undecodable input.
	Event  *event.Event
	Schema *event.Schema // the event's type when known
	Field  int           // slot of the offending field; -1 if none
	Bound  int64         // late: the time the event was behind
	Index  uint64        // 1-based position of the record among all the matcher was given
}

// Reason describes what is wrong, e.g. "event time 2024-01-01T00:00:01Z is
// 3s behind the watermark 2024-01-01T00:00:04Z" or "field amount: expected
// float, found string".
func (r *Record) Reason() string {
	switch {
	case errors.Is(r.Err, ErrClosed) && r.Event != nil:
		return "event time " + FormatTime(r.Event.Time) + " arrived after Close"
	case errors.Is(r.Err, ErrLate) && r.Event != nil:
		return "event time " + FormatTime(r.Event.Time) + " is " + time.Duration(r.Bound-r.Event.Time).String() +
			" behind the watermark " + FormatTime(r.Bound)
	case errors.Is(r.Err, ErrFieldType) && r.Event != nil && r.Schema != nil && r.Field >= 0 && r.Field < len(r.Event.Fields):
		f := r.Schema.Fields[r.Field]
		return "field " + f.Name + ": expected " + f.Type.String() + ", found " + r.Event.Fields[r.Field].Kind().String()
	case errors.Is(r.Err, ErrFieldCount) && r.Event != nil && r.Schema != nil:
		return r.Schema.Name + " has " + strconv.Itoa(len(r.Schema.Fields)) + " fields, event has " + strconv.Itoa(len(r.Event.Fields))
	case errors.Is(r.Err, ErrMissingTime) && r.Schema != nil && r.Schema.TimeSlot >= 0:
		return "missing event time: field " + r.Schema.Fields[r.Schema.TimeSlot].Name + " of " + r.Schema.Name + " is not a time"
	case errors.Is(r.Err, ErrUnknownType) && r.Event != nil:
		return "unknown event type id " + strconv.Itoa(int(r.Event.Type))
	case r.Err != nil:
		if re, ok := r.Err.(interface{ Reason() string }); ok {
			return re.Reason() // a positioned error without its position
		}
		return r.Err.Error()
	}
	return "unknown reason"
}

// String returns "pos: stream: reason" ("input #N" stands in for an
// unknown position).
func (r *Record) String() string {
	var b []byte
	if r.Pos.IsValid() || r.Pos.File != "" {
		b = r.Pos.appendTo(b)
	} else {
		b = append(b, "input #"...)
		b = strconv.AppendUint(b, r.Index, 10)
	}
	b = append(b, ": "...)
	b = append(b, r.Stream.String()...)
	b = append(b, ": "...)
	b = append(b, r.Reason()...)
	return string(b)
}

// FormatTime formats Unix nanoseconds as RFC 3339 in UTC with trailing zero
// fractional digits trimmed (2024-01-01T00:00:03Z, ...:03.5Z); the extreme
// values print as -inf and +inf.
func FormatTime(t int64) string {
	return string(AppendTime(nil, t))
}

// AppendTime appends FormatTime(t) to b.
func AppendTime(b []byte, t int64) []byte {
	switch t {
	case math.MinInt64:
		return append(b, "-inf"...)
	case math.MaxInt64:
		return append(b, "+inf"...)
	}
	return time.Unix(0, t).UTC().AppendFormat(b, time.RFC3339Nano)
}
